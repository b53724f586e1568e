/**
 * A developer's day from an empty folder, for C, Go, Node and Python: `nabla-build init` writes
 * the app, `nabla-build run` builds and runs it (a server on a network of its own here,
 * since this engine has no default bridge, reached at the URL it prints; Ctrl-C ends it
 * with the app's exit code and nothing is left behind); the Dockerfile it wrote builds with
 * `docker build` into an image with the same entrypoint and env, which runs too; and
 * `nabla-build k8s` of it passes the Kubernetes schemas.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { cliPath, nabla, tempDir } from '../helpers/cli.js';
import { docker, httpGet } from '../helpers/docker.js';

const work = tempDir('nabla-e2e-init-');
const LANGUAGES = ['c', 'go', 'node', 'python'] as const;
/** The server's exit code after Ctrl-C: C and Go take SIGINT's default action (128 + 2);
 * the Node server's handler closes it and exits 0; the Python server catches KeyboardInterrupt. */
const EXIT_AFTER_CTRL_C: Record<(typeof LANGUAGES)[number], number> = { c: 130, go: 130, node: 0, python: 0 };
const dockerfileImage = (language: string, kind: string) => `nabla-e2e/init-${language}-${kind}:dockerfile`;
const hostImage = (language: string, kind: string) => `nabla-e2e/init-${language}-${kind}:host`;
/** What runs made and must have removed: containers and networks carry this label. */
const leftovers = async () => {
  const containers = await docker('ps', '-aq', '--filter', 'label=dev.nabla.run');
  const networks = await docker('network', 'ls', '-q', '--filter', 'label=dev.nabla.run');
  const images = await docker('images', '-q', 'nabla-run/*');
  return `${containers.stdout}${networks.stdout}${images.stdout}`.trim();
};

beforeAll(async () => {
  for (const language of LANGUAGES) {
    const builder = await nabla(['toolchain', 'build', language, '--with-cli']);
    expect(builder.exitCode, builder.stderr).toBe(0);
  }
}, 1_800_000);

afterAll(async () => {
  fs.rmSync(work, { recursive: true, force: true });
  const names = LANGUAGES.flatMap((l) => ['hello', 'server'].flatMap((k) => [dockerfileImage(l, k), hostImage(l, k)]));
  await docker('rmi', '-f', ...names);
});

