/*
 * net.c and lwip-port/: sockets. TCP and UDP run between green threads over 127.0.0.1
 * (lwIP's loopback, pumped by the scheduler, no host call), with or without a network:
 * each LOOPBACK case runs twice, once booted without one and once with one (boot opts
 * .net), where the fake tap (a datagram socketpair, guest.wire) also carries real
 * Ethernet frames the tap cases write and read: ARP, ICMP, a SYN.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static const struct boot_opts with_net = { .no_disk = 1, .net = 1 };
static const struct boot_opts no_net = { .no_disk = 1 };

/* LOOPBACK(name) { body }: the body as two cases, name_without_a_network and
 * name_with_a_tap, each booted that way. */
#define LOOPBACK(name) \
	static void name(void); \
	TEST(name##_without_a_network) \
	{ \
		boot(&no_net); \
		name(); \
	} \
	TEST(name##_with_a_tap) \
	{ \
		boot(&with_net); \
		name(); \
	} \
	static void name(void)

static long ms_since(uint64_t t0)
{
	return (long)((now_ns() - t0) / 1000000u);
}

static struct sockaddr_in sin_(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static int tcp_socket(int flags)
{
	return (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_STREAM | flags, 0));
}

/* A TCP listener on 127.0.0.1:port. */
static int listener(int port)
{
	int fd = tcp_socket(0);
	int one = 1;
	CHECK_OK(sys(SYS_setsockopt, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
	struct sockaddr_in a = sin_("127.0.0.1", port);
	CHECK_OK(sys(SYS_bind, fd, &a, sizeof a));
	CHECK_OK(sys(SYS_listen, fd, 16));
	return fd;
}

static int connect_to(int port)
{
	int fd = tcp_socket(0);
	struct sockaddr_in a = sin_("127.0.0.1", port);
	CHECK_OK(sys(SYS_connect, fd, &a, sizeof a));
	return fd;
}

/* ---- no network, and bad arguments ---- */

TEST(without_a_network_sockets_work_over_loopback_and_other_families_are_refused)
{
	boot(0);
	int t = tcp_socket(0);
	int u = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	CHECK_ERR(sys(SYS_socket, AF_INET6, SOCK_STREAM, 0), EAFNOSUPPORT); /* Go and CPython fall back to IPv4 */
	CHECK_ERR(sys(SYS_socket, AF_INET6, SOCK_DGRAM, 0), EAFNOSUPPORT);
	CHECK_ERR(sys(SYS_socket, AF_PACKET, SOCK_RAW, 0), EAFNOSUPPORT);
	CHECK_ERR(sys(SYS_socket, AF_INET, SOCK_RAW, 1), EPERM); /* as without CAP_NET_RAW */
	CHECK_ERR(sys(SYS_socket, AF_INET, SOCK_SEQPACKET, 0), ESOCKTNOSUPPORT);
	int pair[2];
	CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, pair)); /* unix.c */
	struct sockaddr_in a = sin_("127.0.0.1", 80), lo = sin_("127.0.0.1", 65535);
	long fd = CHECK_OK(open_("/hello.txt", O_RDONLY));
	CHECK_ERR(sys(SYS_bind, fd, &a, sizeof a), ENOTSOCK);
	CHECK_ERR(sys(SYS_connect, 99, &a, sizeof a), EBADF);
	CHECK_ERR(sys(SYS_listen, 1, 5), ENOTSOCK);
	/* What only touches loopback says nothing: musl's AI_ADDRCONFIG probe (a UDP connect
	 * to 127.0.0.1:65535), Go's probe (bind 127.0.0.1:0), a server on 127.0.0.1. */
	CHECK_OK(sys(SYS_connect, u, &lo, sizeof lo));
	CHECK_OK(sys(SYS_bind, t, &a, sizeof a));
	CHECK_OK(sys(SYS_listen, t, 5));
	CHECK_EQ(fake.out_len[2], 0);
}

/* A server on 0.0.0.0 with no network (what users meet: an app without "ports") works
 * over loopback, and says once on stderr why nothing else reaches it. */
TEST(without_a_network_a_server_on_any_address_works_and_says_why_once)
{
	boot(&no_net);
	int l = tcp_socket(0);
	struct sockaddr_in any = sin_("0.0.0.0", 8080);
	CHECK_OK(sys(SYS_bind, l, &any, sizeof any));
	CHECK_OK(sys(SYS_listen, l, 5));
	CHECK(strstr(fake.out[2], "nabla libOS: no network: a server on 0.0.0.0:8080 is reachable only from inside this unikernel (127.0.0.1)") != 0);
	CHECK(strstr(fake.out[2], "nabla.json \"ports\"") != 0);
	CHECK(strstr(fake.out[2], "--cap-add NET_ADMIN --device /dev/net/tun") != 0);
	size_t said = fake.out_len[2];
	int c = connect_to(8080); /* reachable over loopback */
	int s = (int)CHECK_OK(sys(SYS_accept4, l, 0, 0, 0));
	CHECK_EQ(sys(SYS_write, c, "hi", 2), 2);
	char buf[4];
	CHECK_EQ(sys(SYS_read, s, buf, sizeof buf), 2);
	struct sockaddr_in far = sin_("10.1.2.3", 80);
	int out = tcp_socket(0);
	CHECK_ERR(sys(SYS_connect, out, &far, sizeof far), ENETUNREACH);
	CHECK_EQ(fake.out_len[2], said); /* once per run */
}

TEST(without_a_network_a_connection_out_is_unreachable_and_says_why)
{
	boot(&no_net);
	struct sockaddr_in far = sin_("10.1.2.3", 80);
	int c = tcp_socket(0), n = tcp_socket(SOCK_NONBLOCK);
	CHECK_ERR(sys(SYS_connect, c, &far, sizeof far), ENETUNREACH);
	CHECK(strstr(fake.out[2], "no network: 10.1.2.3:80 is unreachable (ENETUNREACH), only 127.0.0.1 is") != 0);
	CHECK_ERR(sys(SYS_connect, n, &far, sizeof far), ENETUNREACH);
	int u = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_DGRAM, 0));
	CHECK_ERR(sys(SYS_sendto, u, "q", 1, 0, &far, sizeof far), ENETUNREACH);
	CHECK_ERR(sys(SYS_connect, u, &far, sizeof far), ENETUNREACH);
	CHECK_ERR(sys(SYS_bind, u, &far, sizeof far), EADDRNOTAVAIL);
	CHECK_EQ(fake.writes[2], 3); /* one message: prefix, text, newline */
}

TEST(with_a_tap_a_server_on_any_address_says_nothing)
{
	boot(&with_net);
	int l = tcp_socket(0);
	struct sockaddr_in any = sin_("0.0.0.0", 8080);
	CHECK_OK(sys(SYS_bind, l, &any, sizeof any));
	CHECK_OK(sys(SYS_listen, l, 5));
	int u = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_DGRAM, 0));
	CHECK_OK(sys(SYS_bind, u, &any, sizeof any));
	CHECK_EQ(fake.out_len[2], 0);
	/* The unikernel's own address is local too: reached through the loopback. */
	int c = tcp_socket(0);
	struct sockaddr_in own = sin_("10.0.0.2", 8080);
	CHECK_OK(sys(SYS_connect, c, &own, sizeof own));
	CHECK_OK(sys(SYS_accept4, l, 0, 0, 0));
}

