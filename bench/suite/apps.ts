/**
 * The apps the bench runs, each built twice: a plain image (what a user would ship for runc,
 * and what runsc runs too) and a nabla image of the same source. Plain C and Go programs are
 * static binaries FROM scratch, built with the very compilers of the nabla toolchains (musl
 * gcc, Go); Python is Debian's python3 on the Debian base of the toolchains; Node is the
 * nabla image's own node binary, glibc and app, copied onto that base (as bench/node.sh does).
 */
import fs from 'node:fs';
import path from 'node:path';
import { docker, run } from './exec.js';
import type { AppName } from './options.js';

export interface BuildContext {
  /** The repository (examples/, templates/, bin/). */
  repo: string;
  /** A scratch folder of this app's own. */
  work: string;
  /** Toolchain images by name (c, go), built on first use. */
  toolchain(name: 'c' | 'go'): Promise<string>;
}

export interface App {
  name: AppName;
  /** What the table says it is. */
  title: string;
  /** A server loaded with wrk (port), or a program that does its work and exits. */
  kind: 'http' | 'cpu';
  port?: number;
  /** Builds both images; returns their tags. */
  build(ctx: BuildContext): Promise<{ plain: string; nabla: string }>;
}

const tag = (app: AppName, kind: 'plain' | 'nabla') => `nabla-bench/suite-${app}-${kind}`;

async function nablaBuild(ctx: BuildContext, dir: string, image: string): Promise<string> {
  await run(process.execPath, [path.join(ctx.repo, 'bin/nabla-build.js'), '-q', 'build', dir, '--load', '-t', image]);
  return image;
}

async function dockerBuild(dir: string, image: string, lines: string[], hostNetwork = false): Promise<string> {
  fs.writeFileSync(path.join(dir, 'Dockerfile'), `${lines.join('\n')}\n`);
  // The classic builder: it needs no BuildKit, and --network host reaches the apt mirror.
  await run('docker', ['build', '-q', ...(hostNetwork ? ['--network', 'host'] : []), '-t', image, dir], { env: { DOCKER_BUILDKIT: '0' } });
  return image;
}

/** A static binary compiled in a toolchain image, from SRC (read-only) into the app's work folder. */
async function compile(ctx: BuildContext, toolchain: 'c' | 'go', src: string, command: string[], env: string[] = []): Promise<string> {
  const out = path.join(ctx.work, 'plain');
  fs.mkdirSync(out, { recursive: true });
  await docker(['run', '--rm', '--network', 'none', '-v', `${src}:/src:ro`, '-v', `${out}:/out`, '-w', '/src', ...env.flatMap((e) => ['-e', e]), await ctx.toolchain(toolchain), ...command]);
  return out;
}

const c: App = {
  name: 'c',
  title: 'examples/http-c (C, musl; a thread per connection)',
  kind: 'http',
  port: 8080,
  async build(ctx) {
    const src = path.join(ctx.repo, 'examples/http-c');
    const out = await compile(ctx, 'c', src, ['musl-gcc', '-O2', '-static', '-o', '/out/http', '/src/http.c', '-lpthread']);
    return {
      plain: await dockerBuild(out, tag('c', 'plain'), ['FROM scratch', 'COPY http /http', 'EXPOSE 8080', 'ENTRYPOINT ["/http", "8080"]']),
      nabla: await nablaBuild(ctx, src, tag('c', 'nabla')),
    };
  },
};

const go: App = {
  name: 'go',
  title: 'the Go server starter, templates/go/server (net/http)',
  kind: 'http',
  port: 8080,
  async build(ctx) {
    const src = path.join(ctx.work, 'src');
    fs.cpSync(path.join(ctx.repo, 'templates/go/server'), src, { recursive: true });
    const out = await compile(ctx, 'go', src, ['go', 'build', '-trimpath', '-o', '/out/server', '.'], ['CGO_ENABLED=0', 'GOTOOLCHAIN=local', 'GOCACHE=/tmp/go-cache', 'GOFLAGS=-mod=mod']);
    return {
      plain: await dockerBuild(out, tag('go', 'plain'), ['FROM scratch', 'COPY server /server', 'EXPOSE 8080', 'ENTRYPOINT ["/server", "8080"]']),
      nabla: await nablaBuild(ctx, src, tag('go', 'nabla')),
    };
  },
};

