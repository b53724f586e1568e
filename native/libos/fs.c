/*
 * File descriptors and the file system calls, over the tree in vfs.c. fds 0-2 are the
 * console (stdin reads as empty); every other fd is a file, directory, device, pipe,
 * eventfd, epoll set, socket (net.c) or socketpair end (unix.c) here.
 */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#include "vfs.h"

#define MAX_FDS 1024

static struct file *fds[MAX_FDS];
static uint8_t cloexec[MAX_FDS];
static struct node *cwd;

static struct file *get(long fd)
{
	return fd >= 0 && fd < MAX_FDS ? fds[fd] : 0;
}

struct file *fs_get(long fd)
{
	return get(fd);
}

static long install(struct file *f, int min, int close_on_exec)
{
	for (int fd = min; fd < MAX_FDS; fd++)
		if (!fds[fd]) {
			fds[fd] = f;
			cloexec[fd] = (uint8_t)close_on_exec;
			f->refs++;
			return fd;
		}
	return -EMFILE;
}

/* Closed files wait here to be reused (their node field links the list). */
static struct file *free_files;

static struct file *open_file(struct node *node, int flags)
{
	struct file *f = free_files;
	if (f) free_files = (struct file *)f->node;
	else f = arena_alloc(sizeof *f);
	memset(f, 0, sizeof *f);
	f->node = node;
	f->flags = flags;
	node->links++;
	return f;
}

static void release(struct file *f)
{
	epoll_forget(f); /* the last fd is gone: out of every epoll set, as on Linux */
	if (f->node->kind == NODE_PIPE) pipe_close(f->node, (f->flags & O_ACCMODE) == O_WRONLY);
	vfs_put(f->node);
	f->node = (struct node *)free_files;
	free_files = f;
}

void fs_hold(struct file *f)
{
	f->refs++;
}

void fs_put(struct file *f)
{
	if (--f->refs == 0) release(f);
}

static long do_close(long fd)
{
	struct file *f = get(fd);
	if (!f) return -EBADF;
	fds[fd] = 0;
	if (--f->refs == 0) release(f);
	return 0;
}

long fs_close(long fd)
{
	return do_close(fd);
}

static struct node *console(int host_fd, const char *name)
{
	struct node *n = vfs_new(0, name, strlen(name), NODE_CONSOLE, 0620);
	n->host_fd = host_fd;
	return n;
}

void fs_init(void)
{
	vfs_init();
	if (libos_boot->disk_fd >= 0) tar_load(libos_boot->disk_size);
	static const int modes[3] = { O_RDONLY, O_WRONLY, O_WRONLY };
	static const char *names[3] = { "stdin", "stdout", "stderr" };
	for (int fd = 0; fd < 3; fd++) install(open_file(console(fd, names[fd]), modes[fd]), fd, 0);
	cwd = vfs_root;
	struct node *dir;
	if (libos_boot->cwd && vfs_lookup(vfs_root, (const char *)libos_boot->cwd, 1, &dir, 0, 0) == 0 && dir->kind == NODE_DIR)
		cwd = dir;
}

long fs_open_node(struct node *node, int flags)
{
	struct file *f = open_file(node, flags & ~O_CLOEXEC);
	vfs_put(node); /* not in any folder: only the file holds it */
	long r = install(f, 0, !!(flags & O_CLOEXEC));
	if (r < 0) release(f);
	return r;
}

/* The directory a *at() call starts from. */
static long base_dir(long dirfd, const char *path, struct node **base)
{
	if (path && path[0] == '/') { *base = vfs_root; return 0; }
	if ((int)dirfd == AT_FDCWD) { *base = cwd; return 0; }
	struct file *f = get(dirfd);
	if (!f) return -EBADF;
	if (f->node->kind != NODE_DIR) return -ENOTDIR;
	*base = f->node;
	return 0;
}

static long lookup_at(long dirfd, const char *path, int follow, struct node **out)
{
	struct node *base;
	long r = base_dir(dirfd, path, &base);
	return r < 0 ? r : vfs_lookup(base, path, follow, out, 0, 0);
}

