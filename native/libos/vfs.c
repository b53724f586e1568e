/*
 * The file tree, and the regular files in it. Everything lives in guest memory; files that
 * came from the disk image are read from the tender's read-only mapping of it until first
 * written, then copied into memory (the image stays read-only on the host). Paths resolve
 * like Linux: '.', '..', symlinks (40 in one resolution). The rootfs and what the app writes are one tree in
 * memory, so metadata changes (chmod, utimensat, chown) stick on any file, the image's too,
 * with nothing copied: only a file's bytes are ever copied up, at its first write.
 */
#include <string.h>
#include <sys/statfs.h>
#include <time.h>

#include "vfs.h"

struct node *vfs_root;
static uint64_t next_ino = 1;
static size_t bytes_in_memory; /* the written files' bytes, for statfs */
const int poll_key;

/* Small, never-freed allocations (nodes, names) carved from 64 KiB chunks. */
void *arena_alloc(size_t len)
{
	static char *chunk;
	static size_t left;
	len = (len + 15) & ~(size_t)15;
	if (len > 65536) return mem_alloc(len);
	if (len > left) {
		chunk = mem_alloc(65536);
		left = 65536;
	}
	void *p = chunk;
	chunk += len;
	left -= len;
	return p;
}

struct node *vfs_new(struct node *dir, const char *name, size_t len, mode_t mode, const struct file_ops *ops)
{
	struct node *n = arena_alloc(sizeof *n);
	memset(n, 0, sizeof *n);
	n->mode = mode;
	n->ops = ops;
	n->name = arena_alloc(len + 1);
	memcpy(n->name, name, len);
	n->name[len] = 0;
	n->ino = next_ino++;
	n->disk_off = -1;
	n->links = 1;
	n->names = 1;
	n->parent = n;
	if (dir) vfs_insert(dir, n);
	return n;
}

void vfs_insert(struct node *dir, struct node *entry)
{
	static uint64_t next_seq = 1;
	entry->parent = dir;
	entry->dir_seq = next_seq++;
	entry->next = dir->children;
	dir->children = entry;
}

void vfs_detach(struct node *entry)
{
	struct node **p = &entry->parent->children;
	while (*p && *p != entry) p = &(*p)->next;
	if (*p) *p = entry->next;
	entry->next = 0;
}

void vfs_link(struct node *dir, const char *name, size_t len, struct node *node)
{
	struct node *entry = vfs_new(dir, name, len, node->mode & S_IFMT, node->ops);
	entry->inode = node;
	node->links++;
	node->names++;
}

/* Takes an entry out of its directory; its node's data goes when the last name and the
 * last open file let go. */
void vfs_unlink(struct node *entry)
{
	vfs_detach(entry);
	struct node *node = vfs_inode(entry);
	node->names--;
	vfs_put(node);
}

void vfs_stamp(struct node *node, int which)
{
	struct timespec now = time_timespec(time_now_ns(CLOCK_REALTIME));
	if (which & VFS_ATIME) node->atime = now;
	if (which & VFS_MTIME) node->mtime = now;
	node->ctime = now;
}

/* The last link is gone: a written file's bytes go. (Other kinds free their own state when
 * their file is released, and may keep the node for their next file.) */
void vfs_put(struct node *node)
{
	if (--node->links > 0) return;
	bytes_in_memory -= node->cap;
	if (node->cap) mem_free(node->data, node->cap);
	node->data = 0;
	node->cap = 0;
}

void vfs_changed(struct node *node)
{
	node->changes++;
	sched_wake_all(node);
	sched_wake_all(&poll_key);
}

static struct node *child(struct node *dir, const char *name, size_t len)
{
	for (struct node *c = dir->children; c; c = c->next)
		if (strlen(c->name) == len && memcmp(c->name, name, len) == 0) return c;
	return 0;
}

