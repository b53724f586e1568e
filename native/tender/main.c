/*
 * main.c — argv parsing only; the work is in core.c.
 *
 *   nabla-run [--mem=MiB] [--disk=PATH] [--net=TAP --net-ip=A.B.C.D/LEN [--net-gw=A.B.C.D] [--net-mac=MAC]] [--etc-from=DIR]
 *             [--libos=PATH [--interp=PATH | --exe-root=DIR]] [--x-exec-heap | --heap=paged|flat] [--fs-base=auto|cpu|host-call]
 *             [--print-policy[=any-host]]
 *             UNIKERNEL [--] [ARGS...]
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tender.h"

static const char usage[] =
	"usage: nabla-run [--mem=MiB] [--disk=PATH] [--net=TAP --net-ip=A.B.C.D/LEN ...] [--etc-from=DIR] [--libos=PATH [--interp=PATH|--exe-root=DIR]]\n"
	"                 [--x-exec-heap | --heap=flat] [--fs-base=MODE] [--print-policy[=any-host]] UNIKERNEL [--] [ARGS...]\n"
	"  --mem=MiB       guest memory in MiB (default 256, %d..%d)\n"
	"  --disk=PATH     read-only disk (the app's rootfs.tar), mapped read-only for the guest\n"
	"  --net=TAP       the network: an existing tap interface (needs /dev/net/tun and\n"
	"                  CAP_NET_ADMIN, or a tap made for this user); frames by read/write\n"
	"  --net-ip=A.B.C.D/LEN  the unikernel's IPv4 address and prefix length (with --net)\n"
	"  --net-gw=A.B.C.D      its default gateway, inside that subnet (none: only the subnet)\n"
	"  --net-mac=MAC   its MAC (default 02:6e: and the four bytes of its address; IF's with --net-from)\n"
	"  --net-from=IF   in a container: give the unikernel IF's address and MAC (a tap joined to\n"
	"                  IF by tc redirects takes it over; needs --cap-add NET_ADMIN --device /dev/net/tun)\n"
	"  --etc-from=DIR  the guest's /etc/hosts, /etc/resolv.conf and /etc/hostname are DIR's,\n"
	"                  read at start (default /etc: those the container runtime wrote); the\n"
	"                  image's stay where DIR has none\n"
	"  --libos=PATH    run UNIKERNEL, a static Linux program, beside this libOS: each of its\n"
	"                  system calls is trapped and served by the libOS\n"
	"  --interp=PATH   with --libos: UNIKERNEL is dynamically linked and PATH is its loader\n"
	"                  (ld-linux-x86-64.so.2); the loader's own file reads and mmaps are\n"
	"                  served by the libOS from the disk\n"
	"  --exe-root=DIR  with --libos: UNIKERNEL is a program of the guest's file system, kept\n"
	"                  under DIR: a bare name is looked up in $PATH, a path from the working\n"
	"                  directory, both inside DIR; its loader (PT_INTERP) too (exit 127: none)\n"
	"  --x-exec-heap   make free guest memory executable (for JITs)\n"
	"  --heap=MODE     paged (default): the guest makes heap pages usable and gives them back\n"
	"                  with two host calls (mprotect, mmap); flat: its whole share of --mem is\n"
	"                  read-write from the start and neither call is allowed, but PROT_NONE\n"
	"                  in it does not fault and freed memory is not given back (not for apps\n"
	"                  that reserve more address space than --mem: Go, Node)\n"
	"  --fs-base=MODE  how the guest sets thread pointers: cpu (the wrfsbase instruction, no\n"
	"                  host call; needs FSGSBASE), host-call (one more allowed host call,\n"
	"                  arch_prctl(ARCH_SET_FS)), or auto (default): cpu where the host has\n"
	"                  FSGSBASE, else host-call. Also $NABLA_FS_BASE; the flag wins\n"
	"  --print-policy  print the seccomp whitelist these flags give on this host, and exit\n"
	"  --print-policy=any-host  the same for every host: calls only some hosts get are\n"
	"                  marked \"[only on ...]\" (the image's dev.nabla.syscalls label)\n"
	"Exit status: the guest's, or 125 when nabla-run itself fails.\n";

static uint64_t parse_mem(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		errx(TENDER_EXIT, "--mem=%s: not a number of MiB", s);
	if (v < NABLA_MEM_MIN_MIB || v > NABLA_MEM_MAX_MIB)
		errx(TENDER_EXIT, "--mem=%s: must be between %d and %d MiB", s, NABLA_MEM_MIN_MIB, NABLA_MEM_MAX_MIB);
	return v;
}

int main(int argc, char **argv)
{
	program_invocation_short_name = "nabla-run"; /* errx prefix, whatever argv[0] is */
	struct tender_opts o = { .mem_mib = 256, .fs_base_source = "--fs-base=", .etc_from = "/etc" };
	const char *fs_base = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strncmp(a, "--mem=", 6) == 0) {
			o.mem_mib = parse_mem(a + 6);
		} else if (strncmp(a, "--disk=", 7) == 0) {
			if (!a[7])
				errx(TENDER_EXIT, "--disk= needs a PATH");
			o.disk = a + 7;
		} else if (strncmp(a, "--net=", 6) == 0) {
			if (!a[6])
				errx(TENDER_EXIT, "--net= needs the name of a tap interface");
			o.net = a + 6;
		} else if (strncmp(a, "--net-from=", 11) == 0) {
			if (!a[11])
				errx(TENDER_EXIT, "--net-from= needs the name of the container's interface, e.g. eth0");
			o.net_from = a + 11;
		} else if (strncmp(a, "--net-ip=", 9) == 0) {
			o.net_ip = a + 9;
		} else if (strncmp(a, "--net-gw=", 9) == 0) {
			o.net_gw = a + 9;
		} else if (strncmp(a, "--net-mac=", 10) == 0) {
			o.net_mac = a + 10;
		} else if (strncmp(a, "--etc-from=", 11) == 0) {
			if (!a[11])
				errx(TENDER_EXIT, "--etc-from= needs a DIR");
			o.etc_from = a + 11;
		} else if (strncmp(a, "--libos=", 8) == 0) {
			if (!a[8])
				errx(TENDER_EXIT, "--libos= needs a PATH");
			o.libos = a + 8;
		} else if (strncmp(a, "--interp=", 9) == 0) {
			if (!a[9])
				errx(TENDER_EXIT, "--interp= needs a PATH");
			o.interp = a + 9;
		} else if (strncmp(a, "--exe-root=", 11) == 0) {
			if (!a[11])
				errx(TENDER_EXIT, "--exe-root= needs a DIR");
			o.exe_root = a + 11;
		} else if (strcmp(a, "--x-exec-heap") == 0) {
			o.exec_heap = 1;
		} else if (strcmp(a, "--heap=flat") == 0 || strcmp(a, "--heap=paged") == 0) {
			o.flat_heap = a[7] == 'f';
		} else if (strncmp(a, "--heap=", 7) == 0) {
			errx(TENDER_EXIT, "%s: the heap is paged or flat (see nabla-run --help)", a);
		} else if (strncmp(a, "--fs-base=", 10) == 0) {
			fs_base = a + 10;
		} else if (strcmp(a, "--print-policy") == 0) {
			o.print_policy = 1;
		} else if (strcmp(a, "--print-policy=any-host") == 0) {
			o.print_policy = PRINT_POLICY_ANY_HOST;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			printf(usage, NABLA_MEM_MIN_MIB, NABLA_MEM_MAX_MIB);
			return 0;
		} else {
			errx(TENDER_EXIT, "unknown option %s (see nabla-run --help)", a);
		}
	}
	if (o.flat_heap && o.exec_heap) /* a JIT's heap, executable and writable whole from the start: no */
		errx(TENDER_EXIT, "--heap=flat and --x-exec-heap do not go together: a JIT needs --heap=paged");
	if (!fs_base && (fs_base = getenv("NABLA_FS_BASE")))
		o.fs_base_source = "NABLA_FS_BASE=";
	if (fs_base)
		o.fs_base = fs_base_parse(fs_base, o.fs_base_source);
	if (i < argc) {
		o.kernel = argv[i];
		o.argv = &argv[i];
		o.argc = argc - i;
		if (o.argc > 1 && strcmp(o.argv[1], "--") == 0) { /* UNIKERNEL -- ARGS: drop the -- */
			o.argv[1] = o.argv[0];
			o.argv++;
			o.argc--;
		}
	} else if (!o.print_policy) {
		errx(TENDER_EXIT, "no UNIKERNEL given (see nabla-run --help)");
	}
	return tender_run(&o);
}
