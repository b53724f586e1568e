/**
 * The app's files, chosen by `files.include` / `files.exclude` globs and walked in sorted
 * order so the layer (and later rootfs.tar) comes out the same every time.
 */
import fs from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import type { TarEntry } from '../util/tar.js';

export interface FileFilter {
  include: string[];
  exclude: string[];
}

export const ALL_FILES: FileFilter = { include: ['**'], exclude: [] };

/** Relative, '/'-separated paths of files and symlinks under dir that pass the filter. */
export function selectFiles(dir: string, filter: FileFilter): string[] {
  const included = picomatch(filter.include, { dot: true });
  const excluded = picomatch(filter.exclude, { dot: true });
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (excluded(child)) continue;
      if (entry.isDirectory()) {
        if (!excluded(`${child}/`)) walk(child);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && included(child)) {
        out.push(child);
      }
    }
  };
  walk('');
  return out.sort();
}

/** Tar entries for `files` (relative to dir) placed under `mountPoint` in the image. */
export function fileEntries(dir: string, files: string[], mountPoint: string): TarEntry[] {
  return files.map((file) => {
    const full = path.join(dir, file);
    const stat = fs.lstatSync(full);
    const target = path.posix.join(mountPoint, file);
    if (stat.isSymbolicLink()) return { type: 'symlink', path: target, target: fs.readlinkSync(full) };
    // Only the executable bit survives: owner, group and umask of the build machine must not.
    return { type: 'file', path: target, mode: stat.mode & 0o111 ? 0o755 : 0o644, data: fs.readFileSync(full) };
  });
}

/** Every file, directory and symlink under dir, as tar entries under mountPoint. */
export function treeEntries(dir: string, mountPoint: string): TarEntry[] {
  return fileEntries(dir, selectFiles(dir, ALL_FILES), mountPoint);
}
