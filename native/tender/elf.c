/*
 * elf.c — check a unikernel ELF hard (load.c puts it into guest memory).
 *
 * Accepted: ELF64, little-endian, x86-64. A program (ELF_PROGRAM) is ET_EXEC, loaded at its
 * link addresses, or, when the caller gives a base, ET_DYN (a PIE, or a static-pie without
 * PT_INTERP) moved up by a bias that puts its lowest segment at that base; a PT_INTERP is
 * recorded, and core.c decides. A dynamic loader (ELF_LOADER) is ET_DYN without a PT_INTERP
 * of its own, placed the same way. At most ELF_MAX_LOADS PT_LOAD
 * segments, each inside the guest region above the boot page, inside the file, never W+X,
 * no two sharing a page; program headers loaded (for AT_PHDR); entry in an executable
 * segment. The NABLA note, when there is one, must have
 * our ABI version and point into the image where it should (elf_check_note).
 * Every refusal is one line: "nabla-run: FILE: what is wrong".
 */
#define _GNU_SOURCE
#include <elf.h>
#include <err.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tender.h"

#define GUEST_LIMIT (NABLA_GUEST_BASE + (uint64_t)NABLA_MEM_MAX_MIB * MIB)

/* Is [off, off+len) inside the file? Written to not overflow. */
static int in_file(const struct elf_image *img, uint64_t off, uint64_t len)
{
	return off <= img->file_size && len <= img->file_size - off;
}

/* Reads the NABLA note from one PT_NOTE into img->note (img->has_note). There must be at
 * most one in the file: an app linked before the libOS could otherwise bring its own and,
 * the first one winning, choose the hypercall range and trap handler. */
static void read_note(struct elf_image *img, const Elf64_Phdr *ph)
{
	uint64_t a = ph->p_align == 8 ? 8 : 4, size = ph->p_filesz, pos = 0; /* offsets inside the note */
	if (!in_file(img, ph->p_offset, ph->p_filesz))
		errx(TENDER_EXIT, "%s: PT_NOTE lies outside the file", img->path);
	const uint8_t *notes = img->file + ph->p_offset; /* only now: a pointer past the file is UB */
	while (size - pos >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr n;
		memcpy(&n, notes + pos, sizeof n);
		uint64_t desc = align_up(pos + sizeof n + n.n_namesz, a);
		if (n.n_namesz > size || n.n_descsz > size || desc > size || n.n_descsz > size - desc)
			errx(TENDER_EXIT, "%s: malformed PT_NOTE", img->path);
		if (n.n_namesz == sizeof NABLA_NOTE_NAME && n.n_type == NABLA_NOTE_ABI &&
		    memcmp(notes + pos + sizeof n, NABLA_NOTE_NAME, sizeof NABLA_NOTE_NAME) == 0) {
			uint64_t at = ph->p_offset + pos; /* two PT_NOTEs may show the same bytes */
			if (img->has_note && at != img->note_offset)
				errx(TENDER_EXIT, "%s: more than one NABLA ABI note: a unikernel has exactly one, the libOS's", img->path);
			uint32_t v;
			if (n.n_descsz < 4)
				errx(TENDER_EXIT, "%s: malformed NABLA ABI note", img->path);
			memcpy(&v, notes + desc, 4);
			if (v != NABLA_ABI_VERSION)
				errx(TENDER_EXIT, "%s: built for nabla ABI version %u, this nabla-run runs version %d", img->path, v,
				     NABLA_ABI_VERSION);
			if (n.n_descsz != sizeof img->note)
				errx(TENDER_EXIT, "%s: malformed NABLA ABI note", img->path);
			memcpy(&img->note, notes + desc, sizeof img->note);
			img->has_note = 1;
			img->note_offset = at;
		}
		pos = align_up(desc + n.n_descsz, a);
		if (pos > size)
			break;
	}
}

