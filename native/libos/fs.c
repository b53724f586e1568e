/*
 * The file system calls: paths (over the tree in vfs.c), and the calls on any fd (read,
 * write, seek, poll, select, fcntl, ...), which reach a file's kind only through its ops
 * (fd.c). A kind's own calls are its own: pipe2 in pipe.c, sockets in net.c, ...
 */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#include "vfs.h"

static struct node *cwd;

/* Files are made with the umask Linux gives a process by default (umask(2) is not kept). */
#define UMASK 022

void fs_init(void)
{
	vfs_init();
	dev_init();
	if (libos_boot->disk_addr) tar_load((const char *)libos_boot->disk_addr, libos_boot->disk_size);
	static const int modes[3] = { O_RDONLY, O_WRONLY, O_WRONLY };
	for (int fd = 0; fd < 3; fd++) fd_open(dev_console(fd), modes[fd]);
	cwd = vfs_root;
	struct node *dir;
	if (libos_boot->cwd && vfs_lookup(vfs_root, (const char *)libos_boot->cwd, 1, &dir, 0, 0) == 0 && S_ISDIR(dir->mode))
		cwd = dir;
}

/* The directory a *at() call starts from. */
static long base_dir(long dirfd, const char *path, struct node **base)
{
	if (path && path[0] == '/') {
		*base = vfs_root;
		return 0;
	}
	if ((int)dirfd == AT_FDCWD) {
		*base = cwd;
		return 0;
	}
	struct file *f = fd_get(dirfd);
	if (!f) return -EBADF;
	if (!S_ISDIR(f->node->mode)) return -ENOTDIR;
	*base = f->node;
	return 0;
}

static long lookup_at(long dirfd, const char *path, int follow, struct node **out)
{
	struct node *base;
	long r = base_dir(dirfd, path, &base);
	return r < 0 ? r : vfs_lookup(base, path, follow, out, 0, 0);
}

/* A new node in parent: its times are now, and so is the folder's mtime. */
static struct node *created(struct node *parent, struct node *node)
{
	vfs_stamp(node, VFS_ATIME | VFS_MTIME | VFS_CTIME);
	vfs_stamp(parent, VFS_MTIME);
	return node;
}

/* O_TMPFILE: a file in no folder (st_nlink 0), gone at its last close unless linkat
 * (AT_EMPTY_PATH) gives it a name. */
static long open_tmpfile(struct node *base, const char *path, int flags, mode_t mode)
{
	struct node *dir;
	long r = vfs_lookup(base, path, 1, &dir, 0, 0);
	if (r < 0) return r;
	if (!S_ISDIR(dir->mode)) return -ENOTDIR;
	if ((flags & O_ACCMODE) == O_RDONLY) return -EINVAL;
	struct node *node = vfs_new(0, "", 0, S_IFREG | (mode & 07777 & ~UMASK), &regular_ops);
	vfs_stamp(node, VFS_ATIME | VFS_MTIME | VFS_CTIME);
	node->names = 0;
	return fd_open(node, flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_CLOEXEC));
}

static long sys_openat(long dirfd, const char *path, int flags, mode_t mode)
{
	struct node *base, *node, *parent;
	const char *last;
	long r = base_dir(dirfd, path, &base);
	if (r < 0) return r;
	/* O_CREAT|O_EXCL never follows a link in the last part, even a dangling one: it exists. */
	int excl = (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
	if ((flags & O_TMPFILE) == O_TMPFILE) return open_tmpfile(base, path, flags, mode);
	if (flags & O_TMPFILE & ~O_DIRECTORY) return -EINVAL; /* __O_TMPFILE without O_DIRECTORY */
	r = vfs_lookup(base, path, !(flags & O_NOFOLLOW) && !excl, &node, &parent, &last);
	if (r == -ENOENT && (flags & O_CREAT) && parent) {
		size_t len = strcspn(last, "/");
		if (last[len]) return -ENOENT; /* "newdir/" cannot be created as a file */
		node = created(parent, vfs_new(parent, last, len, S_IFREG | (mode & 07777 & ~UMASK), &regular_ops));
	} else if (r < 0) {
		return r;
	} else if ((flags & O_CREAT) && (flags & O_EXCL)) {
		return -EEXIST;
	}
	if (S_ISLNK(node->mode)) return -ELOOP; /* O_NOFOLLOW on a link */
	if ((flags & O_DIRECTORY) && !S_ISDIR(node->mode)) return -ENOTDIR;
	if (S_ISDIR(node->mode) && (flags & O_ACCMODE) != O_RDONLY) return -EISDIR;
	if (S_ISSOCK(node->mode)) return -ENXIO;
	if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY && S_ISREG(node->mode)) vfs_truncate(node, 0);
	struct file *f = file_open(node, flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC));
	r = node->ops->open ? node->ops->open(f) : 0; /* a FIFO waits for its other end here */
	if (r >= 0) r = fd_install(f, 0, !!(flags & O_CLOEXEC));
	file_put(f);
	return r;
}

