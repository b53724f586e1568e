/**
 * One build: pick the toolchain, compile the app in it, lay out the image, hand the
 * artifact to every publisher. Takes a frozen BuildConfig; never reads argv or env.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import type { OutputSpec } from '../config/output-spec.js';
import type { BuildConfig } from '../config/resolve.js';
import { DockerExecutor } from '../executor/docker.js';
import { LocalExecutor } from '../executor/local.js';
import type { Executor } from '../executor/types.js';
import { buildImage } from '../image/oci.js';
import { createPublishers } from '../image/publishers/index.js';
import type { ImageArtifact } from '../image/types.js';
import { selectFiles } from '../rootfs/tree.js';
import type { ToolchainCatalog } from '../toolchain/catalog.js';
import { ensureToolchain } from '../toolchain/build.js';
import { ConfigError, throwIfAborted } from '../util/errors.js';
import type { Progress } from '../util/progress.js';
import { composeImage } from './compose.js';

/** What goes into the toolchain container: everything but VCS data and host-built deps. */
const SOURCE_EXCLUDE = ['.git/**', '.nabla/**', 'node_modules/**', '.venv/**', '**/__pycache__/**', '**/*.o'];

export interface BuildDeps {
  catalog: ToolchainCatalog;
  docker: () => Promise<Dockerode>;
  progress: Progress;
  /** The toolchain of the image we run in ($NABLA_TOOLCHAIN), for --executor local. */
  currentToolchain?: string;
  version: string;
  /** docker config.json with `docker login` credentials for --push. */
  dockerConfig?: string;
  /** nabla-build's environment, for the variables a toolchain passes to compiles (passEnv). */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface BuildResult {
  /** The manifest digest: the image's name in any registry. */
  digest: string;
  /** Docker's image ID (the config digest). */
  imageId: string;
  /** What each output wrote: references, paths. */
  published: string[];
  image: ImageArtifact;
}

export async function build(config: BuildConfig, deps: BuildDeps): Promise<BuildResult> {
  const { catalog, progress, signal } = deps;
  const toolchain = catalog.get(config.toolchain);
  if (!toolchain.languages.includes(config.language)) {
    throw new ConfigError(`toolchain "${toolchain.name}" does not build ${config.language} apps`, {
      file: config.configFile,
      field: 'toolchain',
      hint: `remove "toolchain" to use the default for ${config.language}, or pick one of: ${catalog
        .list()
        .filter((t) => t.languages.includes(config.language))
        .map((t) => t.name)
        .join(', ') || '(none yet)'}`,
    });
  }
  const publishers = createPublishers(remoteFirst(config.outputs), config.tags, {
    docker: deps.docker,
    dockerConfig: deps.dockerConfig,
  });
  // Fail on an unwritable --output before minutes of compiling, not after.
  for (const publisher of publishers) await publisher.preflight?.();

  let executor: Executor;
  if (config.executor === 'docker') {
    const docker = await deps.docker();
    await ensureToolchain(docker, catalog, toolchain.name, progress, { signal });
    executor = new DockerExecutor(docker);
  } else {
    executor = new LocalExecutor(deps.currentToolchain);
  }

  const sources = selectFiles(config.appDir, { include: ['**'], exclude: SOURCE_EXCLUDE });
  const appFiles = selectFiles(config.appDir, config.files);
  const toolchainImage = catalog.image(toolchain.name);
  const compiled = await progress.step(`compile ${config.language} app (${config.entry})`, (step) => {
    step.note(config.executor === 'docker' ? `in ${toolchainImage}` : 'in this image');
    return executor.compile(
      {
        toolchain: toolchain.name,
        image: toolchainImage,
        appDir: config.appDir,
        sources,
        env: { ...passedEnv(toolchain.passEnv, deps.env), NABLA_ENTRY: config.entry, NABLA_LANGUAGE: config.language },
        network: toolchain.network,
      },
      step,
      signal,
    );
  });
  try {
    throwIfAborted(signal);
    const image = await progress.step('write image', async (step) => {
      const spec = await composeImage({
        config,
        outDir: compiled.outDir,
        appFiles,
        toolchainImage,
        sourceDigest: sourceDigest(config.appDir, sources),
        version: deps.version,
      });
      const artifact = await buildImage(spec);
      step.note(artifact.manifest.digest);
      return artifact;
    });
    const published: string[] = [];
    for (const publisher of publishers) {
      throwIfAborted(signal);
      published.push(
        await progress.step(publisher.description, async (step) => {
          const where = await publisher.publish(image, progress);
          step.note(where);
          return where;
        }),
      );
    }
    return { digest: image.manifest.digest, imageId: image.config.digest, published, image };
  } finally {
    compiled.dispose();
  }
}

/** The variables of `env` that a toolchain's passEnv names and that are set. */
export function passedEnv(names: string[], env: NodeJS.ProcessEnv = {}): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (env[name] ? [[name, env[name]]] : [])));
}

/**
 * Push and load run before file outputs: they are the ones likely to fail (network,
 * registry, engine), and a failed build then leaves no files behind.
 */
function remoteFirst(outputs: readonly OutputSpec[]): OutputSpec[] {
  const rank = (o: OutputSpec) => (o.type === 'push' ? 0 : o.type === 'load' ? 1 : 2);
  return [...outputs].sort((a, b) => rank(a) - rank(b));
}

/** sha256 over the sorted source files (path and bytes): which source an image came from. */
function sourceDigest(appDir: string, files: string[]): string {
  const hash = crypto.createHash('sha256');
  for (const file of files) {
    const full = path.join(appDir, file);
    const stat = fs.lstatSync(full);
    hash.update(`${file}\0`);
    hash.update(stat.isSymbolicLink() ? `-> ${fs.readlinkSync(full)}` : fs.readFileSync(full));
    hash.update('\0');
  }
  return `sha256:${hash.digest('hex')}`;
}
