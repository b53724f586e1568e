/** One publisher per requested output (like ko's publishers); the build fans the image out to each. */
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import type { OutputSpec } from '../../config/output-spec.js';
import { formatReference, type ImageReference } from '../../config/reference.js';
import { connectDocker } from '../../util/docker.js';
import { OutputError } from '../../util/errors.js';
import type { Publisher } from '../types.js';
import { DirPublisher } from './dir.js';
import { DockerArchivePublisher } from './docker-archive.js';
import { LoadPublisher } from './load.js';
import { OciLayoutPublisher } from './oci-layout.js';
import { PushPublisher } from './push.js';

export interface PublisherDeps {
  /** The Docker engine, for --load; connected only when a publisher needs it. */
  docker?: () => Promise<Dockerode>;
  /** docker config.json with `docker login` credentials for --push (default ~/.docker/config.json). */
  dockerConfig?: string;
}

/** --push makes one publisher per tag, so each pushed reference is its own result. */
export function createPublishers(
  outputs: readonly OutputSpec[],
  tags: readonly ImageReference[],
  deps: PublisherDeps = {},
): Publisher[] {
  const names = tags.map(formatReference);
  return outputs.flatMap((output): Publisher[] => {
    switch (output.type) {
      case 'oci':
        return [new OciLayoutPublisher(output.dest, output.format, tags.map((tag) => tag.tag))];
      case 'docker':
        return [new DockerArchivePublisher(output.dest, names)];
      case 'dir':
        return [new DirPublisher(output.dest)];
      case 'load':
        return [new LoadPublisher(deps.docker ?? connectDocker, names)];
      case 'push': {
        if (tags.length === 0) {
          throw new OutputError('--push needs a name for the image', {
            field: '--push',
            hint: 'add -t REGISTRY/NAME:TAG, e.g. -t 127.0.0.1:5000/hello:1.0',
          });
        }
        const dockerConfig = deps.dockerConfig ?? path.join(os.homedir(), '.docker', 'config.json');
        return tags.map((tag) => new PushPublisher(tag, dockerConfig));
      }
    }
  });
}
