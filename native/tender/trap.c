/*
 * trap.c — the second way into the libOS: a syscall made outside its hypercall code is
 * not run by the host but trapped by the filter (SECCOMP_RET_TRAP), and the kernel
 * delivers SIGSYS to the libOS's handler, which serves the call and returns to the app
 * with rt_sigreturn. This file wires the signal up before the filter forbids it.
 */
#define _GNU_SOURCE
#include <err.h>
#include <signal.h>
#include <sys/syscall.h>
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

void trap_install(const struct nabla_note *libos)
{
    stack_t ss = { .ss_sp = (void *)libos->trap_stack, .ss_size = libos->trap_stack_size };
    if (sigaltstack(&ss, NULL) < 0)
        err(TENDER_EXIT, "sigaltstack(trap stack) failed");
    /* SA_NODEFER: SIGSYS is never blocked, even while the libOS serves a trapped call and
     * switches threads (a trap while SIGSYS is blocked would kill the process). */
    struct k_sigaction sa = {
        .handler = libos->trap_handler,
        .flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTORER_,
        .restorer = libos->trap_restorer,
        .mask = 0,
    };
    if (syscall(SYS_rt_sigaction, SIGSYS, &sa, NULL, sizeof sa.mask) < 0)
        err(TENDER_EXIT, "rt_sigaction(SIGSYS) failed");
    sigset_t sys;
    sigemptyset(&sys);
    sigaddset(&sys, SIGSYS);
    if (sigprocmask(SIG_UNBLOCK, &sys, NULL) < 0)
        err(TENDER_EXIT, "sigprocmask(unblock SIGSYS) failed");
}
