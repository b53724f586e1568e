/*
 * A small HTTP/1.1 server: http PORT [threads|epoll]
 *   threads  one thread per connection, blocking reads and writes (the default)
 *   epoll    one thread, non-blocking sockets, an edge-triggered epoll loop
 * Keep-alive as HTTP/1.1 says (and for HTTP/1.0 with "Connection: keep-alive"), pipelined
 * requests, GET and HEAD:
 *   /          "hello from a nabla unikernel\n"
 *   /bytes/N   N bytes of a pattern (up to 16 MiB)
 *   /quit      answers, then the server exits 0
 *   else       404
 * Prints "listening on PORT" once it accepts connections.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 8192
#define MAX_BYTES (16 << 20)

struct conn {
	int fd;
	char in[BUF];
	size_t len;      /* bytes in `in` */
	char *out;       /* response bytes not written yet (epoll mode) */
	size_t out_len, out_off;
};

static const char hello[] = "hello from a nabla unikernel\n";

/* The header's value (up to the line end), or 0. */
static const char *header(const char *req, const char *end, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strstr(req, "\r\n"); p && p + 2 < end; p = strstr(p + 2, "\r\n"))
		if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') return p + 3 + n;
	return 0;
}

/* Builds the response to the request in c->in[0..head) into *out; returns its length, sets
 * *keep (keep the connection) and *quit. */
static size_t respond(const char *req, size_t head, char **out, int *keep, int *quit)
{
	char method[8], path[256], version[16];
	const char *end = req + head;
	*keep = 0;
	*quit = 0;
	if (sscanf(req, "%7s %255s %15s", method, path, version) != 3) {
		*out = strdup("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
		return strlen(*out);
	}
	const char *conn = header(req, end, "Connection");
	int http11 = strcmp(version, "HTTP/1.1") == 0;
	*keep = conn ? strncasecmp(conn + strspn(conn, " "), "keep-alive", 10) == 0 || (http11 && strncasecmp(conn + strspn(conn, " "), "close", 5) != 0) : http11;
	int head_only = strcmp(method, "HEAD") == 0;
	const char *status = "200 OK";
	size_t body_len = 0;
	char *body = 0;
	if (strcmp(method, "GET") && !head_only) {
		status = "405 Method Not Allowed";
	} else if (strcmp(path, "/") == 0) {
		body = strdup(hello);
		body_len = sizeof hello - 1;
	} else if (strncmp(path, "/bytes/", 7) == 0 && atol(path + 7) >= 0 && atol(path + 7) <= MAX_BYTES) {
		body_len = (size_t)atol(path + 7);
		body = malloc(body_len + 1);
		for (size_t i = 0; i < body_len; i++) body[i] = (char)('a' + i % 26);
	} else if (strcmp(path, "/quit") == 0) {
		body = strdup("bye\n");
		body_len = 4;
		*quit = 1;
		*keep = 0;
	} else {
		status = "404 Not Found";
	}
	char hdr[256];
	int n = snprintf(hdr, sizeof hdr, "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n", status,
			 body_len, *keep ? (http11 ? "" : "Connection: keep-alive\r\n") : "Connection: close\r\n");
	size_t total = (size_t)n + (head_only ? 0 : body_len);
	*out = malloc(total);
	memcpy(*out, hdr, (size_t)n);
	if (!head_only && body_len) memcpy(*out + n, body, body_len);
	free(body);
	return total;
}

/* The length of the first complete request head in buf (through its blank line), or 0. */
static size_t request_head(const char *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (buf[i - 3] == '\r' && buf[i - 2] == '\n' && buf[i - 1] == '\r' && buf[i] == '\n') return i + 1;
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- threads ---- */

static void *serve_thread(void *arg)
{
	struct conn *c = arg;
	for (;;) {
		size_t head;
		while (!(head = request_head(c->in, c->len))) {
			if (c->len == sizeof c->in - 1) goto done; /* a head too large */
			ssize_t n = read(c->fd, c->in + c->len, sizeof c->in - 1 - c->len);
			if (n <= 0) goto done;
			c->len += (size_t)n;
			c->in[c->len] = 0;
		}
		char *out;
		int keep, quit;
		char save = c->in[head];
		c->in[head] = 0;
		size_t len = respond(c->in, head, &out, &keep, &quit);
		c->in[head] = save;
		int bad = write_all(c->fd, out, len);
		free(out);
		if (quit) exit(0);
		if (bad || !keep) break;
		memmove(c->in, c->in + head, c->len - head);
		c->len -= head;
		c->in[c->len] = 0;
	}
done:
	close(c->fd);
	free(c);
	return 0;
}

static void run_threads(int lfd)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (;;) {
		int fd = accept4(lfd, 0, 0, SOCK_CLOEXEC);
		if (fd < 0) {
			perror("accept4");
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct conn *c = calloc(1, sizeof *c);
		c->fd = fd;
		pthread_t t;
		if (pthread_create(&t, &attr, serve_thread, c) != 0) {
			close(fd);
			free(c);
		}
	}
}

/* ---- epoll ---- */

static void conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, 0);
	close(c->fd);
	free(c->out);
	free(c);
}

/* Writes what is pending; 1 when all of it is out, 0 to wait for EPOLLOUT, -1 on error. */
static int flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n < 0 && errno == EAGAIN) return 0;
		if (n <= 0) return -1;
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = 0;
	c->out_len = c->out_off = 0;
	return 1;
}

/* Reads and answers what it can; 0 to keep the connection, -1 to close it. */
static int conn_ready(struct conn *c)
{
	for (;;) {
		if (c->out) {
			int r = flush(c);
			if (r <= 0) return r;
		}
		size_t head = request_head(c->in, c->len);
		if (head) {
			int keep, quit;
			char save = c->in[head];
			c->in[head] = 0;
			c->out_len = respond(c->in, head, &c->out, &keep, &quit);
			c->in[head] = save;
			c->out_off = 0;
			memmove(c->in, c->in + head, c->len - head);
			c->len -= head;
			int r = flush(c);
			if (quit) exit(0);
			if (r < 0 || (r == 1 && !keep)) return -1;
			if (!keep) return 0; /* the rest goes out on EPOLLOUT, then close */
			continue;
		}
		if (c->len == sizeof c->in - 1) return -1;
		ssize_t n = read(c->fd, c->in + c->len, sizeof c->in - 1 - c->len);
		if (n < 0 && errno == EAGAIN) return 0;
		if (n <= 0) return -1;
		c->len += (size_t)n;
		c->in[c->len] = 0;
	}
}

static void run_epoll(int lfd)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = 0 };
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	struct epoll_event events[64];
	for (;;) {
		int n = epoll_wait(ep, events, 64, -1);
		for (int i = 0; i < n; i++) {
			struct conn *c = events[i].data.ptr;
			if (!c) { /* the listener: take every waiting connection */
				int fd;
				while ((fd = accept4(lfd, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					int one = 1;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					c = calloc(1, sizeof *c);
					c->fd = fd;
					ev = (struct epoll_event){ .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			if (conn_ready(c) < 0) conn_close(ep, c);
		}
	}
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 8080;
	const char *mode = argc > 2 ? argv[2] : "threads";
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		perror("socket");
		return 1;
	}
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_ANY) };
	if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 128) < 0) {
		perror("bind/listen");
		return 1;
	}
	printf("listening on %d\n", port);
	fflush(stdout);
	if (strcmp(mode, "epoll") == 0) run_epoll(lfd);
	else run_threads(lfd);
	return 0;
}
