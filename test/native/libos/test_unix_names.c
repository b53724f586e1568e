/*
 * unix.c: named AF_UNIX sockets. Paths (socket files in the tree) and abstract names,
 * autobind; listen, connect, accept and the backlog; datagrams between names; files passed
 * with SCM_RIGHTS and credentials with SO_PASSCRED; and hostile control data.
 */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "harness.h"

#define NAMED offsetof(struct sockaddr_un, sun_path)

static struct sockaddr_un path_addr(const char *path, socklen_t *len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, path);
	*len = (socklen_t)(NAMED + strlen(path) + 1);
	return a;
}

/* An abstract name: "\0" then name. */
static struct sockaddr_un abstract_addr(const char *name, socklen_t *len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path + 1, name, strlen(name));
	*len = (socklen_t)(NAMED + 1 + strlen(name));
	return a;
}

static int usock(int type)
{
	return (int)CHECK_OK(sys(SYS_socket, AF_UNIX, type, 0));
}

/* A listening socket of type at path; its connected client, and the accepted end. */
static int listener(int type, const char *path, int backlog)
{
	socklen_t len;
	struct sockaddr_un a = path_addr(path, &len);
	int l = usock(type);
	CHECK_OK(sys(SYS_bind, l, &a, len));
	CHECK_OK(sys(SYS_listen, l, backlog));
	return l;
}

static int client(int type, const char *path)
{
	socklen_t len;
	struct sockaddr_un a = path_addr(path, &len);
	int c = usock(type);
	CHECK_OK(sys(SYS_connect, c, &a, len));
	return c;
}

/* ---- names ---- */

TEST(unix_bind_to_a_path_makes_a_socket_file_that_names_it)
{
	boot(0);
	socklen_t len;
	struct sockaddr_un a = path_addr("/tmp/s", &len);
	int s = usock(SOCK_STREAM);
	CHECK_OK(sys(SYS_bind, s, &a, sizeof a)); /* the whole struct: the path ends at its NUL */
	struct stat st;
	CHECK_OK(sys(SYS_stat, "/tmp/s", &st));
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0755); /* 0777 less the umask, as Linux */
	CHECK_ERR(open_("/tmp/s", O_RDONLY), ENXIO);
	struct sockaddr_un got;
	socklen_t glen = sizeof got;
	CHECK_OK(sys(SYS_getsockname, s, &got, &glen));
	CHECK_EQ(glen, len); /* family, path and its NUL */
	CHECK_STR(got.sun_path, "/tmp/s");
	glen = 4; /* a short buffer gets the start, and the whole length */
	memset(&got, 0, sizeof got);
	CHECK_OK(sys(SYS_getsockname, s, &got, &glen));
	CHECK_EQ(glen, len);
	CHECK_EQ(got.sun_path[1], 't');
	CHECK_EQ(got.sun_path[2], 0);
	/* Taken: by another socket (EADDRINUSE); a bound socket binds no second name. */
	int t = usock(SOCK_STREAM);
	CHECK_ERR(sys(SYS_bind, t, &a, len), EADDRINUSE);
	struct sockaddr_un b = path_addr("/tmp/other", &len);
	CHECK_ERR(sys(SYS_bind, s, &b, len), EINVAL);
	b = path_addr("/nodir/s", &len);
	CHECK_ERR(sys(SYS_bind, t, &b, len), ENOENT);
	b = path_addr("/hello.txt", &len);
	CHECK_ERR(sys(SYS_bind, t, &b, len), EADDRINUSE);
	/* The name stays when its socket closes (connect: refused); unlink frees it. */
	a = path_addr("/tmp/s", &len);
	int c = usock(SOCK_STREAM);
	CHECK_OK(sys(SYS_listen, s, 1));
	CHECK_OK(sys(SYS_connect, c, &a, len));
	CHECK_OK(sys(SYS_close, s));
	int c2 = usock(SOCK_STREAM);
	CHECK_ERR(sys(SYS_connect, c2, &a, len), ECONNREFUSED);
	CHECK_ERR(sys(SYS_bind, t, &a, len), EADDRINUSE);
	CHECK_OK(sys(SYS_unlink, "/tmp/s"));
	CHECK_ERR(sys(SYS_connect, c2, &a, len), ENOENT);
	CHECK_OK(sys(SYS_bind, t, &a, len));
	CHECK_OK(sys(SYS_listen, t, 1));
	CHECK_OK(sys(SYS_connect, c2, &a, len));
	/* Unlinked while bound: it keeps its name, but no one finds it by it. */
	CHECK_OK(sys(SYS_unlink, "/tmp/s"));
	glen = sizeof got;
	CHECK_OK(sys(SYS_getsockname, t, &got, &glen));
	CHECK_STR(got.sun_path, "/tmp/s");
	int c3 = usock(SOCK_STREAM);
	CHECK_ERR(sys(SYS_connect, c3, &a, len), ENOENT);
	/* Not a socket (a file, mknod's socket file with no socket): refused. */
	a = path_addr("/hello.txt", &len);
	CHECK_ERR(sys(SYS_connect, c3, &a, len), ECONNREFUSED);
	CHECK_OK(sys(SYS_mknod, "/tmp/made", S_IFSOCK | 0600, 0));
	a = path_addr("/tmp/made", &len);
	CHECK_ERR(sys(SYS_connect, c3, &a, len), ECONNREFUSED);
	a = path_addr("/hello.txt/x", &len);
	CHECK_ERR(sys(SYS_connect, c3, &a, len), ENOTDIR);
	/* Another type at the name: EPROTOTYPE. */
	int d = usock(SOCK_DGRAM);
	a = path_addr("/tmp/d", &len);
	CHECK_OK(sys(SYS_bind, d, &a, len));
	CHECK_ERR(sys(SYS_connect, c3, &a, len), EPROTOTYPE);
}

