/**
 * One `docker build` of a toolchain or builder image: the context sent as a tar, the
 * engine's output shown live and kept in a log file whose tail a failure shows.
 */
import type { Engine } from '../engine/engine.js';
import { errorMessage, ToolchainError, throwIfAborted } from '../util/errors.js';
import { LogFile } from '../util/log-file.js';
import { packTar, type TarEntry } from '../util/tar.js';

export interface DockerBuild {
  tag: string;
  context: TarEntry[];
  buildargs: Record<string, string>;
  labels: Record<string, string>;
  /** Host networking for Dockerfile steps that run apt or npm. */
  hostNetwork: boolean;
  /** What is built, for messages: `toolchain "c"`. */
  what: string;
  /** The Dockerfile a failure points at, when it is a file of the user's. */
  dockerfile?: string;
  /** Where the build's full log is kept. */
  logDir: string;
  onLine: (line: string) => void;
  signal?: AbortSignal;
}

export async function dockerBuild(engine: Engine, build: DockerBuild): Promise<void> {
  const log = new LogFile(build.logDir, build.tag.replace(/[^A-Za-z0-9.-]+/g, '-'));
  try {
    const { tag, buildargs, labels, hostNetwork, signal } = build;
    await engine.buildImage(await packTar(build.context, 0), { tag, buildargs, labels, hostNetwork, signal }, (line) => {
      log.write(line);
      build.onLine(line);
    });
  } catch (error) {
    throwIfAborted(build.signal);
    throw new ToolchainError(`${build.what} failed to build: ${errorMessage(error)}`, {
      file: build.dockerfile,
      hint: build.dockerfile ? `fix ${build.dockerfile}, then build again (nothing was tagged)` : 'see the log above',
      details: log.summary(),
      cause: error,
    });
  } finally {
    log.close();
  }
}
