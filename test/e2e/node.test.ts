/**
 * Node apps end to end: the node toolchain packages the official Node.js binary, unchanged,
 * with glibc's loader and libraries; the image runs it with the tender beside the libOS (the
 * trap path, the loader as its interpreter) and `docker run` shows what it does: arguments
 * and exit codes, `node -e`, JSON files, timers, promises, fs/promises, zlib, crypto,
 * worker_threads, HTTP servers (node:http, and Express installed by `npm ci` from the app's
 * lockfile) on the container's network under load, `docker stop` reaching
 * process.on('SIGTERM'), and the clear refusals.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir, writeFiles } from '../helpers/cli.js';
import { LoadedImages, docker, httpGet, keepAliveRequests, runImage, waitForLog } from '../helpers/docker.js';

const work = tempDir('nabla-e2e-node-');
const images = new LoadedImages();
const NETWORK = 'nabla-e2e-node-net';
const SUBNET = '10.93.0.0/24';
const SERVER = '10.93.0.10';
const CONTAINER = 'nabla-e2e-node-http';
const EXPRESS = '10.93.0.11';
const EXPRESS_CONTAINER = 'nabla-e2e-node-express';
const NET_FLAGS = ['--cap-add', 'NET_ADMIN', '--device', '/dev/net/tun'];

beforeAll(async () => {
  await images.build(path.join(repoRoot, 'examples', 'hello-node'), 'nabla-e2e/hello-node:1');
}, 900_000);

afterAll(async () => {
  fs.rmSync(work, { recursive: true, force: true });
  await docker('rm', '-f', CONTAINER, EXPRESS_CONTAINER);
  await docker('network', 'rm', NETWORK);
  await images.removeAll();
});

const config = async (image: string) => {
  const inspect = await execa('docker', ['image', 'inspect', image, '--format', '{{json .Config}}']);
  return JSON.parse(inspect.stdout) as { Entrypoint: string[]; Labels: Record<string, string> };
};

describe('node apps', () => {
  it('examples/hello-node: docker run prints the greeting and the arguments, and exits with the code the app sets', async () => {
    const result = await runImage('nabla-e2e/hello-node:1', 'one', 'two words', '--exit=7');
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([
      'Hello from Node.js in a nabla-build image!',
      'arg 1: one',
      'arg 2: two words',
      'arg 3: --exit=7',
    ]);
    expect(result.exitCode).toBe(7);
    const plain = await runImage('nabla-e2e/hello-node:1');
    expect(plain.exitCode).toBe(0);

    const { Entrypoint, Labels } = await config('nabla-e2e/hello-node:1');
    expect(Entrypoint).toEqual([
      '/nabla/nabla-run',
      '--mem=256',
      '--disk=/nabla/rootfs.tar',
      '--libos=/nabla/libos.nabla',
      '--interp=/nabla/ld-linux-x86-64.so.2',
      '--x-exec-heap',
      '/nabla/node',
      '/app/index.js',
    ]);
    expect(Labels['dev.nabla.language']).toBe('node');
    expect(Labels['dev.nabla.toolchain']).toMatch(/^nabla\/toolchain-node:/);
  });

  it('node -e runs (the entrypoint with the script swapped for -e), on Node 24', async () => {
    const { Entrypoint } = await config('nabla-e2e/hello-node:1');
    const tender = Entrypoint.slice(0, -1); // without /app/index.js
    const script = 'console.log(process.version.split(".")[0], process.argv.length, 6 * 7); process.exit(3)';
    const result = await docker('run', '--rm', '--network', 'none', '--entrypoint', tender[0]!, 'nabla-e2e/hello-node:1', ...tender.slice(1), '-e', script);
    expect(result.stdout).toBe('v24 1 42');
    expect(result.exitCode).toBe(3);
  });

  it('JSON files, timers, promises, fs/promises, zlib, crypto, worker_threads, os.cpus() and os.networkInterfaces() give the known results', async () => {
    await images.build(path.join(repoRoot, 'test', 'fixtures', 'features-node'), 'nabla-e2e/features-node:1');
    const result = await runImage('nabla-e2e/features-node:1');
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([
      'json: nabla 28',
      'timers: tick microtask immediate timeout',
      'fs/promises: written by fs/promises, appended (true)',
      'zlib: 6000 -> small',
      'crypto: a312976c6dbb8212 05ffaebc 32 36',
      'worker_threads: 338350 2686700',
      'os: 1 cpu, model named, 1 parallel, idle true',
      'network interfaces: lo 127.0.0.1/8 internal',
    ]);
    expect(result.exitCode).toBe(0);
  });

  it('an uncaught exception prints its stack on stderr and exits 1', async () => {
    const app = writeFiles(path.join(work, 'throws'), {
      'package.json': '{"name":"throws","version":"1.0.0"}',
      'index.js': 'function deep() { throw new Error("thrown on purpose"); }\ndeep();\n',
    });
    await images.build(app, 'nabla-e2e/throws-node:1');
    const result = await runImage('nabla-e2e/throws-node:1');
    expect(result.stderr).toContain('Error: thrown on purpose');
    expect(result.stderr).toContain('at deep (/app/index.js:1');
    expect(result.exitCode).toBe(1);
  });

  it('engines.node picks Node 22; a range neither version meets fails naming the field', async () => {
    const app = writeFiles(path.join(work, 'node22'), {
      'package.json': JSON.stringify({ name: 'node22', version: '1.0.0', engines: { node: '^22' } }),
      'index.js': 'console.log(process.version.split(".")[0]);\n',
    });
    await images.build(app, 'nabla-e2e/node22:1');
    const result = await runImage('nabla-e2e/node22:1');
    expect(result.stdout).toBe('v22');
    expect(result.exitCode).toBe(0);

    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'node22', version: '1.0.0', engines: { node: '>=30' } }));
    const bad = await nabla(['build', app]);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toContain('package.json "engines.node" asks for >=30');
  });

  it('nabla.json "node": the version, node\'s options before the script (--jitless runs without the JIT); misfits fail naming the field', async () => {
    const script = 'const v8 = require("v8"); console.log(process.version.split(".")[0], process.execArgv.join(" "), ' +
      'v8.getHeapStatistics().heap_size_limit <= 100 * 1024 * 1024, [1, 2, 3].map((x) => x * x).join());\n';
    const app = writeFiles(path.join(work, 'node-options'), {
      'package.json': JSON.stringify({ name: 'node-options', version: '1.0.0' }),
      'index.js': script,
      'nabla.json': JSON.stringify({ node: { version: 22, options: ['--jitless', '--max-old-space-size=48'] } }),
    });
    await images.build(app, 'nabla-e2e/node-options:1');
    const { Entrypoint } = await config('nabla-e2e/node-options:1');
    expect(Entrypoint.slice(-3)).toEqual(['--jitless', '--max-old-space-size=48', '/app/index.js']);
    const result = await runImage('nabla-e2e/node-options:1');
    expect(result.stdout).toBe('v22 --jitless --max-old-space-size=48 true 1,4,9');
    expect(result.exitCode).toBe(0);

    const nablaJson = (node: unknown, extra: object = {}) => fs.writeFileSync(path.join(app, 'nabla.json'), JSON.stringify({ node, ...extra }));
    nablaJson({ version: 20 });
    const missing = await nabla(['build', app]);
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toContain('nabla.json "node.version" is 20; this toolchain has Node.js 24.');
    expect(missing.stderr).toContain('use 24 or 22');

    nablaJson({ version: 22 });
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'node-options', version: '1.0.0', engines: { node: '>=24' } }));
    const disagree = await nabla(['build', app]);
    expect(disagree.exitCode).not.toBe(0);
    expect(disagree.stderr).toMatch(/nabla.json "node.version" 22 \(Node.js 22\.[0-9.]+\) does not satisfy package.json "engines.node" >=24/);

    nablaJson({ options: ['jitless'] });
    const notAnOption = await nabla(['build', app]);
    expect(notAnOption.exitCode).toBe(2);
    expect(notAnOption.stderr).toContain('field "node.options.0": each must be a node option, starting with "-"');

    nablaJson({ version: 22 }, { language: 'c', entry: 'index.js' });
    const notNode = await nabla(['build', app]);
    expect(notNode.exitCode).toBe(2);
    expect(notNode.stderr).toContain('field "node" is for Node apps, and this app is c');
  });

  it('dependencies without package-lock.json fail naming the file; native addons fail naming the package', async () => {
    const noLock = writeFiles(path.join(work, 'nolock'), {
      'package.json': JSON.stringify({ name: 'nolock', version: '1.0.0', dependencies: { express: '^4' } }),
      'index.js': '',
    });
    const first = await nabla(['build', noLock]);
    expect(first.exitCode).not.toBe(0);
    expect(first.stderr).toContain('package.json lists dependencies but there is no package-lock.json');

    const addon = writeFiles(path.join(work, 'addon'), {
      'package.json': JSON.stringify({ name: 'addon', version: '1.0.0', dependencies: { fastthing: '1.0.0' } }),
      'index.js': 'require("fastthing");\n',
      'node_modules/fastthing/package.json': '{"name":"fastthing","version":"1.0.0"}',
      'node_modules/fastthing/build/Release/fast.node': '\x7fELF',
    });
    const second = await nabla(['build', addon]);
    expect(second.exitCode).not.toBe(0);
    expect(second.stderr).toContain('native addons (*.node), which cannot load in a nabla unikernel yet: fastthing');
  });
});

describe('examples/http-node on the container\'s network', () => {
  beforeAll(async () => {
    await images.build(path.join(repoRoot, 'examples', 'http-node'), 'nabla-e2e/http-node:1');
    await docker('rm', '-f', CONTAINER);
    await docker('network', 'rm', NETWORK);
    const made = await docker('network', 'create', '--subnet', SUBNET, NETWORK);
    expect(made.exitCode, made.stderr).toBe(0);
    const started = await docker('run', '-d', '--name', CONTAINER, '--network', NETWORK, '--ip', SERVER, ...NET_FLAGS, 'nabla-e2e/http-node:1');
    expect(started.exitCode, started.stderr).toBe(0);
    await waitForLog(CONTAINER, 'listening on 8080', 60_000);
  }, 900_000);

  it('answers GET / and GET /json', async () => {
    const hello = await httpGet(`http://${SERVER}:8080/`);
    expect(hello).toEqual({ status: 200, body: 'Hello from Node.js over HTTP!\n' });
    const json = await httpGet(`http://${SERVER}:8080/json`);
    expect(json.status).toBe(200);
    expect(JSON.parse(json.body)).toMatchObject({ node: expect.stringMatching(/^v24\./) });
  });

  it('serves 10,000 keep-alive requests at concurrency 32 with 0 errors', async () => {
    const result = await keepAliveRequests(`http://${SERVER}:8080/`, 10_000, 32, 'Hello from Node.js over HTTP!\n');
    expect(result.errors).toEqual([]);
    expect(result.ok).toBe(10_000);
  }, 300_000);

  it('docker stop reaches process.on("SIGTERM"): the server closes and the container exits 0', async () => {
    const stopped = await docker('stop', '-t', '20', CONTAINER);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    const logs = await docker('logs', CONTAINER);
    expect(logs.stdout).toMatch(/SIGTERM after \d+ requests: closing/);
    const state = await docker('inspect', CONTAINER, '--format', '{{.State.ExitCode}}');
    expect(state.stdout).toBe('0');
  }, 60_000);
});

describe('examples/express-node: Express from npm (npm ci --omit=dev with the lockfile)', () => {
  beforeAll(async () => {
    const output = await images.build(path.join(repoRoot, 'examples', 'express-node'), 'nabla-e2e/express-node:1');
    expect(output).toContain('npm ci --omit=dev');
    await docker('rm', '-f', EXPRESS_CONTAINER);
    const started = await docker('run', '-d', '--name', EXPRESS_CONTAINER, '--network', NETWORK, '--ip', EXPRESS, ...NET_FLAGS, 'nabla-e2e/express-node:1');
    expect(started.exitCode, started.stderr).toBe(0);
    await waitForLog(EXPRESS_CONTAINER, 'express listening on 8080', 60_000);
  }, 900_000);

  it('routes: text, JSON from the path, a JSON body echoed', async () => {
    expect(await httpGet(`http://${EXPRESS}:8080/`)).toEqual({ status: 200, body: 'Hello from Express in a nabla-build image!\n' });
    expect(await httpGet(`http://${EXPRESS}:8080/add/2/40`)).toEqual({ status: 200, body: '{"sum":42}' });
    const echo = await fetch(`http://${EXPRESS}:8080/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ unikernel: true }),
    });
    expect(await echo.json()).toEqual({ got: { unikernel: true } });
  });

  it('serves 10,000 keep-alive requests at concurrency 32 with 0 errors, and stops on SIGTERM', async () => {
    const result = await keepAliveRequests(`http://${EXPRESS}:8080/add/20/22`, 10_000, 32, '{"sum":42}');
    expect(result.errors).toEqual([]);
    expect(result.ok).toBe(10_000);
    const stopped = await docker('stop', '-t', '20', EXPRESS_CONTAINER);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect((await docker('logs', EXPRESS_CONTAINER)).stdout).toContain('SIGTERM: closing');
    expect((await docker('inspect', EXPRESS_CONTAINER, '--format', '{{.State.ExitCode}}')).stdout).toBe('0');
  }, 300_000);
});
