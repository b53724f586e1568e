/*
 * unix.c: socketpair(AF_UNIX) without a network. Streams, datagrams and seqpackets between
 * green threads; end of file, EPIPE and resets; shutdown; poll, select and epoll; options,
 * names and the calls that need a name; and the TCP sockets of net.c beside them.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "harness.h"

/* The bytes one write fits in an empty 64 KiB ring: all of it less a record's header. */
#define RING_DATA (65536 - 8)

static void pair(int type, int *sv)
{
	CHECK_OK(sys(SYS_socketpair, AF_UNIX, type, 0, sv));
}

static long ms_since(uint64_t t0)
{
	return (long)((now_ns() - t0) / 1000000u);
}

static int opt(int fd, int name)
{
	int v = -1;
	socklen_t len = sizeof v;
	CHECK_OK(sys(SYS_getsockopt, fd, SOL_SOCKET, name, &v, &len));
	CHECK_EQ(len, sizeof v);
	return v;
}

/* ---- streams ---- */

TEST(socketpair_stream_carries_bytes_both_ways_through_every_call)
{
	boot(0);
	int sv[2];
	pair(SOCK_STREAM | SOCK_CLOEXEC, sv);
	CHECK_EQ(sys(SYS_fcntl, sv[0], F_GETFD), FD_CLOEXEC);
	CHECK_EQ(sys(SYS_fcntl, sv[1], F_GETFL), O_RDWR);
	struct stat st;
	CHECK_OK(sys(SYS_fstat, sv[0], &st));
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_ERR(sys(SYS_lseek, sv[0], 0, SEEK_SET), ESPIPE);
	char buf[32] = { 0 };
	CHECK_EQ(sys(SYS_write, sv[0], "ping", 4), 4);
	CHECK_EQ(sys(SYS_write, sv[1], "pong", 4), 4); /* full duplex: one ring each way */
	CHECK_EQ(sys(SYS_read, sv[1], buf, sizeof buf), 4);
	CHECK_MEM(buf, "ping", 4);
	CHECK_EQ(sys(SYS_read, sv[0], buf, sizeof buf), 4);
	CHECK_MEM(buf, "pong", 4);
	/* Vectors: a stream keeps the bytes, not the pieces. */
	struct iovec out[3] = { { "ab", 2 }, { "", 0 }, { "cdef", 4 } };
	CHECK_EQ(sys(SYS_writev, sv[0], out, 3), 6);
	CHECK_EQ(sys(SYS_sendto, sv[0], "gh", 2, MSG_NOSIGNAL, 0, 0), 2);
	char a[3], b[5];
	struct iovec in[2] = { { a, 3 }, { b, 5 } };
	CHECK_EQ(sys(SYS_readv, sv[1], in, 2), 8);
	CHECK_MEM(a, "abc", 3);
	CHECK_MEM(b, "defgh", 5);
	/* sendto with no address; recvfrom says the sender has no name (length 0). */
	CHECK_EQ(sys(SYS_sendto, sv[1], "xyz", 3, 0, 0, 0), 3);
	struct sockaddr_un from;
	socklen_t fromlen = sizeof from;
	CHECK_EQ(sys(SYS_recvfrom, sv[0], buf, sizeof buf, 0, &from, &fromlen), 3);
	CHECK_EQ(fromlen, 0);
	CHECK_MEM(buf, "xyz", 3);
	/* sendmsg / recvmsg */
	struct msghdr m = { .msg_iov = out, .msg_iovlen = 3 };
	CHECK_EQ(sys(SYS_sendmsg, sv[0], &m, 0), 6);
	char ctl[64];
	struct msghdr r = {
		.msg_name = &from,
		.msg_namelen = sizeof from,
		.msg_iov = in,
		.msg_iovlen = 2,
		.msg_control = ctl,
		.msg_controllen = sizeof ctl,
		.msg_flags = -1,
	};
	CHECK_EQ(sys(SYS_recvmsg, sv[1], &r, 0), 6);
	CHECK_EQ(r.msg_namelen, 0);
	CHECK_EQ(r.msg_controllen, 0);
	CHECK_EQ(r.msg_flags, 0);
	CHECK_MEM(a, "abc", 3);
	CHECK_MEM(b, "def", 3);
	CHECK_EQ(sys(SYS_read, sv[1], buf, 0), 0);
}

struct io {
	int fd;
	long n;
	char *buf;
};

static int write_after_a_while(void *arg)
{
	struct io *io = arg;
	sleep_ms(10);
	CHECK_EQ(sys(SYS_write, io->fd, io->buf, io->n), io->n);
	return 0;
}

static int read_all(void *arg)
{
	struct io *io = arg;
	for (long got = 0; got < io->n;) {
		long r = CHECK_OK(sys(SYS_read, io->fd, io->buf + got, io->n - got));
		CHECK(r > 0);
		got += r;
	}
	return 0;
}

