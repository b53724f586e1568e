/**
 * Before any test: the CLI bundle must exist (npm test builds it) and, for the e2e suite,
 * a Docker engine must answer and the Debian base image must exist (made once with
 * `nabla-build toolchain bootstrap` if missing, as a user would).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

const root = path.resolve(import.meta.dirname, '..', '..');

export default async function setup(): Promise<void> {
  if (!fs.existsSync(path.join(root, 'dist', 'main.js'))) {
    throw new Error('dist/main.js is missing: run `npm test` (it runs `npm run build` first)');
  }
  const info = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false });
  if (info.exitCode !== 0) {
    throw new Error(
      `the e2e tests need a Docker engine and none answers (${info.stderr.trim().split('\n').pop()}).\n` +
        'Start one as README.md says ("Set up a machine"), or run `bash .ci/run`.',
    );
  }
  const base = await execa('docker', ['image', 'inspect', 'nabla/debian:bookworm'], { reject: false });
  if (base.exitCode !== 0) {
    process.stderr.write('global setup: making nabla/debian:bookworm with `nabla-build toolchain bootstrap` (a few minutes)\n');
    await execa(path.join(root, 'bin', 'nabla-build.js'), ['--progress=plain', 'toolchain', 'bootstrap'], { stdio: 'inherit' });
  }
}
