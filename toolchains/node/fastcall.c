/*
 * libnabla-fastcall.so: put in front of glibc in every Node image (/etc/ld.so.preload), so
 * that node's own reads, writes and waits (libuv's, through glibc's PLT) reach the libOS as
 * function calls instead of traps: no SIGSYS, signal frame and rt_sigreturn for each (see
 * NABLA_SYS_FASTCALL in native/include/nabla_abi.h and fastcall in native/libos/syscall.c).
 * A call the libOS does not take it makes as the system call glibc would, which the filter
 * traps to the libOS as before. Outside a nabla unikernel the trapped call that finds the
 * fast call fails (ENOSYS, or EPERM under a container runtime's filter), and every call
 * here is glibc's own system call. These are not pthread cancellation points (node never
 * cancels a thread).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "nabla_abi.h"

typedef long (*fastcall_fn)(long n, long a1, long a2, long a3, long a4, long a5, long a6);
static fastcall_fn fastcall;

__attribute__((constructor)) static void find_fastcall(void)
{
	long entry = syscall(NABLA_SYS_FASTCALL);
	if (entry > 0)
		fastcall = (fastcall_fn)entry;
}

static long call(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	if (fastcall) {
		long ret = fastcall(n, a1, a2, a3, a4, a5, a6);
		if (ret != NABLA_FASTCALL_SLOW) {
			if (ret < 0 && ret >= -4095) {
				errno = (int)-ret;
				return -1;
			}
			return ret;
		}
	}
	return syscall(n, a1, a2, a3, a4, a5, a6);
}

ssize_t read(int fd, void *buf, size_t count)
{
	return call(SYS_read, fd, (long)buf, (long)count, 0, 0, 0);
}

ssize_t write(int fd, const void *buf, size_t count)
{
	return call(SYS_write, fd, (long)buf, (long)count, 0, 0, 0);
}

ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	return call(SYS_readv, fd, (long)iov, iovcnt, 0, 0, 0);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	return call(SYS_writev, fd, (long)iov, iovcnt, 0, 0, 0);
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
	return call(SYS_recvfrom, fd, (long)buf, (long)len, flags, (long)from, (long)fromlen);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
{
	return call(SYS_sendto, fd, (long)buf, (long)len, flags, (long)to, tolen);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	return call(SYS_recvmsg, fd, (long)msg, flags, 0, 0, 0);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return call(SYS_sendmsg, fd, (long)msg, flags, 0, 0, 0);
}

int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	return (int)call(SYS_accept4, fd, (long)addr, (long)addrlen, flags, 0, 0);
}

int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
	return (int)call(SYS_epoll_wait, epfd, (long)events, maxevents, timeout, 0, 0);
}

int epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout, const sigset_t *mask)
{
	return (int)call(SYS_epoll_pwait, epfd, (long)events, maxevents, timeout, (long)mask, 8 /* the kernel's sigset */);
}
