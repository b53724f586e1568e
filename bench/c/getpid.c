/* ns per getpid(): through libOS-musl it is a function call into the libOS; with plain
 * musl it is a real system call, or, run beside the libOS (nabla-run --libos), a trapped
 * one. Prints the best of 5 rounds of N calls (argv[1], default 1,000,000). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	const int CALLS = argc > 1 ? atoi(argv[1]) : 1000000;
	double best = 1e9;
	volatile pid_t sink = 0;
	for (int round = 0; round < 5; round++) {
		long start = now();
		for (int i = 0; i < CALLS; i++) sink += getpid();
		double per = (double)(now() - start) / CALLS;
		if (per < best) best = per;
	}
	printf("%.2f\n", best);
	return sink == 0;
}