static long sys_openat(long dirfd, const char *path, int flags, mode_t mode)
{
	struct node *base, *node, *parent;
	const char *last;
	long r = base_dir(dirfd, path, &base);
	if (r < 0) return r;
	/* O_CREAT|O_EXCL never follows a link in the last part, even a dangling one: it exists. */
	int excl = (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
	r = vfs_lookup(base, path, !(flags & O_NOFOLLOW) && !excl, &node, &parent, &last);
	if (r == -ENOENT && (flags & O_CREAT) && parent) {
		size_t len = strcspn(last, "/");
		if (last[len]) return -ENOENT; /* "newdir/" cannot be created as a file */
		node = vfs_new(parent, last, len, NODE_FILE, mode & ~022);
		node->mtime = (int64_t)(time_now_ns(0) / 1000000000u);
	} else if (r < 0) {
		return r;
	} else if ((flags & O_CREAT) && (flags & O_EXCL)) {
		return -EEXIST;
	}
	if (node->kind == NODE_SYMLINK) return -ELOOP; /* O_NOFOLLOW on a link */
	if ((flags & O_DIRECTORY) && node->kind != NODE_DIR) return -ENOTDIR;
	if (node->kind == NODE_DIR && (flags & O_ACCMODE) != O_RDONLY) return -EISDIR;
	if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY && node->kind == NODE_FILE) vfs_truncate(node, 0);
	struct file *f = open_file(node, flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC));
	r = install(f, 0, !!(flags & O_CLOEXEC));
	if (r < 0) release(f);
	return r;
}

static long file_read(struct file *f, void *buf, size_t len, uint64_t off)
{
	switch (f->node->kind) {
	case NODE_CONSOLE: return 0; /* stdin is empty; reading stdout/stderr too */
	case NODE_NULL: return 0;
	case NODE_ZERO: memset(buf, 0, len); return (long)len;
	case NODE_RANDOM: random_fill(buf, len); return (long)len;
	case NODE_EPOLL: return -EINVAL;
	default: return vfs_read(f->node, buf, len, off);
	}
}

static long file_write(struct file *f, const void *buf, size_t len, uint64_t off)
{
	switch (f->node->kind) {
	case NODE_CONSOLE:
		if (f->node->host_fd == 0) return -EBADF;
		for (size_t done = 0; done < len;) {
			long r = hc_write(f->node->host_fd, (const char *)buf + done, len - done);
			if (r == -EINTR) continue;
			if (r < 0) return done ? (long)done : r;
			done += (size_t)r;
		}
		return (long)len;
	case NODE_NULL:
	case NODE_ZERO:
	case NODE_RANDOM: return (long)len;
	case NODE_EPOLL: return -EINVAL;
	default: return vfs_write(f->node, buf, len, off);
	}
}

static int readable(struct file *f) { return (f->flags & O_ACCMODE) != O_WRONLY; }
static int writable(struct file *f) { return (f->flags & O_ACCMODE) != O_RDONLY; }
/* Streams: the console, pipes, eventfds, epoll sets and sockets have no offset. */
static int unseekable(struct file *f) { return f->node->kind >= NODE_CONSOLE; }

/* A pipe's or an eventfd's read or write, which may block: the file is held meanwhile, so
 * a close from another thread cannot free the node under it. */
static long stream_io(struct file *f, void *buf, size_t len, int write)
{
	int nonblock = f->flags & O_NONBLOCK;
	long r;
	fs_hold(f);
	if (f->node->kind == NODE_PIPE) r = write ? pipe_write(f->node, buf, len, nonblock) : pipe_read(f->node, buf, len, nonblock);
	else r = write ? efd_write(f->node, buf, len, nonblock) : efd_read(f->node, buf, len, nonblock);
	fs_put(f);
	return r;
}

static long sys_read(long fd, void *buf, size_t len)
{
	struct file *f = get(fd);
	if (!f || !readable(f)) return -EBADF;
	if (f->node->kind == NODE_PIPE || f->node->kind == NODE_EVENTFD) return stream_io(f, buf, len, 0);
	if (f->node->kind == NODE_SOCKET) return net_rw(f, &(struct iovec){ buf, len }, 1, 0);
	if (f->node->kind == NODE_UNIX) return unix_rw(f, &(struct iovec){ buf, len }, 1, 0);
	long r = file_read(f, buf, len, f->pos);
	if (r > 0) f->pos += (uint64_t)r;
	return r;
}

