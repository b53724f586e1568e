/* mem.c: brk and anonymous mmap over the guest heap, made usable and given back on the host, or kept for reuse;
 * under a flat heap (--heap=flat) the same with no host call. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

#include "harness.h"

#define P 4096L
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static long map(long addr, long len, int flags)
{
	return sys(SYS_mmap, addr, len, PROT_READ | PROT_WRITE, ANON | flags, -1, 0);
}

static void all_zero(long addr, long len)
{
	const unsigned char *p = (const unsigned char *)addr;
	for (long i = 0; i < len; i++)
		if (p[i]) FAIL("byte %ld of [%#lx, +%ld) is %d, want 0", i, addr, len, p[i]);
}

static void inside_heap(long addr, long len)
{
	if ((uintptr_t)addr < guest.heap_lo || (uintptr_t)(addr + len) > guest.heap_hi)
		FAIL("[%#lx, +%ld) is not inside the heap [%#lx, %#lx)", addr, len, (long)guest.heap_lo, (long)guest.heap_hi);
}

TEST(brk_grows_and_shrinks)
{
	boot(0);
	long start = sys(SYS_brk, 0);
	CHECK_EQ(start % P, 0);
	inside_heap(start, P);
	CHECK_EQ(sys(SYS_brk, start + 10000), start + 10000);
	all_zero(start, 3 * P);
	memset((void *)start, 0xab, 10000);
	CHECK_EQ(sys(SYS_brk, 0), start + 10000); /* a query */
	CHECK_EQ(sys(SYS_brk, start + 100), start + 100);
	CHECK_EQ(sys(SYS_brk, start + 3 * P), start + 3 * P);
	all_zero(start + P, 2 * P); /* the pages given back and taken again read as zero */
	CHECK_EQ(sys(SYS_brk, start - P), start + 3 * P); /* below the start: refused, unchanged */
	CHECK_EQ(sys(SYS_brk, start), start);
}

TEST(brk_is_blocked_by_an_mmap)
{
	boot(0);
	long start = sys(SYS_brk, 0);
	CHECK_EQ(map(start + 4 * P, P, MAP_FIXED_NOREPLACE), start + 4 * P);
	CHECK_EQ(sys(SYS_brk, start + 8 * P), start); /* would cover the mapping: refused */
	CHECK_EQ(sys(SYS_brk, start + 4 * P), start + 4 * P); /* up to it is fine */
	CHECK_EQ(sys(SYS_brk, start + 4 * P + 1), start + 4 * P);
	CHECK_OK(sys(SYS_munmap, start + 4 * P, P));
	CHECK_EQ(sys(SYS_brk, start + 8 * P), start + 8 * P);
	/* and brk's pages are not handed out by mmap */
	CHECK_ERR(map(start + 2 * P, P, MAP_FIXED_NOREPLACE), EEXIST);
}

TEST(brk_cannot_leave_the_heap)
{
	boot(0);
	long start = sys(SYS_brk, 0);
	CHECK_EQ(sys(SYS_brk, (long)guest.heap_hi + P), start);
	CHECK_EQ(sys(SYS_brk, -1L), start);
	CHECK_EQ(sys(SYS_brk, start + P), start + P);
}

TEST(mmap_anonymous_is_zeroed_page_aligned_and_in_the_heap)
{
	boot(0);
	long p = CHECK_OK(map(0, 10000, 0));
	CHECK_EQ(p % P, 0);
	inside_heap(p, 3 * P);
	all_zero(p, 3 * P);
	memset((void *)p, 0xff, 3 * P);
	long q = CHECK_OK(map(0, P, 0));
	CHECK(q + P <= p || q >= p + 3 * P); /* no overlap */
	CHECK_OK(sys(SYS_munmap, p, 10000));
	CHECK_EQ(map(0, 3 * P, 0), p); /* the same pages again, */
	all_zero(p, 3 * P); /* zeroed again */
}

TEST(munmap_then_reuse)
{
	boot(0);
	long a = CHECK_OK(map(0, 4 * P, 0));
	long b = CHECK_OK(map(0, 4 * P, 0));
	CHECK(a != b);
	CHECK_OK(sys(SYS_munmap, a + P, 2 * P)); /* a hole in the middle */
	CHECK_EQ(map(a + P, 2 * P, MAP_FIXED_NOREPLACE), a + P);
	CHECK_OK(sys(SYS_munmap, a, 4 * P));
	CHECK_OK(sys(SYS_munmap, b, 4 * P));
	long c = CHECK_OK(map(0, 8 * P, 0));
	CHECK(c == a || c == b); /* the freed run is used again */
	CHECK_ERR(sys(SYS_munmap, a + 1, P), EINVAL);
	CHECK_ERR(sys(SYS_munmap, a, 0), EINVAL);
	CHECK_OK(sys(SYS_munmap, (long)guest.region, P)); /* not the heap's: nothing to do */
}

TEST(mmap_fixed_noreplace_over_a_mapping_is_eexist)
{
	boot(0);
	long p = CHECK_OK(map(0, 2 * P, 0));
	CHECK_ERR(map(p, P, MAP_FIXED_NOREPLACE), EEXIST);
	CHECK_ERR(map(p + P, 2 * P, MAP_FIXED_NOREPLACE), EEXIST);
	CHECK_ERR(map(p - P, 2 * P, MAP_FIXED_NOREPLACE), EEXIST); /* overlaps the first page */
	memset((void *)p, 0x11, 2 * P);
	CHECK_EQ(map(p, P, MAP_FIXED), p); /* plain MAP_FIXED replaces, zeroed */
	all_zero(p, P);
	CHECK_EQ(((unsigned char *)p)[P], 0x11);
	CHECK(map((long)guest.region, P, MAP_FIXED) < 0); /* outside the heap: refused */
}

