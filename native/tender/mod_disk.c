/*
 * mod_disk.c — the read-only disk (--disk=PATH, the app's rootfs.tar): opened O_RDONLY
 * at fd DISK_FD before the filter; the guest may only pread64 it. No pwrite64: the
 * libOS keeps writes in memory. Offsets and sizes need no pin: a read-only fd can only
 * ever read the one file it names.
 */
#define _GNU_SOURCE
#include <err.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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
	if (fd != DISK_FD) { /* every fd >= 3 is closed already: F_DUPFD gives exactly DISK_FD */
		int moved = fcntl(fd, F_DUPFD_CLOEXEC, DISK_FD);
		if (moved != DISK_FD)
			errx(TENDER_EXIT, "%s: fcntl(F_DUPFD, %d) gave fd %d", path, DISK_FD, moved);
		close(fd);
	}
	boot->disk_fd = DISK_FD;
	boot->disk_size = size;
	if (size > 0) { /* the guest's reads then stay in the page cache (warm.c) */
		void *disk = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, DISK_FD, 0);
		if (disk == MAP_FAILED)
			err(TENDER_EXIT, "%s: mmap of the disk failed", path);
		page_cache_warm(disk, (uint64_t)size, path);
		munmap(disk, (size_t)size);
	}
}

void disk_rules(struct policy *p, const char *path)
{
	if (path) /* pread64(disk, ...): reading the rootfs */
		policy_add(p, (struct rule){ "pread64", SYS_pread64, 0, "fd", 1, { { DISK_FD, "<disk>" } } });
}
