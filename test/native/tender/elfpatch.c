/*
 * elfpatch IN OUT N FIELD VALUE: a copy of IN with its Nth PT_LOAD's FIELD (vaddr, memsz,
 * or type) set to VALUE (0x... as strtoull reads it); N "all": every PT_LOAD. Makes the
 * suite's hostile ELF files from guests that build. Runs on the host, not in a guest.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	static unsigned char buf[1 << 22];
	if (argc != 6)
		return fprintf(stderr, "usage: elfpatch IN OUT N vaddr|memsz|type VALUE\n"), 2;
	FILE *in = fopen(argv[1], "rb"), *out;
	size_t size = in ? fread(buf, 1, sizeof buf, in) : 0;
	if (!in || size < sizeof(Elf64_Ehdr) || size == sizeof buf)
		return fprintf(stderr, "elfpatch: cannot read %s\n", argv[1]), 1;
	Elf64_Ehdr eh;
	memcpy(&eh, buf, sizeof eh);
	unsigned long long value = strtoull(argv[5], NULL, 0);
	int want = strcmp(argv[3], "all") == 0 ? -1 : atoi(argv[3]), seen = 0, done = 0;
	for (int i = 0; i < eh.e_phnum && eh.e_phoff + (i + 1) * sizeof(Elf64_Phdr) <= size; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, buf + eh.e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_type != PT_LOAD || (want >= 0 && seen++ != want))
			continue;
		if (strcmp(argv[4], "vaddr") == 0)
			ph.p_vaddr = ph.p_paddr = value;
		else if (strcmp(argv[4], "memsz") == 0)
			ph.p_memsz = value;
		else if (strcmp(argv[4], "type") == 0)
			ph.p_type = (Elf64_Word)value;
		else
			return fprintf(stderr, "elfpatch: no field %s\n", argv[4]), 2;
		memcpy(buf + eh.e_phoff + i * sizeof ph, &ph, sizeof ph);
		done++;
	}
	if (!done)
		return fprintf(stderr, "elfpatch: %s has no PT_LOAD %s\n", argv[1], argv[3]), 1;
	if (!(out = fopen(argv[2], "wb")) || fwrite(buf, 1, size, out) != size || fclose(out) != 0)
		return fprintf(stderr, "elfpatch: cannot write %s\n", argv[2]), 1;
	return 0;
}
