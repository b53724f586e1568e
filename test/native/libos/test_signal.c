/* signal.c: handlers run when a call returns, waits cut short (EINTR, SA_RESTART),
 * masks, rt_sigsuspend, and the default actions of signals from the host. */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "harness.h"

/* The kernel's struct sigaction, as rt_sigaction takes it. */
struct k_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};
#define BIT(sig) (1ULL << ((sig)-1))

static volatile int handled, last_signo, last_code, last_pid;
static volatile uint64_t mask_in_handler;

static void count(int sig)
{
	handled++;
	last_signo = sig;
	uint64_t mask = 0;
	sys(SYS_rt_sigprocmask, SIG_SETMASK, 0, &mask, 8); /* a call from inside the handler */
	mask_in_handler = mask;
}

static void count_info(int sig, siginfo_t *info, void *uc)
{
	(void)uc;
	handled++;
	last_signo = info->si_signo == sig ? sig : -1;
	last_code = info->si_code;
	last_pid = info->si_pid;
}

static void set_handler(int sig, void *handler, unsigned long flags)
{
	struct k_sigaction act = { handler, flags, 0, 0 };
	CHECK_OK(sys(SYS_rt_sigaction, sig, &act, 0, 8));
}

/* A host signal, as the tender routes one (docker stop), from another green thread. */
static int host_sends(void *sig)
{
	signal_arrived((int)(long)sig);
	return 0;
}

