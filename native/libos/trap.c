/*
 * The trap path: a system call made by code that was not relinked (a Go binary, a raw
 * `syscall` instruction) is stopped by the tender's filter and arrives here as SIGSYS, on
 * the trap stack. The handler copies the signal frame to the top of the thread's own libOS
 * stack, serves the call there with the same libos_syscall() as the relink path (so it may
 * block and switch threads), writes the result into the saved %rax and returns to the app
 * with rt_sigreturn from the hypercall code, the one place the filter lets it through.
 *
 * Preemption comes the same way: the tender's CPU-time timer sends SIGVTALRM every 10 ms
 * of the guest's running time; when it finds the app's code running (not the libOS's),
 * the handler saves the thread's frame the same way, runs the handlers of pending
 * signals (a relinked app's loop that makes no calls still gets them) and lets the other
 * threads run. Any other signal is one the container got (docker stop): signal.c.
 *
 * A program that was not relinked gets its signal handlers run the kernel's way: when one
 * of its calls returns or a tick finds it running, a signal frame (registers, FPU state,
 * siginfo, the mask to restore) goes on its signal stack and the thread returns into the
 * handler, which returns to its restorer; that restorer's rt_sigreturn is trapped here and
 * loads the frame back. A call cut short by the signal is restarted with SA_RESTART the
 * way Linux does it: the frame goes back to the syscall instruction.
 *
 * Faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP from the CPU) come here too. One in the
 * app's code goes to the app's handler at once, with the kernel's siginfo and registers
 * (trapno, err, cr2), on its signal stack, relinked app or not (a relinked app's handler
 * returns through fault_restorer); without a handler, or blocked, the process dies by it.
 * One in the libOS's own code (or on the trap stack, or in the hypercall code) is the
 * libOS's bug, or the app's corruption of it: one line, and the process dies by it.
 */
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>

#include "libos.h"

/* The kernel's signal frame (arch/x86/include/uapi/asm/sigcontext.h, ucontext.h). */
struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate; /* the xsave area, 64-byte aligned */
	uint64_t reserved[8];
};
struct k_ucontext {
	uint64_t flags, link;
	struct {
		uint64_t sp;
		int32_t flags, pad;
		uint64_t size;
	} stack;
	struct k_sigcontext mc;
	uint64_t sigmask;
};
struct k_siginfo {
	int32_t signo, errno_, code, pad;
	int32_t pid, uid;
	uint8_t rest[104];
};
struct k_siginfo_sys {
	int32_t signo, errno_, code, pad;
	uint64_t call_addr;
	int32_t syscall;
	uint32_t arch;
};
#define SYS_SECCOMP 1
#define SIGILL_ 4
#define SIGTRAP_ 5
#define SIGBUS_ 7
#define SIGFPE_ 8
#define SIGSEGV_ 11
#define SIGSYS_ 31
#define SIGVTALRM_ 26
#define USER_CS 0x33 /* Linux's 64-bit user code and data segments: handlers run there */
#define USER_DS 0x2b
#define USER_EFLAGS 0x40cd5UL /* CF PF AF ZF SF DF OF AC: what a frame may change; never TF, IF, IOPL */
#define EFLAGS_TF 0x100UL
#define TRAP_STACK_SIZE (32 * 1024) /* start.S */
#define FP_XSTATE_MAGIC1 0x46505853U
#define FXSAVE_SIZE 512
#define FPSTATE_MAX (12 * 1024) /* AVX-512 needs 2.7 KiB, AMX 11 KiB */
#define SA_ONSTACK_ 0x08000000UL
#define SA_RESTART_ 0x10000000UL
#define EFLAGS_DF 0x400UL
#define SYSCALL_INSN_SIZE 2 /* 0f 05 */

/* switch.S: run fn(arg) on another stack. */
_Noreturn void call_on_stack(void *sp, void (*fn)(void *), void *arg);

static size_t fpstate_size(const uint8_t *fp)
{
	uint32_t magic, size;
	memcpy(&magic, fp + 464, 4); /* struct _fpx_sw_bytes in the fxsave area's unused tail */
	memcpy(&size, fp + 468, 4);
	if (magic != FP_XSTATE_MAGIC1) return FXSAVE_SIZE;
	if (size < FXSAVE_SIZE || size > FPSTATE_MAX) libos_panic("trap: unexpected xsave area size");
	return size;
}

