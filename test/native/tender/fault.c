/*
 * fault [CASE]: the tender routes the guest's faults to its trap handler (start.S), which
 * hands them to guest_fault here: each prints what the kernel put in the siginfo and the
 * ucontext, then resumes after the faulting instruction. Built with -DFAULT_NO_HANDLER
 * (guest "nofault"), start.S's handler ends the guest with 128 + the signal instead.
 */
#include "guest.h"

static volatile uint64_t resume; /* where guest_fault resumes */

#ifndef FAULT_NO_HANDLER
void guest_fault(int sig, const uint8_t *info, uint8_t *uc);
void guest_fault(int sig, const uint8_t *info, uint8_t *uc)
{
	static const char *const names[] = { [4] = "SIGILL", [5] = "SIGTRAP", [7] = "SIGBUS", [8] = "SIGFPE", [11] = "SIGSEGV" };
	__asm__ volatile("pushf\n\t andl $~0x40000, (%%rsp)\n\t popf" ::
				 : "memory", "cc"); /* AC off (SIGBUS) */
	const uint64_t *mc = (const uint64_t *)(uc + 40); /* uc_mcontext: r8..r15, rdi, rsi, ... */
	puts1(names[sig]), puts1(" code="), putu((uint64_t) * (const int32_t *)(info + 8));
	puts1(" addr="), putx(*(const uint64_t *)(info + 16));
	puts1(" trapno="), putu(mc[20]), puts1(" err="), putu(mc[19]);
	if (sig == 11) puts1(" cr2="), putx(mc[22]); /* else the last page fault's, as the kernel keeps it */
	puts1(" ip-is-the-insn="), putu(mc[16] == *(const uint64_t *)(info + 16) || sig == 11 || sig == 7), puts1("\n");
	((uint64_t *)(uc + 40))[16] = resume; /* rip */
	((uint64_t *)(uc + 40))[17] &= ~0x40000UL; /* eflags: AC off again (the SIGBUS case) */
}
#endif

/* Runs one faulting instruction with resume set to just past it. */
#define FAULT(insn, ...) __asm__ volatile("lea 2f(%%rip), %%rax\n\t mov %%rax, %0\n\t" insn "\n2:" \
					  : "=m"(resume) \
					  : __VA_ARGS__ \
					  : "rax", "rcx", "rdx", "memory", "cc")

int nabla_main(const struct nabla_boot *boot, uint64_t *sp, uint64_t regs)
{
	(void)boot, (void)regs;
	const char *c = sp[0] > 1 ? (const char *)sp[2] : "all";
	int all = seq(c, "all");
	if (all || seq(c, "segv")) FAULT("movb (%1), %%cl", "r"(0L));
	if (all || seq(c, "segv-text")) FAULT("movb $1, (%1)", "r"(nabla_main));
	if (all || seq(c, "ill")) FAULT("ud2", "r"(0L));
	if (all || seq(c, "fpe")) FAULT("xor %%edx, %%edx\n\t xor %%ecx, %%ecx\n\t mov $1, %%eax\n\t div %%ecx", "r"(0L));
	if (all || seq(c, "trap")) FAULT("int3", "r"(0L));
	if (all || seq(c, "bus")) {
		static char buf[16] __attribute__((aligned(8)));
		FAULT("pushf\n\t orl $0x40000, (%%rsp)\n\t popf\n\t mov (%1), %%ecx", "r"(buf + 1));
	}
	puts1("resumed\n");
	return 0;
}
