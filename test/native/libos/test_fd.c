/* fs.c and fd.c: file descriptors, reading and writing (copy-on-write over the disk,
 * tmpfs), truncation, dup/fcntl; dev.c: devices and the console. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "harness.h"

/* The bytes of the tar itself on the host, where hello.txt's data lies. */
static int disk_has(const char *text)
{
	size_t size;
	char *tar = host_file("../pax.tar", &size);
	int found = memmem(tar, size, text, strlen(text)) != 0;
	free(tar);
	return found;
}

TEST(write_to_a_file_from_the_tar_copies_it_on_write)
{
	boot(0);
	long fd = CHECK_OK(open_("/hello.txt", O_RDWR));
	CHECK_EQ(sys(SYS_pwrite64, fd, "NABLA", 5, 7), 5);
	char buf[64];
	CHECK_EQ(sys(SYS_pread64, fd, buf, sizeof buf, 0), 13);
	CHECK_MEM(buf, "hello, NABLA\n", 13);
	/* another open file sees the new bytes; the disk image is untouched */
	CHECK_EQ(read_file("/hello.txt", buf, sizeof buf), 13);
	CHECK_STR(buf, "hello, NABLA\n");
	CHECK(disk_has("hello, nabla\n"));
	CHECK(!disk_has("hello, NABLA\n"));
	/* reads now come from memory, not the disk */
	disk_forget();
	long faults = fake.disk_faults;
	CHECK_EQ(read_file("/link-to-file", buf, sizeof buf), 13);
	CHECK_EQ(fake.disk_faults, faults);
	/* growing it past its old end */
	CHECK_EQ(sys(SYS_lseek, fd, 0, SEEK_END), 13);
	CHECK_EQ(sys(SYS_write, fd, "more\n", 5), 5);
	struct stat st;
	CHECK_OK(sys(SYS_fstat, fd, &st));
	CHECK_EQ(st.st_size, 18);
	CHECK(st.st_mtim.tv_sec > 1700000000);
	CHECK_EQ(read_file("/hello.txt", buf, sizeof buf), 18);
	CHECK_STR(buf, "hello, NABLA\nmore\n");
}

TEST(write_to_a_big_file_from_the_tar_keeps_the_rest)
{
	boot(0);
	size_t size;
	char *want = host_file("big.txt", &size);
	long fd = CHECK_OK(open_("/big.txt", O_WRONLY));
	CHECK_EQ(sys(SYS_pwrite64, fd, "XYZ", 3, 40000), 3);
	memcpy(want + 40000, "XYZ", 3);
	static char got[70000];
	CHECK_EQ(read_file("/big.txt", got, sizeof got), size);
	CHECK_MEM(got, want, size);
	free(want);
}

TEST(tmpfs_file_round_trip)
{
	boot(0);
	long fd = CHECK_OK(open_("/tmp/f", O_RDWR | O_CREAT));
	static char data[20000];
	for (size_t i = 0; i < sizeof data; i++) data[i] = (char)(i * 7 + i / 251);
	/* in pieces that cross page boundaries, so the file's memory grows several times */
	for (size_t off = 0; off < sizeof data; off += 3001) {
		size_t n = sizeof data - off < 3001 ? sizeof data - off : 3001;
		CHECK_EQ(sys(SYS_write, fd, data + off, n), n);
	}
	static char back[20000];
	CHECK_EQ(sys(SYS_pread64, fd, back, sizeof back, 0), sizeof data);
	CHECK_MEM(back, data, sizeof data);
	CHECK_EQ(sys(SYS_lseek, fd, 0, SEEK_CUR), sizeof data);
}

TEST(pwrite_past_the_end_leaves_a_zeroed_hole)
{
	boot(0);
	long fd = CHECK_OK(open_("/tmp/hole", O_RDWR | O_CREAT));
	CHECK_EQ(sys(SYS_write, fd, "head", 4), 4);
	CHECK_EQ(sys(SYS_pwrite64, fd, "tail", 4, 10000), 4);
	char buf[10004];
	CHECK_EQ(sys(SYS_pread64, fd, buf, sizeof buf, 0), 10004);
	for (int i = 4; i < 10000; i++)
		if (buf[i]) FAIL("byte %d of the hole is %d", i, buf[i]);
	CHECK_MEM(buf + 10000, "tail", 4);
}

