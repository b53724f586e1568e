/*
 * Green-thread context switch: save the callee-saved registers and the stack pointer of
 * the running thread, load those of the next one. (The caller saves the FS base.)
 *   void ctx_switch(uint64_t *save_rsp, uint64_t load_rsp)
 */
	.text
	.global ctx_switch
	.hidden ctx_switch
	.type ctx_switch,@function
ctx_switch:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp,(%rdi)
	mov %rsi,%rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

/* Where a new thread starts: its first ctx_switch "returns" here with %rsp 16-aligned. */
	.global thread_entry
	.hidden thread_entry
	.type thread_entry,@function
thread_entry:
	xor %ebp,%ebp
	call thread_main
	ud2

	.section .note.GNU-stack,"",@progbits
