/*
 * getrandom and /dev/urandom: a ChaCha20 keystream keyed by 32 bytes the tender read from
 * the host's getrandom before its filter went on. Fast key erasure: each request rekeys
 * first, so earlier output cannot be recomputed from a later state.
 */
#include <string.h>

#include "libos.h"

static uint32_t key[8];
static uint64_t counter;

#define ROTL(v, n) ((v) << (n) | (v) >> (32 - (n)))
#define QR(a, b, c, d) \
	(a += b, d ^= a, d = ROTL(d, 16), c += d, b ^= c, b = ROTL(b, 12), \
	 a += b, d ^= a, d = ROTL(d, 8), c += d, b ^= c, b = ROTL(b, 7))

static void block(uint32_t out[16])
{
	uint32_t in[16] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 };
	memcpy(&in[4], key, sizeof key);
	in[12] = (uint32_t)counter;
	in[13] = (uint32_t)(counter >> 32);
	counter++;
	uint32_t x[16];
	memcpy(x, in, sizeof x);
	for (int i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++) out[i] = x[i] + in[i];
}

void random_init(const uint8_t seed[32])
{
	memcpy(key, seed, sizeof key);
}

void random_fill(void *buf, size_t len)
{
	uint32_t out[16];
	block(out);
	memcpy(key, out, sizeof key); /* rekey before giving anything out */
	for (uint8_t *p = buf; len > 0;) {
		block(out);
		size_t n = len < sizeof out ? len : sizeof out;
		memcpy(p, out, n);
		p += n;
		len -= n;
	}
	memset(out, 0, sizeof out);
}

long sys_getrandom(void *buf, size_t len, unsigned flags)
{
	(void)flags;
	random_fill(buf, len);
	return (long)len;
}