TEST(unix_a_relative_path_is_from_the_working_directory_and_links_are_followed)
{
	boot(0);
	CHECK_OK(sys(SYS_mkdir, "/tmp/dir", 0755));
	CHECK_OK(sys(SYS_chdir, "/tmp/dir"));
	int l = listener(SOCK_STREAM, "rel", 4);
	struct stat st;
	CHECK_OK(sys(SYS_stat, "/tmp/dir/rel", &st));
	CHECK(S_ISSOCK(st.st_mode));
	struct sockaddr_un got;
	socklen_t glen = sizeof got;
	CHECK_OK(sys(SYS_getsockname, l, &got, &glen));
	CHECK_STR(got.sun_path, "rel"); /* as given */
	CHECK_OK(sys(SYS_chdir, "/"));
	client(SOCK_STREAM, "/tmp/dir/rel");
	CHECK_OK(sys(SYS_symlink, "/tmp/dir/rel", "/tmp/link"));
	client(SOCK_STREAM, "/tmp/link");
	CHECK_OK(sys(SYS_rename, "/tmp/dir/rel", "/tmp/moved")); /* the file names the socket, wherever it goes */
	client(SOCK_STREAM, "/tmp/moved");
	/* bind does not follow a link: a name that is one, even dangling, is taken. */
	socklen_t len;
	struct sockaddr_un a = path_addr("/tmp/link", &len);
	CHECK_ERR(sys(SYS_bind, usock(SOCK_STREAM), &a, len), EADDRINUSE);
}

TEST(unix_abstract_names_have_no_file_and_autobind_makes_one)
{
	boot(0);
	socklen_t len;
	struct sockaddr_un a = abstract_addr("name", &len);
	a.sun_path[6] = '\xff';
	len += 2; /* every byte counts, NULs too: "\0name\0\xff" */
	int s = usock(SOCK_STREAM);
	CHECK_OK(sys(SYS_bind, s, &a, len));
	struct sockaddr_un got;
	socklen_t glen = sizeof got;
	CHECK_OK(sys(SYS_getsockname, s, &got, &glen));
	CHECK_EQ(glen, len);
	CHECK_MEM(&got, &a, len);
	CHECK_EQ(strcmp(ls("/tmp"), ""), 0);
	CHECK_ERR(sys(SYS_bind, usock(SOCK_STREAM), &a, len), EADDRINUSE);
	CHECK_OK(sys(SYS_bind, usock(SOCK_DGRAM), &a, len)); /* each type has its own names, as on Linux */
	CHECK_OK(sys(SYS_bind, usock(SOCK_STREAM), &a, len - 1)); /* a shorter name is another name */
	CHECK_OK(sys(SYS_listen, s, 1));
	int c = usock(SOCK_STREAM);
	CHECK_OK(sys(SYS_connect, c, &a, len));
	glen = sizeof got;
	CHECK_OK(sys(SYS_getpeername, c, &got, &glen));
	CHECK_EQ(glen, len);
	CHECK_MEM(&got, &a, len);
	struct sockaddr_un none = abstract_addr("none", &len);
	CHECK_ERR(sys(SYS_connect, usock(SOCK_STREAM), &none, len), ECONNREFUSED);
	/* Closed, its name is free again. */
	CHECK_OK(sys(SYS_close, s));
	CHECK_OK(sys(SYS_bind, usock(SOCK_STREAM), &a, (socklen_t)(NAMED + 7)));
	/* Autobind: the family alone gives "\0" and five hex digits, a new name each time. */
	int x = usock(SOCK_DGRAM), y = usock(SOCK_DGRAM);
	sa_family_t family = AF_UNIX;
	CHECK_OK(sys(SYS_bind, x, &family, sizeof family));
	CHECK_OK(sys(SYS_bind, y, &family, sizeof family));
	struct sockaddr_un nx, ny;
	socklen_t lx = sizeof nx, ly = sizeof ny;
	CHECK_OK(sys(SYS_getsockname, x, &nx, &lx));
	CHECK_OK(sys(SYS_getsockname, y, &ny, &ly));
	CHECK_EQ(lx, NAMED + 6);
	CHECK_EQ(ly, NAMED + 6);
	CHECK_EQ(nx.sun_path[0], 0);
	for (int i = 1; i < 6; i++) CHECK(strchr("0123456789abcdef", nx.sun_path[i]) && nx.sun_path[i]);
	CHECK(memcmp(nx.sun_path, ny.sun_path, 6) != 0);
	CHECK_OK(sys(SYS_bind, x, &family, sizeof family)); /* bound already: nothing happens */
	CHECK_EQ(sys(SYS_sendto, y, "hi", 2, 0, &nx, lx), 2); /* the name reaches it */
	char buf[4];
	struct sockaddr_un from;
	socklen_t flen = sizeof from;
	CHECK_EQ(sys(SYS_recvfrom, x, buf, sizeof buf, 0, &from, &flen), 2);
	CHECK_EQ(flen, ly);
	CHECK_MEM(&from, &ny, ly);
}

/* ---- connections ---- */