/* links: the symlinks followed so far in this resolution (Linux's MAXSYMLINKS is 40). */
static long walk(struct node *base, const char *path, int follow_last, int entry, int *links, struct node **out,
		 struct node **parent, const char **last)
{
	if (*path == 0) return -ENOENT;
	struct node *cur = *path == '/' ? vfs_root : base;
	const char *p = path;
	for (;;) {
		while (*p == '/') p++;
		if (*p == 0) break;
		const char *name = p;
		while (*p && *p != '/') p++;
		size_t len = (size_t)(p - name);
		const char *rest = p;
		while (*rest == '/') rest++;
		int is_last = *rest == 0;
		if (!S_ISDIR(cur->mode)) return -ENOTDIR;
		if (len == 1 && name[0] == '.') continue;
		if (len == 2 && name[0] == '.' && name[1] == '.') {
			cur = cur->parent;
			continue;
		}
		if (len > 255) return -ENAMETOOLONG;
		struct node *next = child(cur, name, len);
		if (!next) {
			if (is_last && parent) {
				*parent = cur;
				*last = name;
			}
			return -ENOENT;
		}
		/* "link/" names what the link points to, even without follow_last (path_resolution(7)). */
		struct node *node = vfs_inode(next);
		if (S_ISLNK(node->mode) && (!is_last || follow_last || *p == '/')) {
			if (++*links > 40) return -ELOOP;
			struct node *target;
			long r = walk(cur, node->data, 1, 0, links, &target, is_last ? parent : 0, last);
			if (r < 0) return r;
			next = target;
		} else if (!(is_last && entry)) {
			next = node;
		}
		cur = next;
	}
	/* "file/" names a directory or nothing. */
	if (path[strlen(path) - 1] == '/' && !S_ISDIR(cur->mode)) return -ENOTDIR;
	*out = cur;
	return 0;
}

static long lookup(struct node *base, const char *path, int follow_last, int entry, struct node **out, struct node **parent,
		   const char **last)
{
	if (parent) *parent = 0;
	if (strnlen(path, 4096) == 4096) return -ENAMETOOLONG; /* PATH_MAX, 4096, counts the NUL */
	int links = 0;
	return walk(base, path, follow_last, entry, &links, out, parent, last);
}

long vfs_lookup(struct node *base, const char *path, int follow_last, struct node **out, struct node **parent, const char **last)
{
	return lookup(base, path, follow_last, 0, out, parent, last);
}

long vfs_lookup_entry(struct node *base, const char *path, struct node **out, struct node **parent, const char **last)
{
	return lookup(base, path, 0, 1, out, parent, last);
}

long vfs_read(struct node *node, void *buf, size_t len, uint64_t off)
{
	if (S_ISDIR(node->mode)) return -EISDIR;
	if (off >= node->size) return 0;
	if (len > node->size - off) len = node->size - off;
	if (node->disk_off < 0) {
		memcpy(buf, node->data + off, len);
		return (long)len;
	}
	/* From the tender's mapping of the image, within it: a tar header may claim more than
	 * the image holds, and what is there is read (EIO if nothing). */
	uint64_t at = (uint64_t)node->disk_off + off, disk = libos_boot->disk_size;
	if (at >= disk) return -EIO;
	if (len > disk - at) len = (size_t)(disk - at);
	memcpy(buf, (const char *)libos_boot->disk_addr + at, len);
	return (long)len;
}

/* Makes room for `size` bytes in memory, bringing a disk-backed file into memory first. */
static long reserve(struct node *node, uint64_t size)
{
	if (node->disk_off < 0 && size <= node->cap) return 0;
	/* Files live in guest memory: none can be bigger (this also keeps cap from overflowing). */
	if (size > libos_boot->mem_size) return -EFBIG;
	size_t cap = node->cap ? node->cap : PAGE_SIZE;
	while (cap < size) cap *= 2;
	if (cap < node->size) cap = PAGE_UP(node->size);
	char *data = mem_try_alloc(cap);
	if (!data) return -ENOSPC; /* a full tmpfs */
	if (node->size) {
		long r = vfs_read(node, data, node->size, 0);
		if (r < 0) {
			mem_free(data, cap);
			return r;
		}
	}
	if (node->cap) mem_free(node->data, node->cap);
	bytes_in_memory += cap - node->cap;
	node->data = data;
	node->cap = cap;
	node->disk_off = -1;
	return 0;
}

