/**
 * Makes sure a toolchain image exists: reuses the image whose tag is the folder's content
 * hash, or builds it (parents first) from toolchains/<name>/Dockerfile with the engine.
 */
import path from 'node:path';
import type Dockerode from 'dockerode';
import { debug } from '../util/debug.js';
import { EnvironmentError, throwIfAborted } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { BASE_IMAGE, type ToolchainCatalog } from './catalog.js';
import { dockerBuild } from './docker-build.js';

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

function buildToolchainImage(
  docker: Dockerode,
  catalog: ToolchainCatalog,
  name: string,
  onLine: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const toolchain = catalog.get(name);
  log(`building ${catalog.image(name)} from ${toolchain.dir}`);
  return dockerBuild(docker, {
    tag: catalog.image(name),
    context: catalog.context(name),
    buildargs: { NABLA_FROM: catalog.parentImage(name) },
    labels: { 'dev.nabla.toolchain': name, 'dev.nabla.toolchain.hash': catalog.hash(name) },
    hostNetwork: true,
    what: `toolchain "${name}"`,
    dockerfile: path.join(toolchain.dir, 'Dockerfile'),
    onLine,
    signal,
  });
}
