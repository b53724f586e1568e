/* eventfd.c and epoll.c: counters, interest lists, level and edge triggers, waits. */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <time.h>

#include "harness.h"

static long efd_write(int fd, uint64_t v)
{
	return sys(SYS_write, fd, &v, 8);
}

/* The value read, or -errno. */
static long efd_read(int fd)
{
	uint64_t v = 0;
	long r = sys(SYS_read, fd, &v, 8);
	return r < 0 ? r : (long)v;
}

static long ep_ctl(int ep, int op, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	return sys(SYS_epoll_ctl, ep, op, fd, &ev);
}

static long ep_wait(int ep, struct epoll_event *out, int max, int ms)
{
	return sys(SYS_epoll_pwait, ep, out, max, ms, 0, 8);
}

static long ms_since(uint64_t t0)
{
	return (long)((now_ns() - t0) / 1000000u);
}

/* ---- eventfd ---- */

TEST(eventfd_adds_writes_and_a_read_takes_all)
{
	boot(0);
	int fd = (int)CHECK_OK(sys(SYS_eventfd2, 3, EFD_CLOEXEC));
	CHECK_EQ(sys(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(sys(SYS_fcntl, fd, F_GETFL), O_RDWR);
	CHECK_EQ(efd_write(fd, 5), 8);
	CHECK_EQ(efd_write(fd, 0), 8);
	CHECK_EQ(efd_read(fd), 8);
	CHECK_EQ(sys(SYS_fcntl, fd, F_SETFL, O_NONBLOCK), 0);
	CHECK_ERR(efd_read(fd), EAGAIN); /* back to zero */
	int plain = (int)CHECK_OK(sys(SYS_eventfd, 7));
	CHECK_EQ(sys(SYS_fcntl, plain, F_GETFD), 0);
	CHECK_EQ(efd_read(plain), 7);
	struct stat st;
	CHECK_OK(sys(SYS_fstat, fd, &st));
	CHECK_EQ(st.st_mode & S_IFMT, 0); /* an anonymous inode, as on Linux */
}

TEST(eventfd_semaphore_reads_one_at_a_time)
{
	boot(0);
	int fd = (int)CHECK_OK(sys(SYS_eventfd2, 2, EFD_SEMAPHORE | EFD_NONBLOCK));
	CHECK_EQ(sys(SYS_fcntl, fd, F_GETFL), O_RDWR | O_NONBLOCK);
	CHECK_EQ(efd_read(fd), 1);
	CHECK_EQ(efd_read(fd), 1);
	CHECK_ERR(efd_read(fd), EAGAIN);
	CHECK_EQ(efd_write(fd, 3), 8);
	for (int i = 0; i < 3; i++) CHECK_EQ(efd_read(fd), 1);
	CHECK_ERR(efd_read(fd), EAGAIN);
}

TEST(eventfd_bad_sizes_values_and_flags_are_einval)
{
	boot(0);
	int fd = (int)CHECK_OK(sys(SYS_eventfd2, 1, EFD_NONBLOCK));
	uint64_t v = 1;
	char big[16] = { 1 };
	CHECK_ERR(sys(SYS_read, fd, &v, 7), EINVAL);
	CHECK_ERR(sys(SYS_write, fd, &v, 4), EINVAL);
	CHECK_EQ(sys(SYS_write, fd, big, sizeof big), 8); /* more than 8: the first 8 count */
	CHECK_EQ(sys(SYS_read, fd, big, sizeof big), 8);
	memcpy(&v, big, 8);
	CHECK_EQ(v, 2);
	CHECK_ERR(efd_write(fd, ~0ULL), EINVAL);
	CHECK_ERR(sys(SYS_eventfd2, 0, O_APPEND), EINVAL);
	CHECK_ERR(sys(SYS_lseek, fd, 0, SEEK_SET), ESPIPE);
	CHECK_ERR(sys(SYS_pread64, fd, &v, 8, 0), ESPIPE);
}

TEST(eventfd_overflow_is_eagain_or_waits_for_a_read)
{
	boot(0);
	int fd = (int)CHECK_OK(sys(SYS_eventfd2, 0, EFD_NONBLOCK));
	CHECK_EQ(efd_write(fd, 0xfffffffffffffffeULL), 8); /* the largest count */
	CHECK_ERR(efd_write(fd, 1), EAGAIN);
	struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
	CHECK_EQ(sys(SYS_poll, &p, 1, 0), 1);
	CHECK_EQ(p.revents, POLLIN); /* full: not writable */
	CHECK_EQ(efd_write(fd, 0), 8); /* adding nothing always fits */
	uint64_t v = 0;
	CHECK_EQ(sys(SYS_read, fd, &v, 8), 8);
	CHECK(v == 0xfffffffffffffffeULL);
	CHECK_EQ(sys(SYS_poll, &p, 1, 0), 1);
	CHECK_EQ(p.revents, POLLOUT);
}

static int read_after_a_while(void *arg)
{
	sleep_ms_unchecked(5);
	uint64_t v;
	sys(SYS_read, *(int *)arg, &v, 8);
	return 0;
}

TEST(eventfd_blocking_write_waits_until_a_read_makes_room)
{
	boot(0);
	int fd = (int)CHECK_OK(sys(SYS_eventfd2, 0, 0));
	CHECK_EQ(efd_write(fd, 0xfffffffffffffff0ULL), 8);
	CHECK_OK(spawn(read_after_a_while, &fd, 0, 0));
	uint64_t t0 = now_ns();
	CHECK_EQ(efd_write(fd, 0x20), 8); /* waits for the other thread's read */
	CHECK(ms_since(t0) >= 5);
	CHECK_EQ(efd_read(fd), 0x20);
}

static int write_after_a_while(void *arg)
{
	sleep_ms_unchecked(5);
	efd_write(*(int *)arg, 42);
	return 0;
}

TEST(eventfd_blocking_read_waits_for_a_write_from_another_thread)
{
	boot(0);
	int fd = (int)CHECK_OK(sys(SYS_eventfd2, 0, 0));
	CHECK_OK(spawn(write_after_a_while, &fd, 0, 0));
	uint64_t t0 = now_ns();
	CHECK_EQ(efd_read(fd), 42);
	CHECK(ms_since(t0) >= 5);
}

TEST(poll_and_select_on_an_eventfd)
{
	boot(0);
	int fd = (int)CHECK_OK(sys(SYS_eventfd2, 0, EFD_NONBLOCK));
	struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
	CHECK_EQ(sys(SYS_poll, &p, 1, 0), 1);
	CHECK_EQ(p.revents, POLLOUT);
	p.events = POLLIN;
	CHECK_EQ(sys(SYS_poll, &p, 1, 10), 0); /* nothing yet: times out */
	CHECK_OK(spawn(write_after_a_while, &fd, 0, 0));
	CHECK_EQ(sys(SYS_poll, &p, 1, -1), 1); /* woken by the other thread's write */
	CHECK_EQ(p.revents, POLLIN);
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(fd, &rd);
	struct timeval tv = { 0, 0 };
	CHECK_EQ(sys(SYS_select, fd + 1, &rd, 0, 0, &tv), 1);
	CHECK(FD_ISSET(fd, &rd));
	CHECK_EQ(efd_read(fd), 42);
	CHECK_EQ(sys(SYS_select, fd + 1, &rd, 0, 0, &tv), 0);
}

/* ---- epoll: creating and changing sets ---- */

TEST(epoll_create_and_ctl_errors_are_as_on_linux)
{
	boot(0);
	CHECK_ERR(sys(SYS_epoll_create, 0), EINVAL);
	CHECK_ERR(sys(SYS_epoll_create1, 1), EINVAL);
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, EPOLL_CLOEXEC));
	CHECK_EQ(sys(SYS_fcntl, ep, F_GETFD), FD_CLOEXEC);
	int old = (int)CHECK_OK(sys(SYS_epoll_create, 1));
	CHECK_EQ(sys(SYS_fcntl, old, F_GETFD), 0);
	int efd = (int)CHECK_OK(sys(SYS_eventfd2, 0, 0));
	CHECK_ERR(ep_ctl(99, EPOLL_CTL_ADD, efd, EPOLLIN, 0), EBADF);
	CHECK_ERR(ep_ctl(ep, EPOLL_CTL_ADD, 99, EPOLLIN, 0), EBADF);
	CHECK_ERR(ep_ctl(efd, EPOLL_CTL_ADD, 1, EPOLLIN, 0), EINVAL); /* not an epoll fd */
	CHECK_ERR(ep_ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 0), EINVAL); /* itself */
	CHECK_ERR(sys(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, efd, 0), EFAULT);
	CHECK_ERR(ep_ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN, 0), ENOENT);
	CHECK_ERR(sys(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, efd, 0), ENOENT);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 0), 0);
	CHECK_ERR(ep_ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 0), EEXIST);
	CHECK_ERR(ep_ctl(ep, 99, efd, EPOLLIN, 0), EINVAL);
	CHECK_ERR(ep_ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN | EPOLLEXCLUSIVE, 0), EINVAL);
	int dup = (int)CHECK_OK(sys(SYS_dup, efd)); /* another fd of the same file: its own entry */
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, dup, EPOLLIN, 0), 0);
	/* Sets inside sets, but no loops. */
	CHECK_EQ(ep_ctl(old, EPOLL_CTL_ADD, ep, EPOLLIN, 0), 0);
	CHECK_ERR(ep_ctl(ep, EPOLL_CTL_ADD, old, EPOLLIN, 0), ELOOP);
	struct epoll_event ev;
	CHECK_ERR(ep_wait(ep, &ev, 0, 0), EINVAL);
	CHECK_ERR(ep_wait(efd, &ev, 1, 0), EINVAL);
	CHECK_ERR(ep_wait(99, &ev, 1, 0), EBADF);
	CHECK_ERR(sys(SYS_epoll_pwait, ep, &ev, 1, 0, &ev, 4), EINVAL); /* a sigset is 8 bytes */
	CHECK_ERR(sys(SYS_read, ep, &ev, sizeof ev), EINVAL);
}