TEST(unix_listen_connect_accept_carry_streams_and_seqpackets)
{
	boot(0);
	int types[] = { SOCK_STREAM, SOCK_SEQPACKET };
	for (int i = 0; i < 2; i++) {
		const char *path = i ? "/tmp/seq" : "/tmp/str";
		int l = listener(types[i], path, 8);
		int acceptconn = 0;
		socklen_t olen = sizeof acceptconn;
		CHECK_OK(sys(SYS_getsockopt, l, SOL_SOCKET, SO_ACCEPTCONN, &acceptconn, &olen));
		CHECK_EQ(acceptconn, 1);
		CHECK_EQ(revents(l, POLLIN | POLLOUT), 0); /* nothing to accept, and never writable */
		int c = client(types[i], path);
		CHECK_EQ(revents(l, POLLIN), POLLIN);
		CHECK_EQ(sys(SYS_write, c, "early", 5), 5); /* connected already, before accept */
		struct sockaddr_un peer;
		socklen_t plen = sizeof peer;
		int a = (int)CHECK_OK(sys(SYS_accept4, l, &peer, &plen, SOCK_CLOEXEC | SOCK_NONBLOCK));
		CHECK_EQ(plen, NAMED); /* the client is unnamed */
		CHECK_EQ(sys(SYS_fcntl, a, F_GETFD), FD_CLOEXEC);
		CHECK_EQ(sys(SYS_fcntl, a, F_GETFL), O_RDWR | O_NONBLOCK);
		CHECK_EQ(revents(l, POLLIN), 0);
		/* The accepted end has the listener's name; the client's peer is that name. */
		struct sockaddr_un n;
		socklen_t nlen = sizeof n;
		CHECK_OK(sys(SYS_getsockname, a, &n, &nlen));
		CHECK_STR(n.sun_path, path);
		nlen = sizeof n;
		CHECK_OK(sys(SYS_getpeername, c, &n, &nlen));
		CHECK_STR(n.sun_path, path);
		CHECK_EQ(nlen, NAMED + strlen(path) + 1);
		nlen = sizeof n;
		CHECK_OK(sys(SYS_getpeername, a, &n, &nlen));
		CHECK_EQ(nlen, NAMED);
		char buf[16];
		CHECK_EQ(sys(SYS_read, a, buf, sizeof buf), 5);
		CHECK_MEM(buf, "early", 5);
		CHECK_EQ(sys(SYS_write, a, "ab", 2), 2);
		CHECK_EQ(sys(SYS_write, a, "cd", 2), 2);
		/* A stream joins them; a seqpacket keeps them apart. */
		CHECK_EQ(sys(SYS_read, c, buf, sizeof buf), i ? 2 : 4);
		socklen_t slen;
		struct sockaddr_un str = path_addr("/tmp/str", &slen);
		CHECK_ERR(sys(SYS_connect, c, &str, slen), i ? EPROTOTYPE : EISCONN);
		CHECK_ERR(sys(SYS_listen, c, 1), EINVAL); /* connected */
		CHECK_ERR(sys(SYS_read, l, buf, 1), i ? ENOTCONN : EINVAL);
		CHECK_ERR(sys(SYS_write, l, buf, 1), ENOTCONN);
		CHECK_ERR(sys(SYS_accept4, l, 0, 0, 0x1), EINVAL);
		CHECK_OK(sys(SYS_close, a)); /* the client sees the end */
		if (i) CHECK_EQ(sys(SYS_read, c, buf, sizeof buf), 2);
		CHECK_EQ(sys(SYS_read, c, buf, sizeof buf), 0);
		CHECK_ERR(sys(SYS_write, c, "x", 1), EPIPE);
	}
	/* Listening needs a name; a datagram socket never listens or accepts. */
	CHECK_ERR(sys(SYS_listen, usock(SOCK_STREAM), 1), EINVAL);
	CHECK_ERR(sys(SYS_listen, usock(SOCK_DGRAM), 1), EOPNOTSUPP);
	CHECK_ERR(sys(SYS_accept, usock(SOCK_DGRAM), 0, 0), EOPNOTSUPP);
	/* A bound socket that does not listen refuses. */
	socklen_t len;
	struct sockaddr_un b = path_addr("/tmp/bound", &len);
	CHECK_OK(sys(SYS_bind, usock(SOCK_STREAM), &b, len));
	CHECK_ERR(sys(SYS_connect, usock(SOCK_STREAM), &b, len), ECONNREFUSED);
}

static int accept_after_a_while(void *arg)
{
	int l = *(int *)arg;
	sleep_ms(20);
	CHECK_OK(sys(SYS_accept, l, 0, 0));
	return 0;
}

static int connect_to_backlog(void *arg)
{
	client(SOCK_STREAM, "/tmp/b");
	*(int *)arg = 1;
	return 0;
}

