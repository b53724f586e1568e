/** --load: the docker archive streamed into the engine, tagged with the -t names. */
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { followJsonStream } from '../../util/docker.js';
import { OutputError } from '../../util/errors.js';
import type { ImageArtifact, Publisher } from '../types.js';
import { dockerArchive } from './docker-archive.js';

export class LoadPublisher implements Publisher {
  readonly description = 'load into Docker';

  constructor(
    private readonly docker: () => Promise<Dockerode>,
    private readonly repoTags: string[],
  ) {}

  async preflight(): Promise<void> {
    await this.docker(); // an unreachable engine fails now, not after the compile
  }

  async publish(image: ImageArtifact): Promise<string> {
    const docker = await this.docker();
    const archive = await dockerArchive(image, this.repoTags);
    const stream = await docker.loadImage(Readable.from([archive]) as unknown as NodeJS.ReadableStream, { quiet: true });
    const result = await followJsonStream(stream, () => {});
    if (result.error) {
      throw new OutputError(`docker load failed: ${result.error}`, {
        field: '--load',
        hint: 'check the engine (`docker info`) and its free disk space, or write a file with --output type=docker',
      });
    }
    return this.repoTags.join(', ');
  }
}
