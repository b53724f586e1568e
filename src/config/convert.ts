/**
 * `convert`'s input gathered at the edge into one validated, frozen ConvertConfig: the
 * source image, the flags and SOURCE_DATE_EPOCH. Checked here, before any work.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ImageReference } from '../image/reference.js';
import { ConfigError } from '../util/errors.js';
import { parseOutputs, type OutputFlags, type OutputSpec } from './output-spec.js';
import { parseReference } from './reference.js';
import { DEFAULT_MEMORY_MIB, parseSourceDateEpoch } from './resolve.js';
import { memoryMiB } from './schema.js';

export interface ConvertFlags extends OutputFlags {
  tag?: string[];
  entrypoint?: string;
  mem?: string;
  ports?: string[];
  check?: boolean;
}

/** An image in a registry: `reference` is its tag, or a digest `sha256:...`. */
export interface RegistrySource {
  registry: string;
  repository: string;
  reference: string;
}

export interface ConvertConfig {
  /**
   * An OCI layout (folder or tar) or docker archive on disk; an image the engine has (one
   * whose name starts with a registry host is pulled from there when the engine lacks it);
   * or, for `docker://NAME`, always the registry's.
   */
  source:
    | { kind: 'path'; path: string }
    | { kind: 'engine'; name: string; registry?: RegistrySource }
    | ({ kind: 'registry'; name: string } & RegistrySource);
  /** Replaces the image's Entrypoint (and, as `docker run --entrypoint` does, its Cmd). */
  entrypoint?: string[];
  memoryMiB: number;
  /** "8080/tcp", added to the image's own ExposedPorts. */
  ports: string[];
  /** Print the report only (no toolchain, no image written). */
  check: boolean;
  sourceDateEpoch: number;
  outputs: OutputSpec[];
  tags: ImageReference[];
}

const MEM_MIN = 8;
const MEM_MAX = 64 * 1024;

export function resolveConvertConfig(image: string, flags: ConvertFlags, ctx: { cwd: string; env: NodeJS.ProcessEnv }): ConvertConfig {
  if (image.trim() === '') throw new ConfigError('no image given', { field: 'IMAGE', hint: 'e.g. `nabla-build convert python:3.11 --load -t python-nabla`' });
  const local = path.resolve(ctx.cwd, image);
  const source: ConvertConfig['source'] = image.startsWith(REGISTRY_PREFIX)
    ? { kind: 'registry', name: image.slice(REGISTRY_PREFIX.length), ...parseRegistrySource(image.slice(REGISTRY_PREFIX.length), image) }
    : fs.existsSync(local)
      ? { kind: 'path', path: local }
      : { kind: 'engine', name: image, registry: namesRegistry(image) ? parseRegistrySource(image, image) : undefined };
  const tags = (flags.tag ?? []).map(parseReference);
  return Object.freeze({
    source,
    entrypoint: flags.entrypoint === undefined ? undefined : parseEntrypoint(flags.entrypoint),
    memoryMiB: parseMemory(flags.mem),
    ports: (flags.ports ?? []).flatMap((list) => list.split(',')).map(parsePort),
    check: flags.check === true,
    sourceDateEpoch: parseSourceDateEpoch(ctx.env.SOURCE_DATE_EPOCH),
    outputs: flags.check ? [] : parseOutputs(flags, tags, ctx.cwd),
    tags,
  });
}

/** skopeo's name for an image in a registry: `docker://HOST/NAME:TAG`. */
const REGISTRY_PREFIX = 'docker://';
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Whether the name's first component is a registry host (it has a dot or a port, or is localhost), as Docker reads it. */
function namesRegistry(name: string): boolean {
  const first = name.slice(0, Math.max(name.indexOf('/'), 0));
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

/** `[HOST/]NAME[:TAG][@sha256:HEX]`; Docker Hub's `docker.io` (and `library/`) when no host is named. */
function parseRegistrySource(text: string, given: string): RegistrySource {
  const hint = 'e.g. docker://127.0.0.1:5000/team/app:1.0 or docker://registry.example/app@sha256:<64 hex>';
  const at = text.indexOf('@');
  const digest = at >= 0 ? text.slice(at + 1) : undefined;
  if (digest !== undefined && !DIGEST.test(digest)) throw new ConfigError(`${given}: "${digest}" is not a sha256 digest`, { field: 'IMAGE', hint });
  let parsed;
  try {
    parsed = parseReference(at >= 0 ? text.slice(0, at) : text);
  } catch (error) {
    throw new ConfigError(`${given}: not an image name (${(error as ConfigError).message})`, { field: 'IMAGE', hint, cause: error });
  }
  const registry = parsed.registry ?? 'docker.io';
  const repository = parsed.registry === undefined && !parsed.repository.includes('/') ? `library/${parsed.repository}` : parsed.repository;
  return { registry, repository, reference: digest ?? parsed.tag };
}

/** `'["python3","app.py"]'` (JSON, as in a Dockerfile) or one program name/path. */
function parseEntrypoint(value: string): string[] {
  const hint = `give a JSON array, e.g. --entrypoint '["python3","-m","http.server"]', or one program, e.g. --entrypoint python3`;
  let argv: unknown = [value];
  if (value.trim().startsWith('[')) {
    try {
      argv = JSON.parse(value);
    } catch (error) {
      throw new ConfigError(`--entrypoint ${value}: not valid JSON (${(error as Error).message})`, { field: '--entrypoint', hint });
    }
  }
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string' && a !== '' && !a.includes('\u0000'))) {
    throw new ConfigError(`--entrypoint ${value}: must name a program (non-empty strings, no NUL)`, { field: '--entrypoint', hint });
  }
  if ((argv[0] as string).startsWith('-')) throw new ConfigError(`--entrypoint ${value}: the program's name cannot start with "-"`, { field: '--entrypoint', hint });
  return argv as string[];
}

function parseMemory(value: string | undefined): number {
  if (value === undefined) return DEFAULT_MEMORY_MIB;
  const mib = /^\d+\s*[a-z]*$/i.test(value.trim()) ? memoryMiB(value) : Number.NaN;
  if (!Number.isInteger(mib) || mib < MEM_MIN || mib > MEM_MAX) {
    throw new ConfigError(`--mem ${value}: not a guest memory size between ${MEM_MIN} MiB and 64G`, { field: '--mem', hint: 'give MiB (256) or a size such as 1G' });
  }
  return mib;
}

function parsePort(value: string): string {
  const match = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(value.trim());
  const port = match ? Number(match[1]) : 0;
  if (!match || port < 1 || port > 65535) {
    throw new ConfigError(`--ports ${value}: not a port`, { field: '--ports', hint: 'e.g. --ports 8000 or --ports 8080,53/udp' });
  }
  return `${port}/${match[2] ?? 'tcp'}`;
}