TEST(socket_argument_errors_are_as_on_linux)
{
	boot(&with_net);
	CHECK_ERR(sys(SYS_socket, AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	CHECK_ERR(sys(SYS_socket, AF_INET6, SOCK_DGRAM, 0), EAFNOSUPPORT);
	int t = tcp_socket(0), u = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_DGRAM, IPPROTO_UDP));
	struct sockaddr_in a = sin_("127.0.0.1", 7000), far = sin_("10.9.9.9", 7000);
	CHECK_ERR(sys(SYS_bind, t, &a, sizeof a - 1), EINVAL);
	struct sockaddr_in6 six = { .sin6_family = AF_INET6 };
	CHECK_ERR(sys(SYS_bind, t, &six, sizeof six), EAFNOSUPPORT);
	CHECK_ERR(sys(SYS_bind, t, &far, sizeof far), EADDRNOTAVAIL);
	CHECK_OK(sys(SYS_bind, t, &a, sizeof a));
	CHECK_ERR(sys(SYS_bind, t, &a, sizeof a), EINVAL); /* bound already */
	int t2 = tcp_socket(0);
	CHECK_ERR(sys(SYS_bind, t2, &a, sizeof a), EADDRINUSE);
	CHECK_ERR(sys(SYS_listen, u, 5), EOPNOTSUPP);
	CHECK_ERR(sys(SYS_accept4, t, 0, 0, 0), EINVAL); /* not listening */
	CHECK_OK(sys(SYS_listen, t, 5));
	CHECK_ERR(sys(SYS_accept4, t, 0, 0, 0x1), EINVAL); /* unknown flag */
	struct sockaddr_in got;
	socklen_t len = sizeof got;
	CHECK_ERR(sys(SYS_getpeername, t2, &got, &len), ENOTCONN);
	CHECK_ERR(sys(SYS_getpeername, u, &got, &len), ENOTCONN);
	CHECK_ERR(sys(SYS_shutdown, t2, SHUT_WR), ENOTCONN);
	CHECK_ERR(sys(SYS_shutdown, t2, 7), EINVAL);
	char buf[8];
	CHECK_ERR(sys(SYS_read, t2, buf, sizeof buf), ENOTCONN);
	CHECK_ERR(sys(SYS_write, t2, "x", 1), ENOTCONN);
	CHECK_ERR(sys(SYS_sendto, u, "x", 1, 0, 0, 0), EDESTADDRREQ);
	static char big[70000];
	CHECK_ERR(sys(SYS_sendto, u, big, sizeof big, 0, &a, sizeof a), EMSGSIZE);
	int v = 1;
	len = sizeof v;
	CHECK_ERR(sys(SYS_getsockopt, t2, SOL_SOCKET, 12345, &v, &len), ENOPROTOOPT);
	CHECK_ERR(sys(SYS_setsockopt, t2, SOL_SOCKET, SO_REUSEADDR, &v, 2), EINVAL);
	CHECK_ERR(sys(SYS_setsockopt, u, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v), EOPNOTSUPP);
	CHECK_ERR(sys(SYS_recvfrom, t2, buf, 1, MSG_OOB, 0, 0), EOPNOTSUPP);
	CHECK_ERR(sys(SYS_lseek, t2, 0, SEEK_SET), ESPIPE);
	struct stat st;
	CHECK_OK(sys(SYS_fstat, t2, &st));
	CHECK(S_ISSOCK(st.st_mode));
}

/* ---- TCP over 127.0.0.1 ---- */

struct echo {
	int lfd;
	int port;
};

/* Accepts one connection, answers each message with "<msg>!" until EOF, then closes. */
static int echo_server(void *arg)
{
	struct echo *e = arg;
	struct sockaddr_in peer;
	socklen_t len = sizeof peer;
	int c = (int)CHECK_OK(sys(SYS_accept4, e->lfd, &peer, &len, 0));
	CHECK_EQ(len, sizeof peer);
	CHECK_STR(inet_ntoa(peer.sin_addr), "127.0.0.1");
	char buf[256];
	for (;;) {
		long n = CHECK_OK(sys(SYS_read, c, buf, sizeof buf - 1));
		if (n == 0) break;
		buf[n++] = '!';
		CHECK_EQ(sys(SYS_write, c, buf, n), n);
	}
	CHECK_OK(sys(SYS_close, c));
	return 0;
}

LOOPBACK(tcp_connect_accept_read_write_close_between_threads)
{
	struct echo e = { listener(8080), 8080 };
	CHECK_OK(spawn(echo_server, &e, 0, 0));
	int c = connect_to(8080); /* blocks until the handshake over the loopback is done */
	CHECK_EQ(sys(SYS_write, c, "ping", 4), 4);
	char buf[16] = { 0 };
	CHECK_EQ(sys(SYS_read, c, buf, sizeof buf), 5);
	CHECK_MEM(buf, "ping!", 5);
	struct sockaddr_in me, peer;
	socklen_t len = sizeof me;
	CHECK_OK(sys(SYS_getsockname, c, &me, &len));
	CHECK_EQ(len, sizeof me);
	CHECK_STR(inet_ntoa(me.sin_addr), "127.0.0.1");
	CHECK(ntohs(me.sin_port) >= 1024);
	len = sizeof peer;
	CHECK_OK(sys(SYS_getpeername, c, &peer, &len));
	CHECK_EQ(ntohs(peer.sin_port), 8080);
	/* Half close: the server reads EOF, closes, and we read EOF too. */
	CHECK_OK(sys(SYS_shutdown, c, SHUT_WR));
	CHECK_EQ(sys(SYS_read, c, buf, sizeof buf), 0);
	CHECK_ERR(sys(SYS_write, c, "x", 1), EPIPE);
	CHECK_OK(sys(SYS_close, c));
	len = sizeof me;
	CHECK_OK(sys(SYS_getsockname, e.lfd, &me, &len));
	CHECK_EQ(ntohs(me.sin_port), 8080);
}

LOOPBACK(tcp_nonblocking_connect_is_einprogress_then_writable)
{
	int l = listener(8081);
	int c = tcp_socket(SOCK_NONBLOCK);
	struct sockaddr_in a = sin_("127.0.0.1", 8081);
	CHECK_ERR(sys(SYS_connect, c, &a, sizeof a), EINPROGRESS);
	CHECK_ERR(sys(SYS_connect, c, &a, sizeof a), EALREADY);
	struct pollfd p = { c, POLLOUT, 0 };
	CHECK_EQ(sys(SYS_poll, &p, 1, 2000), 1);
	CHECK_EQ(p.revents, POLLOUT);
	int err = -1;
	socklen_t len = sizeof err;
	CHECK_OK(sys(SYS_getsockopt, c, SOL_SOCKET, SO_ERROR, &err, &len));
	CHECK_EQ(err, 0);
	CHECK_ERR(sys(SYS_connect, c, &a, sizeof a), EISCONN);
	/* accept4's flags reach the new fd; the peer address is the client's name. */
	struct sockaddr_in peer, me;
	len = sizeof peer;
	int s = (int)CHECK_OK(sys(SYS_accept4, l, &peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC));
	CHECK_EQ(sys(SYS_fcntl, s, F_GETFD), FD_CLOEXEC);
	CHECK(sys(SYS_fcntl, s, F_GETFL) & O_NONBLOCK);
	len = sizeof me;
	CHECK_OK(sys(SYS_getsockname, c, &me, &len));
	CHECK_EQ(peer.sin_port, me.sin_port);
	char buf[4];
	CHECK_ERR(sys(SYS_read, s, buf, sizeof buf), EAGAIN);
}

LOOPBACK(tcp_connect_to_a_closed_port_is_refused)
{
	struct sockaddr_in a = sin_("127.0.0.1", 9);
	int c = tcp_socket(0);
	CHECK_ERR(sys(SYS_connect, c, &a, sizeof a), ECONNREFUSED);
	int n = tcp_socket(SOCK_NONBLOCK);
	CHECK_ERR(sys(SYS_connect, n, &a, sizeof a), EINPROGRESS);
	struct pollfd p = { n, POLLOUT, 0 };
	CHECK_EQ(sys(SYS_poll, &p, 1, 2000), 1);
	CHECK(p.revents & POLLERR);
	int err = 0;
	socklen_t len = sizeof err;
	CHECK_OK(sys(SYS_getsockopt, n, SOL_SOCKET, SO_ERROR, &err, &len));
	CHECK_EQ(err, ECONNREFUSED);
	CHECK_OK(sys(SYS_getsockopt, n, SOL_SOCKET, SO_ERROR, &err, &len));
	CHECK_EQ(err, 0); /* read once, then cleared */
}

struct bulk {
	int fd;
	size_t size;
};

static int bulk_writer(void *arg)
{
	struct bulk *b = arg;
	static char chunk[65536];
	for (size_t done = 0; done < b->size;) {
		size_t n = b->size - done < sizeof chunk ? b->size - done : sizeof chunk;
		for (size_t i = 0; i < n; i++) chunk[i] = (char)((done + i) * 7 % 251);
		long w = CHECK_OK(sys(SYS_write, b->fd, chunk, n));
		done += (size_t)w;
	}
	CHECK_OK(sys(SYS_close, b->fd));
	return 0;
}

LOOPBACK(tcp_bulk_transfer_keeps_every_byte_in_order)
{
	int l = listener(8082);
	struct bulk b = { connect_to(8082), 3u << 20 };
	int s = (int)CHECK_OK(sys(SYS_accept4, l, 0, 0, 0));
	uint64_t t0 = now_ns();
	CHECK_OK(spawn(bulk_writer, &b, 0, 0));
	size_t got = 0;
	char buf[1000];
	for (;;) {
		long n = CHECK_OK(sys(SYS_read, s, buf, sizeof buf));
		if (n == 0) break;
		for (long i = 0; i < n; i++)
			if (buf[i] != (char)((got + (size_t)i) * 7 % 251)) FAIL("byte %zu differs", got + (size_t)i);
		got += (size_t)n;
	}
	CHECK_EQ(got, b.size);
	long ms = ms_since(t0);
	printf("# %s: %zu MiB one way in %ld ms (%.0f MB/s)\n", guest.boot->net_fd < 0 ? "no network" : "tap", b.size >> 20, ms,
	       ms ? (double)b.size / 1e3 / (double)ms : 0.0);
	fflush(stdout);
}

