/** One publisher per requested output (like ko's publishers, fanned out by the build). */
import type Dockerode from 'dockerode';
import type { OutputSpec } from '../../config/output-spec.js';
import { formatReference, type ImageReference } from '../../config/reference.js';
import type { Publisher } from '../types.js';
import { DirPublisher } from './dir.js';
import { DockerArchivePublisher } from './docker-archive.js';
import { LoadPublisher } from './load.js';
import { OciLayoutPublisher } from './oci-layout.js';
import { PushPublisher } from './push.js';

export function createPublishers(
  outputs: readonly OutputSpec[],
  tags: readonly ImageReference[],
  deps: { docker: () => Promise<Dockerode> },
): Publisher[] {
  const names = tags.map(formatReference);
  return outputs.map((output): Publisher => {
    switch (output.type) {
      case 'oci':
        return new OciLayoutPublisher(output.dest, output.format, tags[0]?.tag ?? 'latest');
      case 'docker':
        return new DockerArchivePublisher(output.dest, names);
      case 'dir':
        return new DirPublisher(output.dest);
      case 'load':
        return new LoadPublisher(deps.docker, names);
      case 'push':
        return new PushPublisher([...tags]);
    }
  });
}
