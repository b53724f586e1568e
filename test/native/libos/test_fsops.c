/* The file-system semantics the languages' own test suites rely on (fs.c, vfs.c, pipe.c,
 * tar.c; the alarm in sched.c): hard links, metadata that sticks, statfs, FIFOs,
 * memfd_create, O_TMPFILE, symlink loops, folders that change while listed, and which
 * blocking calls a signal's handler cuts short. The expected values are Linux's (tmpfs). */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <sys/uio.h>

#include "harness.h"

static struct stat stat_of(const char *path)
{
	struct stat st;
	long r = sys(SYS_newfstatat, AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW);
	if (r < 0) FAIL("lstat(%s) = -%s", path, errname(r));
	return st;
}

TEST(link_gives_a_file_a_second_name)
{
	boot(0);
	CHECK_OK(write_file("/tmp/a", "one"));
	CHECK_OK(sys(SYS_link, "/tmp/a", "/tmp/b"));
	struct stat a = stat_of("/tmp/a"), b = stat_of("/tmp/b");
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK_EQ(a.st_nlink, 2);
	CHECK_STR(ls("/tmp"), "a b");
	/* a write through one name shows through the other */
	long fd = CHECK_OK(open_("/tmp/b", O_WRONLY | O_APPEND));
	CHECK_EQ(sys(SYS_write, fd, "+two", 4), 4);
	char buf[64];
	CHECK_EQ(read_file("/tmp/a", buf, sizeof buf), 7);
	CHECK_STR(buf, "one+two");
	/* renaming one name over the other does nothing: both stay */
	CHECK_OK(sys(SYS_rename, "/tmp/a", "/tmp/b"));
	CHECK_STR(ls("/tmp"), "a b");
	/* the first name goes; the file stays under the second, and its open fd sees it */
	CHECK_OK(sys(SYS_unlink, "/tmp/a"));
	CHECK_EQ(stat_of("/tmp/b").st_nlink, 1);
	CHECK_EQ(read_file("/tmp/b", buf, sizeof buf), 7);
	CHECK_OK(sys(SYS_unlink, "/tmp/b"));
	struct stat st;
	CHECK_OK(sys(SYS_fstat, fd, &st));
	CHECK_EQ(st.st_nlink, 0); /* open, in no folder */
	CHECK_STR(ls("/tmp"), "");
	/* a file of the image gets a name in /tmp: the same file */
	CHECK_OK(sys(SYS_linkat, AT_FDCWD, "/hello.txt", AT_FDCWD, "/tmp/h", 0));
	CHECK_EQ(stat_of("/tmp/h").st_ino, stat_of("/hello.txt").st_ino);
	CHECK_EQ(read_file("/tmp/h", buf, sizeof buf), 13);
	CHECK_STR(buf, "hello, nabla\n");
	CHECK_ERR(sys(SYS_link, "/dir", "/tmp/d"), EPERM); /* no folders */
	CHECK_ERR(sys(SYS_link, "/hello.txt", "/tmp/h"), EEXIST);
	CHECK_ERR(sys(SYS_link, "/nowhere", "/tmp/n"), ENOENT);
	CHECK_ERR(sys(SYS_link, "/hello.txt", "/no-dir/x"), ENOENT);
	CHECK_ERR(sys(SYS_linkat, AT_FDCWD, "/hello.txt", AT_FDCWD, "/tmp/x", 0x8000), EINVAL);
	CHECK_ERR(sys(SYS_linkat, fd, "", AT_FDCWD, "/tmp/x", AT_EMPTY_PATH), ENOENT); /* its file has no name left */
}

TEST(link_of_a_symlink_links_the_link_unless_told_to_follow)
{
	boot(0);
	CHECK_OK(sys(SYS_link, "/link-to-file", "/tmp/same-link"));
	CHECK(S_ISLNK(stat_of("/tmp/same-link").st_mode));
	char buf[64] = { 0 };
	CHECK_EQ(sys(SYS_readlink, "/tmp/same-link", buf, sizeof buf), 9);
	CHECK_STR(buf, "hello.txt");
	/* a relative link resolves from the folder of the name used */
	CHECK_ERR(sys(SYS_openat, AT_FDCWD, "/tmp/same-link", O_RDONLY, 0), ENOENT);
	CHECK_OK(sys(SYS_linkat, AT_FDCWD, "/link-to-file", AT_FDCWD, "/tmp/target", AT_SYMLINK_FOLLOW));
	CHECK_EQ(stat_of("/tmp/target").st_ino, stat_of("/hello.txt").st_ino);
	CHECK_EQ(stat_of("/hello.txt").st_nlink, 2);
}

TEST(hard_links_in_the_image_are_one_file)
{
	boot(&(struct boot_opts){ .tar = "hardlink.tar" });
	struct stat a = stat_of("/first.txt"), b = stat_of("/sub/second.txt");
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK_EQ(a.st_nlink, 2);
	char buf[64];
	CHECK_EQ(read_file("/sub/second.txt", buf, sizeof buf), 11);
	CHECK_STR(buf, "hard linked");
	CHECK_EQ(write_file("/first.txt", "changed"), 7);
	CHECK_EQ(read_file("/sub/second.txt", buf, sizeof buf), 7);
	CHECK_STR(buf, "changed");
}

