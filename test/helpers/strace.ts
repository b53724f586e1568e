/**
 * strace -f of a unikernel built by nabla-build (its image files unpacked by
 * `-o type=dir`), run by the tender in a toolchain image that has strace, and what the
 * trace says about the host calls made after the tender installed its seccomp filter.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { FsBaseMode } from './host.js';

/** What the tender's filter lets reach the host kernel (README, "Security model"). */
export const WHITELIST = new Set(['write', 'clock_gettime', 'ppoll', 'exit_group', 'mprotect', 'mmap']);

/**
 * The whitelist in an FS-base mode: host-call adds arch_prctl (ARCH_SET_FS only, which
 * `setFsOnly` checks), and a libOS that traps or preempts returns with rt_sigreturn.
 */
export function allowedHostCalls(mode: FsBaseMode): Set<string> {
  return new Set([...WHITELIST, 'rt_sigreturn', ...(mode === 'host-call' ? ['arch_prctl'] : [])]);
}

/**
 * Every mprotect that reached the host made heap pages read-write (or, with --x-exec-heap,
 * executable too), and every mmap was the libOS giving pages back: PROT_NONE, fixed, anonymous.
 */
export function heapCallsPinned(calls: HostCalls): boolean {
  return calls.ranLines.every(
    (line) =>
      (!line.startsWith('mprotect(') || /^mprotect\(0x[0-9a-f]+, \d+, PROT_READ\|PROT_WRITE(\|PROT_EXEC)?\)/.test(line)) &&
      (!line.startsWith('mmap(') || /^mmap\(0x[0-9a-f]+, \d+, PROT_NONE, MAP_PRIVATE\|MAP_FIXED\|MAP_ANONYMOUS\|MAP_NORESERVE, -1, 0\)/.test(line)),
  );
}

/** Every arch_prctl that reached the host set the FS base, and nothing else. */
export function setFsOnly(calls: HostCalls): boolean {
  return calls.ranLines.filter((line) => line.startsWith('arch_prctl(')).every((line) => line.startsWith('arch_prctl(ARCH_SET_FS,'));
}

export interface TraceRun {
  /** The toolchain image to run in (it must hold strace). */
  image: string;
  /** The `type=dir` output of the app's image. */
  dir: string;
  unikernel: string;
  libos?: string;
  env?: Record<string, string>;
  /** Where to write the trace (a file the container can write). */
  traceFile: string;
}

export async function straceUnikernel(run: TraceRun): Promise<{ exitCode: number; stdout: string; stderr: string; lines: string[] }> {
  fs.writeFileSync(run.traceFile, '');
  fs.chmodSync(run.traceFile, 0o666);
  const env = Object.entries(run.env ?? {}).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
  const result = await execa(
    'docker',
    ['run', '--rm', '--network', 'none', '--cap-add', 'SYS_PTRACE', '-w', '/app', ...env,
      '-v', `${run.dir}:/t:ro`, '-v', `${run.traceFile}:/trace`, run.image,
      'strace', '-f', '-o', '/trace', '/t/nabla/nabla-run', '--mem=256', '--disk=/t/nabla/rootfs.tar',
      ...(run.libos ? [`--libos=/t/nabla/${path.basename(run.libos)}`] : []), `/t/nabla/${run.unikernel}`],
    { reject: false },
  );
  const lines = fs.readFileSync(run.traceFile, 'utf8').split('\n').filter(Boolean);
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, lines };
}

export interface HostCalls {
  /** Calls the host kernel ran after seccomp(), in order ("--- SIGxxx" for a signal other than a seccomp trap). */
  ran: string[];
  /** The same calls as strace wrote them, with their arguments. */
  ranLines: string[];
  /** Calls the filter trapped (SIGSYS, SYS_SECCOMP) to the libOS: the host never ran them. */
  trapped: string[];
  /** The host processes and threads seen after seccomp(). */
  pids: Set<string>;
}

/**
 * Splits the calls after `seccomp(SECCOMP_SET_MODE_FILTER, ...)`. strace shows a trapped
 * call as a line of its own followed by `--- SIGSYS {si_code=SYS_SECCOMP, si_syscall=__NR_x}`:
 * the kernel stopped it before running it, so it counts as trapped, not as a host call.
 */
export function hostCallsAfterSeccomp(lines: string[]): HostCalls {
  const filter = lines.findIndex((line) => /\bseccomp\(SECCOMP_SET_MODE_FILTER/.test(line));
  if (filter < 0) throw new Error('no seccomp(SECCOMP_SET_MODE_FILTER) in the trace');
  const calls: { pid: string; name: string; line: string; trapped: boolean }[] = [];
  const pids = new Set<string>();
  for (const line of lines.slice(filter + 1)) {
    const [, pid, rest] = /^(\d+)\s+(.*)$/.exec(line) ?? [undefined, '?', line];
    pids.add(pid!);
    // A number Linux lacks (the fast call's, NABLA_SYS_FASTCALL) is `syscall_0x4e41(` on
    // its line and `si_syscall=20033` here.
    const trap = /^--- SIGSYS \{.*si_code=SYS_SECCOMP.*si_syscall=(?:__NR_(\w+)|(\d+))/.exec(rest!);
    if (trap) {
      const name = trap[1] ?? `syscall_0x${Number(trap[2]).toString(16)}`;
      const last = calls.findLast((call) => call.pid === pid && !call.trapped);
      if (last && last.name === name) last.trapped = true;
      else calls.push({ pid: pid!, name: `--- SIGSYS for ${name} with no call before it`, line: rest!, trapped: false });
      continue;
    }
    if (/^\+\+\+ /.test(rest!) || /^<\.\.\. \w+ resumed>/.test(rest!)) continue;
    // The tender's preemption tick: the kernel delivers it (a CPU-time timer set before the
    // filter); no call is made for it.
    if (/^--- SIGVTALRM /.test(rest!)) continue;
    const signal = /^--- (\w+)/.exec(rest!);
    const call = /^(\w+)\(/.exec(rest!);
    calls.push({ pid: pid!, name: signal ? `--- ${signal[1]}` : (call?.[1] ?? rest!), line: rest!, trapped: false });
  }
  return {
    ran: calls.filter((call) => !call.trapped).map((call) => call.name),
    ranLines: calls.filter((call) => !call.trapped).map((call) => call.line),
    trapped: calls.filter((call) => call.trapped).map((call) => call.name),
    pids,
  };
}
