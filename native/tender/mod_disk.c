/*
 * mod_disk.c — the read-only disk (--disk=PATH, the app's rootfs.tar): mapped read-only
 * outside the guest region before the filter, as the program's file is (elf.c), and its
 * fd closed. The guest reads the disk as memory: no host call, only page faults on a file
 * mapping, and the policy has no rule for it. MAP_SHARED over an O_RDONLY fd: the kernel
 * refuses to make such a mapping writable at all (no VM_MAYWRITE), whatever call a later
 * policy might allow; the guest's writes stay in its memory (libOS tmpfs). A write to the
 * mapping faults, and the libOS ends the guest on a fault it cannot give the app; so does a
 * read past the end of a disk file that shrank under it (SIGBUS, where pread64 read short):
 * an image's rootfs.tar never changes.
 */
#define _GNU_SOURCE
#include <err.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tender.h"

void disk_open(struct nabla_boot *boot, const char *path)
{
	boot->disk_fd = -1;
	if (!path)
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		err(TENDER_EXIT, "%s: cannot open the disk", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		err(TENDER_EXIT, "%s: fstat failed", path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		errx(TENDER_EXIT, "%s: the disk must be a regular file or a block device", path);
	off_t size = lseek(fd, 0, SEEK_END);
	char byte;
	if (size < 0 || (size > 0 && pread(fd, &byte, 1, 0) != 1))
		err(TENDER_EXIT, "%s: cannot read the disk", path);
	if (size > 0) { /* an empty disk has nothing to map (mmap refuses length 0): disk_addr stays 0 */
		void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			err(TENDER_EXIT, "%s: mmap of the disk failed", path);
		/* The whole disk into the page cache first: the guest's faults on it then never
		 * reach the block layer (warm.c). After that no readahead around each fault. (The
		 * kernel still maps up to 64 KiB of cached neighbours around a fault,
		 * fault_around_bytes, whatever the advice.) */
		page_cache_warm(map, (uint64_t)size, path);
		if (madvise(map, (size_t)size, MADV_RANDOM) < 0)
			err(TENDER_EXIT, "madvise(%s, MADV_RANDOM) failed", path);
		boot->disk_addr = (uint64_t)map;
	}
	boot->disk_size = (uint64_t)size;
	close(fd); /* the mapping keeps the file; the guest gets no fd */
}