TEST(unix_the_backlog_is_honoured_then_a_connect_waits_or_is_eagain)
{
	boot(0);
	int l = listener(SOCK_STREAM, "/tmp/b", 1);
	socklen_t len;
	struct sockaddr_un a = path_addr("/tmp/b", &len);
	/* Linux lets backlog + 1 connections wait. */
	int c1 = client(SOCK_STREAM, "/tmp/b");
	client(SOCK_STREAM, "/tmp/b");
	int nb = (int)CHECK_OK(sys(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
	CHECK_ERR(sys(SYS_connect, nb, &a, len), EAGAIN);
	/* A blocking one waits until an accept makes room. */
	CHECK_OK(spawn(accept_after_a_while, &l, 0, 0));
	uint64_t t0 = now_ns();
	client(SOCK_STREAM, "/tmp/b");
	CHECK(now_ns() - t0 >= 20000000u);
	/* With SO_SNDTIMEO it gives up: EAGAIN. */
	int to = usock(SOCK_STREAM);
	struct timeval tv = { 0, 20000 };
	CHECK_OK(sys(SYS_setsockopt, to, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
	CHECK_ERR(sys(SYS_connect, to, &a, len), EAGAIN);
	/* listen again with a larger backlog: room at once. */
	CHECK_OK(sys(SYS_listen, l, 4));
	CHECK_OK(sys(SYS_connect, nb, &a, len));
	/* A waiting connect goes on when room comes, from another thread. */
	CHECK_OK(sys(SYS_listen, l, 0));
	int done = 0;
	while (sys(SYS_accept, l, 0, 0) >= 0 && revents(l, POLLIN)) {
	}
	client(SOCK_STREAM, "/tmp/b"); /* one waits: the queue is full now (0 + 1) */
	CHECK_OK(spawn(connect_to_backlog, &done, 0, 0));
	sleep_ms(10);
	CHECK_EQ(done, 0);
	CHECK_OK(sys(SYS_accept, l, 0, 0));
	sleep_ms(10);
	CHECK_EQ(done, 1);
	/* epoll sees a connection to accept. */
	int ep = (int)CHECK_OK(sys(SYS_epoll_create1, 0));
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 7 };
	CHECK_OK(sys(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, l, &ev));
	CHECK_EQ(sys(SYS_epoll_wait, ep, &ev, 1, 0), 1);
	CHECK_OK(sys(SYS_accept, l, 0, 0));
	CHECK_EQ(sys(SYS_epoll_wait, ep, &ev, 1, 0), 0);
	(void)c1;
}

static int connect_after_a_while(void *arg)
{
	sleep_ms(10);
	client(SOCK_STREAM, "/tmp/r2");
	*(int *)arg = 1;
	return 0;
}

TEST(unix_closing_a_listener_resets_the_connections_it_had_not_accepted)
{
	boot(0);
	int l = listener(SOCK_STREAM, "/tmp/r", 4);
	int c = client(SOCK_STREAM, "/tmp/r");
	CHECK_EQ(sys(SYS_write, c, "lost", 4), 4);
	CHECK_OK(sys(SYS_close, l));
	char buf[8];
	CHECK_ERR(sys(SYS_read, c, buf, sizeof buf), ECONNRESET);
	CHECK_EQ(sys(SYS_read, c, buf, sizeof buf), 0);
	CHECK_ERR(sys(SYS_write, c, "x", 1), EPIPE);
	/* A non-blocking accept with nothing queued: EAGAIN; a blocking one wakes for a connect. */
	l = listener(SOCK_STREAM, "/tmp/r2", 4);
	CHECK_OK(sys(SYS_fcntl, l, F_SETFL, O_NONBLOCK));
	CHECK_ERR(sys(SYS_accept, l, 0, 0), EAGAIN);
	CHECK_OK(sys(SYS_fcntl, l, F_SETFL, 0));
	int done = 0;
	CHECK_OK(spawn(connect_after_a_while, &done, 0, 0));
	CHECK_OK(sys(SYS_accept, l, 0, 0));
	CHECK_EQ(done, 1);
}

/* With every fd taken, accept is EMFILE and the connection stays queued. */
TEST(unix_accept_without_a_free_fd_leaves_the_connection_queued)
{
	boot(0);
	int l = listener(SOCK_STREAM, "/tmp/e", 4);
	int c = client(SOCK_STREAM, "/tmp/e");
	CHECK_EQ(sys(SYS_write, c, "kept", 4), 4);
	long fd, last = -1;
	while ((fd = sys(SYS_dup, 0)) >= 0) last = fd;
	CHECK_ERR(sys(SYS_accept, l, 0, 0), EMFILE);
	CHECK_OK(sys(SYS_close, last));
	int a = (int)CHECK_OK(sys(SYS_accept, l, 0, 0));
	char buf[8];
	CHECK_EQ(sys(SYS_read, a, buf, sizeof buf), 4);
	CHECK_MEM(buf, "kept", 4);
}

/* ---- datagrams ---- */

TEST(unix_datagrams_go_to_names_with_the_senders_name)
{
	boot(0);
	socklen_t la, lb;
	struct sockaddr_un na = path_addr("/tmp/a", &la), nb = abstract_addr("b", &lb);
	int a = usock(SOCK_DGRAM), b = usock(SOCK_DGRAM), anon = usock(SOCK_DGRAM);
	CHECK_OK(sys(SYS_bind, a, &na, la));
	CHECK_OK(sys(SYS_bind, b, &nb, lb));
	CHECK_EQ(sys(SYS_sendto, b, "one", 3, 0, &na, la), 3);
	CHECK_EQ(sys(SYS_sendto, anon, "two!", 4, 0, &na, la), 4);
	CHECK_EQ(sys(SYS_sendto, a, "", 0, 0, &na, la), 0); /* to itself, and empty */
	char buf[16];
	struct sockaddr_un from;
	socklen_t flen = sizeof from;
	int n = -1;
	CHECK_OK(sys(SYS_ioctl, a, FIONREAD, &n));
	CHECK_EQ(n, 3); /* the next message's */
	CHECK_EQ(sys(SYS_recvfrom, a, buf, 2, MSG_TRUNC, &from, &flen), 3); /* cut; MSG_TRUNC: its length */
	CHECK_EQ(flen, lb);
	CHECK_MEM(&from, &nb, lb);
	flen = sizeof from;
	CHECK_EQ(sys(SYS_recvfrom, a, buf, sizeof buf, 0, &from, &flen), 4);
	CHECK_EQ(flen, 0); /* unnamed sender */
	struct iovec v = { buf, sizeof buf };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &v, .msg_iovlen = 1 };
	CHECK_EQ(sys(SYS_recvmsg, a, &m, 0), 0);
	CHECK_EQ(m.msg_namelen, la);
	CHECK_STR(from.sun_path, "/tmp/a");
	/* connect: a default destination; a socket connected elsewhere takes nothing from others. */
	CHECK_OK(sys(SYS_connect, anon, &nb, lb));
	CHECK_EQ(sys(SYS_write, anon, "dflt", 4), 4);
	CHECK_EQ(sys(SYS_read, b, buf, sizeof buf), 4);
	CHECK_OK(sys(SYS_connect, b, &na, la));
	CHECK_ERR(sys(SYS_write, anon, "x", 1), EPERM);
	CHECK_ERR(sys(SYS_connect, usock(SOCK_DGRAM), &nb, lb), EPERM);
	CHECK_EQ(sys(SYS_sendto, a, "ok", 2, 0, &nb, lb), 2); /* its peer may send */
	struct sockaddr_un peer;
	socklen_t plen = sizeof peer;
	CHECK_OK(sys(SYS_getpeername, b, &peer, &plen));
	CHECK_EQ(plen, la);
	/* The destination closes: refused once, then not connected. Its name is gone. */
	CHECK_OK(sys(SYS_close, b));
	CHECK_ERR(sys(SYS_write, anon, "x", 1), ECONNREFUSED);
	CHECK_ERR(sys(SYS_write, anon, "x", 1), ENOTCONN);
	CHECK_ERR(sys(SYS_sendto, anon, "x", 1, 0, &nb, lb), ECONNREFUSED);
	/* Too big for the ring: EMSGSIZE; a full ring: EAGAIN, or a wait. */
	static char big[65536];
	CHECK_ERR(sys(SYS_sendto, anon, big, sizeof big, 0, &na, la), EMSGSIZE);
	while (sys(SYS_sendto, anon, big, 1000, MSG_DONTWAIT, &na, la) == 1000) {
	}
	CHECK_ERR(sys(SYS_sendto, anon, big, 1000, MSG_DONTWAIT, &na, la), EAGAIN);
	struct sockaddr_un no = path_addr("/tmp/no", &la);
	CHECK_ERR(sys(SYS_sendto, anon, "x", 1, 0, &no, la), ENOENT);
}

/* ---- passing files ---- */

/* sendmsg of bytes with the fds of fds[n] as SCM_RIGHTS. */
static long send_fds(int s, const char *bytes, size_t len, const int *fds, int n)
{
	char ctl[CMSG_SPACE(sizeof(int) * 253)] = { 0 }; /* the header's padding too, as musl's sendmsg */
	struct iovec v = { (void *)bytes, len };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = CMSG_SPACE(sizeof(int) * n) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	return sys(SYS_sendmsg, s, &m, 0);
}

/* recvmsg into buf with room for `room` fds (CMSG_LEN: CMSG_SPACE's padding would hold one
 * more): the fds got in fds, their count in *n. */
static long recv_fds(int s, char *buf, size_t len, int *fds, int room, int *n, int *mflags, int flags)
{
	char ctl[CMSG_SPACE(sizeof(int) * 256)];
	struct iovec v = { buf, len };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = room ? CMSG_LEN(sizeof(int) * room) : 0 };
	long r = sys(SYS_recvmsg, s, &m, flags);
	*n = 0;
	if (r < 0) return r;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds + *n, CMSG_DATA(c), sizeof(int) * k);
			*n += k;
		}
	if (mflags) *mflags = m.msg_flags;
	return r;
}

