/*
 * Pipes (pipe2) and FIFOs (mkfifo): a 64 KiB ring between green threads. A reader of an
 * empty pipe and a writer of a full one wait in the scheduler until the other side moves;
 * every change also wakes poll, select and epoll (vfs_changed). The ring is also each
 * direction of a socketpair (unix.c). A closed pipe's node and state are kept for the next
 * pipe: nodes come from the arena, which never frees. A FIFO is a pipe with a name, whose
 * ring lives while an end is open; opening it is as on Linux (fifo(7)): a blocking open
 * waits for the other side, a non-blocking one for reading succeeds (reads are then at
 * their end until a writer comes), and one for writing with no reader is ENXIO. splice
 * moves bytes between a pipe and any fd (at the end of this file).
 */
#include <fcntl.h>
#include <poll.h>
#include <string.h>

#include "vfs.h"

struct pipe {
	struct ring ring;
	int readers, writers; /* open ends */
	unsigned reader_opens, writer_opens; /* ends ever opened: a FIFO's open waits for these to move */
	int named; /* a FIFO: its node stays in the tree */
	/* A splice that may wait holding part of the ring (sys_splice below): bytes it has
	 * peeked at the front and not yet taken, or room at the back it is about to fill.
	 * Readers (writers) wait until it is done, as under Linux's pipe mutex. */
	int front_held, back_held;
};

void ring_init(struct ring *r)
{
	r->buf = mem_alloc(RING_SIZE);
	r->head = r->len = 0;
}

void ring_free(struct ring *r)
{
	mem_free(r->buf, RING_SIZE);
	r->buf = 0;
}

size_t ring_put(struct ring *r, const void *src, size_t len)
{
	if (len > RING_SIZE - r->len) len = RING_SIZE - r->len;
	size_t at = (r->head + r->len) % RING_SIZE, first = len < RING_SIZE - at ? len : RING_SIZE - at;
	memcpy(r->buf + at, src, first);
	memcpy(r->buf, (const char *)src + first, len - first);
	r->len += len;
	return len;
}

size_t ring_peek(const struct ring *r, size_t off, void *dst, size_t len)
{
	if (off >= r->len) return 0;
	if (len > r->len - off) len = r->len - off;
	size_t at = (r->head + off) % RING_SIZE, first = len < RING_SIZE - at ? len : RING_SIZE - at;
	memcpy(dst, r->buf + at, first);
	memcpy((char *)dst + first, r->buf, len - first);
	return len;
}

void ring_drop(struct ring *r, size_t len)
{
	r->head = (r->head + len) % RING_SIZE;
	r->len -= len;
}

static struct node *free_pipes;

/* Waits until f's pipe has bytes to read (> 0: how many) or is at its end (0: no writer),
 * with the front free of any splice; else -EAGAIN (nonblock) or -EINTR. */
static long wait_readable(struct file *f, int nonblock)
{
	struct pipe *p = f->node->priv;
	while (p->ring.len == 0 || p->front_held) {
		if (p->ring.len == 0 && p->writers == 0) return 0; /* end of file */
		if (nonblock) return -EAGAIN;
		if (sched_wait(f->node, 0) < 0) return -EINTR;
	}
	return (long)p->ring.len;
}

/* Waits until f's pipe has room (> 0: how much), with the back free of any splice; else
 * -EPIPE (no reader), -EAGAIN (nonblock) or -EINTR. */
static long wait_writable(struct file *f, int nonblock)
{
	struct pipe *p = f->node->priv;
	for (;;) {
		if (p->readers == 0) return -EPIPE;
		if (p->ring.len < RING_SIZE && !p->back_held) return (long)(RING_SIZE - p->ring.len);
		if (nonblock) return -EAGAIN;
		if (sched_wait(f->node, 0) < 0) return -EINTR;
	}
}

