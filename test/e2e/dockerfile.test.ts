/**
 * nabla-build inside a multi-stage Dockerfile (`--executor local` in a builder image), as
 * users run it in CI: the image it makes runs, and the digest matches a host build.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir } from '../helpers/cli.js';

const example = path.join(repoRoot, 'examples', 'hello-c');
const work = tempDir('nabla-e2e-dockerfile-');
afterAll(async () => {
  fs.rmSync(work, { recursive: true, force: true });
  await execa('docker', ['rmi', '-f', 'nabla-e2e/hello-c-dockerfile'], { reject: false });
});

describe('multi-stage Dockerfile', () => {
  it('toolchain build c --with-cli makes the builder image', async () => {
    const result = await nabla(['toolchain', 'build', 'c', '--with-cli']);
    expect(result.stderr).not.toMatch(/error/);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^nabla\/toolchain-c:[0-9a-f]{16}\nnabla\/builder-c:latest$/);
  });

  it('examples/hello-c/Dockerfile builds with docker build and runs', async () => {
    // The classic builder: Debian's Docker 20.10 has no buildx plugin here.
    const build = await execa('docker', ['build', '-t', 'nabla-e2e/hello-c-dockerfile', example], {
      env: { DOCKER_BUILDKIT: '0' },
      reject: false,
      all: true,
    });
    expect(build.all).toMatch(/nabla-build build \/src --executor local/);
    expect(build.exitCode, build.all).toBe(0);
    const run = await execa('docker', ['run', '--rm', '--network', 'none', 'nabla-e2e/hello-c-dockerfile']);
    expect(run.stdout).toBe('Hello from a nabla-build image!');
  });

  it('--executor local in the builder image gives the same digest as the Docker executor on the host', async () => {
    // The same files with the same provenance: a copy outside the repository, as a Dockerfile
    // build sees the app (no .git, so no git labels) on both sides.
    const app = path.join(work, 'hello-c');
    fs.cpSync(example, app, { recursive: true });
    const host = await nabla(['build', app, '-q']);
    expect(host.exitCode).toBe(0);
    const inside = await execa(
      'docker',
      ['run', '--rm', '--network', 'none', '-v', `${app}:/src:ro`, '-v', `${work}:/out`, 'nabla/builder-c:latest',
        'nabla-build', 'build', '/src', '-q', '-o', 'type=oci,dest=/out/image.tar'],
      { reject: false, all: true },
    );
    expect(inside.exitCode, inside.all).toBe(0);
    expect(inside.stdout).toBe(host.stdout);
    expect(fs.existsSync(path.join(work, 'image.tar'))).toBe(true);
  });
});
