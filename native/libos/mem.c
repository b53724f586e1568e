/*
 * Guest memory: the address space between the end of the loaded images and the main
 * stack, four bits per page:
 *   in_use     mapped (brk or mmap)
 *   usable     mapped readable, writable or executable (not PROT_NONE)
 *   noreserve  mapped with MAP_NORESERVE: given memory only when first touched. V8 reserves
 *              a 512 MiB code range per isolate so and makes it all RWX at once; giving it
 *              memory up front would take 512 MiB of --mem per Node worker
 *   committed  usable on the host, counted against --mem
 * The host enforces it (memcap.c in the tender): the heap starts PROT_NONE, a page is made
 * usable with hc_mem_usable (counted by the host's RLIMIT_DATA, set to this libOS's limit)
 * and given back with hc_mem_release, which frees it. A hostile app that writes past its
 * mappings faults instead of growing. A mapping is committed when it is made (mmap, brk,
 * mprotect), so --mem runs out there, with ENOMEM, as Linux's commit limit would; a
 * MAP_NORESERVE one page by page when the app touches it (mem_fault, from a SIGSEGV). What
 * the guest asks to be read-only is writable on the host all the same (the host's
 * protections are not the guest's). brk grows up from the images; mmap takes the hint when
 * it is free, else the highest free run below the stack.
 *
 * Freed pages are kept for reuse (the pool), as libc keeps freed memory: a committed page
 * that is no longer mapped usable (munmap, brk shrinking, mremap's leftovers, a mapping made
 * over it, mprotect PROT_NONE) is *stale*: still usable on the host and counted, holding
 * what the app left there. No fifth map is needed: a page mapped usable is never stale, so
 * stale = committed and not (in_use and usable). A usable mapping made over stale pages gets
 * them zeroed with memset (fresh memory reads as zero, as on Linux), with no host call: a
 * thread's stack and malloc's groups, mapped and unmapped at the same addresses over and
 * over, would otherwise cost a host mmap and mprotect each time, each a VMA split, a page
 * table teardown and a TLB shootdown. Bounds: a run of more than POOL_RUN_PAGES (1 MiB)
 * goes back to the host at once (zeroing it would cost more than the host's fresh pages,
 * which it zeroes only where touched), and so does what would take the pool past
 * min(--mem/8, 16 MiB): what an idle app keeps on the host, room for a burst of a hundred
 * thread stacks. Stale pages count against --mem, so room_for gives them back before it
 * says ENOMEM: --mem stays exact.
 *
 * PROT_NONE still faults (guard pages; V8's wasm relies on it). A PROT_NONE mapping over
 * stale pages leaves them *pending*: the app's next system call gives them back to the host
 * before it does anything else (mem_settle, at the dispatcher's entry and before any switch
 * to another thread), but for the pages that call makes usable when it is an mprotect:
 * those are zeroed and kept (musl's pthread_create maps a stack PROT_NONE over the last
 * one's pages, then all but its guard read-write). The differences from Linux: until its
 * next system call, the thread that made such a mapping reads its own freed data there
 * instead of faulting; a page the app unmapped reads what it held, instead of faulting,
 * until it is given back or mapped again; and PROT_NONE loses a page's contents (V8 and
 * glibc discard what they make inaccessible anyway).
 *
 * Flat heap (NABLA_BOOT_FLAT_HEAP, the tender's --heap=flat): the tender made the guest's
 * whole share read-write before the filter, and the maps cover that window only. The same
 * bookkeeping runs with no host call: a page is committed by setting its bit, and given back
 * by zeroing it, so that it reads as fresh memory would. The pool keeps every run, a
 * PROT_NONE mapping never becomes pending (its pages are zeroed when next made usable), and
 * MAP_NORESERVE means nothing (a touch never faults to give a page memory). What
 * the app loses: PROT_NONE does not fault (a guard page is memory like any other), and what
 * it frees stays resident on the host, up to the window.
 */
#include <string.h>
#include <sys/mman.h>

#include "libos.h"

#define POOL_RUN_PAGES ((1UL << 20) / PAGE_SIZE) /* a longer run freed at once goes back to the host */
#define POOL_MAX_PAGES ((16UL << 20) / PAGE_SIZE)

