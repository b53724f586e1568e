/*
 * Native unit tests of the library OS (native/libos).
 *
 * What runs: the real libOS objects, compiled unchanged by native/libos/Makefile (with this
 * harness's compiler), linked with fake_hypercall.c instead of hypercall.c, so the libOS's
 * host calls become ordinary host calls (write, clock_gettime, nanosleep); the disk is a tar
 * made at test time, mapped as the tender maps it and its exit comes back to the test. Cases drive the
 * libOS through libos_syscall() directly, as libOS-musl does in a unikernel.
 *
 * Isolation: every case runs in its own forked child and boots a fresh libOS over fresh
 * memory (boot()), so no case sees another's files, page bitmap or threads, and a crash or
 * hang (per-case alarm) is that case's FAIL line, not the end of the run.
 *
 * FS base: the libOS sets it at boot (to 0), at every green-thread switch (sched.c) and at
 * arch_prctl(ARCH_SET_FS) (proc.c), with wrfsbase or, in host-call mode, with the fake
 * hc_set_fs (a real arch_prctl); the harness's libc keeps its TLS at the FS base too. The
 * suite runs in the mode `libos-test --fs-base=cpu|host-call` names (default: cpu where the
 * host has FSGSBASE; on a host without it, cpu mode emulates wrfsbase on SIGILL), and reads and sets the FS base only through the kernel's arch_prctl,
 * so it runs on any host. host_fs is read once at start; boot() gives it back to the libOS
 * (as libc's start would) after libos_init cleared it; sys() checks that the FS base after every
 * libos_syscall is what it was before (else it restores it and fails the case, naming the
 * call); threads get host_fs as their TLS (CLONE_SETTLS), so libc works on them; hc_exit
 * and every failure put host_fs back before they longjmp; the runner checks it after each
 * case body. Cases that must really die (the deadlock panic) do it in a grandchild.
 */
#ifndef LIBOS_HARNESS_H
#define LIBOS_HARNESS_H

#include <sched.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include "libos.h"

/* Not in libos.h: the entry the boot code calls, and clone (libOS-musl declares it itself). */
void libos_init(const struct nabla_boot *boot, const uint64_t *initial_stack);
int libos_clone(int (*fn)(void *), void *stack, int flags, void *arg, int *ptid, void *tls, int *ctid);

/* ---- cases ---- */

struct test_case {
	const char *name; /* the function's name; printed with '-' for '_' */
	void (*fn)(void);
	const char *file;
	int line;
};

#define TEST_(fn_) \
	static void fn_(void); \
	static const struct test_case case_##fn_ = { #fn_, fn_, __FILE__, __LINE__ }; \
	__attribute__((used, section("libos_cases"))) static const struct test_case *const \
		case_ptr_##fn_ = &case_##fn_; \
	static void fn_(void)
/* TEST(name) { ... }: one case. */
#define TEST(fn_) TEST_(fn_)

/* ---- checks: the first failed one ends the case (from any thread) ---- */

