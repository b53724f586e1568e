/* syscall.c: the fast call, the function a program that was not relinked (Node's glibc,
 * through its shim; Go's raw system call) calls instead of trapping for its reads, writes
 * and waits. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "harness.h"

typedef long (*fastcall_fn)(long n, long a1, long a2, long a3, long a4, long a5, long a6);

/* Boots as for a program that was not relinked (an app entry of its own, as the tender gives
 * Node's loader), and asks for the fast call as its shim does: by the call that traps. */
static fastcall_fn boot_and_ask(void)
{
	boot(0);
	guest.boot->app_entry = 0x400000;
	long entry = CHECK_OK(sys(NABLA_SYS_FASTCALL));
	CHECK(entry != 0);
	return (fastcall_fn)entry;
}

/* The same, with the thread's libOS stack, which that trapped call makes (trap.c). */
static fastcall_fn boot_trapped_app(void)
{
	fastcall_fn f = boot_and_ask();
	sched_kstack_top();
	return f;
}

#define fast(f, n, a1, a2, a3) (f)((n), (long)(a1), (long)(a2), (long)(a3), 0, 0, 0)

TEST(fastcall_is_answered_only_to_a_program_that_was_not_relinked)
{
	boot(0);
	CHECK_ERR(sys(NABLA_SYS_FASTCALL), ENOSYS); /* a relinked app calls the libOS anyway */
	guest.boot->app_entry = 0x400000;
	CHECK(sys(NABLA_SYS_FASTCALL) > 0);
}

TEST(fastcall_before_the_thread_has_a_libos_stack_goes_the_trap_path)
{
	fastcall_fn f = boot_and_ask();
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	/* Making the stack here would run the allocator on the caller's (a goroutine's few KiB). */
	CHECK(!sched_has_kstack());
	CHECK_EQ(fast(f, SYS_write, fds[1], "x", 1), NABLA_FASTCALL_SLOW);
	CHECK(!sched_has_kstack());
	sched_kstack_top(); /* the thread's first trapped call */
	CHECK_EQ(fast(f, SYS_write, fds[1], "x", 1), 1);
}

void call_on_stack_and_return(void *sp, void (*fn)(void *), void *arg); /* switch.S */

struct on_stack {
	fastcall_fn f;
	int fd;
	long ret;
};

static void write_here(void *arg)
{
	struct on_stack *c = arg;
	c->ret = fast(c->f, SYS_write, c->fd, "x", 1);
}

/* Go's raw system call (toolchains/go/syscall6_linux_amd64.s) gives the fast call 312 bytes
 * of a goroutine's stack, within what Go's linker lets a nosplit chain use: what runs
 * before the move to the libOS stack must stay within that (with room to spare). */
TEST(fastcall_uses_under_288_bytes_of_the_callers_stack)
{
	fastcall_fn f = boot_trapped_app();
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	static uint8_t stack[4096] __attribute__((aligned(16)));
	memset(stack, 0xa5, sizeof stack);
	struct on_stack c = { f, fds[1], 0 };
	call_on_stack_and_return(stack + sizeof stack, write_here, &c);
	CHECK_EQ(c.ret, 1);
	size_t untouched = 0;
	while (untouched < sizeof stack && stack[untouched] == 0xa5) untouched++;
	size_t used = sizeof stack - untouched; /* write_here's own frame included */
	CHECK(used > 64);
	CHECK(used <= 288);
	printf("# the fast call used %zu bytes of the caller's stack\n", used);
	fflush(stdout);
}

TEST(fastcall_reads_and_writes_as_the_calls_do)
{
	fastcall_fn f = boot_trapped_app();
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	CHECK_EQ(fast(f, SYS_write, fds[1], "hello", 5), 5);
	struct iovec iov[2] = { { (void *)", ", 2 }, { (void *)"nabla", 5 } };
	CHECK_EQ(fast(f, SYS_writev, fds[1], iov, 2), 7);
	char buf[32] = { 0 };
	CHECK_EQ(fast(f, SYS_read, fds[0], buf, sizeof buf), 12);
	CHECK_STR(buf, "hello, nabla");
	CHECK_EQ(fast(f, SYS_read, 999, buf, 1), -EBADF); /* errors come back as the call's */
	CHECK_EQ(fast(f, SYS_write, fds[0], "x", 1), -EBADF);
	CHECK_EQ(*sched_in_libos(), 0); /* the app's code again, preemptible */
}

