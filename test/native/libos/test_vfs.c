/* vfs.c and the path calls of fs.c: lookup ('.', '..', slashes, symlinks), creating,
 * removing and renaming names, directory listings, the working directory. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* The inode number behind path (following links), or FAIL. */
static uint64_t ino(const char *path)
{
	struct stat st;
	long r = sys(SYS_stat, path, &st);
	if (r < 0) FAIL("stat %s = -%s", path, errname(r));
	return st.st_ino;
}

TEST(path_dot_and_dotdot)
{
	boot(0);
	char buf[64];
	CHECK_EQ(ino("/dir/./sub/../file.txt"), ino("/dir/file.txt"));
	CHECK_EQ(ino("/./dir/."), ino("/dir"));
	CHECK_EQ(ino("/dir/sub/../.."), ino("/"));
	CHECK_EQ(ino("."), ino("/"));
	CHECK_EQ(read_file("dir/../hello.txt", buf, sizeof buf), 13);
	CHECK_ERR(sys(SYS_access, "/dir/nope/..", F_OK), ENOENT); /* '..' does not skip a missing name */
}

TEST(path_dotdot_at_root_stays_at_root)
{
	boot(0);
	CHECK_EQ(ino("/.."), ino("/"));
	CHECK_EQ(ino("/../../.."), ino("/"));
	CHECK_EQ(ino("/../../hello.txt"), ino("/hello.txt"));
	CHECK_OK(sys(SYS_chdir, "/"));
	CHECK_EQ(ino("../../dir"), ino("/dir"));
}

TEST(path_repeated_slashes)
{
	boot(0);
	CHECK_EQ(ino("//dir///file.txt"), ino("/dir/file.txt"));
	CHECK_EQ(ino("///"), ino("/"));
	CHECK_EQ(ino("dir//sub//"), ino("/dir/sub"));
}

TEST(path_trailing_slash_on_a_file_is_enotdir)
{
	boot(0);
	struct stat st;
	CHECK_ERR(sys(SYS_stat, "/hello.txt/", &st), ENOTDIR);
	CHECK_ERR(sys(SYS_stat, "/hello.txt/.", &st), ENOTDIR);
	CHECK_ERR(sys(SYS_stat, "/hello.txt/x", &st), ENOTDIR);
	CHECK_ERR(open_("/hello.txt/", O_RDONLY), ENOTDIR);
	CHECK_ERR(sys(SYS_stat, "/link-to-file/", &st), ENOTDIR);
	CHECK_OK(sys(SYS_stat, "/dir/", &st));
	CHECK_OK(sys(SYS_stat, "/link-to-dir/", &st));
	CHECK(S_ISDIR(st.st_mode));
}

TEST(path_empty_is_enoent)
{
	boot(0);
	struct stat st;
	CHECK_ERR(sys(SYS_stat, "", &st), ENOENT);
	CHECK_ERR(open_("", O_RDONLY), ENOENT);
}

TEST(path_component_over_255_is_enametoolong)
{
	boot(0);
	char path[400] = "/tmp/";
	memset(path + 5, 'n', 256);
	CHECK_ERR(open_(path, O_RDONLY), ENAMETOOLONG);
	path[5 + 255] = 0;
	CHECK_ERR(open_(path, O_RDONLY), ENOENT); /* 255 is allowed */
}

TEST(symlink_to_file)
{
	boot(0);
	char buf[64];
	CHECK_EQ(read_file("/link-to-file", buf, sizeof buf), 13);
	CHECK_STR(buf, "hello, nabla\n");
	CHECK_EQ(read_file("/chain", buf, sizeof buf), 13); /* chain -> link-to-file -> hello.txt */
}

