/*
 * exeroot.c — --exe-root=DIR: UNIKERNEL names a program of the guest's file system, found
 * in a copy of its runnable programs kept under DIR in the image (an image made by
 * `nabla-build convert`). `docker run IMAGE python3 -c ...` then works as it did before the
 * conversion: a bare name is looked up in $PATH as execvp does, a path is taken from the
 * working directory, both inside DIR; a dynamically linked program gets the loader its
 * PT_INTERP names, from DIR too. The guest sees the guest's paths: argv[0] as typed, and
 * /proc/self/exe without DIR in front.
 */
#define _GNU_SOURCE
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tender.h"

#define PATH_MAX 4096 /* Linux's, which realpath fills at most (<limits.h> clashes with PAGE_SIZE) */

#define EXE_NOT_FOUND 127 /* as a shell and `docker run` say "command not found" */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static char root_real[PATH_MAX], resolved_exe[PATH_MAX], resolved_interp[PATH_MAX];

/* root + a guest path (relative ones from the working directory) into out; 0 when too long. */
static int under_root(char *out, const char *root, const char *guest)
{
	char cwd[PATH_MAX] = "";
	if (guest[0] != '/' && !getcwd(cwd, sizeof cwd))
		err(TENDER_EXIT, "getcwd failed");
	int n = snprintf(out, PATH_MAX, "%s%s/%s", root, cwd, guest);
	return n > 0 && n < PATH_MAX;
}

/* The host file for a guest path, which must stay inside root once symlinks are followed. */
static int inside_root(const char *root, const char *path)
{
	char real[PATH_MAX];
	struct stat st;
	if (!realpath(path, real) || stat(real, &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return 0;
	size_t n = strlen(root);
	if (strncmp(real, root, n) != 0 || real[n] != '/')
		errx(TENDER_EXIT, "%s leads outside --exe-root=%s", path, root);
	return 1;
}

/* DIR itself, its symlinks resolved: what every program's real path must start with. */
static const char *check_root(const char *root)
{
	struct stat st;
	if (root[0] != '/' || strlen(root) < 2 || root[strlen(root) - 1] == '/')
		errx(TENDER_EXIT, "--exe-root=%s: must be an absolute path without a trailing /", root);
	if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode) || !realpath(root, root_real))
		errx(TENDER_EXIT, "--exe-root=%s: not a folder", root);
	if (strcmp(root_real, "/") == 0)
		errx(TENDER_EXIT, "--exe-root=%s: is the root of the container's file system", root);
	return root_real;
}

void exe_root_find(struct tender_opts *o)
{
	const char *root = o->exe_root = check_root(o->exe_root), *name = o->kernel;
	if (strchr(name, '/')) {
		if (!under_root(resolved_exe, root, name) || !inside_root(root, resolved_exe))
			errx(EXE_NOT_FOUND, "%s: no such program in the image (or not one nabla-run can run)", name);
	} else {
		const char *path = getenv("PATH");
		char dirs[PATH_MAX * 4];
		if (!path || !*path)
			path = DEFAULT_PATH;
		if (snprintf(dirs, sizeof dirs, "%s", path) >= (int)sizeof dirs)
			errx(TENDER_EXIT, "PATH is too long");
		int found = 0;
		for (char *dir = dirs, *next; dir && !found; dir = next) {
			if ((next = strchr(dir, ':')))
				*next++ = 0;
			char guest[PATH_MAX];
			int n = snprintf(guest, sizeof guest, "%s/%s", *dir ? dir : ".", name);
			found = n > 0 && n < (int)sizeof guest && under_root(resolved_exe, root, guest) &&
				inside_root(root, resolved_exe);
		}
		if (!found)
			errx(EXE_NOT_FOUND, "%s: not found in PATH (%s) among the programs nabla-run can run in this image", name,
			     path);
	}
	o->kernel = resolved_exe;
}

void exe_root_interp(struct tender_opts *o, const char *interp)
{
	if (!under_root(resolved_interp, o->exe_root, interp) || !inside_root(o->exe_root, resolved_interp))
		errx(TENDER_EXIT, "%s: its loader %s is not in the image under --exe-root=%s", o->kernel, interp, o->exe_root);
	o->interp = resolved_interp;
}

const char *exe_root_guest_path(const char *root, const char *real)
{
	size_t n = root ? strlen(root) : 0;
	return root && strncmp(real, root, n) == 0 && real[n] == '/' ? real + n : real;
}