LOOPBACK(tcp_close_with_unread_data_resets_the_peer)
{
	int l = listener(8083), c = connect_to(8083);
	int s = (int)CHECK_OK(sys(SYS_accept4, l, 0, 0, 0));
	CHECK_EQ(sys(SYS_write, c, "unread", 6), 6);
	sleep_ms(5); /* delivered */
	CHECK_OK(sys(SYS_close, s));
	char buf[8];
	CHECK_ERR(sys(SYS_read, c, buf, sizeof buf), ECONNRESET);
	CHECK_ERR(sys(SYS_write, c, "x", 1), EPIPE);
}

/* SO_LINGER with a zero time: close resets the connection (Go's SetLinger(0)), where a
 * plain close with nothing unread ends it with a FIN. */
LOOPBACK(tcp_close_with_so_linger_zero_resets_the_peer)
{
	int l = listener(8093), c = connect_to(8093), c2 = connect_to(8093);
	int s = (int)CHECK_OK(sys(SYS_accept4, l, 0, 0, 0)), s2 = (int)CHECK_OK(sys(SYS_accept4, l, 0, 0, 0));
	struct linger now = { 1, 0 };
	CHECK_OK(sys(SYS_setsockopt, s, SOL_SOCKET, SO_LINGER, &now, sizeof now));
	CHECK_OK(sys(SYS_close, s));
	CHECK_OK(sys(SYS_close, s2));
	char buf[8];
	CHECK_ERR(sys(SYS_read, c, buf, sizeof buf), ECONNRESET);
	CHECK_EQ(sys(SYS_read, c2, buf, sizeof buf), 0);
}

LOOPBACK(tcp_nonblocking_io_and_fionbio)
{
	int l = listener(8084), c = connect_to(8084);
	CHECK_OK(sys(SYS_accept4, l, 0, 0, 0)); /* the one connection there is */
	int on = 1;
	CHECK_OK(sys(SYS_ioctl, l, FIONBIO, &on));
	CHECK_ERR(sys(SYS_accept4, l, 0, 0, 0), EAGAIN);
	CHECK_OK(sys(SYS_ioctl, c, FIONBIO, &on));
	CHECK(sys(SYS_fcntl, c, F_GETFL) & O_NONBLOCK);
	char buf[8];
	CHECK_ERR(sys(SYS_read, c, buf, sizeof buf), EAGAIN);
	CHECK_ERR(sys(SYS_recvfrom, c, buf, sizeof buf, MSG_DONTWAIT, 0, 0), EAGAIN);
	/* Writes fill the send buffer, then EAGAIN: nobody reads the other end. */
	static char chunk[16384];
	long total = 0, w;
	while ((w = sys(SYS_write, c, chunk, sizeof chunk)) > 0) total += w;
	CHECK_EQ(w, -EAGAIN);
	CHECK(total >= 60000); /* the send buffer; the loopback delivers only when threads wait */
	struct pollfd p = { c, POLLOUT, 0 };
	CHECK_EQ(sys(SYS_poll, &p, 1, 0), 0);
}

/* ---- readiness ---- */

static int connect_later(void *arg)
{
	sleep_ms(20);
	int c = connect_to(*(int *)arg);
	CHECK_EQ(sys(SYS_write, c, "hi", 2), 2);
	sleep_ms(20);
	CHECK_OK(sys(SYS_close, c));
	return 0;
}

LOOPBACK(epoll_and_select_report_sockets)
{
	int port = 8085, l = listener(port);
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 1 };
	CHECK_OK(sys(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, l, &ev));
	CHECK_OK(spawn(connect_later, &port, 0, 0));
	CHECK_EQ(sys(SYS_epoll_wait, ep, &ev, 1, 2000), 1); /* a connection to accept */
	CHECK_EQ(ev.data.u64, 1);
	int s = (int)CHECK_OK(sys(SYS_accept4, l, 0, 0, SOCK_NONBLOCK));
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.u64 = 2 };
	CHECK_OK(sys(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, s, &ev));
	CHECK_EQ(sys(SYS_epoll_wait, ep, &ev, 1, 2000), 1);
	CHECK_EQ(ev.data.u64, 2);
	CHECK(ev.events & EPOLLIN);
	char buf[8];
	CHECK_EQ(sys(SYS_read, s, buf, sizeof buf), 2);
	CHECK_EQ(sys(SYS_epoll_wait, ep, &ev, 1, 2000), 1); /* the peer's close: EOF */
	CHECK(ev.events & EPOLLRDHUP);
	CHECK_EQ(sys(SYS_read, s, buf, sizeof buf), 0);
	int n;
	CHECK_OK(sys(SYS_ioctl, s, FIONREAD, &n));
	CHECK_EQ(n, 0);
	fd_set r;
	FD_ZERO(&r);
	FD_SET(s, &r);
	struct timeval tv = { 0, 0 };
	CHECK_EQ(sys(SYS_select, s + 1, &r, 0, 0, &tv), 1); /* at EOF: readable */
}

