/*
 * netlink.c — one rtnetlink request and the kernel's answer to it, for the settings no
 * ioctl reaches (tc: the tap's frame filter and the redirects, tc.c). Before the filter only.
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tender.h"

#define NETLINK_ROUTE_ 0
#define NLMSG_ERROR_ 2

void nl_begin(struct nl_buf *b, const void *fixed, size_t len)
{
	memset(b, 0, sizeof *b);
	memcpy(b->data + sizeof(struct nl_header), fixed, len);
	b->len = sizeof(struct nl_header) + NL_ALIGN(len);
}

void nl_put(struct nl_buf *b, uint16_t type, const void *data, size_t len)
{
	size_t at = b->len, size = 4 + len;
	if (at + NL_ALIGN(size) > sizeof b->data)
		errx(TENDER_EXIT, "internal error: a netlink request outgrew its buffer");
	uint16_t head[2] = { (uint16_t)size, type };
	memcpy(b->data + at, head, sizeof head);
	memcpy(b->data + at + 4, data, len);
	memset(b->data + at + size, 0, NL_ALIGN(size) - size);
	b->len = at + NL_ALIGN(size);
}

size_t nl_nest_begin(struct nl_buf *b, uint16_t type)
{
	size_t at = b->len;
	nl_put(b, type | NL_NESTED, NULL, 0);
	return at;
}

void nl_nest_end(struct nl_buf *b, size_t at)
{
	uint16_t len = (uint16_t)(b->len - at);
	memcpy(b->data + at, &len, sizeof len);
}

int nl_request(struct nl_buf *b, uint16_t type, uint16_t flags)
{
	struct nl_header h = { (uint32_t)b->len, type, (uint16_t)(NL_F_REQUEST | NL_F_ACK | flags), 1, 0 };
	memcpy(b->data, &h, sizeof h);
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE_);
	if (s < 0)
		return -errno;
	if (send(s, b->data, b->len, 0) != (ssize_t)b->len) {
		int error = errno;
		close(s);
		return -error;
	}
	struct {
		struct nl_header nh;
		int32_t error;
		char rest[256];
	} ack;
	ssize_t n = recv(s, &ack, sizeof ack, 0);
	close(s);
	if (n < (ssize_t)(sizeof ack.nh + sizeof ack.error) || ack.nh.type != NLMSG_ERROR_)
		return -EPROTO;
	return ack.error;
}
