/*
 * epoll: interest lists over open files. Nothing is queued: epoll_wait asks each watched
 * file what poll would report now. Level-triggered reports whatever is ready. Edge-triggered
 * (EPOLLET) reports a file when it is ready and something happened to it since it was last
 * reported (node->changes, which every read, write and close of a pipe or eventfd bumps):
 * an old edge is not reported twice, and no new one is lost. A blocking wait sleeps on
 * poll_key, which every such change wakes.
 */
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>

#include "vfs.h"

/* One fd in one epoll set. Linux keys it by (open file, fd number); so do we. */
struct watch {
	struct watch *next; /* every watch of every set, in one list */
	struct node *ep;    /* the set */
	struct file *file;
	int fd;
	uint32_t events;    /* wanted events (with EPOLLERR | EPOLLHUP) and the flag bits */
	uint64_t data;
	uint32_t seen;      /* EPOLLET: changes(file) when last reported */
	int reported;       /* by the collect() running now */
};

static struct watch *watches, *free_watches;

#define FLAG_BITS (EPOLLET | EPOLLONESHOT | EPOLLWAKEUP | EPOLLEXCLUSIVE)

/* How many readiness changes f has had; for a nested set, those of what it watches too. */
static uint32_t changes(struct file *f)
{
	uint32_t n = f->node->changes;
	if (f->node->kind == NODE_EPOLL)
		for (struct watch *w = watches; w; w = w->next)
			if (w->ep == f->node) n += changes(w->file);
	return n;
}

/* The events w would report now (0: none). */
static uint32_t pending(struct watch *w)
{
	uint32_t ready = (uint16_t)fs_file_poll(w->file) & w->events & ~FLAG_BITS;
	if (ready && (w->events & EPOLLET) && changes(w->file) == w->seen) return 0; /* an old edge */
	return ready;
}

short epoll_poll(struct node *ep)
{
	for (struct watch *w = watches; w; w = w->next)
		if (w->ep == ep && pending(w)) return POLLIN;
	return 0;
}

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
		if (w->ep == from && w->file->node->kind == NODE_EPOLL && reaches(w->file->node, to, depth + 1)) return 1;
	return 0;
}

long sys_epoll_create1(int flags)
{
	if (flags & ~EPOLL_CLOEXEC) return -EINVAL;
	return fs_open_node(vfs_new(0, "[eventpoll]", 11, NODE_EPOLL, 0600), O_RDWR | flags);
}

long sys_epoll_ctl(long epfd, int op, long fd, const void *event)
{
	struct epoll_event ev = { 0 };
	if (op != EPOLL_CTL_DEL) {
		if (!event) return -EFAULT;
		memcpy(&ev, event, sizeof ev);
	}
	struct file *e = fs_get(epfd), *f = fs_get(fd);
	if (!e || !f) return -EBADF;
	/* Files, folders, /dev/null and /dev/zero never block: Linux cannot poll them, and Go
	 * takes this EPERM to mean "not pollable". */
	enum node_kind kind = f->node->kind;
	if (kind == NODE_FILE || kind == NODE_DIR || kind == NODE_NULL || kind == NODE_ZERO) return -EPERM;
	if (e == f || e->node->kind != NODE_EPOLL) return -EINVAL;
	/* EPOLLEXCLUSIVE (wake one waiter of many) is for EPOLL_CTL_ADD only; it changes nothing here. */
	if (op == EPOLL_CTL_MOD && (ev.events & EPOLLEXCLUSIVE)) return -EINVAL;
	if (op == EPOLL_CTL_ADD && kind == NODE_EPOLL && reaches(f->node, e->node, 0)) return -ELOOP;
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
	e->node->changes++;       /* a set watching this one may have a new edge */
	sched_wake_all(&poll_key); /* a thread in epoll_wait may have something to report now */
	return 0;
}

long sys_epoll_wait(long epfd, void *events, int max, uint64_t deadline)
{
	if (max <= 0 || max > __INT_MAX__ / (int)sizeof(struct epoll_event)) return -EINVAL;
	struct file *e = fs_get(epfd);
	if (!e) return -EBADF;
	if (e->node->kind != NODE_EPOLL) return -EINVAL;
	struct node *ep = e->node; /* the set, even if another thread closes epfd meanwhile */
	for (;;) {
		int n = collect(ep, events, max);
		if (n || deadline == 1) return n; /* 1: a zero timeout */
		int woken = sched_wait(&poll_key, deadline);
		if (woken < 0) return woken; /* a signal */
		if (!woken && deadline) return collect(ep, events, max); /* timed out */
	}
}

void epoll_forget(struct file *f)
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
