/** `nabla-build doctor`: checks this machine can build and run nabla images. */
import type { Command } from 'commander';
import type { GlobalOptions } from '../options.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('doctor')
    .description('check this machine: Node, Docker engine, base and toolchain images, host tools, seccomp')
    .addHelpText('after', '\nExample:\n  $ nabla-build doctor   # exits non-zero when something required is missing')
    .action(async () => {
      await (await import('./doctor-action.js')).doctor(globals().toolchainsDir);
    });
}
