/*
 * epoll: interest lists over open files. Nothing is queued: epoll_wait asks each watched
 * file what poll would report now. Level-triggered reports whatever is ready. Edge-triggered
 * (EPOLLET) reports a file when it is ready and something happened to it since it was last
 * reported (node->changes, which every read, write and close of a pipe or eventfd bumps):
 * an old edge is not reported twice, and no new one is lost. A blocking wait sleeps on
 * poll_key, which every such change wakes.
 */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>

#include "vfs.h"

/* One fd in one epoll set. Linux keys it by (open file, fd number); so do we. */
struct watch {
	struct watch *next; /* every watch of every set, in one list */
	struct node *ep; /* the set */
	struct file *file;
	int fd;
	uint32_t events; /* wanted events (with EPOLLERR | EPOLLHUP) and the flag bits */
	uint64_t data;
	uint32_t seen; /* EPOLLET: changes(file) when last reported */
	int reported; /* by the collect() running now */
};

static struct watch *watches, *free_watches;

#define FLAG_BITS (EPOLLET | EPOLLONESHOT | EPOLLWAKEUP | EPOLLEXCLUSIVE)

static const struct file_ops epoll_ops;

static int is_set(struct node *node)
{
	return node->ops == &epoll_ops;
}

/* How many readiness changes f has had; for a nested set, those of what it watches too. */
static uint32_t changes(struct file *f)
{
	uint32_t n = f->node->changes;
	if (is_set(f->node))
		for (struct watch *w = watches; w; w = w->next)
			if (w->ep == f->node) n += changes(w->file);
	return n;
}

/* The events w would report now (0: none). */
static uint32_t pending(struct watch *w)
{
	uint32_t ready = (uint16_t)file_poll(w->file) & w->events & ~FLAG_BITS;
	if (ready && (w->events & EPOLLET) && changes(w->file) == w->seen) return 0; /* an old edge */
	return ready;
}

/* A set is readable when it has something to report. */
static short set_poll(struct file *f)
{
	for (struct watch *w = watches; w; w = w->next)
		if (w->ep == f->node && pending(w)) return POLLIN;
	return 0;
}

static const struct file_ops epoll_ops = { .poll = set_poll, .stream = 1 };

/* Fills out with up to max ready events of set ep. */
static int collect(struct node *ep, struct epoll_event *out, int max)
{
	int n = 0;
	for (struct watch *w = watches; w && n < max; w = w->next) {
		uint32_t ready = w->ep == ep ? pending(w) : 0;
		if (!ready) continue;
		out[n].events = ready;
		out[n].data.u64 = w->data;
		n++;
		w->reported = 1;
		if (w->events & EPOLLET) w->seen = changes(w->file);
		if (w->events & EPOLLONESHOT) w->events &= FLAG_BITS; /* off until EPOLL_CTL_MOD */
	}
	/* What was reported goes to the end of the list, so when the buffer was too small the
	 * next call reports the others first (as Linux's ready list does): none can starve. */
	struct watch *rest = 0, **rest_end = &rest, *done = 0, **done_end = &done;
	for (struct watch *w = watches, *next; w; w = next) {
		next = w->next;
		struct watch ***end = w->reported ? &done_end : &rest_end;
		**end = w;
		*end = &w->next;
		w->reported = 0;
	}
	*rest_end = done;
	*done_end = 0;
	watches = rest;
	return n;
}

/* Whether set `from` watches set `to`, itself or through other sets; nesting deeper than
 * Linux's limit counts as a loop too. */
static int reaches(struct node *from, struct node *to, int depth)
{
	if (from == to || depth > 4) return 1;
	for (struct watch *w = watches; w; w = w->next)
		if (w->ep == from && is_set(w->file->node) && reaches(w->file->node, to, depth + 1)) return 1;
	return 0;
}

/* fd_unwatch: f's last fd is gone, so it leaves every set, as on Linux. */
static void forget(struct file *f)
{
	for (struct watch **link = &watches, *w; (w = *link);) {
		if (w->file == f || w->ep == f->node) { /* f watched, or f was the set */
			*link = w->next;
			w->next = free_watches;
			free_watches = w;
		} else {
			link = &w->next;
		}
	}
}

static long sys_epoll_create1(int flags)
{
	if (flags & ~EPOLL_CLOEXEC) return -EINVAL;
	fd_unwatch = forget;
	return fd_open(vfs_new(0, "[eventpoll]", 11, 0600, &epoll_ops), O_RDWR | flags); /* an anonymous inode: no type */
}

