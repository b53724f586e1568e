/** `nabla-build inspect <image-or-path>`. */
import type { Command } from 'commander';
import type { GlobalOptions } from '../options.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('inspect')
    .description('show an image: digest, entrypoint, env, labels (toolchain, source digest), layers')
    .argument('<image-or-path>', 'an OCI layout folder or tar, a docker-archive tar, or an image name in Docker')
    .option('--files', 'also list the files in the image')
    .option('--json', 'print the image config as JSON')
    .option('--sbom', 'print the SBOM attached to the image (CycloneDX JSON; OCI layout folder or tar)')
    .addHelpText(
      'after',
      `
Examples:
  $ nabla-build inspect out/image.tar
  $ nabla-build inspect hello-c --json | jq .config.Labels
  $ nabla-build inspect out/image.tar --sbom | jq '.components[].purl'`,
    )
    .action(async (target: string, flags: { files?: boolean; json?: boolean; sbom?: boolean }) => {
      globals();
      await (await import('./inspect-action.js')).inspect(target, flags);
    });
}