static long sys_write(long fd, const void *buf, size_t len)
{
	struct file *f = get(fd);
	if (!f || !writable(f)) return -EBADF;
	if (f->node->kind == NODE_PIPE || f->node->kind == NODE_EVENTFD) return stream_io(f, (void *)buf, len, 1);
	if (f->node->kind == NODE_SOCKET) return net_rw(f, &(struct iovec){ (void *)buf, len }, 1, 1);
	if (f->node->kind == NODE_UNIX) return unix_rw(f, &(struct iovec){ (void *)buf, len }, 1, 1);
	if (f->flags & O_APPEND) f->pos = f->node->size;
	long r = file_write(f, buf, len, f->pos);
	if (r > 0) f->pos += (uint64_t)r;
	return r;
}

static long sys_pread(long fd, void *buf, size_t len, int64_t off)
{
	struct file *f = get(fd);
	if (!f || !readable(f)) return -EBADF;
	if (off < 0) return -EINVAL;
	if (unseekable(f)) return -ESPIPE;
	return file_read(f, buf, len, (uint64_t)off);
}

static long sys_pwrite(long fd, const void *buf, size_t len, int64_t off)
{
	struct file *f = get(fd);
	if (!f || !writable(f)) return -EBADF;
	if (off < 0) return -EINVAL;
	if (unseekable(f)) return -ESPIPE;
	return file_write(f, buf, len, (uint64_t)off);
}

/* writev to the console is gathered into one host write: a reader sees it whole, and one
 * hypercall is cheaper than one per piece (musl's stdio writes buffer + tail as two). */
static long gather_write(long fd, const struct iovec *iov, int count)
{
	char buf[4096];
	size_t used = 0;
	long total = 0;
	for (int i = 0; i <= count; i++) {
		size_t len = i < count ? iov[i].iov_len : 0;
		const char *p = i < count ? iov[i].iov_base : 0;
		if (used && (i == count || used + len > sizeof buf)) {
			long r = sys_write(fd, buf, used);
			if (r < 0) return total ? total : r;
			total += r;
			used = 0;
		}
		if (len > sizeof buf) {
			long r = sys_write(fd, p, len);
			if (r < 0) return total ? total : r;
			total += r;
		} else if (len) {
			memcpy(buf + used, p, len);
			used += len;
		}
	}
	return total;
}

static long vector(long fd, const struct iovec *iov, int count, int write)
{
	if (count < 0 || count > 1024) return -EINVAL;
	struct file *f = get(fd);
	if (write && f && f->node->kind == NODE_CONSOLE) return gather_write(fd, iov, count);
	/* A socket takes the vector whole: one segment for a header and body, one datagram. */
	if (f && f->node->kind == NODE_SOCKET && (write ? writable(f) : readable(f))) return net_rw(f, iov, count, write);
	if (f && f->node->kind == NODE_UNIX && (write ? writable(f) : readable(f))) return unix_rw(f, iov, count, write);
	long total = 0;
	for (int i = 0; i < count; i++) {
		if (iov[i].iov_len == 0) continue;
		long r = write ? sys_write(fd, iov[i].iov_base, iov[i].iov_len) : sys_read(fd, iov[i].iov_base, iov[i].iov_len);
		if (r < 0) return total ? total : r;
		total += r;
		if ((size_t)r < iov[i].iov_len) break;
	}
	return total;
}

static long sys_lseek(long fd, int64_t off, int whence)
{
	struct file *f = get(fd);
	if (!f) return -EBADF;
	if (unseekable(f)) return -ESPIPE;
	int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)f->pos : whence == SEEK_END ? (int64_t)f->node->size : -1;
	if (base < 0 || base + off < 0) return -EINVAL;
	f->pos = (uint64_t)(base + off);
	return (long)f->pos;
}

static long sys_fstatat(long dirfd, const char *path, struct stat *st, int flags)
{
	struct node *node;
	if ((flags & AT_EMPTY_PATH) && path[0] == 0) {
		struct file *f = get(dirfd);
		if ((int)dirfd == AT_FDCWD) node = cwd;
		else if (!f) return -EBADF;
		else node = f->node;
	} else {
		long r = lookup_at(dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &node);
		if (r < 0) return r;
	}
	vfs_stat(node, st);
	return 0;
}

/* Linux's struct statx (musl 1.2.3 has no declaration of it); 256 bytes. */
struct kstatx_time { int64_t tv_sec; uint32_t tv_nsec; int32_t reserved; };
struct kstatx {
	uint32_t stx_mask, stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink, stx_uid, stx_gid;
	uint16_t stx_mode, spare0;
	uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
	struct kstatx_time stx_atime, stx_btime, stx_ctime, stx_mtime;
	uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
	uint64_t spare[14];
};
_Static_assert(sizeof(struct kstatx) == 256, "struct statx is 256 bytes");

