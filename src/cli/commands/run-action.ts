/** The body of `run`, loaded only when it runs. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runImage } from '../../run/run.js';
import { engine } from '../engine.js';
import type { GlobalOptions } from '../options.js';
import { notice } from '../progress.js';
import { buildApp } from './build-action.js';

export async function runApp(
  target: string,
  args: string[],
  flags: { publish?: string[]; network?: string; config?: string },
  globals: GlobalOptions,
): Promise<void> {
  const isDir = fs.existsSync(target) && fs.statSync(target).isDirectory();
  let image = target;
  if (isDir) {
    // A name of its own, so runs side by side never share or remove each other's image.
    const name = path.basename(path.resolve(target)).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'app';
    image = `nabla-run/${name}:${crypto.randomBytes(4).toString('hex')}`;
    await buildApp(target, { tag: [image], load: true, config: flags.config }, globals);
  }
  const docker = await engine();
  try {
    const code = await runImage(
      docker,
      { image, args, publish: flags.publish ?? [], network: flags.network },
      {
        stdout: process.stdout,
        stderr: process.stderr,
        note: (text) => (globals.progress === 'quiet' ? undefined : notice(`nabla-build: ${text}`)),
        forwardSignals: globals.takeSignals,
      },
    );
    globals.setExitCode(code);
  } finally {
    if (isDir) await docker.removeImage(image).catch(() => {});
  }
}
