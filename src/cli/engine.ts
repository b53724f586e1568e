/** The Docker engine of a command: connected on first use, then shared by all it does. */
import { connectDocker } from '../engine/docker.js';
import type { Engine } from '../engine/engine.js';

let connection: Promise<Engine> | undefined;

export function engine(): Promise<Engine> {
  connection ??= connectDocker(process.env.DOCKER_HOST).catch((error: unknown) => {
    connection = undefined; // the next caller tries again (doctor asks more than once)
    throw error;
  });
  return connection;
}