static void check_load(struct elf_image *img, const Elf64_Phdr *ph, uint64_t bias)
{
	const char *f = img->path;
	if (ph->p_memsz == 0)
		return;
	if (ph->p_vaddr > GUEST_LIMIT)
		errx(TENDER_EXIT, "%s: segment at 0x%lx lies beyond the largest guest memory (%d MiB)", f, ph->p_vaddr,
		     NABLA_MEM_MAX_MIB);
	uint64_t v = ph->p_vaddr + bias; /* no overflow: both are below 2^37 */
	if (img->nloads == ELF_MAX_LOADS)
		errx(TENDER_EXIT, "%s: more than %d PT_LOAD segments", f, ELF_MAX_LOADS);
	if (ph->p_filesz > ph->p_memsz || !in_file(img, ph->p_offset, ph->p_filesz))
		errx(TENDER_EXIT, "%s: segment at 0x%lx lies outside the file", f, v);
	if (v < NABLA_BOOT_ADDR + NABLA_BOOT_SIZE)
		errx(TENDER_EXIT, "%s: segment at 0x%lx lies below guest memory or on its boot page (segments start at 0x%lx or above)",
		     f, v, NABLA_BOOT_ADDR + NABLA_BOOT_SIZE);
	if (ph->p_memsz > GUEST_LIMIT || v > GUEST_LIMIT - ph->p_memsz)
		errx(TENDER_EXIT, "%s: segment at 0x%lx lies beyond the largest guest memory (%d MiB)", f, v, NABLA_MEM_MAX_MIB);
	if ((ph->p_flags & PF_W) && (ph->p_flags & PF_X))
		errx(TENDER_EXIT, "%s: segment at 0x%lx is both writable and executable (W^X)", f, v);
	struct elf_load *l = &img->loads[img->nloads];
	*l = (struct elf_load){ v, ph->p_memsz, ph->p_offset, ph->p_filesz,
				((ph->p_flags & PF_R) ? PROT_READ : 0) | ((ph->p_flags & PF_W) ? PROT_WRITE : 0) |
					((ph->p_flags & PF_X) ? PROT_EXEC : 0) };
	for (int i = 0; i < img->nloads; i++) {
		const struct elf_load *o = &img->loads[i];
		if (align_down(v, PAGE_SIZE) < align_up(o->vaddr + o->memsz, PAGE_SIZE) &&
		    align_down(o->vaddr, PAGE_SIZE) < align_up(v + ph->p_memsz, PAGE_SIZE))
			errx(TENDER_EXIT, "%s: segments at 0x%lx and 0x%lx share a page", f, o->vaddr, v);
	}
	if (align_up(v + ph->p_memsz, PAGE_SIZE) > img->image_end)
		img->image_end = align_up(v + ph->p_memsz, PAGE_SIZE);
	if (img->phdr == 0 && ph->p_offset <= img->phdr_off && img->phdr_off - ph->p_offset < ph->p_filesz &&
	    img->phnum * sizeof(Elf64_Phdr) <= ph->p_filesz - (img->phdr_off - ph->p_offset))
		img->phdr = v + (img->phdr_off - ph->p_offset);
	img->nloads++;
}

/* PT_INTERP's path, kept for core.c's messages. */
static void read_interp(struct elf_image *img, const Elf64_Phdr *ph)
{
	if (!in_file(img, ph->p_offset, ph->p_filesz) || ph->p_filesz < 2 || ph->p_filesz > sizeof img->interp ||
	    img->file[ph->p_offset + ph->p_filesz - 1] != 0)
		errx(TENDER_EXIT, "%s: malformed PT_INTERP", img->path);
	memcpy(img->interp, img->file + ph->p_offset, ph->p_filesz);
}

/* An ET_DYN image's bias: its lowest PT_LOAD page goes to base (2 MiB aligned, so a segment
 * keeps a large p_align's alignment), or it stays where it is linked when that is higher.
 * Each p_vaddr and p_memsz is first bounded by the guest region, so no sum below wraps, and
 * the bias is never negative: every segment ends up at or above base, and check_load still
 * checks each one against the region. */
static uint64_t dyn_bias(const struct elf_image *img, const Elf64_Ehdr *eh, uint64_t base)
{
	uint64_t lo = GUEST_LIMIT;
	for (int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, img->file + eh->e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_vaddr > GUEST_LIMIT || ph.p_memsz > GUEST_LIMIT - ph.p_vaddr)
			errx(TENDER_EXIT, "%s: segment at 0x%lx (0x%lx bytes) lies beyond the largest guest memory (%d MiB)", img->path,
			     ph.p_vaddr, ph.p_memsz, NABLA_MEM_MAX_MIB);
		if (ph.p_vaddr < lo)
			lo = ph.p_vaddr;
	}
	if (lo == GUEST_LIMIT)
		errx(TENDER_EXIT, "%s: no PT_LOAD segment", img->path);
	lo = align_down(lo, DYN_ALIGN);
	return lo < base ? base - lo : 0;
}

