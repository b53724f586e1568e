/*
 * Green-thread context switch: save the callee-saved registers and the stack pointer of
 * the running thread, load those of the next one. (The caller saves the FS base.) The
 * callee-saved part of the FPU state too, MXCSR's control bits and the x87 control word: a
 * thread that blocked in a call made as a function (relinked, or the fast call) gets back
 * its own rounding and flush-to-zero modes, whatever the others set meanwhile (a trapped
 * call's rt_sigreturn restores the whole FPU state anyway).
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
	sub $16,%rsp
	stmxcsr 8(%rsp)
	fnstcw (%rsp)
	mov %rsp,(%rdi)
	mov %rsi,%rsp
	ldmxcsr 8(%rsp)
	fldcw (%rsp)
	add $16,%rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

/* A new thread's first frame for ctx_switch, below sp (16-aligned): the running thread's
 * MXCSR and x87 control word (as Linux's clone copies them), six zero registers, then
 * thread_entry, which the switch returns into with %rsp 16-aligned again, so its call
 * gives thread_main the alignment the ABI promises. Answers where the frame starts:
 *   uint64_t ctx_new_frame(uint64_t *sp) */
	.global ctx_new_frame
	.hidden ctx_new_frame
	.type ctx_new_frame,@function
ctx_new_frame:
	lea thread_entry(%rip),%rax
	mov %rax,-8(%rdi)
	xor %eax,%eax
	mov %rax,-16(%rdi)
	mov %rax,-24(%rdi)
	mov %rax,-32(%rdi)
	mov %rax,-40(%rdi)
	mov %rax,-48(%rdi)
	mov %rax,-56(%rdi)
	mov %rax,-64(%rdi)
	mov %rax,-72(%rdi)
	stmxcsr -64(%rdi)
	fnstcw -72(%rdi)
	lea -72(%rdi),%rax
	ret

/* Where a new thread starts: its first ctx_switch "returns" here with %rsp 16-aligned. */
	.global thread_entry
	.hidden thread_entry
	.type thread_entry,@function
thread_entry:
	xor %ebp,%ebp
	call thread_main
	ud2

/* Runs fn(arg) on another stack, never to come back (the trap path's way onto a thread's
 * libOS stack):  void call_on_stack(void *sp, void (*fn)(void *), void *arg) */
	.global call_on_stack
	.hidden call_on_stack
	.type call_on_stack,@function
call_on_stack:
	mov %rdi,%rsp
	mov %rdx,%rdi
	xor %ebp,%ebp
	call *%rsi
	ud2

/* Runs fn(arg) on another stack and comes back (the fast call's way onto the thread's
 * libOS stack; sp 16-aligned):  void call_on_stack_and_return(void *sp, void (*fn)(void *), void *arg) */
	.global call_on_stack_and_return
	.hidden call_on_stack_and_return
	.type call_on_stack_and_return,@function
call_on_stack_and_return:
	push %rbp
	mov %rsp,%rbp
	mov %rdi,%rsp
	mov %rdx,%rdi
	call *%rsi
	mov %rbp,%rsp
	pop %rbp
	ret

	.section .note.GNU-stack,"",@progbits
