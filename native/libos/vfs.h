/* The file tree: directories, files (on the disk image or in memory), symlinks, devices. */
#ifndef VFS_H
#define VFS_H

#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include "libos.h"

/* From NODE_CONSOLE on: streams, with no offset (lseek, pread: ESPIPE). */
enum node_kind { NODE_DIR, NODE_FILE, NODE_SYMLINK, NODE_NULL, NODE_ZERO, NODE_RANDOM, NODE_CONSOLE, NODE_PIPE,
		 NODE_EVENTFD, NODE_EPOLL, NODE_SOCKET, NODE_UNIX };

struct node {
	enum node_kind kind;
	mode_t mode;              /* permission bits; the type comes from kind */
	char *name;
	struct node *parent;
	struct node *children;    /* NODE_DIR: first child */
	struct node *next;        /* next sibling */
	uint64_t ino;
	uint64_t size;
	int64_t disk_off;         /* NODE_FILE: where its bytes start in the disk image, or -1 */
	char *data;               /* NODE_FILE in memory (written files); NODE_SYMLINK target */
	size_t cap;               /* bytes allocated at data */
	int host_fd;              /* NODE_CONSOLE: 0, 1 or 2 */
	struct pipe *pipe;        /* NODE_PIPE: its buffer and ends */
	struct sock *sock;        /* NODE_SOCKET: its connection (net.c) */
	struct usock *usock;      /* NODE_UNIX: one end of a socketpair (unix.c) */
	uint64_t count;           /* NODE_EVENTFD: the counter */
	int semaphore;            /* NODE_EVENTFD: EFD_SEMAPHORE (a read takes 1, not all) */
	uint32_t changes;         /* readiness-affecting events so far: epoll's edge trigger */
	int64_t mtime;
	int links;                /* open files pointing here, plus 1 while in the tree */
};

/* An open file: what an fd (and its dups) points to. */
struct file {
	struct node *node;
	uint64_t pos;
	int flags;  /* O_ACCMODE | O_APPEND | O_NONBLOCK ... */
	int refs;   /* fds sharing this open file (dup) */
};

extern struct node *vfs_root;

void vfs_init(void);
struct node *vfs_new(struct node *dir, const char *name, size_t len, enum node_kind kind, mode_t mode);
void vfs_unlink(struct node *node);
void vfs_put(struct node *node);
/* Finds path from base: 0 and *out, or -errno. With parent/last, a missing last component
 * is reported as -ENOENT with *parent and *last set, so the caller can create it. */
long vfs_lookup(struct node *base, const char *path, int follow_last, struct node **out, struct node **parent, const char **last);
long vfs_read(struct node *node, void *buf, size_t len, uint64_t off);
long vfs_write(struct node *node, const void *buf, size_t len, uint64_t off);
long vfs_truncate(struct node *node, uint64_t len);
void vfs_stat(struct node *node, struct stat *st);
size_t vfs_path(struct node *node, char *buf, size_t size);
void *arena_alloc(size_t len);

/* Woken whenever a pipe, eventfd or epoll set may have become ready: poll, select and
 * epoll_wait wait here. */
extern const int poll_key;
/* Something that changes node's readiness happened: counts it, wakes its waiters and poll_key. */
void vfs_changed(struct node *node);

/* fs.c, for eventfd, epoll and socketpair: fds and what poll would report for an open file. */
struct file *fs_get(long fd);
void fs_hold(struct file *f);                    /* keeps f open across a blocking call ... */
void fs_put(struct file *f);                     /* ... until this, even if its fd is closed meanwhile */
long fs_open_node(struct node *node, int flags); /* a new fd; O_CLOEXEC in flags; node must be unlinked */
long fs_close(long fd);
short fs_file_poll(struct file *f);              /* POLLIN | POLLOUT | POLLERR | POLLHUP */

/* pipe.c: a byte ring, the buffer of a pipe and of each direction of a socketpair. */
#define RING_SIZE 65536
struct ring {
	char *buf;
	size_t head, len; /* len bytes from head */
};
void ring_init(struct ring *r);
void ring_free(struct ring *r);
size_t ring_put(struct ring *r, const void *src, size_t len);             /* appends what fits: how much */
size_t ring_peek(const struct ring *r, size_t off, void *dst, size_t len); /* copies from byte off on */
void ring_drop(struct ring *r, size_t len);                                /* takes len bytes off the front */

/* pipe.c: pipes between green threads. Blocking calls wait in the scheduler. */
struct node *pipe_new(void);
long pipe_read(struct node *node, void *buf, size_t len, int nonblock);
long pipe_write(struct node *node, const void *buf, size_t len, int nonblock);
void pipe_close(struct node *node, int write_end);
short pipe_poll(struct node *node, int write_end);
void pipe_free(struct node *node);

/* eventfd.c: a 64-bit counter for wake-ups (Go's netpoller, libuv, ...). */
struct node *efd_new(unsigned initval, int semaphore);
long efd_read(struct node *node, void *buf, size_t len, int nonblock);
long efd_write(struct node *node, const void *buf, size_t len, int nonblock);
short efd_poll(struct node *node);

/* epoll.c: interest lists over open files, level- and edge-triggered. */
long sys_epoll_create1(int flags);
long sys_epoll_ctl(long epfd, int op, long fd, const void *event);
long sys_epoll_wait(long epfd, void *events, int max, uint64_t deadline);
short epoll_poll(struct node *node);
void epoll_forget(struct file *f); /* f's last fd is gone: out of every set (and its own set, if one) */

/* net.c: sockets (IPv4 TCP and UDP over lwIP); fs.c hands it what it does to a socket's file. */
long net_rw(struct file *f, const struct iovec *iov, int count, int write);
long net_fionread(struct node *node);
short net_poll(struct node *node);
void net_free(struct node *node); /* the last open file of a socket is gone */
/* net.c, for unix.c too: SO_RCVTIMEO/SO_SNDTIMEO, kept in ns (0: none). */
uint64_t sock_deadline(uint64_t ns); /* the deadline of a blocking wait, for sched_wait (0: none) */
long sockopt_set_timeout(const void *val, socklen_t len, uint64_t *ns); /* from a struct timeval */
struct timeval sockopt_timeval(uint64_t ns);

/* unix.c: socketpair(AF_UNIX); fs.c hands it what it does to an end's file, net.c the socket calls. */
long unix_socketpair(int family, int type, int protocol, int *sv);
long unix_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6, int *handled);
long unix_rw(struct file *f, const struct iovec *iov, int count, int write);
long unix_fionread(struct node *node);
short unix_poll(struct node *node);
void unix_free(struct node *node); /* the last open file of an end is gone */

/* tar.c: load the disk image's index into the tree. */
void tar_load(uint64_t size);

#endif
