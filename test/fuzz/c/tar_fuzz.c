/*
 * tar_fuzz.c — libFuzzer target: the libOS's rootfs reader (native/libos/tar.c: the index
 * nabla-build writes first, or the headers of a tar without one) and the path lookups over
 * the tree it builds (vfs.c), on one input taken as the disk (rootfs.tar), which the libOS
 * reads as the tender's mapping: here the input itself, so ASan sees a read past it.
 * tar.c and vfs.c are compiled unchanged (run.sh); what they call below them is here:
 * mem_alloc is malloc within a guest-memory budget (so ASan sees every allocation's
 * bounds), and libos_panic (the libOS's refusal of a bad image) comes back here by longjmp. After tar_load the target walks the tree and checks: every node is
 * found again by its own path; lookups that follow symlinks end in a node or an errno that
 * path_resolution(7) allows; symlinks hold their target; a file reads back the input's bytes.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfs.h"

#define MEM_BUDGET (64u << 20) /* guest memory the libOS may take, as --mem would */

static const uint8_t *disk;
static size_t disk_size;
static struct nabla_boot boot = { .abi_version = NABLA_ABI_VERSION, .disk_fd = -1, .mem_size = MEM_BUDGET };
const struct nabla_boot *libos_boot = &boot;
static jmp_buf panicked;

#define require(cond, ...) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "tar_fuzz: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
			abort(); \
		} \
	} while (0)

_Noreturn void libos_panic(const char *message)
{
	require(message && *message && !strchr(message, '\n'), "a panic without a one-line message");
	longjmp(panicked, 1);
}

/* Every allocation of one run, freed after it (the libOS never frees its arena). */
static struct {
	void *p;
	size_t len;
} * allocs;
static size_t nallocs, cap_allocs, used;

void *mem_try_alloc(size_t len)
{
	if (len > MEM_BUDGET - used) return 0;
	if (nallocs == cap_allocs) {
		cap_allocs = cap_allocs ? 2 * cap_allocs : 256;
		allocs = realloc(allocs, cap_allocs * sizeof *allocs);
	}
	void *p = calloc(1, len ? len : 1); /* the libOS's memory comes zeroed */
	allocs[nallocs].p = p;
	allocs[nallocs++].len = len;
	used += len;
	return p;
}

void *mem_alloc(size_t len)
{
	void *p = mem_try_alloc(len);
	if (!p) libos_panic("out of guest memory (raise --mem)");
	return p;
}

void mem_free(void *p, size_t len)
{
	for (size_t i = 0; i < nallocs; i++)
		if (allocs[i].p == p) {
			require(allocs[i].len == len, "mem_free of %zu bytes, allocated %zu", len, allocs[i].len);
			free(p);
			used -= len;
			allocs[i] = allocs[--nallocs];
			return;
		}
	require(0, "mem_free of memory not allocated");
}

static void free_all(void)
{
	/* arena_alloc keeps a chunk in statics: take what is left of it, so the next run starts
	 * a fresh chunk instead of carving one freed here. */
	arena_alloc(65536);
	for (size_t i = 0; i < nallocs; i++) free(allocs[i].p);
	nallocs = used = 0;
}

void sched_wake_all(const void *key) { (void)key; }
uint64_t time_now_ns(int clock)
{
	(void)clock;
	return 0;
}

/* Can a path name this node? Its names must be ones walk() takes literally. */
static int nameable(struct node *n)
{
	for (; n != vfs_root; n = n->parent) {
		size_t len = strlen(n->name);
		if (len == 0 || len > 255 || strcmp(n->name, ".") == 0 || strcmp(n->name, "..") == 0) return 0;
	}
	return 1;
}

static char file_buf[1 << 20];

static void check_node(struct node *n, int depth)
{
	require(depth < 4096, "a tree deeper than any tar path");
	static char path[16384];
	if (n != vfs_root) {
		require(n->parent && n->name && !strchr(n->name, '/'), "node \"%s\": no parent, or a '/' in its name", n->name);
		size_t len = vfs_path(n, path, sizeof path);
		if (len < sizeof path && nameable(n)) {
			struct node *found = 0;
			long r = vfs_lookup(vfs_root, path, 0, &found, 0, 0);
			/* a hard link's entry leads to the file it names (vfs_inode) */
			require(r == 0 && found == vfs_inode(n), "\"%s\" does not find its own node (%ld)", path, r);
			r = vfs_lookup(vfs_root, path, 1, &found, 0, 0);
			require(r == 0 || r == -ENOENT || r == -ENOTDIR || r == -ELOOP || r == -ENAMETOOLONG, "\"%s\" followed: %ld", path, r);
			require(r != 0 || !S_ISLNK(found->mode), "\"%s\" followed ends on a symlink", path);
		}
	}
	if (n->inode) return; /* a hard link's entry: the file it names is checked under its own name */
	if (S_ISLNK(n->mode)) {
		require(n->data && strlen(n->data) == n->size, "symlink \"%s\": target and size differ", n->name);
		struct node *found = 0, *parent = 0;
		const char *last = 0;
		long r = vfs_lookup(n->parent, n->data, 1, &found, &parent, &last);
		require(r == 0 || r == -ENOENT || r == -ENOTDIR || r == -ELOOP || r == -ENAMETOOLONG, "symlink target: %ld", r);
		require(r != -ENOENT || !parent || (last && *last), "ENOENT with a parent but no last name");
	} else if (S_ISREG(n->mode)) {
		require(n->disk_off >= 0, "file \"%s\" from the tar is not on the disk", n->name);
		size_t want = n->size < sizeof file_buf ? n->size : sizeof file_buf;
		long r = vfs_read(n, file_buf, want, 0);
		uint64_t off = (uint64_t)n->disk_off;
		size_t there = off >= disk_size ? 0 : disk_size - off < want ? disk_size - off :
									       want;
		require(r == (long)there || (there < want && r == -EIO && there == 0), "file \"%s\": read %ld of %zu", n->name, r, want);
		if (r > 0) require(memcmp(file_buf, disk + off, (size_t)r) == 0, "file \"%s\": other bytes than the disk's", n->name);
	} else if (S_ISDIR(n->mode)) {
		for (struct node *c = n->children; c; c = c->next) {
			require(c->parent == n, "a child whose parent is another");
			for (struct node *d = c->next; d; d = d->next) require(strcmp(c->name, d->name) != 0, "two \"%s\" in one folder", c->name);
			check_node(c, depth + 1);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	disk = data;
	disk_size = size;
	boot.disk_addr = (uint64_t)(uintptr_t)data;
	boot.disk_size = size;
	if (setjmp(panicked) == 0) {
		vfs_init();
		tar_load((const char *)data, size);
		check_node(vfs_root, 0);
	}
	free_all();
	return 0;
}
