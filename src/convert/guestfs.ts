/**
 * Path lookups in a flattened image, as the kernel and a shell would make them inside the
 * container: symlinks followed in every component (absolute ones from the image's root,
 * never the host's), at most 40 of them, `..` stopping at the root; a bare command name
 * searched in PATH.
 */
import { clean, type FsNode } from './flatten.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MAX_LINKS = 40;

export interface Found {
  /** The path with every symlink resolved, without a leading '/'. */
  path: string;
  node: FsNode;
}

/** The node at `path` (relative ones from `cwd`), symlinks followed; undefined if none. */
export function resolvePath(nodes: ReadonlyMap<string, FsNode>, path: string, cwd = '/'): Found | undefined {
  const pending = (path.startsWith('/') ? path : `${cwd}/${path}`).split('/');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const here = [...done, part].join('/');
    const node = nodes.get(here);
    if (node === undefined) return undefined;
    if (node.type === 'symlink') {
      if (++links > MAX_LINKS) return undefined;
      if (node.target.startsWith('/')) done.length = 0;
      pending.unshift(...node.target.split('/'));
      continue;
    }
    if (node.type === 'file' && pending.some((p) => p !== '' && p !== '.')) return undefined;
    done.push(part);
  }
  const final = done.join('/');
  const node = nodes.get(final);
  return node === undefined ? (final === '' ? { path: '', node: { type: 'directory', mode: 0o755 } } : undefined) : { path: final, node };
}

/** A command as execvp finds it: a name with a '/' from cwd, a bare name in PATH; only executable files. */
export function which(nodes: ReadonlyMap<string, FsNode>, command: string, pathVar: string, cwd: string): Found | undefined {
  const candidates = command.includes('/') ? [command] : pathVar.split(':').map((dir) => `${dir === '' ? '.' : dir}/${command}`);
  for (const candidate of candidates) {
    const found = resolvePath(nodes, candidate, cwd);
    if (found?.node.type === 'file' && found.node.mode & 0o111) return found;
  }
  return undefined;
}

/** Names directly in a folder of the image (its path as written, e.g. "/usr/bin"). */
export function listDir(nodes: ReadonlyMap<string, FsNode>, dir: string): string[] {
  const found = resolvePath(nodes, dir);
  if (found?.node.type !== 'directory') return [];
  const prefix = found.path === '' ? '' : `${found.path}/`;
  const names: string[] = [];
  for (const path of nodes.keys()) {
    if (path.startsWith(prefix) && path.length > prefix.length && !path.slice(prefix.length).includes('/')) names.push(path.slice(prefix.length));
  }
  return names.sort();
}

export { clean };
