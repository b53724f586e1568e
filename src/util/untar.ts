/** Unpacks a tar (stream or buffer) into a folder, refusing entries that would land outside it. */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';

/** `strip` is a leading folder name to drop (e.g. "out/" from Docker's getArchive). */
export async function untar(source: NodeJS.ReadableStream | Buffer, dir: string, strip = ''): Promise<void> {
  const unpack = extract();
  (Buffer.isBuffer(source) ? Readable.from([source]) : source).pipe(unpack);
  const root = path.resolve(dir);
  for await (const entry of unpack) {
    const name = entry.header.name.replace(/^\.\//, '');
    const rel = name.startsWith(strip) ? name.slice(strip.length).replace(/\/$/, '') : '';
    const target = path.resolve(root, rel);
    if (rel === '' || !target.startsWith(root + path.sep)) {
      entry.resume();
      continue;
    }
    const mode = entry.header.mode ?? 0o644;
    switch (entry.header.type) {
      case 'directory':
        fs.mkdirSync(target, { recursive: true });
        fs.chmodSync(target, mode);
        entry.resume();
        break;
      case 'symlink':
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.symlinkSync(entry.header.linkname!, target);
        entry.resume();
        break;
      case 'file': {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        fs.writeFileSync(target, Buffer.concat(chunks));
        fs.chmodSync(target, mode);
        break;
      }
      default:
        entry.resume(); // devices, fifos, hard links: not part of an app image
    }
  }
}