/* Is a pipe's write end closed everywhere? Its read end reads 0 then. */
static int writer_gone(int rd)
{
	char c;
	long r = sys(SYS_read, rd, &c, 1);
	CHECK(r == 0 || r == -EAGAIN);
	return r == 0;
}

TEST(unix_scm_rights_gives_new_fds_on_the_same_open_files)
{
	boot(0);
	int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
	for (int i = 0; i < 3; i++) {
		int sv[2];
		CHECK_OK(sys(SYS_socketpair, AF_UNIX, types[i], 0, sv));
		int p[2];
		CHECK_OK(sys(SYS_pipe2, p, O_NONBLOCK));
		int file = (int)CHECK_OK(open_("/hello.txt", O_RDONLY));
		CHECK_OK(sys(SYS_lseek, file, 3, SEEK_SET));
		int fds[2] = { p[1], file };
		CHECK_EQ(send_fds(sv[0], "fds", 3, fds, 2), 3);
		CHECK_OK(sys(SYS_close, p[1])); /* the message holds it */
		CHECK_OK(sys(SYS_close, file));
		CHECK(!writer_gone(p[0]));
		char buf[8];
		int got[4], n, mflags;
		CHECK_EQ(recv_fds(sv[1], buf, sizeof buf, got, 4, &n, &mflags, MSG_CMSG_CLOEXEC), 3);
		CHECK_EQ(n, 2);
		CHECK_EQ(mflags, 0);
		CHECK_EQ(sys(SYS_fcntl, got[0], F_GETFD), FD_CLOEXEC);
		CHECK_EQ(sys(SYS_write, got[0], "w", 1), 1); /* the pipe's write end */
		CHECK_EQ(sys(SYS_read, p[0], buf, 1), 1);
		CHECK_EQ(sys(SYS_lseek, got[1], 0, SEEK_CUR), 3); /* the same open file: its offset */
		CHECK_OK(sys(SYS_close, got[0]));
		CHECK(writer_gone(p[0]));
		CHECK_OK(sys(SYS_close, got[1]));
		CHECK_OK(sys(SYS_close, p[0]));
		CHECK_OK(sys(SYS_close, sv[0]));
		CHECK_OK(sys(SYS_close, sv[1]));
	}
}

TEST(unix_scm_rights_over_a_stream_end_a_read_and_peek_dups)
{
	boot(0);
	int sv[2];
	CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv));
	int p[2];
	CHECK_OK(sys(SYS_pipe2, p, O_NONBLOCK));
	CHECK_EQ(sys(SYS_write, sv[0], "ab", 2), 2);
	CHECK_EQ(send_fds(sv[0], "cd", 2, &p[1], 1), 2);
	CHECK_EQ(sys(SYS_write, sv[0], "ef", 2), 2);
	char buf[16];
	int got[4], n;
	/* A peek gives fds too (new ones), and stops at the message that has them. */
	CHECK_EQ(recv_fds(sv[1], buf, sizeof buf, got, 4, &n, 0, MSG_PEEK), 4);
	CHECK_EQ(n, 1);
	CHECK_OK(sys(SYS_close, got[0]));
	/* A read joins bytes until the message with files, and ends after it. */
	CHECK_EQ(recv_fds(sv[1], buf, sizeof buf, got, 4, &n, 0, 0), 4);
	CHECK_MEM(buf, "abcd", 4);
	CHECK_EQ(n, 1);
	CHECK_EQ(recv_fds(sv[1], buf, sizeof buf, got + 1, 4, &n, 0, 0), 2);
	CHECK_EQ(n, 0);
	/* A message with files read in parts: they come with its first bytes. */
	CHECK_EQ(send_fds(sv[0], "12345", 5, &p[1], 1), 5);
	CHECK_EQ(recv_fds(sv[1], buf, 2, got + 1, 4, &n, 0, 0), 2);
	CHECK_EQ(n, 1);
	CHECK_EQ(recv_fds(sv[1], buf, sizeof buf, got + 2, 4, &n, 0, 0), 3);
	CHECK_EQ(n, 0);
	CHECK_MEM(buf, "345", 3);
	/* An empty stream write sends nothing, files neither. */
	CHECK_EQ(send_fds(sv[0], "", 0, &p[1], 1), 0);
	CHECK_ERR(recv_fds(sv[1], buf, sizeof buf, got + 2, 4, &n, 0, MSG_DONTWAIT), EAGAIN);
	CHECK_OK(sys(SYS_close, got[0]));
	CHECK_OK(sys(SYS_close, got[1]));
	CHECK_OK(sys(SYS_close, p[1]));
	CHECK(writer_gone(p[0]));
}