TEST(chmod_and_chown_stick_on_tmpfs_and_image_files)
{
	boot(0);
	CHECK_OK(write_file("/tmp/f", "x"));
	CHECK_OK(sys(SYS_chmod, "/tmp/f", 0600));
	CHECK_EQ(stat_of("/tmp/f").st_mode, S_IFREG | 0600);
	long fd = CHECK_OK(open_("/hello.txt", O_RDONLY));
	CHECK_OK(sys(SYS_fchmod, fd, 04755));
	CHECK_EQ(stat_of("/hello.txt").st_mode, S_IFREG | 04755);
	CHECK_OK(sys(SYS_fchmodat, AT_FDCWD, "/link-to-dir", 0700)); /* follows the link */
	CHECK_EQ(stat_of("/dir").st_mode, S_IFDIR | 0700);
	CHECK_EQ(stat_of("/link-to-dir").st_mode, S_IFLNK | 0777);
	CHECK_ERR(sys(452 /* fchmodat2 */, AT_FDCWD, "/link-to-dir", 0700, AT_SYMLINK_NOFOLLOW), EOPNOTSUPP);
	CHECK_ERR(sys(SYS_chmod, "/nowhere", 0700), ENOENT);
	CHECK_ERR(sys(SYS_fchmod, 999, 0700), EBADF);
	/* chown: any owner (root); a file that changes hands loses set-user-ID */
	CHECK_OK(sys(SYS_fchown, fd, 1000, 2000));
	struct stat st = stat_of("/hello.txt");
	CHECK_EQ(st.st_uid, 1000);
	CHECK_EQ(st.st_gid, 2000);
	CHECK_EQ(st.st_mode, S_IFREG | 0755);
	CHECK_OK(sys(SYS_lchown, "/link-to-dir", 7, -1));
	CHECK_EQ(stat_of("/link-to-dir").st_uid, 7);
	CHECK_EQ(stat_of("/link-to-dir").st_gid, 0);
	CHECK_EQ(stat_of("/dir").st_uid, 0);
	/* statx says the same */
	struct {
		uint32_t mask, blksize;
		uint64_t attributes;
		uint32_t nlink, uid, gid;
		uint16_t mode;
		char rest[256 - 30];
	} stx;
	CHECK_OK(sys(SYS_statx, AT_FDCWD, "/hello.txt", 0, 0x7ff, &stx));
	CHECK_EQ(stx.uid, 1000);
	CHECK_EQ(stx.mode, S_IFREG | 0755);
}

TEST(utimensat_sets_times_to_the_nanosecond)
{
	boot(0);
	CHECK_OK(write_file("/tmp/f", "x"));
	struct timespec t[2] = { { 1000000000, 123456789 }, { 1500000000, 987654321 } };
	CHECK_OK(sys(SYS_utimensat, AT_FDCWD, "/tmp/f", t, 0));
	struct stat st = stat_of("/tmp/f");
	CHECK_EQ(st.st_atim.tv_sec, 1000000000);
	CHECK_EQ(st.st_atim.tv_nsec, 123456789);
	CHECK_EQ(st.st_mtim.tv_sec, 1500000000);
	CHECK_EQ(st.st_mtim.tv_nsec, 987654321);
	CHECK(st.st_ctim.tv_sec > 1700000000); /* the change itself is now */
	/* UTIME_OMIT leaves one, UTIME_NOW sets it to now */
	struct timespec omit_now[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
	CHECK_OK(sys(SYS_utimensat, AT_FDCWD, "/tmp/f", omit_now, 0));
	st = stat_of("/tmp/f");
	CHECK_EQ(st.st_atim.tv_sec, 1000000000);
	CHECK(st.st_mtim.tv_sec > 1700000000);
	/* futimens (no path) on a file of the image, and its statx */
	long fd = CHECK_OK(open_("/hello.txt", O_RDONLY));
	CHECK_OK(sys(SYS_utimensat, fd, 0, t, 0));
	CHECK_EQ(stat_of("/hello.txt").st_mtim.tv_nsec, 987654321);
	struct {
		char head[0x40];
		struct {
			int64_t sec;
			uint32_t nsec;
			int32_t pad;
		} atime, btime, ctime, mtime;
		char rest[256 - 0x80];
	} stx;
	CHECK_OK(sys(SYS_statx, fd, "", AT_EMPTY_PATH, 0x7ff, &stx));
	CHECK_EQ(stx.mtime.sec, 1500000000);
	CHECK_EQ(stx.mtime.nsec, 987654321);
	CHECK_EQ(stx.atime.nsec, 123456789);
	/* utimes (microseconds), utime (seconds), no times (now) */
	struct timeval tv[2] = { { 5, 1 }, { 6, 2 } };
	CHECK_OK(sys(SYS_utimes, "/tmp/f", tv));
	CHECK_EQ(stat_of("/tmp/f").st_mtim.tv_nsec, 2000);
	long ut[2] = { 7, 8 };
	CHECK_OK(sys(SYS_utime, "/tmp/f", ut));
	CHECK_EQ(stat_of("/tmp/f").st_mtim.tv_sec, 8);
	CHECK_OK(sys(SYS_utimensat, AT_FDCWD, "/tmp/f", 0, 0));
	CHECK(stat_of("/tmp/f").st_atim.tv_sec > 1700000000);
	/* a link itself, with AT_SYMLINK_NOFOLLOW */
	CHECK_OK(sys(SYS_utimensat, AT_FDCWD, "/link-to-dir", t, AT_SYMLINK_NOFOLLOW));
	CHECK_EQ(stat_of("/link-to-dir").st_mtim.tv_sec, 1500000000);
	CHECK_EQ(stat_of("/dir").st_mtim.tv_sec, 1700000000);
	struct timespec bad[2] = { { 0, 1000000000 }, { 0, 0 } };
	CHECK_ERR(sys(SYS_utimensat, AT_FDCWD, "/tmp/f", bad, 0), EINVAL);
	CHECK_ERR(sys(SYS_utimensat, AT_FDCWD, "/tmp/f", t, 0x8000), EINVAL);
	CHECK_ERR(sys(SYS_utimensat, AT_FDCWD, "/nowhere", t, 0), ENOENT);
}

TEST(a_folders_mtime_follows_its_entries)
{
	boot(0);
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };
	CHECK_OK(sys(SYS_mkdir, "/tmp/d", 0755));
	CHECK_OK(sys(SYS_mkdir, "/tmp/e", 0755));
	const char *steps[] = { "create", "mkdir", "symlink", "link", "rename in", "rename out", "unlink", "rmdir", "mknod" };
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		CHECK_OK(sys(SYS_utimensat, AT_FDCWD, "/tmp/d", old, 0));
		switch (i) {
		case 0: CHECK_OK(write_file("/tmp/d/f", "x")); break;
		case 1: CHECK_OK(sys(SYS_mkdir, "/tmp/d/sub", 0755)); break;
		case 2: CHECK_OK(sys(SYS_symlink, "f", "/tmp/d/l")); break;
		case 3: CHECK_OK(sys(SYS_link, "/tmp/d/f", "/tmp/d/g")); break;
		case 4: CHECK_OK(sys(SYS_rename, "/tmp/e", "/tmp/d/e")); break;
		case 5: CHECK_OK(sys(SYS_rename, "/tmp/d/e", "/tmp/e")); break;
		case 6: CHECK_OK(sys(SYS_unlink, "/tmp/d/g")); break;
		case 7: CHECK_OK(sys(SYS_rmdir, "/tmp/d/sub")); break;
		default: CHECK_OK(sys(SYS_mknod, "/tmp/d/fifo", S_IFIFO | 0644, 0)); break;
		}
		struct stat st = stat_of("/tmp/d");
		if (st.st_mtim.tv_sec <= 1000) FAIL("%s in /tmp/d left its mtime", steps[i]);
	}
	/* writing a file changes its mtime, not its folder's */
	CHECK_OK(sys(SYS_utimensat, AT_FDCWD, "/tmp/d", old, 0));
	CHECK_OK(sys(SYS_utimensat, AT_FDCWD, "/tmp/d/f", old, 0));
	long fd = CHECK_OK(open_("/tmp/d/f", O_WRONLY));
	CHECK_EQ(sys(SYS_write, fd, "y", 1), 1);
	CHECK(stat_of("/tmp/d/f").st_mtim.tv_sec > 1000);
	CHECK_EQ(stat_of("/tmp/d").st_mtim.tv_sec, 1000);
}

