/* Prints CLOCK_REALTIME in ns as the first thing main does: the launcher subtracts the
 * time it took just before exec to get "start to main()". */
#include <stdio.h>
#include <time.h>

int main(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	printf("%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	return 0;
}
