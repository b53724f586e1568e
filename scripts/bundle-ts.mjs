// Bundles one TypeScript entry (and what it imports) into one ESM file with esbuild, as the
// CLI's own bundle is made, for the repository's TypeScript tools (`npm run compat`,
// `npm run bench`). Packages stay external: they load from node_modules.
import { build } from 'esbuild';

export async function bundleTs(entry, outfile) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
}