/* role ELF_PROGRAM: ET_EXEC at its link addresses, or ET_DYN placed at dyn_base (0: ET_DYN is
 * refused, as for a unikernel or a libOS). ELF_LOADER: ET_DYN placed at dyn_base, no PT_INTERP. */
void elf_open(struct elf_image *img, const char *path, enum elf_role role, uint64_t dyn_base)
{
	const char *f = path;
	*img = (struct elf_image){ .path = path, .fd = -1 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		err(TENDER_EXIT, "%s: cannot open", f);
	if (fstat(fd, &st) < 0)
		err(TENDER_EXIT, "%s: fstat failed", f);
	if (!S_ISREG(st.st_mode))
		errx(TENDER_EXIT, "%s: not a regular file", f);
	if ((size_t)st.st_size < sizeof(Elf64_Ehdr))
		errx(TENDER_EXIT, "%s: not an ELF file (too short)", f);
	img->file_size = st.st_size;
	img->mtime = st.st_mtime;
	img->file = mmap(NULL, img->file_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img->file == MAP_FAILED)
		err(TENDER_EXIT, "%s: mmap of the file failed", f);
	img->fd = fd;

	Elf64_Ehdr eh;
	memcpy(&eh, img->file, sizeof eh);
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		errx(TENDER_EXIT, "%s: not an ELF file", f);
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		errx(TENDER_EXIT, "%s: not a 64-bit little-endian ELF file", f);
	if (eh.e_machine != EM_X86_64)
		errx(TENDER_EXIT, "%s: built for another architecture (ELF machine %u), not x86-64", f, eh.e_machine);
	int loader = role == ELF_LOADER;
	if (loader && eh.e_type != ET_DYN)
		errx(TENDER_EXIT, "%s: not a dynamic loader (ELF type %u, not ET_DYN)", f, eh.e_type);
	if (!loader && eh.e_type == ET_DYN && !dyn_base)
		errx(TENDER_EXIT, "%s: position-independent (ET_DYN); link the unikernel with -static -no-pie "
				  "(a PIE Linux program runs with --libos=PATH)",
		     f);
	if (!loader && eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		errx(TENDER_EXIT, "%s: not an executable (ELF type %u)", f, eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64 ||
	    !in_file(img, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr)))
		errx(TENDER_EXIT, "%s: bad program header table", f);
	uint64_t bias = eh.e_type == ET_DYN ? dyn_bias(img, &eh, dyn_base) : 0;
	if (eh.e_entry > GUEST_LIMIT)
		errx(TENDER_EXIT, "%s: entry point 0x%lx is not in an executable segment", f, eh.e_entry);
	img->entry = eh.e_entry + bias;
	img->bias = bias;
	img->phnum = eh.e_phnum;
	img->phdr_off = eh.e_phoff;

	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, img->file + eh.e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_type == PT_INTERP && loader)
			errx(TENDER_EXIT, "%s: a dynamic loader that asks for a loader of its own (PT_INTERP)", f);
		else if (ph.p_type == PT_INTERP)
			read_interp(img, &ph);
		else if (ph.p_type == PT_LOAD)
			check_load(img, &ph, bias);
		else if (ph.p_type == PT_NOTE)
			read_note(img, &ph);
	}
	if (img->nloads == 0)
		errx(TENDER_EXIT, "%s: no PT_LOAD segment", f);
	if (img->phdr == 0)
		errx(TENDER_EXIT, "%s: program headers are not in a loaded segment (needed for AT_PHDR)", f);
	int entry_ok = 0;
	for (int i = 0; i < img->nloads; i++) {
		const struct elf_load *l = &img->loads[i];
		entry_ok |= (l->prot & PROT_EXEC) && img->entry >= l->vaddr && img->entry - l->vaddr < l->memsz;
	}
	if (!entry_ok)
		errx(TENDER_EXIT, "%s: entry point 0x%lx is not in an executable segment", f, img->entry);
}

