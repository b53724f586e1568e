/* hello: writes a greeting through the console (fd 1) and exits 0. */
#include "guest.h"

int nabla_main(const struct nabla_boot *boot, uint64_t *sp, uint64_t regs)
{
	(void)boot, (void)sp, (void)regs;
	puts1("Hello from a nabla guest!\n");
	return 0;
}
