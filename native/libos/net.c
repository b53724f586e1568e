/*
 * BSD sockets over lwIP's raw API: IPv4 TCP and UDP (AF_INET; any other family is
 * EAFNOSUPPORT; raw IP sockets are EPERM, as Linux refuses them to a process without
 * CAP_NET_RAW, e.g. in a container that drops it: ping and Go's tests expect that).
 * 127.0.0.1 always works; without a network (no --net) it is the only address there is,
 * and a server on 0.0.0.0 or a connection out says so once (hint()).
 * socket(AF_UNIX), socketpair and every call on their ends are unix.c's (no network).
 *
 * A socket is a node with a struct sock (node->priv). lwIP runs only inside libOS calls on
 * whichever green thread is in the libOS, so its callbacks fill the sock (bytes received,
 * connections to accept, errors) and wake whoever waits on the node (vfs_changed: also
 * poll, select and epoll). A call that must wait sleeps in the scheduler on the node; the
 * scheduler's idle wait (lwip-port/tapif.c) is what brings frames in. Blocking calls hold
 * the file (file_hold) so a close from another thread cannot free the sock under them.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>

#include "vfs.h"
/* After the libOS's headers: from here on mem_free & co. are lwIP's (lwipopts.h). */
#include "lwip/ip4.h"
#include "lwip/ip4_addr.h"
#include "lwip/priv/tcp_priv.h" /* TCP_KEEP*_DEFAULT */
#include "lwip/tcp.h"
#include "lwip/udp.h"

extern int net_woke;

enum state {
	S_NEW,
	S_LISTEN,
	S_CONNECTING,
	S_CONNECTED,
	S_CLOSED /* reset, refused, timed out */
};

/* A UDP datagram waiting to be read. */
struct dgram {
	struct dgram *next;
	struct pbuf *p;
	uint32_t ip; /* sender, network order */
	uint16_t port; /* host order */
};

struct sock {
	struct node *node;
	struct sock *next; /* a listener's queue, or the free list */
	int type; /* SOCK_STREAM or SOCK_DGRAM */
	enum state state;
	struct tcp_pcb *tcp; /* 0 once lwIP freed it (reset, error) */
	struct udp_pcb *udp;
	int err; /* a pending error (positive errno): SO_ERROR, the next call */
	int shut_rd, shut_wr;
	struct pbuf *rx; /* TCP: received bytes not read yet */
	int rx_eof; /* TCP: the peer sent FIN */
	struct sock *queue; /* listener: connections accept() has not taken (oldest first) */
	struct dgram *dq, *dq_last; /* UDP: datagrams not read yet */
	size_t dq_bytes;
	struct sockaddr_in peer; /* TCP: kept for getpeername after the pcb is gone */
	int reuseaddr, keepalive, nodelay, broadcast, rcvbuf, sndbuf;
	struct linger linger;
	uint64_t rcvtimeo, sndtimeo; /* SO_RCVTIMEO, SO_SNDTIMEO in ns (0: none) */
};

static struct sock *free_socks;
static const struct file_ops sock_ops;
static void sock_free(struct sock *s);

static void wake(struct sock *s)
{
	net_woke = 1;
	vfs_changed(s->node);
}

/* A sock with its node (links 1, not in any folder), both reused after a close. */
static struct sock *sock_new(int type)
{
	struct sock *s = free_socks;
	struct node *node;
	if (s) {
		free_socks = s->next;
		node = s->node;
		node->links = 1;
	} else {
		s = arena_alloc(sizeof *s);
		node = vfs_new(0, "socket", 6, S_IFSOCK | 0777, &sock_ops);
	}
	memset(s, 0, sizeof *s);
	s->node = node;
	s->type = type;
	node->priv = s;
	return s;
}

static int take_err(struct sock *s)
{
	int e = s->err;
	s->err = 0;
	return e;
}

static int errno_of(err_t e)
{
	switch (e) {
	case ERR_OK: return 0;
	case ERR_MEM:
	case ERR_BUF: return ENOBUFS;
	case ERR_RTE: return ENETUNREACH;
	case ERR_USE: return EADDRINUSE;
	case ERR_ISCONN: return EISCONN;
	case ERR_CONN: return ENOTCONN;
	case ERR_RST: return ECONNRESET;
	case ERR_ABRT: return ECONNABORTED;
	case ERR_TIMEOUT: return ETIMEDOUT;
	case ERR_ALREADY: return EALREADY;
	default: return EINVAL;
	}
}

uint64_t sock_deadline(uint64_t ns)
{
	return ns ? time_now_ns(CLOCK_MONOTONIC) + ns : 0;
}

/* ---- lwIP's TCP callbacks ---- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct sock *s = arg;
	(void)err;
	if (!p) {
		s->rx_eof = 1;
	} else if (s->shut_rd) { /* read side shut: taken and dropped */
		tcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		return ERR_OK;
	} else if (s->rx) {
		pbuf_cat(s->rx, p); /* fits: unread bytes never exceed the window (< 64 KiB) */
	} else {
		s->rx = p;
	}
	wake(s);
	return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	wake(arg); /* room in the send buffer */
	return ERR_OK;
}

/* lwIP freed the pcb: reset by the peer, refused, or given up (retransmissions, keepalive). */
static void on_err(void *arg, err_t err)
{
	struct sock *s = arg;
	if (s->state == S_CONNECTING) s->err = err == ERR_RST ? ECONNREFUSED : ETIMEDOUT;
	else if (err != ERR_CLSD) s->err = err == ERR_RST ? ECONNRESET : (err == ERR_ABRT ? ETIMEDOUT : errno_of(err));
	/* ERR_CLSD: both sides closed cleanly and lwIP is done with the pcb: no error. */
	s->tcp = 0;
	s->state = S_CLOSED;
	wake(s);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sock *s = arg;
	(void)pcb;
	(void)err;
	s->state = S_CONNECTED;
	wake(s);
	return ERR_OK;
}

