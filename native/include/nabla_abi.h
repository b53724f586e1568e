/*
 * nabla_abi.h — the contract between the tender (nabla-run) and a unikernel.
 * Self-contained and versioned: the tender refuses a unikernel whose ABI note differs.
 *
 * A unikernel is a static, non-PIE x86-64 ELF whose PT_LOAD segments lie inside the guest
 * region, in one of two forms:
 *   relinked: app + libOS-musl + libOS in one ELF (`nabla-run APP`);
 *   beside:   any static Linux program (a Go binary) and the libOS as its own ELF, linked
 *             at NABLA_LIBOS_BASE (`nabla-run --libos=LIBOS APP`); here APP may also be a
 *             PIE, or dynamically linked with its loader (--interp), placed by the tender.
 * The ELF holding the libOS carries a note (section .note.nabla, name "NABLA", type
 * NABLA_NOTE_ABI, desc: struct nabla_note) saying where its hypercall code, SIGSYS
 * handler and signal stack are.
 *
 * Boot: the tender maps the region, copies the segments, writes a struct nabla_boot at
 * NABLA_BOOT_ADDR, builds a Linux initial stack (argc, argv, envp, auxv) at the top of
 * the region, installs its seccomp filter and enters the ELF entry with
 *   %rdi = NABLA_BOOT_ADDR, %rsp = the initial stack, every other register zero,
 * by rt_sigreturn through trap_restorer (so it must be `mov $15, %eax; syscall`), which
 * also unblocks the signals routed to trap_handler: none reaches it before the filter.
 * The entry (libOS `_nabla_start`) keeps %rdi and hands the stack to libc's _start.
 *
 * The libOS's entry (`_nabla_start`) keeps %rdi, sets itself up and hands the stack to
 * boot->app_entry, or to libc's _start when that is 0 (relinked).
 *
 * Host calls ("hypercalls") are plain Linux syscalls made from the libOS's hypercall code
 * [hypercall_start, hypercall_end): the filter allows there only those listed in the
 * tender's policy (`nabla-run --print-policy`), with the fds below pinned, and kills on
 * anything else. A syscall made anywhere else (code that was not relinked) is trapped:
 * SIGSYS goes to trap_handler on trap_stack, which serves it in the libOS and returns to
 * the app with rt_sigreturn from the hypercall code. The same handler gets the preemption
 * tick (SIGVTALRM), the signals a container is sent, and the guest's faults (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGTRAP, with SA_NODEFER): it must end the process on a fault
 * it cannot give the app, never return into it.
 *
 * Memory: the host caps what the guest can use, whatever the guest does. The tender maps the
 * region PROT_NONE (with as much again above it, reserved PROT_NONE), and makes only the boot
 * page, the segments and the main stack accessible. The heap, [PAGE_UP(image_end),
 * stack_top), is the libOS's to give out: two hypercalls, pinned to that range, make pages
 * usable (mprotect to PROT_READ|PROT_WRITE, with PROT_EXEC under NABLA_BOOT_EXEC_HEAP) and
 * give them back to the host (mmap PROT_NONE, MAP_FIXED, which frees them and makes them read
 * as zero when made usable again). The tender sets RLIMIT_DATA so that no more than the
 * guest's share of mem_size can be writable at once (nabla_heap_budget): the kernel refuses
 * the mprotect past it. Only mprotect can make pages usable; mmap can only take them away.
 * Under NABLA_BOOT_FLAT_HEAP neither call is allowed: the tender makes [PAGE_UP(image_end),
 * + nabla_heap_budget) read-write before the filter, and that window is all the heap there is.
 */
#ifndef NABLA_ABI_H
#define NABLA_ABI_H

#define NABLA_ABI_VERSION 7 /* 3: NABLA_BOOT_FS_HOST_CALL; 4: faults to trap_handler, entry by rt_sigreturn, exe_*; \
			       5: the heap starts PROT_NONE, made usable by hypercall; 6: hostname, etc_*, dns_*; \
			       7: NABLA_BOOT_FLAT_HEAP, disk_addr */

#define NABLA_NOTE_NAME "NABLA"
#define NABLA_NOTE_ABI 1

/* The guest region starts at 1 MiB; apps are linked at the usual 0x400000, a libOS beside
 * the app at 2 MiB (it must end below the app). */
#define NABLA_GUEST_BASE 0x100000UL
#define NABLA_LIBOS_BASE 0x200000UL
/* Address space beyond --mem: room for reservations (PROT_NONE mappings, e.g. Go's heap
 * index) that cost no memory. Only mappings the guest can use count against --mem. */
