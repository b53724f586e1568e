/**
 * `--watch`: waits for the next change under an app folder. Changes come in bursts (an
 * editor writes a temp file, renames it, touches the folder), so it settles for a moment
 * before it answers; .git and other folders the build leaves out are not watched for.
 */
import fs from 'node:fs';

const SETTLE_MS = 300;
const IGNORED = /(^|\/)(\.git|\.nabla|node_modules|__pycache__)(\/|$)|~$|\.swp$/;

/** Resolves with the first changed path once changes have settled; rejects if `signal` aborts. */
export function nextChange(dir: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let first: string | undefined;
    const watcher = fs.watch(dir, { recursive: true }, (_event, file) => {
      const name = file?.toString() ?? '';
      if (IGNORED.test(name)) return;
      first ??= name;
      clearTimeout(timer);
      timer = setTimeout(() => {
        done();
        resolve(first!);
      }, SETTLE_MS);
    });
    const onAbort = () => {
      done();
      reject(signal.reason);
    };
    const done = () => {
      clearTimeout(timer);
      watcher.close();
      signal.removeEventListener('abort', onAbort);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
  });
}