TEST(so_rcvtimeo_ends_a_blocking_read_and_the_libos_waits_on_the_tap)
{
	boot(&with_net);
	int l = listener(8086), c = connect_to(8086);
	struct timeval tv = { 0, 60000 };
	CHECK_OK(sys(SYS_setsockopt, c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	struct timeval got;
	socklen_t len = sizeof got;
	CHECK_OK(sys(SYS_getsockopt, c, SOL_SOCKET, SO_RCVTIMEO, &got, &len));
	CHECK_EQ(got.tv_usec, 60000);
	long waits = fake.net_waits;
	uint64_t t0 = now_ns();
	char buf[4];
	CHECK_ERR(sys(SYS_read, c, buf, sizeof buf), EAGAIN);
	long ms = ms_since(t0);
	if (ms < 60 || ms > 1000) FAIL("read waited %ld ms, want about 60", ms);
	CHECK(fake.net_waits > waits); /* idle in the tender's epoll_pwait, not spinning */
	CHECK(fake.net_waits - waits < 20);
	CHECK_OK(sys(SYS_setsockopt, l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	CHECK_OK(sys(SYS_accept4, l, 0, 0, 0));
	CHECK_ERR(sys(SYS_accept4, l, 0, 0, 0), EAGAIN); /* timed out too */
}

LOOPBACK(a_thread_that_never_blocks_still_lets_the_network_run)
{
	int l = listener(8087), c = tcp_socket(SOCK_NONBLOCK);
	struct sockaddr_in a = sin_("127.0.0.1", 8087);
	CHECK_ERR(sys(SYS_connect, c, &a, sizeof a), EINPROGRESS);
	/* Only yields and zero-timeout polls: the scheduler never idles, net_tick must pump. */
	struct pollfd p = { c, POLLOUT, 0 };
	uint64_t t0 = now_ns();
	while (sys(SYS_poll, &p, 1, 0) == 0) {
		if (ms_since(t0) > 2000) FAIL("the handshake never finished while the thread kept running");
		sys(SYS_sched_yield);
	}
	CHECK_EQ(p.revents, POLLOUT);
	CHECK_OK(sys(SYS_accept4, l, 0, 0, 0));
}

LOOPBACK(socket_options_read_back)
{
	int t = tcp_socket(0), u = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_DGRAM, 0));
	int v;
	socklen_t len = sizeof v;
	CHECK_OK(sys(SYS_getsockopt, t, SOL_SOCKET, SO_TYPE, &v, &len));
	CHECK_EQ(v, SOCK_STREAM);
	CHECK_OK(sys(SYS_getsockopt, u, SOL_SOCKET, SO_TYPE, &v, &len));
	CHECK_EQ(v, SOCK_DGRAM);
	CHECK_OK(sys(SYS_getsockopt, t, SOL_SOCKET, SO_RCVBUF, &v, &len));
	CHECK(v > 0);
	int on = 1;
	CHECK_OK(sys(SYS_setsockopt, t, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on));
	CHECK_OK(sys(SYS_getsockopt, t, IPPROTO_TCP, TCP_NODELAY, &v, &len));
	CHECK_EQ(v, 1);
	CHECK_OK(sys(SYS_setsockopt, t, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on));
	CHECK_OK(sys(SYS_getsockopt, t, SOL_SOCKET, SO_KEEPALIVE, &v, &len));
	CHECK_EQ(v, 1);
	int idle = 30;
	CHECK_OK(sys(SYS_setsockopt, t, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle));
	CHECK_OK(sys(SYS_getsockopt, t, IPPROTO_TCP, TCP_KEEPIDLE, &v, &len));
	CHECK_EQ(v, 30);
	CHECK_OK(sys(SYS_getsockopt, t, SOL_SOCKET, SO_ACCEPTCONN, &v, &len));
	CHECK_EQ(v, 0);
	char small[2] = { 9, 9 };
	len = sizeof small;
	CHECK_OK(sys(SYS_getsockopt, t, SOL_SOCKET, SO_TYPE, small, &len)); /* truncated, as Linux does */
	CHECK_EQ(len, 2);
}

/* ---- UDP over 127.0.0.1 ---- */

LOOPBACK(udp_sendto_recvfrom_connect_and_msg)
{
	int a = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
	int b = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in aa = sin_("127.0.0.1", 5001), ba = sin_("127.0.0.1", 5002), from;
	CHECK_OK(sys(SYS_bind, a, &aa, sizeof aa));
	CHECK_OK(sys(SYS_bind, b, &ba, sizeof ba));
	char buf[64];
	CHECK_ERR(sys(SYS_recvfrom, a, buf, sizeof buf, 0, 0, 0), EAGAIN);
	CHECK_EQ(sys(SYS_sendto, b, "hello", 5, 0, &aa, sizeof aa), 5);
	CHECK_EQ(sys(SYS_sendto, b, "world!", 6, 0, &aa, sizeof aa), 6);
	struct pollfd p = { a, POLLIN, 0 };
	CHECK_EQ(sys(SYS_poll, &p, 1, 2000), 1);
	socklen_t len = sizeof from;
	CHECK_EQ(sys(SYS_recvfrom, a, buf, sizeof buf, MSG_PEEK, &from, &len), 5);
	CHECK_EQ(sys(SYS_recvfrom, a, buf, 3, 0, &from, &len), 3); /* the rest is dropped */
	CHECK_MEM(buf, "hel", 3);
	CHECK_EQ(ntohs(from.sin_port), 5002);
	/* recvmsg over two iovecs, MSG_TRUNC in msg_flags when the datagram was longer. */
	char x[2], y[3];
	struct iovec iov[2] = { { x, 2 }, { y, 3 } };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = iov, .msg_iovlen = 2 };
	CHECK_EQ(sys(SYS_recvmsg, a, &m, 0), 5);
	CHECK_MEM(x, "wo", 2);
	CHECK_MEM(y, "rld", 3);
	CHECK(m.msg_flags & MSG_TRUNC);
	/* Connected: send and read without addresses, and sendmsg gathers iovecs. */
	CHECK_OK(sys(SYS_connect, a, &ba, sizeof ba));
	struct iovec out[2] = { { "ab", 2 }, { "cd", 2 } };
	struct msghdr mo = { .msg_iov = out, .msg_iovlen = 2 };
	CHECK_EQ(sys(SYS_sendmsg, a, &mo, 0), 4);
	CHECK_EQ(sys(SYS_read, b, buf, sizeof buf), 4);
	CHECK_MEM(buf, "abcd", 4);
	len = sizeof from;
	CHECK_OK(sys(SYS_getpeername, a, &from, &len));
	CHECK_EQ(ntohs(from.sin_port), 5002);
	int n;
	CHECK_EQ(sys(SYS_sendto, b, "xyz", 3, 0, &aa, sizeof aa), 3);
	sleep_ms(2);
	CHECK_OK(sys(SYS_ioctl, a, FIONREAD, &n));
	CHECK_EQ(n, 3);
}

/* ---- loopback under load, and hostile peers ---- */

/* Waits for a thread spawned with CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID, as
 * pthread_join does. */
static void join(int *ctid)
{
	int tid;
	while ((tid = *(volatile int *)ctid) != 0) sys(SYS_futex, ctid, 0 /* FUTEX_WAIT */, tid, 0, 0, 0);
}

#define CLIENTS 8
#define PER_CLIENT 8
#define ROUNDS 20

struct many {
	int lfd, port, closed;
};

/* One thread serves every connection with epoll: accepts, echoes, counts the closes. */
static int epoll_echo_server(void *arg)
{
	struct many *m = arg;
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = m->lfd };
	CHECK_OK(sys(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, m->lfd, &ev));
	while (m->closed < CLIENTS * PER_CLIENT) {
		struct epoll_event evs[16];
		long n = CHECK_OK(sys(SYS_epoll_wait, ep, evs, 16, 3000));
		if (n == 0) FAIL("the server saw nothing for 3 s (%d closed)", m->closed);
		for (long i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == m->lfd) {
				int c = (int)CHECK_OK(sys(SYS_accept4, m->lfd, 0, 0, SOCK_NONBLOCK));
				ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = c };
				CHECK_OK(sys(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, c, &ev));
				continue;
			}
			char buf[512];
			long r = sys(SYS_read, fd, buf, sizeof buf);
			if (r == -EAGAIN) continue;
			CHECK_OK(r);
			if (r == 0) {
				CHECK_OK(sys(SYS_close, fd));
				m->closed++;
				continue;
			}
			CHECK_EQ(sys(SYS_write, fd, buf, r), r);
		}
	}
	return 0;
}

static int many_client(void *arg)
{
	struct many *m = arg;
	int fds[PER_CLIENT];
	for (int i = 0; i < PER_CLIENT; i++) fds[i] = connect_to(m->port);
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < PER_CLIENT; i++) {
			char msg[32], got[32];
			int len = 0;
			for (int v = r * 1000 + i * 7 + fds[i]; len == 0 || v; v /= 10) msg[len++] = (char)('0' + v % 10);
			CHECK_EQ(sys(SYS_write, fds[i], msg, len), len);
			CHECK_EQ(sys(SYS_recvfrom, fds[i], got, len, MSG_WAITALL, 0, 0), len);
			CHECK_MEM(got, msg, (size_t)len);
		}
	for (int i = 0; i < PER_CLIENT; i++) CHECK_OK(sys(SYS_close, fds[i]));
	return 0;
}

LOOPBACK(tcp_many_connections_from_many_threads_to_one_epoll_server)
{
	struct many m = { listener(8090), 8090, 0 };
	int server = 0, clients[CLIENTS] = { 0 };
	CHECK_OK(spawn(epoll_echo_server, &m, CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID, &server));
	for (int i = 0; i < CLIENTS; i++) CHECK_OK(spawn(many_client, &m, CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID, &clients[i]));
	for (int i = 0; i < CLIENTS; i++) join(&clients[i]);
	join(&server);
	CHECK_EQ(m.closed, CLIENTS * PER_CLIENT);
}

#define DUPLEX_SIZE (4u << 20)

struct half {
	int fd;
	uint32_t seed;
	size_t got;
	char chunk[32768]; /* the writer's (threads share the harness's TLS) */
};

static char pattern(uint32_t seed, size_t i)
{
	return (char)((i * 131 + seed) % 253);
}

static int duplex_writer(void *arg)
{
	struct half *h = arg;
	for (size_t done = 0; done < DUPLEX_SIZE;) {
		size_t n = DUPLEX_SIZE - done < sizeof h->chunk ? DUPLEX_SIZE - done : sizeof h->chunk;
		for (size_t i = 0; i < n; i++) h->chunk[i] = pattern(h->seed, done + i);
		done += (size_t)CHECK_OK(sys(SYS_write, h->fd, h->chunk, n));
	}
	CHECK_OK(sys(SYS_shutdown, h->fd, SHUT_WR));
	return 0;
}

static int duplex_reader(void *arg)
{
	struct half *h = arg;
	char buf[7000];
	for (;;) {
		long n = CHECK_OK(sys(SYS_read, h->fd, buf, sizeof buf));
		if (n == 0) return 0;
		for (long i = 0; i < n; i++)
			if (buf[i] != pattern(h->seed, h->got + (size_t)i)) FAIL("byte %zu differs", h->got + (size_t)i);
		h->got += (size_t)n;
	}
}

/* Several MiB each way on one connection at once: a writer and a reader thread per end. */
LOOPBACK(tcp_large_transfers_both_directions_at_once)
{
	int l = listener(8091), c = connect_to(8091);
	int s = (int)CHECK_OK(sys(SYS_accept4, l, 0, 0, 0));
	static struct half cw, sw, cr, sr;
	cw = (struct half){ .fd = c, .seed = 1 };
	sw = (struct half){ .fd = s, .seed = 2 };
	cr = (struct half){ .fd = c, .seed = 2 };
	sr = (struct half){ .fd = s, .seed = 1 };
	int t[4] = { 0 };
	uint64_t t0 = now_ns();
	CHECK_OK(spawn(duplex_writer, &cw, CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID, &t[0]));
	CHECK_OK(spawn(duplex_writer, &sw, CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID, &t[1]));
	CHECK_OK(spawn(duplex_reader, &cr, CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID, &t[2]));
	CHECK_OK(spawn(duplex_reader, &sr, CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID, &t[3]));
	for (int i = 0; i < 4; i++) join(&t[i]);
	CHECK_EQ(cr.got, DUPLEX_SIZE);
	CHECK_EQ(sr.got, DUPLEX_SIZE);
	long ms = ms_since(t0);
	printf("# %s: 2 x %u MiB in %ld ms (%.0f MB/s each way)\n", guest.boot->net_fd < 0 ? "no network" : "tap", DUPLEX_SIZE >> 20,
	       ms, ms ? DUPLEX_SIZE / 1e3 / (double)ms : 0.0);
	fflush(stdout);
}

