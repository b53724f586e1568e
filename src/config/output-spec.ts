/**
 * Output specs, like buildx: `--output type=oci,dest=DIR|FILE.tar`, `type=docker,dest=FILE.tar`,
 * `type=dir,dest=DIR`; `--load` and `--push` become specs of their own.
 */
import path from 'node:path';
import { formatReference, type ImageReference, type RegistryReference } from '../image/reference.js';
import { ConfigError, OutputError } from '../util/errors.js';

export type OutputSpec =
  | { type: 'oci'; dest: string; format: 'layout' | 'tar' }
  | { type: 'docker'; dest: string }
  | { type: 'dir'; dest: string }
  /** --sbom FILE: the image's SBOM as a file. */
  | { type: 'sbom'; dest: string }
  | { type: 'load' }
  /** The -t names, each with its registry. */
  | { type: 'push'; targets: RegistryReference[] };

export interface OutputFlags {
  output?: string[];
  load?: boolean;
  push?: boolean;
  sbom?: string;
}

/** Every output of one build, checked against the -t names (`tags`, parsed). */
export function parseOutputs(flags: OutputFlags, tags: readonly ImageReference[], cwd: string): OutputSpec[] {
  const outputs = (flags.output ?? []).map((spec) => parseOutputSpec(spec, cwd));
  if ((flags.load || flags.push) && tags.length === 0) {
    throw new ConfigError(`--${flags.push ? 'push' : 'load'} needs a name for the image`, {
      field: '--tag',
      hint: flags.push ? 'add -t REGISTRY/NAME:TAG, e.g. -t 127.0.0.1:5000/hello:1.0' : 'add -t NAME:TAG, e.g. -t hello-c',
    });
  }
  if (flags.sbom !== undefined) outputs.push({ type: 'sbom', dest: path.resolve(cwd, flags.sbom) });
  if (flags.load) outputs.push({ type: 'load' });
  if (flags.push) outputs.push({ type: 'push', targets: tags.map(pushTarget) });
  return outputs;
}

/** A -t name --push can use: one without a registry is refused, never sent to Docker Hub unasked. */
function pushTarget(name: ImageReference): RegistryReference {
  const { registry, repository, tag } = name;
  if (registry === undefined) {
    // An OutputError (exit 5), as when the push itself found it before this check moved here.
    throw new OutputError(`--push needs a registry in the image name, and "${formatReference(name)}" has none`, {
      field: '--tag',
      hint: `name the registry host, e.g. -t 127.0.0.1:5000/${repository}:${tag}`,
    });
  }
  return { registry, repository, tag };
}

const EXAMPLES = 'e.g. --output type=oci,dest=out.tar, type=docker,dest=image.tar or type=dir,dest=rootfs';

export function parseOutputSpec(spec: string, cwd: string): OutputSpec {
  const fields = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      throw new ConfigError(`--output "${spec}": "${part}" is not key=value`, { field: '--output', hint: EXAMPLES });
    }
    const key = part.slice(0, eq).trim();
    if (fields.has(key)) {
      throw new ConfigError(`--output "${spec}": "${key}" is given twice`, { field: '--output', hint: EXAMPLES });
    }
    fields.set(key, part.slice(eq + 1).trim());
  }
  const type = fields.get('type');
  const dest = fields.get('dest');
  fields.delete('type');
  fields.delete('dest');
  const unknown = [...fields.keys()];
  if (unknown.length > 0) {
    throw new ConfigError(`--output "${spec}": unknown key "${unknown[0]}" (known: type, dest)`, {
      field: '--output',
      hint: EXAMPLES,
    });
  }
  if (type === 'load' || type === 'push') {
    throw new ConfigError(`--output type=${type} is spelled --${type}`, { field: '--output', hint: `use --${type} -t NAME:TAG` });
  }
  if (type !== 'oci' && type !== 'docker' && type !== 'dir') {
    throw new ConfigError(`--output "${spec}": type must be oci, docker or dir${type ? `, not "${type}"` : ''}`, {
      field: '--output',
      hint: EXAMPLES,
    });
  }
  if (!dest) {
    throw new ConfigError(`--output "${spec}": dest= is missing`, { field: '--output', hint: EXAMPLES });
  }
  const absolute = path.resolve(cwd, dest);
  switch (type) {
    case 'oci':
      return { type, dest: absolute, format: dest.endsWith('.tar') ? 'tar' : 'layout' };
    case 'docker':
      return { type, dest: absolute };
    case 'dir':
      return { type, dest: absolute };
  }
}
