/*
 * The files the tender hands over, kept mapped read-only outside the guest region: reading
 * one is a memcpy from that mapping, with no host call; a write gives the file a copy in
 * guest memory first, as for any file from the disk (vfs.c), so the mapping is never written.
 *
 * The program's own file (nabla_boot.exe_*), as Linux shows it: at the path it was started
 * from, with /proc/self/exe pointing there, so a program can find and read itself
 * (CPython's sys.executable and platform.libc_ver(), Go's os.Executable()).
 *
 * The container's /etc/hosts, /etc/resolv.conf and /etc/hostname (nabla_boot.etc_*), which
 * the runtime writes for each container, in place of the image's: the DNS servers and
 * the container's own name and address (the tender's etcfiles.c).
 */
#include <string.h>

#include "vfs.h"

/* The directory that will hold path's last part, made as needed (like mkdir -p); 0 when a
 * part on the way is not a directory. path is absolute, without "." or "..". */
static struct node *parent_dir(const char *path, const char **last)
{
	char prefix[4096];
	size_t len = strlen(path);
	if (len >= sizeof prefix) return 0;
	memcpy(prefix, path, len + 1);
	struct node *dir = vfs_root;
	for (char *slash = strchr(prefix + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		struct node *node, *parent;
		const char *name;
		long r = vfs_lookup(vfs_root, prefix, 1, &node, &parent, &name);
		if (r == -ENOENT && parent) node = vfs_new(parent, name, strlen(name), S_IFDIR | 0755, &regular_ops);
		else if (r < 0) return 0;
		if (!S_ISDIR(node->mode)) return 0;
		dir = node;
		*slash = '/';
	}
	*last = strrchr(path, '/') + 1;
	return dir;
}

/* A new node at path, replacing a file or symlink there (not a directory); 0 if it cannot be. */
static struct node *put(const char *path, mode_t mode)
{
	const char *name;
	struct node *dir = parent_dir(path, &name), *old;
	if (!dir || !*name) return 0;
	if (vfs_lookup(dir, name, 0, &old, 0, 0) == 0) {
		if (S_ISDIR(old->mode)) return 0;
		vfs_unlink(old);
	}
	return vfs_new(dir, name, strlen(name), mode, &regular_ops);
}

static void etc_init(const struct nabla_boot *b)
{
	const struct nabla_file *files = (const struct nabla_file *)b->etc_files;
	for (uint64_t i = 0; i < b->etc_count; i++) {
		struct node *f = put((const char *)files[i].path, S_IFREG | 0644);
		if (!f) {
			libos_warn("the rootfs has a directory where the container's /etc file goes: the image's stays");
			continue;
		}
		f->data = (char *)files[i].data; /* cap 0: not ours to free or write */
		f->size = files[i].size;
		f->mtime = f->ctime = f->atime = (struct timespec){ .tv_sec = files[i].mtime };
	}
}

void self_init(void)
{
	const struct nabla_boot *b = libos_boot;
	const char *path = (const char *)b->exe_path;
	etc_init(b);
	if (!b->exe_size || !path || path[0] != '/') return;
	struct node *exe = put(path, S_IFREG | 0755);
	if (!exe) {
		libos_warn("the rootfs has a directory at the program's path, or a file on the way: no /proc/self/exe");
		return;
	}
	exe->data = (char *)b->exe_addr; /* cap 0: not ours to free or write */
	exe->size = b->exe_size;
	exe->mtime = exe->ctime = exe->atime = (struct timespec){ .tv_sec = b->exe_mtime };
	struct node *link = put("/proc/self/exe", S_IFLNK | 0777);
	if (!link) return;
	size_t len = strlen(path);
	link->data = arena_alloc(len + 1);
	memcpy(link->data, path, len + 1);
	link->size = len;
}
