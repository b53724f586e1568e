#include <stdio.h>

int main(int argc, char **argv) {
    printf("Hello from a nabla-build image!\n");
    for (int i = 1; i < argc; i++) printf("arg %d: %s\n", i, argv[i]);
    return 0;
}
