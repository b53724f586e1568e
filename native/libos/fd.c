/*
 * File descriptors and open files. An fd points to an open file (its dups to the same
 * one), which points to its node; what reading, writing or polling it does is up to its
 * kind (node->ops). Nothing here knows the kinds: fs.c and the kinds' own calls use this.
 */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "vfs.h"

static struct file *fds[MAX_FDS];
static uint8_t cloexec[MAX_FDS];
void (*fd_unwatch)(struct file *f);

struct file *fd_get(long fd)
{
	return fd >= 0 && fd < MAX_FDS ? fds[fd] : 0;
}

/* Closed files wait here to be reused (their node field links the list). */
static struct file *free_files;

struct file *file_open(struct node *node, int flags)
{
	struct file *f = free_files;
	if (f) free_files = (struct file *)f->node;
	else f = arena_alloc(sizeof *f);
	memset(f, 0, sizeof *f);
	f->node = node;
	f->flags = flags;
	f->refs = 1;
	node->links++;
	return f;
}

void file_hold(struct file *f)
{
	f->refs++;
}

void file_put(struct file *f)
{
	if (--f->refs > 0) return;
	if (fd_unwatch) fd_unwatch(f);
	if (f->node->ops->release) f->node->ops->release(f);
	vfs_put(f->node);
	f->node = (struct node *)free_files;
	free_files = f;
}

void fd_install_at(struct file *f, long fd, int close_on_exec)
{
	if (fds[fd]) fd_close(fd);
	fds[fd] = f;
	cloexec[fd] = (uint8_t)close_on_exec;
	f->refs++;
}

long fd_install(struct file *f, int min, int close_on_exec)
{
	for (int fd = min; fd < MAX_FDS; fd++)
		if (!fds[fd]) {
			fd_install_at(f, fd, close_on_exec);
			return fd;
		}
	return -EMFILE;
}

long fd_open(struct node *node, int flags)
{
	struct file *f = file_open(node, flags & ~O_CLOEXEC);
	vfs_put(node); /* not in any folder: only the file holds it */
	long r = fd_install(f, 0, !!(flags & O_CLOEXEC));
	file_put(f);
	return r;
}

long fd_close(long fd)
{
	struct file *f = fd_get(fd);
	if (!f) return -EBADF;
	fds[fd] = 0;
	file_put(f);
	return 0;
}

int fd_cloexec(long fd)
{
	return cloexec[fd];
}

void fd_set_cloexec(long fd, int close_on_exec)
{
	cloexec[fd] = (uint8_t)close_on_exec;
}

long file_rw(struct file *f, void *buf, size_t len, uint64_t off, int write)
{
	const struct file_ops *ops = f->node->ops;
	struct iovec one = { buf, len };
	long r;
	file_hold(f);
	if (write) r = ops->write ? ops->write(f, buf, len, off) : (ops->writev ? ops->writev(f, &one, 1) : -EINVAL);
	else r = ops->read ? ops->read(f, buf, len, off) : (ops->readv ? ops->readv(f, &one, 1) : -EINVAL);
	file_put(f);
	return r;
}

short file_poll(struct file *f)
{
	return f->node->ops->poll ? f->node->ops->poll(f) : POLLIN | POLLOUT;
}

uint64_t poll_deadline(uint64_t ns)
{
	return ns == 0 ? 1 : time_now_ns(CLOCK_MONOTONIC) + ns;
}

long poll_deadline_ts(const struct timespec *ts, uint64_t *deadline)
{
	if (!ts) {
		*deadline = 0;
		return 0;
	}
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000) return -EINVAL;
	*deadline = poll_deadline((uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec);
	return 0;
}