static int readable(struct file *f) { return (f->flags & O_ACCMODE) != O_WRONLY; }
static int writable(struct file *f) { return (f->flags & O_ACCMODE) != O_RDONLY; }

static long sys_read(long fd, void *buf, size_t len)
{
	struct file *f = fd_get(fd);
	if (!f || !readable(f)) return -EBADF;
	long r = file_rw(f, buf, len, f->pos, 0);
	if (r > 0) f->pos += (uint64_t)r;
	return r;
}

static long sys_write(long fd, const void *buf, size_t len)
{
	struct file *f = fd_get(fd);
	if (!f || !writable(f)) return -EBADF;
	if (f->flags & O_APPEND) f->pos = f->node->size;
	long r = file_rw(f, (void *)buf, len, f->pos, 1);
	if (r > 0) f->pos += (uint64_t)r;
	return r;
}

static long sys_pread(long fd, void *buf, size_t len, int64_t off)
{
	struct file *f = fd_get(fd);
	if (!f || !readable(f)) return -EBADF;
	if (off < 0) return -EINVAL;
	if (f->node->ops->stream) return -ESPIPE;
	return file_rw(f, buf, len, (uint64_t)off, 0);
}

static long sys_pwrite(long fd, const void *buf, size_t len, int64_t off)
{
	struct file *f = fd_get(fd);
	if (!f || !writable(f)) return -EBADF;
	if (off < 0) return -EINVAL;
	if (f->node->ops->stream) return -ESPIPE;
	return file_rw(f, (void *)buf, len, (uint64_t)off, 1);
}

/* sendfile: a file's bytes (at *offset, or at its position, which moves) to any fd, through
 * a buffer: Linux's without the zero copy. libuv's fs.copyFile, Python's shutil and Go's
 * io.Copy to a socket take it first. */
static long sys_sendfile(long out_fd, long in_fd, int64_t *offset, size_t count)
{
	struct file *in = fd_get(in_fd), *out = fd_get(out_fd);
	if (!in || !readable(in) || !out || !writable(out)) return -EBADF;
	if (in->node->ops->stream || (offset && *offset < 0)) return -EINVAL; /* as Linux: a file to read at an offset */
	file_hold(in); /* across a write that may block */
	uint64_t pos = offset ? (uint64_t)*offset : in->pos;
	char buf[4096];
	long total = 0, r = 0;
	while ((size_t)total < count) {
		size_t want = count - (size_t)total < sizeof buf ? count - (size_t)total : sizeof buf;
		long n = file_rw(in, buf, want, pos, 0);
		if (n <= 0) {
			r = n;
			break;
		}
		r = sys_write(out_fd, buf, (size_t)n);
		if (r <= 0) break;
		total += r;
		pos += (uint64_t)r;
		if (r < n) break;
	}
	if (offset) *offset = (int64_t)pos;
	else in->pos = pos;
	file_put(in);
	return total ? total : r;
}

static long vector(long fd, const struct iovec *iov, int count, int write)
{
	if (count < 0 || count > 1024) return -EINVAL;
	struct file *f = fd_get(fd);
	/* A socket takes the vector whole (one segment for a header and body, one datagram),
	 * and so does the console (one host write). */
	long (*whole)(struct file *, const struct iovec *, int) = !f ? 0 : (write ? f->node->ops->writev : f->node->ops->readv);
	if (whole && (write ? writable(f) : readable(f))) {
		file_hold(f);
		long r = whole(f, iov, count);
		file_put(f);
		return r;
	}
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
	struct file *f = fd_get(fd);
	if (!f) return -EBADF;
	if (f->node->ops->stream) return -ESPIPE;
	int64_t base = -1;
	if (whence == SEEK_SET) base = 0;
	else if (whence == SEEK_CUR) base = (int64_t)f->pos;
	else if (whence == SEEK_END) base = (int64_t)f->node->size;
	if (base < 0 || base + off < 0) return -EINVAL;
	f->pos = (uint64_t)(base + off);
	return (long)f->pos;
}

