/*
 * The process as the app sees it: one process (pid 1) of root, named by uname as a
 * Linux machine, exiting with the app's code (threads: sched.c). Signals are bookkeeping:
 * handlers, masks and signal stacks are kept, but no signal is ever delivered to a
 * handler; a signal the process sends itself takes its default action (end the process,
 * or nothing) or, when the app handles it, is dropped. The thread pointer is set with
 * wrfsbase, no host call.
 */
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "libos.h"

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

/* What rt_sigaction passes: the kernel's struct sigaction (musl's struct k_sigaction), 32
 * bytes, not libc's struct sigaction (152 bytes, with a 128-byte sigset_t). */
struct k_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static struct k_sigaction actions[65];

static long arch_prctl(int code, unsigned long addr)
{
	switch (code) {
	case ARCH_SET_FS:
		__asm__ volatile("wrfsbase %0" ::"r"(addr) : "memory");
		return 0;
	case ARCH_GET_FS: {
		unsigned long fs;
		__asm__ volatile("rdfsbase %0" : "=r"(fs));
		*(unsigned long *)addr = fs;
		return 0;
	}
	default:
		return -EINVAL;
	}
}

static long do_uname(struct utsname *u)
{
	memset(u, 0, sizeof *u);
	strcpy(u->sysname, "Linux");
	strcpy(u->nodename, "nabla");
	strcpy(u->release, "6.1.0-nabla");
	strcpy(u->version, "#1 SMP nabla libOS");
	strcpy(u->machine, "x86_64");
	strcpy(u->domainname, "(none)");
	return 0;
}

static long rt_sigaction(int sig, const struct k_sigaction *act, struct k_sigaction *old, size_t size)
{
	if (sig < 1 || sig > 64 || size != 8) return -EINVAL;
	if (act && (sig == SIGKILL || sig == SIGSTOP)) return -EINVAL;
	if (old) *old = actions[sig];
	if (act) actions[sig] = *act;
	return 0;
}

static long rt_sigprocmask(int how, const uint64_t *set, uint64_t *old, size_t size)
{
	uint64_t *mask = &sched_signals()->mask;
	if (size != 8) return -EINVAL;
	if (set && how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK) return -EINVAL;
	if (old) *old = *mask;
	if (!set) return 0;
	uint64_t never = 1ULL << (SIGKILL - 1) | 1ULL << (SIGSTOP - 1); /* cannot be blocked */
	switch (how) {
	case SIG_BLOCK: *mask |= *set & ~never; break;
	case SIG_UNBLOCK: *mask &= ~*set; break;
	default: *mask = *set & ~never;
	}
	return 0;
}

/* The kernel's stack_t. */
struct k_stack {
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};

static long do_sigaltstack(const struct k_stack *ss, struct k_stack *old)
{
	struct thread_signals *t = sched_signals();
	if (old) *old = (struct k_stack){ t->altstack_sp, t->altstack_sp ? t->altstack_flags : SS_DISABLE, 0, t->altstack_size };
	if (!ss) return 0;
	if (ss->flags & SS_DISABLE) {
		t->altstack_sp = t->altstack_size = 0;
		return 0;
	}
	if (ss->flags & ~SS_AUTODISARM) return -EINVAL;
	if (ss->size < MINSIGSTKSZ) return -ENOMEM;
	t->altstack_sp = ss->sp;
	t->altstack_size = ss->size;
	t->altstack_flags = ss->flags;
	return 0;
}

/* Signals the process sends itself (the only process there is). */
static long send_signal(long pid, long tid, int sig)
{
	if (pid != 1 && pid != 0 && pid != -1) return -ESRCH;
	if (tid && !sched_thread_exists((int)tid)) return -ESRCH;
	if (sig < 0 || sig > 64) return -EINVAL;
	if (sig == 0) return 0;
	void *handler = actions[sig].handler;
	if (handler == SIG_IGN) return 0;
	if (handler != SIG_DFL) return 0; /* the app's handler: signals are never delivered */
	switch (sig) {
	case SIGCHLD:
	case SIGCONT:
	case SIGURG:
	case SIGWINCH: return 0; /* ignored by default */
	default: hc_exit(128 + sig); /* killed by it: docker shows the same status */
	}
}

static long get_limit(int resource, const struct rlimit *new, struct rlimit *old)
{
	(void)new;
	if (!old) return 0;
	switch (resource) {
	case RLIMIT_STACK: old->rlim_cur = old->rlim_max = libos_boot->stack_size; break;
	case RLIMIT_NOFILE: old->rlim_cur = old->rlim_max = 1024; break;
	case RLIMIT_AS:
	case RLIMIT_DATA: old->rlim_cur = old->rlim_max = libos_boot->mem_size; break;
	default: old->rlim_cur = old->rlim_max = RLIM_INFINITY;
	}
	return 0;
}

static long getaffinity(size_t size, unsigned long *mask)
{
	if (size < sizeof *mask) return -EINVAL;
	memset(mask, 0, size);
	*mask = 1; /* one vCPU */
	return (long)sizeof *mask;
}

long proc_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6, int *handled)
{
	(void)a5;
	(void)a6;
	*handled = 1;
	switch (n) {
	case SYS_exit_group: hc_exit((int)a1);
	case SYS_getpid: return 1;
	case SYS_getppid: return 0;
	case SYS_getuid:
	case SYS_geteuid:
	case SYS_getgid:
	case SYS_getegid: return 0;
	case SYS_getpgid:
	case SYS_getsid: return 1;
	case SYS_setsid: return -EPERM;
	case SYS_set_robust_list: return 0;
	case SYS_arch_prctl: return arch_prctl((int)a1, (unsigned long)a2);
	case SYS_uname: return do_uname((struct utsname *)a1);
	case SYS_rt_sigaction: return rt_sigaction((int)a1, (const struct k_sigaction *)a2, (struct k_sigaction *)a3, (size_t)a4);
	case SYS_rt_sigprocmask: return rt_sigprocmask((int)a1, (const uint64_t *)a2, (uint64_t *)a3, (size_t)a4);
	case SYS_sigaltstack: return do_sigaltstack((const struct k_stack *)a1, (struct k_stack *)a2);
	case SYS_prlimit64: return get_limit((int)a2, (const struct rlimit *)a3, (struct rlimit *)a4);
	case SYS_getrlimit: return get_limit((int)a1, 0, (struct rlimit *)a2);
	case SYS_setrlimit: return 0;
	case SYS_sched_getaffinity: return getaffinity((size_t)a2, (unsigned long *)a3);
	case SYS_getrandom: return sys_getrandom((void *)a1, (size_t)a2, (unsigned)a3);
	case SYS_umask: return 022;
	/* No processes to make, signal or trace: this is the one process there is. */
	case SYS_fork:
	case SYS_vfork:
	case SYS_execve:
	case SYS_execveat: return -ENOSYS;
	case SYS_kill: return send_signal(a1, 0, (int)a2);
	case SYS_tkill: return send_signal(1, a1, (int)a2);
	case SYS_tgkill: return send_signal(a1, a2, (int)a3);
	case SYS_wait4: return -ECHILD;
	default: *handled = 0; return -ENOSYS;
	}
}