TEST(epoll_add_of_a_file_or_folder_is_eperm)
{
	boot(0);
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	uint32_t go = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET; /* what Go's netpoller asks */
	CHECK_ERR(ep_ctl(ep, EPOLL_CTL_ADD, (int)CHECK_OK(open_("/hello.txt", O_RDONLY)), go, 0), EPERM);
	CHECK_ERR(ep_ctl(ep, EPOLL_CTL_ADD, (int)CHECK_OK(open_("/tmp/new", O_RDWR | O_CREAT)), go, 0), EPERM);
	CHECK_ERR(ep_ctl(ep, EPOLL_CTL_ADD, (int)CHECK_OK(open_("/dir", O_RDONLY | O_DIRECTORY)), go, 0), EPERM);
	CHECK_ERR(ep_ctl(ep, EPOLL_CTL_ADD, (int)CHECK_OK(open_("/dev/null", O_RDWR)), go, 0), EPERM);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, (int)CHECK_OK(open_("/dev/urandom", O_RDONLY)), EPOLLIN, 7), 0);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, 1, EPOLLOUT, 1), 0); /* the console */
	struct epoll_event ev[4];
	CHECK_EQ(ep_wait(ep, ev, 4, 0), 2);
}

/* ---- epoll: triggers ---- */

