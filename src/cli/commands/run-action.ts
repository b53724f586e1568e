/** The body of `run`, loaded only when it runs. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runImage } from '../../run/run.js';
import { nextChange } from '../../run/watch.js';
import { ConfigError, InterruptedError } from '../../util/errors.js';
import { reportError } from '../report.js';
import { engine } from '../engine.js';
import type { GlobalOptions } from '../options.js';
import { notice } from '../progress.js';
import { buildApp } from './build-action.js';

export interface RunFlags {
  publish?: string[];
  network?: string;
  config?: string;
  watch?: boolean;
  /** false with --no-cache (commander's negated option). */
  cache?: boolean;
}

export async function runApp(
  target: string,
  args: string[],
  flags: RunFlags,
  globals: GlobalOptions,
): Promise<void> {
  const isDir = fs.existsSync(target) && fs.statSync(target).isDirectory();
  if (flags.watch && !isDir) {
    throw new ConfigError(`--watch rebuilds an app folder, and ${target} is not one`, { field: '--watch', hint: 'pass the app folder: nabla-build run DIR --watch' });
  }
  const note = (text: string) => (globals.progress === 'quiet' ? undefined : notice(`nabla-build: ${text}`));
  if (!flags.watch) {
    globals.setExitCode(await buildAndRun(target, isDir, args, flags, globals, note));
    return;
  }
  // --watch: a change stops the app (SIGTERM), rebuilds and runs it again; Ctrl-C while it
  // runs goes to the app and ends the watch; Ctrl-C while waiting for a change ends it too.
  for (;;) {
    const change = new AbortController();
    let quit = false;
    const changed = nextChange(target, change.signal).then(
      (file) => {
        note(`${file} changed: restarting`);
        change.abort();
      },
      () => {},
    );
    const forwarding: GlobalOptions = {
      ...globals,
      takeSignals: (handler) => globals.takeSignals((signal) => ((quit = true), handler(signal))),
    };
    let code: number;
    try {
      code = await buildAndRun(target, true, args, flags, forwarding, note, change.signal);
    } catch (error) {
      if (globals.signal.aborted || error instanceof InterruptedError) throw error;
      reportError(error, globals.verbose);
      code = (error as { exitCode?: number }).exitCode ?? 1;
    }
    if (quit) {
      change.abort();
      globals.setExitCode(code);
      return;
    }
    if (!change.signal.aborted) note(`the app exited with ${code}; waiting for a change (Ctrl-C to stop)`);
    await Promise.race([changed, abortedBy(globals.signal)]);
    if (globals.signal.aborted) {
      change.abort();
      throw new InterruptedError();
    }
  }
}

async function buildAndRun(
  target: string,
  isDir: boolean,
  args: string[],
  flags: RunFlags,
  globals: GlobalOptions,
  note: (text: string) => void,
  stop?: AbortSignal,
): Promise<number> {
  let image = target;
  if (isDir) {
    // A name of its own, so runs side by side never share or remove each other's image.
    const name = path.basename(path.resolve(target)).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'app';
    image = `nabla-run/${name}:${crypto.randomBytes(4).toString('hex')}`;
    await buildApp(target, { tag: [image], load: true, config: flags.config, cache: flags.cache }, globals);
  }
  const docker = await engine();
  try {
    return await runImage(
      docker,
      { image, args, publish: flags.publish ?? [], network: flags.network, stop },
      { stdout: process.stdout, stderr: process.stderr, note, forwardSignals: globals.takeSignals },
    );
  } finally {
    if (isDir) await docker.removeImage(image).catch(() => {});
  }
}

function abortedBy(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}
