/**
 * Makes sure a toolchain image exists: reuses the image whose tag is the folder's content
 * hash, or builds it (parents first) from toolchains/<name>/Dockerfile with the engine.
 */
import path from 'node:path';
import { imageExists, type Engine } from '../engine/engine.js';
import { debug } from '../util/debug.js';
import { EnvironmentError } from '../util/errors.js';
import { withFileLock } from '../util/file-lock.js';
import type { Progress } from '../util/progress.js';
import { BASE_IMAGE, type ToolchainCatalog } from './catalog.js';
import { dockerBuild } from './docker-build.js';

const log = debug('toolchain');

export interface EnsureOptions {
  /** Where build logs are kept. */
  logDir: string;
  /** Where the locks are that keep two nabla-build processes from building one image at once. */
  lockDir: string;
  /** Rebuild even when an image with the same hash exists. */
  force?: boolean;
  /** Build args for toolchain `name` itself (not its parents): the values its passEnv names
   * (a registry, a proxy, a proxy's CA), for Dockerfile steps that download. They do not
   * change what is built, so they are not in the tag's hash. */
  buildEnv?: Record<string, string>;
  signal?: AbortSignal;
}

/** Returns the image reference of toolchain `name`, building what is missing. */
export async function ensureToolchain(
  engine: Engine,
  catalog: ToolchainCatalog,
  name: string,
  progress: Progress,
  options: EnsureOptions,
): Promise<string> {
  const chain = catalog.lineage(name);
  // An external toolchain (toolchain.json "image") is the root of its chain: never built.
  if (!chain[0]!.image && !(await imageExists(engine, BASE_IMAGE))) {
    throw new EnvironmentError(`the base image ${BASE_IMAGE} is missing`, {
      hint: 'run `nabla-build toolchain bootstrap` once (it makes it with debootstrap, no registry needed)',
    });
  }
  for (const toolchain of chain) {
    const image = catalog.image(toolchain.name);
    const rebuild = options.force === true && toolchain.name === name;
    await progress.step(`toolchain ${toolchain.name}`, async (step) => {
      if (toolchain.image) {
        if (!(await imageExists(engine, image))) {
          throw new EnvironmentError(`toolchain "${toolchain.name}" is the image ${image}, which the Docker engine does not have`, {
            file: path.join(toolchain.dir, 'toolchain.json'),
            field: 'image',
            hint: `docker pull ${image} (or docker load it): nabla-build never builds an external toolchain`,
          });
        }
        step.note(`external ${image}`);
        return;
      }
      if (!rebuild && (await imageExists(engine, image))) {
        step.note(`cached ${image}`);
        return;
      }
      // Builds of many apps at once (CI jobs, a test suite) need the image once: one builds it.
      const lock = path.join(options.lockDir, `${image.replace(/[^\w.-]/g, '_')}.lock`);
      await withFileLock(
        lock,
        async () => {
          if (!rebuild && (await imageExists(engine, image))) {
            step.note(`built meanwhile by another nabla-build: ${image}`);
            return;
          }
          step.note(`building ${image}`);
          log(`building ${image} from ${toolchain.dir}`);
          await dockerBuild(engine, {
            tag: image,
            context: catalog.context(toolchain.name),
            buildargs: { ...(toolchain.name === name ? options.buildEnv : {}), NABLA_FROM: catalog.parentImage(toolchain.name) },
            labels: { 'dev.nabla.toolchain': toolchain.name, 'dev.nabla.toolchain.hash': catalog.hash(toolchain.name) },
            hostNetwork: true,
            what: `toolchain "${toolchain.name}"`,
            dockerfile: path.join(toolchain.dir, 'Dockerfile'),
            logDir: options.logDir,
            onLine: (line) => step.log(line),
            signal: options.signal,
          });
        },
        { onWait: (pid) => step.note(`waiting: another nabla-build (pid ${pid}) is building ${image}`), signal: options.signal },
      );
    });
  }
  return catalog.image(name);
}
