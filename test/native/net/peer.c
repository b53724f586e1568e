/*
 * The host side of the network checks (plain gcc, runs beside the unikernel):
 *   peer tcp-echo PORT          accept one connection, read to EOF, answer "echo: " + it
 *   peer udp-echo PORT          answer one datagram with "echo: " + it
 *   peer udp-send IP PORT MSG   send MSG, print the reply (5 s at most)
 *   peer udp-listen PORT SECS   print every datagram that comes within SECS ("got: MSG")
 * Prints "ready" once bound; exits 0 when the exchange happened.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int bound(int type, const char *port)
{
	int fd = socket(AF_INET, type, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || (type == SOCK_STREAM && listen(fd, 4) < 0)) {
		perror("peer: bind");
		exit(1);
	}
	printf("ready\n");
	fflush(stdout);
	return fd;
}

int main(int argc, char **argv)
{
	char buf[4096] = "echo: ";
	if (argc == 3 && strcmp(argv[1], "tcp-echo") == 0) {
		int l = bound(SOCK_STREAM, argv[2]), c = accept(l, 0, 0);
		size_t got = 6;
		ssize_t n;
		while (c >= 0 && (n = read(c, buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)n;
		if (c < 0 || write(c, buf, got) != (ssize_t)got) return 1;
		close(c);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "udp-echo") == 0) {
		int fd = bound(SOCK_DGRAM, argv[2]);
		struct sockaddr_in from;
		socklen_t len = sizeof from;
		ssize_t n = recvfrom(fd, buf + 6, sizeof buf - 6, 0, (struct sockaddr *)&from, &len);
		return n < 0 || sendto(fd, buf, (size_t)n + 6, 0, (struct sockaddr *)&from, len) < 0;
	}
	if (argc == 5 && strcmp(argv[1], "udp-send") == 0) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };
		inet_pton(AF_INET, argv[2], &a.sin_addr);
		struct timeval tv = { 5, 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		sendto(fd, argv[4], strlen(argv[4]), 0, (struct sockaddr *)&a, sizeof a);
		ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
		if (n < 0) {
			perror("peer: recv");
			return 1;
		}
		buf[n] = 0;
		printf("reply: %s\n", buf);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "udp-listen") == 0) {
		int fd = bound(SOCK_DGRAM, argv[2]);
		struct timeval tv = { atoi(argv[3]), 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		ssize_t n;
		while ((n = recv(fd, buf, sizeof buf - 1, 0)) >= 0) {
			buf[n] = 0;
			printf("got: %s\n", buf);
			fflush(stdout);
		}
		return 0;
	}
	fprintf(stderr, "usage: peer tcp-echo PORT | udp-echo PORT | udp-send IP PORT MSG | udp-listen PORT SECS\n");
	return 2;
}
