/** An image's name: `[registry[:port]/]repository:tag`. config/reference.ts parses -t into one. */

export interface ImageReference {
  /** Registry host[:port]; undefined for a name without one (Docker Hub on push). */
  registry?: string;
  repository: string; // path, e.g. "library/hello" or "team/app"
  tag: string;
}

/** A name that says which registry holds it: what --push can push to. */
export type RegistryReference = ImageReference & { registry: string };

export function formatReference(ref: ImageReference): string {
  return `${ref.registry ? `${ref.registry}/` : ''}${ref.repository}:${ref.tag}`;
}
