/*
 * core.c — the order of things: policy, ELF, memory, devices, boot page, stack,
 * filter, jump. Also the rules every guest needs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tender.h"

static void core_rules(struct policy *p)
{
	/* clock_gettime: wall and monotonic time only (no CPU-time clocks: a timing side
	 * channel on the host's scheduling, and no need for them). */
	policy_add(p, (struct rule){ "clock_gettime", SYS_clock_gettime, 0, "clockid", 2, { { CLOCK_REALTIME, "REALTIME" }, { CLOCK_MONOTONIC, "MONOTONIC" } } });
	/* ppoll(NULL, 0, timeout, ...): the libOS's idle sleep when every thread is blocked. */
	policy_add(p, (struct rule){ "ppoll", SYS_ppoll, 1, "nfds", 1, { { 0, NULL } } });
	/* exit_group: the guest's exit status becomes ours. */
	policy_add(p, (struct rule){ "exit_group", SYS_exit_group, -1, NULL, 0, { { 0, NULL } } });
	/* rt_sigreturn: how the libOS returns to the app after serving a trapped call. */
	policy_add(p, (struct rule){ "rt_sigreturn", SYS_rt_sigreturn, -1, NULL, 0, { { 0, NULL } } });
}

/* No inherited fd may reach the guest: close all but 0, 1 and 2 (0 goes in console_open). */
static void close_inherited_fds(void)
{
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
	if (errno != ENOSYS)
		err(TENDER_EXIT, "close_range(3, ~0) failed");
	DIR *d = opendir("/proc/self/fd"); /* kernels before 5.9 */
	if (!d)
		err(TENDER_EXIT, "close_range is missing and opendir(/proc/self/fd) failed");
	for (struct dirent *e; (e = readdir(d));) {
		int fd = atoi(e->d_name);
		if (fd >= 3 && fd != dirfd(d))
			close(fd);
	}
	closedir(d);
}

/* A program with PT_INTERP runs only beside the libOS and with its loader given: the
 * tender opens no file on the guest's behalf, so the loader is a file of the image, named
 * by the entrypoint like the libOS. */
static void check_interp(struct tender_opts *o, const struct elf_image *app)
{
	if (o->exe_root && o->interp)
		errx(TENDER_EXIT, "--exe-root takes the loader from the program's PT_INTERP: run it without --interp");
	if (o->exe_root && !o->libos)
		errx(TENDER_EXIT, "--exe-root needs --libos: the programs it finds run beside the libOS");
	if (o->exe_root && app->interp[0])
		exe_root_interp(o, app->interp);
	if (app->interp[0] && !o->interp)
		errx(TENDER_EXIT, "%s: dynamically linked (PT_INTERP %s); give its loader with --interp=PATH (and --libos), or link it with -static",
		     o->kernel, app->interp);
	if (o->interp && !app->interp[0])
		errx(TENDER_EXIT, "%s: not dynamically linked (no PT_INTERP): run it without --interp", o->kernel);
	if (o->interp && !o->libos)
		errx(TENDER_EXIT, "--interp needs --libos: a dynamically linked program runs beside the libOS");
}

/* The app, the libOS beside it (--libos) or inside it (relinked), and the app's dynamic
 * loader (--interp): checked, and loaded into the mapped region. Returns the ELF that holds
 * the libOS; *image_end: where the images end.
 * Where they go, bottom up: the boot page; the libOS at its link address (NABLA_LIBOS_BASE);
 * the app at its link address (ET_EXEC), or a PIE on the first 2 MiB boundary above the
 * libOS (0x400000 with ours, where a non-PIE app is linked); the loader on the first 2 MiB
 * boundary above both, where Linux would put either anywhere; then the heap and the stack.
 * Low addresses keep the --mem an image needs small; each image is checked to lie inside the
 * region and apart from the others (elf.c), and the heap starts above all of them. */
static const struct elf_image *load_images(struct tender_opts *o, struct elf_image *app, struct elf_image *libos,
					   struct elf_image *interp, uint64_t *image_end)
{
	if (o->exe_root)
		exe_root_find(o);
	if (o->libos) {
		elf_open(libos, o->libos, ELF_PROGRAM, 0);
		if (!libos->has_note)
			errx(TENDER_EXIT, "%s: no NABLA ABI note (.note.nabla): not a nabla libOS", o->libos);
	}
	/* A PIE runs only beside the libOS: a relinked unikernel's note holds link addresses. */
	elf_open(app, o->kernel, ELF_PROGRAM, o->libos ? align_up(libos->image_end, DYN_ALIGN) : 0);
	check_interp(o, app);
	const struct elf_image *with_libos = app;
	if (o->libos) {
		if (app->has_note)
			errx(TENDER_EXIT, "%s: has a libOS linked in already; run it without --libos", o->kernel);
		elf_check_apart(libos, app);
		with_libos = libos;
	} else if (!app->has_note) {
		errx(TENDER_EXIT, "%s: no NABLA ABI note (.note.nabla): not a nabla unikernel "
				  "(a static Linux program runs with --libos=PATH)",
		     o->kernel);
	}
	elf_check_note(with_libos);