static uint64_t *in_use, *usable, *noreserve, *committed;
static int flat; /* NABLA_BOOT_FLAT_HEAP */
static uintptr_t heap_base; /* first page managed here */
static size_t heap_pages;
static size_t counted_pages, limit_pages;
static size_t stale_pages, pool_max; /* stale now, and the most the pool keeps */
static size_t pending_first, pending_end; /* where pending pages may be (empty: none) */
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

/* The host's part: pages made usable, pages given back (reading as zero afterwards). */
static long host_usable(uintptr_t addr, size_t len)
{
	return flat ? 0 : hc_mem_usable(addr, len);
}

static long host_release(uintptr_t addr, size_t len)
{
	if (!flat) return hc_mem_release(addr, len);
	memset((void *)addr, 0, len);
	return 0;
}

/* Pages that want memory now: usable, not MAP_NORESERVE. */
static uint64_t eager_word(size_t w) { return usable[w] & ~noreserve[w]; }
/* Pages a touch may give memory: mapped usable, without it yet. */
static uint64_t lazy_word(size_t w) { return in_use[w] & usable[w] & ~committed[w]; }
/* Pages the app has memory in: mapped usable, with it. */
static uint64_t live_word(size_t w) { return in_use[w] & usable[w] & committed[w]; }
/* Stale pages: memory the app is never to see again as it was. */
static uint64_t stale_word(size_t w) { return committed[w] & ~(in_use[w] & usable[w]); }
/* Stale pages under a PROT_NONE mapping: given back at the next call (mem_settle). */
static uint64_t pending_word(size_t w) { return committed[w] & in_use[w] & ~usable[w]; }

/* Calls fn on each run of pages in [first, first+n) whose bit in wanted() is set; stops at
 * the first error. Whole words of 64 pages at a time where it can: Go maps gigabytes. */
static long each_run(size_t first, size_t n, uint64_t (*wanted)(size_t w), long (*fn)(size_t first, size_t n))
{
	size_t end = first + n, p = first;
	while (p < end) {
		size_t start;
		while (p < end && !(wanted(p / 64) >> (p % 64) & 1)) p = p % 64 == 0 && wanted(p / 64) == 0 ? p + 64 : p + 1;
		if (p >= end) break;
		start = p;
		while (p < end && (wanted(p / 64) >> (p % 64) & 1)) p = p % 64 == 0 && wanted(p / 64) == ~0ULL ? p + 64 : p + 1;
		long err = fn(start, (p < end ? p : end) - start);
		if (err < 0) return err;
	}
	return 0;
}

/* How many pages of [first, first+n) have their bit in wanted() set. */
static size_t count_where(size_t first, size_t n, uint64_t (*wanted)(size_t w))
{
	size_t c = 0;
	for (size_t p = first; p < first + n; p++) {
		if (p % 64 == 0 && first + n - p >= 64) {
			c += (size_t)__builtin_popcountll(wanted(p / 64));
			p += 63;
		} else {
			c += wanted(p / 64) >> (p % 64) & 1;
		}
	}
	return c;
}

/* Gives the pages back to the host (freed; zero when next made usable). On a failure they
 * stay committed and counted, so the count stays the host's. */
static long release(size_t first, size_t n)
{
	size_t had = count_bits(committed, first, n);
	if (!had) return 0;
	size_t had_stale = stale_pages ? count_where(first, n, stale_word) : 0;
	long err = host_release(page_addr(first), n * PAGE_SIZE);
	if (err < 0) return -ENOMEM;
	set_bits(committed, first, n, 0);
	counted_pages -= had;
	stale_pages -= had_stale;
	return 0;
}

/* Is there room for `more` pages past those counted? The pool's pages outside [first,
 * first+n) go back to the host first when that makes room: an app never gets ENOMEM that
 * they would have avoided. (Those inside are the caller's to reuse.) */
static int room_for(size_t first, size_t n, size_t more)
{
	if (counted_pages + more > limit_pages && stale_pages) {
		each_run(0, first, stale_word, release);
		each_run(first + n, heap_pages - first - n, stale_word, release);
	}
	return counted_pages + more <= limit_pages;
}

/* Makes the pages usable on the host and counts them; 0, or -ENOMEM past --mem. The host's
 * mprotect counts only the pages it makes writable: committed ones stay as they are. */
