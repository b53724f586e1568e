/**
 * The library OS (native/libos) unit by unit: its native suite (test/native/libos/run.sh)
 * inside the real c toolchain container. The suite links the real libOS objects, built by
 * native/libos/Makefile, with a host-side fake of hypercall.c, boots them over a tar made
 * by GNU tar, and drives them through libos_syscall(); every case runs in its own child.
 * One vitest case per native case. The names are listed here, so a case that disappears
 * from the suite fails instead of passing unseen.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { type FsBaseMode, hostHasFsgsbase } from '../helpers/host.js';
import { runInToolchain } from '../helpers/native-suite.js';

/** tar.c: the rootfs tree from its index or its headers (pax, ustar prefix, GNU long names, replacements), and disk reads. */
const TAR = [
  'tar-pax-files', 'tar-pax-directories', 'tar-pax-symlinks', 'tar-pax-long-name', 'tar-pax-long-link-target',
  'tar-ustar-prefix', 'tar-gnu-long-names', 'tar-later-entry-replaces-earlier', 'tar-entries-with-dotdot-are-skipped',
  'tar-read-offsets', 'tar-fstat-sizes', 'tar-file-bytes-stay-on-disk', 'tar-extended-header-past-the-end-panics', 'tar-no-disk',
  'tar-zero-length-disk', 'tar-index-gives-the-tree-the-headers-give', 'tar-index-written-by-nabla-build-gives-the-tree-its-headers-give',
  'tar-index-is-invisible-to-the-guest',
  'tar-index-boot-reads-only-the-index', 'tar-broken-index-panics-without-reading-past-the-disk',
  'tar-a-folder-named-only-by-the-ustar-prefix',
];
/** vfs.c and the path calls: lookup, symlinks, create/remove/rename, listings, cwd. */
const PATHS = [
  'path-dot-and-dotdot', 'path-dotdot-at-root-stays-at-root', 'path-repeated-slashes',
  'path-trailing-slash-on-a-file-is-enotdir', 'path-empty-is-enoent', 'path-component-over-255-is-enametoolong',
  'symlink-to-file', 'symlink-to-dir-in-the-middle-of-a-path', 'symlink-relative-target-resolves-from-the-links-folder',
  'symlink-absolute-target', 'symlink-dangling-is-enoent', 'symlink-loop-is-eloop',
  'symlink-chain-of-40-resolves-41-is-eloop', 'open-nofollow-on-a-link-is-eloop',
  'open-creat-with-a-missing-parent-is-enoent', 'open-creat-excl-on-an-existing-file-is-eexist',
  'open-creat-excl-on-a-dangling-link-is-eexist', 'open-creat-makes-a-file', 'mkdir-and-rmdir',
  'unlink-of-a-folder-is-eisdir', 'rename-a-folder-into-itself-is-einval',
  'rename-a-folder-onto-its-own-subfolder-keeps-it', 'rename-over-a-file', 'rename-a-folder-moves-its-children',
  'rename-a-folder-over-a-file-is-enotdir', 'getdents64-lists-names-types-dot-and-dotdot', 'getdents64-in-small-pieces',
  'getcwd-after-chdir', 'boot-cwd-is-the-working-folder', 'boot-cwd-missing-falls-back-to-root',
  'openat-and-friends-relative-to-a-dirfd', 'readlink', 'lstat-with-a-trailing-slash-follows-the-link',
  'faccessat-and-statx',
];
/** fs.c (path calls, read/write, dup/fcntl), fd.c (fds, open files) and dev.c (devices, console): copy-on-write over the disk, tmpfs, truncation. */
const FILES = [
  'write-to-a-file-from-the-tar-copies-it-on-write', 'write-to-a-big-file-from-the-tar-keeps-the-rest',
  'tmpfs-file-round-trip', 'pwrite-past-the-end-leaves-a-zeroed-hole', 'ftruncate-grows-with-zeros-and-shrinks',
  'ftruncate-to-a-negative-length-is-einval', 'ftruncate-through-a-read-only-fd-is-einval',
  'ftruncate-beyond-guest-memory-is-an-error', 'truncating-a-disk-file-does-not-read-its-bytes',
  'o-append-writes-at-the-end', 'o-trunc-empties-a-file-opened-for-writing', 'access-modes-are-enforced',
  'unlinked-file-stays-readable-through-an-open-fd', 'dup-shares-the-offset', 'dup2-and-dup3',
  'fcntl-dupfd-getfl-setfl', 'fcntl-dupfd-with-a-bad-minimum-is-einval', 'close-of-a-bad-fd-is-ebadf',
  'fds-run-out-with-emfile', 'dev-null', 'dev-zero', 'dev-urandom', 'console-fds',
  'writev-to-the-console-is-one-host-write', 'readv-and-writev-on-a-file',
];
/** mem.c: brk and anonymous mmap, made usable and given back on the host. */
const MEMORY = [
  'brk-grows-and-shrinks', 'brk-is-blocked-by-an-mmap', 'brk-cannot-leave-the-heap',
  'mmap-anonymous-is-zeroed-page-aligned-and-in-the-heap', 'munmap-then-reuse',
  'mmap-fixed-noreplace-over-a-mapping-is-eexist', 'mmap-bad-arguments', 'mremap-grows-in-place',
  'mremap-maymove-moves-when-blocked', 'mremap-shrinks', 'mremap-fixed-moves-to-the-new-address', 'mremap-moves-past-prot-none-and-keeps-noreserve',
  'madvise-dontneed-zeroes', 'mprotect-checks-its-arguments', 'mmap-out-of-memory-is-enomem-not-a-crash',
  'mmap-of-a-file-is-a-copy-from-its-offset', 'mmap-of-a-file-fixed-over-a-reservation',
  'mmap-of-a-file-refuses-what-it-cannot-serve', 'mmap-of-a-file-stays-in-the-heap',
  'mmap-noreserve-is-not-counted-against-mem', 'mmap-noreserve-pages-get-memory-when-touched', 'host-calls-into-untouched-noreserve-pages', 'sysinfo-tells-the-guest-memory', 'tmpfs-write-when-memory-is-full-is-enospc',
  'prot-none-reserves-address-space-only', 'mmap-takes-a-free-hint',
  // the pool: freed pages kept for reuse, zeroed, guards that fault, --mem exact, its bound
  'munmap-keeps-the-pages-and-a-new-mapping-over-them-reads-zero', 'brk-shrunk-and-grown-again-reads-zero-with-no-host-call',
  'mmap-fixed-over-a-live-mapping-reads-zero-with-no-host-call', 'mremap-leftovers-are-kept-and-read-zero-when-grown-again',
  'madvise-dontneed-zeroes-a-short-run-in-place-and-frees-a-long-one', 'a-guard-over-freed-pages-faults-after-the-next-call',
  'a-guard-over-freed-pages-faults-in-the-next-thread-to-run', 'threads-made-in-a-loop-cost-no-host-memory-call-after-the-first',
  'mmap-and-munmap-in-a-loop-cost-no-host-call-after-the-first', 'mem-stays-exact-with-a-full-pool-under-the-new-mapping',
  'mem-stays-exact-with-a-full-pool-elsewhere', 'the-pool-keeps-at-most-16-mib', 'the-pool-keeps-at-most-an-eighth-of-mem',
];
/** sched.c + switch.S: green threads, futex, sleeping, deadlock, exit. */
const THREADS = [
  'thread-runs-when-the-parent-yields', 'clone-sets-parent-and-child-tids', 'clone-without-the-thread-flags-is-enosys',
  'clone-settls-gives-the-child-its-fs-base-and-keeps-ours', 'clone-runs-out-of-threads-with-eagain',
  'futex-wait-with-a-changed-value-is-eagain', 'futex-wait-wake-handshake-between-two-threads',
  'futex-wake-wakes-at-most-n', 'futex-wait-with-a-timeout-is-etimedout-after-that-long',
  'futex-timeout-expires-while-another-thread-runs', 'futex-wait-bitset-takes-an-absolute-deadline',
  'futex-cmp-requeue-moves-waiters', 'clone-child-cleartid-zeroes-and-wakes-at-thread-exit',
  'nanosleep-sleeps-and-checks-its-argument', 'a-sleeping-thread-lets-the-others-run',
  'every-thread-blocked-forever-panics-with-deadlock', 'the-only-thread-waiting-forever-panics-with-deadlock',
  'the-last-threads-exit-is-the-processs', 'exit-group-ends-every-thread-at-once',
  'exit-of-the-only-thread-exits-the-process', 'a-thread-switch-keeps-each-threads-rounding-mode',
];
/** pipe.c (pipes, FIFOs, splice) and poll/select in fs.c. */
const PIPES = [
  'pipe-carries-bytes-between-threads-then-ends-with-eof',
  'pipe-write-without-a-reader-is-epipe-and-nonblock-is-eagain',
  'poll-reports-pipe-readiness-and-times-out',
  'select-waits-for-a-pipe-written-by-another-thread',
  'pipe-read-keeps-its-file-while-another-thread-closes-the-fd', 'pipes-closed-give-back-their-memory',
  'splice-moves-a-file-into-a-pipe-and-the-pipe-into-a-file', 'splice-refuses-what-linux-refuses',
  'splice-waiting-on-a-socket-holds-the-pipe-against-its-readers', 'splice-from-a-socket-waits-once-and-ends-at-its-close',
  'splice-between-pipes-keeps-both-files-while-another-thread-closes-the-fds',
];
/** eventfd.c and epoll.c: counters, interest lists, level and edge triggers, waits. */
const EPOLL = [
  'eventfd-adds-writes-and-a-read-takes-all', 'eventfd-semaphore-reads-one-at-a-time',
  'eventfd-bad-sizes-values-and-flags-are-einval', 'eventfd-overflow-is-eagain-or-waits-for-a-read',
  'eventfd-blocking-write-waits-until-a-read-makes-room', 'eventfd-blocking-read-waits-for-a-write-from-another-thread',
  'poll-and-select-on-an-eventfd', 'epoll-create-and-ctl-errors-are-as-on-linux', 'epoll-add-of-a-file-or-folder-is-eperm',
  'epoll-level-triggered-pipe-reports-until-drained', 'epoll-edge-triggered-reports-each-edge-once',
  'epoll-edge-triggered-reports-a-file-ready-when-added', 'epoll-oneshot-reports-once-until-mod',
  'epoll-mod-changes-events-and-data-and-del-stops-reports', 'epoll-reports-hup-and-err-when-the-other-end-closes',
  'epoll-closing-a-registered-fd-takes-it-out-of-the-set', 'epoll-a-small-buffer-takes-turns', 'epoll-wait-timeouts',
  'epoll-pwait-blocked-in-one-thread-is-woken-by-an-eventfd-write-from-another',
  'epoll-ctl-add-of-a-ready-fd-wakes-a-waiting-thread',
];
/** random.c, time.c, proc.c, the dispatcher. */
const OTHERS = [
  'getrandom-fills-the-buffer', 'getrandom-two-calls-differ', 'getrandom-same-seed-gives-the-same-first-output',
  'getrandom-is-chacha20-with-fast-key-erasure', 'clock-gettime-follows-the-host', 'process-identity', 'prctl-keepcaps-no-new-privs-and-the-rest-einval',
  'no-other-processes', 'signal-actions-and-masks-are-kept', 'signals-to-self', 'sigaltstack-is-kept-per-thread',
  'rt-sigaction-writes-only-a-kernel-sigaction',
  'arch-prctl-sets-and-gets-the-fs-base', 'arch-prctl-outside-user-space-is-eperm-and-changes-nothing',
  'the-app-starts-with-no-fs-base', 'the-fs-base-is-set-the-way-the-boot-flag-says', 'libos-panic-on-an-abi-mismatch',
];
/** self.c: the program's own file at its path and /proc/self/exe, from the tender's mapping. */
const SELF = [
  'self-exe-at-its-path-and-proc-self-exe', 'self-exe-written-gets-a-copy', 'self-exe-replaces-a-file-of-the-rootfs',
  'self-exe-on-a-folder-or-below-a-file-is-left-out', 'self-exe-below-a-file-is-left-out', 'no-exe-no-proc-self', 'container-etc-files-replace-the-images',
  'no-container-etc-files-keep-the-images',
  'proc-stat-and-cpuinfo-show-one-cpu', 'proc-sys-fs-pipe-max-size-is-the-pipe-size', 'proc-self-cmdline-is-the-arguments',
];
/** net.c and lwip-port/: sockets over lwIP, between threads on 127.0.0.1 (each loopback case booted without a
 * network and with a tap) and as frames on a fake tap. */
