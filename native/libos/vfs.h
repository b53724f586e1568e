/*
 * Files, in three layers, each calling only those below it:
 *   fs.c, the file system calls; beside it, each kind's own calls (pipe2 in pipe.c, ...)
 *   fd.c: fds, open files, and what poll reports for one
 *   vfs.c: the tree of nodes, with its regular files, directories and symlinks
 * What an open file does is its kind's, in a struct file_ops of its own file: regular
 * files (vfs.c), devices and the console (dev.c), pipes (pipe.c), eventfds (eventfd.c),
 * epoll sets (epoll.c), sockets (net.c), AF_UNIX sockets (unix.c). The layers reach a
 * kind only through its ops.
 */
#ifndef VFS_H
#define VFS_H

#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include "libos.h"

struct file;

/* What an open file of a kind does, as Linux's file_operations; an op left 0 does what its
 * comment says after "0:". */
struct file_ops {
	/* At byte off (streams ignore it): how many bytes, or -errno. 0: readv with one piece,
	 * and without that either, EINVAL. */
	long (*read)(struct file *f, void *buf, size_t len, uint64_t off);
	long (*write)(struct file *f, const void *buf, size_t len, uint64_t off);
	/* A vector taken whole (one datagram, one segment, one console write). 0: piece by piece. */
	long (*readv)(struct file *f, const struct iovec *iov, int count);
	long (*writev)(struct file *f, const struct iovec *iov, int count);
	/* What poll reports now. 0: POLLIN | POLLOUT (never blocks), and epoll refuses it (EPERM). */
	short (*poll)(struct file *f);
	/* The requests the fd layer does not answer itself (FIONREAD). 0: ENOTTY. */
	long (*ioctl)(struct file *f, unsigned long request, long arg);
	/* f is a new open file of a node in the tree (openat): 0, or -errno (f is then
	 * released). It may wait. 0: 0. */
	long (*open)(struct file *f);
	/* f's last fd and hold are gone. */
	void (*release)(struct file *f);
	int stream; /* no offset: lseek, pread and pwrite are ESPIPE */
};

struct node {
	mode_t mode; /* type (S_IFDIR ...; 0: an anonymous inode) and permissions */
	const struct file_ops *ops; /* what an open file of it does */
	char *name;
	struct node *parent;
	struct node *children; /* a directory's first child */
	struct node *next; /* next sibling: the newer entries come first */
	uint64_t dir_seq; /* when it came into its folder, counting up: getdents64's place */
	uint64_t ino;
	uint64_t size;
	int64_t disk_off; /* a regular file: where its bytes start in the disk image, or -1 */
	char *data; /* a regular file in memory (written files); a symlink's target */
	size_t cap; /* bytes allocated at data */
	dev_t rdev; /* a device's number */
	void *priv; /* the kind's own state: a pipe, a socket, a counter ... */
	uint32_t changes; /* readiness-affecting events so far: epoll's edge trigger */
	struct timespec atime, mtime, ctime;
	uid_t uid;
	gid_t gid;
	int links; /* open files pointing here, plus 1 per name in the tree (or while its maker holds it) */
	int names; /* its names in the tree: stat's st_nlink (1 for a node in no folder, as a pipe) */
	/* A hard link's second (third ...) name: the node it names. Only the tree sees such an
	 * entry; lookups give the node itself (vfs_inode). 0: the node is its own entry. */
	struct node *inode;
};

/* An open file: what an fd (and its dups) points to. */
struct file {
	struct node *node;
	uint64_t pos;
	int flags; /* O_ACCMODE | O_APPEND | O_NONBLOCK ... */
	int refs; /* fds sharing this open file (dup), and holds */
};

/* ---- vfs.c: the tree ---- */

extern struct node *vfs_root;

/* The root, with /tmp. */
void vfs_init(void);
/* A node in dir (0: in none), with its one link. Its times are 0: vfs_stamp them. */
struct node *vfs_new(struct node *dir, const char *name, size_t len, mode_t mode, const struct file_ops *ops);
/* Puts an entry (out of any folder) into dir, as its newest. */
void vfs_insert(struct node *dir, struct node *entry);
/* Takes an entry out of its folder (which it keeps as parent). */
void vfs_detach(struct node *entry);
/* A second name for node in dir (a hard link). */
void vfs_link(struct node *dir, const char *name, size_t len, struct node *node);
/* Takes an entry (a node, or a hard link's name) out of its folder. */
void vfs_unlink(struct node *entry);
void vfs_put(struct node *node);
static inline struct node *vfs_inode(struct node *entry) { return entry->inode ? entry->inode : entry; }
/* Finds path from base: 0 and *out, or -errno. With parent/last, a missing last component
 * is reported as -ENOENT with *parent and *last set, so the caller can create it. A
 * resolution follows at most 40 symlinks in all (ELOOP), and a path is under PATH_MAX. */
long vfs_lookup(struct node *base, const char *path, int follow_last, struct node **out, struct node **parent, const char **last);
/* The same without following a last symlink, giving the entry itself: the name that
 * unlink, rename and link remove or replace (a hard link's own entry, not its node). */
