/* time.c, proc.c and the dispatcher: clocks, identity, limits, the thread pointer. */
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>

#include "harness.h"

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

TEST(clock_gettime_follows_the_host)
{
	boot(0);
	struct timespec a, b, host;
	CHECK_OK(sys(SYS_clock_gettime, CLOCK_MONOTONIC, &a));
	CHECK_OK(sys(SYS_clock_gettime, CLOCK_MONOTONIC, &b));
	CHECK(b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec));
	CHECK_OK(sys(SYS_clock_gettime, CLOCK_REALTIME, &a));
	clock_gettime(CLOCK_REALTIME, &host);
	CHECK(host.tv_sec - a.tv_sec <= 1);
	CHECK_OK(sys(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &a)); /* served from the monotonic clock */
	CHECK_OK(sys(SYS_clock_gettime, CLOCK_BOOTTIME, &a));
	CHECK_ERR(sys(SYS_clock_gettime, -1, &a), EINVAL);
	CHECK_ERR(sys(SYS_clock_gettime, 100, &a), EINVAL);
	struct timeval tv;
	CHECK_OK(sys(SYS_gettimeofday, &tv, 0));
	CHECK(tv.tv_sec - host.tv_sec <= 1 && tv.tv_usec < 1000000);
	CHECK_OK(sys(SYS_clock_getres, CLOCK_MONOTONIC, &a));
	CHECK_EQ(a.tv_sec, 0);
	long t = 0, now = sys(SYS_time, &t);
	CHECK(now - host.tv_sec >= 0 && now - host.tv_sec <= 1);
	CHECK_EQ(t, now);
	CHECK(sys(SYS_time, 0) - now <= 1); /* no place to store it: only returned */
}

TEST(process_identity)
{
	boot(0);
	CHECK_EQ(sys(SYS_getpid), 1);
	CHECK_EQ(sys(SYS_gettid), 1);
	CHECK_EQ(sys(SYS_getppid), 0);
	CHECK_EQ(sys(SYS_getuid), 0);
	CHECK_EQ(sys(SYS_geteuid), 0);
	struct utsname u;
	CHECK_OK(sys(SYS_uname, &u));
	CHECK_STR(u.sysname, "Linux");
	CHECK_STR(u.machine, "x86_64");
	struct rlimit rl;
	CHECK_OK(sys(SYS_getrlimit, RLIMIT_NOFILE, &rl));
	CHECK_EQ(rl.rlim_cur, 1024);
	CHECK_OK(sys(SYS_prlimit64, 0, RLIMIT_STACK, 0, &rl));
	CHECK_EQ(rl.rlim_cur, guest.boot->stack_size);
	unsigned long mask[4];
	CHECK_EQ(sys(SYS_sched_getaffinity, 0, sizeof mask, mask), sizeof mask[0]);
	CHECK_EQ(mask[0], 1);
	CHECK_EQ(sys(SYS_umask, 077), 022);
	int prio = 7;
	CHECK_EQ(sys(SYS_sched_getscheduler, 0), 0); /* SCHED_OTHER */
	CHECK_EQ(sys(SYS_sched_getscheduler, 1), 0);
	CHECK_OK(sys(SYS_sched_getparam, 1, &prio));
	CHECK_EQ(prio, 0);
	CHECK_ERR(sys(SYS_sched_getscheduler, -1), EINVAL);
	CHECK_ERR(sys(SYS_sched_getparam, 1, 0), EINVAL);
	unsigned ids[3] = { 7, 7, 7 };
	CHECK_OK(sys(SYS_getresuid, &ids[0], &ids[1], &ids[2]));
	CHECK(ids[0] == 0 && ids[1] == 0 && ids[2] == 0);
	ids[0] = ids[1] = ids[2] = 7;
	CHECK_OK(sys(SYS_getresgid, &ids[0], &ids[1], &ids[2]));
	CHECK(ids[0] == 0 && ids[1] == 0 && ids[2] == 0);
	CHECK_ERR(sys(SYS_getresuid, &ids[0], 0, &ids[2]), EFAULT);
	gid_t groups[4];
	CHECK_EQ(sys(SYS_getgroups, 4, groups), 0); /* no supplementary groups */
	CHECK_EQ(sys(SYS_getgroups, 0, 0), 0);
	CHECK_ERR(sys(SYS_getgroups, -1, groups), EINVAL);
}

