/** What `build` and `convert` are given from the CLI's edge: toolchains, engine, progress and where state is kept. */
import type { BuildDeps } from '../build/build.js';
import { openCatalog, type ToolchainCatalog } from '../toolchain/catalog.js';
import type { Progress } from '../util/progress.js';
import { engine } from './engine.js';
import type { GlobalOptions } from './options.js';
import { lockDir, logDir, registryAccess, toolchainFilesDir } from './places.js';
import { VERSION } from './version.js';

/** `catalog`: the one a caller opened already (build resolves its config with it). */
export function pipelineDeps(globals: GlobalOptions, progress: Progress, catalog: ToolchainCatalog = openCatalog(globals.toolchainsDir)): BuildDeps {
  return {
    catalog,
    engine,
    progress,
    version: VERSION,
    registry: registryAccess(),
    logDir: logDir(),
    lockDir: lockDir(),
    toolchainFilesDir: toolchainFilesDir(),
    signal: globals.signal,
  };
}
