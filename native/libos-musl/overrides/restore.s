/* libOS-musl: the host never delivers signals to guest handlers (the libOS keeps
 * rt_sigaction as bookkeeping), so the signal restorer must never run. */
	.text
	.global __restore_rt
	.global __restore
	.hidden __restore_rt
	.hidden __restore
	.type __restore_rt,@function
	.type __restore,@function
__restore_rt:
__restore:
	ud2
