/** type=docker: a `docker load`-able archive (the `docker save` format), tagged with the -t names. */
import { digestHex } from '../oci.js';
import { packTar } from '../../util/tar.js';
import type { ImageArtifact, Publisher } from '../types.js';
import { checkWritable, writeFileAtomic } from './atomic.js';

export class DockerArchivePublisher implements Publisher {
  readonly description: string;

  /** repoTags: the -t names, formatted (e.g. "hello:latest"); `docker load` tags the image with them. */
  constructor(
    private readonly dest: string,
    private readonly repoTags: readonly string[],
  ) {
    this.description = `docker archive → ${dest}`;
  }

  async preflight(): Promise<void> {
    checkWritable(this.dest, 'file');
  }

  async publish(image: ImageArtifact): Promise<string> {
    await writeFileAtomic(this.dest, await dockerArchive(image, this.repoTags));
    return this.dest;
  }
}

/**
 * manifest.json, the config as <id>.json and each layer uncompressed as <diffId>/layer.tar.
 * Docker (since 1.10) loads from manifest.json alone: the legacy VERSION/json files and
 * `repositories` are not needed. The image ID Docker reports is our config digest.
 */
export function dockerArchive(image: ImageArtifact, repoTags: readonly string[]): Promise<Buffer> {
  const config = `${digestHex(image.config.digest)}.json`;
  const layers = image.layers.map((layer) => ({ name: `${digestHex(layer.diffId)}/layer.tar`, data: layer.uncompressed }));
  const manifest = [{ Config: config, RepoTags: [...new Set(repoTags)], Layers: layers.map((layer) => layer.name) }];
  return packTar(
    [
      { type: 'file', path: 'manifest.json', mode: 0o644, data: Buffer.from(JSON.stringify(manifest)) },
      { type: 'file', path: config, mode: 0o644, data: image.config.data },
      ...layers.map((layer) => ({ type: 'file' as const, path: layer.name, mode: 0o644, data: layer.data })),
    ],
    0, // member mtimes carry no meaning; 0 keeps the archive a function of the image alone
  );
}
