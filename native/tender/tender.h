/*
 * tender.h — the pieces of nabla-run and how they fit together.
 *
 * main.c parses argv into struct tender_opts and calls tender_run (core.c), which runs
 * the steps in this order: choose how the guest sets thread pointers (fsbase.c) → fit
 * --mem to the container's memory limit (memlimit.c) → check the ELFs (elf.c: the app, and the libOS beside it or
 * inside it) → map guest memory and load them → open devices (mod_*.c: console, disk,
 * net), each adding its own seccomp rules → write the boot page and the initial stack (boot.c) → point SIGSYS
 * at the libOS (trap.c) → install the filter (seccomp.c) → jump. After the filter the
 * tender makes no system call of its own.
 */
#ifndef NABLA_TENDER_H
#define NABLA_TENDER_H

#include <stddef.h>
#include <stdint.h>

#include "nabla_abi.h"

#define TENDER_EXIT 125 /* every tender error, like `docker run` */
#define PAGE_SIZE 4096UL
#define MIB (1024UL * 1024UL)
#define STACK_SIZE_MAX (8 * MIB)
/* x rounded up, or down, to a multiple of a (a power of two). */
static inline uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static inline uint64_t align_down(uint64_t x, uint64_t a)
{
	return x & ~(a - 1);
}

#define NET_FD 4 /* the tap (--net) */
#define NET_WAIT_FD 5 /* the epoll set watching the tap (and the DNS relay's socket) */
#define DNS_FD 6 /* with --net: a UDP socket to a DNS server on the container's loopback, or none */

enum fs_base {
	FS_BASE_AUTO,
	FS_BASE_CPU,
	FS_BASE_HOST_CALL
};
#define PRINT_POLICY_ANY_HOST 2

struct tender_opts {
	uint64_t mem_mib;
	int mem_lowered; /* the container's memory limit lowered mem_mib (memlimit.c) ... */
	uint64_t mem_limit_mib; /* ... this limit, */
	uint64_t mem_asked_mib; /* ... from this --mem */
	const char *disk; /* --disk=PATH or NULL */
	const char *libos; /* --libos=PATH or NULL (the libOS is linked into the kernel) */
	const char *interp; /* --interp=PATH: the dynamic loader of a UNIKERNEL with PT_INTERP */
	const char *exe_root; /* --exe-root=DIR: UNIKERNEL and its loader are guest paths, under DIR (exeroot.c) */
	const char *net; /* --net=TAP or NULL */
	const char *net_from; /* --net-from=IF: take this interface's network (netsetup.c) */
	const char *net_ip; /* --net-ip=A.B.C.D/LEN */
	const char *net_gw; /* --net-gw=A.B.C.D */
	const char *net_mac; /* --net-mac=xx:xx:xx:xx:xx:xx */
	const char *etc_from; /* --etc-from=DIR: the container's hostname, hosts, resolv.conf (etcfiles.c) */
	int exec_heap; /* --x-exec-heap */
	int flat_heap; /* --heap=flat (memcap.c) */
	enum fs_base fs_base; /* --fs-base= or $NABLA_FS_BASE (fsbase.c) */
	const char *fs_base_source; /* "--fs-base=" or "NABLA_FS_BASE=", for messages */
	int print_policy; /* --print-policy: 1 this host's, PRINT_POLICY_ANY_HOST every host's */
	const char *kernel; /* UNIKERNEL (also the guest's argv[0]) */
	int argc; /* guest argv, argv[0] == kernel */
	char **argv;
};

