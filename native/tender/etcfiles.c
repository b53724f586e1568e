/*
 * etcfiles.c — the container's own files for the guest. A container runtime writes
 * /etc/hosts and /etc/resolv.conf (and /etc/hostname) for each container: Docker
 * bind-mounts them with the container's address and the network's DNS server, Kubernetes
 * with the pod's DNS settings. The guest's /etc is the image's rootfs, built long before:
 * without these it has no DNS server at all, and a reverse lookup of its own address waits
 * for a resolver's timeout. The tender reads them (from --etc-from=DIR, default /etc) before
 * the filter into one read-only mapping outside the guest region, the way it keeps the
 * program's file (elf_keep_for_guest), and the libOS shows them at /etc in place of the
 * image's (self.c there). No host call reads them again.
 *
 * Of hosts, the IPv6 lines are left out: the unikernel has no IPv6, and a resolver that takes
 * the first address of "localhost" (Node's listen) would get ::1. A DNS server on the
 * container's own loopback (Docker's 127.0.0.11) is reached through a relay (mod_net.c).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tender.h"

#define ETC_FILE_MAX (256 * 1024) /* Docker's hosts with a few thousand --add-host lines */

static const char *const names[] = { "hostname", "hosts", "resolv.conf" }; /* resolv.conf last: files[2] */
enum {
	NFILES = sizeof names / sizeof names[0]
};

struct etc_file {
	char *data; /* ETC_FILE_MAX + 1 bytes, mapped while the files are read */
	size_t size;
	int64_t mtime;
	int present;
};

/* DIR/NAME's bytes into f. Absent (no file, or not a regular one) is fine; one the tender
 * cannot read or that is too large (a host's ad-blocking hosts under --network host) is
 * said on stderr and left out: the guest keeps the image's, and the container starts. */
static void read_file(const char *dir, const char *name, struct etc_file *f)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
		errx(TENDER_EXIT, "--etc-from=%s: path too long", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno != ENOENT && errno != ENOTDIR) warn("--etc-from: %s: left out, the image's stays", path);
		return;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		ssize_t n = 0;
		f->mtime = st.st_mtime;
		while (f->size <= ETC_FILE_MAX && (n = read(fd, f->data + f->size, ETC_FILE_MAX + 1 - f->size)) != 0) {
			if (n < 0 && errno == EINTR) continue;
			if (n < 0) break;
			f->size += (size_t)n;
		}
		if (n < 0) warn("--etc-from: %s: left out, the image's stays", path);
		else if (f->size > ETC_FILE_MAX)
			warnx("--etc-from: %s: larger than %d KiB: left out, the image's stays", path, ETC_FILE_MAX / 1024);
		else f->present = 1;
	}
	close(fd);
}

/* hosts without the lines whose address (first field) is IPv6. */
static void drop_ipv6_lines(struct etc_file *f)
{
	size_t kept = 0;
	for (size_t at = 0; at < f->size;) {
		const char *line = f->data + at, *nl = memchr(line, '\n', f->size - at);
		size_t len = nl ? (size_t)(nl - line) + 1 : f->size - at, i = 0;
		int ipv6 = 0;
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		for (; i < len && !strchr(" \t\n#", line[i]); i++)
			ipv6 |= line[i] == ':';
		if (!ipv6) memmove(f->data + kept, line, len), kept += len;
		at += len;
	}
	f->size = kept;
}

/* The first nameserver of resolv.conf that is on the container's loopback (127.0.0.0/8,
 * Docker's embedded DNS server on user-made networks), in network byte order; 0: none. */
static uint32_t loopback_nameserver_of(const struct etc_file *f)
{
	for (size_t at = 0; f->present && at < f->size;) {
		const char *line = f->data + at, *nl = memchr(line, '\n', f->size - at);
		size_t len = nl ? (size_t)(nl - line) : f->size - at;
		char text[64] = "", ip[INET_ADDRSTRLEN] = "";
		struct in_addr a;
		memcpy(text, line, len < sizeof text ? len : sizeof text - 1);
		if (sscanf(text, "nameserver %15[0-9.]", ip) == 1 && inet_pton(AF_INET, ip, &a) == 1 &&
		    (ntohl(a.s_addr) >> 24) == 127)
			return a.s_addr;
		at += len + 1;
	}
	return 0;
}

/* The files present, packed into one read-only mapping for the guest. */
static void keep(const struct etc_file *files, struct nabla_boot *boot)
{
	size_t count = 0, bytes = 0;
	for (int i = 0; i < NFILES; i++)
		if (files[i].present) count++, bytes += sizeof(struct nabla_file) + strlen("/etc/") + strlen(names[i]) + 1 +
							files[i].size;
	if (!count) return;
	size_t size = align_up(bytes, PAGE_SIZE);
	char *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		err(TENDER_EXIT, "mmap(%zu bytes for the container's /etc files) failed", size);
	struct nabla_file *out = (struct nabla_file *)map;
	char *at = map + count * sizeof *out;
	for (int i = 0; i < NFILES; i++) {
		if (!files[i].present) continue;
		out->path = (uint64_t)at;
		at += sprintf(at, "/etc/%s", names[i]) + 1;
		out->data = (uint64_t)memcpy(at, files[i].data, files[i].size);
		out->size = files[i].size;
		out->mtime = files[i].mtime;
		at += files[i].size;
		out++;
	}
	if (mprotect(map, size, PROT_READ) < 0)
		err(TENDER_EXIT, "mprotect(the container's /etc files) failed");
	boot->etc_files = (uint64_t)map;
	boot->etc_count = count;
}

static uint32_t loopback_nameserver;

void etc_keep_for_guest(const char *dir, struct nabla_boot *boot)
{
	struct etc_file files[NFILES] = { 0 };
	size_t buffers = NFILES * (ETC_FILE_MAX + 1);
	char *buffer = mmap(NULL, buffers, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buffer == MAP_FAILED)
		err(TENDER_EXIT, "mmap(%zu bytes to read the container's /etc files) failed", buffers);
	for (int i = 0; i < NFILES; i++) {
		files[i].data = buffer + i * (ETC_FILE_MAX + 1);
		read_file(dir, names[i], &files[i]);
		if (strcmp(names[i], "hosts") == 0) drop_ipv6_lines(&files[i]);
	}
	keep(files, boot);
	loopback_nameserver = loopback_nameserver_of(&files[2]);
	munmap(buffer, buffers); /* the reads' copies go: only the guest's stays */
}

uint32_t etc_loopback_nameserver(void)
{
	return loopback_nameserver;
}