TEST(epoll_level_triggered_pipe_reports_until_drained)
{
	boot(0);
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, O_NONBLOCK));
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, fds[0], EPOLLIN, 10), 0);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, fds[1], EPOLLOUT, 11), 0);
	struct epoll_event ev[4];
	CHECK_EQ(ep_wait(ep, ev, 4, 0), 1);
	CHECK_EQ(ev[0].events, EPOLLOUT);
	CHECK_EQ(ev[0].data.u64, 11);
	CHECK_OK(ep_ctl(ep, EPOLL_CTL_DEL, fds[1], 0, 0));
	CHECK_EQ(sys(SYS_write, fds[1], "ab", 2), 2);
	for (int i = 0; i < 3; i++) { /* reported every time while there is data */
		CHECK_EQ(ep_wait(ep, ev, 4, 0), 1);
		CHECK_EQ(ev[0].events, EPOLLIN);
		CHECK_EQ(ev[0].data.u64, 10);
	}
	char buf[4];
	CHECK_EQ(sys(SYS_read, fds[0], buf, 1), 1);
	CHECK_EQ(ep_wait(ep, ev, 4, 0), 1); /* one byte left */
	CHECK_EQ(sys(SYS_read, fds[0], buf, 4), 1);
	CHECK_EQ(ep_wait(ep, ev, 4, 0), 0);
}

