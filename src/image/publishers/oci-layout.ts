/** type=oci: an OCI image layout, as a folder or (dest ending in .tar) as one tar file. */
import fs from 'node:fs';
import path from 'node:path';
import { descriptor, digestHex, MEDIA_TYPES } from '../oci.js';
import { referrerDescriptor } from '../referrers.js';
import { packTar, type TarEntry } from '../../util/tar.js';
import type { ImageArtifact, Publisher } from '../types.js';
import { checkWritable, writeDirAtomic, writeFileAtomic } from './atomic.js';

export class OciLayoutPublisher implements Publisher {
  readonly description: string;

  /** refNames: the -t tags, recorded so `skopeo … oci:DIR:TAG` and `umoci --image DIR:TAG` find the image. */
  constructor(
    private readonly dest: string,
    private readonly format: 'layout' | 'tar',
    private readonly refNames: readonly string[],
  ) {
    this.description = `oci ${format} → ${dest}`;
  }

  async preflight(): Promise<void> {
    checkWritable(this.dest, this.format === 'tar' ? 'file' : 'folder');
  }

  async publish(image: ImageArtifact): Promise<string> {
    const files = layoutFiles(image, this.refNames);
    if (this.format === 'tar') {
      // Member mtimes carry no meaning here; 0 keeps the archive a function of the image alone.
      await writeFileAtomic(this.dest, await packTar(files, 0));
    } else {
      await writeDirAtomic(this.dest, async (dir) => {
        for (const file of files) {
          const target = path.join(dir, file.path);
          await fs.promises.mkdir(path.dirname(target), { recursive: true });
          await fs.promises.writeFile(target, file.data);
        }
      });
    }
    return this.dest;
  }
}

type LayoutFile = Extract<TarEntry, { type: 'file' }>;

/**
 * The files of an OCI image layout: oci-layout, index.json and blobs/sha256/<hex>.
 * index.json holds one manifest descriptor per distinct tag (annotated with
 * org.opencontainers.image.ref.name), or one without annotations when there is no tag;
 * then the SBOM's artifact manifest, whose `subject` names the image (OCI 1.1 referrers:
 * tools find it by scanning index.json for that subject). With it, index.json holds two
 * manifests, and tools that take one image (skopeo's `oci:DIR`) refuse to guess: they are
 * told the image's tag (`oci:DIR:TAG`), so an image built without -t is named "latest".
 */
export function layoutFiles(image: ImageArtifact, refNames: readonly string[]): LayoutFile[] {
  const manifest = descriptor(image.manifest);
  const names = refNames.length > 0 ? [...new Set(refNames)] : image.sbom ? ['latest'] : [];
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: [
      ...(names.length === 0 ? [manifest] : names.map((name) => ({ ...manifest, annotations: { 'org.opencontainers.image.ref.name': name } }))),
      ...(image.sbom ? [referrerDescriptor(image.sbom)] : []),
    ],
  };
  const sbom = image.sbom ? [image.sbom.manifest, image.sbom.config, image.sbom.document] : [];
  const file = (path: string, data: Buffer): LayoutFile => ({ type: 'file', path, mode: 0o644, data });
  return [
    file('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }))),
    file('index.json', Buffer.from(JSON.stringify(index))),
    ...[image.manifest, image.config, ...image.layers, ...sbom].map((blob) => file(`blobs/sha256/${digestHex(blob.digest)}`, blob.data)),
  ];
}