/* prctl: keepcaps reads back what was set, no_new_privs is set and stays so, and an
 * option the libOS does not know is EINVAL, as Linux answers one it does not know. */
TEST(prctl_keepcaps_no_new_privs_and_the_rest_einval)
{
	boot(0);
	CHECK_EQ(sys(SYS_prctl, 7 /* PR_GET_KEEPCAPS */), 0);
	CHECK_OK(sys(SYS_prctl, 8 /* PR_SET_KEEPCAPS */, 1));
	CHECK_EQ(sys(SYS_prctl, 7), 1);
	CHECK_OK(sys(SYS_prctl, 8, 0));
	CHECK_EQ(sys(SYS_prctl, 7), 0);
	CHECK_ERR(sys(SYS_prctl, 8, 2), EINVAL);
	CHECK_EQ(sys(SYS_prctl, 39 /* PR_GET_NO_NEW_PRIVS */, 0, 0, 0, 0), 1);
	CHECK_OK(sys(SYS_prctl, 38 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0));
	CHECK_ERR(sys(SYS_prctl, 38, 0, 0, 0, 0), EINVAL);
	CHECK_ERR(sys(SYS_prctl, 39, 1, 0, 0, 0), EINVAL);
	CHECK_ERR(sys(SYS_prctl, 0x53564d41 /* PR_SET_VMA */, 0, 0, 0, 0), EINVAL);
	CHECK_ERR(sys(SYS_prctl, -1), EINVAL);
}

