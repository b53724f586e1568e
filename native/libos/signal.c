/*
 * Signals. Handlers, masks and signal stacks are kept per process and per thread as Linux
 * does. Signals come from the app itself (kill, tgkill) or from the host: the tender
 * routes the ones a container gets (docker stop, docker kill -s, Ctrl-C on docker run -it)
 * to the libOS's trap handler, which calls signal_arrived().
 *
 * A signal with its default action ends the process at once (exit status 128 + signal,
 * as docker reports a process killed by it), or is dropped if that action is to ignore.
 * A handler runs when a thread that does not block the signal finishes a system call (a
 * blocked call is cut short with EINTR, or restarted for SA_RESTART) or is preempted by
 * the tick. A relinked app's handler is a plain function of the app, called there
 * (signal_take). A program that was not relinked (Go) gets what the kernel would give it:
 * a signal frame on its signal stack and a jump to the handler, whose rt_sigreturn comes
 * back through the trap path (trap.c).
 *
 * A fault of the app's own code (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP) is synchronous:
 * the trap handler gives it a kernel-style frame at once if the app has a handler for it
 * and the thread does not block it (signal_fault), relinked app or not; else the process
 * dies by it, as Linux forces such a signal.
 */
#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include "libos.h"

#define BIT(sig) (1ULL << ((sig)-1))
#define UNBLOCKABLE (BIT(SIGKILL) | BIT(SIGSTOP))

/* What rt_sigaction passes: the kernel's struct sigaction (musl's struct k_sigaction), 32
 * bytes, not libc's struct sigaction (152 bytes, with a 128-byte sigset_t). */
struct k_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static struct k_sigaction actions[65];
/* Signals from the host not yet handled; set by the trap handler, so changed atomically. */
static uint64_t pending;
/* Those of them the app sent itself with kill(): their siginfo names pid 1, not the host. */
static uint64_t pending_from_app;

int signal_relinked(void)
{
	return libos_boot->app_entry == 0; /* the libOS came in the app's own binary */
}

static int ignored_by_default(int sig)
{
	return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH;
}

/* The default action: end the process (docker shows the same status as for a kill), or
 * nothing. */
static void default_action(int sig)
{
	if (!ignored_by_default(sig)) hc_exit(128 + sig);
}

/* Will the signal run the app's handler (else its default action or nothing)? A handler
 * the libOS cannot jump to (a program without SA_RESTORER) counts as none. */
static int handled(int sig)
{
	const struct k_sigaction *a = &actions[sig];
	return a->handler != SIG_DFL && a->handler != SIG_IGN && (signal_relinked() || a->flags & SA_RESTORER);
}

void signal_arrived(int sig)
{
	if (sig < 1 || sig > 64 || actions[sig].handler == SIG_IGN) return;
	if (!handled(sig)) {
		default_action(sig);
		return;
	}
	__atomic_fetch_or(&pending, BIT(sig), __ATOMIC_SEQ_CST);
}

uint64_t signal_process_pending(void)
{
	return __atomic_load_n(&pending, __ATOMIC_SEQ_CST);
}

uint64_t signal_pending(void)
{
	return signal_process_pending() | sched_signals()->pending;
}

uint64_t signal_ready(void)
{
	return signal_pending() & ~sched_signals()->mask;
}

int signal_handlers_installed(void)
{
	for (int sig = 1; sig <= 64; sig++)
		if (handled(sig)) return 1;
	return 0;
}

static void run_handler(const struct signal_delivery *d)
{
	if (d->flags & SA_SIGINFO) {
		siginfo_t info = { .si_signo = d->sig, .si_code = d->code, .si_pid = d->pid };
		ucontext_t uc = { .uc_sigmask = { { d->old_mask } } };
		((void (*)(int, siginfo_t *, void *))d->handler)(d->sig, &info, &uc);
	} else {
		((void (*)(int))d->handler)(d->sig);
	}
}

int signal_next(struct signal_delivery *d)
{
	struct thread_signals *t = sched_signals();
	uint64_t ready;
	while ((ready = signal_ready())) {
		int sig = __builtin_ctzll(ready) + 1, code = SI_USER, pid = 0;
		if (t->pending & BIT(sig)) {
			t->pending &= ~BIT(sig);
			code = SI_TKILL; /* glibc's setxid and cancel handlers take only these */
			pid = 1;
		} else {
			__atomic_fetch_and(&pending, ~BIT(sig), __ATOMIC_SEQ_CST);
			if (__atomic_fetch_and(&pending_from_app, ~BIT(sig), __ATOMIC_SEQ_CST) & BIT(sig)) pid = 1;
		}
		struct k_sigaction a = actions[sig]; /* the app may have changed it since it arrived */
		if (a.handler == SIG_IGN) continue;
		if (!handled(sig)) {
			default_action(sig);
			continue;
		}
		if (a.flags & SA_RESETHAND) actions[sig].handler = SIG_DFL;
		*d = (struct signal_delivery){ sig, a.handler, a.flags, a.restorer, t->mask, code, pid };
		if (t->suspended) { /* rt_sigsuspend's mask holds while the handler runs */
			d->old_mask = t->suspend_saved_mask;
			t->suspended = 0;
		}
		t->mask |= a.mask | (a.flags & SA_NODEFER ? 0 : BIT(sig));
		return 1;
	}
	if (t->suspended) { /* woken for a signal that another handler or action took */
		t->mask = t->suspend_saved_mask;
		t->suspended = 0;
	}
	return 0;
}

