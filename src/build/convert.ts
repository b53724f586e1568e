/**
 * One conversion: an existing image, unchanged, made to run through the tender. Reads the
 * source (from a file, `docker save` from the engine, or a pull from a registry), flattens its layers into the
 * guest's file system, reports what will not work (analyze.ts), then lays out the image:
 *   /nabla/nabla-run, /nabla/libos.nabla   the tender and libOS, copied from the c toolchain
 *   /nabla/rootfs.tar                      the flattened image: the unikernel's whole file system
 *   /nabla/root/<path>                     a copy of every program on PATH the tender can run,
 *                                          and their loaders, at their paths in the image
 *                                          (`--exe-root`: the tender opens only files of the image)
 * and hands it to the same publishers as `build`. The config keeps the source's Cmd, Env,
 * WorkingDir, User and ExposedPorts; the entrypoint is the tender, then the source's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ConvertConfig, RegistrySource } from '../config/convert.js';
import { analyze, type Analysis } from '../convert/analyze.js';
import { flattenLayers, LayerError, type FlatImage } from '../convert/flatten.js';
import { ToolchainFiles } from '../executor/toolchain-files.js';
import { buildImage } from '../image/oci.js';
import { LAYER_IN_MEMORY_LIMIT, readImageLayers, type ImageSummary } from '../image/read.js';
import type { ImageArtifact, ImageSpec } from '../image/types.js';
import { tlsOptionsFor } from '../registry/access.js';
import { RegistryClient } from '../registry/client.js';
import { dockerCredentials } from '../registry/credentials.js';
import { pullImage } from '../registry/pull.js';
import { packRootfs } from '../rootfs/disk.js';
import { systemEntries, withoutGiven } from '../rootfs/system.js';
import { ensureToolchain } from '../toolchain/build.js';
import { fetchRuntime, type Runtime } from '../toolchain/runtime.js';
import { ConfigError, throwIfAborted } from '../util/errors.js';
import type { TarEntry } from '../util/tar.js';
import type { BuildDeps } from './build.js';
import { ROOTFS_IN_IMAGE } from './compose.js';
import { createPublishers, publishAll } from './publishers.js';

/** The toolchain whose tender and libOS a converted image gets (the go and node ones copy them from it). */
export const RUNTIME_TOOLCHAIN = 'c';
export const EXE_ROOT = '/nabla/root';
const TENDER = '/nabla/nabla-run';
const LIBOS = '/nabla/libos.nabla';

/** What build gets, and where the report goes: shown before anything is written. */
export interface ConvertDeps extends BuildDeps {
  report: (source: SourceImage, analysis: Analysis) => void;
}

export interface SourceImage {
  /** As given: a path or an image name. */
  name: string;
  /** The source's config digest (Docker's image ID): what the label names. */
  imageId: string;
  summary: ImageSummary;
  flat: FlatImage;
}

export interface ConvertResult {
  analysis: Analysis;
  /** Undefined with --check, or when the program cannot run. */
  image?: ImageArtifact;
  published: string[];
}

export async function convert(config: ConvertConfig, deps: ConvertDeps): Promise<ConvertResult> {
  const { progress, signal } = deps;
  const publishers = createPublishers(config.outputs, config.tags, { engine: deps.engine, registry: deps.registry, notice: (message) => progress.info(message) });
  for (const publisher of publishers) await publisher.preflight?.();

  const source = await readSource(config, deps);
  const run = runSettings(config, source.summary);
  const analysis = analyze(source.flat, run);
  deps.report(source, analysis);
  if (config.check) return { analysis, published: [] };
  if (!analysis.ok) {
    throw new ConfigError(`${source.name}: its program cannot run in a nabla unikernel (see the report above)`, {
      field: 'IMAGE',
      hint: 'convert with --entrypoint naming a program that can (the report says which), or check first with --check',
    });
  }
  throwIfAborted(signal);

  const engine = await deps.engine();
  const toolchainImage = await ensureToolchain(engine, deps.catalog, RUNTIME_TOOLCHAIN, progress, { logDir: deps.logDir, lockDir: deps.lockDir, signal });
  const runtime = await progress.step('copy the tender and libOS', async (step) => {
    step.note(`from ${toolchainImage}`);
    return fetchRuntime(engine, toolchainImage, deps.toolchainFilesDir ? new ToolchainFiles(deps.toolchainFilesDir) : undefined);
  });
  try {
    throwIfAborted(signal);
    const image = await progress.step('write image', async (step) => {
      const artifact = await buildImage(await layout(config, source, analysis, run, runtime, { toolchainImage, version: deps.version }));
      step.note(artifact.manifest.digest);
      return artifact;
    });
    const published = await publishAll(publishers, image, progress, signal);
    return { analysis, image, published };
  } finally {
    runtime.dispose();
  }
}

