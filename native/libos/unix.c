/*
 * socketpair(AF_UNIX): two connected ends inside the process, no network needed. Each end
 * reads its own 64 KiB ring (pipe.c), which the other end writes. SOCK_STREAM carries
 * bytes; SOCK_DGRAM and SOCK_SEQPACKET carry records (a length, then the bytes), so a read
 * takes one message whole and drops what did not fit. As on Linux, closing or shutting
 * down a stream or seqpacket end ends the other's input (reads 0) and output (EPIPE, no
 * SIGPIPE, as with MSG_NOSIGNAL); a datagram end outlives its peer, and its next send
 * is refused. Blocking calls wait in the scheduler on their end's node, holding the file
 * (file_hold); every change wakes the other end and poll, select, epoll (vfs_changed).
 *
 * Names need a file-system namespace for sockets, which the libOS does not have: bind is
 * EOPNOTSUPP, and connect or sendto to a name finds none (ENOENT for a path, ECONNREFUSED
 * for an abstract name). socket(AF_UNIX) gives an end that is not connected and never can
 * be, with the errors Linux gives an unnamed socket (ENOTCONN to send, EINVAL to read a
 * stream), so code that probes with socket() and then bind() (CPython's tests, libraries
 * choosing a transport) sees bind's refusal rather than no AF_UNIX at all. No ancillary
 * data (SCM_RIGHTS, credentials): sendmsg with any is EOPNOTSUPP.
 */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>

#include "vfs.h"

#define SHUT_IN 1 /* no more input: reads end */
#define SHUT_OUT 2 /* no more output: writes are EPIPE */
#define HDR sizeof(uint32_t) /* a record's length, before its bytes */

struct usock {
	struct node *node;
	struct usock *peer;
	struct ring rx; /* what the peer sent, for this end to read */
	size_t records; /* DGRAM, SEQPACKET: messages in rx */
	int type;
	int open; /* 0 once its last file is gone */
	int connected; /* DGRAM: 0 after a refused send or connect(AF_UNSPEC) */
	int shut; /* SHUT_IN | SHUT_OUT: its own, and (stream, seqpacket) its peer's mirrored */
	int err; /* ECONNRESET: the peer closed with bytes unread (SO_ERROR, the next read) */
	uint64_t rcvtimeo, sndtimeo; /* SO_RCVTIMEO, SO_SNDTIMEO in ns (0: none) */
};

/* Both ends, with their nodes: reused for the next socketpair once both are closed. */
struct upair {
	struct usock end[2];
	struct upair *next; /* the free list */
};

static struct upair *free_pairs;
static const struct file_ops unix_ops;
static void end_free(struct usock *s);

static struct upair *pair_new(int type)
{
	struct upair *pair = free_pairs;
	if (pair) {
		free_pairs = pair->next;
	} else {
		pair = arena_alloc(sizeof *pair);
		for (int i = 0; i < 2; i++) pair->end[i].node = vfs_new(0, "socket", 6, S_IFSOCK | 0777, &unix_ops);
	}
	for (int i = 0; i < 2; i++) {
		struct usock *s = &pair->end[i];
		struct node *node = s->node;
		*s = (struct usock){ .node = node, .peer = &pair->end[!i], .type = type, .open = 1, .connected = 1 };
		ring_init(&s->rx);
		node->priv = s;
		node->links = 1;
	}
	return pair;
}

/* An AF_UNIX type and protocol as socket() and socketpair() take them: the type without
 * its flags, or -errno; *oflags: the flags as open()'s. */
static int unix_type(int type, int protocol, int *oflags)
{
	int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (type & ~0xf) return -EINVAL;
	if (protocol != 0 && protocol != AF_UNIX) return -EPROTONOSUPPORT;
	if (type == SOCK_RAW) type = SOCK_DGRAM; /* as Linux does for AF_UNIX */
	if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET) return -ESOCKTNOSUPPORT;
	*oflags = O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0) | (flags & SOCK_CLOEXEC ? O_CLOEXEC : 0);
	return type;
}

