/*
 * /proc/stat and /proc/cpuinfo, as Linux has them for one CPU (the libOS runs every guest
 * thread on one host thread). libuv's uv_cpu_info (Node's os.cpus()) counts the "cpuN"
 * lines of /proc/stat and takes each CPU's model from /proc/cpuinfo: without them
 * os.cpus() is empty, and code that sizes a pool by os.cpus().length makes none.
 * The libOS keeps no CPU accounting, so the times say the CPU was idle since boot: read
 * as "unknown", not as a load. The model is the CPU's own (cpuid: no host call).
 * Made fresh at each read, so a reader sees the time move.
 * And /proc/sys/fs/pipe-max-size: the largest pipe F_SETPIPE_SZ could give, here the one
 * size every pipe has (Go's os tests read it as a /proc file that stats as empty), and
 * /proc/self/cmdline: the arguments the program started with, each ending in a NUL (Linux
 * shows the live bytes of argv's area; these are a copy made at boot, before the app ran).
 */
#include <cpuid.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vfs.h"

#define USER_HZ 100 /* the unit of /proc/stat's times (sysconf(_SC_CLK_TCK)) */

static size_t stat_text(char *out, size_t size)
{
	unsigned long long idle = time_now_ns(CLOCK_MONOTONIC) / (1000000000ull / USER_HZ);
	unsigned long long boot = (time_now_ns(CLOCK_REALTIME) - time_now_ns(CLOCK_MONOTONIC)) / 1000000000ull;
	int n = snprintf(out, size,
			 "cpu  0 0 0 %llu 0 0 0 0 0 0\n"
			 "cpu0 0 0 0 %llu 0 0 0 0 0 0\n"
			 "intr 0\nctxt 0\nbtime %llu\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n",
			 idle, idle, boot);
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n :
					      size - 1;
}

static size_t cpuinfo_text(char *out, size_t size)
{
	unsigned int r[12] = { 0 }, eax, vendor[4] = { 0 };
	char model[49] = "unknown";
	__cpuid(0, eax, vendor[0], vendor[2], vendor[1]);
	if (__get_cpuid_max(0x80000000, 0) >= 0x80000004) {
		for (unsigned int i = 0; i < 3; i++) __cpuid(0x80000002 + i, r[4 * i], r[4 * i + 1], r[4 * i + 2], r[4 * i + 3]);
		memcpy(model, r, 48);
		model[48] = 0;
	}
	const char *m = model;
	while (*m == ' ') m++;
	int n = snprintf(out, size, "processor\t: 0\nvendor_id\t: %.12s\nmodel name\t: %s\ncpu cores\t: 1\nsiblings\t: 1\n\n",
			 (const char *)vendor, m);
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n :
					      size - 1;
}

static size_t pipe_max_text(char *out, size_t size)
{
	int n = snprintf(out, size, "%u\n", (unsigned)RING_SIZE);
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n :
					      size - 1;
}

static long read_bytes(const char *content, size_t total, void *buf, size_t len, uint64_t off)
{
	if (off >= total) return 0;
	size_t n = total - off < len ? total - (size_t)off : len;
	memcpy(buf, content + off, n);
	return (long)n;
}

static long read_text(size_t (*text)(char *, size_t), void *buf, size_t len, uint64_t off)
{
	char content[512];
	return read_bytes(content, text(content, sizeof content), buf, len, off);
}

static char *cmdline;
static size_t cmdline_len;

static long cmdline_read(struct file *f, void *buf, size_t len, uint64_t off)
{
	(void)f;
	return read_bytes(cmdline, cmdline_len, buf, len, off);
}

/* argv from the initial stack (argc, then the pointers), each string and pointer inside
 * the stack's reservation, where the tender put them: 1 and the copy made, else 0. */
static int keep_cmdline(const uint64_t *sp)
{
	uintptr_t lo = libos_boot->stack_top - libos_boot->stack_size, hi = libos_boot->stack_top;
	if ((uintptr_t)sp < lo || (uintptr_t)sp > hi - 8 || sp[0] >= (hi - (uintptr_t)sp) / 8) return 0;
	const char *const *argv = (const char *const *)(sp + 1);
	size_t argc = (size_t)sp[0], total = 0;
	for (size_t i = 0; i < argc; i++) {
		uintptr_t p = (uintptr_t)argv[i];
		if (p < lo || p >= hi) return 0;
		size_t n = strnlen(argv[i], hi - p);
		if (n == hi - p) return 0; /* no NUL before the end */
		total += n + 1;
	}
	cmdline = mem_alloc(total ? total : 1);
	for (size_t i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;
		memcpy(cmdline + cmdline_len, argv[i], n);
		cmdline_len += n;
	}
	return 1;
}

static long stat_read(struct file *f, void *buf, size_t len, uint64_t off)
{
	(void)f;
	return read_text(stat_text, buf, len, off);
}

static long cpuinfo_read(struct file *f, void *buf, size_t len, uint64_t off)
{
	(void)f;
	return read_text(cpuinfo_text, buf, len, off);
}

static long read_only(struct file *f, const void *buf, size_t len, uint64_t off)
{
	(void)f, (void)buf, (void)len, (void)off;
	return -EACCES;
}

static long pipe_max_read(struct file *f, void *buf, size_t len, uint64_t off)
{
	(void)f;
	return read_text(pipe_max_text, buf, len, off);
}

static const struct file_ops stat_ops = { .read = stat_read, .write = read_only };
static const struct file_ops cpuinfo_ops = { .read = cpuinfo_read, .write = read_only };
static const struct file_ops pipe_max_ops = { .read = pipe_max_read, .write = read_only };
static const struct file_ops cmdline_ops = { .read = cmdline_read, .write = read_only };

/* dir's entry name, made a folder if there is none; 0 if it is something else. */
static struct node *subdir(struct node *dir, const char *name)
{
	size_t len = strlen(name);
	for (struct node *c = dir->children; c; c = c->next)
		if (strlen(c->name) == len && memcmp(c->name, name, len) == 0) return S_ISDIR(c->mode) ? c : 0;
	return vfs_new(dir, name, len, S_IFDIR | 0555, &regular_ops);
}

/* A file of ours at dir/name, in place of one the rootfs has there (not of a folder). */
static void put(struct node *dir, const char *name, const struct file_ops *ops)
{
	size_t len = strlen(name);
	for (struct node *c = dir->children; c; c = c->next)
		if (strlen(c->name) == len && memcmp(c->name, name, len) == 0) {
			if (S_ISDIR(c->mode)) return;
			vfs_unlink(c);
			break;
		}
	vfs_new(dir, name, len, S_IFREG | 0444, ops);
}

/* After the rootfs is loaded: its own files at these paths (a converted image's, say) are
 * replaced; a /proc that is not a folder is left alone. */
void procfs_init(const uint64_t *initial_stack)
{
	struct node *proc, *parent;
	const char *name;
	long r = vfs_lookup(vfs_root, "/proc", 1, &proc, &parent, &name);
	if (r == -ENOENT) proc = vfs_new(vfs_root, "proc", 4, S_IFDIR | 0555, &regular_ops);
	else if (r < 0 || !S_ISDIR(proc->mode)) return;
	put(proc, "stat", &stat_ops);
	put(proc, "cpuinfo", &cpuinfo_ops);
	struct node *sys = subdir(proc, "sys"), *fs = sys ? subdir(sys, "fs") : 0;
	if (fs) put(fs, "pipe-max-size", &pipe_max_ops);
	struct node *self = initial_stack && keep_cmdline(initial_stack) ? subdir(proc, "self") : 0;
	if (self) put(self, "cmdline", &cmdline_ops);
}
