/*
 * mkindex [--break=HOW] IN OUT: the tar IN with an index in front, as nabla-build writes
 * rootfs.tar (src/rootfs/disk.ts has the format), for the libOS's tests: GNU tar makes the
 * fixtures in every form (pax, GNU long names, ustar prefixes, hard links), this indexes
 * them. The members are read with tar.c's rules. HOW breaks the index one way, for the
 * cases where the libOS must refuse it (see BREAKS).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD 48

static const char *const BREAKS[] = { "magic", "version", "index-past-end", "count", "trailing", "name-too-long",
				      "name-past-end", "file-past-end", "data-past-end", "data-wraps", 0 };

static char *tar, *index_;
static size_t tar_len, index_len, records, first_file = SIZE_MAX, last_record;

static uint64_t octal(const char *p, size_t len)
{
	uint64_t v = 0;
	for (size_t i = 0; i < len && p[i]; i++)
		if (p[i] >= '0' && p[i] <= '7') v = v * 8 + (uint64_t)(p[i] - '0');
	return v;
}

static void put(size_t at, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++) index_[at + i] = (char)(v >> (8 * i));
}

static void record(char type, const char *name, size_t name_len, const char *link, size_t link_len, const char *h,
		   uint64_t size, uint64_t data)
{
	index_ = realloc(index_, index_len + RECORD + name_len + link_len);
	if (!index_) exit(2);
	memset(index_ + index_len, 0, RECORD);
	int file = type == '0' || type == 0 || type == '7';
	put(index_len, file ? data : 0, 8);
	put(index_len + 8, file ? size : 0, 8);
	put(index_len + 16, octal(h + 136, 12), 8);
	put(index_len + 24, octal(h + 100, 8) & 07777, 4);
	put(index_len + 28, octal(h + 108, 8), 4);
	put(index_len + 32, octal(h + 116, 8), 4);
	put(index_len + 36, name_len, 2);
	put(index_len + 38, link_len, 2);
	index_[index_len + 40] = type;
	memcpy(index_ + index_len + RECORD, name, name_len);
	memcpy(index_ + index_len + RECORD + name_len, link, link_len);
	if (file && first_file == SIZE_MAX) first_file = index_len;
	last_record = index_len;
	index_len += RECORD + name_len + link_len;
	records++;
}

/* The value of key in a pax block, or 0 (the fixtures' records are well formed). */
static const char *pax(const char *rec, size_t len, const char *key, size_t *vlen)
{
	for (size_t i = 0; i < len;) {
		char *sp;
		size_t n = strtoul(rec + i, &sp, 10);
		const char *kv = sp + 1, *end = rec + i + n;
		if (n == 0 || i + n > len) return 0;
		if (strncmp(kv, key, strlen(key)) == 0 && kv[strlen(key)] == '=') {
			*vlen = (size_t)(end - 1 - (kv + strlen(key) + 1));
			return kv + strlen(key) + 1;
		}
		i += n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *how = 0;
	if (argc == 4 && strncmp(argv[1], "--break=", 8) == 0) how = argv[1] + 8, argv++, argc--;
	if (argc != 3) return fprintf(stderr, "usage: mkindex [--break=HOW] IN OUT\n"), 2;
	FILE *in = fopen(argv[1], "rb");
	if (!in || fseek(in, 0, SEEK_END) != 0) return perror(argv[1]), 2;
	tar_len = (size_t)ftell(in);
	rewind(in);
	tar = malloc(tar_len + 1);
	if (!tar || fread(tar, 1, tar_len, in) != tar_len) return perror(argv[1]), 2;
	fclose(in);
	index_len = 16;
	index_ = calloc(1, 16);
	static char name[4096], link[4096];
	size_t name_len = 0, link_len = 0;
	int long_name = 0, long_link = 0;
	for (size_t off = 0; off + 512 <= tar_len;) {
		const char *h = tar + off;
		static const char zero[512];
		if (memcmp(h, zero, 512) == 0) break;
		uint64_t len = octal(h + 124, 12), data = off + 512;
		off = data + ((len + 511) & ~511ULL);
		char type = h[156];
		if (type == 'L' || type == 'K') {
			size_t n = strnlen(tar + data, len);
			memcpy(type == 'L' ? name : link, tar + data, n);
			*(type == 'L' ? &name_len : &link_len) = n;
			*(type == 'L' ? &long_name : &long_link) = 1;
			continue;
		}
		if (type == 'x') {
			const char *v;
			size_t vlen;
			if ((v = pax(tar + data, len, "path", &vlen))) memcpy(name, v, name_len = vlen), long_name = 1;
			if ((v = pax(tar + data, len, "linkpath", &vlen))) memcpy(link, v, link_len = vlen), long_link = 1;
			continue;
		}
		if (type == 'g') continue;
		if (!long_name) {
			name_len = 0;
			if (h[345]) {
				name_len = strnlen(h + 345, 155);
				memcpy(name, h + 345, name_len);
				name[name_len++] = '/';
			}
			size_t n = strnlen(h, 100);
			memcpy(name + name_len, h, n);
			name_len += n;
		}
		if (!long_link) {
			link_len = strnlen(h + 157, 100);
			memcpy(link, h + 157, link_len);
		}
		long_name = long_link = 0;
		record(type, name, name_len, link, link_len, h, len, data);
	}
	memcpy(index_, "NABLAIDX", 8);
	put(8, 1, 4);
	put(12, records, 4);
	size_t shift = 512 + ((index_len + 511) & ~(size_t)511), total = shift + tar_len;
	for (size_t at = 16; at < index_len;) { /* every file's offset moves by the index member */
		size_t nl = (size_t)(uint8_t)index_[at + 36] | (size_t)(uint8_t)index_[at + 37] << 8;
		size_t ll = (size_t)(uint8_t)index_[at + 38] | (size_t)(uint8_t)index_[at + 39] << 8;
		char t = index_[at + 40];
		if (t == '0' || t == 0 || t == '7') {
			uint64_t d = 0;
			for (int i = 0; i < 8; i++) d |= (uint64_t)(uint8_t)index_[at + i] << (8 * i);
			put(at, d + shift, 8);
		}
		at += RECORD + nl + ll;
	}
	uint64_t header_size = index_len;
	if (how) {
		int known = 0;
		for (int i = 0; BREAKS[i]; i++) known |= strcmp(how, BREAKS[i]) == 0;
		if (!known || (first_file == SIZE_MAX && strstr(how, "-past-end") && strcmp(how, "index-past-end")))
			return fprintf(stderr, "mkindex: cannot break %s\n", how), 2;
	}
	if (!how) {
	} else if (!strcmp(how, "magic")) memcpy(index_, "NABLAIDY", 8);
	else if (!strcmp(how, "version")) put(8, 2, 4);
	else if (!strcmp(how, "index-past-end")) header_size = total * 2;
	else if (!strcmp(how, "count")) put(12, records + 1, 4);
	else if (!strcmp(how, "trailing")) put(12, records - 1, 4); /* the last record is left over */
	else if (!strcmp(how, "name-too-long")) put(16 + 36, 4096, 2);
	else if (!strcmp(how, "name-past-end")) put(last_record + 36, ((uint8_t)index_[last_record + 36] | (uint8_t)index_[last_record + 37] << 8) + 100, 2);
	else if (!strcmp(how, "file-past-end")) put(first_file + 8, total, 8);
	else if (!strcmp(how, "data-past-end")) put(first_file, total + 4096, 8);
	else if (!strcmp(how, "data-wraps")) put(first_file, UINT64_MAX - 100, 8), put(first_file + 8, 200, 8);

	char h[512] = { 0 };
	strcpy(h, ".nabla-index");
	sprintf(h + 100, "%07o", 0444);
	sprintf(h + 108, "%07o", 0);
	sprintf(h + 116, "%07o", 0);
	sprintf(h + 124, "%011llo", (unsigned long long)header_size);
	sprintf(h + 136, "%011o", 1700000000);
	h[156] = '0';
	memcpy(h + 257, "ustar\0"
			"00",
	       8);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++) sum += (uint8_t)h[i];
	sprintf(h + 148, "%06o", sum);
	FILE *out = fopen(argv[2], "wb");
	static const char pad[512];
	if (!out || fwrite(h, 1, 512, out) != 512 || fwrite(index_, 1, index_len, out) != index_len ||
	    fwrite(pad, 1, shift - 512 - index_len, out) != shift - 512 - index_len || fwrite(tar, 1, tar_len, out) != tar_len ||
	    fclose(out) != 0)
		return perror(argv[2]), 2;
	return 0;
}
