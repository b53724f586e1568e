/** Runs a native test suite inside the real c toolchain image, as the e2e tests of native code do. */
import fs from 'node:fs';
import { execa } from 'execa';
import { expect } from 'vitest';
import { nabla, repoRoot } from './cli.js';

export interface SuiteRun {
  image: string;
  exitCode: number;
  output: string;
}

/**
 * Builds (or reuses) the c toolchain image, then runs `command` in it as root without
 * capabilities or network (or with the `isolation` flags given instead), the repository at
 * /src read-only and `out` at /out (umask 0, so the host user can remove what it leaves).
 */
export async function runInToolchain(
  command: string,
  out: string,
  isolation: string[] = ['--network', 'none', '--cap-drop', 'ALL'],
): Promise<SuiteRun> {
  const toolchain = await nabla(['toolchain', 'build', 'c']);
  expect(toolchain.exitCode, toolchain.stderr).toBe(0);
  const image = toolchain.stdout.trim();
  expect(image).toMatch(/^nabla\/toolchain-c:[0-9a-f]{16}$/);
  fs.chmodSync(out, 0o777);
  const run = await execa(
    'docker',
    ['run', '--rm', ...isolation, '-v', `${repoRoot}:/src:ro`, '-v', `${out}:/out`, image,
      'sh', '-c', `umask 0 && exec ${command}`],
    { reject: false, stdin: 'ignore', all: true },
  );
  return { image, exitCode: run.exitCode ?? -1, output: String(run.all) };
}
