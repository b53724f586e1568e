/*
 * AF_UNIX sockets, all inside the one process: socketpair, and socket() with names. A
 * name is a path, made in the tree as a socket file (stat: S_IFSOCK; it stays after the
 * socket closes, as on Linux, until unlinked), or an abstract name (sun_path[0] == 0, no
 * file; autobind gives "\0" and five hex digits). The namespace is this file's: a path's
 * node points to the socket bound there, abstract names are a list.
 *
 * Each socket reads its own 64 KiB ring (pipe.c, taken at its first message), which its
 * senders write: records of a header, the sender's name (datagrams, seqpackets), the files
 * passed with it (SCM_RIGHTS, as pointers the ring holds a reference to) and the bytes.
 * A stream read runs over records as one byte stream and stops after one that passed
 * files, as Linux's does; a datagram or seqpacket read takes one record whole and drops
 * what did not fit. As on Linux, closing or shutting down a stream or seqpacket end ends
 * the other's input (reads 0) and output (EPIPE, no SIGPIPE, as with MSG_NOSIGNAL); a
 * datagram socket outlives a peer that closes, and its next send to it is refused.
 *
 * connect to a listening socket makes the server's end at once (connected from then on,
 * as on Linux) and queues it until accept, up to the backlog: then a blocking connect
 * waits and a non-blocking one is EAGAIN. Blocking calls wait in the scheduler on a
 * socket's node, holding its file (file_hold) and the socket they wait for; every change
 * wakes that node and poll, select, epoll (vfs_changed). Sockets are counted (refs: the
 * open file, each peer and listener pointing at it, a blocked call) and reused once free.
 *
 * Files in flight are capped (INFLIGHT_MAX, ETOOMANYREFS past it, as Linux's limit on
 * them); a record's files are closed when it is dropped unread. Sockets whose files are
 * held only by rings no one can read any more (a socket sent into its own ring, a loop of
 * them, then closed) are collected, as by Linux's unix_gc, when a send finds the cap
 * reached or no memory for a ring.
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
#define SCM_MAX_FD 253 /* files in one message, as Linux */
#define INFLIGHT_MAX 4096 /* files held by all rings together */
#define SOMAXCONN_ 4096 /* Linux's cap on a backlog */
#define NAME_MAX_ (sizeof(struct sockaddr_un) + 1) /* a path of 108 bytes and its NUL */
#define UNNAMED offsetof(struct sockaddr_un, sun_path) /* an unnamed socket's name: the family */

/* One message in a ring, then its sender's name, files and bytes. */
struct rec {
	uint32_t len; /* bytes */
	uint16_t namelen;
	uint16_t nfds;
};
#define REC sizeof(struct rec)

enum {
	U_NEW,
	U_LISTEN,
	U_CONNECTED
};

struct usock {
	struct node *node;
	struct usock *peer; /* connected to (a datagram socket's default destination), held */
	struct ring rx; /* what others sent it (buf 0 until the first message) */
	size_t records, bytes; /* messages in rx, and their bytes */
	int type, state;
	int open; /* 0 once its file is gone */
	int refs;
	int shut; /* SHUT_IN | SHUT_OUT: its own, and (stream, seqpacket) its peer's mirrored */
	int err; /* ECONNRESET: the peer closed with bytes unread (SO_ERROR, the next read) */
	int passcred; /* SO_PASSCRED */
	uint64_t rcvtimeo, sndtimeo; /* SO_RCVTIMEO, SO_SNDTIMEO in ns (0: none) */
	unsigned char name[NAME_MAX_]; /* getsockname's (an accepted end has its listener's) */
	socklen_t namelen; /* 0: unnamed */
	struct node *file_name; /* bound to a path: its socket file (held) */
	int abstract; /* bound to an abstract name: in abstract_names */
	struct usock *next_name; /* abstract_names */
	struct usock *queue; /* a listener's connections not accepted yet, oldest first */
	int queued, backlog;
	struct usock *listener; /* a connection in a listener's queue: that listener */
	struct usock *next; /* in that queue; on the free list */
	struct file *file; /* its open file (0: none yet, or closed) */
	int in_rings; /* references to that file the rings hold */
	int gc, gc_refs; /* collect()'s marks */
	struct usock *next_made; /* every socket ever made, free or not */
};

static struct usock *free_socks, *abstract_names, *made;
static const struct file_ops unix_ops, name_ops;
static int inflight; /* files the rings hold */

static struct usock *usock_new(int type)
{
	struct usock *s = free_socks;
	struct node *node;
	if (s) {
		free_socks = s->next;
		node = s->node;
	} else {
		s = arena_alloc(sizeof *s);
		node = vfs_new(0, "socket", 6, S_IFSOCK | 0777, &unix_ops);
		s->next_made = made;
		made = s;
	}
	*s = (struct usock){ .node = node, .type = type, .open = 1, .refs = 1, .next_made = s->next_made };
	node->priv = s;
	node->links = 1;
	return s;
}

static void usock_put(struct usock *s)
{
	if (--s->refs > 0) return;
	s->next = free_socks;
	free_socks = s;
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

static void sock_close(struct usock *s);

/* A new fd for s's file (on failure its release frees s). */
static long sock_fd(struct usock *s, int oflags)
{
	long fd = fd_open(s->node, oflags);
	if (fd >= 0) s->file = fd_get(fd);
	return fd;
}

static long unix_socket(int type, int protocol)
{
	int oflags;
	type = unix_type(type, protocol, &oflags);
	if (type < 0) return type;
	return sock_fd(usock_new(type), oflags);
}

static void connect_pair(struct usock *a, struct usock *b)
{
	a->peer = b;
	b->peer = a;
	a->refs++;
	b->refs++;
	a->state = b->state = U_CONNECTED;
}

static long sys_socketpair(int family, int type, int protocol, int *sv)
{
	if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) & ~0xf) return -EINVAL;
	if (family == AF_INET) return -EOPNOTSUPP; /* TCP and UDP have no pairs */
	if (family != AF_UNIX) return -EAFNOSUPPORT;
	int oflags;
	type = unix_type(type, protocol, &oflags);
	if (type < 0) return type;
	struct usock *a = usock_new(type), *b = usock_new(type);
	connect_pair(a, b);
	long fa = sock_fd(a, oflags);
	if (fa < 0) {
		sock_close(b);
		return fa;
	}
	long fb = sock_fd(b, oflags);
	if (fb < 0) {
		fd_close(fa);
		return fb;
	}
	sv[0] = (int)fa;
	sv[1] = (int)fb;
	return 0;
}