/* Request and answer of 100 bytes, one at a time between two threads: the latency. */
static int pingpong_server(void *arg)
{
	int s = *(int *)arg;
	char buf[100];
	long n;
	while ((n = CHECK_OK(sys(SYS_recvfrom, s, buf, sizeof buf, MSG_WAITALL, 0, 0))) == (long)sizeof buf)
		CHECK_EQ(sys(SYS_write, s, buf, sizeof buf), sizeof buf);
	return 0;
}

LOOPBACK(tcp_request_answer_latency_over_loopback)
{
	int l = listener(8092), c = connect_to(8092);
	int s = (int)CHECK_OK(sys(SYS_accept4, l, 0, 0, 0));
	int on = 1;
	CHECK_OK(sys(SYS_setsockopt, c, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on));
	CHECK_OK(sys(SYS_setsockopt, s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on));
	CHECK_OK(spawn(pingpong_server, &s, 0, 0));
	char buf[100] = { 1 };
	const int rounds = 5000;
	uint64_t t0 = now_ns();
	for (int i = 0; i < rounds; i++) {
		CHECK_EQ(sys(SYS_write, c, buf, sizeof buf), sizeof buf);
		CHECK_EQ(sys(SYS_recvfrom, c, buf, sizeof buf, MSG_WAITALL, 0, 0), sizeof buf);
	}
	uint64_t ns = now_ns() - t0;
	printf("# %s: %d request/answer rounds, %.1f us each\n", guest.boot->net_fd < 0 ? "no network" : "tap", rounds,
	       (double)ns / rounds / 1e3);
	fflush(stdout);
	CHECK(ns / rounds < 2000000u); /* no delayed-ACK stalls (200 ms) */
	if (guest.boot->net_fd < 0) CHECK_EQ(fake.net_waits, 0); /* no host call on the way */
}

/* A thread that keeps a pipe busy while the network is under attack: it must keep going. */
struct alive {
	volatile int stop;
	long rounds;
};

static int keep_alive(void *arg)
{
	struct alive *a = arg;
	while (!a->stop) {
		sleep_ms(1);
		a->rounds++;
	}
	return 0;
}

/* Hundreds of connections that nobody accepts, beyond the backlog, then hundreds that
 * connect and close at once: lwIP drops SYNs past the backlog, TIME_WAIT stays bounded,
 * and another thread runs all along. */
LOOPBACK(tcp_connect_storms_neither_hang_nor_exhaust_the_stack)
{
	struct alive a = { 0, 0 };
	int alive = 0;
	CHECK_OK(spawn(keep_alive, &a, CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID, &alive));
	int l = tcp_socket(0);
	struct sockaddr_in at = sin_("127.0.0.1", 8093);
	CHECK_OK(sys(SYS_bind, l, &at, sizeof at));
	CHECK_OK(sys(SYS_listen, l, 4));
	static int fds[300];
	for (int i = 0; i < 300; i++) {
		fds[i] = tcp_socket(SOCK_NONBLOCK);
		long r = sys(SYS_connect, fds[i], &at, sizeof at);
		if (r != -EINPROGRESS) CHECK_OK(r);
	}
	sleep_ms(50);
	int connected = 0;
	for (int i = 0; i < 300; i++) {
		struct pollfd p = { fds[i], POLLOUT, 0 };
		connected += sys(SYS_poll, &p, 1, 0) == 1 && p.revents == POLLOUT;
	}
	if (connected > 16) FAIL("%d connections finished with a backlog of 4 and no accept", connected);
	for (int i = 0; i < 300; i++) CHECK_OK(sys(SYS_close, fds[i]));
	CHECK_OK(sys(SYS_close, l));
	/* Connect and close, 1500 times, the server closing first: TIME_WAIT piles up. */
	l = listener(8094);
	uint64_t t0 = now_ns();
	for (int i = 0; i < 1500; i++) {
		int c = connect_to(8094);
		int s = (int)CHECK_OK(sys(SYS_accept4, l, 0, 0, 0));
		CHECK_OK(sys(SYS_close, s));
		CHECK_OK(sys(SYS_close, c));
	}
	long ms = ms_since(t0);
	a.stop = 1;
	join(&alive);
	if (a.rounds < ms / 20) FAIL("the other thread ran %ld times in %ld ms", a.rounds, ms);
	int c = connect_to(8094); /* still works */
	CHECK_OK(sys(SYS_close, c));
}

static int write_forever(void *arg)
{
	static char chunk[65536];
	long r;
	while ((r = sys(SYS_write, *(int *)arg, chunk, sizeof chunk)) > 0) {}
	CHECK(r == -ECONNRESET || r == -EPIPE); /* the reader closed with bytes unread: a reset */
	return 0;
}

/* Peers that never read: a blocked writer waits in the scheduler while other threads run;
 * hundreds of writers fill their windows until the stack's memory (a quarter of guest
 * memory) runs out, and then get EAGAIN or ENOBUFS, not more memory; a new connection
 * works again once they are gone. */
