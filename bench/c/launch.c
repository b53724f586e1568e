/* launch N PROGRAM [ARGS...]: runs PROGRAM N times; each run prints its main() time in
 * REALTIME ns; prints the median of (main time - time just before fork+exec) in µs. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int compare(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int n = atoi(argv[1]);
	long *deltas = calloc((size_t)n, sizeof *deltas);
	for (int i = 0; i < n; i++) {
		int out[2];
		if (pipe(out)) return 1;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		long before = ts.tv_sec * 1000000000L + ts.tv_nsec;
		pid_t pid = fork();
		if (pid == 0) {
			dup2(out[1], 1);
			execv(argv[2], argv + 2);
			_exit(127);
		}
		close(out[1]);
		char buf[64] = { 0 };
		ssize_t got = read(out[0], buf, sizeof buf - 1);
		close(out[0]);
		int status;
		waitpid(pid, &status, 0);
		if (got <= 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			return fprintf(stderr, "launch: %s failed (read %zd, wait status %#x)\n", argv[2], got, status), 1;
		deltas[i] = atol(buf) - before;
	}
	qsort(deltas, (size_t)n, sizeof *deltas, compare);
	printf("%.1f\n", deltas[n / 2] / 1000.0);
	return 0;
}
