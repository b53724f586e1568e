/*
 * Guest memory: the address space between the end of the loaded images and the main
 * stack, four bits per page:
 *   in_use   mapped (brk or mmap)
 *   counted  readable or writable: counts against --mem (PROT_NONE only reserves address
 *            space, the way Go reserves its heap index, and costs nothing)
 *   noreserve  mapped with MAP_NORESERVE: never counted, as Linux commits nothing for it.
 *            V8 reserves a 512 MiB code range per isolate so and makes it all RWX at once;
 *            counting it would take 512 MiB of --mem per Node worker. What the guest writes
 *            there costs host memory that --mem does not bound (the container's limit does)
 *   touched  may hold old data: zeroed before it is handed out again
 * Zeroing writes, and so makes the host give a page memory (on some hosts even reading a
 * never-written page does): madvise(MADV_DONTNEED) on MAP_NORESERVE pages leaves their
 * contents as they are, where Linux would give zeros. V8 discards its whole fresh code range
 * so, and takes discarded contents as undefined; zeroing it would cost 512 MiB. Such pages,
 * once usable, stay "touched": a later mapping there is zeroed, which costs host memory
 * for what is zeroed (a second Node worker's code range, say).
 * brk grows up from the images; mmap takes the hint when it is free, else the highest free
 * run below the stack. Nothing is mapped or unmapped on the host: the tender mapped the
 * whole region once (MAP_NORESERVE), so a page costs host memory only once written, and a
 * page never touched reads as zero.
 */
#include <string.h>
#include <sys/mman.h>

#include "libos.h"

static uint64_t *in_use, *counted, *touched, *noreserve;
static uintptr_t heap_base; /* first page managed here */
static size_t heap_pages;
static size_t counted_pages, limit_pages;
static uintptr_t brk_start, brk_cur;

static int bit(const uint64_t *map, size_t p) { return map[p / 64] >> (p % 64) & 1; }

static void set_bits(uint64_t *map, size_t first, size_t count, int on)
{
	for (size_t p = first; p < first + count; p++) {
		if (p % 64 == 0 && first + count - p >= 64) {
			map[p / 64] = on ? ~0ULL : 0;
			p += 63;
		} else if (on) {
			map[p / 64] |= 1ULL << (p % 64);
		} else {
			map[p / 64] &= ~(1ULL << (p % 64));
		}
	}
}

static size_t count_bits(const uint64_t *map, size_t first, size_t count)
{
	size_t n = 0;
	for (size_t p = first; p < first + count; p++) {
		if (p % 64 == 0 && first + count - p >= 64) {
			n += (size_t)__builtin_popcountll(map[p / 64]);
			p += 63;
		} else {
			n += bit(map, p);
		}
	}
	return n;
}

static uintptr_t page_addr(size_t page) { return heap_base + page * PAGE_SIZE; }

/* Touched pages in the range read as zero afterwards; untouched ones already do. */
static void zero_touched(size_t first, size_t count)
{
	for (size_t p = first; p < first + count; p++) {
		if (p % 64 == 0 && first + count - p >= 64 && touched[p / 64] == 0) {
			p += 63;
			continue;
		}
		if (bit(touched, p)) memset((void *)page_addr(p), 0, PAGE_SIZE);
	}
	set_bits(touched, first, count, 0);
}

static void uncount(size_t first, size_t n)
{
	counted_pages -= count_bits(counted, first, n);
	set_bits(counted, first, n, 0);
}

/* Counts the pages against --mem (they become usable; MAP_NORESERVE ones are usable
 * uncounted); 0, or -ENOMEM past the limit. */
static long commit(size_t first, size_t n)
{
	size_t more = n - count_bits(counted, first, n) - count_bits(noreserve, first, n);
	if (counted_pages + more > limit_pages) return -ENOMEM;
	counted_pages += more;
	for (size_t p = first; p < first + n; p++) {
		if (p % 64 == 0 && first + n - p >= 64) {
			counted[p / 64] |= ~noreserve[p / 64];
			p += 63;
		} else if (!bit(noreserve, p)) {
			set_bits(counted, p, 1, 1);
		}
	}
	set_bits(touched, first, n, 1);
	return 0;
}

static void unmap(size_t first, size_t n)
{
	uncount(first, n);
	set_bits(in_use, first, n, 0);
	set_bits(noreserve, first, n, 0);
}

