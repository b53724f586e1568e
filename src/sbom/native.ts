/**
 * The digests of the tender's and the libOS's source in this nabla-build (native/): the
 * c toolchain image is built from exactly these files (its tag hashes them), so they name
 * the source of the nabla-run and libOS an image holds.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ALL_FILES, selectFiles } from '../rootfs/tree.js';

const TENDER = ['include', 'tender'];
const LIBOS = ['include', 'libos', 'libos-musl'];

export function nativeSourceDigests(nativeDir: string): { tender: string; libos: string } | undefined {
  if (!fs.existsSync(path.join(nativeDir, 'tender')) || !fs.existsSync(path.join(nativeDir, 'libos'))) return undefined;
  return { tender: treeDigest(nativeDir, TENDER), libos: treeDigest(nativeDir, LIBOS) };
}

/** sha256 over the folders' files, sorted: "path\0bytes\0" each. */
function treeDigest(root: string, folders: string[]): string {
  const hash = crypto.createHash('sha256');
  for (const folder of folders) {
    const dir = path.join(root, folder);
    if (!fs.existsSync(dir)) continue;
    for (const file of selectFiles(dir, ALL_FILES).sort()) {
      const full = path.join(dir, file);
      if (!fs.lstatSync(full).isFile()) continue;
      hash.update(`${folder}/${file}\0`);
      hash.update(fs.readFileSync(full));
      hash.update('\0');
    }
  }
  return `sha256:${hash.digest('hex')}`;
}
