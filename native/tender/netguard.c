/*
 * netguard.c — the tap lets out only the unikernel's own frames. The guest is hostile and
 * may write any Ethernet frame to the tap (jumping into the hypercall code that writes
 * them): another machine's MAC, another source address, ARP that claims the gateway. So
 * before the filter, while the tender still holds CAP_NET_ADMIN, the kernel is told to
 * drop at the tap's ingress every frame that is not, exactly:
 *   from the unikernel's MAC, and either
 *   IPv4 from its address, or
 *   ARP (Ethernet/IPv4) whose sender is its MAC and its address.
 * The check is a classic BPF program run by tc (tc.c: a clsact qdisc, a cls_bpf filter in
 * direct-action mode): TC_ACT_SHOT drops a frame; TC_ACT_UNSPEC lets it go on to the next
 * filter (with --net-from, the redirect to the container's interface, netsetup.c) or, with
 * none, into the kernel as usual. Classic BPF verifies itself: a load past the end of a
 * frame would end the program with 0 (TC_ACT_OK, through), so each kind's length is
 * checked first.
 * With --net-from the tender made the tap, and runs the guest only with the check in
 * place. With --net the tap is the operator's: the check goes on where permitted, else the
 * operator is told the frames are not checked.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "tender.h"

#define TC_ACT_UNSPEC_ 0xffffffffU /* -1 */
#define TC_ACT_SHOT_ 2

/* The program's steps; the jumps name their targets, turned into offsets below. */
enum {
	VLAN,
	IS_UNTAGGED,
	LEN,
	LEN_IP,
	SRC_MAC_HI,
	IS_SRC_MAC_HI,
	SRC_MAC_LO,
	IS_SRC_MAC_LO,
	TYPE,
	IS_IPV4,
	IP_SRC,
	IS_IP_SRC,
	IS_ARP,
	LEN_ARP,
	IS_LEN_ARP,
	ARP_TYPES,
	IS_ARP_TYPES,
	ARP_SIZES,
	IS_ARP_SIZES,
	SENDER_MAC_HI,
	IS_SENDER_MAC_HI,
	SENDER_MAC_LO,
	IS_SENDER_MAC_LO,
	SENDER_IP,
	IS_SENDER_IP,
	PASS,
	DROP,
	STEPS
};

#define LD_LEN(at) [at] = { 0x80, 0, 0, 0 } /* BPF_LD|BPF_W|BPF_LEN */
/* SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT: the receive path takes an 802.1Q/802.1ad tag off
 * before tc sees the frame (skb_vlan_untag) and keeps it beside it; a redirect would send
 * it out tagged, on a VLAN the guest chose. */
#define LD_VLAN_TAGGED(at) [at] = { 0x20, 0, 0, 0xfffff030 }
#define LD_W(at, off) [at] = { 0x20, 0, 0, (off) } /* BPF_LD|BPF_W|BPF_ABS: 4 bytes, big-endian */
#define LD_H(at, off) [at] = { 0x28, 0, 0, (off) } /* BPF_LD|BPF_H|BPF_ABS */
#define JEQ(at, k, t, f) [at] = { 0x15, (t) - (at)-1, (f) - (at)-1, (k) }
#define JGE(at, k, t, f) [at] = { 0x35, (t) - (at)-1, (f) - (at)-1, (k) }
#define RET(at, k) [at] = { 0x06, 0, 0, (k) }

static void program(struct bpf_step f[STEPS], const uint8_t mac[6], uint32_t ip_be)
{
	uint32_t mac_hi = (uint32_t)mac[0] << 24 | (uint32_t)mac[1] << 16 | (uint32_t)mac[2] << 8 | mac[3];
	uint32_t mac_lo = (uint32_t)mac[4] << 8 | mac[5], ip = ntohl(ip_be);
	const struct bpf_step steps[STEPS] = {
		LD_VLAN_TAGGED(VLAN),
		JEQ(IS_UNTAGGED, 0, LEN, DROP), /* no VLAN tag: the guest has no VLAN of its own */
		LD_LEN(LEN),
		JGE(LEN_IP, 14 + 20, SRC_MAC_HI, DROP), /* Ethernet and an IPv4 header, the least we send */
		LD_W(SRC_MAC_HI, 6),
		JEQ(IS_SRC_MAC_HI, mac_hi, SRC_MAC_LO, DROP),
		LD_H(SRC_MAC_LO, 10),
		JEQ(IS_SRC_MAC_LO, mac_lo, TYPE, DROP),
		LD_H(TYPE, 12),
		JEQ(IS_IPV4, 0x0800, IP_SRC, IS_ARP),
		LD_W(IP_SRC, 14 + 12),
		JEQ(IS_IP_SRC, ip, PASS, DROP),
		JEQ(IS_ARP, 0x0806, LEN_ARP, DROP),
		LD_LEN(LEN_ARP),
		JGE(IS_LEN_ARP, 14 + 28, ARP_TYPES, DROP),
		LD_W(ARP_TYPES, 14), /* hardware type Ethernet (1), protocol IPv4 */
		JEQ(IS_ARP_TYPES, 0x00010800, ARP_SIZES, DROP),
		LD_H(ARP_SIZES, 14 + 4), /* 6-byte MACs, 4-byte addresses */
		JEQ(IS_ARP_SIZES, 0x0604, SENDER_MAC_HI, DROP),
		LD_W(SENDER_MAC_HI, 14 + 8),
		JEQ(IS_SENDER_MAC_HI, mac_hi, SENDER_MAC_LO, DROP),
		LD_H(SENDER_MAC_LO, 14 + 12),
		JEQ(IS_SENDER_MAC_LO, mac_lo, SENDER_IP, DROP),
		LD_W(SENDER_IP, 14 + 14),
		JEQ(IS_SENDER_IP, ip, PASS, DROP),
		RET(PASS, TC_ACT_UNSPEC_),
		RET(DROP, TC_ACT_SHOT_),
	};
	memcpy(f, steps, sizeof steps);
}

/* The check, as the first filter at ingress (priority 1), replacing an earlier run's, which
 * may have been for another address; the tap's clsact qdisc may be there from one too. */
static int add_check(int ifindex, const struct net_config *c)
{
	struct bpf_step f[STEPS];
	program(f, c->mac, c->ip);
	return tc_add_ingress_bpf(ifindex, 1, f, STEPS, 0);
}

void net_guard(const char *tap, const struct net_config *c)
{
	int ifindex = (int)if_nametoindex(tap);
	int error = tc_add_clsact(ifindex);
	const char *step = "adding a clsact qdisc";
	if (error == 0) {
		error = add_check(ifindex, c);
		step = "adding a cls_bpf filter";
	}
	if (error == 0)
		return;
	const char *why = error == -EPERM ? "not permitted (no CAP_NET_ADMIN)" : error == -EPROTO ? "no answer from the kernel" :
												    strerror(-error);
	if (c->uplink)
		errx(TENDER_EXIT, "--net=%s: cannot make the tap drop frames that are not the unikernel's own: %s: %s "
				  "(the kernel needs tc's clsact and cls_bpf: CONFIG_NET_SCH_INGRESS, CONFIG_NET_CLS_BPF)",
		     tap, step, why);
	fprintf(stderr, "nabla-run: warning: --net=%s: %s: %s, so frames the unikernel writes are not checked for its MAC "
			"and address; check them on the host side\n",
		tap, step, why);
}
