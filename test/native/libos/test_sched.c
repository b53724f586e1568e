/* sched.c and switch.S: green threads (clone, yield, exit), futex, sleeping, deadlock. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "harness.h"

/* From Linux's uapi/linux/futex.h. */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAIT_BITSET 9
#define FUTEX_PRIVATE 128
#define FUTEX_CLOCK_REALTIME 256

static long futex_wait(int *w, int val, const struct timespec *ts)
{
	return sys(SYS_futex, w, FUTEX_WAIT | FUTEX_PRIVATE, val, ts, 0, 0);
}

static long futex_wake(int *w, int n)
{
	return sys(SYS_futex, w, FUTEX_WAKE | FUTEX_PRIVATE, n, 0, 0, 0);
}

static long ms_since(uint64_t t0)
{
	return (long)((now_ns() - t0) / 1000000u);
}

static int set_to_one(void *arg)
{
	*(volatile int *)arg = 1;
	return 0;
}

TEST(thread_runs_when_the_parent_yields)
{
	boot(0);
	volatile int flag = 0;
	long tid = CHECK_OK(spawn(set_to_one, (void *)&flag, 0, 0));
	CHECK(tid > 1);
	CHECK_EQ(flag, 0); /* nothing runs until the running thread lets go */
	CHECK_EQ(sys(SYS_sched_yield), 0);
	CHECK_EQ(flag, 1);
	CHECK_EQ(sys(SYS_gettid), 1);
	CHECK_EQ(sys(SYS_sched_yield), 0); /* alone again: returns at once */
}

static int record_tid(void *arg)
{
	*(long *)arg = sys(SYS_gettid);
	return 0;
}

TEST(clone_sets_parent_and_child_tids)
{
	boot(0);
	size_t size = 64 << 10;
	char *stack = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ptid = 0, ctid = 0;
	long seen = 0;
	long tid = CHECK_OK(libos_clone(record_tid, stack + size,
					THREAD_FLAGS | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID, &seen, &ptid,
					(void *)host_fs, &ctid));
	CHECK_EQ(ptid, tid);
	CHECK_EQ(ctid, tid);
	sys(SYS_sched_yield);
	CHECK_EQ(seen, tid);
	long second = CHECK_OK(spawn(record_tid, &seen, 0, 0));
	CHECK(second != tid);
	CHECK_EQ(sys(SYS_set_tid_address, &ctid), 1);
}

TEST(clone_without_the_thread_flags_is_enosys)
{
	boot(0);
	char *stack = mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int flag = 0;
	CHECK_ERR(libos_clone(set_to_one, stack + 65536, 17 /* SIGCHLD: fork */, &flag, 0, 0, 0), ENOSYS);
	CHECK_ERR(libos_clone(set_to_one, stack + 65536, THREAD_FLAGS & ~CLONE_THREAD, &flag, 0, 0, 0), ENOSYS);
	sys(SYS_sched_yield);
	CHECK_EQ(flag, 0);
}

/* A thread with its own TLS must not touch libc (whose TLS it lacks): raw calls only. */
static uint64_t child_fs;
static int read_fs_base(void *arg)
{
	(void)arg;
	child_fs = cpu_fs_base();
	libos_syscall(SYS_sched_yield, 0, 0, 0, 0, 0, 0); /* back to main and here again */
	child_fs = child_fs == cpu_fs_base() ? child_fs : 1;
	return 0;
}

TEST(clone_settls_gives_the_child_its_fs_base_and_keeps_ours)
{
	boot(0);
	static uint64_t tcb[64] __attribute__((aligned(64)));
	tcb[0] = (uint64_t)(uintptr_t)tcb; /* a self pointer, as a TCB has */
	char *stack = mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK_OK(libos_clone(read_fs_base, stack + 65536, THREAD_FLAGS | CLONE_SETTLS, 0, 0, tcb, 0));
	CHECK_EQ(cpu_fs_base(), host_fs);
	sys(SYS_sched_yield); /* sys() fails the case if our FS base did not come back */
	CHECK_EQ(child_fs, (uint64_t)(uintptr_t)tcb);
	sys(SYS_sched_yield);
	CHECK_EQ(child_fs, (uint64_t)(uintptr_t)tcb); /* still its own after a switch */
	CHECK_EQ(cpu_fs_base(), host_fs);
	CHECK_ERR(libos_clone(read_fs_base, stack + 65536, THREAD_FLAGS | CLONE_SETTLS, 0, 0, (void *)(1UL << 47), 0), EPERM);
}

static int count_up(void *arg)
{
	(*(volatile int *)arg)++;
	return 0;
}