/* Where frame_copy puts a copy of uc below top (registers, then the FPU state above them). */
static struct k_ucontext *frame_place(uint8_t *top, const struct k_ucontext *uc)
{
	const uint8_t *fp = (const uint8_t *)uc->mc.fpstate;
	uintptr_t fp_copy = ((uintptr_t)top - (fp ? fpstate_size(fp) : 0)) & ~(uintptr_t)63;
	return (struct k_ucontext *)((fp_copy - sizeof(struct k_ucontext)) & ~(uintptr_t)15);
}

/* Copies a signal frame (registers + FPU state) below top; returns the copy. */
static struct k_ucontext *frame_copy(uint8_t *top, const struct k_ucontext *uc)
{
	const uint8_t *fp = (const uint8_t *)uc->mc.fpstate;
	size_t fp_size = fp ? fpstate_size(fp) : 0;
	uint8_t *fp_copy = (uint8_t *)(((uintptr_t)top - fp_size) & ~(uintptr_t)63);
	struct k_ucontext *copy = frame_place(top, uc);
	memcpy(copy, uc, sizeof *copy);
	if (fp) memcpy(fp_copy, fp, fp_size);
	copy->mc.fpstate = fp ? (uint64_t)fp_copy : 0;
	return copy;
}

/* The libOS's stack for serving a call, below a frame copy (and rt_sigreturn's 8-byte
 * return-address slot under it), 16-aligned for the call. */
static void *stack_below(struct k_ucontext *frame)
{
	return (void *)(((uintptr_t)frame - 64) & ~(uintptr_t)15);
}

/* clone(flags, stack, ptid, ctid, tls) from the app: a green thread that starts by
 * returning from this same syscall with %rax = 0 on the given stack, as a Linux child does. */
static long trap_clone(struct k_ucontext *parent)
{
	const struct k_sigcontext *r = &parent->mc;
	uint8_t *kstack = mem_try_alloc(KSTACK_SIZE);
	if (!kstack) return -ENOMEM;
	struct k_ucontext *child = frame_copy(kstack + KSTACK_SIZE, parent);
	child->mc.rax = 0;
	if (r->rsi) child->mc.rsp = r->rsi;
	/* No function to run: thread_main sees the resume frame and returns to the app. */
	int tid = libos_clone(0, stack_below(child), (int)r->rdi, 0, (int *)r->rdx, (void *)r->r8, (int *)r->r10);
	if (tid < 0) mem_free(kstack, KSTACK_SIZE);
	else sched_set_trap_child(tid, kstack, child);
	return tid;
}

/* Where the thread's signal frame goes: on its signal stack when the handler asks for it
 * and the thread is not on it already, else below the interrupted stack's red zone. */
static uintptr_t frame_stack(const struct k_sigcontext *r, unsigned long flags)
{
	const struct thread_signals *t = sched_signals();
	int on_altstack = r->rsp > t->altstack_sp && r->rsp <= t->altstack_sp + t->altstack_size;
	if (flags & SA_ONSTACK_ && t->altstack_sp && !on_altstack) return t->altstack_sp + t->altstack_size;
	return r->rsp - 128;
}

/* The hypercall code (the linker names its bounds), the trap stack (start.S) and, when the
 * libOS is an ELF of its own, its image; weak: the native tests have none of them. */
extern const char __start_nabla_hypercall[] __attribute__((weak));
extern const char __stop_nabla_hypercall[] __attribute__((weak));
extern char trap_stack[] __attribute__((weak));
extern const char __executable_start[] __attribute__((weak));
extern const char _etext[] __attribute__((weak));
extern char _end[] __attribute__((weak));

static int in_hypercalls(uintptr_t ip)
{
	return ip >= (uintptr_t)__start_nabla_hypercall && ip < (uintptr_t)__stop_nabla_hypercall;
}

/* (uc_stack.ss_flags would not tell: Linux saves the configured flags there, not whether
 * the interrupted code ran on the signal stack.) */
static int on_trap_stack(uintptr_t sp)
{
	return sp > (uintptr_t)trap_stack && sp <= (uintptr_t)trap_stack + TRAP_STACK_SIZE;
}

/* May a signal frame go at [lo, hi), below the stack pointer sp it was placed from?
 * Inside guest memory, not over the trap stack or, beside a program, the libOS's own image
 * (an app's sigaltstack may point anywhere), and not across the main stack's guard page
 * (an overflow without a signal stack: Linux finds no memory there either). */
