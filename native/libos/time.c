/* Clocks, over the tender's clock_gettime (REALTIME, MONOTONIC); sleeping is in sched.c. */
#include <sys/time.h>
#include <time.h>

#include "libos.h"

/* Every clock is the host's monotonic one except those that are wall time. */
static int host_clock(int clock)
{
	switch (clock) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_TAI:
		return CLOCK_REALTIME;
	default:
		return CLOCK_MONOTONIC;
	}
}

long sys_clock_gettime(int clock, struct timespec *ts)
{
	if (clock < 0 || clock > CLOCK_TAI) return -EINVAL;
	long ready = mem_ready(ts, sizeof *ts);
	return ready < 0 ? -EFAULT : hc_clock_gettime(host_clock(clock), ts);
}

uint64_t time_now_ns(int clock)
{
	struct timespec ts;
	hc_clock_gettime(host_clock(clock), &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

long sys_gettimeofday(struct timeval *tv, void *tz)
{
	(void)tz;
	if (tv) {
		struct timespec ts;
		long r = hc_clock_gettime(CLOCK_REALTIME, &ts);
		if (r < 0) return r;
		tv->tv_sec = ts.tv_sec;
		tv->tv_usec = ts.tv_nsec / 1000;
	}
	return 0;
}

/* time(2): seconds of wall time, also stored at tloc when given (old code, and the trap
 * path's programs, still call it). */
long sys_time(long *tloc)
{
	struct timespec ts;
	long r = hc_clock_gettime(CLOCK_REALTIME, &ts);
	if (r < 0) return r;
	if (tloc) *tloc = ts.tv_sec;
	return ts.tv_sec;
}
