/* exit3: the guest's exit status is the tender's. */
#include "guest.h"

int nabla_main(const struct nabla_boot *boot, uint64_t *sp, uint64_t regs)
{
	(void)boot, (void)sp, (void)regs;
	return 3;
}
