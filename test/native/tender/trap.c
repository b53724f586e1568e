/*
 * trap (built with -DGUEST_TRAP): its own syscalls lie outside its hypercall code, so the
 * tender's filter must trap them to the guest's SIGSYS handler (start.S: the call returns
 * 1000 + its number) instead of running or killing them. Then `trap gadget` jumps into the
 * hypercall code with a forbidden number: that must still be killed (SIGSYS, 159).
 */
#include "guest.h"

static long gadget_execve(void) /* the rt_sigreturn `syscall` in start.S, with execve's number */
{
	extern char guest_restorer[];
	long ret;
	__asm__ volatile("lea 1f(%%rip), %%rcx\n\t"
			 "push %%rcx\n\t" /* should the call ever return */
			 "mov $59, %%eax\n\t"
			 "jmp *%1\n"
			 "1:"
			 : "=&a"(ret)
			 : "r"(guest_restorer + 5), "D"("/bin/sh"), "S"(0L), "d"(0L)
			 : "rcx", "r11", "memory");
	return ret;
}

int nabla_main(const struct nabla_boot *boot, uint64_t *sp, uint64_t regs)
{
	(void)boot, (void)regs;
	const char *c = sp[0] > 1 ? (const char *)sp[2] : "";
	if (seq(c, "gadget")) {
		puts1("trying\n");
		long r = gadget_execve();
		puts1("ESCAPED: the call returned "), putx((uint64_t)r), puts1("\n");
		return 0;
	}
	static const struct {
		const char *name;
		long nr, a0;
	} calls[] = {
		{ "getpid", 39, 0 },
		{ "execve", NR_execve, (long)"/bin/sh" },
		{ "write", NR_write, 1 },
		{ "ptrace", NR_ptrace, 0 },
		{ "mount", NR_mount, 0 },
		/* trapped even where the filter allows it */
		{ "arch_prctl", NR_arch_prctl, ARCH_SET_FS },
	};
	int bad = 0;
	for (unsigned i = 0; i < sizeof calls / sizeof calls[0]; i++) {
		long r = sys(calls[i].nr, calls[i].a0, "ESCAPED\n", 8);
		puts1(calls[i].name), puts1(" -> "), putu((uint64_t)r), puts1("\n");
		bad |= r != 1000 + calls[i].nr;
	}
	return bad;
}