static void tcp_hook(struct sock *s)
{
	tcp_arg(s->tcp, s);
	tcp_recv(s->tcp, on_recv);
	tcp_sent(s->tcp, on_sent);
	tcp_err(s->tcp, on_err);
}

static void set_peer(struct sock *s, const ip_addr_t *ip, u16_t port)
{
	s->peer = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = ip_2_ip4(ip)->addr };
}

/* A connection the listener accepted: queued, with its callbacks set, until accept(). It
 * counts against the backlog until then (tcp_backlog_delayed): lwIP drops further SYNs. */
static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sock *l = arg;
	if (err != ERR_OK || !pcb || l->shut_rd) return ERR_VAL; /* lwIP aborts it */
	struct sock *s = sock_new(SOCK_STREAM);
	s->tcp = pcb;
	s->state = S_CONNECTED;
	s->nodelay = l->nodelay; /* inherited, as on Linux */
	s->keepalive = l->keepalive;
	s->rcvtimeo = l->rcvtimeo;
	s->sndtimeo = l->sndtimeo;
	if (s->nodelay) tcp_nagle_disable(pcb);
	set_peer(s, &pcb->remote_ip, pcb->remote_port);
	tcp_hook(s);
	tcp_backlog_delayed(pcb);
	struct sock **end = &l->queue;
	while (*end) end = &(*end)->next;
	*end = s;
	wake(l);
	return ERR_OK;
}

/* ---- lwIP's UDP callback ---- */

static void on_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
	struct sock *s = arg;
	(void)pcb;
	size_t limit = s->rcvbuf ? (size_t)s->rcvbuf : 256 * 1024;
	struct dgram *d = s->dq_bytes + p->tot_len > limit ? 0 : net_mem_malloc(sizeof *d);
	if (!d) { /* the queue is full: dropped, as Linux does */
		pbuf_free(p);
		return;
	}
	*d = (struct dgram){ 0, p, ip_2_ip4(addr)->addr, port };
	if (s->dq_last) s->dq_last->next = d;
	else s->dq = d;
	s->dq_last = d;
	s->dq_bytes += p->tot_len;
	wake(s);
}

/* ---- addresses ---- */

/* A sockaddr_in from the app; AF_UNSPEC only where *unspec may take it. */
static long addr_in(const void *addr, socklen_t len, ip4_addr_t *ip, u16_t *port, int *unspec)
{
	if (!addr || len < sizeof(sa_family_t)) return -EINVAL;
	sa_family_t family = ((const struct sockaddr *)addr)->sa_family;
	if (unspec) *unspec = family == AF_UNSPEC;
	if (family == AF_UNSPEC && unspec) return 0;
	if (len < sizeof(struct sockaddr_in)) return -EINVAL;
	if (family != AF_INET) return -EAFNOSUPPORT;
	const struct sockaddr_in *sin = addr;
	ip->addr = sin->sin_addr.s_addr;
	*port = ntohs(sin->sin_port);
	return 0;
}

static void addr_out(void *addr, socklen_t *len, uint32_t ip, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = ip };
	if (!addr || !len) return;
	memcpy(addr, &sin, *len < sizeof sin ? *len : sizeof sin);
	*len = sizeof sin;
}

/* Addresses a socket may bind: any, the unikernel's own, loopback. */
static int local_address(const ip4_addr_t *ip)
{
	return ip4_addr_isany(ip) || ip4_addr_isloopback(ip) || ip->addr == libos_boot->net_ip;
}

/* ---- the calls ---- */

static struct sock *sock_of(long fd, struct file **f, long *err)
{
	*f = fd_get(fd);
	if (!*f) {
		*err = -EBADF;
		return 0;
	}
	if ((*f)->node->ops != &sock_ops) {
		*err = -ENOTSOCK;
		return 0;
	}
	return (*f)->node->priv;
}
#define SOCK_OR_RETURN(s, f, fd) \
	long err_ = 0; \
	struct sock *s = sock_of((fd), &(f), &err_); \
	if (!s) return err_

/* "a.b.c.d:port" (port 0: none) at out, which has room for 22 bytes. */
static void format_addr(char *out, uint32_t ip, uint16_t port)
{
	const uint8_t *b = (const uint8_t *)&ip; /* network order */
	char *p = out;
	for (int i = 0; i < 4 + (port != 0); i++) {
		unsigned v = i < 4 ? b[i] : port;
		if (i) *p++ = i < 4 ? '.' : ':';
		char digits[5];
		int n = 0;
		do digits[n++] = (char)('0' + v % 10);
		while (v /= 10);
		while (n) *p++ = digits[--n];
	}
	*p = 0;
}

/* The tender gave no network (nabla-run --net), and the app did what only helps with one:
 * a server on any address, or a connection out. Apps rarely say why nobody reaches them,
 * so the first time the libOS does, on stderr. `what` holds one "%a" for the address. */
static void hint(const char *what, uint32_t ip, uint16_t port)
{
	static int told;
	if (net_up() || told++) return;
	char line[320], addr[24];
	format_addr(addr, ip, port);
	size_t n = 0;
	for (const char *w = what; *w && n < 200; w++) {
		if (w[0] == '%' && w[1] == 'a') {
			for (const char *a = addr; *a; a++) line[n++] = *a;
			w++;
		} else {
			line[n++] = *w;
		}
	}
	const char *fix = ". With a network, list the port in nabla.json \"ports\" (or say \"network\": \"container\") "
			  "and run with docker run --cap-add NET_ADMIN --device /dev/net/tun (README: Networking)";
	if (n + strlen(fix) >= sizeof line) return;
	memcpy(line + n, fix, strlen(fix) + 1);
	libos_warn(line);
}

