/**
 * A lock between nabla-build processes on one machine: a file made with O_EXCL that holds
 * the owner's pid. A lock whose owner is gone (killed, crashed) is taken over; two processes
 * taking over the same dead owner's lock at once may both get it, so it suits work that is
 * only wasted, not broken, when done twice (building the same image).
 */
import fs from 'node:fs';
import path from 'node:path';
import { throwIfAborted } from './errors.js';
import { processAlive } from './process-alive.js';

const POLL_MS = 500;

/**
 * Runs fn holding the lock at `file`; calls onWait once if another process holds it first.
 * pollMs: how often a waiter looks again (a lock held for milliseconds wants a short one).
 */
export async function withFileLock<T>(
  file: string,
  fn: () => Promise<T>,
  options: { onWait?: (ownerPid: number) => void; signal?: AbortSignal; pollMs?: number } = {},
): Promise<T> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let waited = false;
  for (;;) {
    throwIfAborted(options.signal);
    const owner = tryTake(file);
    if (owner === undefined) break;
    if (!waited) options.onWait?.(owner);
    waited = true;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? POLL_MS));
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** Takes the lock (undefined) or returns its live owner's pid (0: not written yet). */
function tryTake(file: string): number | undefined {
  for (;;) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number.parseInt(readOr(file, ''), 10);
    if (!(owner > 0)) return 0; // its owner is still writing its pid: the next round sees it
    if (processAlive(owner)) return owner;
    fs.rmSync(file, { force: true }); // its owner is gone
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}
