/** The bodies of the toolchain commands, loaded only when one runs. */
import { passedEnv } from '../../config/resolve.js';
import { imageExists, type Engine } from '../../engine/engine.js';
import { bootstrapBaseImage } from '../../toolchain/bootstrap.js';
import { ensureToolchain } from '../../toolchain/build.js';
import { buildBuilderImage } from '../../toolchain/builder.js';
import { openCatalog } from '../../toolchain/catalog.js';
import { engine } from '../engine.js';
import type { GlobalOptions } from '../options.js';
import { cacheDir, lockDir, logDir } from '../places.js';
import { createProgress } from '../progress.js';
import { VERSION } from '../version.js';

export async function list(globals: GlobalOptions): Promise<void> {
  const toolchains = openCatalog(globals.toolchainsDir);
  let docker: Engine | undefined;
  try {
    docker = await engine();
  } catch {
    docker = undefined; // still list what exists; the status column says why it is unknown
  }
  const rows = [['NAME', 'LANGUAGES', 'IMAGE', 'STATUS', 'DESCRIPTION']];
  for (const t of toolchains.list()) {
    const image = toolchains.image(t.name);
    const status = docker ? ((await imageExists(docker, image)) ? 'built' : 'not built') : 'unknown (no Docker)';
    rows.push([t.name, t.languages.join(',') || '-', image, status, t.description]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) process.stdout.write(row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]!) : cell)).join('  ') + '\n');
}

export async function buildOne(name: string, flags: { force?: boolean; withCli?: boolean }, globals: GlobalOptions): Promise<void> {
  const toolchains = openCatalog(globals.toolchainsDir);
  const toolchain = toolchains.get(name); // unknown names fail before Docker is asked
  const docker = await engine();
  const progress = createProgress(globals.progress);
  try {
    const buildEnv = passedEnv(toolchain.passEnv, process.env);
    const image = await ensureToolchain(docker, toolchains, name, progress, { logDir: logDir(), lockDir: lockDir(), force: flags.force, signal: globals.signal, buildEnv });
    const builder = flags.withCli
      ? await buildBuilderImage(docker, toolchains, name, VERSION, progress, { logDir: logDir(), cacheDir: cacheDir() })
      : undefined;
    progress.close();
    process.stdout.write(`${image}\n${builder ? `${builder}\n` : ''}`);
  } finally {
    progress.close();
  }
}

export async function bootstrap(flags: { mirror?: string; from?: string; force?: boolean }, globals: GlobalOptions): Promise<void> {
  const docker = await engine();
  const progress = createProgress(globals.progress);
  try {
    const image = await bootstrapBaseImage(docker, progress, { ...flags, logDir: logDir(), signal: globals.signal });
    progress.close();
    process.stdout.write(`${image}\n`);
  } finally {
    progress.close();
  }
}
