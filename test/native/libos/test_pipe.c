/* pipe.c and poll/select in fs.c: pipes between green threads, and readiness. */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/select.h>

#include "harness.h"

struct ends {
	int r, w;
};

static int write_hello_and_close(void *arg)
{
	struct ends *e = arg;
	sys(SYS_write, e->w, "hello", 5);
	sys(SYS_close, e->w);
	return 0;
}

TEST(pipe_carries_bytes_between_threads_then_ends_with_eof)
{
	boot(0);
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	struct ends e = { fds[0], fds[1] };
	CHECK_OK(spawn(write_hello_and_close, &e, 0, 0));
	char buf[16] = { 0 };
	CHECK_EQ(sys(SYS_read, fds[0], buf, sizeof buf), 5); /* blocks until the writer ran */
	CHECK_MEM(buf, "hello", 5);
	CHECK_EQ(sys(SYS_read, fds[0], buf, sizeof buf), 0); /* writer closed: end of file */
	CHECK_ERR(sys(SYS_lseek, fds[0], 0, SEEK_SET), ESPIPE);
	struct stat st;
	CHECK_OK(sys(SYS_fstat, fds[0], &st));
	CHECK_EQ(st.st_mode, S_IFIFO | 0600);
}

TEST(pipe_write_without_a_reader_is_epipe_and_nonblock_is_eagain)
{
	boot(0);
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, O_NONBLOCK | O_CLOEXEC));
	char buf[4];
	CHECK_ERR(sys(SYS_read, fds[0], buf, sizeof buf), EAGAIN);
	CHECK_EQ(sys(SYS_fcntl, fds[0], F_GETFD), FD_CLOEXEC);
	static char big[70000];
	CHECK_EQ(sys(SYS_write, fds[1], big, sizeof big), 65536); /* full: the rest would block */
	CHECK_ERR(sys(SYS_write, fds[1], big, 1), EAGAIN);
	CHECK_OK(sys(SYS_close, fds[0]));
	CHECK_ERR(sys(SYS_write, fds[1], big, 1), EPIPE);
	CHECK_ERR(sys(SYS_pipe2, fds, 0x4000 /* O_DIRECT: not supported */), EINVAL);
}

TEST(poll_reports_pipe_readiness_and_times_out)
{
	boot(0);
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	struct pollfd p[3] = { { fds[0], POLLIN, 0 }, { fds[1], POLLOUT, 0 }, { 99, POLLIN, 0 } };
	CHECK_EQ(sys(SYS_poll, p, 3, 0), 2);
	CHECK_EQ(p[0].revents, 0);
	CHECK_EQ(p[1].revents, POLLOUT);
	CHECK_EQ(p[2].revents, POLLNVAL);
	uint64_t start = now_ns();
	CHECK_EQ(sys(SYS_poll, p, 1, 30), 0); /* nothing to read: waits the 30 ms */
	CHECK(now_ns() - start >= 30000000);
	CHECK_EQ(sys(SYS_write, fds[1], "x", 1), 1);
	CHECK_EQ(sys(SYS_poll, p, 1, -1), 1);
	CHECK_EQ(p[0].revents, POLLIN);
	CHECK_OK(sys(SYS_close, fds[1]));
	char c;
	CHECK_EQ(sys(SYS_read, fds[0], &c, 1), 1);
	CHECK_EQ(sys(SYS_poll, p, 1, 0), 1);
	CHECK_EQ(p[0].revents, POLLHUP);
}

static int write_late(void *arg)
{
	struct ends *e = arg;
	struct timespec ts = { 0, 5000000 };
	sys(SYS_nanosleep, &ts, 0);
	sys(SYS_write, e->w, "y", 1);
	return 0;
}

TEST(select_waits_for_a_pipe_written_by_another_thread)
{
	boot(0);
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	struct ends e = { fds[0], fds[1] };
	CHECK_OK(spawn(write_late, &e, 0, 0));
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(fds[0], &rd);
	CHECK_EQ(sys(SYS_select, fds[0] + 1, &rd, 0, 0, 0), 1); /* no timeout: woken by the write */
	CHECK(FD_ISSET(fds[0], &rd));
	fd_set none;
	FD_ZERO(&none);
	FD_SET(fds[1], &none);
	struct timeval tv = { 0, 0 };
	CHECK_EQ(sys(SYS_select, fds[1] + 1, 0, &none, 0, &tv), 1); /* the write end has room */
	FD_ZERO(&none);
	FD_SET(77, &none);
	CHECK_ERR(sys(SYS_select, 78, &none, 0, 0, &tv), EBADF);
	struct pollfd out = { 1, POLLOUT, 0 };
	CHECK_EQ(sys(SYS_poll, &out, 1, 0), 1); /* the console is always writable */
}

static int close_then_write(void *arg)
{
	struct ends *e = arg;
	sys(SYS_close, e->r); /* the read end's fd: the reader blocked on it keeps its file */
	e->w = (int)sys(SYS_write, e->w, "x", 1);
	return 0;
}

/* As on Linux: a read that waits keeps its file open, even if another thread closes the fd. */
TEST(pipe_read_keeps_its_file_while_another_thread_closes_the_fd)
{
	boot(0);
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	struct ends e = { fds[0], fds[1] };
	CHECK_OK(spawn(close_then_write, &e, 0, 0));
	char c = 0;
	CHECK_EQ(sys(SYS_read, fds[0], &c, 1), 1);
	CHECK_EQ(c, 'x');
	CHECK_EQ(e.w, 1); /* the write found a reader, not EPIPE */
	CHECK_ERR(sys(SYS_read, fds[0], &c, 1), EBADF); /* the fd itself is gone */
}

TEST(pipes_closed_give_back_their_memory)
{
	boot(0); /* 64 MiB of guest memory: a few hundred bytes kept per pipe would run out */
	/* libos_syscall, not sys(): sys()'s FS-base check is a host call each time, and host
	 * calls may cost microseconds. */
	for (int i = 0; i < 400000; i++) {
		int fds[2];
		CHECK_OK(libos_syscall(SYS_pipe2, (long)fds, 0, 0, 0, 0, 0));
		CHECK_OK(libos_syscall(SYS_close, fds[i % 2], 0, 0, 0, 0, 0));
		CHECK_OK(libos_syscall(SYS_close, fds[!(i % 2)], 0, 0, 0, 0, 0));
	}
}