TEST(socketpair_blocking_read_and_write_wait_for_the_other_thread)
{
	boot(0);
	int sv[2];
	pair(SOCK_STREAM, sv);
	/* A read of an empty end waits while the writer thread runs. */
	struct io w = { sv[1], 5, "hello" };
	CHECK_OK(spawn(write_after_a_while, &w, 0, 0));
	char buf[16];
	uint64_t t0 = now_ns();
	CHECK_EQ(sys(SYS_read, sv[0], buf, sizeof buf), 5);
	CHECK(ms_since(t0) >= 10);
	CHECK_MEM(buf, "hello", 5);
	/* A write of more than the ring holds waits for the reader to make room, and the
	 * bytes arrive whole and in order. */
	static char big[200000], got[200000];
	for (size_t i = 0; i < sizeof big; i++) big[i] = (char)(i * 7 + i / 251);
	struct io r = { sv[0], sizeof got, got };
	CHECK_OK(spawn(read_all, &r, 0, 0));
	CHECK_EQ(sys(SYS_write, sv[1], big, sizeof big), sizeof big);
	while (revents(sv[0], POLLIN)) sleep_ms(1); /* the reader takes the rest */
	sleep_ms(1);
	CHECK_MEM(got, big, sizeof big);
	/* MSG_WAITALL waits for every byte asked for. */
	struct io w2 = { sv[1], 3, "abc" };
	CHECK_EQ(sys(SYS_write, sv[1], "12", 2), 2);
	CHECK_OK(spawn(write_after_a_while, &w2, 0, 0));
	CHECK_EQ(sys(SYS_recvfrom, sv[0], buf, 5, MSG_WAITALL, 0, 0), 5);
	CHECK_MEM(buf, "12abc", 5);
}

TEST(socketpair_nonblocking_is_eagain_with_msg_dontwait_fcntl_and_fionbio)
{
	boot(0);
	int sv[2];
	pair(SOCK_STREAM | SOCK_NONBLOCK, sv);
	CHECK_EQ(sys(SYS_fcntl, sv[0], F_GETFL), O_RDWR | O_NONBLOCK);
	char buf[8];
	CHECK_ERR(sys(SYS_read, sv[0], buf, sizeof buf), EAGAIN);
	static char big[70000];
	CHECK_EQ(sys(SYS_write, sv[0], big, sizeof big), RING_DATA); /* the ring is full: the rest would block */
	CHECK_ERR(sys(SYS_write, sv[0], big, 1), EAGAIN);
	int n = -1;
	CHECK_OK(sys(SYS_ioctl, sv[1], FIONREAD, &n));
	CHECK_EQ(n, RING_DATA);
	CHECK_OK(sys(SYS_ioctl, sv[0], FIONREAD, &n));
	CHECK_EQ(n, 0);
	/* Blocking again (fcntl), a call with MSG_DONTWAIT still does not wait. */
	CHECK_OK(sys(SYS_fcntl, sv[0], F_SETFL, 0));
	CHECK_ERR(sys(SYS_recvfrom, sv[0], buf, sizeof buf, MSG_DONTWAIT, 0, 0), EAGAIN);
	CHECK_ERR(sys(SYS_sendto, sv[0], big, 1, MSG_DONTWAIT, 0, 0), EAGAIN);
	int on = 1;
	CHECK_OK(sys(SYS_ioctl, sv[0], FIONBIO, &on));
	CHECK_EQ(sys(SYS_fcntl, sv[0], F_GETFL), O_RDWR | O_NONBLOCK);
	CHECK_ERR(sys(SYS_read, sv[0], buf, sizeof buf), EAGAIN);
}

TEST(socketpair_msg_peek_leaves_the_bytes)
{
	boot(0);
	int sv[2];
	pair(SOCK_STREAM, sv);
	CHECK_EQ(sys(SYS_write, sv[0], "peekaboo", 8), 8);
	char buf[16] = { 0 };
	CHECK_EQ(sys(SYS_recvfrom, sv[1], buf, 4, MSG_PEEK, 0, 0), 4);
	CHECK_MEM(buf, "peek", 4);
	CHECK_EQ(sys(SYS_recvfrom, sv[1], buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT, 0, 0), 8);
	CHECK_EQ(sys(SYS_read, sv[1], buf, sizeof buf), 8);
	CHECK_MEM(buf, "peekaboo", 8);
	CHECK_ERR(sys(SYS_recvfrom, sv[1], buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT, 0, 0), EAGAIN);
}