/* ---- files in flight ---- */

static struct usock *unix_of(struct file *f)
{
	return f->node->ops == &unix_ops ? f->node->priv : 0;
}

/* A file a ring held is let go. Closing it may close a socket whose ring held more (a
 * socket passed inside another): those wait in this list, so a chain of them is closed
 * in a loop rather than ever deeper on the stack. */
static void inflight_put(struct file *f)
{
	static struct file *dropping[INFLIGHT_MAX];
	static int ndropping, draining;
	struct usock *u = unix_of(f);
	if (u) u->in_rings--;
	inflight--;
	dropping[ndropping++] = f;
	if (draining) return;
	draining = 1;
	while (ndropping) file_put(dropping[--ndropping]);
	draining = 0;
}

/* The ABI's msg_controllen and cmsg_len are 64 bits (glibc's size_t). musl's headers make
 * them a socklen_t and padding, which its wrappers zero: read and write all 64 bits. */
struct kcmsghdr {
	uint64_t len;
	int level, type;
};
_Static_assert(sizeof(struct kcmsghdr) == sizeof(struct cmsghdr), "a control header is 16 bytes");
_Static_assert(offsetof(struct msghdr, msg_controllen) == 40 && offsetof(struct msghdr, msg_flags) == 48, "the ABI's msghdr");

static uint64_t controllen(const struct msghdr *m)
{
	uint64_t len;
	memcpy(&len, &m->msg_controllen, sizeof len);
	return len;
}

static void set_controllen(struct msghdr *m, uint64_t len)
{
	memcpy(&m->msg_controllen, &len, sizeof len);
}

/* The files a message passes: held until they are in a ring or given back. */
struct passing {
	struct file *files[SCM_MAX_FD];
	int nfds;
};

static void passing_release(struct passing *p)
{
	while (p->nfds) file_put(p->files[--p->nfds]);
}

/* sendmsg's control data, as Linux's __scm_send reads it: every header must lie inside
 * msg_controllen; SCM_RIGHTS holds open fds (at most SCM_MAX_FD in all); SCM_CREDENTIALS
 * must be the process's own (nothing else could be carried); other levels are skipped.
 * 0 and *out filled, or -errno with nothing held. */
static long control_in(const struct msghdr *m, struct passing *out)
{
	const unsigned char *ctl = m->msg_control;
	uint64_t len = controllen(m), off = 0;
	out->nfds = 0;
	if (!ctl || len < sizeof(struct kcmsghdr)) return 0;
	if (len > 65536) return -ENOBUFS; /* Linux copies it into a buffer of optmem_max */
	while (len - off >= sizeof(struct kcmsghdr)) {
		struct kcmsghdr c;
		memcpy(&c, ctl + off, sizeof c);
		long r = -EINVAL;
		if (c.len < sizeof c || c.len > len - off) goto fail;
		if (c.level == SOL_SOCKET && c.type == SCM_RIGHTS) {
			size_t n = (c.len - sizeof c) / sizeof(int);
			if (n > (size_t)(SCM_MAX_FD - out->nfds)) goto fail;
			for (size_t i = 0; i < n; i++) {
				int fd;
				memcpy(&fd, ctl + off + CMSG_LEN(i * sizeof(int)), sizeof fd);
				struct file *f = fd_get(fd);
				r = -EBADF;
				if (!f) goto fail;
				file_hold(f);
				out->files[out->nfds++] = f;
			}
		} else if (c.level == SOL_SOCKET && c.type == SCM_CREDENTIALS) {
			struct ucred cred;
			if (c.len != CMSG_LEN(sizeof cred)) goto fail;
			memcpy(&cred, ctl + off + CMSG_LEN(0), sizeof cred);
			r = -EPERM;
			if (cred.pid != 1 || cred.uid != 0 || cred.gid != 0) goto fail; /* pid 1, root */
		} else if (c.level == SOL_SOCKET) {
			goto fail;
		}
		off += CMSG_ALIGN(c.len);
		if (off > len) break;
		continue;
	fail:
		passing_release(out);
		return r;
	}
	return 0;
}

/* May the files go into a ring? Checked just before, for a send may have waited. */
static long can_pass(const struct passing *out)
{
	return inflight + out->nfds > INFLIGHT_MAX ? -ETOOMANYREFS : 0;
}

/* What a receive took: the sender's name, and the files passed (the ring's references,
 * or with MSG_PEEK, the ring keeps them). */
struct received {
	struct file *files[SCM_MAX_FD];
	int nfds;
	int peek;
	unsigned char name[NAME_MAX_];
	socklen_t namelen;
};

/* One control message into what is left of the receiver's buffer, as Linux's put_cmsg:
 * what does not fit is cut (MSG_CTRUNC). The bytes used. */
static size_t put_cmsg(struct msghdr *m, size_t used, int type, const void *data, size_t len)
{
	size_t room = m->msg_control ? controllen(m) - used : 0;
	if (room < sizeof(struct kcmsghdr)) {
		m->msg_flags |= MSG_CTRUNC;
		return 0;
	}
	size_t cmlen = CMSG_LEN(len);
	if (room < cmlen) {
		m->msg_flags |= MSG_CTRUNC;
		cmlen = room;
	}
	struct kcmsghdr c = { cmlen, SOL_SOCKET, type };
	unsigned char *at = (unsigned char *)m->msg_control + used;
	memcpy(at, &c, sizeof c);
	memcpy(at + sizeof c, data, cmlen - sizeof c);
	return CMSG_SPACE(len) < room ? CMSG_SPACE(len) : room;
}

