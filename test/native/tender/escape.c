/*
 * escape CASE: says what it tries, then issues one raw syscall the policy forbids. The
 * tender's filter must kill it (SIGSYS, a shell shows 159) before the call returns; if it
 * returns, the guest prints ESCAPED and exits 0, and the test fails. (write-disk is a
 * store, not a call: the fault must kill it.)
 * `escape arch-prctl-set-fs` is the one call that depends on the host: allowed (exit 0)
 * with --fs-base=host-call, killed with --fs-base=cpu.
 */
#include "guest.h"

static long x32_write(void)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(0x40000000L | NR_write), "D"(1L), "S"("ESCAPED x32\n"), "d"(12L)
			 : "rcx", "r11", "memory");
	return ret;
}

static long int80_exit(void) /* i386 exit(1): nr 1 is write on x86-64, args[0] = 1 is the console */
{
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(1L), "b"(1L)
			 : "memory");
	return ret;
}

/* The one call the policy allows on some hosts (--fs-base=host-call): 0 if it was allowed. */
static int arch_prctl_set_fs(void)
{
	long r = sys(NR_arch_prctl, ARCH_SET_FS, NABLA_BOOT_ADDR, 0);
	puts1("arch_prctl(ARCH_SET_FS) returned "), putx((uint64_t)r), puts1("\n");
	return r != 0;
}

int nabla_main(const struct nabla_boot *boot, uint64_t *sp, uint64_t regs)
{
	(void)regs;
	const char *c = sp[0] > 1 ? (const char *)sp[2] : "";
	static const char *sh_argv[] = { "sh", "-c", "echo ESCAPED by execve", 0 };
	struct timespec_ t = { 0, 0 };
	char buf[8];
	long r;
	puts1("trying "), puts1(c), puts1("\n");
	if (seq(c, "openat")) r = sys6(NR_openat, -100, (long)"/etc/hostname", 0, 0, 0, 0);
	else if (seq(c, "execve")) r = sys(NR_execve, "/bin/sh", sh_argv, 0);
	else if (seq(c, "socket")) r = sys(NR_socket, 2 /* AF_INET */, 1 /* SOCK_STREAM */, 0);
	else if (seq(c, "ptrace")) r = sys(NR_ptrace, 0 /* PTRACE_TRACEME */, 0, 0);
	else if (seq(c, "mount")) r = sys6(NR_mount, (long)"none", (long)"/nonexistent-nabla", (long)"tmpfs", 0, 0, 0);
	else if (seq(c, "kill")) r = sys(NR_kill, 1, 0, 0); /* pid 1, signal 0: the filter must not let even a probe by */
	else if (seq(c, "bpf")) r = sys(NR_bpf, -1, 0, 0);
	else if (seq(c, "io_uring_setup")) r = sys(NR_io_uring_setup, 0, 0, 0);
	else if (seq(c, "write-fd3")) r = sys(NR_write, 3, "x", 1);
	else if (seq(c, "write-fd0")) r = sys(NR_write, 0, "x", 1);
	else if (seq(c, "write-fd1-high")) r = sys(NR_write, 0x100000001L, "ESCAPED\n", 8); /* kernel truncates to fd 1 */
	else if (seq(c, "clock-cputime")) r = sys(NR_clock_gettime, 2 /* CLOCK_PROCESS_CPUTIME_ID */, &t, 0);
	else if (seq(c, "mmap")) r = sys6(NR_mmap, 0, 4096, 7, 0x22 /* PRIVATE|ANONYMOUS */, -1, 0);
	else if (seq(c, "pread64-fd1")) r = sys6(NR_pread64, 1, (long)buf, 1, 0, 0, 0);
	/* With --disk: its fd (3 before ABI 7) is closed and no call reads a disk; its mapping
	 * cannot be made writable, and a write to it is a SIGSEGV (139), not a SIGSYS. */
	else if (seq(c, "pread64-fd3")) r = sys6(NR_pread64, 3, (long)buf, 1, 0, 0, 0);
	else if (seq(c, "read-fd3")) r = sys(NR_read, 3, buf, 1);
	else if (seq(c, "mprotect-disk")) r = sys(10 /* mprotect */, boot->disk_addr, 4096, 3 /* PROT_READ|PROT_WRITE */);
	else if (seq(c, "write-disk") && boot->disk_addr) r = *(volatile char *)boot->disk_addr = 'x';
	else if (seq(c, "ppoll-nfds1")) r = sys6(NR_ppoll, (long)buf, 1, (long)&t, 0, 8, 0);
	else if (seq(c, "exit")) r = sys(NR_exit, 0, 0, 0);
	/* With --fs-base=host-call only arch_prctl(ARCH_SET_FS, any) is allowed. */
	else if (seq(c, "arch-prctl-set-gs")) r = sys(NR_arch_prctl, ARCH_SET_GS, NABLA_BOOT_ADDR, 0);
	else if (seq(c, "arch-prctl-get-fs")) r = sys(NR_arch_prctl, ARCH_GET_FS, buf, 0);
	else if (seq(c, "arch-prctl-set-cpuid")) r = sys(NR_arch_prctl, ARCH_SET_CPUID, 0, 0);
	else if (seq(c, "arch-prctl-set-fs-high")) r = sys(NR_arch_prctl, 0x100000000L | ARCH_SET_FS, NABLA_BOOT_ADDR, 0);
	else if (seq(c, "arch-prctl-set-fs")) return arch_prctl_set_fs();
	/* With --net (fds 4, the tap, and 5, its epoll set): only read/write 4 and epoll_pwait 5. */
	else if (seq(c, "read-fd0")) r = sys(NR_read, 0, buf, 1);
	else if (seq(c, "read-fd5")) r = sys(NR_read, 5, buf, 1);
	else if (seq(c, "write-fd5")) r = sys(NR_write, 5, "x", 1);
	else if (seq(c, "epoll-pwait-fd4")) r = sys6(NR_epoll_pwait, 4, (long)buf, 1, 0, 0, 0);
	else if (seq(c, "epoll-ctl")) r = sys6(NR_epoll_ctl, 5, 2 /* EPOLL_CTL_DEL */, 4, 0, 0, 0);
	else if (seq(c, "x32")) r = x32_write();
	else if (seq(c, "int80")) r = int80_exit();
	else {
		puts1("unknown case\n");
		return 2;
	}
	(void)boot;
	puts1("ESCAPED: the call returned "), putx((uint64_t)r), puts1("\n");
	return 0;
}