static long sys_socket(int family, int type, int protocol)
{
	int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (family != AF_INET) return -EAFNOSUPPORT;
	if (type == SOCK_RAW) return -EPERM;
	if (type != SOCK_STREAM && type != SOCK_DGRAM) return -ESOCKTNOSUPPORT;
	if (protocol && protocol != (type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP)) return -EPROTONOSUPPORT;
	net_start();
	struct sock *s = sock_new(type);
	if (type == SOCK_STREAM) {
		s->tcp = tcp_new_ip_type(IPADDR_TYPE_V4);
		if (s->tcp) tcp_hook(s);
	} else {
		s->udp = udp_new_ip_type(IPADDR_TYPE_V4);
		if (s->udp) udp_recv(s->udp, on_udp, s);
	}
	if (!s->tcp && !s->udp) {
		sock_free(s);
		return -ENOBUFS;
	}
	return fd_open(s->node, O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0) | (flags & SOCK_CLOEXEC ? O_CLOEXEC : 0));
}

static long sys_bind(long fd, const void *addr, socklen_t len)
{
	struct file *f;
	SOCK_OR_RETURN(s, f, fd);
	ip4_addr_t ip;
	u16_t port;
	long r = addr_in(addr, len, &ip, &port, 0);
	if (r < 0) return r;
	if (!local_address(&ip)) {
		hint("no network: %a is not an address of this unikernel (EADDRNOTAVAIL), only 127.0.0.1 is", ip.addr, 0);
		return -EADDRNOTAVAIL;
	}
	if (s->type == SOCK_DGRAM && port && ip4_addr_isany(&ip))
		hint("no network: a server on %a/udp is reachable only from inside this unikernel (127.0.0.1)", ip.addr, port);
	ip_addr_t a = IPADDR4_INIT(ip.addr);
	err_t e;
	if (s->type == SOCK_STREAM) {
		if (s->state != S_NEW || !s->tcp || s->tcp->local_port) return -EINVAL;
		e = tcp_bind(s->tcp, &a, port);
	} else {
		if (s->udp->local_port) return -EINVAL;
		e = udp_bind(s->udp, &a, port);
	}
	return -errno_of(e);
}

static long sys_listen(long fd, int backlog)
{
	struct file *f;
	SOCK_OR_RETURN(s, f, fd);
	if (s->type != SOCK_STREAM) return -EOPNOTSUPP;
	u8_t b = backlog < 1 ? 1 : (backlog > 255 ? 255 : (u8_t)backlog); /* lwIP counts in a byte */
	if (s->state == S_LISTEN) {
		tcp_backlog_set(s->tcp, b);
		return 0;
	}
	if (s->state != S_NEW || !s->tcp) return -EINVAL;
	if (!s->tcp->local_port && tcp_bind(s->tcp, IP4_ADDR_ANY, 0) != ERR_OK) return -EADDRINUSE;
	err_t e;
	struct tcp_pcb *l = tcp_listen_with_backlog_and_err(s->tcp, b, &e); /* frees the old pcb */
	if (!l) return -errno_of(e);
	s->tcp = l;
	s->state = S_LISTEN;
	tcp_arg(l, s);
	tcp_accept(l, on_accept);
	if (ip_addr_isany(&l->local_ip))
		hint("no network: a server on %a is reachable only from inside this unikernel (127.0.0.1)", 0, l->local_port);
	return 0;
}

static long sys_accept4(long fd, void *addr, socklen_t *len, int flags)
{
	struct file *f;
	SOCK_OR_RETURN(s, f, fd);
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return -EINVAL;
	if (s->state != S_LISTEN) return -EINVAL;
	file_hold(f);
	uint64_t deadline = sock_deadline(s->rcvtimeo);
	long r = 0;
	while (!s->queue) {
		int woken = 1;
		if (s->shut_rd) r = -EINVAL;
		else if (f->flags & O_NONBLOCK) r = -EAGAIN;
		else if ((woken = sched_wait(s->node, deadline)) < 0) r = woken; /* a signal */
		else if (!woken && deadline) r = -EAGAIN;
		if (r) break;
	}
	if (!r) {
		struct sock *c = s->queue;
		s->queue = c->next;
		c->next = 0;
		if (c->tcp) tcp_backlog_accepted(c->tcp);
		addr_out(addr, len, c->peer.sin_addr.s_addr, ntohs(c->peer.sin_port));
		r = fd_open(c->node, O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0) | (flags & SOCK_CLOEXEC ? O_CLOEXEC : 0));
	}
	file_put(f);
	return r;
}

static long tcp_connect_(struct sock *s, struct file *f, const ip4_addr_t *ip, u16_t port)
{
	switch (s->state) {
	case S_CONNECTING: return -EALREADY;
	case S_CONNECTED: return -EISCONN;
	case S_LISTEN: return -EISCONN;
	case S_CLOSED: return s->err ? -take_err(s) : -EISCONN;
	case S_NEW: break;
	}
	ip_addr_t a = IPADDR4_INIT(ip4_addr_isany(ip) ? PP_HTONL(INADDR_LOOPBACK) : ip->addr);
	err_t e = tcp_connect(s->tcp, &a, port, on_connected);
	if (e == ERR_RTE) hint("no network: %a is unreachable (ENETUNREACH), only 127.0.0.1 is", ip_2_ip4(&a)->addr, port);
	if (e != ERR_OK) return -errno_of(e);
	s->state = S_CONNECTING;
	set_peer(s, &a, port);
	if (f->flags & O_NONBLOCK) return -EINPROGRESS;
	uint64_t deadline = sock_deadline(s->sndtimeo);
	while (s->state == S_CONNECTING) {
		int woken = sched_wait(s->node, deadline);
		if (woken < 0) return woken; /* a signal: the connection goes on, as on Linux */
		if (!woken && deadline) return -EINPROGRESS;
	}
	return s->state == S_CONNECTED ? 0 : -take_err(s);
}