/* elf.c: one validated unikernel image, its file mapped read-only until loaded. */
#define ELF_MAX_LOADS 16
struct elf_load {
	uint64_t vaddr, memsz, offset, filesz;
	int prot;
};
struct elf_image {
	const char *path;
	const uint8_t *file;
	size_t file_size;
	int fd; /* open until elf_load has mapped the segments from it */
	int64_t mtime;
	uint64_t entry;
	uint64_t bias; /* how far an ET_DYN image (a PIE, the dynamic loader) was moved up; 0 for ET_EXEC */
	char interp[256]; /* PT_INTERP's path, or "" when static */
	uint64_t phdr; /* guest address of the program headers (AT_PHDR) */
	uint64_t phnum;
	uint64_t phdr_off; /* e_phoff */
	uint64_t image_end; /* page-aligned end of the highest PT_LOAD */
	int nloads;
	struct elf_load loads[ELF_MAX_LOADS];
	int has_note; /* it holds a libOS: its NABLA note follows */
	uint64_t note_offset; /* where in the file */
	struct nabla_note note;
};
#define TRAP_STACK_MIN (16 * 1024UL) /* a signal frame with the xsave area, and room to work */
#define DYN_ALIGN (2 * MIB) /* where an ET_DYN image may start: a 2 MiB boundary, as Linux aligns large p_align */
enum elf_role {
	ELF_PROGRAM, /* the app or the libOS: ET_EXEC, or ET_DYN when given a base */
	ELF_LOADER /* the app's PT_INTERP: ET_DYN, no loader of its own */
};
void elf_open(struct elf_image *img, const char *path, enum elf_role role, uint64_t dyn_base);
void elf_check_note(const struct elf_image *img);
void elf_check_apart(const struct elf_image *a, const struct elf_image *b);
uint64_t elf_min_mem_mib(uint64_t image_end);
void elf_load(struct elf_image *img);
void elf_close(struct elf_image *img);
void elf_keep_for_guest(const struct elf_image *img, struct nabla_boot *boot);
/* etcfiles.c: DIR's hostname, hosts and resolv.conf, kept read-only for the guest's /etc. */
void etc_keep_for_guest(const char *dir, struct nabla_boot *boot);
uint32_t etc_loopback_nameserver(void); /* network byte order, 0: none */

/* seccomp.c: the policy is a table of rules; the filter and --print-policy come from it. */
#define RULE_MAX_VALS 4
struct rule_val {
	uint32_t value;
	const char *label; /* shown instead of the number, e.g. "<disk>" */
};
#define RULE_MAX_RANGES 3
struct rule_range {
	int arg;
	const char *arg_name;
	uint64_t lo, hi; /* lo <= the argument (all 64 bits) <= hi */
	const char *label; /* shown instead of the numbers, e.g. "<guest heap>" */
};
struct rule {
	const char *name; /* syscall name as shown */
	uint32_t nr;
	int arg; /* index of the checked argument, -1: none */
	const char *arg_name;
	int nvals; /* the argument (all 64 bits) must equal one of these */
	struct rule_val vals[RULE_MAX_VALS];
};
struct rule_ranges { /* and each of these arguments must lie in its range */
	int n;
	struct rule_range at[RULE_MAX_RANGES];
};
#define POLICY_MAX_RULES 11 /* issue 6: about ten host calls */
struct policy {
	int nrules;
	struct rule rules[POLICY_MAX_RULES];
	const char *only_on[POLICY_MAX_RULES]; /* a rule only some hosts get: printed "[only on ...]" */
	struct rule_ranges ranges[POLICY_MAX_RULES];
};
void policy_add(struct policy *p, struct rule r);
void policy_add_only_on(struct policy *p, struct rule r, const char *hosts); /* --print-policy=any-host */
void policy_add_ranged(struct policy *p, struct rule r, struct rule_ranges ranges);
void policy_allow(struct policy *p, uint32_t nr, uint32_t value, const char *label); /* one more value for nr's rule */
void policy_print(const struct policy *p);
void seccomp_install(const struct policy *p, const struct nabla_note *libos);

/* fsbase.c: wrfsbase, or the pinned arch_prctl hypercall where the host lacks FSGSBASE. */
enum fs_base fs_base_parse(const char *value, const char *source);
int fs_base_host_has_fsgsbase(void);
enum fs_base fs_base_resolve(enum fs_base mode, const char *source); /* auto → this host's; cpu where impossible → exit */
void fs_base_rules(struct policy *p, enum fs_base resolved);
void fs_base_rules_any_host(struct policy *p);

/* trap.c: SIGSYS (and the other routed signals) to the libOS's handler, on its signal
 * stack, before the filter, blocked until trap_enter jumps into the guest after it. */
void trap_install(const struct nabla_note *libos);
__attribute__((noreturn)) void trap_enter(const struct nabla_note *libos, uint64_t entry, uint64_t sp, uint64_t boot);