static long pipe_read(struct file *f, void *buf, size_t len, uint64_t off)
{
	(void)off;
	struct pipe *p = f->node->priv;
	if (len == 0) return 0;
	long r = wait_readable(f, f->flags & O_NONBLOCK);
	if (r <= 0) return r;
	size_t n = ring_peek(&p->ring, 0, buf, len);
	ring_drop(&p->ring, n);
	vfs_changed(f->node);
	return (long)n;
}

static long pipe_write(struct file *f, const void *buf, size_t len, uint64_t off)
{
	(void)off;
	struct pipe *p = f->node->priv;
	size_t done = 0;
	while (done < len) {
		long r = wait_writable(f, f->flags & O_NONBLOCK);
		if (r < 0) return done ? (long)done : r;
		done += ring_put(&p->ring, (const char *)buf + done, len - done);
		vfs_changed(f->node);
	}
	return (long)done;
}

/* An end reads, writes, or both (a FIFO opened O_RDWR). */
static int reads(struct file *f)
{
	return (f->flags & O_ACCMODE) != O_WRONLY;
}

static int writes(struct file *f)
{
	return (f->flags & O_ACCMODE) != O_RDONLY;
}

static short pipe_poll(struct file *f)
{
	struct pipe *p = f->node->priv;
	short events = 0;
	if (writes(f)) events |= (short)((p->readers == 0 ? POLLERR : 0) | (p->ring.len < RING_SIZE ? POLLOUT : 0));
	if (reads(f)) events |= (short)((p->ring.len ? POLLIN : 0) | (p->writers == 0 ? POLLHUP : 0));
	return events;
}

/* An end is closed: the other sees it; once both are, the ring goes and the node is kept
 * (a FIFO's in its folder). */
static void pipe_release(struct file *f)
{
	struct node *node = f->node;
	struct pipe *p = node->priv;
	if (writes(f)) p->writers--;
	if (reads(f)) p->readers--;
	vfs_changed(node);
	if (p->readers || p->writers) return;
	ring_free(&p->ring);
	if (p->named) return;
	node->next = free_pipes;
	free_pipes = node;
}

/* Opening a FIFO by its name. The end counts from here on, so a failed open is undone by
 * pipe_release like a close. */
static long fifo_open(struct file *f)
{
	struct node *node = f->node;
	struct pipe *p = node->priv;
	if (!p->readers && !p->writers) ring_init(&p->ring);
	if (reads(f)) {
		p->readers++;
		p->reader_opens++;
	}
	if (writes(f)) {
		p->writers++;
		p->writer_opens++;
	}
	if ((f->flags & O_ACCMODE) == O_WRONLY && (f->flags & O_NONBLOCK) && !p->readers) return -ENXIO;
	vfs_changed(node); /* a blocked open of the other side goes on */
	if (f->flags & O_NONBLOCK || (f->flags & O_ACCMODE) == O_RDWR) return 0;
	/* Until the other side has been opened (it may be closed again already). */
	unsigned *others = reads(f) ? &p->writer_opens : &p->reader_opens, seen = *others;
	int *open_now = reads(f) ? &p->writers : &p->readers;
	while (!*open_now && *others == seen)
		if (sched_wait(node, 0) < 0) return -EINTR;
	return 0;
}

static const struct file_ops pipe_ops = {
	.read = pipe_read,
	.write = pipe_write,
	.poll = pipe_poll,
	.release = pipe_release,
	.stream = 1,
};

static const struct file_ops fifo_ops = {
	.read = pipe_read,
	.write = pipe_write,
	.poll = pipe_poll,
	.open = fifo_open,
	.release = pipe_release,
	.stream = 1,
};

struct node *fifo_new(struct node *dir, const char *name, size_t len, mode_t mode)
{
	struct node *node = vfs_new(dir, name, len, S_IFIFO | mode, &fifo_ops);
	struct pipe *p = arena_alloc(sizeof *p);
	memset(p, 0, sizeof *p);
	p->named = 1;
	node->priv = p;
	return node;
}