TEST(mmap_bad_arguments)
{
	boot(0);
	CHECK_ERR(map(0, 0, 0), EINVAL);
	long p = CHECK_OK(map(0, P, 0));
	CHECK_ERR(map(p + 1, P, MAP_FIXED), EINVAL);
	CHECK_OK(map(p + 1, P, 0)); /* an unaligned hint is only a hint */
	CHECK_ERR(map(0, 1L << 50, 0), ENOMEM);
}

TEST(mremap_grows_in_place)
{
	boot(0);
	long p = CHECK_OK(map(0, 8 * P, 0));
	memset((void *)p, 0x22, 8 * P);
	CHECK_OK(sys(SYS_munmap, p + 2 * P, 6 * P));
	CHECK_EQ(sys(SYS_mremap, p, 2 * P, 4 * P, 0, 0), p);
	CHECK_EQ(((unsigned char *)p)[2 * P - 1], 0x22); /* kept */
	all_zero(p + 2 * P, 2 * P); /* new */
	CHECK_ERR(map(p + 3 * P, P, MAP_FIXED_NOREPLACE), EEXIST);
	CHECK_EQ(map(p + 4 * P, P, MAP_FIXED_NOREPLACE), p + 4 * P);
}

TEST(mremap_maymove_moves_when_blocked)
{
	boot(0);
	long p = CHECK_OK(map(0, 2 * P, 0));
	long above = map(p + 2 * P, P, MAP_FIXED_NOREPLACE); /* make sure the next page is taken */
	CHECK(above == p + 2 * P || above == -EEXIST);
	memset((void *)p, 0x33, 2 * P);
	CHECK_ERR(sys(SYS_mremap, p, 2 * P, 4 * P, 0, 0), ENOMEM);
	long q = CHECK_OK(sys(SYS_mremap, p, 2 * P, 4 * P, MREMAP_MAYMOVE, 0));
	CHECK(q != p);
	inside_heap(q, 4 * P);
	for (long i = 0; i < 2 * P; i++)
		if (((unsigned char *)q)[i] != 0x33) FAIL("byte %ld was not moved", i);
	all_zero(q + 2 * P, 2 * P);
	CHECK_EQ(map(p, 2 * P, MAP_FIXED_NOREPLACE), p); /* the old pages are free */
	CHECK_ERR(sys(SYS_mremap, (long)guest.region, P, 2 * P, MREMAP_MAYMOVE, 0), EINVAL);
}

TEST(mremap_shrinks)
{
	boot(0);
	long p = CHECK_OK(map(0, 4 * P, 0));
	CHECK_EQ(sys(SYS_mremap, p, 4 * P, P, 0, 0), p);
	CHECK_EQ(map(p + P, 3 * P, MAP_FIXED_NOREPLACE), p + P);
}

/* mremap(2): with MREMAP_FIXED the mapping is moved to new_address (any mapping there is unmapped). */
TEST(mremap_fixed_moves_to_the_new_address)
{
	boot(0);
	long a = CHECK_OK(map(0, 8 * P, 0)); /* the highest pages: p comes right below them */
	long p = CHECK_OK(map(0, 2 * P, 0));
	CHECK_EQ(p + 2 * P, a);
	memset((void *)p, 0x44, 2 * P);
	CHECK_OK(sys(SYS_munmap, a, 8 * P));
	CHECK_EQ(sys(SYS_mremap, p, 2 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_FIXED, a + 4 * P), a + 4 * P);
	CHECK_EQ(((unsigned char *)a)[4 * P], 0x44);
}

TEST(madvise_dontneed_zeroes)
{
	boot(0);
	long p = CHECK_OK(map(0, 3 * P, 0));
	memset((void *)p, 0x55, 3 * P);
	CHECK_OK(sys(SYS_madvise, p + P, P, MADV_DONTNEED));
	all_zero(p + P, P);
	CHECK_EQ(((unsigned char *)p)[P - 1], 0x55);
	CHECK_EQ(((unsigned char *)p)[2 * P], 0x55);
	CHECK_OK(sys(SYS_madvise, p, 3 * P, MADV_WILLNEED)); /* a hint: nothing changes */
	CHECK_EQ(((unsigned char *)p)[0], 0x55);
	CHECK_ERR(sys(SYS_madvise, p + 1, P, MADV_DONTNEED), EINVAL);
}

TEST(mprotect_checks_its_arguments)
{
	boot(0);
	long p = CHECK_OK(map(0, P, 0));
	CHECK_OK(sys(SYS_mprotect, p, P, PROT_READ));
	CHECK_ERR(sys(SYS_mprotect, p + 1, P, PROT_READ), EINVAL);
	CHECK_OK(sys(SYS_munmap, p, P));
	CHECK_ERR(sys(SYS_mprotect, p, P, PROT_READ), ENOMEM); /* not mapped */
}

/* ---- the pool: freed pages kept for the next mapping (mem.c's top) ---- */

#define STACK (35 * P) /* a thread's stack as musl maps it for CPython: 140 KiB ... */
#define GUARD (2 * P) /* ... the lowest 8 KiB its guard */
#define RW (PROT_READ | PROT_WRITE)

static long host_calls(void)
{
	return fake.mem_usables + fake.mem_releases;
}

static sigjmp_buf fault_jump;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	if (!mem_fault((uintptr_t)si->si_addr)) siglongjmp(fault_jump, 1);
}

/* Does reading the byte at addr fault, as a guard page's does? */
static int faults(long addr)
{
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_NODEFER }, old;
	sigaction(SIGSEGV, &sa, &old);
	volatile int faulted = 0;
	if (sigsetjmp(fault_jump, 1)) faulted = 1;
	else (void)*(volatile char *)addr;
	sigaction(SIGSEGV, &old, 0);
	return faulted;
}