static long sys_fstatat(long dirfd, const char *path, struct stat *st, int flags)
{
	struct node *node;
	if ((flags & AT_EMPTY_PATH) && path[0] == 0) {
		struct file *f = fd_get(dirfd);
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
struct kstatx_time {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t reserved;
};
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
	stx->stx_uid = st.st_uid;
	stx->stx_gid = st.st_gid;
	stx->stx_mode = (uint16_t)st.st_mode;
	stx->stx_ino = st.st_ino;
	stx->stx_size = (uint64_t)st.st_size;
	stx->stx_blocks = (uint64_t)st.st_blocks;
	stx->stx_atime = (struct kstatx_time){ st.st_atim.tv_sec, (uint32_t)st.st_atim.tv_nsec, 0 };
	stx->stx_mtime = (struct kstatx_time){ st.st_mtim.tv_sec, (uint32_t)st.st_mtim.tv_nsec, 0 };
	stx->stx_ctime = (struct kstatx_time){ st.st_ctim.tv_sec, (uint32_t)st.st_ctim.tv_nsec, 0 };
	stx->stx_rdev_major = (uint32_t)(st.st_rdev >> 8);
	stx->stx_rdev_minor = (uint32_t)(st.st_rdev & 0xff);
	stx->stx_dev_minor = 1;
	return 0;
}

/* A folder's place (the open file's pos): 0 and 1 before "." and "..", then, past the
 * children newest first, DIR_END minus the dir_seq of the last one given. A place stays
 * good while the folder changes: no entry is given twice or skipped for another's coming
 * or going (one that comes once a listing has begun is not given, as POSIX allows). */
#define DIR_END (1ULL << 62)

static long sys_getdents64(long fd, char *buf, size_t len)
{
	struct file *f = fd_get(fd);
	if (!f) return -EBADF;
	struct node *dir = f->node;
	if (!S_ISDIR(dir->mode)) return -ENOTDIR;
	size_t used = 0;
	struct node *n = dir->children;
	for (;;) {
		struct node *node;
		const char *name;
		uint64_t next;
		if (f->pos == 0) {
			name = ".";
			node = dir;
			next = 1;
		} else if (f->pos == 1) {
			name = "..";
			node = dir->parent;
			next = 2;
		} else {
			while (n && n->dir_seq >= DIR_END - f->pos) n = n->next;
			if (!n) break;
			name = n->name;
			node = vfs_inode(n); /* a hard link's entry: the file it names */
			next = DIR_END - n->dir_seq;
		}
		size_t reclen = (19 + strlen(name) + 1 + 7) & ~(size_t)7;
		if (used + reclen > len) {
			if (used == 0) return -EINVAL;
			break;
		}
		struct dirent *d = (struct dirent *)(buf + used);
		d->d_ino = node->ino;
		d->d_off = (off_t)next;
		d->d_reclen = (unsigned short)reclen;
		d->d_type = (unsigned char)IFTODT(node->mode);
		strcpy(d->d_name, name);
		used += reclen;
		f->pos = next;
	}
	return (long)used;
}

static long sys_readlinkat(long dirfd, const char *path, char *buf, size_t len)
{
	struct node *node;
	long r = lookup_at(dirfd, path, 0, &node);
	if (r < 0) return r;
	if (!S_ISLNK(node->mode)) return -EINVAL;
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
	r = vfs_lookup_entry(base, path, &node, parent, last);
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
	created(parent, vfs_new(parent, last, len, S_IFDIR | (mode & 07777 & ~UMASK), &regular_ops));
	return 0;
}

static long sys_symlinkat(const char *target, long dirfd, const char *path)
{
	struct node *parent;
	const char *last;
	size_t len;
	long r = new_name(dirfd, path, &parent, &last, &len);
	if (r < 0) return r;
	struct node *l = created(parent, vfs_new(parent, last, len, S_IFLNK | 0777, &regular_ops));
	l->size = strlen(target);
	l->data = arena_alloc(l->size + 1);
	memcpy(l->data, target, l->size + 1);
	return 0;
}

/* The number of dots when a path's last part is "." or ".." (trailing slashes aside), else 0. */
static int last_is_dots(const char *path)
{
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/') len--;
	size_t start = len;
	while (start > 0 && path[start - 1] != '/') start--;
	size_t n = len - start;
	return (n == 1 || n == 2) && path[start] == '.' && path[len - 1] == '.' ? (int)n : 0;
}

/* The entry a path names (not what a last symlink or a hard link's name points to). "."
 * and ".." name a folder, not an entry of one: such a folder cannot be moved or removed
 * by that name (EBUSY, as Linux's rename). */
static long entry_at(long dirfd, const char *path, struct node **out)
{
	struct node *base, *parent;
	const char *last;
	if (last_is_dots(path)) return -EBUSY;
	long r = base_dir(dirfd, path, &base);
	return r < 0 ? r : vfs_lookup_entry(base, path, out, &parent, &last);
}

/* An entry leaves its folder: both their times say so. */
static void removed(struct node *entry)
{
	vfs_stamp(entry->parent, VFS_MTIME);
	vfs_stamp(vfs_inode(entry), VFS_CTIME);
	vfs_unlink(entry);
}

static long target_of(long dirfd, const char *path, int flags, struct node **out);

static long sys_linkat(long olddir, const char *oldpath, long newdir, const char *newpath, int flags)
{
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) return -EINVAL;
	struct node *node, *parent;
	const char *last;
	size_t len;
	long r = target_of(olddir, oldpath, (flags & AT_EMPTY_PATH) | (flags & AT_SYMLINK_FOLLOW ? 0 : AT_SYMLINK_NOFOLLOW), &node);
	if (r < 0) return r;
	if (S_ISDIR(node->mode)) return -EPERM;
	/* An fd's file (AT_EMPTY_PATH): one that was in the tree and left it is gone (ENOENT);
	 * of those never in it, only an O_TMPFILE file may come in (pipes, sockets, memfds
	 * live on other file systems in Linux: EXDEV). An O_TMPFILE file is the only regular
	 * file made in no folder with no name. */
	if (node->parent == node && (!S_ISREG(node->mode) || node->name[0])) return -EXDEV;
	if (node->names == 0 && node->parent != node) return -ENOENT;
	if ((r = new_name(newdir, newpath, &parent, &last, &len)) < 0) return r;
	if (last[len]) return -ENOENT; /* "name/" for a file */
	vfs_link(parent, last, len, node);
	vfs_stamp(parent, VFS_MTIME);
	vfs_stamp(node, VFS_CTIME);
	return 0;
}

