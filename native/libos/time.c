/* Clocks and sleeping, over the tender's clock_gettime (REALTIME, MONOTONIC) and ppoll. */
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
	return hc_clock_gettime(host_clock(clock), ts);
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

static long sleep_until(int clock, uint64_t deadline)
{
	for (;;) {
		uint64_t now = time_now_ns(clock);
		if (now >= deadline) return 0;
		uint64_t left = deadline - now;
		struct timespec ts = { .tv_sec = (time_t)(left / 1000000000u), .tv_nsec = (long)(left % 1000000000u) };
		hc_sleep(&ts); /* may wake early (EINTR): loop until the deadline */
	}
}

long sys_clock_nanosleep(int clock, int flags, const struct timespec *req, struct timespec *rem)
{
	(void)rem;
	if (req->tv_nsec < 0 || req->tv_nsec >= 1000000000 || req->tv_sec < 0) return -EINVAL;
	uint64_t ns = (uint64_t)req->tv_sec * 1000000000u + (uint64_t)req->tv_nsec;
	return sleep_until(clock, flags & TIMER_ABSTIME ? ns : time_now_ns(clock) + ns);
}

long sys_nanosleep(const struct timespec *req, struct timespec *rem)
{
	return sys_clock_nanosleep(CLOCK_MONOTONIC, 0, req, rem);
}