/* socket(AF_UNIX): one end of a pair whose other end never opens. */
static long unix_socket(int type, int protocol)
{
	int oflags;
	type = unix_type(type, protocol, &oflags);
	if (type < 0) return type;
	struct upair *pair = pair_new(type);
	struct usock *s = &pair->end[0], *never = &pair->end[1];
	ring_free(&never->rx);
	never->open = 0;
	s->connected = 0;
	return fd_open(s->node, oflags); /* on failure its release frees the pair (end_free) */
}

static long sys_socketpair(int family, int type, int protocol, int *sv)
{
	if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) & ~0xf) return -EINVAL;
	if (family == AF_INET) return -EOPNOTSUPP; /* TCP and UDP have no pairs */
	if (family != AF_UNIX) return -EAFNOSUPPORT;
	int oflags;
	type = unix_type(type, protocol, &oflags);
	if (type < 0) return type;
	struct upair *pair = pair_new(type);
	long a = fd_open(pair->end[0].node, oflags);
	if (a < 0) {
		end_free(&pair->end[1]);
		return a;
	}
	long b = fd_open(pair->end[1].node, oflags);
	if (b < 0) {
		fd_close(a);
		return b;
	}
	sv[0] = (int)a;
	sv[1] = (int)b;
	return 0;
}

/* ---- reading and writing ---- */

/* A blocking call waits for a change of its end: 0 to look again, -EAGAIN, or -EINTR. */
static long wait_change(struct usock *s, int nonblock, uint64_t deadline)
{
	if (nonblock) return -EAGAIN;
	int woken = sched_wait(s->node, deadline);
	if (woken < 0) return woken; /* a signal */
	if (!woken && deadline) return -EAGAIN; /* SO_*TIMEO passed */
	return 0;
}

static size_t iov_total(const struct msghdr *m)
{
	size_t total = 0;
	for (int i = 0; i < (int)m->msg_iovlen; i++) total += m->msg_iov[i].iov_len;
	return total;
}

/* Copies len bytes of the ring from byte off on into the iovecs, from byte pos of their total on. */
static size_t to_iov(const struct ring *r, size_t off, size_t len, const struct msghdr *m, size_t pos)
{
	size_t done = 0;
	for (int i = 0; i < (int)m->msg_iovlen && done < len; i++) {
		const struct iovec *v = &m->msg_iov[i];
		if (pos >= v->iov_len) {
			pos -= v->iov_len;
			continue;
		}
		size_t n = v->iov_len - pos < len - done ? v->iov_len - pos : len - done;
		done += ring_peek(r, off + done, (char *)v->iov_base + pos, n);
		pos = 0;
	}
	return done;
}

static void take(struct usock *s, size_t len)
{
	ring_drop(&s->rx, len);
	vfs_changed(s->peer->node); /* room for its writes */
}

static int take_err(struct usock *s)
{
	int e = s->err;
	s->err = 0;
	return e;
}

/* Nothing to read: what the read returns (0 at the end, -errno), or 1 to look again. */
static long rx_empty(struct usock *s, int nonblock, uint64_t deadline)
{
	if (s->err) return -take_err(s);
	if (s->shut & SHUT_IN) return 0;
	long r = wait_change(s, nonblock, deadline);
	return r ? r : 1;
}

static long recv_stream(struct usock *s, struct msghdr *m, int flags, int nonblock)
{
	size_t want = iov_total(m), got = 0;
	if (want == 0) return 0;
	uint64_t deadline = sock_deadline(s->rcvtimeo);
	for (;;) {
		if (s->rx.len) {
			size_t n = to_iov(&s->rx, 0, want - got, m, got);
			if (flags & MSG_PEEK) return (long)n;
			take(s, n);
			got += n;
			if (got == want || !(flags & MSG_WAITALL)) return (long)got;
			continue;
		}
		long r = rx_empty(s, nonblock, deadline);
		if (r <= 0) return got ? (long)got : r;
	}
}

