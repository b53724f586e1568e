/* random.c: getrandom and /dev/urandom, a ChaCha20 stream keyed by the boot seed. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

TEST(getrandom_fills_the_buffer)
{
	boot(0);
	static unsigned char buf[10000];
	CHECK_EQ(sys(SYS_getrandom, buf, sizeof buf, 0), sizeof buf);
	for (size_t blk = 0; blk < sizeof buf; blk += 64) { /* no block left untouched, the tail included */
		size_t n = sizeof buf - blk < 64 ? sizeof buf - blk : 64, zeros = 0;
		for (size_t i = 0; i < n; i++) zeros += !buf[blk + i];
		if (zeros > n / 4) FAIL("bytes %zu..%zu: %zu of %zu are zero", blk, blk + n, zeros, n);
	}
	CHECK_EQ(sys(SYS_getrandom, buf, 0, 0), 0);
	CHECK_EQ(sys(SYS_getrandom, buf, 1, 1 /* GRND_NONBLOCK */), 1);
}

TEST(getrandom_two_calls_differ)
{
	boot(0);
	unsigned char a[32], b[32];
	CHECK_EQ(sys(SYS_getrandom, a, sizeof a, 0), 32);
	CHECK_EQ(sys(SYS_getrandom, b, sizeof b, 0), 32);
	CHECK(memcmp(a, b, sizeof a) != 0);
}

/* In a child: boot with seed arg[0], print the first 32 bytes of getrandom (arg[1] == 0)
 * or of /dev/urandom (arg[1] == 1) as hex. */
static void first_bytes(void *arg)
{
	const int *how = arg; /* { seed, from_urandom } */
	boot(&(struct boot_opts){ .seed = (uint8_t)how[0] });
	unsigned char b[32];
	if (how[1]) {
		long fd = open_("/dev/urandom", O_RDONLY);
		if (sys(SYS_read, fd, b, sizeof b) != 32) FAIL("read /dev/urandom");
	} else if (sys(SYS_getrandom, b, sizeof b, 0) != 32) {
		FAIL("getrandom");
	}
	char hex[65];
	for (int i = 0; i < 32; i++) sprintf(hex + 2 * i, "%02x", b[i]);
	if (write(1, hex, 64) != 64) _exit(3);
}

TEST(getrandom_same_seed_gives_the_same_first_output)
{
	struct child a, b, c, d;
	run_child(first_bytes, (int[]){ 7, 0 }, &a);
	run_child(first_bytes, (int[]){ 7, 0 }, &b);
	run_child(first_bytes, (int[]){ 8, 0 }, &c);
	run_child(first_bytes, (int[]){ 7, 1 }, &d);
	CHECK_EQ(strlen(a.out), 64);
	CHECK_STR(a.out, b.out);
	CHECK(strcmp(a.out, c.out) != 0); /* another seed, another stream */
	CHECK_STR(d.out, a.out); /* /dev/urandom is the same stream */
}

/* An independent ChaCha20 block (64-bit counter, zero nonce), checked against RFC 7539's
 * test vector A.1 #1, to say what the first output must be. */
#define ROTL(v, n) ((v) << (n) | (v) >> (32 - (n)))
#define QR(a, b, c, d) \
	(a += b, d ^= a, d = ROTL(d, 16), c += d, b ^= c, b = ROTL(b, 12), a += b, d ^= a, d = ROTL(d, 8), c += d, b ^= c, b = ROTL(b, 7))
static void chacha(const unsigned char key[32], uint64_t counter, unsigned char out[64])
{
	uint32_t s[16] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 }, x[16];
	for (int i = 0; i < 8; i++)
		s[4 + i] = (uint32_t)key[4 * i] | (uint32_t)key[4 * i + 1] << 8 | (uint32_t)key[4 * i + 2] << 16 |
			   (uint32_t)key[4 * i + 3] << 24;
	s[12] = (uint32_t)counter;
	s[13] = (uint32_t)(counter >> 32);
	memcpy(x, s, sizeof x);
	for (int r = 0; r < 10; r++) {
		QR(x[0], x[4], x[8], x[12]), QR(x[1], x[5], x[9], x[13]), QR(x[2], x[6], x[10], x[14]), QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]), QR(x[1], x[6], x[11], x[12]), QR(x[2], x[7], x[8], x[13]), QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++) {
		uint32_t v = x[i] + s[i];
		out[4 * i] = (unsigned char)v, out[4 * i + 1] = (unsigned char)(v >> 8);
		out[4 * i + 2] = (unsigned char)(v >> 16), out[4 * i + 3] = (unsigned char)(v >> 24);
	}
}

TEST(getrandom_is_chacha20_with_fast_key_erasure)
{
	static const unsigned char rfc[16] = { 0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90,
					       0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86, 0xbd, 0x28 };
	unsigned char zero[32] = { 0 }, blk[64];
	chacha(zero, 0, blk);
	CHECK_MEM(blk, rfc, 16); /* the reference itself is right */
	/* Each request: block 0 (counter 0) becomes the new key; the output is the next blocks. */
	unsigned char seed[32], key[32], want[100];
	memset(seed, 0x5a, sizeof seed);
	chacha(seed, 0, blk);
	memcpy(key, blk, 32);
	chacha(key, 1, blk);
	memcpy(want, blk, 64);
	chacha(key, 2, blk);
	memcpy(want + 64, blk, 36);
	boot(0); /* seed: 32 bytes of 0x5a */
	unsigned char got[100];
	CHECK_EQ(sys(SYS_getrandom, got, sizeof got, 0), 100);
	CHECK_MEM(got, want, 100);
}
