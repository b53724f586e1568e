/*
 * The disk image is the app's rootfs as a tar (ustar, with pax or GNU long names).
 * At boot we read only the headers and build the tree; file bytes stay on the disk and
 * are read with pread when the app reads them.
 */
#include <string.h>

#include "vfs.h"

static uint64_t octal(const char *p, size_t len)
{
	uint64_t v = 0;
	for (size_t i = 0; i < len && p[i]; i++)
		if (p[i] >= '0' && p[i] <= '7') v = v * 8 + (uint64_t)(p[i] - '0');
	return v;
}

/* A tar's mtime: whole seconds. */
static struct timespec mtime_of(const char *header)
{
	return (struct timespec){ .tv_sec = (time_t)octal(header + 136, 12) };
}

/* Reads the image's bytes [off, off+len): the whole disk seen as one disk-backed file. */
static void read_exact(void *buf, size_t len, uint64_t off)
{
	if (vfs_read(&(struct node){ .mode = S_IFREG, .disk_off = 0, .size = off + len }, buf, len, off) != (long)len)
		libos_panic("cannot read the rootfs image");
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

void tar_load(uint64_t size)
{
	static char name[4096], link[4096];
	char header[512];
	int long_name = 0, long_link = 0;
	for (uint64_t off = 0; off + 512 <= size;) {
		read_exact(header, 512, off);
		if (header[0] == 0) break; /* end of archive */
		uint64_t len = octal(header + 124, 12);
		uint64_t data = off + 512;
		off = data + ((len + 511) & ~511ULL);
		char type = header[156];
		if (type == 'x' || type == 'L' || type == 'K') {
			/* Checked before taking memory for it: a broken size would take the heap. */
			if (len > size - data) libos_panic("rootfs image: an extended header runs past the end of the image");
			char *rec = arena_alloc(len + 1);
			read_exact(rec, len, data);
			if (type == 'L') {
				memcpy(name, rec, len < 4095 ? len : 4095);
				name[len < 4095 ? len : 4095] = 0;
				long_name = 1;
			} else if (type == 'K') {
				memcpy(link, rec, len < 4095 ? len : 4095);
				link[len < 4095 ? len : 4095] = 0;
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
		if (has_dotdot(name)) continue;

		const char *last;
		struct node *dir = parent_of(name, &last);
		size_t last_len = strcspn(last, "/");
		if (last_len == 0 || (last_len == 1 && last[0] == '.')) continue; /* "./" */
		mode_t mode = (mode_t)octal(header + 100, 8) & 07777;
		struct node *existing = 0;
		for (struct node *c = dir->children; c; c = c->next)
			if (strlen(c->name) == last_len && memcmp(c->name, last, last_len) == 0) existing = c;
		if (type == '5') {
			if (existing && S_ISDIR(existing->mode)) {
				existing->mode = S_IFDIR | mode;
				continue;
			}
			if (existing) vfs_unlink(existing);
			struct node *d = vfs_new(dir, last, last_len, S_IFDIR | mode, &regular_ops);
			d->atime = d->mtime = d->ctime = mtime_of(header);
			continue;
		}
		if (existing) vfs_unlink(existing); /* a later entry replaces an earlier one, as tar does */
		if (type == '0' || type == 0 || type == '7') {
			struct node *f = vfs_new(dir, last, last_len, S_IFREG | mode, &regular_ops);
			f->size = len;
			f->disk_off = (int64_t)data;
			f->atime = f->mtime = f->ctime = mtime_of(header);
		} else if (type == '2') {
			struct node *l = vfs_new(dir, last, last_len, S_IFLNK | 0777, &regular_ops);
			size_t tlen = strlen(link);
			l->data = arena_alloc(tlen + 1);
			memcpy(l->data, link, tlen + 1);
			l->size = tlen;
			l->atime = l->mtime = l->ctime = mtime_of(header);
		} else if (type == '1') { /* a hard link: a second name for an earlier file */
			struct node *target;
			if (vfs_lookup(vfs_root, link, 0, &target, 0, 0) == 0 && !S_ISDIR(target->mode))
				vfs_link(dir, last, last_len, target);
		}
		/* devices, fifos: not part of an app image; skipped */
	}
}