/* A new mapping over [first, first+n): zeroed, counted unless PROT_NONE or MAP_NORESERVE. */
static long map(size_t first, size_t n, int prot, int flags)
{
	size_t gain = prot == PROT_NONE || (flags & MAP_NORESERVE) ? 0 : n - count_bits(counted, first, n);
	if (counted_pages + gain > limit_pages) return -ENOMEM;
	unmap(first, n);
	zero_touched(first, n);
	set_bits(in_use, first, n, 1);
	if (flags & MAP_NORESERVE) set_bits(noreserve, first, n, 1);
	return prot == PROT_NONE ? 0 : commit(first, n);
}

void mem_init(void)
{
	const struct nabla_boot *b = libos_boot;
	uintptr_t start = PAGE_UP(b->image_end);
	uintptr_t end = b->stack_top - b->stack_size;
	size_t pages = (end - start) / PAGE_SIZE;
	size_t map_pages = PAGE_UP((pages + 63) / 64 * 8) / PAGE_SIZE;
	if (end <= start || pages <= 4 * map_pages + 16) libos_panic("guest memory too small for the heap (raise --mem)");
	/* The tender hands us zeroed memory. */
	in_use = (uint64_t *)start;
	counted = (uint64_t *)(start + map_pages * PAGE_SIZE);
	touched = (uint64_t *)(start + 2 * map_pages * PAGE_SIZE);
	noreserve = (uint64_t *)(start + 3 * map_pages * PAGE_SIZE);
	heap_base = start + 4 * map_pages * PAGE_SIZE;
	heap_pages = pages - 4 * map_pages;
	/* --mem holds the images and the main stack too. */
	uint64_t fixed = b->image_end - b->mem_base + b->stack_size;
	limit_pages = b->mem_size > fixed ? (b->mem_size - fixed) / PAGE_SIZE : 0;
	brk_start = brk_cur = heap_base;
}

static int in_heap(uintptr_t addr, size_t len)
{
	return addr >= heap_base && len <= heap_pages * PAGE_SIZE && addr - heap_base <= heap_pages * PAGE_SIZE - len;
}

static size_t page_of(uintptr_t addr) { return (addr - heap_base) / PAGE_SIZE; }

long sys_brk(uintptr_t addr)
{
	if (addr < brk_start) return (long)brk_cur;
	uintptr_t old_top = PAGE_UP(brk_cur), new_top = PAGE_UP(addr);
	if (!in_heap(brk_start, new_top - brk_start)) return (long)brk_cur;
	if (new_top > old_top) {
		size_t first = page_of(old_top), n = (new_top - old_top) / PAGE_SIZE;
		if (count_bits(in_use, first, n)) return (long)brk_cur; /* an mmap sits there: brk cannot grow */
		if (map(first, n, PROT_READ | PROT_WRITE, 0) < 0) return (long)brk_cur;
	} else if (new_top < old_top) {
		unmap(page_of(new_top), (old_top - new_top) / PAGE_SIZE);
	}
	brk_cur = addr;
	return (long)brk_cur;
}

/* The highest run of `count` free pages, or -1. Whole words of 64 pages at a time where
 * it can: Go reserves gigabytes, so the map is long. */
static long find_free(size_t n)
{
	size_t run = 0, p = heap_pages;
	while (p > 0) {
		if (p % 64 == 0) {
			uint64_t w = in_use[p / 64 - 1];
			if (w == ~0ULL || w == 0) {
				run = w ? 0 : run + 64;
				p -= 64;
				if (run >= n) return (long)(p + run - n);
				continue;
			}
		}
		p--;
		run = bit(in_use, p) ? 0 : run + 1;
		if (run >= n) return (long)(p + run - n);
	}
	return -1;
}

