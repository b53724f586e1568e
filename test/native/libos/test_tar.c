/* tar.c: the rootfs image's tree, from its index or its headers (ustar, pax, GNU long names), and reads from the disk. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define LONG_NAME_PREFIX "a-file-name-longer-than-one-hundred-characters"
#define DEEP "deep/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/cccccccccccccccccccccccccccccc/a-leaf-file-name.txt"

/* The entry of the fixture tree's folder dir whose name starts with prefix (run.sh builds the long names). */
static const char *tree_name(const char *dir, const char *prefix)
{
	static char name[512];
	char path[4096];
	snprintf(path, sizeof path, "%s/tree/%s", fixtures, dir);
	DIR *d = opendir(path);
	if (!d) FAIL("opendir %s", path);
	struct dirent *e;
	while ((e = readdir(d)) && strncmp(e->d_name, prefix, strlen(prefix)) != 0) {}
	if (!e) FAIL("no %s* in %s", prefix, path);
	snprintf(name, sizeof name, "%s", e->d_name);
	closedir(d);
	return name;
}

/* How many headers of the fixture tar `tar` satisfy want(header, data of the entry). The
 * cases check their fixture really has the form they test, so GNU tar changing its output
 * cannot make them pass without testing anything. */
static int tar_count(const char *tar, int (*want)(const char *hdr, const char *data, size_t len))
{
	size_t size;
	char path[4096];
	snprintf(path, sizeof path, "../%s", tar); /* host_file reads under tree/ */
	char *t = host_file(path, &size);
	int n = 0;
	for (size_t off = 0; off + 512 <= size && t[off];) {
		size_t len = strtoul(t + off + 124, 0, 8);
		n += want(t + off, t + off + 512, len);
		off += 512 + ((len + 511) & ~(size_t)511);
	}
	free(t);
	return n;
}

static int pax_path(const char *h, const char *d, size_t len) { return h[156] == 'x' && memmem(d, len, " path=", 6); }
static int pax_linkpath(const char *h, const char *d, size_t len) { return h[156] == 'x' && memmem(d, len, " linkpath=", 10); }
static int gnu_longname(const char *h, const char *d, size_t len)
{
	(void)d;
	(void)len;
	return h[156] == 'L';
}
static int gnu_longlink(const char *h, const char *d, size_t len)
{
	(void)d;
	(void)len;
	return h[156] == 'K';
}
/* an entry (not a GNU long-name record, named "././@LongLink") whose name starts with "./" */
static int dot_slash(const char *h, const char *d, size_t len)
{
	(void)d;
	(void)len;
	return h[156] != 'L' && h[156] != 'K' && strncmp(h, "./", 2) == 0;
}
static int has_dotdot_name(const char *h, const char *d, size_t len)
{
	(void)d;
	(void)len;
	return strstr(h, "..") != 0;
}
static int ustar_prefix(const char *h, const char *d, size_t len)
{
	(void)d;
	(void)len;
	return memcmp(h + 257, "ustar\0", 6) == 0 && h[345] != 0;
}

/* The file reads back through the libOS exactly as the host has it in the tree. */
static void same_as_host(const char *guest_path, const char *tree_path)
{
	size_t len;
	char *want = host_file(tree_path, &len);
	static char got[1 << 17];
	long r = read_file(guest_path, got, sizeof got);
	if (r < 0) FAIL("read %s: -%s", guest_path, errname(r));
	if ((size_t)r != len) FAIL("%s: %ld bytes, the tree's file has %zu", guest_path, r, len);
	CHECK_MEM(got, want, len);
	free(want);
}

/* "/" lists what the fixture tree holds at its top (run.sh), and the libOS's own folders. */
static void check_root_of_the_fixture_tree(void)
{
	char want[1024], dir[256];
	snprintf(dir, sizeof dir, "%s", tree_name(".", "a-directory-name"));
	snprintf(want, sizeof want,
		 "%s/ %s abs-link@ big.txt chain@ dangling@ deep/ dev/ dir/ empty-dir/ empty.txt hello.txt link-to-dir@ "
		 "link-to-file@ long-link@ loop-a@ loop-b@ proc/ self@ tmp/",
		 dir, tree_name(".", LONG_NAME_PREFIX));
	CHECK_STR(ls("/"), want);
}