TEST(symlink_to_dir_in_the_middle_of_a_path)
{
	boot(0);
	char buf[64];
	CHECK_EQ(read_file("/link-to-dir/file.txt", buf, sizeof buf), 7);
	CHECK_STR(buf, "in dir\n");
	CHECK_EQ(ino("/link-to-dir/sub/deep.txt"), ino("/dir/sub/deep.txt"));
	/* '..' after a link is the parent of where the link went (as on Linux). */
	CHECK_EQ(ino("/link-to-dir/sub/.."), ino("/dir"));
	CHECK_EQ(ino("/link-to-dir/.."), ino("/"));
	CHECK_STR(ls("/link-to-dir"), "file.txt sub/ up@");
}

TEST(symlink_relative_target_resolves_from_the_links_folder)
{
	boot(0);
	char buf[64];
	CHECK_EQ(read_file("/dir/up", buf, sizeof buf), 13); /* dir/up -> ../hello.txt */
	CHECK_EQ(read_file("/link-to-dir/up", buf, sizeof buf), 13);
	CHECK_OK(sys(SYS_chdir, "/dir/sub"));
	CHECK_OK(sys(SYS_symlink, "../file.txt", "rel"));
	CHECK_EQ(read_file("rel", buf, sizeof buf), 7);
	CHECK_STR(buf, "in dir\n");
	CHECK_OK(sys(SYS_symlink, "deep.txt", "/dir/sub/same-dir"));
	CHECK_EQ(read_file("/dir/sub/same-dir", buf, sizeof buf), 5);
}

TEST(symlink_absolute_target)
{
	boot(0);
	char buf[64];
	CHECK_OK(sys(SYS_chdir, "/dir/sub"));
	CHECK_EQ(read_file("/abs-link", buf, sizeof buf), 7); /* -> /dir/file.txt */
	CHECK_OK(sys(SYS_symlink, "/hello.txt", "abs"));
	CHECK_EQ(read_file("abs", buf, sizeof buf), 13);
}

TEST(symlink_dangling_is_enoent)
{
	boot(0);
	struct stat st;
	CHECK_ERR(sys(SYS_stat, "/dangling", &st), ENOENT);
	CHECK_ERR(open_("/dangling", O_RDONLY), ENOENT);
	CHECK_OK(sys(SYS_lstat, "/dangling", &st));
	CHECK_ERR(sys(SYS_access, "/dangling", F_OK), ENOENT);
	CHECK_OK(sys(SYS_faccessat, AT_FDCWD, "/dangling", F_OK, AT_SYMLINK_NOFOLLOW));
}

TEST(symlink_loop_is_eloop)
{
	boot(0);
	struct stat st;
	CHECK_ERR(sys(SYS_stat, "/loop-a", &st), ELOOP);
	CHECK_ERR(sys(SYS_stat, "/self", &st), ELOOP);
	CHECK_ERR(open_("/loop-b/x", O_RDONLY), ELOOP);
	CHECK_ERR(open_("/self", O_RDWR | O_CREAT), ELOOP);
	CHECK_OK(sys(SYS_lstat, "/loop-a", &st));
}

/* Linux follows at most 40 links for one lookup. */
TEST(symlink_chain_of_40_resolves_41_is_eloop)
{
	boot(0);
	char name[32], target[32];
	CHECK_OK(write_file("/tmp/end", "end"));
	for (int i = 1; i <= 41; i++) {
		snprintf(name, sizeof name, "/tmp/l%d", i);
		if (i == 1) snprintf(target, sizeof target, "end");
		else snprintf(target, sizeof target, "l%d", i - 1);
		CHECK_OK(sys(SYS_symlink, target, name));
	}
	char buf[16];
	CHECK_EQ(read_file("/tmp/l40", buf, sizeof buf), 3);
	CHECK_ERR(read_file("/tmp/l41", buf, sizeof buf), ELOOP);
}

TEST(open_nofollow_on_a_link_is_eloop)
{
	boot(0);
	CHECK_ERR(open_("/link-to-file", O_RDONLY | O_NOFOLLOW), ELOOP);
	CHECK_ERR(open_("/dangling", O_RDONLY | O_NOFOLLOW), ELOOP);
	CHECK_OK(open_("/hello.txt", O_RDONLY | O_NOFOLLOW));
	CHECK_OK(open_("/link-to-dir/file.txt", O_RDONLY | O_NOFOLLOW)); /* only the last part */
}

