/** --push: every blob, then the manifest under each -t tag, to the tag's registry. */
import { formatReference, type ImageReference } from '../../config/reference.js';
import { RegistryClient } from '../../registry/client.js';
import { debug } from '../../util/debug.js';
import { OutputError } from '../../util/errors.js';
import type { ImageArtifact, Publisher } from '../types.js';

const log = debug('registry');

export class PushPublisher implements Publisher {
  readonly description: string;

  constructor(private readonly tags: ImageReference[]) {
    this.description = `push ${tags.map(formatReference).join(', ')}`;
  }

  async preflight(): Promise<void> {
    const bare = this.tags.find((tag) => !tag.registry);
    if (bare) {
      throw new OutputError(`--push needs a registry in the image name, "${formatReference(bare)}" has none`, {
        field: '--tag',
        hint: `name the registry, e.g. -t 127.0.0.1:5000/${bare.repository}:${bare.tag}`,
      });
    }
  }

  async publish(image: ImageArtifact): Promise<string> {
    const pushed: string[] = [];
    for (const tag of this.tags) {
      const client = new RegistryClient(tag.registry!, tag.repository);
      for (const blob of [...image.layers, image.config]) {
        if (await client.hasBlob(blob.digest)) {
          log(`${tag.registry}/${tag.repository}: ${blob.digest} is there already`);
        } else {
          log(`${tag.registry}/${tag.repository}: uploading ${blob.digest} (${blob.size} bytes)`);
          await client.uploadBlob(blob.digest, blob.data);
        }
      }
      const digest = await client.putManifest(tag.tag, image.manifest.mediaType, image.manifest.data);
      if (digest && digest !== image.manifest.digest) {
        throw new OutputError(`registry ${tag.registry} stored the manifest as ${digest}, expected ${image.manifest.digest}`, {
          field: '--push',
          hint: 'the registry rewrote the manifest; use a registry that keeps OCI manifests as sent',
        });
      }
      pushed.push(`${formatReference(tag)}@${image.manifest.digest}`);
    }
    return pushed.join(', ');
  }
}
