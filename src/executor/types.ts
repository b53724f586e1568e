/**
 * An executor runs a toolchain's `nabla-compile` on the app's source and returns the
 * folder it produced. The compile contract (toolchains/README.md): the source is at
 * $NABLA_SRC (a private copy), results go to $NABLA_OUT: `nabla/` (the tender and the
 * unikernel), `run.json`, `policy.txt` and optionally `rootfs/`.
 */
import type { Step } from '../util/progress.js';

export interface CompileJob {
  toolchain: string;
  /** Toolchain image (docker executor). */
  image: string;
  appDir: string;
  /** Relative paths under appDir that make up the source. */
  sources: string[];
  env: Record<string, string>;
  network: 'none' | 'host';
}

export interface CompileResult {
  /** Host folder holding what the toolchain wrote to $NABLA_OUT. */
  outDir: string;
  /** Removes outDir and anything else the executor left; the caller calls it once. */
  dispose(): void;
}

export interface Executor {
  compile(job: CompileJob, step: Step, signal?: AbortSignal): Promise<CompileResult>;
}