TEST(epoll_edge_triggered_reports_each_edge_once)
{
	boot(0);
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, O_NONBLOCK));
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, fds[0], EPOLLIN | EPOLLET, 10), 0);
	struct epoll_event ev[4];
	CHECK_EQ(ep_wait(ep, ev, 4, 0), 0);
	CHECK_EQ(sys(SYS_write, fds[1], "ab", 2), 2);
	CHECK_EQ(ep_wait(ep, ev, 4, 0), 1);
	CHECK_EQ(ev[0].events, EPOLLIN);
	CHECK_EQ(ev[0].data.u64, 10);
	CHECK_EQ(ep_wait(ep, ev, 4, 0), 0); /* still readable, but no new edge */
	CHECK_EQ(ep_wait(ep, ev, 4, 10), 0); /* and a blocking wait does not spin on it: it times out */
	CHECK_EQ(sys(SYS_write, fds[1], "c", 1), 1); /* a new write is a new edge, even undrained */
	CHECK_EQ(ep_wait(ep, ev, 4, 0), 1);
	CHECK_EQ(ep_wait(ep, ev, 4, 0), 0);
	char buf[8];
	CHECK_EQ(sys(SYS_read, fds[0], buf, sizeof buf), 3);
	CHECK_EQ(ep_wait(ep, ev, 4, 0), 0); /* drained: nothing to report */
	CHECK_ERR(sys(SYS_read, fds[0], buf, sizeof buf), EAGAIN);
	CHECK_EQ(sys(SYS_write, fds[1], "d", 1), 1);
	CHECK_EQ(ep_wait(ep, ev, 4, -1), 1); /* no lost wake-up after the drain */
	CHECK_EQ(ev[0].events, EPOLLIN);
}

TEST(epoll_edge_triggered_reports_a_file_ready_when_added)
{
	boot(0);
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, O_NONBLOCK));
	int efd = (int)CHECK_OK(sys(SYS_eventfd2, 1, EFD_NONBLOCK));
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	uint32_t go = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, fds[1], go, 1), 0);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, efd, go, 2), 0);
	struct epoll_event ev[4];
	CHECK_EQ(ep_wait(ep, ev, 4, 0), 2);
	uint64_t seen = ev[0].data.u64 | ev[1].data.u64 << 8;
	CHECK(seen == (1 | 2 << 8) || seen == (2 | 1 << 8));
	for (int i = 0; i < 2; i++) CHECK_EQ(ev[i].events, ev[i].data.u64 == 1 ? EPOLLOUT : EPOLLIN | EPOLLOUT);
	CHECK_EQ(ep_wait(ep, ev, 4, 0), 0);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_MOD, efd, go, 3), 0); /* MOD re-arms: ready, so reported again */
	CHECK_EQ(ep_wait(ep, ev, 4, 0), 1);
	CHECK_EQ(ev[0].data.u64, 3);
}

TEST(epoll_oneshot_reports_once_until_mod)
{
	boot(0);
	int efd = (int)CHECK_OK(sys(SYS_eventfd2, 1, EFD_NONBLOCK));
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLONESHOT, 5), 0);
	struct epoll_event ev[2];
	CHECK_EQ(ep_wait(ep, ev, 2, 0), 1);
	CHECK_EQ(ep_wait(ep, ev, 2, 0), 0); /* level-triggered, still ready, but disarmed */
	CHECK_EQ(efd_write(efd, 1), 8);
	CHECK_EQ(ep_wait(ep, ev, 2, 0), 0);
	CHECK_ERR(ep_ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 5), EEXIST); /* still in the set */
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN | EPOLLONESHOT, 6), 0);
	CHECK_EQ(ep_wait(ep, ev, 2, 0), 1);
	CHECK_EQ(ev[0].data.u64, 6);
	CHECK_EQ(ep_wait(ep, ev, 2, 0), 0);
}

