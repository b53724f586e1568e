/*
 * mmap of a file: how a dynamic loader brings in libc.so.6 and the other shared objects.
 * The libOS has no page cache to share: a file mapping is an anonymous one (mem.c) that
 * gets a copy of the file's bytes from `off`, the rest of its pages zero. That is exact for
 * MAP_PRIVATE; MAP_SHARED is allowed read-only (nobody can write the file through it, and
 * a later write() to the file is not seen through the copy: no loader or runtime here needs
 * that). Protections are kept as mem.c keeps them; the host's stay the tender's, so code
 * (PROT_EXEC) can only run where the tender made free memory executable (--x-exec-heap).
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "vfs.h"

#define MAP_TYPE_MASK 0x0f /* MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE */

long sys_mmap_file(uintptr_t addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct file *f = fd_get(fd);
	int type = flags & MAP_TYPE_MASK;
	if (!f) return -EBADF;
	if (off < 0 || off % PAGE_SIZE || len == 0) return -EINVAL;
	if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE) return -EINVAL;
	if ((f->flags & O_ACCMODE) == O_WRONLY) return -EACCES;
	/* Pipes, sockets, devices, directories: Linux's answer for what cannot be mapped. */
	if (!S_ISREG(f->node->mode) || f->node->ops != &regular_ops) return -ENODEV;
	/* A shared writable mapping would have to write back to the file: not served. */
	if (type != MAP_PRIVATE && (prot & PROT_WRITE)) return -ENODEV;
	if ((prot & PROT_EXEC) && !(libos_boot->flags & NABLA_BOOT_EXEC_HEAP)) {
		static int warned;
		if (!warned++) libos_warn("mmap(PROT_EXEC) of a file refused: guest memory is not executable (nabla-run --x-exec-heap)");
		return -EPERM; /* as for a file on a noexec mount */
	}
	long at = sys_mmap(addr, len, prot, (flags & ~MAP_TYPE_MASK) | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (at < 0) return at;
	/* The copy: up to the end of the file (pages past it stay zero). The host's
	 * protection of the region is read-write, so this writes even a PROT_READ mapping. */
	uint64_t size = f->node->size, start = (uint64_t)off;
	size_t want = start >= size ? 0 : (size - start < len ? (size_t)(size - start) : len);
	long got = want ? vfs_read(f->node, (void *)at, want, start) : 0;
	if (got != (long)want) {
		sys_munmap((uintptr_t)at, len);
		return got < 0 ? got : -EIO;
	}
	return at;
}