static long recv_record(struct usock *s, struct msghdr *m, int flags, int nonblock)
{
	uint64_t deadline = sock_deadline(s->rcvtimeo);
	while (!s->rx.len) {
		long r = rx_empty(s, nonblock, deadline);
		if (r <= 0) return r;
	}
	uint32_t size;
	ring_peek(&s->rx, 0, &size, HDR);
	size_t want = iov_total(m), n = to_iov(&s->rx, HDR, size < want ? size : want, m, 0);
	if (n < size) m->msg_flags |= MSG_TRUNC; /* the rest is dropped */
	if (!(flags & MSG_PEEK)) {
		take(s, HDR + size);
		s->records--;
	}
	return (long)(flags & MSG_TRUNC ? size : n);
}

/* Why s cannot send now (-errno), or 0. */
static long tx_error(struct usock *s)
{
	if (!s->connected) return -ENOTCONN;
	if (s->shut & SHUT_OUT) return -EPIPE;
	if (!s->peer->open) {
		if (s->type != SOCK_DGRAM) return -EPIPE;
		s->connected = 0; /* refused once, then not connected, as on Linux */
		return -ECONNREFUSED;
	}
	return s->peer->shut & SHUT_IN ? -EPIPE : 0;
}

static long send_stream(struct usock *s, const struct msghdr *m, int nonblock)
{
	size_t total = iov_total(m), done = 0, off = 0; /* off: into iov[i] */
	uint64_t deadline = sock_deadline(s->sndtimeo);
	int i = 0;
	while (done < total) {
		long r = tx_error(s);
		if (r) return done ? (long)done : r;
		if (s->peer->rx.len == RING_SIZE) {
			r = wait_change(s, nonblock, deadline);
			if (r) return done ? (long)done : r;
			continue; /* the peer may be gone meanwhile */
		}
		while (off == m->msg_iov[i].iov_len) i++, off = 0;
		size_t n = ring_put(&s->peer->rx, (const char *)m->msg_iov[i].iov_base + off, m->msg_iov[i].iov_len - off);
		off += n;
		done += n;
		vfs_changed(s->peer->node);
	}
	return (long)done;
}

/* A record goes whole or not at all. */
static long send_record(struct usock *s, const struct msghdr *m, int nonblock)
{
	size_t total = iov_total(m);
	if (total > RING_SIZE - HDR) return -EMSGSIZE;
	uint64_t deadline = sock_deadline(s->sndtimeo);
	for (;;) {
		long r = tx_error(s);
		if (!r && RING_SIZE - s->peer->rx.len >= HDR + total) break;
		if (!r) r = wait_change(s, nonblock, deadline);
		if (r) return r;
	}
	struct usock *p = s->peer;
	uint32_t size = (uint32_t)total;
	ring_put(&p->rx, &size, HDR);
	for (int i = 0; i < (int)m->msg_iovlen; i++) ring_put(&p->rx, m->msg_iov[i].iov_base, m->msg_iov[i].iov_len);
	p->records++;
	vfs_changed(p->node);
	return (long)total;
}

/* A name to connect or send to: there are none, so never found. */
static long find_name(const void *addr, socklen_t len)
{
	const struct sockaddr_un *a = addr;
	if (!a || len <= offsetof(struct sockaddr_un, sun_path) || len > sizeof *a || a->sun_family != AF_UNIX) return -EINVAL;
	return a->sun_path[0] ? -ENOENT : -ECONNREFUSED; /* a path; an abstract name */
}

