/**
 * Reads an image back from where an output wrote it: an OCI layout folder, an OCI
 * layout tar or a docker-archive tar (`docker save`). Used by `inspect`, and by `convert`
 * for the layers themselves (readImageLayers).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline, Readable, Transform } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { z } from 'zod';
import type { ImageRuntimeConfig } from '../engine/engine.js';
import { ConfigError } from '../util/errors.js';

export interface ImageSummary {
  format: 'oci-layout' | 'oci-archive' | 'docker-archive' | 'docker-engine';
  /** Manifest digest (not known for a docker archive, which holds no manifest). */
  digest?: string;
  imageId: string;
  config: ImageConfigJson;
  layers: { digest: string; size: number; files: string[] }[];
}

export interface ImageConfigJson {
  created?: string;
  architecture?: string;
  os?: string;
  config?: ImageRuntimeConfig;
}

type Files = Map<string, Buffer>;

const HINT = 'pass what `nabla-build build --output type=oci|docker` wrote, or an image name known to Docker';

/** Past this many bytes unpacked a layer is not read on: a gzip bomb (a few MiB that unpack
 * to terabytes) would take the CPU for hours. Far above any real layer. */
export const LAYER_UNPACKED_LIMIT = 64 * 2 ** 30;

export async function readImage(location: string, limits = { layerUnpacked: LAYER_UNPACKED_LIMIT }): Promise<ImageSummary> {
  return summarize(location, await open(location, limits.layerUnpacked));
}

async function summarize(location: string, { files, image, isFolder }: Awaited<ReturnType<typeof open>>): Promise<ImageSummary> {
  if (files.has('oci-layout')) return fromOciLayout(image, isFolder ? 'oci-layout' : 'oci-archive');
  if (files.has('manifest.json')) return fromDockerArchive(image);
  throw new ConfigError(`${location} is neither an OCI layout nor a docker archive`, { file: location, hint: HINT });
}

/** convert holds every layer in memory, unpacked: each must fit in one Buffer. */
export const LAYER_IN_MEMORY_LIMIT = 2 * 2 ** 30;

/** The image and its layers, bottom first, each an uncompressed tar held in memory. */
export async function readImageLayers(location: string): Promise<{ summary: ImageSummary; layers: Buffer[] }> {
  const opened = await open(location, LAYER_IN_MEMORY_LIMIT);
  const { image } = opened;
  const summary = await summarize(location, opened);
  const names =
    summary.format === 'docker-archive' ? summary.layers.map((layer) => layer.digest) : summary.layers.map((layer) => blobPath(layer.digest));
  const layers = names.map((name) => {
    const blob = image.blob(name);
    try {
      return blob[0] === 0x1f && blob[1] === 0x8b ? gunzipSync(blob, { maxOutputLength: LAYER_IN_MEMORY_LIMIT }) : blob;
    } catch (error) {
      throw image.broken(`layer ${name} is not a gzipped tar of at most ${LAYER_IN_MEMORY_LIMIT} bytes: ${(error as Error).message}`, error);
    }
  });
  return { summary, layers };
}

/** The files at location (a folder, or a tar read whole), and the checked access to them. */
async function open(location: string, layerUnpackedLimit: number): Promise<{ files: Files; image: ImageFiles; isFolder: boolean }> {
  const isFolder = fs.statSync(location).isDirectory();
  const files: Files = isFolder ? readFolder(location) : await readTar(location);
  return { files, image: new ImageFiles(location, files, layerUnpackedLimit), isFolder };
}

// What the reader takes from each file: anything else in them is broken input, said as such.
const digest = z.string().regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, 'must be a digest such as "sha256:<hex>"');
const ociIndex = z.object({
  manifests: z.array(z.object({ digest, artifactType: z.string().optional() })).min(1, 'must name the image manifest'),
});
const artifactManifest = z.object({
  artifactType: z.string().optional(),
  subject: z.object({ digest }).optional(),
  layers: z.array(z.object({ digest, mediaType: z.string() })),
});
const ociManifest = z.object({
  config: z.object({ digest }),
  layers: z.array(z.object({ digest, size: z.number().int().nonnegative(), mediaType: z.string() })),
});
const dockerManifest = z.array(z.object({ Config: z.string().min(1), Layers: z.array(z.string()) })).min(1, 'must list the image');
/** Docker writes null for a field it has no value for: read as absent. */
const absentIfNull = <T extends z.ZodTypeAny>(type: T) => type.nullish().transform((v) => v ?? undefined);
const strings = absentIfNull(z.array(z.string()));
const imageConfig = z
  .object({
    created: absentIfNull(z.string()),
    architecture: absentIfNull(z.string()),
    os: absentIfNull(z.string()),
    config: absentIfNull(
      z
        .object({
          Entrypoint: strings,
          Cmd: strings,
          Env: strings,
          WorkingDir: absentIfNull(z.string()),
          User: absentIfNull(z.string()),
          ExposedPorts: absentIfNull(z.record(z.object({}).passthrough())),
          Labels: absentIfNull(z.record(z.string())),
        })
        .passthrough(),
    ),
  })
  .passthrough();

/** The files of one image, read and checked by name. */
class ImageFiles {
  constructor(
    private readonly location: string,
    private readonly files: Files,
    private readonly layerUnpackedLimit: number,
  ) {}

  broken(what: string, cause?: unknown): ConfigError {
    return new ConfigError(`${this.location}: ${printable(what)}`, { file: this.location, hint: HINT, cause });
  }

  blob(name: string): Buffer {
    const data = this.files.get(name);
    if (!data) throw this.broken(`the image is incomplete: ${name} is missing`);
    return data;
  }

