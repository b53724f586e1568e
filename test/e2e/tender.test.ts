/**
 * The tender (native/tender, nabla-run) end to end: its native suite
 * (test/native/tender/run.sh) inside the real c toolchain container, one vitest case per
 * suite case, then guests under a plain `docker run` (runc, Docker's default seccomp
 * profile) and in a FROM-scratch image.
 */
import fs from 'node:fs';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { hostHasFsgsbase } from '../helpers/host.js';
import { runInToolchain } from '../helpers/native-suite.js';

/**
 * Both FS-base modes, on any host: where the CPU lacks FSGSBASE the suite runs the cpu cases
 * with nabla-run-assume-fsgsbase, a test build (never shipped) that takes it as present.
 */
const MODES = ['cpu', 'host-call'] as const;
/** Both builds: static-pie musl (the one images ship) and plain gcc + glibc. */
const TENDERS = ['nabla-run', 'nabla-run-gnu'];
/**
 * Each guest issues one forbidden syscall; the filter must kill it with SIGSYS (exit 159).
 * In both FS-base modes: arch_prctl with any code but ARCH_SET_FS dies in host-call mode too.
 * int80: where the host has no 32-bit syscall entry the CPU refuses it first (SIGSEGV), and
 * the suite says so in the case's detail; where the kernel takes it, only 159 passes.
 */
const ESCAPES = [
  'openat', 'execve', 'socket', 'ptrace', 'mount', 'kill', 'bpf', 'io_uring_setup', 'write-fd3', 'write-fd0',
  'write-fd1-high', 'clock-cputime', 'mmap', 'pread64-fd1', 'pread64-fd3', 'read-fd3', 'mprotect-disk', 'ppoll-nfds1', 'exit',
  'x32', 'int80',
  'arch-prctl-set-gs', 'arch-prctl-get-fs', 'arch-prctl-set-cpuid', 'arch-prctl-set-fs-high',
];
/** Bad input the loader and CLI refuse with exit 125 and one line. */
const REFUSALS = [
  'no-file', 'not-elf', 'wrong-arch', 'truncated', 'note-outside-file', 'no-note', 'two-notes', 'wrong-abi', 'pie', 'wx-segment', 'below-guest',
  'beyond-mem', 'beyond-mem-by-1', 'mem-too-small', 'mem-too-large', 'mem-not-number', 'unknown-flag', 'disk-empty',
  'no-unikernel', 'disk-missing', 'disk-dir', 'disk-unreadable', 'fs-base-bad', 'fs-base-env-bad',
  // Hostile PIEs beside the libOS and as its loader: overlapping, near the top, wrapping, huge, no PT_LOAD.
  'pie-overlap', 'pie-top', 'pie-wrap', 'pie-huge', 'pie-beyond-mem', 'pie-no-load', 'loader-top', 'loader-overlap',
  'loader-no-load', 'heap-flat-with-x-exec-heap', 'heap-mode-bad',
];
/** --net's flags and a tap that cannot be had (with a real tap: net-tap.test.ts). */
const NET = [
  'policy-net', 'net-no-ip', 'net-ip-without-net', 'net-empty', 'net-long-name', 'net-bad-ip', 'net-no-prefix',
  'net-bad-prefix', 'net-network-address', 'net-loopback', 'net-gw-outside', 'net-gw-bad', 'net-mac-bad',
  'net-mac-multicast', 'net-no-such-tap', 'net-lo',
];
/** Guests that run, in each FS-base mode (arch-prctl-set-fs: allowed in host-call mode, 159 in cpu mode). */
const RUNS = ['hello', 'exit3', 'bootinfo', 'bootinfo-mem8', 'exec-heap', 'trap-served', 'trap-gadget', 'arch-prctl-set-fs',
  'libos-beside', 'pie-beside', 'pie-beside-bootinfo', 'pie-interp', 'etc-from', 'etc-from-too-large', 'etc-from-unreadable',
  'etc-from-folder-or-none', 'etc-from-empty', 'disk-write-faults', 'disk-zero-length'];
/** Once per tender: the policy printouts (this host's, each mode's, every host's) and a big guest. */
const POLICY = ['beyond-mem-fits', 'policy', 'policy-disk', 'policy-host-call', 'policy-any-host', 'fs-base-flag-wins',
  'fs-base-flag-wins-over-a-bad-env', 'policy-cpu', 'policy-cpu-env', 'policy-auto', 'policy-flat-heap', 'policy-flat-heap-any-host',
  'page-cache-warm'];
/**
 * Guest memory, in each FS-base mode: the cap (paged), the two calls a paged heap may make,
 * and a flat heap's window (a write past it faults: 139), where both calls die by SIGSYS.
 */
