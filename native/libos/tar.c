/*
 * The disk image is the app's rootfs as a tar (ustar, with pax or GNU long names), which
 * the tender maps read-only (nabla_boot.disk_addr). At boot we build the tree from the
 * tar's index, its first member, which nabla-build writes (src/rootfs/disk.ts has the
 * format): one read of a few pages, where reading every member's header would touch a page
 * of the mapping per file. A tar without one (made by another tool) is read header by
 * header. File bytes stay on the disk and are copied from the mapping when the app reads
 * them (vfs.c). Nothing here reads outside [disk, disk + size): a member that claims more is
 * refused with a panic, or (a header's file size) read short.
 */
#include <string.h>

#include "vfs.h"

#define INDEX_NAME ".nabla-index"
#define INDEX_MAGIC "NABLAIDX"
#define INDEX_VERSION 1
#define INDEX_RECORD 48 /* the fixed part; the name and the link target follow */

/* One member, from its header or from the index: names NUL-terminated, at most 4095 bytes. */
struct member {
	char type; /* the tar typeflag */
	const char *name, *link;
	uint32_t mode, uid, gid;
	uint64_t size, data; /* a regular file's: its length and where its bytes start in the image */
	int64_t mtime;
};

static char name[4096], link[4096];

static uint64_t octal(const char *p, size_t len)
{
	uint64_t v = 0;
	for (size_t i = 0; i < len && p[i]; i++)
		if (p[i] >= '0' && p[i] <= '7') v = v * 8 + (uint64_t)(p[i] - '0');
	return v;
}

static uint64_t le(const char *p, size_t len)
{
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) v |= (uint64_t)(uint8_t)p[i] << (8 * i);
	return v;
}

/* Creates the directories on the way to path and returns the parent of its last part. */
static struct node *parent_of(const char *path, const char **last)
{
	struct node *dir = vfs_root;
	for (;;) {
		while (*path == '/') path++;
		const char *slash = strchr(path, '/');
		if (!slash || slash[strspn(slash, "/")] == 0) break;
		size_t len = (size_t)(slash - path);
		struct node *found = 0;
		if (!(len == 1 && path[0] == '.')) {
			for (struct node *c = dir->children; c; c = c->next)
				if (strlen(c->name) == len && memcmp(c->name, path, len) == 0) found = c;
			if (!found) found = vfs_new(dir, path, len, S_IFDIR | 0755, &regular_ops);
			if (!S_ISDIR(found->mode)) libos_panic("rootfs image: a path goes through a file");
			dir = found;
		}
		path = slash;
	}
	*last = path;
	return dir;
}

/* A ".." part: no image nabla-build writes has one. Kept, "a/../b" would be a folder named
 * ".." that lookups never reach; GNU tar skips such members too. */
static int has_dotdot(const char *path)
{
	for (const char *p = path; *p;) {
		size_t len = strcspn(p, "/");
		if (len == 2 && p[0] == '.' && p[1] == '.') return 1;
		p += len;
		p += strspn(p, "/");
	}
	return 0;
}

static void stamp(struct node *n, const struct member *m)
{
	n->atime = n->mtime = n->ctime = (struct timespec){ .tv_sec = (time_t)m->mtime };
	n->uid = m->uid;
	n->gid = m->gid;
}

/* Puts one member into the tree; a later member replaces an earlier one, as tar does. */
static void add(const struct member *m)
{
	if (has_dotdot(m->name)) return;
	const char *last;
	struct node *dir = parent_of(m->name, &last);
	size_t last_len = strcspn(last, "/");
	if (last_len == 0 || (last_len == 1 && last[0] == '.')) return; /* "./" */
	mode_t mode = m->mode & 07777;
	struct node *existing = 0;
	for (struct node *c = dir->children; c; c = c->next)
		if (strlen(c->name) == last_len && memcmp(c->name, last, last_len) == 0) existing = c;
	if (m->type == '5') {
		if (existing && S_ISDIR(existing->mode)) {
			existing->mode = S_IFDIR | mode;
			return;
		}
		if (existing) vfs_unlink(existing);
		stamp(vfs_new(dir, last, last_len, S_IFDIR | mode, &regular_ops), m);
		return;
	}
	if (existing) vfs_unlink(existing);
	if (m->type == '0' || m->type == 0 || m->type == '7') {
		struct node *f = vfs_new(dir, last, last_len, S_IFREG | mode, &regular_ops);
		f->size = m->size;
		f->disk_off = (int64_t)m->data;
		stamp(f, m);
	} else if (m->type == '2') {
		struct node *l = vfs_new(dir, last, last_len, S_IFLNK | 0777, &regular_ops);
		size_t tlen = strlen(m->link);
		l->data = arena_alloc(tlen + 1);
		memcpy(l->data, m->link, tlen + 1);
		l->size = tlen;
		stamp(l, m);
	} else if (m->type == '1') { /* a hard link: a second name for an earlier file */
		struct node *target;
		if (vfs_lookup(vfs_root, m->link, 0, &target, 0, 0) == 0 && !S_ISDIR(target->mode))
			vfs_link(dir, last, last_len, target);
	}
	/* devices, fifos: not part of an app image; skipped */
}

/* The index's records, each checked before it is used: a broken index is a panic, never a
 * read outside it or a file outside the image. */