long sys_mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, off_t off)
{
	(void)off;
	(void)fd; /* Linux ignores fd when anonymous */
	int fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
	/* A hint need not be aligned (it is only a hint); a fixed address must be. */
	if (len == 0 || (fixed && addr % PAGE_SIZE)) return -EINVAL;
	if (!(flags & MAP_ANONYMOUS)) return -ENODEV; /* file mappings: not yet */
	size_t n = PAGE_UP(len) / PAGE_SIZE;
	if (n > heap_pages) return -ENOMEM;
	long first;
	if (fixed) {
		if (!in_heap(addr, n * PAGE_SIZE)) return -ENOMEM;
		first = (long)page_of(addr);
		if ((flags & MAP_FIXED_NOREPLACE) && count_bits(in_use, (size_t)first, n)) return -EEXIST;
	} else if (addr && addr % PAGE_SIZE == 0 && in_heap(addr, n * PAGE_SIZE) && !count_bits(in_use, page_of(addr), n)) {
		first = (long)page_of(addr); /* the hint is free: take it, as Linux does */
	} else {
		first = find_free(n);
		if (first < 0) return -ENOMEM;
	}
	long err = map((size_t)first, n, prot, flags);
	return err < 0 ? err : (long)page_addr((size_t)first);
}

long sys_munmap(uintptr_t addr, size_t len)
{
	if (addr % PAGE_SIZE || len == 0) return -EINVAL;
	size_t n = PAGE_UP(len) / PAGE_SIZE;
	if (!in_heap(addr, n * PAGE_SIZE)) return 0; /* not ours (e.g. the image): nothing to free */
	unmap(page_of(addr), n);
	return 0;
}

long sys_mremap(uintptr_t old, size_t old_len, size_t new_len, int flags, uintptr_t new_addr)
{
	if (old % PAGE_SIZE || !in_heap(old, PAGE_UP(old_len))) return -EINVAL;
	size_t old_pages = PAGE_UP(old_len) / PAGE_SIZE, new_pages = PAGE_UP(new_len) / PAGE_SIZE;
	size_t first = page_of(old);
	if (flags & MREMAP_FIXED) { /* exactly at new_addr, replacing what is there */
		if (!(flags & MREMAP_MAYMOVE) || new_addr % PAGE_SIZE || !new_pages) return -EINVAL;
		if (new_addr < old + old_pages * PAGE_SIZE && old < new_addr + new_pages * PAGE_SIZE) return -EINVAL;
		long moved = sys_mmap(new_addr, new_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (moved < 0) return moved;
		memcpy((void *)moved, (void *)old, (old_pages < new_pages ? old_pages : new_pages) * PAGE_SIZE);
		unmap(first, old_pages);
		return moved;
	}
	if (new_pages <= old_pages) {
		unmap(first + new_pages, old_pages - new_pages);
		return (long)old;
	}
	size_t grow = new_pages - old_pages;
	if (first + new_pages <= heap_pages && !count_bits(in_use, first + old_pages, grow)) {
		long err = map(first + old_pages, grow, PROT_READ | PROT_WRITE, 0);
		return err < 0 ? err : (long)old;
	}
	if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
	long moved = sys_mmap(0, new_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (moved < 0) return moved;
	memcpy((void *)moved, (void *)old, old_pages * PAGE_SIZE);
	unmap(first, old_pages);
	return moved;
}

/* The host protections were set once by the tender (changing them would need the host);
 * here mprotect moves pages in and out of what counts against --mem. */
long sys_mprotect(uintptr_t addr, size_t len, int prot)
{
	if (addr % PAGE_SIZE) return -EINVAL;
	size_t n = PAGE_UP(len) / PAGE_SIZE;
	if (!n || !in_heap(addr, n * PAGE_SIZE)) return 0; /* the images, the stack: as they are */
	size_t first = page_of(addr);
	if (count_bits(in_use, first, n) != n) return -ENOMEM; /* Linux: part of it is not mapped */
	if (prot == PROT_NONE) {
		uncount(first, n);
		return 0;
	}
	return commit(first, n);
}

long sys_madvise(uintptr_t addr, size_t len, int advice)
{
	if (addr % PAGE_SIZE) return -EINVAL;
	/* Anonymous pages given back read as zero afterwards. */
	if ((advice == MADV_DONTNEED || advice == MADV_FREE) && in_heap(addr, PAGE_UP(len))) {
		size_t first = page_of(addr), n = PAGE_UP(len) / PAGE_SIZE;
		for (size_t p = first; p < first + n; p++) {
			if (bit(noreserve, p)) continue; /* kept as they are (above) */
			if (bit(touched, p)) memset((void *)page_addr(p), 0, PAGE_SIZE);
			set_bits(touched, p, 1, bit(counted, p)); /* still usable, so may be written again */
		}
	}
	return 0;
}

size_t mem_available(void)
{
	return (limit_pages - counted_pages) * PAGE_SIZE;
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