static long sys_connect(long fd, const void *addr, socklen_t len)
{
	struct file *f;
	SOCK_OR_RETURN(s, f, fd);
	ip4_addr_t ip;
	u16_t port;
	int unspec;
	long r = addr_in(addr, len, &ip, &port, s->type == SOCK_DGRAM ? &unspec : 0);
	if (r < 0) return r;
	if (s->type == SOCK_DGRAM) {
		if (unspec) {
			udp_disconnect(s->udp);
			s->state = S_NEW;
			return 0;
		}
		ip_addr_t a = IPADDR4_INIT(ip4_addr_isany(&ip) ? PP_HTONL(INADDR_LOOPBACK) : ip.addr);
		if (!ip4_route(ip_2_ip4(&a))) { /* as Linux, and what musl's AI_ADDRCONFIG asks */
			hint("no network: %a/udp is unreachable (ENETUNREACH), only 127.0.0.1 is", ip_2_ip4(&a)->addr, port);
			return -ENETUNREACH;
		}
		err_t e = udp_connect(s->udp, &a, port);
		if (e == ERR_OK) s->state = S_CONNECTED;
		return -errno_of(e);
	}
	file_hold(f);
	r = tcp_connect_(s, f, &ip, port);
	file_put(f);
	return r;
}

static long sys_getname(long fd, void *addr, socklen_t *len, int peer)
{
	struct file *f;
	SOCK_OR_RETURN(s, f, fd);
	if (!len || (int)*len < 0) return -EINVAL;
	if (peer) {
		if (s->type == SOCK_DGRAM) {
			if (s->state != S_CONNECTED) return -ENOTCONN;
			addr_out(addr, len, ip_2_ip4(&s->udp->remote_ip)->addr, s->udp->remote_port);
		} else {
			if (s->state != S_CONNECTED && !(s->state == S_CLOSED && s->peer.sin_family)) return -ENOTCONN;
			addr_out(addr, len, s->peer.sin_addr.s_addr, ntohs(s->peer.sin_port));
		}
		return 0;
	}
	if (s->type == SOCK_DGRAM) addr_out(addr, len, ip_2_ip4(&s->udp->local_ip)->addr, s->udp->local_port);
	else if (s->tcp) addr_out(addr, len, ip_2_ip4(&s->tcp->local_ip)->addr, s->tcp->local_port);
	else addr_out(addr, len, 0, 0);
	return 0;
}

/* Copies up to len bytes from the start of chain p into the iovecs, filling them from
 * byte pos of their total on; returns how many. */
static size_t copy_out(struct pbuf *p, size_t len, const struct iovec *iov, int count, size_t pos)
{
	size_t done = 0;
	for (int i = 0; i < count && done < len; i++) {
		if (pos >= iov[i].iov_len) {
			pos -= iov[i].iov_len;
			continue;
		}
		size_t n = iov[i].iov_len - pos < len - done ? iov[i].iov_len - pos : len - done;
		pbuf_copy_partial(p, (char *)iov[i].iov_base + pos, (u16_t)n, (u16_t)done);
		done += n;
		pos = 0;
	}
	return done;
}

static size_t iov_total(const struct iovec *iov, int count)
{
	size_t total = 0;
	for (int i = 0; i < count; i++) total += iov[i].iov_len;
	return total;
}

static long tcp_recv_(struct sock *s, const struct iovec *iov, int count, int flags, int nonblock)
{
	size_t want = iov_total(iov, count), got = 0;
	if (want == 0) return 0;
	uint64_t deadline = sock_deadline(s->rcvtimeo);
	for (;;) {
		if (s->rx) {
			size_t n = copy_out(s->rx, want - got < s->rx->tot_len ? want - got : s->rx->tot_len, iov, count, got);
			if (flags & MSG_PEEK) return (long)n;
			s->rx = pbuf_free_header(s->rx, (u16_t)n);
			/* The window opens as the app reads (at once: lwIP's close answers with RST
			 * while any received byte is unread). */
			if (s->tcp) tcp_recved(s->tcp, (u16_t)n);
			got += n;
			if (got == want || !(flags & MSG_WAITALL)) return (long)got;
			continue;
		}
		if (got && !(flags & MSG_WAITALL)) return (long)got;
		if (s->rx_eof || s->shut_rd) return (long)got;
		if (s->err) return got ? (long)got : -take_err(s);
		if (s->state == S_CLOSED) return (long)got;
		if (s->state == S_NEW || s->state == S_LISTEN) return -ENOTCONN;
		if (nonblock || flags & MSG_DONTWAIT) return got ? (long)got : -EAGAIN;
		int woken = sched_wait(s->node, deadline);
		if (woken < 0) return got ? (long)got : woken; /* a signal */
		if (!woken && deadline) return got ? (long)got : -EAGAIN;
	}
}

/* Room for more in the send buffer (and in lwIP's segment queue). */
static size_t tcp_room(struct tcp_pcb *pcb)
{
	return tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 1 ? 0 : tcp_sndbuf(pcb);
}