/* recvmsg's control data, as Linux's scm_recv: the credentials (SO_PASSCRED: the one
 * process's), then as many of the files as fit and new fds can be had for; the others are
 * closed and MSG_CTRUNC says so. msg_controllen becomes the bytes written. */
static void control_out(struct usock *s, struct msghdr *m, struct received *in, int flags)
{
	size_t used = 0;
	if (s->passcred) {
		struct ucred cred = { 1, 0, 0 };
		used += put_cmsg(m, used, SCM_CREDENTIALS, &cred, sizeof cred);
	}
	if (in->nfds) {
		size_t room = m->msg_control ? controllen(m) - used : 0;
		size_t max = room > sizeof(struct kcmsghdr) ? (room - sizeof(struct kcmsghdr)) / sizeof(int) : 0;
		unsigned char *at = max ? (unsigned char *)m->msg_control + used : 0;
		int n = 0;
		for (; n < in->nfds && (size_t)n < max; n++) {
			long fd = fd_install(in->files[n], 0, !!(flags & MSG_CMSG_CLOEXEC));
			if (fd < 0) break;
			int v = (int)fd;
			memcpy(at + CMSG_LEN(n * sizeof(int)), &v, sizeof v);
		}
		if (n) {
			struct kcmsghdr c = { CMSG_LEN(n * sizeof(int)), SOL_SOCKET, SCM_RIGHTS };
			memcpy(at, &c, sizeof c);
			used += CMSG_SPACE(n * sizeof(int)) < room ? CMSG_SPACE(n * sizeof(int)) : room;
		}
		if (n < in->nfds) m->msg_flags |= MSG_CTRUNC;
		if (!in->peek) /* the fds hold the ones given now; the rest close */
			for (int i = 0; i < in->nfds; i++) inflight_put(in->files[i]);
		in->nfds = 0;
	}
	set_controllen(m, used);
}

/* ---- the rings ---- */

/* Its ring, taken at the first message: 0, or -ENOBUFS when guest memory is full. */
static long rx_ready(struct usock *s)
{
	if (s->rx.buf) return 0;
	s->rx.buf = mem_try_alloc(RING_SIZE);
	s->rx.head = s->rx.len = 0;
	return s->rx.buf ? 0 : -ENOBUFS;
}

static struct rec rec_at(const struct usock *s, size_t at)
{
	struct rec h;
	ring_peek(&s->rx, at, &h, REC);
	return h;
}

/* Where a record's bytes start, and where the next one does. */
static size_t rec_data(const struct rec *h)
{
	return REC + h->namelen + h->nfds * sizeof(struct file *);
}

static size_t rec_span(const struct rec *h)
{
	return rec_data(h) + h->len;
}

