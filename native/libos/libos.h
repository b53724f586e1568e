/*
 * The library OS: serves the Linux x86-64 system-call ABI in user space, inside the
 * unikernel. One entry, libos_syscall(); handlers return a value or -errno, as the
 * kernel would. Only hypercall.c talks to the host.
 */
#ifndef LIBOS_H
#define LIBOS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>

#include "nabla_abi.h"

#define PAGE_SIZE 4096UL
#define PAGE_UP(x) (((uintptr_t)(x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))

long libos_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6);

extern const struct nabla_boot *libos_boot;

/* syscall.c: may call n go on after a handler with SA_RESTART? Not those Linux never
 * restarts (poll, select, epoll_wait, sleeps, sigsuspend): they return EINTR. */
int syscall_restartable(long n);

/* hypercall.c: the only code that makes host system calls. */
long hc_write(int fd, const void *buf, size_t len);
long hc_clock_gettime(int clock, struct timespec *ts);
long hc_sleep(const struct timespec *ts);
long hc_net_read(void *buf, size_t len);
long hc_net_write(const void *buf, size_t len);
#define NET_READY_TAP 1 /* hc_net_wait: a frame waits on the tap */
#define NET_READY_DNS 2 /* an answer waits on the DNS relay's socket */
long hc_net_wait(int ms); /* NET_READY_* bits, 0 on timeout */
long hc_dns_read(void *buf, size_t len);
long hc_dns_write(const void *buf, size_t len);
long hc_set_fs(uint64_t addr);
long hc_mem_usable(uintptr_t addr, size_t len);
long hc_mem_release(uintptr_t addr, size_t len);
_Noreturn void hc_exit(int code);

/* base.c (with libos_boot): a message on the console's stderr, for things that must not
 * go unnoticed. */
void libos_warn(const char *message);
_Noreturn void libos_panic(const char *message);

/* mem.c */
void mem_init(void);
long sys_brk(uintptr_t addr);
long sys_mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, off_t off);
long sys_munmap(uintptr_t addr, size_t len);
long sys_mremap(uintptr_t old, size_t old_len, size_t new_len, int flags, uintptr_t new_addr);
long sys_mprotect(uintptr_t addr, size_t len, int prot);
long sys_madvise(uintptr_t addr, size_t len, int advice);
/* A fault at addr on a MAP_NORESERVE page: given memory (1), or the app's fault (0). */
int mem_fault(uintptr_t addr);
/* Guest memory the host is about to read or write for the libOS: given memory where it had
 * none yet (MAP_NORESERVE pages never touched). 0, or -ENOMEM. */
long mem_ready(const void *addr, size_t len);
/* Bytes of --mem not yet counted (sysinfo's freeram). */
size_t mem_available(void);
/* Gives back to the host the freed pages a PROT_NONE mapping left pending (mem.c's top):
 * before every system call but mprotect (which settles them itself) and any thread switch. */
void mem_settle(void);
/* filemap.c: mmap of a file, as a copy in an anonymous mapping. */
long sys_mmap_file(uintptr_t addr, size_t len, int prot, int flags, int fd, off_t off);
/* Memory for the libOS itself (never freed): file tables, tmpfs data. */
void *mem_alloc(size_t len);
/* The same, or 0 when guest memory is full (for memory the app asked for, e.g. file data). */
void *mem_try_alloc(size_t len);
void mem_free(void *p, size_t len);

/* time.c */
long sys_clock_gettime(int clock, struct timespec *ts);
long sys_gettimeofday(struct timeval *tv, void *tz);
long sys_time(long *tloc);
uint64_t time_now_ns(int clock);
/* A count of nanoseconds as the structs the ABI carries it in (inline: pure arithmetic that
 * the fuzz harnesses' vfs.c needs without the hypercalls time.c makes). */
static inline struct timespec time_timespec(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };
}
static inline struct timeval time_timeval(uint64_t ns)
{
	return (struct timeval){ .tv_sec = (time_t)(ns / 1000000000u), .tv_usec = (suseconds_t)(ns % 1000000000u / 1000u) };
}

/* random.c */
void random_init(const uint8_t seed[32]);
void random_fill(void *buf, size_t len);
long sys_getrandom(void *buf, size_t len, unsigned flags);

/* Files (vfs.h tells how they are built). fs.c: the path calls and those on any fd; each
 * kind of file has its own calls: pipe.c, eventfd.c, epoll.c, and unix.c, net.c below. */
void fs_init(void);
/* self.c: the program's own file at its path, and /proc/self/exe (after fs_init). */
void self_init(void);
/* procfs.c: /proc/stat, /proc/cpuinfo, ..., and /proc/self/cmdline from the initial stack
 * the tender built (argc, argv ...; 0: none) */
void procfs_init(const uint64_t *initial_stack);
long fs_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6, int *handled);
long sys_pipe2(int *fdpair, int flags);
long sys_splice(long fd_in, int64_t *off_in, long fd_out, int64_t *off_out, size_t len, unsigned flags);
long sys_eventfd2(unsigned initval, int flags);
long epoll_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6, int *handled);

/* sched.c: green threads, futex, sleeping */
void sched_init(void);
/* Waits until sched_wake_all(key) or the monotonic deadline (0: none); 1 if woken, 0 at
 * the deadline, -EINTR when a signal's handler is to run (signal.c): callers return it. */