static int frame_fits(uintptr_t lo, uintptr_t hi, uintptr_t sp)
{
	const struct nabla_boot *b = libos_boot;
	uintptr_t guard = b->stack_top - b->stack_size;
	if (lo < b->mem_base + NABLA_BOOT_SIZE || hi > b->stack_top || lo >= hi) return 0;
	if (lo < guard + PAGE_SIZE && (sp > hi ? sp : hi) > guard) return 0;
	if (lo < (uintptr_t)trap_stack + TRAP_STACK_SIZE && hi > (uintptr_t)trap_stack) return 0;
	return signal_relinked() || lo >= (uintptr_t)_end || hi <= (uintptr_t)__executable_start;
}

/* Set while a frame is written to the app's stack: a fault then means that stack is bad. */
static volatile int frame_building;

/* Turns the frame the thread returns with into a call of the handler, as the kernel
 * does: siginfo (the kernel's for a fault, else a sent signal's), the interrupted
 * registers and FPU state and the old mask go on the app's stack, the saved frame right
 * above the return address of its restorer (where its rt_sigreturn finds it). A frame
 * that cannot go there ends the process with SIGSEGV, as Linux does. */
static void push_signal_frame(struct k_ucontext *uc, const struct signal_delivery *d, const struct k_siginfo *fault_info)
{
	struct k_sigcontext *r = &uc->mc;
	uintptr_t top = frame_stack(r, d->flags);
	struct k_siginfo *info = (struct k_siginfo *)((top - sizeof(struct k_siginfo)) & ~(uintptr_t)15);
	uint64_t *ret_addr = (uint64_t *)frame_place((uint8_t *)info, uc) - 1; /* the handler starts as if called */
	uintptr_t from = top + 128 == r->rsp ? r->rsp : top; /* on the interrupted stack, or a signal stack */
	if (!frame_fits((uintptr_t)ret_addr, top, from)) hc_exit(128 + SIGSEGV_);
	frame_building = 1;
	struct k_ucontext *saved = frame_copy((uint8_t *)info, uc); /* 16-aligned */
	const struct thread_signals *t = sched_signals();
	saved->stack.sp = t->altstack_sp;
	saved->stack.size = t->altstack_size;
	saved->stack.flags = t->altstack_sp ? t->altstack_flags : 2 /* SS_DISABLE */;
	saved->sigmask = d->old_mask;
	saved->mc.oldmask = d->old_mask;
	if (fault_info) {
		memcpy(info, fault_info, sizeof *info);
	} else {
		memset(info, 0, sizeof *info);
		info->signo = d->sig;
		info->code = d->code;
		info->pid = d->pid;
	}
	*ret_addr = (uint64_t)d->restorer;
	frame_building = 0;
	r->rsp = (uint64_t)ret_addr;
	r->rip = (uint64_t)d->handler;
	r->rdi = (uint64_t)d->sig;
	r->rsi = (uint64_t)info;
	r->rdx = (uint64_t)saved;
	r->rax = 0;
	r->eflags &= ~(EFLAGS_DF | EFLAGS_TF);
	r->cs = USER_CS; /* the handler runs as 64-bit code, whatever ran before */
	r->ss = USER_DS;
}

/* The handler's rt_sigreturn (from its restorer: the stack pointer is just past the
 * return address, at the saved frame). Loads what push_signal_frame saved, with the
 * handler's changes: the app's own registers, flags, FPU state and mask; never the
 * segment registers or the FPU area's place. */
static void sigreturn(struct k_ucontext *uc)
{
	const struct k_ucontext *saved = (const struct k_ucontext *)uc->mc.rsp;
	uint64_t fpstate = uc->mc.fpstate;
	uint16_t cs = uc->mc.cs, gs = uc->mc.gs, fs = uc->mc.fs, ss = uc->mc.ss;
	uint64_t eflags = (uc->mc.eflags & ~USER_EFLAGS) | (saved->mc.eflags & USER_EFLAGS);
	memcpy(&uc->mc, &saved->mc, offsetof(struct k_sigcontext, cs));
	uc->mc.eflags = eflags;
	uc->mc.cs = cs, uc->mc.gs = gs, uc->mc.fs = fs, uc->mc.ss = ss;
	uc->mc.fpstate = fpstate;
	if (fpstate && saved->mc.fpstate) {
		size_t ours = fpstate_size((const uint8_t *)fpstate), theirs = fpstate_size((const uint8_t *)saved->mc.fpstate);
		memcpy((void *)fpstate, (const void *)saved->mc.fpstate, ours < theirs ? ours : theirs);
	}
	signal_set_mask(saved->sigmask);
}

/* A program that was not relinked: a signal waiting for one of its handlers is delivered
 * on the way back to it. ret: what the interrupted call returned (-EINTR if cut short). */