TEST(tar_pax_files)
{
	CHECK(tar_count("pax.tar", dot_slash) > 10); /* names like "./hello.txt" */
	boot(0);
	same_as_host("/hello.txt", "hello.txt");
	same_as_host("/dir/file.txt", "dir/file.txt");
	same_as_host("/dir/sub/deep.txt", "dir/sub/deep.txt");
	same_as_host("/empty.txt", "empty.txt");
	same_as_host("/big.txt", "big.txt");
	check_root_of_the_fixture_tree();
}

TEST(tar_pax_directories)
{
	boot(0);
	struct stat st;
	CHECK_OK(sys(SYS_stat, "/dir", &st));
	CHECK_EQ(st.st_mode, S_IFDIR | 0750); /* the mode the tar holds */
	CHECK_EQ(st.st_mtim.tv_sec, 1700000000);
	CHECK_OK(sys(SYS_stat, "/dir/sub", &st));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_STR(ls("/empty-dir"), "");
	CHECK_STR(ls("/dir"), "file.txt sub/ up@");
	/* The "./" entry did not replace the root, and the libOS's own folders are still there. */
	CHECK_STR(ls("/dev"), "null% random% urandom% zero%");
	CHECK_OK(sys(SYS_stat, "/tmp", &st));
	CHECK_EQ(st.st_mode, S_IFDIR | 01777);
}