static long sys_epoll_ctl(long epfd, int op, long fd, const void *event)
{
	struct epoll_event ev = { 0 };
	if (op != EPOLL_CTL_DEL) {
		if (!event) return -EFAULT;
		memcpy(&ev, event, sizeof ev);
	}
	struct file *e = fd_get(epfd), *f = fd_get(fd);
	if (!e || !f) return -EBADF;
	/* Files, folders, /dev/null and /dev/zero never block: Linux cannot poll them, and Go
	 * takes this EPERM to mean "not pollable". */
	if (!f->node->ops->poll) return -EPERM;
	if (e == f || !is_set(e->node)) return -EINVAL;
	/* EPOLLEXCLUSIVE (wake one waiter of many) is for EPOLL_CTL_ADD only; it changes nothing here. */
	if (op == EPOLL_CTL_MOD && (ev.events & EPOLLEXCLUSIVE)) return -EINVAL;
	if (op == EPOLL_CTL_ADD && is_set(f->node) && reaches(f->node, e->node, 0)) return -ELOOP;
	struct watch **link = &watches, *w;
	while ((w = *link) && !(w->ep == e->node && w->file == f && w->fd == fd)) link = &w->next;
	switch (op) {
	case EPOLL_CTL_ADD:
		if (w) return -EEXIST;
		w = free_watches;
		if (w) free_watches = w->next;
		else w = arena_alloc(sizeof *w);
		memset(w, 0, sizeof *w);
		w->ep = e->node;
		w->file = f;
		w->fd = (int)fd;
		w->next = watches;
		watches = w;
		break;
	case EPOLL_CTL_MOD:
		if (!w) return -ENOENT;
		if (w->events & EPOLLEXCLUSIVE) return -EINVAL;
		break;
	case EPOLL_CTL_DEL:
		if (!w) return -ENOENT;
		*link = w->next;
		w->next = free_watches;
		free_watches = w;
		return 0;
	default: return -EINVAL;
	}
	w->events = ev.events | EPOLLERR | EPOLLHUP;
	w->data = ev.data.u64;
	w->seen = changes(f) - 1; /* never reported: an edge-triggered file that is ready now is reported once */
	e->node->changes++; /* a set watching this one may have a new edge */
	sched_wake_all(&poll_key); /* a thread in epoll_wait may have something to report now */
	return 0;
}

static long sys_epoll_wait(long epfd, void *events, int max, uint64_t deadline)
{
	if (max <= 0 || max > __INT_MAX__ / (int)sizeof(struct epoll_event)) return -EINVAL;
	struct file *e = fd_get(epfd);
	if (!e) return -EBADF;
	if (!is_set(e->node)) return -EINVAL;
	struct node *ep = e->node; /* the set, even if another thread closes epfd meanwhile */
	for (;;) {
		int n = collect(ep, events, max);
		if (n || deadline == 1) return n; /* 1: a zero timeout */
		int woken = sched_wait(&poll_key, deadline);
		if (woken < 0) return woken; /* a signal */
		if (!woken && deadline) return collect(ep, events, max); /* timed out */
	}
}

long epoll_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6, int *handled)
{
	*handled = 1;
	switch (n) {
	case SYS_epoll_create: return (int)a1 <= 0 ? -EINVAL : sys_epoll_create1(0);
	case SYS_epoll_create1: return sys_epoll_create1((int)a1);
	case SYS_epoll_ctl: return sys_epoll_ctl(a1, (int)a2, a3, (const void *)a4);
	case SYS_epoll_wait:
	case SYS_epoll_pwait: { /* the signal mask changes nothing: no handler ever runs */
		int ms = (int)a4;
		if (n == SYS_epoll_pwait && a5 && a6 != 8) return -EINVAL;
		return sys_epoll_wait(a1, (void *)a2, (int)a3, ms < 0 ? 0 : poll_deadline((uint64_t)ms * 1000000u));
	}
	case SYS_epoll_pwait2: {
		uint64_t deadline;
		long r = poll_deadline_ts((const struct timespec *)a4, &deadline);
		if (r == 0 && a5 && a6 != 8) r = -EINVAL;
		return r < 0 ? r : sys_epoll_wait(a1, (void *)a2, (int)a3, deadline);
	}
	default: *handled = 0; return -ENOSYS;
	}
}