const python: App = {
  name: 'python',
  title: 'python3 -m http.server serving a small file (CPython 3.11)',
  kind: 'http',
  port: 8000,
  async build(ctx) {
    const app = path.join(ctx.work, 'app');
    const plain = path.join(ctx.work, 'plain');
    fs.mkdirSync(app, { recursive: true });
    fs.mkdirSync(plain, { recursive: true });
    for (const dir of [app, plain]) fs.writeFileSync(path.join(dir, 'index.html'), 'hello from http.server\n');
    fs.writeFileSync(path.join(app, 'nabla.json'), `${JSON.stringify({ language: 'python', entry: 'http.server', args: ['8000', '--bind', '0.0.0.0'], ports: [8000] })}\n`);
    return {
      plain: await dockerBuild(
        plain,
        tag('python', 'plain'),
        [
          'FROM nabla/debian:bookworm',
          'RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*',
          'COPY index.html /app/',
          'WORKDIR /app',
          'EXPOSE 8000',
          'ENTRYPOINT ["python3", "-m", "http.server", "8000"]',
        ],
        true,
      ),
      nabla: await nablaBuild(ctx, app, tag('python', 'nabla')),
    };
  },
};

const node: App = {
  name: 'node',
  title: 'examples/http-node (node:http; the official node binary; fast calls and traps)',
  kind: 'http',
  port: 8080,
  async build(ctx) {
    const image = await nablaBuild(ctx, path.join(ctx.repo, 'examples/http-node'), tag('node', 'nabla'));
    // The plain image: the nabla image's own node, loader, libraries and /app on Debian's base.
    const plain = path.join(ctx.work, 'plain');
    fs.mkdirSync(plain, { recursive: true });
    const id = (await docker(['create', image])).trim();
    try {
      for (const file of ['node', 'ld-linux-x86-64.so.2', 'rootfs.tar']) await docker(['cp', '-q', `${id}:/nabla/${file}`, path.join(plain, file)]);
    } finally {
      await docker(['rm', id]);
    }
    await run('tar', ['-xf', path.join(plain, 'rootfs.tar'), '-C', plain, 'app', 'lib']);
    fs.rmSync(path.join(plain, 'rootfs.tar'));
    return {
      plain: await dockerBuild(plain, tag('node', 'plain'), [
        'FROM nabla/debian:bookworm',
        'COPY node /usr/local/bin/node',
        // Debian's /lib is a link to /usr/lib: the libraries go there, over Debian's own copies.
        'COPY ld-linux-x86-64.so.2 lib/x86_64-linux-gnu/ /usr/lib/x86_64-linux-gnu/',
        'COPY app /app',
        'WORKDIR /app',
        'EXPOSE 8080',
        'ENTRYPOINT ["node", "/app/server.js"]',
      ]),
      nabla: image,
    };
  },
};

const cpu: App = {
  name: 'cpu',
  title: 'a prime sieve below 20 million, 10 times (C, musl), timed by itself',
  kind: 'cpu',
  async build(ctx) {
    const src = path.join(ctx.work, 'src');
    fs.cpSync(path.join(ctx.repo, 'bench/suite/cpu'), src, { recursive: true });
    const out = await compile(ctx, 'c', src, ['musl-gcc', '-O2', '-static', '-o', '/out/cpu', '/src/cpu.c']);
    return {
      plain: await dockerBuild(out, tag('cpu', 'plain'), ['FROM scratch', 'COPY cpu /cpu', 'ENTRYPOINT ["/cpu"]']),
      nabla: await nablaBuild(ctx, src, tag('cpu', 'nabla')),
    };
  },
};

export const APP_TABLE: Record<AppName, App> = { c, go, python, node, cpu };
