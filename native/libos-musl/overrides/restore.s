/* libOS-musl: the host never delivers signals to a relinked app's handlers; the libOS
 * calls them as plain functions (native/libos/signal.c), so the restorer must never run. */
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
