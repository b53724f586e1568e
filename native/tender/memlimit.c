/*
 * memlimit.c — guest memory that fits the container's memory limit.
 *
 * `docker run --memory 64m` puts the tender in a cgroup whose memory the kernel caps: past
 * the limit the OOM killer ends the container mid-run, whatever the guest was doing. The
 * libOS keeps the guest within --mem, so a guest given no more than the limit leaves room
 * for gets ENOMEM from its own allocator instead. Before loading, the tender reads the
 * tightest limit on its cgroup (v2 memory.max, v1 memory.limit_in_bytes, each up the
 * tree as far as it is visible) and lowers --mem to fit; a limit with too little room for
 * the image at all is a clear refusal (load_images). The files are the kernel's; still,
 * anything odd in them reads as "no limit" and can only ever lower --mem.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tender.h"

/* What the tender itself and the kernel need beside the guest: the tender's own pages,
 * the page tables of the guest region, signal stacks, the unikernel and disk in the page
 * cache (reclaimable, but charged). 16 MiB, and 1/32 of the limit above 512 MiB. */
static uint64_t overhead_mib(uint64_t limit_mib)
{
	return 16 + (limit_mib > 512 ? (limit_mib - 512) / 32 : 0);
}

static uint64_t room_mib(uint64_t limit_mib)
{
	uint64_t over = overhead_mib(limit_mib);
	return limit_mib > over ? limit_mib - over : 0;
}

uint64_t memlimit_for(uint64_t mem_mib)
{
	uint64_t limit = mem_mib;
	while (room_mib(limit) < mem_mib)
		limit++;
	return limit;
}

/* Reads a small file of the kernel's (a regular file, never a FIFO someone mounted). */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -1;
	struct stat st;
	ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, buf, size - 1) : -1;
	close(fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

/* A cgroup file's number in bytes; UINT64_MAX for "max" or anything unreadable. */
static uint64_t read_limit(const char *path)
{
	char buf[64];
	if (read_small(path, buf, sizeof buf) <= 0)
		return UINT64_MAX;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n'))
		return UINT64_MAX;
	return v;
}

/* The lowest limit in `file` along cgroup `path` under `mount`, from path up to the mount's
 * root (a cgroup namespace shows "/" for its own root; Docker on v1 mounts the container's
 * cgroup as the root). A path that climbs (".."), or is too long, is only read at the root. */
static uint64_t walk(const char *mount, const char *path, size_t path_len, const char *file)
{
	char name[512], dir[768];
	uint64_t limit = UINT64_MAX;
	if (path_len < sizeof name && path[0] == '/' && !strstr(path, "/..")) {
		memcpy(name, path, path_len);
		name[path_len] = 0;
		for (char *slash; name[1] && (slash = strrchr(name, '/'));) {
			snprintf(dir, sizeof dir, "%s%s/%s", mount, name, file);
			uint64_t v = read_limit(dir);
			limit = v < limit ? v : limit;
			*slash = 0; /* the parent; "" at the root */
			if (slash == name)
				break;
		}
	}
	snprintf(dir, sizeof dir, "%s/%s", mount, file);
	uint64_t root = read_limit(dir);
	return root < limit ? root : limit;
}

/* Is "memory" one of a v1 hierarchy's comma-separated controllers? */
static int has_memory(const char *controllers)
{
	for (const char *c = controllers; c; c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL)
		if (strncmp(c, "memory", 6) == 0 && (c[6] == ',' || c[6] == 0))
			return 1;
	return 0;
}

/* The tightest memory limit on this process, in bytes (UINT64_MAX: none): /proc/self/cgroup
 * has "0::PATH" for v2 and "N:...memory...:PATH" for v1's memory controller. */
static uint64_t cgroup_memory_limit(void)
{
	char buf[8192];
	uint64_t limit = UINT64_MAX;
	if (read_small("/proc/self/cgroup", buf, sizeof buf) <= 0)
		return limit;
	for (char *line = buf, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = 0;
		char *controllers = strchr(line, ':'), *path = controllers ? strchr(controllers + 1, ':') : NULL;
		if (!path)
			continue;
		*path++ = 0;
		controllers++;
		uint64_t v = UINT64_MAX;
		if (strcmp(line, "0") == 0 && !*controllers)
			v = walk("/sys/fs/cgroup", path, strlen(path), "memory.max");
		else if (has_memory(controllers))
			v = walk("/sys/fs/cgroup/memory", path, strlen(path), "memory.limit_in_bytes");
		limit = v < limit ? v : limit;
	}
	return limit;
}

void memlimit_fit(struct tender_opts *o)
{
	uint64_t limit = cgroup_memory_limit();
	if (limit == UINT64_MAX)
		return;
	uint64_t limit_mib = limit / MIB, room = room_mib(limit_mib);
	if (o->mem_mib <= room)
		return;
	o->mem_lowered = 1;
	o->mem_limit_mib = limit_mib;
	o->mem_asked_mib = o->mem_mib;
	o->mem_mib = room; /* may be below what the image needs: load_images refuses */
}