/* The bytes saturate: a total past SIZE_MAX cannot wrap into a small one. */
static size_t iov_total(const struct msghdr *m)
{
	size_t total = 0;
	for (int i = 0; i < (int)m->msg_iovlen; i++) {
		if (m->msg_iov[i].iov_len > SIZE_MAX - total) return SIZE_MAX;
		total += m->msg_iov[i].iov_len;
	}
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

/* Appends len bytes of the iovecs, from byte pos of their total on. */
static void from_iov(struct ring *r, const struct msghdr *m, size_t pos, size_t len)
{
	for (int i = 0; i < (int)m->msg_iovlen && len; i++) {
		const struct iovec *v = &m->msg_iov[i];
		if (pos >= v->iov_len) {
			pos -= v->iov_len;
			continue;
		}
		size_t n = v->iov_len - pos < len ? v->iov_len - pos : len;
		ring_put(r, (const char *)v->iov_base + pos, n);
		len -= n;
		pos = 0;
	}
}

/* A message into t's ring (which has room): the files go with it (out is emptied). */
static void put_record(struct usock *t, const struct usock *from, struct passing *out, const struct msghdr *m, size_t pos, size_t len)
{
	struct rec h = { (uint32_t)len, (uint16_t)(t->type == SOCK_STREAM ? 0 : from->namelen), (uint16_t)out->nfds };
	ring_put(&t->rx, &h, REC);
	ring_put(&t->rx, from->name, h.namelen);
	ring_put(&t->rx, out->files, out->nfds * sizeof(struct file *));
	for (int i = 0; i < out->nfds; i++)
		if (unix_of(out->files[i])) unix_of(out->files[i])->in_rings++;
	from_iov(&t->rx, m, pos, len);
	inflight += out->nfds;
	out->nfds = 0;
	t->records++;
	t->bytes += len;
	vfs_changed(t->node);
}

/* Room was made in s's ring: its senders wait on its node, its peer polls for POLLOUT. */
static void room_made(struct usock *s)
{
	vfs_changed(s->node);
	if (s->peer) vfs_changed(s->peer->node);
}

/* The first record is read whole: it goes (its files are the reader's now). */
static void drop_head(struct usock *s, const struct rec *h)
{
	ring_drop(&s->rx, rec_span(h));
	s->records--;
	s->bytes -= h->len;
	room_made(s);
}

/* The first record's first `used` bytes are read (and its files taken): a header for
 * what is left takes the place of what went. */
static void trim_head(struct usock *s, const struct rec *h, size_t used)
{
	struct rec rest = { (uint32_t)(h->len - used), 0, 0 };
	struct ring *r = &s->rx;
	ring_drop(r, rec_data(h) + used - REC); /* the header's own bytes are reused */
	size_t at = r->head, first = REC < RING_SIZE - at ? REC : RING_SIZE - at;
	memcpy(r->buf + at, &rest, first);
	memcpy(r->buf, (const char *)&rest + first, REC - first);
	s->bytes -= used;
	room_made(s);
}

/* Every record goes, and the files they pass close. The ring leaves s first: closing one
 * of them may empty s again (the collector's sockets hold their own files). */
static void rx_purge(struct usock *s)
{
	struct ring r = s->rx;
	size_t records = s->records;
	s->rx = (struct ring){ 0 };
	s->records = s->bytes = 0;
	for (size_t at = 0; records--;) {
		struct rec h;
		ring_peek(&r, at, &h, REC);
		for (int i = 0; i < h.nfds; i++) {
			struct file *f;
			ring_peek(&r, at + REC + h.namelen + i * sizeof f, &f, sizeof f);
			inflight_put(f);
		}
		at += rec_span(&h);
	}
	if (r.buf) ring_free(&r);
}

/* ---- collecting sockets no one can reach ---- */

enum {
	GC_NOT,
	GC_CANDIDATE,
	GC_REACHED,
	GC_SCANNED
};

/* Calls fn on every socket whose file is in u's ring or in those of the connections
 * queued on it (a listener's are theirs). */
static void ring_sockets(struct usock *u, void (*fn)(struct usock *))
{
	for (struct usock *r = u; r; r = r == u ? u->queue : r->next) {
		size_t at = 0;
		for (size_t i = 0; i < r->records; i++) {
			struct rec h = rec_at(r, at);
			for (int k = 0; k < h.nfds; k++) {
				struct file *f;
				ring_peek(&r->rx, at + REC + h.namelen + k * sizeof f, &f, sizeof f);
				if (unix_of(f)) fn(unix_of(f));
			}
			at += rec_span(&h);
		}
	}
}

static void count_ref(struct usock *v)
{
	if (v->gc == GC_CANDIDATE) v->gc_refs++;
}

static int reached_more;
static void reach(struct usock *v)
{
	if (v->gc != GC_CANDIDATE) return;
	v->gc = GC_REACHED;
	reached_more = 1;
}

/* Linux's unix_gc, simply: a candidate is an open socket whose file only rings hold. One
 * also held by a ring outside the candidates can still be read, and so can every socket
 * its rings hold; the other candidates only hold one another: their rings are emptied
 * (queued connections closed), which closes them all. */
static void collect(void)
{
	for (struct usock *u = made; u; u = u->next_made) {
		u->gc = u->refs && u->open && u->file && u->in_rings && u->file->refs == u->in_rings ? GC_CANDIDATE : GC_NOT;
		u->gc_refs = 0;
	}
	for (struct usock *u = made; u; u = u->next_made)
		if (u->gc == GC_CANDIDATE) ring_sockets(u, count_ref);
	for (struct usock *u = made; u; u = u->next_made)
		if (u->gc == GC_CANDIDATE && u->gc_refs < u->in_rings) u->gc = GC_REACHED;
	for (reached_more = 1; reached_more;) {
		reached_more = 0;
		for (struct usock *u = made; u; u = u->next_made)
			if (u->gc == GC_REACHED) {
				u->gc = GC_SCANNED;
				ring_sockets(u, reach);
			}
	}
	for (struct usock *u = made; u; u = u->next_made)
		if (u->gc == GC_CANDIDATE) u->refs++; /* kept while the others close */
	for (struct usock *u = made; u; u = u->next_made) {
		if (u->gc != GC_CANDIDATE) continue;
		while (u->queue) {
			struct usock *n = u->queue;
			u->queue = n->next;
			u->queued--;
			sock_close(n);
		}
		rx_purge(u);
	}
	for (struct usock *u = made; u; u = u->next_made)
		if (u->gc == GC_CANDIDATE) {
			u->gc = GC_NOT;
			usock_put(u);
		}
}

/* Before a message goes into t: may its files go in flight, and has t a ring? When not,
 * the first time, sockets no one can reach are collected and 1 says to look again. */
static long ready_to_put(struct usock *t, const struct passing *out, int *collected)
{
	long r = can_pass(out);
	if (!r) r = rx_ready(t);
	if (!r || *collected) return r;
	*collected = 1;
	collect();
	return 1;
}

/* ---- waiting ---- */

/* A blocking call waits for a change of x (x held): 0 to look again, -EAGAIN, or -EINTR. */
static long wait_on(struct usock *x, int nonblock, uint64_t deadline)
{
	if (nonblock) return -EAGAIN;
	int woken = sched_wait(x->node, deadline);
	if (woken < 0) return woken; /* a signal */
	if (!woken && deadline) return -EAGAIN; /* SO_*TIMEO passed */
	return 0;
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
	long r = wait_on(s, nonblock, deadline);
	return r ? r : 1;
}

/* ---- names ---- */

/* A name as bind, connect and sendto take it: a path (the NUL-terminated copy in path),
 * an abstract name (path[0] == 0), or -EINVAL. */
static long name_in(const void *addr, socklen_t len, char path[NAME_MAX_])
{
	const struct sockaddr_un *a = addr;
	if (!a || len <= UNNAMED || len > sizeof *a || a->sun_family != AF_UNIX) return -EINVAL;
	memset(path, 0, NAME_MAX_);
	memcpy(path, a->sun_path, len - UNNAMED);
	return 0;
}

/* A name out to the app (getsockname, accept, recvfrom): cut to its buffer, its whole
 * length in *len; an unnamed socket's is the family alone. */
static long name_out(void *addr, socklen_t *len, const unsigned char *name, socklen_t namelen)
{
	if (!len || (int)*len < 0) return -EINVAL;
	static const sa_family_t family = AF_UNIX;
	if (!namelen) {
		name = (const unsigned char *)&family;
		namelen = UNNAMED;
	}
	if (addr) memcpy(addr, name, *len < namelen ? *len : namelen);
	*len = namelen;
	return 0;
}

static struct usock *find_abstract(const char *name, socklen_t len, int type)
{
	for (struct usock *s = abstract_names; s; s = s->next_name)
		if (s->type == type && s->namelen == len + UNNAMED && memcmp(s->name + UNNAMED, name, len) == 0) return s;
	return 0;
}

static void bind_abstract(struct usock *s, const char *name, socklen_t len)
{
	sa_family_t family = AF_UNIX;
	memcpy(s->name, &family, sizeof family);
	memcpy(s->name + UNNAMED, name, len);
	s->namelen = UNNAMED + len;
	s->abstract = 1;
	s->next_name = abstract_names;
	abstract_names = s;
}

/* Autobind: "\0" and five hex digits no socket of its type has, from a random start. */
static long autobind(struct usock *s)
{
	if (s->namelen) return 0;
	uint32_t n;
	random_fill(&n, sizeof n);
	for (int tries = 0; tries < 0x100000; tries++, n++) {
		char name[6] = { 0 };
		for (int i = 0; i < 5; i++) name[5 - i] = "0123456789abcdef"[(n >> (4 * i)) & 0xf];
		if (!find_abstract(name, 6, s->type)) {
			bind_abstract(s, name, 6);
			return 0;
		}
	}
	return -ENOSPC;
}

static long sys_bind(struct usock *s, const void *addr, socklen_t len)
{
	char path[NAME_MAX_];
	if (addr && len == UNNAMED && ((const struct sockaddr_un *)addr)->sun_family == AF_UNIX) return autobind(s);
	long r = name_in(addr, len, path);
	if (r) return r;
	if (s->namelen) return -EINVAL; /* named already */
	if (!path[0]) {
		if (find_abstract(path, len - UNNAMED, s->type)) return -EADDRINUSE;
		bind_abstract(s, path, len - UNNAMED);
		return 0;
	}
	struct node *node;
	r = fs_mknod(path, S_IFSOCK | 0777, &name_ops, &node);
	if (r == -EEXIST) return -EADDRINUSE;
	if (r < 0) return r;
	node->priv = s;
	node->links++; /* the socket's hold, till it closes */
	s->file_name = node;
	sa_family_t family = AF_UNIX;
	memcpy(s->name, &family, sizeof family);
	size_t plen = strlen(path);
	memcpy(s->name + UNNAMED, path, plen + 1);
	s->namelen = (socklen_t)(UNNAMED + plen + 1); /* with its NUL, as Linux */
	return 0;
}

/* A closing socket leaves the namespace (a path's file stays, refusing connections). */
static void unbind(struct usock *s)
{
	if (s->file_name) {
		s->file_name->priv = 0;
		vfs_put(s->file_name);
		s->file_name = 0;
	}
	if (s->abstract) {
		struct usock **p = &abstract_names;
		while (*p != s) p = &(*p)->next_name;
		*p = s->next_name;
		s->abstract = 0;
	}
}

/* The socket of type bound to a name (held: usock_put after), or -errno: ENOENT and the
 * like for a path not there, ECONNREFUSED for one that is no bound socket, EPROTOTYPE for
 * a socket of another type. */
static long find_bound(const void *addr, socklen_t len, int type, struct usock **out)
{
	char path[NAME_MAX_];
	long r = name_in(addr, len, path);
	if (r) return r;
	struct usock *t;
	if (!path[0]) {
		t = find_abstract(path, len - UNNAMED, type);
		if (!t) return -ECONNREFUSED;
	} else {
		struct node *node;
		r = fs_lookup(path, &node);
		if (r < 0) return r;
		if (!S_ISSOCK(node->mode) || node->ops != &name_ops || !node->priv) return -ECONNREFUSED;
		t = node->priv;
		if (t->type != type) return -EPROTOTYPE;
	}
	t->refs++;
	*out = t;
	return 0;
}

/* ---- connections ---- */

static long sys_listen(struct usock *s, int backlog)
{
	if (s->type == SOCK_DGRAM) return -EOPNOTSUPP;
	if (!s->namelen || s->state == U_CONNECTED) return -EINVAL; /* unnamed, or connected */
	if ((unsigned)backlog > SOMAXCONN_) backlog = SOMAXCONN_;
	s->backlog = backlog;
	s->state = U_LISTEN;
	vfs_changed(s->node); /* a connect waiting for room may go on */
	return 0;
}

/* Linux lets one more than the backlog wait. */
static int queue_full(const struct usock *l)
{
	return l->queued > l->backlog;
}

/* A stream or seqpacket connect: the server's end is made now and waits in the
 * listener's queue; s is connected to it at once. */
static long stream_connect(struct usock *s, struct file *f, const void *addr, socklen_t len)
{
	uint64_t deadline = sock_deadline(s->sndtimeo);
	if (s->passcred) autobind(s);
	for (;;) {
		struct usock *l;
		long r = find_bound(addr, len, s->type, &l);
		if (r) return r;
		if (l->state != U_LISTEN || l->shut & SHUT_IN) r = -ECONNREFUSED;
		else if (s->state != U_NEW) r = s->state == U_CONNECTED ? -EISCONN : -EINVAL;
		else if (queue_full(l)) r = wait_on(l, f->flags & O_NONBLOCK, deadline);
		else {
			struct usock *n = usock_new(s->type);
			connect_pair(s, n);
			memcpy(n->name, l->name, l->namelen);
			n->namelen = l->namelen;
			n->listener = l;
			struct usock **tail = &l->queue;
			while (*tail) tail = &(*tail)->next;
			*tail = n;
			l->queued++;
			vfs_changed(l->node);
			usock_put(l);
			return 0;
		}
		usock_put(l);
		if (r) return r;
	}
}

/* A datagram socket's default destination (AF_UNSPEC: none). */
static long dgram_connect(struct usock *s, const void *addr, socklen_t len)
{
	struct usock *t = 0;
	int unspec = addr && len >= sizeof(sa_family_t) && ((const struct sockaddr *)addr)->sa_family == AF_UNSPEC;
	if (!unspec) {
		long r = find_bound(addr, len, SOCK_DGRAM, &t);
		if (r) return r;
		if (t->peer && t->peer != s) { /* it takes messages from its own peer only */
			usock_put(t);
			return -EPERM;
		}
		if (s->passcred) autobind(s);
	}
	if (s->peer) usock_put(s->peer);
	s->peer = t; /* the hold find_bound took */
	vfs_changed(s->node);
	return 0;
}

static long sys_connect(struct usock *s, struct file *f, const void *addr, socklen_t len)
{
	if (s->type == SOCK_DGRAM) return dgram_connect(s, addr, len);
	file_hold(f); /* across a wait for room in the queue */
	long r = stream_connect(s, f, addr, len);
	file_put(f);
	return r;
}

static long sys_accept4(struct usock *s, struct file *f, void *addr, socklen_t *len, int flags)
{
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return -EINVAL;
	if (s->type == SOCK_DGRAM) return -EOPNOTSUPP;
	if (s->state != U_LISTEN) return -EINVAL;
	if (addr && (!len || (int)*len < 0)) return -EINVAL;
	uint64_t deadline = sock_deadline(s->rcvtimeo);
	long r = 0;
	file_hold(f);
	while (!s->queue && !r) {
		if (s->shut & SHUT_IN) r = -EINVAL;
		else r = wait_on(s, f->flags & O_NONBLOCK, deadline);
	}
	if (!r) {
		struct usock *n = s->queue;
		/* The fd first: with none free (EMFILE), the file's release leaves n queued. */
		struct file *nf = file_open(n->node, O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0));
		r = fd_install(nf, 0, !!(flags & SOCK_CLOEXEC));
		file_put(nf);
		if (r >= 0) {
			s->queue = n->next;
			s->queued--;
			n->listener = 0;
			n->file = nf;
			n->passcred = s->passcred; /* inherited, as on Linux */
			vfs_put(n->node); /* its maker's link: the file holds it now */
			vfs_changed(s->node); /* room for a connect that waits */
			if (addr) name_out(addr, len, n->peer->name, n->peer->namelen);
		}
	}
	file_put(f);
	return r;
}