TEST(statfs_reports_one_tmpfs_of_half_the_memory)
{
	boot(0);
	struct statfs sf;
	CHECK_OK(sys(SYS_statfs, "/hello.txt", &sf));
	CHECK_EQ(sf.f_type, 0x01021994); /* TMPFS_MAGIC */
	CHECK_EQ(sf.f_bsize, 4096);
	CHECK_EQ(sf.f_frsize, 4096);
	CHECK_EQ(sf.f_blocks, 64 * 1024 * 1024 / 2 / 4096);
	CHECK_EQ(sf.f_namelen, 255);
	CHECK_EQ(sf.f_flags, 0x20 | 0x400); /* ST_VALID | ST_NOATIME */
	CHECK_EQ(sf.f_bavail, sf.f_bfree);
	long free_before = (long)sf.f_bfree;
	long fd = CHECK_OK(open_("/tmp/big", O_RDWR | O_CREAT));
	CHECK_OK(sys(SYS_ftruncate, fd, 1 << 20));
	CHECK_OK(sys(SYS_fstatfs, fd, &sf));
	CHECK_EQ(sf.f_type, 0x01021994);
	CHECK_EQ((long)sf.f_bfree, free_before - 256);
	CHECK_OK(sys(SYS_close, fd));
	CHECK_OK(sys(SYS_unlink, "/tmp/big"));
	CHECK_OK(sys(SYS_statfs, "/", &sf));
	CHECK_EQ((long)sf.f_bfree, free_before);
	CHECK_ERR(sys(SYS_statfs, "/nowhere", &sf), ENOENT);
	CHECK_ERR(sys(SYS_fstatfs, 999, &sf), EBADF);
}

TEST(mknod_makes_fifos_and_files_but_no_devices)
{
	boot(0);
	CHECK_OK(sys(SYS_mknodat, AT_FDCWD, "/tmp/fifo", S_IFIFO | 0666, 0));
	CHECK_EQ(stat_of("/tmp/fifo").st_mode, S_IFIFO | 0644); /* umask 022 */
	CHECK_ERR(sys(SYS_mknod, "/tmp/fifo", S_IFIFO | 0600, 0), EEXIST);
	CHECK_OK(sys(SYS_mknod, "/tmp/plain", 0600, 0)); /* no type: a regular file */
	CHECK_EQ(stat_of("/tmp/plain").st_mode, S_IFREG | 0600);
	CHECK_OK(sys(SYS_mknod, "/tmp/sock", S_IFSOCK | 0600, 0));
	CHECK_ERR(open_("/tmp/sock", O_RDONLY), ENXIO);
	CHECK_ERR(sys(SYS_mknod, "/tmp/null", S_IFCHR | 0600, 0x103), EPERM);
	CHECK_ERR(sys(SYS_mknod, "/tmp/disk", S_IFBLK | 0600, 0x800), EPERM);
	CHECK_ERR(sys(SYS_mknod, "/tmp/dir", S_IFDIR | 0600, 0), EPERM);
	CHECK_ERR(sys(SYS_mknod, "/tmp/odd", 0170000, 0), EINVAL);
	CHECK_ERR(sys(SYS_mknod, "/no-dir/fifo", S_IFIFO | 0600, 0), ENOENT);
	CHECK_STR(ls("/tmp"), "fifo plain sock");
}

