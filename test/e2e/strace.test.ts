/**
 * What a real unikernel (libOS-musl + libOS + app, built by nabla-build) asks of the host
 * kernel: strace -f of the tender running the files and threads apps. After seccomp()
 * only the whitelisted calls may appear. (The Go apps, on the trap path: go.test.ts.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir } from '../helpers/cli.js';
import { WHITELIST, hostCallsAfterSeccomp, straceUnikernel } from '../helpers/strace.js';

const work = tempDir('nabla-e2e-strace-');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

async function traceApp(app: string, entry: string) {
  const dest = path.join(work, app);
  const build = await nabla(['build', path.join(repoRoot, 'test', 'fixtures', app), '-o', `type=dir,dest=${dest}`]);
  expect(build.exitCode, build.stderr).toBe(0);
  const toolchain = await nabla(['toolchain', 'build', 'c']);
  const run = await straceUnikernel({
    image: toolchain.stdout.trim(),
    dir: dest,
    unikernel: `${entry}.nabla`,
    traceFile: path.join(work, `${app}.trace`),
  });
  expect(run.exitCode, run.stderr).toBe(0);
  return { output: run.stdout, ...hostCallsAfterSeccomp(run.lines) };
}

describe('host system calls of a running unikernel (strace -f)', () => {
  it.each([
    ['files-c', 'files', 'files: ok'],
    ['threads-c', 'threads', 'counter=4000 joined=60'],
  ])('%s: only whitelisted calls after seccomp()', async (app, entry, greeting) => {
    const { output, ran, trapped } = await traceApp(app, entry);
    expect(output).toBe(greeting);
    expect(ran.filter((name) => !WHITELIST.has(name))).toEqual([]);
    expect(trapped).toEqual([]); // relinked: every call is a function call, none is trapped
    expect(ran).toContain('pread64'); // the files came from the disk, through the tender's fd
    expect(ran.at(-1)).toBe('exit_group');
  });
});
