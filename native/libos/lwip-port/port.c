/*
 * What lwIP asks of its platform: memory (net_mem_*), the time in ms (sys_now), random
 * numbers and a way to stop. No lwIP header here: the libOS's mem_* names are the page
 * allocator's (lwipopts.h renames lwIP's).
 *
 * Memory: blocks of 2^k bytes (64 B .. 64 KiB, a 16-byte header says which) on free lists,
 * carved from 64 KiB chunks of guest memory; bigger blocks are pages of their own. Freed
 * blocks go back to their list, never to the page allocator, so the busiest size classes
 * stay warm. What it takes is capped at a quarter of guest memory: past it a bigger free
 * block is cut up (split) before lwIP sees an allocation fail and drops a frame or makes
 * a writer wait, as it is built to.
 */
#include <string.h>
#include <time.h>

#include "../libos.h"

#define HEADER 16
#define MIN_SHIFT 6
#define MAX_SHIFT 16
#define CHUNK (1UL << MAX_SHIFT)
#define BIG 0xff /* header: a block of whole pages; its size follows */

struct block {
	struct block *next;
};

static struct block *lists[MAX_SHIFT + 1];
static char *chunk;
static size_t chunk_left, taken, limit; /* taken: chunks and big blocks, at most limit */

static void *carve(int k)
{
	size_t size = 1UL << k;
	if (chunk_left < size) {
		/* The rest of the old chunk goes to the smaller lists, then a fresh chunk. */
		for (int j = MAX_SHIFT; j >= MIN_SHIFT; j--)
			while (chunk_left >= (1UL << j)) {
				struct block *b = (struct block *)chunk;
				b->next = lists[j];
				lists[j] = b;
				chunk += 1UL << j;
				chunk_left -= 1UL << j;
			}
		if (taken + CHUNK > limit || !(chunk = mem_try_alloc(CHUNK))) return 0;
		taken += CHUNK;
		chunk_left = CHUNK;
	}
	void *p = chunk;
	chunk += size;
	chunk_left -= size;
	return p;
}

/* At the cap, a free block of a bigger class is cut into blocks of class k: memory the
 * stack freed in big blocks (received data) then still serves small ones (the RST or ACK
 * that frees more), so a stack that ran out recovers when connections close. */
static void *split(int k)
{
	int j = k + 1;
	while (j <= MAX_SHIFT && !lists[j]) j++;
	if (j > MAX_SHIFT) return 0;
	char *b = (char *)lists[j];
	lists[j] = lists[j]->next;
	for (size_t off = 1UL << k; off < 1UL << j; off += 1UL << k) {
		struct block *rest = (struct block *)(b + off);
		rest->next = lists[k];
		lists[k] = rest;
	}
	return b;
}

void *net_mem_malloc(size_t len)
{
	if (!limit) limit = libos_boot->mem_size / 4;
	size_t need = len + HEADER;
	uint64_t *h;
	if (need > CHUNK) {
		need = PAGE_UP(need);
		if (taken + need > limit || !(h = mem_try_alloc(need))) return 0;
		taken += need;
		h[0] = BIG;
		h[1] = need;
	} else {
		int k = MIN_SHIFT;
		while ((1UL << k) < need) k++;
		if (lists[k]) {
			h = (uint64_t *)lists[k];
			lists[k] = lists[k]->next;
		} else if (!(h = carve(k)) && !(h = split(k))) {
			return 0;
		}
		h[0] = (uint64_t)k;
	}
	return (char *)h + HEADER;
}

void *net_mem_calloc(size_t count, size_t len)
{
	if (len && count > ((size_t)-1 - HEADER) / len) return 0;
	void *p = net_mem_malloc(count * len);
	if (p) memset(p, 0, count * len);
	return p;
}

void net_mem_free(void *p)
{
	if (!p) return;
	uint64_t *h = (uint64_t *)((char *)p - HEADER);
	if (h[0] == BIG) {
		taken -= h[1];
		mem_free(h, h[1]);
		return;
	}
	uint64_t k = h[0]; /* read before the link overwrites it */
	struct block *b = (struct block *)h;
	b->next = lists[k];
	lists[k] = b;
}

uint32_t sys_now(void)
{
	return (uint32_t)(time_now_ns(CLOCK_MONOTONIC) / 1000000u);
}

uint32_t net_random32(void)
{
	uint32_t r;
	random_fill(&r, sizeof r);
	return r;
}

_Noreturn void net_panic(const char *message)
{
	libos_panic(message);
}
