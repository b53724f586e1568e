/*
 * A starter HTTP server from `nabla-build init --lang c --server`: answers every GET with
 * one line, a connection at a time. nabla.json lists its port, so the image takes the
 * container's network; `nabla-build run` gives it what it needs and prints its URL.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char reply[] = "HTTP/1.1 200 OK\r\n"
			    "Content-Type: text/plain\r\n"
			    "Content-Length: 30\r\n"
			    "Connection: close\r\n"
			    "\r\n"
			    "Hello from a nabla unikernel!\n";

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 8080;
	int server = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	if (server < 0 || bind(server, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(server, 64) < 0) {
		perror("listen");
		return 1;
	}
	printf("listening on %d\n", port);
	fflush(stdout);
	for (;;) {
		int client = accept(server, 0, 0);
		if (client < 0)
			continue;
		char request[4096];
		size_t got = 0;
		ssize_t n;
		/* Read the request head (up to its blank line), then answer and close. */
		while (got < sizeof request - 1 && (n = read(client, request + got, sizeof request - 1 - got)) > 0) {
			got += (size_t)n;
			request[got] = 0;
			if (strstr(request, "\r\n\r\n"))
				break;
		}
		if (write(client, reply, sizeof reply - 1) < 0)
			perror("write");
		close(client);
	}
}
