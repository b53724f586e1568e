/**
 * The CLI: one commander program, each command in its own file, loaded only when it runs
 * so that `--help` is instant. Errors become one message and an exit code here.
 */
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { enableDebug } from '../util/debug.js';
import { ExitCode, InterruptedError } from '../util/errors.js';
import type { GlobalOptions } from './options.js';
import { notice, type ProgressMode } from './progress.js';
import { reportError } from './report.js';
import { VERSION } from './version.js';

export async function main(argv: string[]): Promise<number> {
  enableDebug(process.env.DEBUG ?? '');
  const controller = new AbortController();
  let verbose = false;
  let exitCode: number = ExitCode.ok;
  let signalHandler: ((signal: NodeJS.Signals) => void) | undefined;
  const onInterrupt = (signal: NodeJS.Signals) => {
    if (signalHandler) return signalHandler(signal);
    if (controller.signal.aborted) process.exit(ExitCode.interrupted); // second Ctrl-C: leave now
    notice('nabla-build: interrupted, cleaning up (Ctrl-C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);

  const program = new Command('nabla-build')
    .description('Build Node, Python, Go and C apps into reproducible OCI images that run as nabla unikernels.')
    .version(VERSION, '-V, --version')
    .addOption(new Option('--progress <mode>', 'progress output').choices(['auto', 'tty', 'plain']).default('auto'))
    .option('-q, --quiet', 'print only the result and errors')
    .option('--verbose', 'debug logs (nabla:*) and stack traces')
    .option('--toolchains-dir <dir>', 'use the toolchains in DIR/<name>/ instead of the built-in ones')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  const globals = (): GlobalOptions => {
    const options = program.opts<{ progress: ProgressMode; quiet?: boolean; verbose?: boolean; toolchainsDir?: string }>();
    verbose = options.verbose === true;
    if (verbose) enableDebug('nabla:*');
    return {
      progress: options.quiet ? 'quiet' : options.progress,
      toolchainsDir: options.toolchainsDir === undefined ? undefined : path.resolve(options.toolchainsDir),
      verbose,
      signal: controller.signal,
      setExitCode: (code) => (exitCode = code),
      takeSignals: (handler) => {
        signalHandler = handler;
        return () => (signalHandler = undefined);
      },
    };
  };

  (await import('./commands/build.js')).register(program, globals);
  (await import('./commands/toolchain.js')).register(program, globals);
  (await import('./commands/inspect.js')).register(program, globals);
  (await import('./commands/doctor.js')).register(program, globals);
  (await import('./commands/init.js')).register(program, globals);
  (await import('./commands/run.js')).register(program, globals);
  (await import('./commands/k8s.js')).register(program, globals);
  (await import('./commands/measure.js')).register(program, globals);
  (await import('./commands/convert.js')).register(program, globals);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed its own message (or the help/version text).
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (controller.signal.aborted) return reportError(new InterruptedError(), verbose);
    return reportError(error, verbose);
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}
