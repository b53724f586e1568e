/* sleep MS: "sleeping", the libOS's idle sleep, ppoll(NULL, 0, timeout), then "slept". */
#include "guest.h"

int nabla_main(const struct nabla_boot *boot, uint64_t *sp, uint64_t regs)
{
	(void)boot, (void)regs;
	long ms = 0;
	const char *arg = sp[0] > 1 ? (const char *)sp[2] : "1000";
	while (*arg >= '0' && *arg <= '9')
		ms = ms * 10 + (*arg++ - '0');
	struct timespec_ t = { ms / 1000, ms % 1000 * 1000000 };
	puts1("sleeping\n"); /* the guest runs: the tender's filter is in place */
	long r = sys6(NR_ppoll, 0, 0, (long)&t, 0, 8, 0);
	if (r != 0) {
		puts1("ppoll failed\n");
		return 1;
	}
	puts1("slept\n");
	return 0;
}
