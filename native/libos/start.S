/*
 * The libOS's entry. The tender jumps here with %rdi = struct nabla_boot * and %rsp at a
 * Linux initial stack; we keep the boot pointer, set up the libOS, and hand the untouched
 * stack to the app as if the kernel had started it: to boot->app_entry when the app is
 * a program of its own beside us, else to libc's _start linked with us.
 */
#include "nabla_abi.h"

#define BOOT_APP_ENTRY 112 /* offsetof(struct nabla_boot, app_entry) */

	.text
	.global _nabla_start
	.type _nabla_start,@function
	.weak _start            /* absent when the libOS is linked on its own */
_nabla_start:
	xor %ebp,%ebp
	mov %rsp,%rbx           /* callee-saved: the initial stack */
	mov %rdi,%r12           /* and the boot page */
	mov %rbx,%rsi
	and $-16,%rsp
	call libos_init         /* libos_init(boot, initial stack) */
	mov %rbx,%rsp
	mov BOOT_APP_ENTRY(%r12),%rax
	xor %ebx,%ebx
	xor %r12d,%r12d
	xor %edi,%edi
	xor %edx,%edx           /* no atexit function for _start (x86-64 ABI %rdx) */
	test %rax,%rax
	jz 1f
	jmp *%rax
1:	jmp _start

/* The signal stack for trapped calls (the tender points sigaltstack here). */
#define TRAP_STACK_SIZE (32 * 1024) /* trap.c knows it too */
	.bss
	.balign 16
	.global trap_stack
	.hidden trap_stack
trap_stack:
	.skip TRAP_STACK_SIZE

/* The ABI note the tender checks before loading us: struct nabla_note (nabla_abi.h). */
	.section .note.nabla,"a",@note
	.balign 4
	.long 2f - 1f           /* namesz */
	.long 4f - 3f           /* descsz */
	.long NABLA_NOTE_ABI
1:	.asciz NABLA_NOTE_NAME
2:	.balign 4
3:	.long NABLA_ABI_VERSION
	.long 0
	.quad __start_nabla_hypercall
	.quad __stop_nabla_hypercall
	.quad trap_handler
	.quad trap_restorer
	.quad trap_stack
	.quad TRAP_STACK_SIZE
4:	.balign 4

	.section .note.GNU-stack,"",@progbits
