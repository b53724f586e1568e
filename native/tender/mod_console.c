/*
 * mod_console.c — the console: the guest writes to the fds 1 and 2 it inherits.
 * stdin is not a host device: fd 0 is closed and the libOS serves the guest's stdin.
 */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

#include "tender.h"

void console_open(struct nabla_boot *boot)
{
	(void)boot;
	close(0); /* EBADF when the caller gave us none: fine, it stays closed */
}

void console_rules(struct policy *p)
{
	/* write(1|2, ...): the console. Not fd 0, nor anything opened later. */
	policy_add(p, (struct rule){ "write", SYS_write, 0, "fd", 2, { { NABLA_CONSOLE_OUT, NULL }, { NABLA_CONSOLE_ERR, NULL } } });
}