TEST(tar_pax_symlinks)
{
	boot(0);
	struct stat st;
	char buf[256] = "";
	CHECK_OK(sys(SYS_lstat, "/link-to-file", &st));
	CHECK(S_ISLNK(st.st_mode));
	CHECK_EQ(st.st_size, 9);
	CHECK_EQ(sys(SYS_readlink, "/link-to-file", buf, sizeof buf), 9);
	CHECK_MEM(buf, "hello.txt", 9);
	CHECK_OK(sys(SYS_stat, "/link-to-file", &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0640);
	CHECK_EQ(st.st_size, 13);
	CHECK_EQ(sys(SYS_readlink, "/dir/up", buf, sizeof buf), 12);
	CHECK_MEM(buf, "../hello.txt", 12);
	CHECK_EQ(sys(SYS_readlink, "/abs-link", buf, sizeof buf), 13);
	CHECK_MEM(buf, "/dir/file.txt", 13);
	CHECK_OK(sys(SYS_lstat, "/dangling", &st));
	CHECK(S_ISLNK(st.st_mode));
}

TEST(tar_pax_long_name)
{
	CHECK(tar_count("pax.tar", pax_path) >= 1);
	const char *name = tree_name(".", LONG_NAME_PREFIX);
	CHECK_EQ(strlen(name), 150);
	boot(0);
	char path[256], buf[64];
	snprintf(path, sizeof path, "/%s", name);
	CHECK_EQ(read_file(path, buf, sizeof buf), 10);
	CHECK_STR(buf, "long name\n");
	CHECK(strstr(ls("/"), name) != 0);
}

TEST(tar_pax_long_link_target)
{
	CHECK(tar_count("pax.tar", pax_linkpath) >= 1);
	boot(0);
	char buf[512] = "", want[512];
	snprintf(want, sizeof want, "%s/t.txt", tree_name(".", "a-directory-name"));
	CHECK(strlen(want) > 100);
	CHECK_EQ(sys(SYS_readlink, "/long-link", buf, sizeof buf), strlen(want));
	CHECK_STR(buf, want);
	CHECK_EQ(read_file("/long-link", buf, sizeof buf), 12);
	CHECK_STR(buf, "long target\n");
}

TEST(tar_ustar_prefix)
{
	CHECK(tar_count("ustar.tar", ustar_prefix) >= 1);
	CHECK_EQ(tar_count("ustar.tar", pax_path), 0);
	CHECK(strlen(DEEP) > 100);
	boot(&(struct boot_opts){ .tar = "ustar.tar" });
	char buf[64];
	CHECK_EQ(read_file("/" DEEP, buf, sizeof buf), 9);
	CHECK_STR(buf, "prefixed\n");
	same_as_host("/hello.txt", "hello.txt");
	same_as_host("/big.txt", "big.txt");
	CHECK_EQ(sys(SYS_readlink, "/dir/up", buf, sizeof buf), 12);
	CHECK_ERR(sys(SYS_access, "/long-link", F_OK), ENOENT); /* not in this tar */
}

TEST(tar_gnu_long_names)
{
	CHECK(tar_count("gnu.tar", gnu_longname) >= 1);
	CHECK(tar_count("gnu.tar", gnu_longlink) >= 1);
	CHECK_EQ(tar_count("gnu.tar", dot_slash), 0); /* plain names, unlike pax.tar */
	boot(&(struct boot_opts){ .tar = "gnu.tar" });
	char path[256], buf[512];
	snprintf(path, sizeof path, "/%s", tree_name(".", LONG_NAME_PREFIX));
	CHECK_EQ(read_file(path, buf, sizeof buf), 10);
	CHECK_STR(buf, "long name\n");
	CHECK_EQ(read_file("/long-link", buf, sizeof buf), 12);
	CHECK_STR(buf, "long target\n");
	CHECK_EQ(read_file("/" DEEP, buf, sizeof buf), 9);
	same_as_host("/dir/sub/deep.txt", "dir/sub/deep.txt");
}

TEST(tar_later_entry_replaces_earlier)
{
	boot(&(struct boot_opts){ .tar = "replace.tar" });
	char buf[128];
	struct stat st;
	CHECK_EQ(read_file("/same.txt", buf, sizeof buf), 7);
	CHECK_STR(buf, "second\n");
	CHECK_OK(sys(SYS_stat, "/same.txt", &st));
	CHECK_EQ(st.st_size, 7);
	/* A file replaced by a directory, and a directory (with a child) by a file. */
	CHECK_STR(ls("/becomes-dir"), "inner.txt");
	CHECK_EQ(read_file("/was-dir", buf, sizeof buf), 11);
	CHECK_STR(buf, "a file now\n");
	CHECK_ERR(sys(SYS_stat, "/was-dir/child.txt", &st), ENOTDIR);
	/* Folders the tar never names are made on the way to a file. */
	CHECK_STR(ls("/implicit"), "deeper/");
	CHECK_EQ(read_file("/implicit/deeper/c.txt", buf, sizeof buf), 2);
	CHECK_STR(ls("/"), "becomes-dir/ dev/ implicit/ proc/ same.txt tmp/ was-dir");
}

TEST(tar_entries_with_dotdot_are_skipped)
{
	CHECK_EQ(tar_count("dotdot.tar", has_dotdot_name), 3); /* the fixture has them */
	boot(&(struct boot_opts){ .tar = "dotdot.tar" });
	CHECK_STR(ls("/"), "dev/ kept.txt proc/ tmp/");
	char buf[64];
	CHECK_EQ(read_file("/kept.txt", buf, sizeof buf), 5);
	struct stat st;
	CHECK_ERR(sys(SYS_stat, "/b.txt", &st), ENOENT);
}

TEST(tar_read_offsets)
{
	boot(0);
	size_t size;
	char *want = host_file("big.txt", &size);
	CHECK_EQ(size, 64004);
	long fd = CHECK_OK(open_("/big.txt", O_RDONLY));
	char buf[1000];
	static const long offs[] = { 0, 1, 511, 512, 513, 4095, 4096, 4097, 10000, 32768, 63900 };
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		memset(buf, 0, sizeof buf);
		CHECK_EQ(sys(SYS_pread64, fd, buf, 100, offs[i]), 100);
		if (memcmp(buf, want + offs[i], 100)) FAIL("pread at %ld differs from the file", offs[i]);
	}
	CHECK_EQ(sys(SYS_pread64, fd, buf, 100, 63950), 54); /* short at the end */
	CHECK_MEM(buf, want + 63950, 54);
	CHECK_EQ(sys(SYS_pread64, fd, buf, 100, 64004), 0);
	CHECK_EQ(sys(SYS_pread64, fd, buf, 100, 99999), 0);
	CHECK_ERR(sys(SYS_pread64, fd, buf, 100, -1), EINVAL);
	/* pread leaves the offset alone; read moves it, in odd-sized pieces to the end. */
	size_t got = 0;
	long r;
	static char all[70000];
	while ((r = sys(SYS_read, fd, all + got, 777)) > 0) got += (size_t)r;
	CHECK_EQ(r, 0);
	CHECK_EQ(got, size);
	CHECK_MEM(all, want, size);
	CHECK_EQ(sys(SYS_lseek, fd, 1000, SEEK_SET), 1000);
	CHECK_EQ(sys(SYS_read, fd, buf, 10), 10);
	CHECK_MEM(buf, want + 1000, 10);
	CHECK_EQ(sys(SYS_lseek, fd, -5, SEEK_CUR), 1005);
	CHECK_EQ(sys(SYS_read, fd, buf, 5), 5);
	CHECK_MEM(buf, want + 1005, 5);
	CHECK_EQ(sys(SYS_lseek, fd, -4, SEEK_END), 64000);
	CHECK_EQ(sys(SYS_read, fd, buf, sizeof buf), 4);
	CHECK_MEM(buf, "end\n", 4);
	CHECK_ERR(sys(SYS_lseek, fd, -70000, SEEK_END), EINVAL);
	CHECK_ERR(sys(SYS_lseek, fd, 0, 42), EINVAL);
	CHECK_EQ(sys(SYS_lseek, fd, 100000, SEEK_SET), 100000); /* past the end is allowed */
	CHECK_EQ(sys(SYS_read, fd, buf, 10), 0);
	free(want);
}