static long sys_statx(long dirfd, const char *path, int flags, unsigned mask, struct kstatx *stx)
{
	(void)mask;
	struct stat st;
	long r = sys_fstatat(dirfd, path, &st, flags);
	if (r < 0) return r;
	memset(stx, 0, sizeof *stx);
	stx->stx_mask = 0x7ff; /* STATX_BASIC_STATS */
	stx->stx_blksize = (uint32_t)st.st_blksize;
	stx->stx_nlink = (uint32_t)st.st_nlink;
	stx->stx_mode = (uint16_t)st.st_mode;
	stx->stx_ino = st.st_ino;
	stx->stx_size = (uint64_t)st.st_size;
	stx->stx_blocks = (uint64_t)st.st_blocks;
	stx->stx_atime.tv_sec = stx->stx_mtime.tv_sec = stx->stx_ctime.tv_sec = st.st_mtim.tv_sec;
	stx->stx_rdev_major = (uint32_t)(st.st_rdev >> 8);
	stx->stx_rdev_minor = (uint32_t)(st.st_rdev & 0xff);
	stx->stx_dev_minor = 1;
	return 0;
}

static long sys_getdents64(long fd, char *buf, size_t len)
{
	struct file *f = get(fd);
	if (!f) return -EBADF;
	struct node *dir = f->node;
	if (dir->kind != NODE_DIR) return -ENOTDIR;
	size_t used = 0;
	/* pos counts entries: 0 is ".", 1 is "..", then the children in order. */
	for (;; f->pos++) {
		struct node *n = 0;
		const char *name;
		if (f->pos == 0) { name = "."; n = dir; }
		else if (f->pos == 1) { name = ".."; n = dir->parent; }
		else {
			uint64_t i = 2;
			for (n = dir->children; n && i < f->pos; n = n->next) i++;
			if (!n) break;
			name = n->name;
		}
		size_t reclen = (19 + strlen(name) + 1 + 7) & ~(size_t)7;
		if (used + reclen > len) {
			if (used == 0) return -EINVAL;
			break;
		}
		struct dirent *d = (struct dirent *)(buf + used);
		d->d_ino = n->ino;
		d->d_off = (off_t)(f->pos + 1);
		d->d_reclen = (unsigned short)reclen;
		d->d_type = n->kind == NODE_DIR ? DT_DIR : n->kind == NODE_FILE ? DT_REG : n->kind == NODE_SYMLINK ? DT_LNK : DT_CHR;
		strcpy(d->d_name, name);
		used += reclen;
	}
	return (long)used;
}

static long sys_readlinkat(long dirfd, const char *path, char *buf, size_t len)
{
	struct node *node;
	long r = lookup_at(dirfd, path, 0, &node);
	if (r < 0) return r;
	if (node->kind != NODE_SYMLINK) return -EINVAL;
	size_t n = node->size < len ? node->size : len;
	memcpy(buf, node->data, n);
	return (long)n;
}

/* Where a new name goes: its parent directory and the name, which must not exist. */
static long new_name(long dirfd, const char *path, struct node **parent, const char **last, size_t *len)
{
	struct node *base, *node;
	long r = base_dir(dirfd, path, &base);
	if (r < 0) return r;
	r = vfs_lookup(base, path, 0, &node, parent, last);
	if (r == 0) return -EEXIST;
	if (r != -ENOENT || !*parent) return r;
	*len = strcspn(*last, "/");
	return 0;
}

static long sys_mkdirat(long dirfd, const char *path, mode_t mode)
{
	struct node *parent;
	const char *last;
	size_t len;
	long r = new_name(dirfd, path, &parent, &last, &len);
	if (r < 0) return r;
	vfs_new(parent, last, len, NODE_DIR, mode & ~022);
	return 0;
}

static long sys_symlinkat(const char *target, long dirfd, const char *path)
{
	struct node *parent;
	const char *last;
	size_t len;
	long r = new_name(dirfd, path, &parent, &last, &len);
	if (r < 0) return r;
	struct node *l = vfs_new(parent, last, len, NODE_SYMLINK, 0777);
	l->size = strlen(target);
	l->data = arena_alloc(l->size + 1);
	memcpy(l->data, target, l->size + 1);
	return 0;
}

