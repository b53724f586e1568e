/** The global flags every command gets, gathered by main.ts. */
import type { ProgressMode } from './progress.js';

export interface GlobalOptions {
  progress: ProgressMode;
  /** Folder of toolchains/<name>/, absolute (default: the ones shipped with nabla-build). */
  toolchainsDir?: string;
  verbose: boolean;
  signal: AbortSignal;
  /** The process's exit code when the command returns (`run` returns its app's). */
  setExitCode: (code: number) => void;
  /**
   * Takes SIGINT/SIGTERM from the default (abort the command) and hands them to `handler`,
   * until the returned function is called (`run` forwards them to its app).
   */
  takeSignals: (handler: (signal: NodeJS.Signals) => void) => () => void;
}
