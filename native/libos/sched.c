/*
 * Threads are green threads on one vCPU: clone makes a thread the libOS schedules itself,
 * switching when the running one blocks (futex wait, sleep, yield, exit) or when the
 * tender's CPU-time tick finds it in the app's own code (trap.c: preempt). When every
 * thread waits, the libOS sleeps in the tender's ppoll until the nearest deadline (first
 * net_idle delivers what the loopback holds; with a network it waits until then or a
 * frame); when every thread waits with no deadline and the network stack has nothing to
 * wait for, only a signal's handler could wake them (signal.c); without one, that is a
 * deadlock. The alarm (setitimer ITIMER_REAL, alarm) rings here too: the scheduler sends
 * SIGALRM when it passes the alarm's time, and sleeps no longer than that.
 */
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "libos.h"

/* As many threads as a thread-per-connection server with a thousand clients and more needs
 * (Linux's default limits allow tens of thousands). The scans below stop at the highest
 * slot ever used, so a small app pays for its own threads only. */
#define MAX_THREADS 4096

/* From Linux's uapi/linux/futex.h (musl ships no kernel headers). */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK 0x7f

enum state {
	FREE,
	RUNNABLE,
	WAITING,
	DEAD
};

struct thread {
	enum state state;
	int tid;
	uint64_t rsp; /* saved stack pointer while switched out */
	uint64_t fs; /* thread pointer (TLS) */
	int (*fn)(void *);
	void *arg;
	int *clear_tid; /* CLONE_CHILD_CLEARTID: zeroed and woken at exit */
	const volatile void *futex; /* WAITING on this address (0: only a deadline) */
	uint64_t deadline; /* WAITING until this monotonic time (0: none) */
	int woken;
	int interrupted; /* a wait cut short for a signal's handler */
	uint8_t *kstack; /* where the libOS serves this thread's trapped calls (trap.c) */
	void *resume_frame; /* a trapped clone's child: starts by returning to the app here */
	int in_libos; /* running libOS code (or code it called): not preemptible */
	struct thread_signals signals;
};

static struct thread threads[MAX_THREADS];
static int slots_used = 1; /* threads[slots_used..] have never been used */
static struct thread *current = &threads[0];
static int next_tid = 2;

void ctx_switch(uint64_t *save_rsp, uint64_t load_rsp);
uint64_t ctx_new_frame(uint64_t *sp);

void sched_init(void)
{
	threads[0].state = RUNNABLE;
	threads[0].tid = 1;
}

/* A waiting thread that is to run a handler stops waiting. A signal sent to one thread
 * waits for that thread; one sent to the process, for the main thread if it does not block
 * it (as CPython expects), else the first thread that does not. */
static void interrupt_for_signals(void)
{
	uint64_t for_process = signal_process_pending();
	for (int i = 0; i < slots_used; i++) {
		struct thread *t = &threads[i];
		if (t->state != RUNNABLE && t->state != WAITING) continue;
		uint64_t takes = (for_process | t->signals.pending) & ~t->signals.mask;
		if (!takes) continue;
		if (t->state == WAITING) {
			t->state = RUNNABLE;
			t->interrupted = 1;
		}
		for_process &= ~takes; /* taken care of by this thread */
	}
}

/* The alarm: SIGALRM at this monotonic time (0: none), then every alarm_every ns (0: once). */
static uint64_t alarm_at, alarm_every;

/* Rings the alarm if its time has come; else returns its time (0: none). */
static uint64_t alarm_check(uint64_t now)
{
	if (!alarm_at || now < alarm_at) return alarm_at;
	/* An interval timer that fell behind rings once and keeps its rhythm, as Linux's. */
	alarm_at = alarm_every ? alarm_at + alarm_every * (1 + (now - alarm_at) / alarm_every) : 0;
	signal_arrived(SIGALRM);
	return alarm_at;
}

