/*
 * pieapp: a position-independent program (static-pie, no note) run beside the handover
 * stand-in libOS. It finds its bias as a static-pie's libc does, from where its own
 * _DYNAMIC is against PT_DYNAMIC's address, and checks that the auxv agrees: AT_PHDR points
 * at the program headers of the ELF header at the bias, AT_ENTRY is e_entry moved by the
 * bias, and is where this code runs; the bias is a 2 MiB boundary above the libOS, every
 * segment lies inside the images (below the heap), data and bss are as linked. Prints
 * "bias=0x...".
 */
#include <elf.h>

#include "guest.h"

#define AT_PHNUM_ 5
extern char _nabla_start[];
extern const Elf64_Dyn _DYNAMIC[] __attribute__((visibility("hidden")));
static int failed;
static volatile uint64_t data = 0x1122334455667788ULL;
static volatile uint8_t bss[4096];

static void check(int ok, const char *what)
{
	puts1(ok ? "ok: " : "FAIL: ");
	puts1(what);
	puts1("\n");
	failed |= !ok;
}

int nabla_main(const struct nabla_boot *boot, uint64_t *sp, uint64_t regs)
{
	(void)regs;
	char **argv = (char **)&sp[1], **e = argv + sp[0] + 1;
	while (*e)
		e++;
	uint64_t at[40] = { 0 };
	for (uint64_t *aux = (uint64_t *)(e + 1); aux[0] != AT_NULL; aux += 2)
		if (aux[0] < 40)
			at[aux[0]] = aux[1];
	const Elf64_Phdr *ph = (const Elf64_Phdr *)at[AT_PHDR];
	uint64_t n = at[AT_PHNUM_], bias = 1, first = ~0UL;
	for (uint64_t i = 0; ph && i < n; i++) {
		if (ph[i].p_type == PT_DYNAMIC)
			bias = (uint64_t)_DYNAMIC - ph[i].p_vaddr;
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0)
			first = ph[i].p_vaddr;
	}
	check(bias % 4096 == 0 && first != ~0UL, "AT_PHDR: headers with PT_DYNAMIC where this code has _DYNAMIC");
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)(bias + first);
	check(bias % 4096 == 0 && first != ~0UL && eh->e_ident[0] == 0x7f && eh->e_ident[1] == 'E' && eh->e_type == ET_DYN &&
		      at[AT_PHDR] == bias + first + eh->e_phoff && n == eh->e_phnum,
	      "AT_PHDR, AT_PHNUM: the program headers of the ELF header at the bias");
	check(eh->e_entry + bias == at[AT_ENTRY], "AT_ENTRY: e_entry moved by the bias");
	check(at[AT_ENTRY] == (uint64_t)_nabla_start, "AT_ENTRY: where this code runs");
	check(at[AT_BASE] == 0, "AT_BASE: 0, no loader");
	int inside = 1;
	for (uint64_t i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD)
			inside &= bias + ph[i].p_vaddr >= NABLA_LIBOS_BASE && bias + ph[i].p_vaddr + ph[i].p_memsz <= boot->image_end;
	check(inside, "every PT_LOAD moved by the bias lies inside the images, below the heap");
	check(bias >= 0x400000 && bias % (2 << 20) == 0, "placed on a 2 MiB boundary above the libOS");
	int dirty = 0;
	for (size_t i = 0; i < sizeof bss; i++)
		dirty |= bss[i];
	check(!dirty && data == 0x1122334455667788ULL, "bss is zero, data has its value");
	puts1("bias="), putx(bias), puts1("\n");
	return failed;
}