TEST(open_creat_with_a_missing_parent_is_enoent)
{
	boot(0);
	CHECK_ERR(open_("/nope/new.txt", O_WRONLY | O_CREAT), ENOENT);
	CHECK_ERR(open_("/tmp/a/b/c", O_WRONLY | O_CREAT), ENOENT);
	CHECK_ERR(open_("/dangling/new.txt", O_WRONLY | O_CREAT), ENOENT);
	CHECK_ERR(open_("/hello.txt/new.txt", O_WRONLY | O_CREAT), ENOTDIR);
	CHECK_STR(ls("/tmp"), "");
}

TEST(open_creat_excl_on_an_existing_file_is_eexist)
{
	boot(0);
	CHECK_ERR(open_("/hello.txt", O_WRONLY | O_CREAT | O_EXCL), EEXIST);
	CHECK_ERR(open_("/dir", O_RDONLY | O_CREAT | O_EXCL), EEXIST);
	CHECK_OK(open_("/tmp/once", O_WRONLY | O_CREAT | O_EXCL));
	CHECK_ERR(open_("/tmp/once", O_WRONLY | O_CREAT | O_EXCL), EEXIST);
}

/* O_CREAT|O_EXCL never follows a link: "if pathname is a symbolic link, open() fails
 * regardless of where the symbolic link points" (open(2)). */
TEST(open_creat_excl_on_a_dangling_link_is_eexist)
{
	boot(0);
	CHECK_ERR(open_("/dangling", O_WRONLY | O_CREAT | O_EXCL), EEXIST);
	CHECK_ERR(sys(SYS_access, "/nowhere", F_OK), ENOENT);
}

