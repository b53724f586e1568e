/* libOS-musl: the thread pointer is set by the libOS (wrfsbase), not by arch_prctl on the host. */
#include "syscall.h"

int __set_thread_area(void *p)
{
	return __syscall(SYS_arch_prctl, 0x1002 /* ARCH_SET_FS */, p);
}
