/*
 * Hypercalls: the only place in the unikernel with a `syscall` instruction. Each one is
 * on the tender's seccomp whitelist with these exact arguments; anything else kills us.
 */
#include <time.h>

#include "libos.h"

static inline long raw3(long n, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static inline long raw4(long n, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
	return ret;
}

long hc_write(int fd, const void *buf, size_t len)
{
	return raw3(1 /* write */, fd, (long)buf, (long)len);
}

long hc_pread(int fd, void *buf, size_t len, uint64_t off)
{
	return raw4(17 /* pread64 */, fd, (long)buf, (long)len, (long)off);
}

long hc_clock_gettime(int clock, struct timespec *ts)
{
	return raw3(228 /* clock_gettime */, clock, (long)ts, 0);
}

/* Idle: ppoll with no fds is the one way the libOS may wait. */
long hc_sleep(const struct timespec *ts)
{
	return raw4(271 /* ppoll */, 0, 0, (long)ts, 0);
}

_Noreturn void hc_exit(int code)
{
	for (;;) raw3(231 /* exit_group */, code, 0, 0);
}