long vfs_lookup_entry(struct node *base, const char *path, struct node **out, struct node **parent, const char **last);
/* Sets node's times to now: VFS_ATIME, VFS_MTIME (its bytes or entries changed), VFS_CTIME
 * (its status changed; any change does that). */
#define VFS_ATIME 1
#define VFS_MTIME 2
#define VFS_CTIME 4
void vfs_stamp(struct node *node, int which);
void vfs_stat(struct node *node, struct stat *st);
/* statfs: the tree is one tmpfs. */
struct statfs;
void vfs_statfs(struct statfs *sf);
size_t vfs_path(struct node *node, char *buf, size_t size);
void *arena_alloc(size_t len);

/* Regular files (directories and symlinks too: a directory reads as EISDIR). */
extern const struct file_ops regular_ops;
long vfs_read(struct node *node, void *buf, size_t len, uint64_t off);
long vfs_truncate(struct node *node, uint64_t len);
/* Zeros [off, off + len) of a regular file, within its size. */
long vfs_zero(struct node *node, uint64_t off, uint64_t len);

/* Woken whenever a file may have become ready: poll, select and epoll_wait wait here. */
extern const int poll_key;
/* Something that changes node's readiness happened: counts it, wakes its waiters and poll_key. */
void vfs_changed(struct node *node);

/* ---- fd.c: fds and open files ---- */

#define MAX_FDS 1024

struct file *fd_get(long fd);
/* A new open file of node; the caller holds it once, until file_put. */
struct file *file_open(struct node *node, int flags);
/* The lowest free fd from min on for f (which the fd holds too), or -EMFILE. */
long fd_install(struct file *f, int min, int cloexec);
/* f at fd, closing what was there. */
void fd_install_at(struct file *f, long fd, int cloexec);
/* A new fd for node, which must be in no folder (its maker's link goes to the file);
 * O_CLOEXEC in flags. */
long fd_open(struct node *node, int flags);
long fd_close(long fd);
int fd_cloexec(long fd);
void fd_set_cloexec(long fd, int cloexec);
void file_hold(struct file *f); /* keeps f open (across a blocking call, say) ... */
void file_put(struct file *f); /* ... until this, even if its fds are closed meanwhile */
/* A read or write of f at off (streams ignore it), by its kind's ops. f is held meanwhile:
 * one that blocks (a pipe, a socket) is not freed under it by a close from another thread. */
long file_rw(struct file *f, void *buf, size_t len, uint64_t off, int write);
short file_poll(struct file *f);
/* Called as f is released, to take it out of every epoll set (and drop its own watches if
 * it was one), as Linux's eventpoll_release: set by epoll.c with its first set, since
 * this layer calls nothing above it by name. */
extern void (*fd_unwatch)(struct file *f);
/* A poll-style wait's deadline: 0 waits forever, 1 means "do not wait", else a monotonic
 * time. From a timeout in ns (0: do not wait), or a timespec (none: forever; bad: -EINVAL). */
uint64_t poll_deadline(uint64_t ns);
long poll_deadline_ts(const struct timespec *ts, uint64_t *deadline);

/* ---- the kinds, for fs.c and for one another ---- */

/* dev.c: /dev with its devices, and the console's ends (host fd 0, 1 or 2). */
void dev_init(void);
struct node *dev_console(int host_fd);

/* pipe.c: a byte ring, the buffer of a pipe and of each direction of a socketpair. */
#define RING_SIZE 65536
struct ring {
	char *buf;
	size_t head, len; /* len bytes from head */
};
void ring_init(struct ring *r);
void ring_free(struct ring *r);
size_t ring_put(struct ring *r, const void *src, size_t len); /* appends what fits: how much */
size_t ring_peek(const struct ring *r, size_t off, void *dst, size_t len); /* copies from byte off on */
void ring_drop(struct ring *r, size_t len); /* takes len bytes off the front */
/* A FIFO (mkfifo) named name[len] in dir: a pipe whose ends are opened by that name. */
struct node *fifo_new(struct node *dir, const char *name, size_t len, mode_t mode);

/* fs.c, for unix.c's socket names: a new node at path from the working directory (the
 * umask applies; EEXIST if the name is taken, even by a dangling link), and the node a
 * path names (following links). */
long fs_mknod(const char *path, mode_t mode, const struct file_ops *ops, struct node **out);
long fs_lookup(const char *path, struct node **out);

/* net.c, for unix.c too: SO_RCVTIMEO/SO_SNDTIMEO, kept in ns (0: none). */
uint64_t sock_deadline(uint64_t ns); /* the deadline of a blocking wait, for sched_wait (0: none) */
long sockopt_set_timeout(const void *val, socklen_t len, uint64_t *ns); /* from a struct timeval */

/* tar.c: the disk image's members into the tree, from the size bytes at disk. */
void tar_load(const char *disk, uint64_t size);

#endif
