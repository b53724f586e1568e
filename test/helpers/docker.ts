/** The Docker side of the e2e tests: images built with the CLI, containers, and HTTP to them. */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execa, type Options } from 'execa';
import { expect } from 'vitest';
import { nabla, repoRoot } from './cli.js';

export const docker = (...args: string[]) => execa('docker', args, { reject: false });

/** Runs an image with no network, as most tests do. */
export const runImage = (image: string, ...args: string[]) => docker('run', '--rm', '--network', 'none', image, ...args);

/** Builds apps with `--load`, and removes every image it loaded when asked. */
export class LoadedImages {
  private readonly names: string[] = [];

  /** Builds and loads an app (options: e.g. the CLI's env); returns its output, both streams. */
  async build(appDir: string, name: string, options: Options = {}): Promise<string> {
    this.names.push(name);
    const build = await nabla(['build', appDir, '--load', '-t', name], options);
    expect(build.exitCode, build.stderr).toBe(0);
    return `${build.stdout}\n${build.stderr}`;
  }

  /** An image a test loaded another way, removed with the others. */
  add(name: string): void {
    this.names.push(name);
  }

  async removeAll(): Promise<void> {
    if (this.names.length > 0) await docker('rmi', '-f', ...this.names.splice(0));
  }
}

/**
 * Builds examples/<example> from two folders, one with `file` given an old mtime, into OCI
 * tars: they must be byte-identical. Returns the first copy's folder and its build output.
 */
export async function expectSameBytesFromTwoFolders(example: string, file: string, work: string): Promise<{ dir: string; stdout: string }> {
  const a = path.join(work, 'a', example);
  const b = path.join(work, 'b', 'elsewhere', example);
  fs.cpSync(path.join(repoRoot, 'examples', example), a, { recursive: true });
  fs.cpSync(path.join(repoRoot, 'examples', example), b, { recursive: true });
  fs.utimesSync(path.join(b, file), new Date(), new Date(2001, 1, 1)); // mtimes must not matter
  const first = await nabla(['build', a, '-o', `type=oci,dest=${path.join(work, 'a.tar')}`]);
  const second = await nabla(['build', b, '-o', `type=oci,dest=${path.join(work, 'b.tar')}`]);
  expect(first.exitCode, first.stderr).toBe(0);
  expect(second.exitCode, second.stderr).toBe(0);
  expect(first.stdout).toBe(second.stdout);
  expect(fs.readFileSync(path.join(work, 'a.tar')).equals(fs.readFileSync(path.join(work, 'b.tar')))).toBe(true);
  return { dir: a, stdout: first.stdout };
}

/**
 * Waits until the container's logs hold `text`; returns them, or throws with what they
 * held. `cli`: the engine's command line (docker, or podman).
 */
export async function waitForLog(container: string, text: string, ms = 20_000, cli = 'docker'): Promise<string> {
  const until = Date.now() + ms;
  let logs = '';
  while (Date.now() < until) {
    const result = await execa(cli, ['logs', container], { reject: false });
    logs = result.stdout + result.stderr;
    if (logs.includes(text)) return logs;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`"${text}" not in the logs of ${container} after ${ms} ms:\n${logs}`);
}

/** GET url (10 s timeout): the status and the body as text. */
export function httpGet(url: string, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/**
 * GETs url `total` times over `concurrency` keep-alive connections; returns how many
 * answered 200 with `body`, and the first few errors.
 */
export async function keepAliveRequests(url: string, total: number, concurrency: number, body: string): Promise<{ ok: number; errors: string[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  let ok = 0;
  const errors: string[] = [];
  const worker = async () => {
    while (next < total) {
      next++;
      try {
        const r = await httpGet(url, agent);
        if (r.status === 200 && r.body === body) ok++;
        else errors.push(`status ${r.status}`);
      } catch (error) {
        errors.push(String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return { ok, errors: errors.slice(0, 5) };
}