async function readSource(config: ConvertConfig, deps: ConvertDeps): Promise<SourceImage> {
  const { source } = config;
  const name = source.kind === 'path' ? source.path : source.name;
  const { summary, layers } = await deps.progress.step(`read ${name}`, async (step) => {
    if (source.kind === 'path') return readImageLayers(source.path);
    if (source.kind === 'registry') return pull(source, deps, step);
    const engine = await deps.engine();
    if (!(await engine.inspectImage(source.name))) {
      // As `docker run` pulls what it lacks: a name with a registry host comes from there.
      if (source.registry) return pull(source.registry, deps, step);
      throw new ConfigError(`"${source.name}" is neither a file nor an image Docker knows`, {
        field: 'IMAGE',
        hint: 'check `docker images`, pass an OCI layout or a `docker save` archive, or an image in a registry as docker://HOST/NAME:TAG',
      });
    }
    step.note('docker save');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-convert-'));
    try {
      const archive = path.join(dir, 'image.tar');
      await pipeline(await engine.saveImage(source.name), fs.createWriteStream(archive));
      return await readImageLayers(archive);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  const platform = `${summary.config.os ?? 'linux'}/${summary.config.architecture ?? 'amd64'}`;
  if (platform !== 'linux/amd64') {
    throw new ConfigError(`${name} is a ${platform} image: nabla unikernels run linux/amd64 programs only`, { field: 'IMAGE', hint: 'convert the linux/amd64 variant of the image' });
  }
  const flat = await deps.progress.step('flatten layers', async (step) => {
    try {
      const result = await flattenLayers(layers);
      step.note(`${layers.length} layer(s), ${result.nodes.size} entries (${result.skipped.entries} left out: caches, docs, devices)`);
      return result;
    } catch (error) {
      if (!(error instanceof LayerError)) throw error;
      throw new ConfigError(`${name}: ${error.message}`, { field: 'IMAGE', hint: 'the image is broken; `docker save` it again', cause: error });
    }
  });
  return { name, imageId: summary.imageId, summary, flat };
}

/** The image from its registry (registry/pull.ts), with the credentials and CAs a push would use, read as an OCI layout. */
async function pull(source: RegistrySource, deps: ConvertDeps, step: { note(text: string): void }): Promise<{ summary: ImageSummary; layers: Buffer[] }> {
  const { registry, repository, reference } = source;
  step.note(`pull from ${registry}`);
  const client = new RegistryClient(registry, repository, () => dockerCredentials(registry, deps.registry.dockerConfig), {
    tls: tlsOptionsFor(registry, deps.registry),
    operation: 'pull',
    onRetry: (message) => deps.progress.info(message),
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-convert-pull-'));
  try {
    const pulled = await pullImage(client, repository, reference, dir, LAYER_IN_MEMORY_LIMIT);
    step.note(pulled.digest);
    return await readImageLayers(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function runSettings(config: ConvertConfig, summary: ImageSummary): Parameters<typeof analyze>[1] {
  const c = summary.config.config ?? {};
  const ports = [...Object.keys(c.ExposedPorts ?? {}), ...config.ports];
  return {
    entrypoint: config.entrypoint ?? c.Entrypoint ?? [],
    // As `docker run --entrypoint`: a new entrypoint drops the image's Cmd.
    cmd: config.entrypoint ? [] : (c.Cmd ?? []),
    env: c.Env ?? [],
    workingDir: c.WorkingDir || '/',
    user: c.User || undefined,
    network: ports.length > 0,
  };
}

async function layout(
  config: ConvertConfig,
  source: SourceImage,
  analysis: Analysis,
  run: ReturnType<typeof runSettings>,
  runtime: Runtime,
  meta: { toolchainImage: string; version: string },
): Promise<ImageSpec> {
  const { nodes } = source.flat;
  const guest = [...nodes].map(([p, node]): TarEntry => {
    if (node.type === 'symlink') return { type: 'symlink', path: `/${p}`, target: node.target };
    if (node.type === 'file') return { type: 'file', path: `/${p}`, mode: node.mode, data: node.data };
    return { type: 'directory', path: `/${p}`, mode: node.mode };
  });
  // The image brings its own /etc; only what it lacks (an image made FROM scratch) is added.
  const rootfs = await packRootfs([...guest, ...withoutGiven(systemEntries({ zoneinfo: false }), guest)], config.sourceDateEpoch);

  // The programs the tender may run, and their loaders, at their paths under EXE_ROOT.
  const programs = new Set([...analysis.runnable.keys(), ...[...analysis.runnable.values()].filter((l) => l !== '')]);
  const copies = [...programs].flatMap((p): TarEntry[] => {
    const node = nodes.get(p);
    return node?.type === 'file' ? [{ type: 'file', path: `${EXE_ROOT}/${p}`, mode: node.mode, data: node.data }] : [];
  });
  // Other names (PATH entries that are links, PT_INTERP's path) as links inside EXE_ROOT.
  const aliases = [...analysis.aliases]
    .filter(([alias]) => !programs.has(alias))
    .map(([alias, p]): TarEntry => ({ type: 'symlink', path: `${EXE_ROOT}/${alias}`, target: `${EXE_ROOT}/${p}` }));

  const c = source.summary.config.config ?? {};
  const ports = [...new Set([...Object.keys(c.ExposedPorts ?? {}), ...config.ports])].sort();
  const labels = Object.fromEntries(Object.entries(c.Labels ?? {}).filter(([key]) => !key.startsWith('dev.nabla.')));
  return {
    entries: [
      { type: 'file', path: TENDER, mode: 0o755, data: fs.readFileSync(path.join(runtime.dir, 'nabla-run')) },
      { type: 'file', path: LIBOS, mode: 0o644, data: fs.readFileSync(path.join(runtime.dir, 'libos.nabla')) },
      { type: 'file', path: ROOTFS_IN_IMAGE, mode: 0o644, data: rootfs },
      ...copies,
      ...aliases,
    ],
    config: {
      entrypoint: [
        TENDER,
        `--mem=${config.memoryMiB}`,
        `--disk=${ROOTFS_IN_IMAGE}`,
        ...(run.network ? ['--net-from=eth0'] : []),
        `--libos=${LIBOS}`,
        // The loader maps the libraries' code into free guest memory, which must be executable.
        '--x-exec-heap',
        `--exe-root=${EXE_ROOT}`,
        ...run.entrypoint,
      ],
      cmd: run.cmd,
      env: run.env,
      workingDir: run.workingDir,
      user: run.user,
      exposedPorts: ports,
      labels: {
        ...labels,
        'dev.nabla.language': 'converted',
        'dev.nabla.toolchain': meta.toolchainImage,
        'dev.nabla.memory': `${config.memoryMiB}`,
        'dev.nabla.syscalls': (run.network ? runtime.policyNet : runtime.policy).join('; '),
        // The source's config digest (Docker's image ID): never its name, which may be a host path.
        'dev.nabla.source.image': source.imageId,
        'dev.nabla.build.version': meta.version,
      },
    },
    sourceDateEpoch: config.sourceDateEpoch,
  };
}
