/*
 * memlimit.c — guest memory that fits the container's memory limit.
 *
 * `docker run --memory 64m` puts the tender in a cgroup whose memory the kernel caps: past
 * the limit the OOM killer ends the container mid-run, whatever the guest was doing. The
 * libOS keeps the guest within --mem, so a guest given no more than the limit leaves room
 * for gets ENOMEM from its own allocator instead. Before loading, the tender reads the
 * limit (cgroup v2 memory.max up the tree, or v1 memory.limit_in_bytes) and lowers --mem
 * to fit; too little room for the image at all is a clear refusal (load_images).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tender.h"

/* What the tender itself and the kernel need beside the guest: the tender's own pages,
 * the page tables of the guest region, signal stacks, the unikernel and disk in the page
 * cache (reclaimable, but charged). 16 MiB, and 1/32 of the limit above 512 MiB. */
static uint64_t overhead_mib(uint64_t limit_mib)
{
    return 16 + (limit_mib > 512 ? (limit_mib - 512) / 32 : 0);
}

/* A cgroup file's number in bytes; UINT64_MAX for "max" or anything unreadable. */
static uint64_t read_limit(const char *path)
{
    char buf[64];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return UINT64_MAX;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return UINT64_MAX;
    buf[n] = 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || end == buf || (*end && *end != '\n'))
        return UINT64_MAX; /* "max" */
    return v;
}

/* cgroup v2: the lowest memory.max on our cgroup's path ("0::/path" in /proc/self/cgroup;
 * "/" inside a cgroup namespace, as Docker makes) and each parent visible under
 * /sys/fs/cgroup. */
static uint64_t v2_limit(void)
{
    char line[512] = "", file[600];
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f)
        return UINT64_MAX;
    while (fgets(line, sizeof line, f) && strncmp(line, "0::", 3) != 0)
        line[0] = 0;
    fclose(f);
    if (strncmp(line, "0::", 3) != 0)
        return UINT64_MAX;
    line[strcspn(line, "\n")] = 0;
    char *path = line + 3;
    uint64_t limit = read_limit("/sys/fs/cgroup/memory.max");
    for (char *slash; (slash = strrchr(path, '/')) && path[1];) {
        snprintf(file, sizeof file, "/sys/fs/cgroup%s/memory.max", path);
        uint64_t v = read_limit(file);
        limit = v < limit ? v : limit;
        *slash = 0; /* the parent; "" once at the root */
        if (slash == path)
            break;
    }
    return limit;
}

/* The tightest memory limit on this process in bytes (UINT64_MAX: none): cgroup v2, or v1's
 * memory controller (Docker mounts the container's own cgroup there). */
static uint64_t cgroup_memory_limit(void)
{
    uint64_t v2 = v2_limit(), v1 = read_limit("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    return v1 < v2 ? v1 : v2;
}

void memlimit_fit(struct tender_opts *o)
{
    uint64_t limit = cgroup_memory_limit();
    if (limit == UINT64_MAX || limit / MIB > NABLA_MEM_MAX_MIB + 1024)
        return; /* no limit, or far above anything a guest may have */
    uint64_t limit_mib = limit / MIB, over = overhead_mib(limit_mib);
    uint64_t room = limit_mib > over ? limit_mib - over : 0;
    if (o->mem_mib <= room)
        return;
    o->mem_limit_mib = limit_mib;
    o->mem_mib = room; /* may be below the image's need or NABLA_MEM_MIN_MIB: load_images refuses */
}