#define NABLA_VA_EXTRA (4UL << 30)
/* One page at the start of the region holds struct nabla_boot and the strings it points to
 * (cwd, exe_path, hostname); the guest may read it, not write it. */
#define NABLA_BOOT_ADDR NABLA_GUEST_BASE
#define NABLA_BOOT_SIZE 0x1000UL

#define NABLA_MEM_MIN_MIB 8
#define NABLA_MEM_MAX_MIB (64 * 1024)

/* Host fds the guest may use (see the policy); fd 0 is closed, stdin is the libOS's. */
#define NABLA_CONSOLE_OUT 1
#define NABLA_CONSOLE_ERR 2

#define NABLA_BOOT_EXEC_HEAP (1u << 0) /* --x-exec-heap: free memory is executable (JITs) */
/* How the libOS sets a thread's FS base (TLS pointer) at a thread switch or arch_prctl.
 * Clear: with the wrfsbase instruction, no host call (the CPU and kernel have FSGSBASE).
 * Set: with the hypercall arch_prctl(NABLA_ARCH_SET_FS, addr), which the filter allows
 * with that first argument only; the libOS keeps the value itself (no ARCH_GET_FS on the
 * host). The tender sets it where the CPU lacks FSGSBASE, or when told to (--fs-base). */
#define NABLA_BOOT_FS_HOST_CALL (1u << 1)
#define NABLA_ARCH_SET_FS 0x1002 /* ARCH_SET_FS from Linux's asm/prctl.h */
/* --heap=flat: the tender makes the guest's whole heap budget read-write before the filter
 * (nabla_heap_budget bytes from the heap's start) and leaves mprotect and mmap out of it;
 * the libOS gives memory out of that window with no host call. */
#define NABLA_BOOT_FLAT_HEAP (1u << 2)

/* The fast call (libOS syscall.c): a program that was not relinked may call the libOS's
 * system call code as a function instead of trapping into it. A trapped system call of
 * this number (none of Linux's, which answers ENOSYS or Docker's EPERM) answers the
 * function's address; the function answers NABLA_FASTCALL_SLOW for a call it does not
 * take, which the caller then makes as a system call. */
#define NABLA_SYS_FASTCALL 0x4e41
#define NABLA_FASTCALL_SLOW (-4096L)

/* Assembly (the note, _nabla_start) may use NABLA_ABI_VERSION and NABLA_NOTE_ABI; the rest is C. */
#ifndef __ASSEMBLER__
#include <stdint.h>

/* The note's desc: where the libOS keeps what the tender wires up before the filter. */
struct nabla_note {
	uint32_t abi_version; /* NABLA_ABI_VERSION */
	uint32_t reserved; /* 0 */
	uint64_t hypercall_start; /* code allowed to make host calls: [start, end), executable, */
	uint64_t hypercall_end; /* inside one 4 GiB window (the filter compares 32 bits) */
	uint64_t trap_handler; /* SIGSYS handler (SA_SIGINFO) for trapped syscalls */
	uint64_t trap_restorer; /* SA_RESTORER, inside the hypercall code */
	uint64_t trap_stack; /* the handler's signal stack (sigaltstack), writable */
	uint64_t trap_stack_size;
};