static long vfs_write(struct node *node, const void *buf, size_t len, uint64_t off)
{
	if (S_ISDIR(node->mode)) return -EISDIR;
	long r = reserve(node, off + len);
	if (r < 0) return r;
	if (off > node->size) memset(node->data + node->size, 0, off - node->size);
	memcpy(node->data + off, buf, len);
	if (off + len > node->size) node->size = off + len;
	vfs_stamp(node, VFS_MTIME);
	return (long)len;
}

long vfs_zero(struct node *node, uint64_t off, uint64_t len)
{
	if (!S_ISREG(node->mode) || off >= node->size) return 0;
	if (len > node->size - off) len = node->size - off;
	long r = reserve(node, node->size);
	if (r < 0) return r;
	memset(node->data + off, 0, len);
	vfs_stamp(node, VFS_MTIME);
	return 0;
}

long vfs_truncate(struct node *node, uint64_t len)
{
	if (!S_ISREG(node->mode)) return S_ISDIR(node->mode) ? -EISDIR : -EINVAL;
	vfs_stamp(node, VFS_MTIME);
	if (node->disk_off >= 0 && len <= node->size) { /* still read from the disk: nothing to copy */
		node->size = len;
		return 0;
	}
	long r = reserve(node, len);
	if (r < 0) return r;
	if (len > node->size) memset(node->data + node->size, 0, len - node->size);
	node->size = len;
	return 0;
}

void vfs_stat(struct node *node, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_dev = 1;
	st->st_ino = node->ino;
	st->st_mode = node->mode;
	st->st_nlink = S_ISDIR(node->mode) ? 2 : (nlink_t)node->names;
	st->st_uid = node->uid;
	st->st_gid = node->gid;
	st->st_size = (off_t)node->size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((node->size + 511) / 512);
	st->st_atim = node->atime;
	st->st_mtim = node->mtime;
	st->st_ctim = node->ctime;
	st->st_rdev = node->rdev;
}

/* A tmpfs of Linux's default size, half the memory; what is used is the bytes of the files
 * written (those still on the disk image cost nothing). */
void vfs_statfs(struct statfs *sf)
{
	memset(sf, 0, sizeof *sf);
	sf->f_type = 0x01021994; /* TMPFS_MAGIC */
	sf->f_bsize = sf->f_frsize = PAGE_SIZE;
	sf->f_blocks = libos_boot->mem_size / 2 / PAGE_SIZE;
	uint64_t used = bytes_in_memory / PAGE_SIZE;
	sf->f_bfree = sf->f_bavail = used < sf->f_blocks ? sf->f_blocks - used : 0;
	sf->f_files = next_ino + sf->f_bfree; /* tmpfs: as many inodes as free pages, about */
	sf->f_ffree = sf->f_bfree;
	sf->f_fsid.__val[0] = 1; /* st_dev */
	sf->f_namelen = 255;
	sf->f_flags = 0x20 | 0x400; /* ST_VALID | ST_NOATIME: reads leave atime */
}

/* The absolute path of node into buf; returns its length (without the NUL). */
size_t vfs_path(struct node *node, char *buf, size_t size)
{
	if (node == vfs_root) {
		if (size >= 2) memcpy(buf, "/", 2);
		return 1;
	}
	size_t len = vfs_path(node->parent, buf, size);
	if (len == 1) len = 0; /* root's "/" is the separator */
	size_t name = strlen(node->name);
	if (len + 1 + name < size) {
		buf[len] = '/';
		memcpy(buf + len + 1, node->name, name + 1);
	}
	return len + 1 + name;
}

static long file_read(struct file *f, void *buf, size_t len, uint64_t off)
{
	return vfs_read(f->node, buf, len, off);
}

static long file_write(struct file *f, const void *buf, size_t len, uint64_t off)
{
	return vfs_write(f->node, buf, len, off);
}

/* Files and folders never block: no poll, and epoll refuses them as Linux does. */
const struct file_ops regular_ops = { .read = file_read, .write = file_write };

void vfs_init(void)
{
	vfs_root = vfs_new(0, "", 0, S_IFDIR | 0755, &regular_ops);
	vfs_new(vfs_root, "tmp", 3, S_IFDIR | 01777, &regular_ops);
}