TEST(fastcall_leaves_other_calls_to_the_trap_path)
{
	fastcall_fn f = boot_trapped_app();
	CHECK_EQ(fast(f, SYS_getpid, 0, 0, 0), NABLA_FASTCALL_SLOW);
	CHECK_EQ(fast(f, SYS_clone, 0, 0, 0), NABLA_FASTCALL_SLOW);
	CHECK_EQ(fast(f, SYS_rt_sigreturn, 0, 0, 0), NABLA_FASTCALL_SLOW);
	CHECK_EQ(fast(f, -1, 0, 0, 0), NABLA_FASTCALL_SLOW);
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	struct epoll_event ev;
	uint64_t mask = 0;
	CHECK_EQ(f(SYS_epoll_pwait, ep, (long)&ev, 1, 0, (long)&mask, 8), NABLA_FASTCALL_SLOW); /* a mask for the wait */
	CHECK_EQ(f(SYS_epoll_pwait, ep, (long)&ev, 1, 0, 0, 8), 0);
}

static int write_later(void *fd)
{
	libos_syscall(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
	libos_syscall(SYS_write, (long)fd, (long)"late", 4, 0, 0, 0);
	return 0;
}

TEST(fastcall_waits_and_lets_other_threads_run_as_the_call_does)
{
	fastcall_fn f = boot_trapped_app();
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	CHECK_OK(spawn(write_later, (void *)(long)fds[1], 0, 0));
	char buf[8] = { 0 };
	CHECK_EQ(fast(f, SYS_read, fds[0], buf, sizeof buf), 4); /* blocked until the other wrote */
	CHECK_STR(buf, "late");
	CHECK_EQ(*sched_in_libos(), 0);
}

/* The kernel's struct sigaction, as rt_sigaction takes it. */
struct k_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static void never_called(int sig) { (void)sig; }

static void handle_usr1(void)
{
	/* A program that was not relinked gives its restorer, as glibc does. */
	struct k_sigaction act = { (void *)never_called, SA_RESTORER, (void *)0x400100, 0 };
	CHECK_OK(sys(SYS_rt_sigaction, SIGUSR1, &act, 0, 8));
}

TEST(fastcall_steps_aside_while_a_signal_waits_for_its_handler)
{
	fastcall_fn f = boot_trapped_app();
	handle_usr1();
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	CHECK_EQ(fast(f, SYS_write, fds[1], "kept", 4), 4);
	signal_arrived(SIGUSR1);
	char buf[8] = { 0 };
	/* Only the trap path runs a handler: the shim makes the call as a system call. */
	CHECK_EQ(fast(f, SYS_read, fds[0], buf, sizeof buf), NABLA_FASTCALL_SLOW);
	CHECK_EQ(sys(SYS_read, fds[0], buf, sizeof buf), 4); /* and nothing was taken meanwhile */
	CHECK_STR(buf, "kept");
}

TEST(fastcall_takes_calls_while_a_blocked_signal_waits)
{
	fastcall_fn f = boot_trapped_app();
	handle_usr1();
	uint64_t usr1 = 1ULL << (SIGUSR1 - 1);
	CHECK_OK(sys(SYS_rt_sigprocmask, SIG_BLOCK, &usr1, 0, 8));
	signal_arrived(SIGUSR1); /* pending, but this thread takes it only once it unblocks it */
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	CHECK_EQ(fast(f, SYS_write, fds[1], "x", 1), 1);
}

static int signal_later(void *unused)
{
	(void)unused;
	libos_syscall(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
	signal_arrived(SIGUSR1);
	return 0;
}

TEST(fastcall_cut_short_by_a_signal_goes_the_trap_path)
{
	fastcall_fn f = boot_trapped_app();
	handle_usr1();
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	CHECK_OK(spawn(signal_later, 0, 0, 0));
	char buf[8];
	/* The wait ends for the signal: the trap path decides between EINTR and a restart. */
	CHECK_EQ(fast(f, SYS_read, fds[0], buf, sizeof buf), NABLA_FASTCALL_SLOW);
	CHECK_EQ(*sched_in_libos(), 0);
}