LOOPBACK(tcp_peers_that_never_read_are_bounded_and_hang_nobody)
{
	struct alive a = { 0, 0 };
	int alive = 0, writer = 0;
	CHECK_OK(spawn(keep_alive, &a, CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID, &alive));
	int l = listener(8095);
	CHECK_OK(sys(SYS_listen, l, 255));
	int b = connect_to(8095), bs = (int)CHECK_OK(sys(SYS_accept4, l, 0, 0, 0));
	CHECK_OK(spawn(write_forever, &b, CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID, &writer));
	uint64_t t0 = now_ns();
	enum {
		N = 300
	};
	static int cs[N], ss[N];
	static char chunk[65536];
	int n = 0;
	long total = 0;
	struct sockaddr_in at = sin_("127.0.0.1", 8095);
	for (; n < N; n++) {
		long c = sys(SYS_socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (c == -ENOBUFS) break;
		cs[n] = (int)CHECK_OK(c);
		long r = sys(SYS_connect, cs[n], &at, sizeof at);
		struct pollfd p = { cs[n], POLLOUT, 0 };
		if (r == -ENOBUFS || (r == -EINPROGRESS && sys(SYS_poll, &p, 1, 300) != 1) || p.revents != POLLOUT) {
			CHECK_OK(sys(SYS_close, cs[n]));
			break;
		}
		ss[n] = (int)CHECK_OK(sys(SYS_accept4, l, 0, 0, 0)); /* never read */
		for (int pass = 0; pass < 2; pass++) {
			long w;
			while ((w = sys(SYS_write, cs[n], chunk, sizeof chunk)) > 0) total += w;
			if (w != -EAGAIN) CHECK_ERR(w, ENOBUFS);
			sleep_ms(0); /* the loopback delivers; the window fills */
		}
	}
	printf("# %s: %d connections that never read hold %ld KiB (%ld ms)\n", guest.boot->net_fd < 0 ? "no network" : "tap", n, total >> 10, ms_since(t0));
	fflush(stdout);
	if (n < 40) FAIL("only %d connections before the stack ran out", n);
	/* Each could hold 128 KiB (its send buffer and the peer's window): more than the stack
	 * may have, which is a quarter of the 64 MiB. */
	CHECK((long)n * 2 * 65536 > (16l << 20));
	if (total > (16l << 20)) FAIL("%ld bytes taken by %d peers that never read", total, n);
	/* The stack kept to its quarter: the rest of guest memory is there for the app. */
	long big = CHECK_OK(sys(SYS_mmap, 0, 32u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK_OK(sys(SYS_munmap, big, 32u << 20));
	for (int i = 0; i < n; i++) {
		CHECK_OK(sys(SYS_close, ss[i])); /* with bytes unread: a reset, which frees the writer's end */
		CHECK_OK(sys(SYS_close, cs[i]));
	}
	CHECK_OK(sys(SYS_close, bs)); /* ends the blocked writer with a reset */
	join(&writer);
	long ms = ms_since(t0);
	a.stop = 1;
	join(&alive);
	if (a.rounds < ms / 20) FAIL("the other thread ran %ld times in %ld ms", a.rounds, ms);
	/* Memory came back: a fresh connection moves a MiB. */
	struct bulk bk = { connect_to(8095), 1u << 20 };
	int s = (int)CHECK_OK(sys(SYS_accept4, l, 0, 0, 0));
	CHECK_OK(spawn(bulk_writer, &bk, 0, 0));
	size_t got = 0;
	char buf[4096];
	long r;
	while ((r = CHECK_OK(sys(SYS_read, s, buf, sizeof buf))) > 0) got += (size_t)r;
	CHECK_EQ(got, bk.size);
}

/* A connected UDP socket sending to a loopback port nobody bound reads ECONNREFUSED (ICMP
 * port unreachable on Linux): a resolver asking 127.0.0.1:53 without a server there gives
 * up at once instead of waiting for its timeout. */
LOOPBACK(udp_to_a_loopback_port_nobody_bound_is_refused_when_connected)
{
	int u = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in dns = sin_("127.0.0.1", 53);
	CHECK_OK(sys(SYS_connect, u, &dns, sizeof dns));
	CHECK_EQ(sys(SYS_write, u, "query", 5), 5);
	struct pollfd p = { u, POLLIN, 0 };
	CHECK_EQ(sys(SYS_poll, &p, 1, 1000), 1);
	CHECK(p.revents & POLLERR);
	char buf[16];
	CHECK_ERR(sys(SYS_read, u, buf, sizeof buf), ECONNREFUSED);
	/* With a server there, the same socket talks. */
	int srv = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_DGRAM, 0));
	CHECK_OK(sys(SYS_bind, srv, &dns, sizeof dns));
	CHECK_EQ(sys(SYS_write, u, "query", 5), 5);
	CHECK_EQ(sys(SYS_read, srv, buf, sizeof buf), 5);
	/* Unconnected, as on Linux: no error. */
	int v = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
	struct sockaddr_in closed = sin_("127.0.0.1", 54);
	CHECK_EQ(sys(SYS_sendto, v, "x", 1, 0, &closed, sizeof closed), 1);
	sleep_ms(2);
	CHECK_ERR(sys(SYS_recvfrom, v, buf, sizeof buf, 0, 0, 0), EAGAIN);
}

/* Without a tap the idle wait is a ppoll sleep (no network host call); a read with a
 * timeout ends on time. */
TEST(without_a_network_a_blocked_read_sleeps_until_its_timeout)
{
	boot(&no_net);
	int l = listener(8096), c = connect_to(8096);
	(void)l;
	struct timeval tv = { 0, 60000 };
	CHECK_OK(sys(SYS_setsockopt, c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	long sleeps = fake.sleeps;
	uint64_t t0 = now_ns();
	char buf[4];
	CHECK_ERR(sys(SYS_read, c, buf, sizeof buf), EAGAIN);
	long ms = ms_since(t0);
	if (ms < 60 || ms > 1000) FAIL("read waited %ld ms, want about 60", ms);
	CHECK(fake.sleeps > sleeps);
	CHECK(fake.sleeps - sleeps < 20); /* not spinning */
	CHECK_EQ(fake.net_waits + fake.net_reads + fake.net_writes, 0);
}

/* ---- the tap: real frames ---- */

static const uint8_t guest_mac[6] = { 0x02, 0x6e, 0x0a, 0x00, 0x00, 0x02 };
static const uint8_t host_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static uint16_t csum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *b = data;
	for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1) sum += (uint32_t)(b[len - 1] << 8);
	while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* An ARP packet (op 1 request, 2 reply) from the host (10.0.0.1) into the wire. */
static void send_arp(int op, const uint8_t *target_mac)
{
	uint8_t f[42] = { 0 };
	memcpy(f, op == 1 ? (const uint8_t *)"\xff\xff\xff\xff\xff\xff" : target_mac, 6);
	memcpy(f + 6, host_mac, 6);
	put16(f + 12, 0x0806);
	put16(f + 14, 1);
	put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, (uint16_t)op);
	memcpy(f + 22, host_mac, 6);
	memcpy(f + 28, "\x0a\x00\x00\x01", 4);
	memcpy(f + 32, target_mac, 6);
	memcpy(f + 38, "\x0a\x00\x00\x02", 4);
	CHECK_EQ(write(guest.wire, f, sizeof f), sizeof f);
}

/* The next frame the guest sent that is IPv4 of this protocol, or ARP of this operation
 * (arp_op) about target (ARP's target IP, 4 bytes); lets the libOS run (a sleep) while
 * none has come. Others (the guest's gratuitous ARP at boot) are skipped. */
static long next_frame(uint8_t *f, size_t cap, int proto, int arp_op, const char *target)
{
	for (int tries = 0; tries < 100; tries++) {
		long n;
		while ((n = recv(guest.wire, f, cap, MSG_DONTWAIT)) > 0) {
			if (proto && get16(f + 12) == 0x0800 && f[14 + 9] == proto) return n;
			if (arp_op && get16(f + 12) == 0x0806 && get16(f + 20) == arp_op && !memcmp(f + 38, target, 4)) return n;
		}
		sleep_ms(5);
	}
	FAIL("no %s frame from the guest", proto ? "IPv4" : "ARP");
}

/* ---- the DNS relay (dnsrelay.c) ---- */

static const struct boot_opts with_dns = { .no_disk = 1, .net = 1, .dns = 1 };

/* A DNS header with this ID, then a question-sized tail. */
static size_t dns_msg(uint8_t *m, uint16_t id, const char *tail)
{
	memset(m, 0, 12);
	m[0] = (uint8_t)(id >> 8), m[1] = (uint8_t)id;
	m[5] = 1; /* one question */
	size_t n = strlen(tail);
	memcpy(m + 12, tail, n);
	return 12 + n;
}

static uint16_t dns_id(const uint8_t *m)
{
	return (uint16_t)(m[0] << 8 | m[1]);
}

/* What the server got on the relay's socket: the guest's query, under the relay's ID. */
static long server_reads(uint8_t *buf, size_t len)
{
	for (int i = 0; i < 200; i++) {
		long n = recv(guest.dns_wire, buf, len, MSG_DONTWAIT);
		if (n >= 0) return n;
		sleep_ms(5);
	}
	FAIL("no message on the DNS relay's socket");
}

/* The server answers a query it got, with the ID it got, as a server does. */
static size_t server_answers(const uint8_t *query, const char *tail)
{
	uint8_t a[64];
	size_t n = dns_msg(a, dns_id(query), tail);
	CHECK_EQ(send(guest.dns_wire, a, n, 0), (long)n);
	return n;
}

/* musl's way: an unbound socket, sendto the server, recvfrom, the source checked. The
 * answer comes back with the query's own ID, from 127.0.0.11:53. */
TEST(dns_relay_carries_a_query_out_and_its_answer_back_by_id)
{
	boot(&with_dns);
	int u = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in server = sin_("127.0.0.11", 53), from;
	uint8_t q[64], a[64], got[128];
	size_t qn = dns_msg(q, 0x1234, "question-A"), an;
	CHECK_EQ(sys(SYS_sendto, u, q, qn, 0, &server, sizeof server), (long)qn);
	CHECK_EQ(server_reads(got, sizeof got), (long)qn);
	CHECK_MEM(got + 2, q + 2, qn - 2); /* the query as sent, but for its ID */
	struct sockaddr_in mine;
	socklen_t len = sizeof mine;
	CHECK_OK(sys(SYS_getsockname, u, &mine, &len));
	CHECK(mine.sin_port != 0); /* bound by the send, as lwIP's own sends do */
	/* An answer nobody asked for is dropped; the one with the query's ID arrives. */
	an = dns_msg(a, (uint16_t)(dns_id(got) + 1000), "stray");
	CHECK_EQ(send(guest.dns_wire, a, an, 0), (long)an);
	an = server_answers(got, "answer-A");
	len = sizeof from;
	CHECK_EQ(sys(SYS_recvfrom, u, got, sizeof got, 0, &from, &len), (long)an);
	CHECK_EQ(dns_id(got), 0x1234);
	CHECK_MEM(got + 12, "answer-A", 8);
	CHECK_EQ(from.sin_addr.s_addr, server.sin_addr.s_addr);
	CHECK_EQ(from.sin_port, htons(53));
	CHECK(fake.dns_writes == 1 && fake.dns_reads >= 2);
	/* The same answer again: nobody waits for it any more. */
	CHECK_EQ(send(guest.dns_wire, a, an, 0), (long)an);
	sleep_ms(20);
	CHECK_ERR(sys(SYS_recvfrom, u, got, sizeof got, MSG_DONTWAIT, 0, 0), EAGAIN);
}

/* glibc's and Go's way: connect, write, read. Two sockets asking at once get their own,
 * even with the same ID (the server sees two different ones). */
TEST(dns_relay_answers_each_connected_socket_its_own)
{
	boot(&with_dns);
	struct sockaddr_in server = sin_("127.0.0.11", 53);
	int s1 = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_DGRAM, 0)), s2 = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_DGRAM, 0));
	CHECK_OK(sys(SYS_connect, s1, &server, sizeof server));
	CHECK_OK(sys(SYS_connect, s2, &server, sizeof server));
	uint8_t q[64], q1[128], q2[128], got[128];
	size_t n = dns_msg(q, 0x0707, "one");
	CHECK_EQ(sys(SYS_write, s1, q, n), (long)n);
	n = dns_msg(q, 0x0707, "two");
	CHECK_EQ(sys(SYS_write, s2, q, n), (long)n);
	CHECK(server_reads(q1, sizeof q1) > 0 && server_reads(q2, sizeof q2) > 0);
	CHECK(dns_id(q1) != dns_id(q2));
	n = server_answers(q2, "answer two");
	struct pollfd p[2] = { { s1, POLLIN, 0 }, { s2, POLLIN, 0 } };
	CHECK_EQ(sys(SYS_poll, p, 2, 1000), 1);
	CHECK(!p[0].revents);
	CHECK_EQ(sys(SYS_read, s2, got, sizeof got), (long)n);
	CHECK(dns_id(got) == 0x0707 && !memcmp(got + 12, "answer two", 10));
	server_answers(q1, "answer one");
	CHECK_EQ(sys(SYS_read, s1, got, sizeof got), (long)n);
	CHECK(dns_id(got) == 0x0707 && !memcmp(got + 12, "answer one", 10));
	/* The socket closes before its answer: dropped, nothing breaks. */
	n = dns_msg(q, 0x0303, "three");
	CHECK_EQ(sys(SYS_write, s1, q, n), (long)n);
	CHECK(server_reads(q1, sizeof q1) > 0);
	CHECK_OK(sys(SYS_close, s1));
	server_answers(q1, "late");
	n = dns_msg(q, 0x0404, "four");
	CHECK_EQ(sys(SYS_write, s2, q, n), (long)n);
	CHECK(server_reads(q2, sizeof q2) > 0);
	n = server_answers(q2, "four");
	CHECK_EQ(sys(SYS_read, s2, got, sizeof got), (long)n);
	CHECK(dns_id(got) == 0x0404 && !memcmp(got + 12, "four", 4));
}