/* ---- sending ---- */

/* Why s cannot send to its stream or seqpacket peer now (-errno), or 0. */
static long tx_error(struct usock *s)
{
	if (s->state != U_CONNECTED) return -ENOTCONN;
	if (s->shut & SHUT_OUT) return -EPIPE;
	struct usock *p = s->peer;
	return !p->open || p->shut & SHUT_IN ? -EPIPE : 0;
}

static long send_stream(struct usock *s, const struct msghdr *m, struct passing *out, int nonblock)
{
	if (m->msg_name && m->msg_namelen) return s->state == U_CONNECTED ? -EISCONN : -EOPNOTSUPP;
	size_t total = iov_total(m), done = 0;
	uint64_t deadline = sock_deadline(s->sndtimeo);
	long r = tx_error(s);
	if (r) return r;
	int collected = 0;
	while (done < total) {
		struct usock *p = s->peer;
		size_t head = REC + out->nfds * sizeof(struct file *);
		r = tx_error(s);
		if (!r && RING_SIZE - p->rx.len <= head) {
			r = wait_on(p, nonblock, deadline);
			if (!r) continue; /* look again: the peer may be gone meanwhile */
		}
		if (!r && (r = ready_to_put(p, out, &collected)) == 1) continue;
		if (r) return done ? (long)done : r;
		size_t room = RING_SIZE - p->rx.len - head, n = total - done < room ? total - done : room;
		put_record(p, s, out, m, done, n); /* files go with the first bytes */
		done += n;
	}
	return (long)done;
}

