/** --load: the docker archive streamed into the engine, tagged with the -t names. */
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { followJsonStream } from '../../util/docker.js';
import { errorMessage, OutputError } from '../../util/errors.js';
import type { ImageArtifact, Publisher } from '../types.js';
import { dockerArchive } from './docker-archive.js';

export class LoadPublisher implements Publisher {
  readonly description = 'load into Docker';

  /**
   * docker: the engine, asked for only when needed (a build with no --load never connects).
   * repoTags: the -t names, formatted; the archive's RepoTags make `docker load` tag with them.
   */
  constructor(
    private readonly docker: () => Promise<Dockerode>,
    private readonly repoTags: readonly string[],
  ) {}

  async preflight(): Promise<void> {
    await this.docker(); // an unreachable engine fails now, not after the compile
  }

  async publish(image: ImageArtifact): Promise<string> {
    const docker = await this.docker();
    const archive = await dockerArchive(image, this.repoTags);
    let response: NodeJS.ReadableStream;
    try {
      response = await docker.loadImage(Readable.from([archive]), { quiet: true });
    } catch (error) {
      throw loadFailed(errorMessage(error), error);
    }
    // Errors arrive as JSON lines in a stream that still ends normally: read every line.
    const { error } = await followJsonStream(response, () => {});
    if (error) throw loadFailed(error);
    // And the end of the stream proves nothing: ask the engine for the image and its tags.
    let repoTags: string[];
    try {
      repoTags = (await docker.getImage(image.config.digest).inspect()).RepoTags ?? [];
    } catch (cause) {
      throw loadFailed(`the engine has no image ${image.config.digest} after loading it`, cause);
    }
    const missing = this.repoTags.filter((tag) => !repoTags.includes(familiarName(tag)));
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
