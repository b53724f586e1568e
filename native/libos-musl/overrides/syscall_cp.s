/* libOS-musl: cancellable syscalls call the libOS instead of executing `syscall`.
 * __syscall_cp_asm(cancel, nr, u, v, w, x, y, z) -> libos_syscall(nr, u, v, w, x, y, z)
 * The libOS delivers no asynchronous signals, so the __cp_begin/__cp_end window only
 * marks where a cancellation point starts, as musl's cancel handler expects. */
	.text
	.global __cp_begin
	.hidden __cp_begin
	.global __cp_end
	.hidden __cp_end
	.global __cp_cancel
	.hidden __cp_cancel
	.hidden __cancel
	.global __syscall_cp_asm
	.hidden __syscall_cp_asm
	.type   __syscall_cp_asm,@function
__syscall_cp_asm:
__cp_begin:
	mov (%rdi),%eax
	test %eax,%eax
	jnz __cp_cancel
	mov %rsi,%rdi
	mov %rdx,%rsi
	mov %rcx,%rdx
	mov %r8,%rcx
	mov %r9,%r8
	mov 8(%rsp),%r9
	mov 16(%rsp),%rax
	mov %rax,8(%rsp)
	jmp libos_syscall
__cp_end:
	ret
__cp_cancel:
	jmp __cancel
