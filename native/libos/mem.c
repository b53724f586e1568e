/*
 * Guest memory: everything between the end of the loaded image and the main stack, one
 * bit per page. brk grows up from the image; mmap takes the highest free run below the
 * stack. Nothing is mapped or unmapped on the host: the tender mapped the whole region
 * once, so this is bookkeeping plus zeroing (fresh anonymous memory must read as zero).
 */
#include <string.h>
#include <sys/mman.h>

#include "libos.h"

static uint8_t *bitmap;       /* bit set = page in use */
static uintptr_t heap_base;   /* first page managed here */
static size_t heap_pages;
static uintptr_t brk_start, brk_cur;

static int used(size_t page) { return bitmap[page / 8] >> (page % 8) & 1; }

static void mark(size_t first, size_t count, int in_use)
{
	for (size_t p = first; p < first + count; p++) {
		if (in_use) bitmap[p / 8] |= (uint8_t)(1u << (p % 8));
		else bitmap[p / 8] &= (uint8_t)~(1u << (p % 8));
	}
}

void mem_init(void)
{
	uintptr_t start = PAGE_UP(libos_boot->image_end);
	uintptr_t end = libos_boot->stack_top - libos_boot->stack_size;
	size_t pages = (end - start) / PAGE_SIZE;
	size_t bitmap_pages = PAGE_UP((pages + 7) / 8) / PAGE_SIZE;
	if (end <= start || pages <= bitmap_pages + 16) libos_panic("guest memory too small for the heap (raise --mem)");
	bitmap = (uint8_t *)start; /* the tender hands us zeroed memory */
	heap_base = start + bitmap_pages * PAGE_SIZE;
	heap_pages = pages - bitmap_pages;
	brk_start = brk_cur = heap_base;
}

static int in_heap(uintptr_t addr, size_t len)
{
	return addr >= heap_base && len <= heap_pages * PAGE_SIZE && addr - heap_base <= heap_pages * PAGE_SIZE - len;
}

long sys_brk(uintptr_t addr)
{
	if (addr < brk_start) return (long)brk_cur;
	uintptr_t old_top = PAGE_UP(brk_cur), new_top = PAGE_UP(addr);
	if (!in_heap(brk_start, new_top - brk_start)) return (long)brk_cur;
	size_t first = (old_top - heap_base) / PAGE_SIZE;
	if (new_top > old_top) {
		size_t count = (new_top - old_top) / PAGE_SIZE;
		for (size_t p = first; p < first + count; p++)
			if (used(p)) return (long)brk_cur; /* an mmap sits there: brk cannot grow */
		mark(first, count, 1);
		memset((void *)old_top, 0, new_top - old_top);
	} else if (new_top < old_top) {
		mark((new_top - heap_base) / PAGE_SIZE, (old_top - new_top) / PAGE_SIZE, 0);
	}
	brk_cur = addr;
	return (long)brk_cur;
}

/* The highest run of `count` free pages, or -1. */
static long find_free(size_t count)
{
	size_t run = 0;
	for (size_t p = heap_pages; p-- > 0;) {
		run = used(p) ? 0 : run + 1;
		if (run == count) return (long)p;
	}
	return -1;
}

long sys_mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, off_t off)
{
	(void)prot;
	(void)off;
	/* A hint need not be aligned (it is only a hint); a fixed address must be. */
	if (len == 0 || ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && addr % PAGE_SIZE)) return -EINVAL;
	if (!(flags & MAP_ANONYMOUS)) return -ENODEV; /* file mappings: not yet (Linux ignores fd when anonymous) */
	(void)fd;
	size_t count = PAGE_UP(len) / PAGE_SIZE;
	if (count > heap_pages) return -ENOMEM;
	size_t first;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (!in_heap(addr, count * PAGE_SIZE)) return -ENOMEM;
		first = (addr - heap_base) / PAGE_SIZE;
		if (flags & MAP_FIXED_NOREPLACE)
			for (size_t p = first; p < first + count; p++)
				if (used(p)) return -EEXIST;
	} else {
		long found = find_free(count);
		if (found < 0) return -ENOMEM;
		first = (size_t)found;
	}
	mark(first, count, 1);
	void *p = (void *)(heap_base + first * PAGE_SIZE);
	memset(p, 0, count * PAGE_SIZE);
	return (long)p;
}

long sys_munmap(uintptr_t addr, size_t len)
{
	if (addr % PAGE_SIZE || len == 0) return -EINVAL;
	size_t count = PAGE_UP(len) / PAGE_SIZE;
	if (!in_heap(addr, count * PAGE_SIZE)) return 0; /* not ours (e.g. the image): nothing to free */
	mark((addr - heap_base) / PAGE_SIZE, count, 0);
	return 0;
}

long sys_mremap(uintptr_t old, size_t old_len, size_t new_len, int flags, uintptr_t new_addr)
{
	if (old % PAGE_SIZE || !in_heap(old, PAGE_UP(old_len))) return -EINVAL;
	size_t old_pages = PAGE_UP(old_len) / PAGE_SIZE, new_pages = PAGE_UP(new_len) / PAGE_SIZE;
	size_t first = (old - heap_base) / PAGE_SIZE;
	if (flags & MREMAP_FIXED) { /* exactly at new_addr, replacing what is there */
		if (!(flags & MREMAP_MAYMOVE) || new_addr % PAGE_SIZE || !new_pages) return -EINVAL;
		if (new_addr < old + old_pages * PAGE_SIZE && old < new_addr + new_pages * PAGE_SIZE) return -EINVAL;
		long moved = sys_mmap(new_addr, new_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (moved < 0) return moved;
		memcpy((void *)moved, (void *)old, (old_pages < new_pages ? old_pages : new_pages) * PAGE_SIZE);
		mark(first, old_pages, 0);
		return moved;
	}
	if (new_pages <= old_pages) {
		mark(first + new_pages, old_pages - new_pages, 0);
		return (long)old;
	}
	int grows_in_place = first + new_pages <= heap_pages;
	for (size_t p = first + old_pages; grows_in_place && p < first + new_pages; p++) grows_in_place = !used(p);
	if (grows_in_place) {
		mark(first + old_pages, new_pages - old_pages, 1);
		memset((void *)(old + old_pages * PAGE_SIZE), 0, (new_pages - old_pages) * PAGE_SIZE);
		return (long)old;
	}
	if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
	long moved = sys_mmap(0, new_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (moved < 0) return moved;
	memcpy((void *)moved, (void *)old, old_pages * PAGE_SIZE);
	mark(first, old_pages, 0);
	return moved;
}

/* Protections were set once by the tender; changing them would need the host. */
long sys_mprotect(uintptr_t addr, size_t len, int prot)
{
	(void)len;
	(void)prot;
	return addr % PAGE_SIZE ? -EINVAL : 0;
}

long sys_madvise(uintptr_t addr, size_t len, int advice)
{
	if (addr % PAGE_SIZE) return -EINVAL;
	/* Anonymous pages given back read as zero afterwards. */
	if ((advice == MADV_DONTNEED || advice == MADV_FREE) && in_heap(addr, PAGE_UP(len)))
		memset((void *)addr, 0, PAGE_UP(len));
	return 0;
}

void *mem_try_alloc(size_t len)
{
	long p = sys_mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p < 0 ? 0 : (void *)p;
}

void *mem_alloc(size_t len)
{
	void *p = mem_try_alloc(len);
	if (!p) libos_panic("out of guest memory (raise --mem)");
	return p;
}

void mem_free(void *p, size_t len)
{
	sys_munmap((uintptr_t)p, len);
}
