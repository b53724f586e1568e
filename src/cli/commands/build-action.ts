/** The body of `build`, loaded only when it runs. */
import { build, type BuildResult } from '../../build/build.js';
import { resolveBuildConfig, type BuildConfig, type BuildFlags } from '../../config/resolve.js';
import path from 'node:path';
import { nextChange } from '../../run/watch.js';
import { openCatalog } from '../../toolchain/catalog.js';
import { InterruptedError } from '../../util/errors.js';
import type { GlobalOptions } from '../options.js';
import { pipelineDeps } from '../pipeline-deps.js';
import { createProgress, notice } from '../progress.js';
import { reportError } from '../report.js';

export async function runBuild(dir: string, flags: BuildFlags & { json?: boolean; watch?: boolean }, globals: GlobalOptions): Promise<void> {
  if (!flags.watch) return buildOnce(dir, flags, globals);
  // --watch: build, then again after each change; a failed build is reported, not the end.
  for (;;) {
    try {
      await buildOnce(dir, flags, globals);
    } catch (error) {
      if (globals.signal.aborted || error instanceof InterruptedError) throw error;
      reportError(error, globals.verbose);
    }
    if (globals.progress !== 'quiet') notice('nabla-build: watching for changes (Ctrl-C to stop)');
    const file = await nextChange(path.resolve(dir), globals.signal).catch(() => {
      throw new InterruptedError();
    });
    if (globals.progress !== 'quiet') notice(`nabla-build: ${file} changed: building again`);
  }
}

async function buildOnce(dir: string, flags: BuildFlags & { json?: boolean }, globals: GlobalOptions): Promise<void> {
  const { config, result } = await buildApp(dir, flags, globals);
  if (flags.json) {
    const { digest, imageId, published } = result;
    process.stdout.write(JSON.stringify({ digest, imageId, published, language: config.language, entry: config.entry }) + '\n');
  } else {
    process.stdout.write(`${result.digest}\n`);
  }
}

/** One build with the CLI's flags and environment, its progress on stderr; `run` builds with it too. */
export async function buildApp(dir: string, flags: BuildFlags, globals: GlobalOptions): Promise<{ config: BuildConfig; result: BuildResult }> {
  const catalog = openCatalog(globals.toolchainsDir);
  const config = resolveBuildConfig(dir, flags, { cwd: process.cwd(), env: process.env, toolchains: catalog });
  const progress = createProgress(globals.progress);
  try {
    if (config.outputs.length === 0) {
      progress.info('note: no output requested, so the image is only built; add --load, --push or --output to keep it');
    }
    const result = await build(config, pipelineDeps(globals, progress, catalog));
    return { config, result };
  } finally {
    progress.close();
  }
}
