/*
 * seccomp.c — the policy table, printed by --print-policy and compiled to raw classic BPF.
 *
 * The program: arch must be x86-64 (else an i386 `int $0x80` would be read with the
 * wrong syscall numbers); the x32 bit is refused; a call made from outside the libOS's
 * hypercall code is trapped (SECCOMP_RET_TRAP: the libOS serves it, see trap.c); from
 * inside it, one block per rule, and anything that no rule allows kills the whole
 * process (SECCOMP_RET_KILL_PROCESS, SIGSYS).
 * Arguments are compared on all 64 bits (both halves), so a value with junk in the
 * upper half that the kernel would truncate is refused too.
 * The constants are spelled out here: musl-gcc sees no linux/ headers.
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tender.h"

#if !defined(__x86_64__)
#error "nabla-run is x86-64 only: the syscall numbers below are the host's"
#endif

#define SECCOMP_SET_MODE_FILTER_ 1
#define RET_KILL_PROCESS 0x80000000U
#define RET_TRAP 0x00030000U
#define RET_ALLOW 0x7fff0000U
#define AUDIT_ARCH_X86_64_ 0xc000003eU /* EM_X86_64 | 64-bit | little-endian */
#define X32_SYSCALL_BIT 0x40000000U
/* struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6]. */
#define OFF_NR 0
#define OFF_ARCH 4
#define OFF_IP_LO 8
#define OFF_IP_HI 12
#define OFF_ARG_LO(i) (16 + 8 * (i))
#define OFF_ARG_HI(i) (16 + 8 * (i) + 4)

struct bpf_ins {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};
struct bpf_prog {
	unsigned short len;
	struct bpf_ins *ins;
};
#define LD(off) ((struct bpf_ins){ 0x20, 0, 0, (off) }) /* BPF_LD|BPF_W|BPF_ABS */
#define JEQ(k, t, f) ((struct bpf_ins){ 0x15, (t), (f), (k) }) /* BPF_JMP|BPF_JEQ|BPF_K */
#define JGT(k, t, f) ((struct bpf_ins){ 0x25, (t), (f), (k) }) /* BPF_JMP|BPF_JGT|BPF_K */
#define JSET(k, t, f) ((struct bpf_ins){ 0x45, (t), (f), (k) }) /* BPF_JMP|BPF_JSET|BPF_K */
#define RET(k) ((struct bpf_ins){ 0x06, 0, 0, (k) }) /* BPF_RET|BPF_K */

#define PROG_MAX (6 + 7 + POLICY_MAX_RULES * (7 + RULE_MAX_VALS) + 1)
_Static_assert(PROG_MAX < 256, "a BPF jump offset (8 bits) must reach any instruction");

void policy_add(struct policy *p, struct rule r)
{
	if (p->nrules == POLICY_MAX_RULES || r.nvals > RULE_MAX_VALS || (r.arg >= 0 && r.nvals == 0) || r.arg > 5)
		errx(TENDER_EXIT, "internal error: bad seccomp rule for %s", r.name);
	p->only_on[p->nrules] = NULL;
	p->rules[p->nrules++] = r;
}

void policy_add_only_on(struct policy *p, struct rule r, const char *hosts)
{
	policy_add(p, r);
	p->only_on[p->nrules - 1] = hosts;
}

void policy_allow(struct policy *p, uint32_t nr, uint32_t value, const char *label)
{
	for (int i = 0; i < p->nrules; i++) {
		struct rule *r = &p->rules[i];
		if (r->nr != nr)
			continue;
		if (r->arg < 0 || r->nvals == RULE_MAX_VALS)
			break;
		r->vals[r->nvals++] = (struct rule_val){ value, label };
		return;
	}
	errx(TENDER_EXIT, "internal error: no seccomp rule to extend for syscall %u", nr);
}

void policy_print(const struct policy *p)
{
	for (int i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];
		printf("%s", r->name);
		for (int v = 0; v < r->nvals; v++) {
			printf("%s", v == 0 ? " " : "|");
			if (v == 0)
				printf("%s=", r->arg_name);
			if (r->vals[v].label)
				printf("%s", r->vals[v].label);
			else
				printf("%u", r->vals[v].value);
		}
		if (p->only_on[i])
			printf(" [only on %s]", p->only_on[i]);
		printf("\n");
	}
	if (fflush(stdout) != 0)
		err(TENDER_EXIT, "writing the policy failed");
}

