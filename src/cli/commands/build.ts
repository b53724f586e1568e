/** `nabla-build build [dir]`: the main job. */
import type { Command } from 'commander';
import { addOutputOptions } from '../command-options.js';
import type { GlobalOptions } from '../options.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  const command = program
    .command('build')
    .description('compile an app in its toolchain container and write a reproducible OCI image')
    .argument('[dir]', 'the app folder', '.')
    .option('-c, --config <file>', 'nabla.json to use (default: DIR/nabla.json, optional)')
    .option('--entry <entry>', 'program to run (overrides nabla.json and detection)')
    .option('--language <language>', 'c, go, node or python (overrides detection)')
    .option('--toolchain <name>', 'toolchain to build with (default: the language)');
  addOutputOptions(command, 'the image')
    .option('--sbom <file>', 'also write the image\'s SBOM (CycloneDX 1.5 JSON) to FILE')
    .option('--executor <kind>', 'docker, local (inside a toolchain image) or auto', 'auto')
    .option('--json', 'print the result as one JSON object on stdout')
    .option('--watch', 'build again after every change in DIR (until Ctrl-C)')
    .addHelpText(
      'after',
      `
Examples:
  $ nabla-build build examples/hello-c --load -t hello-c && docker run --rm hello-c
  $ nabla-build build . -o type=oci,dest=image.tar -o type=docker,dest=docker.tar
  $ nabla-build build . --push -t 127.0.0.1:5000/team/app:1.0
  $ SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) nabla-build build . --progress=plain
  $ nabla-build build . --watch --load -t app     # rebuild on every save

stdout gets the image digest (or pushed references); progress goes to stderr.
Two builds of the same source give the same digest (timestamps come from SOURCE_DATE_EPOCH, default 1980-01-01).`,
    )
    .action(async (dir: string, flags: Record<string, unknown>) => {
      const { runBuild } = await import('./build-action.js');
      await runBuild(dir, flags, globals());
    });
}
