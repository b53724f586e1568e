/*
 * lwIP's links and the pump that runs it, from the scheduler (net_idle when every thread
 * waits, net_tick between switches). The loopback (127.0.0.1, and the unikernel's own
 * address) is always there: its packets are queued in guest memory and delivered by the
 * pump itself, with no host call. The tender's tap, when it gave one, is a second netif:
 * frames are read from the O_NONBLOCK tap until it has none; the idle wait is the tender's
 * epoll set over the tap (and the DNS relay's socket: dnsrelay.c), with a timeout for the
 * nearest thread deadline or lwIP timer; a wait under a millisecond (epoll's unit) is a
 * ppoll sleep. Without a tap the idle wait is that ppoll sleep, and only while TCP's timer
 * runs.
 */
#include <time.h>

#include "../libos.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define PUMP_MAX 64 /* frames per pump: then threads run again */
#define TICK_CYCLES (1 << 20) /* busy threads: a look at the tap at most this often (TSC) */
#define TIME_WAIT_MAX 512 /* lwIP looks pcbs up in lists: a server closing first leaves many */

int net_woke; /* set by net.c whenever lwIP's callbacks wake a thread */
static struct netif tap;
static int stack; /* lwIP runs: from boot with a tap, else from the app's first socket */
static int up; /* the tap is there */
static struct pbuf *spare; /* a frame-sized pbuf waiting for the next read */
static uint8_t *frame; /* where a chained pbuf (IP fragments) is gathered to be sent */
static uint16_t frame_max;

int net_up(void)
{
	return up;
}

/* lwIP hands us one pbuf per frame (LWIP_NETIF_TX_SINGLE_PBUF). A frame the tap refuses
 * (its queue full) is lost like on a wire; TCP sends it again. */
static err_t tap_output(struct netif *nif, struct pbuf *p)
{
	(void)nif;
	if (p->next) {
		hc_net_write(frame, pbuf_copy_partial(p, frame, frame_max, 0));
	} else {
		hc_net_write(p->payload, p->len);
	}
	return ERR_OK;
}

static err_t tap_init(struct netif *nif)
{
	nif->name[0] = 't';
	nif->name[1] = 'p';
	nif->output = etharp_output;
	nif->linkoutput = tap_output;
	nif->mtu = libos_boot->net_mtu;
	nif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(nif->hwaddr, libos_boot->net_mac, ETH_HWADDR_LEN);
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
	return ERR_OK;
}

/* An app that never makes a socket pays nothing for lwIP: no memory, timers or random
 * numbers taken at boot. */
void net_start(void)
{
	if (stack) return;
	stack = 1;
	lwip_init(); /* also brings up the loopback, 127.0.0.1 */
}

void net_init(void)
{
	if (libos_boot->net_fd < 0) return;
	if (libos_boot->net_mtu < 576 || libos_boot->net_mtu > 65000) libos_panic("the tender gave the network an MTU outside 576..65000");
	frame_max = (uint16_t)(libos_boot->net_mtu + SIZEOF_ETH_HDR + 4 /* a VLAN tag */);
	frame = mem_alloc(frame_max);
	net_start();
	ip4_addr_t ip = { libos_boot->net_ip }, mask = { libos_boot->net_mask }, gw = { libos_boot->net_gw };
	if (!netif_add(&tap, &ip, &mask, &gw, 0, tap_init, ethernet_input)) libos_panic("lwIP refused the tap netif");
	netif_set_default(&tap);
	netif_set_up(&tap);
	up = 1;
}

/* A SYN for a connection lwIP still holds in TIME_WAIT (the app closed first, and the
 * peer, say a load generator, now uses the same port again): Linux starts the new
 * connection when the SYN's sequence number is past the old one's, lwIP would answer
 * with an ACK and the peer would hang for two MSL. So the old pcb goes first. */
static void reuse_time_wait(const uint8_t *f, size_t len)
{
	if (len < SIZEOF_ETH_HDR + 40 || f[12] != 0x08 || f[13] != 0x00) return; /* IPv4 */
	const uint8_t *ip = f + SIZEOF_ETH_HDR;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	if (ip[9] != IP_PROTO_TCP || len < SIZEOF_ETH_HDR + ihl + 20) return;
	const uint8_t *tcp = ip + ihl;
	if ((tcp[13] & (TCP_SYN | TCP_ACK)) != TCP_SYN) return;
	uint32_t src, seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
	memcpy(&src, ip + 12, 4);
	uint16_t sport = (uint16_t)(tcp[0] << 8 | tcp[1]), dport = (uint16_t)(tcp[2] << 8 | tcp[3]);
	for (struct tcp_pcb *pcb = tcp_tw_pcbs; pcb; pcb = pcb->next)
		if (pcb->remote_port == sport && pcb->local_port == dport && ip_2_ip4(&pcb->remote_ip)->addr == src &&
		    TCP_SEQ_GT(seq, pcb->rcv_nxt)) {
			tcp_abort(pcb); /* a TIME_WAIT pcb goes without a word */
			return;
		}
}

/* IPv4 from a loopback address (127/8) that came in on the wire: Linux drops such a martian
 * source, lwIP would not. Another container on the network could make one, and it would
 * reach a socket as from 127.0.0.1, or from 127.0.0.11:53 as a DNS answer (dnsrelay.c). */