long sys_pipe2(int *fdpair, int flags)
{
	if (flags & ~(O_CLOEXEC | O_NONBLOCK)) return -EINVAL;
	struct node *node = free_pipes;
	if (node) {
		free_pipes = node->next;
		node->next = 0;
		node->links = 1;
	} else {
		node = vfs_new(0, "pipe", 4, S_IFIFO | 0600, &pipe_ops);
		node->priv = arena_alloc(sizeof(struct pipe));
	}
	struct pipe *p = node->priv;
	ring_init(&p->ring);
	p->readers = p->writers = 1;
	struct file *rd = file_open(node, O_RDONLY | (flags & O_NONBLOCK)), *wr = file_open(node, O_WRONLY | (flags & O_NONBLOCK));
	vfs_put(node); /* not in any folder: only the two ends hold it */
	long r = fd_install(rd, 0, !!(flags & O_CLOEXEC)), w = r < 0 ? r : fd_install(wr, 0, !!(flags & O_CLOEXEC));
	file_put(rd); /* the fds hold them now, if they were made */
	file_put(wr);
	if (w < 0) {
		if (r >= 0) fd_close(r);
		return w;
	}
	fdpair[0] = (int)r;
	fdpair[1] = (int)w;
	return 0;
}

/* splice(2): bytes between a pipe and any fd, or between two pipes, through a buffer:
 * Linux's without the zero copy. Go's io.Copy from a socket into a file or another socket
 * (os.File.ReadFrom, net.TCPConn.ReadFrom) takes it first. A move that may wait on the
 * other fd (a socket's write, a read from it) holds the part of the ring it works on, so
 * no reader or writer of the pipe moves it meanwhile (as Linux holds the pipe's mutex). */
#define SPLICE_F_NONBLOCK_ 2
#define SPLICE_F_ALL_ 15 /* MOVE, NONBLOCK, MORE, GIFT: only NONBLOCK changes anything here */
#define SPLICE_CHUNK 4096

static int is_pipe(struct file *f)
{
	return f->node->ops == &pipe_ops || f->node->ops == &fifo_ops;
}

/* With SPLICE_F_NONBLOCK the other fd must not wait either (Linux passes it on as
 * MSG_DONTWAIT): it has to be ready for events now. */
static int ready(struct file *f, short events, int nonblock)
{
	return !nonblock || file_poll(f) & (events | POLLERR | POLLHUP);
}

/* From pipe end in to out (no pipe), at *pos if out has offsets. */
static long splice_from_pipe(struct file *in, struct file *out, uint64_t *pos, size_t len, int nonblock)
{
	struct pipe *p = in->node->priv;
	long r = wait_readable(in, nonblock || in->flags & O_NONBLOCK);
	if (r <= 0) return r;
	if (!ready(out, POLLOUT, nonblock)) return -EAGAIN;
	if (len > (size_t)r) len = (size_t)r;
	char buf[SPLICE_CHUNK];
	size_t done = 0;
	p->front_held = 1; /* the bytes peeked stay in the ring until out took them */
	while (done < len) {
		size_t n = ring_peek(&p->ring, 0, buf, len - done < sizeof buf ? len - done : sizeof buf);
		r = file_rw(out, buf, n, *pos, 1);
		if (r <= 0) break;
		ring_drop(&p->ring, (size_t)r);
		done += (size_t)r;
		*pos += (uint64_t)r;
		if ((size_t)r < n) break;
	}
	p->front_held = 0;
	vfs_changed(in->node);
	return done ? (long)done : r;
}

/* From in (no pipe), at *pos if it has offsets, into pipe end out: what fits, and after
 * the first read only what in has ready (one wait per call, as a read). */
