/**
 * The compile contract (toolchains/README.md) is enough to drive a toolchain nabla-build did
 * not build: an image made here from the c toolchain's compiler, with a layout and a
 * nabla-compile of its own (the tender under /srv/ext, the program named app.nabla, the
 * run.json written by a shell script), named in a toolchain.json by "image". Its hello-c
 * runs under a plain `docker run`, with the arguments and exit code the app gives; an image
 * without nabla-compile is refused with the contract named.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir, writeFiles } from '../helpers/cli.js';
import { docker, runImage } from '../helpers/docker.js';

const EXTERNAL = 'nabla-e2e/external-c:1';
const BARE = 'nabla-e2e/external-bare:1';
const APP = 'nabla-e2e/external-hello:1';
const work = tempDir('nabla-e2e-external-');
const toolchains = path.join(work, 'toolchains');

// The external toolchain's own compile: none of the c toolchain's nabla-compile.
const COMPILE = `#!/bin/sh
set -eu
echo "external toolchain: compiling $NABLA_ENTRY"
mkdir -p "$NABLA_OUT/nabla"
nabla-cc -O2 -o "$NABLA_OUT/nabla/app.nabla" *.c
cp /srv/ext/bin/tender "$NABLA_OUT/nabla/tender"
/srv/ext/bin/tender --print-policy=any-host --disk=/dev/null >"$NABLA_OUT/policy.txt"
printf '{"tender":"/nabla/tender","unikernel":"/nabla/app.nabla"}\\n' >"$NABLA_OUT/run.json"
`;

beforeAll(async () => {
  const c = await nabla(['-q', 'toolchain', 'build', 'c']);
  expect(c.exitCode, c.stderr).toBe(0);
  const cImage = c.stdout.trim().split('\n')[0]!;
  const context = writeFiles(path.join(work, 'context'), {
    'nabla-compile': COMPILE,
    Dockerfile: `FROM ${cImage}
RUN mkdir -p /srv/ext/bin && cp /opt/nabla/bin/nabla-run /srv/ext/bin/tender && rm /usr/local/bin/nabla-compile
COPY nabla-compile /usr/local/bin/nabla-compile
RUN chmod 755 /usr/local/bin/nabla-compile
ENV NABLA_TOOLCHAIN=external
`,
  });
  const made = await docker('build', '-q', '-t', EXTERNAL, context);
  expect(made.exitCode, made.stderr).toBe(0);
  const bareContext = writeFiles(path.join(work, 'bare'), { Dockerfile: `FROM ${cImage}\nRUN rm /usr/local/bin/nabla-compile\n` });
  expect((await docker('build', '-q', '-t', BARE, bareContext)).exitCode).toBe(0);
  const manifest = (image: string) => JSON.stringify({ description: 'made elsewhere', from: null, languages: ['c'], network: 'none', image });
  writeFiles(toolchains, { 'external/toolchain.json': manifest(EXTERNAL), 'bare/toolchain.json': manifest(BARE) });
}, 900_000);

afterAll(async () => {
  await docker('rmi', '-f', APP, EXTERNAL, BARE);
  fs.rmSync(work, { recursive: true, force: true });
});

describe('a toolchain made elsewhere, driven by the compile contract alone', () => {
  it('builds hello-c with its own nabla-compile; the image runs under docker run with args and says its toolchain', async () => {
    const build = await nabla(['--toolchains-dir', toolchains, 'build', path.join(repoRoot, 'examples', 'hello-c'), '--toolchain', 'external', '--load', '-t', APP]);
    expect(build.exitCode, build.stderr).toBe(0);
    expect(build.stderr).toContain(`external ${EXTERNAL}`);
    expect(build.stderr).toContain('external toolchain: compiling');
    const run = await runImage(APP, 'one', 'two');
    expect(run.stdout).toBe('Hello from a nabla-build image!\narg 1: one\narg 2: two');
    expect(run.exitCode).toBe(0);
    const inspect = await docker('image', 'inspect', '-f', '{{json .Config.Entrypoint}} {{index .Config.Labels "dev.nabla.toolchain"}}', APP);
    expect(inspect.stdout.trim()).toMatch(/^\["\/nabla\/tender","--mem=\d+","--disk=\/nabla\/rootfs.tar","\/nabla\/app.nabla"\] /);
    expect(inspect.stdout.trim().endsWith(` ${EXTERNAL}`)).toBe(true);
  });

  it('an image without nabla-compile fails the build naming the contract, and tags nothing', async () => {
    const build = await nabla(['--toolchains-dir', toolchains, 'build', path.join(repoRoot, 'examples', 'hello-c'), '--toolchain', 'bare', '--load', '-t', 'nabla-e2e/external-never:1']);
    expect(build.exitCode).toBe(4);
    expect(build.stderr).toContain(`toolchain image ${BARE} has no nabla-compile on its PATH, so it cannot compile apps`);
    expect(build.stderr).not.toContain('internal error');
    expect((await docker('image', 'inspect', 'nabla-e2e/external-never:1')).exitCode).not.toBe(0);
  });

  it('a toolchain.json naming an image the engine lacks: one error saying how to get it', async () => {
    writeFiles(toolchains, { 'missing/toolchain.json': JSON.stringify({ description: 'x', from: null, languages: ['c'], network: 'none', image: 'nabla-e2e/not-there:1' }) });
    const build = await nabla(['--toolchains-dir', toolchains, 'build', path.join(repoRoot, 'examples', 'hello-c'), '--toolchain', 'missing', '-o', `type=oci,dest=${path.join(work, 'never')}`]);
    expect(build.exitCode).toBe(3);
    expect(build.stderr).toContain('toolchain "missing" is the image nabla-e2e/not-there:1, which the Docker engine does not have');
    expect(build.stderr).toContain('docker pull nabla-e2e/not-there:1');
    expect(fs.existsSync(path.join(work, 'never'))).toBe(false);
  });
});