static long commit(size_t first, size_t n)
{
	size_t more = n - count_bits(committed, first, n);
	if (!more) return 0;
	if (!room_for(first, n, more)) return -ENOMEM;
	long err = host_usable(page_addr(first), n * PAGE_SIZE);
	if (err < 0) return -ENOMEM; /* the host's cap, or its count of mappings */
	set_bits(committed, first, n, 1);
	counted_pages += more;
	return 0;
}

/* What the app has in [first, first+n) is no longer its own: the caller unmaps the pages
 * or makes them PROT_NONE next, so they become stale. They stay for reuse, or go back to
 * the host when the run is too long or the pool full. */
static void discard(size_t first, size_t n)
{
	size_t live = count_where(first, n, live_word);
	if (!live) return;
	if ((flat || live <= POOL_RUN_PAGES) && stale_pages + live <= pool_max) {
		stale_pages += live;
		return;
	}
	if (release(first, n) < 0) stale_pages += live; /* the host kept them: stale all the same */
}

static long zero_pages(size_t first, size_t n)
{
	memset((void *)page_addr(first), 0, n * PAGE_SIZE);
	return 0;
}

/* The stale pages of [first, first+n), which the caller maps usable next: zeroed, as fresh
 * memory reads, and kept, with no host call. */
static void reuse(size_t first, size_t n)
{
	size_t found = stale_pages ? count_where(first, n, stale_word) : 0;
	if (!found) return;
	each_run(first, n, stale_word, zero_pages);
	stale_pages -= found;
}

static void note_pending(size_t first, size_t n)
{
	if (flat || !count_where(first, n, pending_word)) return;
	if (pending_first == pending_end) pending_first = first, pending_end = first + n;
	if (first < pending_first) pending_first = first;
	if (first + n > pending_end) pending_end = first + n;
}

static long release_pending(size_t from, size_t to)
{
	return from < to ? each_run(from, to - from, pending_word, release) : 0;
}

/* Gives back the pending pages but those in [keep, keep+keep_n), which the caller makes
 * usable (and so zeroes and keeps) next. */
static void settle(size_t keep, size_t keep_n)
{
	if (pending_first == pending_end) return;
	size_t keep_end = keep + keep_n;
	if (!keep_n) keep = keep_end = pending_end;
	long err = release_pending(pending_first, keep < pending_end ? keep : pending_end);
	if (!err) err = release_pending(keep_end > pending_first ? keep_end : pending_first, pending_end);
	if (!err) {
		pending_first = pending_end = 0;
		return;
	}
	static int warned; /* they stay pending: the next call tries again */
	if (!warned++) libos_warn("the host did not take back pages mapped PROT_NONE: until it does, they read as they were instead of faulting");
}

void mem_settle(void)
{
	settle(0, 0);
}

static void unmap(size_t first, size_t n)
{
	discard(first, n);
	set_bits(in_use, first, n, 0);
	set_bits(usable, first, n, 0);
	set_bits(noreserve, first, n, 0);
}

/* A new mapping over [first, first+n): zero, committed unless PROT_NONE or MAP_NORESERVE. */
static long map(size_t first, size_t n, int prot, int flags)
{
	/* Under a flat heap a touch never faults, so nothing could give a lazy page memory
	 * later: MAP_NORESERVE is an ordinary mapping there. */
	int use = prot != PROT_NONE, lazy = !flat && (flags & MAP_NORESERVE) != 0;
	if (use && !lazy && !room_for(first, n, n - count_bits(committed, first, n))) return -ENOMEM;
	unmap(first, n); /* what was there goes */
	if (use) reuse(first, n);
	set_bits(in_use, first, n, 1);
	set_bits(usable, first, n, use);
	set_bits(noreserve, first, n, lazy);
	if (!use) note_pending(first, n);
	long err = use && !lazy ? commit(first, n) : 0;
	if (err < 0) unmap(first, n);
	return err;
}