TEST(munmap_keeps_the_pages_and_a_new_mapping_over_them_reads_zero)
{
	boot(0);
	long p = CHECK_OK(map(0, 17 * P, 0));
	memset((void *)p, 0xab, 17 * P);
	long calls = host_calls();
	CHECK_OK(sys(SYS_munmap, p, 17 * P));
	CHECK_EQ(map(0, 17 * P, 0), p); /* the same pages again: no host call, and zero */
	all_zero(p, 17 * P);
	memset((void *)p, 0xcd, 17 * P);
	CHECK_OK(sys(SYS_munmap, p, 17 * P));
	long q = CHECK_OK(map(0, 5 * P, 0)); /* a smaller one in the hole */
	CHECK(q >= p && q + 5 * P <= p + 17 * P);
	all_zero(q, 5 * P);
	CHECK_EQ(map(p, q - p, MAP_FIXED_NOREPLACE), p); /* and the rest of it */
	all_zero(p, q - p);
	CHECK_EQ(host_calls(), calls);
}

TEST(brk_shrunk_and_grown_again_reads_zero_with_no_host_call)
{
	boot(0);
	long start = sys(SYS_brk, 0);
	CHECK_EQ(sys(SYS_brk, start + 8 * P), start + 8 * P);
	memset((void *)start, 0xab, 8 * P);
	long calls = host_calls();
	CHECK_EQ(sys(SYS_brk, start + 2 * P), start + 2 * P);
	CHECK_EQ(sys(SYS_brk, start + 8 * P), start + 8 * P);
	all_zero(start + 2 * P, 6 * P);
	CHECK_EQ(((unsigned char *)start)[2 * P - 1], 0xab); /* below the break: kept */
	CHECK_EQ(host_calls(), calls);
}

TEST(mmap_fixed_over_a_live_mapping_reads_zero_with_no_host_call)
{
	boot(0);
	long p = CHECK_OK(map(0, 4 * P, 0));
	memset((void *)p, 0x11, 4 * P);
	long calls = host_calls();
	CHECK_EQ(map(p + P, 2 * P, MAP_FIXED), p + P);
	all_zero(p + P, 2 * P);
	CHECK_EQ(((unsigned char *)p)[P - 1], 0x11);
	CHECK_EQ(((unsigned char *)p)[3 * P], 0x11);
	CHECK_EQ(host_calls(), calls);
}

TEST(mremap_leftovers_are_kept_and_read_zero_when_grown_again)
{
	boot(0);
	long p = CHECK_OK(map(0, 8 * P, 0));
	memset((void *)p, 0x22, 8 * P);
	long calls = host_calls();
	CHECK_EQ(sys(SYS_mremap, p, 8 * P, 2 * P, 0, 0), p);
	CHECK_EQ(sys(SYS_mremap, p, 2 * P, 8 * P, 0, 0), p);
	CHECK_EQ(((unsigned char *)p)[2 * P - 1], 0x22);
	all_zero(p + 2 * P, 6 * P);
	CHECK_EQ(host_calls(), calls);
}

/* MADV_DONTNEED: a short run is zeroed where it is; a long one (past 1 MiB) is freed on the
 * host, as before, and usable again. */
TEST(madvise_dontneed_zeroes_a_short_run_in_place_and_frees_a_long_one)
{
	PAGED_HEAP_ONLY();
	boot(0);
	long p = CHECK_OK(map(0, 2 << 20, 0));
	memset((void *)p, 0x55, 2 << 20);
	long calls = host_calls();
	CHECK_OK(sys(SYS_madvise, p + P, 16 * P, MADV_DONTNEED));
	all_zero(p + P, 16 * P);
	CHECK_EQ(((unsigned char *)p)[P - 1], 0x55);
	CHECK_EQ(((unsigned char *)p)[17 * P], 0x55);
	CHECK_EQ(host_calls(), calls);
	fake.mem_released = 0;
	CHECK_OK(sys(SYS_madvise, p, 2 << 20, MADV_DONTNEED));
	CHECK_EQ(fake.mem_released, 2 << 20);
	all_zero(p, 2 << 20);
	memset((void *)p, 0x66, 2 << 20); /* usable again */
}

/* musl's pthread_create maps the stack PROT_NONE, then all but the guard read-write: over the
 * last thread's stack, the guard's freed pages go back to the host before that mprotect does
 * anything else, and fault; the rest reads as zero. */
TEST(a_guard_over_freed_pages_faults_after_the_next_call)
{
	PAGED_HEAP_ONLY();
	boot(0);
	long s = CHECK_OK(map(0, STACK, 0));
	memset((void *)s, 0x77, STACK); /* the guard's pages too: all of it is freed memory below */
	CHECK_OK(sys(SYS_munmap, s, STACK));
	long releases = fake.mem_releases;
	CHECK_EQ(sys(SYS_mmap, 0, STACK, PROT_NONE, ANON, -1, 0), s);
	CHECK_EQ(fake.mem_releases, releases); /* pending until the next call */
	CHECK_OK(sys(SYS_mprotect, s + GUARD, STACK - GUARD, RW));
	CHECK_EQ(fake.mem_releases, releases + 1); /* the guard */
	CHECK(faults(s));
	CHECK(faults(s + GUARD - 1));
	all_zero(s + GUARD, STACK - GUARD);
	/* Any other call gives them back too. */
	memset((void *)(s + GUARD), 0x78, STACK - GUARD);
	CHECK_OK(sys(SYS_munmap, s, STACK));
	CHECK_EQ(sys(SYS_mmap, 0, STACK, PROT_NONE, ANON, -1, 0), s);
	CHECK_EQ(sys(SYS_getpid), 1);
	for (long at = s; at < s + STACK; at += P)
		if (!faults(at)) FAIL("page %ld of the PROT_NONE mapping does not fault", (at - s) / P);
	/* mprotect(PROT_NONE) over live pages, the same way */
	CHECK_OK(sys(SYS_mprotect, s, STACK, RW));
	memset((void *)s, 0x79, STACK);
	CHECK_OK(sys(SYS_mprotect, s + 10 * P, P, PROT_NONE));
	CHECK_EQ(sys(SYS_gettid), 1);
	CHECK(faults(s + 10 * P));
	CHECK(!faults(s + 11 * P));
	CHECK_EQ(((unsigned char *)s)[11 * P], 0x79);
	/* and a MAP_FIXED PROT_NONE mapping over them */
	CHECK_EQ(sys(SYS_mmap, s + 20 * P, 4 * P, PROT_NONE, ANON | MAP_FIXED, -1, 0), s + 20 * P);
	CHECK_EQ(sys(SYS_getpid), 1);
	CHECK(faults(s + 20 * P));
	CHECK(faults(s + 23 * P));
	CHECK(!faults(s + 24 * P));
}

