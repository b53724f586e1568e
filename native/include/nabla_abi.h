/*
 * nabla_abi.h — the contract between the tender (nabla-run) and a unikernel.
 * Self-contained and versioned: the tender refuses a unikernel whose ABI note differs.
 *
 * A unikernel is a static, non-PIE x86-64 ELF (app + libOS-musl + libOS) whose PT_LOAD
 * segments lie inside the guest region [NABLA_GUEST_BASE, NABLA_GUEST_BASE + mem). It
 * carries a note (section .note.nabla, name "NABLA", type NABLA_NOTE_ABI, desc: one
 * uint32_t = NABLA_ABI_VERSION).
 *
 * Boot: the tender maps the region, copies the segments, writes a struct nabla_boot at
 * NABLA_BOOT_ADDR, builds a Linux initial stack (argc, argv, envp, auxv) at the top of
 * the region, installs its seccomp filter and jumps to the ELF entry with
 *   %rdi = NABLA_BOOT_ADDR, %rsp = the initial stack, every other register zero.
 * The entry (libOS `_nabla_start`) keeps %rdi and hands the stack to libc's _start.
 *
 * Host calls ("hypercalls") are plain Linux syscalls made by the libOS; the filter allows
 * only those listed in the tender's policy (`nabla-run --print-policy`), with the fds
 * below pinned. Anything else kills the process.
 */
#ifndef NABLA_ABI_H
#define NABLA_ABI_H

#define NABLA_ABI_VERSION 1

#define NABLA_NOTE_NAME "NABLA"
#define NABLA_NOTE_ABI 1

/* The guest region starts at 1 MiB; unikernels are linked at the usual 0x400000. */
#define NABLA_GUEST_BASE 0x100000UL
/* One page at the start of the region holds struct nabla_boot and the strings it points to;
 * the guest may read it, not write it. */
#define NABLA_BOOT_ADDR NABLA_GUEST_BASE
#define NABLA_BOOT_SIZE 0x1000UL

#define NABLA_MEM_MIN_MIB 8
#define NABLA_MEM_MAX_MIB (64 * 1024)

/* Host fds the guest may use (see the policy); fd 0 is closed, stdin is the libOS's. */
#define NABLA_CONSOLE_OUT 1
#define NABLA_CONSOLE_ERR 2

#define NABLA_BOOT_EXEC_HEAP (1u << 0) /* --x-exec-heap: free memory is executable (JITs) */

/* Assembly (the note, _nabla_start) may use NABLA_ABI_VERSION and NABLA_NOTE_ABI; the rest is C. */
#ifndef __ASSEMBLER__
#include <stdint.h>

struct nabla_boot {
    uint32_t abi_version;   /* NABLA_ABI_VERSION */
    uint32_t flags;         /* NABLA_BOOT_* */
    uint64_t mem_base;      /* == NABLA_GUEST_BASE */
    uint64_t mem_size;      /* bytes */
    uint64_t image_end;     /* first byte after the highest PT_LOAD segment (page aligned) */
    uint64_t stack_top;     /* highest stack address; the initial stack sits just below */
    uint64_t stack_size;    /* bytes reserved for the main thread's stack below stack_top:
                               8 MiB, or mem_size / 4 when that is smaller; its
                               lowest page is a PROT_NONE guard */
    int32_t disk_fd;        /* read-only rootfs.tar (pread64 only), or -1 */
    int32_t net_fd;         /* tap (read/write), or -1 */
    uint64_t disk_size;     /* bytes */
    uint8_t seed[32];       /* from the host's getrandom before the filter: the libOS CSPRNG key */
    uint64_t cwd;           /* guest address of a NUL-terminated working directory */
};

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
/* Changing the layout means a new NABLA_ABI_VERSION. */
_Static_assert(sizeof(struct nabla_boot) == 104, "struct nabla_boot layout is ABI");
#endif
#endif /* __ASSEMBLER__ */

#endif /* NABLA_ABI_H */
