/* A starter app from `nabla-build init --lang c`: prints a line and its arguments. */
#include <stdio.h>

int main(int argc, char **argv)
{
	printf("Hello from a nabla unikernel!\n");
	for (int i = 1; i < argc; i++)
		printf("arg %d: %s\n", i, argv[i]);
	return 0;
}
