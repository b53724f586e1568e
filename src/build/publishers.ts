/** One publisher per requested output (like ko's publishers); the build fans the image out to each. */
import type { OutputSpec } from '../config/output-spec.js';
import type { Engine } from '../engine/engine.js';
import { DirPublisher } from '../image/publishers/dir.js';
import { DockerArchivePublisher } from '../image/publishers/docker-archive.js';
import { LoadPublisher } from '../image/publishers/load.js';
import { OciLayoutPublisher } from '../image/publishers/oci-layout.js';
import { KnownBlobs, PushPublisher } from '../image/publishers/push.js';
import { SbomFilePublisher } from '../image/publishers/sbom-file.js';
import { formatReference, type ImageReference } from '../image/reference.js';
import type { ImageArtifact, Publisher } from '../image/types.js';
import type { RegistryAccess } from '../registry/access.js';
import { throwIfAborted } from '../util/errors.js';
import type { Progress } from '../util/progress.js';

export interface PublisherDeps {
  /** The engine, for --load; connected only when that publisher needs it. */
  engine: () => Promise<Engine>;
  /** Credentials, CAs and chunk size for --push (cli/places.ts). */
  registry: RegistryAccess;
  /** Where --push says it is retrying. */
  notice?: (message: string) => void;
}

/**
 * The publishers of checked outputs (config/output-spec.ts), in the order they run: push
 * and load first, as the ones likely to fail (network, registry, engine), so a failed
 * build leaves no files behind. --push makes one publisher per name, each its own result.
 */
export function createPublishers(outputs: readonly OutputSpec[], tags: readonly ImageReference[], deps: PublisherDeps): Publisher[] {
  const rank = (o: OutputSpec) => (o.type === 'push' ? 0 : o.type === 'load' ? 1 : 2);
  const names = tags.map(formatReference);
  return [...outputs]
    .sort((a, b) => rank(a) - rank(b))
    .flatMap((output): Publisher[] => {
      switch (output.type) {
        case 'oci':
          return [new OciLayoutPublisher(output.dest, output.format, tags.map((tag) => tag.tag))];
        case 'docker':
          return [new DockerArchivePublisher(output.dest, names)];
        case 'dir':
          return [new DirPublisher(output.dest)];
        case 'sbom':
          return [new SbomFilePublisher(output.dest)];
        case 'load':
          return [new LoadPublisher(deps.engine, names)];
        case 'push': {
          // One memory of blobs for all names, so a second repository mounts what the first got.
          const known = new KnownBlobs();
          return output.targets.map((target) => new PushPublisher(target, deps.registry, known, deps.notice));
        }
      }
    });
}

/** Hands the image to each publisher in turn, one progress step each: what each wrote (references, paths). */
export async function publishAll(publishers: readonly Publisher[], image: ImageArtifact, progress: Progress, signal?: AbortSignal): Promise<string[]> {
  const published: string[] = [];
  for (const publisher of publishers) {
    throwIfAborted(signal);
    published.push(
      await progress.step(publisher.description, async (step) => {
        const where = await publisher.publish(image, progress);
        step.note(where);
        return where;
      }),
    );
  }
  return published;
}
