/** The harness's Docker side: containers with a time limit, images built once and reused. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { ContainerRun } from './results.js';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const cli = path.join(repoRoot, 'bin', 'nabla-build.js');

/** Containers this process started and has not seen end: killed on Ctrl-C. */
const running = new Set<string>();
let serial = 0;

export async function killRunning(): Promise<void> {
  await Promise.all([...running].map((name) => execa('docker', ['kill', name], { reject: false })));
}

/**
 * `docker run --rm` with a time limit: past it the container is killed, and the run says
 * so (timedOut) with what it printed until then.
 */
export async function runContainer(args: string[], timeoutSeconds: number): Promise<ContainerRun> {
  const name = `nabla-compat-${process.pid}-${++serial}`;
  running.add(name);
  const started = Date.now();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void execa('docker', ['kill', name], { reject: false });
  }, timeoutSeconds * 1000);
  try {
    const result = await execa('docker', ['run', '--rm', '--name', name, ...args], {
      reject: false,
      all: true,
      stdin: 'ignore',
      maxBuffer: 512 * 1024 * 1024,
    });
    return { exitCode: result.exitCode ?? -1, output: String(result.all ?? ''), timedOut, seconds: (Date.now() - started) / 1000 };
  } finally {
    clearTimeout(timer);
    running.delete(name);
  }
}

export async function imageExists(image: string): Promise<boolean> {
  return (await execa('docker', ['image', 'inspect', image], { reject: false })).exitCode === 0;
}

export async function imageId(image: string): Promise<string> {
  const result = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', image], { reject: false });
  if (result.exitCode !== 0) throw new Error(`no image ${image}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

export const shortHash = (...parts: string[]) => crypto.createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 12);

/** The image tag of a toolchain (built first if it is missing), from `nabla-build toolchain`. */
export async function toolchainImage(name: string): Promise<string> {
  const build = await execa(cli, ['--progress=plain', 'toolchain', 'build', name], { reject: false, stdin: 'ignore' });
  if (build.exitCode !== 0) throw new Error(`nabla-build toolchain build ${name} failed:\n${build.stderr}`);
  const list = await execa(cli, ['toolchain', 'ls']);
  const row = list.stdout.split('\n').find((line) => line.split(/\s+/)[0] === name);
  const image = row?.split(/\s+/)[2];
  if (!image) throw new Error(`toolchain ${name} not in \`nabla-build toolchain ls\`:\n${list.stdout}`);
  return image;
}

/** Builds an app folder into a nabla image with the real CLI and loads it; the log goes to logFile. */
export async function buildNablaImage(appDir: string, tag: string, logFile: string): Promise<void> {
  const build = await execa(cli, ['--progress=plain', 'build', appDir, '--load', '-t', tag], { reject: false, all: true, stdin: 'ignore' });
  fs.writeFileSync(logFile, String(build.all ?? ''));
  if (build.exitCode !== 0) throw new Error(`nabla-build build ${appDir} failed (exit ${build.exitCode}); log: ${logFile}\n${String(build.all).split('\n').slice(-15).join('\n')}`);
}

/** `docker build` of a Dockerfile in test/compat (host network, for apt) unless the tag exists. */
export async function buildHelperImage(dockerfile: string, tag: string, buildArgs: Record<string, string>, logFile: string): Promise<void> {
  if (await imageExists(tag)) return;
  const args = ['build', '--network', 'host', '-t', tag, '-f', dockerfile];
  for (const [k, v] of Object.entries(buildArgs)) args.push('--build-arg', `${k}=${v}`);
  const build = await execa('docker', [...args, path.dirname(dockerfile)], { reject: false, all: true, stdin: 'ignore' });
  fs.writeFileSync(logFile, String(build.all ?? ''));
  if (build.exitCode !== 0) throw new Error(`docker build of ${dockerfile} failed; log: ${logFile}`);
}

/** Copies a file or folder out of an image (docker create + docker cp). */
export async function copyFromImage(image: string, from: string, to: string): Promise<void> {
  const created = await execa('docker', ['create', image, 'copy-out'], { reject: false });
  if (created.exitCode !== 0) throw new Error(`docker create ${image} failed: ${created.stderr}`);
  const id = created.stdout.trim();
  try {
    const copied = await execa('docker', ['cp', `${id}:${from}`, to], { reject: false });
    if (copied.exitCode !== 0) throw new Error(`docker cp ${image}:${from} failed: ${copied.stderr}`);
  } finally {
    await execa('docker', ['rm', id], { reject: false });
  }
}