static long sys_unlinkat(long dirfd, const char *path, int flags)
{
	/* rmdir("x/.") is EINVAL on Linux: the last part must name the folder itself. */
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/') len--;
	if ((flags & AT_REMOVEDIR) && len >= 1 && path[len - 1] == '.' && (len == 1 || path[len - 2] == '/')) return -EINVAL;
	struct node *node;
	long r = lookup_at(dirfd, path, 0, &node);
	if (r < 0) return r;
	if (node == vfs_root) return -EBUSY;
	if (flags & AT_REMOVEDIR) {
		if (node->kind != NODE_DIR) return -ENOTDIR;
		if (node->children) return -ENOTEMPTY;
	} else if (node->kind == NODE_DIR) {
		return -EISDIR;
	}
	vfs_unlink(node);
	return 0;
}

static long sys_renameat(long olddir, const char *oldpath, long newdir, const char *newpath)
{
	struct node *node, *target, *parent, *base;
	const char *last;
	long r = lookup_at(olddir, oldpath, 0, &node);
	if (r < 0) return r;
	if ((r = base_dir(newdir, newpath, &base)) < 0) return r;
	r = vfs_lookup(base, newpath, 0, &target, &parent, &last);
	if (r == 0) {
		if (target == node) return 0;
		parent = target->parent;
	} else if (r != -ENOENT || !parent) {
		return r;
	}
	for (struct node *p = parent; ; p = p->parent) { /* a folder cannot move into itself */
		if (p == node) return -EINVAL;
		if (p == vfs_root) break;
	}
	if (r == 0) { /* checked before anything is removed */
		if (node->kind == NODE_DIR && target->kind != NODE_DIR) return -ENOTDIR;
		if (target->kind == NODE_DIR && (node->kind != NODE_DIR || target->children)) return node->kind != NODE_DIR ? -EISDIR : -ENOTEMPTY;
		last = target->name;
		vfs_unlink(target);
	}
	size_t len = strcspn(last, "/");
	char *name = arena_alloc(len + 1);
	memcpy(name, last, len);
	name[len] = 0;
	struct node **link = &node->parent->children;
	while (*link != node) link = &(*link)->next;
	*link = node->next;
	node->name = name;
	node->parent = parent;
	node->next = parent->children;
	parent->children = node;
	return 0;
}

static long sys_getcwd(char *buf, size_t size)
{
	char path[4096];
	size_t len = vfs_path(cwd, path, sizeof path);
	if (len + 1 > size) return -ERANGE;
	memcpy(buf, path, len + 1);
	return (long)(len + 1);
}

static long sys_chdir_node(struct node *node)
{
	if (node->kind != NODE_DIR) return -ENOTDIR;
	cwd = node;
	return 0;
}

static long sys_dup3(long old, long new, int flags, int allow_same)
{
	struct file *f = get(old);
	if (!f || new < 0 || new >= MAX_FDS) return -EBADF;
	if (old == new) return allow_same ? new : -EINVAL;
	if (fds[new]) do_close(new);
	fds[new] = f;
	f->refs++;
	cloexec[new] = !!(flags & O_CLOEXEC);
	return new;
}

static long sys_fcntl(long fd, int cmd, long arg)
{
	struct file *f = get(fd);
	if (!f) return -EBADF;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (arg < 0 || arg >= MAX_FDS) return -EINVAL;
		return install(f, (int)arg, cmd == F_DUPFD_CLOEXEC);
	case F_GETFD: return cloexec[fd] ? FD_CLOEXEC : 0;
	case F_SETFD: cloexec[fd] = !!(arg & FD_CLOEXEC); return 0;
	case F_GETFL: return f->flags;
	case F_SETFL: f->flags = (f->flags & O_ACCMODE) | (int)(arg & (O_APPEND | O_NONBLOCK)); return 0;
	case F_GETLK: ((struct flock *)arg)->l_type = F_UNLCK; return 0;
	case F_SETLK:
	case F_SETLKW: return 0; /* one process: every lock is ours */
	default: return -EINVAL;
	}
}