static long guard_at;

_Noreturn void libos_unmapself(void *base, size_t size);

static int map_a_guard_then_exit(void *dead_stack)
{
	guard_at = sys(SYS_mmap, 0, STACK, PROT_NONE, ANON, -1, 0);
	libos_unmapself(dead_stack, P); /* musl's pthread_exit of a detached thread: no system call */
}

/* A thread that maps a guard over freed pages and leaves by a way that makes no system call
 * (libos_unmapself): the next thread to run finds the guard faulting. */
TEST(a_guard_over_freed_pages_faults_in_the_next_thread_to_run)
{
	PAGED_HEAP_ONLY();
	boot(0);
	long s = CHECK_OK(map(0, STACK, 0));
	long dead_stack = CHECK_OK(map(0, P, 0)); /* below s */
	memset((void *)s, 0x77, STACK);
	CHECK_OK(sys(SYS_munmap, s, STACK));
	static int ctid;
	long tid = CHECK_OK(spawn(map_a_guard_then_exit, (void *)dead_stack, CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID, &ctid));
	while (ctid) sys(SYS_futex, &ctid, 0 /* FUTEX_WAIT */, tid, 0, 0, 0);
	CHECK_EQ(guard_at, s);
	CHECK(faults(s)); /* no call since the thread switch */
	CHECK(faults(s + STACK - 1));
}

static int touch_the_stack(void *ran)
{
	volatile char buf[8192];
	memset((char *)buf, 1, sizeof buf);
	(*(int *)ran)++;
	return 0;
}

/* A thread made and joined in a loop, its stack mapped and unmapped as musl does: from the
 * second round on, no host memory call at all. */
TEST(threads_made_in_a_loop_cost_no_host_memory_call_after_the_first)
{
	PAGED_HEAP_ONLY();
	boot(0);
	static int ran, ctid;
	long calls = 0;
	for (int round = 0; round < 20; round++) {
		if (round == 1) calls = host_calls();
		long s = CHECK_OK(sys(SYS_mmap, 0, STACK, PROT_NONE, ANON, -1, 0));
		CHECK_OK(sys(SYS_mprotect, s + GUARD, STACK - GUARD, RW));
		all_zero(s + GUARD, STACK - GUARD);
		long tid = CHECK_OK(libos_clone(touch_the_stack, (void *)(s + STACK), THREAD_FLAGS | CLONE_SETTLS | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID,
						&ran, 0, (void *)host_fs, &ctid));
		while (ctid) sys(SYS_futex, &ctid, 0 /* FUTEX_WAIT */, tid, 0, 0, 0);
		CHECK(faults(s + GUARD - 1));
		CHECK_OK(sys(SYS_munmap, s, STACK));
	}
	CHECK_EQ(ran, 20);
	CHECK_EQ(host_calls(), calls);
}

TEST(mmap_and_munmap_in_a_loop_cost_no_host_call_after_the_first)
{
	boot(0);
	long calls = 0;
	for (int round = 0; round < 100; round++) {
		if (round == 1) calls = host_calls();
		long p = CHECK_OK(map(0, 68 << 10, 0));
		all_zero(p, 68 << 10);
		memset((void *)p, round + 1, 68 << 10);
		CHECK_OK(sys(SYS_munmap, p, 68 << 10));
	}
	CHECK_EQ(host_calls(), calls);
}

/* The pool's pages count against --mem, and go back to the host when the app needs the room:
 * after the pool is filled, a mapping of all that is left succeeds, one page more is ENOMEM. */
static void fill_the_pool_then_map_all_that_is_left(long hint)
{
	long avail = (long)mem_available(), runs[24];
	for (int i = 0; i < 24; i++) {
		runs[i] = CHECK_OK(map(0, 64 * P, 0));
		memset((void *)runs[i], 0xee, 64 * P);
	}
	for (int i = 0; i < 24; i++) CHECK_OK(sys(SYS_munmap, runs[i], 64 * P));
	CHECK_EQ((long)mem_available(), avail); /* the pool's pages are there to take */
	CHECK_ERR(map(hint, avail + P, 0), ENOMEM);
	long all = CHECK_OK(map(hint, avail, 0));
	all_zero(all, avail);
	CHECK_EQ((long)mem_available(), 0);
	CHECK_ERR(map(0, P, 0), ENOMEM);
}

TEST(mem_stays_exact_with_a_full_pool_under_the_new_mapping)
{
	boot(&(struct boot_opts){ .mem_mib = 32, .va_extra_mib = 64 });
	fill_the_pool_then_map_all_that_is_left(0); /* the highest free run: over the pool's pages */
}

TEST(mem_stays_exact_with_a_full_pool_elsewhere)
{
	boot(&(struct boot_opts){ .mem_mib = 32, .va_extra_mib = 64 });
	fill_the_pool_then_map_all_that_is_left(sys(SYS_brk, 0)); /* the lowest: the pool goes back */
}

/* Pages the pool keeps at most: min(--mem/8, 16 MiB), --mem less the images and stack. */
static long pool_bound(void)
{
	const struct nabla_boot *b = guest.boot;
	long limit = (long)(b->mem_size - (b->image_end - b->mem_base) - b->stack_size) / P;
	return limit / 8 < 4096 ? limit / 8 : 4096;
}