struct nabla_boot {
	uint32_t abi_version; /* NABLA_ABI_VERSION */
	uint32_t flags; /* NABLA_BOOT_* */
	uint64_t mem_base; /* == NABLA_GUEST_BASE */
	uint64_t mem_size; /* bytes the guest may use (mapped readable or writable) */
	uint64_t va_size; /* bytes of address space: the region is [mem_base, +va_size) */
	uint64_t image_end; /* first byte after the highest PT_LOAD segment (page aligned) */
	uint64_t stack_top; /* == mem_base + va_size; the initial stack sits just below */
	uint64_t stack_size; /* bytes reserved for the main thread's stack below stack_top:
				8 MiB, or mem_size / 4 when that is smaller; its
				lowest page is a PROT_NONE guard */
	int32_t disk_fd; /* -1: since ABI 7 the disk is disk_addr; the tender closes its fd */
	int32_t net_fd; /* tap (read/write), or -1 */
	uint64_t disk_size; /* bytes */
	uint8_t seed[32]; /* from the host's getrandom before the filter: the libOS CSPRNG key */
	uint64_t cwd; /* guest address of a NUL-terminated working directory */
	uint64_t app_entry; /* where the libOS hands over: the app's ELF entry, or 0 for
			       libc's _start linked with the libOS */
	/* The network (--net), when net_fd >= 0: an Ethernet tap, O_NONBLOCK, one frame per
	 * read/write; net_wait_fd is an epoll set watching it for input (epoll_pwait only).
	 * Addresses are IPv4 in network byte order. */
	int32_t net_wait_fd; /* or -1 */
	uint32_t net_ip;
	uint32_t net_mask;
	uint32_t net_gw; /* 0: no default route */
	uint8_t net_mac[6]; /* the unikernel's own MAC */
	uint16_t net_mtu; /* the tap's MTU (bytes of IP packet) */
	/* The program's own file (the unikernel; beside a libOS: the app), kept mapped read-only
	 * by the tender outside the guest region, so the guest can read itself (/proc/self/exe)
	 * with no host call. exe_size 0: none. */
	uint64_t exe_addr;
	uint64_t exe_size; /* bytes */
	uint64_t exe_path; /* guest address of its NUL-terminated absolute path, on the boot page */
	int64_t exe_mtime; /* seconds since the epoch */
	/* The container's own name and files, which the runtime writes for each container
	 * (Docker, Kubernetes: /etc/hostname, /etc/hosts, /etc/resolv.conf): the guest sees them
	 * in place of the image's. Read by the tender before the filter, kept read-only outside
	 * the guest region like the exe. etc_count 0: none. */
	uint64_t hostname; /* guest address of a NUL-terminated name on the boot page, or 0 */
	uint64_t etc_files; /* address of etc_count struct nabla_file */
	uint64_t etc_count;
	/* With a network whose DNS server is on the container's loopback (Docker's 127.0.0.11):
	 * a UDP socket connected to it, O_NONBLOCK, in net_wait_fd's set, one DNS message per
	 * read or write (the libOS relays the guest's queries to dns_ip:53 over it); else -1. */
	int32_t dns_fd;
	uint32_t dns_ip; /* network byte order */
	/* The rootfs (--disk, a tar: disk_size bytes) mapped read-only by the tender outside the
	 * guest region; no host call reads it, and a write to it faults. 0 (with disk_size 0):
	 * no disk, or an empty one. */
	uint64_t disk_addr;
};
/* One file the tender hands over: an absolute path and the bytes, both read-only. */
struct nabla_file {
	uint64_t path; /* NUL-terminated */
	uint64_t data;
	uint64_t size;
	int64_t mtime; /* seconds since the epoch */
};

/* The MAP_* flags of the one mmap the guest may make: PROT_NONE over its own heap. */
#define NABLA_RELEASE_FLAGS 0x4032 /* MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE */

/* The libOS's page maps at the bottom of the heap: four bits per heap page, each map whole pages. */
static inline uint64_t nabla_heap_maps_size(uint64_t heap_bytes)
{
	uint64_t pages = heap_bytes / 0x1000, bytes = (pages + 63) / 64 * 8;
	return 4 * ((bytes + 0xfff) & ~0xfffUL);
}

/* How much of the heap the guest may have usable at once: --mem less the images and the main
 * stack (they count against it too), plus the libOS's page maps. They map the whole heap, or
 * under NABLA_BOOT_FLAT_HEAP only the guest's share: there the budget is the window itself,
 * [heap start, + budget), read-write from boot. */
static inline uint64_t nabla_heap_budget(const struct nabla_boot *b)
{
	uint64_t heap_start = (b->image_end + 0xfff) & ~0xfffUL, heap_end = b->stack_top - b->stack_size;
	uint64_t fixed = b->image_end - b->mem_base + b->stack_size;
	uint64_t share = b->mem_size > fixed ? (b->mem_size - fixed) & ~0xfffUL : 0;
	uint64_t mapped = b->flags & NABLA_BOOT_FLAT_HEAP ? share : heap_end > heap_start ? heap_end - heap_start :
											    0;
	return share + (mapped ? nabla_heap_maps_size(mapped) : 0);
}

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
/* Changing the layout means a new NABLA_ABI_VERSION. */
_Static_assert(sizeof(struct nabla_note) == 56, "struct nabla_note layout is ABI");
_Static_assert(sizeof(struct nabla_boot) == 216, "struct nabla_boot layout is ABI");
_Static_assert(sizeof(struct nabla_file) == 32, "struct nabla_file layout is ABI");
#endif
#endif /* __ASSEMBLER__ */

#endif /* NABLA_ABI_H */