TEST(ftruncate_grows_with_zeros_and_shrinks)
{
	boot(0);
	char buf[64];
	struct stat st;
	/* on a file from the tar */
	long fd = CHECK_OK(open_("/hello.txt", O_RDWR));
	CHECK_OK(sys(SYS_ftruncate, fd, 5));
	CHECK_OK(sys(SYS_fstat, fd, &st));
	CHECK_EQ(st.st_size, 5);
	CHECK_EQ(read_file("/hello.txt", buf, sizeof buf), 5);
	CHECK_STR(buf, "hello");
	CHECK_OK(sys(SYS_ftruncate, fd, 20)); /* grows: the old bytes past 5 must not come back */
	CHECK_EQ(sys(SYS_pread64, fd, buf, sizeof buf, 0), 20);
	CHECK_MEM(buf, "hello\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	CHECK(disk_has("hello, nabla\n"));
	/* on a tmpfs file, past a page */
	long t = CHECK_OK(open_("/tmp/t", O_RDWR | O_CREAT));
	CHECK_EQ(sys(SYS_write, t, "0123456789", 10), 10);
	CHECK_OK(sys(SYS_ftruncate, t, 3));
	CHECK_OK(sys(SYS_ftruncate, t, 9000));
	static char big[9000];
	CHECK_EQ(sys(SYS_pread64, t, big, sizeof big, 0), 9000);
	CHECK_MEM(big, "012", 3);
	for (int i = 3; i < 9000; i++)
		if (big[i]) FAIL("byte %d after the grow is %d", i, big[i]);
	CHECK_OK(sys(SYS_truncate, "/tmp/t", 0));
	CHECK_OK(sys(SYS_fstat, t, &st));
	CHECK_EQ(st.st_size, 0);
	long dir = CHECK_OK(open_("/dir", O_RDONLY | O_DIRECTORY));
	CHECK(sys(SYS_ftruncate, dir, 0) < 0);
	CHECK_ERR(sys(SYS_ftruncate, 999, 0), EBADF);
}

/* ftruncate(2): EINVAL "the argument length is negative". */
TEST(ftruncate_to_a_negative_length_is_einval)
{
	boot(0);
	long fd = CHECK_OK(open_("/tmp/t", O_RDWR | O_CREAT));
	CHECK_ERR(sys(SYS_ftruncate, fd, -1), EINVAL);
	CHECK_ERR(sys(SYS_truncate, "/tmp/t", -1), EINVAL);
}

/* ftruncate(2): EINVAL (or EBADF) "fd is not open for writing". */
TEST(ftruncate_through_a_read_only_fd_is_einval)
{
	boot(0);
	long fd = CHECK_OK(open_("/hello.txt", O_RDONLY));
	long r = sys(SYS_ftruncate, fd, 0);
	if (r != -EINVAL && r != -EBADF) FAIL("ftruncate(O_RDONLY fd, 0) = %ld, want -EINVAL", r);
	struct stat st;
	CHECK_OK(sys(SYS_stat, "/hello.txt", &st));
	CHECK_EQ(st.st_size, 13);
}

/* A file cannot outgrow guest memory; that must be an error for the app, not the end of it. */
TEST(ftruncate_beyond_guest_memory_is_an_error)
{
	boot(0);
	long fd = CHECK_OK(open_("/tmp/t", O_RDWR | O_CREAT));
	long r = sys(SYS_ftruncate, fd, 1L << 40);
	if (r != -EFBIG && r != -ENOSPC && r != -ENOMEM) FAIL("ftruncate(1 TiB) = %ld, want -EFBIG, -ENOSPC or -ENOMEM", r);
	r = sys(SYS_pwrite64, fd, "x", 1, 1L << 40);
	if (r != -EFBIG && r != -ENOSPC && r != -ENOMEM) FAIL("pwrite at 1 TiB = %ld, want -EFBIG, -ENOSPC or -ENOMEM", r);
	CHECK_EQ(sys(SYS_write, fd, "still alive", 11), 11);
}

/* Truncating needs none of the bytes being cut off. */
TEST(truncating_a_disk_file_does_not_read_its_bytes)
{
	boot(0);
	disk_forget();
	long before = fake.disk_faults;
	CHECK_OK(open_("/big.txt", O_WRONLY | O_TRUNC));
	CHECK_EQ(fake.disk_faults, before);
	long fd = CHECK_OK(open_("/hello.txt", O_RDWR));
	CHECK_OK(sys(SYS_ftruncate, fd, 5));
	char buf[8];
	CHECK_EQ(sys(SYS_read, fd, buf, sizeof buf), 5);
	CHECK_MEM(buf, "hello", 5);
}

TEST(o_append_writes_at_the_end)
{
	boot(0);
	CHECK_OK(write_file("/tmp/log", "one\n"));
	long fd = CHECK_OK(open_("/tmp/log", O_WRONLY | O_APPEND));
	CHECK_EQ(sys(SYS_lseek, fd, 0, SEEK_SET), 0);
	CHECK_EQ(sys(SYS_write, fd, "two\n", 4), 4);
	CHECK_EQ(sys(SYS_lseek, fd, 0, SEEK_CUR), 8);
	long other = CHECK_OK(open_("/tmp/log", O_WRONLY));
	CHECK_EQ(sys(SYS_write, other, "ONE\n", 4), 4); /* a plain fd writes at its own offset */
	CHECK_EQ(sys(SYS_write, fd, "three\n", 6), 6);
	char buf[64];
	CHECK_EQ(read_file("/tmp/log", buf, sizeof buf), 14);
	CHECK_STR(buf, "ONE\ntwo\nthree\n");
	long tar = CHECK_OK(open_("/hello.txt", O_WRONLY | O_APPEND));
	CHECK_EQ(sys(SYS_write, tar, "!", 1), 1);
	CHECK_EQ(read_file("/hello.txt", buf, sizeof buf), 14);
	CHECK_STR(buf, "hello, nabla\n!");
}

TEST(o_trunc_empties_a_file_opened_for_writing)
{
	boot(0);
	struct stat st;
	CHECK_OK(open_("/hello.txt", O_RDONLY | O_TRUNC)); /* read-only: left alone */
	CHECK_OK(sys(SYS_stat, "/hello.txt", &st));
	CHECK_EQ(st.st_size, 13);
	CHECK_OK(open_("/hello.txt", O_WRONLY | O_TRUNC));
	CHECK_OK(sys(SYS_stat, "/hello.txt", &st));
	CHECK_EQ(st.st_size, 0);
	CHECK_OK(sys(SYS_creat, "/big.txt", 0644));
	CHECK_OK(sys(SYS_stat, "/big.txt", &st));
	CHECK_EQ(st.st_size, 0);
}

TEST(access_modes_are_enforced)
{
	boot(0);
	char buf[8];
	long ro = CHECK_OK(open_("/hello.txt", O_RDONLY));
	CHECK_ERR(sys(SYS_write, ro, "x", 1), EBADF);
	CHECK_ERR(sys(SYS_pwrite64, ro, "x", 1, 0), EBADF);
	long wo = CHECK_OK(open_("/hello.txt", O_WRONLY));
	CHECK_ERR(sys(SYS_read, wo, buf, 1), EBADF);
	CHECK_ERR(sys(SYS_pread64, wo, buf, 1, 0), EBADF);
	CHECK_ERR(open_("/dir", O_WRONLY), EISDIR);
	CHECK_ERR(open_("/dir", O_RDWR), EISDIR);
	CHECK_ERR(open_("/hello.txt", O_RDONLY | O_DIRECTORY), ENOTDIR);
	long dir = CHECK_OK(open_("/dir", O_RDONLY));
	CHECK_ERR(sys(SYS_read, dir, buf, 1), EISDIR);
}

TEST(unlinked_file_stays_readable_through_an_open_fd)
{
	boot(0);
	CHECK_OK(write_file("/tmp/gone", "still here"));
	long fd = CHECK_OK(open_("/tmp/gone", O_RDWR));
	long tar = CHECK_OK(open_("/dir/file.txt", O_RDONLY));
	CHECK_OK(sys(SYS_unlink, "/tmp/gone"));
	CHECK_OK(sys(SYS_unlink, "/dir/file.txt"));
	CHECK_ERR(open_("/tmp/gone", O_RDONLY), ENOENT);
	char buf[64];
	CHECK_EQ(sys(SYS_pread64, fd, buf, sizeof buf, 0), 10);
	CHECK_MEM(buf, "still here", 10);
	CHECK_EQ(sys(SYS_write, fd, "S", 1), 1); /* at offset 0 */
	CHECK_EQ(sys(SYS_read, tar, buf, sizeof buf), 7);
	/* a new file of the same name is another file */
	CHECK_OK(write_file("/tmp/gone", "new"));
	CHECK_EQ(sys(SYS_pread64, fd, buf, sizeof buf, 0), 10);
	CHECK_MEM(buf, "Still here", 10);
	CHECK_EQ(read_file("/tmp/gone", buf, sizeof buf), 3);
}

TEST(dup_shares_the_offset)
{
	boot(0);
	long fd = CHECK_OK(open_("/hello.txt", O_RDONLY));
	long d = CHECK_OK(sys(SYS_dup, fd));
	CHECK(d != fd);
	char buf[8];
	CHECK_EQ(sys(SYS_read, fd, buf, 5), 5);
	CHECK_EQ(sys(SYS_read, d, buf, 2), 2);
	CHECK_MEM(buf, ", ", 2);
	CHECK_OK(sys(SYS_close, fd));
	CHECK_EQ(sys(SYS_read, d, buf, 5), 5); /* the open file lives while one fd has it */
	CHECK_MEM(buf, "nabla", 5);
	CHECK_ERR(sys(SYS_dup, 999), EBADF);
}

TEST(dup2_and_dup3)
{
	boot(0);
	long a = CHECK_OK(open_("/hello.txt", O_RDONLY));
	long b = CHECK_OK(open_("/dir/file.txt", O_RDONLY));
	char buf[16];
	CHECK_EQ(sys(SYS_dup2, a, b), b); /* closes b's file first */
	CHECK_EQ(sys(SYS_read, b, buf, 5), 5);
	CHECK_MEM(buf, "hello", 5);
	CHECK_EQ(sys(SYS_dup2, a, a), a);
	CHECK_ERR(sys(SYS_dup3, a, a, 0), EINVAL);
	CHECK_EQ(sys(SYS_dup3, a, 100, O_CLOEXEC), 100);
	CHECK_EQ(sys(SYS_fcntl, 100, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(sys(SYS_fcntl, a, F_GETFD), 0);
	CHECK_ERR(sys(SYS_dup2, 999, 5), EBADF);
	CHECK_ERR(sys(SYS_dup2, a, -1), EBADF);
	CHECK_ERR(sys(SYS_dup2, a, 1 << 20), EBADF);
	/* dup2 onto stdout: writes go to the file's node, which here is read-only */
	CHECK_EQ(sys(SYS_dup2, a, 1), 1);
	CHECK_ERR(sys(SYS_write, 1, "x", 1), EBADF);
}

TEST(fcntl_dupfd_getfl_setfl)
{
	boot(0);
	long fd = CHECK_OK(open_("/tmp/f", O_RDWR | O_CREAT));
	CHECK_EQ(sys(SYS_fcntl, fd, F_DUPFD, 50), 50);
	CHECK_EQ(sys(SYS_fcntl, fd, F_DUPFD, 50), 51);
	CHECK_EQ(sys(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 0), fd + 1); /* the lowest free one */
	CHECK_EQ(sys(SYS_fcntl, fd + 1, F_GETFD), FD_CLOEXEC);
	CHECK_OK(sys(SYS_fcntl, fd + 1, F_SETFD, 0));
	CHECK_EQ(sys(SYS_fcntl, fd + 1, F_GETFD), 0);
	CHECK_EQ(sys(SYS_fcntl, fd, F_GETFL) & O_ACCMODE, O_RDWR);
	CHECK_EQ(sys(SYS_fcntl, fd, F_GETFL) & O_APPEND, 0);
	long cloexec_fd = CHECK_OK(open_("/hello.txt", O_RDONLY | O_CLOEXEC));
	CHECK_EQ(sys(SYS_fcntl, cloexec_fd, F_GETFL) & O_CLOEXEC, 0); /* a per-fd flag: F_GETFD */
	CHECK_EQ(sys(SYS_fcntl, cloexec_fd, F_GETFD), FD_CLOEXEC);
	CHECK_OK(sys(SYS_fcntl, fd, F_SETFL, O_APPEND | O_NONBLOCK | O_WRONLY));
	long fl = sys(SYS_fcntl, fd, F_GETFL);
	CHECK_EQ(fl & O_ACCMODE, O_RDWR); /* F_SETFL cannot change the access mode */
	CHECK(fl & O_APPEND);
	CHECK(fl & O_NONBLOCK);
	/* the flag is on the open file: the dup at 50 appends too */
	CHECK_EQ(sys(SYS_write, fd, "ab", 2), 2);
	CHECK_EQ(sys(SYS_lseek, 50, 0, SEEK_SET), 0);
	CHECK_EQ(sys(SYS_write, 50, "c", 1), 1);
	char buf[8];
	CHECK_EQ(read_file("/tmp/f", buf, sizeof buf), 3);
	CHECK_STR(buf, "abc");
	CHECK_EQ(sys(SYS_fcntl, open_("/hello.txt", O_RDONLY), F_GETFL) & O_ACCMODE, O_RDONLY);
	CHECK_ERR(sys(SYS_fcntl, 999, F_GETFL), EBADF);
	CHECK_ERR(sys(SYS_fcntl, fd, 12345), EINVAL);
}

/* fcntl(2): F_DUPFD fails with EINVAL when arg is negative or not below the fd limit. */
TEST(fcntl_dupfd_with_a_bad_minimum_is_einval)
{
	boot(0);
	long fd = CHECK_OK(open_("/hello.txt", O_RDONLY));
	CHECK_ERR(sys(SYS_fcntl, fd, F_DUPFD, -1), EINVAL);
	CHECK_ERR(sys(SYS_fcntl, fd, F_DUPFD_CLOEXEC, -100), EINVAL);
	CHECK_ERR(sys(SYS_fcntl, fd, F_DUPFD, 1 << 20), EINVAL);
}

TEST(close_of_a_bad_fd_is_ebadf)
{
	boot(0);
	CHECK_ERR(sys(SYS_close, -1), EBADF);
	CHECK_ERR(sys(SYS_close, 999), EBADF);
	CHECK_ERR(sys(SYS_close, 5000), EBADF);
	CHECK_ERR(sys(SYS_close, 1L << 40), EBADF);
	long fd = CHECK_OK(open_("/hello.txt", O_RDONLY));
	CHECK_OK(sys(SYS_close, fd));
	CHECK_ERR(sys(SYS_close, fd), EBADF);
	char buf[4];
	CHECK_ERR(sys(SYS_read, fd, buf, 1), EBADF);
	CHECK_ERR(sys(SYS_fstat, fd, buf), EBADF);
	CHECK_ERR(sys(SYS_lseek, fd, 0, SEEK_SET), EBADF);
	/* the lowest free fd is reused */
	CHECK_EQ(open_("/hello.txt", O_RDONLY), fd);
}

TEST(fds_run_out_with_emfile)
{
	boot(0);
	long last = 0, r;
	while ((r = open_("/hello.txt", O_RDONLY)) >= 0) last = r;
	CHECK_ERR(r, EMFILE);
	CHECK_EQ(last, 1023);
	CHECK_OK(sys(SYS_close, 500));
	/* With one fd free, no pair can be made, and the end that was made is closed again. */
	int pair[2];
	CHECK_ERR(sys(SYS_pipe2, pair, 0), EMFILE);
	CHECK_ERR(sys(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, pair), EMFILE);
	CHECK_EQ(open_("/hello.txt", O_RDONLY), 500);
	CHECK_ERR(sys(SYS_eventfd2, 0, 0), EMFILE);
	CHECK_ERR(sys(SYS_epoll_create1, 0), EMFILE);
}

TEST(dev_null)
{
	boot(0);
	long fd = CHECK_OK(open_("/dev/null", O_RDWR));
	char buf[16];
	CHECK_EQ(sys(SYS_read, fd, buf, sizeof buf), 0);
	CHECK_EQ(sys(SYS_write, fd, "gone", 4), 4);
	struct stat st;
	CHECK_OK(sys(SYS_fstat, fd, &st));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(read_file("/dev/null", buf, sizeof buf), 0);
}

TEST(dev_zero)
{
	boot(0);
	long fd = CHECK_OK(open_("/dev/zero", O_RDONLY));
	char buf[5000];
	memset(buf, 'x', sizeof buf);
	CHECK_EQ(sys(SYS_read, fd, buf, sizeof buf), sizeof buf);
	for (size_t i = 0; i < sizeof buf; i++)
		if (buf[i]) FAIL("byte %zu from /dev/zero is %d", i, buf[i]);
	CHECK_EQ(sys(SYS_pread64, fd, buf, 10, 1000), 10);
}

TEST(dev_urandom)
{
	boot(0);
	long fd = CHECK_OK(open_("/dev/urandom", O_RDONLY));
	unsigned char a[64] = { 0 }, b[64] = { 0 };
	CHECK_EQ(sys(SYS_read, fd, a, sizeof a), 64);
	CHECK_EQ(sys(SYS_read, fd, b, sizeof b), 64);
	CHECK(memcmp(a, b, sizeof a) != 0);
	int zeros = 0;
	for (int i = 0; i < 64; i++) zeros += !a[i];
	CHECK(zeros < 8);
	CHECK_OK(open_("/dev/random", O_RDONLY));
	CHECK_EQ(sys(SYS_write, fd, "x", 1), -EBADF); /* opened read-only */
}

TEST(console_fds)
{
	boot(0);
	char buf[8];
	CHECK_EQ(sys(SYS_write, 1, "to stdout\n", 10), 10);
	CHECK_EQ(sys(SYS_write, 2, "to stderr\n", 10), 10);
	CHECK_STR(fake.out[1], "to stdout\n");
	CHECK_STR(fake.out[2], "to stderr\n");
	CHECK_EQ(sys(SYS_read, 0, buf, sizeof buf), 0); /* stdin is empty */
	CHECK_ERR(sys(SYS_write, 0, "x", 1), EBADF);
	CHECK_ERR(sys(SYS_lseek, 1, 0, SEEK_SET), ESPIPE);
	CHECK_ERR(sys(SYS_pwrite64, 1, "x", 1, 0), ESPIPE);
	CHECK_ERR(sys(SYS_ioctl, 1, 0x5401 /* TCGETS */, buf), ENOTTY);
	struct stat st;
	CHECK_OK(sys(SYS_fstat, 1, &st));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(st.st_rdev, 0x8801); /* like /dev/pts/1 */
	long d = CHECK_OK(sys(SYS_dup, 2));
	CHECK_EQ(sys(SYS_write, d, "dup\n", 4), 4);
	CHECK_STR(fake.out[2], "to stderr\ndup\n");
}

TEST(writev_to_the_console_is_one_host_write)
{
	boot(0);
	struct iovec iov[] = { { "one ", 4 }, { "", 0 }, { "two ", 4 }, { "three\n", 6 } };
	int before = fake.writes[1];
	CHECK_EQ(sys(SYS_writev, 1, iov, 4), 14);
	CHECK_EQ(fake.writes[1] - before, 1);
	CHECK_STR(fake.out[1], "one two three\n");
	/* more than the gather buffer: still every byte, in order */
	static char big[10000];
	memset(big, 'b', sizeof big);
	struct iovec iov2[] = { { "<", 1 }, { big, sizeof big }, { ">", 1 } };
	CHECK_EQ(sys(SYS_writev, 2, iov2, 3), 10002);
	CHECK_EQ(fake.out_len[2], 10002);
	CHECK_EQ(fake.out[2][0], '<');
	CHECK_EQ(fake.out[2][10001], '>');
	CHECK_ERR(sys(SYS_writev, 1, iov, -1), EINVAL);
}

TEST(readv_and_writev_on_a_file)
{
	boot(0);
	long fd = CHECK_OK(open_("/tmp/v", O_RDWR | O_CREAT));
	struct iovec w[] = { { "abc", 3 }, { "", 0 }, { "defg", 4 } };
	CHECK_EQ(sys(SYS_writev, fd, w, 3), 7);
	CHECK_EQ(sys(SYS_lseek, fd, 0, SEEK_SET), 0);
	char a[2], b[10];
	struct iovec r[] = { { a, 2 }, { b, 10 } };
	CHECK_EQ(sys(SYS_readv, fd, r, 2), 7);
	CHECK_MEM(a, "ab", 2);
	CHECK_MEM(b, "cdefg", 5);
}