/* Runs of `pages`, `count` of them, mapped, written and unmapped: the pool keeps the first
 * that fit in its bound, the host gets the rest back at once. */
static void free_runs_past_the_bound(long pages, int count)
{
	/* a run longer than 1 MiB is never kept, even with room in the pool */
	long big = CHECK_OK(map(0, (1 << 20) + P, 0));
	memset((void *)big, 0x34, (1 << 20) + P);
	fake.mem_released = 0;
	CHECK_OK(sys(SYS_munmap, big, (1 << 20) + P));
	CHECK_EQ(fake.mem_released, (1 << 20) + P);
	long runs[64], bound = pool_bound(), kept = bound / pages * pages;
	for (int i = 0; i < count; i++) {
		runs[i] = CHECK_OK(map(0, pages * P, 0));
		memset((void *)runs[i], 0x33, pages * P);
	}
	fake.mem_released = 0;
	for (int i = 0; i < count; i++) CHECK_OK(sys(SYS_munmap, runs[i], pages * P));
	CHECK_EQ(fake.mem_released, (count * pages - kept) * P);
}

TEST(the_pool_keeps_at_most_16_mib)
{
	PAGED_HEAP_ONLY();
	boot(&(struct boot_opts){ .mem_mib = 256 });
	CHECK_EQ(pool_bound(), 4096);
	free_runs_past_the_bound(256, 40);
}

TEST(the_pool_keeps_at_most_an_eighth_of_mem)
{
	PAGED_HEAP_ONLY();
	boot(&(struct boot_opts){ .mem_mib = 32 });
	CHECK(pool_bound() < 4096);
	free_runs_past_the_bound(64, 20);
}

/* Go reserves gigabytes of address space (PROT_NONE) and maps what it uses inside them:
 * only usable mappings count against --mem. */
TEST(prot_none_reserves_address_space_only)
{
	PAGED_HEAP_ONLY();
	boot(&(struct boot_opts){ .mem_mib = 16, .va_extra_mib = 1024 });
	long big = CHECK_OK(sys(SYS_mmap, 0, 512L << 20, PROT_NONE, ANON, -1, 0));
	inside_heap(big, 512L << 20);
	CHECK_ERR(sys(SYS_mmap, 0, 64L << 20, PROT_READ, ANON, -1, 0), ENOMEM); /* 64 MiB usable: no */
	/* Go's sysMap: a usable mapping fixed inside the reservation, zeroed. */
	long used = CHECK_OK(sys(SYS_mmap, big + (4L << 20), 4L << 20, PROT_READ | PROT_WRITE, ANON | MAP_FIXED, -1, 0));
	CHECK_EQ(used, big + (4L << 20));
	all_zero(used, 4L << 20);
	memset((void *)used, 0x77, 4L << 20);
	/* mprotect moves pages in and out of the count. */
	CHECK_ERR(sys(SYS_mprotect, big, 32L << 20, PROT_READ | PROT_WRITE), ENOMEM);
	CHECK_OK(sys(SYS_mprotect, used, 4L << 20, PROT_NONE));
	CHECK_OK(sys(SYS_mprotect, big, 8L << 20, PROT_READ | PROT_WRITE));
	all_zero(used, 4L << 20); /* PROT_NONE gave them back to the host */
	memset((void *)used, 0x77, 4L << 20);
	/* A new mapping over used pages reads as zero again. */
	CHECK_OK(sys(SYS_mmap, used, 4L << 20, PROT_NONE, ANON | MAP_FIXED, -1, 0));
	CHECK_OK(sys(SYS_mprotect, used, 4L << 20, PROT_READ | PROT_WRITE));
	all_zero(used, 4L << 20);
	CHECK_OK(sys(SYS_munmap, big, 512L << 20));
	CHECK_OK(map(0, 8L << 20, 0)); /* all of it given back */
}

TEST(mmap_takes_a_free_hint)
{
	boot(0);
	long a = CHECK_OK(map(0, 4 * P, 0));
	CHECK_OK(sys(SYS_munmap, a, 4 * P));
	CHECK_EQ(map(a + P, P, 0), a + P); /* free: taken */
	long b = CHECK_OK(map(a + P, P, 0)); /* taken now: somewhere else */
	CHECK(b != a + P);
	CHECK_OK(map(0x7f0000000000L, P, 0)); /* outside the region: ignored */
}

TEST(mmap_out_of_memory_is_enomem_not_a_crash)
{
	boot(&(struct boot_opts){ .mem_mib = 16 });
	long heap = (long)(guest.heap_hi - guest.heap_lo);
	CHECK_ERR(map(0, heap + P, 0), ENOMEM);
	long last = 0, r, chunks = 0;
	while ((r = map(0, 1 << 20, 0)) > 0) {
		last = r;
		chunks++;
	}
	CHECK_ERR(r, ENOMEM);
	CHECK(chunks >= heap / (1 << 20) - 2); /* nearly all of it was there to take */
	while ((r = map(0, P, 0)) > 0) {}
	CHECK_ERR(r, ENOMEM);
	long top = sys(SYS_brk, 0);
	CHECK_EQ(sys(SYS_brk, top + P), top); /* brk too fails quietly */
	CHECK_EQ(sys(SYS_getpid), 1); /* still alive */
	CHECK_OK(sys(SYS_munmap, last, 1 << 20));
	CHECK_EQ(map(0, 1 << 20, 0), last);
}

/* A file mapping is a copy of the file's bytes from the offset; past the end of the file
 * the pages read as zero; writing the copy leaves the file as it was. */
