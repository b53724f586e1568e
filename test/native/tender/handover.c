/*
 * handover: a stand-in libOS for a program beside it (--libos), linked at NABLA_LIBOS_BASE.
 * As the real libOS's _nabla_start does, it hands the initial stack and the boot page to
 * boot->app_entry; the program's system calls, trapped (they come from outside this
 * guest's hypercall code), are served here: write and exit_group, anything else ENOSYS.
 */
#include "guest.h"

/* ucontext's uc_mcontext.gregs: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, ... */
enum {
	GREG_RDI = 8,
	GREG_RSI = 9,
	GREG_RDX = 12,
	GREG_RAX = 13
};

void guest_syscall(int sig, const uint8_t *info, uint8_t *uc);
void guest_syscall(int sig, const uint8_t *info, uint8_t *uc)
{
	uint64_t *g = (uint64_t *)(uc + 40);
	int nr = *(const int32_t *)(info + 24); /* si_syscall */
	(void)sig;
	if (nr == NR_write)
		g[GREG_RAX] = (uint64_t)sys(NR_write, g[GREG_RDI], g[GREG_RSI], g[GREG_RDX]);
	else if (nr == NR_exit_group)
		sys(NR_exit_group, g[GREG_RDI], 0, 0);
	else
		g[GREG_RAX] = (uint64_t)-38; /* ENOSYS */
}

int nabla_main(const struct nabla_boot *boot, uint64_t *sp, uint64_t regs)
{
	(void)regs;
	if (boot->app_entry == 0) {
		puts1("handover: no program beside me (run with --libos)\n");
		return 1;
	}
	__asm__ volatile("mov %0, %%rsp\n\t"
			 "xor %%eax, %%eax\n\t"
			 "jmp *%1" ::"r"(sp),
			 "r"(boot->app_entry), "D"(boot)
			 : "memory");
	__builtin_unreachable();
}
