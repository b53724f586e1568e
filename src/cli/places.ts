/**
 * The folders and files nabla-build takes from its environment, read here at the edge
 * and passed down: lower modules never read process.env.
 */
import os from 'node:os';
import path from 'node:path';
import { parseChunkSize, type RegistryAccess } from '../registry/access.js';

/** nabla-build's state: XDG_STATE_HOME's folder of ours. */
function stateDir(): string {
  return path.join(process.env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state'), 'nabla-build');
}

/** Logs of compiles and toolchain builds, kept so a failure can be read in full. */
export function logDir(): string {
  return path.join(stateDir(), 'logs');
}

/** Locks between nabla-build processes (one toolchain build at a time per image). */
export function lockDir(): string {
  return path.join(stateDir(), 'locks');
}

/** Downloads kept between runs (Node's package for builder images). */
export function cacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'nabla-build');
}

/** Folders of toolchain images that every compile copies out, and compile caches, kept per image ID. */
export function toolchainFilesDir(): string {
  return path.join(cacheDir(), 'toolchain-files');
}

/**
 * What --push reads: docker's config.json (`docker login` credentials and helpers), Docker's
 * certs.d folders (the daemon's, and rootless Docker's under XDG_CONFIG_HOME), an extra CA
 * file and the upload chunk size.
 */
export function registryAccess(): RegistryAccess {
  const env = process.env;
  return {
    dockerConfig: path.join(env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'), 'config.json'),
    certsDirs: ['/etc/docker/certs.d', path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'docker', 'certs.d')],
    caFile: env.NABLA_REGISTRY_CA || undefined,
    chunkSize: env.NABLA_REGISTRY_CHUNK_SIZE ? parseChunkSize(env.NABLA_REGISTRY_CHUNK_SIZE) : undefined,
  };
}
