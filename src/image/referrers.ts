/**
 * Artifacts that refer to an image (OCI 1.1): a manifest with `artifactType`, the empty
 * config, the document as its one layer and `subject` = the image manifest. Registries
 * with the referrers API list it under /v2/<name>/referrers/<digest>; for the others
 * (distribution 2.x) clients read the fallback tag `sha256-<hex>`, an index of the
 * referrers. An OCI layout lists it in index.json beside the image.
 */
import { blob, descriptor, MEDIA_TYPES, sortKeys } from './oci.js';
import type { Blob, ImageArtifact, Referrer } from './types.js';

/** The image with `document` attached as an artifact of type `mediaType` (its layer's media type too). */
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
        annotations: sortKeys(annotations),
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

/** The index the fallback tag points at: the image's referrers (here: ours). */
export function referrersIndex(referrers: readonly Referrer[]): Blob {
  return blob(
    MEDIA_TYPES.index,
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: referrers.map(referrerDescriptor) })),
  );
}