/* Is [addr, addr+len) inside one segment with at least the protections in prot? */
static int in_segment(const struct elf_image *img, uint64_t addr, uint64_t len, int prot)
{
	for (int i = 0; i < img->nloads; i++) {
		const struct elf_load *l = &img->loads[i];
		if ((l->prot & prot) == prot && addr >= l->vaddr && len <= l->memsz && addr - l->vaddr <= l->memsz - len)
			return 1;
	}
	return 0;
}

/* The libOS's note must point at its own code and data: the tender wires a signal handler,
 * a signal stack and the filter's allowed range to these addresses. */
void elf_check_note(const struct elf_image *img)
{
	const struct nabla_note *n = &img->note;
	const char *f = img->path;
	if (n->hypercall_end <= n->hypercall_start ||
	    !in_segment(img, n->hypercall_start, n->hypercall_end - n->hypercall_start, PROT_EXEC))
		errx(TENDER_EXIT, "%s: NABLA note: the hypercall code is not inside an executable segment", f);
	/* The filter sees the address after a `syscall` instruction: (start, end] must share
	 * its upper 32 bits, as BPF compares 32 bits at a time. */
	if (n->hypercall_start >> 32 != n->hypercall_end >> 32)
		errx(TENDER_EXIT, "%s: NABLA note: the hypercall code crosses a 4 GiB boundary", f);
	if (!in_segment(img, n->trap_handler, 1, PROT_EXEC))
		errx(TENDER_EXIT, "%s: NABLA note: the trap handler is not in an executable segment", f);
	if (n->trap_restorer < n->hypercall_start || n->trap_restorer >= n->hypercall_end)
		errx(TENDER_EXIT, "%s: NABLA note: the trap restorer is not in the hypercall code", f);
	if (n->trap_stack_size < TRAP_STACK_MIN || n->trap_stack % 16 ||
	    !in_segment(img, n->trap_stack, n->trap_stack_size, PROT_READ | PROT_WRITE))
		errx(TENDER_EXIT, "%s: NABLA note: the trap stack is not a writable, aligned area of at least %lu bytes", f,
		     TRAP_STACK_MIN);
}

/* Two images loaded side by side must not share a page. */
void elf_check_apart(const struct elf_image *a, const struct elf_image *b)
{
	for (int i = 0; i < a->nloads; i++)
		for (int j = 0; j < b->nloads; j++) {
			const struct elf_load *x = &a->loads[i], *y = &b->loads[j];
			if (align_down(x->vaddr, PAGE_SIZE) < align_up(y->vaddr + y->memsz, PAGE_SIZE) &&
			    align_down(y->vaddr, PAGE_SIZE) < align_up(x->vaddr + x->memsz, PAGE_SIZE))
				errx(TENDER_EXIT, "%s (0x%lx..0x%lx) and %s (0x%lx..0x%lx) overlap", a->path, x->vaddr,
				     x->vaddr + x->memsz, b->path, y->vaddr, y->vaddr + y->memsz);
		}
}

/* The smallest --mem (MiB) that holds the image below the stack, or 0 when none does. */
uint64_t elf_min_mem_mib(uint64_t image_end)
{
	for (uint64_t m = NABLA_MEM_MIN_MIB; m <= NABLA_MEM_MAX_MIB; m++)
		if (image_end <= NABLA_GUEST_BASE + m * MIB - stack_size_for(m * MIB))
			return m;
	return 0;
}

/* The program's file stays mapped (read-only, private) for the guest to read itself
 * (nabla_boot.exe_*): no fd and no host call after the filter, only page faults on a file
 * mapping, as the tender's own text takes. The whole file is read into the page cache
 * first (warm.c), and the pages the tender touched leave its RSS; the guest faults back in
 * what it reads. */
void elf_keep_for_guest(const struct elf_image *img, struct nabla_boot *boot)
{
	page_cache_warm(img->file, img->file_size, img->path);
	boot->exe_addr = (uint64_t)img->file;
	boot->exe_size = img->file_size;
	boot->exe_mtime = img->mtime;
}

void elf_close(struct elf_image *img)
{
	if (img->fd >= 0)
		close(img->fd);
	img->fd = -1;
	if (munmap((void *)img->file, img->file_size) < 0)
		err(TENDER_EXIT, "munmap(%s) failed", img->path);
	img->file = NULL;
}
