/*
 * warm.c — the guest's files read into the host's page cache before the filter.
 *
 * The guest reads the disk (pread64) and its own program file (a read-only mapping) after
 * the filter. Where those pages have left the host's cache (a container's pages can go
 * with its memory cgroup), each read would take the host's block layer and its driver:
 * code the guest could then drive at will. Read once here, as the tender's own work, the
 * guest's reads stay in the page cache for as long as the host keeps the pages there.
 * The cost is one read of both files at start, from the cache when they are already there;
 * a file over WARM_MAX (a disk as large as a container's memory, or a block device) is not
 * read, and the guest's reads of it may reach the block layer.
 */
#define _GNU_SOURCE
#include <err.h>
#include <sys/mman.h>

#include "tender.h"

#define WARM_MAX (1ULL << 30)

void page_cache_warm(const void *file, uint64_t size, const char *what)
{
	if (size == 0)
		return;
	if (size <= WARM_MAX) {
		/* One large read-ahead for the whole range, then a touch of each page to wait for it. */
		if (madvise((void *)file, size, MADV_WILLNEED) < 0)
			err(TENDER_EXIT, "%s: madvise(MADV_WILLNEED) failed", what);
		volatile const char *bytes = file;
		for (uint64_t at = 0; at < size; at += PAGE_SIZE)
			(void)bytes[at];
	}
	/* The pages stay cached; the tender's own mapping of them goes. */
	if (madvise((void *)file, size, MADV_DONTNEED) < 0)
		err(TENDER_EXIT, "%s: madvise(MADV_DONTNEED) failed", what);
}
