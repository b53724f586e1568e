/**
 * Nothing half written: outputs go to a temporary path beside the destination and are
 * renamed into place only when complete. A failure removes the temporary path.
 */
import fs from 'node:fs';
import path from 'node:path';
import { OutputError } from '../../util/errors.js';

/** Proves dest's folder exists and takes new files, before any slow work is done. */
export function checkWritable(dest: string): void {
  const parent = path.dirname(dest);
  const probe = path.join(parent, `.nabla-probe-${process.pid}`);
  try {
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new OutputError(`cannot write ${dest}: ${code === 'ENOENT' ? `folder ${parent} does not exist` : (error as Error).message}`, {
      file: dest,
      field: '--output',
      hint: code === 'ENOENT' ? `create ${parent} first, or pick another dest=` : 'pick a dest= in a folder you can write to',
      cause: error,
    });
  }
}

function temporaryPath(dest: string): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}.nabla-tmp-${process.pid}`);
}

/** Writes a file at dest atomically. */
export function writeFileAtomic(dest: string, data: Buffer): void {
  const tmp = temporaryPath(dest);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, dest);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw writeFailed(dest, error);
  }
}

/** Fills a fresh folder, then puts it at dest, replacing what was there only on success. */
export async function writeDirAtomic(dest: string, fill: (dir: string) => Promise<void>): Promise<void> {
  const tmp = temporaryPath(dest);
  const old = `${tmp}-old`;
  try {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp);
    await fill(tmp);
    if (fs.existsSync(dest)) fs.renameSync(dest, old);
    fs.renameSync(tmp, dest);
    fs.rmSync(old, { recursive: true, force: true });
  } catch (error) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (fs.existsSync(old) && !fs.existsSync(dest)) fs.renameSync(old, dest);
    throw writeFailed(dest, error);
  }
}

function writeFailed(dest: string, error: unknown): OutputError {
  if (error instanceof OutputError) return error;
  return new OutputError(`writing ${dest} failed: ${(error as Error).message}`, {
    file: dest,
    field: '--output',
    hint: 'check free space and permissions of that folder',
    cause: error,
  });
}
