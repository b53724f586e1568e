/* self.c: the program's own file at its path and /proc/self/exe, and the container's /etc
 * files, from the tender's mappings. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>

#include "harness.h"

/* The "program": bytes in a read-only mapping, as the tender keeps the unikernel's file. */
static const char *program(size_t *size)
{
	static const char bytes[] = "\177ELF a program, read back by itself";
	char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) FAIL("mmap: %s", strerror(errno));
	memcpy(p, bytes, sizeof bytes);
	if (mprotect(p, 4096, PROT_READ) < 0) FAIL("mprotect: %s", strerror(errno));
	*size = sizeof bytes;
	return p;
}

TEST(self_exe_at_its_path_and_proc_self_exe)
{
	size_t size;
	const char *exe = program(&size);
	boot(&(struct boot_opts){ .exe_path = "/nabla/app.nabla", .exe = exe, .exe_size = size });
	char buf[128];
	CHECK_EQ(read_file("/nabla/app.nabla", buf, sizeof buf), (long)size);
	CHECK_MEM(buf, exe, size);
	CHECK_EQ(sys(SYS_readlink, "/proc/self/exe", buf, sizeof buf), 16);
	CHECK_MEM(buf, "/nabla/app.nabla", 16);
	CHECK_EQ(read_file("/proc/self/exe", buf, sizeof buf), (long)size);
	struct stat st;
	CHECK_OK(sys(SYS_stat, "/proc/self/exe", &st));
	CHECK(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0755);
	CHECK_EQ(st.st_size, (long)size);
	CHECK_EQ(st.st_mtim.tv_sec, 315532800);
	CHECK_OK(sys(SYS_stat, "/nabla", &st)); /* made on the way */
	CHECK(S_ISDIR(st.st_mode));
	CHECK_OK(sys(SYS_stat, "/hello.txt", &st)); /* the rootfs is still there */
}

/* A write must never reach the tender's mapping (read-only: it would fault): the file gets
 * a copy in guest memory, as a file from the disk does. */
TEST(self_exe_written_gets_a_copy)
{
	size_t size;
	const char *exe = program(&size);
	boot(&(struct boot_opts){ .exe_path = "/app.nabla", .exe = exe, .exe_size = size });
	long fd = sys(SYS_open, "/proc/self/exe", O_RDWR);
	CHECK(fd >= 0);
	CHECK_EQ(sys(SYS_pwrite64, fd, "XY", 2, 1), 2);
	char buf[128];
	CHECK_EQ(sys(SYS_pread64, fd, buf, sizeof buf, 0), (long)size);
	CHECK_MEM(buf, "\177XYF a program", 14);
	CHECK_MEM(exe, "\177ELF", 4);
	CHECK_OK(sys(SYS_close, fd));
	CHECK_OK(sys(SYS_unlink, "/app.nabla")); /* and gone: nothing of the mapping is freed */
	CHECK_ERR(sys(SYS_open, "/proc/self/exe", O_RDONLY), ENOENT);
	CHECK_MEM(exe, "\177ELF", 4);
}

TEST(self_exe_replaces_a_file_of_the_rootfs)
{
	size_t size;
	const char *exe = program(&size);
	boot(&(struct boot_opts){ .exe_path = "/dir/file.txt", .exe = exe, .exe_size = size });
	char buf[128];
	CHECK_EQ(read_file("/dir/file.txt", buf, sizeof buf), (long)size);
	CHECK_EQ(read_file("/dir/sub/deep.txt", buf, sizeof buf), 5); /* its neighbours stay */
}

/* Where the rootfs has a folder at the path, or a file on the way, the rootfs stays as it
 * is and there is no /proc/self/exe. */