TEST(clone_runs_out_of_threads_with_eagain)
{
	boot(0);
	volatile int ran = 0;
	int made = 0;
	long r;
	while ((r = spawn(count_up, (void *)&ran, 0, 0)) > 0) made++;
	CHECK_ERR(r, EAGAIN);
	CHECK_EQ(made, 4095); /* 4096 threads with the main one: a server's thousand clients fit */
	sys(SYS_sched_yield);
	CHECK_EQ(ran, 4095); /* each ran once and exited */
	CHECK_OK(spawn(count_up, (void *)&ran, 0, 0)); /* exited threads' slots are free again */
	sys(SYS_sched_yield);
	CHECK_EQ(ran, 4096);
}

TEST(futex_wait_with_a_changed_value_is_eagain)
{
	boot(0);
	int w = 1;
	CHECK_ERR(futex_wait(&w, 0, 0), EAGAIN);
	CHECK_ERR(sys(SYS_futex, &w, FUTEX_WAIT, 2, 0, 0, 0), EAGAIN);
	CHECK_EQ(futex_wake(&w, 1), 0); /* nobody waits */
	CHECK_ERR(sys(SYS_futex, &w, 99, 0, 0, 0, 0), ENOSYS);
}

#define ROUNDS 20
static int woken_count;
static int pong(void *arg)
{
	int *w = arg;
	for (int i = 0; i < ROUNDS; i++) {
		while (__atomic_load_n(w, __ATOMIC_SEQ_CST) != 2 * i + 1) {
			long r = futex_wait(w, *w, 0);
			if (r == 0) woken_count++;
			else if (r != -EAGAIN) FAIL("child's FUTEX_WAIT = %ld", r);
		}
		*w = 2 * i + 2;
		futex_wake(w, 1);
	}
	return 0;
}

TEST(futex_wait_wake_handshake_between_two_threads)
{
	boot(0);
	static int w, ctid;
	CHECK_OK(spawn(pong, &w, CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID, &ctid));
	int wakes = 0;
	for (int i = 0; i < ROUNDS; i++) {
		w = 2 * i + 1;
		wakes += (int)futex_wake(&w, 1);
		while (__atomic_load_n(&w, __ATOMIC_SEQ_CST) != 2 * i + 2) {
			long r = futex_wait(&w, w, 0);
			if (r == 0) woken_count++;
			else if (r != -EAGAIN) FAIL("main's FUTEX_WAIT = %ld", r);
		}
	}
	CHECK_EQ(w, 2 * ROUNDS);
	CHECK(wakes >= ROUNDS - 1); /* the child was asleep on the word */
	CHECK(woken_count >= 2 * ROUNDS - 2); /* each side was woken, not only EAGAIN'd */
	while (ctid) futex_wait(&ctid, ctid, 0);
}

static int wait_on(void *arg)
{
	static int woke;
	long r = futex_wait(arg, 0, 0);
	if (r != 0) FAIL("waiter's FUTEX_WAIT = %ld, want 0", r);
	woke++;
	return woke;
}

TEST(futex_wake_wakes_at_most_n)
{
	boot(0);
	static int w;
	for (int i = 0; i < 3; i++) CHECK_OK(spawn(wait_on, &w, 0, 0));
	sys(SYS_sched_yield); /* all three now wait */
	CHECK_EQ(futex_wake(&w, 1), 1);
	CHECK_EQ(futex_wake(&w + 1, 10), 0); /* another word */
	CHECK_EQ(futex_wake(&w, 10), 2);
	CHECK_EQ(futex_wake(&w, 10), 0);
	sys(SYS_sched_yield);
}

TEST(futex_wait_with_a_timeout_is_etimedout_after_that_long)
{
	boot(0);
	int w = 0;
	struct timespec ts = { 0, 100 * 1000000 };
	uint64_t t0 = now_ns();
	CHECK_ERR(futex_wait(&w, 0, &ts), ETIMEDOUT);
	long ms = ms_since(t0);
	if (ms < 100 || ms > 600) FAIL("timed out after %ld ms, want about 100", ms);
	/* alone, the libOS slept in the tender's ppoll rather than spinning */
	CHECK(fake.sleeps >= 1 && fake.sleeps <= 5);
	CHECK(fake.slept_ns >= 90 * 1000000u);
	struct timespec zero = { 0, 0 };
	CHECK_ERR(futex_wait(&w, 0, &zero), ETIMEDOUT);
}

static int yield_until(void *arg)
{
	while (!*(volatile int *)arg) sys(SYS_sched_yield);
	return 0;
}

TEST(futex_timeout_expires_while_another_thread_runs)
{
	boot(0);
	static int stop, w;
	CHECK_OK(spawn(yield_until, &stop, 0, 0));
	struct timespec ts = { 0, 50 * 1000000 };
	uint64_t t0 = now_ns();
	CHECK_ERR(futex_wait(&w, 0, &ts), ETIMEDOUT);
	long ms = ms_since(t0);
	stop = 1;
	if (ms < 50 || ms > 550) FAIL("timed out after %ld ms, want about 50", ms);
	sys(SYS_sched_yield);
}

