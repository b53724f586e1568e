/*
 * The runner and the helpers every case uses (see harness.h for the design).
 *   libos-test [--fs-base=auto|cpu|host-call] [--heap=paged|flat] FIXTURES [CASE...]
 * prints "ok NAME", "FAIL NAME: why" or "skip NAME: why" (a case for the other heap mode) per
 * case, then "N passed, N failed[, N skipped ...]"; exits 1 when a
 * case failed, 2 when the harness itself cannot run.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <poll.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "harness.h"

#define CASE_TIMEOUT 5 /* seconds; a case that takes longer hangs */
#define HWCAP2_FSGSBASE_BIT (1UL << 1)
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

uint64_t host_fs;
int fs_host_call;
int flat_heap;
struct guest guest;
const char *fixtures;
static int report_fd = -1; /* where fail_at sends the reason (the runner's pipe) */

static long raw_arch_prctl(long code, long arg)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"((long)SYS_arch_prctl), "D"(code), "S"(arg)
			 : "rcx", "r11", "memory");
	return ret;
}

/* A host without FSGSBASE faults on wrfsbase (#UD, SIGILL). The libOS's only use is
 * `wrfsbase %reg` (F3 REX.W 0F AE /2, register operand): do it with arch_prctl and step
 * over it; anything else gets SIGILL's default action. No libc: the FS base is moving. */
static const int gregs_of[16] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
				  REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15 };

static void wrfsbase_by_syscall(int sig, siginfo_t *info, void *context)
{
	(void)info;
	ucontext_t *uc = context;
	const uint8_t *ip = (const uint8_t *)uc->uc_mcontext.gregs[REG_RIP];
	if (ip[0] == 0xf3 && (ip[1] & 0xfe) == 0x48 && ip[2] == 0x0f && ip[3] == 0xae && (ip[4] & 0xf8) == 0xd0) {
		int reg = (ip[4] & 7) | ((ip[1] & 1) << 3);
		raw_arch_prctl(ARCH_SET_FS, uc->uc_mcontext.gregs[gregs_of[reg]]);
		uc->uc_mcontext.gregs[REG_RIP] += 5;
		return;
	}
	signal(sig, SIG_DFL); /* not ours: fault again, for real */
}

static void emulate_wrfsbase(void)
{
	struct sigaction sa = { .sa_sigaction = wrfsbase_by_syscall, .sa_flags = SA_SIGINFO | SA_NODEFER };
	sigaction(SIGILL, &sa, 0);
}

uint64_t cpu_fs_base(void)
{
	uint64_t fs = 0;
	raw_arch_prctl(ARCH_GET_FS, (long)&fs);
	return fs;
}

void set_cpu_fs_base(uint64_t fs)
{
	raw_arch_prctl(ARCH_SET_FS, (long)fs);
}

/* ---- checks ---- */

_Noreturn void fail_at(const char *file, int line, const char *fmt, ...)
{
	set_cpu_fs_base(host_fs); /* we may be on a thread with another TLS */
	char msg[1024];
	const char *base = strrchr(file, '/');
	int n = snprintf(msg, sizeof msg, "%s:%d: ", base ? base + 1 : file, line);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r') *p = '|';
	if (report_fd < 0) fprintf(stderr, "%s\n", msg);
	else if (write(report_fd, msg, strlen(msg)) < 0) { /* the runner is gone: nobody to tell */ }
	_exit(1);
}

#define SKIPPED 77 /* a case's exit status: not for this heap mode */

void heap_mode_only(int flat)
{
	if (flat_heap == flat) return;
	const char *why = flat ? "flat heap only" : "paged heap only";
	if (write(report_fd, why, strlen(why)) < 0) { /* the runner is gone: nobody to tell */
	}
	_exit(SKIPPED);
}