/* Every read, write, send and receive of an end comes here. */
static long transfer(struct file *f, struct msghdr *m, int flags, int write)
{
	struct usock *s = f->node->priv;
	if ((int)m->msg_iovlen < 0 || (int)m->msg_iovlen > 1024) return -EMSGSIZE;
	if (iov_total(m) > 0x7fffffffu) return -EINVAL;
	if (flags & MSG_OOB) return -EOPNOTSUPP;
	if (write && m->msg_controllen) return -EOPNOTSUPP; /* no ancillary data */
	if (write && m->msg_name && m->msg_namelen && s->type != SOCK_SEQPACKET) /* seqpacket: ignored */
		return s->type != SOCK_STREAM ? find_name(m->msg_name, m->msg_namelen) : s->connected ? -EISCONN :
													-EOPNOTSUPP;
	if (!write && !s->connected && s->type != SOCK_DGRAM) /* never connected: as Linux answers */
		return s->type == SOCK_STREAM ? -EINVAL : -ENOTCONN;
	int nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
	file_hold(f);
	long r;
	if (write) r = s->type == SOCK_STREAM ? send_stream(s, m, nonblock) : send_record(s, m, nonblock);
	else r = s->type == SOCK_STREAM ? recv_stream(s, m, flags, nonblock) : recv_record(s, m, flags, nonblock);
	file_put(f);
	return r;
}

static long unix_readv(struct file *f, const struct iovec *iov, int count)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = count };
	return transfer(f, &m, 0, 0);
}

static long unix_writev(struct file *f, const struct iovec *iov, int count)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = count };
	return transfer(f, &m, 0, 1);
}

static long sys_sendto(struct file *f, const void *buf, size_t len, int flags, const void *addr, socklen_t addrlen)
{
	struct msghdr m = { .msg_name = (void *)addr, .msg_namelen = addrlen, .msg_iov = &(struct iovec){ (void *)buf, len }, .msg_iovlen = 1 };
	return transfer(f, &m, flags, 1);
}

/* The sender has no name: no address, length 0. */
static long sys_recvfrom(struct file *f, void *buf, size_t len, int flags, socklen_t *addrlen)
{
	struct msghdr m = { .msg_iov = &(struct iovec){ buf, len }, .msg_iovlen = 1 };
	long r = transfer(f, &m, flags, 0);
	if (r >= 0 && addrlen) *addrlen = 0;
	return r;
}

static long sys_recvmsg(struct file *f, struct msghdr *m, int flags)
{
	m->msg_flags = 0;
	long r = transfer(f, m, flags, 0);
	if (r >= 0) m->msg_namelen = m->msg_controllen = 0;
	return r;
}

/* ---- the other socket calls ---- */

static long sys_shutdown(struct usock *s, int how)
{
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return -EINVAL;
	int mode = how + 1; /* SHUT_RD: SHUT_IN, SHUT_WR: SHUT_OUT, SHUT_RDWR: both */
	s->shut |= mode;
	if (s->type != SOCK_DGRAM) s->peer->shut |= (mode & SHUT_IN ? SHUT_OUT : 0) | (mode & SHUT_OUT ? SHUT_IN : 0);
	vfs_changed(s->node);
	vfs_changed(s->peer->node);
	return 0;
}

/* A name cannot be made: there is no namespace for them. A bad address is still EINVAL. */
static long sys_bind(const void *addr, socklen_t len)
{
	const struct sockaddr_un *a = addr;
	if (!a || len < offsetof(struct sockaddr_un, sun_path) || len > sizeof *a || a->sun_family != AF_UNIX) return -EINVAL;
	return -EOPNOTSUPP;
}

/* Connected already: to a name there is none; a datagram end takes AF_UNSPEC as "disconnect". */
static long sys_connect(struct usock *s, const void *addr, socklen_t len)
{
	if (s->type == SOCK_DGRAM && addr && len >= sizeof(sa_family_t) && ((const struct sockaddr *)addr)->sa_family == AF_UNSPEC) {
		s->connected = 0;
		return 0;
	}
	return find_name(addr, len);
}