int signal_fault(int sig, struct signal_delivery *d)
{
	struct thread_signals *t = sched_signals();
	struct k_sigaction a = actions[sig];
	if (t->mask & BIT(sig) || !handled(sig)) return 0; /* Linux forces it: blocked or not handled kills */
	if (a.flags & SA_RESETHAND) actions[sig].handler = SIG_DFL;
	*d = (struct signal_delivery){ sig, a.handler, a.flags, a.restorer, t->mask, 0, 0 }; /* siginfo: the CPU's (trap.c) */
	t->mask |= a.mask | (a.flags & SA_NODEFER ? 0 : BIT(sig));
	return 1;
}

void signal_set_mask(uint64_t mask)
{
	sched_signals()->mask = mask & ~UNBLOCKABLE;
}

int signal_take(int interrupted)
{
	int restart = interrupted;
	struct signal_delivery d;
	while (signal_next(&d)) {
		run_handler(&d);
		signal_set_mask(d.old_mask);
		if (!(d.flags & SA_RESTART)) restart = 0;
	}
	return restart;
}

static long rt_sigaction(int sig, const struct k_sigaction *act, struct k_sigaction *old, size_t size)
{
	if (sig < 1 || sig > 64 || size != 8) return -EINVAL;
	if (act && (sig == SIGKILL || sig == SIGSTOP)) return -EINVAL;
	if (old) *old = actions[sig];
	if (act) actions[sig] = *act;
	if (act && act->handler == SIG_IGN) {
		__atomic_fetch_and(&pending, ~BIT(sig), __ATOMIC_SEQ_CST);
		__atomic_fetch_and(&pending_from_app, ~BIT(sig), __ATOMIC_SEQ_CST);
	}
	return 0;
}

static long rt_sigprocmask(int how, const uint64_t *set, uint64_t *old, size_t size)
{
	uint64_t *mask = &sched_signals()->mask;
	if (size != 8) return -EINVAL;
	if (set && how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK) return -EINVAL;
	if (old) *old = *mask;
	if (!set) return 0;
	switch (how) {
	case SIG_BLOCK: *mask |= *set & ~UNBLOCKABLE; break;
	case SIG_UNBLOCK: *mask &= ~*set; break;
	default: *mask = *set & ~UNBLOCKABLE;
	}
	return 0;
}

static long rt_sigpending(uint64_t *set, size_t size)
{
	if (size != 8) return -EINVAL;
	*set = signal_pending() & sched_signals()->mask;
	return 0;
}

/* rt_sigsuspend and pause: wait with another mask until a signal runs a handler. The
 * handler runs with that mask; the thread's own comes back after it (signal_next). */
static long suspend(const uint64_t *mask)
{
	struct thread_signals *t = sched_signals();
	if (mask) {
		t->suspend_saved_mask = t->mask;
		t->mask = *mask & ~UNBLOCKABLE;
		t->suspended = 1;
	}
	while (sched_wait(&pending, 0) >= 0) {}
	return -EINTR;
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

/* Signals the process sends itself (the only process there is): handled like the host's. */
static long send_signal(long pid, long tid, int sig)
{
	struct thread_signals *to = tid ? sched_signals_of((int)tid) : 0;
	if (pid != 1 && pid != 0 && pid != -1) return -ESRCH;
	if (tid && !to) return -ESRCH;
	if (sig < 0 || sig > 64) return -EINVAL;
	if (!sig || actions[sig].handler == SIG_IGN) return 0;
	if (to && handled(sig)) {
		to->pending |= BIT(sig); /* tgkill: that thread's handler (Go's preemption) */
		return 0;
	}
	if (handled(sig)) __atomic_fetch_or(&pending_from_app, BIT(sig), __ATOMIC_SEQ_CST);
	signal_arrived(sig);
	return 0;
}

long signal_syscall(long n, long a1, long a2, long a3, long a4, int *handled_)
{
	*handled_ = 1;
	switch (n) {
	case SYS_rt_sigaction: return rt_sigaction((int)a1, (const struct k_sigaction *)a2, (struct k_sigaction *)a3, (size_t)a4);
	case SYS_rt_sigprocmask: return rt_sigprocmask((int)a1, (const uint64_t *)a2, (uint64_t *)a3, (size_t)a4);
	case SYS_rt_sigpending: return rt_sigpending((uint64_t *)a1, (size_t)a2);
	case SYS_rt_sigsuspend: return (size_t)a2 == 8 ? suspend((const uint64_t *)a1) : -EINVAL;
	case SYS_pause: return suspend(0);
	case SYS_sigaltstack: return do_sigaltstack((const struct k_stack *)a1, (struct k_stack *)a2);
	case SYS_kill: return send_signal(a1, 0, (int)a2);
	case SYS_tkill: return send_signal(1, a1, (int)a2);
	case SYS_tgkill: return send_signal(a1, a2, (int)a3);
	default: *handled_ = 0; return -ENOSYS;
	}
}