/** Runs `nabla-build run ARGS` in the background until its stderr says where it serves. */
async function startServer(args: string[]) {
  const child = execa(cliPath, ['--progress=plain', 'run', ...args], { reject: false, stdin: 'ignore' });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed in 300 s:\n${stderr}`)), 300_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const found = /serving at (http:\/\/\S+)/.exec(stderr);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    });
    void child.then(() => reject(new Error(`run ended before serving:\n${stderr}`)));
  });
  return { child, url, stderr: () => stderr };
}

async function getWhenUp(url: string): Promise<{ status: number; body: string }> {
  for (let i = 0; ; i++) {
    try {
      return await httpGet(url);
    } catch (error) {
      if (i > 100) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe.each(LANGUAGES)('%s from an empty folder', (language) => {
  it('init, then run: hello and its arguments, exit 0, nothing left behind', async () => {
    const init = await nabla(['init', 'hello', '--lang', language], { cwd: work });
    expect(init.exitCode, init.stderr).toBe(0);
    expect(init.stdout.split('\n')).toContain('hello/Dockerfile');
    expect(init.stderr).toContain(`nabla-build run hello`);
    const run = await nabla(['run', 'hello', '--', 'one'], { cwd: work });
    expect(run.stdout, run.stderr).toBe('Hello from a nabla unikernel!\narg 1: one');
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toMatch(/docker run --rm --network none --cap-drop ALL --user 65534:65534 --read-only .* --memory 272m nabla-run\/hello:[0-9a-f]{8} one/);
    expect(await leftovers()).toBe('');
    fs.renameSync(path.join(work, 'hello'), path.join(work, `hello-${language}`));
  });

  it('init --server, then run: it serves at the URL it prints; Ctrl-C ends it with the app\'s code; nothing left behind', async () => {
    const dir = `server-${language}`;
    const init = await nabla(['init', dir, '--lang', language, '--server'], { cwd: work });
    expect(init.exitCode, init.stderr).toBe(0);
    const server = await startServer([path.join(work, dir)]);
    expect(server.stderr()).toMatch(/--cap-add NET_ADMIN --device \/dev\/net\/tun/);
    expect(await getWhenUp(server.url)).toEqual({ status: 200, body: 'Hello from a nabla unikernel!\n' });
    server.child.kill('SIGINT');
    const result = await server.child;
    expect(result.exitCode, server.stderr()).toBe(EXIT_AFTER_CTRL_C[language]);
    expect(String(result.stdout)).toContain('listening on 8080');
    expect(await leftovers()).toBe('');
  });

  it.each(['hello', 'server'])('the %s Dockerfile builds with docker build into the image nabla-build makes, and runs', async (kind) => {
    const dir = path.join(work, kind === 'hello' ? `hello-${language}` : `server-${language}`);
    const build = await execa('docker', ['build', '-t', dockerfileImage(language, kind), dir], { env: { DOCKER_BUILDKIT: '0' }, reject: false, all: true });
    expect(build.exitCode, build.all).toBe(0);
    const host = await nabla(['build', dir, '--load', '-t', hostImage(language, kind)]);
    expect(host.exitCode, host.stderr).toBe(0);
    const config = async (image: string) => JSON.parse((await docker('image', 'inspect', image, '--format', '{{json .Config}}')).stdout);
    const [fromDockerfile, fromHost] = [await config(dockerfileImage(language, kind)), await config(hostImage(language, kind))];
    expect(fromDockerfile.Entrypoint).toEqual(fromHost.Entrypoint);
    expect([...(fromDockerfile.Env ?? [])].sort()).toEqual(expect.arrayContaining(fromHost.Env ?? []));
    expect(fromDockerfile.ExposedPorts ?? null).toEqual(fromHost.ExposedPorts ?? null);
    // The cluster's view of the same image: manifests that pass the Kubernetes schemas.
    const k8s = await nabla(['k8s', hostImage(language, kind), '--replicas', '2']);
    expect(k8s.exitCode, k8s.stderr).toBe(0);
    const [deployment, service] = parseAllDocuments(k8s.stdout).map((doc) => doc.toJS() as Record<string, any>);
    new Deployment(deployment as never).validate();
    expect(deployment!.spec.template.spec.containers[0].securityContext.capabilities).toEqual(
      kind === 'server' ? { drop: ['ALL'], add: ['NET_ADMIN'] } : { drop: ['ALL'] },
    );
    if (kind === 'server') new Service(service as never).validate();
    else expect(service).toBeUndefined();
    if (kind === 'hello') {
      const run = await nabla(['run', dockerfileImage(language, kind)]);
      expect(run.stdout, run.stderr).toBe('Hello from a nabla unikernel!');
    } else {
      const server = await startServer([dockerfileImage(language, kind)]);
      expect(await getWhenUp(server.url)).toEqual({ status: 200, body: 'Hello from a nabla unikernel!\n' });
      server.child.kill('SIGTERM');
      await server.child;
    }
    expect(await leftovers()).toBe('');
  });
});

describe('run --watch', () => {
  it('builds and runs again after a change; Ctrl-C ends it; nothing left behind', async () => {
    const init = await nabla(['init', 'watched', '--lang', 'c'], { cwd: work });
    expect(init.exitCode, init.stderr).toBe(0);
    const child = execa(cliPath, ['--progress=plain', 'run', path.join(work, 'watched'), '--watch'], { reject: false, stdin: 'ignore' });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const waitFor = async (text: string, times = 1) => {
      for (let i = 0; i < 3000 && stderr.split(text).length - 1 < times; i++) await new Promise((r) => setTimeout(r, 100));
      expect(stderr.split(text).length - 1, stderr).toBeGreaterThanOrEqual(times);
    };
    await waitFor('waiting for a change');
    const source = path.join(work, 'watched', 'hello.c');
    fs.writeFileSync(source, fs.readFileSync(source, 'utf8').replace('Hello from', 'Changed in'));
    await waitFor('hello.c changed');
    await waitFor('waiting for a change', 2);
    child.kill('SIGINT');
    const result = await child;
    expect(String(result.stdout)).toBe('Hello from a nabla unikernel!\nChanged in a nabla unikernel!');
    expect(result.exitCode).toBe(130);
    expect(await leftovers()).toBe('');
  });
});

describe('bad input', () => {
  it('init --lang of a language nabla-build does not build names the ones it does (as --help does), exit 2, nothing written', async () => {
    const result = await nabla(['init', 'r', '--lang', 'rust'], { cwd: work });
    expect(result.stderr).toMatch(/'rust' is invalid\. Allowed choices are c, go, node, python\./);
    expect(result.exitCode).toBe(2);
    expect(fs.existsSync(path.join(work, 'r'))).toBe(false);
    const help = await nabla(['init', '--help']);
    expect(help.stdout).toContain('(choices: "c", "go", "node", "python")');
    expect(help.stdout).toMatch(/\$ nabla-build init \S+ --lang node/);
  });

  it('run of an image that is not a nabla image, and of one that does not exist: one line, exit 2', async () => {
    const missing = await nabla(['run', 'nabla-e2e/no-such-image:1']);
    expect(missing.stderr).toMatch(/Docker has no image "nabla-e2e\/no-such-image:1"/);
    expect(missing.exitCode).toBe(2);
    const plain = await nabla(['run', 'nabla/toolchain-base:' + (await docker('images', '--format', '{{.Tag}}', 'nabla/toolchain-base')).stdout.split('\n')[0]]);
    expect(plain.stderr).toMatch(/is not a nabla image/);
    expect(plain.exitCode).toBe(2);
  });
});