static int host_sends_then_writes(void *fd)
{
	signal_arrived(SIGUSR1);
	libos_syscall(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
	libos_syscall(SYS_write, (long)fd, (long)"x", 1, 0, 0, 0);
	return 0;
}

TEST(signal_handler_runs_when_the_call_returns)
{
	boot(0);
	handled = 0;
	set_handler(SIGUSR1, count, 0);
	CHECK_OK(sys(SYS_tkill, 1, SIGUSR1));
	CHECK_EQ(handled, 1);
	CHECK_EQ(last_signo, SIGUSR1);
	CHECK_EQ(mask_in_handler, BIT(SIGUSR1)); /* blocked while its handler runs */
	uint64_t mask = 1;
	CHECK_OK(sys(SYS_rt_sigprocmask, SIG_SETMASK, 0, &mask, 8));
	CHECK_EQ(mask, 0u); /* and unblocked after */
	set_handler(SIGUSR2, count_info, SA_SIGINFO);
	CHECK_OK(sys(SYS_kill, 1, SIGUSR2));
	CHECK_EQ(handled, 2);
	CHECK_EQ(last_signo, SIGUSR2);
	CHECK_EQ(last_code, SI_USER);
}

TEST(signal_resethand_runs_once_then_the_default_ends_the_process)
{
	boot(0);
	handled = 0;
	set_handler(SIGHUP, count, SA_RESETHAND);
	CHECK_OK(sys(SYS_kill, 1, SIGHUP));
	CHECK_EQ(handled, 1);
	jmp_buf jb;
	fake.exit_jmp = &jb;
	if (setjmp(jb) == 0) {
		sys(SYS_kill, 1, SIGHUP);
		FAIL("the second SIGHUP returned");
	}
	CHECK_EQ(fake.exit_code, 128 + SIGHUP);
}

TEST(signal_blocked_stays_pending_until_unblocked)
{
	boot(0);
	handled = 0;
	set_handler(SIGUSR1, count, 0);
	uint64_t block = BIT(SIGUSR1), pending = 0;
	CHECK_OK(sys(SYS_rt_sigprocmask, SIG_BLOCK, &block, 0, 8));
	CHECK_OK(sys(SYS_tkill, 1, SIGUSR1));
	CHECK_EQ(handled, 0);
	CHECK_OK(sys(SYS_rt_sigpending, &pending, 8));
	CHECK_EQ(pending, BIT(SIGUSR1));
	CHECK_OK(sys(SYS_rt_sigprocmask, SIG_UNBLOCK, &block, 0, 8)); /* runs on the way back */
	CHECK_EQ(handled, 1);
	CHECK_OK(sys(SYS_rt_sigpending, &pending, 8));
	CHECK_EQ(pending, 0u);
}

TEST(signal_from_the_host_cuts_a_blocked_read_short)
{
	boot(0);
	handled = 0;
	set_handler(SIGUSR1, count, 0);
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	CHECK_OK(spawn(host_sends, (void *)(long)SIGUSR1, 0, 0));
	char c;
	CHECK_ERR(sys(SYS_read, fds[0], &c, 1), EINTR); /* the main thread takes it */
	CHECK_EQ(handled, 1);
}

TEST(signal_with_sa_restart_restarts_the_read)
{
	boot(0);
	handled = 0;
	set_handler(SIGUSR1, count, SA_RESTART);
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	CHECK_OK(spawn(host_sends_then_writes, (void *)(long)fds[1], 0, 0));
	char c = 0;
	CHECK_EQ(sys(SYS_read, fds[0], &c, 1), 1);
	CHECK_EQ(c, 'x');
	CHECK_EQ(handled, 1);
}

TEST(signal_cuts_a_sleep_short_and_says_what_was_left)
{
	boot(0);
	handled = 0;
	set_handler(SIGINT, count, SA_RESTART); /* sleeps are never restarted */
	CHECK_OK(spawn(host_sends, (void *)(long)SIGINT, 0, 0));
	struct timespec req = { 5, 0 }, rem = { 0, 0 };
	uint64_t start = now_ns();
	CHECK_ERR(sys(SYS_nanosleep, &req, &rem), EINTR);
	CHECK(now_ns() - start < 1000000000u);
	CHECK(rem.tv_sec >= 4 && rem.tv_sec <= 5);
	CHECK_EQ(handled, 1);
}

TEST(signal_sigsuspend_waits_with_its_mask_for_a_handler)
{
	boot(0);
	handled = 0;
	set_handler(SIGTERM, count, 0);
	uint64_t block = BIT(SIGTERM), during = 0, after = 0;
	CHECK_OK(sys(SYS_rt_sigprocmask, SIG_BLOCK, &block, 0, 8));
	CHECK_OK(spawn(host_sends, (void *)(long)SIGTERM, 0, 0));
	CHECK_ERR(sys(SYS_rt_sigsuspend, &during, 8), EINTR);
	CHECK_EQ(handled, 1);
	CHECK_EQ(mask_in_handler, BIT(SIGTERM));
	CHECK_OK(sys(SYS_rt_sigprocmask, SIG_SETMASK, 0, &after, 8));
	CHECK_EQ(after, BIT(SIGTERM)); /* the thread's own mask is back */
}

TEST(signal_from_the_host_with_the_default_action)
{
	boot(0);
	signal_arrived(SIGWINCH); /* ignored by default: nothing */
	set_handler(SIGINT, (void *)1 /* SIG_IGN */, 0);
	signal_arrived(SIGINT);
	uint64_t pending = 1;
	CHECK_OK(sys(SYS_rt_sigpending, &pending, 8));
	CHECK_EQ(pending, 0u);
	jmp_buf jb;
	fake.exit_jmp = &jb;
	if (setjmp(jb) == 0) {
		signal_arrived(SIGTERM); /* docker stop: ends at once, as a kill would */
		FAIL("SIGTERM with its default action returned");
	}
	CHECK_EQ(fake.exit_code, 128 + SIGTERM);
}

static volatile long handler_tid, read_result;
static void record_thread(int sig)
{
	(void)sig;
	handled++;
	handler_tid = libos_syscall(SYS_gettid, 0, 0, 0, 0, 0, 0);
}

static int read_one(void *fd)
{
	char c;
	read_result = libos_syscall(SYS_read, (long)fd, (long)&c, 1, 0, 0, 0);
	return 0;
}

/* tgkill: only that thread takes it (Go's preemption request), even when another could. */
TEST(signal_to_one_thread_waits_for_that_thread)
{
	boot(0);
	handled = 0;
	set_handler(SIGURG, record_thread, 0);
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	long tid = CHECK_OK(spawn(read_one, (void *)(long)fds[0], 0, 0));
	sys(SYS_sched_yield); /* it blocks in read */
	CHECK_OK(sys(SYS_tgkill, 1, tid, SIGURG));
	CHECK_EQ(handled, 0); /* not the sender's */
	sys(SYS_sched_yield);
	CHECK_EQ(handled, 1);
	CHECK_EQ(handler_tid, tid);
	CHECK_EQ(read_result, -EINTR);
}

/* siginfo names the sender as Linux would: glibc's setxid handler (setuid in a threaded
 * program: Node's process.setuid) runs only for SI_TKILL from its own pid, and waits
 * forever for the threads whose handler returned early. */
TEST(signal_siginfo_says_who_sent_it)
{
	boot(0);
	handled = 0;
	set_handler(SIGUSR1, count_info, SA_SIGINFO);
	CHECK_OK(sys(SYS_tgkill, 1, 1, SIGUSR1));
	CHECK_EQ(handled, 1);
	CHECK_EQ(last_code, SI_TKILL);
	CHECK_EQ(last_pid, 1);
	CHECK_OK(sys(SYS_kill, 1, SIGUSR1));
	CHECK_EQ(handled, 2);
	CHECK_EQ(last_code, SI_USER);
	CHECK_EQ(last_pid, 1);
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	CHECK_OK(spawn(host_sends, (void *)(long)SIGUSR1, 0, 0));
	char c;
	CHECK_ERR(sys(SYS_read, fds[0], &c, 1), EINTR);
	CHECK_EQ(handled, 3);
	CHECK_EQ(last_code, SI_USER);
	CHECK_EQ(last_pid, 0); /* from outside the container */
}