TEST(fifo_nonblocking_opens_read_eof_and_write_enxio_without_the_other_side)
{
	boot(0);
	CHECK_OK(sys(SYS_mknod, "/tmp/fifo", S_IFIFO | 0600, 0));
	CHECK_ERR(open_("/tmp/fifo", O_WRONLY | O_NONBLOCK), ENXIO);
	long r = CHECK_OK(open_("/tmp/fifo", O_RDONLY | O_NONBLOCK));
	char buf[16];
	CHECK_EQ(sys(SYS_read, r, buf, sizeof buf), 0); /* no writer: the end */
	long w = CHECK_OK(open_("/tmp/fifo", O_WRONLY | O_NONBLOCK)); /* now there is a reader */
	CHECK_ERR(sys(SYS_read, r, buf, sizeof buf), EAGAIN); /* a writer, nothing written */
	CHECK_EQ(sys(SYS_write, w, "fifo", 4), 4);
	struct pollfd p = { (int)r, POLLIN, 0 };
	CHECK_EQ(sys(SYS_poll, &p, 1, 0), 1);
	CHECK_EQ(sys(SYS_read, r, buf, sizeof buf), 4);
	CHECK_MEM(buf, "fifo", 4);
	CHECK_ERR(sys(SYS_lseek, r, 0, SEEK_SET), ESPIPE);
	CHECK_OK(sys(SYS_close, w));
	CHECK_EQ(sys(SYS_read, r, buf, sizeof buf), 0);
	CHECK_OK(sys(SYS_close, r));
	/* O_RDWR never waits, and is both ends */
	long rw = CHECK_OK(open_("/tmp/fifo", O_RDWR));
	CHECK_EQ(sys(SYS_write, rw, "both", 4), 4);
	CHECK_EQ(sys(SYS_read, rw, buf, sizeof buf), 4);
	CHECK_OK(sys(SYS_close, rw));
	/* the FIFO outlives its ends, and its name can go while one is open */
	CHECK_EQ(stat_of("/tmp/fifo").st_mode, S_IFIFO | 0600);
	r = CHECK_OK(open_("/tmp/fifo", O_RDONLY | O_NONBLOCK));
	CHECK_OK(sys(SYS_unlink, "/tmp/fifo"));
	CHECK_EQ(sys(SYS_read, r, buf, sizeof buf), 0);
}

static volatile int writer_opened;

static int open_fifo_and_write(void *arg)
{
	(void)arg;
	long w = libos_syscall(SYS_openat, AT_FDCWD, (long)"/tmp/fifo", O_WRONLY, 0, 0, 0);
	writer_opened = w >= 0 ? 1 : -1;
	libos_syscall(SYS_write, w, (long)"through", 7, 0, 0, 0);
	libos_syscall(SYS_close, w, 0, 0, 0, 0, 0);
	return 0;
}

TEST(fifo_blocking_opens_wait_for_the_other_side)
{
	boot(0);
	CHECK_OK(sys(SYS_mknod, "/tmp/fifo", S_IFIFO | 0600, 0));
	writer_opened = 0;
	CHECK_OK(spawn(open_fifo_and_write, 0, 0, 0));
	sys(SYS_sched_yield); /* the writer's open waits for a reader */
	CHECK_EQ(writer_opened, 0);
	long r = CHECK_OK(open_("/tmp/fifo", O_RDONLY)); /* lets it go on */
	char buf[16];
	CHECK_EQ(sys(SYS_read, r, buf, sizeof buf), 7); /* waits for its write */
	CHECK_MEM(buf, "through", 7);
	CHECK_EQ(writer_opened, 1);
	CHECK_EQ(sys(SYS_read, r, buf, sizeof buf), 0); /* it closed */
	CHECK_OK(sys(SYS_close, r));
	/* a reader that opens first waits for the writer */
	writer_opened = 0;
	CHECK_OK(spawn(open_fifo_and_write, 0, 0, 0));
	r = CHECK_OK(open_("/tmp/fifo", O_RDONLY));
	CHECK_EQ(writer_opened, 1);
	CHECK_EQ(sys(SYS_read, r, buf, sizeof buf), 7);
}

