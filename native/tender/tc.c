/*
 * tc.c — traffic control through rtnetlink, the two kinds of request the tender makes on an
 * interface's ingress: a clsact qdisc, and a classic BPF classifier (cls_bpf) on it, either
 * in direct-action mode (the program's result is the verdict) or with a mirred action that
 * redirects what the program matches to another interface's egress. Classic BPF needs no
 * bpf() and no CAP_BPF, only CAP_NET_ADMIN. Before the filter only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>

#include "tender.h"

/* From linux/rtnetlink.h, linux/pkt_sched.h, linux/pkt_cls.h, linux/tc_act/tc_mirred.h
 * and linux/if_ether.h (musl-gcc sees no linux/ headers). */
#define RTM_NEWQDISC_ 36
#define RTM_NEWTFILTER_ 44
#define TCA_KIND_ 1
#define TCA_OPTIONS_ 2
#define TCA_BPF_ACT_ 1
#define TCA_BPF_OPS_LEN_ 4
#define TCA_BPF_OPS_ 5
#define TCA_BPF_FLAGS_ 8
#define TCA_BPF_FLAG_ACT_DIRECT_ 1
#define TCA_ACT_KIND_ 1
#define TCA_ACT_OPTIONS_ 2
#define TCA_MIRRED_PARMS_ 2
#define TCA_EGRESS_REDIR_ 1
#define TC_ACT_STOLEN_ 4
#define TC_H_CLSACT_ 0xfffffff1U
#define TC_H_INGRESS_ 0xfffffff2U /* TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS) */
#define ETH_P_ALL_ 0x0003

struct tcmsg_ {
	uint8_t family, pad1;
	uint16_t pad2;
	int32_t ifindex;
	uint32_t handle, parent, info;
};

struct tc_mirred_ {
	uint32_t index, capab;
	int32_t action, refcnt, bindcnt; /* tc_gen */
	int32_t eaction;
	uint32_t ifindex;
};

int tc_add_clsact(int ifindex)
{
	struct tcmsg_ tc = { 0, 0, 0, ifindex, 0xffff0000U, TC_H_CLSACT_, 0 };
	struct nl_buf req;
	nl_begin(&req, &tc, sizeof tc);
	nl_put(&req, TCA_KIND_, "clsact", sizeof "clsact");
	int error = nl_request(&req, RTM_NEWQDISC_, NL_F_CREATE | NL_F_EXCL);
	return error == -EEXIST ? 0 : error;
}

/* The mirred action, as cls_bpf's first (and only) action: what the program matched leaves
 * through `to`'s egress and goes no further here (stolen). */
static void put_redirect(struct nl_buf *req, int to)
{
	size_t actions = nl_nest_begin(req, TCA_BPF_ACT_);
	size_t first = nl_nest_begin(req, 1);
	nl_put(req, TCA_ACT_KIND_, "mirred", sizeof "mirred");
	size_t options = nl_nest_begin(req, TCA_ACT_OPTIONS_);
	struct tc_mirred_ parms = { 0, 0, TC_ACT_STOLEN_, 0, 0, TCA_EGRESS_REDIR_, (uint32_t)to };
	nl_put(req, TCA_MIRRED_PARMS_, &parms, sizeof parms);
	nl_nest_end(req, options);
	nl_nest_end(req, first);
	nl_nest_end(req, actions);
}

int tc_add_ingress_bpf(int ifindex, uint16_t prio, const struct bpf_step *steps, uint16_t n, int redirect_to)
{
	struct tcmsg_ tc = { 0, 0, 0, ifindex, 1, TC_H_INGRESS_, (uint32_t)prio << 16 | htons(ETH_P_ALL_) };
	struct nl_buf req;
	nl_begin(&req, &tc, sizeof tc);
	nl_put(&req, TCA_KIND_, "bpf", sizeof "bpf");
	size_t options = nl_nest_begin(&req, TCA_OPTIONS_);
	nl_put(&req, TCA_BPF_OPS_LEN_, &n, sizeof n);
	nl_put(&req, TCA_BPF_OPS_, steps, n * sizeof *steps);
	if (redirect_to) {
		put_redirect(&req, redirect_to);
	} else {
		uint32_t flags = TCA_BPF_FLAG_ACT_DIRECT_;
		nl_put(&req, TCA_BPF_FLAGS_, &flags, sizeof flags);
	}
	nl_nest_end(&req, options);
	return nl_request(&req, RTM_NEWTFILTER_, NL_F_CREATE | NL_F_REPLACE);
}
