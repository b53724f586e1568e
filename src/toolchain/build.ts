/**
 * Makes sure a toolchain image exists: reuses the image whose tag is the folder's content
 * hash, or builds it (parents first) from toolchains/<name>/Dockerfile with the engine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { packTar } from '../image/tar.js';
import { debug } from '../util/debug.js';
import { followJsonStream } from '../util/docker.js';
import { EnvironmentError, ToolchainError, throwIfAborted } from '../util/errors.js';
import { LogFile } from '../util/log-file.js';
import type { Progress } from '../util/progress.js';
import { BASE_IMAGE, listFiles, type ToolchainCatalog } from './catalog.js';

const log = debug('toolchain');

export interface EnsureOptions {
  /** Rebuild even when an image with the same hash exists. */
  force?: boolean;
  signal?: AbortSignal;
}

/** Returns the image reference of toolchain `name`, building what is missing. */
export async function ensureToolchain(
  docker: Dockerode,
  catalog: ToolchainCatalog,
  name: string,
  progress: Progress,
  options: EnsureOptions = {},
): Promise<string> {
  const chain = catalog.lineage(name);
  if (!(await imageExists(docker, BASE_IMAGE))) {
    throw new EnvironmentError(`the base image ${BASE_IMAGE} is missing`, {
      hint: 'run `nabla-build toolchain bootstrap` once (it makes it with debootstrap, no registry needed)',
    });
  }
  for (const toolchain of chain) {
    const image = catalog.image(toolchain.name);
    const rebuild = options.force === true && toolchain.name === name;
    await progress.step(`toolchain ${toolchain.name}`, async (step) => {
      if (!rebuild && (await imageExists(docker, image))) {
        step.note(`cached ${image}`);
        return;
      }
      throwIfAborted(options.signal);
      step.note(`building ${image}`);
      await buildToolchainImage(docker, catalog, toolchain.name, (line) => step.log(line), options.signal);
    });
  }
  return catalog.image(name);
}

export async function imageExists(docker: Dockerode, reference: string): Promise<boolean> {
  try {
    await docker.getImage(reference).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

async function buildToolchainImage(
  docker: Dockerode,
  catalog: ToolchainCatalog,
  name: string,
  onLine: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const toolchain = catalog.get(name);
  const image = catalog.image(name);
  const dockerfile = path.join(toolchain.dir, 'Dockerfile');
  const context = await packTar(
    listFiles(toolchain.dir).map((file) => {
      const full = path.join(toolchain.dir, file);
      return { type: 'file' as const, path: `/${file}`, mode: fs.statSync(full).mode & 0o777, data: fs.readFileSync(full) };
    }),
    0,
  );
  const logFile = new LogFile(`toolchain-${name}`);
  log(`building ${image} from ${toolchain.dir}, log ${logFile.path}`);
  try {
    const stream = await docker.buildImage(Readable.from([context]), {
      t: image,
      buildargs: { NABLA_FROM: catalog.parentImage(name) },
      labels: { 'dev.nabla.toolchain': name, 'dev.nabla.toolchain.hash': catalog.hash(name) },
      networkmode: 'host', // apt and npm inside Dockerfile steps
      forcerm: true,
      pull: false,
      abortSignal: signal,
    } as Dockerode.ImageBuildOptions);
    const result = await followJsonStream(stream, (line) => {
      logFile.write(line);
      onLine(line);
    });
    if (result.error) {
      throw new ToolchainError(`toolchain "${name}" failed to build: ${result.error}`, {
        file: dockerfile,
        hint: `fix ${path.relative(process.cwd(), dockerfile) || dockerfile}, then rerun (nothing was tagged)`,
        details: logFile.summary(),
      });
    }
  } catch (error) {
    throwIfAborted(signal);
    if (error instanceof ToolchainError) throw error;
    throw new ToolchainError(`toolchain "${name}" failed to build: ${(error as Error).message}`, {
      file: dockerfile,
      details: logFile.summary(),
      cause: error,
    });
  } finally {
    logFile.close();
  }
}
