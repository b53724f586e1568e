/**
 * --push: every missing blob; the image manifest by digest; the SBOM (its blobs, its
 * manifest by digest: a registry with the referrers API lists it from its `subject`, and
 * says so; for the others, the referrers tag `sha256-<image hex>`, read and written back
 * with the SBOM added to what other tools listed there); last the image manifest under the tag.
 */
import { tlsOptionsFor, type RegistryAccess } from '../../registry/access.js';
import { RegistryClient } from '../../registry/client.js';
import { dockerCredentials } from '../../registry/credentials.js';
import { debug } from '../../util/debug.js';
import { errorMessage, OutputError } from '../../util/errors.js';
import { MEDIA_TYPES } from '../oci.js';
import { formatReference, type RegistryReference } from '../reference.js';
import { listedReferrers, referrersIndex, referrersTag, withReferrer, type ListedDescriptor } from '../referrers.js';
import type { Blob, ImageArtifact, Publisher, Referrer } from '../types.js';

const log = debug('registry');

/** What a tag may hold, asked for when reading one: a registry may answer a type not asked for with a 404. */
const ANY_MANIFEST = [
  MEDIA_TYPES.index,
  MEDIA_TYPES.manifest,
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

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
      const { subject } = await client.putManifest(image.sbom.manifest.digest, image.sbom.manifest.mediaType, image.sbom.manifest.data);
      if (subject === image.manifest.digest) log(`${where}: SBOM ${image.sbom.manifest.digest}, listed by the registry's referrers API`);
      else await this.listInReferrersTag(client, image.manifest, image.sbom);
    }
    // Last: the tag, only once everything it leads to is in place.
    const { digest } = await client.putManifest(this.tag.tag, image.manifest.mediaType, image.manifest.data);
    if (digest !== undefined && digest !== image.manifest.digest) {
      throw new OutputError(`registry ${client.registry} stored the manifest as ${digest}, not ${image.manifest.digest}`, {
        field: '--push',
        hint: 'the registry rewrote the manifest; push to a registry that keeps OCI manifests as sent',
      });
    }
    return `${formatReference(this.tag)}@${image.manifest.digest}`;
  }

  /**
   * The referrers tag schema (OCI distribution 1.1): the index under `sha256-<subject hex>`
   * is read, `referrer` added to what it lists (replacing an SBOM of ours pushed before),
   * and put back. What the tag holds when it is not a referrers index is left alone.
   */
  private async listInReferrersTag(client: RegistryClient, subject: Blob, referrer: Referrer): Promise<void> {
    const tag = referrersTag(subject);
    const existing = await client.getManifest(tag, ANY_MANIFEST);
    let listed: ListedDescriptor[] = [];
    try {
      if (existing) listed = listedReferrers(existing.mediaType, existing.data);
    } catch (error) {
      throw new OutputError(`registry ${client.registry}: the referrers tag ${tag} of ${this.tag.repository} is not a referrers index: ${errorMessage(error)}`, {
        field: '--push',
        hint: `that tag names the referrers of image ${subject.digest} (OCI distribution 1.1); nabla-build does not overwrite what else was put there: remove it, or push to a registry with the referrers API`,
      });
    }
    const index = referrersIndex(withReferrer(listed, referrer));
    await client.putManifest(tag, index.mediaType, index.data);
    log(`${client.registry}/${this.tag.repository}: SBOM ${referrer.manifest.digest}, listed under ${tag} with ${listed.length} referrer(s) found there`);
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
