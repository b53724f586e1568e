/**
 * Typed errors that keep their cause and say what to do. Only src/cli turns them into
 * one line and an exit code; lower modules throw them and never print.
 */

/** Exit codes, documented in README ("Exit codes"). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2, // bad flags, bad nabla.json, nothing to build
  environment: 3, // Docker not reachable, base image missing, host tool missing
  build: 4, // toolchain image or app compile failed
  output: 5, // writing, loading or pushing the image failed
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface NablaErrorOptions {
  /** The file the problem is in (nabla.json, a Dockerfile, an output path). */
  file?: string;
  /** The field or flag at fault, e.g. `entry` or `--output`. */
  field?: string;
  /** One sentence telling the user how to fix it. */
  hint?: string;
  cause?: unknown;
  /** Extra lines shown under the message (e.g. the tail of a build log). */
  details?: string[];
}

export class NablaError extends Error {
  readonly exitCode: ExitCode = ExitCode.failure;
  readonly file?: string;
  readonly field?: string;
  readonly hint?: string;
  readonly details: string[];

  constructor(message: string, options: NablaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.file = options.file;
    this.field = options.field;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }
}

/** Bad flags or a bad nabla.json. */
export class ConfigError extends NablaError {
  override readonly exitCode = ExitCode.usage;
}

/** The app folder does not say what to build (no language, no entry). */
export class DetectError extends NablaError {
  override readonly exitCode = ExitCode.usage;
}

/** The machine is missing something: Docker engine, base image, a host tool. */
export class EnvironmentError extends NablaError {
  override readonly exitCode = ExitCode.environment;
}

/** A toolchain image failed to build. */
export class ToolchainError extends NablaError {
  override readonly exitCode = ExitCode.build;
}

/** The app failed to compile inside its toolchain. */
export class CompileError extends NablaError {
  override readonly exitCode = ExitCode.build;
}

/** Writing, loading or pushing an image failed. */
export class OutputError extends NablaError {
  override readonly exitCode = ExitCode.output;
}

/** The user pressed Ctrl-C (or the build was otherwise aborted). */
export class InterruptedError extends NablaError {
  override readonly exitCode = ExitCode.interrupted;
  constructor() {
    super('interrupted');
  }
}

/** Rethrows an AbortSignal's abort as an InterruptedError. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError();
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
