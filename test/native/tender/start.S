/*
 * start.S — entry, ABI note and trap plumbing shared by the test guests (each is one .c
 * file + this).
 *   -DGUEST_ABI=N   write another ABI version into the note (a negative test)
 *   -DGUEST_NO_NOTE leave the note out (a static program for --libos, or a negative test)
 *   -DGUEST_TWO_NOTES a second note after the first (a negative test)
 *   -DGUEST_TRAP    only the few instructions at hc_start..hc_end count as hypercall code,
 *                   so the guest's own syscalls are trapped to guest_trap; without it the
 *                   whole .text does, and every syscall meets the whitelist
 */
#include "nabla_abi.h"
#ifndef GUEST_ABI
#define GUEST_ABI NABLA_ABI_VERSION
#endif

#ifndef GUEST_NO_NOTE
    .section .note.nabla, "a", @note
    .balign 4
    .long 6                 /* namesz: "NABLA" and its NUL */
    .long 56                /* descsz: struct nabla_note */
    .long NABLA_NOTE_ABI    /* type */
    .asciz "NABLA"
    .balign 4
    .long GUEST_ABI
    .long 0
#ifdef GUEST_TRAP
    .quad hc_start, hc_end
#else
    .quad text_start, etext
#endif
    .quad guest_trap, guest_restorer, trap_stack, 16384
#ifdef GUEST_TWO_NOTES /* an app bringing its own note beside the libOS's (a negative test) */
    .long 6, 56, NABLA_NOTE_ABI
    .asciz "NABLA"
    .balign 4
    .long GUEST_ABI, 0
    .quad text_start, etext, guest_trap, guest_restorer, trap_stack, 16384
#endif
#endif

    .bss
    .balign 16
trap_stack:
    .skip 16384

/*
 * _nabla_start: %rdi = boot page, %rsp = Linux initial stack, all else zero.
 * Calls nabla_main(boot, sp, regs) where regs is the OR of every register that should
 * be zero, and exits with what it returns.
 */
    .text
text_start:
    .globl _nabla_start
    .type _nabla_start, @function
_nabla_start:
    or %rbx, %rax
    or %rcx, %rax
    or %rdx, %rax
    or %rsi, %rax
    or %rbp, %rax
    or %r8, %rax
    or %r9, %rax
    or %r10, %rax
    or %r11, %rax
    or %r12, %rax
    or %r13, %rax
    or %r14, %rax
    or %r15, %rax
    mov %rax, %rdx
    mov %rsp, %rsi
    call nabla_main
    mov %eax, %edi
    jmp guest_exit
    .size _nabla_start, . - _nabla_start

/* SIGSYS handler for trapped calls (rdi = signo, rsi = siginfo, rdx = ucontext): the
 * guest's guest_syscall(sig, info, uc) serves it if there is one; else the call "returns"
 * 1000 + its number (si_syscall), so a test sees it was served here. The
 * tender's preemption tick (SIGVTALRM) and a container's signals come here too: nothing
 * to do. A fault (SIGILL 4, SIGTRAP 5, SIGBUS 7, SIGFPE 8, SIGSEGV 11) goes to the guest's
 * guest_fault(sig, info, uc) if it has one, else the guest exits with 128 + sig (returning
 * would run the faulting instruction again, forever); any other signal to its
 * guest_signal(sig, info, uc), if it has one. */
    .globl guest_trap
    .weak guest_syscall
    .weak guest_fault
    .weak guest_signal
guest_trap:
    cmp $31, %edi           /* SIGSYS */
    jne 1f
    mov guest_syscall@GOTPCREL(%rip), %rax
    test %rax, %rax
    jz 5f
    jmp *%rax               /* a guest that serves trapped calls itself; returns to the restorer */
5:  movslq 24(%rsi), %rax   /* si_syscall */
    add $1000, %rax
    mov %rax, 0x90(%rdx)    /* uc_mcontext.rax */
    ret                     /* to the restorer */
1:  mov $0x9b0, %eax        /* the fault signals' bits: 1 << 4, 5, 7, 8, 11 */
    bt %edi, %eax
    jnc 2f
    mov guest_fault@GOTPCREL(%rip), %rax
    test %rax, %rax
    jz 3f
    jmp *%rax               /* returns to the restorer */
3:  add $128, %edi
    jmp guest_exit
2:  mov guest_signal@GOTPCREL(%rip), %rax
    test %rax, %rax
    jz 4f
    jmp *%rax
4:  ret

/* The hypercall code of a GUEST_TRAP guest. */
hc_start:
    .globl guest_write
guest_write:                /* long guest_write(int fd, const void *buf, size_t len) */
    mov $1, %eax
    syscall
    ret
guest_exit:
    mov $231, %eax          /* exit_group */
    syscall
    hlt
    .globl guest_restorer
guest_restorer:
    mov $15, %eax           /* rt_sigreturn */
    syscall
hc_end:
    hlt

    .section .note.GNU-stack, "", @progbits