  json<S extends z.ZodTypeAny>(name: string, schema: S): z.output<S> {
    let data: unknown;
    try {
      data = JSON.parse(this.blob(name).toString('utf8'));
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw this.broken(`${name} is not valid JSON: ${(error as Error).message}`, error);
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw this.broken(`${name}: ${issue.path.length > 0 ? `field "${issue.path.join('.')}": ` : ''}${issue.message}`);
    }
    return parsed.data;
  }

  /** Entry names of a layer, a tar held in memory (gzipped or not). */
  async layerFiles(name: string, gzipped: boolean): Promise<string[]> {
    const blob = this.blob(name);
    try {
      return await listTar(blob, gzipped, this.layerUnpackedLimit);
    } catch (error) {
      if (error instanceof TooLarge) throw this.broken(`layer ${name} unpacks to more than ${error.limit} bytes (a gzip bomb?): not read on`);
      throw this.broken(`layer ${name} is not a ${gzipped ? 'gzipped ' : ''}tar: ${(error as Error).message}`, error);
    }
  }
}

/** Names and snippets from the image, fit for a one-line message: control characters escaped. */
const printable = (text: string) => text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

const blobPath = (digest: string) => `blobs/${digest.replace(':', '/')}`;

/** The image's manifest digest in an index.json: its first entry that is not an artifact (an SBOM). */
function imageDigest(image: ImageFiles): string {
  const { manifests } = image.json('index.json', ociIndex);
  const found = manifests.find((m) => m.artifactType === undefined);
  if (!found) throw image.broken('index.json lists only artifacts, no image');
  return found.digest;
}

/**
 * The SBOM attached to the image in an OCI layout folder or tar: the document of the
 * artifact in index.json whose subject is the image and whose type is `mediaType`.
 */
export async function readReferrer(location: string, mediaType: string): Promise<Buffer> {
  const { files, image } = await open(location, LAYER_UNPACKED_LIMIT);
  if (!files.has('oci-layout')) {
    throw new ConfigError(`${location} is not an OCI layout, so it holds no SBOM`, {
      file: location,
      hint: 'docker archives and the Docker engine keep no referrers: read the SBOM from `--output type=oci` or write it with `--sbom FILE`',
    });
  }
  const subject = imageDigest(image);
  for (const entry of image.json('index.json', ociIndex).manifests) {
    if (entry.artifactType !== mediaType) continue;
    const manifest = image.json(blobPath(entry.digest), artifactManifest);
    const layer = manifest.layers.find((l) => l.mediaType === mediaType);
    if (manifest.subject?.digest === subject && layer) return image.blob(blobPath(layer.digest));
  }
  throw new ConfigError(`${location} holds no SBOM (${mediaType}) for its image ${subject}`, {
    file: location,
    hint: 'build the image again with this nabla-build: every build attaches one',
  });
}

async function fromOciLayout(image: ImageFiles, format: 'oci-layout' | 'oci-archive'): Promise<ImageSummary> {
  const digest = imageDigest(image);
  const manifest = image.json(blobPath(digest), ociManifest);
  return {
    format,
    digest,
    imageId: manifest.config.digest,
    config: image.json(blobPath(manifest.config.digest), imageConfig),
    layers: await Promise.all(
      manifest.layers.map(async (layer) => ({
        digest: layer.digest,
        size: layer.size,
        files: await image.layerFiles(blobPath(layer.digest), layer.mediaType.endsWith('gzip')),
      })),
    ),
  };
}

async function fromDockerArchive(image: ImageFiles): Promise<ImageSummary> {
  const [entry] = image.json('manifest.json', dockerManifest);
  return {
    format: 'docker-archive',
    imageId: `sha256:${path.basename(entry!.Config, '.json')}`,
    config: image.json(entry!.Config, imageConfig),
    layers: await Promise.all(
      entry!.Layers.map(async (name) => ({ digest: name, size: image.blob(name).length, files: await image.layerFiles(name, false) })),
    ),
  };
}

/** Entry names of an uncompressed tar held in memory. */
class TooLarge extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`);
  }
}

/** Entry names of a tar (gzipped or not), unpacked as a stream and counted on the way. */
async function listTar(blob: Buffer, gzipped: boolean, limit: number): Promise<string[]> {
  const names: string[] = [];
  const unpack = extract();
  let unpacked = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      unpacked += chunk.length;
      done(unpacked > limit ? new TooLarge(limit) : null, chunk);
    },
  });
  const stages = gzipped ? [Readable.from([blob]), createGunzip(), count] : [Readable.from([blob]), count];
  pipeline([...stages, unpack], (error) => {
    if (error) unpack.destroy(error);
  });
  for await (const entry of unpack) {
    names.push(entry.header.name);
    entry.resume();
  }
  return names;
}

function readFolder(dir: string): Files {
  const files: Files = new Map();
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else files.set(child, fs.readFileSync(path.join(dir, child)));
    }
  };
  walk('');
  return files;
}

async function readTar(file: string): Promise<Files> {
  const files: Files = new Map();
  const unpack = extract();
  try {
    // Read whole (every file of it is kept anyway): a stream piped in would go on reading,
    // unobserved, after a broken header ended the loop below.
    unpack.end(await fs.promises.readFile(file));
    for await (const entry of unpack) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      if (entry.header.type === 'file') files.set(entry.header.name.replace(/^\.\//, ''), Buffer.concat(chunks));
    }
  } catch (error) {
    throw new ConfigError(`${file} is not a readable tar: ${printable((error as Error).message)}`, { file, hint: HINT, cause: error });
  }
  return files;
}
