/*
 * The file tree, and the regular files in it. Everything lives in guest memory; files that
 * came from the disk image are read from it with pread until first written, then copied
 * into memory (the image stays read-only on the host). Paths resolve like Linux: '.',
 * '..', symlinks (40 deep).
 */
#include <string.h>

#include "vfs.h"

struct node *vfs_root;
static uint64_t next_ino = 1;
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
	n->parent = dir ? dir : n;
	if (dir) {
		n->next = dir->children;
		dir->children = n;
	}
	return n;
}

/* Takes a node out of its directory; its data goes when the last open file lets go. */
void vfs_unlink(struct node *node)
{
	struct node **p = &node->parent->children;
	while (*p && *p != node) p = &(*p)->next;
	if (*p) *p = node->next;
	node->next = 0;
	vfs_put(node);
}

/* The last link is gone: a written file's bytes go. (Other kinds free their own state when
 * their file is released, and may keep the node for their next file.) */
void vfs_put(struct node *node)
{
	if (--node->links > 0) return;
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

static long walk(struct node *base, const char *path, int follow_last, int depth, struct node **out,
		 struct node **parent, const char **last)
{
	if (depth > 40) return -ELOOP;
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
		if (S_ISLNK(next->mode) && (!is_last || follow_last || *p == '/')) {
			struct node *target;
			long r = walk(cur, next->data, 1, depth + 1, &target, is_last ? parent : 0, last);
			if (r < 0) return r;
			next = target;
		}
		cur = next;
	}
	/* "file/" names a directory or nothing. */
	if (path[strlen(path) - 1] == '/' && !S_ISDIR(cur->mode)) return -ENOTDIR;
	*out = cur;
	return 0;
}

long vfs_lookup(struct node *base, const char *path, int follow_last, struct node **out, struct node **parent, const char **last)
{
	if (parent) *parent = 0;
	return walk(base, path, follow_last, 0, out, parent, last);
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
	size_t done = 0;
	while (done < len) {
		long r = hc_pread(libos_boot->disk_fd, (char *)buf + done, len - done, (uint64_t)node->disk_off + off + done);
		if (r == -EINTR) continue;
		if (r <= 0) return done ? (long)done : (r < 0 ? r : -EIO);
		done += (size_t)r;
	}
	return (long)done;
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
	node->mtime = (int64_t)(time_now_ns(0) / 1000000000u);
	return (long)len;
}

long vfs_truncate(struct node *node, uint64_t len)
{
	if (!S_ISREG(node->mode)) return S_ISDIR(node->mode) ? -EISDIR : -EINVAL;
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
	st->st_nlink = S_ISDIR(node->mode) ? 2 : 1;
	st->st_size = (off_t)node->size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((node->size + 511) / 512);
	st->st_mtim.tv_sec = st->st_atim.tv_sec = st->st_ctim.tv_sec = node->mtime;
	st->st_rdev = node->rdev;
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
