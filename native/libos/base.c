/*
 * What every part of the libOS may use: the tender's boot info (libos_init sets it) and
 * the messages that must not go unnoticed. Not in syscall.c, which calls every part:
 * here, below them all, nothing calls back up.
 */
#include <string.h>

#include "libos.h"

const struct nabla_boot *libos_boot;

void libos_warn(const char *message)
{
	hc_write(NABLA_CONSOLE_ERR, "nabla libOS: ", 13);
	hc_write(NABLA_CONSOLE_ERR, message, strlen(message));
	hc_write(NABLA_CONSOLE_ERR, "\n", 1);
}

_Noreturn void libos_panic(const char *message)
{
	libos_warn(message);
	hc_exit(127);
}
