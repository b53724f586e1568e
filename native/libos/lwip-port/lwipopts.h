/*
 * lwIP 2.1.3 (Debian's source) as the libOS's TCP/IP stack: NO_SYS with the raw API only,
 * IPv4 TCP and UDP over one Ethernet tap, plus 127.0.0.1. Everything runs on the green
 * thread that happens to be in the libOS (one vCPU, no preemption): no locks. The BSD
 * socket calls are ours (net.c), not lwIP's sockets.c.
 */
#ifndef NABLA_LWIPOPTS_H
#define NABLA_LWIPOPTS_H

#include <stddef.h>
#include <stdint.h>

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0 /* the app's resolver (libc) asks a DNS server over UDP itself */
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_STATS 0
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1 /* libc has htons & co. */

/* Memory: lwIP's heap and pools both come from net_mem_malloc (port.c): size classes in
 * guest memory, grown on demand up to a quarter of --mem. */
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT 16
void *net_mem_malloc(size_t len);
void *net_mem_calloc(size_t count, size_t len);
void net_mem_free(void *p);
#define mem_clib_malloc net_mem_malloc
#define mem_clib_calloc net_mem_calloc
#define mem_clib_free net_mem_free
/* lwIP's heap functions share names with the libOS's page allocator (mem.c): renamed here,
 * so every file that includes lwIP's headers means lwIP's. */
#define mem_init lwip_mem_init
#define mem_free lwip_mem_free
#define mem_malloc lwip_mem_malloc
#define mem_calloc lwip_mem_calloc
#define mem_trim lwip_mem_trim

/* TCP: full-size segments, a 64 KiB window and send buffer (the most without window
 * scaling); listen backlogs enforced by lwIP (SYNs beyond it are dropped, as on Linux). */
#define TCP_MSS 1460
#define TCP_WND (44 * TCP_MSS)
#define TCP_SND_BUF (44 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_QUEUE_OOSEQ 1
#define TCP_LISTEN_BACKLOG 1
#define LWIP_TCP_KEEPALIVE 1 /* TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT */
#define SO_REUSE 1 /* SO_REUSEADDR: bind over TIME_WAIT */
#define LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS 1
uint32_t net_random32(void);
#define LWIP_RAND() net_random32()
/* Initial sequence numbers from the libOS's CSPRNG, not lwIP's guessable counter. */
#define LWIP_HOOK_TCP_ISN(local_ip, local_port, remote_ip, remote_port) net_random32()

/* Links: the tap and a loopback for 127.0.0.1 (and the unikernel's own address), which
 * the frame pump drains with netif_poll_all(). Outgoing packets are one pbuf each, so the
 * tap driver writes them without copying. */
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_HAVE_LOOPIF 1
#define LWIP_LOOPBACK_MAX_PBUFS 0
#define LWIP_NETIF_TX_SINGLE_PBUF 1
#define ARP_TABLE_SIZE 32
#define ARP_QUEUEING 1
#define ARP_QUEUE_LEN 8
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define IP_DEFAULT_TTL 64

#endif
