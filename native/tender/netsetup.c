/*
 * netsetup.c — --net-from=IF: give the unikernel the container's network. Inside the
 * container's network namespace (with CAP_NET_ADMIN and /dev/net/tun) it reads IF's IPv4
 * address, netmask and default gateway, makes a tap and a bridge joining the tap to IF,
 * and takes the address off IF, so that the container's kernel no longer answers for it
 * and the unikernel, on the tap, does. Then --net, --net-ip and --net-gw are set as if
 * given, and mod_net.c opens the tap as usual. core.c drops every capability right after.
 * (runnc, Nabla's OCI runtime, did the same from outside the container.)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tender.h"

/* From linux/if_tun.h and linux/sockios.h (musl-gcc sees no linux/ headers). */
#define TUNSETIFF_ 0x400454caUL
#define TUNSETPERSIST_ 0x400454cbUL
#define IFF_TAP_ 0x0002
#define IFF_NO_PI_ 0x1000
#define SIOCBRADDBR_ 0x89a0
#define SIOCBRADDIF_ 0x89a2
/* From linux/rtnetlink.h and linux/if_link.h. */
#define RTM_SETLINK_ 19
#define AF_BRIDGE_ 7
#define IFLA_PROTINFO_ 12
#define IFLA_BRPORT_LEARNING_ 8

#define TAP_NAME "nabla0"
#define BRIDGE_NAME "nabla-br0"
#define FLAGS_HINT "docker run --cap-add NET_ADMIN --device /dev/net/tun"

static const char *ifname;

static _Noreturn void fail(const char *what)
{
	if (errno == EPERM || errno == EACCES)
		errx(TENDER_EXIT, "--net-from=%s: %s: not permitted (the container needs: " FLAGS_HINT ")", ifname, what);
	err(TENDER_EXIT, "--net-from=%s: %s", ifname, what);
}

static void if_ioctl(int s, const char *name, unsigned long request, struct ifreq *ifr, const char *what)
{
	strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(s, request, ifr) < 0)
		fail(what);
}

static void set_up(int s, const char *name)
{
	struct ifreq ifr = { 0 };
	if_ioctl(s, name, SIOCGIFFLAGS, &ifr, "reading an interface's flags");
	ifr.ifr_flags |= IFF_UP;
	if_ioctl(s, name, SIOCSIFFLAGS, &ifr, "bringing an interface up");
}

/* The default route's gateway through IF, from /proc/net/route, or "" when there is none. */
static void default_gateway(char *out, size_t size)
{
	*out = 0;
	FILE *f = fopen("/proc/net/route", "re");
	if (!f)
		return;
	char line[256], iface[IFNAMSIZ + 1];
	unsigned dest, gw, flags;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "%16s %x %x %x", iface, &dest, &gw, &flags) == 4 && !strcmp(iface, ifname) && dest == 0 &&
		    (flags & 0x2 /* RTF_GATEWAY */)) {
			struct in_addr a = { gw }; /* the file holds it in network byte order, as hex */
			inet_ntop(AF_INET, &a, out, (socklen_t)size);
			break;
		}
	fclose(f);
}

/* The tun device, its node made first where the container has none: Docker's default
 * capabilities include CAP_MKNOD and its default device rules allow c 10:200, so there
 * --cap-add NET_ADMIN alone is enough (core.c drops CAP_MKNOD with the others). */
static int open_tun(void)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (mkdir("/dev/net", 0755) < 0 && errno != EEXIST)
		return -1;
	if (mknod("/dev/net/tun", S_IFCHR | 0600, makedev(10, 200)) < 0 && errno != EEXIST) {
		if (errno == EPERM)
			errno = ENOENT; /* no CAP_MKNOD: it is missing, and cannot be made */
		return -1;
	}
	return open("/dev/net/tun", O_RDWR | O_CLOEXEC);
}

/* The tap, persistent so it outlives this fd (mod_net.c attaches to it again); it goes
 * away with the container's network namespace. */
static void make_tap(void)
{
	int fd = open_tun();
	if (fd < 0 && errno == ENOENT)
		errx(TENDER_EXIT, "--net-from=%s: /dev/net/tun is missing (the container needs: " FLAGS_HINT ")", ifname);
	if (fd < 0)
		fail("opening /dev/net/tun");
	struct ifreq ifr = { 0 };
	ifr.ifr_flags = IFF_TAP_ | IFF_NO_PI_;
	if_ioctl(fd, TAP_NAME, TUNSETIFF_, &ifr, "making the tap " TAP_NAME);
	if (ioctl(fd, TUNSETPERSIST_, 1) < 0)
		fail("making the tap persistent");
	close(fd);
}

