/*
 * Route netlink, just enough to list the interfaces: socket(AF_NETLINK, SOCK_RAW,
 * NETLINK_ROUTE), bind, getsockname, a dump request of links (RTM_GETLINK) or addresses
 * (RTM_GETADDR) sent, its answer received. That is how glibc's getifaddrs (Node's
 * os.networkInterfaces(), Python's socket.if_nameindex) and Go's net.Interfaces() ask.
 * The interfaces are the unikernel's own: lo (127.0.0.1/8), and eth0 with the tap's
 * address and MAC when there is a network. Nothing here reaches the host. Any other
 * request is answered with EOPNOTSUPP; routes, neighbours and changes are not served.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "vfs.h"

#define NETLINK_ROUTE_ 0
#define NLMSG_ERROR_ 2
#define NLMSG_DONE_ 3
#define NLM_F_MULTI_ 2
#define NLM_F_ACK_ 4
#define NLM_F_DUMP_ 0x300
#define RTM_NEWLINK_ 16
#define RTM_GETLINK_ 18
#define RTM_NEWADDR_ 20
#define RTM_GETADDR_ 22
#define IFLA_ADDRESS_ 1
#define IFLA_BROADCAST_ 2
#define IFLA_IFNAME_ 3
#define IFLA_MTU_ 4
#define IFA_ADDRESS_ 1
#define IFA_LOCAL_ 2
#define IFA_LABEL_ 3
#define IFA_BROADCAST_ 4
#define ARPHRD_ETHER_ 1
#define ARPHRD_LOOPBACK_ 772
#define IFF_UP_ 0x1
#define IFF_BROADCAST_ 0x2
#define IFF_LOOPBACK_ 0x8
#define IFF_RUNNING_ 0x40
#define IFF_MULTICAST_ 0x1000
#define IFA_F_PERMANENT_ 0x80
#define RT_SCOPE_HOST_ 254

struct nlhdr {
	uint32_t len;
	uint16_t type, flags;
	uint32_t seq, pid;
};

struct nl_addr { /* struct sockaddr_nl */
	uint16_t family, pad;
	uint32_t pid, groups;
};

struct nlsock {
	struct node *node;
	uint32_t pid;
	size_t len; /* the answer waiting to be received: one datagram */
	unsigned char answer[1024];
	struct nlsock *next_free;
};

static struct nlsock *free_socks;
static uint32_t next_pid = 1000;

static const struct file_ops rtnl_ops;

/* ---- the answer ---- */

static void *put(struct nlsock *s, const void *data, size_t len)
{
	size_t at = s->len, padded = (len + 3) & ~(size_t)3;
	if (at + padded > sizeof s->answer) libos_panic("rtnetlink: an answer outgrew its buffer");
	memcpy(s->answer + at, data, len);
	memset(s->answer + at + len, 0, padded - len);
	s->len += padded;
	return s->answer + at;
}

static void attr(struct nlsock *s, uint16_t type, const void *data, size_t len)
{
	uint16_t head[2] = { (uint16_t)(4 + len), type };
	size_t at = s->len;
	put(s, head, sizeof head);
	s->len = at + 4;
	put(s, data, len);
}

/* A message: its header now, its length once its attributes are in (end). */
static size_t begin(struct nlsock *s, uint16_t type, uint16_t flags, uint32_t seq, const void *body, size_t len)
{
	size_t at = s->len;
	struct nlhdr h = { 0, type, flags, seq, s->pid };
	put(s, &h, sizeof h);
	put(s, body, len);
	return at;
}

static void end(struct nlsock *s, size_t at)
{
	uint32_t len = (uint32_t)(s->len - at);
	memcpy(s->answer + at, &len, sizeof len);
}

struct iface {
	const char *name;
	int index;
	uint16_t type;
	uint32_t flags, ip, mask, mtu; /* ip, mask in network order */
	const uint8_t *mac;
};

static int interfaces(struct iface out[2])
{
	static const uint8_t no_mac[6];
	out[0] = (struct iface){ "lo", 1, ARPHRD_LOOPBACK_, IFF_UP_ | IFF_LOOPBACK_ | IFF_RUNNING_, htonl(0x7f000001), htonl(0xff000000), 65536, no_mac };
	if (libos_boot->net_fd < 0) return 1;
	out[1] = (struct iface){ "eth0", 2, ARPHRD_ETHER_, IFF_UP_ | IFF_BROADCAST_ | IFF_RUNNING_ | IFF_MULTICAST_,
				 libos_boot->net_ip, libos_boot->net_mask, libos_boot->net_mtu, libos_boot->net_mac };
	return 2;
}

