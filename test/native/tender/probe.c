/*
 * probe WHAT: what this host offers, asked outside any filter so run.sh knows which
 * outcome to demand. Exit 0: yes, 1: no.
 *   fsgsbase  user space may set the FS base itself (AT_HWCAP2 bit 1: the CPU has
 *             FSGSBASE and Linux >= 5.9 enabled it), so --fs-base=cpu can run
 *   int80     the kernel takes 32-bit system calls (`int $0x80`) from a 64-bit process;
 *             without a 32-bit entry the CPU's fault kills this probe with SIGSEGV
 */
#include <string.h>
#include <sys/auxv.h>

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "fsgsbase") == 0)
		return (getauxval(AT_HWCAP2) & 2) ? 0 : 1;
	if (argc == 2 && strcmp(argv[1], "int80") == 0) {
		long ret;
		__asm__ volatile("int $0x80"
				 : "=a"(ret)
				 : "a"(20L /* i386 getpid */)
				 : "memory");
		return ret > 0 ? 0 : 1;
	}
	return 2;
}