/* Compiles the table; returns the number of instructions. */
static int compile(const struct policy *p, const struct nabla_note *libos, struct bpf_ins *f)
{
	int n = 0;
	f[n++] = LD(OFF_ARCH);
	f[n++] = JEQ(AUDIT_ARCH_X86_64_, 1, 0);
	f[n++] = RET(RET_KILL_PROCESS);
	f[n++] = LD(OFF_NR);
	f[n++] = JSET(X32_SYSCALL_BIT, 0, 1);
	f[n++] = RET(RET_KILL_PROCESS);
	/* The instruction pointer is the address after the `syscall`: inside the hypercall
	 * code means start < ip <= end. Same upper half (elf_check_note), then the lower. */
	f[n++] = LD(OFF_IP_HI);
	f[n++] = JEQ((uint32_t)(libos->hypercall_start >> 32), 1, 0);
	f[n++] = RET(RET_TRAP);
	f[n++] = LD(OFF_IP_LO);
	f[n++] = JGT((uint32_t)libos->hypercall_start, 0, 1);
	f[n++] = JGT((uint32_t)libos->hypercall_end, 0, 1);
	f[n++] = RET(RET_TRAP);
	for (int i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];
		if (r->arg < 0) { /*  ld nr; jeq NR ? allow : next rule */
			f[n++] = LD(OFF_NR);
			f[n++] = JEQ(r->nr, 0, 1);
			f[n++] = RET(RET_ALLOW);
			continue;
		}
		/* ld nr; jeq NR ? : next; ld hi; jeq 0 ? : kill; ld lo; jeq v1 ? allow; ...; kill; allow */
		int len = 7 + r->nvals, kill = len - 2, allow = len - 1;
		f[n++] = LD(OFF_NR);
		f[n++] = JEQ(r->nr, 0, len - 2);
		f[n++] = LD(OFF_ARG_HI(r->arg));
		f[n++] = JEQ(0, 0, kill - 4);
		f[n++] = LD(OFF_ARG_LO(r->arg));
		for (int v = 0; v < r->nvals; v++)
			f[n++] = JEQ(r->vals[v].value, allow - (5 + v) - 1, 0);
		f[n++] = RET(RET_KILL_PROCESS);
		f[n++] = RET(RET_ALLOW);
	}
	f[n++] = RET(RET_KILL_PROCESS);
	return n;
}

/* Installs the filter; nothing may follow it but the jump into the guest. */
void seccomp_install(const struct policy *p, const struct nabla_note *libos)
{
	struct bpf_ins f[PROG_MAX];
	struct bpf_prog prog = { (unsigned short)compile(p, libos, f), f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		err(TENDER_EXIT, "prctl(PR_SET_NO_NEW_PRIVS) failed");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER_, 0, &prog) == 0)
		return;
	/* Never run the guest without its filter: say why there is none, and stop. The guest's
	 * handlers are in place already (trap_install): no signal may run them now (the routed
	 * ones are blocked since; so is every other). */
	int error = errno;
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	errno = error;
	if (errno == ENOSYS)
		errx(TENDER_EXIT, "seccomp(SECCOMP_SET_MODE_FILTER) failed (%s): this kernel has no seccomp filters "
				  "(it needs CONFIG_SECCOMP_FILTER, Linux >= 4.14); the guest will not run without one",
		     strerror(errno));
	if (errno == EINVAL)
		errx(TENDER_EXIT, "seccomp(SECCOMP_SET_MODE_FILTER) failed (%s): this kernel has no seccomp filters, or it "
				  "refused nabla-run's filter program; the guest will not run without one",
		     strerror(errno));
	if (errno == EPERM || errno == EACCES)
		errx(TENDER_EXIT, "seccomp(SECCOMP_SET_MODE_FILTER) failed (%s): the container runtime or a security "
				  "policy forbids seccomp() (a custom seccomp profile?); the guest will not run without its filter",
		     strerror(errno));
	err(TENDER_EXIT, "seccomp(SECCOMP_SET_MODE_FILTER) failed");
}
