/**
 * Folders of a toolchain image that every compile in it brings back the same (its time
 * zones; a language runtime the toolchain names in $NABLA_OUT/rootfs-shared), kept on the
 * host per image ID. An image never changes under its ID, so the second build reads them
 * from disk instead of copying thousands of files out of a container again.
 * Filled through a temporary folder renamed into place: a build that stops half way leaves
 * nothing that looks complete, and two builds filling the same folder both end with one.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { debug } from '../util/debug.js';

const log = debug('toolchain-files');

/** Entries for images unused this long are removed when another is filled. */
const UNUSED_FOR_MS = 30 * 24 * 3600 * 1000;

export class ToolchainFiles {
  constructor(private readonly root: string) {}

  /** The host folder holding `imagePath` of image `imageId`, filled by `fill(into)` the first time. */
  async folder(imageId: string, imagePath: string, fill: (into: string) => Promise<void>): Promise<string> {
    const imageDir = path.join(this.root, imageId.replace(/^sha256:/, ''));
    const dir = path.join(imageDir, encodeURIComponent(imagePath));
    if (fs.existsSync(dir)) {
      const now = new Date();
      fs.utimesSync(imageDir, now, now);
      return dir;
    }
    fs.mkdirSync(imageDir, { recursive: true });
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
    this.removeUnused(imageDir);
    return dir;
  }

  private removeUnused(keep: string): void {
    for (const entry of fs.readdirSync(this.root)) {
      const dir = path.join(this.root, entry);
      if (dir !== keep && Date.now() - fs.statSync(dir).mtimeMs > UNUSED_FOR_MS) fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}
