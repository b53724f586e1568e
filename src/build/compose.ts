/**
 * Lays out the image from what the toolchain produced and the app's own files:
 * /nabla/... from the toolchain's out/nabla, the app's files under /app, and the config
 * (entrypoint from out/entrypoint.json + nabla.json args, env, workdir, ports, labels).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BuildConfig } from '../config/resolve.js';
import type { ImageSpec } from '../image/types.js';
import { fileEntries, treeEntries } from '../rootfs/tree.js';
import { CompileError } from '../util/errors.js';

export const APP_DIR_IN_IMAGE = '/app';

export interface ComposeInput {
  config: BuildConfig;
  outDir: string;
  appFiles: string[];
  toolchainImage: string;
  sourceDigest: string;
  version: string;
}

export function composeImage({ config, outDir, appFiles, toolchainImage, sourceDigest, version }: ComposeInput): ImageSpec {
  const entrypoint = readEntrypoint(outDir, config.toolchain);
  const nablaDir = path.join(outDir, 'nabla');
  return {
    entries: [...treeEntries(nablaDir, '/nabla'), ...fileEntries(config.appDir, appFiles, APP_DIR_IN_IMAGE)],
    config: {
      entrypoint: [...entrypoint, ...config.args],
      cmd: [],
      env: Object.entries(config.env)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, value]) => `${key}=${value}`),
      workingDir: config.workdir,
      exposedPorts: [...new Set(config.ports)].sort(),
      labels: {
        'dev.nabla.language': config.language,
        'dev.nabla.toolchain': toolchainImage,
        'dev.nabla.memory': `${config.memoryMiB}`,
        'dev.nabla.source.digest': sourceDigest,
        'dev.nabla.build.version': version,
      },
    },
    sourceDateEpoch: config.sourceDateEpoch,
  };
}

function readEntrypoint(outDir: string, toolchain: string): string[] {
  const file = path.join(outDir, 'entrypoint.json');
  const broken = (why: string) =>
    new CompileError(`toolchain "${toolchain}" broke the compile contract: ${why}`, {
      file: 'toolchains/README.md',
      hint: 'nabla-compile must write $NABLA_OUT/nabla/ and $NABLA_OUT/entrypoint.json (a JSON list of strings)',
    });
  if (!fs.existsSync(path.join(outDir, 'nabla'))) throw broken('no nabla/ folder in its output');
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw broken('entrypoint.json is missing or not JSON');
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) {
    throw broken('entrypoint.json is not a non-empty list of strings');
  }
  return value as string[];
}
