/*
 * The unikernel's entry. The tender jumps here with %rdi = struct nabla_boot * and %rsp
 * at a Linux initial stack; we keep the boot pointer, set up the libOS, and hand the
 * untouched stack to libc's _start as if the kernel had started the program.
 */
	.text
	.global _nabla_start
	.type _nabla_start,@function
_nabla_start:
	xor %ebp,%ebp
	mov %rsp,%rbx           /* callee-saved: the initial stack */
	and $-16,%rsp
	call libos_init         /* libos_init(boot) */
	mov %rbx,%rsp
	xor %ebx,%ebx
	xor %edi,%edi
	xor %edx,%edx           /* no atexit function for _start (x86-64 ABI %rdx) */
	jmp _start

/* The ABI note the tender checks before loading us (nabla_abi.h). */
	.section .note.nabla,"a",@note
	.balign 4
	.long 2f - 1f           /* namesz */
	.long 4f - 3f           /* descsz */
	.long 1                 /* NABLA_NOTE_ABI */
1:	.asciz "NABLA"
2:	.balign 4
3:	.long 1                 /* NABLA_ABI_VERSION */
4:	.balign 4

	.section .note.GNU-stack,"",@progbits
