/**
 * The one small result type between building and publishing (like ko's build.Result):
 * `buildImage()` turns an ImageSpec into an ImageArtifact; every --output, --load and
 * --push is a Publisher of that artifact. Image code never imports publishers, and only
 * src/build picks them (build/publishers.ts).
 */
import type { Progress } from '../util/progress.js';
import type { TarEntry } from '../util/tar.js';

export interface ImageConfigSpec {
  entrypoint: string[];
  cmd: string[];
  env: string[]; // "KEY=value"
  workingDir: string;
  /** The user to run as ("1000", "app:app"); none: root. Only a converted image carries its own. */
  user?: string;
  exposedPorts: string[]; // "8080/tcp"
  labels: Record<string, string>;
}

export interface ImageSpec {
  /** The image's single layer; paths are absolute inside the image. */
  entries: TarEntry[];
  config: ImageConfigSpec;
  /** The manifest's annotations (org.opencontainers.image.*). */
  annotations?: Record<string, string>;
  /** Seconds since the epoch, from SOURCE_DATE_EPOCH (default 1980-01-01): every mtime and `created`. */
  sourceDateEpoch: number;
}

/** A content-addressed blob held in memory. */
export interface Blob {
  mediaType: string;
  digest: string; // "sha256:<hex>"
  size: number;
  data: Buffer;
}

export interface LayerBlob extends Blob {
  /** Digest of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
  /** The uncompressed tar, which docker-archive and type=dir outputs need. */
  uncompressed: Buffer;
}

export interface ImageArtifact {
  manifest: Blob; // OCI image manifest; its digest is the image digest
  config: Blob; // OCI image config; its digest is Docker's image ID
  layers: LayerBlob[];
  /** The SBOM, attached as an OCI 1.1 artifact whose subject is the manifest (image/referrers.ts). */
  sbom?: Referrer;
}

/** An artifact that refers to the image (OCI 1.1 `subject`): found by the referrers API or its tag. */
export interface Referrer {
  /** Its manifest: artifactType, the empty config, one layer, subject = the image manifest. */
  manifest: Blob;
  artifactType: string;
  config: Blob;
  /** The document itself (the SBOM's JSON). */
  document: Blob;
}

/** Where an image goes: an --output, --load or --push. */
export interface Publisher {
  /** Human description for progress, e.g. "oci layout → ./out". */
  readonly description: string;
  /** Checks what can be checked before the (slow) build, e.g. that a dest is writable. */
  preflight?(): Promise<void>;
  /** Returns the reference or path written, printed as the build's result. */
  publish(image: ImageArtifact, progress: Progress): Promise<string>;
}