const char *errname(long v)
{
	static const struct {
		int e;
		const char *name;
	} names[] = {
		{ EPERM, "EPERM" },
		{ ENOENT, "ENOENT" },
		{ EINTR, "EINTR" },
		{ EIO, "EIO" },
		{ EBADF, "EBADF" },
		{ ECHILD, "ECHILD" },
		{ EAGAIN, "EAGAIN" },
		{ ENOMEM, "ENOMEM" },
		{ EFAULT, "EFAULT" },
		{ EBUSY, "EBUSY" },
		{ EEXIST, "EEXIST" },
		{ ENXIO, "ENXIO" },
		{ ENODEV, "ENODEV" },
		{ ENOTDIR, "ENOTDIR" },
		{ EISDIR, "EISDIR" },
		{ EINVAL, "EINVAL" },
		{ EMFILE, "EMFILE" },
		{ ENOTTY, "ENOTTY" },
		{ EFBIG, "EFBIG" },
		{ ENOSPC, "ENOSPC" },
		{ ESPIPE, "ESPIPE" },
		{ ERANGE, "ERANGE" },
		{ ENAMETOOLONG, "ENAMETOOLONG" },
		{ ENOSYS, "ENOSYS" },
		{ ENOTEMPTY, "ENOTEMPTY" },
		{ ELOOP, "ELOOP" },
		{ ETIMEDOUT, "ETIMEDOUT" },
		{ EXDEV, "EXDEV" },
		{ EPIPE, "EPIPE" },
		{ EDOM, "EDOM" },
		{ ENOTSOCK, "ENOTSOCK" },
		{ EDESTADDRREQ, "EDESTADDRREQ" },
		{ EMSGSIZE, "EMSGSIZE" },
		{ EPROTONOSUPPORT, "EPROTONOSUPPORT" },
		{ ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT" },
		{ EOPNOTSUPP, "EOPNOTSUPP" },
		{ EAFNOSUPPORT, "EAFNOSUPPORT" },
		{ EADDRINUSE, "EADDRINUSE" },
		{ EADDRNOTAVAIL, "EADDRNOTAVAIL" },
		{ ENETDOWN, "ENETDOWN" },
		{ ENETUNREACH, "ENETUNREACH" },
		{ ECONNABORTED, "ECONNABORTED" },
		{ ECONNRESET, "ECONNRESET" },
		{ ENOBUFS, "ENOBUFS" },
		{ EISCONN, "EISCONN" },
		{ ENOTCONN, "ENOTCONN" },
		{ ECONNREFUSED, "ECONNREFUSED" },
		{ EALREADY, "EALREADY" },
		{ EINPROGRESS, "EINPROGRESS" },
		{ ENOPROTOOPT, "ENOPROTOOPT" },
	};
	if (v >= 0 || v < -4095) return "";
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].e == -v) return names[i].name;
	return "E?";
}

size_t first_diff(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < len; i++)
		if (x[i] != y[i]) return i;
	return (size_t)-1;
}

/* ---- calling the libOS ---- */

long sys_(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	uint64_t before = cpu_fs_base();
	long r = libos_syscall(n, a1, a2, a3, a4, a5, a6);
	uint64_t after = cpu_fs_base();
	if (after != before) {
		set_cpu_fs_base(before);
		FAIL("the FS base changed across syscall %ld: %#lx -> %#lx", n, (unsigned long)before, (unsigned long)after);
	}
	return r;
}

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *fixture(const char *name)
{
	static char path[4096];
	snprintf(path, sizeof path, "%s/%s", fixtures, name);
	return path;
}

/* ---- booting ---- */

/* trap.c's part in a fault on the heap: a MAP_NORESERVE page the app touches gets memory
 * (mem_fault) and the access runs again; any other fault is a crash, as it would be. */
/* A page of the disk's first touch: made readable and counted (fake.disk_faults). A fault
 * on a page already readable is a write: the process dies, as in the tender. */
static int disk_fault(uintptr_t addr)
{
	size_t page = (addr - (uintptr_t)guest.disk) / 4096;
	if (!guest.disk || addr < (uintptr_t)guest.disk || page >= (guest.disk_size + 4095) / 4096) return 0;
	if (guest.disk_touched[page / 8] & (1 << page % 8)) return 0;
	guest.disk_touched[page / 8] |= (uint8_t)(1 << page % 8);
	fake.disk_faults++;
	return mprotect((char *)guest.disk + page * 4096, 4096, PROT_READ) == 0;
}