TEST(mmap_of_a_file_is_a_copy_from_its_offset)
{
	boot(0);
	size_t len;
	const char *want = host_file("big.txt", &len); /* 64004 bytes, from the disk */
	long fd = CHECK_OK(open_("/big.txt", O_RDONLY));
	long at = CHECK_OK(sys(SYS_mmap, 0, 16 * P, PROT_READ, MAP_PRIVATE, fd, 0));
	inside_heap(at, 16 * P);
	CHECK(memcmp((void *)at, want, len) == 0);
	all_zero(at + (long)len, 16 * P - (long)len);
	long at2 = CHECK_OK(sys(SYS_mmap, 0, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 3 * P));
	CHECK(memcmp((void *)at2, want + 3 * P, 2 * P) == 0);
	memset((void *)at2, 'x', P);
	char buf[16];
	CHECK_EQ(sys(SYS_pread64, fd, buf, sizeof buf, 3 * P), (long)sizeof buf);
	CHECK(memcmp(buf, want + 3 * P, sizeof buf) == 0);
	/* an offset at or past the end: all zero, as far as the mapping goes */
	long at3 = CHECK_OK(sys(SYS_mmap, 0, P, PROT_READ, MAP_SHARED, fd, 20 * P));
	all_zero(at3, P);
	/* the fd may be closed: the mapping stays */
	CHECK_OK(sys(SYS_close, fd));
	CHECK(memcmp((void *)at, want, 64) == 0);
	/* a file written in tmpfs maps as well */
	CHECK_OK(write_file("/tmp/w", "written in tmpfs"));
	fd = CHECK_OK(open_("/tmp/w", O_RDONLY));
	at = CHECK_OK(sys(SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, fd, 0));
	CHECK(memcmp((void *)at, "written in tmpfs", 17) == 0);
}

/* What ld.so does: reserve the whole span, then map each segment MAP_FIXED inside it from
 * its file offset, and the bss anonymous. */