/* Why s cannot send a record to t now (-errno), or 0. */
static long record_error(struct usock *s, struct usock *t)
{
	if (s->type == SOCK_SEQPACKET) return tx_error(s);
	if (s->shut & SHUT_OUT) return -EPIPE;
	if (!t->open) {
		if (s->peer == t) { /* refused once, then not connected, as on Linux */
			s->peer = 0;
			usock_put(t);
		}
		return -ECONNREFUSED;
	}
	if (t->peer && t->peer != s) return -EPERM;
	return t->shut & SHUT_IN ? -EPIPE : 0;
}

/* A record goes whole or not at all: to the name given (datagrams), or to the peer. */
static long send_record(struct usock *s, const struct msghdr *m, struct passing *out, int nonblock)
{
	size_t total = iov_total(m);
	struct usock *t;
	long r;
	if (s->type == SOCK_DGRAM && m->msg_name && m->msg_namelen) {
		if ((r = find_bound(m->msg_name, m->msg_namelen, SOCK_DGRAM, &t))) return r;
	} else if (s->type == SOCK_SEQPACKET ? s->state != U_CONNECTED : !s->peer) {
		return -ENOTCONN;
	} else {
		t = s->peer;
		t->refs++;
	}
	if (s->passcred) autobind(s);
	size_t need = REC + s->namelen + out->nfds * sizeof(struct file *);
	uint64_t deadline = sock_deadline(s->sndtimeo);
	int collected = 0;
	if (total > RING_SIZE - need) r = -EMSGSIZE;
	else
		for (;;) {
			r = record_error(s, t);
			if (!r && RING_SIZE - t->rx.len < need + total && (r = wait_on(t, nonblock, deadline)) == 0) continue;
			if (!r) r = ready_to_put(t, out, &collected);
			if (r != 1) break;
		}
	if (!r) {
		put_record(t, s, out, m, 0, total);
		r = (long)total;
	}
	usock_put(t);
	return r;
}