static long splice_to_pipe(struct file *in, uint64_t *pos, struct file *out, size_t len, int nonblock)
{
	struct pipe *p = out->node->priv;
	long r = wait_writable(out, nonblock || out->flags & O_NONBLOCK);
	if (r < 0) return r;
	if (!ready(in, POLLIN, nonblock)) return -EAGAIN;
	if (len > (size_t)r) len = (size_t)r;
	char buf[SPLICE_CHUNK];
	size_t done = 0;
	p->back_held = 1; /* the room counted stays free until in's bytes are there */
	while (done < len) {
		if (done && !(file_poll(in) & POLLIN)) break;
		size_t want = len - done < sizeof buf ? len - done : sizeof buf;
		r = file_rw(in, buf, want, *pos, 0);
		if (r <= 0) break;
		ring_put(&p->ring, buf, (size_t)r);
		done += (size_t)r;
		*pos += (uint64_t)r;
		if ((size_t)r < want) break;
	}
	p->back_held = 0;
	vfs_changed(out->node);
	return done ? (long)done : r;
}

/* Pipe to pipe: once in has bytes and out has room at the same time, what fits moves
 * without waiting in between. */
static long splice_pipes(struct file *in, struct file *out, size_t len, int nonblock)
{
	struct pipe *from = in->node->priv, *to = out->node->priv;
	long avail, room;
	do {
		avail = wait_readable(in, nonblock || in->flags & O_NONBLOCK);
		if (avail <= 0) return avail;
		room = wait_writable(out, nonblock || out->flags & O_NONBLOCK);
		if (room < 0) return room;
		avail = wait_readable(in, 1); /* still there after that wait? */
	} while (avail == -EAGAIN);
	if (avail <= 0) return avail;
	size_t n = (size_t)(avail < room ? avail : room), done = 0;
	if (n > len) n = len;
	char buf[SPLICE_CHUNK];
	while (done < n) {
		size_t piece = ring_peek(&from->ring, 0, buf, n - done < sizeof buf ? n - done : sizeof buf);
		ring_put(&to->ring, buf, piece);
		ring_drop(&from->ring, piece);
		done += piece;
	}
	vfs_changed(in->node);
	vfs_changed(out->node);
	return (long)n;
}

long sys_splice(long fd_in, int64_t *off_in, long fd_out, int64_t *off_out, size_t len, unsigned flags)
{
	struct file *in = fd_get(fd_in), *out = fd_get(fd_out);
	if (flags & ~SPLICE_F_ALL_) return -EINVAL;
	if (!in || !out || (in->flags & O_ACCMODE) == O_WRONLY || (out->flags & O_ACCMODE) == O_RDONLY) return -EBADF;
	int from_pipe = is_pipe(in), to_pipe = is_pipe(out), nonblock = !!(flags & SPLICE_F_NONBLOCK_);
	if ((from_pipe && off_in) || (to_pipe && off_out)) return -ESPIPE;
	if (!from_pipe && !to_pipe) return -EINVAL;
	if (from_pipe && to_pipe && in->node == out->node) return -EINVAL;
	struct file *other = from_pipe ? out : in; /* the side that is no pipe, if one is not */
	int64_t *off = from_pipe ? off_out : off_in;
	if (!(from_pipe && to_pipe)) {
		if (off && other->node->ops->stream) return -ESPIPE;
		if (off && *off < 0) return -EINVAL;
		if (from_pipe && out->flags & O_APPEND) return -EINVAL;
	}
	if (len == 0) return 0;
	uint64_t pos = off ? (uint64_t)*off : other->pos;
	file_hold(in); /* both stay open across a wait, whatever another thread closes */
	file_hold(out);
	long r;
	if (from_pipe && to_pipe) r = splice_pipes(in, out, len, nonblock);
	else if (from_pipe) r = splice_from_pipe(in, out, &pos, len, nonblock);
	else r = splice_to_pipe(in, &pos, out, len, nonblock);
	if (!other->node->ops->stream) {
		if (off) *off = (int64_t)pos;
		else other->pos = pos;
	}
	file_put(out);
	file_put(in);
	return r;
}