/* sysinfo: the guest's memory is --mem, and what is mapped is not free. */
TEST(sysinfo_tells_the_guest_memory)
{
	boot(&(struct boot_opts){ .mem_mib = 32 });
	struct sysinfo si;
	unsigned char *raw = (unsigned char *)&si;
	memset(&si, 0xa5, sizeof si);
	CHECK_OK(sys(SYS_sysinfo, &si));
	for (size_t i = 112; i < sizeof si; i++) /* the kernel writes 112 bytes: not musl's reserved tail */
		if (raw[i] != 0xa5) FAIL("sysinfo wrote byte %zu, past the kernel's struct", i);
	CHECK_EQ(si.mem_unit, 1);
	CHECK_EQ(si.totalram, 32UL << 20);
	CHECK(si.freeram > 0 && si.freeram < si.totalram);
	CHECK_EQ(si.procs, 1);
	unsigned long before = si.freeram;
	CHECK_OK(sys(SYS_mmap, 0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK_OK(sys(SYS_sysinfo, &si));
	CHECK_EQ(si.freeram, before - (1 << 20));
}

TEST(no_other_processes)
{
	boot(0);
	CHECK_ERR(sys(SYS_fork), ENOSYS);
	CHECK_ERR(sys(SYS_vfork), ENOSYS);
	CHECK_ERR(sys(SYS_execve, "/bin/sh", 0, 0), ENOSYS);
	CHECK_ERR(sys(SYS_kill, 2, SIGTERM), ESRCH); /* there is no other process to signal */
	CHECK_ERR(sys(SYS_tgkill, 7, 1, SIGTERM), ESRCH);
	CHECK_ERR(sys(SYS_wait4, -1, 0, 0, 0), ECHILD);
	CHECK_ERR(sys(SYS_ptrace, 0, 0, 0, 0), ENOSYS);
	CHECK_ERR(sys(100000), ENOSYS);
	CHECK_ERR(sys(-1), ENOSYS);
}

/* What SYS_rt_sigaction takes: the kernel's struct k_sigaction (musl's src/internal/ksigaction.h
 * and __libc_sigaction), 32 bytes on x86-64, not libc's 152-byte struct sigaction. */
struct k_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

TEST(signal_actions_and_masks_are_kept)
{
	boot(0);
	struct k_sigaction act = { (void *)1, 0x04000000 /* SA_RESTORER */, (void *)2, 1u << 9 };
	/* old in a roomy buffer: see rt_sigaction_writes_only_a_kernel_sigaction */
	union {
		struct k_sigaction k;
		char room[256];
	} old;
	CHECK_OK(sys(SYS_rt_sigaction, SIGUSR1, &act, 0, 8));
	CHECK_OK(sys(SYS_rt_sigaction, SIGUSR1, 0, &old, 8));
	CHECK_EQ((long)old.k.handler, 1);
	CHECK_EQ(old.k.flags, 0x04000000);
	CHECK_EQ((long)old.k.restorer, 2);
	CHECK_EQ(old.k.mask, 1u << 9);
	CHECK_ERR(sys(SYS_rt_sigaction, SIGKILL, &act, 0, 8), EINVAL);
	CHECK_ERR(sys(SYS_rt_sigaction, 65, &act, 0, 8), EINVAL);
	CHECK_ERR(sys(SYS_rt_sigaction, SIGUSR1, &act, 0, 128), EINVAL); /* the kernel's sigset is 8 bytes */
	uint64_t set = 1u << 3, was = 99;
	CHECK_OK(sys(SYS_rt_sigprocmask, SIG_BLOCK, &set, &was, 8));
	CHECK_EQ(was, 0);
	CHECK_OK(sys(SYS_rt_sigprocmask, SIG_SETMASK, 0, &was, 8));
	CHECK_EQ(was, 1u << 3);
	CHECK_ERR(sys(SYS_rt_sigprocmask, 99, &set, 0, 8), EINVAL);
}

/* What a signal the process sends itself does without a handler: the default action of an
 * ignored-by-default signal is nothing, any other default ends it (handlers: test_signal.c). */
TEST(signals_to_self)
{
	boot(0);
	CHECK_OK(sys(SYS_kill, 1, 0)); /* a probe: we exist */
	CHECK_OK(sys(SYS_tgkill, 1, 1, 0)); /* and so does the main thread */
	CHECK_ERR(sys(SYS_tgkill, 1, 9999, 0), ESRCH);
	CHECK_OK(sys(SYS_tgkill, 1, 1, SIGURG)); /* default: ignored (Go's preemption signal) */
	CHECK_OK(sys(SYS_kill, 1, SIGCHLD));
	struct k_sigaction act = { (void *)1, 0x04000000, 0, 0 }; /* SIG_IGN */
	CHECK_OK(sys(SYS_rt_sigaction, SIGTERM, &act, 0, 8));
	CHECK_OK(sys(SYS_kill, 1, SIGTERM));
	act.handler = 0; /* SIG_DFL: SIGTERM ends the process */
	CHECK_OK(sys(SYS_rt_sigaction, SIGTERM, &act, 0, 8));
	jmp_buf jb;
	fake.exit_jmp = &jb;
	if (setjmp(jb) == 0) {
		sys(SYS_kill, 1, SIGTERM);
		FAIL("kill(1, SIGTERM) returned");
	}
	CHECK_EQ(fake.exit_code, 128 + SIGTERM);
}

/* The kernel's stack_t. */
struct k_stack {
	void *sp;
	int flags;
	size_t size;
};

TEST(sigaltstack_is_kept_per_thread)
{
	boot(0);
	static char area[16384];
	struct k_stack ss = { area, 0, sizeof area }, old = { (void *)1, 99, 1 };
	CHECK_OK(sys(SYS_sigaltstack, 0, &old));
	CHECK_EQ(old.flags, SS_DISABLE);
	CHECK_OK(sys(SYS_sigaltstack, &ss, 0));
	CHECK_OK(sys(SYS_sigaltstack, 0, &old));
	CHECK_EQ(old.sp, area);
	CHECK_EQ(old.size, sizeof area);
	CHECK_EQ(old.flags, 0);
	ss.size = 100;
	CHECK_ERR(sys(SYS_sigaltstack, &ss, 0), ENOMEM);
	ss.flags = 0x1234;
	CHECK_ERR(sys(SYS_sigaltstack, &ss, 0), EINVAL);
	ss.flags = SS_DISABLE;
	CHECK_OK(sys(SYS_sigaltstack, &ss, 0));
	CHECK_OK(sys(SYS_sigaltstack, 0, &old));
	CHECK_EQ(old.flags, SS_DISABLE);
}

TEST(rt_sigaction_writes_only_a_kernel_sigaction)
{
	boot(0);
	/* act, then other bytes: what an over-read of act picks up differs from buf's 0xee */
	static union {
		struct k_sigaction k;
		unsigned char room[256];
	} act;
	memset(&act, 0x11, sizeof act);
	act.k = (struct k_sigaction){ (void *)1, 0, 0, 0 };
	static unsigned char buf[256];
	memset(buf, 0xee, sizeof buf);
	CHECK_OK(sys(SYS_rt_sigaction, SIGUSR2, &act, 0, 8));
	CHECK_OK(sys(SYS_rt_sigaction, SIGUSR2, 0, buf, 8));
	CHECK_EQ(((struct k_sigaction *)buf)->handler, 1);
	for (size_t i = sizeof(struct k_sigaction); i < sizeof buf; i++)
		if (buf[i] != 0xee) FAIL("byte %zu past the 32-byte struct k_sigaction was written", i);
}

/* The thread pointer moves: only raw calls (no libc) until it is back. */
TEST(arch_prctl_sets_and_gets_the_fs_base)
{
	boot(0);
	static uint64_t tcb[8] __attribute__((aligned(64)));
	uint64_t got = 0, saved = cpu_fs_base();
	long set = libos_syscall(SYS_arch_prctl, ARCH_SET_FS, (long)tcb, 0, 0, 0, 0);
	uint64_t now = cpu_fs_base();
	long get = libos_syscall(SYS_arch_prctl, ARCH_GET_FS, (long)&got, 0, 0, 0, 0);
	long back = libos_syscall(SYS_arch_prctl, ARCH_SET_FS, (long)saved, 0, 0, 0, 0);
	CHECK_EQ(cpu_fs_base(), host_fs);
	CHECK_EQ(set, 0);
	CHECK_EQ(now, (uint64_t)(uintptr_t)tcb);
	CHECK_EQ(get, 0);
	CHECK_EQ(got, (uint64_t)(uintptr_t)tcb);
	CHECK_EQ(back, 0);
	CHECK_ERR(sys(SYS_arch_prctl, 0x9999, 0), EINVAL);
}

TEST(arch_prctl_outside_user_space_is_eperm_and_changes_nothing)
{
	boot(0);
	uint64_t got = 0;
	CHECK_ERR(sys(SYS_arch_prctl, ARCH_SET_FS, 1UL << 47), EPERM); /* sys() checks the FS base stayed */
	CHECK_ERR(sys(SYS_arch_prctl, ARCH_SET_FS, -4096L), EPERM);
	CHECK_OK(sys(SYS_arch_prctl, ARCH_GET_FS, &got));
	CHECK_EQ(got, host_fs);
}

TEST(the_app_starts_with_no_fs_base)
{
	boot(0);
	CHECK_EQ(guest.fs_after_init, 0);
}

/* cpu mode: wrfsbase, never the host call (the filter would kill it); host-call mode: the
 * pinned hypercall at boot, arch_prctl and every switch. */
static int yield_once(void *arg)
{
	(void)arg;
	libos_syscall(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
	return 0;
}

TEST(the_fs_base_is_set_the_way_the_boot_flag_says)
{
	boot(0);
	long at_boot = fake.fs_sets; /* libos_init's clear, and boot() giving ours back */
	CHECK_OK(spawn(yield_once, 0, 0, 0));
	sys(SYS_sched_yield);
	sys(SYS_sched_yield);
	long switching = fake.fs_sets - at_boot;
	if (fs_host_call) {
		CHECK_EQ(at_boot, 2);
		CHECK(switching >= 3); /* to the thread, back, to it, back (or it ended) */
	} else {
		CHECK_EQ(at_boot, 0);
		CHECK_EQ(switching, 0);
	}
}

TEST(libos_panic_on_an_abi_mismatch)
{
	/* A boot struct of another ABI version: refused loudly, before anything else. */
	static struct nabla_boot b = { .abi_version = NABLA_ABI_VERSION + 1 };
	jmp_buf jb;
	fake.exit_jmp = &jb;
	if (setjmp(jb) == 0) {
		libos_init(&b, 0);
		FAIL("libos_init accepted ABI version %u", b.abi_version);
	}
	CHECK_EQ(fake.exit_code, 127);
	CHECK(strstr(fake.out[2], "ABI version") != 0);
}
