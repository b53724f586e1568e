/**
 * One build: make sure the toolchain image exists, compile the app in it, lay out the
 * image, hand the artifact to every publisher. Takes a frozen BuildConfig, whose input
 * config/resolve.ts has checked; never reads argv or env.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { BuildConfig } from '../config/resolve.js';
import type { Engine } from '../engine/engine.js';
import { DockerExecutor } from '../executor/docker.js';
import { LocalExecutor } from '../executor/local.js';
import { ToolchainFiles } from '../executor/toolchain-files.js';
import type { Executor } from '../executor/types.js';
import { buildImage, rfc3339 } from '../image/oci.js';
import { formatReference } from '../image/reference.js';
import { attach } from '../image/referrers.js';
import type { ImageArtifact, ImageSpec } from '../image/types.js';
import type { RegistryAccess } from '../registry/access.js';
import { nativeSourceDigests } from '../sbom/native.js';
import { generateSbom, SBOM_MEDIA_TYPE, toolchainFacts } from '../sbom/sbom.js';
import { selectFiles } from '../rootfs/tree.js';
import type { ToolchainCatalog } from '../toolchain/catalog.js';
import { ensureToolchain } from '../toolchain/build.js';
import { throwIfAborted } from '../util/errors.js';
import { packageRoot } from '../util/paths.js';
import type { Progress } from '../util/progress.js';
import { composeImage, readRunSpec } from './compose.js';
import { createPublishers, publishAll } from './publishers.js';

/** What goes into the toolchain container: everything but VCS data and host-built deps. */
// node_modules/ is the app's (vendored dependencies: the node toolchain uses them as they are,
// and checks them for native addons); the image ships it with the app's files anyway.
const SOURCE_EXCLUDE = ['.git/**', '.nabla/**', '.venv/**', '**/__pycache__/**', '**/*.o'];

export interface BuildDeps {
  catalog: ToolchainCatalog;
  /** The engine, connected on first use: a local build with file outputs never asks. */
  engine: () => Promise<Engine>;
  progress: Progress;
  version: string;
  /** Credentials, CAs and chunk size for --push. */
  registry: RegistryAccess;
  /** Where compile and toolchain build logs are kept. */
  logDir: string;
  /** Where the toolchain build locks are (places.ts). */
  lockDir: string;
  /** Where toolchain image folders every compile copies out (time zones, runtimes) are kept; none: copied each time. */
  toolchainFilesDir?: string;
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
  const { catalog, progress, signal, logDir, lockDir } = deps;
  const toolchain = catalog.get(config.toolchain);
  const publishers = createPublishers(config.outputs, config.tags, {
    engine: deps.engine,
    registry: deps.registry,
    notice: (message) => progress.info(message),
  });
  // Fail on an unwritable --output or an unreachable registry before minutes of compiling, not after.
  for (const publisher of publishers) await publisher.preflight?.();

  let executor: Executor;
  let toolchainId: string | undefined;
  if (config.executor === 'docker') {
    const engine = await deps.engine();
    await ensureToolchain(engine, catalog, toolchain.name, progress, { logDir, lockDir, signal, buildEnv: config.compileEnv });
    executor = new DockerExecutor(engine, logDir, deps.toolchainFilesDir ? new ToolchainFiles(deps.toolchainFilesDir) : undefined);
    toolchainId = (await engine.inspectImage(catalog.image(toolchain.name)))?.id;
  } else {
    executor = new LocalExecutor(logDir);
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
        env: { ...config.compileEnv, ...config.languageOptions, NABLA_ENTRY: config.entry, NABLA_LANGUAGE: config.language },
        network: toolchain.network,
        zoneinfo: config.zoneinfo,
      },
      step,
      signal,
    );
  });
  try {
    throwIfAborted(signal);
    const image = await progress.step('write image', async (step) => {
      const digestOfSource = sourceDigest(config.appDir, sources);
      const spec = await composeImage({
        config,
        outDir: compiled.outDir,
        sharedRootfsDir: compiled.sharedRootfsDir,
        zoneinfoDir: compiled.zoneinfoDir,
        appFiles,
        toolchainImage,
        sourceDigest: digestOfSource,
        version: deps.version,
      });
      const artifact = await buildImage(spec);
      step.note(artifact.manifest.digest);
      const sbom = generateSbom({
        image: { digest: artifact.manifest.digest, repository: config.tags[0] && imageRepository(config.tags[0]), version: config.app.version },
        app: { ...config.app, language: config.language, dir: config.appDir, sourceDigest: digestOfSource },
        outDir: compiled.outDir,
        run: readRunSpec(compiled.outDir, config.toolchain),
        files: layerFiles(spec),
        toolchain: { name: toolchain.name, image: toolchainImage, id: toolchainId },
        ...toolchainFacts(compiled.facts),
        nativeSources: builtFromNative(catalog, toolchain.name) ? nativeSourceDigests(path.join(packageRoot(), 'native')) : undefined,
        zoneinfo: compiled.zoneinfoDir !== undefined,
        tool: { name: 'nabla-build', version: deps.version },
        created: rfc3339(config.sourceDateEpoch),
      });
      return attach(artifact, SBOM_MEDIA_TYPE, sbom, { 'org.opencontainers.image.created': rfc3339(config.sourceDateEpoch) });
    });
    const published = await publishAll(publishers, image, progress, signal);
    return { digest: image.manifest.digest, imageId: image.config.digest, published, image };
  } finally {
    compiled.dispose();
  }
}

/** The files of the image's layer, by path. */
function layerFiles(spec: ImageSpec): { path: string; data: Buffer }[] {
  return spec.entries.flatMap((entry) => (entry.type === 'file' ? [{ path: entry.path, data: entry.data }] : []));
}

/** "127.0.0.1:5000/team/app" of a -t name: the image's name in the SBOM's purl. */
function imageRepository(tag: { registry?: string; repository: string; tag: string }): string {
  return formatReference(tag).replace(/:[^:/]*$/, '');
}

/** Whether the toolchain (or a parent) is built from this nabla-build's native/ (the tender and libOS). */
function builtFromNative(catalog: ToolchainCatalog, name: string): boolean {
  return catalog.lineage(name).some((t) => t.include.includes('native'));
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