const HEAP = ['heap-cap', 'heap-write-past', 'heap-exec', 'heap-exec-with-x-exec-heap', 'heap-paged-mprotect', 'heap-paged-mmap-release',
  'heap-flat-window', 'heap-flat-mprotect-rw', 'heap-flat-mmap-release', 'heap-flat-exec', 'flat-heap'];

const out = tempDir('nabla-e2e-tender-');
const scratchImage = 'nabla-e2e/tender-scratch:1';
let image = '';
let suite = { exitCode: -1, output: '' };
/** "TENDER CASE" → { status: ok|FAIL|skip, detail } from the suite's per-case lines. */
const cases = new Map<string, { status: string; detail: string }>();

function verdict(tender: string, name: string): { status: string; detail: string } {
  return cases.get(`${tender} ${name}`) ?? { status: 'missing', detail: `no "${tender} ${name}" line in the suite output` };
}

function expectOk(tender: string, name: string): string {
  const v = verdict(tender, name);
  expect(v.status, `${tender} ${name}: ${v.detail}`).toBe('ok');
  return v.detail;
}

async function docker(args: string[]) {
  return execa('docker', args, { reject: false, stdin: 'ignore' });
}

beforeAll(async () => {
  // Without capabilities, root cannot read a mode-000 disk: the suite tests that refusal.
  // SYS_PTRACE only: the tender is not dumpable, so reading its /proc/PID/maps (the W^X and
  // boot page checks) needs it.
  ({ image, ...suite } = await runInToolchain('make -s -C /src/native/tender test OUT=/out', out,
    ['--network', 'none', '--cap-drop', 'ALL', '--cap-add', 'SYS_PTRACE']));
  for (const line of suite.output.split('\n')) {
    const m = /^(ok|FAIL|skip) +(\S+) ([^:\s]+)(?:: (.*))?$/.exec(line);
    if (m) cases.set(`${m[2]} ${m[3]}`, { status: m[1]!, detail: m[4] ?? '' });
  }
});

afterAll(async () => {
  fs.rmSync(out, { recursive: true, force: true });
  await docker(['rmi', '-f', scratchImage]);
});

describe('tender: the native suite in the c toolchain container', () => {
  it('passes and closes with the counts', () => {
    const lines = suite.output.trim().split('\n');
    const last = lines[lines.length - 1] ?? '';
    expect(last, suite.output).toMatch(/^\d+ passed, 0 failed$/);
    expect(suite.exitCode, suite.output).toBe(0);
    const modes = MODES.length;
    expect(Number(last.split(' ')[0])).toBeGreaterThanOrEqual(
      TENDERS.length * (modes * (ESCAPES.length + RUNS.length + HEAP.length + 2) + REFUSALS.length + POLICY.length + NET.length),
    );
    expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
  });

  it('the shipped tender is static-pie (no PT_INTERP): it runs in a FROM-scratch image', () => {
    expectOk('nabla-run', 'static-pie');
  });

  describe.each(TENDERS)('%s', (tender) => {
    it.each(REFUSALS)('%s: refused with exit 125 and one line', (name) => {
      expectOk(tender, name); // disk-unreadable runs: the suite's root has no CAP_DAC_OVERRIDE
    });

    it.each(POLICY)('%s', (name) => {
      expectOk(tender, name);
    });

    it.each(NET)('%s: --net flags, checked before anything runs', (name) => {
      expectOk(tender, name);
    });
  });

  describe.each(TENDERS.flatMap((tender) => MODES.map((mode) => ({ tender, mode }))))(
    '$tender --fs-base=$mode',
    ({ tender, mode }) => {
      const tag = `${tender}@${mode}`;

      it('the suite ran this mode (cpu without FSGSBASE: with the test build that assumes it)', () => {
        expect(verdict(tag, 'hello').status, suite.output).toBe('ok');
        const assumed = suite.output.includes(`# ${tag}: no FSGSBASE here: the cpu cases run nabla-run-assume-fsgsbase`);
        expect(assumed).toBe(mode === 'cpu' && !hostHasFsgsbase());
      });

      it.each(ESCAPES)('escape-%s: the forbidden syscall kills the guest with SIGSYS (159)', (name) => {
        const detail = expectOk(tag, `escape-${name}`);
        if (name !== 'int80') expect(detail).toBe('');
      });

      it.each(RUNS)('%s', (name) => {
        expectOk(tag, name);
      });

      it.each(HEAP)('%s', (name) => {
        expectOk(tag, name);
      });

      it('a sleeping guest shows Seccomp: 2 and NoNewPrivs: 1, holds only fds 1 and 2, and the disk is one read-only shared mapping', () => {
        const detail = expectOk(tag, 'seccomp-status');
        expect(detail).toMatch(/Seccomp: 2/);
        expect(detail).toMatch(/NoNewPrivs: 1/);
        expect(detail).toMatch(/fds: 1 2 W/);
        expect(detail).toMatch(/disk r--s,/);
        expect(detail).toMatch(/W\+X mappings: 0,/);
      });

      it('strace -f: after seccomp() the hello guest makes only whitelisted syscalls', (ctx) => {
        const v = verdict(tag, 'strace-after-filter');
        if (v.status === 'skip') {
          ctx.skip(`strace is not in the toolchain image ${image} (${v.detail}); add it to toolchains/c/Dockerfile`);
        }
        expect(v.status, v.detail).toBe('ok');
        // rt_sigreturn: the tender enters the guest by it (trap_enter), from the hypercall code.
        expect(v.detail).toMatch(/^after seccomp\(\): ((write|exit_group|clock_gettime|ppoll|arch_prctl|rt_sigreturn|mprotect|mmap) )+$/);
      });
    },
  );
});

