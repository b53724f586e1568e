/** --push: every missing blob, then the manifest under the tag, to the tag's registry. */
import { dockerConfigAuth, RegistryClient } from '../../registry/client.js';
import { debug } from '../../util/debug.js';
import { OutputError } from '../../util/errors.js';
import { formatReference, type RegistryReference } from '../reference.js';
import type { ImageArtifact, Publisher } from '../types.js';

const log = debug('registry');

export class PushPublisher implements Publisher {
  readonly description: string;

  /** One tag; dockerConfig: the docker config.json holding `docker login` credentials. */
  constructor(
    private readonly tag: RegistryReference,
    private readonly dockerConfig: string,
  ) {
    this.description = `push ${formatReference(tag)}`;
  }

  async preflight(): Promise<void> {
    await this.client().ping();
  }

  async publish(image: ImageArtifact): Promise<string> {
    const client = this.client();
    // Blobs before the manifest: a registry refuses a manifest whose blobs it does not hold.
    const where = `${client.registry}/${this.tag.repository}`;
    for (const blob of [...image.layers, image.config]) {
      if (await client.hasBlob(blob.digest)) {
        log(`${where}: ${blob.digest} is there already`);
      } else {
        log(`${where}: uploading ${blob.digest} (${blob.size} bytes)`);
        await client.uploadBlob(blob.digest, blob.data);
      }
    }
    const digest = await client.putManifest(this.tag.tag, image.manifest.mediaType, image.manifest.data);
    if (digest !== undefined && digest !== image.manifest.digest) {
      throw new OutputError(`registry ${client.registry} stored the manifest as ${digest}, not ${image.manifest.digest}`, {
        field: '--push',
        hint: 'the registry rewrote the manifest; push to a registry that keeps OCI manifests as sent',
      });
    }
    return `${formatReference(this.tag)}@${image.manifest.digest}`;
  }

  private client(): RegistryClient {
    const { registry, repository } = this.tag;
    return new RegistryClient(registry, repository, dockerConfigAuth(registry, this.dockerConfig));
  }
}
