/**
 * One `docker build` through the engine API: the context sent as a tar, every line of
 * the daemon's answer checked for an error (the stream's end proves nothing), the whole
 * log kept in a file whose tail a failure shows.
 */
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { packTar } from '../image/tar.js';
import type { LayerEntry } from '../image/types.js';
import { followJsonStream } from '../util/docker.js';
import { ToolchainError, throwIfAborted } from '../util/errors.js';
import { LogFile } from '../util/log-file.js';

export interface DockerBuild {
  tag: string;
  context: LayerEntry[];
  buildargs: Record<string, string>;
  labels: Record<string, string>;
  /** Host networking for Dockerfile steps that run apt or npm. */
  hostNetwork: boolean;
  /** What is built, for messages: `toolchain "c"`. */
  what: string;
  /** The Dockerfile a failure points at, when it is a file of the user's. */
  dockerfile?: string;
  onLine: (line: string) => void;
  signal?: AbortSignal;
}

export async function dockerBuild(docker: Dockerode, build: DockerBuild): Promise<void> {
  const log = new LogFile(build.tag.replace(/[^A-Za-z0-9.-]+/g, '-'));
  const failed = (why: string, cause?: unknown) =>
    new ToolchainError(`${build.what} failed to build: ${why}`, {
      file: build.dockerfile,
      hint: build.dockerfile ? `fix ${build.dockerfile}, then build again (nothing was tagged)` : 'see the log above',
      details: log.summary(),
      cause,
    });
  try {
    const stream = await docker.buildImage(Readable.from([await packTar(build.context, 0)]), {
      t: build.tag,
      buildargs: build.buildargs,
      labels: build.labels,
      ...(build.hostNetwork ? { networkmode: 'host' } : {}),
      forcerm: true,
      pull: false,
      abortSignal: build.signal,
    } as Dockerode.ImageBuildOptions);
    const { error } = await followJsonStream(stream, (line) => {
      log.write(line);
      build.onLine(line);
    });
    if (error) throw failed(error);
  } catch (error) {
    throwIfAborted(build.signal);
    throw error instanceof ToolchainError ? error : failed((error as Error).message, error);
  } finally {
    log.close();
  }
}
