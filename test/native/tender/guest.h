/*
 * guest.h — what a freestanding test guest needs: raw syscalls, a few string helpers.
 * Built with -static -nostdlib -ffreestanding -fno-stack-protector -no-pie and start.S.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "nabla_abi.h"

/* x86-64 syscall numbers (the guests must not rely on a libc's headers). */
enum {
	NR_pread64 = 17,
	NR_write = 1,
	NR_mmap = 9,
	NR_ptrace = 101,
	NR_kill = 62,
	NR_socket = 41,
	NR_execve = 59,
	NR_exit = 60,
	NR_mount = 165,
	NR_clock_gettime = 228,
	NR_exit_group = 231,
	NR_openat = 257,
	NR_ppoll = 271,
	NR_bpf = 321,
	NR_io_uring_setup = 425,
	NR_read = 0,
	NR_epoll_ctl = 233,
	NR_epoll_pwait = 281,
	NR_arch_prctl = 158,
};
/* arch_prctl codes (Linux asm/prctl.h) */
enum {
	ARCH_SET_GS = 0x1001,
	ARCH_SET_FS = 0x1002,
	ARCH_GET_FS = 0x1003,
	ARCH_SET_CPUID = 0x1012
};
#define AT_NULL 0
#define AT_PHDR 3
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_ENTRY 9
#define AT_RANDOM 25
#define AT_EXECFN 31
#define AT_SYSINFO_EHDR 33

struct timespec_ {
	long sec, nsec;
};

static inline long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#define sys(nr, a, b, c) sys6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)

/* gcc may emit calls to these even when freestanding. */
void *memset(void *d, int c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((volatile unsigned char *)d)[i] = (unsigned char)c;
	return d;
}
void *memcpy(void *d, const void *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((volatile unsigned char *)d)[i] = ((const unsigned char *)s)[i];
	return d;
}

static inline size_t slen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}
static inline int seq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}
static inline int sprefix(const char *s, const char *p)
{
	while (*p && *s == *p)
		s++, p++;
	return *p == 0;
}
/* The console, from the guest's hypercall code (start.S), so it works in a GUEST_TRAP guest. */
long guest_write(int fd, const void *buf, size_t len);
static inline void puts1(const char *s)
{
	guest_write(1, s, slen(s));
}
static inline void putu(uint64_t v) /* decimal */
{
	char b[24];
	int i = sizeof b;
	do
		b[--i] = (char)('0' + v % 10);
	while (v /= 10);
	guest_write(1, b + i, sizeof b - i);
}
static inline void putx(uint64_t v) /* 0x hex */
{
	char b[18];
	int i = sizeof b;
	do
		b[--i] = "0123456789abcdef"[v & 15];
	while (v >>= 4);
	b[--i] = 'x';
	b[--i] = '0';
	guest_write(1, b + i, sizeof b - i);
}

int nabla_main(const struct nabla_boot *boot, uint64_t *sp, uint64_t regs);

#endif