static long send_msg(struct usock *s, const struct msghdr *m, int flags, int nonblock)
{
	struct passing out;
	long r = control_in(m, &out);
	if (r) return r;
	if (flags & MSG_OOB) r = -EOPNOTSUPP;
	else if (s->type == SOCK_STREAM) r = send_stream(s, m, &out, nonblock);
	else r = send_record(s, m, &out, nonblock);
	passing_release(&out); /* those no message took */
	return r;
}

/* ---- receiving ---- */

/* Takes (or, with MSG_PEEK, borrows) the files of the record at byte at. */
static void take_files(struct usock *s, size_t at, const struct rec *h, struct received *in, int flags)
{
	ring_peek(&s->rx, at + REC + h->namelen, in->files, h->nfds * sizeof(struct file *));
	in->nfds = h->nfds;
	in->peek = !!(flags & MSG_PEEK);
}

/* Bytes from record to record; files end a read (what they came with is its last). */
static long recv_stream(struct usock *s, struct msghdr *m, int flags, int nonblock, struct received *in)
{
	size_t want = iov_total(m), got = 0, at = 0; /* at: the next record (MSG_PEEK reads on past the first) */
	if (want == 0) return 0;
	uint64_t deadline = sock_deadline(s->rcvtimeo);
	for (;;) {
		if (at >= s->rx.len) {
			if (got && !(flags & MSG_WAITALL)) return (long)got;
			long r = rx_empty(s, nonblock, deadline);
			if (r <= 0) return got ? (long)got : r;
			continue;
		}
		struct rec h = rec_at(s, at);
		size_t n = h.len < want - got ? h.len : want - got;
		to_iov(&s->rx, at + rec_data(&h), n, m, got);
		got += n;
		if (h.nfds) take_files(s, at, &h, in, flags);
		if (flags & MSG_PEEK) {
			at += rec_span(&h);
		} else if (n == h.len) {
			drop_head(s, &h);
		} else {
			trim_head(s, &h, n);
			return (long)got;
		}
		if (h.nfds || got == want) return (long)got;
	}
}

static long recv_record(struct usock *s, struct msghdr *m, int flags, int nonblock, struct received *in)
{
	uint64_t deadline = sock_deadline(s->rcvtimeo);
	while (!s->records) {
		long r = rx_empty(s, nonblock, deadline);
		if (r <= 0) return r;
	}
	struct rec h = rec_at(s, 0);
	ring_peek(&s->rx, REC, in->name, h.namelen);
	in->namelen = h.namelen;
	if (h.nfds) take_files(s, 0, &h, in, flags);
	size_t want = iov_total(m), n = to_iov(&s->rx, rec_data(&h), h.len < want ? h.len : want, m, 0);
	if (n < h.len) m->msg_flags |= MSG_TRUNC; /* the rest is dropped */
	if (!(flags & MSG_PEEK)) drop_head(s, &h);
	return (long)(flags & MSG_TRUNC ? h.len : n);
}

static long recv_msg(struct usock *s, struct msghdr *m, int flags, int nonblock)
{
	if (s->type != SOCK_DGRAM && s->state != U_CONNECTED) /* never connected, or listening: as Linux answers */
		return s->type == SOCK_STREAM ? -EINVAL : -ENOTCONN;
	struct received in;
	in.nfds = 0;
	in.namelen = 0;
	long r = s->type == SOCK_STREAM ? recv_stream(s, m, flags, nonblock, &in) : recv_record(s, m, flags, nonblock, &in);
	if (r < 0) return r;
	if (s->type == SOCK_STREAM && s->peer) { /* a stream's sender is its peer */
		memcpy(in.name, s->peer->name, s->peer->namelen);
		in.namelen = s->peer->namelen;
	}
	if (m->msg_name) {
		socklen_t len = m->msg_namelen;
		if (in.namelen) name_out(m->msg_name, &len, in.name, in.namelen);
		m->msg_namelen = in.namelen ? len : 0;
	}
	control_out(s, m, &in, flags);
	return r;
}

/* Every read, write, send and receive of a socket comes here. */
static long transfer(struct file *f, struct msghdr *m, int flags, int write)
{
	struct usock *s = f->node->priv;
	if ((int)m->msg_iovlen < 0 || (int)m->msg_iovlen > 1024) return -EMSGSIZE;
	if (iov_total(m) > 0x7fffffffu) return -EINVAL;
	int nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
	file_hold(f);
	long r = write ? send_msg(s, m, flags, nonblock) : recv_msg(s, m, flags, nonblock);
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

/* The sender's name, if it has one (else the length is 0). */
static long sys_recvfrom(struct file *f, void *buf, size_t len, int flags, void *addr, socklen_t *addrlen)
{
	unsigned char name[NAME_MAX_];
	struct msghdr m = { .msg_name = addr ? name : 0, .msg_namelen = sizeof name, .msg_iov = &(struct iovec){ buf, len }, .msg_iovlen = 1 };
	if (addr && (!addrlen || (int)*addrlen < 0)) return -EINVAL;
	long r = transfer(f, &m, flags, 0);
	if (r < 0 || !addr) return r;
	if (m.msg_namelen) name_out(addr, addrlen, name, m.msg_namelen);
	else *addrlen = 0;
	return r;
}

static long sys_recvmsg(struct file *f, struct msghdr *m, int flags)
{
	m->msg_flags = 0;
	if (!m->msg_name) m->msg_namelen = 0;
	uint64_t len = controllen(m);
	long r = transfer(f, m, flags, 0);
	if (r < 0) set_controllen(m, len);
	return r;
}

/* ---- the other socket calls ---- */

static long sys_shutdown(struct usock *s, int how)
{
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return -EINVAL;
	int mode = how + 1; /* SHUT_RD: SHUT_IN, SHUT_WR: SHUT_OUT, SHUT_RDWR: both */
	s->shut |= mode;
	vfs_changed(s->node);
	struct usock *p = s->peer;
	if (p && s->type != SOCK_DGRAM) {
		p->shut |= (mode & SHUT_IN ? SHUT_OUT : 0) | (mode & SHUT_OUT ? SHUT_IN : 0);
		vfs_changed(p->node);
	}
	return 0;
}

static long sys_getname(struct usock *s, void *addr, socklen_t *len, int peer)
{
	if (!peer) return name_out(addr, len, s->name, s->namelen);
	if (!s->peer || (s->type != SOCK_DGRAM && s->state != U_CONNECTED)) return -ENOTCONN;
	return name_out(addr, len, s->peer->name, s->peer->namelen);
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
	case SO_PROTOCOL: v = 0; break;
	case SO_ACCEPTCONN: v = s->state == U_LISTEN; break;
	case SO_PASSCRED: v = s->passcred; break;
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
	case SO_PASSCRED: s->passcred = *(const int *)val != 0; return 0;
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
	case SO_SNDLOWAT: return 0;
	case SO_LINGER: return len < sizeof(struct linger) ? -EINVAL : 0; /* close never waits */
	default: return -ENOPROTOOPT;
	}
}

