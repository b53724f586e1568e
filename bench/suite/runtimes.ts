/** Which of the asked runtimes this engine can run, and what to do about the others. */
import { BenchError } from './exec.js';
import type { RuntimeName } from './options.js';

export const SETUP_RUNSC = "sudo bash bench/setup-runsc.sh (installs Debian's runsc and registers it with the running dockerd)";

/**
 * runc and nabla need nothing beyond the engine (a nabla image runs under its default
 * runtime); runsc must be registered with it. A runtime the user named on the command line
 * must be there; one that is only a default becomes a column that says how to set it up.
 */
export function missingRuntimes(runtimes: readonly RuntimeName[], asked: boolean, registered: readonly string[]): Partial<Record<RuntimeName, string>> {
  const missing: Partial<Record<RuntimeName, string>> = {};
  if (runtimes.includes('runsc') && !registered.includes('runsc')) {
    const fix = `the engine has no runtime "runsc": ${SETUP_RUNSC}`;
    if (asked) throw new BenchError(fix);
    missing.runsc = fix;
  }
  return missing;
}
