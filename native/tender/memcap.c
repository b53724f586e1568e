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
 *
 * --heap=flat: the window [heap_start, + nabla_heap_budget) is made read-write here, before
 * the filter, and the policy has neither call: the guest can never make another page
 * usable, so the window is the cap (RLIMIT_DATA, set all the same, checks this mprotect).
 * What it loses: PROT_NONE inside the window does not fault, and freed memory stays with it.
 */
#define _GNU_SOURCE
#include <err.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "tender.h"

void mem_rules(struct policy *p, uint64_t heap_start, uint64_t region_end, const struct tender_opts *o)
{
	if (o->flat_heap)
		return; /* neither call: the window is usable from the start (mem_cap) */
	uint64_t span = region_end - heap_start;
	struct rule_range where = { 0, "addr", heap_start, region_end - 1, "<guest heap>" };
	struct rule_range how_much = { 1, "len", 0, span, "<guest heap>" };
	/* mprotect: heap pages become usable, never executable unless --x-exec-heap. */
	struct rule usable = { "mprotect", SYS_mprotect, 2, "prot", 1, { { PROT_READ | PROT_WRITE, "PROT_READ+PROT_WRITE" } } };
	if (o->exec_heap)
		usable.vals[usable.nvals++] = (struct rule_val){ PROT_READ | PROT_WRITE | PROT_EXEC, "PROT_READ+PROT_WRITE+PROT_EXEC" };
	policy_add_ranged(p, usable, (struct rule_ranges){ 2, { where, how_much } });
	/* mmap: heap pages given back (freed, PROT_NONE); never a mapping of anything. */
	struct rule_range none = { 2, "prot", PROT_NONE, PROT_NONE, "PROT_NONE" };
	policy_add_ranged(p, (struct rule){ "mmap", SYS_mmap, 3, "flags", 1, { { NABLA_RELEASE_FLAGS, "MAP_PRIVATE+MAP_FIXED+MAP_ANONYMOUS+MAP_NORESERVE" } } },
			  (struct rule_ranges){ 3, { where, how_much, none } });
}

/* A figure of this process's from /proc/self/status ("VmData", "VmSize"), in bytes. */
static uint64_t status_bytes(const char *field)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		err(TENDER_EXIT, "/proc/self/status: cannot read this process's memory use (is /proc mounted?)");
	char line[256];
	size_t n = strlen(field);
	unsigned long kib = 0;
	int found = 0;
	while (!found && fgets(line, sizeof line, f))
		found = strncmp(line, field, n) == 0 && line[n] == ':' && sscanf(line + n + 1, " %lu kB", &kib) == 1;
	fclose(f);
	if (!found)
		errx(TENDER_EXIT, "/proc/self/status has no %s line: cannot cap guest memory", field);
	return (uint64_t)kib * 1024;
}

/* The kernel checks RLIMIT_DATA in mprotect only where RLIMIT_AS would let the pages in
 * (mprotect_fixup asks may_expand_vm of the old and the new flags, and it looks at AS
 * first): a finite RLIMIT_AS with less room than one heap-long mprotect switches the cap
 * off. So the soft limit goes up to the hard one, and a hard one too tight is refused. */
static void address_space_fits(uint64_t span)
{
	struct rlimit as;
	if (getrlimit(RLIMIT_AS, &as) != 0)
		err(TENDER_EXIT, "getrlimit(RLIMIT_AS) failed");
	uint64_t need = status_bytes("VmSize") + span;
	if (as.rlim_max != RLIM_INFINITY && as.rlim_max < need)
		errx(TENDER_EXIT, "the address-space limit (RLIMIT_AS, ulimit -v: %lu MiB) leaves too little room to cap guest memory: "
				  "nabla-run needs %lu MiB of address space (docker run --ulimit as=-1, or no ulimit -v)",
		     (unsigned long)(as.rlim_max / MIB), (unsigned long)(need / MIB + 1));
	as.rlim_cur = as.rlim_max;
	if (setrlimit(RLIMIT_AS, &as) != 0)
		err(TENDER_EXIT, "setrlimit(RLIMIT_AS) failed");
}

/* Booted with ignore_rlimit_data, the kernel only warns where RLIMIT_DATA is exceeded. */
static void rlimit_data_enforced(void)
{
	char value[4] = "";
	FILE *f = fopen("/sys/module/kernel/parameters/ignore_rlimit_data", "re");
	if (f) {
		if (!fgets(value, sizeof value, f))
			value[0] = 0;
		fclose(f);
	}
	if (value[0] == 'Y')
		errx(TENDER_EXIT, "this kernel was booted with ignore_rlimit_data: it would not hold the guest to its memory (--mem); "
				  "nabla-run does not run a guest without that cap");
}

/* The tender's own stack, which the kernel grows when anything writes just below it, up to
 * RLIMIT_STACK: a guest that found it could take memory there that --mem does not count (8
 * MiB with the usual limit, unbounded with `--ulimit stack=-1`). It is capped at what it
 * holds now and a margin for the tender's last calls before the guest runs. */
#define STACK_MARGIN (256 * 1024)
static void stack_cap(void)
{
	struct rlimit st;
	if (getrlimit(RLIMIT_STACK, &st) != 0)
		err(TENDER_EXIT, "getrlimit(RLIMIT_STACK) failed");
	uint64_t limit = status_bytes("VmStk") + STACK_MARGIN;
	if (st.rlim_max < limit) /* a tighter hard limit stands */
		limit = st.rlim_max;
	st.rlim_cur = st.rlim_max = limit;
	if (setrlimit(RLIMIT_STACK, &st) != 0)
		err(TENDER_EXIT, "setrlimit(RLIMIT_STACK, %lu) failed", (unsigned long)limit);
}

/* Everything the tender made writable is counted already; the guest may add its heap budget.
 * Also no transparent huge pages: a huge page touched through one 4 KiB page and then
 * mostly given back stays whole on the host while RLIMIT_DATA counts one page of it. */
void mem_cap(const struct nabla_boot *boot)
{
	rlimit_data_enforced();
	stack_cap();
	address_space_fits(boot->stack_top - align_up(boot->image_end, PAGE_SIZE));
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0)
		err(TENDER_EXIT, "prctl(PR_SET_THP_DISABLE) failed");
	uint64_t limit = status_bytes("VmData") + nabla_heap_budget(boot);
	struct rlimit cap;
	if (getrlimit(RLIMIT_DATA, &cap) != 0)
		err(TENDER_EXIT, "getrlimit(RLIMIT_DATA) failed");
	if (cap.rlim_max < limit) /* `docker run --ulimit data=` asked for less: that stands */
		limit = cap.rlim_max;
	cap.rlim_cur = cap.rlim_max = limit;
	if (setrlimit(RLIMIT_DATA, &cap) != 0)
		err(TENDER_EXIT, "setrlimit(RLIMIT_DATA, %lu) failed", (unsigned long)limit);
	if (boot->flags & NABLA_BOOT_FLAT_HEAP) {
		uint64_t start = align_up(boot->image_end, PAGE_SIZE), size = nabla_heap_budget(boot);
		if (mprotect((void *)start, size, PROT_READ | PROT_WRITE) != 0)
			err(TENDER_EXIT, "mprotect of the guest's flat heap (%lu MiB) failed", (unsigned long)(size / MIB));
	}
}
