/*
 * Devices: /dev/null, /dev/zero, /dev/urandom and /dev/random (both the one ChaCha20 stream
 * of random.c), and the console: fds 0-2, the tender's stdin (read as empty), stdout and
 * stderr. There are no terminals: the console is a pipe to the container runtime.
 */
#include <poll.h>
#include <string.h>

#include "vfs.h"

/* The console's ends are devices 0x8800 + their host fd (like /dev/pts/N): the number says which. */
#define CONSOLE_RDEV 0x8800

/* /dev/null, and the console: nothing to read. */
static long read_nothing(struct file *f, void *buf, size_t len, uint64_t off)
{
	(void)f;
	(void)buf;
	(void)len;
	(void)off;
	return 0;
}

/* /dev/null, /dev/zero, /dev/urandom: whatever is written is taken and dropped. */
static long write_drop(struct file *f, const void *buf, size_t len, uint64_t off)
{
	(void)f;
	(void)buf;
	(void)off;
	return (long)len;
}

static long zero_read(struct file *f, void *buf, size_t len, uint64_t off)
{
	(void)f;
	(void)off;
	memset(buf, 0, len);
	return (long)len;
}

static long random_read(struct file *f, void *buf, size_t len, uint64_t off)
{
	(void)f;
	(void)off;
	random_fill(buf, len);
	return (long)len;
}

/* Never blocks, yet epoll takes it, as Linux does (not /dev/null, nor /dev/zero). */
static short random_poll(struct file *f)
{
	(void)f;
	return POLLIN | POLLOUT;
}

static const struct file_ops null_ops = { .read = read_nothing, .write = write_drop };
static const struct file_ops zero_ops = { .read = zero_read, .write = write_drop };
static const struct file_ops random_ops = { .read = random_read, .write = write_drop, .poll = random_poll };

static long console_write(struct file *f, const void *buf, size_t len, uint64_t off)
{
	(void)off;
	int host_fd = (int)(f->node->rdev - CONSOLE_RDEV);
	if (host_fd == 0) return -EBADF;
	long ready = mem_ready(buf, len);
	if (ready < 0) return ready;
	for (size_t done = 0; done < len;) {
		long r = hc_write(host_fd, (const char *)buf + done, len - done);
		if (r == -EINTR) continue;
		if (r < 0) return done ? (long)done : r;
		done += (size_t)r;
	}
	return (long)len;
}

/* writev is gathered into one host write: a reader sees it whole, and one hypercall is
 * cheaper than one per piece (musl's stdio writes buffer + tail as two). */
static long console_writev(struct file *f, const struct iovec *iov, int count)
{
	char buf[4096];
	size_t used = 0;
	long total = 0;
	for (int i = 0; i <= count; i++) {
		size_t len = i < count ? iov[i].iov_len : 0;
		const char *p = i < count ? iov[i].iov_base : 0;
		if (used && (i == count || used + len > sizeof buf)) {
			long r = console_write(f, buf, used, 0);
			if (r < 0) return total ? total : r;
			total += r;
			used = 0;
		}
		if (len > sizeof buf) {
			long r = console_write(f, p, len, 0);
			if (r < 0) return total ? total : r;
			total += r;
		} else if (len) {
			memcpy(buf + used, p, len);
			used += len;
		}
	}
	return total;
}

/* stdin is at its end. */
static short console_poll(struct file *f)
{
	return f->node->rdev == CONSOLE_RDEV ? POLLIN | POLLHUP : POLLOUT;
}

static const struct file_ops console_ops = {
	.read = read_nothing,
	.write = console_write,
	.writev = console_writev,
	.poll = console_poll,
	.stream = 1,
};

void dev_init(void)
{
	struct node *dev = vfs_new(vfs_root, "dev", 3, S_IFDIR | 0755, &regular_ops);
	vfs_new(dev, "null", 4, S_IFCHR | 0666, &null_ops);
	vfs_new(dev, "zero", 4, S_IFCHR | 0666, &zero_ops);
	vfs_new(dev, "urandom", 7, S_IFCHR | 0444, &random_ops);
	vfs_new(dev, "random", 6, S_IFCHR | 0444, &random_ops);
}

struct node *dev_console(int host_fd)
{
	static const char *names[3] = { "stdin", "stdout", "stderr" };
	struct node *n = vfs_new(0, names[host_fd], strlen(names[host_fd]), S_IFCHR | 0620, &console_ops);
	n->rdev = CONSOLE_RDEV + (dev_t)host_fd;
	return n;
}