/* memcap.c: the heap's two hypercalls, and RLIMIT_DATA that caps what they can make usable. */
void mem_rules(struct policy *p, uint64_t heap_start, uint64_t region_end, const struct tender_opts *o);
void mem_cap(const struct nabla_boot *boot);

/* Devices: each opens what it needs before the filter and adds the rules it needs. */
void console_open(struct nabla_boot *boot);
void console_rules(struct policy *p);
void disk_open(struct nabla_boot *boot, const char *path);
/* warm.c: a read-only mapping's file read into the host's page cache, the mapping's pages dropped. */
void page_cache_warm(const void *file, uint64_t size, const char *what);
struct net_config {
	uint32_t ip, mask, gw; /* network byte order; gw 0: none */
	uint8_t mac[6];
	const char *uplink; /* --net-from=IF: the tender made the tap, so its frame filter must be there, and
			     * IF is where the tap's frames go and where the tap's come from (net_join) */
};
void net_parse(struct net_config *c, const struct tender_opts *o);
void net_open(struct nabla_boot *boot, const char *tap, const struct net_config *c);
void net_rules(struct policy *p, const char *tap);
void net_dns_open(struct nabla_boot *boot, uint32_t nameserver); /* the DNS relay: with a tap and a loopback nameserver */
void net_from_container(struct tender_opts *o);
void net_join(const char *tap, const char *uplink);
void net_guard(const char *tap, const struct net_config *c);

/* tc.c: a clsact qdisc on an interface, and a classic BPF program (struct sock_filter's
 * steps) at its ingress with priority prio: in direct-action mode when redirect_to is 0, else
 * what it matches (returns -1 for) leaves through interface redirect_to's egress. 0 or -errno. */
struct bpf_step {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};
int tc_add_clsact(int ifindex);
int tc_add_ingress_bpf(int ifindex, uint16_t prio, const struct bpf_step *steps, uint16_t n, int redirect_to);

/* netlink.c: an rtnetlink request built in a buffer, header first, then the message's
 * fixed part (nl_begin), then attributes (nl_put; nl_nest_* around nested ones). */
struct nl_header { /* struct nlmsghdr */
	uint32_t len;
	uint16_t type, flags;
	uint32_t seq, pid;
};
struct nl_buf {
	size_t len;
	unsigned char data[1024];
};
#define NL_ALIGN(n) (((n) + 3) & ~(size_t)3)
#define NL_NESTED 0x8000 /* NLA_F_NESTED */
#define NL_F_REQUEST 0x1
#define NL_F_ACK 0x4
#define NL_F_REPLACE 0x100
#define NL_F_EXCL 0x200
#define NL_F_CREATE 0x400
void nl_begin(struct nl_buf *b, const void *fixed, size_t len);
void nl_put(struct nl_buf *b, uint16_t type, const void *data, size_t len);
size_t nl_nest_begin(struct nl_buf *b, uint16_t type);
void nl_nest_end(struct nl_buf *b, size_t at);
/* Sends it as `type` with `flags` (beside REQUEST and ACK): 0, or -errno (-EPROTO: no answer). */
int nl_request(struct nl_buf *b, uint16_t type, uint16_t flags);

/* boot.c */
uint64_t stack_size_for(uint64_t mem);
void guest_map(uint64_t va_size, uint64_t stack_size);
void boot_write(struct nabla_boot *boot, const char *exe, const char *exe_root);
uint64_t stack_build(const struct elf_image *app, uint64_t interp_base, const struct tender_opts *o, uint64_t stack_top,
		     uint64_t stack_size);

/* memlimit.c: lowers o->mem_mib to what the container's cgroup memory limit leaves;
 * memlimit_for: the smallest limit that leaves mem_mib. */
void memlimit_fit(struct tender_opts *o);
uint64_t memlimit_for(uint64_t mem_mib);

/* exeroot.c: --exe-root=DIR, programs of a converted image found by their guest paths. */
void exe_root_find(struct tender_opts *o); /* o->kernel: UNIKERNEL found under DIR (exit 127 if none) */
void exe_root_interp(struct tender_opts *o, const char *interp); /* o->interp: DIR + the PT_INTERP path */
const char *exe_root_guest_path(const char *root, const char *real); /* real without DIR in front */

/* core.c */
int tender_run(const struct tender_opts *o);

#endif /* NABLA_TENDER_H */
