/*
 * elf_fuzz.c — libFuzzer target: the tender's unikernel checks (native/tender/elf.c) on one
 * input taken as the UNIKERNEL file: elf_open, then elf_check_note when it has a note, as
 * core.c runs them; then again as a dynamic loader (ELF_LOADER). Both are given a base for
 * an ET_DYN image, as core.c gives a PIE beside the libOS and the loader. elf.c is compiled
 * unchanged (run.sh) but for three names:
 *   open/close  -> fuzz_open/fuzz_close: a memfd as long as the input (a regular file);
 *   mmap/munmap -> fuzz_mmap/fuzz_munmap: a heap copy of exactly the input, so ASan sees a
 *                  read one byte past the file's end (a real mapping hides it up to the page);
 * and its errx/err (every refusal) come back here by longjmp instead of exiting.
 * Beyond memory errors and UB, the target checks what elf.c's header promises of an image it
 * accepts, and that every refusal is one line naming the file and exits TENDER_EXIT.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tender.h"

#define PATH "/fuzz/unikernel"
#define GUEST_LIMIT (NABLA_GUEST_BASE + (uint64_t)NABLA_MEM_MAX_MIB * MIB)
#define DYN_BASE 0x400000UL /* where core.c puts a PIE beside our libOS */

static const uint8_t *input;
static size_t input_size;
static int memfd = -1, opened = -1;
static void *mapped;
static jmp_buf refused;

/* A broken promise: abort, so libFuzzer keeps the input as a crash. */
#define require(cond, ...) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "elf_fuzz: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
			abort(); \
		} \
	} while (0)

int fuzz_open(const char *path, int flags, ...)
{
	(void)flags;
	require(strcmp(path, PATH) == 0, "elf.c opened %s", path);
	opened = dup(memfd);
	return opened;
}

int fuzz_close(int fd)
{
	if (fd == opened) opened = -1;
	return close(fd);
}

void *fuzz_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	require(addr == NULL && prot == PROT_READ && fd == opened && off == 0, "unexpected mmap");
	require(len == input_size && mapped == NULL, "mmap of %zu bytes, the file has %zu", len, input_size);
	(void)flags;
	mapped = malloc(len);
	memcpy(mapped, input, len);
	return mapped;
}

int fuzz_munmap(void *addr, size_t len)
{
	require(addr == mapped && len == input_size, "munmap of what was not mapped");
	free(mapped);
	mapped = NULL;
	return 0;
}

/* A refusal: "FILE: what is wrong" on one line, exit code TENDER_EXIT. */
static void refuse(int code, const char *fmt, va_list ap)
{
	char line[1024];
	vsnprintf(line, sizeof line, fmt, ap);
	require(code == TENDER_EXIT, "exit code %d for \"%s\"", code, line);
	require(strncmp(line, PATH ": ", strlen(PATH) + 2) == 0, "a refusal that does not name the file: \"%s\"", line);
	require(strchr(line, '\n') == NULL, "a refusal of more than one line: \"%s\"", line);
	longjmp(refused, 1);
}

void errx(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	refuse(code, fmt, ap);
}

void err(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	refuse(code, fmt, ap);
}

