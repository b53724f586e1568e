/* ns per thread switch: two threads hand the CPU to each other with sched_yield, N times
 * each (argv[1], default 200,000). The libOS runs them as green threads on one vCPU, so
 * every yield is one switch, and each switch sets the FS base: with wrfsbase, or with a
 * host call on a host without FSGSBASE (NABLA_FS_BASE). Prints the best of 5 rounds. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int rounds_each;

static long now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void *yielder(void *arg)
{
	(void)arg;
	for (int i = 0; i < rounds_each; i++) sched_yield();
	return 0;
}

int main(int argc, char **argv)
{
	rounds_each = argc > 1 ? atoi(argv[1]) : 200000;
	double best = 1e9;
	for (int round = 0; round < 5; round++) {
		pthread_t t;
		long start = now();
		pthread_create(&t, 0, yielder, 0);
		yielder(0);
		pthread_join(t, 0);
		double per = (double)(now() - start) / (2.0 * rounds_each);
		if (per < best) best = per;
	}
	printf("%.0f\n", best);
	return 0;
}
