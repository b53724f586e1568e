/**
 * --push: every missing blob; the image manifest by digest; the SBOM (its blobs, its
 * manifest by digest: a registry with the referrers API lists it from its `subject`; and
 * the referrers tag `sha256-<image hex>` for registries without that API); last the image
 * manifest under the tag. The client puts but cannot read manifests, so the referrers
 * tag's index is written with our SBOM alone: another tool's referrer listed there before
 * is dropped from that list (its manifest stays in the registry).
 */
import { tlsOptionsFor, type RegistryAccess } from '../../registry/access.js';
import { RegistryClient } from '../../registry/client.js';
import { dockerCredentials } from '../../registry/credentials.js';
import { debug } from '../../util/debug.js';
import { OutputError } from '../../util/errors.js';
import { formatReference, type RegistryReference } from '../reference.js';
import { referrersIndex, referrersTag } from '../referrers.js';
import type { Blob, ImageArtifact, Publisher } from '../types.js';

const log = debug('registry');

/**
 * Which repositories of which registry hold which blobs, learnt by the pushes of one build.
 * The rule for a cross-repository mount is this small one: a blob missing from the target
 * repository is mounted from a repository of the same registry that this build has just
 * pushed it to or found it in (`-t reg/a:1 -t reg/b:1` uploads the layer once). Nothing
 * is kept between runs: a guess from an old run costs a call when it is wrong.
 */
export class KnownBlobs {
  private readonly where = new Map<string, string>();

  add(registry: string, repository: string, digest: string): void {
    this.where.set(`${registry}\n${digest}`, repository);
  }

  /** A repository of `registry` other than `repository` that holds `digest`, if one is known. */
  elsewhere(registry: string, repository: string, digest: string): string | undefined {
    const known = this.where.get(`${registry}\n${digest}`);
    return known !== repository ? known : undefined;
  }
}

export class PushPublisher implements Publisher {
  readonly description: string;
  private connected?: RegistryClient;

  /**
   * One tag. access: credentials, CAs and chunk size; known: blobs the other pushes of this
   * build placed (shared between them); notice: where retry messages go (the CLI's stderr).
   */
  constructor(
    private readonly tag: RegistryReference,
    private readonly access: RegistryAccess,
    private readonly known = new KnownBlobs(),
    private readonly notice: (message: string) => void = () => {},
  ) {
    this.description = `push ${formatReference(tag)}`;
  }

  /** Reaches the registry and gets a token with the push scope: bad credentials fail before the compile. */
  async preflight(): Promise<void> {
    await this.client().ping();
  }

  async publish(image: ImageArtifact): Promise<string> {
    const client = this.client();
    const { registry, repository } = this.tag;
    // Blobs before the manifest: a registry refuses a manifest whose blobs it does not hold, and
    // the tag appears only with the manifest, so a push that fails leaves no tag on a partial image.
    const where = `${registry}/${repository}`;
    const upload = async (blobs: Blob[]) => {
      for (const blob of blobs) {
        if (await client.hasBlob(blob.digest)) {
          log(`${where}: ${blob.digest} is there already`);
        } else {
          const mountFrom = this.known.elsewhere(registry, repository, blob.digest);
          log(`${where}: ${mountFrom ? `mounting ${blob.digest} from ${mountFrom}` : `uploading ${blob.digest} (${blob.size} bytes)`}`);
          await client.uploadBlob(blob.digest, blob.data, { mountFrom });
        }
        this.known.add(registry, repository, blob.digest);
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

  /** One client for the preflight and the push, so the token fetched first serves both. */
  private client(): RegistryClient {
    if (this.connected) return this.connected;
    const { registry, repository } = this.tag;
    this.connected = new RegistryClient(registry, repository, () => dockerCredentials(registry, this.access.dockerConfig), {
      tls: tlsOptionsFor(registry, this.access),
      chunkSize: this.access.chunkSize,
      onRetry: this.notice,
    });
    return this.connected;
  }
}