TEST(self_exe_on_a_folder_or_below_a_file_is_left_out)
{
	size_t size;
	const char *exe = program(&size);
	boot(&(struct boot_opts){ .exe_path = "/dir/sub", .exe = exe, .exe_size = size });
	struct stat st;
	CHECK_OK(sys(SYS_stat, "/dir/sub", &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_ERR(sys(SYS_stat, "/proc/self/exe", &st), ENOENT);
}

TEST(self_exe_below_a_file_is_left_out)
{
	size_t size;
	const char *exe = program(&size);
	boot(&(struct boot_opts){ .exe_path = "/hello.txt/app", .exe = exe, .exe_size = size });
	struct stat st;
	CHECK_OK(sys(SYS_stat, "/hello.txt", &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_ERR(sys(SYS_stat, "/proc/self/exe", &st), ENOENT);
}

TEST(no_exe_no_proc_self)
{
	boot(0);
	struct stat st;
	CHECK_ERR(sys(SYS_stat, "/proc/self", &st), ENOENT);
	CHECK_STR(ls("/proc"), "cpuinfo stat sys/");
}

/* The container's files, as the tender keeps them: read-only, outside the guest region. */
static const struct nabla_file *etc_files(size_t *count)
{
	static const char hosts[] = "127.0.0.1\tlocalhost\n172.18.0.5\tweb-1\n", resolv[] = "nameserver 10.0.0.53\n";
	char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) FAIL("mmap: %s", strerror(errno));
	struct nabla_file *f = (struct nabla_file *)p;
	char *at = p + 2 * sizeof *f;
	f[0] = (struct nabla_file){ (uint64_t)(uintptr_t)strcpy(at, "/etc/hosts"), (uint64_t)(uintptr_t)memcpy(at + 16, hosts, sizeof hosts - 1), sizeof hosts - 1, 1700000000 };
	f[1] = (struct nabla_file){ (uint64_t)(uintptr_t)strcpy(at + 128, "/etc/resolv.conf"), (uint64_t)(uintptr_t)memcpy(at + 160, resolv, sizeof resolv - 1), sizeof resolv - 1, 1700000000 };
	if (mprotect(p, 4096, PROT_READ) < 0) FAIL("mprotect: %s", strerror(errno));
	*count = 2;
	return f;
}

TEST(container_etc_files_replace_the_images)
{
	size_t count;
	const struct nabla_file *etc = etc_files(&count);
	boot(&(struct boot_opts){ .etc = etc, .etc_count = count, .hostname = "web-1" });
	char buf[256];
	CHECK_EQ(read_file("/etc/hosts", buf, sizeof buf), 37);
	CHECK_MEM(buf, "127.0.0.1\tlocalhost\n172.18.0.5\tweb-1\n", 37);
	CHECK_EQ(read_file("/etc/resolv.conf", buf, sizeof buf), 21);
	CHECK_MEM(buf, "nameserver 10.0.0.53\n", 21);
	struct stat st;
	CHECK_OK(sys(SYS_stat, "/etc/resolv.conf", &st));
	CHECK(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0644 && st.st_mtim.tv_sec == 1700000000);
	struct utsname u;
	CHECK_OK(sys(SYS_uname, &u));
	CHECK_STR(u.nodename, "web-1");
	/* Written: a copy in guest memory, the tender's mapping untouched. */
	long fd = sys(SYS_open, "/etc/hosts", O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK_EQ(sys(SYS_write, fd, "10.1.1.1\tdb\n", 12), 12);
	CHECK_OK(sys(SYS_close, fd));
	CHECK_EQ(read_file("/etc/hosts", buf, sizeof buf), 49);
	CHECK_MEM(buf + 37, "10.1.1.1\tdb\n", 12);
	CHECK_MEM((const char *)etc[0].data, "127.0.0.1", 9);
	CHECK_EQ(etc[0].size, 37);
}

TEST(no_container_etc_files_keep_the_images)
{
	boot(0);
	struct stat st;
	CHECK_ERR(sys(SYS_stat, "/etc/resolv.conf", &st), ENOENT);
	struct utsname u;
	CHECK_OK(sys(SYS_uname, &u));
	CHECK_STR(u.nodename, "nabla");
}

/* One CPU, as libuv's uv_cpu_info reads it: the "cpu" total, then one "cpuN" line with
 * at least six numbers; its model from "model name\t: ". */
TEST(proc_stat_and_cpuinfo_show_one_cpu)
{
	boot(0);
	char buf[1024];
	unsigned long long v[10], idle_before;
	CHECK(read_file("/proc/stat", buf, sizeof buf) > 0);
	CHECK(sscanf(buf, "cpu  %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu\n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) == 10);
	idle_before = v[3];
	char *cpu0 = strstr(buf, "\ncpu0 ");
	CHECK(cpu0 != 0);
	CHECK(sscanf(cpu0 + 1, "cpu0 %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) == 6);
	CHECK(strstr(buf, "\ncpu1 ") == 0);
	CHECK(strstr(buf, "\nbtime ") != 0);
	struct timespec ms20 = { 0, 20000000 };
	sys(SYS_nanosleep, &ms20, 0);
	CHECK(read_file("/proc/stat", buf, sizeof buf) > 0);
	CHECK(sscanf(buf, "cpu  %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3]) == 4);
	CHECK(v[3] > idle_before); /* made at each read */

	CHECK(read_file("/proc/cpuinfo", buf, sizeof buf) > 0);
	CHECK(strncmp(buf, "processor\t: 0\n", 14) == 0);
	char *model = strstr(buf, "\nmodel name\t: ");
	CHECK(model != 0);
	CHECK(model[15] != '\n' && model[15] != 0);
	CHECK(strstr(buf, "processor\t: 1") == 0);
	struct stat st;
	CHECK_OK(sys(SYS_stat, "/proc/stat", &st));
	CHECK(S_ISREG(st.st_mode));
	int fd = (int)sys(SYS_open, "/proc/stat", O_WRONLY);
	if (fd >= 0) CHECK_ERR(sys(SYS_write, fd, "x", 1), EACCES); /* root may open it; nobody writes it */
}

/* /proc/sys/fs/pipe-max-size: one line with the size every pipe has (64 KiB); it stats as
 * an empty file, as /proc's files do, and reads whole all the same. */
TEST(proc_sys_fs_pipe_max_size_is_the_pipe_size)
{
	boot(0);
	char buf[64];
	CHECK_EQ(read_file("/proc/sys/fs/pipe-max-size", buf, sizeof buf), 6);
	CHECK_STR(buf, "65536\n");
	struct stat st;
	CHECK_OK(sys(SYS_stat, "/proc/sys/fs/pipe-max-size", &st));
	CHECK(S_ISREG(st.st_mode) && st.st_size == 0);
	CHECK_STR(ls("/proc/sys"), "fs/");
	int fd = (int)CHECK_OK(sys(SYS_open, "/proc/sys/fs/pipe-max-size", O_RDONLY));
	CHECK_EQ(sys(SYS_pread64, fd, buf, 1, 5), 1); /* at an offset, as any file */
	CHECK_EQ(buf[0], '\n');
	CHECK_EQ(sys(SYS_pread64, fd, buf, 8, 6), 0);
}

/* /proc/self/cmdline: the arguments from the initial stack, each ending in a NUL, made at
 * boot; without an initial stack (a harness boot) there is none. */
TEST(proc_self_cmdline_is_the_arguments)
{
	static const char *const argv[] = { "/nabla/app.nabla", "-test.v", "", "two words", 0 };
	boot(&(struct boot_opts){ .argv = argv });
	char buf[128];
	int fd = (int)CHECK_OK(sys(SYS_open, "/proc/self/cmdline", O_RDONLY));
	static const char want[] = "/nabla/app.nabla\0-test.v\0\0two words";
	CHECK_EQ(sys(SYS_read, fd, buf, sizeof buf), sizeof want);
	CHECK_MEM(buf, want, sizeof want);
	CHECK_EQ(sys(SYS_read, fd, buf, sizeof buf), 0);
	CHECK_ERR(sys(SYS_write, fd, "x", 1), EBADF);
	struct stat st;
	CHECK_OK(sys(SYS_stat, "/proc/self/cmdline", &st));
	CHECK(S_ISREG(st.st_mode) && st.st_size == 0);
}
