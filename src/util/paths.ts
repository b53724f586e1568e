/** Where nabla-build's own files live: the package root holds toolchains/. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The installed package's root, found by walking up from this module (src/ or dist/). */
export function packageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'toolchains')) || !fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('nabla-build is installed without its toolchains/ folder');
    dir = parent;
  }
  root = dir;
  return dir;
}
