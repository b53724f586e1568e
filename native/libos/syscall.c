/* libos_init and the dispatcher every system call of the app goes through. */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

#include "libos.h"

int libos_ready;

_Static_assert(offsetof(struct nabla_boot, app_entry) == 112, "start.S reads app_entry at this offset");

void libos_init(const struct nabla_boot *boot, const uint64_t *initial_stack)
{
	libos_boot = boot;
	if (boot->abi_version != NABLA_ABI_VERSION) libos_panic("tender and unikernel disagree on the ABI version");
	random_init(boot->seed);
	sched_init();
	mem_init();
	fs_init();
	self_init();
	procfs_init(initial_stack);
	net_init();
	/* The app starts with no thread pointer, as after execve (not the tender's). */
	if (tp_set(0) < 0) libos_panic("the host refused to clear the FS base");
	libos_ready = 1;
}

static long dispatch(long n, long a1, long a2, long a3, long a4, long a5, long a6);

int syscall_restartable(long n)
{
	switch (n) {
	case SYS_poll:
	case SYS_ppoll:
	case SYS_select:
	case SYS_pselect6:
	case SYS_epoll_wait:
	case SYS_epoll_pwait:
	case SYS_nanosleep:
	case SYS_clock_nanosleep:
	case SYS_rt_sigsuspend:
	case SYS_pause: return 0;
	default: return 1;
	}
}

/* Every system call of the app, relinked or trapped. While it runs the thread is "in the
 * libOS", which a preemption tick (trap.c) must not interrupt. A call the app made itself
 * (not one the libOS makes inside another) is where pending signals run their handlers,
 * as Linux runs them on the way back to user mode. */
long libos_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	int *in_libos = sched_in_libos(), outer = *in_libos;
	for (;;) {
		*in_libos = 1;
		if (n != SYS_mprotect) mem_settle(); /* a guard page faults before the call does anything */
		long ret = dispatch(n, a1, a2, a3, a4, a5, a6);
		*in_libos = outer; /* the same thread: a call returns only to the thread that made it */
		if (outer || !signal_pending()) return ret;
		if (!signal_take(ret == -EINTR && syscall_restartable(n))) return ret;
	}
}

void call_on_stack_and_return(void *sp, void (*fn)(void *), void *arg); /* switch.S */

/* The fast call's arguments, on the thread's libOS stack. */
struct fastcall {
	long n, a[6], ret;
};

static void fastcall_serve(void *arg)
{
	struct fastcall *c = arg;
	c->ret = libos_syscall(c->n, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]);
}

/* Calls a program that was not relinked makes often (a server's reads, writes and waits),
 * taken as a function call from its libc (the shim toolchains/node/fastcall.c puts in
 * front of glibc's) or its runtime (Go's raw system call, toolchains/go) instead of a
 * trap: no SIGSYS, signal frame and rt_sigreturn. Taken on the thread's libOS stack like a
 * trapped call, and it may block and switch threads the same way. What the trap path does
 * on the way back to the app, this cannot: run a signal's handler. So a call is not taken
 * (NABLA_FASTCALL_SLOW) while a signal waits for its handler, nor when a signal cut it
 * short: the caller then makes it as a system call, and the trap path delivers the signal
 * (and restarts or fails the call, as Linux would). A signal that arrives while a call is
 * taken waits for the next trap, preemption tick or fast call. It grants nothing: the app
 * could call any libOS code anyway; the boundary is the tender's filter. */
