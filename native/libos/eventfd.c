/*
 * eventfd: a 64-bit counter that writes add to and reads take from, in 8-byte units.
 * A read of 0 and a write that would pass 2^64-2 wait in the scheduler (or are EAGAIN
 * with O_NONBLOCK); every change wakes poll, select and epoll, like a pipe's.
 */
#include <poll.h>
#include <string.h>

#include "vfs.h"

#define EVENTFD_MAX 0xfffffffffffffffeULL /* the counter's largest value */

struct node *efd_new(unsigned initval, int semaphore)
{
	struct node *n = vfs_new(0, "[eventfd]", 9, NODE_EVENTFD, 0600);
	n->count = initval;
	n->semaphore = semaphore;
	return n;
}

long efd_read(struct node *node, void *buf, size_t len, int nonblock)
{
	if (len < 8) return -EINVAL;
	while (node->count == 0) {
		if (nonblock) return -EAGAIN;
		if (sched_wait(node, 0) < 0) return -EINTR;
	}
	/* EFD_SEMAPHORE: each read takes one; otherwise the whole count, back to zero. */
	uint64_t value = node->semaphore ? 1 : node->count;
	node->count -= value;
	memcpy(buf, &value, 8);
	vfs_changed(node);
	return 8;
}

long efd_write(struct node *node, const void *buf, size_t len, int nonblock)
{
	uint64_t value;
	if (len < 8) return -EINVAL;
	memcpy(&value, buf, 8);
	if (value == ~0ULL) return -EINVAL;
	while (EVENTFD_MAX - node->count < value) {
		if (nonblock) return -EAGAIN;
		if (sched_wait(node, 0) < 0) return -EINTR;
	}
	node->count += value;
	vfs_changed(node); /* even for 0: Linux wakes the waiters too */
	return 8;
}

short efd_poll(struct node *node)
{
	return (short)((node->count ? POLLIN : 0) | (node->count < EVENTFD_MAX ? POLLOUT : 0));
}
