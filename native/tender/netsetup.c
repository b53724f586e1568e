/*
 * netsetup.c — --net-from=IF: give the unikernel the container's network. Inside the
 * container's network namespace (with CAP_NET_ADMIN and /dev/net/tun) it reads IF's IPv4
 * address, netmask, default gateway, MAC and MTU, makes a tap with that MTU, and takes the
 * address off IF. Then --net, --net-ip, --net-gw and (unless given) --net-mac are set as if
 * given, and mod_net.c opens the tap as usual, puts its check on it (netguard.c), and joins
 * it to IF (net_join, below). core.c drops every capability right after.
 *
 * The join is two tc redirects (mirred), not a bridge: every frame that arrives on IF
 * leaves through the tap to the unikernel, and every frame the unikernel writes that passes
 * the check leaves through IF. No bridge means no forwarding database to learn or
 * mislearn, and none of the bridge's netfilter hooks or conntrack on every frame (the
 * kernel code a container's traffic reaches is what nabla exists to shrink). Redirected at
 * IF's ingress, no frame reaches the container's own kernel stack: it cannot answer for the
 * unikernel's address even were the address still on IF (it goes all the same). The
 * unikernel takes IF's MAC, as a VM does behind a tc-redirected tap (kata-containers'
 * tcfilter model, firecracker's tc-redirect-tap): to the network it is the container's
 * interface, whatever the peers resolved before it started and whatever a macvlan parent
 * delivers by MAC. (runnc, Nabla's OCI runtime, bridged from outside the container.)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
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
#define SIOCETHTOOL_ 0x8946
#define ETHTOOL_GDRVINFO_ 0x00000003
#define TUNSETIFF_ 0x400454caUL
#define TUNSETPERSIST_ 0x400454cbUL
#define IFF_TAP_ 0x0002
#define IFF_NO_PI_ 0x1000

#define TAP_NAME "nabla0"
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

/* From linux/ethtool.h: the part of struct ethtool_drvinfo read here, room for the rest. */
struct ethtool_drvinfo_ {
	uint32_t cmd;
	char driver[32];
	char rest[164];
};

/* The drivers of the interfaces a container network gives a container: a veth pair
 * (Docker's and Podman's bridges, most CNI plugins), macvlan and ipvlan, and a tap
 * (rootless Podman's pasta and slirp4netns). */
static const char *const container_drivers[] = { "veth", "macvlan", "ipvlan", "tun" };

/* --net-from takes IF over: its address goes, and every frame that arrives on it goes to
 * the unikernel. In the host's own network namespace (docker run --network host with
 * NET_ADMIN) IF is the host's interface, and the host would lose its network. Only an
 * interface whose driver is one a container network uses is taken; a NIC (virtio_net,
 * e1000, …), a bridge or anything else is refused before anything is changed. */
static void refuse_unless_container_interface(int s)
{
	struct ethtool_drvinfo_ info = { .cmd = ETHTOOL_GDRVINFO_ };
	struct ifreq ifr = { 0 };
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	ifr.ifr_data = (char *)&info;
	const char *driver = ioctl(s, SIOCETHTOOL_, &ifr) == 0 ? info.driver : "unknown";
	info.driver[sizeof info.driver - 1] = 0; /* the kernel's is terminated; be sure */
	for (size_t i = 0; i < sizeof container_drivers / sizeof *container_drivers; i++)
		if (!strcmp(driver, container_drivers[i]))
			return;
	errx(TENDER_EXIT,
	     "--net-from=%s: not a container's interface (its driver is %s; a container network gives veth, macvlan, "
	     "ipvlan or tun): is this the host's own network (docker run --network host)? Taking it over would cut "
	     "the host off. Run the container on a container network (the default, or docker network create)",
	     ifname, driver);
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

/* Match-all: a classic BPF program of one step, "return -1" (a match). */
static const struct bpf_step every_frame[] = { { 0x06 /* BPF_RET|BPF_K */, 0, 0, 0xffffffffU } };

/* What passes the tap's check (priority 1) goes out IF; what comes in on IF goes to the
 * unikernel. Once the tender is gone the tap has no reader: the redirect finds its carrier
 * off and drops the frame. */
void net_join(const char *tap, const char *uplink)
{
	int tap_index = (int)if_nametoindex(tap), if_index = (int)if_nametoindex(uplink);
	int error = tc_add_ingress_bpf(tap_index, 2, every_frame, 1, if_index);
	const char *step = "redirecting the tap's frames to the interface";
	if (error == 0) {
		error = tc_add_clsact(if_index);
		step = "adding a clsact qdisc to the interface";
	}
	if (error == 0) {
		error = tc_add_ingress_bpf(if_index, 1, every_frame, 1, tap_index);
		step = "redirecting the interface's frames to the tap";
	}
	if (error == -EPROTO)
		errx(TENDER_EXIT, "--net-from=%s: %s: no answer from the kernel", uplink, step);
	if (error != 0)
		errx(TENDER_EXIT, "--net-from=%s: %s: %s (the kernel needs tc's mirred action: CONFIG_NET_ACT_MIRRED)", uplink, step,
		     strerror(-error));
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
	refuse_unless_container_interface(s);

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

	if_ioctl(s, ifname, SIOCGIFHWADDR, &ifr, "reading the MAC address");
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		errx(TENDER_EXIT, "--net-from=%s: not an Ethernet interface (the unikernel speaks Ethernet on its tap)", ifname);
	static char mac[18];
	const uint8_t *m = (const uint8_t *)ifr.ifr_hwaddr.sa_data;
	snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	if_ioctl(s, ifname, SIOCGIFMTU, &ifr, "reading the MTU");
	int mtu = ifr.ifr_mtu;

	make_tap();
	/* The tap's frames leave through IF unchanged: no bigger than IF takes. */
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_mtu = mtu;
	if_ioctl(s, TAP_NAME, SIOCSIFMTU, &ifr, "setting the tap's MTU");
	/* The address leaves the container's kernel, which sees no frame once IF is joined,
	 * but must not send from the unikernel's address either. Its default route goes with it. */
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_addr.sa_family = AF_INET;
	if_ioctl(s, ifname, SIOCSIFADDR, &ifr, "taking the address off the interface");
	set_up(s, TAP_NAME);
	close(s);

	o->net = TAP_NAME;
	o->net_ip = ip_len;
	o->net_gw = *gw ? gw : NULL;
	if (!o->net_mac)
		o->net_mac = mac;
}