/* Only datagrams to 127.0.0.11:53 go out on the relay: another port stays in lwIP, and a
 * hostile guest's runt or oversized message never reaches the server. */
TEST(dns_relay_takes_only_port_53_and_whole_dns_messages)
{
	boot(&with_dns);
	int u = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
	struct sockaddr_in server = sin_("127.0.0.11", 53), other = sin_("127.0.0.11", 54);
	static uint8_t big[8192];
	CHECK_EQ(sys(SYS_sendto, u, "short", 5, 0, &server, sizeof server), 5);
	CHECK_EQ(sys(SYS_sendto, u, big, sizeof big, 0, &server, sizeof server), (long)sizeof big);
	CHECK_EQ(sys(SYS_sendto, u, big, 20, 0, &other, sizeof other), 20);
	sleep_ms(20);
	CHECK_EQ(fake.dns_writes, 0);
	uint8_t got[32];
	CHECK_EQ(recv(guest.dns_wire, got, sizeof got, MSG_DONTWAIT), -1);
	/* Many queries in flight: the last PENDING_MAX are remembered, and each still works. */
	uint8_t q[32];
	for (int i = 0; i < 100; i++) {
		size_t n = dns_msg(q, (uint16_t)(0x4000 + i), "q");
		CHECK_EQ(sys(SYS_sendto, u, q, n, 0, &server, sizeof server), (long)n);
		CHECK(server_reads(got, sizeof got) > 0);
	}
	CHECK_EQ(fake.dns_writes, 100);
	size_t n = server_answers(got, "a");
	struct pollfd p = { u, POLLIN, 0 };
	CHECK_EQ(sys(SYS_poll, &p, 1, 1000), 1);
	CHECK_EQ(sys(SYS_recvfrom, u, got, sizeof got, 0, 0, 0), (long)n);
	CHECK_EQ(dns_id(got), 0x4000 + 99);
}

/* A frame from the wire (another container on the network can make one) with the DNS
 * server's loopback address as its source: Linux drops such a martian source, and so does
 * the libOS; it never reaches the socket waiting on the relay. (Found by review.) */
TEST(dns_relay_a_frame_from_127_0_0_11_on_the_wire_is_no_answer)
{
	boot(&with_dns);
	struct sockaddr_in server = sin_("127.0.0.11", 53), mine;
	int u = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
	CHECK_OK(sys(SYS_connect, u, &server, sizeof server));
	uint8_t q[64], got[128];
	size_t qn = dns_msg(q, 0x1234, "question");
	CHECK_EQ(sys(SYS_write, u, q, qn), (long)qn);
	CHECK_EQ(server_reads(got, sizeof got), (long)qn);
	socklen_t len = sizeof mine;
	CHECK_OK(sys(SYS_getsockname, u, &mine, &len));
	uint8_t f[14 + 20 + 8 + 64] = { 0 }, *ip = f + 14, *udp = ip + 20;
	size_t an = dns_msg(udp + 8, 0x1234, "forged-answer");
	memcpy(f, guest_mac, 6);
	memcpy(f + 6, host_mac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + 8 + an));
	ip[8] = 64;
	ip[9] = 17; /* UDP */
	memcpy(ip + 12, "\x7f\x00\x00\x0b\x0a\x00\x00\x02", 8); /* 127.0.0.11 -> 10.0.0.2 */
	put16(ip + 10, csum(ip, 20, 0));
	put16(udp, 53);
	memcpy(udp + 2, &mine.sin_port, 2);
	put16(udp + 4, (uint16_t)(8 + an)); /* checksum 0: none, as IPv4 allows */
	CHECK_EQ(write(guest.wire, f, 14 + 20 + 8 + an), (long)(14 + 20 + 8 + an));
	struct pollfd p = { u, POLLIN, 0 };
	CHECK_EQ(sys(SYS_poll, &p, 1, 300), 0);
	/* The relay's own answer still comes. */
	server_answers(got, "real-answer");
	CHECK_EQ(sys(SYS_poll, &p, 1, 1000), 1);
	CHECK_EQ(sys(SYS_read, u, got, sizeof got), 12 + 11);
	CHECK_MEM(got + 12, "real-answer", 11);
}

