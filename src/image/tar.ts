/**
 * Deterministic tar: entries sorted by path, parents before children, uid/gid 0, no user
 * or group names, one fixed mtime. The same entries give the same bytes, always.
 */
import { pack } from 'tar-stream';
import type { LayerEntry } from './types.js';

export async function packTar(entries: readonly LayerEntry[], mtimeSeconds: number): Promise<Buffer> {
  const byPath = new Map<string, LayerEntry>();
  for (const entry of entries) {
    const path = normalize(entry.path);
    if (byPath.has(path)) throw new Error(`duplicate path in layer: ${entry.path}`);
    byPath.set(path, { ...entry, path });
    // Parent folders are written explicitly so every runtime unpacks the same modes.
    for (let parent = dirname(path); parent !== ''; parent = dirname(parent)) {
      if (!byPath.has(parent)) byPath.set(parent, { type: 'directory', path: parent, mode: 0o755 });
    }
  }
  const sorted = [...byPath.values()].sort((a, b) => compare(a.path, b.path));
  const tar = pack();
  const mtime = new Date(mtimeSeconds * 1000);
  for (const entry of sorted) {
    const header = { name: entry.path, mtime, uid: 0, gid: 0, uname: '', gname: '' };
    switch (entry.type) {
      case 'file':
        tar.entry({ ...header, type: 'file', mode: entry.mode, size: entry.data.length }, entry.data);
        break;
      case 'directory':
        tar.entry({ ...header, name: `${entry.path}/`, type: 'directory', mode: entry.mode });
        break;
      case 'symlink':
        tar.entry({ ...header, type: 'symlink', mode: 0o777, linkname: entry.target });
        break;
    }
  }
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** "/nabla/app" → "nabla/app"; rejects paths that could escape the image root. */
function normalize(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) throw new Error(`bad path in layer: ${path}`);
  return parts.join('/');
}

function dirname(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** Byte order of the UTF-8 paths, as the tar would be sorted by any tool. */
function compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