TEST(epoll_mod_changes_events_and_data_and_del_stops_reports)
{
	boot(0);
	int efd = (int)CHECK_OK(sys(SYS_eventfd2, 0, EFD_NONBLOCK));
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1), 0);
	struct epoll_event ev[2];
	CHECK_EQ(ep_wait(ep, ev, 2, 0), 0);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN | EPOLLOUT, 2), 0);
	CHECK_EQ(ep_wait(ep, ev, 2, 0), 1);
	CHECK_EQ(ev[0].events, EPOLLOUT);
	CHECK_EQ(ev[0].data.u64, 2);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_MOD, efd, 0, 3), 0); /* nothing wanted: nothing reported */
	CHECK_EQ(efd_write(efd, 1), 8);
	CHECK_EQ(ep_wait(ep, ev, 2, 0), 0);
	CHECK_EQ(sys(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, efd, 0), 0);
	CHECK_ERR(ep_ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN, 4), ENOENT);
	CHECK_EQ(ep_wait(ep, ev, 2, 0), 0);
}

TEST(epoll_reports_hup_and_err_when_the_other_end_closes)
{
	boot(0);
	int a[2], b[2];
	CHECK_OK(sys(SYS_pipe2, a, O_NONBLOCK));
	CHECK_OK(sys(SYS_pipe2, b, O_NONBLOCK));
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, a[0], EPOLLIN | EPOLLET, 1), 0);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, b[1], EPOLLIN | EPOLLET, 2), 0); /* a write end, not asking for OUT */
	struct epoll_event ev[2];
	CHECK_EQ(ep_wait(ep, ev, 2, 0), 0);
	CHECK_OK(sys(SYS_close, a[1]));
	CHECK_EQ(ep_wait(ep, ev, 2, 0), 1);
	CHECK_EQ(ev[0].events, EPOLLHUP); /* always reported, unasked */
	CHECK_EQ(ev[0].data.u64, 1);
	CHECK_OK(sys(SYS_close, b[0]));
	CHECK_EQ(ep_wait(ep, ev, 2, 0), 1);
	CHECK_EQ(ev[0].events, EPOLLERR);
	CHECK_EQ(ev[0].data.u64, 2);
}

TEST(epoll_closing_a_registered_fd_takes_it_out_of_the_set)
{
	boot(0);
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	int efd = (int)CHECK_OK(sys(SYS_eventfd2, 1, 0));
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1), 0);
	int copy = (int)CHECK_OK(sys(SYS_dup, efd));
	CHECK_OK(sys(SYS_close, efd));
	struct epoll_event ev[2];
	CHECK_EQ(ep_wait(ep, ev, 2, 0), 1); /* the open file lives on in its dup: so does the entry */
	CHECK_EQ(ev[0].data.u64, 1);
	CHECK_ERR(sys(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, efd, 0), EBADF);
	CHECK_OK(sys(SYS_close, copy));
	CHECK_EQ(ep_wait(ep, ev, 2, 0), 0); /* the last fd went: so did the entry */
	int again = (int)CHECK_OK(sys(SYS_eventfd2, 1, 0));
	CHECK_EQ(again, efd); /* the same number, a new file */
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, again, EPOLLIN, 2), 0);
	CHECK_EQ(ep_wait(ep, ev, 2, 0), 1);
	CHECK_EQ(ev[0].data.u64, 2);
	/* Closing a set lets go of its entries; a set inside another is reported as readable. */
	int outer = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	CHECK_EQ(ep_ctl(outer, EPOLL_CTL_ADD, ep, EPOLLIN, 9), 0);
	CHECK_EQ(ep_wait(outer, ev, 2, 0), 1);
	CHECK_EQ(ev[0].events, EPOLLIN);
	CHECK_EQ(ev[0].data.u64, 9);
	struct pollfd p = { ep, POLLIN, 0 };
	CHECK_EQ(sys(SYS_poll, &p, 1, 0), 1);
	CHECK_OK(sys(SYS_close, ep));
	CHECK_EQ(ep_wait(outer, ev, 2, 0), 0);
}

TEST(epoll_a_small_buffer_takes_turns)
{
	boot(0);
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	for (int i = 0; i < 3; i++) {
		int efd = (int)CHECK_OK(sys(SYS_eventfd2, 1, 0));
		CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, (uint64_t)(100 + i)), 0);
	}
	struct epoll_event ev;
	int seen = 0;
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(ep_wait(ep, &ev, 1, 0), 1);
		seen |= 1 << (ev.data.u64 - 100);
	}
	CHECK_EQ(seen, 7); /* level-triggered, all ready, yet each had its turn */
}

/* ---- epoll: waiting ---- */

