/*
 * start.S — entry and ABI note shared by the test guests (each is one .c file + this).
 *   -DGUEST_ABI=N   write another ABI version into the note (a negative test)
 *   -DGUEST_NO_NOTE leave the note out (a negative test)
 */
#include "nabla_abi.h"
#ifndef GUEST_ABI
#define GUEST_ABI NABLA_ABI_VERSION
#endif

#ifndef GUEST_NO_NOTE
    .section .note.nabla, "a", @note
    .balign 4
    .long 6                 /* namesz: "NABLA" and its NUL */
    .long 4                 /* descsz */
    .long NABLA_NOTE_ABI    /* type */
    .asciz "NABLA"
    .balign 4
    .long GUEST_ABI
#endif

/*
 * _nabla_start: %rdi = boot page, %rsp = Linux initial stack, all else zero.
 * Calls nabla_main(boot, sp, regs) where regs is the OR of every register that should
 * be zero, and exits with what it returns.
 */
    .text
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
    mov $231, %eax          /* exit_group */
    syscall
    hlt
    .size _nabla_start, . - _nabla_start

    .section .note.GNU-stack, "", @progbits