static long sys_unlinkat(long dirfd, const char *path, int flags)
{
	/* Linux: rmdir("x/.") is EINVAL, rmdir("x/..") ENOTEMPTY, unlink of either EISDIR. */
	int dots = last_is_dots(path);
	if (dots) return !(flags & AT_REMOVEDIR) ? -EISDIR : dots == 1 ? -EINVAL :
									 -ENOTEMPTY;
	struct node *entry;
	long r = entry_at(dirfd, path, &entry);
	if (r < 0) return r;
	struct node *node = vfs_inode(entry);
	if (node == vfs_root) return -EBUSY;
	if (flags & AT_REMOVEDIR) {
		if (!S_ISDIR(node->mode)) return -ENOTDIR;
		if (node->children) return -ENOTEMPTY;
	} else if (S_ISDIR(node->mode)) {
		return -EISDIR;
	}
	removed(entry);
	return 0;
}

/* Moves entry into parent as name[len]. */
static void move_entry(struct node *entry, struct node *parent, const char *name, size_t len)
{
	char *copy = arena_alloc(len + 1);
	memcpy(copy, name, len);
	copy[len] = 0;
	vfs_detach(entry);
	vfs_stamp(entry->parent, VFS_MTIME);
	entry->name = copy;
	vfs_insert(parent, entry);
	vfs_stamp(parent, VFS_MTIME);
	vfs_stamp(vfs_inode(entry), VFS_CTIME);
}

/* Is dir inside node (or node itself)? A folder cannot move there. */
static int inside(struct node *dir, struct node *node)
{
	for (struct node *p = dir;; p = p->parent) {
		if (p == node) return 1;
		if (p == vfs_root) return 0;
	}
}

/* renameat2's flags (musl 1.2.3 has no names for them). */
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2

static long sys_renameat(long olddir, const char *oldpath, long newdir, const char *newpath, unsigned flags)
{
	struct node *entry, *target, *parent, *base;
	const char *last;
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE) || flags == (RENAME_NOREPLACE | RENAME_EXCHANGE)) return -EINVAL;
	long r = entry_at(olddir, oldpath, &entry);
	if (r < 0) return r;
	struct node *node = vfs_inode(entry);
	if ((r = base_dir(newdir, newpath, &base)) < 0) return r;
	r = vfs_lookup_entry(base, newpath, &target, &parent, &last);
	if (r == 0) {
		if (flags & RENAME_NOREPLACE) return -EEXIST;
		if (vfs_inode(target) == node) return 0; /* two names of one file: nothing happens */
		parent = target->parent;
	} else if (r != -ENOENT || !parent) {
		return r;
	} else if (flags & RENAME_EXCHANGE) {
		return -ENOENT;
	}
	if (node == vfs_root || (r == 0 && vfs_inode(target) == vfs_root)) return -EBUSY;
	if (S_ISDIR(node->mode) && inside(parent, node)) return -EINVAL;
	if (flags & RENAME_EXCHANGE) { /* each takes the other's place */
		struct node *other = vfs_inode(target), *old_parent = entry->parent;
		if (S_ISDIR(other->mode) && inside(old_parent, other)) return -EINVAL;
		char *old_name = entry->name;
		move_entry(entry, parent, target->name, strlen(target->name));
		move_entry(target, old_parent, old_name, strlen(old_name));
		return 0;
	}
	if (r == 0) { /* checked before anything is removed */
		struct node *old = vfs_inode(target);
		if (S_ISDIR(node->mode) && !S_ISDIR(old->mode)) return -ENOTDIR;
		if (S_ISDIR(old->mode) && (!S_ISDIR(node->mode) || old->children)) return !S_ISDIR(node->mode) ? -EISDIR : -ENOTEMPTY;
		last = target->name;
		removed(target);
	}
	move_entry(entry, parent, last, strcspn(last, "/"));
	return 0;
}

