/* pipe.c and poll/select in fs.c: pipes between green threads, readiness, and splice. */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>

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

/* ---- splice ---- */

TEST(splice_moves_a_file_into_a_pipe_and_the_pipe_into_a_file)
{
	boot(0);
	static char data[10000], got[10000];
	for (size_t i = 0; i < sizeof data; i++) data[i] = (char)('a' + i % 23);
	int src = (int)CHECK_OK(sys(SYS_open, "/tmp/src", O_CREAT | O_RDWR, 0644));
	CHECK_EQ(sys(SYS_write, src, data, sizeof data), sizeof data);
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	/* At an offset: it moves, the file's position does not. */
	int64_t off = 100;
	CHECK_EQ(sys(SYS_splice, src, &off, fds[1], 0, 5000, 0), 5000);
	CHECK_EQ(off, 5100);
	CHECK_EQ(sys(SYS_lseek, src, 0, SEEK_CUR), sizeof data);
	/* At the position, which moves: the rest of the file, then its end. */
	CHECK_OK(sys(SYS_lseek, src, 5100, SEEK_SET));
	CHECK_EQ(sys(SYS_splice, src, 0, fds[1], 0, 1 << 20, 0), 4900);
	CHECK_EQ(sys(SYS_splice, src, 0, fds[1], 0, 100, 0), 0);
	/* The pipe into another file, in two calls. */
	int dst = (int)CHECK_OK(sys(SYS_open, "/tmp/dst", O_CREAT | O_RDWR, 0644));
	CHECK_EQ(sys(SYS_splice, fds[0], 0, dst, 0, 3000, 0x1 /* SPLICE_F_MOVE */), 3000);
	int64_t at = 3000;
	CHECK_EQ(sys(SYS_splice, fds[0], 0, dst, &at, 1 << 20, 0), 6900);
	CHECK_EQ(at, 9900);
	CHECK_EQ(sys(SYS_lseek, dst, 0, SEEK_CUR), 3000);
	CHECK_EQ(sys(SYS_pread64, dst, got, sizeof got, 0), 9900);
	CHECK_MEM(got, data + 100, 9900);
	/* An empty pipe: EAGAIN without waiting, the end once its writer is gone. */
	CHECK_ERR(sys(SYS_splice, fds[0], 0, dst, 0, 10, 0x2 /* SPLICE_F_NONBLOCK */), EAGAIN);
	CHECK_OK(sys(SYS_close, fds[1]));
	CHECK_EQ(sys(SYS_splice, fds[0], 0, dst, 0, 10, 0), 0);
}

TEST(splice_refuses_what_linux_refuses)
{
	boot(0);
	int p[2], q[2], sv[2];
	CHECK_OK(sys(SYS_pipe2, p, 0));
	CHECK_OK(sys(SYS_pipe2, q, O_NONBLOCK));
	CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv));
	int file = (int)CHECK_OK(sys(SYS_open, "/tmp/f", O_CREAT | O_RDWR, 0644));
	int ro = (int)CHECK_OK(sys(SYS_open, "/tmp/f", O_RDONLY));
	int app = (int)CHECK_OK(sys(SYS_open, "/tmp/f", O_WRONLY | O_APPEND));
	CHECK_EQ(sys(SYS_write, p[1], "abc", 3), 3);
	int64_t off = 0, neg = -1;
	CHECK_ERR(sys(SYS_splice, file, 0, sv[0], 0, 10, 0), EINVAL); /* no pipe on either side */
	CHECK_ERR(sys(SYS_splice, p[0], &off, file, 0, 10, 0), ESPIPE); /* an offset on the pipe's side */
	CHECK_ERR(sys(SYS_splice, file, 0, p[1], &off, 10, 0), ESPIPE);
	CHECK_ERR(sys(SYS_splice, p[0], 0, sv[0], &off, 10, 0), ESPIPE); /* an offset for a socket */
	CHECK_ERR(sys(SYS_splice, p[0], 0, file, &neg, 10, 0), EINVAL);
	CHECK_ERR(sys(SYS_splice, p[0], 0, p[1], 0, 10, 0), EINVAL); /* a pipe into itself */
	CHECK_ERR(sys(SYS_splice, p[0], 0, app, 0, 10, 0), EINVAL); /* O_APPEND */
	CHECK_ERR(sys(SYS_splice, p[0], 0, ro, 0, 10, 0), EBADF); /* not open for writing */
	CHECK_ERR(sys(SYS_splice, p[1], 0, file, 0, 10, 0), EBADF); /* the write end is no source */
	CHECK_ERR(sys(SYS_splice, 99, 0, p[1], 0, 10, 0), EBADF);
	CHECK_ERR(sys(SYS_splice, p[0], 0, file, 0, 10, 0x10), EINVAL); /* an unknown flag */
	CHECK_EQ(sys(SYS_splice, p[0], 0, file, 0, 0, 0), 0); /* nothing asked: nothing moved */
	/* Pipe to pipe: what is there, then EAGAIN on the empty non-blocking one. */
	CHECK_EQ(sys(SYS_splice, p[0], 0, q[1], 0, 10, 0), 3);
	char buf[8];
	CHECK_EQ(sys(SYS_read, q[0], buf, sizeof buf), 3);
	CHECK_MEM(buf, "abc", 3);
	CHECK_ERR(sys(SYS_splice, q[0], 0, p[1], 0, 10, 0), EAGAIN); /* q is O_NONBLOCK */
	/* A pipe with no reader left: EPIPE, and its bytes stay. */
	CHECK_EQ(sys(SYS_write, p[1], "xyz", 3), 3);
	CHECK_OK(sys(SYS_close, q[0]));
	CHECK_ERR(sys(SYS_splice, p[0], 0, q[1], 0, 10, 0), EPIPE);
	CHECK_EQ(sys(SYS_read, p[0], buf, sizeof buf), 3);
}

