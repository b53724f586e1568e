/** The image laid out from a toolchain's output (run.json, nabla/, policy.txt) and the app's config. */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { composeImage } from '../../src/build/compose.js';
import { resolveBuildConfig } from '../../src/config/resolve.js';
import { CompileError } from '../../src/util/errors.js';
import { tempDir, writeFiles } from '../helpers/cli.js';
import { testToolchains } from '../helpers/toolchains.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function folder(files: Record<string, string>): string {
  const dir = tempDir();
  dirs.push(dir);
  return writeFiles(dir, files);
}

/** Composes an app (main.go + nabla.json) with what a toolchain wrote (run.json + nabla/ files). */
function compose(run: unknown, nablaJson: object = {}, nablaFiles = ['nabla-run', 'app.nabla', 'libos.nabla']) {
  const appDir = folder({ 'main.go': 'package main\n', 'nabla.json': JSON.stringify({ entry: 'app', ...nablaJson }) });
  const outDir = folder({
    'run.json': JSON.stringify(run),
    'policy.txt': 'write fd=1|2\nexit_group\n',
    ...Object.fromEntries(nablaFiles.map((file) => [`nabla/${file}`, file])),
  });
  const config = resolveBuildConfig(appDir, {}, { cwd: appDir, env: {}, toolchains: testToolchains(folder({})) });
  return composeImage({ config, outDir, appFiles: ['main.go'], toolchainImage: 'nabla/toolchain-go:x', sourceDigest: 'sha256:0', version: '0' });
}

const goRun = {
  tender: '/nabla/nabla-run',
  unikernel: '/nabla/app.nabla',
  libos: '/nabla/libos.nabla',
  env: { GODEBUG: 'asyncpreemptoff=1', GOMAXPROCS: '1' },
};

describe('composeImage', () => {
  it('without "libos" the tender runs the unikernel alone (the C contract)', async () => {
    const image = await compose({ tender: '/nabla/nabla-run', unikernel: '/nabla/app.nabla' }, { args: ['x'] }, ['nabla-run', 'app.nabla']);
    expect(image.config.entrypoint).toEqual(['/nabla/nabla-run', '--mem=256', '--disk=/nabla/rootfs.tar', '/nabla/app.nabla', 'x']);
    expect(image.config.env).toEqual([]);
  });

  it('"libos" goes to the tender as --libos= before the unikernel, and ships in /nabla/', async () => {
    const image = await compose(goRun, { args: ['--port', '8080'], memory: 512 });
    expect(image.config.entrypoint).toEqual([
      '/nabla/nabla-run',
      '--mem=512',
      '--disk=/nabla/rootfs.tar',
      '--libos=/nabla/libos.nabla',
      '/nabla/app.nabla',
      '--port',
      '8080',
    ]);
    expect(image.entries.map((e) => e.path)).toContain('/nabla/libos.nabla');
  });

  it('"interp", "execHeap" and "args" (Node): --interp= and --x-exec-heap before the unikernel, args before the app\'s', async () => {
    const nodeRun = {
      tender: '/nabla/nabla-run',
      unikernel: '/nabla/app.nabla',
      libos: '/nabla/libos.nabla',
      interp: '/nabla/ld.so',
      execHeap: true,
      args: ['/app/server.js'],
    };
    const image = await compose(nodeRun, { args: ['--port', '8080'] }, ['nabla-run', 'app.nabla', 'libos.nabla', 'ld.so']);
    expect(image.config.entrypoint).toEqual([
      '/nabla/nabla-run',
      '--mem=256',
      '--disk=/nabla/rootfs.tar',
      '--libos=/nabla/libos.nabla',
      '--interp=/nabla/ld.so',
      '--x-exec-heap',
      '/nabla/app.nabla',
      '/app/server.js',
      '--port',
      '8080',
    ]);
  });

  it('an app with ports takes the container\'s network (--net-from=eth0); "network" says so either way', async () => {
    const c = { tender: '/nabla/nabla-run', unikernel: '/nabla/app.nabla' };
    const files = ['nabla-run', 'app.nabla'];
    const served = await compose(c, { ports: [8080] }, files);
    expect(served.config.entrypoint).toEqual(['/nabla/nabla-run', '--mem=256', '--disk=/nabla/rootfs.tar', '--net-from=eth0', '/nabla/app.nabla']);
    expect(served.config.exposedPorts).toEqual(['8080/tcp']);
    const client = await compose(c, { network: 'container' }, files);
    expect(client.config.entrypoint).toContain('--net-from=eth0');
    const quiet = await compose(c, { ports: [8080], network: 'none' }, files);
    expect(quiet.config.entrypoint).not.toContain('--net-from=eth0');
  });

  it('run.json "env" is in the image, and nabla.json env wins on a conflict', async () => {
    const image = await compose(goRun, { env: { GOMAXPROCS: '4', MODE: 'prod' } });
    expect(image.config.env).toEqual(['GODEBUG=asyncpreemptoff=1', 'GOMAXPROCS=4', 'MODE=prod']);
  });

  it.each([
    [{ ...goRun, libos: '/nabla/missing.nabla' }, 'run.json "libos" must name a file the toolchain wrote under /nabla/'],
    [{ ...goRun, libos: '/opt/nabla/lib/libos.nabla' }, 'run.json "libos" must name a file'],
    [{ ...goRun, libos: '/nabla/../nabla/libos.nabla' }, 'run.json "libos" must name a file'],
    [{ ...goRun, libos: 7 }, 'run.json "libos" must name a file'],
    [{ ...goRun, env: ['GODEBUG=x'] }, 'run.json "env" must be an object'],
    [{ ...goRun, env: { GODEBUG: 1 } }, 'run.json "env" must be an object'],
    [{ ...goRun, env: { 'BAD NAME': 'x' } }, 'run.json "env" must be an object'],
    [{ ...goRun, interp: '/lib64/ld-linux-x86-64.so.2' }, 'run.json "interp" must name a file the toolchain wrote under /nabla/'],
    [{ ...goRun, execHeap: 'yes' }, 'run.json "execHeap" must be true or false'],
    [{ ...goRun, args: '/app/index.js' }, 'run.json "args" must be an array of strings'],
    [{ ...goRun, args: [1] }, 'run.json "args" must be an array of strings'],
  ])('a broken run.json %j is a CompileError naming the field', async (run, message) => {
    const error = await compose(run).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompileError);
    expect((error as CompileError).message).toContain(message);
    expect((error as CompileError).hint).toMatch(/"libos", "interp", "execHeap", "args" and "env"/);
  });
});