/* Runs another thread until this one is runnable again; returns when it is. */
static void reschedule(void)
{
	net_tick(); /* now and then, frames from the network even while threads keep running */
	for (;;) {
		uint64_t now = alarm_at ? time_now_ns(CLOCK_MONOTONIC) : 0, nearest = alarm_at ? alarm_check(now) : 0;
		interrupt_for_signals();
		int waiting = 0;
		int start = (int)(current - threads);
		for (int i = 1; i <= slots_used; i++) {
			struct thread *t = &threads[(start + i) % slots_used];
			if (t->state == WAITING && t->deadline) {
				if (!now) now = time_now_ns(CLOCK_MONOTONIC);
				if (now >= t->deadline) t->state = RUNNABLE;
				else if (!nearest || t->deadline < nearest) nearest = t->deadline;
			}
			if (t->state == WAITING) waiting++;
			if (t->state != RUNNABLE) continue;
			if (t != current) {
				mem_settle(); /* no other thread sees a guard page that does not fault yet */
				struct thread *from = current;
				from->fs = tp_get();
				current = t;
				if (tp_set(t->fs) < 0) libos_panic("the host refused a thread's FS base");
				ctx_switch(&from->rsp, t->rsp);
			}
			return;
		}
		if (net_idle(nearest)) continue; /* the stack's packets and timers (with a network: frames) */
		if (!nearest && waiting && signal_handlers_installed()) {
			hc_sleep(0); /* until a signal (docker stop, Ctrl-C) runs a handler */
			continue;
		}
		if (!nearest) libos_panic(waiting ? "deadlock: every thread waits and none can be woken" : "no thread left to run");
		uint64_t left = nearest - now;
		struct timespec ts = time_timespec(left);
		hc_sleep(&ts);
	}
}

/* Blocks the running thread on futex (may be 0) until woken or deadline (0: none).
 * Returns 1 if woken, 0 at the deadline, -EINTR for a signal. */
static int block(const volatile void *futex, uint64_t deadline)
{
	current->state = WAITING;
	current->futex = futex;
	current->deadline = deadline;
	current->woken = 0;
	reschedule();
	current->futex = 0;
	current->deadline = 0;
	if (current->interrupted) {
		current->interrupted = 0;
		return -EINTR;
	}
	return current->woken;
}

static int wake(const volatile void *futex, int count)
{
	int woken = 0;
	for (int i = 0; i < slots_used && woken < count; i++) {
		struct thread *t = &threads[i];
		if (t->state == WAITING && t->futex == futex) {
			t->state = RUNNABLE;
			t->woken = 1;
			woken++;
		}
	}
	return woken;
}

int sched_wait(const void *key, uint64_t deadline)
{
	return block(key, deadline);
}

void sched_wake_all(const void *key)
{
	wake(key, MAX_THREADS);
}

static _Noreturn void thread_exit(int code);

_Noreturn void thread_main(void)
{
	if (current->resume_frame) trap_return(current->resume_frame, &current->in_libos);
	current->in_libos = 0; /* from here on, the app's code */
	int ret = current->fn(current->arg);
	current->in_libos = 1; /* back in the libOS: its exit, as SYS_exit */
	thread_exit(ret);
}

static int clone_thread(int (*fn)(void *), void *stack, int flags, void *arg, int *ptid, void *tls, int *ctid);

int libos_clone(int (*fn)(void *), void *stack, int flags, void *arg, int *ptid, void *tls, int *ctid)
{
	int outer = current->in_libos;
	current->in_libos = 1;
	int tid = clone_thread(fn, stack, flags, arg, ptid, tls, ctid);
	current->in_libos = outer;
	return tid;
}

static int clone_thread(int (*fn)(void *), void *stack, int flags, void *arg, int *ptid, void *tls, int *ctid)
{
	const int needed = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
	if ((flags & needed) != needed) return -ENOSYS; /* a new process: there are none */
	struct thread *t = 0;
	for (int i = 1; i < MAX_THREADS && !t; i++)
		if ((threads[i].state == FREE || threads[i].state == DEAD) && &threads[i] != current) t = &threads[i];
	if (!t) return -EAGAIN;
	if (t - threads >= slots_used) slots_used = (int)(t - threads) + 1;
	if ((flags & CLONE_SETTLS) && (uint64_t)tls >= USER_SPACE_END) return -EPERM; /* as Linux */
	/* The slot's libOS stack belonged to a dead thread: nothing runs on it any more. */
	if (t->kstack) mem_free(t->kstack, KSTACK_SIZE);
	memset(t, 0, sizeof *t);
	t->signals.mask = current->signals.mask; /* a new thread inherits the signal mask */
	t->in_libos = 1; /* it starts in thread_main */
	t->tid = next_tid++;
	t->fn = fn;
	t->arg = arg;
	t->fs = flags & CLONE_SETTLS ? (uint64_t)tls : tp_get();
	if (flags & CLONE_CHILD_CLEARTID) t->clear_tid = ctid;
	if (flags & CLONE_PARENT_SETTID) *ptid = t->tid;
	if (flags & CLONE_CHILD_SETTID) *ctid = t->tid;
	t->rsp = ctx_new_frame((uint64_t *)((uintptr_t)stack & ~(uintptr_t)15));
	t->state = RUNNABLE;
	return t->tid;
}

