// Go's raw system call for nabla unikernels: nabla-compile builds every Go app with this
// file in place of GOROOT/src/internal/runtime/syscall/asm_linux_amd64.s (go build
// -overlay). Syscall6 is where the syscall package (and so net, os and x/sys/unix) and the
// runtime's network poller make their calls. Here it hands them to the libOS's fast call
// (NABLA_SYS_FASTCALL in native/include/nabla_abi.h; fastcall in native/libos/syscall.c):
// a function call instead of a trap, so a server's reads, writes and waits cost no
// SIGSYS, signal frame and rt_sigreturn. A call the libOS hands back
// (NABLA_FASTCALL_SLOW), and every call outside a nabla unikernel, is the SYSCALL it
// always was, which the tender's filter traps to the libOS as before. (The first call asks
// for the fast call with a number Linux lacks: a plain kernel answers ENOSYS, Docker's
// filter EPERM; a seccomp policy that kills for an unknown call would kill the program.)

#include "textflag.h"

#define NABLA_SYS_FASTCALL 0x4e41
#define NABLA_FASTCALL_SLOW -4096

// The fast call's address: 0 until the first call asks for it, 1 when there is none (the
// call that asks failed: ENOSYS, or EPERM under a container runtime's filter).
GLOBL ·nablaFastcall(SB), NOPTR, $8

// func Syscall6(num, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2, errno uintptr)
// In AX num, BX a1, CX a2, DI a3, SI a4, R8 a5, R9 a6; out AX r1, BX r2, CX errno.
// The frame holds the fast call's stack too (below 320(SP)), so that Go's linker counts
// what the C function uses of this goroutine's stack against what a nosplit chain may use.
TEXT ·Syscall6<ABIInternal>(SB),NOSPLIT,$384
	MOVQ	·nablaFastcall(SB), R11
	CMPQ	R11, $1
	JEQ	syscall
	TESTQ	R11, R11
	JNZ	fast
	// The first call: ask for it. SYSCALL clobbers CX (a2) and R11; AX is the answer.
	MOVQ	AX, R12
	MOVQ	CX, R13
	MOVQ	$NABLA_SYS_FASTCALL, AX
	SYSCALL
	MOVQ	$1, R11
	CMPQ	AX, $0
	JLE	found
	MOVQ	AX, R11
found:
	MOVQ	R11, ·nablaFastcall(SB) // the same value from every thread that races here
	MOVQ	R12, AX
	MOVQ	R13, CX
	CMPQ	R11, $1
	JEQ	syscall

fast:
	// The arguments, kept at the frame's top for the SYSCALL the libOS may hand back.
	MOVQ	R9, 328(SP)
	MOVQ	AX, 336(SP)
	MOVQ	BX, 344(SP)
	MOVQ	CX, 352(SP)
	MOVQ	DI, 360(SP)
	MOVQ	SI, 368(SP)
	MOVQ	R8, 376(SP)
	// A C function: DI num, SI a1, DX a2, CX a3, R8 a4, R9 a5, a6 on a 16-byte aligned
	// stack. It keeps BX, BP and R12-R15 (R14 is g). It runs below 320(SP) rounded down to
	// 16, at least 312 bytes, until it moves to the thread's libOS stack: the libOS's
	// fastcall stays within 288 (test_fastcall.c checks it).
	MOVQ	SP, R12
	LEAQ	320(SP), SP
	ANDQ	$~15, SP
	MOVQ	R9, 0(SP)
	MOVQ	R8, R9
	MOVQ	SI, R8
	MOVQ	CX, DX
	MOVQ	DI, CX
	MOVQ	BX, SI
	MOVQ	AX, DI
	CALL	R11
	XORPS	X15, X15 // Go's zero register, which C code may use
	MOVQ	R12, SP
	CMPQ	AX, $NABLA_FASTCALL_SLOW
	JEQ	slow
	MOVQ	360(SP), DX // r2: what the system call leaves in DX (a3)
	JMP	result
slow:
	MOVQ	336(SP), AX
	MOVQ	344(SP), DI
	MOVQ	352(SP), SI
	MOVQ	360(SP), DX
	MOVQ	368(SP), R10
	MOVQ	376(SP), R8
	MOVQ	328(SP), R9
	SYSCALL
	JMP	result

syscall:
	// The system call's registers: a4 goes in R10, not CX.
	MOVQ	SI, R10
	MOVQ	DI, DX
	MOVQ	CX, SI
	MOVQ	BX, DI
	SYSCALL
result:
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	NEGQ	AX
	MOVQ	AX, CX // errno
	MOVQ	$-1, AX
	MOVQ	$0, BX
	RET
ok:
	MOVQ	DX, BX // r2
	MOVQ	$0, CX
	RET