static void index_load(const char *disk, uint64_t size, const char *header)
{
	uint64_t len = octal(header + 124, 12);
	if (len > size - 512) libos_panic("rootfs image: its index (.nabla-index) runs past the end of the image");
	const char *p = disk + 512, *end = p + len;
	if (len < 16 || memcmp(p, INDEX_MAGIC, 8) != 0) libos_panic("rootfs image: .nabla-index is not an index (no NABLAIDX)");
	if (le(p + 8, 4) != INDEX_VERSION)
		libos_panic("rootfs image: its index is of another version than this libOS reads: build the image again");
	uint64_t count = le(p + 12, 4);
	for (p += 16; count > 0; count--) {
		if ((uint64_t)(end - p) < INDEX_RECORD) libos_panic("rootfs image: its index ends inside a record");
		size_t name_len = (size_t)le(p + 36, 2), link_len = (size_t)le(p + 38, 2);
		if (name_len >= sizeof name || link_len >= sizeof link)
			libos_panic("rootfs image: a name in its index is longer than 4095 bytes");
		if (name_len + link_len > (size_t)(end - p) - INDEX_RECORD) libos_panic("rootfs image: its index ends inside a name");
		memcpy(name, p + INDEX_RECORD, name_len);
		name[name_len] = 0;
		memcpy(link, p + INDEX_RECORD + name_len, link_len);
		link[link_len] = 0;
		struct member m = { .type = p[40], .name = name, .link = link };
		m.data = le(p, 8), m.size = le(p + 8, 8), m.mtime = (int64_t)le(p + 16, 8);
		m.mode = (uint32_t)le(p + 24, 4), m.uid = (uint32_t)le(p + 28, 4), m.gid = (uint32_t)le(p + 32, 4);
		if ((m.type == '0' || m.type == 0 || m.type == '7') && (m.data > size || m.size > size - m.data))
			libos_panic("rootfs image: its index puts a file's bytes past the end of the image");
		add(&m);
		p += INDEX_RECORD + name_len + link_len;
	}
	if (p != end) libos_panic("rootfs image: its index has bytes after its last record");
}

/* The value of `key` in a pax record block ("LEN key=value\n"...), copied into out. LEN
 * counts the whole record; a record whose digits run to its end (or past the block) ends
 * the search. Offsets, not pointers: a broken LEN must not make one point outside rec. */
static int pax_value(const char *rec, size_t len, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	for (size_t i = 0; i < len;) {
		size_t n = 0, j = i;
		while (j < len && rec[j] >= '0' && rec[j] <= '9' && n <= len) n = n * 10 + (size_t)(rec[j++] - '0');
		if (n == 0 || n > len - i || j + 1 >= i + n) return 0;
		size_t kv = j + 1, end = i + n; /* key=value in [kv, end - 1), then the newline */
		if (end - kv > klen + 1 && memcmp(rec + kv, key, klen) == 0 && rec[kv + klen] == '=') {
			size_t vlen = end - 1 - (kv + klen + 1);
			if (vlen >= size) return 0;
			memcpy(out, rec + kv + klen + 1, vlen);
			out[vlen] = 0;
			return 1;
		}
		i = end;
	}
	return 0;
}

static int zero_block(const char *p)
{
	for (int i = 0; i < 512; i++)
		if (p[i]) return 0;
	return 1;
}

void tar_load(const char *disk, uint64_t size)
{
	if (size >= 512 && memcmp(disk, INDEX_NAME, sizeof INDEX_NAME) == 0 && disk[345] == 0 && disk[156] == '0') {
		index_load(disk, size, disk);
		return;
	}
	int long_name = 0, long_link = 0;
	for (uint64_t off = 0; off + 512 <= size;) {
		const char *header = disk + off;
		/* The end: a zero block. A zero first byte alone is not: a folder whose name fits
		 * only the ustar prefix has an empty name field. */
		if (zero_block(header)) break;
		uint64_t len = octal(header + 124, 12);
		uint64_t data = off + 512;
		off = data + ((len + 511) & ~511ULL);
		char type = header[156];
		if (type == 'x' || type == 'L' || type == 'K') {
			if (len > size - data) libos_panic("rootfs image: an extended header runs past the end of the image");
			const char *rec = disk + data;
			size_t keep = len < 4095 ? (size_t)len : 4095;
			if (type == 'L') {
				memcpy(name, rec, keep);
				name[keep] = 0;
				long_name = 1;
			} else if (type == 'K') {
				memcpy(link, rec, keep);
				link[keep] = 0;
				long_link = 1;
			} else {
				long_name = pax_value(rec, len, "path", name, sizeof name);
				long_link = pax_value(rec, len, "linkpath", link, sizeof link);
			}
			continue;
		}
		if (type == 'g') continue;
		if (!long_name) {
			char *n = name;
			if (header[345]) { /* ustar prefix */
				size_t plen = strnlen(header + 345, 155);
				memcpy(n, header + 345, plen);
				n += plen;
				*n++ = '/';
			}
			size_t nlen = strnlen(header, 100);
			memcpy(n, header, nlen);
			n[nlen] = 0;
		}
		if (!long_link) {
			size_t llen = strnlen(header + 157, 100);
			memcpy(link, header + 157, llen);
			link[llen] = 0;
		}
		long_name = long_link = 0;
		struct member m = { .type = type, .name = name, .link = link, .size = len, .data = data };
		m.mode = (uint32_t)octal(header + 100, 8), m.uid = (uint32_t)octal(header + 108, 8), m.gid = (uint32_t)octal(header + 116, 8);
		m.mtime = (int64_t)octal(header + 136, 12);
		add(&m);
	}
}
