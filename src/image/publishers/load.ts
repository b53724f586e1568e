/** --load: the docker archive loaded into the engine, tagged with the -t names. */
import type { Engine } from '../../engine/engine.js';
import { errorMessage, OutputError } from '../../util/errors.js';
import type { ImageArtifact, Publisher } from '../types.js';
import { dockerArchive } from './docker-archive.js';

export class LoadPublisher implements Publisher {
  readonly description = 'load into Docker';

  /**
   * engine: asked for only when needed (a build with no --load never connects).
   * repoTags: the -t names, formatted; the archive's RepoTags make `docker load` tag with them.
   */
  constructor(
    private readonly engine: () => Promise<Engine>,
    private readonly repoTags: readonly string[],
  ) {}

  async preflight(): Promise<void> {
    await this.engine(); // an unreachable engine fails now, not after the compile
  }

  async publish(image: ImageArtifact): Promise<string> {
    const engine = await this.engine();
    const archive = await dockerArchive(image, this.repoTags);
    try {
      await engine.loadImage(archive);
    } catch (error) {
      throw loadFailed(errorMessage(error), error);
    }
    // A load that reported no error proves little: ask the engine for the image and its tags.
    const loaded = await engine.inspectImage(image.config.digest).catch((error: unknown): never => {
      throw loadFailed(`cannot inspect the image after loading it: ${errorMessage(error)}`, error);
    });
    if (!loaded) throw loadFailed(`the engine has no image ${image.config.digest} after loading it`);
    const missing = this.repoTags.filter((tag) => !loaded.repoTags.includes(familiarName(tag)));
    if (missing.length > 0) throw loadFailed(`the image was loaded but not tagged ${missing.join(', ')}`);
    return this.repoTags.length > 0 ? this.repoTags.join(', ') : image.config.digest;
  }
}

function loadFailed(why: string, cause?: unknown): OutputError {
  return new OutputError(`docker load failed: ${why}`, {
    field: '--load',
    hint: 'check the engine (`docker info`) and its free disk space, or write a file with --output type=docker',
    cause,
  });
}

/** How Docker lists a name: "docker.io/library/hello:1" → "hello:1". */
function familiarName(name: string): string {
  return name.replace(/^docker\.io\//, '').replace(/^library\/(?=[^/]+$)/, '');
}
