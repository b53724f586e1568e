/**
 * What a real unikernel (libOS-musl + libOS + app, built by nabla-build) asks of the host
 * kernel: strace -f of the tender running the files and threads apps. After seccomp()
 * only the whitelisted calls may appear.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir } from '../helpers/cli.js';

const work = tempDir('nabla-e2e-strace-');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const WHITELIST = new Set(['write', 'pread64', 'clock_gettime', 'ppoll', 'exit_group']);

async function traceApp(app: string, entry: string): Promise<{ output: string; after: string[] }> {
  const dest = path.join(work, app);
  const build = await nabla(['build', path.join(repoRoot, 'test', 'fixtures', app), '-o', `type=dir,dest=${dest}`]);
  expect(build.exitCode, build.stderr).toBe(0);
  const toolchain = await nabla(['toolchain', 'build', 'c']);
  const trace = path.join(work, `${app}.trace`);
  fs.writeFileSync(trace, '');
  fs.chmodSync(trace, 0o666);
  const run = await execa(
    'docker',
    ['run', '--rm', '--network', 'none', '--cap-add', 'SYS_PTRACE', '-w', '/app', '-v', `${dest}:/t:ro`, '-v', `${trace}:/trace`,
      toolchain.stdout.trim(), 'strace', '-f', '-o', '/trace', '/t/nabla/nabla-run', '--mem=256', '--disk=/t/nabla/rootfs.tar', `/t/nabla/${entry}.nabla`],
    { reject: false },
  );
  expect(run.exitCode, run.stderr).toBe(0);
  const lines = fs.readFileSync(trace, 'utf8').split('\n').filter(Boolean);
  const filter = lines.findIndex((line) => /\bseccomp\(SECCOMP_SET_MODE_FILTER/.test(line));
  expect(filter).toBeGreaterThan(0);
  const after = lines.slice(filter + 1).map((line) => /^\d+\s+(\w+)\(/.exec(line)?.[1] ?? /^\d+\s+(\+\+\+|---)/.exec(line)?.[1] ?? line);
  return { output: run.stdout, after };
}

describe('host system calls of a running unikernel (strace -f)', () => {
  it.each([
    ['files-c', 'files', 'files: ok'],
    ['threads-c', 'threads', 'counter=4000 joined=60'],
  ])('%s: only whitelisted calls after seccomp()', async (app, entry, greeting) => {
    const { output, after } = await traceApp(app, entry);
    expect(output).toBe(greeting);
    const calls = after.filter((name) => name !== '+++');
    expect(calls.filter((name) => !WHITELIST.has(name))).toEqual([]);
    expect(calls).toContain('pread64'); // the files came from the disk, through the tender's fd
    expect(calls.at(-1)).toBe('exit_group');
  });
});