static long sys_ioctl(long fd, unsigned long request, long arg)
{
	struct file *f = get(fd);
	if (!f) return -EBADF;
	switch (request) {
	case FIONBIO:
		if (*(const int *)arg) f->flags |= O_NONBLOCK;
		else f->flags &= ~O_NONBLOCK;
		return 0;
	case FIOCLEX:
	case FIONCLEX: cloexec[fd] = request == FIOCLEX; return 0;
	case FIONREAD:
		if (f->node->kind == NODE_SOCKET) *(int *)arg = (int)net_fionread(f->node);
		else if (f->node->kind == NODE_UNIX) *(int *)arg = (int)unix_fionread(f->node);
		else break;
		return 0;
	}
	return -ENOTTY; /* no terminals: the console is a pipe to the container runtime */
}

static long sys_faccessat(long dirfd, const char *path, int mode, int flags)
{
	(void)mode;
	struct node *node;
	return lookup_at(dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &node);
}

static long sys_pipe2(int *fdpair, int flags)
{
	if (flags & ~(O_CLOEXEC | O_NONBLOCK)) return -EINVAL;
	struct node *node = pipe_new();
	struct file *ends[2] = { open_file(node, O_RDONLY | (flags & O_NONBLOCK)), open_file(node, O_WRONLY | (flags & O_NONBLOCK)) };
	vfs_put(node); /* not in any folder: only the two ends hold it */
	long r = install(ends[0], 0, !!(flags & O_CLOEXEC));
	if (r < 0) {
		release(ends[0]);
		release(ends[1]);
		return r;
	}
	fdpair[0] = (int)r;
	r = install(ends[1], 0, !!(flags & O_CLOEXEC));
	if (r < 0) {
		do_close(fdpair[0]);
		release(ends[1]);
		return r;
	}
	fdpair[1] = (int)r;
	return 0;
}

static long sys_eventfd2(unsigned initval, int flags)
{
	if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)) return -EINVAL;
	return fs_open_node(efd_new(initval, flags & EFD_SEMAPHORE), O_RDWR | (flags & (O_CLOEXEC | O_NONBLOCK)));
}

short fs_file_poll(struct file *f)
{
	switch (f->node->kind) {
	case NODE_PIPE: return pipe_poll(f->node, (f->flags & O_ACCMODE) == O_WRONLY);
	case NODE_EVENTFD: return efd_poll(f->node);
	case NODE_EPOLL: return epoll_poll(f->node);
	case NODE_SOCKET: return net_poll(f->node);
	case NODE_UNIX: return unix_poll(f->node);
	case NODE_CONSOLE: return f->node->host_fd == 0 ? POLLIN | POLLHUP : POLLOUT; /* stdin: at its end */
	default: return POLLIN | POLLOUT; /* files and devices never block */
	}
}

/* What poll would report for fd now. */
static short readiness(long fd, short events)
{
	struct file *f = get(fd);
	if (!f) return POLLNVAL;
	return (short)(fs_file_poll(f) & (events | POLLERR | POLLHUP | POLLNVAL));
}

static long sys_poll(struct pollfd *fds_, unsigned long n, uint64_t deadline)
{
	if (n > MAX_FDS) return -EINVAL;
	for (;;) {
		long count = 0;
		for (unsigned long i = 0; i < n; i++) {
			fds_[i].revents = fds_[i].fd < 0 ? 0 : readiness(fds_[i].fd, fds_[i].events);
			if (fds_[i].revents) count++;
		}
		if (count || deadline == 1) return count; /* 1: a zero timeout */
		int woken = sched_wait(&poll_key, deadline);
		if (woken < 0) return woken; /* a signal */
		if (!woken && deadline) return 0; /* timed out */
	}
}

/* A poll-style wait: 0 waits forever, 1 means "do not wait", else a monotonic deadline. */
static uint64_t wait_deadline(uint64_t ns)
{
	return ns == 0 ? 1 : time_now_ns(CLOCK_MONOTONIC) + ns;
}

static long ppoll_deadline(const struct timespec *ts, uint64_t *deadline)
{
	if (!ts) { *deadline = 0; return 0; }
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000) return -EINVAL;
	*deadline = wait_deadline((uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec);
	return 0;
}