/* The node a metadata call changes: path from dirfd, or dirfd itself (AT_EMPTY_PATH with
 * "", or no path at all: futimens). */
static long target_of(long dirfd, const char *path, int flags, struct node **out)
{
	if (!path || ((flags & AT_EMPTY_PATH) && path[0] == 0)) {
		if ((int)dirfd == AT_FDCWD && path) { /* fchmod(AT_FDCWD, …), no path: EBADF */
			*out = cwd;
			return 0;
		}
		struct file *f = fd_get(dirfd);
		if (!f) return -EBADF;
		*out = f->node;
		return 0;
	}
	return lookup_at(dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), out);
}

/* fchmodat2's number (Linux 6.6; not in musl 1.2.3). */
#define SYS_fchmodat2_ 452

static long sys_fchmodat(long dirfd, const char *path, mode_t mode, int flags)
{
	struct node *node;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return -EINVAL;
	long r = target_of(dirfd, path, flags, &node);
	if (r < 0) return r;
	if (S_ISLNK(node->mode)) return -EOPNOTSUPP; /* a link's own mode cannot change */
	node->mode = (node->mode & S_IFMT) | (mode & 07777);
	vfs_stamp(node, 0);
	return 0;
}

/* As root: any owner; -1 keeps one. A file that changes hands loses its set-user-ID bit,
 * and its set-group-ID bit where that means "group executable" (chown(2)). */
static long sys_fchownat(long dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	struct node *node;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return -EINVAL;
	long r = target_of(dirfd, path, flags, &node);
	if (r < 0) return r;
	if (uid != (uid_t)-1) node->uid = uid;
	if (gid != (gid_t)-1) node->gid = gid;
	if (!S_ISDIR(node->mode)) {
		node->mode &= ~(mode_t)S_ISUID;
		if (node->mode & S_IXGRP) node->mode &= ~(mode_t)S_ISGID;
	}
	vfs_stamp(node, 0);
	return 0;
}

/* utimensat: each of atime and mtime set, now (no times, or UTIME_NOW), or left (UTIME_OMIT);
 * ctime is now unless both are left. */
static long sys_utimensat(long dirfd, const char *path, const struct timespec *times, int flags)
{
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return -EINVAL;
	if (!path && (flags & AT_SYMLINK_NOFOLLOW)) return -EINVAL;
	for (int i = 0; times && i < 2; i++)
		if (times[i].tv_nsec != UTIME_NOW && times[i].tv_nsec != UTIME_OMIT && (times[i].tv_nsec < 0 || times[i].tv_nsec >= 1000000000))
			return -EINVAL;
	struct node *node;
	long r = target_of(dirfd, path, flags, &node);
	if (r < 0) return r;
	if (times && times[0].tv_nsec == UTIME_OMIT && times[1].tv_nsec == UTIME_OMIT) return 0;
	vfs_stamp(node, 0);
	struct timespec *dest[2] = { &node->atime, &node->mtime };
	for (int i = 0; i < 2; i++) {
		if (!times || times[i].tv_nsec == UTIME_NOW) *dest[i] = node->ctime;
		else if (times[i].tv_nsec != UTIME_OMIT) *dest[i] = times[i];
	}
	return 0;
}

/* utimes and futimesat: microseconds; none is now. */
static long sys_futimesat(long dirfd, const char *path, const struct timeval *tv)
{
	struct timespec ts[2];
	for (int i = 0; tv && i < 2; i++) {
		if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000) return -EINVAL;
		ts[i] = (struct timespec){ .tv_sec = tv[i].tv_sec, .tv_nsec = tv[i].tv_usec * 1000 };
	}
	return sys_utimensat(dirfd, path, tv ? ts : 0, 0);
}

/* utime(2): whole seconds, { actime, modtime }; none is now. */
static long sys_utime(const char *path, const time_t *times)
{
	struct timespec ts[2] = { { .tv_sec = times ? times[0] : 0 }, { .tv_sec = times ? times[1] : 0 } };
	return sys_utimensat(AT_FDCWD, path, times ? ts : 0, 0);
}

