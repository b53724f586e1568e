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

#define JGE(k, t, f) ((struct bpf_ins){ 0x35, (t), (f), (k) }) /* BPF_JMP|BPF_JGE|BPF_K */

/* One rule's block: ld nr, jeq; per value check ld hi, jeq, ld lo and a jeq per value; per
 * range two compares of both halves; then kill and allow. Its jumps stay inside it. */
#define BLOCK_MAX (2 + 3 + RULE_MAX_VALS + 10 * RULE_MAX_RANGES + 2)
_Static_assert(BLOCK_MAX < 256, "a BPF jump offset (8 bits) must reach the end of a rule's block");
#define PROG_MAX (13 + POLICY_MAX_RULES * BLOCK_MAX + 1)
_Static_assert(PROG_MAX < 4096, "BPF_MAXINSNS");

void policy_add(struct policy *p, struct rule r)
{
	if (p->nrules == POLICY_MAX_RULES || r.nvals > RULE_MAX_VALS || (r.arg >= 0 && r.nvals == 0) || r.arg > 5)
		errx(TENDER_EXIT, "internal error: bad seccomp rule for %s", r.name);
	p->only_on[p->nrules] = NULL;
	p->ranges[p->nrules].n = 0;
	p->rules[p->nrules++] = r;
}

void policy_add_ranged(struct policy *p, struct rule r, struct rule_ranges ranges)
{
	int ok = ranges.n >= 0 && ranges.n <= RULE_MAX_RANGES;
	for (int i = 0; ok && i < ranges.n; i++)
		ok = ranges.at[i].arg >= 0 && ranges.at[i].arg <= 5 && ranges.at[i].lo <= ranges.at[i].hi;
	if (!ok)
		errx(TENDER_EXIT, "internal error: bad argument ranges for %s", r.name);
	policy_add(p, r);
	p->ranges[p->nrules - 1] = ranges;
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
		for (int g = 0; g < p->ranges[i].n; g++) {
			const struct rule_range *q = &p->ranges[i].at[g];
			if (q->label)
				printf(" %s=%s", q->arg_name, q->label);
			else if (q->lo == q->hi)
				printf(" %s=%lu", q->arg_name, (unsigned long)q->lo);
			else
				printf(" %s=0x%lx..0x%lx", q->arg_name, (unsigned long)q->lo, (unsigned long)q->hi);
		}
		if (p->only_on[i])
			printf(" [only on %s]", p->only_on[i]);
		printf("\n");
	}
	if (fflush(stdout) != 0)
		err(TENDER_EXIT, "writing the policy failed");
}

/* A rule's block is written with symbolic jump targets, then resolved to offsets. */
enum {
	TO_NEXT_INS = -1,
	TO_KILL = -2,
	TO_ALLOW = -3,
	TO_NEXT_RULE = -4
};
struct block {
	int n;
	struct {
		struct bpf_ins ins;
		int jt, jf; /* an index in the block, or TO_* */
	} at[BLOCK_MAX];
};

static void put(struct block *b, struct bpf_ins ins, int jt, int jf)
{
	b->at[b->n].ins = ins;
	b->at[b->n].jt = jt;
	b->at[b->n].jf = jf;
	b->n++;
}

/* lo <= arg <= hi on all 64 bits: the upper halves decide unless they are equal. */
static void put_range(struct block *b, const struct rule_range *q)
{
	uint32_t hi_hi = (uint32_t)(q->hi >> 32), hi_lo = (uint32_t)q->hi;
	uint32_t lo_hi = (uint32_t)(q->lo >> 32), lo_lo = (uint32_t)q->lo;
	int upper_ok = b->n + 5, lower_ok = upper_ok + 5;
	put(b, LD(OFF_ARG_HI(q->arg)), 0, 0);
	put(b, JGT(hi_hi, 0, 0), TO_KILL, TO_NEXT_INS);
	put(b, JEQ(hi_hi, 0, 0), TO_NEXT_INS, upper_ok);
	put(b, LD(OFF_ARG_LO(q->arg)), 0, 0);
	put(b, JGT(hi_lo, 0, 0), TO_KILL, upper_ok);
	put(b, LD(OFF_ARG_HI(q->arg)), 0, 0); /* upper_ok */
	put(b, JGT(lo_hi, 0, 0), lower_ok, TO_NEXT_INS);
	put(b, JEQ(lo_hi, 0, 0), TO_NEXT_INS, TO_KILL);
	put(b, LD(OFF_ARG_LO(q->arg)), 0, 0);
	put(b, JGE(lo_lo, 0, 0), lower_ok, TO_KILL);
}

/* ld nr; jeq NR ? : next rule; the argument checks, each going on to the next or to kill;
 * kill; allow. */
static void put_rule(struct block *b, const struct rule *r, const struct rule_ranges *ranges)
{
	put(b, LD(OFF_NR), 0, 0);
	put(b, JEQ(r->nr, 0, 0), TO_NEXT_INS, TO_NEXT_RULE);
	if (r->arg >= 0) {
		put(b, LD(OFF_ARG_HI(r->arg)), 0, 0);
		put(b, JEQ(0, 0, 0), TO_NEXT_INS, TO_KILL);
		put(b, LD(OFF_ARG_LO(r->arg)), 0, 0);
		int checked = b->n + r->nvals;
		for (int v = 0; v < r->nvals; v++)
			put(b, JEQ(r->vals[v].value, 0, 0), checked, v == r->nvals - 1 ? TO_KILL : TO_NEXT_INS);
	}
	for (int g = 0; g < ranges->n; g++)
		put_range(b, &ranges->at[g]);
	put(b, RET(RET_ALLOW), 0, 0); /* every check passed: falls through to here */
}

/* Appends the block to f at n, its targets made relative; returns the new n. */
static int emit(struct bpf_ins *f, int n, const struct block *b)
{
	int allow = b->n - 1, kill = b->n, end = b->n + 1;
	for (int i = 0; i < b->n; i++) {
		struct bpf_ins ins = b->at[i].ins;
		if ((ins.code & 0x07) == 0x05) { /* BPF_JMP */
			int targets[2] = { b->at[i].jt, b->at[i].jf };
			uint8_t *offs[2] = { &ins.jt, &ins.jf };
			for (int t = 0; t < 2; t++) {
				int to = targets[t] == TO_NEXT_INS ? i + 1 : targets[t] == TO_KILL ? kill :
								     targets[t] == TO_ALLOW        ? allow :
								     targets[t] == TO_NEXT_RULE    ? end :
												     targets[t];
				*offs[t] = (uint8_t)(to - i - 1);
			}
		}
		f[n++] = ins;
	}
	f[n++] = RET(RET_KILL_PROCESS);
	return n;
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
		struct block b = { 0 };
		put_rule(&b, &p->rules[i], &p->ranges[i]);
		n = emit(f, n, &b);
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