static long tcp_send_(struct sock *s, const struct iovec *iov, int count, int flags, int nonblock)
{
	size_t total = iov_total(iov, count), done = 0;
	uint64_t deadline = sock_deadline(s->sndtimeo);
	int i = 0;
	size_t off = 0; /* into iov[i] */
	while (done < total) {
		long r = 0;
		if (s->err) r = -take_err(s);
		else if (s->shut_wr || s->state == S_CLOSED) r = -EPIPE; /* no SIGPIPE, as with MSG_NOSIGNAL */
		else if (s->state != S_CONNECTED) r = s->state == S_CONNECTING ? -EAGAIN : -ENOTCONN;
		if (r) return done ? (long)done : r;
		size_t room = tcp_room(s->tcp);
		while (i < count && off == iov[i].iov_len) i++, off = 0;
		size_t n = iov[i].iov_len - off < room ? iov[i].iov_len - off : room;
		if (n > 0xffff) n = 0xffff;
		u8_t more = done + n < total || flags & MSG_MORE ? TCP_WRITE_FLAG_MORE : 0;
		err_t e = n ? tcp_write(s->tcp, (const char *)iov[i].iov_base + off, (u16_t)n, TCP_WRITE_FLAG_COPY | more) : ERR_MEM;
		if (e != ERR_OK && e != ERR_MEM) return done ? (long)done : -EPIPE;
		if (e == ERR_MEM) {
			/* Full: send what is queued and wait for an ACK to make room. With room but
			 * lwIP out of memory, no ACK may come: look again in 10 ms. */
			tcp_output(s->tcp);
			if (nonblock || flags & MSG_DONTWAIT) return done ? (long)done : -EAGAIN;
			uint64_t until = deadline;
			if (n) {
				uint64_t soon = time_now_ns(CLOCK_MONOTONIC) + 10000000u;
				if (!until || soon < until) until = soon;
			}
			int woken = sched_wait(s->node, until);
			if (woken < 0) return done ? (long)done : woken; /* a signal */
			if (!woken && deadline && time_now_ns(CLOCK_MONOTONIC) >= deadline) return done ? (long)done : -EAGAIN;
			continue;
		}
		off += n;
		done += n;
	}
	if (s->tcp && !(flags & MSG_MORE)) tcp_output(s->tcp);
	return (long)done;
}

static long udp_recv_(struct sock *s, const struct iovec *iov, int count, int flags, int nonblock, void *addr,
		      socklen_t *addrlen, int *msg_flags)
{
	uint64_t deadline = sock_deadline(s->rcvtimeo);
	while (!s->dq) {
		if (s->err) return -take_err(s);
		if (s->shut_rd) return 0;
		if (nonblock || flags & MSG_DONTWAIT) return -EAGAIN;
		int woken = sched_wait(s->node, deadline);
		if (woken < 0) return woken; /* a signal */
		if (!woken && deadline) return -EAGAIN;
	}
	struct dgram *d = s->dq;
	size_t size = d->p->tot_len, n = copy_out(d->p, size, iov, count, 0);
	addr_out(addr, addrlen, d->ip, d->port);
	if (msg_flags && n < size) *msg_flags |= MSG_TRUNC;
	if (!(flags & MSG_PEEK)) {
		s->dq = d->next;
		if (!s->dq) s->dq_last = 0;
		s->dq_bytes -= size;
		pbuf_free(d->p);
		net_mem_free(d);
	}
	return (long)(flags & MSG_TRUNC ? size : n);
}

/* A datagram to a local port no socket has bound: Linux answers with ICMP port
 * unreachable, which a connected socket's next call reads as ECONNREFUSED (a resolver
 * asking 127.0.0.1:53 with no server there gives up at once). lwIP sends the ICMP but
 * tells no socket: this is its part. */
static int nobody_bound(const ip_addr_t *ip, u16_t port)
{
	if (!ip4_addr_isloopback(ip_2_ip4(ip)) && ip_2_ip4(ip)->addr != libos_boot->net_ip) return 0;
	for (struct udp_pcb *pcb = udp_pcbs; pcb; pcb = pcb->next)
		if (pcb->local_port == port && (ip_addr_isany(&pcb->local_ip) || ip_addr_cmp(&pcb->local_ip, ip))) return 0;
	return 1;
}

static long udp_send_(struct sock *s, const struct iovec *iov, int count, const void *addr, socklen_t addrlen)
{
	ip4_addr_t ip = { 0 };
	u16_t port = 0;
	if (s->shut_wr) return -EPIPE;
	if (addr) {
		long r = addr_in(addr, addrlen, &ip, &port, 0);
		if (r < 0) return r;
	} else if (s->state != S_CONNECTED) {
		return -EDESTADDRREQ;
	}
	size_t total = iov_total(iov, count);
	if (total > 65507) return -EMSGSIZE; /* the most an IPv4 datagram carries */
	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)total, PBUF_RAM);
	if (!p) return -ENOBUFS;
	size_t off = 0;
	for (int i = 0; i < count; i++) {
		if (iov[i].iov_len) pbuf_take_at(p, iov[i].iov_base, (u16_t)iov[i].iov_len, (u16_t)off);
		off += iov[i].iov_len;
	}
	err_t e;
	ip4_addr_t to = addr ? ip : *ip_2_ip4(&s->udp->remote_ip);
	if (dns_relay_takes(to.addr, addr ? port : s->udp->remote_port)) {
		dns_relay_send(s->udp, p);
		e = ERR_OK;
	} else if (addr) {
		ip_addr_t a = IPADDR4_INIT(ip4_addr_isany(&ip) ? PP_HTONL(INADDR_LOOPBACK) : ip.addr);
		e = udp_sendto(s->udp, p, &a, port);
		if (e == ERR_RTE) hint("no network: %a/udp is unreachable (ENETUNREACH), only 127.0.0.1 is", ip_2_ip4(&a)->addr, port);
	} else {
		e = udp_send(s->udp, p);
		if (e == ERR_OK && nobody_bound(&s->udp->remote_ip, s->udp->remote_port)) {
			s->err = ECONNREFUSED;
			wake(s);
		}
	}
	pbuf_free(p);
	return e == ERR_OK ? (long)total : -errno_of(e);
}

