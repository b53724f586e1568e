/*
 * dnsrelay.c — the container's DNS server where it sits on the container's own loopback:
 * Docker's embedded server at 127.0.0.11, which user-made networks (compose) put in
 * resolv.conf. The unikernel's frames leave through the tap and never meet the container's
 * stack, where that address and Docker's NAT rule for it live, so the tender connected a
 * UDP socket to it (nabla_boot.dns_fd; the tender's mod_net.c). A guest socket's datagram
 * to dns_ip:53 comes here instead of into lwIP and goes out on that socket under an ID of
 * the relay's own (unique among the queries in flight: two sockets may pick the same one),
 * remembered with the query's own ID and the socket's port; the answer to it gets the
 * query's ID back and is handed to that port's pcb as lwIP hands over a datagram from
 * dns_ip:53. UDP only: a resolver's TCP retry (for an answer too long for UDP) finds no
 * server. An answer nobody waits for is dropped. (A frame from the wire claiming to come
 * from 127.0.0.11 never gets here: tapif.c drops loopback sources, as Linux does.)
 */
#include "../libos.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"

#define DNS_MSG_MAX 4096 /* the largest EDNS answer resolvers ask for */
#define DNS_HEADER 12
#define PENDING_MAX 64 /* queries in flight: a new one takes the oldest's place */
#define PUMP_MAX 16 /* answers per pump: then threads run again */

static struct {
	uint16_t relay_id; /* the ID the server saw */
	uint16_t id, port; /* the query's own, and its socket's port (0: a free place) */
} pending[PENDING_MAX];
static unsigned next_place;
static uint16_t next_relay_id;
static uint8_t msg[DNS_MSG_MAX];

int dns_relay_takes(uint32_t ip, uint16_t port)
{
	return libos_boot->dns_fd >= 0 && port == 53 && ip == libos_boot->dns_ip;
}

/* p, sent by pcb's socket to dns_ip:53: out to the server, as a datagram is, with no
 * promise (a full socket buffer or a refused server loses it, and the resolver asks again). */
void dns_relay_send(struct udp_pcb *pcb, struct pbuf *p)
{
	if (!pcb->local_port && udp_bind(pcb, IP4_ADDR_ANY, 0) != ERR_OK) return; /* as lwIP binds before sending */
	if (p->tot_len < DNS_HEADER || p->tot_len > sizeof msg) return; /* no DNS query: the server would drop it */
	u16_t len = pbuf_copy_partial(p, msg, sizeof msg, 0);
	unsigned place = next_place++ % PENDING_MAX;
	pending[place].id = (uint16_t)(msg[0] << 8 | msg[1]);
	pending[place].port = pcb->local_port;
	pending[place].relay_id = next_relay_id++; /* PENDING_MAX apart at least: unique in flight */
	msg[0] = (uint8_t)(pending[place].relay_id >> 8), msg[1] = (uint8_t)pending[place].relay_id;
	hc_dns_write(msg, len);
}

static struct udp_pcb *pcb_of_port(u16_t port)
{
	for (struct udp_pcb *pcb = udp_pcbs; pcb; pcb = pcb->next)
		if (pcb->local_port == port && pcb->recv) return pcb;
	return 0;
}

/* The answers the server sent, each to the socket that asked. */
void dns_relay_pump(void)
{
	for (int i = 0; i < PUMP_MAX; i++) {
		long n = hc_dns_read(msg, sizeof msg);
		if (n < 0) return; /* -EAGAIN: no more */
		if (n < DNS_HEADER) continue;
		uint16_t id = (uint16_t)(msg[0] << 8 | msg[1]), port = 0;
		for (int k = 0; k < PENDING_MAX && !port; k++)
			if (pending[k].port && pending[k].relay_id == id) {
				port = pending[k].port;
				pending[k].port = 0;
				msg[0] = (uint8_t)(pending[k].id >> 8), msg[1] = (uint8_t)pending[k].id;
			}
		struct udp_pcb *pcb = port ? pcb_of_port(port) : 0;
		struct pbuf *p = pcb ? pbuf_alloc(PBUF_TRANSPORT, (u16_t)n, PBUF_RAM) : 0;
		if (!p) continue;
		pbuf_take(p, msg, (u16_t)n);
		ip_addr_t from = IPADDR4_INIT(libos_boot->dns_ip);
		pcb->recv(pcb->recv_arg, pcb, p, &from, 53); /* takes p */
	}
}
