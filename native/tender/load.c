/*
 * load.c — a checked ELF (elf.c) into the guest region: each PT_LOAD segment mapped from
 * the file where its pages line up with the file's, else copied, each with its own
 * protection. Kept apart from elf.c, the parser the fuzzer runs.
 */
#define _GNU_SOURCE
#include <err.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tender.h"

/* A segment whose pages line up with the file's is mapped from it (private: the guest's
 * writes stay its own): nothing is copied, the pages come from the page cache as they are
 * touched and are shared by every container of the image. The pages past the file's part
 * (bss) are the region's fresh zero pages; the rest of the file's last page is zeroed, as
 * Linux does, when the segment has a bss. */
static void map_segment(const struct elf_image *img, const struct elf_load *l)
{
	uint64_t start = align_down(l->vaddr, PAGE_SIZE), end = align_up(l->vaddr + l->memsz, PAGE_SIZE);
	uint64_t file_end = l->vaddr + l->filesz, mapped_end = align_up(file_end, PAGE_SIZE);
	int zero_tail = l->filesz > 0 && l->memsz > l->filesz && file_end < mapped_end;
	if (l->filesz > 0 && mmap((void *)start, mapped_end - start, l->prot | (zero_tail ? PROT_WRITE : 0), MAP_PRIVATE | MAP_FIXED,
				  img->fd, (off_t)align_down(l->offset, PAGE_SIZE)) == MAP_FAILED)
		err(TENDER_EXIT, "%s: mmap(segment at 0x%lx) failed", img->path, l->vaddr);
	if (zero_tail) {
		memset((void *)file_end, 0, mapped_end - file_end);
		if (mprotect((void *)start, mapped_end - start, l->prot) < 0)
			err(TENDER_EXIT, "mprotect(segment at 0x%lx) failed", l->vaddr);
	}
	uint64_t anon = l->filesz > 0 ? mapped_end : start;
	if (anon < end && mprotect((void *)anon, end - anon, l->prot) < 0)
		err(TENDER_EXIT, "mprotect(segment at 0x%lx) failed", l->vaddr);
}

/* A segment whose file offset does not line up with its address: copied into the region. */
static void copy_segment(const struct elf_image *img, const struct elf_load *l)
{
	uint64_t start = align_down(l->vaddr, PAGE_SIZE), size = align_up(l->vaddr + l->memsz, PAGE_SIZE) - start;
	if (mprotect((void *)start, size, PROT_READ | PROT_WRITE) < 0)
		err(TENDER_EXIT, "mprotect(segment at 0x%lx, writable to load it) failed", l->vaddr);
	memcpy((void *)l->vaddr, img->file + l->offset, l->filesz);
	if (mprotect((void *)start, size, l->prot) < 0)
		err(TENDER_EXIT, "mprotect(segment at 0x%lx) failed", l->vaddr);
}

/* Puts the segments into the mapped region (PROT_NONE, fresh zero pages), each with its
 * own protection; the file's descriptor is closed afterwards. */
void elf_load(struct elf_image *img)
{
	for (int i = 0; i < img->nloads; i++) {
		const struct elf_load *l = &img->loads[i];
		if (l->offset % PAGE_SIZE == l->vaddr % PAGE_SIZE)
			map_segment(img, l);
		else
			copy_segment(img, l);
	}
	close(img->fd);
	img->fd = -1;
}