static void heap_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!disk_fault((uintptr_t)si->si_addr) && !mem_fault((uintptr_t)si->si_addr)) signal(sig, SIG_DFL);
}

void disk_forget(void)
{
	size_t pages = (guest.disk_size + 4095) / 4096;
	if (pages && mprotect((void *)guest.disk, pages * 4096, PROT_NONE) < 0) FAIL("mprotect of the disk: %s", strerror(errno));
	memset(guest.disk_touched, 0, (pages + 7) / 8);
	fake.disk_faults = 0;
}

/* A Linux initial stack at the top of the guest's stack, as the tender builds it: the
 * argument strings above, then argc, argv[] and a NULL (no environment or auxv: the libOS
 * reads only argv). 0 without arguments. */
static const uint64_t *initial_stack(const struct nabla_boot *b, const char *const *argv)
{
	if (!argv) return 0;
	char *strings = (char *)(uintptr_t)(b->stack_top - 4096);
	uint64_t *sp = (uint64_t *)(uintptr_t)(b->stack_top - 8192);
	size_t argc = 0;
	for (; argv[argc]; argc++) {
		size_t n = strlen(argv[argc]) + 1;
		memcpy(strings, argv[argc], n);
		sp[1 + argc] = (uint64_t)(uintptr_t)strings;
		strings += n;
	}
	sp[0] = argc;
	sp[1 + argc] = 0;
	return sp;
}