const NET = [
  'without-a-network-sockets-work-over-loopback-and-other-families-are-refused',
  'without-a-network-a-server-on-any-address-works-and-says-why-once',
  'without-a-network-a-connection-out-is-unreachable-and-says-why',
  'with-a-tap-a-server-on-any-address-says-nothing',
  'dns-relay-carries-a-query-out-and-its-answer-back-by-id', 'dns-relay-answers-each-connected-socket-its-own',
  'dns-relay-takes-only-port-53-and-whole-dns-messages', 'dns-relay-a-frame-from-127-0-0-11-on-the-wire-is-no-answer', 'no-dns-relay-leaves-127-0-0-11-to-lwip', 'rtnetlink-lists-lo-and-the-tap-as-eth0', 'rtnetlink-without-a-network-lists-lo-refuses-the-rest',
  'socket-argument-errors-are-as-on-linux',
  'tcp-connect-accept-read-write-close-between-threads-without-a-network',
  'tcp-connect-accept-read-write-close-between-threads-with-a-tap',
  'tcp-nonblocking-connect-is-einprogress-then-writable-without-a-network',
  'tcp-nonblocking-connect-is-einprogress-then-writable-with-a-tap',
  'tcp-connect-to-a-closed-port-is-refused-without-a-network', 'tcp-connect-to-a-closed-port-is-refused-with-a-tap',
  'tcp-bulk-transfer-keeps-every-byte-in-order-without-a-network',
  'tcp-bulk-transfer-keeps-every-byte-in-order-with-a-tap',
  'tcp-close-with-unread-data-resets-the-peer-without-a-network',
  'tcp-close-with-unread-data-resets-the-peer-with-a-tap',
  'tcp-close-with-so-linger-zero-resets-the-peer-without-a-network', 'tcp-close-with-so-linger-zero-resets-the-peer-with-a-tap',
  'tcp-nonblocking-io-and-fionbio-without-a-network',
  'tcp-nonblocking-io-and-fionbio-with-a-tap', 'epoll-and-select-report-sockets-without-a-network',
  'epoll-and-select-report-sockets-with-a-tap', 'so-rcvtimeo-ends-a-blocking-read-and-the-libos-waits-on-the-tap',
  'a-thread-that-never-blocks-still-lets-the-network-run-without-a-network',
  'a-thread-that-never-blocks-still-lets-the-network-run-with-a-tap', 'socket-options-read-back-without-a-network',
  'socket-options-read-back-with-a-tap', 'udp-sendto-recvfrom-connect-and-msg-without-a-network',
  'udp-sendto-recvfrom-connect-and-msg-with-a-tap',
  'tcp-many-connections-from-many-threads-to-one-epoll-server-without-a-network',
  'tcp-many-connections-from-many-threads-to-one-epoll-server-with-a-tap',
  'tcp-large-transfers-both-directions-at-once-without-a-network',
  'tcp-large-transfers-both-directions-at-once-with-a-tap',
  'tcp-request-answer-latency-over-loopback-without-a-network',
  'tcp-request-answer-latency-over-loopback-with-a-tap',
  'tcp-connect-storms-neither-hang-nor-exhaust-the-stack-without-a-network',
  'tcp-connect-storms-neither-hang-nor-exhaust-the-stack-with-a-tap',
  'tcp-peers-that-never-read-are-bounded-and-hang-nobody-without-a-network',
  'tcp-peers-that-never-read-are-bounded-and-hang-nobody-with-a-tap',
  'udp-to-a-loopback-port-nobody-bound-is-refused-when-connected-without-a-network',
  'udp-to-a-loopback-port-nobody-bound-is-refused-when-connected-with-a-tap',
  'without-a-network-a-blocked-read-sleeps-until-its-timeout', 'tap-an-arp-request-gets-the-guests-mac',
  'tap-a-ping-gets-an-echo-reply', 'tap-connect-out-resolves-the-gateway-sends-a-syn-and-takes-a-reset',
];
/** unix.c: AF_UNIX without a network: socketpairs, named sockets, passing files, errors. */
/** signal.c: handlers, EINTR and SA_RESTART, masks, sigsuspend, the host's signals. */
const SIGNALS = [
  'signal-handler-runs-when-the-call-returns', 'signal-resethand-runs-once-then-the-default-ends-the-process',
  'signal-blocked-stays-pending-until-unblocked', 'signal-from-the-host-cuts-a-blocked-read-short', 'signal-siginfo-says-who-sent-it',
  'signal-with-sa-restart-restarts-the-read', 'signal-cuts-a-sleep-short-and-says-what-was-left',
  'signal-sigsuspend-waits-with-its-mask-for-a-handler', 'signal-from-the-host-with-the-default-action',
  'signal-to-one-thread-waits-for-that-thread',
];
const UNIX = [
  'socketpair-stream-carries-bytes-both-ways-through-every-call',
  'socketpair-blocking-read-and-write-wait-for-the-other-thread',
  'socketpair-nonblocking-is-eagain-with-msg-dontwait-fcntl-and-fionbio', 'socketpair-msg-peek-leaves-the-bytes',
  'socketpair-close-gives-eof-to-reads-and-epipe-to-writes',
  'socketpair-a-blocked-reader-or-writer-is-woken-by-the-peers-close',
  'socketpair-close-with-unread-bytes-resets-the-peer', 'socketpair-shutdown-ends-one-direction',
  'socketpair-poll-and-select-report-readiness', 'socketpair-epoll-level-and-edge-triggered',
  'socketpair-dgram-keeps-message-boundaries', 'socketpair-seqpacket-keeps-boundaries-and-ends-like-a-stream',
  'socketpair-names-and-options', 'socketpair-so-rcvtimeo-and-so-sndtimeo-end-a-blocking-call',
  'socketpair-argument-and-address-errors-are-as-on-linux', 'socket-af-unix-is-a-socket-that-is-not-connected',
  'socketpair-closing-both-ends-frees-the-memory',
  'socketpair-and-tcp-sockets-each-go-to-their-own-code',
  /* Named sockets: paths, abstract names, connections, datagrams, SCM_RIGHTS, hostile control data. */
  'unix-bind-to-a-path-makes-a-socket-file-that-names-it',
  'unix-a-relative-path-is-from-the-working-directory-and-links-are-followed',
  'unix-abstract-names-have-no-file-and-autobind-makes-one',
  'unix-listen-connect-accept-carry-streams-and-seqpackets',
  'unix-the-backlog-is-honoured-then-a-connect-waits-or-is-eagain',
  'unix-closing-a-listener-resets-the-connections-it-had-not-accepted',
  'unix-accept-without-a-free-fd-leaves-the-connection-queued',
  'unix-datagrams-go-to-names-with-the-senders-name',
  'unix-scm-rights-gives-new-fds-on-the-same-open-files',
  'unix-scm-rights-over-a-stream-end-a-read-and-peek-dups',
  'unix-scm-rights-closes-the-fds-that-do-not-fit-and-unread-messages-release-theirs',
  'unix-so-passcred-gives-the-process-credentials',
  'unix-sendmsg-refuses-control-data-that-lies',
  'unix-files-in-flight-are-capped-and-chains-of-sockets-close-without-recursion',
  'unix-sockets-held-only-by-their-own-rings-are-collected',
];
/** Issue 20: the file-system semantics the languages' own test suites rely on, and the alarm. */
const FS_SEMANTICS = [
  'link-gives-a-file-a-second-name', 'link-of-a-symlink-links-the-link-unless-told-to-follow',
  'hard-links-in-the-image-are-one-file', 'chmod-and-chown-stick-on-tmpfs-and-image-files',
  'utimensat-sets-times-to-the-nanosecond', 'a-folders-mtime-follows-its-entries',
  'statfs-reports-one-tmpfs-of-half-the-memory', 'mknod-makes-fifos-and-files-but-no-devices',
  'fifo-nonblocking-opens-read-eof-and-write-enxio-without-the-other-side', 'fifo-blocking-opens-wait-for-the-other-side',
  'memfd-create-is-a-file-in-memory-and-no-folder', 'o-tmpfile-is-a-file-in-no-folder',
  'sendfile-copies-from-a-file-at-its-position-or-an-offset', 'a-link-to-its-own-folder-loops-out-after-40-links', 'getdents64-while-the-folder-changes-gives-each-entry-once',
  'rename-replaces-files-and-empty-folders-and-takes-renameat2-flags',
  'dot-names-cannot-be-moved-or-removed-and-at-fdcwd-is-no-fd',
  'fallocate-grows-a-file-and-pread-past-the-end-is-empty', 'fadvise-is-checked-and-changes-nothing', 'no-terminals-dev-ptmx-is-enoent',
  'alarm-rings-once-or-every-interval-and-says-what-is-left', 'alarm-without-a-handler-ends-the-process-like-linux',
  'a-handler-interrupts-a-blocking-read-and-sa-restart-resumes-it',
  'a-handler-makes-poll-epoll-and-sleeps-eintr-even-with-sa-restart',
];
/** syscall.c: the fast call that Node's glibc shim and Go's raw system call make instead of a trap. */
const FASTCALL = [
  'fastcall-is-answered-only-to-a-program-that-was-not-relinked', 'fastcall-reads-and-writes-as-the-calls-do',
  'fastcall-leaves-other-calls-to-the-trap-path', 'fastcall-waits-and-lets-other-threads-run-as-the-call-does',
  'fastcall-steps-aside-while-a-signal-waits-for-its-handler', 'fastcall-takes-calls-while-a-blocked-signal-waits',
  'fastcall-cut-short-by-a-signal-goes-the-trap-path', 'fastcall-before-the-thread-has-a-libos-stack-goes-the-trap-path', 'fastcall-uses-under-288-bytes-of-the-callers-stack',
];
/** A flat heap (--heap=flat) makes no host memory call: PROT_NONE does not fault there and nothing goes back to the host. */
const FLAT_HEAP = ['flat-heap-prot-none-does-not-fault-and-freed-pages-read-zero', 'flat-heap-noreserve-mappings-are-ordinary-memory',
  'flat-heap-is-its-window-and-no-more'];
