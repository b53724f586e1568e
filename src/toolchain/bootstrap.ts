/**
 * Makes the Debian base image. Without a registry (the default): debootstrap a minimal
 * bookworm into a temp folder from the host's own apt mirror, then import it as
 * BASE_IMAGE. With one (`--from debian:bookworm`): pull that image and tag it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { imageExists, type Engine } from '../engine/engine.js';
import { ConfigError, EnvironmentError, errorMessage, ToolchainError, throwIfAborted } from '../util/errors.js';
import { LogFile } from '../util/log-file.js';
import type { Progress } from '../util/progress.js';
import { BASE_IMAGE } from './catalog.js';

export const SUITE = 'bookworm';

export interface BootstrapOptions {
  /** Where the debootstrap log is kept. */
  logDir: string;
  /** Debian mirror URL; default: the host's apt sources. */
  mirror?: string;
  /** An image to pull and use instead of running debootstrap, e.g. debian:bookworm. */
  from?: string;
  force?: boolean;
  signal?: AbortSignal;
  aptSourcesDir?: string;
}

export async function bootstrapBaseImage(engine: Engine, progress: Progress, options: BootstrapOptions): Promise<string> {
  if (!options.force && (await imageExists(engine, BASE_IMAGE))) {
    progress.info(`${BASE_IMAGE} exists already (use --force to make it again)`);
    return BASE_IMAGE;
  }
  if (options.from && options.mirror) {
    throw new ConfigError('--from and --mirror exclude each other', { field: '--from', hint: 'pull an image (--from) or debootstrap from a mirror (--mirror), not both' });
  }
  if (options.from) return tagPulledImage(engine, options.from, progress);
  const mirror = options.mirror ?? findDebianMirror(options.aptSourcesDir ?? '/etc/apt');
  if (!mirror) {
    throw new EnvironmentError(`no Debian ${SUITE} mirror found in the host's apt sources`, {
      file: '/etc/apt/sources.list.d',
      field: '--mirror',
      hint: 'pass --mirror URL (a Debian mirror that serves bookworm)',
    });
  }
  if (!/^(https?|file):\/\/\S+$/.test(mirror)) {
    throw new ConfigError(`--mirror "${mirror}" is not a URL`, { field: '--mirror', hint: 'e.g. --mirror http://HOST/debian' });
  }
  if (!(await hasTool('debootstrap'))) {
    throw new EnvironmentError('debootstrap is not installed', { hint: 'install it with `apt-get install debootstrap`' });
  }
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError('debootstrap needs root', { hint: 'run `sudo nabla-build toolchain bootstrap`' });
  }

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-debootstrap-'));
  const log = new LogFile(options.logDir, 'bootstrap');
  try {
    await progress.step(`debootstrap ${SUITE} (minbase)`, async (step) => {
      const child = execa('debootstrap', ['--variant=minbase', SUITE, root, mirror], {
        all: true,
        reject: false,
        cancelSignal: options.signal,
      });
      for await (const line of child.iterable({ from: 'all' })) {
        log.write(line);
        step.log(line);
      }
      const result = await child;
      throwIfAborted(options.signal);
      if (result.failed) {
        throw new ToolchainError(`debootstrap failed (exit ${result.exitCode})`, {
          hint: 'check that the mirror serves bookworm; pass another with --mirror',
          details: log.summary(),
        });
      }
    });
    await progress.step(`import ${BASE_IMAGE}`, async (step) => {
      const tar = execa('tar', ['--numeric-owner', '-C', root, '-c', '.'], { buffer: false, cancelSignal: options.signal });
      const [repo, tag] = BASE_IMAGE.split(':') as [string, string];
      try {
        await engine.importImage(tar.stdout, repo, tag, (line) => step.log(line));
      } catch (error) {
        tar.kill(); // an engine that stopped reading would leave tar blocked on its pipe
        await tar.catch(() => {});
        throw new ToolchainError(`docker import failed: ${errorMessage(error)}`, { cause: error });
      }
      await tar;
      step.note(BASE_IMAGE);
    });
    return BASE_IMAGE;
  } finally {
    log.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

async function tagPulledImage(engine: Engine, from: string, progress: Progress): Promise<string> {
  await progress.step(`pull ${from}`, async (step) => {
    if (await imageExists(engine, from)) {
      step.note('present');
    } else {
      try {
        await engine.pullImage(from, (line) => step.log(line));
      } catch (error) {
        throw new EnvironmentError(`cannot pull ${from}: ${errorMessage(error)}`, {
          field: '--from',
          hint: 'check the name and that the registry is reachable, or leave out --from to use debootstrap',
          cause: error,
        });
      }
    }
    const [repo, tag] = BASE_IMAGE.split(':') as [string, string];
    await engine.tagImage(from, repo, tag);
    step.note(`tagged ${BASE_IMAGE}`);
  });
  return BASE_IMAGE;
}

/** The first apt source (one-line or deb822) that serves Debian's `bookworm` suite. */
export function findDebianMirror(aptDir: string): string | undefined {
  const files = [path.join(aptDir, 'sources.list')];
  const listDir = path.join(aptDir, 'sources.list.d');
  if (fs.existsSync(listDir)) files.push(...fs.readdirSync(listDir).sort().map((f) => path.join(listDir, f)));
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    const found = file.endsWith('.sources') ? fromDeb822(text) : file.endsWith('.list') ? fromOneLine(text) : undefined;
    if (found) return found.replace(/\/+$/, '');
  }
  return undefined;
}

function fromOneLine(text: string): string | undefined {
  for (const raw of text.split('\n')) {
    const words = raw.replace(/#.*/, '').replace(/\[[^\]]*\]/, '').trim().split(/\s+/);
    if (words[0] === 'deb' && words[2] === SUITE) return words[1];
  }
  return undefined;
}

function fromDeb822(text: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (match) fields.set(match[1]!.toLowerCase(), match[2]!);
    }
    const types = fields.get('types')?.split(/\s+/) ?? [];
    const suites = fields.get('suites')?.split(/\s+/) ?? [];
    if (fields.get('enabled') === 'no' || !types.includes('deb') || !suites.includes(SUITE)) continue;
    return fields.get('uris')?.split(/\s+/)[0];
  }
  return undefined;
}

/** Whether a host tool is installed (sbin included: debootstrap lives there). */
export async function hasTool(name: string): Promise<boolean> {
  // The shell extends its own PATH, so nabla-build reads no environment for it.
  const found = await execa('sh', ['-c', 'PATH="$PATH:/usr/sbin:/sbin" command -v "$1"', 'sh', name], { reject: false });
  return found.exitCode === 0;
}
