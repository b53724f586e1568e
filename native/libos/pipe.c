/*
 * Pipes (pipe2) and FIFOs (mkfifo): a 64 KiB ring between green threads. A reader of an
 * empty pipe and a writer of a full one wait in the scheduler until the other side moves;
 * every change also wakes poll, select and epoll (vfs_changed). The ring is also each
 * direction of a socketpair (unix.c). A closed pipe's node and state are kept for the next
 * pipe: nodes come from the arena, which never frees. A FIFO is a pipe with a name, whose
 * ring lives while an end is open; opening it is as on Linux (fifo(7)): a blocking open
 * waits for the other side, a non-blocking one for reading succeeds (reads are then at
 * their end until a writer comes), and one for writing with no reader is ENXIO.
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

static long pipe_read(struct file *f, void *buf, size_t len, uint64_t off)
{
	(void)off;
	struct node *node = f->node;
	struct pipe *p = node->priv;
	if (len == 0) return 0;
	while (p->ring.len == 0) {
		if (p->writers == 0) return 0; /* end of file */
		if (f->flags & O_NONBLOCK) return -EAGAIN;
		if (sched_wait(node, 0) < 0) return -EINTR;
	}
	size_t n = ring_peek(&p->ring, 0, buf, len);
	ring_drop(&p->ring, n);
	vfs_changed(node);
	return (long)n;
}

static long pipe_write(struct file *f, const void *buf, size_t len, uint64_t off)
{
	(void)off;
	struct node *node = f->node;
	struct pipe *p = node->priv;
	size_t done = 0;
	while (done < len) {
		if (p->readers == 0) return done ? (long)done : -EPIPE;
		if (p->ring.len == RING_SIZE) {
			if (f->flags & O_NONBLOCK) return done ? (long)done : -EAGAIN;
			if (sched_wait(node, 0) < 0) return done ? (long)done : -EINTR;
			continue;
		}
		done += ring_put(&p->ring, (const char *)buf + done, len - done);
		vfs_changed(node);
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