static long fastcall(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	switch (n) {
	case SYS_read:
	case SYS_write:
	case SYS_readv:
	case SYS_writev:
	case SYS_recvfrom:
	case SYS_sendto:
	case SYS_recvmsg:
	case SYS_sendmsg:
	case SYS_accept4:
	case SYS_epoll_wait: break;
	case SYS_epoll_pwait:
		if (a5) return NABLA_FASTCALL_SLOW; /* a signal mask for the wait: the trap path's */
		break;
	default: return NABLA_FASTCALL_SLOW;
	}
	int *in_libos = sched_in_libos();
	/* Every thread that can get here has its libOS stack (the trapped call that found this
	 * function, or the trapped clone that made the thread); making one here would run the
	 * allocator on the caller's stack, which may be a goroutine's few KiB. */
	if (!libos_ready || *in_libos || !sched_has_kstack() || signal_ready()) return NABLA_FASTCALL_SLOW;
	/* In the libOS from here, as a trapped call is (trap.c), before the stack changes: a
	 * tick must not take the libOS stack for the app's, and libos_syscall leaves the signals
	 * to the way back, which here is the trap path's. */
	*in_libos = 1;
	struct fastcall c = { n, { a1, a2, a3, a4, a5, a6 }, 0 };
	call_on_stack_and_return(sched_kstack_top(), fastcall_serve, &c);
	*in_libos = 0;
	if (c.ret == -EINTR && signal_ready()) return NABLA_FASTCALL_SLOW;
	return c.ret;
}

static long dispatch(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	int handled;
	switch (n) {
	case NABLA_SYS_FASTCALL: return signal_relinked() ? -ENOSYS : (long)fastcall;
	case SYS_brk: return sys_brk((uintptr_t)a1);
	case SYS_mmap:
		if (!(a4 & MAP_ANONYMOUS)) return sys_mmap_file((uintptr_t)a1, (size_t)a2, (int)a3, (int)a4, (int)a5, (off_t)a6);
		return sys_mmap((uintptr_t)a1, (size_t)a2, (int)a3, (int)a4, (int)a5, (off_t)a6);
	case SYS_munmap: return sys_munmap((uintptr_t)a1, (size_t)a2);
	case SYS_mremap: return sys_mremap((uintptr_t)a1, (size_t)a2, (size_t)a3, (int)a4, (uintptr_t)a5);
	case SYS_mprotect: return sys_mprotect((uintptr_t)a1, (size_t)a2, (int)a3);
	case SYS_madvise: return sys_madvise((uintptr_t)a1, (size_t)a2, (int)a3);
	case SYS_clock_gettime: return sys_clock_gettime((int)a1, (struct timespec *)a2);
	case SYS_gettimeofday: return sys_gettimeofday((void *)a1, (void *)a2);
	case SYS_time: return sys_time((long *)a1);
	case SYS_clock_getres:
		if (a2) *(struct timespec *)a2 = (struct timespec){ .tv_sec = 0, .tv_nsec = 1 };
		return 0;
	case SYS_pipe: return sys_pipe2((int *)a1, 0);
	case SYS_pipe2: return sys_pipe2((int *)a1, (int)a2);
	case SYS_splice: return sys_splice(a1, (int64_t *)a2, a3, (int64_t *)a4, (size_t)a5, (unsigned)a6);
	case SYS_eventfd: return sys_eventfd2((unsigned)a1, 0);
	case SYS_eventfd2: return sys_eventfd2((unsigned)a1, (int)a2);
	}
	long ret = sched_syscall(n, a1, a2, a3, a4, a5, a6, &handled);
	if (handled) return ret;
	ret = proc_syscall(n, a1, a2, a3, a4, a5, a6, &handled);
	if (handled) return ret;
	ret = signal_syscall(n, a1, a2, a3, a4, &handled);
	if (handled) return ret;
	ret = fs_syscall(n, a1, a2, a3, a4, a5, a6, &handled);
	if (handled) return ret;
	ret = epoll_syscall(n, a1, a2, a3, a4, a5, a6, &handled);
	if (handled) return ret;
	ret = rtnl_syscall(n, a1, a2, a3, a4, a5, a6, &handled);
	if (handled) return ret;
	ret = unix_syscall(n, a1, a2, a3, a4, a5, a6, &handled);
	if (handled) return ret;
	ret = net_syscall(n, a1, a2, a3, a4, a5, a6, &handled);
	if (handled) return ret;
	return -ENOSYS;
}