void boot(const struct boot_opts *o)
{
	static const struct boot_opts none;
	if (!o) o = &none;
	if (guest.boot) FAIL("boot() twice in one process");
	size_t mem = (o->mem_mib ? o->mem_mib : 64) << 20, va = mem + (o->va_extra_mib << 20);
	/* Fresh anonymous memory reads as zero, as the tender's region does. */
	char *region = mmap(0, va, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (region == MAP_FAILED) FAIL("mmap of %zu MiB for the guest: %s", mem >> 20, strerror(errno));
	/* Like the tender: the boot struct and its strings in the first page, an "image" that
	 * ends there, and the main stack (mem/4, at most 8 MiB) at the top. */
	struct nabla_boot *b = (struct nabla_boot *)region;
	b->abi_version = NABLA_ABI_VERSION;
	b->flags = (fs_host_call ? NABLA_BOOT_FS_HOST_CALL : 0) | (flat_heap ? NABLA_BOOT_FLAT_HEAP : 0);
	b->mem_base = (uint64_t)(uintptr_t)region;
	b->mem_size = mem;
	b->va_size = va;
	b->image_end = (uint64_t)(uintptr_t)region + NABLA_BOOT_SIZE;
	b->stack_top = (uint64_t)(uintptr_t)region + va;
	b->stack_size = mem / 4 < (8u << 20) ? mem / 4 : (8u << 20);
	b->net_fd = -1;
	b->disk_fd = -1;
	memset(b->seed, o->seed ? o->seed : 0x5a, sizeof b->seed);
	char *cwd = region + sizeof *b;
	snprintf(cwd, 256, "%s", o->cwd ? o->cwd : "/");
	b->cwd = (uint64_t)(uintptr_t)cwd;
	if (o->exe) {
		char *exe_path = cwd + strlen(cwd) + 1;
		snprintf(exe_path, 256, "%s", o->exe_path);
		b->exe_path = (uint64_t)(uintptr_t)exe_path;
		b->exe_addr = (uint64_t)(uintptr_t)o->exe;
		b->exe_size = o->exe_size;
		b->exe_mtime = 315532800;
	}
	b->etc_files = (uint64_t)(uintptr_t)o->etc;
	b->etc_count = o->etc_count;
	if (o->hostname) {
		char *name = region + NABLA_BOOT_SIZE - 128;
		snprintf(name, 128, "%s", o->hostname);
		b->hostname = (uint64_t)(uintptr_t)name;
	}
	const char *disk = 0;
	uint8_t *disk_touched = 0;
	if (!o->no_disk) {
		/* As the tender maps it: read-only, shared, no fd; but each page PROT_NONE until the
		 * libOS touches it (disk_fault), and 1 MiB of PROT_NONE after it, so a read past
		 * the disk kills the case instead of reading whatever lies there. */
		const char *tar = fixture(o->tar ? o->tar : "pax.tar");
		int fd = open(tar, O_RDONLY);
		if (fd < 0) FAIL("open %s: %s", tar, strerror(errno));
		struct stat st;
		fstat(fd, &st);
		size_t pages = ((size_t)st.st_size + 4095) / 4096;
		if (pages) {
			char *area = mmap(0, (pages << 12) + (1 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
			if (area == MAP_FAILED || mmap(area, (size_t)st.st_size, PROT_NONE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
				FAIL("mmap of %s: %s", tar, strerror(errno));
			disk = area;
			disk_touched = calloc(1, (pages + 7) / 8);
		}
		close(fd);
		b->disk_addr = (uint64_t)(uintptr_t)disk;
		b->disk_size = (uint64_t)st.st_size;
	}
	b->net_wait_fd = -1;
	b->dns_fd = -1;
	int wire = -1, dns_wire = -1;
	if (o->net) {
		int pair[2];
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) < 0) FAIL("socketpair: %s", strerror(errno));
		fcntl(pair[0], F_SETFL, O_NONBLOCK); /* the tender's tap is O_NONBLOCK too */
		b->net_fd = pair[0];
		b->net_wait_fd = pair[0]; /* the fake hc_net_wait polls it */
		wire = pair[1];
		b->net_ip = htonl(0x0a000002);
		b->net_mask = htonl(0xffffff00);
		b->net_gw = htonl(0x0a000001);
		memcpy(b->net_mac, "\x02\x6e\x0a\x00\x00\x02", 6);
		b->net_mtu = 1500;
		if (o->dns) {
			if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) < 0) FAIL("socketpair: %s", strerror(errno));
			fcntl(pair[0], F_SETFL, O_NONBLOCK); /* as the tender's */
			b->dns_fd = pair[0];
			b->dns_ip = htonl(0x7f00000b); /* 127.0.0.11 */
			dns_wire = pair[1];
		}
	}
	/* Like the tender: the heap PROT_NONE until the libOS makes it usable (hc_mem_usable). */
	uintptr_t heap_lo = (b->image_end + 4095) & ~4095UL, heap_hi = b->stack_top - b->stack_size;
	if (mprotect((void *)heap_lo, heap_hi - heap_lo, PROT_NONE) < 0) FAIL("mprotect of the guest heap: %s", strerror(errno));
	/* A flat heap: the window read-write from the start (the fake hc_mem_* then fail the case). */
	size_t window = nabla_heap_budget(b) < heap_hi - heap_lo ? nabla_heap_budget(b) : heap_hi - heap_lo;
	if (flat_heap && mprotect((void *)heap_lo, window, PROT_READ | PROT_WRITE) < 0)
		FAIL("mprotect of the guest's flat heap: %s", strerror(errno));
	guest = (struct guest){
		.boot = b,
		.region = region,
		.size = va,
		.disk = disk,
		.disk_size = b->disk_size,
		.disk_touched = disk_touched,
		.wire = wire,
		.dns_wire = dns_wire,
		.heap_lo = (uintptr_t)b->image_end,
		.heap_hi = (uintptr_t)(b->stack_top - b->stack_size),
	};
	struct sigaction sa = { .sa_sigaction = heap_fault, .sa_flags = SA_SIGINFO | SA_NODEFER };
	sigaction(SIGSEGV, &sa, 0);
	libos_init(b, initial_stack(b, o->argv));
	/* The libOS starts the app with no thread pointer; give it ours, as libc's start would.
	 * Until then: no libc (its TLS is gone). */
	guest.fs_after_init = cpu_fs_base();
	long r = libos_syscall(SYS_arch_prctl, ARCH_SET_FS, (long)host_fs, 0, 0, 0, 0);
	if (r != 0 || cpu_fs_base() != host_fs) {
		set_cpu_fs_base(host_fs);
		FAIL("arch_prctl(ARCH_SET_FS, our TLS) after libos_init = %ld", r);
	}
}

int run_to_exit(void (*fn)(void *), void *arg)
{
	jmp_buf jb;
	jmp_buf *volatile prev = fake.exit_jmp;
	fake.exit_jmp = &jb;
	if (setjmp(jb)) {
		fake.exit_jmp = prev;
		return fake.exit_code;
	}
	fn(arg);
	fake.exit_jmp = prev;
	return -1;
}

void run_child(void (*fn)(void *), void *arg, struct child *c)
{
	memset(c, 0, sizeof *c);
	int p[2];
	if (pipe(p) < 0) FAIL("pipe: %s", strerror(errno));
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[1]);
		report_fd = 2;
		fake.passthrough = 1;
		fake.exit_jmp = 0;
		alarm(CASE_TIMEOUT);
		fn(arg);
		_exit(0);
	}
	close(p[1]);
	size_t len = 0;
	ssize_t r;
	while ((r = read(p[0], c->out + len, sizeof c->out - 1 - len)) > 0) len += (size_t)r;
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
	c->exited = WIFEXITED(status);
	c->code = c->exited ? WEXITSTATUS(status) : -1;
	c->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/* ---- threads ---- */