static long sys_statfs(long dirfd, const char *path, struct statfs *sf)
{
	struct node *node;
	long r = target_of(dirfd, path, 0, &node);
	if (r < 0) return r;
	vfs_statfs(sf);
	return 0;
}

/* A new node at path, of mode's type (a FIFO is pipe.c's), with ops: *out, or -errno. */
static long mknod_at(long dirfd, const char *path, mode_t mode, const struct file_ops *ops, struct node **out)
{
	struct node *parent;
	const char *last;
	size_t len;
	mode_t type = mode & S_IFMT, perm = mode & 07777 & ~UMASK;
	long r = new_name(dirfd, path, &parent, &last, &len);
	if (r < 0) return r;
	if (last[len]) return -ENOENT; /* "name/" */
	if (type == S_IFIFO) *out = created(parent, fifo_new(parent, last, len, perm));
	else *out = created(parent, vfs_new(parent, last, len, (type ? type : S_IFREG) | perm, ops));
	return 0;
}

/* mknod: FIFOs, regular files and socket names; no devices (a container may not make
 * them either: they would not open). */
static long sys_mknodat(long dirfd, const char *path, mode_t mode, dev_t dev)
{
	(void)dev;
	struct node *node;
	mode_t type = mode & S_IFMT;
	if (type == S_IFCHR || type == S_IFBLK || type == S_IFDIR) return -EPERM; /* folders: mkdir */
	if (type != 0 && type != S_IFREG && type != S_IFIFO && type != S_IFSOCK) return -EINVAL;
	return mknod_at(dirfd, path, mode, &regular_ops, &node);
}

long fs_mknod(const char *path, mode_t mode, const struct file_ops *ops, struct node **out)
{
	return mknod_at(AT_FDCWD, path, mode, ops, out);
}

long fs_lookup(const char *path, struct node **out)
{
	return lookup_at(AT_FDCWD, path, 1, out);
}

/* memfd_create: a file in memory and in no folder, "memfd:NAME" (st_nlink 0, as Linux's,
 * which are unlinked files of an internal tmpfs). Sealing is not kept:
 * MFD_ALLOW_SEALING is taken, and F_ADD_SEALS is then EINVAL. */
#define MFD_CLOEXEC_ 1U
#define MFD_ALLOW_SEALING_ 2U

static long sys_memfd_create(const char *name, unsigned flags)
{
	if (flags & ~(MFD_CLOEXEC_ | MFD_ALLOW_SEALING_)) return -EINVAL;
	size_t len = strnlen(name, 250);
	if (len > 249) return -EINVAL; /* NAME_MAX less "memfd:" */
	char full[256] = "memfd:";
	memcpy(full + 6, name, len);
	struct node *node = vfs_new(0, full, 6 + len, S_IFREG | 0777, &regular_ops);
	vfs_stamp(node, VFS_ATIME | VFS_MTIME | VFS_CTIME);
	node->names = 0;
	return fd_open(node, O_RDWR | (flags & MFD_CLOEXEC_ ? O_CLOEXEC : 0));
}

/* fallocate: mode 0 makes the file at least off + len long (zeros); FALLOC_FL_KEEP_SIZE
 * has nothing to do, since memory is taken as bytes are written; a punched hole
 * (FALLOC_FL_PUNCH_HOLE, with KEEP_SIZE) reads as zeros. */
static long sys_fallocate(long fd, int mode, int64_t off, int64_t len)
{
	struct file *f = fd_get(fd);
	if (!f || !writable(f)) return -EBADF;
	if (off < 0 || len <= 0) return -EINVAL;
	if (mode != 0 && mode != 1 && mode != 3) return -EOPNOTSUPP; /* KEEP_SIZE 1, PUNCH_HOLE 2 */
	struct node *node = f->node;
	if (node->ops->stream) return -ESPIPE;
	if (S_ISDIR(node->mode)) return -EISDIR;
	if (!S_ISREG(node->mode)) return -ENODEV;
	if (len > INT64_MAX - off) return -EFBIG;
	if (mode == 3) return vfs_zero(node, (uint64_t)off, (uint64_t)len);
	if (mode || (uint64_t)(off + len) <= node->size) return 0;
	return vfs_truncate(node, (uint64_t)(off + len));
}

/* Advice on how a file will be read: the files are in memory already, so there is nothing
 * to do but check it as Linux does. */
static long sys_fadvise(long fd, long len, long advice)
{
	struct file *f = fd_get(fd);
	if (!f) return -EBADF;
	if (f->node->ops->stream) return -ESPIPE;
	return len >= 0 && advice >= POSIX_FADV_NORMAL && advice <= POSIX_FADV_NOREUSE ? 0 : -EINVAL;
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
	if (!S_ISDIR(node->mode)) return -ENOTDIR;
	cwd = node;
	return 0;
}