TEST(tar_fstat_sizes)
{
	boot(0);
	struct stat st, st2;
	long fd = CHECK_OK(open_("/big.txt", O_RDONLY));
	CHECK_OK(sys(SYS_fstat, fd, &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0644);
	CHECK_EQ(st.st_size, 64004);
	CHECK_EQ(st.st_blocks, (64004 + 511) / 512);
	CHECK_EQ(st.st_mtim.tv_sec, 1700000000);
	CHECK_EQ(st.st_nlink, 1);
	fd = CHECK_OK(open_("/empty.txt", O_RDONLY));
	CHECK_OK(sys(SYS_fstat, fd, &st));
	CHECK_EQ(st.st_size, 0);
	fd = CHECK_OK(open_("/hello.txt", O_RDONLY));
	CHECK_OK(sys(SYS_fstat, fd, &st));
	CHECK_EQ(st.st_size, 13);
	CHECK_EQ(st.st_mode, S_IFREG | 0640);
	CHECK_OK(sys(SYS_stat, "/link-to-file", &st2)); /* the same node through the link */
	CHECK_EQ(st2.st_ino, st.st_ino);
	CHECK_OK(sys(SYS_stat, "/dir/file.txt", &st2));
	CHECK(st2.st_ino != st.st_ino);
	CHECK_OK(sys(SYS_newfstatat, AT_FDCWD, "/hello.txt", &st2, 0));
	CHECK_EQ(st2.st_ino, st.st_ino);
}

TEST(tar_file_bytes_stay_on_disk)
{
	boot(0);
	CHECK(fake.disk_faults > 0); /* the headers */
	disk_forget();
	char buf[100];
	long fd = CHECK_OK(open_("/big.txt", O_RDONLY));
	CHECK_EQ(fake.disk_faults, 0);
	CHECK_EQ(sys(SYS_pread64, fd, buf, sizeof buf, 40000), 100);
	CHECK_EQ(fake.disk_faults, 1); /* read from the disk when asked, not copied at boot */
}

TEST(tar_extended_header_past_the_end_panics)
{
	/* Refused before the libOS takes guest memory for it (found by test/fuzz/c tar: it took
	 * the size from the header, then said "out of guest memory (raise --mem)"). */
	jmp_buf jb;
	fake.exit_jmp = &jb;
	if (setjmp(jb) == 0) {
		boot(&(struct boot_opts){ .tar = "pax-past-end.tar" });
		FAIL("booted an image whose extended header runs past its end");
	}
	CHECK_EQ(fake.exit_code, 127);
	CHECK(strstr(fake.out[2], "rootfs image: an extended header runs past the end of the image") != 0);
}

TEST(tar_no_disk)
{
	boot(&(struct boot_opts){ .no_disk = 1 });
	CHECK_STR(ls("/"), "dev/ proc/ tmp/");
	CHECK_ERR(open_("/hello.txt", O_RDONLY), ENOENT);
	CHECK_OK(write_file("/tmp/new", "works without a disk"));
}

TEST(tar_zero_length_disk)
{
	boot(&(struct boot_opts){ .tar = "zero.tar" });
	CHECK_EQ(guest.boot->disk_addr, 0); /* as the tender gives it: nothing mapped */
	CHECK_STR(ls("/"), "dev/ proc/ tmp/");
}

/* ---- the index (mkindex.c writes it as nabla-build does) ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	for (size_t i = 0; i < len; i++) h = (h ^ ((const uint8_t *)p)[i]) * 0x100000001b3ULL;
	return h;
}

/* Every node under dir (but /dev and /proc): its path, type and mode, size, times, owner,
 * links, inode, and its bytes or target, hashed into *h. */
static void walk(const char *dir, uint64_t *h, int *count)
{
	char list[8192], *save = 0;
	snprintf(list, sizeof list, "%s", ls(dir));
	for (char *e = strtok_r(list, " ", &save); e; e = strtok_r(0, " ", &save)) {
		size_t len = strlen(e);
		if (strchr("/@%", e[len - 1])) e[--len] = 0;
		char path[4096], line[4300];
		snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") ? dir : "", e);
		if (!strcmp(path, "/dev") || !strcmp(path, "/proc")) continue;
		struct stat st;
		CHECK_OK(sys(SYS_lstat, path, &st));
		int n = snprintf(line, sizeof line, "%s %o %ld %ld %u %u %lu %lu\n", path, st.st_mode, (long)st.st_size,
				 (long)st.st_mtim.tv_sec, st.st_uid, st.st_gid, (unsigned long)st.st_nlink, (unsigned long)st.st_ino);
		*h = fnv(*h, line, (size_t)n);
		++*count;
		static char bytes[1 << 17];
		if (S_ISLNK(st.st_mode)) *h = fnv(*h, bytes, (size_t)CHECK_OK(sys(SYS_readlink, path, bytes, sizeof bytes)));
		if (S_ISREG(st.st_mode)) *h = fnv(*h, bytes, (size_t)CHECK_OK(read_file(path, bytes, sizeof bytes)));
		if (S_ISDIR(st.st_mode)) walk(path, h, count);
	}
}

static void print_tree(void *tar)
{
	boot(&(struct boot_opts){ .tar = tar });
	uint64_t h = 0xcbf29ce484222325ULL;
	int count = 0;
	walk("/", &h, &count);
	printf("%d nodes, hash %016llx\n", count, (unsigned long long)h);
	fflush(stdout);
}

TEST(tar_index_gives_the_tree_the_headers_give)
{
	static const char *const tars[] = { "pax", "gnu", "ustar", "replace", "hardlink", "dotdot" };
	for (size_t i = 0; i < sizeof tars / sizeof tars[0]; i++) {
		char plain[64], indexed[64];
		snprintf(plain, sizeof plain, "%s.tar", tars[i]);
		snprintf(indexed, sizeof indexed, "%s-index.tar", tars[i]);
		struct child a, b;
		run_child(print_tree, plain, &a);
		run_child(print_tree, indexed, &b);
		if (!a.exited || a.code != 0 || !b.exited || b.code != 0)
			FAIL("%s: exit %d signal %d: %.300s / %s: exit %d signal %d: %.300s", plain, a.code, a.signal, a.out, indexed,
			     b.code, b.signal, b.out);
		if (atoi(a.out) < 2) FAIL("%s: %s", plain, a.out);
		if (strcmp(a.out, b.out)) FAIL("%s: %s%s: %s", plain, a.out, indexed, b.out);
	}
}

/* The index nabla-build writes (a seed of test/fuzz/c: long names, a folder named only by
 * the ustar prefix, a link) against the same tar without it. */
TEST(tar_index_written_by_nabla_build_gives_the_tree_its_headers_give)
{
	size_t size;
	char *t = host_file("../nabla-build-index.tar", &size);
	CHECK_STR(t, ".nabla-index");
	uint64_t len = strtoull(t + 124, 0, 8), skip = 512 + ((len + 511) & ~511ULL);
	CHECK(skip < size);
	int fd = open(fixture("nabla-build-headers.tar"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, t + skip, size - skip) != (ssize_t)(size - skip) || close(fd) < 0) FAIL("writing nabla-build-headers.tar");
	free(t);
	struct child a, b;
	run_child(print_tree, "nabla-build-headers.tar", &a);
	run_child(print_tree, "nabla-build-index.tar", &b);
	if (!a.exited || a.code != 0 || !b.exited || b.code != 0 || atoi(a.out) != 6 || strcmp(a.out, b.out))
		FAIL("headers: %s / index: %s", a.out, b.out);
}

TEST(tar_index_is_invisible_to_the_guest)
{
	boot(&(struct boot_opts){ .tar = "pax-index.tar" });
	CHECK(guest.disk && memcmp(guest.disk, ".nabla-index", 13) == 0); /* the first member */
	check_root_of_the_fixture_tree();
	struct stat st;
	CHECK_ERR(sys(SYS_lstat, "/.nabla-index", &st), ENOENT);
	same_as_host("/big.txt", "big.txt");
	char link[64];
	CHECK_EQ(sys(SYS_readlink, "/dir/up", link, sizeof link), 12);
}

TEST(tar_index_boot_reads_only_the_index)
{
	size_t size;
	char *t = host_file("../pax-index.tar", &size);
	uint64_t len = strtoull(t + 124, 0, 8);
	free(t);
	boot(&(struct boot_opts){ .tar = "pax-index.tar" });
	CHECK_EQ(fake.disk_faults, (long)((512 + len + 4095) / 4096)); /* the pax.tar scan reads a page per header */
	char buf[100];
	long fd = CHECK_OK(open_("/big.txt", O_RDONLY));
	CHECK_EQ(sys(SYS_pread64, fd, buf, sizeof buf, 40000), 100);
	CHECK(fake.disk_faults > (long)((512 + len + 4095) / 4096));
}

static void boot_tar(void *tar)
{
	boot(&(struct boot_opts){ .tar = tar });
	printf("booted\n");
}

/* Each way mkindex --break breaks an index, and what the libOS must say. The harness maps
 * the disk with 1 MiB of PROT_NONE after it: a read past the disk would kill the child
 * (a signal) instead of the clean panic (exit 127). */
TEST(tar_broken_index_panics_without_reading_past_the_disk)
{
	static const struct {
		const char *how, *says;
	} breaks[] = {
		{ "magic", ".nabla-index is not an index" },
		{ "version", "its index is of another version" },
		{ "index-past-end", "its index (.nabla-index) runs past the end of the image" },
		{ "count", "its index ends inside a record" },
		{ "trailing", "its index has bytes after its last record" },
		{ "name-too-long", "a name in its index is longer than 4095 bytes" },
		{ "name-past-end", "its index ends inside a name" },
		{ "file-past-end", "its index puts a file's bytes past the end of the image" },
		{ "data-past-end", "its index puts a file's bytes past the end of the image" },
		{ "data-wraps", "its index puts a file's bytes past the end of the image" },
	};
	for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
		char tar[64];
		snprintf(tar, sizeof tar, "broken-index-%s.tar", breaks[i].how);
		struct child c;
		run_child(boot_tar, tar, &c);
		if (!c.exited || c.code != 127 || !strstr(c.out, breaks[i].says))
			FAIL("%s: exit %d signal %d, want a panic saying \"%s\"; output: %.300s", tar, c.code, c.signal, breaks[i].says,
			     c.out);
	}
}