/* select over fd_sets, as poll: read, write, except sets in, ready sets out. */
static long sys_select(int n, fd_set *rd, fd_set *wr, fd_set *ex, uint64_t deadline)
{
	if (n < 0 || n > FD_SETSIZE) return -EINVAL;
	for (;;) {
		long count = 0;
		fd_set r_out, w_out, e_out;
		FD_ZERO(&r_out);
		FD_ZERO(&w_out);
		FD_ZERO(&e_out);
		for (int fd = 0; fd < n; fd++) {
			short want = (short)((rd && FD_ISSET(fd, rd) ? POLLIN : 0) | (wr && FD_ISSET(fd, wr) ? POLLOUT : 0));
			if (!want && !(ex && FD_ISSET(fd, ex))) continue;
			short got = readiness(fd, want);
			if (got & POLLNVAL) return -EBADF;
			if (rd && FD_ISSET(fd, rd) && got & (POLLIN | POLLHUP | POLLERR)) { FD_SET(fd, &r_out); count++; }
			if (wr && FD_ISSET(fd, wr) && got & (POLLOUT | POLLERR)) { FD_SET(fd, &w_out); count++; }
		}
		if (count || deadline == 1) {
			if (rd) *rd = r_out;
			if (wr) *wr = w_out;
			if (ex) *ex = e_out;
			return count;
		}
		int woken = sched_wait(&poll_key, deadline);
		if (woken < 0) return woken; /* a signal */
		if (!woken && deadline) {
			if (rd) FD_ZERO(rd);
			if (wr) FD_ZERO(wr);
			if (ex) FD_ZERO(ex);
			return 0;
		}
	}
}

