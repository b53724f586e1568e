/*
 * Hypercalls: the only place in the libOS with a `syscall` instruction, all in the section
 * nabla_hypercall. The tender's filter allows a call from there only when it is on its
 * whitelist with these exact arguments, and kills on anything else; a call from anywhere
 * else is trapped into the libOS (trap.c).
 */
#include <sys/mman.h>
#include <time.h>

#include "libos.h"

#define HYPERCALL __attribute__((section("nabla_hypercall"), noinline))

static inline __attribute__((always_inline)) long raw3(long n, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline __attribute__((always_inline)) long raw4(long n, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline __attribute__((always_inline)) long raw5(long n, long a, long b, long c, long d, long e)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline __attribute__((always_inline)) long raw6(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

HYPERCALL long hc_write(int fd, const void *buf, size_t len)
{
	return raw3(1 /* write */, fd, (long)buf, (long)len);
}

HYPERCALL long hc_clock_gettime(int clock, struct timespec *ts)
{
	return raw3(228 /* clock_gettime */, clock, (long)ts, 0);
}

/* Idle: ppoll with no fds is the one way the libOS may wait. */
HYPERCALL long hc_sleep(const struct timespec *ts)
{
	return raw4(271 /* ppoll */, 0, 0, (long)ts, 0);
}

/* The tap (--net): one frame per read or write, never blocking (the fd is O_NONBLOCK). */
HYPERCALL long hc_net_read(void *buf, size_t len)
{
	return raw3(0 /* read */, libos_boot->net_fd, (long)buf, (long)len);
}

HYPERCALL long hc_net_write(const void *buf, size_t len)
{
	return raw3(1 /* write */, libos_boot->net_fd, (long)buf, (long)len);
}

/* The DNS relay's socket (dnsrelay.c): one message per read or write, never blocking.
 * Without one, EBADF here: a read or write of fd -1 would break the filter's rule. */
HYPERCALL long hc_dns_read(void *buf, size_t len)
{
	if (libos_boot->dns_fd < 0) return -EBADF;
	return raw3(0 /* read */, libos_boot->dns_fd, (long)buf, (long)len);
}

HYPERCALL long hc_dns_write(const void *buf, size_t len)
{
	if (libos_boot->dns_fd < 0) return -EBADF;
	return raw3(1 /* write */, libos_boot->dns_fd, (long)buf, (long)len);
}

/* Idle with a network: wait up to ms (-1: no limit) for a frame on the tap or a DNS answer,
 * through the tender's epoll set that watches both (each registered with its fd as data).
 * NET_READY_* for what is there, 0 on timeout. */
HYPERCALL long hc_net_wait(int ms)
{
	struct {
		uint32_t events;
		uint64_t data;
	} __attribute__((packed)) ev[2];
	long n = raw5(281 /* epoll_pwait */, libos_boot->net_wait_fd, (long)ev, 2, ms, 0 /* no sigmask */), ready = 0;
	for (long i = 0; i < n && i < 2; i++)
		ready |= (int)ev[i].data == libos_boot->dns_fd ? NET_READY_DNS : NET_READY_TAP;
	return n < 0 ? n : ready;
}

/* The FS base, on a host without FSGSBASE (NABLA_BOOT_FS_HOST_CALL): the filter allows
 * arch_prctl with this first argument only, and only on such a host. */
HYPERCALL long hc_set_fs(uint64_t addr)
{
	return raw3(158 /* arch_prctl */, NABLA_ARCH_SET_FS, (long)addr, 0);
}

/* Heap pages made usable: the filter allows mprotect only inside the heap, to read-write
 * (and executable under NABLA_BOOT_EXEC_HEAP); the host's RLIMIT_DATA caps the total. */
HYPERCALL long hc_mem_usable(uintptr_t addr, size_t len)
{
	long prot = PROT_READ | PROT_WRITE | (libos_boot->flags & NABLA_BOOT_EXEC_HEAP ? PROT_EXEC : 0);
	return raw3(10 /* mprotect */, (long)addr, (long)len, prot);
}

/* Heap pages given back: a fresh PROT_NONE mapping over them frees their memory. */
HYPERCALL long hc_mem_release(uintptr_t addr, size_t len)
{
	long ret = raw6(9 /* mmap */, (long)addr, (long)len, PROT_NONE, NABLA_RELEASE_FLAGS, -1, 0);
	return (unsigned long)ret > -4096UL ? ret : 0;
}

HYPERCALL _Noreturn void hc_exit(int code)
{
	for (;;) raw3(231 /* exit_group */, code, 0, 0);
}

/* The way back to the app after a trapped call or a preemption: clear the thread's
 * in_libos flag (%rsi), then rt_sigreturn loads the frame at %rdi (registers, FPU state,
 * signal mask). Both here, where a tick leaves the thread alone: once the flag is clear
 * the frame must not be copied over. trap_restorer is SA_RESTORER, which the kernel
 * requires; the handler never returns to it, but if it did it would do the same. */
__asm__(".pushsection nabla_hypercall,\"ax\",@progbits\n"
	".global trap_return\n"
	".hidden trap_return\n"
	".type trap_return,@function\n"
	"trap_return:\n"
	"	movl $0, (%rsi)\n"
	"	mov %rdi, %rsp\n"
	"	mov $15, %eax\n" /* rt_sigreturn */
	"	syscall\n"
	"	ud2\n"
	".global trap_restorer\n"
	".hidden trap_restorer\n"
	".type trap_restorer,@function\n"
	"trap_restorer:\n"
	"	mov $15, %eax\n"
	"	syscall\n"
	"	ud2\n"
	".popsection\n");