/** The cases of a paged heap only: guards that fault, pages given back, reservations past --mem. */
const PAGED_HEAP_ONLY = new Set([
  'madvise-dontneed-zeroes-a-short-run-in-place-and-frees-a-long-one', 'a-guard-over-freed-pages-faults-after-the-next-call',
  'a-guard-over-freed-pages-faults-in-the-next-thread-to-run', 'threads-made-in-a-loop-cost-no-host-memory-call-after-the-first',
  'the-pool-keeps-at-most-16-mib', 'the-pool-keeps-at-most-an-eighth-of-mem', 'prot-none-reserves-address-space-only',
  'mmap-noreserve-is-not-counted-against-mem', 'mmap-noreserve-pages-get-memory-when-touched', 'mremap-moves-past-prot-none-and-keeps-noreserve',
]);
const GROUPS: Array<[string, string[]]> = [
  ['tar index', TAR], ['paths', PATHS], ['files', FILES], ['memory', MEMORY], ['threads', THREADS],
  ['pipes and poll', PIPES], ['eventfd and epoll', EPOLL], ['random, time, process', OTHERS], ['the program\'s own file', SELF],
  ['sockets', NET], ['AF_UNIX sockets', UNIX], ['signals', SIGNALS], ['file-system semantics', FS_SEMANTICS],
  ['the fast call', FASTCALL], ['a flat heap', FLAT_HEAP],
];
const ALL = GROUPS.flatMap(([, names]) => names);