static void deliver(struct k_ucontext *uc, long nr, long ret)
{
	struct signal_delivery d;
	if (signal_relinked() || !signal_pending() || !signal_next(&d)) return;
	if (ret == -EINTR && d.flags & SA_RESTART_ && nr >= 0 && syscall_restartable(nr)) {
		uc->mc.rax = (uint64_t)nr; /* the handler returns to the syscall instruction again */
		uc->mc.rip -= SYSCALL_INSN_SIZE;
	}
	push_signal_frame(uc, &d, 0);
}

static _Noreturn void serve(void *frame)
{
	struct k_ucontext *uc = frame;
	struct k_sigcontext *r = &uc->mc;
	long nr = (long)r->rax, ret;
	/* rt_sigreturn and clone go past libos_syscall, which settles for the others (and
	 * leaves an mprotect its pending pages): a guard page faults before either goes on. */
	if (nr == SYS_rt_sigreturn || nr == SYS_clone) mem_settle();
	switch (nr) {
	case SYS_clone: ret = trap_clone(uc); break;
	case SYS_clone3: ret = -ENOSYS; break; /* libcs fall back to clone */
	case SYS_rt_sigreturn:
		sigreturn(uc);
		deliver(uc, -1, 0);
		trap_return(uc, sched_in_libos());
	default: ret = libos_syscall(nr, (long)r->rdi, (long)r->rsi, (long)r->rdx, (long)r->r10, (long)r->r8, (long)r->r9);
	}
	r->rax = (uint64_t)ret;
	deliver(uc, nr, ret);
	trap_return(uc, sched_in_libos());
}

/* The tick found the app's code running: the other threads run, then this one takes
 * its pending signals (a Go thread its preemption request, sent meanwhile). */
