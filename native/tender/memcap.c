/*
 * memcap.c — guest memory the host caps, whatever the guest does.
 *
 * The region is PROT_NONE but for what the tender itself fills (boot.c, elf.c). The libOS
 * makes heap pages usable and gives them back with two hypercalls (nabla_abi.h), each
 * pinned to [heap_start, region_end) and to a length no longer than that range; above the
 * region the tender reserved as much again (PROT_NONE), so no call reaches the tender's own
 * pages. A hostile guest may make those calls with any arguments the filter lets by, in any
 * order; what bounds it is the kernel's RLIMIT_DATA (private writable pages), which mprotect
 * checks (mmap with MAP_FIXED does not, over an existing mapping: so mmap is pinned to
 * PROT_NONE, which frees pages and never adds any). A page can hold memory only while it is
 * writable, so the guest's resident memory stays within the limit.
 */
#define _GNU_SOURCE
#include <err.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "tender.h"

void mem_rules(struct policy *p, uint64_t heap_start, uint64_t region_end, int exec_heap)
{
	uint64_t span = region_end - heap_start;
	struct rule_range where = { 0, "addr", heap_start, region_end - 1, "<guest heap>" };
	struct rule_range how_much = { 1, "len", 0, span, "<guest heap>" };
	/* mprotect: heap pages become usable, never executable unless --x-exec-heap. */
	struct rule usable = { "mprotect", SYS_mprotect, 2, "prot", 1, { { PROT_READ | PROT_WRITE, "PROT_READ+PROT_WRITE" } } };
	if (exec_heap)
		usable.vals[usable.nvals++] = (struct rule_val){ PROT_READ | PROT_WRITE | PROT_EXEC, "PROT_READ+PROT_WRITE+PROT_EXEC" };
	policy_add_ranged(p, usable, (struct rule_ranges){ 2, { where, how_much } });
	/* mmap: heap pages given back (freed, PROT_NONE); never a mapping of anything. */
	struct rule_range none = { 2, "prot", PROT_NONE, PROT_NONE, "PROT_NONE" };
	policy_add_ranged(p, (struct rule){ "mmap", SYS_mmap, 3, "flags", 1, { { NABLA_RELEASE_FLAGS, "MAP_PRIVATE+MAP_FIXED+MAP_ANONYMOUS+MAP_NORESERVE" } } },
			  (struct rule_ranges){ 3, { where, how_much, none } });
}

/* The process's private writable memory now (VmData), in bytes. */
static uint64_t data_now(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		err(TENDER_EXIT, "/proc/self/status: cannot read this process's memory use (is /proc mounted?)");
	char line[256];
	unsigned long kib = 0;
	int found = 0;
	while (!found && fgets(line, sizeof line, f))
		found = sscanf(line, "VmData: %lu kB", &kib) == 1;
	fclose(f);
	if (!found)
		errx(TENDER_EXIT, "/proc/self/status has no VmData line: cannot cap guest memory");
	return (uint64_t)kib * 1024;
}

/* Everything the tender made writable is counted already; the guest may add its heap budget. */
void mem_cap(const struct nabla_boot *boot)
{
	uint64_t limit = data_now() + nabla_heap_budget(boot);
	struct rlimit cap;
	if (getrlimit(RLIMIT_DATA, &cap) != 0)
		err(TENDER_EXIT, "getrlimit(RLIMIT_DATA) failed");
	if (cap.rlim_max < limit) /* `docker run --ulimit data=` asked for less: that stands */
		limit = cap.rlim_max;
	cap.rlim_cur = cap.rlim_max = limit;
	if (setrlimit(RLIMIT_DATA, &cap) != 0)
		err(TENDER_EXIT, "setrlimit(RLIMIT_DATA, %lu) failed", (unsigned long)limit);
}
