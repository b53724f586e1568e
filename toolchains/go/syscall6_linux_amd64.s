// Go's raw system call for nabla unikernels: nabla-compile builds every Go app with this
// file in place of GOROOT/src/internal/runtime/syscall/asm_linux_amd64.s (go build
// -overlay). Syscall6 is where the syscall package (and so net, os and x/sys/unix) and the
// runtime's network poller make their calls. Here it hands them to the libOS's fast call
// (NABLA_SYS_FASTCALL in native/include/nabla_abi.h; fastcall in native/libos/syscall.c):
// a function call instead of a trap, so a server's reads, writes and waits cost no
// SIGSYS, signal frame and rt_sigreturn. A call the libOS hands back
// (NABLA_FASTCALL_SLOW), and every call outside a nabla unikernel, is the SYSCALL it
// always was, which the tender's filter traps to the libOS as before.

#include "textflag.h"

#define NABLA_SYS_FASTCALL 0x4e41
#define NABLA_FASTCALL_SLOW -4096

// The fast call's address: 0 until the first call asks for it, 1 when there is none (the
// call that asks failed: ENOSYS, or EPERM under a container runtime's filter).
GLOBL ·nablaFastcall(SB), NOPTR, $8

// func Syscall6(num, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2, errno uintptr)
// In AX num, BX a1, CX a2, DI a3, SI a4, R8 a5, R9 a6; out AX r1, BX r2, CX errno.
TEXT ·Syscall6<ABIInternal>(SB),NOSPLIT,$0
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
	// A C function: DI num, SI a1, DX a2, CX a3, R8 a4, R9 a5, a6 on a 16-byte aligned
	// stack. It keeps BX, BP and R12-R15 (R14 is g) and uses this goroutine's stack only
	// until it moves to the thread's libOS stack (a few hundred bytes: what a nosplit
	// chain may use). The arguments are kept for the SYSCALL it may hand back.
	MOVQ	SP, R12
	SUBQ	$64, SP
	ANDQ	$~15, SP
	MOVQ	R9, 0(SP)
	MOVQ	AX, 8(SP)
	MOVQ	BX, 16(SP)
	MOVQ	CX, 24(SP)
	MOVQ	DI, 32(SP)
	MOVQ	SI, 40(SP)
	MOVQ	R8, 48(SP)
	MOVQ	R9, 56(SP) // the callee owns 0(SP)
	MOVQ	R8, R9
	MOVQ	SI, R8
	MOVQ	CX, DX
	MOVQ	DI, CX
	MOVQ	BX, SI
	MOVQ	AX, DI
	CALL	R11
	XORPS	X15, X15 // Go's zero register, which C code may use
	CMPQ	AX, $NABLA_FASTCALL_SLOW
	JEQ	slow
	MOVQ	R12, SP
	MOVQ	$0, DX // no second result
	JMP	result
slow:
	MOVQ	8(SP), AX
	MOVQ	16(SP), DI
	MOVQ	24(SP), SI
	MOVQ	32(SP), DX
	MOVQ	40(SP), R10
	MOVQ	48(SP), R8
	MOVQ	56(SP), R9
	MOVQ	R12, SP
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
