/*
 * mod_net.c — the network (--net=TAP): an existing tap interface, attached through
 * /dev/net/tun (IFF_TAP | IFF_NO_PI: plain Ethernet frames) at fd NET_FD, O_NONBLOCK, and
 * an epoll set watching it at NET_WAIT_FD. The guest may read and write frames on the tap
 * and wait on the set (epoll_pwait), nothing else: no epoll_ctl, no ioctl, no other fd.
 * The unikernel's IPv4 address, netmask, gateway and MAC come from the flags, its MTU
 * from the tap.
 *
 * The DNS relay: a DNS server on the container's own loopback (Docker's embedded one at
 * 127.0.0.11, which user-made networks put in resolv.conf) is out of the unikernel's reach,
 * since its frames leave through the tap and never meet the container's stack, where
 * Docker's NAT rule for that address lives. So the tender connects a UDP socket to it
 * (DNS_FD, O_NONBLOCK, in the same epoll set) and the libOS relays the guest's queries to
 * 127.0.0.11:53 over it: read and write on that fd too, nothing else.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tender.h"

/* From linux/if_tun.h (musl-gcc sees no linux/ headers). */
#define TUNSETIFF_ 0x400454caUL /* _IOW('T', 202, int) */
#define IFF_TAP_ 0x0002
#define IFF_NO_PI_ 0x1000

/* A.B.C.D in network byte order, or exit naming the flag as given. */
static uint32_t parse_ip(const char *flag, const char *given, const char *s, const char *want)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		errx(TENDER_EXIT, "%s=%s: not an IPv4 address (%s)", flag, given, want);
	return a.s_addr;
}

static void parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6 || strlen(s) != 17)
		errx(TENDER_EXIT, "--net-mac=%s: not a MAC address (xx:xx:xx:xx:xx:xx)", s);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	if (mac[0] & 1)
		errx(TENDER_EXIT, "--net-mac=%s: a multicast address (the first byte must be even)", s);
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		errx(TENDER_EXIT, "--net-mac=%s: all zero", s);
}

void net_parse(struct net_config *c, const struct tender_opts *o)
{
	memset(c, 0, sizeof *c);
	c->uplink = o->net_from;
	const char *stray = o->net_ip ? "--net-ip" : (o->net_gw ? "--net-gw" : (o->net_mac ? "--net-mac" : NULL));
	if (!o->net) {
		if (stray)
			errx(TENDER_EXIT, "%s is for a network: add --net=TAP", stray);
		return;
	}
	if (strlen(o->net) >= IFNAMSIZ)
		errx(TENDER_EXIT, "--net=%s: an interface name has at most %d characters", o->net, IFNAMSIZ - 1);
	if (!o->net_ip && o->print_policy)
		return; /* the policy does not depend on the addresses */
	if (!o->net_ip)
		errx(TENDER_EXIT, "--net=%s needs --net-ip=A.B.C.D/LEN, the unikernel's address", o->net);

	/* --net-ip=A.B.C.D/LEN: a host address inside its subnet. */
	const char *slash = strchr(o->net_ip, '/'), *digits = slash ? slash + 1 : "";
	size_t addr_len = slash ? (size_t)(slash - o->net_ip) : 0;
	int len = atoi(digits);
	char ip[INET_ADDRSTRLEN];
	if (!addr_len || addr_len >= sizeof ip || !*digits || strlen(digits) > 2 || strspn(digits, "0123456789") != strlen(digits) ||
	    len < 1 || len > 32)
		errx(TENDER_EXIT, "--net-ip=%s: not an IPv4 address with a prefix length (A.B.C.D/LEN, LEN 1..32)", o->net_ip);
	memcpy(ip, o->net_ip, addr_len);
	ip[addr_len] = 0;
	c->ip = parse_ip("--net-ip", o->net_ip, ip, "A.B.C.D/LEN");
	c->mask = htonl((uint32_t)(0xffffffffULL << (32 - len)));
	uint32_t host = ntohl(c->ip), hostmask = ~ntohl(c->mask);
	if (host == 0 || (host >> 24) == 127 || (host >> 28) == 14 || host == 0xffffffffU)
		errx(TENDER_EXIT, "--net-ip=%s: not a host's address (unspecified, loopback, multicast or broadcast)", o->net_ip);
	if (len <= 30 && ((host & hostmask) == 0 || (host & hostmask) == hostmask))
		errx(TENDER_EXIT, "--net-ip=%s: the network's or its broadcast address, not a host's", o->net_ip);

	if (o->net_gw) {
		c->gw = parse_ip("--net-gw", o->net_gw, o->net_gw, "A.B.C.D");
		if ((c->gw & c->mask) != (c->ip & c->mask) || c->gw == c->ip)
			errx(TENDER_EXIT, "--net-gw=%s: not another address inside --net-ip=%s", o->net_gw, o->net_ip);
	}
	/* Default MAC: locally administered (02), then 'n' and the IPv4 address: the same
	 * address gets the same MAC after a restart, so the peers' ARP caches stay right. */
	if (o->net_mac) {
		parse_mac(o->net_mac, c->mac);
	} else {
		c->mac[0] = 0x02;
		c->mac[1] = 0x6e;
		memcpy(c->mac + 2, &c->ip, 4);
	}
}

/* fd as exactly `want` (every fd >= 3 was closed, so F_DUPFD gives exactly that). */
static int move_fd(int fd, int want, const char *what)
{
	if (fd == want)
		return fd;
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, want);
	if (moved != want)
		errx(TENDER_EXIT, "%s: fcntl(F_DUPFD, %d) gave fd %d", what, want, moved);
	close(fd);
	return want;
}