static long sys_dup3(long old, long new, int flags, int allow_same)
{
	struct file *f = fd_get(old);
	if (!f || new < 0 || new >= MAX_FDS) return -EBADF;
	if (old == new) return allow_same ? new : -EINVAL;
	fd_install_at(f, new, !!(flags & O_CLOEXEC));
	return new;
}

static long sys_fcntl(long fd, int cmd, long arg)
{
	struct file *f = fd_get(fd);
	if (!f) return -EBADF;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (arg < 0 || arg >= MAX_FDS) return -EINVAL;
		return fd_install(f, (int)arg, cmd == F_DUPFD_CLOEXEC);
	case F_GETFD: return fd_cloexec(fd) ? FD_CLOEXEC : 0;
	case F_SETFD: fd_set_cloexec(fd, !!(arg & FD_CLOEXEC)); return 0;
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
	struct file *f = fd_get(fd);
	if (!f) return -EBADF;
	switch (request) {
	case FIONBIO:
		if (*(const int *)arg) f->flags |= O_NONBLOCK;
		else f->flags &= ~O_NONBLOCK;
		return 0;
	case FIOCLEX:
	case FIONCLEX: fd_set_cloexec(fd, request == FIOCLEX); return 0;
	}
	return f->node->ops->ioctl ? f->node->ops->ioctl(f, request, arg) : -ENOTTY;
}

static long sys_faccessat(long dirfd, const char *path, int mode, int flags)
{
	(void)mode;
	struct node *node;
	return lookup_at(dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &node);
}