TEST(unix_scm_rights_closes_the_fds_that_do_not_fit_and_unread_messages_release_theirs)
{
	boot(0);
	int sv[2];
	CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, sv));
	int p[3][2], w[3];
	for (int i = 0; i < 3; i++) {
		CHECK_OK(sys(SYS_pipe2, p[i], O_NONBLOCK));
		w[i] = p[i][1];
	}
	CHECK_EQ(send_fds(sv[0], "x", 1, w, 3), 1);
	for (int i = 0; i < 3; i++) CHECK_OK(sys(SYS_close, w[i]));
	/* Room for one: it comes, the others close; MSG_CTRUNC says so. */
	char buf[4];
	int got[4], n, mflags;
	CHECK_EQ(recv_fds(sv[1], buf, sizeof buf, got, 1, &n, &mflags, 0), 1);
	CHECK_EQ(n, 1);
	CHECK_EQ(mflags & MSG_CTRUNC, MSG_CTRUNC);
	CHECK(!writer_gone(p[0][0]));
	CHECK(writer_gone(p[1][0]));
	CHECK(writer_gone(p[2][0]));
	CHECK_OK(sys(SYS_close, got[0]));
	/* No room at all (read, or no control buffer): all close. */
	int again[2];
	CHECK_OK(sys(SYS_pipe2, again, O_NONBLOCK));
	CHECK_EQ(send_fds(sv[0], "y", 1, &again[1], 1), 1);
	CHECK_OK(sys(SYS_close, again[1]));
	CHECK_EQ(sys(SYS_read, sv[1], buf, sizeof buf), 1);
	CHECK(writer_gone(again[0]));
	/* A message never read: its files close with the socket that held it. */
	CHECK_OK(sys(SYS_pipe2, again, O_NONBLOCK));
	CHECK_EQ(send_fds(sv[0], "z", 1, &again[1], 1), 1);
	CHECK_OK(sys(SYS_close, again[1]));
	CHECK(!writer_gone(again[0]));
	CHECK_OK(sys(SYS_close, sv[1]));
	CHECK(writer_gone(again[0]));
	/* No fd free for it: closed, MSG_CTRUNC. */
	int pair2[2];
	CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_SEQPACKET, 0, pair2));
	CHECK_OK(sys(SYS_pipe2, again, O_NONBLOCK));
	CHECK_EQ(send_fds(pair2[0], "m", 1, &again[1], 1), 1);
	CHECK_OK(sys(SYS_close, again[1]));
	long fd, last = -1;
	while ((fd = sys(SYS_dup, 0)) >= 0) last = fd;
	CHECK_EQ(recv_fds(pair2[1], buf, sizeof buf, got, 4, &n, &mflags, 0), 1);
	CHECK_EQ(n, 0);
	CHECK_EQ(mflags & MSG_CTRUNC, MSG_CTRUNC);
	CHECK_OK(sys(SYS_close, last));
	CHECK(writer_gone(again[0]));
}