TEST(epoll_wait_timeouts)
{
	boot(0);
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	int efd = (int)CHECK_OK(sys(SYS_eventfd2, 0, 0));
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1), 0);
	struct epoll_event ev;
	uint64_t t0 = now_ns();
	CHECK_EQ(sys(SYS_epoll_wait, ep, &ev, 1, 0), 0);
	CHECK(ms_since(t0) < 5); /* 0: at once */
	t0 = now_ns();
	CHECK_EQ(sys(SYS_epoll_wait, ep, &ev, 1, 30), 0);
	long ms = ms_since(t0);
	if (ms < 30 || ms > 500) FAIL("waited %ld ms, want about 30", ms);
	CHECK(fake.sleeps >= 1); /* alone, the libOS slept in the tender rather than spinning */
	struct timespec ts = { 0, 20000000 };
	t0 = now_ns();
	CHECK_EQ(sys(SYS_epoll_pwait2, ep, &ev, 1, &ts, 0, 8), 0);
	ms = ms_since(t0);
	if (ms < 20 || ms > 500) FAIL("epoll_pwait2 waited %ld ms, want about 20", ms);
	ts = (struct timespec){ 0, 0 };
	CHECK_EQ(sys(SYS_epoll_pwait2, ep, &ev, 1, &ts, 0, 8), 0);
	ts.tv_nsec = 1000000000;
	CHECK_ERR(sys(SYS_epoll_pwait2, ep, &ev, 1, &ts, 0, 8), EINVAL);
	CHECK_EQ(efd_write(efd, 1), 8);
	CHECK_EQ(sys(SYS_epoll_pwait2, ep, &ev, 1, 0, 0, 8), 1); /* no timeout: forever, but ready now */
}

struct waker {
	int efd;
	int ran;
};

static int wake_after_a_while(void *arg)
{
	struct waker *w = arg;
	sleep_ms_unchecked(10);
	w->ran = 1;
	efd_write(w->efd, 1); /* as Go's netpollBreak does */
	return 0;
}

TEST(epoll_pwait_blocked_in_one_thread_is_woken_by_an_eventfd_write_from_another)
{
	boot(0);
	/* Go's netpoller: a CLOEXEC set, a non-blocking eventfd for wake-ups, a blocking wait. */
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, EPOLL_CLOEXEC));
	struct waker w = { (int)CHECK_OK(sys(SYS_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK)), 0 };
	static char token;
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, w.efd, EPOLLIN, (uint64_t)(uintptr_t)&token), 0);
	CHECK_OK(spawn(wake_after_a_while, &w, 0, 0));
	struct epoll_event ev[128];
	uint64_t t0 = now_ns();
	CHECK_EQ(ep_wait(ep, ev, 128, -1), 1);
	CHECK(ms_since(t0) >= 10);
	CHECK_EQ(w.ran, 1);
	CHECK_EQ(ev[0].events, EPOLLIN);
	CHECK(ev[0].data.ptr == &token);
	CHECK_EQ(efd_read(w.efd), 1); /* drained */
	CHECK_EQ(ep_wait(ep, ev, 128, 0), 0);
	/* With a timeout too: the write comes first. */
	w.ran = 0;
	CHECK_OK(spawn(wake_after_a_while, &w, 0, 0));
	t0 = now_ns();
	CHECK_EQ(ep_wait(ep, ev, 128, 2000), 1);
	CHECK(ms_since(t0) < 1000);
}

struct adder {
	int ep, fd;
};

static int add_a_ready_fd(void *arg)
{
	struct adder *a = arg;
	sleep_ms_unchecked(5);
	ep_ctl(a->ep, EPOLL_CTL_ADD, a->fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, 77);
	return 0;
}

TEST(epoll_ctl_add_of_a_ready_fd_wakes_a_waiting_thread)
{
	boot(0);
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, O_NONBLOCK));
	struct adder a = { ep, fds[1] }; /* a write end: ready at once */
	CHECK_OK(spawn(add_a_ready_fd, &a, 0, 0));
	struct epoll_event ev[4];
	CHECK_EQ(ep_wait(ep, ev, 4, -1), 1);
	CHECK_EQ(ev[0].data.u64, 77);
	CHECK_EQ(ev[0].events, EPOLLOUT);
}