long spawn(int (*fn)(void *), void *arg, int flags, int *ctid)
{
	size_t size = 256 << 10;
	char *stack = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) FAIL("mmap of a thread stack: %s", strerror(errno));
	uint64_t before = cpu_fs_base();
	long r = libos_clone(fn, stack + size, THREAD_FLAGS | CLONE_SETTLS | flags, arg, 0, (void *)host_fs, ctid);
	if (cpu_fs_base() != before) FAIL("libos_clone changed the FS base");
	return r;
}

/* ---- small wrappers ---- */

long open_(const char *path, int flags)
{
	return sys(SYS_openat, AT_FDCWD, path, flags, 0644);
}

long read_file(const char *path, char *buf, size_t cap)
{
	long fd = open_(path, O_RDONLY);
	if (fd < 0) return fd;
	size_t len = 0;
	for (;;) {
		long r = sys(SYS_read, fd, buf + len, cap - 1 - len);
		if (r < 0) {
			sys(SYS_close, fd);
			return r;
		}
		if (r == 0) break;
		len += (size_t)r;
	}
	buf[len] = 0;
	sys(SYS_close, fd);
	return (long)len;
}

long write_file(const char *path, const char *data)
{
	long fd = open_(path, O_WRONLY | O_CREAT | O_TRUNC);
	if (fd < 0) return fd;
	long r = sys(SYS_write, fd, data, strlen(data));
	sys(SYS_close, fd);
	return r;
}

void sleep_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000 };
	CHECK_OK(sys(SYS_nanosleep, &ts, 0));
}

void sleep_ms_unchecked(long ms)
{
	struct timespec ts = { 0, ms * 1000000 };
	sys(SYS_nanosleep, &ts, 0);
}