TEST(unix_so_passcred_gives_the_process_credentials)
{
	boot(0);
	int sv[2];
	CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, sv));
	int on = 1;
	CHECK_OK(sys(SYS_setsockopt, sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
	int v = 0;
	socklen_t vlen = sizeof v;
	CHECK_OK(sys(SYS_getsockopt, sv[1], SOL_SOCKET, SO_PASSCRED, &v, &vlen));
	CHECK_EQ(v, 1);
	/* Sent with the sender's own credentials (pid 1, root): taken; others: EPERM. */
	struct ucred cred = { 1, 0, 0 };
	char ctl[CMSG_SPACE(sizeof cred)] = { 0 };
	struct iovec iov = { "c", 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof cred);
	memcpy(CMSG_DATA(c), &cred, sizeof cred);
	CHECK_EQ(sys(SYS_sendmsg, sv[0], &m, 0), 1);
	cred.pid = 2;
	memcpy(CMSG_DATA(c), &cred, sizeof cred);
	CHECK_ERR(sys(SYS_sendmsg, sv[0], &m, 0), EPERM);
	char buf[4];
	char in[CMSG_SPACE(sizeof cred)];
	iov = (struct iovec){ buf, sizeof buf };
	m = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = in, .msg_controllen = sizeof in };
	CHECK_EQ(sys(SYS_recvmsg, sv[1], &m, 0), 1);
	CHECK_EQ(m.msg_controllen, CMSG_SPACE(sizeof cred));
	c = CMSG_FIRSTHDR(&m);
	CHECK_EQ(c->cmsg_type, SCM_CREDENTIALS);
	memcpy(&cred, CMSG_DATA(c), sizeof cred);
	CHECK_EQ(cred.pid, 1);
	CHECK_EQ(cred.uid, 0);
	/* A buffer too short for them: cut, MSG_CTRUNC. */
	CHECK_EQ(sys(SYS_write, sv[0], "d", 1), 1);
	m.msg_controllen = sizeof(struct cmsghdr) + 4;
	CHECK_EQ(sys(SYS_recvmsg, sv[1], &m, 0), 1);
	CHECK_EQ(m.msg_flags & MSG_CTRUNC, MSG_CTRUNC);
	CHECK_EQ(m.msg_controllen, sizeof(struct cmsghdr) + 4);
	/* Unnamed with SO_PASSCRED: a send autobinds it, so the receiver learns a name. */
	int x = usock(SOCK_DGRAM), y = usock(SOCK_DGRAM);
	socklen_t len;
	struct sockaddr_un ny = abstract_addr("y", &len);
	CHECK_OK(sys(SYS_bind, y, &ny, len));
	CHECK_OK(sys(SYS_setsockopt, x, SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
	CHECK_EQ(sys(SYS_sendto, x, "a", 1, 0, &ny, len), 1);
	struct sockaddr_un from;
	socklen_t flen = sizeof from;
	CHECK_EQ(sys(SYS_recvfrom, y, buf, sizeof buf, 0, &from, &flen), 1);
	CHECK_EQ(flen, NAMED + 6);
}

/* ---- hostile control data ---- */

TEST(unix_sendmsg_refuses_control_data_that_lies)
{
	boot(0);
	int sv[2];
	CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv));
	int p[2];
	CHECK_OK(sys(SYS_pipe2, p, O_NONBLOCK));
	static union {
		struct cmsghdr h;
		char bytes[CMSG_SPACE(sizeof(int) * 300) + 64];
	} ctl;
	struct iovec v = { "x", 1 };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = CMSG_SPACE(sizeof(int)) };
	struct cmsghdr *c = &ctl.h;
	int *data = (int *)CMSG_DATA(c);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	data[0] = p[1];
	/* A cmsg_len past msg_controllen, or shorter than its header: EINVAL. */
	c->cmsg_len = CMSG_SPACE(sizeof(int)) + 1;
	CHECK_ERR(sys(SYS_sendmsg, sv[0], &m, 0), EINVAL);
	memset(&c->cmsg_len, 0xff, 8); /* the ABI's 64-bit length (musl's header: 32 and padding) */
	CHECK_ERR(sys(SYS_sendmsg, sv[0], &m, 0), EINVAL);
	c->__pad1 = 0;
	c->cmsg_len = sizeof(struct cmsghdr) - 1;
	CHECK_ERR(sys(SYS_sendmsg, sv[0], &m, 0), EINVAL);
	/* A second header after a good one, running past the end. */
	c->cmsg_len = CMSG_LEN(sizeof(int));
	m.msg_controllen = CMSG_SPACE(sizeof(int)) + sizeof(struct cmsghdr);
	struct cmsghdr *next = (struct cmsghdr *)(ctl.bytes + CMSG_SPACE(sizeof(int)));
	*next = (struct cmsghdr){ .cmsg_len = 4096, .cmsg_level = SOL_SOCKET, .cmsg_type = SCM_RIGHTS };
	CHECK_ERR(sys(SYS_sendmsg, sv[0], &m, 0), EINVAL);
	/* More than 253 files, in one header or in two. */
	for (int i = 0; i < 300; i++) data[i] = p[0];
	c->cmsg_len = CMSG_LEN(sizeof(int) * 254);
	m.msg_controllen = CMSG_SPACE(sizeof(int) * 254);
	CHECK_ERR(sys(SYS_sendmsg, sv[0], &m, 0), EINVAL);
	c->cmsg_len = CMSG_LEN(sizeof(int) * 200);
	next = (struct cmsghdr *)(ctl.bytes + CMSG_SPACE(sizeof(int) * 200));
	*next = (struct cmsghdr){ .cmsg_len = CMSG_LEN(sizeof(int) * 60), .cmsg_level = SOL_SOCKET, .cmsg_type = SCM_RIGHTS };
	for (int i = 0; i < 60; i++) ((int *)CMSG_DATA(next))[i] = p[0];
	m.msg_controllen = CMSG_SPACE(sizeof(int) * 200) + CMSG_SPACE(sizeof(int) * 60);
	CHECK_ERR(sys(SYS_sendmsg, sv[0], &m, 0), EINVAL);
	/* fds that are not open: EBADF (and the ones before them are not kept). */
	c->cmsg_len = CMSG_LEN(sizeof(int) * 3);
	m.msg_controllen = CMSG_SPACE(sizeof(int) * 3);
	data[0] = p[1];
	data[1] = 999;
	data[2] = p[0];
	CHECK_ERR(sys(SYS_sendmsg, sv[0], &m, 0), EBADF);
	data[1] = -1;
	CHECK_ERR(sys(SYS_sendmsg, sv[0], &m, 0), EBADF);
	data[1] = 5000;
	CHECK_ERR(sys(SYS_sendmsg, sv[0], &m, 0), EBADF);
	/* Unknown SOL_SOCKET types: EINVAL; credentials of the wrong length: EINVAL; a huge
	 * msg_controllen: ENOBUFS; another level is skipped. */
	c->cmsg_len = CMSG_LEN(sizeof(int));
	m.msg_controllen = CMSG_SPACE(sizeof(int));
	c->cmsg_type = 99;
	CHECK_ERR(sys(SYS_sendmsg, sv[0], &m, 0), EINVAL);
	c->cmsg_type = SCM_CREDENTIALS;
	CHECK_ERR(sys(SYS_sendmsg, sv[0], &m, 0), EINVAL);
	c->cmsg_type = SCM_RIGHTS;
	uint64_t huge = (uint64_t)1 << 40;
	memcpy(&m.msg_controllen, &huge, 8);
	CHECK_ERR(sys(SYS_sendmsg, sv[0], &m, 0), ENOBUFS);
	m.__pad2 = 0;
	m.msg_controllen = CMSG_SPACE(sizeof(int));
	c->cmsg_level = 6; /* IPPROTO_TCP */
	CHECK_EQ(sys(SYS_sendmsg, sv[0], &m, 0), 1);
	/* A control buffer shorter than a header carries nothing. */
	c->cmsg_level = SOL_SOCKET;
	m.msg_controllen = sizeof(struct cmsghdr) - 1;
	CHECK_EQ(sys(SYS_sendmsg, sv[0], &m, 0), 1);
	/* Nothing was kept: closing our write end ends the pipe. */
	CHECK_OK(sys(SYS_close, p[1]));
	CHECK(writer_gone(p[0]));
	/* recvmsg writes inside msg_controllen only, even a tiny one. */
	int q[2];
	CHECK_OK(sys(SYS_pipe2, q, O_NONBLOCK));
	int three[3] = { q[1], q[1], q[1] };
	CHECK_EQ(send_fds(sv[0], "y", 1, three, 3), 1);
	char buf[8];
	memset(&ctl, 0x5a, sizeof ctl);
	v = (struct iovec){ buf, sizeof buf };
	m = (struct msghdr){ .msg_iov = &v, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = CMSG_LEN(sizeof(int)) + 2 };
	long r = sys(SYS_recvmsg, sv[1], &m, 0);
	CHECK(r >= 1);
	CHECK_EQ(m.msg_flags & MSG_CTRUNC, MSG_CTRUNC);
	CHECK_EQ(m.msg_controllen, CMSG_LEN(sizeof(int)) + 2);
	CHECK_EQ((unsigned char)ctl.bytes[CMSG_LEN(sizeof(int)) + 2], 0x5a);
	CHECK_OK(sys(SYS_close, ((int *)CMSG_DATA(&ctl.h))[0]));
	CHECK_OK(sys(SYS_close, q[1]));
	CHECK(writer_gone(q[0]));
}

