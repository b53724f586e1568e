/* lwIP's platform header for the libOS: x86-64, libOS-musl's headers, no printf. */
#ifndef NABLA_LWIP_ARCH_CC_H
#define NABLA_LWIP_ARCH_CC_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_TIMEVAL_PRIVATE 0

/* No debug output; a failed lwIP assertion stops the unikernel with its message. */
_Noreturn void net_panic(const char *message);
#define LWIP_PLATFORM_DIAG(x) ((void)0)
#define LWIP_PLATFORM_ASSERT(x) net_panic("lwIP: " x)

#endif
