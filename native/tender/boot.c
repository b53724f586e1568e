/*
 * boot.c — guest memory, the boot page and the Linux initial stack.
 *
 * Guest region [NABLA_GUEST_BASE, +va_size), va_size = --mem + NABLA_VA_EXTRA, mapped
 * PROT_NONE and MAP_NORESERVE, with as much again above it reserved the same way (the
 * heap hypercalls' lengths may run past the region: memcap.c). The tender makes usable:
 *   boot page (read-only: struct nabla_boot, then the cwd, exe path and host name strings)
 *   the libOS at NABLA_LIBOS_BASE when it runs beside the app (--libos)
 *   PT_LOAD segments (their own flags), image_end
 *   stack: stack_size bytes below stack_top = end of the region; the initial stack
 *   (argc, argv, envp, auxv, then the strings) sits at its top, like Linux builds it.
 * The rest stays PROT_NONE: between image_end and the stack is the heap, which the libOS
 * makes usable page by page within --mem (memcap.c).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "tender.h"

extern char **environ;

/* 8 MiB, or a quarter of guest memory when that is smaller (--mem=8 gives 2 MiB). */
uint64_t stack_size_for(uint64_t mem)
{
	return mem / 4 < STACK_SIZE_MAX ? mem / 4 : STACK_SIZE_MAX;
}