const out = tempDir('nabla-e2e-libos-');
interface ModeRun {
  exitCode: number;
  output: string;
  /** case name → { status: ok|FAIL|skip, detail } from the suite's per-case lines. */
  cases: Map<string, { status: string; detail: string }>;
}
/**
 * One run of the whole suite per FS-base mode, on any host: where the CPU lacks FSGSBASE
 * the harness emulates the libOS's wrfsbase (SIGILL), so the cpu path is tested too. And
 * one more under a flat heap, where any host memory call fails the case.
 */
interface Mode {
  name: string;
  fsBase: FsBaseMode;
  heap: 'paged' | 'flat';
}
const MODES: Mode[] = [
  { name: 'FS base by cpu', fsBase: 'cpu', heap: 'paged' },
  { name: 'FS base by host-call', fsBase: 'host-call', heap: 'paged' },
  { name: 'a flat heap, FS base by cpu', fsBase: 'cpu', heap: 'flat' },
];
const runs = new Map<Mode, ModeRun>();
/** What a case's line says in a mode: skipped there when it is the other heap mode's. */
const expected = (mode: Mode, name: string): string =>
  (mode.heap === 'flat' ? PAGED_HEAP_ONLY.has(name) : FLAT_HEAP.includes(name)) ? 'skip' : 'ok';