static _Noreturn void preempt(void *frame)
{
	libos_syscall(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
	if (signal_pending()) {
		if (signal_relinked()) signal_take(0);
		else deliver(frame, -1, 0);
	}
	trap_return(frame, sched_in_libos());
}

/* Is the app's own code running, so the thread may be switched out here? Not inside the
 * libOS (it may be in the middle of changing its state), not in the hypercall code (in
 * trap_return, the frame it is about to load sits where a new one would be copied), not on
 * the trap stack (another signal's handler has not yet copied its frame away), not before
 * the libOS is up. */
static int preemptible(const struct k_ucontext *uc)
{
	return libos_ready && !in_hypercalls(uc->mc.rip) && !on_trap_stack(uc->mc.rsp) && !*sched_in_libos();
}

/* A relinked app's handler of a fault returns here (its own restorer, libOS-musl's, never
 * runs: see signal.c): the stack pointer is at the frame push_signal_frame saved, maybe
 * changed by the handler. */
void fault_restorer(void);
__asm__(".text\n"
	".global fault_restorer\n"
	".hidden fault_restorer\n"
	".type fault_restorer,@function\n"
	"fault_restorer:\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call fault_sigreturn\n"
	"	ud2\n");

/* The fields of the kernel's frame for the last fault that a relinked app's frame may not
 * choose (its segments, system flags, signal stack, host mask): what fault_sigreturn
 * loads with the app's registers. */
static struct k_ucontext fault_kernel_frame;
static int fault_kernel_frame_set;

/* fault_restorer's work, as sigreturn() does it for a trapped rt_sigreturn: the app's
 * registers, user flags, FPU state and mask from its frame, the rest from the kernel's. */
_Noreturn void fault_sigreturn(const struct k_ucontext *saved);
_Noreturn void fault_sigreturn(const struct k_ucontext *saved)
{
	int *in_libos = sched_in_libos();
	*in_libos = 1;
	if (!fault_kernel_frame_set) libos_panic("a fault handler's return with no fault");
	const struct k_ucontext *k = &fault_kernel_frame;
	struct k_ucontext *frame = frame_copy(sched_kstack_top(), saved);
	frame->flags = k->flags;
	frame->link = 0;
	frame->stack = k->stack;
	frame->sigmask = k->sigmask;
	frame->mc.eflags = (k->mc.eflags & ~USER_EFLAGS) | (saved->mc.eflags & USER_EFLAGS);
	frame->mc.cs = k->mc.cs, frame->mc.gs = k->mc.gs, frame->mc.fs = k->mc.fs, frame->mc.ss = k->mc.ss;
	signal_set_mask(saved->sigmask);
	trap_return(frame, in_libos);
}

static char *put_hex(char *p, uint64_t v)
{
	int shift = 60;
	while (shift > 0 && !(v >> shift & 0xf)) shift -= 4;
	*p++ = '0', *p++ = 'x';
	for (; shift >= 0; shift -= 4) *p++ = "0123456789abcdef"[v >> shift & 0xf];
	return p;
}

/* A fault in the libOS itself: where, in one line, and the process dies by it. */
static _Noreturn void fault_in_libos(int sig, const struct k_siginfo *si, const struct k_ucontext *uc)
{
	static const char *const names[] = { [SIGILL_] = "SIGILL", [SIGTRAP_] = "SIGTRAP", [SIGBUS_] = "SIGBUS", [SIGFPE_] = "SIGFPE", [SIGSEGV_] = "SIGSEGV" };
	uint64_t addr;
	memcpy(&addr, (const uint8_t *)si + 16, sizeof addr); /* si_addr */
	char line[128], *p = line;
	const char *parts[] = { names[sig], " (address ", ") at ip ", " in the libOS's own code: stopping" };
	for (int i = 0; i < 4; i++) {
		for (const char *c = parts[i]; *c; c++) *p++ = *c;
		if (i == 1) p = put_hex(p, addr);
		if (i == 2) p = put_hex(p, uc->mc.rip);
	}
	*p = 0;
	libos_warn(line);
	hc_exit(128 + sig);
}

/* Is the code that faulted the libOS's, not the app's? */
static int in_libos_code(const struct k_ucontext *uc)
{
	uintptr_t ip = uc->mc.rip;
	if (!libos_ready || *sched_in_libos() || in_hypercalls(ip) || on_trap_stack(uc->mc.rsp)) return 1;
	return !signal_relinked() && ip >= (uintptr_t)__executable_start && ip < (uintptr_t)_etext;
}

/* A fault the CPU raised (not a signal someone sent): to the app's handler at once, as
 * Linux delivers it, or the process dies by it. */
static _Noreturn void fault(int sig, const struct k_siginfo *si, struct k_ucontext *uc)
{
	int unchanged = 0;
	uint64_t addr;
	memcpy(&addr, (const uint8_t *)si + 16, sizeof addr); /* si_addr */
	if (sig == SIGSEGV_ && mem_fault(addr)) trap_return(uc, &unchanged); /* a MAP_NORESERVE page got memory: again */
	if (frame_building) hc_exit(128 + SIGSEGV_); /* no frame on that stack: Linux's SIGSEGV */
	if (in_libos_code(uc)) fault_in_libos(sig, si, uc);
	struct signal_delivery d;
	if (!signal_fault(sig, &d)) hc_exit(128 + sig);
	if (signal_relinked()) {
		memcpy(&fault_kernel_frame, uc, sizeof *uc);
		fault_kernel_frame_set = 1;
		d.restorer = (void *)fault_restorer;
	}
	push_signal_frame(uc, &d, si);
	trap_return(uc, &unchanged);
}

static int is_fault(int sig)
{
	return sig == SIGSEGV_ || sig == SIGBUS_ || sig == SIGFPE_ || sig == SIGILL_ || sig == SIGTRAP_;
}

/* The handler of SIGSYS, of the preemption tick (SIGVTALRM), of faults and of the signals the
 * container gets (SA_SIGINFO | SA_ONSTACK), on the trap stack with the app's FS base:
 * nothing here may touch TLS (the libOS is built without a stack protector) or make a
 * host call but from the hypercall code. */
_Noreturn void trap_handler(int sig, void *info, void *context)
{
	const struct k_siginfo_sys *si = info;
	struct k_ucontext *uc = context;
	int unchanged = 0; /* returning as we came: the thread's flag stays as it is */
	if (is_fault(sig) && si->code > 0) fault(sig, info, uc); /* > 0: from the CPU, not kill() */
	if (sig != SIGSYS_ && sig != SIGVTALRM_) {
		signal_arrived(sig); /* the default action happens here; a handler runs later */
		trap_return(uc, &unchanged);
	}
	if (sig == SIGVTALRM_) {
		if (!preemptible(uc)) trap_return(uc, &unchanged);
		*sched_in_libos() = 1;
		struct k_ucontext *frame = frame_copy(sched_kstack_top(), uc);
		call_on_stack(stack_below(frame), preempt, frame);
	}
	if (si->code != SYS_SECCOMP) trap_return(uc, &unchanged); /* a SIGSYS sent by someone: ignored */
	*sched_in_libos() = 1;
	struct k_ucontext *frame = frame_copy(sched_kstack_top(), uc);
	frame->mc.rax = (uint64_t)si->syscall; /* the kernel left -ENOSYS there; serve() reads the number */
	call_on_stack(stack_below(frame), serve, frame);
}