/* Both ends are unnamed: only the family, in 2 bytes. */
static long sys_getname(struct usock *s, void *addr, socklen_t *len, int peer)
{
	if (!len || (int)*len < 0) return -EINVAL;
	if (peer && !s->connected) return -ENOTCONN;
	sa_family_t family = AF_UNIX;
	if (addr) memcpy(addr, &family, *len < sizeof family ? *len : sizeof family);
	*len = sizeof family;
	return 0;
}

static long put_opt(void *val, socklen_t *len, const void *v, socklen_t size)
{
	if (!len || (int)*len < 0) return -EINVAL;
	socklen_t n = *len < size ? *len : size;
	memcpy(val, v, n);
	*len = n;
	return 0;
}

static long sys_getsockopt(struct usock *s, int level, int name, void *val, socklen_t *len)
{
	if (level != SOL_SOCKET) return -EOPNOTSUPP; /* AF_UNIX has no other level */
	int v;
	switch (name) {
	case SO_TYPE: v = s->type; break;
	case SO_DOMAIN: v = AF_UNIX; break;
	case SO_PROTOCOL:
	case SO_ACCEPTCONN: v = 0; break;
	case SO_ERROR: v = take_err(s); break;
	case SO_SNDBUF:
	case SO_RCVBUF: v = RING_SIZE; break;
	case SO_PEERCRED: { /* the one process: pid 1, root */
		struct ucred cred = { 1, 0, 0 };
		return put_opt(val, len, &cred, sizeof cred);
	}
	case SO_RCVTIMEO:
	case SO_SNDTIMEO: {
		struct timeval tv = time_timeval(name == SO_RCVTIMEO ? s->rcvtimeo : s->sndtimeo);
		return put_opt(val, len, &tv, sizeof tv);
	}
	default: return -ENOPROTOOPT;
	}
	return put_opt(val, len, &v, sizeof v);
}

static long sys_setsockopt(struct usock *s, int level, int name, const void *val, socklen_t len)
{
	if (level != SOL_SOCKET) return -EOPNOTSUPP;
	if (len < sizeof(int)) return -EINVAL;
	switch (name) {
	case SO_RCVTIMEO:
	case SO_SNDTIMEO: return sockopt_set_timeout(val, len, name == SO_RCVTIMEO ? &s->rcvtimeo : &s->sndtimeo);
	case SO_SNDBUF: /* the rings stay 64 KiB */
	case SO_RCVBUF:
	case SO_SNDBUFFORCE:
	case SO_RCVBUFFORCE:
	case SO_REUSEADDR: /* accepted, as Linux does, and meaningless here */
	case SO_REUSEPORT:
	case SO_KEEPALIVE:
	case SO_BROADCAST:
	case SO_OOBINLINE:
	case SO_PRIORITY:
	case SO_RCVLOWAT:
	case SO_SNDLOWAT:
	case SO_PASSCRED: return 0; /* no credentials are ever received */
	case SO_LINGER: return len < sizeof(struct linger) ? -EINVAL : 0; /* close never waits */
	default: return -ENOPROTOOPT;
	}
}

