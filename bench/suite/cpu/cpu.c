/*
 * The bench's CPU-bound program, the same source for every runtime: a sieve of Eratosthenes
 * below LIMIT, ROUNDS times over, timed by itself (CLOCK_MONOTONIC, from its first line to
 * its last), so the figure is the work alone, without the container's start. Prints the
 * number of primes, which must be 1270607 below 20 million, so the work cannot be skipped.
 *   cpu: started
 *   cpu: 1270607 primes below 20000000, 10 rounds, 1234.5 ms
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIMIT 20000000
#define ROUNDS 10

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static long sieve(unsigned char *composite)
{
	memset(composite, 0, LIMIT);
	long primes = 0;
	for (long i = 2; i < LIMIT; i++) {
		if (composite[i]) continue;
		primes++;
		for (long j = i * i; j < LIMIT; j += i) composite[j] = 1;
	}
	return primes;
}

int main(void)
{
	printf("cpu: started\n");
	fflush(stdout);
	double start = now_ms();
	unsigned char *composite = malloc(LIMIT);
	if (!composite) {
		fprintf(stderr, "cpu: no memory for %d bytes\n", LIMIT);
		return 1;
	}
	long primes = 0;
	for (int round = 0; round < ROUNDS; round++) primes = sieve(composite);
	printf("cpu: %ld primes below %d, %d rounds, %.1f ms\n", primes, LIMIT, ROUNDS, now_ms() - start);
	free(composite);
	return primes == 1270607 ? 0 : 1;
}