int sched_has_kstack(void)
{
	return current->kstack != 0;
}

uint8_t *sched_kstack_top(void)
{
	if (!current->kstack) current->kstack = mem_alloc(KSTACK_SIZE);
	return current->kstack + KSTACK_SIZE;
}

void sched_set_trap_child(int tid, uint8_t *kstack, void *resume_frame)
{
	for (int i = 0; i < slots_used; i++)
		if (threads[i].tid == tid && threads[i].state == RUNNABLE) {
			threads[i].kstack = kstack;
			threads[i].resume_frame = resume_frame;
		}
}

int *sched_in_libos(void)
{
	return &current->in_libos;
}

struct thread_signals *sched_signals_of(int tid)
{
	for (int i = 0; i < slots_used; i++)
		if (threads[i].tid == tid && (threads[i].state == RUNNABLE || threads[i].state == WAITING)) return &threads[i].signals;
	return 0;
}

struct thread_signals *sched_signals(void)
{
	return &current->signals;
}

static _Noreturn void thread_exit(int code)
{
	int others = 0;
	for (int i = 0; i < slots_used; i++)
		if (&threads[i] != current && (threads[i].state == RUNNABLE || threads[i].state == WAITING)) others++;
	if (!others) hc_exit(code); /* the last thread's exit is the process's */
	if (current->clear_tid) {
		*current->clear_tid = 0;
		wake(current->clear_tid, 1 << 30);
	}
	current->state = DEAD;
	reschedule();
	libos_panic("a dead thread was scheduled");
}

/* A detached thread's exit (musl's pthread_exit) gives back the stack it runs on. It is
 * freed at the next such exit, when surely no thread runs on it: until the switch away
 * the exit still runs there, and the scheduler may allocate meanwhile (the network's
 * buffers, while it waits for a thread to become runnable). */
static uintptr_t dead_stack;
static size_t dead_stack_size;

_Noreturn void libos_unmapself(void *base, size_t size)
{
	current->in_libos = 1;
	if (dead_stack) sys_munmap(dead_stack, dead_stack_size);
	dead_stack = (uintptr_t)base;
	dead_stack_size = size;
	thread_exit(0);
}

static uint64_t deadline_of(const struct timespec *timeout, int absolute, int clock)
{
	if (!timeout) return 0;
	uint64_t ns = (uint64_t)timeout->tv_sec * 1000000000u + (uint64_t)timeout->tv_nsec;
	if (absolute) {
		/* An absolute REALTIME deadline, converted to the monotonic clock the scheduler uses. */
		uint64_t now = time_now_ns(clock);
		ns = ns > now ? ns - now : 0;
	}
	return time_now_ns(CLOCK_MONOTONIC) + ns + 1;
}

static long futex(int *uaddr, int op, int val, const struct timespec *timeout, int *uaddr2, int val3)
{
	int cmd = op & FUTEX_CMD_MASK;
	int clock = op & FUTEX_CLOCK_REALTIME ? CLOCK_REALTIME : CLOCK_MONOTONIC;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET: {
		if (*(volatile int *)uaddr != val) return -EAGAIN;
		uint64_t deadline = deadline_of(timeout, cmd == FUTEX_WAIT_BITSET, clock);
		int r = block(uaddr, deadline);
		return r > 0 ? 0 : (r == 0 ? -ETIMEDOUT : r);
	}
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET: return wake(uaddr, val);
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE: {
		if (cmd == FUTEX_CMP_REQUEUE && *(volatile int *)uaddr != val3) return -EAGAIN;
		int woken = wake(uaddr, val), moved = 0;
		for (int i = 0; i < slots_used && moved < (int)(long)timeout; i++)
			if (threads[i].state == WAITING && threads[i].futex == uaddr) {
				threads[i].futex = uaddr2;
				moved++;
			}
		return woken + moved;
	}
	default: return -ENOSYS;
	}
}

