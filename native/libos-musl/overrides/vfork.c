/* libOS-musl: there are no host processes to make; vfork is fork (which the libOS refuses). */
#include <unistd.h>

pid_t vfork(void)
{
	return fork();
}