TEST(memfd_create_is_a_file_in_memory_and_no_folder)
{
	boot(0);
	long fd = CHECK_OK(sys(SYS_memfd_create, "scratch", 1 /* MFD_CLOEXEC */));
	CHECK_EQ(sys(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(sys(SYS_write, fd, "memory", 6), 6);
	CHECK_EQ(sys(SYS_lseek, fd, 1, SEEK_SET), 1);
	char buf[16] = { 0 };
	CHECK_EQ(sys(SYS_read, fd, buf, sizeof buf), 5);
	CHECK_STR(buf, "emory");
	CHECK_OK(sys(SYS_ftruncate, fd, 8192));
	struct stat st;
	CHECK_OK(sys(SYS_fstat, fd, &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0777);
	CHECK_EQ(st.st_size, 8192);
	CHECK_EQ(st.st_nlink, 0); /* Linux's are unlinked files of an internal tmpfs */
	CHECK_ERR(sys(SYS_linkat, fd, "", AT_FDCWD, "/tmp/m", AT_EMPTY_PATH), EXDEV);
	CHECK_EQ(sys(SYS_pread64, fd, buf, 2, 8190), 2);
	CHECK_MEM(buf, "\0\0", 2);
	long plain = CHECK_OK(sys(SYS_memfd_create, "", 2 /* MFD_ALLOW_SEALING */));
	CHECK_EQ(sys(SYS_fcntl, plain, F_GETFD), 0);
	CHECK_ERR(sys(SYS_memfd_create, "x", 0x100), EINVAL);
	char long_name[260];
	memset(long_name, 'n', sizeof long_name - 1);
	long_name[259] = 0;
	CHECK_ERR(sys(SYS_memfd_create, long_name, 0), EINVAL);
	CHECK_STR(ls("/tmp"), "");
}

TEST(o_tmpfile_is_a_file_in_no_folder)
{
	boot(0);
	long fd = CHECK_OK(sys(SYS_openat, AT_FDCWD, "/tmp", O_TMPFILE | O_RDWR, 0600));
	CHECK_EQ(sys(SYS_pwrite64, fd, "tmp", 3, 0), 3);
	struct stat st;
	CHECK_OK(sys(SYS_fstat, fd, &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0600);
	CHECK_EQ(st.st_nlink, 0);
	CHECK_EQ(st.st_size, 3);
	CHECK_STR(ls("/tmp"), "");
	CHECK_ERR(sys(SYS_openat, AT_FDCWD, "/tmp", O_TMPFILE | O_RDONLY, 0600), EINVAL);
	CHECK_ERR(sys(SYS_openat, AT_FDCWD, "/hello.txt", O_TMPFILE | O_RDWR, 0600), ENOTDIR);
	CHECK_ERR(sys(SYS_openat, AT_FDCWD, "/nowhere", O_TMPFILE | O_RDWR, 0600), ENOENT);
	/* linkat gives it a name */
	CHECK_OK(sys(SYS_linkat, fd, "", AT_FDCWD, "/tmp/named", AT_EMPTY_PATH));
	CHECK_STR(ls("/tmp"), "named");
	CHECK_EQ(stat_of("/tmp/named").st_nlink, 1);
	char buf[8];
	CHECK_EQ(read_file("/tmp/named", buf, sizeof buf), 3);
	CHECK_STR(buf, "tmp");
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	CHECK_ERR(sys(SYS_linkat, fds[0], "", AT_FDCWD, "/tmp/pipe", AT_EMPTY_PATH), EXDEV);
	long dir = CHECK_OK(open_("/tmp", O_RDONLY | O_DIRECTORY));
	CHECK_ERR(sys(SYS_linkat, dir, "", AT_FDCWD, "/tmp/dir", AT_EMPTY_PATH), EPERM);
}

TEST(sendfile_copies_from_a_file_at_its_position_or_an_offset)
{
	boot(0);
	static char big[10000];
	for (size_t i = 0; i < sizeof big - 1; i++) big[i] = (char)('a' + i % 26);
	CHECK_OK(write_file("/tmp/src", big));
	long in = CHECK_OK(open_("/tmp/src", O_RDONLY));
	long out = CHECK_OK(open_("/tmp/dst", O_CREAT | O_WRONLY | O_TRUNC));
	/* at the file's position, which moves; past the end it stops short */
	CHECK_EQ(sys(SYS_sendfile, out, in, 0, 9000), 9000);
	CHECK_EQ(sys(SYS_lseek, in, 0, SEEK_CUR), 9000);
	CHECK_EQ(sys(SYS_sendfile, out, in, 0, 5000), 999);
	CHECK_EQ(sys(SYS_sendfile, out, in, 0, 5000), 0);
	static char back[10000];
	CHECK_EQ(read_file("/tmp/dst", back, sizeof back), 9999);
	CHECK(memcmp(back, big, 9999) == 0);
	/* at an offset: the offset moves, the position does not */
	int64_t off = 26;
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	CHECK_EQ(sys(SYS_sendfile, fds[1], in, &off, 3), 3);
	CHECK_EQ(off, 29);
	CHECK_EQ(sys(SYS_lseek, in, 0, SEEK_CUR), 9999);
	char got[4] = { 0 };
	CHECK_EQ(sys(SYS_read, fds[0], got, 3), 3);
	CHECK_STR(got, "abc");
	/* from a pipe, at a negative offset, from or to a closed fd: Linux's errors */
	CHECK_ERR(sys(SYS_sendfile, out, fds[0], 0, 10), EINVAL);
	off = -1;
	CHECK_ERR(sys(SYS_sendfile, out, in, &off, 10), EINVAL);
	CHECK_ERR(sys(SYS_sendfile, out, 99, 0, 10), EBADF);
	CHECK_ERR(sys(SYS_sendfile, 99, in, 0, 10), EBADF);
}

TEST(a_link_to_its_own_folder_loops_out_after_40_links)
{
	boot(0);
	/* glob's "**" walks dir/link/link/...: Linux ends it with ELOOP at the 41st link */
	CHECK_OK(sys(SYS_mkdir, "/tmp/dir", 0755));
	CHECK_OK(write_file("/tmp/dir/file", "x"));
	CHECK_OK(sys(SYS_symlink, ".", "/tmp/dir/link"));
	static char path[4200];
	strcpy(path, "/tmp/dir");
	for (int i = 0; i < 40; i++) strcat(path, "/link");
	struct stat st;
	CHECK_OK(sys(SYS_stat, path, &st));
	CHECK(S_ISDIR(st.st_mode));
	strcat(path, "/file");
	CHECK_OK(sys(SYS_stat, path, &st));
	strcpy(path + strlen(path) - 4, "link");
	CHECK_ERR(sys(SYS_stat, path, &st), ELOOP);
	CHECK_ERR(sys(SYS_openat, AT_FDCWD, path, O_RDONLY | O_DIRECTORY, 0), ELOOP);
	/* PATH_MAX: 4096 with the NUL */
	strcpy(path, "/");
	while (strlen(path) < 4094) strcat(path, "./");
	path[4095] = 0;
	CHECK_EQ(strlen(path), 4095);
	CHECK_OK(sys(SYS_stat, path, &st));
	strcat(path, "/");
	CHECK_ERR(sys(SYS_stat, path, &st), ENAMETOOLONG);
}

struct dent {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* Lists fd's entries from where it is, one getdents64 call at a time, into seen. */
static int read_entries(long fd, size_t bufsize, char seen[][16], int max)
{
	char buf[64];
	int n = 0;
	long got = CHECK_OK(sys(SYS_getdents64, fd, buf, bufsize));
	for (long off = 0; off < got && n < max; n++) {
		struct dent *d = (struct dent *)(buf + off);
		snprintf(seen[n], 16, "%s", d->name);
		off += d->reclen;
	}
	return n;
}

TEST(getdents64_while_the_folder_changes_gives_each_entry_once)
{
	boot(0);
	CHECK_OK(sys(SYS_mkdir, "/tmp/d", 0755));
	char name[96];
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "/tmp/d/f%d", i);
		CHECK_OK(write_file(name, "x"));
	}
	long fd = CHECK_OK(open_("/tmp/d", O_RDONLY | O_DIRECTORY));
	char seen[64][16];
	int count[10] = { 0 }, total = 0, dots = 0;
	for (int round = 0;; round++) {
		char got[4][16];
		int n = read_entries(fd, 24 + 24, got, 4); /* two 24-byte entries a call */
		if (n == 0) break;
		for (int i = 0; i < n; i++) {
			if (got[i][0] == '.') {
				dots++;
				continue;
			}
			CHECK(got[i][0] == 'f');
			count[got[i][1] - '0']++;
			memcpy(seen[total++], got[i], 16);
			/* the one just listed goes, as rm -r does; a new one comes */
			snprintf(name, sizeof name, "/tmp/d/%s", got[i]);
			CHECK_OK(sys(SYS_unlink, name));
			snprintf(name, sizeof name, "/tmp/d/new%d", round);
			if (round < 3) CHECK_OK(write_file(name, "y"));
		}
		CHECK(round < 20);
	}
	CHECK_EQ(dots, 2);
	for (int i = 0; i < 10; i++)
		if (count[i] != 1) FAIL("f%d listed %d times", i, count[i]);
	CHECK_EQ(total, 10);
	/* lseek back to a d_off resumes there */
	CHECK_OK(sys(SYS_lseek, fd, 0, SEEK_SET));
	char first[4][16];
	CHECK_EQ(read_entries(fd, 24, first, 4), 1);
	CHECK_STR(first[0], ".");
}

TEST(rename_replaces_files_and_empty_folders_and_takes_renameat2_flags)
{
	boot(0);
	CHECK_OK(write_file("/tmp/a", "a"));
	CHECK_OK(write_file("/tmp/b", "b"));
	long fd = CHECK_OK(open_("/tmp/b", O_RDONLY));
	CHECK_OK(sys(SYS_rename, "/tmp/a", "/tmp/b"));
	char buf[8];
	CHECK_EQ(read_file("/tmp/b", buf, sizeof buf), 1);
	CHECK_STR(buf, "a");
	CHECK_EQ(sys(SYS_read, fd, buf, sizeof buf), 1); /* the replaced file, still open */
	CHECK_EQ(buf[0], 'b');
	CHECK_OK(sys(SYS_mkdir, "/tmp/d1", 0755));
	CHECK_OK(sys(SYS_mkdir, "/tmp/d2", 0755));
	CHECK_OK(sys(SYS_rename, "/tmp/d1", "/tmp/d2"));
	CHECK_STR(ls("/tmp"), "b d2/");
	CHECK_OK(write_file("/tmp/c", "c"));
	CHECK_ERR(sys(SYS_renameat2, AT_FDCWD, "/tmp/c", AT_FDCWD, "/tmp/b", 1 /* NOREPLACE */), EEXIST);
	CHECK_OK(sys(SYS_renameat2, AT_FDCWD, "/tmp/c", AT_FDCWD, "/tmp/new", 1));
	CHECK_OK(sys(SYS_renameat2, AT_FDCWD, "/tmp/new", AT_FDCWD, "/tmp/d2", 2 /* EXCHANGE */));
	CHECK(S_ISDIR(stat_of("/tmp/new").st_mode));
	CHECK_EQ(read_file("/tmp/d2", buf, sizeof buf), 1);
	CHECK_STR(buf, "c");
	CHECK_ERR(sys(SYS_renameat2, AT_FDCWD, "/tmp/b", AT_FDCWD, "/tmp/none", 2), ENOENT);
	CHECK_ERR(sys(SYS_renameat2, AT_FDCWD, "/tmp/b", AT_FDCWD, "/tmp/x", 3), EINVAL);
	CHECK_ERR(sys(SYS_renameat2, AT_FDCWD, "/tmp/b", AT_FDCWD, "/tmp/x", 4 /* WHITEOUT */), EINVAL);
}

TEST(fallocate_grows_a_file_and_pread_past_the_end_is_empty)
{
	boot(0);
	long fd = CHECK_OK(open_("/tmp/f", O_RDWR | O_CREAT));
	CHECK_OK(sys(SYS_fallocate, fd, 0, 4096, 100));
	struct stat st;
	CHECK_OK(sys(SYS_fstat, fd, &st));
	CHECK_EQ(st.st_size, 4196);
	CHECK_OK(sys(SYS_fallocate, fd, 1 /* KEEP_SIZE */, 0, 1 << 20));
	CHECK_OK(sys(SYS_fallocate, fd, 0, 0, 10)); /* inside: nothing changes */
	CHECK_OK(sys(SYS_fstat, fd, &st));
	CHECK_EQ(st.st_size, 4196);
	char buf[8] = { 1, 1 };
	CHECK_EQ(sys(SYS_pread64, fd, buf, 8, 4190), 6);
	CHECK_MEM(buf, "\0\0\0\0\0\0", 6);
	CHECK_EQ(sys(SYS_pread64, fd, buf, 8, 10000), 0);
	CHECK_EQ(sys(SYS_pwrite64, fd, "z", 1, 9999), 1);
	CHECK_OK(sys(SYS_fstat, fd, &st));
	CHECK_EQ(st.st_size, 10000);
	CHECK_ERR(sys(SYS_fallocate, fd, 0, 0, 0), EINVAL);
	CHECK_ERR(sys(SYS_fallocate, fd, 0, -1, 10), EINVAL);
	/* a hole punched (with KEEP_SIZE) reads as zeros; the size stays */
	CHECK_EQ(sys(SYS_pwrite64, fd, "abcdef", 6, 100), 6);
	CHECK_OK(sys(SYS_fallocate, fd, 2 | 1 /* PUNCH_HOLE | KEEP_SIZE */, 101, 4));
	CHECK_EQ(sys(SYS_pread64, fd, buf, 6, 100), 6);
	CHECK_MEM(buf, "a\0\0\0\0f", 6);
	CHECK_OK(sys(SYS_fstat, fd, &st));
	CHECK_EQ(st.st_size, 10000);
	CHECK_ERR(sys(SYS_fallocate, fd, 2 /* PUNCH_HOLE without KEEP_SIZE */, 0, 10), EOPNOTSUPP);
	CHECK_ERR(sys(SYS_fallocate, fd, 0x10 /* ZERO_RANGE */, 0, 10), EOPNOTSUPP);
	long ro = CHECK_OK(open_("/hello.txt", O_RDONLY));
	CHECK_ERR(sys(SYS_fallocate, ro, 0, 0, 10), EBADF);
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	CHECK_ERR(sys(SYS_fallocate, fds[1], 0, 0, 10), ESPIPE);
	long dev = CHECK_OK(open_("/dev/null", O_WRONLY));
	CHECK_ERR(sys(SYS_fallocate, dev, 0, 0, 10), ENODEV);
}

TEST(fadvise_is_checked_and_changes_nothing)
{
	boot(0);
	long fd = CHECK_OK(open_("/hello.txt", O_RDONLY));
	CHECK_OK(sys(SYS_fadvise64, fd, 0, 0, POSIX_FADV_SEQUENTIAL));
	CHECK_OK(sys(SYS_fadvise64, fd, 0, 100, POSIX_FADV_DONTNEED));
	CHECK_ERR(sys(SYS_fadvise64, fd, 0, 0, 99), EINVAL);
	CHECK_ERR(sys(SYS_fadvise64, fd, 0, -1, POSIX_FADV_NORMAL), EINVAL);
	CHECK_ERR(sys(SYS_fadvise64, 99, 0, 0, POSIX_FADV_NORMAL), EBADF);
	int fds[2];
	CHECK_OK(sys(SYS_pipe2, fds, 0));
	CHECK_ERR(sys(SYS_fadvise64, fds[0], 0, 0, POSIX_FADV_NORMAL), ESPIPE);
	char buf[6];
	CHECK_EQ(sys(SYS_read, fd, buf, 5), 5); /* the file reads as before */
}

TEST(no_terminals_dev_ptmx_is_enoent)
{
	boot(0);
	/* posix_openpt, openpty and Python's os.openpty open /dev/ptmx */
	CHECK_ERR(open_("/dev/ptmx", O_RDWR | O_NOCTTY), ENOENT);
	CHECK_ERR(open_("/dev/pts/0", O_RDWR), ENOENT);
}

/* ---- the alarm, and which blocking calls its handler cuts short ---- */

struct k_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static volatile int alarms;
static int pipe_fds[2];

/* As CPython's test_io: the handler writes to the pipe the app reads. */
static void on_alarm_write(int sig)
{
	(void)sig;
	alarms++;
	libos_syscall(SYS_write, pipe_fds[1], (long)"!", 1, 0, 0, 0);
}

static void on_alarm_read(int sig)
{
	(void)sig;
	char buf[16];
	alarms++;
	libos_syscall(SYS_read, pipe_fds[0], (long)buf, sizeof buf, 0, 0, 0);
}

static void alarm_in(long ms, void (*handler)(int), unsigned long flags)
{
	struct k_sigaction act = { (void *)handler, flags, 0, 0 };
	CHECK_OK(sys(SYS_rt_sigaction, SIGALRM, &act, 0, 8));
	struct itimerval it = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000 } };
	CHECK_OK(sys(SYS_setitimer, ITIMER_REAL, &it, 0));
}

/* An attacker's review found rename(".") bringing a removed folder back and rmdir("..")
 * succeeding; and fchmod(AT_FDCWD) changing the working folder. Linux's answers: */
TEST(dot_names_cannot_be_moved_or_removed_and_at_fdcwd_is_no_fd)
{
	boot(0);
	CHECK_OK(sys(SYS_mkdir, "/tmp/gone", 0755));
	CHECK_OK(sys(SYS_mkdir, "/tmp/gone/sub", 0755));
	CHECK_OK(sys(SYS_chdir, "/tmp/gone/sub"));
	CHECK_ERR(sys(SYS_rename, ".", "/tmp/back"), EBUSY);
	CHECK_ERR(sys(SYS_rename, "..", "/tmp/back"), EBUSY);
	CHECK_ERR(sys(SYS_rename, "/tmp/gone/sub/..", "/tmp/back"), EBUSY);
	CHECK_ERR(sys(SYS_rmdir, ".."), ENOTEMPTY);
	CHECK_ERR(sys(SYS_rmdir, "./"), EINVAL);
	CHECK_ERR(sys(SYS_unlink, ".."), EISDIR);
	CHECK_STR(ls("/tmp"), "gone/");
	CHECK_ERR(sys(SYS_fchmod, AT_FDCWD, 0700), EBADF);
	CHECK_ERR(sys(SYS_fchown, AT_FDCWD, 1, 1), EBADF);
	CHECK_EQ(stat_of("/tmp/gone/sub").st_mode & 07777, 0755);
	CHECK_OK(sys(SYS_chdir, "/"));
	/* a timer a lifetime away stays far away (its nanoseconds once wrapped) */
	struct itimerval far = { .it_value = { .tv_sec = 0x7fffffffffffffffL } }, left;
	CHECK_OK(sys(SYS_setitimer, ITIMER_REAL, &far, 0));
	CHECK_OK(sys(SYS_getitimer, ITIMER_REAL, &left));
	CHECK(left.it_value.tv_sec > 1000000000L);
	struct itimerval off = { 0 };
	CHECK_OK(sys(SYS_setitimer, ITIMER_REAL, &off, 0));
}

TEST(alarm_rings_once_or_every_interval_and_says_what_is_left)
{
	boot(0);
	alarms = 0;
	CHECK_OK(sys(SYS_pipe2, pipe_fds, 0));
	struct k_sigaction act = { (void *)on_alarm_write, 0, 0, 0 };
	CHECK_OK(sys(SYS_rt_sigaction, SIGALRM, &act, 0, 8));
	CHECK_EQ(sys(SYS_alarm, 10), 0);
	struct itimerval it;
	CHECK_OK(sys(SYS_getitimer, ITIMER_REAL, &it));
	CHECK(it.it_value.tv_sec == 9 || it.it_value.tv_sec == 10);
	CHECK_EQ(sys(SYS_alarm, 0), 10); /* cancelled, with 10 s left (rounded) */
	CHECK_OK(sys(SYS_getitimer, ITIMER_REAL, &it));
	CHECK_EQ(it.it_value.tv_sec + it.it_value.tv_usec, 0);
	/* every 20 ms from 20 ms: a sleep of 110 ms is cut short by the first */
	struct itimerval every = { { 0, 20000 }, { 0, 20000 } };
	CHECK_OK(sys(SYS_setitimer, ITIMER_REAL, &every, 0));
	uint64_t start = now_ns();
	struct timespec req = { 0, 110000000 };
	CHECK_ERR(sys(SYS_nanosleep, &req, 0), EINTR);
	CHECK_EQ(alarms, 1);
	while (alarms < 4) sys(SYS_sched_yield); /* it keeps ringing while the thread runs */
	CHECK(now_ns() - start >= 80000000u);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	CHECK_OK(sys(SYS_setitimer, ITIMER_REAL, &off, &it));
	CHECK_EQ(it.it_interval.tv_usec, 20000);
	CHECK_ERR(sys(SYS_setitimer, ITIMER_PROF, &every, 0), EINVAL);
	struct itimerval bad = { { 0, 0 }, { 0, 1000000 } };
	CHECK_ERR(sys(SYS_setitimer, ITIMER_REAL, &bad, 0), EINVAL);
}

static void die_by_alarm(void *arg)
{
	(void)arg;
	boot(0);
	sys(SYS_alarm, 1);
	struct timespec req = { 5, 0 };
	sys(SYS_nanosleep, &req, 0);
}

TEST(alarm_without_a_handler_ends_the_process_like_linux)
{
	struct child c;
	run_child(die_by_alarm, 0, &c);
	CHECK(c.exited);
	CHECK_EQ(c.code, 128 + SIGALRM);
}

TEST(a_handler_interrupts_a_blocking_read_and_sa_restart_resumes_it)
{
	boot(0);
	CHECK_OK(sys(SYS_pipe2, pipe_fds, 0));
	char buf[8];
	/* CPython's test_interrupted_read_retry_buffered: no SA_RESTART, the read is EINTR
	 * after the handler ran, and the next read has what the handler wrote */
	alarms = 0;
	alarm_in(20, on_alarm_write, 0);
	CHECK_ERR(sys(SYS_read, pipe_fds[0], buf, sizeof buf), EINTR);
	CHECK_EQ(alarms, 1);
	CHECK_EQ(sys(SYS_read, pipe_fds[0], buf, sizeof buf), 1);
	/* SA_RESTART: the same read goes on and gets it */
	alarm_in(20, on_alarm_write, SA_RESTART);
	CHECK_EQ(sys(SYS_read, pipe_fds[0], buf, sizeof buf), 1);
	CHECK_EQ(buf[0], '!');
	CHECK_EQ(alarms, 2);
	/* a write to a full pipe: EINTR, or (SA_RESTART) done once the handler made room */
	static char full[65536];
	CHECK_EQ(sys(SYS_write, pipe_fds[1], full, sizeof full), sizeof full);
	alarm_in(20, on_alarm_read, 0);
	CHECK_ERR(sys(SYS_write, pipe_fds[1], "w", 1), EINTR);
	CHECK_EQ(sys(SYS_write, pipe_fds[1], full, 16), 16); /* full again: the handler took 16 */
	alarm_in(20, on_alarm_read, SA_RESTART);
	CHECK_EQ(sys(SYS_write, pipe_fds[1], "w", 1), 1);
	CHECK_EQ(alarms, 4);
	/* recv on a socketpair is restarted like read */
	int sp[2];
	CHECK_OK(sys(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sp));
	alarm_in(20, on_alarm_read, 0);
	CHECK_ERR(sys(SYS_recvfrom, sp[0], buf, sizeof buf, 0, 0, 0), EINTR);
}

static int futex_word;

TEST(a_handler_makes_poll_epoll_and_sleeps_eintr_even_with_sa_restart)
{
	boot(0);
	CHECK_OK(sys(SYS_pipe2, pipe_fds, 0));
	char buf[8];
	/* poll, epoll_wait, select and nanosleep are never restarted (signal(7)) */
	alarms = 0;
	struct pollfd p = { pipe_fds[0], POLLIN, 0 };
	alarm_in(20, on_alarm_write, SA_RESTART);
	CHECK_ERR(sys(SYS_poll, &p, 1, -1), EINTR);
	CHECK_EQ(sys(SYS_read, pipe_fds[0], buf, sizeof buf), 1);
	long ep = CHECK_OK(sys(SYS_epoll_create1, 0));
	struct epoll_event ev = { .events = EPOLLIN };
	CHECK_OK(sys(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, pipe_fds[0], &ev));
	alarm_in(20, on_alarm_write, SA_RESTART);
	CHECK_ERR(sys(SYS_epoll_wait, ep, &ev, 1, -1), EINTR);
	CHECK_EQ(sys(SYS_read, pipe_fds[0], buf, sizeof buf), 1);
	alarm_in(20, on_alarm_write, SA_RESTART);
	CHECK_ERR(sys(SYS_select, 0, 0, 0, 0, 0), EINTR);
	CHECK_EQ(sys(SYS_read, pipe_fds[0], buf, sizeof buf), 1);
	struct timespec req = { 5, 0 };
	alarm_in(20, on_alarm_write, SA_RESTART);
	CHECK_ERR(sys(SYS_nanosleep, &req, 0), EINTR);
	CHECK_EQ(alarms, 4);
	/* futex wait: EINTR without SA_RESTART; with it, restarted (and the word was changed) */
	futex_word = 0;
	alarm_in(20, on_alarm_write, 0);
	CHECK_ERR(sys(SYS_futex, &futex_word, 0 /* FUTEX_WAIT */, 0, 0), EINTR);
	CHECK_EQ(alarms, 5);
}