short revents(int fd, short events)
{
	struct pollfd p = { fd, events, 0 };
	CHECK_OK(sys(SYS_poll, &p, 1, 0));
	return p.revents;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

const char *ls(const char *path)
{
	static char out[8192];
	char buf[4096], *names[256];
	int n = 0;
	long fd = sys(SYS_openat, AT_FDCWD, path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		snprintf(out, sizeof out, "error -%s", errname(fd));
		return out;
	}
	for (;;) {
		long got = sys(SYS_getdents64, fd, buf, sizeof buf);
		if (got < 0) FAIL("getdents64(%s) = -%s", path, errname(got));
		if (got == 0) break;
		for (long off = 0; off < got;) {
			struct {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (void *)(buf + off);
			if (strcmp(d->name, ".") && strcmp(d->name, "..") && n < 256) {
				const char *mark = "";
				if (d->type == DT_DIR) mark = "/";
				else if (d->type == DT_LNK) mark = "@";
				else if (d->type == DT_CHR) mark = "%";
				names[n] = malloc(strlen(d->name) + 2);
				sprintf(names[n++], "%s%s", d->name, mark);
			}
			off += d->reclen;
		}
	}
	sys(SYS_close, fd);
	qsort(names, (size_t)n, sizeof *names, by_name);
	out[0] = 0;
	for (int i = 0; i < n; i++) {
		if (i) strncat(out, " ", sizeof out - strlen(out) - 1);
		strncat(out, names[i], sizeof out - strlen(out) - 1);
		free(names[i]);
	}
	return out;
}

char *host_file(const char *path, size_t *len)
{
	char full[4096];
	snprintf(full, sizeof full, "%s/tree/%s", fixtures, path);
	int fd = open(full, O_RDONLY);
	if (fd < 0) FAIL("fixture %s: %s", full, strerror(errno));
	struct stat st;
	fstat(fd, &st);
	char *buf = malloc((size_t)st.st_size + 1);
	if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) FAIL("fixture %s: short read", full);
	buf[st.st_size] = 0;
	close(fd);
	if (len) *len = (size_t)st.st_size;
	return buf;
}

/* ---- the runner ---- */

extern const struct test_case *const __start_libos_cases[], *const __stop_libos_cases[];
static const struct test_case *cases[1024];
static size_t ncases;

/* Cases run in link order (file by file, as run.sh lists them), then line order. */
static int file_rank(const char *file)
{
	for (size_t i = 0; i < ncases; i++)
		if (strcmp(cases[i]->file, file) == 0) return (int)i;
	return 0;
}

static int by_place(const void *a, const void *b)
{
	const struct test_case *x = *(const struct test_case *const *)a, *y = *(const struct test_case *const *)b;
	int fx = file_rank(x->file), fy = file_rank(y->file);
	return fx != fy ? fx - fy : x->line - y->line;
}

static void case_name(const struct test_case *c, char *out, size_t size)
{
	snprintf(out, size, "%s", c->name);
	for (char *p = out; *p; p++)
		if (*p == '_') *p = '-';
}

static jmp_buf unexpected_exit;

/* In the case's child: boot is the case's own; an hc_exit it did not ask for fails it. */
static _Noreturn void case_child(const struct test_case *c)
{
	alarm(CASE_TIMEOUT);
	fake.exit_jmp = &unexpected_exit;
	if (setjmp(unexpected_exit)) {
		const char *err = fake.out[2];
		size_t len = fake.out_len[2];
		if (len > 300) err += len - 300;
		FAIL("the libOS exited with code %d; its stderr: \"%s\"", fake.exit_code, err);
	}
	c->fn();
	if (cpu_fs_base() != host_fs) FAIL("the case ended with the FS base at %#lx, not the harness's", (unsigned long)cpu_fs_base());
	_exit(0);
}

enum outcome {
	FAILED,
	PASSED,
	SKIPPED_HERE
};

/* Runs one case in a child; prints its line. */
static enum outcome run_case(const struct test_case *c)
{
	char name[256], why[1200] = ""; /* fail_at sends at most 1023 */
	case_name(c, name, sizeof name);
	int p[2];
	if (pipe(p) < 0) {
		perror("pipe");
		exit(2);
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		close(p[0]);
		report_fd = p[1];
		case_child(c);
	}
	close(p[1]);
	size_t len = 0;
	ssize_t r;
	while ((r = read(p[0], why + len, sizeof why - 1 - len)) > 0) len += (size_t)r;
	why[len] = 0;
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
	if (WIFEXITED(status) && WEXITSTATUS(status) == SKIPPED) {
		printf("skip %s: %s\n", name, why);
		fflush(stdout);
		return SKIPPED_HERE;
	}
	int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && len == 0;
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		char more[1024];
		snprintf(more, sizeof more, "%s%.1000s", len ? "; " : "", why);
		if (sig == SIGALRM) snprintf(why, sizeof why, "no result after %d s (the libOS hangs)%s", CASE_TIMEOUT, more);
		else snprintf(why, sizeof why, "crashed with signal %d (%s)%s", sig, strsignal(sig), more);
	} else if (!ok && len == 0) {
		snprintf(why, sizeof why, "exited with %d and no reason", WEXITSTATUS(status));
	}
	if (ok) printf("ok %s\n", name);
	else printf("FAIL %s: %s\n", name, why);
	fflush(stdout);
	return ok ? PASSED : FAILED;
}