TEST(futex_wait_bitset_takes_an_absolute_deadline)
{
	boot(0);
	int w = 0;
	struct timespec now, at;
	clock_gettime(CLOCK_MONOTONIC, &now);
	at = now;
	at.tv_nsec += 80 * 1000000;
	if (at.tv_nsec >= 1000000000) at.tv_sec++, at.tv_nsec -= 1000000000;
	uint64_t t0 = now_ns();
	CHECK_ERR(sys(SYS_futex, &w, FUTEX_WAIT_BITSET | FUTEX_PRIVATE, 0, &at, 0, -1), ETIMEDOUT);
	long ms = ms_since(t0);
	if (ms < 75 || ms > 580) FAIL("monotonic deadline: woke after %ld ms, want about 80", ms);
	clock_gettime(CLOCK_REALTIME, &at);
	at.tv_nsec += 60 * 1000000;
	if (at.tv_nsec >= 1000000000) at.tv_sec++, at.tv_nsec -= 1000000000;
	t0 = now_ns();
	CHECK_ERR(sys(SYS_futex, &w, FUTEX_WAIT_BITSET | FUTEX_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &at, 0, -1), ETIMEDOUT);
	ms = ms_since(t0);
	if (ms < 55 || ms > 560) FAIL("realtime deadline: woke after %ld ms, want about 60", ms);
	now.tv_sec -= 10; /* in the past: at once */
	CHECK_ERR(sys(SYS_futex, &w, FUTEX_WAIT_BITSET | FUTEX_PRIVATE, 0, &now, 0, -1), ETIMEDOUT);
}

static int a_word, b_word, requeue_woke;
static int wait_on_a(void *arg)
{
	(void)arg;
	long r = futex_wait(&a_word, 0, 0);
	if (r != 0) FAIL("FUTEX_WAIT on a = %ld", r);
	requeue_woke++;
	return 0;
}

TEST(futex_cmp_requeue_moves_waiters)
{
	boot(0);
	CHECK_OK(spawn(wait_on_a, 0, 0, 0));
	CHECK_OK(spawn(wait_on_a, 0, 0, 0));
	sys(SYS_sched_yield);
	CHECK_ERR(sys(SYS_futex, &a_word, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE, 1, 1, &b_word, 5), EAGAIN);
	/* wake 1, move up to 1 (the count rides in the timeout argument) to b */
	CHECK_EQ(sys(SYS_futex, &a_word, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE, 1, 1, &b_word, 0), 2);
	CHECK_EQ(futex_wake(&a_word, 10), 0);
	CHECK_EQ(futex_wake(&b_word, 10), 1);
	sys(SYS_sched_yield);
	CHECK_EQ(requeue_woke, 2);
}

static int work_then_exit(void *arg)
{
	for (int i = 0; i < 3; i++) sys(SYS_sched_yield);
	*(volatile int *)arg = 42;
	return 0;
}

TEST(clone_child_cleartid_zeroes_and_wakes_at_thread_exit)
{
	boot(0);
	static int ctid, result;
	long tid = CHECK_OK(spawn(work_then_exit, &result, CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID, &ctid));
	CHECK_EQ(ctid, tid);
	int waits = 0;
	while (ctid) {
		long r = futex_wait(&ctid, (int)tid, 0); /* what pthread_join does */
		if (r == 0) waits++;
		else if (r != -EAGAIN) FAIL("FUTEX_WAIT on ctid = %ld", r);
	}
	CHECK_EQ(waits, 1); /* woken once, by the exit */
	CHECK_EQ(result, 42);
}

TEST(nanosleep_sleeps_and_checks_its_argument)
{
	boot(0);
	struct timespec ts = { 0, 50 * 1000000 };
	uint64_t t0 = now_ns();
	CHECK_OK(sys(SYS_nanosleep, &ts, 0));
	long ms = ms_since(t0);
	if (ms < 50 || ms > 550) FAIL("slept %ld ms, want about 50", ms);
	struct timespec bad = { 0, 1000000000 };
	CHECK_ERR(sys(SYS_nanosleep, &bad, 0), EINVAL);
	bad = (struct timespec){ -1, 0 };
	CHECK_ERR(sys(SYS_nanosleep, &bad, 0), EINVAL);
	CHECK_ERR(sys(SYS_nanosleep, 0, 0), EINVAL);
	struct timespec past = { 1, 0 };
	t0 = now_ns();
	CHECK_OK(sys(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &past, 0));
	CHECK(ms_since(t0) < 50);
}

