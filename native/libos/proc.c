/*
 * The process as the app sees it: one process (pid 1) of root, named by uname as a
 * Linux machine, exiting with the app's code (threads: sched.c, signals: signal.c).
 *
 * The thread pointer (FS base) is the libOS's to keep: it is set at boot, at arch_prctl and
 * at every thread switch, with wrfsbase where the host has FSGSBASE, else with the one
 * pinned hypercall (nabla_abi.h: NABLA_BOOT_FS_HOST_CALL). It is never read back from the
 * CPU, so both ways behave the same, and neither needs ARCH_GET_FS on the host.
 */
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>

#include "libos.h"

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

static uint64_t tp_current;

uint64_t tp_get(void)
{
	return tp_current;
}

long tp_set(uint64_t fs)
{
	if (fs >= USER_SPACE_END) return -EPERM;
	if (libos_boot->flags & NABLA_BOOT_FS_HOST_CALL) {
		long r = hc_set_fs(fs);
		if (r < 0) return r;
	} else {
		__asm__ volatile("wrfsbase %0"
				 :
				 : "r"(fs)
				 : "memory");
	}
	tp_current = fs;
	return 0;
}

static long arch_prctl(int code, unsigned long addr)
{
	switch (code) {
	case ARCH_SET_FS: return tp_set(addr);
	case ARCH_GET_FS:
		*(unsigned long *)addr = tp_get();
		return 0;
	default:
		return -EINVAL;
	}
}

static long do_uname(struct utsname *u)
{
	memset(u, 0, sizeof *u);
	strcpy(u->sysname, "Linux");
	/* The container's name (the tender's, on the boot page), as its /etc/hostname says. */
	const char *host = (const char *)libos_boot->hostname;
	strncpy(u->nodename, host && *host ? host : "nabla", sizeof u->nodename - 1);
	strcpy(u->release, "6.1.0-nabla");
	strcpy(u->version, "#1 SMP nabla libOS");
	strcpy(u->machine, "x86_64");
	strcpy(u->domainname, "(none)");
	return 0;
}

static long get_limit(int resource, const struct rlimit *new, struct rlimit *old)
{
	(void)new;
	if (!old) return 0;
	switch (resource) {
	case RLIMIT_STACK: old->rlim_cur = old->rlim_max = libos_boot->stack_size; break;
	case RLIMIT_NOFILE: old->rlim_cur = old->rlim_max = 1024; break;
	case RLIMIT_AS:
	case RLIMIT_DATA: old->rlim_cur = old->rlim_max = libos_boot->mem_size; break;
	default: old->rlim_cur = old->rlim_max = RLIM_INFINITY;
	}
	return 0;
}

/* The kernel's struct sysinfo (112 bytes on x86-64): musl's has 256 more reserved bytes,
 * which would overrun the app's buffer. */
struct k_sysinfo {
	long uptime;
	unsigned long loads[3];
	unsigned long totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	unsigned short procs, pad;
	unsigned long totalhigh, freehigh;
	unsigned mem_unit;
};
_Static_assert(sizeof(struct k_sysinfo) == 112, "the kernel's struct sysinfo");

/* sysinfo: glibc's sysconf(_SC_PHYS_PAGES) and libuv read it, and V8 sizes its heap from
 * it: the guest's memory is --mem. */
static long do_sysinfo(struct k_sysinfo *si)
{
	memset(si, 0, sizeof *si);
	si->uptime = (long)(time_now_ns(CLOCK_MONOTONIC) / 1000000000);
	si->totalram = libos_boot->mem_size;
	si->freeram = mem_available();
	si->procs = 1;
	si->mem_unit = 1;
	return 0;
}

static long getaffinity(size_t size, unsigned long *mask)
{
	if (size < sizeof *mask) return -EINVAL;
	memset(mask, 0, size);
	*mask = 1; /* one vCPU */
	return (long)sizeof *mask;
}

#define PR_GET_KEEPCAPS_ 7
#define PR_SET_KEEPCAPS_ 8
#define PR_SET_NO_NEW_PRIVS_ 38
#define PR_GET_NO_NEW_PRIVS_ 39

/* prctl: the options with a state the app can see; any other is EINVAL, as Linux answers
 * an option it does not know. keepcaps changes nothing here (there is no setuid to keep
 * capabilities across) but reads back, for Go's syscall.AllThreadsSyscall(SYS_PRCTL,
 * PR_SET_KEEPCAPS, ...). no_new_privs is set: the tender set it before its filter. */
static long do_prctl(long option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)
{
	static int keepcaps;
	switch (option) {
	case PR_GET_KEEPCAPS_: return keepcaps;
	case PR_SET_KEEPCAPS_:
		if (a2 > 1) return -EINVAL;
		keepcaps = (int)a2;
		return 0;
	case PR_GET_NO_NEW_PRIVS_: return a2 || a3 || a4 || a5 ? -EINVAL : 1;
	case PR_SET_NO_NEW_PRIVS_: return a2 != 1 || a3 || a4 || a5 ? -EINVAL : 0; /* it cannot be unset */
	default: return -EINVAL;
	}
}

long proc_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6, int *handled)
{
	(void)a5;
	(void)a6;
	*handled = 1;
	switch (n) {
	case SYS_exit_group: hc_exit((int)a1);
	case SYS_getpid: return 1;
	case SYS_getppid: return 0;
	case SYS_getuid:
	case SYS_geteuid:
	case SYS_getgid:
	case SYS_getegid: return 0;
	case SYS_getresuid: /* real, effective and saved: root, as getuid says */
	case SYS_getresgid:
		if (!a1 || !a2 || !a3) return -EFAULT;
		*(unsigned *)a1 = *(unsigned *)a2 = *(unsigned *)a3 = 0;
		return 0;
	case SYS_getgroups: return (int)a1 < 0 ? -EINVAL : 0; /* no supplementary groups */
	case SYS_getpgid:
	case SYS_getsid: return 1;
	case SYS_setsid: return -EPERM;
	case SYS_set_robust_list: return 0;
	case SYS_arch_prctl: return arch_prctl((int)a1, (unsigned long)a2);
	case SYS_prctl: return do_prctl(a1, (unsigned long)a2, (unsigned long)a3, (unsigned long)a4, (unsigned long)a5);
	case SYS_uname: return do_uname((struct utsname *)a1);
	case SYS_sysinfo: return do_sysinfo((struct k_sysinfo *)a1);
	case SYS_prlimit64: return get_limit((int)a2, (const struct rlimit *)a3, (struct rlimit *)a4);
	case SYS_getrlimit: return get_limit((int)a1, 0, (struct rlimit *)a2);
	case SYS_setrlimit: return 0;
	case SYS_sched_getaffinity: return getaffinity((size_t)a2, (unsigned long *)a3);
	/* Every thread runs under the normal policy, priority 0: glibc's pthread_getschedparam
	 * asks (abseil's mutex in Node complains on stderr when it fails). */
	case SYS_sched_getscheduler: return a1 < 0 ? -EINVAL : 0 /* SCHED_OTHER */;
	case SYS_sched_getparam:
		if (a1 < 0 || !a2) return -EINVAL;
		*(int *)a2 = 0;
		return 0;
	case SYS_getrandom: return sys_getrandom((void *)a1, (size_t)a2, (unsigned)a3);
	case SYS_umask: return 022;
	/* No processes to make or trace: this is the one process there is. */
	case SYS_fork:
	case SYS_vfork:
	case SYS_execve:
	case SYS_execveat: return -ENOSYS;
	case SYS_wait4: return -ECHILD;
	default: *handled = 0; return -ENOSYS;
	}
}