/* The bridge must never learn the unikernel's MAC on IF. A network whose host end reflects
 * frames back (hairpin mode, as podman's CNI bridge and many Kubernetes bridges set) sends
 * the unikernel's own ARP broadcasts back up IF; a learning port would then move its MAC
 * there, and traffic for it would go out again instead of to the tap, until the host
 * re-resolves it (about a minute). With two ports, a frame for a MAC not known on the tap
 * goes to IF anyway: learning on IF buys nothing. No ioctl sets it: rtnetlink, as
 * `bridge link set dev IF learning off` does. */
static void no_learning_on(const char *port)
{
	struct {
		uint8_t family, pad;
		uint16_t type;
		int32_t index;
		uint32_t flags, change;
	} ifi = { AF_BRIDGE_, 0, 0, (int32_t)if_nametoindex(port), 0, 0 };
	struct nl_buf req;
	nl_begin(&req, &ifi, sizeof ifi);
	size_t protinfo = nl_nest_begin(&req, IFLA_PROTINFO_);
	uint8_t off = 0;
	nl_put(&req, IFLA_BRPORT_LEARNING_, &off, sizeof off);
	nl_nest_end(&req, protinfo);
	int error = nl_request(&req, RTM_SETLINK_, 0);
	if (error == -EPROTO)
		errx(TENDER_EXIT, "--net-from=%s: no answer from the kernel about the bridge port", ifname);
	if (error != 0) {
		errno = -error;
		fail("asking the bridge not to learn addresses on the interface");
	}
}

void net_from_container(struct tender_opts *o)
{
	ifname = o->net_from;
	if (o->net || o->net_ip || o->net_gw)
		errx(TENDER_EXIT, "--net-from=%s takes the address from the interface: leave out --net, --net-ip and --net-gw", ifname);
	if (o->print_policy) { /* the policy only needs to know there is a network */
		o->net = TAP_NAME;
		return;
	}
	if (strlen(ifname) >= IFNAMSIZ || if_nametoindex(ifname) == 0)
		errx(TENDER_EXIT, "--net-from=%s: no such interface here (is the container on a network? not --network none or host)",
		     ifname);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		fail("socket(AF_INET) for the interface ioctls");

	struct ifreq ifr = { 0 };
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(s, SIOCGIFADDR, &ifr) < 0)
		errx(TENDER_EXIT, "--net-from=%s: the interface has no IPv4 address", ifname);
	struct in_addr ip = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
	if_ioctl(s, ifname, SIOCGIFNETMASK, &ifr, "reading the netmask");
	uint32_t mask = ntohl(((struct sockaddr_in *)&ifr.ifr_netmask)->sin_addr.s_addr);
	static char ip_len[INET_ADDRSTRLEN + 4], gw[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &ip, ip_len, sizeof ip_len);
	snprintf(ip_len + strlen(ip_len), 4, "/%d", __builtin_popcount(mask));
	default_gateway(gw, sizeof gw);

	make_tap();
	struct ifreq br = { 0 };
	strncpy(br.ifr_name, BRIDGE_NAME, IFNAMSIZ - 1);
	if (ioctl(s, SIOCBRADDBR_, BRIDGE_NAME) < 0 && errno != EEXIST)
		fail("making the bridge " BRIDGE_NAME);
	const char *ports[] = { ifname, TAP_NAME };
	for (int i = 0; i < 2; i++) {
		memset(&br, 0, sizeof br);
		br.ifr_ifindex = (int)if_nametoindex(ports[i]);
		if_ioctl(s, BRIDGE_NAME, SIOCBRADDIF_, &br, "joining an interface to the bridge");
	}
	no_learning_on(ifname);
	/* The address leaves the container's kernel: it would answer (and reset) what is
	 * meant for the unikernel. Its default route goes with it. */
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_addr.sa_family = AF_INET;
	if_ioctl(s, ifname, SIOCSIFADDR, &ifr, "taking the address off the interface");
	set_up(s, TAP_NAME);
	set_up(s, BRIDGE_NAME);
	close(s);

	o->net = TAP_NAME;
	o->net_ip = ip_len;
	o->net_gw = *gw ? gw : NULL;
}
