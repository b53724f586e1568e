/**
 * Deterministic tar: entries sorted by path, parents before children, uid/gid 0, no user
 * or group names, one fixed mtime. The same entries give the same bytes, in any order.
 * Image layers, build contexts and the source sent to a compile container all use it.
 */
import { pack } from 'tar-stream';

/** One entry of a tar. Paths are absolute (or relative) '/'-separated paths inside it. */
export type TarEntry =
  | { type: 'file'; path: string; mode: number; data: Buffer }
  | { type: 'directory'; path: string; mode: number }
  | { type: 'symlink'; path: string; target: string };

/**
 * Packs entries (absolute or relative '/'-paths) into an uncompressed tar. Paths are stored
 * without the leading '/', as in Docker layers. Missing parent folders are added with mode
 * 0755 so every runtime unpacks the same modes. Duplicate or escaping paths are bugs in
 * the caller and throw a plain Error.
 */
export async function packTar(entries: readonly TarEntry[], mtimeSeconds: number): Promise<Buffer> {
  const byPath = new Map<string, TarEntry>();
  for (const entry of entries) {
    const path = normalize(entry.path);
    if (byPath.has(path)) throw new Error(`duplicate path in tar: ${entry.path}`);
    byPath.set(path, { ...entry, path });
  }
  // Parents are added only after every given entry, so an explicit folder keeps its mode.
  for (const path of [...byPath.keys()]) {
    for (let parent = dirname(path); parent !== ''; parent = dirname(parent)) {
      const existing = byPath.get(parent);
      if (existing === undefined) byPath.set(parent, { type: 'directory', path: parent, mode: 0o755 });
      else if (existing.type !== 'directory') throw new Error(`tar path ${path} is below ${parent}, which is a ${existing.type}`);
    }
  }
  // Byte order of the paths: a parent is a prefix of its children, so it always comes first.
  const sorted = [...byPath.values()].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));

  const tar = pack();
  const mtime = new Date(mtimeSeconds * 1000);
  for (const entry of sorted) {
    const header = { name: entry.path, mtime, uid: 0, gid: 0, uname: '', gname: '' };
    switch (entry.type) {
      case 'file':
        tar.entry({ ...header, type: 'file', mode: entry.mode & 0o7777, size: entry.data.length }, entry.data);
        break;
      case 'directory':
        // Folder names end in '/', as GNU tar and Docker write them (tar-stream does not add it).
        tar.entry({ ...header, name: `${entry.path}/`, type: 'directory', mode: entry.mode & 0o7777 });
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
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.length === 0 || parts.includes('..')) throw new Error(`bad path in tar: "${path}"`);
  return parts.join('/');
}

function dirname(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}