/* The alarm as setitimer(ITIMER_REAL) reports it: time left and interval. */
static void alarm_get(struct itimerval *value)
{
	uint64_t now = time_now_ns(CLOCK_MONOTONIC);
	/* A time to come never reads as 0 (that would say "disarmed"). */
	uint64_t left = !alarm_at ? 0 : (alarm_at > now ? alarm_at - now : 1000);
	value->it_value = time_timeval(left);
	value->it_interval = time_timeval(alarm_every);
}

/* A timer's time in ns, at most ~292 years (Linux clamps too; a product would wrap). */
static uint64_t timeval_ns(const struct timeval *tv)
{
	const uint64_t max_s = UINT64_MAX / 1000000000u / 2;
	uint64_t s = (uint64_t)tv->tv_sec < max_s ? (uint64_t)tv->tv_sec : max_s;
	return s * 1000000000u + (uint64_t)tv->tv_usec * 1000u;
}

/* Only the wall-clock timer: there are no CPU-time clocks to drive ITIMER_VIRTUAL or
 * ITIMER_PROF (the tender's preemption tick is its own). */
static long itimer(int which, const struct itimerval *value, struct itimerval *old)
{
	if (which != ITIMER_REAL) return -EINVAL;
	if (value) {
		const struct timeval *v = &value->it_value, *i = &value->it_interval;
		if (v->tv_sec < 0 || v->tv_usec < 0 || v->tv_usec >= 1000000 || i->tv_sec < 0 || i->tv_usec < 0 || i->tv_usec >= 1000000)
			return -EINVAL;
	}
	if (old) alarm_get(old);
	if (!value) return 0;
	uint64_t first = timeval_ns(&value->it_value);
	alarm_every = first ? timeval_ns(&value->it_interval) : 0;
	alarm_at = first ? time_now_ns(CLOCK_MONOTONIC) + first : 0;
	return 0;
}

/* alarm(2): seconds left of the previous alarm, rounded to the nearest (at least 1). */
static long sys_alarm(unsigned seconds)
{
	struct itimerval value = { .it_value = { .tv_sec = seconds } }, old;
	itimer(ITIMER_REAL, &value, &old);
	long left = old.it_value.tv_sec + (old.it_value.tv_usec >= 500000);
	return left ? left : (old.it_value.tv_usec ? 1 : 0);
}

/* nanosleep, clock_nanosleep: cut short by a signal, a relative sleep says what was left. */
static long sleep_for(const struct timespec *req, int absolute, int clock, struct timespec *rem)
{
	if (!req || req->tv_nsec < 0 || req->tv_nsec >= 1000000000 || req->tv_sec < 0) return -EINVAL;
	uint64_t deadline = deadline_of(req, absolute, clock);
	if (block(0, deadline) == 0) return 0;
	if (rem && !absolute) {
		uint64_t now = time_now_ns(CLOCK_MONOTONIC), left = deadline > now ? deadline - now : 0;
		*rem = time_timespec(left);
	}
	return -EINTR;
}

long sched_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6, int *handled)
{
	*handled = 1;
	switch (n) {
	case SYS_futex: return futex((int *)a1, (int)a2, (int)a3, (const struct timespec *)a4, (int *)a5, (int)a6);
	case SYS_sched_yield: reschedule(); return 0;
	case SYS_gettid: return current->tid;
	case SYS_set_tid_address: current->clear_tid = (int *)a1; return current->tid;
	case SYS_exit: thread_exit((int)a1);
	case SYS_nanosleep: return sleep_for((const struct timespec *)a1, 0, CLOCK_MONOTONIC, (struct timespec *)a2);
	case SYS_clock_nanosleep: return sleep_for((const struct timespec *)a3, (int)a2 & TIMER_ABSTIME, (int)a1, (struct timespec *)a4);
	case SYS_setitimer: return itimer((int)a1, (const struct itimerval *)a2, (struct itimerval *)a3);
	case SYS_getitimer: return itimer((int)a1, 0, (struct itimerval *)a2);
	case SYS_alarm: return sys_alarm((unsigned)a1);
	default: *handled = 0; return -ENOSYS;
	}
}