_Noreturn void fail_at(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *errname(long v); /* "ENOENT" for -2, "" for anything not an -errno */

#define FAIL(...) fail_at(__FILE__, __LINE__, __VA_ARGS__)
#define CHECK(cond) \
	do { \
		if (!(cond)) fail_at(__FILE__, __LINE__, "not true: %s", #cond); \
	} while (0)
#define CHECK_EQ_(got, want, text) \
	do { \
		long g_ = (long)(got), w_ = (long)(want); \
		if (g_ != w_) \
			fail_at(__FILE__, __LINE__, "%s = %ld%s%s, want %ld%s%s", text, g_, *errname(g_) ? " -" : "", \
				errname(g_), w_, *errname(w_) ? " -" : "", errname(w_)); \
	} while (0)
#define CHECK_EQ(got, want) CHECK_EQ_(got, want, #got)
/* expr returns -E */
#define CHECK_ERR(expr, E) CHECK_EQ_(expr, -(E), #expr)
/* expr succeeds (>= 0); evaluates to its value */
#define CHECK_OK(expr) \
	({ \
		long r_ = (long)(expr); \
		if (r_ < 0) fail_at(__FILE__, __LINE__, "%s = %ld -%s, want success", #expr, r_, errname(r_)); \
		r_; \
	})
#define CHECK_STR(got, want) \
	do { \
		const char *g_ = (got), *w_ = (want); \
		if (strcmp(g_, w_) != 0) fail_at(__FILE__, __LINE__, "%s = \"%.200s\", want \"%.200s\"", #got, g_, w_); \
	} while (0)
/* len bytes at got equal those at want */
#define CHECK_MEM(got, want, len) \
	do { \
		size_t i_ = first_diff((got), (want), (len)); \
		if (i_ != (size_t)-1) fail_at(__FILE__, __LINE__, "%s differs from %s at byte %zu", #got, #want, i_); \
	} while (0)
size_t first_diff(const void *a, const void *b, size_t len);

/* ---- calling the libOS ---- */

long sys_(long n, long a1, long a2, long a3, long a4, long a5, long a6);
#define SYS_N_(n, a, b, c, d, e, f, ...) \
	sys_((long)(n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))
/* sys(SYS_x, args...): libos_syscall with the FS base checked around it. */
#define sys(...) SYS_N_(__VA_ARGS__, 0, 0, 0, 0, 0, 0)

/* The FS base as the kernel has it (arch_prctl, no libc: safe with any FS base). */
uint64_t cpu_fs_base(void);
void set_cpu_fs_base(uint64_t fs);
extern uint64_t host_fs; /* the harness's own TLS, read at start */
extern int fs_host_call; /* booted with NABLA_BOOT_FS_HOST_CALL (--fs-base=host-call) */
extern int flat_heap; /* booted with NABLA_BOOT_FLAT_HEAP (--heap=flat) */
/* A case for one heap mode only calls this first: in the other it ends as "skip NAME: why". */
void heap_mode_only(int flat);
#define PAGED_HEAP_ONLY() heap_mode_only(0)
#define FLAT_HEAP_ONLY() heap_mode_only(1)

/* ---- booting ---- */

struct boot_opts {
	const char *tar; /* fixture name (e.g. "pax.tar"); 0: "pax.tar" */
	int no_disk; /* disk_addr = 0 */
	const char *cwd; /* 0: "/" */
	const char *exe_path; /* the program's own file (nabla_boot.exe_*): its path ... */
	const void *exe; /* ... and bytes; 0: none */
	size_t exe_size;
	const struct nabla_file *etc; /* the container's /etc files (nabla_boot.etc_*) ... */
	size_t etc_count; /* ... how many */
	const char *hostname; /* nabla_boot.hostname; 0: none */
	size_t mem_mib; /* 0: 64 */
	size_t va_extra_mib; /* address space beyond mem_mib (the tender gives NABLA_VA_EXTRA) */
	uint8_t seed; /* every seed byte; 0: 0x5a */
	const char *const *argv; /* the program's arguments, put on an initial stack as the
				    tender does (0: no initial stack) */
	int net; /* a network: 10.0.0.2/24, gateway 10.0.0.1, MAC 02:6e:0a:00:00:02, over a
		    datagram socketpair whose other end (guest.wire) plays the tap's host side */
	int dns; /* with net: a DNS relay to 127.0.0.11:53 (nabla_boot.dns_*), over a datagram
		    socketpair whose other end (guest.dns_wire) plays the server */
};

struct guest {
	struct nabla_boot *boot;
	char *region;
	size_t size;
	uintptr_t heap_lo, heap_hi; /* where the libOS's heap may lie: [image_end, stack_top - stack_size) */
	uint64_t fs_after_init; /* the FS base libos_init left */
	const char *disk; /* the tar, mapped as the tender maps it (0: no disk, or an empty one) */
	size_t disk_size;
	uint8_t *disk_touched; /* a bit per page of it the libOS has read */
	int wire; /* with boot_opts.net: the host side of the fake tap, one frame per datagram */
	int dns_wire; /* with boot_opts.dns: the DNS server's side of the relay's socket */
};
extern struct guest guest;
extern const char *fixtures; /* the folder run.sh made: tars and tree/ */

/* Boots a fresh libOS (o may be 0 for the defaults). Call it once per process. */
void boot(const struct boot_opts *o);
/* Makes every page of the disk mapping unread again: the next read of each is a disk fault. */
void disk_forget(void);
/* fixtures/name, in a static buffer */
const char *fixture(const char *name);

/* ---- the fake hypercalls' record (fake_hypercall.c) ---- */

struct fake {
	jmp_buf *exit_jmp; /* hc_exit longjmps here (with host_fs back), or _exit()s if 0 */
	int exit_code;
	int passthrough; /* hc_write also writes to the real fd 1/2 */
	char out[3][16384]; /* what the libOS wrote to the console, by fd */
	size_t out_len[3];
	int writes[3]; /* hc_write calls by fd */
	long disk_faults; /* pages of the disk mapping read for the first time (since disk_forget) */
	long sleeps; /* hc_sleep calls */
	uint64_t slept_ns; /* total time asked of hc_sleep */
	long net_waits; /* hc_net_wait calls */
	long net_reads, net_writes; /* hc_net_read and hc_net_write calls */
	long dns_reads, dns_writes; /* hc_dns_read and hc_dns_write calls */
	long fs_sets; /* hc_set_fs calls */
	long mem_usables, mem_releases; /* hc_mem_usable and hc_mem_release calls */
	uint64_t mem_released; /* bytes given back by hc_mem_release */
};
extern struct fake fake;

/* Runs fn(arg) until the libOS calls hc_exit: returns the exit code, or -1 if fn returned. */
int run_to_exit(void (*fn)(void *), void *arg);

/* Runs fn(arg) in a forked child whose stdout and stderr are captured, with the real
 * hc_exit (_exit) and console (passthrough): for cases where the libOS must really die. */
struct child {
	int exited, code, signal;
	char out[8192];
};
void run_child(void (*fn)(void *), void *arg, struct child *c);

/* ---- threads ---- */

#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM)
/* A green thread running fn(arg) on its own host-mmap'd stack with host_fs as TLS; extra
 * clone flags in `flags`; ctid for CLONE_CHILD_*. Returns the tid or -errno. */
long spawn(int (*fn)(void *), void *arg, int flags, int *ctid);

/* ---- small wrappers ---- */

uint64_t now_ns(void); /* host CLOCK_MONOTONIC */
long open_(const char *path, int flags);
long read_file(const char *path, char *buf, size_t cap); /* the whole file, NUL-terminated */
long write_file(const char *path, const char *data); /* create or truncate, write */
/* A directory's entries but "." and "..", sorted, space-separated, each marked by type:
 * "name/" dir, "name@" symlink, "name%" device, "name" file; or "error -ENAME". Static buffer. */
const char *ls(const char *path);
/* Sleeps ms through the libOS (its scheduler runs meanwhile); the call must succeed. */
void sleep_ms(long ms);
/* The same, whatever the call returns (a signal may cut it short: EINTR). */
void sleep_ms_unchecked(long ms);
/* fd's poll revents for events, now (timeout 0). */
short revents(int fd, short events);
/* The host's bytes of a fixture file (fixtures/tree/path), NUL-terminated; len out. */
char *host_file(const char *path, size_t *len);

#endif