/* socket(AF_UNIX), socketpair, and the socket calls on one (the others' are net.c's). */
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
	switch (n) {
	case SYS_bind: return sys_bind(s, (const void *)a2, (socklen_t)a3);
	case SYS_listen: return sys_listen(s, (int)a2);
	case SYS_accept: return sys_accept4(s, f, (void *)a2, (socklen_t *)a3, 0);
	case SYS_accept4: return sys_accept4(s, f, (void *)a2, (socklen_t *)a3, (int)a4);
	case SYS_connect: return sys_connect(s, f, (const void *)a2, (socklen_t)a3);
	case SYS_getsockname: return sys_getname(s, (void *)a2, (socklen_t *)a3, 0);
	case SYS_getpeername: return sys_getname(s, (void *)a2, (socklen_t *)a3, 1);
	case SYS_sendto: return sys_sendto(f, (const void *)a2, (size_t)a3, (int)a4, (const void *)a5, (socklen_t)a6);
	case SYS_recvfrom: return sys_recvfrom(f, (void *)a2, (size_t)a3, (int)a4, (void *)a5, (socklen_t *)a6);
	case SYS_sendmsg: return transfer(f, (struct msghdr *)a2, (int)a3, 1);
	case SYS_recvmsg: return sys_recvmsg(f, (struct msghdr *)a2, (int)a3);
	case SYS_shutdown: return sys_shutdown(s, (int)a2);
	case SYS_setsockopt: return sys_setsockopt(s, (int)a2, (int)a3, (const void *)a4, (socklen_t)a5);
	case SYS_getsockopt: return sys_getsockopt(s, (int)a2, (int)a3, (void *)a4, (socklen_t *)a5);
	default: *handled = 0; return -ENOSYS;
	}
}

/* ---- the socket's file ---- */

/* Stream: every byte; datagram: the next message's; seqpacket: every message's (as Linux). */
static long unix_ioctl(struct file *f, unsigned long request, long arg)
{
	struct usock *s = f->node->priv;
	if (request != FIONREAD) return -ENOTTY;
	if (s->state == U_LISTEN) return -EINVAL;
	*(int *)arg = (int)(s->type != SOCK_DGRAM ? s->bytes : s->records ? rec_at(s, 0).len :
									    0);
	return 0;
}

static short unix_poll(struct file *f)
{
	struct usock *s = f->node->priv, *p = s->peer;
	if (s->state == U_LISTEN) return s->queue ? POLLIN | POLLRDNORM : 0; /* a connection to accept */
	short ev = s->err ? POLLERR : 0;
	if (s->records) ev |= POLLIN | POLLRDNORM;
	if (s->shut & SHUT_IN) ev |= POLLIN | POLLRDNORM | POLLRDHUP;
	if (s->shut == (SHUT_IN | SHUT_OUT) || (s->state != U_CONNECTED && s->type != SOCK_DGRAM)) ev |= POLLHUP;
	/* Writable once half the peer's ring is free (a writer that met EAGAIN is not woken for
	 * every few bytes read), or when a write fails at once: as on Linux, no end is stuck. */
	if (!p || !p->open || s->shut & SHUT_OUT || p->shut & SHUT_IN || p->rx.len <= RING_SIZE / 2) ev |= POLLOUT | POLLWRNORM;
	return ev;
}

/* A socket's file is gone (or, for a connection never accepted, its listener's): it leaves
 * the namespace, connections waiting in its queue are reset, its stream or seqpacket peer
 * sees the end (unread bytes reset it, as on Linux), and what it had unread goes. */
static void sock_close(struct usock *s)
{
	s->open = 0;
	unbind(s);
	while (s->queue) {
		struct usock *n = s->queue;
		s->queue = n->next;
		sock_close(n);
	}
	s->queued = 0;
	struct usock *p = s->peer;
	if (p && s->type != SOCK_DGRAM) {
		if (s->records || s->listener) p->err = ECONNRESET; /* unread bytes, or never accepted */
		p->shut = SHUT_IN | SHUT_OUT;
		vfs_changed(p->node);
	}
	s->peer = 0;
	if (p) usock_put(p);
	s->listener = 0;
	s->file = 0;
	vfs_changed(s->node); /* senders and connects waiting on it */
	rx_purge(s);
	usock_put(s);
}

static void unix_release(struct file *f)
{
	struct usock *s = f->node->priv;
	if (s->listener) return; /* an accept that got no fd: the connection stays queued */
	sock_close(s);
}

static const struct file_ops unix_ops = {
	.readv = unix_readv,
	.writev = unix_writev,
	.poll = unix_poll,
	.ioctl = unix_ioctl,
	.release = unix_release,
	.stream = 1,
};

/* A path's socket file: it cannot be opened (ENXIO, fs.c), only connected to. */
static const struct file_ops name_ops = {
	.stream = 1,
};
