/**
 * One place that connects to the Docker engine: dockerode is loaded lazily (so `--help`
 * and `--executor local` never load it) and a failed ping becomes one clear message.
 */
import type Dockerode from 'dockerode';
import { EnvironmentError } from './errors.js';

let connection: Promise<Dockerode> | undefined;

export function connectDocker(): Promise<Dockerode> {
  connection ??= open();
  return connection;
}

async function open(): Promise<Dockerode> {
  let Docker: typeof Dockerode;
  try {
    Docker = (await import('dockerode')).default;
  } catch (error) {
    throw new EnvironmentError('this nabla-build has no Docker client (a builder image runs --executor local only)', {
      field: '--executor',
      hint: 'use --executor local here, or run nabla-build where it was installed with npm',
      cause: error,
    });
  }
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (error) {
    connection = undefined;
    const where = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
    throw new EnvironmentError(`cannot reach the Docker engine at ${where}: ${(error as Error).message}`, {
      field: 'DOCKER_HOST',
      hint:
        'start Docker (`sudo systemctl start docker`, or `sudo dockerd &`), fix DOCKER_HOST, ' +
        'or build inside a toolchain image with --executor local',
      cause: error,
    });
  }
  return docker;
}

/**
 * Reads a daemon JSON-lines stream (build, pull, load, import) to its end. Every line is
 * checked for an error: the end of the stream alone never means success.
 */
export async function followJsonStream(
  stream: NodeJS.ReadableStream,
  onLine: (text: string) => void,
): Promise<{ error?: string; aux: unknown[] }> {
  const aux: unknown[] = [];
  let error: string | undefined;
  let pending = '';
  const handle = (raw: string) => {
    if (raw.trim() === '') return;
    let message: { stream?: string; status?: string; error?: string; errorDetail?: { message?: string }; aux?: unknown };
    try {
      message = JSON.parse(raw);
    } catch {
      onLine(raw);
      return;
    }
    if (message.error || message.errorDetail) error ??= message.errorDetail?.message ?? message.error;
    if (message.aux !== undefined) aux.push(message.aux);
    const text = message.stream ?? message.status;
    if (text) for (const line of text.split('\n')) if (line.trim() !== '') onLine(line.trimEnd());
  };
  for await (const chunk of stream) {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    lines.forEach(handle);
  }
  handle(pending);
  return { error, aux };
}