	uint64_t end = app->image_end > with_libos->image_end ? app->image_end : with_libos->image_end;
	if (o->interp) {
		elf_open(interp, o->interp, ELF_LOADER, align_up(end, DYN_ALIGN));
		if (interp->has_note)
			errx(TENDER_EXIT, "%s: has a NABLA ABI note: a dynamic loader is not a libOS", o->interp);
		end = interp->image_end; /* above both */
	}
	uint64_t need = elf_min_mem_mib(end), mem = o->mem_mib * MIB;
	if (need == 0)
		errx(TENDER_EXIT, "%s: image ends at 0x%lx: too large for any --mem (max %d)", o->kernel, end, NABLA_MEM_MAX_MIB);
	if (o->mem_mib < need && o->mem_lowered && o->mem_asked_mib >= need)
		errx(TENDER_EXIT, "%s: needs at least %lu MiB of guest memory, but the container's memory limit (%lu MiB) "
				  "leaves %lu: give the container at least %lu MiB (docker run --memory)",
		     o->kernel, need, o->mem_limit_mib, o->mem_mib, memlimit_for(need));
	if (o->mem_mib < need)
		errx(TENDER_EXIT, "%s: image ends at 0x%lx: needs --mem >= %lu", o->kernel, end, need);
	guest_map(mem + NABLA_VA_EXTRA, stack_size_for(mem));
	elf_load(app); /* its file stays mapped: the guest's own exe (elf_keep_for_guest) */
	if (o->libos) {
		elf_load(libos);
		elf_close(libos);
	}
	if (o->interp) {
		elf_load(interp);
		elf_close(interp);
	}
	*image_end = end;
	return with_libos;
}

/* A core file would hold the guest's memory, written by the kernel as root into the
 * working directory, or handed to the host's crash handler when core_pattern is a pipe:
 * none, whatever `docker run --ulimit core=` says. Not dumpable also keeps other processes
 * of the same user from ptrace or /proc/PID/mem on us. */
static void no_core_dumps(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		err(TENDER_EXIT, "prctl(PR_SET_DUMPABLE, 0) failed");
	struct rlimit none = { 0, 0 };
	if (setrlimit(RLIMIT_CORE, &none) != 0)
		err(TENDER_EXIT, "setrlimit(RLIMIT_CORE, 0) failed");
}

/* Whatever the container gave us (NET_ADMIN for --net-from, root's defaults) is not the
 * guest's: every capability goes before the filter. */
static void drop_capabilities(void)
{
	struct {
		uint32_t version;
		int pid;
	} header = { 0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0 };
	struct {
		uint32_t effective, permitted, inheritable;
	} none[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
	if (syscall(SYS_capset, &header, none) < 0)
		err(TENDER_EXIT, "capset(no capabilities) failed");
}

int tender_run(const struct tender_opts *given)
{
	struct tender_opts opts = *given, *o = &opts;
	if (o->net_from)
		net_from_container(o); /* sets --net, --net-ip, --net-gw as if given */
	struct policy policy = { 0 };
	struct net_config net;
	net_parse(&net, o);
	console_rules(&policy);
	net_rules(&policy, o->net);
	core_rules(&policy);
	if (o->print_policy == PRINT_POLICY_ANY_HOST) {
		fs_base_rules_any_host(&policy);
		mem_rules(&policy, NABLA_GUEST_BASE, NABLA_GUEST_BASE + PAGE_SIZE, o); /* printed by label */
		policy_print(&policy);
		return 0;
	}
	enum fs_base fs_base = fs_base_resolve(o->fs_base, o->fs_base_source);
	fs_base_rules(&policy, fs_base);
	if (o->print_policy) {
		mem_rules(&policy, NABLA_GUEST_BASE, NABLA_GUEST_BASE + PAGE_SIZE, o);
		policy_print(&policy);
		return 0;
	}

	memlimit_fit(o);
	struct elf_image app, libos, interp = { 0 };
	uint64_t image_end;
	const struct elf_image *with_libos = load_images(o, &app, &libos, &interp, &image_end);
	uint64_t mem = o->mem_mib * MIB, va_size = mem + NABLA_VA_EXTRA;

	close_inherited_fds();
	struct nabla_boot boot = {
		.abi_version = NABLA_ABI_VERSION,
		.flags = (o->exec_heap ? NABLA_BOOT_EXEC_HEAP : 0) | (fs_base == FS_BASE_HOST_CALL ? NABLA_BOOT_FS_HOST_CALL : 0) |
			 (o->flat_heap ? NABLA_BOOT_FLAT_HEAP : 0),
		.mem_base = NABLA_GUEST_BASE,
		.mem_size = mem,
		.va_size = va_size,
		.image_end = image_end,
		.stack_top = NABLA_GUEST_BASE + va_size,
		.stack_size = stack_size_for(mem),
		.net_fd = -1,
		.net_wait_fd = -1,
		.dns_fd = -1,
		.app_entry = o->libos ? app.entry : 0,
	};
	if (o->interp)
		boot.app_entry = interp.entry; /* the loader starts the program */
	mem_rules(&policy, align_up(image_end, PAGE_SIZE), boot.stack_top, o);
	console_open(&boot);
	disk_open(&boot, o->disk);
	net_open(&boot, o->net, &net);
	elf_keep_for_guest(&app, &boot);
	etc_keep_for_guest(o->etc_from, &boot);
	net_dns_open(&boot, etc_loopback_nameserver());
	drop_capabilities();
	no_core_dumps();
	boot_write(&boot, o->kernel, o->exe_root);
	uint64_t sp = stack_build(&app, interp.bias, o, boot.stack_top, boot.stack_size);
	mem_cap(&boot); /* last: everything the tender makes writable is in place */

	trap_install(&with_libos->note); /* the routed signals wait, blocked, until trap_enter */
	seccomp_install(&policy, &with_libos->note); /* from here on: no system call but the guest's */
	trap_enter(&with_libos->note, with_libos->entry, sp, NABLA_BOOT_ADDR);
}
