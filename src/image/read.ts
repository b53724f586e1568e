/**
 * Reads an image back from where an output wrote it: an OCI layout folder, an OCI
 * layout tar or a docker-archive tar. Used by `inspect`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
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

export async function readImage(location: string): Promise<ImageSummary> {
  const stat = fs.statSync(location);
  const files: Files = stat.isDirectory() ? readFolder(location) : await readTar(location);
  if (files.has('oci-layout')) return fromOciLayout(files, stat.isDirectory() ? 'oci-layout' : 'oci-archive');
  if (files.has('manifest.json')) return fromDockerArchive(files);
  throw new ConfigError(`${location} is neither an OCI layout nor a docker archive`, {
    file: location,
    hint: 'pass what `nabla-build build --output type=oci|docker` wrote, or an image name known to Docker',
  });
}

function json<T>(files: Files, name: string): T {
  const data = files.get(name);
  if (!data) throw new ConfigError(`the image is incomplete: ${name} is missing`, { file: name });
  return JSON.parse(data.toString('utf8')) as T;
}

const blobPath = (digest: string) => `blobs/${digest.replace(':', '/')}`;

async function fromOciLayout(files: Files, format: 'oci-layout' | 'oci-archive'): Promise<ImageSummary> {
  const index = json<{ manifests: { digest: string }[] }>(files, 'index.json');
  const digest = index.manifests[0]!.digest;
  const manifest = json<{ config: { digest: string }; layers: { digest: string; size: number; mediaType: string }[] }>(
    files,
    blobPath(digest),
  );
  return {
    format,
    digest,
    imageId: manifest.config.digest,
    config: json<ImageConfigJson>(files, blobPath(manifest.config.digest)),
    layers: await Promise.all(
      manifest.layers.map(async (layer) => {
        const blob = files.get(blobPath(layer.digest))!;
        const tar = layer.mediaType.endsWith('gzip') ? gunzipSync(blob) : blob;
        return { digest: layer.digest, size: layer.size, files: await listTar(tar) };
      }),
    ),
  };
}

async function fromDockerArchive(files: Files): Promise<ImageSummary> {
  const [entry] = json<{ Config: string; Layers: string[] }[]>(files, 'manifest.json');
  return {
    format: 'docker-archive',
    imageId: `sha256:${path.basename(entry!.Config, '.json')}`,
    config: json<ImageConfigJson>(files, entry!.Config),
    layers: await Promise.all(
      entry!.Layers.map(async (name) => {
        const blob = files.get(name)!;
        return { digest: name, size: blob.length, files: await listTar(blob) };
      }),
    ),
  };
}

/** Entry names of an uncompressed tar held in memory. */
async function listTar(tar: Buffer): Promise<string[]> {
  const names: string[] = [];
  const unpack = extract();
  unpack.end(tar);
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
  fs.createReadStream(file).pipe(unpack);
  for await (const entry of unpack) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (entry.header.type === 'file') files.set(entry.header.name.replace(/^\.\//, ''), Buffer.concat(chunks));
  }
  return files;
}
