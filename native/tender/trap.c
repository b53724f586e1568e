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
 *
 * Every routed signal stays blocked from trap_install until the guest is entered: the
 * handler is the image's code, and before the filter it would run with the whole host in
 * reach (a fault of the tender's own there kills it: the kernel does not hold a blocked
 * fault). trap_enter enters the guest with rt_sigreturn from its hypercall code, after
 * the filter: registers, signal stack and the unblocking mask in one step.
 */
#define _GNU_SOURCE
#include <err.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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

/* The kernel's ucontext with its sigcontext (asm/sigcontext.h): what rt_sigreturn loads. */
struct k_ucontext {
	uint64_t flags, link;
	uint64_t ss_sp;
	int32_t ss_flags, pad;
	uint64_t ss_size;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate, reserved[8];
	uint64_t sigmask;
};
_Static_assert(sizeof(struct k_ucontext) == 304, "struct ucontext on x86-64");
#define USER_CS 0x33 /* Linux's 64-bit user code and data segments */
#define USER_DS 0x2b
#define EFLAGS_START 0x202 /* IF and the always-set bit: DF clear */

static sigset_t enter_mask; /* the mask the guest starts with: the routed signals unblocked */

static void handle(int sig, const struct nabla_note *libos, unsigned long flags)
{
	struct k_sigaction sa = { libos->trap_handler, SA_SIGINFO | SA_ONSTACK | SA_RESTORER_ | flags, libos->trap_restorer, 0 };
	if (syscall(SYS_rt_sigaction, sig, &sa, NULL, sizeof sa.mask) < 0)
		err(TENDER_EXIT, "rt_sigaction(%d) failed", sig);
}

/* SA_NODEFER: a fault while the libOS writes the app's signal frame (a bad sigaltstack)
 * comes back to it, which then ends the process with SIGSEGV as Linux does. A fault it
 * cannot take (the trap stack itself gone) the kernel turns into a plain SIGSEGV. */
static const int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
/* SA_RESTART: the libOS's host calls go on; its idle wait (ppoll, epoll_pwait) is never
 * restarted, so a signal wakes it. */
static const int sent[] = { SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGALRM, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH };
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

void trap_install(const struct nabla_note *libos)
{
	/* Blocked first: from the first rt_sigaction on, a routed signal would run the
	 * image's handler with no filter yet; they wait until trap_enter. */
	sigset_t routed;
	sigemptyset(&routed);
	sigaddset(&routed, SIGSYS);
	sigaddset(&routed, SIGVTALRM);
	for (size_t i = 0; i < COUNT(faults); i++) sigaddset(&routed, faults[i]);
	for (size_t i = 0; i < COUNT(sent); i++) sigaddset(&routed, sent[i]);
	if (sigprocmask(SIG_BLOCK, &routed, &enter_mask) < 0)
		err(TENDER_EXIT, "sigprocmask(block the routed signals) failed");
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&routed, sig))
			sigdelset(&enter_mask, sig);
	stack_t ss = { .ss_sp = (void *)libos->trap_stack, .ss_size = libos->trap_stack_size };
	if (sigaltstack(&ss, NULL) < 0)
		err(TENDER_EXIT, "sigaltstack(trap stack) failed");
	/* SA_NODEFER: SIGSYS is never blocked, even while the libOS serves a trapped call and
	 * switches threads (a trap while SIGSYS is blocked would kill the process). */
	handle(SIGSYS, libos, SA_NODEFER);
	/* SA_RESTART: a tick that lands in a host call the libOS made restarts it. */
	handle(SIGVTALRM, libos, SA_NODEFER | SA_RESTART);
	for (size_t i = 0; i < COUNT(faults); i++) handle(faults[i], libos, SA_NODEFER);
	for (size_t i = 0; i < COUNT(sent); i++) handle(sent[i], libos, SA_RESTART);
#ifdef NABLA_TEST_HOOKS
	if (getenv("NABLA_TEST_SIGNAL_BEFORE_FILTER")) /* a signal in the window (test/native/tender) */
		raise(SIGUSR1);
#endif
	struct itimerval tick = { { 0, TICK_US }, { 0, TICK_US } };
	if (setitimer(ITIMER_VIRTUAL, &tick, NULL) < 0)
		err(TENDER_EXIT, "setitimer(ITIMER_VIRTUAL) failed");
}

/* %rsp = the initial stack, %rdi = the boot page, every other register zero, DF clear, the
 * trap stack as signal stack and the routed signals unblocked, all at once: rt_sigreturn
 * of this frame from the libOS's restorer, inside the hypercall code (the filter allows
 * rt_sigreturn only there). Pending signals reach the guest only then. With no FPU state
 * in the frame the kernel starts the guest with a clean one. */
__attribute__((noreturn)) void trap_enter(const struct nabla_note *libos, uint64_t entry, uint64_t sp, uint64_t boot)
{
	static struct k_ucontext frame __attribute__((aligned(16)));
	frame = (struct k_ucontext){
		.ss_sp = libos->trap_stack,
		.ss_size = libos->trap_stack_size,
		.rdi = boot,
		.rsp = sp,
		.rip = entry,
		.eflags = EFLAGS_START,
		.cs = USER_CS,
		.ss = USER_DS,
	};
	memcpy(&frame.sigmask, &enter_mask, sizeof frame.sigmask); /* the kernel's 64 bits, first in sigset_t */
	__asm__ volatile("mov %0, %%rsp\n\t"
			 "jmp *%1"
			 :
			 : "r"(&frame), "r"(libos->trap_restorer)
			 : "memory");
	__builtin_unreachable();
}
