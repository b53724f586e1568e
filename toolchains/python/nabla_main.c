/*
 * main() of the python unikernel (linked by nabla-cc in place of CPython's Programs/python.c).
 * The image's entrypoint is `nabla-run ... /nabla/python.nabla [args from nabla.json and
 * docker run]`; NABLA_PYTHON_MAIN (set by the python toolchain in the image's Env) names the
 * app's entry, so the interpreter starts as `python ENTRY args...` and the app sees
 * sys.argv == [ENTRY, args...]. "-m NAME" runs a module. Unset or empty: plain python.
 */
#include <Python.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *entry = getenv("NABLA_PYTHON_MAIN");
	if (entry == NULL || *entry == '\0')
		return Py_BytesMain(argc, argv);
	char **args = malloc((size_t)(argc + 3) * sizeof *args);
	if (args == NULL)
		return 1;
	int n = 0;
	args[n++] = argc > 0 ? argv[0] : "python3";
	if (strncmp(entry, "-m ", 3) == 0) {
		args[n++] = "-m";
		args[n++] = (char *)entry + 3;
	} else {
		args[n++] = (char *)entry;
	}
	for (int i = 1; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	return Py_BytesMain(n, args);
}
