/*
 * fsbase.c — how the libOS sets a thread's FS base (its TLS pointer), chosen per host:
 *   cpu        with the wrfsbase instruction: no host call. Needs FSGSBASE, from the CPU
 *              and from Linux >= 5.9, which says so in AT_HWCAP2.
 *   host-call  with one more hypercall, arch_prctl(ARCH_SET_FS, addr), its first argument
 *              pinned: for hosts without FSGSBASE (many cloud VMs and microVMs).
 *   auto       cpu where the host has FSGSBASE, else host-call (the default).
 * --fs-base=MODE, or NABLA_FS_BASE=MODE in the environment (for `docker run -e`), chooses;
 * the flag wins. Forcing host-call on any host is how both paths get tested everywhere.
 */
#define _GNU_SOURCE
#include <err.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>

#include "tender.h"

#define HWCAP2_FSGSBASE (1UL << 1)

static const char *const names[] = { [FS_BASE_AUTO] = "auto", [FS_BASE_CPU] = "cpu", [FS_BASE_HOST_CALL] = "host-call" };

enum fs_base fs_base_parse(const char *value, const char *source)
{
	for (int m = FS_BASE_AUTO; m <= FS_BASE_HOST_CALL; m++)
		if (strcmp(value, names[m]) == 0)
			return m;
	errx(TENDER_EXIT, "%s%s: not auto, cpu or host-call", source, value);
}

int fs_base_host_has_fsgsbase(void)
{
#ifdef NABLA_TEST_ASSUME_FSGSBASE
	/* Only the test build nabla-run-assume-fsgsbase (Makefile): the tender suite's guests
	 * never touch the FS base, so the cpu mode's policy runs on any host. Never shipped. */
	return 1;
#else
	return (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
#endif
}

enum fs_base fs_base_resolve(enum fs_base mode, const char *source)
{
	int has = fs_base_host_has_fsgsbase();
	if (mode == FS_BASE_AUTO)
		return has ? FS_BASE_CPU : FS_BASE_HOST_CALL;
	if (mode == FS_BASE_CPU && !has)
		errx(TENDER_EXIT, "%scpu: this CPU or kernel does not let user space set the FS base "
				  "(FSGSBASE, Linux >= 5.9); use %sauto",
		     source, source);
	return mode;
}

static const struct rule set_fs_rule = { "arch_prctl", SYS_arch_prctl, 0, "code", 1, { { NABLA_ARCH_SET_FS, "ARCH_SET_FS" } } };

/* arch_prctl(ARCH_SET_FS, addr): any address (the kernel refuses one outside user space),
 * no other code: ARCH_GET_FS, ARCH_SET_GS, ARCH_SET_CPUID and the rest are killed. */
void fs_base_rules(struct policy *p, enum fs_base mode)
{
	if (mode == FS_BASE_HOST_CALL)
		policy_add(p, set_fs_rule);
}

/* Every host's policy in one: the rule some hosts get, marked as such (the image label).
 * NABLA_FS_BASE=host-call (docker run -e, or an image's own env) gives it anywhere. */
void fs_base_rules_any_host(struct policy *p)
{
	policy_add_only_on(p, set_fs_rule, "hosts without FSGSBASE, or with NABLA_FS_BASE=host-call");
}