beforeAll(async () => {
  for (const mode of MODES) {
    const dir = `${mode.fsBase}-${mode.heap}`;
    const suite = await runInToolchain(`env LIBOS_TEST_FS_BASE=${mode.fsBase} LIBOS_TEST_HEAP=${mode.heap} sh /src/test/native/libos/run.sh /out/${dir}`, out);
    const cases = new Map<string, { status: string; detail: string }>();
    for (const line of suite.output.split('\n')) {
      const m = /^(ok|FAIL|skip) +([^:\s]+)(?:: (.*))?$/.exec(line);
      if (m) cases.set(m[2]!, { status: m[1]!, detail: m[3] ?? '' });
    }
    runs.set(mode, { ...suite, cases });
  }
});

afterAll(() => {
  fs.rmSync(out, { recursive: true, force: true });
});

describe.each(MODES)('libOS: the native unit suite in the c toolchain container, $name', (mode) => {
  const run = (): ModeRun => runs.get(mode)!;
  const expectAsWanted = (name: string): void => {
    const v = run().cases.get(name) ?? { status: 'missing', detail: `no line for "${name}" in the suite output` };
    expect(v.status, `${name}: ${v.detail}`).toBe(expected(mode, name));
  };

  it('builds, runs every case listed here (and no other), and closes with the counts', () => {
    const { cases, output, exitCode } = run();
    expect(cases.get('build'), output).toBeUndefined(); // "FAIL build: ..." when it cannot build
    const emulated = mode.fsBase === 'cpu' && !hostHasFsgsbase() ? ' (wrfsbase emulated: this host has no FSGSBASE)' : '';
    expect(output).toContain(`# heap: ${mode.heap}\n# fs-base: ${mode.fsBase}${emulated}\n`);
    expect([...cases.keys()].sort(), output).toEqual([...ALL].sort());
    const lines = output.trim().split('\n');
    const last = lines[lines.length - 1] ?? '';
    const counts = /^(\d+) passed, (\d+) failed(?:, (\d+) skipped \(not for this heap mode\))?$/.exec(last);
    expect(counts, output).not.toBeNull();
    const failed = [...cases.values()].filter((c) => c.status === 'FAIL').length;
    const skipped = ALL.filter((name) => expected(mode, name) === 'skip').length;
    expect(Number(counts![1])).toBe(ALL.length - failed - skipped);
    expect(Number(counts![2])).toBe(failed);
    expect(Number(counts![3] ?? 0)).toBe(skipped);
    expect(exitCode === 0, output).toBe(failed === 0);
  });

  describe.each(GROUPS)('%s', (_group, names) => {
    it.each(names.map((name) => [name, name]))(
      '%s',
      (_title, name) => {
        expectAsWanted(name);
      },
    );
  });
});
