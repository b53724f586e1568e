/** type=docker: a `docker load`-able archive (the `docker save` format), tagged with the -t names. */
import { packTar } from '../tar.js';
import type { ImageArtifact, Publisher } from '../types.js';
import { checkWritable, writeFileAtomic } from './atomic.js';

export class DockerArchivePublisher implements Publisher {
  readonly description: string;

  constructor(
    private readonly dest: string,
    private readonly repoTags: string[],
  ) {
    this.description = `docker archive → ${dest}`;
  }

  async preflight(): Promise<void> {
    checkWritable(this.dest);
  }

  async publish(image: ImageArtifact): Promise<string> {
    writeFileAtomic(this.dest, await dockerArchive(image, this.repoTags));
    return this.dest;
  }
}

/** manifest.json + the config as <id>.json + each layer uncompressed as <diffId>/layer.tar. */
export function dockerArchive(image: ImageArtifact, repoTags: string[]): Promise<Buffer> {
  const config = `${image.config.digest.slice(7)}.json`;
  const layers = image.layers.map((layer) => ({ name: `${layer.diffId.slice(7)}/layer.tar`, data: layer.uncompressed }));
  const manifest = [{ Config: config, RepoTags: repoTags, Layers: layers.map((l) => l.name) }];
  return packTar(
    [
      { type: 'file', path: '/manifest.json', mode: 0o644, data: Buffer.from(JSON.stringify(manifest)) },
      { type: 'file', path: `/${config}`, mode: 0o644, data: image.config.data },
      ...layers.map((l) => ({ type: 'file' as const, path: `/${l.name}`, mode: 0o644, data: l.data })),
    ],
    0,
  );
}
