/**
 * Output specs, like buildx: `--output type=oci,dest=DIR|FILE.tar`, `type=docker,dest=FILE.tar`,
 * `type=dir,dest=DIR`; `--load` and `--push` become specs of their own.
 */
import path from 'node:path';
import { ConfigError } from '../util/errors.js';

export type OutputSpec =
  | { type: 'oci'; dest: string; format: 'layout' | 'tar' }
  | { type: 'docker'; dest: string }
  | { type: 'dir'; dest: string }
  | { type: 'load' }
  | { type: 'push' };

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
