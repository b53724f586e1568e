/*
 * window: run by the tender's test build with NABLA_TEST_SIGNAL_BEFORE_FILTER, which raises
 * SIGUSR1 as soon as the guest's handlers are installed, before the filter. The signal must
 * wait until the guest is entered, filter on: then the write to fd 3 below (the disk's
 * number, not a console) is a call no rule allows and the guest dies by SIGSYS. Had the
 * handler run before the filter, the write would reach the host (EBADF: fd 3 is closed)
 * and the guest would say so.
 */
#include "guest.h"

void guest_signal(int sig, const uint8_t *info, uint8_t *uc);
void guest_signal(int sig, const uint8_t *info, uint8_t *uc)
{
	(void)info, (void)uc;
	long r = guest_write(3, "x", 1);
	puts1("UNFILTERED: signal "), putu((uint64_t)sig), puts1(" ran the guest's handler without the filter (write returned "),
		putx((uint64_t)r), puts1(")\n");
	sys(NR_exit_group, 0, 0, 0);
}

int nabla_main(const struct nabla_boot *boot, uint64_t *sp, uint64_t regs)
{
	(void)boot, (void)sp, (void)regs;
	puts1("entered, no signal came\n");
	return 0;
}
