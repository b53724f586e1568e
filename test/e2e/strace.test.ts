/**
 * What a real unikernel (libOS-musl + libOS + app, built by nabla-build) asks of the host
 * kernel: strace -f of the tender running the files and threads apps. After seccomp()
 * only the whitelisted calls may appear. (The Go apps, on the trap path: go.test.ts.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir } from '../helpers/cli.js';
import { FS_BASE_MODES, type FsBaseMode } from '../helpers/host.js';
import { allowedHostCalls, heapCallsPinned, hostCallsAfterSeccomp, setFsOnly, straceUnikernel } from '../helpers/strace.js';

const work = tempDir('nabla-e2e-strace-');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

async function traceApp(app: string, entry: string, mode: FsBaseMode) {
  const dest = path.join(work, `${app}-${mode}`);
  const build = await nabla(['build', path.join(repoRoot, 'test', 'fixtures', app), '-o', `type=dir,dest=${dest}`]);
  expect(build.exitCode, build.stderr).toBe(0);
  const toolchain = await nabla(['toolchain', 'build', 'c']);
  const run = await straceUnikernel({
    image: toolchain.stdout.trim(),
    dir: dest,
    unikernel: `${entry}.nabla`,
    env: { NABLA_FS_BASE: mode },
    traceFile: path.join(work, `${app}-${mode}.trace`),
  });
  expect(run.exitCode, run.stderr).toBe(0);
  return { output: run.stdout, calls: hostCallsAfterSeccomp(run.lines) };
}

describe.each(FS_BASE_MODES)('host system calls of a running unikernel (strace -f), FS base by $mode', ({ mode, runs }) => {
  it.skipIf(!runs).each([
    ['files-c', 'files', 'files: ok'],
    ['threads-c', 'threads', 'counter=4000 joined=60'],
  ])('%s: only whitelisted calls after seccomp()', async (app, entry, greeting) => {
    const { output, calls } = await traceApp(app, entry, mode);
    const { ran, trapped } = calls;
    expect(output).toBe(greeting);
    const allowed = allowedHostCalls(mode);
    // rt_sigreturn stays: the tender enters the guest by one (trap_enter), relinked or not.
    expect(ran.filter((name) => !allowed.has(name))).toEqual([]);
    expect(setFsOnly(calls)).toBe(true);
    expect(heapCallsPinned(calls)).toBe(true);
    // threads-c switches threads: in host-call mode each switch sets the FS base on the host.
    if (app === 'threads-c') expect(ran.includes('arch_prctl')).toBe(mode === 'host-call');
    expect(trapped).toEqual([]); // relinked: every call is a function call, none is trapped
    expect(ran).not.toContain('pread64'); // the files came from the disk, through the tender's mapping
    expect(ran.at(-1)).toBe('exit_group');
  });
});