TEST(unix_files_in_flight_are_capped_and_chains_of_sockets_close_without_recursion)
{
	static const struct boot_opts roomy = { .mem_mib = 256 }; /* 1500 rings of 64 KiB */
	boot(&roomy);
	/* Past 4096 files in all rings: ETOOMANYREFS. */
	int sv[2];
	CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv));
	int many[253];
	for (int i = 0; i < 253; i++) many[i] = sv[0];
	int sent = 0;
	long r;
	while ((r = send_fds(sv[0], "z", 1, many, 253)) == 1) sent++;
	CHECK_ERR(r, ETOOMANYREFS);
	CHECK_EQ(sent, 4096 / 253);
	CHECK_OK(sys(SYS_close, sv[0]));
	CHECK_OK(sys(SYS_close, sv[1])); /* its ring held sv[0]'s file: both go now */
	/* A chain: each pair's ends ride in the previous pair's ring. Closing the first closes
	 * all, in a loop (a recursion this deep would run off the libOS's stack). */
	for (int round = 0; round < 3; round++) {
		int first[2], prev[2];
		CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, first));
		prev[0] = first[0];
		prev[1] = first[1];
		for (int i = 0; i < 1500; i++) {
			int next[2];
			CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, next));
			CHECK_EQ(send_fds(prev[0], "c", 1, next, 2), 1);
			if (i) {
				CHECK_OK(sys(SYS_close, prev[0]));
				CHECK_OK(sys(SYS_close, prev[1]));
			}
			prev[0] = next[0];
			prev[1] = next[1];
		}
		CHECK_OK(sys(SYS_close, prev[0]));
		CHECK_OK(sys(SYS_close, prev[1]));
		CHECK_OK(sys(SYS_close, first[0]));
		CHECK_OK(sys(SYS_close, first[1]));
	}
	/* Everything went: the 64 MiB of guest memory still give rings. */
	int a[2];
	CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, a));
	CHECK_EQ(send_fds(a[0], "ok", 2, a, 2), 2);
}

TEST(unix_sockets_held_only_by_their_own_rings_are_collected)
{
	static const struct boot_opts roomy = { .mem_mib = 256 }; /* the cap comes before memory runs out */
	boot(&roomy);
	/* A pair whose ends ride in a ring someone can read: never collected. */
	int keep[2], inner[2];
	CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, keep));
	CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, inner));
	CHECK_EQ(send_fds(keep[0], "k", 1, inner, 2), 1);
	CHECK_OK(sys(SYS_close, inner[0]));
	CHECK_OK(sys(SYS_close, inner[1]));
	/* Pairs sent into their own ring, then closed: only they hold themselves. Without the
	 * collector the 2049th would be ETOOMANYREFS (2 files each in flight, 4096 at most). */
	for (int i = 0; i < 5000; i++) {
		int sv[2];
		CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv));
		CHECK_EQ(send_fds(sv[0], "x", 1, sv, 2), 1);
		CHECK_OK(sys(SYS_close, sv[0]));
		CHECK_OK(sys(SYS_close, sv[1]));
	}
	/* A listener sent into one of its own waiting connections, then closed. */
	for (int i = 0; i < 3000; i++) {
		int l = listener(SOCK_STREAM, "/tmp/gc", 1);
		int c = client(SOCK_STREAM, "/tmp/gc");
		CHECK_EQ(send_fds(c, "l", 1, &l, 1), 1); /* into the connection l has not accepted */
		CHECK_OK(sys(SYS_close, l));
		CHECK_OK(sys(SYS_close, c));
		CHECK_OK(sys(SYS_unlink, "/tmp/gc"));
	}
	/* The kept pair comes back whole. */
	char buf[8];
	int got[4], n;
	CHECK_EQ(recv_fds(keep[1], buf, sizeof buf, got, 4, &n, 0, 0), 1);
	CHECK_EQ(n, 2);
	CHECK_EQ(sys(SYS_write, got[0], "alive", 5), 5);
	CHECK_EQ(sys(SYS_read, got[1], buf, sizeof buf), 5);
	CHECK_MEM(buf, "alive", 5);
}