/* Every read, write, send and receive comes here. */
static long transfer(struct file *f, struct sock *s, const struct iovec *iov, int count, int flags, int write,
		     const void *addr, socklen_t addrlen, void *from, socklen_t *fromlen, int *msg_flags)
{
	if (count < 0 || count > 1024) return -EMSGSIZE;
	if (iov_total(iov, count) > 0x7fffffffu) return -EINVAL;
	if (flags & MSG_OOB) return -EOPNOTSUPP;
	int nonblock = f->flags & O_NONBLOCK;
	file_hold(f);
	long r;
	if (s->type == SOCK_DGRAM) r = write ? udp_send_(s, iov, count, addr, addrlen) : udp_recv_(s, iov, count, flags, nonblock, from, fromlen, msg_flags);
	else r = write ? tcp_send_(s, iov, count, flags, nonblock) : tcp_recv_(s, iov, count, flags, nonblock);
	if (!write && s->type == SOCK_STREAM && r >= 0 && fromlen) *fromlen = 0; /* TCP: no sender address */
	file_put(f);
	return r;
}

static long sock_readv(struct file *f, const struct iovec *iov, int count)
{
	return transfer(f, f->node->priv, iov, count, 0, 0, 0, 0, 0, 0, 0);
}

static long sock_writev(struct file *f, const struct iovec *iov, int count)
{
	return transfer(f, f->node->priv, iov, count, 0, 1, 0, 0, 0, 0, 0);
}

static long sys_sendto(long fd, const void *buf, size_t len, int flags, const void *addr, socklen_t addrlen)
{
	struct file *f;
	SOCK_OR_RETURN(s, f, fd);
	struct iovec iov = { (void *)buf, len };
	if (s->type == SOCK_STREAM) addr = 0; /* ignored on a connection, as on Linux */
	return transfer(f, s, &iov, 1, flags, 1, addr, addrlen, 0, 0, 0);
}

static long sys_recvfrom(long fd, void *buf, size_t len, int flags, void *addr, socklen_t *addrlen)
{
	struct file *f;
	SOCK_OR_RETURN(s, f, fd);
	struct iovec iov = { buf, len };
	return transfer(f, s, &iov, 1, flags, 0, 0, 0, addr, addrlen, 0);
}

static long sys_sendmsg(long fd, const struct msghdr *m, int flags)
{
	struct file *f;
	SOCK_OR_RETURN(s, f, fd);
	const void *addr = s->type == SOCK_DGRAM && m->msg_namelen ? m->msg_name : 0;
	return transfer(f, s, m->msg_iov, (int)m->msg_iovlen, flags, 1, addr, m->msg_namelen, 0, 0, 0);
}

static long sys_recvmsg(long fd, struct msghdr *m, int flags)
{
	struct file *f;
	SOCK_OR_RETURN(s, f, fd);
	m->msg_flags = 0;
	m->msg_controllen = 0; /* no ancillary data */
	socklen_t *fromlen = m->msg_name ? &m->msg_namelen : 0;
	return transfer(f, s, m->msg_iov, (int)m->msg_iovlen, flags, 0, 0, 0, m->msg_name, fromlen, &m->msg_flags);
}

static long sys_shutdown(long fd, int how)
{
	struct file *f;
	SOCK_OR_RETURN(s, f, fd);
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return -EINVAL;
	if (s->state == S_LISTEN && how != SHUT_WR) { /* wakes accept(): EINVAL */
		s->shut_rd = 1;
		wake(s);
		return 0;
	}
	if (s->state != S_CONNECTED) return -ENOTCONN;
	if (how != SHUT_WR) {
		s->shut_rd = 1;
		if (s->rx) {
			if (s->tcp) tcp_recved(s->tcp, s->rx->tot_len);
			pbuf_free(s->rx);
			s->rx = 0;
		}
	}
	if (how != SHUT_RD && !s->shut_wr) {
		s->shut_wr = 1;
		if (s->tcp) tcp_shutdown(s->tcp, 0, 1); /* sends FIN */
	}
	wake(s);
	return 0;
}

/* ---- options ---- */