/* Without a relay (no loopback nameserver), 127.0.0.11:53 is an ordinary loopback address. */
TEST(no_dns_relay_leaves_127_0_0_11_to_lwip)
{
	boot(&with_net);
	int u = (int)CHECK_OK(sys(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
	struct sockaddr_in server = sin_("127.0.0.11", 53);
	uint8_t q[32];
	size_t n = dns_msg(q, 1, "q");
	CHECK_EQ(sys(SYS_sendto, u, q, n, 0, &server, sizeof server), (long)n);
	CHECK_EQ(fake.dns_writes, 0);
}

TEST(tap_an_arp_request_gets_the_guests_mac)
{
	boot(&with_net);
	send_arp(1, (const uint8_t *)"\0\0\0\0\0\0");
	uint8_t f[2048];
	next_frame(f, sizeof f, 0, 2, "\x0a\x00\x00\x01"); /* a reply to us */
	CHECK_MEM(f, host_mac, 6);
	CHECK_MEM(f + 22, guest_mac, 6);
	CHECK_MEM(f + 28, "\x0a\x00\x00\x02", 4);
	CHECK(fake.net_waits >= 1 && fake.net_reads >= 1 && fake.net_writes >= 1);
}

TEST(tap_a_ping_gets_an_echo_reply)
{
	boot(&with_net);
	send_arp(1, (const uint8_t *)"\0\0\0\0\0\0"); /* the guest learns our MAC from our request */
	uint8_t f[14 + 20 + 8 + 4] = { 0 }, *ip = f + 14, *icmp = ip + 20;
	memcpy(f, guest_mac, 6);
	memcpy(f + 6, host_mac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, 20 + 8 + 4);
	ip[8] = 64;
	ip[9] = 1; /* ICMP */
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	put16(ip + 10, csum(ip, 20, 0));
	icmp[0] = 8; /* echo request */
	put16(icmp + 4, 0x1234);
	put16(icmp + 6, 1);
	memcpy(icmp + 8, "nbla", 4);
	put16(icmp + 2, csum(icmp, 12, 0));
	CHECK_EQ(write(guest.wire, f, sizeof f), sizeof f);
	uint8_t r[2048];
	long n = next_frame(r, sizeof r, 1, 0, 0);
	CHECK(n >= (long)sizeof f);
	CHECK_EQ(r[14 + 20], 0); /* echo reply */
	CHECK_MEM(r + 14 + 20 + 8, "nbla", 4);
	CHECK_MEM(r + 14 + 16, "\x0a\x00\x00\x01", 4);
}

TEST(tap_connect_out_resolves_the_gateway_sends_a_syn_and_takes_a_reset)
{
	boot(&with_net);
	int c = tcp_socket(SOCK_NONBLOCK);
	struct sockaddr_in a = sin_("192.0.2.7", 80); /* off the subnet: via the gateway */
	CHECK_ERR(sys(SYS_connect, c, &a, sizeof a), EINPROGRESS);
	uint8_t f[2048];
	next_frame(f, sizeof f, 0, 1, "\x0a\x00\x00\x01"); /* who has the gateway? */
	send_arp(2, guest_mac);
	long n = next_frame(f, sizeof f, 6, 0, 0);
	uint8_t *ip = f + 14, *tcp = ip + 20;
	CHECK(n >= 14 + 40);
	CHECK_MEM(f, host_mac, 6);
	CHECK_MEM(ip + 16, "\xc0\x00\x02\x07", 4);
	CHECK_EQ(get16(tcp + 2), 80);
	CHECK_EQ(tcp[13], 0x02); /* SYN */
	/* Answer RST|ACK (checksummed over the pseudo-header): the connect is refused. */
	uint8_t r[14 + 40] = { 0 }, *rip = r + 14, *rtcp = rip + 20;
	memcpy(r, guest_mac, 6);
	memcpy(r + 6, host_mac, 6);
	put16(r + 12, 0x0800);
	rip[0] = 0x45;
	put16(rip + 2, 40);
	rip[8] = 64;
	rip[9] = 6;
	memcpy(rip + 12, ip + 16, 4);
	memcpy(rip + 16, ip + 12, 4);
	put16(rip + 10, csum(rip, 20, 0));
	memcpy(rtcp, tcp + 2, 2);
	memcpy(rtcp + 2, tcp, 2);
	uint32_t seq = (uint32_t)get16(tcp + 4) << 16 | get16(tcp + 6);
	seq++;
	put16(rtcp + 8, (uint16_t)(seq >> 16));
	put16(rtcp + 10, (uint16_t)seq);
	rtcp[12] = 5 << 4;
	rtcp[13] = 0x14; /* RST|ACK */
	uint8_t pseudo[12];
	memcpy(pseudo, rip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put16(pseudo + 10, 20);
	uint16_t ps = (uint16_t)~csum(pseudo, 12, 0);
	put16(rtcp + 16, csum(rtcp, 20, ps));
	CHECK_EQ(write(guest.wire, r, sizeof r), sizeof r);
	struct pollfd p = { c, POLLOUT, 0 };
	CHECK_EQ(sys(SYS_poll, &p, 1, 2000), 1);
	int err = 0;
	socklen_t len = sizeof err;
	CHECK_OK(sys(SYS_getsockopt, c, SOL_SOCKET, SO_ERROR, &err, &len));
	CHECK_EQ(err, ECONNREFUSED);
}

/* ---- route netlink: the interfaces, as getifaddrs and Go's net.Interfaces ask ---- */

struct nlh {
	uint32_t len;
	uint16_t type, flags;
	uint32_t seq, pid;
};
struct nla {
	uint16_t len, type;
};

/* Sends a dump request of `type` (RTM_GETLINK 18, RTM_GETADDR 22) and receives its answer,
 * from the kernel's address (pid 0); returns its length. */
static long nl_dump(int fd, uint16_t type, uint32_t seq, char *buf, size_t cap)
{
	struct {
		struct nlh h;
		uint8_t family, pad[3];
	} req = { { sizeof req, type, 0x1 | 0x300 /* REQUEST | DUMP */, seq, 0 }, AF_UNSPEC, { 0 } };
	struct {
		uint16_t family, pad;
		uint32_t pid, groups;
	} kernel = { AF_NETLINK, 0, 0, 0 }, from = { 0, 0, 99, 0 };
	CHECK_EQ(sys(SYS_sendto, fd, &req, sizeof req, 0, &kernel, sizeof kernel), (long)sizeof req);
	struct iovec iov = { buf, cap };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1 };
	long n = CHECK_OK(sys(SYS_recvmsg, fd, &m, 0));
	CHECK_EQ(from.family, AF_NETLINK);
	CHECK_EQ(from.pid, 0);
	CHECK_EQ(m.msg_flags & MSG_TRUNC, 0);
	return n;
}

/* The answer's messages as "TYPE NAME..." words: links "link NAME FLAGS MAC", addresses
 * "addr LABEL A.B.C.D/LEN", then "done"; each checked to carry pid and seq. */
static const char *nl_words(const char *buf, long n, uint32_t pid, uint32_t seq)
{
	static char out[512];
	size_t o = 0;
	out[0] = 0;
	for (long at = 0; at + (long)sizeof(struct nlh) <= n;) {
		struct nlh h;
		memcpy(&h, buf + at, sizeof h);
		CHECK(h.len >= sizeof h && at + (long)h.len <= n);
		CHECK_EQ(h.pid, pid);
		CHECK_EQ(h.seq, seq);
		const char *body = buf + at + sizeof h;
		size_t fixed = h.type == 16 ? 16 : 8;
		const char *name = "?";
		char extra[64] = "";
		for (size_t a = fixed; a + 4 <= h.len - sizeof h;) {
			struct nla attr;
			memcpy(&attr, body + a, sizeof attr);
			const unsigned char *v = (const unsigned char *)body + a + 4;
			if ((h.type == 16 && attr.type == 3) || (h.type == 20 && attr.type == 3)) name = (const char *)v;
			if (h.type == 16 && attr.type == 1)
				snprintf(extra, sizeof extra, "%02x:%02x:%02x:%02x:%02x:%02x", v[0], v[1], v[2], v[3], v[4], v[5]);
			if (h.type == 20 && attr.type == 2)
				snprintf(extra, sizeof extra, "%u.%u.%u.%u/%u", v[0], v[1], v[2], v[3], (unsigned)(uint8_t)body[1]);
			a += (attr.len + 3u) & ~3u;
		}
		if (h.type == 16) {
			uint32_t flags;
			memcpy(&flags, body + 8, 4);
			o += (size_t)snprintf(out + o, sizeof out - o, "link %s %#x %s, ", name, flags, extra);
		} else if (h.type == 20) {
			o += (size_t)snprintf(out + o, sizeof out - o, "addr %s %s, ", name, extra);
		} else if (h.type == 3) {
			o += (size_t)snprintf(out + o, sizeof out - o, "done");
		} else if (h.type == 2) {
			int32_t error;
			memcpy(&error, body, 4);
			o += (size_t)snprintf(out + o, sizeof out - o, "error %d", error);
		}
		at += (h.len + 3) & ~3u;
	}
	return out;
}

static uint32_t nl_pid(int fd)
{
	struct {
		uint16_t family, pad;
		uint32_t pid, groups;
	} a = { AF_NETLINK, 0, 0, 0 };
	socklen_t len = sizeof a;
	CHECK_OK(sys(SYS_bind, fd, &a, sizeof a));
	CHECK_OK(sys(SYS_getsockname, fd, &a, &len));
	CHECK_EQ(a.family, AF_NETLINK);
	CHECK(a.pid != 0);
	return a.pid;
}

TEST(rtnetlink_lists_lo_and_the_tap_as_eth0)
{
	boot(&with_net);
	int fd = (int)CHECK_OK(sys(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0));
	uint32_t pid = nl_pid(fd);
	char buf[4096];
	long n = nl_dump(fd, 18, 7, buf, sizeof buf);
	CHECK_STR(nl_words(buf, n, pid, 7), "link lo 0x49 00:00:00:00:00:00, link eth0 0x1043 02:6e:0a:00:00:02, done");
	n = nl_dump(fd, 22, 8, buf, sizeof buf);
	CHECK_STR(nl_words(buf, n, pid, 8), "addr lo 127.0.0.1/8, addr eth0 10.0.0.2/24, done");
	CHECK_EQ(fake.out_len[2], 0);
}

TEST(rtnetlink_without_a_network_lists_lo_refuses_the_rest)
{
	boot(0);
	CHECK_ERR(sys(SYS_socket, AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */), EPROTONOSUPPORT);
	int fd = (int)CHECK_OK(sys(SYS_socket, AF_NETLINK, SOCK_DGRAM, 0));
	uint32_t pid = nl_pid(fd);
	char buf[4096];
	long n = nl_dump(fd, 22, 1, buf, sizeof buf);
	CHECK_STR(nl_words(buf, n, pid, 1), "addr lo 127.0.0.1/8, done");
	n = nl_dump(fd, 26 /* RTM_GETROUTE */, 2, buf, sizeof buf);
	CHECK_STR(nl_words(buf, n, pid, 2), "error -95"); /* EOPNOTSUPP */
	/* A buffer too small: the answer is cut and says so; MSG_TRUNC asks for its length. */
	struct {
		struct nlh h;
		uint8_t family, pad[3];
	} req = { { sizeof req, 18, 0x301, 3, 0 }, AF_UNSPEC, { 0 } };
	CHECK_OK(sys(SYS_sendto, fd, &req, sizeof req, 0));
	char small[16];
	struct iovec iov = { small, sizeof small };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	long whole = CHECK_OK(sys(SYS_recvmsg, fd, &m, MSG_PEEK | MSG_TRUNC));
	CHECK(whole > (long)sizeof small);
	CHECK_EQ(m.msg_flags & MSG_TRUNC, MSG_TRUNC);
	CHECK_EQ(sys(SYS_recvmsg, fd, &m, 0), (long)sizeof small);
	CHECK_ERR(sys(SYS_recvmsg, fd, &m, MSG_DONTWAIT), EAGAIN); /* taken */
	CHECK_OK(sys(SYS_close, fd));
}
