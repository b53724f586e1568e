/*
 * eventfd: a 64-bit counter that writes add to and reads take from, in 8-byte units.
 * A read of 0 and a write that would pass 2^64-2 wait in the scheduler (or are EAGAIN
 * with O_NONBLOCK); every change wakes poll, select and epoll, like a pipe's.
 */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>

#include "vfs.h"

#define EVENTFD_MAX 0xfffffffffffffffeULL /* the counter's largest value */

struct counter {
	uint64_t count;
	int semaphore; /* EFD_SEMAPHORE */
};

static long efd_read(struct file *f, void *buf, size_t len, uint64_t off)
{
	(void)off;
	struct counter *c = f->node->priv;
	if (len < 8) return -EINVAL;
	while (c->count == 0) {
		if (f->flags & O_NONBLOCK) return -EAGAIN;
		if (sched_wait(f->node, 0) < 0) return -EINTR;
	}
	/* EFD_SEMAPHORE: each read takes one; otherwise the whole count, back to zero. */
	uint64_t value = c->semaphore ? 1 : c->count;
	c->count -= value;
	memcpy(buf, &value, 8);
	vfs_changed(f->node);
	return 8;
}

static long efd_write(struct file *f, const void *buf, size_t len, uint64_t off)
{
	(void)off;
	struct counter *c = f->node->priv;
	uint64_t value;
	if (len < 8) return -EINVAL;
	memcpy(&value, buf, 8);
	if (value == ~0ULL) return -EINVAL;
	while (EVENTFD_MAX - c->count < value) {
		if (f->flags & O_NONBLOCK) return -EAGAIN;
		if (sched_wait(f->node, 0) < 0) return -EINTR;
	}
	c->count += value;
	vfs_changed(f->node); /* even for 0: Linux wakes the waiters too */
	return 8;
}

static short efd_poll(struct file *f)
{
	struct counter *c = f->node->priv;
	return (short)((c->count ? POLLIN : 0) | (c->count < EVENTFD_MAX ? POLLOUT : 0));
}

static const struct file_ops eventfd_ops = { .read = efd_read, .write = efd_write, .poll = efd_poll, .stream = 1 };

long sys_eventfd2(unsigned initval, int flags)
{
	if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)) return -EINVAL;
	struct node *node = vfs_new(0, "[eventfd]", 9, 0600, &eventfd_ops); /* an anonymous inode: no type */
	struct counter *c = node->priv = arena_alloc(sizeof *c);
	c->count = initval;
	c->semaphore = flags & EFD_SEMAPHORE;
	return fd_open(node, O_RDWR | (flags & (O_CLOEXEC | O_NONBLOCK)));
}