static int loopback_source(const uint8_t *f, size_t len)
{
	return len >= SIZEOF_ETH_HDR + 20 && f[12] == 0x08 && f[13] == 0x00 && f[SIZEOF_ETH_HDR + 12] == 127;
}

/* Reads the frames the tap holds into lwIP, straight into pbufs. */
static void pump(void)
{
	for (int i = 0; i < PUMP_MAX; i++) {
		if (!spare && !(spare = pbuf_alloc(PBUF_RAW, frame_max, PBUF_RAM))) return; /* out of memory: they wait */
		long len = hc_net_read(spare->payload, frame_max);
		if (len <= 0) return; /* -EAGAIN: no more */
		struct pbuf *p = spare;
		spare = 0;
		pbuf_realloc(p, (uint16_t)len);
		if (loopback_source(p->payload, (size_t)len)) {
			pbuf_free(p);
			continue;
		}
		if (tcp_tw_pcbs) reuse_time_wait(p->payload, (size_t)len);
		if (tap.input(p, &tap) != ERR_OK) pbuf_free(p);
	}
}

/* What hc_net_wait found waiting: frames on the tap, answers on the DNS relay's socket. */
static void take(long ready)
{
	if (ready < 0) return;
	if (ready & NET_READY_TAP) pump();
	if (ready & NET_READY_DNS) dns_relay_pump();
}

/* Every connection the app closes first waits in TIME_WAIT for two MSL (2 minutes), and
 * lwIP scans that list for every new connection: past TIME_WAIT_MAX the oldest go (the
 * list is newest first), as lwIP itself does when memory runs out. */
static void trim_time_wait(void)
{
	static unsigned calls;
	if (++calls % 64) return;
	struct tcp_pcb *p = tcp_tw_pcbs;
	for (int n = 1; p && n < TIME_WAIT_MAX; n++) p = p->next;
	while (p && p->next) tcp_abort(p->next); /* unlinks it */
}

/* One round of a netif's loopback: the packets it holds now. lwIP's netif_poll would
 * also take those their answers add, and two ends that each answer at once (both sending
 * over one connection) would keep it going without ever letting a thread read. */
static void loop_round(struct netif *n)
{
	struct pbuf *p = n->loop_first;
	n->loop_first = n->loop_last = 0;
	while (p) {
		struct pbuf *end = p; /* a packet may be a chain: up to the pbuf where it ends */
		while (end->len != end->tot_len) end = end->next;
		struct pbuf *next = end->next;
		end->next = 0;
		p->if_idx = netif_get_index(n);
		if (ip_input(p, n) != ERR_OK) pbuf_free(p);
		p = next;
	}
}

/* The loopback's packets, round after round while answers to answers come (a handshake
 * over 127.0.0.1), until one wakes a thread. 1 if some are still queued: the threads they
 * woke run first. No host call. */
static int run_loopback(void)
{
	struct netif *n;
	for (int round = 0; round < 8; round++) {
		int queued = 0;
		NETIF_FOREACH(n)
			if (n->loop_first) {
				queued = 1;
				loop_round(n);
			}
		if (!queued) return 0;
		if (net_woke) break;
	}
	NETIF_FOREACH(n)
		if (n->loop_first) return 1;
	return 0;
}

/* Work that needs no waiting: due timers and the loopback's packets. */
static int run_stack(void)
{
	sys_check_timeouts();
	trim_time_wait();
	return run_loopback();
}

/* lwIP's timers: all of them with a tap (ARP, reassembly, TCP); without one only TCP's
 * (retransmissions, delayed ACKs, TIME_WAIT), which runs while connections exist. With
 * none due, the scheduler waits as if there were no stack (and can tell a deadlock). */
static int timers_matter(void)
{
	return up || tcp_active_pcbs || tcp_tw_pcbs;
}

int net_idle(uint64_t deadline)
{
	if (!stack) return 0;
	net_woke = 0;
	if (run_stack() || net_woke) return 1;
	if (!timers_matter()) return 0;
	uint64_t now = time_now_ns(CLOCK_MONOTONIC);
	uint32_t timer = sys_timeouts_sleeptime();
	if (timer != SYS_TIMEOUTS_SLEEPTIME_INFINITE) {
		uint64_t at = now + (uint64_t)timer * 1000000u;
		if (!deadline || at < deadline) deadline = at;
	}
	int ms = -1;
	if (deadline) {
		uint64_t left = deadline > now ? deadline - now : 0;
		if (left < 1000000u || !up) {
			struct timespec ts = { (time_t)(left / 1000000000u), (long)(left % 1000000000u) };
			if (left) hc_sleep(&ts);
			run_stack();
			return 1;
		}
		ms = left / 1000000u > 0x7fffffff ? 0x7fffffff : (int)(left / 1000000u);
	}
	if (!up) return 0; /* not met: lwIP's cyclic timers always give a deadline */
	take(hc_net_wait(ms));
	run_stack();
	return 1;
}

/* While threads keep running (switching, yielding, preempted; a Go runtime whose idle
 * threads spin), frames and timers still need their turn: every ~0.3 ms (2^20 cycles at
 * 3 GHz), timed by the TSC, which costs no host call. The loopback's packets, which cost
 * none either, are delivered at every switch. */
void net_tick(void)
{
	static uint64_t last;
	if (!stack) return;
	uint64_t now = __builtin_ia32_rdtsc();
	if (now - last < TICK_CYCLES) {
		run_loopback();
		return;
	}
	last = now;
	if (up) take(hc_net_wait(0));
	run_stack();
}
