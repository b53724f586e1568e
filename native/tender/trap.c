/*
 * trap.c — the second way into the libOS: a syscall made outside its hypercall code is
 * not run by the host but trapped by the filter (SECCOMP_RET_TRAP), and the kernel
 * delivers SIGSYS to the libOS's handler, which serves the call and returns to the app
 * with rt_sigreturn. This file wires the signal up before the filter forbids it.
 *
 * The same handler gets SIGVTALRM from a CPU-time interval timer: the libOS's green
 * threads are switched only inside the libOS, so without a tick a thread that computes
 * would never let the others run. The kernel delivers the tick without any system call.
 *
 * It gets the faults the guest's code raises (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP): the
 * libOS gives one in the app's code to the app's handler (Go's nil-pointer panic, a C
 * handler on its sigaltstack) and ends the process by it otherwise.
 *
 * And it gets the signals a container is sent (docker stop's SIGTERM, Ctrl-C's SIGINT,
 * docker kill -s): the libOS gives them the app's action. Without a handler the tender,
 * as PID 1, would ignore SIGTERM and docker stop would wait 10 s to kill it.
 */
#define _GNU_SOURCE
#include <err.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "tender.h"

/* The kernel's struct sigaction: libc's sigaction() would put its own restorer there,
 * outside the hypercall code, where rt_sigreturn is trapped instead of allowed. */
struct k_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};
#define SA_RESTORER_ 0x04000000UL
#define TICK_US 10000 /* 10 ms of the guest's CPU time */

static void handle(int sig, const struct nabla_note *libos, unsigned long flags)
{
	struct k_sigaction sa = { libos->trap_handler, SA_SIGINFO | SA_ONSTACK | SA_RESTORER_ | flags, libos->trap_restorer, 0 };
	if (syscall(SYS_rt_sigaction, sig, &sa, NULL, sizeof sa.mask) < 0)
		err(TENDER_EXIT, "rt_sigaction(%d) failed", sig);
}

void trap_install(const struct nabla_note *libos)
{
	stack_t ss = { .ss_sp = (void *)libos->trap_stack, .ss_size = libos->trap_stack_size };
	if (sigaltstack(&ss, NULL) < 0)
		err(TENDER_EXIT, "sigaltstack(trap stack) failed");
	/* SA_NODEFER: SIGSYS is never blocked, even while the libOS serves a trapped call and
	 * switches threads (a trap while SIGSYS is blocked would kill the process). */
	handle(SIGSYS, libos, SA_NODEFER);
	/* SA_RESTART: a tick that lands in a host call the libOS made restarts it. */
	handle(SIGVTALRM, libos, SA_NODEFER | SA_RESTART);
	sigset_t routed;
	sigemptyset(&routed);
	sigaddset(&routed, SIGSYS);
	sigaddset(&routed, SIGVTALRM);
	/* SA_NODEFER: a fault while the libOS writes the app's signal frame (a bad sigaltstack)
	 * comes back to it, which then ends the process with SIGSEGV as Linux does. A fault it
	 * cannot take (the trap stack itself gone) the kernel turns into a plain SIGSEGV. */
	static const int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
	for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
		handle(faults[i], libos, SA_NODEFER);
		sigaddset(&routed, faults[i]);
	}
	/* SA_RESTART: the libOS's host calls go on; its idle wait (ppoll, epoll_pwait) is never
	 * restarted, so a signal wakes it. */
	static const int sent[] = { SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGALRM, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH };
	for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++) {
		handle(sent[i], libos, SA_RESTART);
		sigaddset(&routed, sent[i]);
	}
	if (sigprocmask(SIG_UNBLOCK, &routed, NULL) < 0)
		err(TENDER_EXIT, "sigprocmask(unblock the routed signals) failed");
	struct itimerval tick = { { 0, TICK_US }, { 0, TICK_US } };
	if (setitimer(ITIMER_VIRTUAL, &tick, NULL) < 0)
		err(TENDER_EXIT, "setitimer(ITIMER_VIRTUAL) failed");
}