/* What poll would report for fd now. */
static short readiness(long fd, short events)
{
	struct file *f = fd_get(fd);
	if (!f) return POLLNVAL;
	return (short)(file_poll(f) & (events | POLLERR | POLLHUP | POLLNVAL));
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
			if (rd && FD_ISSET(fd, rd) && got & (POLLIN | POLLHUP | POLLERR)) {
				FD_SET(fd, &r_out);
				count++;
			}
			if (wr && FD_ISSET(fd, wr) && got & (POLLOUT | POLLERR)) {
				FD_SET(fd, &w_out);
				count++;
			}
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
	(void)a6;
	*handled = 1;
	switch (n) {
	case SYS_read: return sys_read(a1, (void *)a2, (size_t)a3);
	case SYS_write: return sys_write(a1, (const void *)a2, (size_t)a3);
	case SYS_pread64: return sys_pread(a1, (void *)a2, (size_t)a3, a4);
	case SYS_pwrite64: return sys_pwrite(a1, (const void *)a2, (size_t)a3, a4);
	case SYS_sendfile: return sys_sendfile(a1, a2, (int64_t *)a3, (size_t)a4);
	case SYS_readv: return vector(a1, (const struct iovec *)a2, (int)a3, 0);
	case SYS_writev: return vector(a1, (const struct iovec *)a2, (int)a3, 1);
	case SYS_open: return sys_openat(AT_FDCWD, (const char *)a1, (int)a2, (mode_t)a3);
	case SYS_openat: return sys_openat(a1, (const char *)a2, (int)a3, (mode_t)a4);
	case SYS_creat: return sys_openat(AT_FDCWD, (const char *)a1, O_CREAT | O_WRONLY | O_TRUNC, (mode_t)a2);
	case SYS_close: return fd_close(a1);
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
	case SYS_fchdir: return fd_get(a1) ? sys_chdir_node(fd_get(a1)->node) : -EBADF;
	case SYS_mkdir: return sys_mkdirat(AT_FDCWD, (const char *)a1, (mode_t)a2);
	case SYS_mkdirat: return sys_mkdirat(a1, (const char *)a2, (mode_t)a3);
	case SYS_symlink: return sys_symlinkat((const char *)a1, AT_FDCWD, (const char *)a2);
	case SYS_symlinkat: return sys_symlinkat((const char *)a1, a2, (const char *)a3);
	case SYS_unlink: return sys_unlinkat(AT_FDCWD, (const char *)a1, 0);
	case SYS_rmdir: return sys_unlinkat(AT_FDCWD, (const char *)a1, AT_REMOVEDIR);
	case SYS_unlinkat: return sys_unlinkat(a1, (const char *)a2, (int)a3);
	case SYS_rename: return sys_renameat(AT_FDCWD, (const char *)a1, AT_FDCWD, (const char *)a2, 0);
	case SYS_renameat: return sys_renameat(a1, (const char *)a2, a3, (const char *)a4, 0);
	case SYS_renameat2: return sys_renameat(a1, (const char *)a2, a3, (const char *)a4, (unsigned)a5);
	case SYS_dup: return fd_get(a1) ? fd_install(fd_get(a1), 0, 0) : -EBADF;
	case SYS_dup2: return sys_dup3(a1, a2, 0, 1);
	case SYS_dup3: return sys_dup3(a1, a2, (int)a3, 0);
	case SYS_fcntl: return sys_fcntl(a1, (int)a2, a3);
	case SYS_ioctl: return sys_ioctl(a1, (unsigned long)a2, a3);
	case SYS_ftruncate: {
		struct file *f = fd_get(a1);
		if (!f) return -EBADF;
		if (!writable(f) || a2 < 0) return -EINVAL;
		return vfs_truncate(f->node, (uint64_t)a2);
	}
	case SYS_fallocate: return sys_fallocate(a1, (int)a2, a3, a4);
	case SYS_truncate: {
		struct node *node;
		if (a2 < 0) return -EINVAL;
		long r = lookup_at(AT_FDCWD, (const char *)a1, 1, &node);
		return r < 0 ? r : vfs_truncate(node, (uint64_t)a2);
	}
	case SYS_poll: {
		int ms = (int)a3;
		return sys_poll((struct pollfd *)a1, (unsigned long)a2, ms < 0 ? 0 : poll_deadline((uint64_t)ms * 1000000u));
	}
	case SYS_ppoll: {
		uint64_t deadline;
		long r = poll_deadline_ts((const struct timespec *)a3, &deadline);
		return r < 0 ? r : sys_poll((struct pollfd *)a1, (unsigned long)a2, deadline);
	}
	case SYS_select: {
		const struct timeval *tv = (const struct timeval *)a5;
		uint64_t deadline = tv ? poll_deadline((uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u) : 0;
		return sys_select((int)a1, (fd_set *)a2, (fd_set *)a3, (fd_set *)a4, deadline);
	}
	case SYS_pselect6: {
		uint64_t deadline;
		long r = poll_deadline_ts((const struct timespec *)a5, &deadline);
		return r < 0 ? r : sys_select((int)a1, (fd_set *)a2, (fd_set *)a3, (fd_set *)a4, deadline);
	}
	case SYS_fsync:
	case SYS_fdatasync: return fd_get(a1) ? 0 : -EBADF;
	case SYS_sync: return 0;
	case SYS_fadvise64: return sys_fadvise(a1, a3, a4);
	case SYS_link: return sys_linkat(AT_FDCWD, (const char *)a1, AT_FDCWD, (const char *)a2, 0);
	case SYS_linkat: return sys_linkat(a1, (const char *)a2, a3, (const char *)a4, (int)a5);
	case SYS_chmod: return sys_fchmodat(AT_FDCWD, (const char *)a1, (mode_t)a2, 0);
	case SYS_fchmod: return sys_fchmodat(a1, 0, (mode_t)a2, 0);
	case SYS_fchmodat: return sys_fchmodat(a1, (const char *)a2, (mode_t)a3, 0);
	case SYS_fchmodat2_: return sys_fchmodat(a1, (const char *)a2, (mode_t)a3, (int)a4);
	case SYS_chown: return sys_fchownat(AT_FDCWD, (const char *)a1, (uid_t)a2, (gid_t)a3, 0);
	case SYS_lchown: return sys_fchownat(AT_FDCWD, (const char *)a1, (uid_t)a2, (gid_t)a3, AT_SYMLINK_NOFOLLOW);
	case SYS_fchown: return sys_fchownat(a1, 0, (uid_t)a2, (gid_t)a3, 0);
	case SYS_fchownat: return sys_fchownat(a1, (const char *)a2, (uid_t)a3, (gid_t)a4, (int)a5);
	case SYS_utimensat: return sys_utimensat(a1, (const char *)a2, (const struct timespec *)a3, (int)a4);
	case SYS_futimesat: return sys_futimesat(a1, (const char *)a2, (const struct timeval *)a3);
	case SYS_utimes: return sys_futimesat(AT_FDCWD, (const char *)a1, (const struct timeval *)a2);
	case SYS_utime: return sys_utime((const char *)a1, (const time_t *)a2);
	case SYS_statfs: return sys_statfs(AT_FDCWD, (const char *)a1, (struct statfs *)a2);
	case SYS_fstatfs: return sys_statfs(a1, 0, (struct statfs *)a2);
	case SYS_mknod: return sys_mknodat(AT_FDCWD, (const char *)a1, (mode_t)a2, (dev_t)a3);
	case SYS_mknodat: return sys_mknodat(a1, (const char *)a2, (mode_t)a3, (dev_t)a4);
	case SYS_memfd_create: return sys_memfd_create((const char *)a1, (unsigned)a2);
	default: *handled = 0; return -ENOSYS;
	}
}