long fs_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6, int *handled)
{
	*handled = 1;
	switch (n) {
	case SYS_read: return sys_read(a1, (void *)a2, (size_t)a3);
	case SYS_write: return sys_write(a1, (const void *)a2, (size_t)a3);
	case SYS_pread64: return sys_pread(a1, (void *)a2, (size_t)a3, a4);
	case SYS_pwrite64: return sys_pwrite(a1, (const void *)a2, (size_t)a3, a4);
	case SYS_readv: return vector(a1, (const struct iovec *)a2, (int)a3, 0);
	case SYS_writev: return vector(a1, (const struct iovec *)a2, (int)a3, 1);
	case SYS_open: return sys_openat(AT_FDCWD, (const char *)a1, (int)a2, (mode_t)a3);
	case SYS_openat: return sys_openat(a1, (const char *)a2, (int)a3, (mode_t)a4);
	case SYS_creat: return sys_openat(AT_FDCWD, (const char *)a1, O_CREAT | O_WRONLY | O_TRUNC, (mode_t)a2);
	case SYS_close: return do_close(a1);
	case SYS_lseek: return sys_lseek(a1, a2, (int)a3);
	case SYS_fstat: return sys_fstatat(a1, "", (struct stat *)a2, AT_EMPTY_PATH);
	case SYS_stat: return sys_fstatat(AT_FDCWD, (const char *)a1, (struct stat *)a2, 0);
	case SYS_lstat: return sys_fstatat(AT_FDCWD, (const char *)a1, (struct stat *)a2, AT_SYMLINK_NOFOLLOW);
	case SYS_newfstatat: return sys_fstatat(a1, (const char *)a2, (struct stat *)a3, (int)a4);
	case SYS_statx: return sys_statx(a1, (const char *)a2, (int)a3, (unsigned)a4, (struct kstatx *)a5);
	case SYS_getdents64: return sys_getdents64(a1, (char *)a2, (size_t)a3);
	case SYS_access: return sys_faccessat(AT_FDCWD, (const char *)a1, (int)a2, 0);
	case SYS_faccessat:
	case SYS_faccessat2: return sys_faccessat(a1, (const char *)a2, (int)a3, (int)a4);
	case SYS_readlink: return sys_readlinkat(AT_FDCWD, (const char *)a1, (char *)a2, (size_t)a3);
	case SYS_readlinkat: return sys_readlinkat(a1, (const char *)a2, (char *)a3, (size_t)a4);
	case SYS_getcwd: return sys_getcwd((char *)a1, (size_t)a2);
	case SYS_chdir: {
		struct node *node;
		long r = lookup_at(AT_FDCWD, (const char *)a1, 1, &node);
		return r < 0 ? r : sys_chdir_node(node);
	}
	case SYS_fchdir: return get(a1) ? sys_chdir_node(get(a1)->node) : -EBADF;
	case SYS_mkdir: return sys_mkdirat(AT_FDCWD, (const char *)a1, (mode_t)a2);
	case SYS_mkdirat: return sys_mkdirat(a1, (const char *)a2, (mode_t)a3);
	case SYS_symlink: return sys_symlinkat((const char *)a1, AT_FDCWD, (const char *)a2);
	case SYS_symlinkat: return sys_symlinkat((const char *)a1, a2, (const char *)a3);
	case SYS_unlink: return sys_unlinkat(AT_FDCWD, (const char *)a1, 0);
	case SYS_rmdir: return sys_unlinkat(AT_FDCWD, (const char *)a1, AT_REMOVEDIR);
	case SYS_unlinkat: return sys_unlinkat(a1, (const char *)a2, (int)a3);
	case SYS_rename: return sys_renameat(AT_FDCWD, (const char *)a1, AT_FDCWD, (const char *)a2);
	case SYS_renameat:
	case SYS_renameat2: return sys_renameat(a1, (const char *)a2, a3, (const char *)a4);
	case SYS_dup: return get(a1) ? install(get(a1), 0, 0) : -EBADF;
	case SYS_dup2: return sys_dup3(a1, a2, 0, 1);
	case SYS_dup3: return sys_dup3(a1, a2, (int)a3, 0);
	case SYS_fcntl: return sys_fcntl(a1, (int)a2, a3);
	case SYS_ioctl: return sys_ioctl(a1, (unsigned long)a2, a3);
	case SYS_ftruncate: {
		struct file *f = get(a1);
		if (!f) return -EBADF;
		if (!writable(f) || a2 < 0) return -EINVAL;
		return vfs_truncate(f->node, (uint64_t)a2);
	}
	case SYS_truncate: {
		struct node *node;
		if (a2 < 0) return -EINVAL;
		long r = lookup_at(AT_FDCWD, (const char *)a1, 1, &node);
		return r < 0 ? r : vfs_truncate(node, (uint64_t)a2);
	}
	case SYS_pipe: return sys_pipe2((int *)a1, 0);
	case SYS_pipe2: return sys_pipe2((int *)a1, (int)a2);
	case SYS_poll: {
		int ms = (int)a3;
		return sys_poll((struct pollfd *)a1, (unsigned long)a2, ms < 0 ? 0 : wait_deadline((uint64_t)ms * 1000000u));
	}
	case SYS_ppoll: {
		uint64_t deadline;
		long r = ppoll_deadline((const struct timespec *)a3, &deadline);
		return r < 0 ? r : sys_poll((struct pollfd *)a1, (unsigned long)a2, deadline);
	}
	case SYS_select: {
		const struct timeval *tv = (const struct timeval *)a5;
		uint64_t deadline = tv ? wait_deadline((uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u) : 0;
		return sys_select((int)a1, (fd_set *)a2, (fd_set *)a3, (fd_set *)a4, deadline);
	}
	case SYS_pselect6: {
		uint64_t deadline;
		long r = ppoll_deadline((const struct timespec *)a5, &deadline);
		return r < 0 ? r : sys_select((int)a1, (fd_set *)a2, (fd_set *)a3, (fd_set *)a4, deadline);
	}
	case SYS_eventfd: return sys_eventfd2((unsigned)a1, 0);
	case SYS_eventfd2: return sys_eventfd2((unsigned)a1, (int)a2);
	case SYS_epoll_create: return (int)a1 <= 0 ? -EINVAL : sys_epoll_create1(0);
	case SYS_epoll_create1: return sys_epoll_create1((int)a1);
	case SYS_epoll_ctl: return sys_epoll_ctl(a1, (int)a2, a3, (const void *)a4);
	case SYS_epoll_wait:
	case SYS_epoll_pwait: { /* the signal mask changes nothing: no handler ever runs */
		int ms = (int)a4;
		if (n == SYS_epoll_pwait && a5 && a6 != 8) return -EINVAL;
		return sys_epoll_wait(a1, (void *)a2, (int)a3, ms < 0 ? 0 : wait_deadline((uint64_t)ms * 1000000u));
	}
	case SYS_epoll_pwait2: {
		uint64_t deadline;
		long r = ppoll_deadline((const struct timespec *)a4, &deadline);
		if (r == 0 && a5 && a6 != 8) r = -EINVAL;
		return r < 0 ? r : sys_epoll_wait(a1, (void *)a2, (int)a3, deadline);
	}
	case SYS_fsync:
	case SYS_fdatasync: return get(a1) ? 0 : -EBADF;
	case SYS_sync: return 0;
	case SYS_chmod:
	case SYS_fchmod:
	case SYS_fchmodat:
	case SYS_chown:
	case SYS_fchown:
	case SYS_lchown:
	case SYS_fchownat:
	case SYS_utimensat: return 0;
	default: *handled = 0; return -ENOSYS;
	}
}
