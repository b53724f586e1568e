/**
 * Folders of a toolchain image that every compile brings back the same (its time zones; a
 * language runtime the toolchain names in $NABLA_OUT/rootfs-shared), kept on the host per
 * image ID, and the compile cache of toolchains that ask for one ($NABLA_CACHE, e.g. Go's
 * build and module caches). An image never changes under its ID, so the second build reads
 * them from disk instead of copying thousands of files out of a container, or compiling
 * them, again.
 * Image folders are filled through a temporary folder renamed into place: a build that
 * stops half way leaves nothing that looks complete, and two builds filling the same folder
 * both end with one. Every use marks the image's folder as used (its mtime), under a lock
 * that eviction takes too, so a folder a build has started to use is never removed under it.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { debug } from '../util/debug.js';
import { withFileLock } from '../util/file-lock.js';

const log = debug('toolchain-files');

/** Entries for images unused this long are removed when another is filled. */
export const UNUSED_FOR_MS = 30 * 24 * 3600 * 1000;

/** The compile cache's folder in an image's folder (no image path encodes to it: they start with %2F). */
const COMPILE_CACHE = 'compile-cache';
/** The lock is held for a few file operations: look again soon. */
const LOCK = { pollMs: 10 };
/** What eviction renames a folder to before removing it, outside the lock. */
const REMOVING = '.removing-';

export class ToolchainFiles {
  private readonly lock: string;

  constructor(private readonly root: string) {
    this.lock = path.join(root, '.lock');
  }

  /** The host folder holding `imagePath` of image `imageId`, filled by `fill(into)` the first time. */
  async folder(imageId: string, imagePath: string, fill: (into: string) => Promise<void>): Promise<string> {
    const imageDir = await this.use(imageId);
    const dir = path.join(imageDir, encodeURIComponent(imagePath));
    if (fs.existsSync(dir)) return dir;
    const temporary = `${dir}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      fs.mkdirSync(temporary);
      await fill(temporary);
      fs.renameSync(temporary, dir);
      log(`kept ${imagePath} of ${imageId} in ${dir}`);
    } catch (error) {
      fs.rmSync(temporary, { recursive: true, force: true });
      // Another build renamed its copy into place first: use that one.
      if (!fs.existsSync(dir)) throw error;
    }
    await this.removeUnused(imageDir);
    return dir;
  }

  /**
   * The compile cache of image `imageId`: a folder compiles in that image share and write
   * to (the toolchain keeps it usable by concurrent compiles, as Go's caches are). Owner-only:
   * a container's root may leave files in it that any local user could otherwise reach.
   */
  async compileCache(imageId: string): Promise<string> {
    const imageDir = await this.use(imageId);
    const dir = path.join(imageDir, COMPILE_CACHE);
    if (fs.existsSync(dir)) return dir;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    log(`compile cache of ${imageId} in ${dir}`);
    await this.removeUnused(imageDir);
    return dir;
  }

  /** Makes the image's folder and marks it used now, so eviction keeps it for UNUSED_FOR_MS. */
  private async use(imageId: string): Promise<string> {
    const imageDir = path.join(this.root, imageId.replace(/^sha256:/, ''));
    await withFileLock(this.lock, async () => {
      fs.mkdirSync(imageDir, { recursive: true, mode: 0o700 });
      const now = new Date();
      fs.utimesSync(imageDir, now, now);
    }, LOCK);
    return imageDir;
  }

  /**
   * Removes the folders of images unused for UNUSED_FOR_MS (not `keep`). They are renamed
   * away under the lock, where a build marks its image used, then removed outside it.
   * Never fails a build: what cannot be removed now is tried again next time.
   */
  private async removeUnused(keep: string): Promise<void> {
    const doomed = await withFileLock(this.lock, async () =>
      fs.readdirSync(this.root).flatMap((entry) => {
        const dir = path.join(this.root, entry);
        if (entry.startsWith(REMOVING)) return [dir]; // left by an eviction that stopped half way
        if (entry.startsWith('.') || dir === keep || Date.now() - fs.statSync(dir).mtimeMs <= UNUSED_FOR_MS) return [];
        const away = path.join(this.root, `${REMOVING}${randomBytes(4).toString('hex')}`);
        fs.renameSync(dir, away);
        log(`removing ${dir}: unused for 30 days`);
        return [away];
      }),
      LOCK,
    );
    for (const dir of doomed) {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch (error) {
        log(`cannot remove ${dir} yet: ${(error as Error).message}`);
      }
    }
  }
}
