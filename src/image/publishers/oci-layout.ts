/** type=oci: an OCI image layout, as a folder or (dest ending in .tar) as one tar file. */
import fs from 'node:fs';
import path from 'node:path';
import { MEDIA_TYPES } from '../oci.js';
import { packTar } from '../tar.js';
import type { ImageArtifact, LayerEntry, Publisher } from '../types.js';
import { checkWritable, writeDirAtomic, writeFileAtomic } from './atomic.js';

export class OciLayoutPublisher implements Publisher {
  readonly description: string;

  constructor(
    private readonly dest: string,
    private readonly format: 'layout' | 'tar',
    /** The tag recorded as org.opencontainers.image.ref.name (skopeo oci:DIR:TAG, umoci). */
    private readonly refName: string,
  ) {
    this.description = `oci ${format} → ${dest}`;
  }

  async preflight(): Promise<void> {
    checkWritable(this.dest);
  }

  async publish(image: ImageArtifact): Promise<string> {
    const files = layoutFiles(image, this.refName);
    if (this.format === 'tar') {
      writeFileAtomic(this.dest, await packTar(files, 0));
    } else {
      await writeDirAtomic(this.dest, async (dir) => {
        for (const file of files) {
          if (file.type !== 'file') continue;
          const target = path.join(dir, file.path);
          fs.mkdirSync(path.dirname(target), { recursive: true });
          fs.writeFileSync(target, file.data);
        }
      });
    }
    return this.dest;
  }
}

/** The files of an OCI image layout: oci-layout, index.json and blobs/sha256/*. */
export function layoutFiles(image: ImageArtifact, refName: string): LayerEntry[] {
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: [
      {
        mediaType: image.manifest.mediaType,
        digest: image.manifest.digest,
        size: image.manifest.size,
        annotations: { 'org.opencontainers.image.ref.name': refName },
      },
    ],
  };
  const blobs = [image.manifest, image.config, ...image.layers];
  return [
    { type: 'file', path: '/oci-layout', mode: 0o644, data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
    { type: 'file', path: '/index.json', mode: 0o644, data: Buffer.from(JSON.stringify(index)) },
    ...blobs.map((blob): LayerEntry => ({ type: 'file', path: `/blobs/sha256/${blob.digest.slice(7)}`, mode: 0o644, data: blob.data })),
  ];
}
