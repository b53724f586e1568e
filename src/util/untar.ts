/**
 * Unpacks a tar (an image layer, or what a toolchain container produced) with its modes
 * and mtimes; owners are left to whoever runs the build. `strip` drops a leading folder
 * name (e.g. "out/" from Docker's getArchive). Entries with '..', absolute paths or paths
 * below a symlink would write outside `root`: they throw instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';

export async function untar(source: NodeJS.ReadableStream | Buffer, root: string, strip = ''): Promise<void> {
  const folders: { target: string; mode: number; mtime: Date }[] = [];
  const symlinks = new Set<string>();
  const unpack = extract();
  (Buffer.isBuffer(source) ? Readable.from([source]) : source).pipe(unpack);
  for await (const entry of unpack) {
    const { name, type, mode = 0o644, mtime = new Date(0), linkname } = entry.header;
    const rel = (name.startsWith(strip) ? name.slice(strip.length) : name).replace(/\/+$/, '');
    if (rel === '' || `${rel}/` === strip) {
      entry.resume(); // the stripped folder itself
      continue;
    }
    const parts = rel.split('/');
    if (!name.startsWith(strip) || path.isAbsolute(rel) || parts.includes('..')) throw new Error(`unsafe path in tar: "${name}"`);
    if (parts.some((_, i) => symlinks.has(parts.slice(0, i).join('/')))) throw new Error(`tar path below a symlink: "${name}"`);
    const target = path.join(root, rel);
    if (type === 'file') {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      await fs.promises.writeFile(target, Buffer.concat(chunks), { flag: 'wx' });
      await fs.promises.chmod(target, mode);
      await fs.promises.utimes(target, mtime, mtime);
      continue;
    }
    entry.resume();
    if (type === 'directory') {
      await fs.promises.mkdir(target, { recursive: true });
      folders.push({ target, mode, mtime });
    } else if (type === 'symlink' && linkname) {
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      await fs.promises.symlink(linkname, target);
      await fs.promises.lutimes(target, mtime, mtime);
      symlinks.add(rel);
    } else {
      throw new Error(`unexpected ${type} entry in tar: "${name}"`);
    }
  }
  // Folder modes and mtimes last, deepest first: writing their contents changes both.
  for (const { target, mode, mtime } of folders.reverse()) {
    await fs.promises.chmod(target, mode);
    await fs.promises.utimes(target, mtime, mtime);
  }
}
