/**
 * Artifacts that refer to an image (OCI 1.1): a manifest with `artifactType`, the empty
 * config, the document as its one layer and `subject` = the image manifest. Registries
 * with the referrers API list it under /v2/<name>/referrers/<digest>; for the others
 * (distribution 2.x) clients read the fallback tag `sha256-<hex>`, an index of the
 * referrers, which every tool that attaches something (a cosign signature, an attestation)
 * reads, adds to and writes back. An OCI layout lists it in index.json beside the image.
 */
import { blob, descriptor, MEDIA_TYPES, sortKeys } from './oci.js';
import type { Blob, ImageArtifact, Referrer } from './types.js';

/**
 * Marks the SBOM nabla-build attached, in its manifest and so in every index that lists it:
 * a later push of the same image replaces that one in the referrers tag and no other.
 */
const SBOM_ANNOTATION = { key: 'dev.nabla.artifact', value: 'sbom' } as const;

/** The image with the SBOM `document` attached as an artifact of type `mediaType` (its layer's media type too). */
export function attach(image: ImageArtifact, mediaType: string, document: Buffer, annotations: Record<string, string>): ImageArtifact {
  const config = blob(MEDIA_TYPES.empty, Buffer.from('{}'));
  const layer = blob(mediaType, document);
  const manifest = blob(
    MEDIA_TYPES.manifest,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.manifest,
        artifactType: mediaType,
        config: descriptor(config),
        layers: [descriptor(layer)],
        subject: descriptor(image.manifest),
        annotations: sortKeys({ ...annotations, [SBOM_ANNOTATION.key]: SBOM_ANNOTATION.value }),
      }),
    ),
  );
  return { ...image, sbom: { manifest, artifactType: mediaType, config, document: layer } };
}

/** How an index (index.json, the referrers list) names a referrer: its descriptor with artifactType and annotations. */
export function referrerDescriptor(referrer: Referrer): Record<string, unknown> {
  const { annotations } = JSON.parse(referrer.manifest.data.toString('utf8')) as { annotations?: Record<string, string> };
  return { ...descriptor(referrer.manifest), artifactType: referrer.artifactType, ...(annotations ? { annotations } : {}) };
}

/** The referrers tag schema's name for an image's referrers: "sha256-<hex>". */
export function referrersTag(subject: Blob): string {
  return subject.digest.replace(':', '-');
}

/** A descriptor of an index as the tool that listed it wrote it: kept whole, fields we do not know included. */
export type ListedDescriptor = Record<string, unknown>;

/**
 * What the referrers tag's manifest lists, read from the registry. Throws an Error saying
 * why when it is not a referrers index (the tag holds something else): never overwrite that.
 */
export function listedReferrers(mediaType: string, data: Buffer): ListedDescriptor[] {
  if (mediaType !== MEDIA_TYPES.index) throw new Error(`it holds a ${mediaType || 'manifest without a media type'}, not an image index`);
  let index: unknown;
  try {
    index = JSON.parse(data.toString('utf8'));
  } catch {
    throw new Error('its index is not JSON');
  }
  const manifests = (index as { manifests?: unknown } | null)?.manifests;
  if (!Array.isArray(manifests) || !manifests.every(isDescriptor)) throw new Error('its index has no list of manifest descriptors');
  return manifests;
}

/**
 * The referrers after adding `referrer`: those listed before (another tool's signature or
 * attestation) as they were and in their order, without `referrer` itself or an SBOM
 * nabla-build attached earlier to the same image; then `referrer`.
 */
export function withReferrer(listed: readonly ListedDescriptor[], referrer: Referrer): ListedDescriptor[] {
  const ours = referrerDescriptor(referrer);
  const kept = listed.filter((listing) => listing.digest !== ours.digest && !isNablaSbom(listing));
  return [...kept, ours];
}

/** The index the fallback tag points at: the image's referrers. */
export function referrersIndex(manifests: readonly ListedDescriptor[]): Blob {
  return blob(MEDIA_TYPES.index, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests })));
}

function isDescriptor(value: unknown): value is ListedDescriptor {
  const { mediaType, digest, size } = (value ?? {}) as ListedDescriptor;
  return typeof value === 'object' && typeof mediaType === 'string' && typeof digest === 'string' && typeof size === 'number';
}

function isNablaSbom(listing: ListedDescriptor): boolean {
  const annotations = listing.annotations as Record<string, unknown> | undefined;
  return annotations?.[SBOM_ANNOTATION.key] === SBOM_ANNOTATION.value;
}
