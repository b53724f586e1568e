/**
 * Nothing half written: outputs go to a temporary path beside the destination (same
 * filesystem, so rename is atomic) and are renamed into place only when complete.
 * A failure removes the temporary path and leaves any earlier output as it was.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OutputError } from '../../util/errors.js';

/**
 * Proves, before any slow work, that dest's folder exists and takes new files, and that
 * dest is not something of the other kind (a folder where a file goes, or the reverse).
 */
export function checkWritable(dest: string, kind: 'file' | 'folder', option: Option = '--output'): void {
  const parent = path.dirname(dest);
  const fail = (why: string, hint: string, cause?: unknown): never => {
    throw new OutputError(`cannot write ${dest}: ${why}`, { file: dest, field: option, hint: spellFor(option, hint), cause });
  };
  const parentStat = fs.statSync(parent, { throwIfNoEntry: false });
  if (!parentStat) fail(`folder ${parent} does not exist`, `create it first (mkdir -p ${parent}) or pick another dest=`);
  if (!parentStat!.isDirectory()) fail(`${parent} is not a folder`, 'pick a dest= inside a folder');
  // access() says yes to root even on read-only or virtual filesystems; creating a file is the real test.
  const probe = temporaryPath(dest, 'probe');
  try {
    fs.closeSync(fs.openSync(probe, 'wx'));
    fs.rmSync(probe);
  } catch (error) {
    fail(`folder ${parent} does not take new files (${(error as NodeJS.ErrnoException).code})`, 'pick a dest= in a folder you can write to', error);
  }
  const destStat = fs.lstatSync(dest, { throwIfNoEntry: false });
  if (destStat && kind === 'file' && destStat.isDirectory()) {
    fail('it is a folder', 'pick a file name for dest=, e.g. dest=image.tar');
  }
  if (destStat && kind === 'folder' && !destStat.isDirectory()) {
    fail('it exists and is not a folder', 'remove it or pick another dest=');
  }
}

/** Writes data to dest atomically. */
export async function writeFileAtomic(dest: string, data: Buffer, option: Option = '--output'): Promise<void> {
  const tmp = temporaryPath(dest, 'tmp');
  try {
    await fs.promises.writeFile(tmp, data, { flag: 'wx' });
    await fs.promises.rename(tmp, dest);
  } catch (error) {
    await fs.promises.rm(tmp, { force: true });
    throw writeFailed(dest, error, option);
  }
}

/**
 * Fills a fresh folder, then puts it at dest. An existing dest is moved aside, the new
 * folder renamed in and only then the old one removed.
 */
export async function writeDirAtomic(dest: string, fill: (dir: string) => Promise<void>): Promise<void> {
  const tmp = temporaryPath(dest, 'tmp');
  const old = temporaryPath(dest, 'old');
  let movedAside = false;
  try {
    await fs.promises.mkdir(tmp);
    await fill(tmp);
    await fs.promises.chmod(tmp, 0o755); // what mkdir would give without a umask, whatever this machine's is
    try {
      await fs.promises.rename(dest, old);
      movedAside = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await fs.promises.rename(tmp, dest);
  } catch (error) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    if (movedAside) await fs.promises.rename(old, dest);
    throw writeFailed(dest, error);
  }
  if (movedAside) await fs.promises.rm(old, { recursive: true, force: true });
}

/** A hidden, unique name beside dest, e.g. ".out.nabla-tmp-1234-9f3a…". */
function temporaryPath(dest: string, purpose: string): string {
  const unique = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  return path.join(path.dirname(dest), `.${path.basename(dest)}.nabla-${purpose}-${unique}`);
}

/** The flag that named dest: hints say "dest=" for --output, "--sbom FILE" for --sbom. */
type Option = '--output' | '--sbom';

function spellFor(option: Option, hint: string): string {
  return option === '--output' ? hint : hint.replace(/dest=image\.tar/g, `${option} image.cdx.json`).replace(/dest=/g, `${option} FILE`);
}

function writeFailed(dest: string, error: unknown, option: Option = '--output'): OutputError {
  if (error instanceof OutputError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  return new OutputError(`writing ${dest} failed: ${(error as Error).message}`, {
    file: dest,
    field: option,
    hint: spellFor(option, code === 'ENOSPC' ? 'free some disk space or pick another dest=' : 'check the permissions and free space of that folder'),
    cause: error,
  });
}
