/*
 * heap CASE: a hostile guest and the memory the host lets it have. The heap, [image_end,
 * stack_top - stack_size), starts PROT_NONE; the filter allows mprotect to read-write and
 * mmap PROT_NONE there only, and RLIMIT_DATA caps what can be writable at once.
 *   cap           makes the heap usable 1 MiB at a time, writing every page, until the host
 *                 refuses; gives it all back and does it again: the same amount, within
 *                 nabla_heap_budget. Prints "cap holds" when it does.
 *   write-past    writes a heap page it never made usable: SIGSEGV (exit 139).
 *   exec          asks for a read-write-executable heap page: allowed with --x-exec-heap only.
 *   flat-window   under --heap=flat: writes every page of the window, [heap start, +
 *                 nabla_heap_budget), prints "window writable", then writes the first byte
 *                 past it: SIGSEGV (exit 139).
 *   mprotect-rw, mmap-release   the two calls a paged heap is allowed (0 returned): under
 *                 --heap=flat the filter must kill them.
 *   the rest      one call the filter must kill (SIGSYS, exit 159); "ESCAPED" if it returns.
 */
#include "guest.h"

#define MIB_ (1024UL * 1024UL)
enum {
	NR_mprotect = 10
};
#define RW 3
#define RWX 7
#define RELEASE NABLA_RELEASE_FLAGS

static uint64_t usable_mib(uint64_t lo, uint64_t hi)
{
	uint64_t n = 0;
	for (uint64_t at = lo; at + MIB_ <= hi && sys(NR_mprotect, at, MIB_, RW) == 0; at += MIB_, n++)
		for (uint64_t page = at; page < at + MIB_; page += 4096)
			*(volatile char *)page = 1;
	return n;
}

int nabla_main(const struct nabla_boot *boot, uint64_t *sp, uint64_t regs)
{
	(void)regs;
	const char *c = sp[0] > 1 ? (const char *)sp[2] : "";
	uint64_t lo = (boot->image_end + 4095) & ~4095UL, hi = boot->stack_top - boot->stack_size;
	long r;
	puts1("trying "), puts1(c), puts1("\n");
	if (seq(c, "cap")) {
		uint64_t budget = nabla_heap_budget(boot) / MIB_, first = usable_mib(lo, hi);
		if (sys6(NR_mmap, lo, first * MIB_, 0, RELEASE, -1, 0) != (long)lo) return 1;
		uint64_t again = usable_mib(lo, hi);
		puts1("usable MiB "), putu(first), puts1(", again "), putu(again), puts1(", budget "), putu(budget), puts1("\n");
		if (first <= budget && first + 2 >= budget && again == first) puts1("cap holds\n");
		return 0;
	}
	if (seq(c, "write-past")) {
		*(volatile char *)(lo + 4096) = 1;
		puts1("ESCAPED: wrote a heap page that was never made usable\n");
		return 0;
	}
	if (seq(c, "exec")) {
		r = sys(NR_mprotect, lo, 4096, RWX);
		puts1("mprotect(heap, PROT_READ|PROT_WRITE|PROT_EXEC) returned "), putx((uint64_t)r), puts1("\n");
		return r != 0;
	}
	if (seq(c, "flat-window")) {
		uint64_t end = lo + nabla_heap_budget(boot);
		for (uint64_t page = lo; page < end; page += 4096) *(volatile char *)page = 1;
		puts1("window writable: "), putu((end - lo) / MIB_), puts1(" MiB\n");
		*(volatile char *)end = 1;
		puts1("ESCAPED: wrote past the flat heap's window\n");
		return 0;
	}
	if (seq(c, "mprotect-rw")) r = sys(NR_mprotect, lo, 4096, RW);
	else if (seq(c, "mmap-release")) r = sys6(NR_mmap, lo, 4096, 0, RELEASE, -1, 0);
	else if (seq(c, "mprotect-text")) r = sys(NR_mprotect, (uint64_t)nabla_main & ~4095UL, 4096, RW);
	else if (seq(c, "mprotect-boot")) r = sys(NR_mprotect, NABLA_BOOT_ADDR, 4096, RW);
	else if (seq(c, "mprotect-below")) r = sys(NR_mprotect, lo - 4096, 8192, RW);
	else if (seq(c, "mprotect-above")) r = sys(NR_mprotect, boot->stack_top, 4096, RW);
	else if (seq(c, "mprotect-too-long")) r = sys(NR_mprotect, lo, boot->stack_top - lo + 4096, RW);
	else if (seq(c, "mprotect-high-bits")) r = sys(NR_mprotect, (1UL << 40) | lo, 4096, RW); /* the filter compares all 64 bits */
	else if (seq(c, "mprotect-read-only")) r = sys(NR_mprotect, lo, 4096, 1);
	else if (seq(c, "mprotect-none")) r = sys(NR_mprotect, lo, 4096, 0);
	else if (seq(c, "mmap-rw")) r = sys6(NR_mmap, lo, 4096, RW, RELEASE, -1, 0); /* MAP_FIXED escapes RLIMIT_DATA */
	else if (seq(c, "mmap-not-fixed")) r = sys6(NR_mmap, lo, 4096, 0, RELEASE & ~0x10, -1, 0);
	else if (seq(c, "mmap-shared")) r = sys6(NR_mmap, lo, 4096, 0, (RELEASE & ~0x02) | 0x01, -1, 0);
	else if (seq(c, "mmap-text")) r = sys6(NR_mmap, (uint64_t)nabla_main & ~4095UL, 4096, 0, RELEASE, -1, 0);
	else if (seq(c, "mmap-above")) r = sys6(NR_mmap, boot->stack_top, 4096, 0, RELEASE, -1, 0);
	else {
		puts1("unknown case\n");
		return 2;
	}
	puts1("ESCAPED: the call returned "), putx((uint64_t)r), puts1("\n");
	return 0;
}
