/*
 * Pipes: a 64 KiB ring between green threads. A reader of an empty pipe and a writer of
 * a full one wait in the scheduler until the other side moves; every change also wakes
 * poll, select and epoll (vfs_changed). The ring is also each direction of a socketpair
 * (unix.c). A closed pipe's node and state are kept for the next pipe: nodes come from
 * the arena, which never frees.
 */
#include <poll.h>
#include <string.h>

#include "vfs.h"

struct pipe {
	struct ring ring;
	int readers, writers; /* open ends */
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

struct node *pipe_new(void)
{
	struct node *n = free_pipes;
	if (n) {
		free_pipes = n->next;
		n->next = 0;
		n->links = 1;
	} else {
		n = vfs_new(0, "pipe", 4, NODE_PIPE, 0600);
		n->pipe = arena_alloc(sizeof *n->pipe);
	}
	ring_init(&n->pipe->ring);
	n->pipe->readers = n->pipe->writers = 1;
	return n;
}

long pipe_read(struct node *node, void *buf, size_t len, int nonblock)
{
	struct pipe *p = node->pipe;
	if (len == 0) return 0;
	while (p->ring.len == 0) {
		if (p->writers == 0) return 0; /* end of file */
		if (nonblock) return -EAGAIN;
		if (sched_wait(node, 0) < 0) return -EINTR;
	}
	size_t n = ring_peek(&p->ring, 0, buf, len);
	ring_drop(&p->ring, n);
	vfs_changed(node);
	return (long)n;
}

long pipe_write(struct node *node, const void *buf, size_t len, int nonblock)
{
	struct pipe *p = node->pipe;
	size_t done = 0;
	while (done < len) {
		if (p->readers == 0) return done ? (long)done : -EPIPE;
		if (p->ring.len == RING_SIZE) {
			if (nonblock) return done ? (long)done : -EAGAIN;
			if (sched_wait(node, 0) < 0) return done ? (long)done : -EINTR;
			continue;
		}
		done += ring_put(&p->ring, (const char *)buf + done, len - done);
		vfs_changed(node);
	}
	return (long)done;
}

void pipe_close(struct node *node, int write_end)
{
	struct pipe *p = node->pipe;
	if (write_end) p->writers--;
	else p->readers--;
	vfs_changed(node);
}

short pipe_poll(struct node *node, int write_end)
{
	struct pipe *p = node->pipe;
	if (write_end) return (short)((p->readers == 0 ? POLLERR : 0) | (p->ring.len < RING_SIZE ? POLLOUT : 0));
	return (short)((p->ring.len ? POLLIN : 0) | (p->writers == 0 ? POLLHUP : 0));
}

void pipe_free(struct node *node)
{
	ring_free(&node->pipe->ring);
	node->next = free_pipes;
	free_pipes = node;
}
