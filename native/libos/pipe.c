/*
 * Pipes: a 64 KiB ring between green threads. A reader of an empty pipe and a writer of
 * a full one wait in the scheduler until the other side moves; every change also wakes
 * poll, select and epoll (vfs_changed).
 */
#include <poll.h>
#include <string.h>

#include "vfs.h"

#define PIPE_SIZE 65536

struct pipe {
	char *buf;
	size_t head, len;     /* ring: len bytes from head */
	int readers, writers; /* open ends */
};

struct node *pipe_new(void)
{
	struct node *n = vfs_new(0, "pipe", 4, NODE_PIPE, 0600);
	struct pipe *p = arena_alloc(sizeof *p);
	memset(p, 0, sizeof *p);
	p->buf = mem_alloc(PIPE_SIZE);
	p->readers = p->writers = 1;
	n->pipe = p;
	return n;
}

long pipe_read(struct node *node, void *buf, size_t len, int nonblock)
{
	struct pipe *p = node->pipe;
	if (len == 0) return 0;
	while (p->len == 0) {
		if (p->writers == 0) return 0; /* end of file */
		if (nonblock) return -EAGAIN;
		sched_wait(node, 0);
	}
	size_t n = len < p->len ? len : p->len;
	for (size_t i = 0; i < n; i++) ((char *)buf)[i] = p->buf[(p->head + i) % PIPE_SIZE];
	p->head = (p->head + n) % PIPE_SIZE;
	p->len -= n;
	vfs_changed(node);
	return (long)n;
}

long pipe_write(struct node *node, const void *buf, size_t len, int nonblock)
{
	struct pipe *p = node->pipe;
	size_t done = 0;
	while (done < len) {
		if (p->readers == 0) return done ? (long)done : -EPIPE;
		if (p->len == PIPE_SIZE) {
			if (nonblock) return done ? (long)done : -EAGAIN;
			sched_wait(node, 0);
			continue;
		}
		size_t n = len - done < PIPE_SIZE - p->len ? len - done : PIPE_SIZE - p->len;
		for (size_t i = 0; i < n; i++) p->buf[(p->head + p->len + i) % PIPE_SIZE] = ((const char *)buf)[done + i];
		p->len += n;
		done += n;
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
	if (write_end) return (short)((p->readers == 0 ? POLLERR : 0) | (p->len < PIPE_SIZE ? POLLOUT : 0));
	return (short)((p->len ? POLLIN : 0) | (p->writers == 0 ? POLLHUP : 0));
}

void pipe_free(struct node *node)
{
	mem_free(node->pipe->buf, PIPE_SIZE);
	node->pipe = 0;
}
