/** The global flags every command gets, gathered by main.ts. */
import type { ProgressMode } from './progress.js';

export interface GlobalOptions {
  progress: ProgressMode;
  /** Folder of toolchains/<name>/, absolute (default: the ones shipped with nabla-build). */
  toolchainsDir?: string;
  verbose: boolean;
  signal: AbortSignal;
}