/* SIOCGIF* about the tap, through a throw-away socket (AF_UNIX: no network needed). */
static void if_query(const char *tap, unsigned long request, struct ifreq *ifr)
{
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(ifr, 0, sizeof *ifr);
	strncpy(ifr->ifr_name, tap, IFNAMSIZ - 1);
	if (s < 0 || ioctl(s, request, ifr) < 0)
		err(TENDER_EXIT, "--net=%s: cannot read the interface's settings", tap);
	close(s);
}

void net_open(struct nabla_boot *boot, const char *tap, const struct net_config *c)
{
	boot->net_fd = boot->net_wait_fd = -1;
	if (!tap)
		return;
	/* The tap must exist: TUNSETIFF would otherwise make a new one (or fail with EPERM),
	 * and nobody would be at its other end. */
	if (if_nametoindex(tap) == 0)
		errx(TENDER_EXIT, "--net=%s: no such network interface (make the tap first: ip tuntap add dev %s mode tap)", tap, tap);
	struct ifreq ifr;
	if_query(tap, SIOCGIFFLAGS, &ifr);
	if (!(ifr.ifr_flags & IFF_UP))
		errx(TENDER_EXIT, "--net=%s: the interface is down (ip link set %s up)", tap, tap);

	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		errx(TENDER_EXIT, "--net=%s: /dev/net/tun is missing (in a container: docker run --device /dev/net/tun)", tap);
	if (fd < 0 && errno == EACCES)
		errx(TENDER_EXIT, "--net=%s: no permission to open /dev/net/tun (run as root, or give this user access to it)", tap);
	if (fd < 0 && errno == EPERM) /* the device cgroup */
		errx(TENDER_EXIT, "--net=%s: opening /dev/net/tun is not permitted (in a container: docker run --device /dev/net/tun)", tap);
	if (fd < 0)
		err(TENDER_EXIT, "--net=%s: cannot open /dev/net/tun", tap);
	memset(&ifr, 0, sizeof ifr);
	strncpy(ifr.ifr_name, tap, IFNAMSIZ - 1);
	ifr.ifr_flags = IFF_TAP_ | IFF_NO_PI_;
	if (ioctl(fd, TUNSETIFF_, &ifr) < 0) {
		if (errno == EPERM)
			errx(TENDER_EXIT, "--net=%s: attaching to the tap needs CAP_NET_ADMIN (docker run --cap-add NET_ADMIN), "
					  "or a tap made for this user (ip tuntap add dev %s mode tap user UID)",
			     tap, tap);
		if (errno == EBUSY)
			errx(TENDER_EXIT, "--net=%s: the tap is in use by another process", tap);
		if (errno == EINVAL)
			errx(TENDER_EXIT, "--net=%s: not a tap interface (a tun, or another kind of device)", tap);
		err(TENDER_EXIT, "--net=%s: ioctl(TUNSETIFF) failed", tap);
	}
	fd = move_fd(fd, NET_FD, "/dev/net/tun");
	net_guard(tap, c);
	if (c->uplink)
		net_join(tap, c->uplink); /* after the check: only what passes it is let out */
	if_query(tap, SIOCGIFMTU, &ifr);
	int mtu = ifr.ifr_mtu;
	if (mtu < 576 || mtu > 65000)
		errx(TENDER_EXIT, "--net=%s: MTU %d is outside 576..65000", tap, mtu);

	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		err(TENDER_EXIT, "epoll_create1 failed");
	ep = move_fd(ep, NET_WAIT_FD, "epoll");
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = NET_FD };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, NET_FD, &ev) < 0)
		err(TENDER_EXIT, "epoll_ctl(the tap) failed");

	boot->net_fd = NET_FD;
	boot->net_wait_fd = NET_WAIT_FD;
	boot->net_ip = c->ip;
	boot->net_mask = c->mask;
	boot->net_gw = c->gw;
	memcpy(boot->net_mac, c->mac, 6);
	boot->net_mtu = (uint16_t)mtu;
}

void net_dns_open(struct nabla_boot *boot, uint32_t nameserver)
{
	boot->dns_fd = -1;
	if (boot->net_wait_fd < 0 || !nameserver)
		return;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(53), .sin_addr.s_addr = nameserver };
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &to.sin_addr, ip, sizeof ip);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0)
		err(TENDER_EXIT, "the DNS relay: a UDP socket to %s:53 (resolv.conf's nameserver) failed", ip);
	fd = move_fd(fd, DNS_FD, "the DNS relay's socket");
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = DNS_FD };
	if (epoll_ctl(NET_WAIT_FD, EPOLL_CTL_ADD, DNS_FD, &ev) < 0)
		err(TENDER_EXIT, "epoll_ctl(the DNS relay's socket) failed");
	boot->dns_fd = DNS_FD;
	boot->dns_ip = nameserver;
}

void net_rules(struct policy *p, const char *tap)
{
	if (!tap)
		return;
	/* write(<net>): a frame out; read(<net>): a frame in (the fd is O_NONBLOCK); the same
	 * for a DNS message on <dns> (closed but for a relay: the guest cannot open fds); and
	 * epoll_pwait(<netwait>): idle until a frame comes or a timeout, the set fixed here. */
	policy_allow(p, SYS_write, NET_FD, "<net>");
	policy_allow(p, SYS_write, DNS_FD, "<dns>");
	policy_add(p, (struct rule){ "read", SYS_read, 0, "fd", 2, { { NET_FD, "<net>" }, { DNS_FD, "<dns>" } } });
	policy_add(p, (struct rule){ "epoll_pwait", SYS_epoll_pwait, 0, "fd", 1, { { NET_WAIT_FD, "<netwait>" } } });
}