TEST(open_creat_makes_a_file)
{
	boot(0);
	struct stat st;
	long fd = CHECK_OK(sys(SYS_openat, AT_FDCWD, "/tmp/new", O_RDWR | O_CREAT, 0666));
	CHECK_OK(sys(SYS_fstat, fd, &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0644); /* umask 022 */
	CHECK_EQ(st.st_size, 0);
	CHECK(st.st_mtim.tv_sec > 1700000000);
	/* O_CREAT without O_EXCL through a dangling link makes its target, as Linux does. */
	CHECK_OK(sys(SYS_symlink, "made-by-link", "/tmp/to-be"));
	CHECK_OK(open_("/tmp/to-be", O_WRONLY | O_CREAT));
	CHECK_STR(ls("/tmp"), "made-by-link new to-be@");
	/* "name/" cannot be a new file */
	CHECK(open_("/tmp/newdir/", O_WRONLY | O_CREAT) < 0);
}

TEST(mkdir_and_rmdir)
{
	boot(0);
	struct stat st;
	CHECK_OK(sys(SYS_mkdir, "/tmp/d", 0777));
	CHECK_OK(sys(SYS_stat, "/tmp/d", &st));
	CHECK_EQ(st.st_mode, S_IFDIR | 0755);
	CHECK_ERR(sys(SYS_mkdir, "/tmp/d", 0755), EEXIST);
	CHECK_ERR(sys(SYS_mkdir, "/hello.txt", 0755), EEXIST);
	CHECK_ERR(sys(SYS_mkdir, "/tmp/x/y", 0755), ENOENT);
	CHECK_OK(sys(SYS_mkdir, "/tmp/d/e/", 0755)); /* a trailing slash is fine */
	CHECK_OK(sys(SYS_mkdirat, AT_FDCWD, "/tmp/d/f", 0755));
	CHECK_STR(ls("/tmp/d"), "e/ f/");
	CHECK_ERR(sys(SYS_rmdir, "/tmp/d"), ENOTEMPTY);
	CHECK_ERR(sys(SYS_rmdir, "/hello.txt"), ENOTDIR);
	CHECK_ERR(sys(SYS_rmdir, "/tmp/nope"), ENOENT);
	CHECK_ERR(sys(SYS_rmdir, "/"), EBUSY);
	CHECK_OK(sys(SYS_mkdir, "/tmp/e", 0755));
	CHECK_ERR(sys(SYS_rmdir, "/tmp/e/."), EINVAL);
	CHECK_ERR(sys(SYS_rmdir, "/tmp/e/./"), EINVAL);
	CHECK_OK(sys(SYS_rmdir, "/tmp/e"));
	CHECK_OK(sys(SYS_rmdir, "/tmp/d/e"));
	CHECK_OK(sys(SYS_unlinkat, AT_FDCWD, "/tmp/d/f", AT_REMOVEDIR));
	CHECK_OK(sys(SYS_rmdir, "/tmp/d"));
	CHECK_ERR(sys(SYS_stat, "/tmp/d", &st), ENOENT);
	CHECK_OK(sys(SYS_rmdir, "/empty-dir")); /* from the tar */
	CHECK_ERR(sys(SYS_rmdir, "/dir"), ENOTEMPTY);
}

TEST(unlink_of_a_folder_is_eisdir)
{
	boot(0);
	CHECK_ERR(sys(SYS_unlink, "/dir"), EISDIR);
	CHECK_ERR(sys(SYS_unlink, "/empty-dir"), EISDIR);
	CHECK_ERR(sys(SYS_unlink, "/nope"), ENOENT);
	CHECK_OK(sys(SYS_unlink, "/link-to-dir")); /* the link, not the folder */
	CHECK_STR(ls("/dir"), "file.txt sub/ up@");
	CHECK_OK(sys(SYS_unlink, "/hello.txt"));
	CHECK_ERR(sys(SYS_access, "/hello.txt", F_OK), ENOENT);
	CHECK_ERR(sys(SYS_access, "/link-to-file", F_OK), ENOENT); /* now dangling */
}

TEST(rename_a_folder_into_itself_is_einval)
{
	boot(0);
	CHECK_OK(sys(SYS_mkdir, "/tmp/a", 0755));
	CHECK_OK(sys(SYS_mkdir, "/tmp/a/b", 0755));
	CHECK_ERR(sys(SYS_rename, "/tmp/a", "/tmp/a/new"), EINVAL);
	CHECK_ERR(sys(SYS_rename, "/tmp/a", "/tmp/a/b/new"), EINVAL);
	CHECK_STR(ls("/tmp"), "a/");
	CHECK_STR(ls("/tmp/a"), "b/");
}

TEST(rename_a_folder_onto_its_own_subfolder_keeps_it)
{
	boot(0);
	CHECK_OK(sys(SYS_mkdir, "/tmp/a", 0755));
	CHECK_OK(sys(SYS_mkdir, "/tmp/a/sub", 0755));
	CHECK_ERR(sys(SYS_rename, "/tmp/a", "/tmp/a/sub"), EINVAL);
	CHECK_STR(ls("/tmp/a"), "sub/");
}

TEST(rename_over_a_file)
{
	boot(0);
	CHECK_OK(write_file("/tmp/old", "old content"));
	CHECK_OK(write_file("/tmp/new", "will be replaced"));
	long fd = CHECK_OK(open_("/tmp/new", O_RDONLY));
	CHECK_OK(sys(SYS_rename, "/tmp/old", "/tmp/new"));
	char buf[64];
	CHECK_EQ(read_file("/tmp/new", buf, sizeof buf), 11);
	CHECK_STR(buf, "old content");
	CHECK_STR(ls("/tmp"), "new");
	/* The replaced file lives on for the fd that had it open. */
	CHECK_EQ(sys(SYS_read, fd, buf, sizeof buf), 16);
	CHECK_MEM(buf, "will be replaced", 16);
	/* A file from the tar over another one, and onto itself. */
	CHECK_OK(sys(SYS_rename, "/dir/file.txt", "/hello.txt"));
	CHECK_EQ(read_file("/hello.txt", buf, sizeof buf), 7);
	CHECK_OK(sys(SYS_rename, "/hello.txt", "/hello.txt"));
	CHECK_ERR(sys(SYS_rename, "/hello.txt", "/dir"), EISDIR);
	CHECK_ERR(sys(SYS_rename, "/nope", "/tmp/x"), ENOENT);
	CHECK_ERR(sys(SYS_rename, "/hello.txt", "/nope/x"), ENOENT);
}

TEST(rename_a_folder_moves_its_children)
{
	boot(0);
	char buf[64];
	CHECK_OK(sys(SYS_rename, "/dir", "/tmp/moved"));
	CHECK_EQ(read_file("/tmp/moved/sub/deep.txt", buf, sizeof buf), 5);
	CHECK_EQ(read_file("/tmp/moved/up", buf, sizeof buf), -ENOENT); /* ../hello.txt is now /tmp/hello.txt */
	CHECK_ERR(sys(SYS_access, "/dir", F_OK), ENOENT);
	CHECK_OK(sys(SYS_mkdir, "/tmp/empty", 0755));
	CHECK_OK(sys(SYS_rename, "/tmp/moved", "/tmp/empty")); /* over an empty folder */
	CHECK_STR(ls("/tmp"), "empty/");
	CHECK_STR(ls("/tmp/empty"), "file.txt sub/ up@");
	CHECK_OK(sys(SYS_mkdir, "/tmp/full", 0755));
	CHECK_OK(write_file("/tmp/full/x", "x"));
	CHECK_ERR(sys(SYS_rename, "/tmp/empty", "/tmp/full"), ENOTEMPTY);
}

TEST(rename_a_folder_over_a_file_is_enotdir)
{
	boot(0);
	CHECK_OK(sys(SYS_mkdir, "/tmp/d", 0755));
	CHECK_OK(write_file("/tmp/f", "a file"));
	CHECK_ERR(sys(SYS_rename, "/tmp/d", "/tmp/f"), ENOTDIR);
	CHECK_STR(ls("/tmp"), "d/ f");
}

struct dent {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

TEST(getdents64_lists_names_types_dot_and_dotdot)
{
	boot(0);
	long fd = CHECK_OK(open_("/dir", O_RDONLY | O_DIRECTORY));
	char buf[4096];
	long got = CHECK_OK(sys(SYS_getdents64, fd, buf, sizeof buf));
	char seen[512] = "";
	int n = 0;
	for (long off = 0; off < got; n++) {
		struct dent *d = (struct dent *)(buf + off);
		CHECK_EQ(d->reclen % 8, 0);
		CHECK(d->reclen >= 20 + strlen(d->name));
		char one[300];
		snprintf(one, sizeof one, "%s%.255s:%d", n ? " " : "", d->name, d->type);
		strncat(seen, one, sizeof seen - strlen(seen) - 1);
		if (!strcmp(d->name, ".")) CHECK_EQ(d->ino, ino("/dir"));
		if (!strcmp(d->name, "..")) CHECK_EQ(d->ino, ino("/"));
		if (!strcmp(d->name, "file.txt")) CHECK_EQ(d->ino, ino("/dir/file.txt"));
		off += d->reclen;
	}
	/* "." and ".." first; then the children (in the libOS's own order) */
	CHECK_EQ(n, 5);
	CHECK(strncmp(seen, ".:4 ..:4 ", 9) == 0);
	CHECK(strstr(seen, "file.txt:8") && strstr(seen, "sub:4") && strstr(seen, "up:10"));
	CHECK_EQ(sys(SYS_getdents64, fd, buf, sizeof buf), 0); /* the end */
	CHECK_EQ(sys(SYS_lseek, fd, 0, SEEK_SET), 0); /* rewinds */
	CHECK_EQ(sys(SYS_getdents64, fd, buf, sizeof buf), got);
	long file = CHECK_OK(open_("/hello.txt", O_RDONLY));
	CHECK_ERR(sys(SYS_getdents64, file, buf, sizeof buf), ENOTDIR);
	CHECK_ERR(sys(SYS_getdents64, 999, buf, sizeof buf), EBADF);
	CHECK_STR(ls("/dev"), "null% random% urandom% zero%");
}

TEST(getdents64_in_small_pieces)
{
	boot(0);
	for (int i = 0; i < 30; i++) {
		char name[64];
		snprintf(name, sizeof name, "/tmp/file-with-a-longish-name-%02d", i);
		CHECK_OK(write_file(name, "x"));
	}
	long fd = CHECK_OK(open_("/tmp", O_RDONLY | O_DIRECTORY));
	char buf[100];
	int entries = 0, calls = 0;
	long got;
	while ((got = sys(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
		calls++;
		for (long off = 0; off < got; off += ((struct dent *)(buf + off))->reclen) entries++;
	}
	CHECK_EQ(got, 0);
	CHECK_EQ(entries, 32);
	CHECK(calls >= 16); /* 56-byte records: at most one per call after "." and ".." */
	CHECK_EQ(sys(SYS_lseek, fd, 0, SEEK_SET), 0);
	CHECK_ERR(sys(SYS_getdents64, fd, buf, 10), EINVAL); /* not even one fits */
}

TEST(getcwd_after_chdir)
{
	boot(0);
	char buf[256];
	CHECK_EQ(sys(SYS_getcwd, buf, sizeof buf), 2);
	CHECK_STR(buf, "/");
	CHECK_OK(sys(SYS_chdir, "dir"));
	CHECK_OK(sys(SYS_chdir, "sub"));
	CHECK_EQ(sys(SYS_getcwd, buf, sizeof buf), 9);
	CHECK_STR(buf, "/dir/sub");
	CHECK_EQ(read_file("deep.txt", buf, sizeof buf), 5);
	CHECK_OK(sys(SYS_chdir, ".."));
	CHECK_EQ(sys(SYS_getcwd, buf, sizeof buf), 5);
	CHECK_STR(buf, "/dir");
	CHECK_ERR(sys(SYS_chdir, "file.txt"), ENOTDIR);
	CHECK_ERR(sys(SYS_chdir, "nope"), ENOENT);
	CHECK_ERR(sys(SYS_getcwd, buf, 4), ERANGE);
	CHECK_OK(sys(SYS_chdir, "/link-to-dir/sub")); /* the physical path, as Linux reports it */
	CHECK_EQ(sys(SYS_getcwd, buf, sizeof buf), 9);
	CHECK_STR(buf, "/dir/sub");
	long fd = CHECK_OK(open_("/tmp", O_RDONLY | O_DIRECTORY));
	CHECK_OK(sys(SYS_fchdir, fd));
	CHECK_EQ(sys(SYS_getcwd, buf, sizeof buf), 5);
	CHECK_STR(buf, "/tmp");
	long file = CHECK_OK(open_("/hello.txt", O_RDONLY));
	CHECK_ERR(sys(SYS_fchdir, file), ENOTDIR);
	CHECK_ERR(sys(SYS_fchdir, 999), EBADF);
}

TEST(boot_cwd_is_the_working_folder)
{
	boot(&(struct boot_opts){ .cwd = "/dir/sub" });
	char buf[64];
	CHECK_EQ(sys(SYS_getcwd, buf, sizeof buf), 9);
	CHECK_STR(buf, "/dir/sub");
	CHECK_EQ(read_file("deep.txt", buf, sizeof buf), 5);
}

TEST(boot_cwd_missing_falls_back_to_root)
{
	boot(&(struct boot_opts){ .cwd = "/no/such/folder" });
	char buf[64];
	CHECK_EQ(sys(SYS_getcwd, buf, sizeof buf), 2);
	CHECK_STR(buf, "/");
}

TEST(openat_and_friends_relative_to_a_dirfd)
{
	boot(0);
	long dir = CHECK_OK(open_("/dir", O_RDONLY | O_DIRECTORY));
	char buf[64];
	long fd = CHECK_OK(sys(SYS_openat, dir, "sub/deep.txt", O_RDONLY, 0));
	CHECK_EQ(sys(SYS_read, fd, buf, sizeof buf), 5);
	struct stat st;
	CHECK_OK(sys(SYS_newfstatat, dir, "up", &st, AT_SYMLINK_NOFOLLOW));
	CHECK(S_ISLNK(st.st_mode));
	CHECK_OK(sys(SYS_newfstatat, dir, "", &st, AT_EMPTY_PATH));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_OK(sys(SYS_mkdirat, dir, "made", 0755));
	CHECK_OK(sys(SYS_access, "/dir/made", F_OK));
	CHECK_EQ(sys(SYS_readlinkat, dir, "up", buf, sizeof buf), 12);
	CHECK_OK(sys(SYS_openat, dir, "/hello.txt", O_RDONLY, 0)); /* absolute ignores dirfd */
	long file = CHECK_OK(open_("/hello.txt", O_RDONLY));
	CHECK_ERR(sys(SYS_openat, file, "x", O_RDONLY, 0), ENOTDIR);
	CHECK_ERR(sys(SYS_openat, 999, "x", O_RDONLY, 0), EBADF);
}

TEST(readlink)
{
	boot(0);
	char buf[64];
	memset(buf, '#', sizeof buf);
	CHECK_EQ(sys(SYS_readlink, "/link-to-dir", buf, sizeof buf), 3);
	CHECK_MEM(buf, "dir#", 4); /* no NUL added */
	CHECK_EQ(sys(SYS_readlink, "/link-to-file", buf, 4), 4); /* truncated */
	CHECK_MEM(buf, "hell", 4);
	CHECK_ERR(sys(SYS_readlink, "/hello.txt", buf, sizeof buf), EINVAL);
	CHECK_ERR(sys(SYS_readlink, "/nope", buf, sizeof buf), ENOENT);
	CHECK_EQ(sys(SYS_readlink, "/link-to-dir/up", buf, sizeof buf), 12); /* links on the way are followed */
}

/* Linux follows a link named with a trailing slash even for lstat (path_resolution(7)). */
TEST(lstat_with_a_trailing_slash_follows_the_link)
{
	boot(0);
	struct stat st;
	CHECK_OK(sys(SYS_lstat, "/link-to-dir/", &st));
	CHECK(S_ISDIR(st.st_mode));
}

TEST(faccessat_and_statx)
{
	boot(0);
	CHECK_OK(sys(SYS_access, "/hello.txt", R_OK));
	CHECK_ERR(sys(SYS_access, "/nope", F_OK), ENOENT);
	CHECK_OK(sys(SYS_faccessat2, AT_FDCWD, "/link-to-file", R_OK, 0));
	struct {
		uint32_t mask, blksize;
		uint64_t attributes;
		uint32_t nlink, uid, gid;
		uint16_t mode, pad;
		uint64_t ino, size, blocks, attributes_mask;
		struct {
			int64_t sec;
			uint32_t nsec;
			int32_t r;
		} t[4];
		uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
		uint64_t spare[14];
	} stx;
	_Static_assert(sizeof stx == 256, "struct statx");
	CHECK_OK(sys(SYS_statx, AT_FDCWD, "/link-to-file", 0, 0x7ff, &stx));
	CHECK_EQ(stx.size, 13);
	CHECK_EQ(stx.mode, S_IFREG | 0640);
	CHECK_EQ(stx.ino, ino("/hello.txt"));
	CHECK_EQ(stx.t[3].sec, 1700000000); /* mtime */
	CHECK_OK(sys(SYS_statx, AT_FDCWD, "/link-to-file", AT_SYMLINK_NOFOLLOW, 0x7ff, &stx));
	CHECK_EQ(stx.mode, S_IFLNK | 0777);
	CHECK_ERR(sys(SYS_statx, AT_FDCWD, "/nope", 0, 0x7ff, &stx), ENOENT);
}
