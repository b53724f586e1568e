/** Turns any error into one clear message on stderr and an exit code. The only place that does. */
import { ExitCode, NablaError } from '../util/errors.js';

export function reportError(error: unknown, verbose: boolean, out: NodeJS.WritableStream = process.stderr): number {
  if (error instanceof NablaError) {
    const lines = [`nabla-build: error: ${error.message}`];
    if (error.file) lines.push(`  file:  ${error.file}`);
    if (error.field) lines.push(`  field: ${error.field}`);
    if (error.details.length > 0) lines.push(...error.details.map((d) => `  ${d}`));
    if (error.hint) lines.push(`  fix:   ${error.hint}`);
    if (verbose && error.cause instanceof Error) lines.push(`  cause: ${error.cause.stack ?? error.cause.message}`);
    out.write(lines.join('\n') + '\n');
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  out.write(`nabla-build: internal error: ${message}\n`);
  out.write(verbose && error instanceof Error ? `${error.stack}\n` : '  (run again with --verbose for the stack trace, and please report it)\n');
  return ExitCode.failure;
}
