/*
 * pagecache evict FILE...   drops each file's pages from the host's page cache (fsync,
 *                           then POSIX_FADV_DONTNEED: clean pages go, no privilege needed)
 * pagecache count FILE...   prints "CACHED/TOTAL" pages of each file in the page cache,
 *                           one line per file (mincore over a mapping of it)
 * For the page-cache-warm case: the tender reads the disk and the program in before the filter.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int evict(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0 || fsync(fd) < 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0) return perror(path), 1;
	close(fd);
	return 0;
}

static int count(const char *path)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0) return perror(path), 1;
	size_t pages = ((size_t)st.st_size + 4095) / 4096, cached = 0;
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	static unsigned char vec[1 << 20];
	if (map == MAP_FAILED || pages > sizeof vec || mincore(map, (size_t)st.st_size, vec) < 0) return perror(path), 1;
	for (size_t i = 0; i < pages; i++) cached += vec[i] & 1;
	printf("%zu/%zu\n", cached, pages);
	munmap(map, (size_t)st.st_size);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int bad = argc < 3;
	for (int i = 2; i < argc && !bad; i++)
		bad = strcmp(argv[1], "evict") == 0 ? evict(argv[i]) : strcmp(argv[1], "count") == 0 ? count(argv[i]) :
												       1;
	return bad ? 2 : 0;
}