static int sleep_then_flag(void *arg)
{
	struct timespec ts = { 0, 40 * 1000000 };
	sys(SYS_nanosleep, &ts, 0);
	*(volatile int *)arg = 1;
	return 0;
}

TEST(a_sleeping_thread_lets_the_others_run)
{
	boot(0);
	static int flag;
	CHECK_OK(spawn(sleep_then_flag, &flag, 0, 0));
	long yields = 0;
	uint64_t t0 = now_ns();
	while (!flag) {
		sys(SYS_sched_yield);
		yields++;
	}
	CHECK(yields > 1); /* main kept running while the child slept */
	CHECK(ms_since(t0) >= 39);
}

static int wait_forever(void *arg)
{
	futex_wait(arg, 0, 0);
	return 0;
}

static void deadlock_two(void *arg)
{
	(void)arg;
	static int a, b;
	boot(0);
	spawn(wait_forever, &b, 0, 0);
	futex_wait(&a, 0, 0); /* main waits on a, the child on b: nobody is left to wake anyone */
}

TEST(every_thread_blocked_forever_panics_with_deadlock)
{
	struct child c;
	run_child(deadlock_two, 0, &c);
	if (!c.exited || c.code != 127) FAIL("exit %d (signal %d), want 127; output: %s", c.code, c.signal, c.out);
	CHECK(strstr(c.out, "nabla libOS: deadlock") != 0);
}

static void deadlock_alone(void *arg)
{
	(void)arg;
	static int a;
	boot(0);
	futex_wait(&a, 0, 0);
}

TEST(the_only_thread_waiting_forever_panics_with_deadlock)
{
	struct child c;
	run_child(deadlock_alone, 0, &c);
	if (!c.exited || c.code != 127) FAIL("exit %d (signal %d), want 127; output: %s", c.code, c.signal, c.out);
	CHECK(strstr(c.out, "deadlock") != 0);
}

static int yield_then_return_7(void *arg)
{
	sys(SYS_sched_yield);
	*(volatile int *)arg = 1;
	return 7;
}

static void main_exits_first(void *arg)
{
	boot(0);
	CHECK_OK(spawn(yield_then_return_7, arg, 0, 0));
	sys(SYS_exit, 3); /* only this thread: the child goes on */
	FAIL("SYS_exit returned");
}

TEST(the_last_threads_exit_is_the_processs)
{
	static int child_done;
	CHECK_EQ(run_to_exit(main_exits_first, &child_done), 7);
	CHECK_EQ(child_done, 1);
}

static void exit_group_now(void *arg)
{
	boot(0);
	CHECK_OK(spawn(set_to_one, arg, 0, 0));
	sys(SYS_exit_group, 42);
	FAIL("SYS_exit_group returned");
}

TEST(exit_group_ends_every_thread_at_once)
{
	static int flag;
	CHECK_EQ(run_to_exit(exit_group_now, &flag), 42);
	CHECK_EQ(flag, 0); /* the other thread never ran */
}

static void exit_alone(void *arg)
{
	(void)arg;
	boot(0);
	sys(SYS_exit, 5);
}

TEST(exit_of_the_only_thread_exits_the_process)
{
	CHECK_EQ(run_to_exit(exit_alone, 0), 5);
}

static uint32_t get_mxcsr(void)
{
	uint32_t v;
	__asm__ volatile("stmxcsr %0"
			 : "=m"(v));
	return v;
}

static void set_mxcsr(uint32_t v) { __asm__ volatile("ldmxcsr %0"
						     :
						     : "m"(v)); }

#define MXCSR_ROUNDING 0x6000u /* bits 13-14: nearest, down, up, toward zero */
static volatile uint32_t child_started_with;

static int round_down_and_yield(void *unused)
{
	(void)unused;
	child_started_with = get_mxcsr();
	set_mxcsr((get_mxcsr() & ~MXCSR_ROUNDING) | 0x2000u); /* down */
	libos_syscall(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
	return 0;
}

/* MXCSR's control bits are callee-saved (as the x87 control word): a thread that blocked or
 * yielded in a call made as a function gets its own rounding back, whatever ran meanwhile. */
TEST(a_thread_switch_keeps_each_threads_rounding_mode)
{
	boot(0);
	uint32_t nearest = get_mxcsr() & ~MXCSR_ROUNDING;
	set_mxcsr(nearest | MXCSR_ROUNDING); /* toward zero */
	CHECK_OK(spawn(round_down_and_yield, 0, 0, 0));
	CHECK_OK(sys(SYS_sched_yield)); /* the child runs, rounds down, yields back */
	CHECK_EQ(child_started_with & MXCSR_ROUNDING, MXCSR_ROUNDING); /* clone copied ours */
	CHECK_EQ(get_mxcsr() & MXCSR_ROUNDING, MXCSR_ROUNDING); /* and ours came back */
	set_mxcsr(nearest);
}