void mem_init(void)
{
	const struct nabla_boot *b = libos_boot;
	flat = (b->flags & NABLA_BOOT_FLAT_HEAP) != 0;
	/* --mem holds the images and the main stack too (nabla_heap_budget: the host's figure). */
	uint64_t fixed = b->image_end - b->mem_base + b->stack_size;
	limit_pages = b->mem_size > fixed ? (b->mem_size - fixed) / PAGE_SIZE : 0;
	/* The maps cover the heap up to the main stack, or under a flat heap the share only. */
	uintptr_t start = PAGE_UP(b->image_end);
	uintptr_t end = b->stack_top - b->stack_size;
	size_t span = end > start ? (end - start) / PAGE_SIZE : 0; /* pages up to the main stack */
	size_t maps_size = nabla_heap_maps_size((flat ? limit_pages : span) * PAGE_SIZE), map_size = maps_size / 4;
	if (span <= maps_size / PAGE_SIZE + 16) libos_panic("guest memory too small for the heap (raise --mem)");
	/* A paged heap starts PROT_NONE: the maps first (fresh pages, all zero). */
	if (host_usable(start, maps_size) < 0) libos_panic("the host refused memory for the heap's page maps");
	in_use = (uint64_t *)start;
	usable = (uint64_t *)(start + map_size);
	noreserve = (uint64_t *)(start + 2 * map_size);
	committed = (uint64_t *)(start + 3 * map_size);
	heap_base = start + maps_size;
	heap_pages = span - maps_size / PAGE_SIZE;
	if (flat && heap_pages > limit_pages) heap_pages = limit_pages; /* the window: the maps, then the share */
	pool_max = limit_pages / 8 < POOL_MAX_PAGES ? limit_pages / 8 : POOL_MAX_PAGES;
	if (flat) pool_max = limit_pages; /* nothing goes back to the host */
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

/* What the old pages hold, into the new ones: the pages the app has memory in only. The
 * others read as zero (PROT_NONE ones lost what they held), as new pages do. */
static void copy_live(size_t from, uintptr_t to, size_t n)
{
	for (size_t p = from; p < from + n; p++)
		if (live_word(p / 64) >> (p % 64) & 1) memcpy((void *)(to + (p - from) * PAGE_SIZE), (void *)page_addr(p), PAGE_SIZE);
}

long sys_mremap(uintptr_t old, size_t old_len, size_t new_len, int flags, uintptr_t new_addr)
{
	if (old % PAGE_SIZE || !in_heap(old, PAGE_UP(old_len))) return -EINVAL;
	size_t old_pages = PAGE_UP(old_len) / PAGE_SIZE, new_pages = PAGE_UP(new_len) / PAGE_SIZE;
	size_t first = page_of(old);
	/* MAP_NORESERVE stays so: the new pages get memory when touched, as the old ones did. */
	int kind = MAP_PRIVATE | MAP_ANONYMOUS | (old_pages && bit(noreserve, first) ? MAP_NORESERVE : 0);
	if (flags & MREMAP_FIXED) { /* exactly at new_addr, replacing what is there */
		if (!(flags & MREMAP_MAYMOVE) || new_addr % PAGE_SIZE || !new_pages) return -EINVAL;
		if (new_addr < old + old_pages * PAGE_SIZE && old < new_addr + new_pages * PAGE_SIZE) return -EINVAL;
		long moved = sys_mmap(new_addr, new_len, PROT_READ | PROT_WRITE, kind | MAP_FIXED, -1, 0);
		if (moved < 0) return moved;
		copy_live(first, (uintptr_t)moved, old_pages < new_pages ? old_pages : new_pages);
		unmap(first, old_pages);
		return moved;
	}
	if (new_pages <= old_pages) {
		unmap(first + new_pages, old_pages - new_pages);
		return (long)old;
	}
	size_t grow = new_pages - old_pages;
	if (first + new_pages <= heap_pages && !count_bits(in_use, first + old_pages, grow)) {
		long err = map(first + old_pages, grow, PROT_READ | PROT_WRITE, kind);
		return err < 0 ? err : (long)old;
	}
	if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
	long moved = sys_mmap(0, new_len, PROT_READ | PROT_WRITE, kind, -1, 0);
	if (moved < 0) return moved;
	copy_live(first, (uintptr_t)moved, old_pages);
	unmap(first, old_pages);
	return moved;
}

/* PROT_NONE makes the pages stale, pending (see the top): unlike Linux, their contents are
 * gone when they are made usable again. An mprotect settles the pending pages itself (the
 * dispatcher leaves it to it): those it makes usable are zeroed and kept. */
long sys_mprotect(uintptr_t addr, size_t len, int prot)
{
	size_t n = PAGE_UP(len) / PAGE_SIZE;
	int ours = addr % PAGE_SIZE == 0 && n && in_heap(addr, n * PAGE_SIZE);
	size_t first = ours ? page_of(addr) : 0;
	int mapped = ours && count_bits(in_use, first, n) == n;
	settle(first, mapped && prot != PROT_NONE ? n : 0);
	if (addr % PAGE_SIZE) return -EINVAL;
	if (!ours) return 0; /* the images, the stack: as they are */
	if (!mapped) return -ENOMEM; /* Linux: part of it is not mapped */
	if (prot == PROT_NONE) {
		discard(first, n);
		set_bits(usable, first, n, 0);
		note_pending(first, n);
		return 0;
	}
	reuse(first, n);
	set_bits(usable, first, n, 1);
	long err = each_run(first, n, eager_word, commit);
	if (err < 0) /* ENOMEM: what did not get memory is not usable after all */
		for (size_t p = first; p < first + n; p++)
			if (!bit(committed, p) && !bit(noreserve, p)) set_bits(usable, p, 1, 0);
	return err;
}

/* Anonymous pages given back read as zero afterwards. A run of up to POOL_RUN_PAGES is
 * zeroed where it is; a longer one, or one with MAP_NORESERVE pages, is freed on the host,
 * then made usable again but for MAP_NORESERVE pages, which a touch brings back. */
long sys_madvise(uintptr_t addr, size_t len, int advice)
{
	if (addr % PAGE_SIZE) return -EINVAL;
	if ((advice == MADV_DONTNEED || advice == MADV_FREE) && in_heap(addr, PAGE_UP(len))) {
		size_t first = page_of(addr), n = PAGE_UP(len) / PAGE_SIZE;
		if (count_where(first, n, live_word) <= POOL_RUN_PAGES && !count_bits(noreserve, first, n))
			return each_run(first, n, live_word, zero_pages);
		if (release(first, n) < 0) return -ENOMEM;
		return each_run(first, n, eager_word, commit);
	}
	return 0;
}

/* Before a hypercall hands guest memory to the host (clock_gettime into the app's timespec, say): the
 * MAP_NORESERVE pages in it that have no memory yet get it, for the host would answer EFAULT
 * where the app's own touch would have given them memory. 0, or -ENOMEM past --mem. */
long mem_ready(const void *addr, size_t len)
{
	uintptr_t start = (uintptr_t)addr & ~(PAGE_SIZE - 1), end = PAGE_UP((uintptr_t)addr + len);
	uintptr_t heap_end = heap_base + heap_pages * PAGE_SIZE;
	if (!heap_base || !len || end <= heap_base || start >= heap_end) return 0;
	if (start < heap_base) start = heap_base;
	if (end > heap_end) end = heap_end;
	return each_run(page_of(start), (end - start) / PAGE_SIZE, lazy_word, commit);
}

/* A fault at addr: when it is a page the app mapped usable that has no memory yet (a
 * MAP_NORESERVE one), it gets memory, with its neighbours up to 64 KiB, and 1: the faulting
 * instruction runs again. 0: a fault for the app (or, past --mem, its end). */
int mem_fault(uintptr_t addr)
{
	if (!heap_base || !in_heap(addr & ~(PAGE_SIZE - 1), PAGE_SIZE)) return 0;
	size_t p = page_of(addr);
	if (!(lazy_word(p / 64) >> (p % 64) & 1)) return 0;
	size_t first = p & ~(size_t)15, n = first + 16 <= heap_pages ? 16 : heap_pages - first;
	if (each_run(first, n, lazy_word, commit) == 0 || commit(p, 1) == 0) return 1;
	static int warned;
	if (!warned++) libos_warn("out of guest memory (--mem): a MAP_NORESERVE page the app touched could not be given memory");
	return 0;
}

size_t mem_available(void)
{
	return (limit_pages - counted_pages + stale_pages) * PAGE_SIZE; /* the pool's pages are there to take */
}

/* The libOS's own memory is mapped as the app's is, so what it frees goes to the pool too: a
 * pipe or a thread's libOS stack made and dropped in a loop costs no host call. */
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
