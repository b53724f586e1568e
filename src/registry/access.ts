/**
 * What a push may use to reach a registry, gathered at the edge (cli/places.ts): the
 * docker config with the credentials, Docker's certs.d folders and an extra CA file for
 * TLS, and the size of an upload chunk.
 */
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { ConfigError } from '../util/errors.js';
import type { TlsOptions } from './http.js';

export interface RegistryAccess {
  /** docker config.json: `docker login` credentials and credential helpers. */
  dockerConfig: string;
  /**
   * Folders laid out as Docker's /etc/docker/certs.d: `DIR/HOST:PORT/*.crt` are CAs trusted
   * for that registry, `client.cert` + `client.key` a client certificate.
   */
  certsDirs: string[];
  /** A PEM file of CAs trusted for every registry (NABLA_REGISTRY_CA). */
  caFile?: string;
  /** Blobs larger than this go up in chunks of this size (NABLA_REGISTRY_CHUNK_SIZE). */
  chunkSize?: number;
}

/** The TLS options for one registry: the system CAs plus those the user gave, if any. */
export function tlsOptionsFor(registry: string, access: Pick<RegistryAccess, 'certsDirs' | 'caFile'>): TlsOptions {
  const cas: string[] = [];
  const options: TlsOptions = {};
  if (access.caFile) cas.push(readPem(access.caFile, 'NABLA_REGISTRY_CA'));
  for (const dir of access.certsDirs) {
    const hostDir = path.join(dir, registry);
    let names: string[];
    try {
      names = fs.readdirSync(hostDir).sort();
    } catch {
      continue; // no folder for this registry: nothing to add, as with docker
    }
    for (const name of names) {
      const file = path.join(hostDir, name);
      if (name.endsWith('.crt')) cas.push(readPem(file));
      // Docker's pair: X.cert with X.key is the client's certificate.
      if (name.endsWith('.cert') && !options.cert) {
        const key = file.replace(/\.cert$/, '.key');
        options.cert = readPem(file);
        options.key = readPem(key);
      }
    }
  }
  // Node's `ca` replaces its list: keep the public CAs so a registry with a public cert still works.
  if (cas.length > 0) options.ca = [...tls.rootCertificates, ...cas];
  return options;
}

function readPem(file: string, field?: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the certificate file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      file,
      field,
      hint: 'give a readable PEM file',
      cause: error,
    });
  }
}

/** NABLA_REGISTRY_CHUNK_SIZE: bytes, or with a k/M suffix (KiB, MiB). */
export function parseChunkSize(text: string): number {
  const match = /^(\d+)\s*([kKmM]?)i?B?$/.exec(text.trim());
  const size = match ? Number(match[1]) * { '': 1, k: 1024, m: 1024 * 1024 }[match[2]!.toLowerCase() as '' | 'k' | 'm'] : NaN;
  if (!Number.isSafeInteger(size) || size < 1024) {
    throw new ConfigError(`NABLA_REGISTRY_CHUNK_SIZE=${text} is not a size of at least 1024 bytes`, {
      field: 'NABLA_REGISTRY_CHUNK_SIZE',
      hint: 'give bytes, or a size like 512k or 8M',
    });
  }
  return size;
}
