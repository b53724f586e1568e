/** `nabla-build run IMAGE|DIR [-p HOST:CONTAINER] [-- args…]`. */
import type { Command } from 'commander';
import { collect } from '../command-options.js';
import type { GlobalOptions } from '../options.js';
import type { RunFlags } from './run-action.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('run')
    .description('run a nabla image (building DIR first) with exactly the container flags it needs')
    .argument('<image-or-dir>', 'an image in Docker, or an app folder to build first (a folder of that name wins)')
    .argument('[args...]', 'arguments for the app, after --')
    .option('-p, --publish <[ip:]host:container>', 'publish a port the app serves on the host (repeatable)', collect)
    .option('--network <name>', 'join this Docker network (default: Docker\'s bridge, or a network made for this run)')
    .option('-c, --config <file>', 'nabla.json to build DIR with (default: DIR/nabla.json)')
    .option('--watch', 'on every change in DIR: stop the app (SIGTERM), build and run it again')
    .option('--no-cache', 'build DIR with nothing earlier builds kept (as build --no-cache)')
    .addHelpText(
      'after',
      `
Examples:
  $ nabla-build run examples/hello-c                  # build, run, remove
  $ nabla-build run hello-c -- one two                # an image in Docker, with arguments
  $ nabla-build run examples/http-c -p 8080:8080      # serving at http://127.0.0.1:8080/
  $ nabla-build run . --watch                         # restart on every save

The image's entrypoint says what it needs: an app with a network gets --cap-add NET_ADMIN
and --device /dev/net/tun, the others no capability at all; every run gets a read-only root,
no-new-privileges and a memory limit that leaves the unikernel all its --mem. The docker run
line it amounts to is printed on stderr. Ctrl-C and SIGTERM are passed to the app (Ctrl-C
three times kills it); the exit code is the app's. The container, a network made for the run
and an image built from DIR are removed afterwards.`,
    )
    .action(async (target: string, args: string[], flags: RunFlags) => {
      await (await import('./run-action.js')).runApp(target, args, flags, globals());
    });
}