int sched_wait(const void *key, uint64_t deadline);
void sched_wake_all(const void *key);
long sched_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6, int *handled);

/* Each thread's signal state (signal.c). */
struct thread_signals {
	uint64_t mask;
	uint64_t altstack_sp;
	uint64_t altstack_size;
	int altstack_flags;
	int suspended; /* in rt_sigsuspend: suspend_saved_mask comes back after */
	uint64_t suspend_saved_mask;
	uint64_t pending; /* sent to this thread (tgkill): only it takes them */
};
struct thread_signals *sched_signals(void);
/* A live thread's signal state, or 0 if there is no such thread. */
struct thread_signals *sched_signals_of(int tid);
/* A thread's libOS stack, for the calls it makes through the trap path. */
#define KSTACK_SIZE (64 * 1024UL)
int sched_has_kstack(void);
uint8_t *sched_kstack_top(void);
/* A clone trapped from the app: the child's libOS stack, and the frame it returns to the
 * app with (a copy of the parent's, %rax = 0). */
void sched_set_trap_child(int tid, uint8_t *kstack, void *resume_frame);
/* The running thread's "in the libOS" flag: a preemption tick leaves it alone while set. */
int *sched_in_libos(void);
/* trap.c / hypercall.c: clear *in_libos and load the signal frame (registers, FPU state),
 * back into the app, in one step inside the hypercall code. */
_Noreturn void trap_return(void *frame, int *in_libos);
/* Set once libos_init is done: ticks before it are ignored. */
extern int libos_ready;
int libos_clone(int (*fn)(void *), void *stack, int flags, void *arg, int *ptid, void *tls, int *ctid);

/* signal.c: handlers and masks; signals from the host (trap.c) and from the app. */
long signal_syscall(long n, long a1, long a2, long a3, long a4, int *handled);
/* A signal arrived (trap handler context: no TLS). A default action happens here. */
void signal_arrived(int sig);
/* The signals waiting for a handler: sent to the process (from the host too), and those
 * plus the ones sent to the running thread. */
uint64_t signal_process_pending(void);
uint64_t signal_pending(void);
/* Of those, the ones the running thread does not block: what it would take now. */
uint64_t signal_ready(void);
/* Does the app have a handler a signal could run? Then waiting forever is not a deadlock. */
int signal_handlers_installed(void);
/* The next pending signal the running thread does not block and whose handler is to run
 * (default actions and ignored signals are taken care of on the way). The thread's mask
 * now blocks what the handler's sa_mask says; old_mask is the one to restore after. */
struct signal_delivery {
	int sig;
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t old_mask;
	/* Who sent it, as siginfo says: SI_TKILL from the app's tgkill/tkill, SI_USER from
	 * its kill (pid 1) or from the host (pid 0, outside the container). */
	int code, pid;
};
int signal_next(struct signal_delivery *d);
void signal_set_mask(uint64_t mask);
/* A fault of the app's code (trap.c): 1 and d filled (and the mask set) as signal_next
 * does when its handler is to run now; 0 when the process is to die by it. */
int signal_fault(int sig, struct signal_delivery *d);
/* Relinked apps: runs the handlers of those signals as functions, after a call
 * (interrupted: it returned -EINTR and may be restarted) or at a tick. Returns 1 if the
 * call is to be restarted (every handler had SA_RESTART). */
int signal_take(int interrupted);
/* 1 when the libOS is linked into the app; else it was loaded beside a program (Go). */
int signal_relinked(void);

/* lwip-port/tapif.c: lwIP, with its loopback always and the tender's tap when it gave
 * one (net_up: 1 then). Started at boot with a tap, else by net_start at the first socket. */
void net_init(void);
void net_start(void);
int net_up(void);
/* The scheduler's idle wait: runs the stack's timers, loopback packets and frames, then
 * waits on the host for a frame or the monotonic deadline (0: none). 0 when the stack has
 * nothing to wait for (no tap, no TCP timer running). */
int net_idle(uint64_t deadline);
/* Called at every reschedule: now and then takes waiting frames without waiting. */
void net_tick(void);
/* lwip-port/dnsrelay.c: datagrams to the container's loopback DNS server (nabla_boot.dns_fd).
 * Does the relay take a datagram to ip:port (network byte order)? Then send it through it. */
struct udp_pcb;
struct pbuf;
int dns_relay_takes(uint32_t ip, uint16_t port);
void dns_relay_send(struct udp_pcb *pcb, struct pbuf *p);
void dns_relay_pump(void); /* the answers that came, to the sockets that asked */
/* unix.c: AF_UNIX sockets (socketpair, and named ones); net.c: every other socket call. */
long unix_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6, int *handled);
long rtnl_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6, int *handled);
long net_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6, int *handled);

/* proc.c: identity, exit, thread pointer */
long proc_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6, int *handled);
/* Linux refuses an FS base at or above TASK_SIZE_MAX (user space ends a page short of
 * 2^47); wrfsbase would fault on a non-canonical one. */
#define USER_SPACE_END ((1UL << 47) - 4096)
/* The running thread's FS base as the libOS set it last (0 at boot, as after execve).
 * tp_set: -EPERM for an address outside user space (as Linux), else 0. */
uint64_t tp_get(void);
long tp_set(uint64_t fs);

#endif