static void links(struct nlsock *s, uint32_t seq)
{
	struct iface ifs[2];
	int n = interfaces(ifs);
	static const uint8_t all_ones[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	for (int i = 0; i < n; i++) {
		struct {
			uint8_t family, pad;
			uint16_t type;
			int32_t index;
			uint32_t flags, change;
		} ifi = { AF_UNSPEC, 0, ifs[i].type, ifs[i].index, ifs[i].flags, 0 };
		size_t at = begin(s, RTM_NEWLINK_, NLM_F_MULTI_, seq, &ifi, sizeof ifi);
		attr(s, IFLA_IFNAME_, ifs[i].name, strlen(ifs[i].name) + 1);
		attr(s, IFLA_MTU_, &ifs[i].mtu, 4);
		attr(s, IFLA_ADDRESS_, ifs[i].mac, 6);
		attr(s, IFLA_BROADCAST_, ifs[i].type == ARPHRD_ETHER_ ? all_ones : ifs[i].mac, 6);
		end(s, at);
	}
}

static void addresses(struct nlsock *s, uint32_t seq)
{
	struct iface ifs[2];
	int n = interfaces(ifs);
	for (int i = 0; i < n; i++) {
		struct {
			uint8_t family, prefixlen, flags, scope;
			uint32_t index;
		} ifa = { AF_INET, (uint8_t)__builtin_popcount(ifs[i].mask), IFA_F_PERMANENT_,
			  ifs[i].type == ARPHRD_LOOPBACK_ ? RT_SCOPE_HOST_ : 0, (uint32_t)ifs[i].index };
		size_t at = begin(s, RTM_NEWADDR_, NLM_F_MULTI_, seq, &ifa, sizeof ifa);
		uint32_t broadcast = ifs[i].ip | ~ifs[i].mask;
		attr(s, IFA_ADDRESS_, &ifs[i].ip, 4);
		attr(s, IFA_LOCAL_, &ifs[i].ip, 4);
		attr(s, IFA_LABEL_, ifs[i].name, strlen(ifs[i].name) + 1);
		if (ifs[i].type == ARPHRD_ETHER_) attr(s, IFA_BROADCAST_, &broadcast, 4);
		end(s, at);
	}
}

/* One request in, its whole answer (a dump and NLMSG_DONE, or an error) waiting. */
static long request(struct nlsock *s, const void *buf, size_t len)
{
	struct nlhdr h;
	if (len < sizeof h) return -EINVAL;
	memcpy(&h, buf, sizeof h);
	if (h.len < sizeof h || h.len > len) return -EINVAL;
	s->len = 0;
	int32_t status = 0;
	if ((h.flags & NLM_F_DUMP_) == NLM_F_DUMP_ && h.type == RTM_GETLINK_) {
		links(s, h.seq);
	} else if ((h.flags & NLM_F_DUMP_) == NLM_F_DUMP_ && h.type == RTM_GETADDR_) {
		/* The family asked for is the first byte of the body: only IPv4 (or any) has some. */
		uint8_t family = h.len > sizeof h ? ((const uint8_t *)buf)[sizeof h] : AF_UNSPEC;
		if (family == AF_UNSPEC || family == AF_INET) addresses(s, h.seq);
	} else {
		status = -EOPNOTSUPP;
	}
	if (status == 0) {
		size_t at = begin(s, NLMSG_DONE_, NLM_F_MULTI_, h.seq, &status, sizeof status);
		end(s, at);
	} else {
		struct {
			int32_t error;
			struct nlhdr request;
		} e = { status, h };
		size_t at = begin(s, NLMSG_ERROR_, 0, h.seq, &e, sizeof e);
		end(s, at);
	}
	return (long)len;
}

/* ---- the socket calls ---- */

static long rtnl_socket(int type, int protocol)
{
	int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (type != SOCK_RAW && type != SOCK_DGRAM) return -ESOCKTNOSUPPORT;
	if (protocol != NETLINK_ROUTE_) return -EPROTONOSUPPORT;
	struct nlsock *s = free_socks;
	if (s) {
		free_socks = s->next_free;
	} else {
		s = mem_alloc(sizeof *s);
		s->node = vfs_new(0, "socket", 6, S_IFSOCK | 0777, &rtnl_ops);
		s->node->priv = s;
	}
	s->pid = next_pid++;
	s->len = 0;
	return fd_open(s->node, O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0) | (flags & SOCK_CLOEXEC ? O_CLOEXEC : 0));
}

static long rtnl_bind(const void *addr, socklen_t len)
{
	struct nl_addr a;
	if (len < sizeof a) return -EINVAL;
	memcpy(&a, addr, sizeof a);
	if (a.family != AF_NETLINK) return -EINVAL;
	return a.groups ? -EPERM : 0; /* no multicast groups: nothing changes here to tell of */
}