TEST(socketpair_close_gives_eof_to_reads_and_epipe_to_writes)
{
	boot(0);
	int sv[2];
	pair(SOCK_STREAM, sv);
	CHECK_EQ(sys(SYS_write, sv[0], "last", 4), 4);
	CHECK_OK(sys(SYS_close, sv[0]));
	char buf[8];
	CHECK_EQ(sys(SYS_read, sv[1], buf, sizeof buf), 4); /* what was sent first */
	CHECK_EQ(sys(SYS_read, sv[1], buf, sizeof buf), 0);
	CHECK_EQ(sys(SYS_read, sv[1], buf, sizeof buf), 0);
	CHECK_ERR(sys(SYS_write, sv[1], "x", 1), EPIPE); /* no SIGPIPE, as with MSG_NOSIGNAL */
	CHECK_ERR(sys(SYS_sendto, sv[1], "x", 1, MSG_NOSIGNAL, 0, 0), EPIPE);
	CHECK_EQ(revents(sv[1], POLLIN | POLLOUT | POLLRDHUP), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
	CHECK_EQ(opt(sv[1], SO_ERROR), 0);
	/* shutdown(SHUT_RDWR) ends the peer's input as a close does. */
	pair(SOCK_STREAM, sv);
	CHECK_OK(sys(SYS_shutdown, sv[1], SHUT_RDWR));
	CHECK_EQ(sys(SYS_read, sv[0], buf, sizeof buf), 0);
}

static int close_after_a_while(void *arg)
{
	sleep_ms(10);
	CHECK_OK(sys(SYS_close, *(int *)arg));
	return 0;
}

TEST(socketpair_a_blocked_reader_or_writer_is_woken_by_the_peers_close)
{
	boot(0);
	int sv[2];
	pair(SOCK_STREAM, sv);
	CHECK_OK(spawn(close_after_a_while, &sv[1], 0, 0));
	char buf[8];
	CHECK_EQ(sys(SYS_read, sv[0], buf, sizeof buf), 0);
	pair(SOCK_STREAM, sv);
	CHECK_OK(spawn(close_after_a_while, &sv[1], 0, 0));
	static char big[100000];
	CHECK_EQ(sys(SYS_write, sv[0], big, sizeof big), RING_DATA); /* what fit before the close */
	CHECK_ERR(sys(SYS_write, sv[0], big, 1), EPIPE);
}

TEST(socketpair_close_with_unread_bytes_resets_the_peer)
{
	boot(0);
	int sv[2];
	pair(SOCK_STREAM, sv);
	CHECK_EQ(sys(SYS_write, sv[1], "unread", 6), 6);
	CHECK_OK(sys(SYS_close, sv[0]));
	CHECK_EQ(revents(sv[1], POLLIN) & POLLERR, POLLERR);
	char buf[8];
	CHECK_ERR(sys(SYS_read, sv[1], buf, sizeof buf), ECONNRESET); /* once, as on Linux */
	CHECK_EQ(sys(SYS_read, sv[1], buf, sizeof buf), 0);
	pair(SOCK_STREAM, sv);
	CHECK_EQ(sys(SYS_write, sv[1], "unread", 6), 6);
	CHECK_OK(sys(SYS_close, sv[0]));
	CHECK_EQ(opt(sv[1], SO_ERROR), ECONNRESET);
	CHECK_EQ(opt(sv[1], SO_ERROR), 0);
}

TEST(socketpair_shutdown_ends_one_direction)
{
	boot(0);
	int sv[2];
	pair(SOCK_STREAM, sv);
	char buf[8];
	CHECK_EQ(sys(SYS_write, sv[0], "bye", 3), 3);
	CHECK_OK(sys(SYS_shutdown, sv[0], SHUT_WR));
	CHECK_ERR(sys(SYS_write, sv[0], "x", 1), EPIPE);
	CHECK_EQ(revents(sv[1], POLLIN | POLLRDHUP), POLLIN | POLLRDHUP);
	CHECK_EQ(sys(SYS_read, sv[1], buf, sizeof buf), 3);
	CHECK_EQ(sys(SYS_read, sv[1], buf, sizeof buf), 0); /* the peer's end of file */
	CHECK_EQ(sys(SYS_write, sv[1], "back", 4), 4); /* the other way still works */
	CHECK_EQ(sys(SYS_read, sv[0], buf, sizeof buf), 4);
	CHECK_EQ(revents(sv[0], POLLIN | POLLOUT), POLLOUT);
	/* SHUT_RD: reads end here, writes to it are EPIPE there. */
	pair(SOCK_STREAM, sv);
	CHECK_OK(sys(SYS_shutdown, sv[0], SHUT_RD));
	CHECK_EQ(sys(SYS_read, sv[0], buf, sizeof buf), 0);
	CHECK_ERR(sys(SYS_write, sv[1], "x", 1), EPIPE);
	CHECK_EQ(sys(SYS_write, sv[0], "ok", 2), 2);
	CHECK_EQ(sys(SYS_read, sv[1], buf, sizeof buf), 2);
	CHECK_OK(sys(SYS_shutdown, sv[0], SHUT_RDWR));
	CHECK_EQ(revents(sv[0], POLLIN | POLLOUT) & POLLHUP, POLLHUP);
	CHECK_EQ(revents(sv[1], POLLIN | POLLOUT) & POLLHUP, POLLHUP);
	CHECK_OK(sys(SYS_shutdown, sv[0], SHUT_RDWR)); /* again: no error, as on Linux */
	CHECK_ERR(sys(SYS_shutdown, sv[0], 3), EINVAL);
	CHECK_ERR(sys(SYS_shutdown, sv[0], -1), EINVAL);
}

/* ---- readiness ---- */

TEST(socketpair_poll_and_select_report_readiness)
{
	boot(0);
	int sv[2];
	pair(SOCK_STREAM, sv);
	CHECK_EQ(revents(sv[0], POLLIN | POLLOUT | POLLRDHUP), POLLOUT);
	CHECK_EQ(sys(SYS_write, sv[1], "x", 1), 1);
	CHECK_EQ(revents(sv[0], POLLIN | POLLOUT), POLLIN | POLLOUT);
	/* Writable again once half the peer's ring is free. */
	static char big[RING_DATA];
	CHECK_EQ(sys(SYS_write, sv[0], big, sizeof big), sizeof big);
	CHECK_EQ(revents(sv[0], POLLOUT), 0);
	CHECK_EQ(sys(SYS_read, sv[1], big, 30000), 30000);
	CHECK_EQ(revents(sv[0], POLLOUT), 0);
	CHECK_EQ(sys(SYS_read, sv[1], big, 5000), 5000);
	CHECK_EQ(revents(sv[0], POLLOUT), POLLOUT);
	/* A poll with no timeout wakes for a write from another thread. */
	char buf[8];
	CHECK_EQ(sys(SYS_read, sv[0], buf, sizeof buf), 1);
	struct io w = { sv[1], 2, "hi" };
	CHECK_OK(spawn(write_after_a_while, &w, 0, 0));
	struct pollfd p = { sv[0], POLLIN, 0 };
	CHECK_EQ(sys(SYS_ppoll, &p, 1, 0, 0, 8), 1);
	CHECK_EQ(p.revents, POLLIN);
	fd_set rd, wr;
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(sv[0], &rd);
	FD_SET(sv[1], &wr);
	struct timespec zero = { 0, 0 };
	CHECK_EQ(sys(SYS_pselect6, sv[1] + 1, &rd, &wr, 0, &zero, 0), 2);
	CHECK(FD_ISSET(sv[0], &rd) && FD_ISSET(sv[1], &wr));
	CHECK_EQ(sys(SYS_read, sv[0], buf, sizeof buf), 2);
	FD_ZERO(&rd);
	FD_SET(sv[0], &rd);
	struct timeval tv = { 0, 20000 };
	uint64_t t0 = now_ns();
	CHECK_EQ(sys(SYS_select, sv[0] + 1, &rd, 0, 0, &tv), 0); /* nothing: the 20 ms pass */
	CHECK(ms_since(t0) >= 20);
}

static long ep_ctl(int ep, int op, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	return sys(SYS_epoll_ctl, ep, op, fd, &ev);
}

TEST(socketpair_epoll_level_and_edge_triggered)
{
	boot(0);
	int sv[2];
	pair(SOCK_STREAM | SOCK_NONBLOCK, sv);
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	CHECK_OK(ep_ctl(ep, EPOLL_CTL_ADD, sv[0], EPOLLIN | EPOLLRDHUP, 1));
	CHECK_OK(ep_ctl(ep, EPOLL_CTL_ADD, sv[1], EPOLLIN | EPOLLOUT | EPOLLET, 2));
	struct epoll_event ev[4];
	CHECK_EQ(sys(SYS_epoll_wait, ep, ev, 4, 0), 1); /* sv[1] writable: once, edge-triggered */
	CHECK_EQ(ev[0].data.u64, 2);
	CHECK_EQ(ev[0].events, EPOLLOUT);
	CHECK_EQ(sys(SYS_epoll_wait, ep, ev, 4, 0), 0);
	/* Level-triggered: readable until drained. Blocking: woken by the writer thread. */
	struct io w = { sv[1], 3, "abc" };
	CHECK_OK(spawn(write_after_a_while, &w, 0, 0));
	CHECK_EQ(sys(SYS_epoll_wait, ep, ev, 4, -1), 1);
	CHECK_EQ(ev[0].data.u64, 1);
	CHECK_EQ(ev[0].events, EPOLLIN);
	CHECK_EQ(sys(SYS_epoll_wait, ep, ev, 4, 0), 1);
	char buf[8];
	CHECK_EQ(sys(SYS_read, sv[0], buf, sizeof buf), 3);
	CHECK_EQ(sys(SYS_epoll_wait, ep, ev, 4, 0), 1); /* sv[1]: room again after the read, an edge */
	CHECK_EQ(ev[0].data.u64, 2);
	CHECK_EQ(sys(SYS_epoll_wait, ep, ev, 4, 0), 0);
	/* The peer's close: in, rdhup and hup. */
	CHECK_OK(sys(SYS_close, sv[1]));
	CHECK_EQ(sys(SYS_epoll_wait, ep, ev, 4, 0), 1);
	CHECK_EQ(ev[0].data.u64, 1);
	CHECK_EQ(ev[0].events, EPOLLIN | EPOLLRDHUP | EPOLLHUP);
}

/* ---- records ---- */

TEST(socketpair_dgram_keeps_message_boundaries)
{
	boot(0);
	int sv[2];
	pair(SOCK_DGRAM | SOCK_NONBLOCK, sv);
	CHECK_EQ(opt(sv[0], SO_TYPE), SOCK_DGRAM);
	CHECK_EQ(sys(SYS_write, sv[0], "one", 3), 3);
	CHECK_EQ(sys(SYS_sendto, sv[0], "", 0, 0, 0, 0), 0); /* an empty datagram is a message too */
	struct iovec parts[2] = { { "thr", 3 }, { "ee!", 3 } };
	CHECK_EQ(sys(SYS_writev, sv[0], parts, 2), 6); /* one message from a vector */
	int n = -1;
	CHECK_OK(sys(SYS_ioctl, sv[1], FIONREAD, &n));
	CHECK_EQ(n, 3); /* the next message's size */
	char buf[16] = { 0 };
	CHECK_EQ(sys(SYS_read, sv[1], buf, sizeof buf), 3);
	CHECK_MEM(buf, "one", 3);
	CHECK_EQ(sys(SYS_read, sv[1], buf, sizeof buf), 0);
	/* Too small a buffer: the rest of the message is dropped; MSG_TRUNC says so. */
	struct iovec in = { buf, 4 };
	struct msghdr m = { .msg_iov = &in, .msg_iovlen = 1 };
	CHECK_EQ(sys(SYS_recvmsg, sv[1], &m, MSG_PEEK), 4);
	CHECK_EQ(m.msg_flags, MSG_TRUNC);
	CHECK_EQ(sys(SYS_recvfrom, sv[1], buf, 2, MSG_TRUNC, 0, 0), 6); /* the real length */
	CHECK_MEM(buf, "th", 2);
	CHECK_ERR(sys(SYS_read, sv[1], buf, sizeof buf), EAGAIN);
	/* Whole or nothing: a message that cannot fit waits (here EAGAIN); one bigger than the
	 * ring is EMSGSIZE. */
	static char big[65536];
	CHECK_ERR(sys(SYS_write, sv[0], big, sizeof big), EMSGSIZE);
	CHECK_EQ(sys(SYS_write, sv[0], big, 40000), 40000);
	CHECK_EQ(revents(sv[0], POLLOUT), 0);
	CHECK_ERR(sys(SYS_write, sv[0], big, 40000), EAGAIN);
	CHECK_EQ(sys(SYS_write, sv[0], big, 20000), 20000);
	CHECK_EQ(sys(SYS_read, sv[1], big, sizeof big), 40000);
	CHECK_EQ(sys(SYS_read, sv[1], big, sizeof big), 20000);
	/* A datagram end outlives its peer: sends are refused once, then not connected. */
	CHECK_EQ(sys(SYS_write, sv[1], "z", 1), 1);
	CHECK_OK(sys(SYS_close, sv[1]));
	CHECK_EQ(revents(sv[0], POLLIN | POLLOUT), POLLIN | POLLOUT); /* no hang-up for datagrams */
	CHECK_ERR(sys(SYS_write, sv[0], "x", 1), ECONNREFUSED);
	CHECK_ERR(sys(SYS_write, sv[0], "x", 1), ENOTCONN);
	struct sockaddr_un peer;
	socklen_t len = sizeof peer;
	CHECK_ERR(sys(SYS_getpeername, sv[0], &peer, &len), ENOTCONN);
	CHECK_EQ(sys(SYS_read, sv[0], buf, sizeof buf), 1); /* what it was sent before */
	CHECK_ERR(sys(SYS_read, sv[0], buf, sizeof buf), EAGAIN); /* no end of file */
}

static int send_two_records(void *arg)
{
	int fd = *(int *)arg;
	sleep_ms(5);
	CHECK_EQ(sys(SYS_write, fd, "first", 5), 5);
	CHECK_EQ(sys(SYS_write, fd, "second", 6), 6);
	CHECK_OK(sys(SYS_close, fd));
	return 0;
}

TEST(socketpair_seqpacket_keeps_boundaries_and_ends_like_a_stream)
{
	boot(0);
	int sv[2];
	pair(SOCK_SEQPACKET, sv);
	CHECK_EQ(opt(sv[0], SO_TYPE), SOCK_SEQPACKET);
	CHECK_OK(spawn(send_two_records, &sv[1], 0, 0));
	char buf[16] = { 0 };
	CHECK_EQ(sys(SYS_read, sv[0], buf, sizeof buf), 5); /* blocks for the first */
	CHECK_MEM(buf, "first", 5);
	int n = -1;
	CHECK_OK(sys(SYS_ioctl, sv[0], FIONREAD, &n));
	CHECK_EQ(n, 6);
	CHECK_EQ(sys(SYS_read, sv[0], buf, sizeof buf), 6);
	CHECK_MEM(buf, "second", 6);
	CHECK_EQ(sys(SYS_read, sv[0], buf, sizeof buf), 0); /* the peer closed: end of file */
	CHECK_ERR(sys(SYS_write, sv[0], "x", 1), EPIPE);
	CHECK_EQ(revents(sv[0], POLLIN) & POLLHUP, POLLHUP);
}

/* ---- names, options, errors ---- */

TEST(socketpair_names_and_options)
{
	boot(0);
	int sv[2];
	pair(SOCK_STREAM, sv);
	struct sockaddr_un a;
	memset(&a, 0x55, sizeof a);
	socklen_t len = sizeof a;
	CHECK_OK(sys(SYS_getsockname, sv[0], &a, &len));
	CHECK_EQ(len, 2); /* unnamed: the family only */
	CHECK_EQ(a.sun_family, AF_UNIX);
	len = sizeof a;
	CHECK_OK(sys(SYS_getpeername, sv[1], &a, &len));
	CHECK_EQ(len, 2);
	CHECK_EQ(opt(sv[0], SO_TYPE), SOCK_STREAM);
	CHECK_EQ(opt(sv[0], SO_DOMAIN), AF_UNIX);
	CHECK_EQ(opt(sv[0], SO_PROTOCOL), 0);
	CHECK_EQ(opt(sv[0], SO_ERROR), 0);
	CHECK_EQ(opt(sv[0], SO_ACCEPTCONN), 0);
	CHECK_EQ(opt(sv[0], SO_SNDBUF), 65536);
	CHECK_EQ(opt(sv[0], SO_RCVBUF), 65536);
	struct ucred cred;
	len = sizeof cred;
	CHECK_OK(sys(SYS_getsockopt, sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &len));
	CHECK_EQ(len, sizeof cred);
	CHECK_EQ(cred.pid, 1);
	CHECK_EQ(cred.uid, 0);
	int v = 1 << 20;
	CHECK_OK(sys(SYS_setsockopt, sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
	CHECK_OK(sys(SYS_setsockopt, sv[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
	CHECK_OK(sys(SYS_setsockopt, sv[0], SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
	CHECK_OK(sys(SYS_setsockopt, sv[0], SOL_SOCKET, SO_PASSCRED, &v, sizeof v));
	CHECK_ERR(sys(SYS_setsockopt, sv[0], SOL_SOCKET, SO_SNDBUF, &v, 2), EINVAL);
	CHECK_ERR(sys(SYS_setsockopt, sv[0], SOL_SOCKET, 9999, &v, sizeof v), ENOPROTOOPT);
	CHECK_ERR(sys(SYS_setsockopt, sv[0], IPPROTO_TCP, 1 /* TCP_NODELAY */, &v, sizeof v), EOPNOTSUPP);
	len = sizeof v;
	CHECK_ERR(sys(SYS_getsockopt, sv[0], IPPROTO_TCP, 1, &v, &len), EOPNOTSUPP);
	CHECK_ERR(sys(SYS_getsockopt, sv[0], SOL_SOCKET, 9999, &v, &len), ENOPROTOOPT);
	/* dup: both fds are the same end; the peer sees the end only when the last goes. */
	int d = (int)CHECK_OK(sys(SYS_dup, sv[0]));
	CHECK_OK(sys(SYS_close, sv[0]));
	CHECK_EQ(sys(SYS_write, d, "dup", 3), 3);
	char buf[8];
	CHECK_EQ(sys(SYS_read, sv[1], buf, sizeof buf), 3);
	CHECK_OK(sys(SYS_close, d));
	CHECK_EQ(sys(SYS_read, sv[1], buf, sizeof buf), 0);
}

TEST(socketpair_so_rcvtimeo_and_so_sndtimeo_end_a_blocking_call)
{
	boot(0);
	int sv[2];
	pair(SOCK_STREAM, sv);
	struct timeval tv = { 0, 20000 };
	CHECK_OK(sys(SYS_setsockopt, sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	CHECK_OK(sys(SYS_setsockopt, sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
	struct timeval got;
	socklen_t len = sizeof got;
	CHECK_OK(sys(SYS_getsockopt, sv[0], SOL_SOCKET, SO_RCVTIMEO, &got, &len));
	CHECK_EQ(got.tv_usec, 20000);
	char buf[8];
	uint64_t t0 = now_ns();
	CHECK_ERR(sys(SYS_read, sv[0], buf, sizeof buf), EAGAIN);
	CHECK(ms_since(t0) >= 20);
	static char big[70000];
	t0 = now_ns();
	CHECK_EQ(sys(SYS_write, sv[0], big, sizeof big), RING_DATA); /* part, when the time is up */
	CHECK(ms_since(t0) >= 20);
	tv.tv_usec = 1000000;
	CHECK_ERR(sys(SYS_setsockopt, sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), EDOM);
}

TEST(socketpair_argument_and_address_errors_are_as_on_linux)
{
	boot(0);
	int sv[2];
	CHECK_ERR(sys(SYS_socketpair, AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
	CHECK_ERR(sys(SYS_socketpair, AF_INET6, SOCK_STREAM, 0, sv), EAFNOSUPPORT);
	CHECK_ERR(sys(SYS_socketpair, AF_UNIX, SOCK_STREAM, IPPROTO_TCP, sv), EPROTONOSUPPORT);
	CHECK_ERR(sys(SYS_socketpair, AF_UNIX, SOCK_RDM, 0, sv), ESOCKTNOSUPPORT);
	CHECK_ERR(sys(SYS_socketpair, AF_UNIX, SOCK_STREAM | 0x100, 0, sv), EINVAL);
	pair(SOCK_RAW, sv); /* AF_UNIX takes it for a datagram, as Linux does */
	CHECK_EQ(opt(sv[0], SO_TYPE), SOCK_DGRAM);
	pair(SOCK_STREAM, sv);
	int d[2];
	pair(SOCK_DGRAM, d);
	struct sockaddr_un path = { .sun_family = AF_UNIX, .sun_path = "/tmp/sock" };
	struct sockaddr_un abstract = { .sun_family = AF_UNIX, .sun_path = "\0name" };
	struct sockaddr_in in = { .sin_family = AF_INET };
	socklen_t plen = sizeof path, alen = offsetof(struct sockaddr_un, sun_path) + 5;
	/* bind: a bad address is EINVAL. */
	CHECK_ERR(sys(SYS_bind, sv[0], &in, sizeof in), EINVAL);
	CHECK_ERR(sys(SYS_bind, sv[0], &path, 1), EINVAL);
	CHECK_ERR(sys(SYS_bind, sv[0], &path, sizeof path + 1), EINVAL);
	/* connect: no such name (the path is looked up before "connected already"). */
	CHECK_ERR(sys(SYS_connect, sv[0], &path, plen), ENOENT);
	CHECK_ERR(sys(SYS_connect, sv[0], &abstract, alen), ECONNREFUSED);
	CHECK_ERR(sys(SYS_connect, sv[0], &in, sizeof in), EINVAL);
	CHECK_ERR(sys(SYS_connect, d[0], &path, plen), ENOENT);
	/* listen, accept: an unnamed stream cannot listen; datagrams never. */
	CHECK_ERR(sys(SYS_listen, sv[0], 5), EINVAL);
	CHECK_ERR(sys(SYS_accept, sv[0], 0, 0), EINVAL);
	CHECK_ERR(sys(SYS_accept4, sv[0], 0, 0, 0x1), EINVAL);
	CHECK_ERR(sys(SYS_listen, d[0], 5), EOPNOTSUPP);
	CHECK_ERR(sys(SYS_accept4, d[0], 0, 0, 0), EOPNOTSUPP);
	/* sendto with an address: a stream is connected already; a datagram finds no name. */
	CHECK_ERR(sys(SYS_sendto, sv[0], "x", 1, 0, &path, plen), EISCONN);
	CHECK_ERR(sys(SYS_sendto, d[0], "x", 1, 0, &path, plen), ENOENT);
	CHECK_ERR(sys(SYS_sendto, d[0], "x", 1, 0, &abstract, alen), ECONNREFUSED);
	CHECK_ERR(sys(SYS_sendto, sv[0], "x", 1, MSG_OOB, 0, 0), EOPNOTSUPP);
	/* A datagram end disconnects with AF_UNSPEC. */
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	CHECK_OK(sys(SYS_connect, d[0], &unspec, sizeof unspec));
	CHECK_ERR(sys(SYS_write, d[0], "x", 1), ENOTCONN);
	/* Not sockets at all. */
	long fd = CHECK_OK(open_("/hello.txt", O_RDONLY));
	CHECK_ERR(sys(SYS_getsockname, fd, &path, &plen), ENOTSOCK);
	CHECK_ERR(sys(SYS_shutdown, 99, SHUT_RD), EBADF);
}

TEST(socket_af_unix_is_a_socket_that_is_not_connected)
{
	boot(0);
	struct sockaddr_un path = { .sun_family = AF_UNIX, .sun_path = "/tmp/sock" };
	struct sockaddr_un abstract = { .sun_family = AF_UNIX, .sun_path = "\0name" };
	socklen_t plen = sizeof path, alen = offsetof(struct sockaddr_un, sun_path) + 5;
	int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
	for (int i = 0; i < 3; i++) {
		int t = types[i], stream = t != SOCK_DGRAM;
		int fd = (int)CHECK_OK(sys(SYS_socket, AF_UNIX, t | SOCK_CLOEXEC, 0));
		CHECK_EQ(sys(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC);
		CHECK_EQ(opt(fd, SO_DOMAIN), AF_UNIX);
		CHECK_EQ(opt(fd, SO_TYPE), t);
		CHECK_EQ(opt(fd, SO_ACCEPTCONN), 0);
		struct sockaddr_un name;
		socklen_t len = sizeof name;
		CHECK_OK(sys(SYS_getsockname, fd, &name, &len));
		CHECK_EQ(len, sizeof(sa_family_t)); /* unnamed */
		CHECK_ERR(sys(SYS_getpeername, fd, &name, &len), ENOTCONN);
		/* No name is bound: nothing is reached from it. */
		CHECK_ERR(sys(SYS_connect, fd, &path, plen), ENOENT);
		CHECK_ERR(sys(SYS_connect, fd, &abstract, alen), ECONNREFUSED);
		CHECK_ERR(sys(SYS_listen, fd, 5), stream ? EINVAL : EOPNOTSUPP);
		/* Unconnected: sends are ENOTCONN, a stream's reads EINVAL; a datagram read waits. */
		CHECK_ERR(sys(SYS_write, fd, "x", 1), ENOTCONN);
		CHECK_ERR(sys(SYS_sendto, fd, "x", 1, 0, &path, plen), t == SOCK_STREAM ? EOPNOTSUPP : t == SOCK_DGRAM ? ENOENT :
															 ENOTCONN);
		char c;
		CHECK_ERR(sys(SYS_recvfrom, fd, &c, 1, MSG_DONTWAIT, 0, 0), t == SOCK_STREAM ? EINVAL : stream ? ENOTCONN :
														 EAGAIN);
		CHECK_EQ(revents(fd, POLLIN | POLLOUT), stream ? POLLOUT | POLLHUP : POLLOUT);
		CHECK_OK(sys(SYS_close, fd));
	}
	CHECK_ERR(sys(SYS_socket, AF_UNIX, SOCK_STREAM, IPPROTO_TCP), EPROTONOSUPPORT);
	CHECK_ERR(sys(SYS_socket, AF_UNIX, SOCK_RDM, 0), ESOCKTNOSUPPORT);
	CHECK_ERR(sys(SYS_socket, AF_UNIX, SOCK_STREAM | 0x100, 0), EINVAL);
	/* Made and closed many times, it holds no memory and no fd (64 MiB of guest memory). */
	int first = (int)CHECK_OK(sys(SYS_socket, AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(sys(SYS_close, first));
	for (int i = 0; i < 2000; i++) {
		CHECK_EQ(sys(SYS_socket, AF_UNIX, types[i % 3], 0), first);
		CHECK_OK(sys(SYS_close, first));
	}
	/* With every fd taken, socket() is EMFILE and frees what it made: pairs and pipes made
	 * after are whole and apart. */
	int last = first;
	while (sys(SYS_dup, 0) >= 0) last++;
	CHECK_ERR(sys(SYS_socket, AF_UNIX, SOCK_STREAM, 0), EMFILE);
	CHECK_ERR(sys(SYS_socket, AF_UNIX, SOCK_DGRAM, 0), EMFILE);
	for (int fd = first; fd <= last; fd++) sys(SYS_close, fd);
	int sv[2]; /* and the pairs made after are whole */
	pair(SOCK_STREAM, sv);
	int other[2], p[2];
	pair(SOCK_STREAM, other);
	CHECK_OK(sys(SYS_pipe2, p, 0));
	CHECK_EQ(sys(SYS_write, sv[0], "ok", 2), 2);
	CHECK_EQ(sys(SYS_write, other[0], "xyz", 3), 3);
	CHECK_EQ(sys(SYS_write, p[1], "pipe", 4), 4);
	char buf[8];
	CHECK_EQ(sys(SYS_read, sv[1], buf, sizeof buf), 2);
	CHECK_MEM(buf, "ok", 2);
	CHECK_EQ(sys(SYS_read, other[1], buf, sizeof buf), 3);
	CHECK_MEM(buf, "xyz", 3);
	CHECK_EQ(sys(SYS_read, p[0], buf, sizeof buf), 4);
	CHECK_MEM(buf, "pipe", 4);
}

TEST(socketpair_closing_both_ends_frees_the_memory)
{
	boot(0); /* 64 MiB of guest memory: 128 KiB kept per pair would run out by the 512th */
	int first[2];
	pair(SOCK_STREAM, first);
	for (int i = 0; i < 2000; i++) {
		int sv[2];
		pair(i % 3 == 0 ? SOCK_STREAM : (i % 3 == 1 ? SOCK_DGRAM : SOCK_SEQPACKET), sv);
		CHECK_EQ(sv[0], first[0] + 2); /* the fds come back too */
		CHECK_EQ(sys(SYS_write, sv[0], "x", 1), 1);
		CHECK_OK(sys(SYS_close, sv[i % 2]));
		CHECK_OK(sys(SYS_close, sv[!(i % 2)]));
	}
	CHECK_EQ(sys(SYS_write, first[1], "still", 5), 5); /* the pair kept open is untouched */
	char buf[8];
	CHECK_EQ(sys(SYS_read, first[0], buf, sizeof buf), 5);
}

/* ---- beside net.c ---- */

TEST(socketpair_and_tcp_sockets_each_go_to_their_own_code)
{
	static const struct boot_opts with_net = { .no_disk = 1, .net = 1 };
	boot(&with_net);
	int sv[2];
	pair(SOCK_STREAM, sv);
	int t = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_STREAM, 0));
	CHECK_EQ(opt(t, SO_DOMAIN), AF_INET);
	CHECK_EQ(opt(sv[0], SO_DOMAIN), AF_UNIX);
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	CHECK_OK(sys(SYS_getsockname, t, &a, &len));
	CHECK_EQ(len, sizeof a);
	CHECK_EQ(sys(SYS_sendto, sv[0], "u", 1, 0, 0, 0), 1);
	char c;
	CHECK_EQ(sys(SYS_recvfrom, sv[1], &c, 1, 0, 0, 0), 1);
	CHECK_ERR(sys(SYS_recvfrom, t, &c, 1, MSG_DONTWAIT, 0, 0), ENOTCONN); /* lwIP's: never connected */
	CHECK_ERR(sys(SYS_listen, sv[0], 1), EINVAL);
	CHECK_OK(sys(SYS_listen, t, 1));
}
