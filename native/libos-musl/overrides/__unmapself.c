/* libOS-musl: a detached thread frees its own stack and ends, both inside the libOS. */
#include <stddef.h>

_Noreturn void libos_unmapself(void *base, size_t size);

_Noreturn void __unmapself(void *base, size_t size)
{
	libos_unmapself(base, size);
}