int main(int argc, char **argv)
{
	int has_fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE_BIT) != 0;
	fs_host_call = !has_fsgsbase;
	for (; argc > 1 && strncmp(argv[1], "--", 2) == 0; argv++, argc--) {
		const char *mode = strchr(argv[1], '=') ? strchr(argv[1], '=') + 1 : "";
		if (strncmp(argv[1], "--fs-base=", 10) == 0 && strcmp(mode, "host-call") == 0) fs_host_call = 1;
		else if (strncmp(argv[1], "--fs-base=", 10) == 0 && strcmp(mode, "cpu") == 0) fs_host_call = 0;
		else if (strncmp(argv[1], "--fs-base=", 10) == 0 && strcmp(mode, "auto") == 0) continue;
		else if (strncmp(argv[1], "--heap=", 7) == 0 && strcmp(mode, "flat") == 0) flat_heap = 1;
		else if (strncmp(argv[1], "--heap=", 7) == 0 && strcmp(mode, "paged") == 0) flat_heap = 0;
		else {
			fprintf(stderr, "%s: not --fs-base=auto|cpu|host-call or --heap=paged|flat\n", argv[1]);
			return 2;
		}
	}
	if (argc < 2) {
		fprintf(stderr, "usage: libos-test [--fs-base=auto|cpu|host-call] [--heap=paged|flat] FIXTURES [CASE...]\n");
		return 2;
	}
	/* The tender gives such a host host-call mode; here the cpu path runs too, with the
	 * instruction emulated, so every host tests both. */
	int emulate = !fs_host_call && !has_fsgsbase;
	if (emulate) emulate_wrfsbase();
	printf("# heap: %s\n", flat_heap ? "flat" : "paged");
	printf("# fs-base: %s\n", fs_host_call ? "host-call" : emulate ? "cpu (wrfsbase emulated: this host has no FSGSBASE)" :
									 "cpu");
	fixtures = argv[1];
	host_fs = cpu_fs_base();
	for (const struct test_case *const *c = __start_libos_cases; c < __stop_libos_cases; c++) {
		if (ncases == sizeof cases / sizeof cases[0]) {
			fprintf(stderr, "too many cases\n");
			return 2;
		}
		cases[ncases++] = *c;
	}
	/* cases[] keeps the link order file_rank needs; the run order is a sorted copy. */
	const struct test_case **sorted = malloc(ncases * sizeof *sorted);
	memcpy(sorted, cases, ncases * sizeof *cases);
	qsort(sorted, ncases, sizeof *sorted, by_place);
	for (size_t i = 0; i < ncases; i++)
		for (size_t j = i + 1; j < ncases; j++)
			if (strcmp(sorted[i]->name, sorted[j]->name) == 0) {
				fprintf(stderr, "two cases named %s\n", sorted[i]->name);
				return 2;
			}
	int passed = 0, failed = 0, skipped = 0;
	for (size_t i = 0; i < ncases; i++) {
		char name[256];
		case_name(sorted[i], name, sizeof name);
		int wanted = argc == 2;
		for (int a = 2; a < argc && !wanted; a++) wanted = strcmp(argv[a], name) == 0;
		if (!wanted) continue;
		enum outcome o = run_case(sorted[i]);
		passed += o == PASSED, failed += o == FAILED, skipped += o == SKIPPED_HERE;
	}
	printf("%d passed, %d failed", passed, failed);
	printf(skipped ? ", %d skipped (not for this heap mode)\n" : "\n", skipped);
	return failed ? 1 : 0;
}
