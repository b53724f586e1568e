/**
 * What an SBOM lists, before it is written in a format (cyclonedx.ts): one Component per
 * thing in (or behind) the image, each named by a purl where one exists.
 */

/** CycloneDX 1.5 component types (the subset nabla-build uses). */
export type ComponentType = 'application' | 'container' | 'library' | 'operating-system' | 'data' | 'file';

export interface Component {
  /** Unique in one SBOM; the purl when there is one. */
  ref: string;
  type: ComponentType;
  name: string;
  version?: string;
  purl?: string;
  /** SPDX license expression, when the package says one. */
  license?: string;
  /** Algorithm (CycloneDX spelling: "SHA-256", "SHA-512") → hex. */
  hashes?: Record<string, string>;
  description?: string;
  /** required: in the image; excluded: used to build it, not shipped (the toolchain image). */
  scope?: 'required' | 'excluded';
  /** Where its source is (a VCS URL). */
  vcs?: string;
  /** Extra facts, as dev.nabla.* name → value. */
  properties?: Record<string, string>;
  /** refs of the components it needs. */
  dependsOn?: string[];
}