static uint64_t page_down(uint64_t x) { return x & ~(PAGE_SIZE - 1); }
static uint64_t page_up(uint64_t x) { return (x + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }

/* Is [addr, addr+len) inside one loaded segment with at least prot? */
static const struct elf_load *segment_of(const struct elf_image *img, uint64_t addr, uint64_t len, int prot)
{
	for (int i = 0; i < img->nloads; i++) {
		const struct elf_load *l = &img->loads[i];
		if ((l->prot & prot) == prot && addr >= l->vaddr && addr - l->vaddr <= l->memsz && len <= l->memsz - (addr - l->vaddr)) return l;
	}
	return NULL;
}

/* What elf.c's header promises of an image elf_open accepted. */
static void check_image(const struct elf_image *img, enum elf_role role)
{
	Elf64_Ehdr eh;
	memcpy(&eh, input, sizeof eh);
	require(img->nloads >= 1 && img->nloads <= ELF_MAX_LOADS, "%d segments", img->nloads);
	require(eh.e_type == ET_DYN || (role == ELF_PROGRAM && eh.e_type == ET_EXEC && img->bias == 0), "ELF type %u as role %d", eh.e_type, role);
	require(role == ELF_PROGRAM || img->interp[0] == 0, "a loader with a PT_INTERP");
	require(img->bias % DYN_ALIGN == 0 && img->bias <= DYN_BASE, "bias 0x%lx", img->bias);
	uint64_t end = 0;
	for (int i = 0; i < img->nloads; i++) {
		const struct elf_load *l = &img->loads[i];
		require(l->memsz > 0 && l->filesz <= l->memsz, "segment %d: filesz %lu, memsz %lu", i, l->filesz, l->memsz);
		require(l->offset <= img->file_size && l->filesz <= img->file_size - l->offset, "segment %d: outside the file", i);
		require(l->vaddr >= NABLA_BOOT_ADDR + NABLA_BOOT_SIZE, "segment %d at 0x%lx: on the boot page", i, l->vaddr);
		require(eh.e_type != ET_DYN || l->vaddr >= DYN_BASE, "ET_DYN segment %d at 0x%lx: below its base", i, l->vaddr);
		require(l->vaddr <= GUEST_LIMIT && l->memsz <= GUEST_LIMIT - l->vaddr, "segment %d: beyond guest memory", i);
		require(!((l->prot & PROT_WRITE) && (l->prot & PROT_EXEC)), "segment %d: W+X", i);
		for (int j = 0; j < i; j++) {
			const struct elf_load *o = &img->loads[j];
			require(page_up(l->vaddr + l->memsz) <= page_down(o->vaddr) || page_up(o->vaddr + o->memsz) <= page_down(l->vaddr),
				"segments %d and %d share a page", j, i);
		}
		if (page_up(l->vaddr + l->memsz) > end) end = page_up(l->vaddr + l->memsz);
	}
	require(img->image_end == end, "image_end 0x%lx, segments end at 0x%lx", img->image_end, end);
	/* AT_PHDR: the guest finds at phdr, in file-backed bytes, the program headers the tender read. */
	uint64_t table = img->phnum * sizeof(Elf64_Phdr);
	const struct elf_load *l = segment_of(img, img->phdr, table, 0);
	require(l != NULL && img->phdr - l->vaddr + table <= l->filesz, "AT_PHDR 0x%lx is not in a loaded segment's file bytes", img->phdr);
	require(memcmp(input + l->offset + (img->phdr - l->vaddr), input + img->phdr_off, table) == 0, "AT_PHDR shows other bytes than the program headers");
	require(segment_of(img, img->entry, 1, PROT_EXEC) != NULL, "entry 0x%lx not in an executable segment", img->entry);
	uint64_t mib = elf_min_mem_mib(img->image_end);
	if (mib) require(mib >= NABLA_MEM_MIN_MIB && mib <= NABLA_MEM_MAX_MIB && img->image_end <= NABLA_GUEST_BASE + mib * MIB - stack_size_for(mib * MIB), "elf_min_mem_mib gave %lu", mib);
}

/* What elf_check_note (the tender wires these addresses up) lets through. */
static void check_note(const struct elf_image *img)
{
	const struct nabla_note *n = &img->note;
	require(n->abi_version == NABLA_ABI_VERSION, "note version %u", n->abi_version);
	require(n->hypercall_start < n->hypercall_end && segment_of(img, n->hypercall_start, n->hypercall_end - n->hypercall_start, PROT_EXEC), "hypercall range");
	require(n->hypercall_start >> 32 == n->hypercall_end >> 32, "hypercall range crosses 4 GiB");
	require(segment_of(img, n->trap_handler, 1, PROT_EXEC) != NULL, "trap handler");
	require(n->trap_restorer >= n->hypercall_start && n->trap_restorer < n->hypercall_end, "trap restorer");
	require(n->trap_stack % 16 == 0 && n->trap_stack_size >= TRAP_STACK_MIN &&
			segment_of(img, n->trap_stack, n->trap_stack_size, PROT_READ | PROT_WRITE),
		"trap stack");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (memfd < 0 && (memfd = memfd_create("unikernel", 0)) < 0) abort();
	if (ftruncate(memfd, (off_t)size) < 0) abort();
	input = data;
	input_size = size;
	static struct elf_image img; /* static: it must survive the longjmp */
	static volatile enum elf_role role;
	for (role = ELF_PROGRAM; role <= ELF_LOADER; role++) {
		if (setjmp(refused) == 0) {
			elf_open(&img, PATH, role, DYN_BASE);
			require(opened >= 0 && img.fd == opened, "elf_open did not keep the file open for elf_load");
			check_image(&img, role);
			if (img.has_note) {
				require(img.note_offset < size, "note offset");
				elf_check_note(&img);
				check_note(&img);
			}
			elf_close(&img);
			require(opened < 0, "elf_close left the file open");
		}
		if (opened >= 0) close(opened); /* refused before elf.c closed it: the tender exits */
		opened = -1;
		free(mapped);
		mapped = NULL;
	}
	return 0;
}