struct splice_race {
	int pipe_r, peer;
	long filled; /* bytes in the peer's way before the splice */
	char got[8];
	long got_len;
	char drained[70000];
	long drained_len;
};

static int read_the_pipe(void *arg)
{
	struct splice_race *s = arg;
	s->got_len = sys(SYS_read, s->pipe_r, s->got, sizeof s->got);
	return 0;
}

static int drain_the_peer(void *arg)
{
	struct splice_race *s = arg;
	sleep_ms_unchecked(5);
	while (s->drained_len < s->filled + 8) {
		long n = sys(SYS_read, s->peer, s->drained + s->drained_len, sizeof s->drained - (size_t)s->drained_len);
		if (n <= 0) break;
		s->drained_len += n;
	}
	return 0;
}

/* A splice out of a pipe that waits on its destination keeps the bytes it peeked: a reader
 * of the pipe meanwhile waits, then gets what came after them, never the same bytes. */
TEST(splice_waiting_on_a_socket_holds_the_pipe_against_its_readers)
{
	boot(0);
	int p[2], sv[2];
	CHECK_OK(sys(SYS_pipe2, p, 0));
	CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv));
	static char filler[65536];
	memset(filler, '.', sizeof filler);
	CHECK_OK(sys(SYS_fcntl, sv[0], F_SETFL, O_NONBLOCK));
	long filled = 0, n;
	while ((n = sys(SYS_write, sv[0], filler, sizeof filler)) > 0) filled += n;
	CHECK_OK(sys(SYS_fcntl, sv[0], F_SETFL, 0)); /* full: a write now waits */
	CHECK_EQ(sys(SYS_write, p[1], "ABCDEFGH", 8), 8);
	static struct splice_race s;
	s.pipe_r = p[0];
	s.peer = sv[1];
	s.filled = filled;
	CHECK_OK(spawn(read_the_pipe, &s, 0, 0));
	CHECK_OK(spawn(drain_the_peer, &s, 0, 0));
	CHECK_EQ(sys(SYS_splice, p[0], 0, sv[0], 0, 8, 0), 8); /* waits for the drain */
	CHECK_EQ(s.got_len, 0); /* the reader still waits: the pipe is empty now */
	CHECK_EQ(sys(SYS_write, p[1], "XY", 2), 2);
	sleep_ms_unchecked(1);
	CHECK_EQ(s.got_len, 2);
	CHECK_MEM(s.got, "XY", 2);
	sleep_ms_unchecked(1);
	CHECK_EQ(s.drained_len, filled + 8);
	CHECK_MEM(s.drained + filled, "ABCDEFGH", 8);
}

struct slow_source {
	int w;
};

static int write_twice(void *arg)
{
	struct slow_source *s = arg;
	sleep_ms_unchecked(5);
	sys(SYS_write, s->w, "first", 5);
	sleep_ms_unchecked(5);
	sys(SYS_write, s->w, "second", 6);
	sys(SYS_close, s->w);
	return 0;
}

/* From a socket into a pipe: the first read waits, the call returns what came (no second
 * wait), SPLICE_F_NONBLOCK does not wait at all, and the peer's close is the end. */
TEST(splice_from_a_socket_waits_once_and_ends_at_its_close)
{
	boot(0);
	int p[2], sv[2];
	CHECK_OK(sys(SYS_pipe2, p, 0));
	CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_ERR(sys(SYS_splice, sv[0], 0, p[1], 0, 100, 0x2 /* SPLICE_F_NONBLOCK */), EAGAIN);
	struct slow_source s = { sv[1] };
	CHECK_OK(spawn(write_twice, &s, 0, 0));
	CHECK_EQ(sys(SYS_splice, sv[0], 0, p[1], 0, 100, 0), 5);
	CHECK_EQ(sys(SYS_splice, sv[0], 0, p[1], 0, 100, 0), 6);
	CHECK_EQ(sys(SYS_splice, sv[0], 0, p[1], 0, 100, 0), 0);
	char buf[16];
	CHECK_EQ(sys(SYS_read, p[0], buf, sizeof buf), 11);
	CHECK_MEM(buf, "firstsecond", 11);
}

struct pipes_then_close {
	int p[2], q[2];
};

static int close_both_then_write(void *arg)
{
	struct pipes_then_close *s = arg;
	sys(SYS_close, s->p[0]); /* the fds the waiting splice named */
	sys(SYS_close, s->q[1]);
	sys(SYS_write, s->p[1], "late", 4);
	return 0;
}

/* Pipe to pipe, waiting for bytes: both pipes stay open for it while another thread
 * closes the fds it named, as a read that waits keeps its file. */
TEST(splice_between_pipes_keeps_both_files_while_another_thread_closes_the_fds)
{
	boot(0);
	static struct pipes_then_close s;
	CHECK_OK(sys(SYS_pipe2, s.p, 0));
	CHECK_OK(sys(SYS_pipe2, s.q, 0));
	CHECK_OK(spawn(close_both_then_write, &s, 0, 0));
	CHECK_EQ(sys(SYS_splice, s.p[0], 0, s.q[1], 0, 100, 0), 4);
	char buf[8];
	CHECK_EQ(sys(SYS_read, s.q[0], buf, sizeof buf), 4); /* and then its end: no writer left */
	CHECK_MEM(buf, "late", 4);
	CHECK_EQ(sys(SYS_read, s.q[0], buf, sizeof buf), 0);
	CHECK_ERR(sys(SYS_splice, s.p[0], 0, s.q[1], 0, 100, 0), EBADF);
}