describe('tender: guests under a plain docker run (runc, default seccomp profile)', () => {
  it('hello prints its greeting; bootinfo sees the WorkingDir as cwd', async () => {
    const hello = await docker(['run', '--rm', '--network', 'none', '-v', `${out}:/t:ro`, image, '/t/nabla-run', '/t/guests/hello']);
    expect(hello.stderr).toBe('');
    expect(hello.stdout).toBe('Hello from a nabla guest!');
    expect(hello.exitCode).toBe(0);

    const info = await docker(['run', '--rm', '--network', 'none', '-w', '/srv', '-e', 'NABLA_TEST=in-docker',
      '-v', `${out}:/t:ro`, image, '/t/nabla-run', '/t/guests/bootinfo', 'arg']);
    expect(info.stdout).toMatch(/^cwd=\/srv$/m);
    expect(info.stdout).toMatch(/^argv: arg$/m);
    expect(info.stdout).toMatch(/^env: NABLA_TEST=in-docker$/m);
    expect(info.stdout).not.toMatch(/FAIL/);
    expect(info.exitCode).toBe(0);
  });

  it('with --cap-drop ALL -u 1000 --read-only it still runs, and an escape still dies with 159', async () => {
    const hardened = ['run', '--rm', '--network', 'none', '--cap-drop', 'ALL', '-u', '1000:1000', '--read-only',
      '-v', `${out}:/t:ro`, image, '/t/nabla-run'];
    const hello = await docker([...hardened, '/t/guests/hello']);
    expect(hello.stdout).toBe('Hello from a nabla guest!');
    expect(hello.exitCode).toBe(0);
    const escape = await docker([...hardened, '/t/guests/escape', 'openat']);
    expect(escape.stdout).toBe('trying openat');
    expect(escape.exitCode).toBe(159);
  });

  it.each([
    [1, 'EPERM', /^nabla-run: seccomp\(SECCOMP_SET_MODE_FILTER\) failed \(Operation not permitted\): the container runtime or a security policy forbids seccomp\(\)/],
    [38, 'ENOSYS', /^nabla-run: seccomp\(SECCOMP_SET_MODE_FILTER\) failed \(Function not implemented\): this kernel has no seccomp filters/],
  ])('a profile that answers seccomp() with errno %i (%s): one line, exit 125, the guest never runs', async (errno, _name, line) => {
    // A runtime's seccomp profile that refuses seccomp() itself (as a kernel without it would).
    const profile = `${out}/seccomp-errno-${errno}.json`;
    fs.writeFileSync(profile, JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['seccomp'], action: 'SCMP_ACT_ERRNO', errnoRet: errno }],
    }));
    const result = await docker(['run', '--rm', '--network', 'none', '--security-opt', `seccomp=${profile}`,
      '-v', `${out}:/t:ro`, image, '/t/nabla-run', '/t/guests/hello']);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(line);
    expect(result.exitCode).toBe(125);
  });

  it('runs FROM scratch: an image holding only nabla-run and the guest', async () => {
    const tar = await execa('tar', ['-C', out, '-c', 'nabla-run', 'guests/hello'], { encoding: 'buffer' });
    const imported = await execa('docker', ['import', '-', scratchImage], { input: tar.stdout, reject: false });
    expect(imported.exitCode, imported.stderr).toBe(0);
    const hello = await docker(['run', '--rm', '--network', 'none', scratchImage, '/nabla-run', '/guests/hello']);
    expect(hello.stdout).toBe('Hello from a nabla guest!');
    expect(hello.exitCode).toBe(0);
    const missing = await docker(['run', '--rm', '--network', 'none', scratchImage, '/nabla-run', '/guests/nope']);
    expect(missing.stderr).toMatch(/^nabla-run: \/guests\/nope: cannot open: No such file or directory$/m);
    expect(missing.exitCode).toBe(125);
  });
});
