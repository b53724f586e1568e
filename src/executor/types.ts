/**
 * An executor runs a toolchain's `nabla-compile` on the app's source and returns the
 * folder it produced. The compile contract (toolchains/README.md): the source is at
 * $NABLA_SRC (a private copy), results go to $NABLA_OUT: `nabla/` (the tender and the
 * unikernel), `run.json`, `policy.txt` and optionally `rootfs/` and `rootfs-shared`.
 * A toolchain that asks for one may get $NABLA_CACHE, a folder kept between its compiles.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CompileError, ToolchainError } from '../util/errors.js';
import type { Step } from '../util/progress.js';

export interface CompileJob {
  toolchain: string;
  /** Toolchain image (docker executor). */
  image: string;
  appDir: string;
  /** Relative paths under appDir that make up the source. */
  sources: string[];
  env: Record<string, string>;
  network: 'none' | 'host';
  /** Bring back the image's /usr/share/zoneinfo too. */
  zoneinfo: boolean;
  /** The toolchain keeps a compile cache at $NABLA_CACHE when it is given one (toolchain.json "cache"). */
  cache: boolean;
}

export interface CompileResult {
  /** Host folder holding what the toolchain wrote to $NABLA_OUT. */
  outDir: string;
  /** The toolchain image's files the SBOM reads (TOOLCHAIN_FACTS, by path), those it has. */
  facts: Map<string, string>;
  /** Host folder holding the image folder named in rootfs-shared: the rootfs under `rootfs/`. */
  sharedRootfsDir?: string;
  /** Host folder holding the toolchain image's /usr/share/zoneinfo (with job.zoneinfo). */
  zoneinfoDir?: string;
  /** Removes outDir and anything else the executor left; the caller calls it once. */
  dispose(): void;
}

/**
 * Small files of the toolchain image that say what it is built from, for the SBOM: its
 * Debian packages and release (the tzdata and musl versions), and lwIP's version header.
 * A toolchain without one of them simply has fewer facts.
 */
export const TOOLCHAIN_FACTS = ['/var/lib/dpkg/status', '/usr/lib/os-release', '/opt/nabla/lwip/src/include/lwip/init.h'] as const;

/** Where a compile finds its cache folder ($NABLA_CACHE), when it has one. */
export const CACHE_DIR = '/nabla/cache';

/** Where Debian keeps its time zones, in the toolchain image as in the app's rootfs. */
export const ZONEINFO_DIR = '/usr/share/zoneinfo';

/**
 * The folder of the toolchain image that $NABLA_OUT/rootfs-shared names (one absolute path):
 * runtime files that are the same for every compile in this image, added to the rootfs
 * beneath what the toolchain wrote to rootfs/. Undefined when there is no such file.
 */
export function readSharedRootfs(job: CompileJob, outDir: string): string | undefined {
  const file = path.join(outDir, 'rootfs-shared');
  if (!fs.existsSync(file)) return undefined;
  const folder = fs.readFileSync(file, 'utf8').trim();
  if (!path.posix.isAbsolute(folder) || folder.split('/').includes('..') || folder.includes('\n') || folder === '/') {
    throw new CompileError(`toolchain "${job.toolchain}" broke the compile contract: rootfs-shared must name one folder of its image by its absolute path, not ${JSON.stringify(folder)}`, {
      file: 'toolchains/README.md',
    });
  }
  return path.posix.normalize(folder);
}

/** A toolchain image without time zones, asked for them: say both ways out. */
export function noZoneinfo(job: CompileJob, cause?: unknown): ToolchainError {
  return new ToolchainError(`toolchain image ${job.image} has no ${ZONEINFO_DIR} to copy into the app's rootfs`, {
    hint: 'install Debian\'s tzdata in the toolchain image, or set "zoneinfo": false in nabla.json to build without time zones',
    cause,
  });
}

export interface Executor {
  compile(job: CompileJob, step: Step, signal?: AbortSignal): Promise<CompileResult>;
}