/* socket(AF_UNIX), socketpair, and the socket calls on an end (the others' are net.c's). */
long unix_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6, int *handled)
{
	*handled = 1;
	if (n == SYS_socketpair) return sys_socketpair((int)a1, (int)a2, (int)a3, (int *)a4);
	if (n == SYS_socket && a1 == AF_UNIX) return unix_socket((int)a2, (int)a3); /* the other families: net.c */
	struct file *f = fd_get(a1);
	if (!f || f->node->ops != &unix_ops) {
		*handled = 0;
		return -ENOSYS;
	}
	struct usock *s = f->node->priv;
	int stream = s->type != SOCK_DGRAM;
	switch (n) {
	case SYS_bind: return sys_bind((const void *)a2, (socklen_t)a3);
	case SYS_listen: return stream ? -EINVAL : -EOPNOTSUPP; /* unnamed: nothing to listen on */
	case SYS_accept: return stream ? -EINVAL : -EOPNOTSUPP; /* not listening */
	case SYS_accept4: return a4 & ~(SOCK_NONBLOCK | SOCK_CLOEXEC) ? -EINVAL : (stream ? -EINVAL : -EOPNOTSUPP);
	case SYS_connect: return sys_connect(s, (const void *)a2, (socklen_t)a3);
	case SYS_getsockname: return sys_getname(s, (void *)a2, (socklen_t *)a3, 0);
	case SYS_getpeername: return sys_getname(s, (void *)a2, (socklen_t *)a3, 1);
	case SYS_sendto: return sys_sendto(f, (const void *)a2, (size_t)a3, (int)a4, (const void *)a5, (socklen_t)a6);
	case SYS_recvfrom: return sys_recvfrom(f, (void *)a2, (size_t)a3, (int)a4, (socklen_t *)a6);
	case SYS_sendmsg: return transfer(f, (struct msghdr *)a2, (int)a3, 1);
	case SYS_recvmsg: return sys_recvmsg(f, (struct msghdr *)a2, (int)a3);
	case SYS_shutdown: return sys_shutdown(s, (int)a2);
	case SYS_setsockopt: return sys_setsockopt(s, (int)a2, (int)a3, (const void *)a4, (socklen_t)a5);
	case SYS_getsockopt: return sys_getsockopt(s, (int)a2, (int)a3, (void *)a4, (socklen_t *)a5);
	default: *handled = 0; return -ENOSYS;
	}
}

/* ---- the end's file ---- */

/* Stream: every byte; datagram: the next message's; seqpacket: every message's (as Linux). */
static long unread(struct usock *s)
{
	uint32_t size = 0;
	if (s->type == SOCK_STREAM) return (long)s->rx.len;
	if (s->type == SOCK_SEQPACKET) return (long)(s->rx.len - s->records * HDR);
	ring_peek(&s->rx, 0, &size, HDR);
	return size;
}

static long unix_ioctl(struct file *f, unsigned long request, long arg)
{
	if (request != FIONREAD) return -ENOTTY;
	*(int *)arg = (int)unread(f->node->priv);
	return 0;
}

static short unix_poll(struct file *f)
{
	struct usock *s = f->node->priv, *p = s->peer;
	short ev = s->err ? POLLERR : 0;
	if (s->rx.len) ev |= POLLIN | POLLRDNORM;
	if (s->shut & SHUT_IN) ev |= POLLIN | POLLRDNORM | POLLRDHUP;
	if (s->shut == (SHUT_IN | SHUT_OUT) || (!s->connected && s->type != SOCK_DGRAM)) ev |= POLLHUP;
	/* Writable once half the peer's ring is free (a writer that met EAGAIN is not woken for
	 * every few bytes read), or when a write fails at once: as on Linux, no end is stuck. */
	if (!p->open || !s->connected || s->shut & SHUT_OUT || p->shut & SHUT_IN || p->rx.len <= RING_SIZE / 2)
		ev |= POLLOUT | POLLWRNORM;
	return ev;
}

/* An end's file is gone (or it never had one): what it had unread goes, and (stream,
 * seqpacket) the peer sees the end of the connection; unread bytes reset it, as on Linux. */
static void end_free(struct usock *s)
{
	struct usock *p = s->peer;
	s->open = 0;
	if (s->type != SOCK_DGRAM) {
		if (s->rx.len) p->err = ECONNRESET;
		p->shut = SHUT_IN | SHUT_OUT;
	}
	ring_free(&s->rx);
	vfs_changed(p->node);
	if (p->open) return;
	struct upair *pair = (struct upair *)(s < p ? s : p);
	pair->next = free_pairs;
	free_pairs = pair;
}

static void unix_release(struct file *f)
{
	end_free(f->node->priv);
}

static const struct file_ops unix_ops = {
	.readv = unix_readv,
	.writev = unix_writev,
	.poll = unix_poll,
	.ioctl = unix_ioctl,
	.release = unix_release,
	.stream = 1,
};
