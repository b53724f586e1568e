/** The body of `build`, loaded only when it runs. */
import { build, type BuildResult } from '../../build/build.js';
import { resolveBuildConfig, type BuildConfig, type BuildFlags } from '../../config/resolve.js';
import { openCatalog } from '../../toolchain/catalog.js';
import { engine } from '../engine.js';
import type { GlobalOptions } from '../options.js';
import { dockerConfigFile, logDir } from '../places.js';
import { createProgress } from '../progress.js';
import { VERSION } from '../version.js';

export async function runBuild(dir: string, flags: BuildFlags & { json?: boolean }, globals: GlobalOptions): Promise<void> {
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
    const result = await build(config, {
      catalog,
      engine,
      progress,
      version: VERSION,
      dockerConfig: dockerConfigFile(),
      logDir: logDir(),
      signal: globals.signal,
    });
    return { config, result };
  } finally {
    progress.close();
  }
}