static long rtnl_getsockname(struct nlsock *s, void *addr, socklen_t *len)
{
	struct nl_addr a = { AF_NETLINK, 0, s->pid, 0 };
	memcpy(addr, &a, *len < sizeof a ? *len : sizeof a);
	*len = sizeof a;
	return 0;
}

/* The waiting answer, whole or cut to the buffer (MSG_TRUNC says so; with MSG_TRUNC in
 * flags the whole length is returned); from the kernel's address (pid 0). */
static long rtnl_receive(struct file *f, const struct iovec *iov, int count, int flags, int *out_flags, void *name, socklen_t *namelen)
{
	struct nlsock *s = f->node->priv;
	if (!s->len) return f->flags & O_NONBLOCK || flags & MSG_DONTWAIT ? -EAGAIN : 0;
	size_t done = 0;
	for (int i = 0; i < count && done < s->len; i++) {
		size_t n = s->len - done < iov[i].iov_len ? s->len - done : iov[i].iov_len;
		memcpy(iov[i].iov_base, s->answer + done, n);
		done += n;
	}
	long total = (long)s->len;
	if (out_flags) *out_flags = done < s->len ? MSG_TRUNC : 0;
	if (name && namelen) {
		struct nl_addr kernel = { AF_NETLINK, 0, 0, 0 };
		memcpy(name, &kernel, *namelen < sizeof kernel ? *namelen : sizeof kernel);
		*namelen = sizeof kernel;
	}
	if (!(flags & MSG_PEEK)) s->len = 0;
	return flags & MSG_TRUNC ? total : (long)done;
}

/* socket(AF_NETLINK, ...) and every socket call on its fd. */
long rtnl_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6, int *handled)
{
	*handled = 1;
	if (n == SYS_socket && a1 == AF_NETLINK) return rtnl_socket((int)a2, (int)a3);
	struct file *f = n == SYS_socket ? 0 : fd_get(a1);
	if (!f || f->node->ops != &rtnl_ops) {
		*handled = 0;
		return -ENOSYS;
	}
	struct nlsock *s = f->node->priv;
	switch (n) {
	case SYS_bind: return rtnl_bind((const void *)a2, (socklen_t)a3);
	case SYS_getsockname: return rtnl_getsockname(s, (void *)a2, (socklen_t *)a3);
	case SYS_sendto: return request(s, (const void *)a2, (size_t)a3);
	case SYS_sendmsg: {
		const struct msghdr *m = (const struct msghdr *)a2;
		return m->msg_iovlen >= 1 ? request(s, m->msg_iov[0].iov_base, m->msg_iov[0].iov_len) : -EINVAL;
	}
	case SYS_recvfrom: {
		struct iovec iov = { (void *)a2, (size_t)a3 };
		return rtnl_receive(f, &iov, 1, (int)a4, 0, (void *)a5, (socklen_t *)a6);
	}
	case SYS_recvmsg: {
		struct msghdr *m = (struct msghdr *)a2;
		long r = rtnl_receive(f, m->msg_iov, (int)m->msg_iovlen, (int)a3, &m->msg_flags, m->msg_name, &m->msg_namelen);
		if (r >= 0) m->msg_controllen = 0;
		return r;
	}
	case SYS_setsockopt: return 0; /* buffer sizes, extended acks: nothing to change */
	case SYS_getsockopt: return -ENOPROTOOPT;
	case SYS_connect:
	case SYS_listen:
	case SYS_accept:
	case SYS_accept4:
	case SYS_shutdown:
	case SYS_getpeername:
		return -EOPNOTSUPP;
	default: *handled = 0; return -ENOSYS;
	}
}

static short rtnl_poll(struct file *f)
{
	struct nlsock *s = f->node->priv;
	return (short)((s->len ? POLLIN | POLLRDNORM : 0) | POLLOUT | POLLWRNORM);
}

static void rtnl_release(struct file *f)
{
	struct nlsock *s = f->node->priv;
	s->len = 0;
	s->next_free = free_socks;
	free_socks = s;
}

static long rtnl_writev(struct file *f, const struct iovec *iov, int count)
{
	return count >= 1 ? request(f->node->priv, iov[0].iov_base, iov[0].iov_len) : -EINVAL;
}

static long rtnl_readv(struct file *f, const struct iovec *iov, int count)
{
	return rtnl_receive(f, iov, count, 0, 0, 0, 0);
}

static const struct file_ops rtnl_ops = {
	.readv = rtnl_readv,
	.writev = rtnl_writev,
	.poll = rtnl_poll,
	.release = rtnl_release,
	.stream = 1,
};
