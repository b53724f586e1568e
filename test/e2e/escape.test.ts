/**
 * Escape attempts from a unikernel built by nabla-build and run with a plain `docker run`:
 * system calls through libc are answered inside the libOS; raw `syscall` instructions in
 * the app are trapped by the tender's filter and refused by the libOS the same way; the
 * libOS's own host calls, misused, kill the process with SIGSYS (exit 159) before the
 * host acts. All of it in both FS-base modes (NABLA_FS_BASE, as a user would set it): the
 * host-call mode allows one more call, arch_prctl(ARCH_SET_FS), and nothing else with it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nabla, repoRoot, tempDir, writeFiles } from '../helpers/cli.js';
import { FS_BASE_MODES } from '../helpers/host.js';

const IMAGE = 'nabla-e2e/escape:1';
const SIGSYS_EXIT = 128 + 31;

beforeAll(async () => {
  const build = await nabla(['build', path.join(repoRoot, 'test', 'fixtures', 'escape-c'), '--load', '-t', IMAGE]);
  expect(build.exitCode, build.stderr).toBe(0);
});
afterAll(async () => {
  await execa('docker', ['rmi', '-f', IMAGE], { reject: false });
});

describe.each(FS_BASE_MODES)('escape attempts, FS base by $mode', ({ mode, runs }) => {
  const run = (...args: string[]) =>
    execa('docker', ['run', '--rm', '--network', 'none', '-e', `NABLA_FS_BASE=${mode}`, IMAGE, ...args], { reject: false });
  const it = test.skipIf(!runs);

  it('host files outside the image are invisible, and so is the tender itself', async () => {
    const result = await run('host-file');
    expect(result.stdout.split('\n')).toEqual([
      '/etc/hostname: No such file or directory',
      '/etc/resolv.conf: No such file or directory',
      '/proc/self/status: No such file or directory',
      '/nabla/nabla-run: No such file or directory',
    ]);
    expect(result.exitCode).toBe(0);
  });

  it('fork fails without making a host process', async () => {
    const result = await run('fork');
    expect(result.stdout).toBe('fork: Function not implemented');
    expect(result.exitCode).toBe(0);
  });

  it('a stack overflow hits the guard page (SIGSEGV) instead of running into the heap', async () => {
    const result = await run('stack-overflow');
    expect(result.stdout).not.toContain('depth');
    expect(result.exitCode).toBe(128 + 11);
  });

  // What each raw call gets from the libOS (as -errno, or 1 for a value it served).
  it.each([
    ['raw-openat', -2], // ENOENT: the host's /etc/hostname is not in the image
    ['raw-execve', -38], // ENOSYS: no processes
    ['raw-socket', 1], // a socket of the libOS's own TCP/IP stack (only loopback here), no host socket
    ['raw-ptrace', -38],
    ['raw-mount', -38],
    ['raw-bpf', -38],
    ['raw-io_uring_setup', -38],
    ['raw-write-fd3', -9], // EBADF: fd 3 is the tender's disk, not one of the app's fds
    ['raw-mmap', 1], // guest memory from the libOS, not a host mapping
    ['raw-clock-cputime', -14], // served (from the monotonic clock) into no buffer: EFAULT, as Linux says
    ['raw-arch-prctl-set-gs', -22], // EINVAL: the libOS serves ARCH_SET_FS/GET_FS only
  ])('%s is trapped and answered inside the libOS', async (name, value) => {
    const result = await run(name);
    expect(result.stdout).toBe(`${name}: returned ${value}`);
    expect(result.exitCode).toBe(0);
  });

  it('a socket without a network says nothing: the no-network hint is for servers on 0.0.0.0 (loopback.test.ts)', async () => {
    const result = await run('raw-socket');
    expect(result.stdout).toBe('raw-socket: returned 1');
    expect(result.stderr).toBe('');
  });

  it('raw kill(1, SIGKILL) ends only the unikernel itself', async () => {
    const result = await run('raw-kill');
    expect(result.stdout).toBe('');
    expect(result.exitCode).toBe(128 + 9);
  });

  it.each(['hypercall-write-fd3', 'hypercall-gadget-execve', 'hypercall-gadget-arch-prctl-get-fs',
    'hypercall-gadget-arch-prctl-set-gs'])('%s is killed by SIGSYS', async (name) => {
    const result = await run(name);
    expect(result.stdout).not.toContain('SURVIVED');
    expect(result.exitCode).toBe(SIGSYS_EXIT);
  });

  it(`the libOS's own FS-base host call is ${mode === 'host-call' ? 'allowed' : 'killed by SIGSYS'} in this mode`, async () => {
    const result = await run('hypercall-set-fs');
    if (mode === 'host-call') {
      expect(result.stdout).toBe('hypercall-set-fs: allowed, returned 0');
      expect(result.exitCode).toBe(0);
    } else {
      expect(result.stdout).toBe('');
      expect(result.exitCode).toBe(SIGSYS_EXIT);
    }
  });
});

describe('no core files of guest memory', () => {
  // With a core limit (`--ulimit core=-1`, or a daemon started with LimitCORE=infinity) the
  // kernel would write the guest's memory as root into the working directory, or hand it to
  // the host's crash handler. The tender is not dumpable and sets RLIMIT_CORE to 0.
  test.each([
    ['hypercall-write-fd3', SIGSYS_EXIT], // the filter's own kill
    ['stack-overflow', 128 + 11], // SIGSEGV
  ])('%s under --ulimit core=-1 leaves no core file in the container', async (name, status) => {
    const container = `nabla-e2e-core-${name}`;
    await execa('docker', ['rm', '-f', container], { reject: false });
    const run = await execa('docker', ['run', '--name', container, '--network', 'none', '--ulimit', 'core=-1', IMAGE, name],
      { reject: false });
    expect(run.exitCode).toBe(status);
    const diff = await execa('docker', ['diff', container], { reject: false });
    await execa('docker', ['rm', '-f', container], { reject: false });
    expect(diff.exitCode, diff.stderr).toBe(0);
    expect(diff.stdout.split('\n').filter((line) => /core/.test(line))).toEqual([]);
  });
});

describe('a NABLA note of the app\'s own', () => {
  // It names the hypercall range and the trap handler the tender wires up: an app linked
  // before the libOS could bring one that wins. The build refuses two; so does nabla-run.
  test('fails the build, naming the cause', async () => {
    const app = writeFiles(tempDir('nabla-e2e-note-'), {
      'main.c': [
        '__asm__(".pushsection .note.nabla, \\"a\\", @note\\n.balign 4\\n.long 6, 56, 1\\n.asciz \\"NABLA\\"\\n"',
        '        ".balign 4\\n.long 3, 0\\n.quad 0, 0, 0, 0, 0, 0\\n.popsection");',
        'int main(void) { return 0; }',
        '',
      ].join('\n'),
    });
    const build = await nabla(['build', app, '-o', `type=dir,dest=${app}/out`]);
    fs.rmSync(app, { recursive: true, force: true });
    expect(build.stderr).toMatch(/nabla-compile: "[^"]+" holds 2 NABLA notes: only the libOS may have one/);
    expect(build.exitCode).toBe(4);
  });
});