TEST(mmap_of_a_file_fixed_over_a_reservation)
{
	boot(0);
	size_t len;
	const char *want = host_file("big.txt", &len);
	long fd = CHECK_OK(open_("/big.txt", O_RDONLY));
	long span = CHECK_OK(sys(SYS_mmap, 0, 32 * P, PROT_READ, MAP_PRIVATE, fd, 0));
	CHECK_EQ(sys(SYS_mmap, span + 8 * P, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 2 * P), span + 8 * P);
	CHECK(memcmp((void *)(span + 8 * P), want + 2 * P, 4 * P) == 0);
	CHECK(memcmp((void *)span, want, 8 * P) == 0); /* the rest of the span is untouched */
	CHECK_EQ(sys(SYS_mmap, span + 12 * P, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
		 span + 12 * P);
	all_zero(span + 12 * P, 4 * P);
	CHECK_OK(sys(SYS_mprotect, span, 8 * P, PROT_READ));
	CHECK_ERR(sys(SYS_mmap, span + 8 * P, P, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0), EEXIST);
	CHECK_OK(sys(SYS_munmap, span, 32 * P));
}

TEST(mmap_of_a_file_refuses_what_it_cannot_serve)
{
	boot(0);
	long fd = CHECK_OK(open_("/hello.txt", O_RDONLY));
	CHECK_ERR(sys(SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL); /* unaligned offset */
	CHECK_ERR(sys(SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, fd, -P), EINVAL);
	CHECK_ERR(sys(SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE, fd, 0), EINVAL);
	CHECK_ERR(sys(SYS_mmap, 0, P, PROT_READ, 0, fd, 0), EINVAL); /* neither private nor shared */
	CHECK_ERR(sys(SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, 999, 0), EBADF);
	CHECK_ERR(sys(SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
	/* a shared writable mapping would have to write back: not served */
	CHECK_ERR(sys(SYS_mmap, 0, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), ENODEV);
	long dir = CHECK_OK(open_("/dir", O_RDONLY | O_DIRECTORY));
	CHECK_ERR(sys(SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, dir, 0), ENODEV);
	int pipefd[2];
	CHECK_OK(sys(SYS_pipe2, pipefd, 0));
	CHECK_ERR(sys(SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, pipefd[0], 0), ENODEV);
	long wr = CHECK_OK(open_("/tmp/wo", O_WRONLY | O_CREAT));
	CHECK_ERR(sys(SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, wr, 0), EACCES);
	/* code only where the tender made free memory executable (--x-exec-heap) */
	CHECK_ERR(sys(SYS_mmap, 0, P, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0), EPERM);
	guest.boot->flags |= NABLA_BOOT_EXEC_HEAP;
	CHECK_OK(sys(SYS_mmap, 0, P, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0));
	guest.boot->flags &= ~NABLA_BOOT_EXEC_HEAP;
	/* with MAP_ANONYMOUS the fd is ignored, as Linux does */
	CHECK_OK(sys(SYS_mmap, 0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, fd, 0));
}

/* A hostile guest cannot have a file copied over memory outside its heap: the boot page,
 * the images. */
TEST(mmap_of_a_file_stays_in_the_heap)
{
	boot(0);
	long fd = CHECK_OK(open_("/big.txt", O_RDONLY));
	struct nabla_boot before = *guest.boot;
	uintptr_t boot_page = (uintptr_t)guest.boot & ~(P - 1);
	CHECK_ERR(sys(SYS_mmap, boot_page, P, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0), ENOMEM);
	CHECK(memcmp(&before, guest.boot, sizeof before) == 0);
	CHECK_ERR(sys(SYS_mmap, guest.heap_hi - P, 2 * P, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0), ENOMEM);
	CHECK_ERR(sys(SYS_mmap, 0, -P, PROT_READ, MAP_PRIVATE, fd, 0), ENOMEM);
}

/* MAP_NORESERVE commits nothing, as on Linux: V8 makes a 512 MiB code range RWX at once. */
TEST(mmap_noreserve_is_not_counted_against_mem)
{
	PAGED_HEAP_ONLY();
	boot(&(struct boot_opts){ .mem_mib = 16, .va_extra_mib = 256 });
	int rwx = PROT_READ | PROT_WRITE | PROT_EXEC;
	CHECK_ERR(sys(SYS_mmap, 0, 64 << 20, PROT_READ | PROT_WRITE, ANON, -1, 0), ENOMEM);
	long big = CHECK_OK(sys(SYS_mmap, 0, 64 << 20, PROT_NONE, ANON | MAP_NORESERVE, -1, 0));
	CHECK_OK(sys(SYS_mprotect, big, 64 << 20, rwx));
	memset((void *)(big + (32 << 20)), 7, P); /* usable: a touch gives it memory (mem_fault) */
	/* discarded with madvise, the page goes back to the host and reads as zero, as on Linux */
	fake.mem_released = 0;
	CHECK_OK(sys(SYS_madvise, big, 64 << 20, MADV_DONTNEED));
	CHECK_EQ(fake.mem_released, 64 << 20);
	CHECK_EQ(*(char *)(big + (32 << 20)), 0);
	long rw = CHECK_OK(sys(SYS_mmap, 0, 64 << 20, PROT_READ | PROT_WRITE, ANON | MAP_NORESERVE, -1, 0));
	/* ordinary memory is still counted as before */
	long r, n = 0;
	while ((r = map(0, 1 << 20, 0)) > 0) n++;
	CHECK_ERR(r, ENOMEM);
	CHECK(n > 4 && n < 16);
	while ((r = map(0, P, 0)) > 0) {}
	/* --mem is full: a MAP_NORESERVE page cannot be given memory; the touch would be a SIGSEGV */
	CHECK_EQ(mem_fault((uintptr_t)rw), 0);
	CHECK(strstr(fake.out[2], "out of guest memory"));
	/* given back and mapped again without MAP_NORESERVE, the pages count and read as zero */
	CHECK_OK(sys(SYS_munmap, big, 64 << 20));
	CHECK_OK(sys(SYS_munmap, rw, 64 << 20));
	CHECK_EQ(sys(SYS_mmap, big + (32 << 20), P, PROT_READ | PROT_WRITE, ANON | MAP_FIXED, -1, 0), big + (32 << 20));
	all_zero(big + (32 << 20), P);
	CHECK_ERR(sys(SYS_mmap, big, 16 << 20, PROT_READ | PROT_WRITE, ANON | MAP_FIXED, -1, 0), ENOMEM);
}

/* A MAP_NORESERVE page gets memory when touched, and only then; it counts against --mem from then on. */
TEST(mmap_noreserve_pages_get_memory_when_touched)
{
	PAGED_HEAP_ONLY();
	boot(&(struct boot_opts){ .mem_mib = 16, .va_extra_mib = 256 });
	long big = CHECK_OK(sys(SYS_mmap, 0, 64 << 20, PROT_READ | PROT_WRITE, ANON | MAP_NORESERVE, -1, 0));
	CHECK_EQ(mem_fault((uintptr_t)big), 1);
	CHECK_EQ(mem_fault((uintptr_t)big + 100), 0); /* it has memory now: a fault there is the app's */
	long free_before = (long)mem_available();
	((volatile char *)big)[20 * P] = 1; /* a real touch, through the fault */
	CHECK_EQ((long)mem_available(), free_before - 16 * P); /* its 64 KiB */
	CHECK_EQ(((volatile char *)big)[20 * P], 1);
	CHECK_EQ(mem_fault((uintptr_t)big - 64 * P), 0); /* not mapped */
}

/* A full tmpfs is ENOSPC on Linux; the app gets an error it can handle. */
TEST(tmpfs_write_when_memory_is_full_is_enospc)
{
	boot(&(struct boot_opts){ .mem_mib = 16 });
	long fd = CHECK_OK(open_("/tmp/f", O_RDWR | O_CREAT));
	long r;
	while ((r = map(0, 1 << 20, 0)) > 0) {}
	while ((r = map(0, P, 0)) > 0) {}
	CHECK_ERR(r, ENOMEM);
	r = sys(SYS_write, fd, "no room", 7);
	if (r != -ENOSPC && r != -ENOMEM) FAIL("write = %ld, want -ENOSPC", r);
	CHECK_EQ(sys(SYS_getpid), 1);
}

/* The host writes into guest memory for the libOS (a file read from the disk, the clock):
 * a MAP_NORESERVE page nobody touched yet gets memory first, or the host would say EFAULT. */
TEST(host_calls_into_untouched_noreserve_pages)
{
	boot(&(struct boot_opts){ .va_extra_mib = 256 });
	size_t len;
	const char *want = host_file("big.txt", &len);
	long buf = CHECK_OK(sys(SYS_mmap, 0, 1 << 20, PROT_READ | PROT_WRITE, ANON | MAP_NORESERVE, -1, 0));
	long fd = CHECK_OK(open_("/big.txt", O_RDONLY));
	CHECK_EQ(sys(SYS_read, fd, buf, len), (long)len);
	CHECK(memcmp((void *)buf, want, len) == 0);
	CHECK_OK(sys(SYS_clock_gettime, CLOCK_MONOTONIC, buf + (512 << 10), 0));
	CHECK(((struct timespec *)(buf + (512 << 10)))->tv_sec > 0 || ((struct timespec *)(buf + (512 << 10)))->tv_nsec > 0);
}

/* mremap moves what has memory; a PROT_NONE page in the old range (which the libOS cannot
 * read) arrives as zero, and a MAP_NORESERVE mapping stays one, without memory until touched. */
TEST(mremap_moves_past_prot_none_and_keeps_noreserve)
{
	PAGED_HEAP_ONLY();
	boot(&(struct boot_opts){ .mem_mib = 16, .va_extra_mib = 256 });
	long a = CHECK_OK(map(0, 3 * P, 0));
	memset((void *)a, 0x11, 3 * P);
	CHECK_OK(sys(SYS_mprotect, a + P, P, PROT_NONE));
	CHECK_OK(map(a + 3 * P, P, MAP_FIXED)); /* blocks growth in place */
	long b = CHECK_OK(sys(SYS_mremap, a, 3 * P, 8 * P, MREMAP_MAYMOVE, 0));
	CHECK(b != a);
	CHECK_EQ(((unsigned char *)b)[0], 0x11);
	CHECK_EQ(((unsigned char *)b)[2 * P], 0x11);
	all_zero(b + P, P);
	long free_before = (long)mem_available();
	long big = CHECK_OK(sys(SYS_mmap, 0, 64 << 20, PROT_READ | PROT_WRITE, ANON | MAP_NORESERVE, -1, 0));
	((volatile char *)big)[0] = 7;
	long moved = CHECK_OK(sys(SYS_mremap, big, 64 << 20, 96 << 20, MREMAP_MAYMOVE, 0));
	CHECK_EQ(((volatile char *)moved)[0], 7);
	CHECK((long)mem_available() > free_before - (1 << 20)); /* not 64 MiB committed by the move */
}

/* ---- a flat heap (--heap=flat): the window read-write from boot, no host memory call ---- */

/* What the documentation says a flat heap gives up: PROT_NONE does not fault. What it keeps:
 * pages made usable again, or mapped again, read as zero, and no host call (the fake
 * hc_mem_* fail any case that makes one under a flat heap). */
TEST(flat_heap_prot_none_does_not_fault_and_freed_pages_read_zero)
{
	FLAT_HEAP_ONLY();
	boot(0);
	long s = CHECK_OK(map(0, STACK, 0));
	memset((void *)s, 0x77, STACK);
	CHECK_OK(sys(SYS_mprotect, s, GUARD, PROT_NONE));
	CHECK(!faults(s)); /* a guard is memory like any other */
	CHECK_OK(sys(SYS_mprotect, s, GUARD, RW));
	all_zero(s, GUARD);
	CHECK_EQ(((unsigned char *)s)[GUARD], 0x77);
	CHECK_OK(sys(SYS_munmap, s, STACK));
	CHECK_EQ(map(s, STACK, MAP_FIXED), s);
	all_zero(s, STACK);
	memset((void *)s, 0x78, STACK);
	CHECK_OK(sys(SYS_madvise, s, STACK, MADV_DONTNEED));
	all_zero(s, STACK);
	long big = CHECK_OK(map(0, 4L << 20, 0)); /* a run longer than the paged pool keeps */
	memset((void *)big, 0x79, 4L << 20);
	CHECK_OK(sys(SYS_munmap, big, 4L << 20));
	CHECK_EQ(map(big, 4L << 20, MAP_FIXED), big);
	all_zero(big, 4L << 20);
}

/* MAP_NORESERVE is ordinary memory under a flat heap (a touch never faults there to give a
 * page memory): fresh mappings over freed pages read zero, MADV_DONTNEED zeroes, mremap
 * moves the bytes. mimalloc maps with MAP_NORESERVE and relies on all three. */
TEST(flat_heap_noreserve_mappings_are_ordinary_memory)
{
	FLAT_HEAP_ONLY();
	boot(0);
	long a = CHECK_OK(map(0, 16 * P, MAP_NORESERVE));
	memset((void *)a, 0x5a, 16 * P);
	CHECK_OK(sys(SYS_munmap, a, 16 * P));
	CHECK_EQ(map(a, 16 * P, MAP_NORESERVE | MAP_FIXED), a);
	all_zero(a, 16 * P);
	memset((void *)a, 0x5b, 16 * P);
	CHECK_OK(sys(SYS_munmap, a, 16 * P));
	CHECK_EQ(map(0, 16 * P, MAP_NORESERVE), a); /* the highest free run again: the same pages */
	all_zero(a, 16 * P);
	memset((void *)a, 0x5c, 16 * P);
	CHECK_OK(sys(SYS_madvise, a, 16 * P, MADV_DONTNEED));
	all_zero(a, 16 * P);
	memset((void *)a, 0x5d, 16 * P);
	CHECK_OK(map(a + 16 * P, P, 0)); /* blocks growing in place */
	long moved = CHECK_OK(sys(SYS_mremap, a, 16 * P, 32 * P, MREMAP_MAYMOVE, 0));
	CHECK(moved != a);
	for (long i = 0; i < 16 * P; i++)
		if (((unsigned char *)moved)[i] != 0x5d) FAIL("byte %ld of the moved mapping is %d, want 0x5d", i, ((unsigned char *)moved)[i]);
	all_zero(moved + 16 * P, 16 * P);
}

/* The window is the cap: nothing maps past it, and the bytes past it fault on the host.
 * Go's and V8's reservations of more address space than --mem do not fit. */
TEST(flat_heap_is_its_window_and_no_more)
{
	FLAT_HEAP_ONLY();
	boot(&(struct boot_opts){ .mem_mib = 16, .va_extra_mib = 1024 });
	uintptr_t heap_start = (guest.boot->image_end + P - 1) & ~(P - 1);
	uintptr_t window_end = heap_start + nabla_heap_budget(guest.boot);
	CHECK(window_end < guest.heap_hi);
	CHECK_ERR(sys(SYS_mmap, 0, 512L << 20, PROT_NONE, ANON, -1, 0), ENOMEM);
	CHECK_ERR(sys(SYS_mmap, window_end, P, RW, ANON | MAP_FIXED, -1, 0), ENOMEM);
	CHECK_ERR(sys(SYS_mmap, window_end - P, 2 * P, RW, ANON | MAP_FIXED, -1, 0), ENOMEM);
	long last = CHECK_OK(sys(SYS_mmap, window_end - P, P, RW, ANON | MAP_FIXED, -1, 0));
	memset((void *)last, 0x5a, P);
	CHECK(faults((long)window_end));
	CHECK(faults((long)guest.heap_hi - 1));
	long r, chunks = 0;
	while ((r = map(0, 1 << 20, 0)) > 0) chunks++;
	CHECK_ERR(r, ENOMEM);
	CHECK_EQ(chunks, 11); /* 16 MiB less the main stack (4 MiB), the boot page and the page above */
}