/* tar-stream (nabla-build's tars) writes a folder whose name fits only the ustar prefix
 * with an empty name field: not the end of the archive, which is a zero block. */
TEST(tar_a_folder_named_only_by_the_ustar_prefix)
{
	static char tar[4 * 512];
	memset(tar, 0, sizeof tar);
	memcpy(tar + 100, "0000755", 8);
	memcpy(tar + 124, "00000000000", 12);
	tar[156] = '5';
	memcpy(tar + 257, "ustar", 6);
	strcpy(tar + 345, "only-in-the-prefix");
	strcpy(tar + 512, "only-in-the-prefix/after.txt");
	memcpy(tar + 512 + 100, "0000644", 8);
	memcpy(tar + 512 + 124, "00000000006", 12);
	tar[512 + 156] = '0';
	memcpy(tar + 1024, "after\n", 6);
	int fd = open(fixture("prefix-only.tar"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, tar, sizeof tar) != (ssize_t)sizeof tar || close(fd) < 0) FAIL("writing prefix-only.tar");
	boot(&(struct boot_opts){ .tar = "prefix-only.tar" });
	CHECK_STR(ls("/"), "dev/ only-in-the-prefix/ proc/ tmp/");
	char buf[16];
	CHECK_EQ(read_file("/only-in-the-prefix/after.txt", buf, sizeof buf), 6);
	CHECK_STR(buf, "after\n");
}
