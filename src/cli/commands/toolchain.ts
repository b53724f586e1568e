/** `nabla-build toolchain ls|build|bootstrap`. */
import type { Command } from 'commander';
import type { GlobalOptions } from '../options.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  const toolchain = program
    .command('toolchain')
    .description('list, build and bootstrap the toolchain images apps are compiled in');

  toolchain
    .command('ls')
    .description('list the toolchains, their image tags and whether they are built')
    .addHelpText('after', '\nExample:\n  $ nabla-build toolchain ls')
    .action(async () => (await import('./toolchain-actions.js')).list(globals()));

  toolchain
    .command('build')
    .description('build a toolchain image (and its parents) from toolchains/<name>/Dockerfile')
    .argument('<name>', 'toolchain name, e.g. c')
    .option('--force', 'rebuild even if an image with the same content hash exists')
    .option('--with-cli', 'also build nabla/builder-<name>: the toolchain plus Node and nabla-build, for Dockerfiles')
    .addHelpText(
      'after',
      `
Examples:
  $ nabla-build toolchain build c
  $ nabla-build toolchain build c --with-cli   # then: FROM nabla/builder-c AS build`,
    )
    .action(async (name: string, flags: { force?: boolean; withCli?: boolean }) =>
      (await import('./toolchain-actions.js')).buildOne(name, flags, globals()),
    );

  toolchain
    .command('bootstrap')
    .description('make the Debian bookworm base image with debootstrap + docker import (no registry needed)')
    .option('--mirror <url>', "Debian mirror (default: the host's apt sources)")
    .option('--from <image>', 'pull this Debian bookworm image from a registry instead of running debootstrap')
    .option('--force', 'make it again even if it exists')
    .addHelpText(
      'after',
      `
Examples:
  $ sudo nabla-build toolchain bootstrap
  $ sudo nabla-build toolchain bootstrap --mirror http://HOST/debian
  $ nabla-build toolchain bootstrap --from debian:bookworm     # where a registry is reachable`,
    )
    .action(async (flags: { mirror?: string; from?: string; force?: boolean }) =>
      (await import('./toolchain-actions.js')).bootstrap(flags, globals()),
    );
}