static long opt_int(const void *val, socklen_t len, int *out)
{
	if (len < sizeof(int)) return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

long sockopt_set_timeout(const void *val, socklen_t len, uint64_t *ns)
{
	struct timeval tv;
	if (len < sizeof tv) return -EINVAL;
	memcpy(&tv, val, sizeof tv);
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return -EDOM;
	*ns = tv.tv_sec < 0 ? 0 : (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
	return 0;
}

static void pcb_option(struct sock *s, u8_t option, int on)
{
	if (s->tcp && on) ip_set_option(s->tcp, option);
	if (s->tcp && !on) ip_reset_option(s->tcp, option);
	if (s->udp && on) ip_set_option(s->udp, option);
	if (s->udp && !on) ip_reset_option(s->udp, option);
}

static long sys_setsockopt(long fd, int level, int name, const void *val, socklen_t len)
{
	struct file *f;
	SOCK_OR_RETURN(s, f, fd);
	int v = 0;
	long r;
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO))
		return sockopt_set_timeout(val, len, name == SO_RCVTIMEO ? &s->rcvtimeo : &s->sndtimeo);
	if (level == SOL_SOCKET && name == SO_LINGER) {
		if (len < sizeof s->linger) return -EINVAL;
		memcpy(&s->linger, val, sizeof s->linger); /* a zero time resets at close; close never waits */
		return 0;
	}
	if ((r = opt_int(val, len, &v)) < 0) return r;
	switch (level) {
	case SOL_SOCKET:
		switch (name) {
		case SO_REUSEADDR:
			s->reuseaddr = !!v;
			pcb_option(s, SOF_REUSEADDR, v);
			return 0;
		case SO_KEEPALIVE:
			s->keepalive = !!v;
			pcb_option(s, SOF_KEEPALIVE, v);
			return 0;
		case SO_BROADCAST: s->broadcast = !!v; return 0;
		case SO_RCVBUF: s->rcvbuf = v < 2048 ? 2048 : v; return 0;
		case SO_SNDBUF: s->sndbuf = v < 2048 ? 2048 : v; return 0;
		case SO_REUSEPORT: /* accepted: one process, nothing to share a port with */
		case SO_OOBINLINE:
		case SO_PRIORITY:
		case SO_RCVLOWAT:
		case SO_SNDLOWAT: return 0;
		}
		break;
	case IPPROTO_TCP:
		if (s->type != SOCK_STREAM) return -EOPNOTSUPP;
		switch (name) {
		case TCP_NODELAY:
			s->nodelay = !!v;
			if (s->tcp && s->state != S_LISTEN) {
				if (v) tcp_nagle_disable(s->tcp);
				else tcp_nagle_enable(s->tcp);
			}
			return 0;
		case TCP_KEEPIDLE:
		case TCP_KEEPINTVL:
			if (v < 1 || v > 32767) return -EINVAL;
			if (s->tcp && s->state != S_LISTEN) {
				if (name == TCP_KEEPIDLE) s->tcp->keep_idle = (u32_t)v * 1000;
				else s->tcp->keep_intvl = (u32_t)v * 1000;
			}
			return 0;
		case TCP_KEEPCNT:
			if (v < 1 || v > 127) return -EINVAL;
			if (s->tcp && s->state != S_LISTEN) s->tcp->keep_cnt = (u32_t)v;
			return 0;
		case TCP_QUICKACK:
		case TCP_CORK:
		case TCP_DEFER_ACCEPT:
		case TCP_USER_TIMEOUT:
		case TCP_LINGER2: return 0;
		}
		break;
	case IPPROTO_IP:
		switch (name) {
		case IP_TOS:
		case IP_RECVERR: return 0;
		case IP_TTL:
			if (v < 1 || v > 255) return -EINVAL;
			if (s->tcp) s->tcp->ttl = (u8_t)v;
			if (s->udp) s->udp->ttl = (u8_t)v;
			return 0;
		}
		break;
	}
	return -ENOPROTOOPT;
}

static long sys_getsockopt(long fd, int level, int name, void *val, socklen_t *len)
{
	struct file *f;
	SOCK_OR_RETURN(s, f, fd);
	if (!len || (int)*len < 0) return -EINVAL;
	int v;
	switch (level == SOL_SOCKET ? name : (level == IPPROTO_TCP ? 1000 + name : -1)) {
	case SO_TYPE: v = s->type; break;
	case SO_DOMAIN: v = AF_INET; break;
	case SO_PROTOCOL: v = s->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP; break;
	case SO_ERROR: v = take_err(s); break;
	case SO_ACCEPTCONN: v = s->state == S_LISTEN; break;
	case SO_REUSEADDR: v = s->reuseaddr; break;
	case SO_REUSEPORT: v = 0; break;
	case SO_KEEPALIVE: v = s->keepalive; break;
	case SO_BROADCAST: v = s->broadcast; break;
	case SO_RCVBUF: v = s->rcvbuf ? s->rcvbuf : (s->type == SOCK_STREAM ? TCP_WND : 256 * 1024); break;
	case SO_SNDBUF: v = s->sndbuf ? s->sndbuf : (s->type == SOCK_STREAM ? TCP_SND_BUF : 65507); break;
	case SO_LINGER: {
		socklen_t n = *len < sizeof s->linger ? *len : sizeof s->linger;
		memcpy(val, &s->linger, n);
		*len = n;
		return 0;
	}
	case SO_RCVTIMEO:
	case SO_SNDTIMEO: {
		struct timeval tv = time_timeval(name == SO_RCVTIMEO ? s->rcvtimeo : s->sndtimeo);
		socklen_t n = *len < sizeof tv ? *len : sizeof tv;
		memcpy(val, &tv, n);
		*len = n;
		return 0;
	}
	case 1000 + TCP_NODELAY: v = s->nodelay; break;
	case 1000 + TCP_MAXSEG: v = s->tcp && s->state == S_CONNECTED ? tcp_mss(s->tcp) : TCP_MSS; break;
	case 1000 + TCP_KEEPIDLE: v = s->tcp && s->state != S_LISTEN ? (int)(s->tcp->keep_idle / 1000) : (int)(TCP_KEEPIDLE_DEFAULT / 1000); break;
	case 1000 + TCP_KEEPINTVL: v = s->tcp && s->state != S_LISTEN ? (int)(s->tcp->keep_intvl / 1000) : (int)(TCP_KEEPINTVL_DEFAULT / 1000); break;
	case 1000 + TCP_KEEPCNT: v = s->tcp && s->state != S_LISTEN ? (int)s->tcp->keep_cnt : (int)TCP_KEEPCNT_DEFAULT; break;
	default:
		if (level == IPPROTO_TCP && s->type != SOCK_STREAM) return -EOPNOTSUPP;
		return -ENOPROTOOPT;
	}
	socklen_t n = *len < sizeof v ? *len : sizeof v;
	memcpy(val, &v, n);
	*len = n;
	return 0;
}

/* ---- the socket's file ---- */

