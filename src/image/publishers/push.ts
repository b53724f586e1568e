/**
 * --push: every missing blob; the image manifest by digest; the SBOM (its blobs, its
 * manifest by digest: a registry with the referrers API lists it from its `subject`; and
 * the referrers tag `sha256-<image hex>` for registries without that API); last the image
 * manifest under the tag. The client puts but cannot read manifests, so the referrers
 * tag's index is written with our SBOM alone: another tool's referrer listed there before
 * is dropped from that list (its manifest stays in the registry).
 */
import { dockerConfigAuth, RegistryClient } from '../../registry/client.js';
import { debug } from '../../util/debug.js';
import { OutputError } from '../../util/errors.js';
import { formatReference, type RegistryReference } from '../reference.js';
import { referrersIndex, referrersTag } from '../referrers.js';
import type { Blob, ImageArtifact, Publisher } from '../types.js';

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
    const upload = async (blobs: Blob[]) => {
      for (const blob of blobs) {
        if (await client.hasBlob(blob.digest)) {
          log(`${where}: ${blob.digest} is there already`);
        } else {
          log(`${where}: uploading ${blob.digest} (${blob.size} bytes)`);
          await client.uploadBlob(blob.digest, blob.data);
        }
      }
    };
    await upload([...image.layers, image.config]);
    if (image.sbom) {
      // The image by digest first, so the SBOM's subject is there; the tag comes last.
      await upload([image.sbom.config, image.sbom.document]);
      await client.putManifest(image.manifest.digest, image.manifest.mediaType, image.manifest.data);
      await client.putManifest(image.sbom.manifest.digest, image.sbom.manifest.mediaType, image.sbom.manifest.data);
      const index = referrersIndex([image.sbom]);
      await client.putManifest(referrersTag(image.manifest), index.mediaType, index.data);
      log(`${where}: SBOM ${image.sbom.manifest.digest}, listed under ${referrersTag(image.manifest)}`);
    }
    // Last: the tag, only once everything it leads to is in place.
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
