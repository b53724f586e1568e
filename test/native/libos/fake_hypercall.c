/*
 * The host side of the libOS's hypercalls (native/libos/hypercall.c), for the tests: the
 * same functions over ordinary host calls, recording what the libOS asked for. The tap is
 * one end of a datagram socketpair (harness.c's boot), one frame per datagram.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

struct fake fake;

long hc_write(int fd, const void *buf, size_t len)
{
	if (fd < 0 || fd > 2) return -EBADF;
	fake.writes[fd]++;
	size_t room = sizeof fake.out[fd] - 1 - fake.out_len[fd];
	size_t n = len < room ? len : room;
	memcpy(fake.out[fd] + fake.out_len[fd], buf, n);
	fake.out_len[fd] += n;
	fake.out[fd][fake.out_len[fd]] = 0;
	if (fake.passthrough) {
		ssize_t r = write(fd, buf, len);
		return r < 0 ? -errno : r;
	}
	return (long)len;
}

long hc_clock_gettime(int clock, struct timespec *ts)
{
	return clock_gettime(clock, ts) < 0 ? -errno : 0;
}

/* The tender's ppoll(0 fds, ts): returns 0 when the time is up. */
long hc_sleep(const struct timespec *ts)
{
	fake.sleeps++;
	fake.slept_ns += (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
	struct timespec left = *ts;
	while (nanosleep(&left, &left) < 0 && errno == EINTR) {}
	return 0;
}

/* The tap's and the DNS relay's reads and writes: the host's, counted. */
static long counted_read(int fd, void *buf, size_t len, long *calls)
{
	++*calls;
	ssize_t r = read(fd, buf, len);
	return r < 0 ? -errno : r;
}

static long counted_write(int fd, const void *buf, size_t len, long *calls)
{
	++*calls;
	ssize_t r = write(fd, buf, len);
	return r < 0 ? -errno : r;
}

long hc_net_read(void *buf, size_t len) { return counted_read(guest.boot->net_fd, buf, len, &fake.net_reads); }
long hc_net_write(const void *buf, size_t len) { return counted_write(guest.boot->net_fd, buf, len, &fake.net_writes); }
long hc_dns_read(void *buf, size_t len) { return counted_read(guest.boot->dns_fd, buf, len, &fake.dns_reads); }
long hc_dns_write(const void *buf, size_t len) { return counted_write(guest.boot->dns_fd, buf, len, &fake.dns_writes); }

/* The tender's epoll_pwait on the tap and the DNS relay's socket: NET_READY_* for those
 * with something to read, 0 after ms (-1: no limit). */
long hc_net_wait(int ms)
{
	fake.net_waits++;
	struct pollfd p[2] = { { guest.boot->net_fd, POLLIN, 0 }, { guest.boot->dns_fd, POLLIN, 0 } };
	int r = poll(p, guest.boot->dns_fd >= 0 ? 2 : 1, ms);
	if (r < 0) return -errno;
	return (p[0].revents ? NET_READY_TAP : 0) | (guest.boot->dns_fd >= 0 && p[1].revents ? NET_READY_DNS : 0);
}

/* The tender's pinned arch_prctl(ARCH_SET_FS, addr) (host-call mode). The FS base moves:
 * no libc here. */
long hc_set_fs(uint64_t addr)
{
	fake.fs_sets++;
	if (!fs_host_call) FAIL("hc_set_fs in cpu mode: the host would kill the process");
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"((long)SYS_arch_prctl), "D"((long)NABLA_ARCH_SET_FS), "S"((long)addr)
			 : "rcx", "r11", "memory");
	return ret;
}

/* The tender's pinned mprotect and mmap over the heap, done for real on the harness's
 * region (its heap starts PROT_NONE too): a page the libOS forgets to make usable faults. */
long hc_mem_usable(uintptr_t addr, size_t len)
{
	fake.mem_usables++;
	if (flat_heap) FAIL("hc_mem_usable under a flat heap: the host would kill the process");
	if (addr < guest.heap_lo || addr + len > (uintptr_t)guest.region + guest.size) FAIL("hc_mem_usable outside the heap: the host would kill the process");
	int prot = PROT_READ | PROT_WRITE | (guest.boot->flags & NABLA_BOOT_EXEC_HEAP ? PROT_EXEC : 0);
	return mprotect((void *)addr, len, prot) < 0 ? -errno : 0;
}

long hc_mem_release(uintptr_t addr, size_t len)
{
	fake.mem_releases++;
	fake.mem_released += len;
	if (flat_heap) FAIL("hc_mem_release under a flat heap: the host would kill the process");
	if (addr < guest.heap_lo || addr + len > (uintptr_t)guest.region + guest.size) FAIL("hc_mem_release outside the heap: the host would kill the process");
	void *p = mmap((void *)addr, len, PROT_NONE, NABLA_RELEASE_FLAGS, -1, 0);
	return p == MAP_FAILED ? -errno : 0;
}

_Noreturn void hc_exit(int code)
{
	set_cpu_fs_base(host_fs); /* the libOS may exit from a thread with another TLS */
	fake.exit_code = code;
	if (fake.exit_jmp) longjmp(*fake.exit_jmp, 1);
	_exit(code);
}

/* trap.c's way back to the app after a trapped call: the harness calls the libOS directly
 * and never traps. */
_Noreturn void trap_return(void *frame, int *in_libos)
{
	(void)frame;
	(void)in_libos;
	abort();
}