static short sock_poll(struct file *f)
{
	struct sock *s = f->node->priv;
	short ev = s->err ? POLLERR : 0;
	if (s->type == SOCK_DGRAM) return (short)(ev | POLLOUT | POLLWRNORM | (s->dq || s->shut_rd ? POLLIN | POLLRDNORM : 0));
	switch (s->state) {
	case S_NEW: return (short)(ev | POLLOUT | POLLHUP);
	case S_LISTEN: return (short)(ev | (s->queue || s->shut_rd ? POLLIN | POLLRDNORM : 0));
	case S_CONNECTING: return ev;
	case S_CLOSED: return (short)(ev | POLLIN | POLLRDNORM | POLLOUT | POLLHUP | (s->rx_eof ? POLLRDHUP : 0));
	case S_CONNECTED: break;
	}
	if (s->rx || s->rx_eof || s->shut_rd) ev |= POLLIN | POLLRDNORM;
	if (s->rx_eof) ev |= POLLRDHUP;
	if (s->rx_eof && s->shut_wr) ev |= POLLHUP;
	/* Writable once half the buffer is free again: a writer that met EAGAIN is not woken
	 * for every few bytes acknowledged. */
	if (!s->shut_wr && tcp_sndbuf(s->tcp) > TCP_SNDLOWAT && tcp_sndqueuelen(s->tcp) < TCP_SNDQUEUELOWAT)
		ev |= POLLOUT | POLLWRNORM;
	return ev;
}

static long unread(struct sock *s)
{
	if (s->type == SOCK_DGRAM) return s->dq ? s->dq->p->tot_len : 0;
	return s->rx ? s->rx->tot_len : 0;
}

static long sock_ioctl(struct file *f, unsigned long request, long arg)
{
	if (request != FIONREAD) return -ENOTTY;
	*(int *)arg = (int)unread(f->node->priv);
	return 0;
}

/* Its file is gone (or it never had one): close the connection the way Linux does on
 * close(); the sock and its node are kept for the next socket. */
static void sock_free(struct sock *s)
{
	if (s->rx) pbuf_free(s->rx); /* first: under memory pressure, room for the RST below */
	s->rx = 0;
	if (s->type == SOCK_DGRAM) {
		udp_remove(s->udp);
		while (s->dq) {
			struct dgram *d = s->dq;
			s->dq = d->next;
			pbuf_free(d->p);
			net_mem_free(d);
		}
	} else if (s->state == S_LISTEN) {
		while (s->queue) { /* connections nobody accepted: reset, as on Linux */
			struct sock *c = s->queue;
			s->queue = c->next;
			if (c->tcp) {
				tcp_err(c->tcp, 0);
				tcp_abort(c->tcp);
				c->tcp = 0;
			}
			sock_free(c);
		}
		tcp_close(s->tcp); /* a listener's close cannot fail */
	} else if (s->tcp) {
		/* Unread bytes make lwIP answer with RST, as Linux does, and so does SO_LINGER
		 * with a zero time (an abortive close); else a FIN. lwIP keeps the pcb through
		 * FIN_WAIT and TIME_WAIT on its own, without us. */
		tcp_arg(s->tcp, 0);
		tcp_recv(s->tcp, 0);
		tcp_sent(s->tcp, 0);
		tcp_err(s->tcp, 0);
		if ((s->linger.l_onoff && s->linger.l_linger == 0) || tcp_close(s->tcp) != ERR_OK) tcp_abort(s->tcp);
	}
	s->tcp = 0;
	s->udp = 0;
	s->next = free_socks;
	free_socks = s;
}

static void sock_release(struct file *f)
{
	sock_free(f->node->priv);
}

static const struct file_ops sock_ops = {
	.readv = sock_readv,
	.writev = sock_writev,
	.poll = sock_poll,
	.ioctl = sock_ioctl,
	.release = sock_release,
	.stream = 1,
};

long net_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6, int *handled)
{
	*handled = 1;
	switch (n) {
	case SYS_socket: return sys_socket((int)a1, (int)a2, (int)a3);
	case SYS_bind: return sys_bind(a1, (const void *)a2, (socklen_t)a3);
	case SYS_listen: return sys_listen(a1, (int)a2);
	case SYS_accept: return sys_accept4(a1, (void *)a2, (socklen_t *)a3, 0);
	case SYS_accept4: return sys_accept4(a1, (void *)a2, (socklen_t *)a3, (int)a4);
	case SYS_connect: return sys_connect(a1, (const void *)a2, (socklen_t)a3);
	case SYS_getsockname: return sys_getname(a1, (void *)a2, (socklen_t *)a3, 0);
	case SYS_getpeername: return sys_getname(a1, (void *)a2, (socklen_t *)a3, 1);
	case SYS_sendto: return sys_sendto(a1, (const void *)a2, (size_t)a3, (int)a4, (const void *)a5, (socklen_t)a6);
	case SYS_recvfrom: return sys_recvfrom(a1, (void *)a2, (size_t)a3, (int)a4, (void *)a5, (socklen_t *)a6);
	case SYS_sendmsg: return sys_sendmsg(a1, (const struct msghdr *)a2, (int)a3);
	case SYS_recvmsg: return sys_recvmsg(a1, (struct msghdr *)a2, (int)a3);
	case SYS_shutdown: return sys_shutdown(a1, (int)a2);
	case SYS_setsockopt: return sys_setsockopt(a1, (int)a2, (int)a3, (const void *)a4, (socklen_t)a5);
	case SYS_getsockopt: return sys_getsockopt(a1, (int)a2, (int)a3, (void *)a4, (socklen_t *)a5);
	default: *handled = 0; return -ENOSYS;
	}
}