void guest_map(uint64_t va_size, uint64_t stack_size)
{
	void *want = (void *)NABLA_GUEST_BASE;
	void *got = mmap(want, 2 * va_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (got == MAP_FAILED)
		err(TENDER_EXIT, "mmap(guest memory 0x%lx..0x%lx) failed", NABLA_GUEST_BASE, NABLA_GUEST_BASE + 2 * va_size);
	if (got != want) /* a kernel older than 4.17 takes MAP_FIXED_NOREPLACE as a mere hint */
		errx(TENDER_EXIT, "mmap(guest memory at 0x%lx) returned %p: the range is in use", NABLA_GUEST_BASE, got);
	uint64_t stack_bottom = NABLA_GUEST_BASE + va_size - stack_size;
	if (mprotect(want, NABLA_BOOT_SIZE, PROT_READ | PROT_WRITE) < 0 ||
	    mprotect((void *)stack_bottom, stack_size, PROT_READ | PROT_WRITE) < 0)
		err(TENDER_EXIT, "mprotect(boot page, stack) failed");
}

static void random_bytes(void *buf, size_t n)
{
	if (getrandom(buf, n, 0) != (ssize_t)n)
		err(TENDER_EXIT, "getrandom(%zu bytes) failed", n);
}

/* Writes the boot struct, the cwd, the absolute path of the program's file (exe) and the
 * host name to the boot page, then makes it read-only. Under --exe-root the path is the guest's. */
void boot_write(struct nabla_boot *boot, const char *exe, const char *exe_root)
{
	char *cwd = (char *)NABLA_BOOT_ADDR + sizeof *boot, *end = (char *)NABLA_BOOT_ADDR + NABLA_BOOT_SIZE;
	random_bytes(boot->seed, sizeof boot->seed);
	if (!getcwd(cwd, (size_t)(end - cwd)))
		err(TENDER_EXIT, "getcwd failed");
	boot->cwd = (uint64_t)cwd;
	char *exe_path = cwd + strlen(cwd) + 1, real[4096]; /* PATH_MAX, which realpath fills at most */
	if (!realpath(exe, real))
		err(TENDER_EXIT, "%s: realpath failed", exe);
	if (strlen(real) >= (size_t)(end - exe_path))
		errx(TENDER_EXIT, "%s: the working directory and this path do not fit the boot page (%lu bytes)", exe,
		     NABLA_BOOT_SIZE);
	boot->exe_path = (uint64_t)strcpy(exe_path, exe_root_guest_path(exe_root, real));
	/* The container's host name (its UTS namespace's), for the guest's uname. */
	char *hostname = exe_path + strlen(exe_path) + 1;
	if (end - hostname > 64 && gethostname(hostname, 65) == 0) {
		hostname[64] = 0;
		boot->hostname = (uint64_t)hostname;
	}
	memcpy((void *)NABLA_BOOT_ADDR, boot, sizeof *boot);
	if (mprotect((void *)NABLA_BOOT_ADDR, NABLA_BOOT_SIZE, PROT_READ) < 0)
		err(TENDER_EXIT, "mprotect(boot page) failed");
}

/* Builds argc, argv, envp and auxv below stack_top; returns the guest's %rsp. The auxv
 * describes the app (its headers and entry) even when its dynamic loader runs first:
 * AT_BASE says where the loader is, as Linux does it. */
uint64_t stack_build(const struct elf_image *app, uint64_t interp_base, const struct tender_opts *o, uint64_t stack_top,
		     uint64_t stack_size)
{
	enum {
		NAUX = 17
	};
	int envc = 0;
	uint64_t strings = 16; /* AT_RANDOM bytes first */
	for (int i = 0; i < o->argc; i++)
		strings += strlen(o->argv[i]) + 1;
	for (; environ && environ[envc]; envc++)
		strings += strlen(environ[envc]) + 1;
	uint64_t words = 1 + (o->argc + 1) + (envc + 1) + 2 * NAUX;
	if (strings + words * 8 + 64 > stack_size / 2)
		errx(TENDER_EXIT, "arguments and environment too large for the guest stack (%lu bytes)", strings + words * 8);

	char *rnd = (char *)(stack_top - ((strings + 15) & ~15UL)), *s = rnd + 16;
	uint64_t *sp = (uint64_t *)(((uint64_t)rnd - words * 8) & ~15UL), *w = sp;
	random_bytes(rnd, 16);
	*w++ = o->argc;
	for (int i = 0; i < o->argc; i++, s += strlen(s) + 1)
		*w++ = (uint64_t)strcpy(s, o->argv[i]);
	*w++ = 0;
	for (int i = 0; i < envc; i++, s += strlen(s) + 1)
		*w++ = (uint64_t)strcpy(s, environ[i]);
	*w++ = 0;
	const uint64_t auxv[NAUX][2] = {
		{ AT_PHDR, app->phdr },
		{ AT_PHENT, sizeof(Elf64_Phdr) },
		{ AT_PHNUM, app->phnum },
		{ AT_PAGESZ, PAGE_SIZE },
		{ AT_ENTRY, app->entry },
		{ AT_BASE, interp_base },
		{ AT_RANDOM, (uint64_t)rnd },
		{ AT_UID, getuid() },
		{ AT_EUID, geteuid() },
		{ AT_GID, getgid() },
		{ AT_EGID, getegid() },
		{ AT_SECURE, 0 },
		{ AT_HWCAP, getauxval(AT_HWCAP) },
		{ AT_HWCAP2, getauxval(AT_HWCAP2) },
		{ AT_EXECFN, sp[1] }, /* argv[0]: the UNIKERNEL path as given */
		/* The host's vDSO, mapped in this process anyway: glibc and Go read the clock there
		 * with no system call, as on Linux (a trapped clock_gettime costs ~6 us). Its own
		 * fallback `syscall`s are outside the hypercall code, so the filter traps them to the
		 * libOS like any guest call. Last: on a host without one it ends the vector. */
		{ getauxval(AT_SYSINFO_EHDR) ? AT_SYSINFO_EHDR : AT_NULL, getauxval(AT_SYSINFO_EHDR) },
		{ AT_NULL, 0 },
	};
	memcpy(w, auxv, sizeof auxv);
	/* A guard page at the bottom of the stack: an overflow faults instead of running on
	 * into the heap below (the guest cannot mprotect it, so the tender does). */
	if (mprotect((void *)(stack_top - stack_size), PAGE_SIZE, PROT_NONE) < 0)
		err(TENDER_EXIT, "mprotect(stack guard page) failed");
	return (uint64_t)sp;
}
