// `npm run compat`: bundles the TypeScript harness (main.ts) with esbuild, as the CLI's
// own bundle is made, and runs it. Packages stay external: they load from node_modules.
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { bundleTs } from '../../scripts/bundle-ts.mjs';

// One bundle per process (two runs may start at once), removed once loaded; .nabla/compat
// is as deep as test/compat, so the harness finds the repository from import.meta.dirname.
const outfile = path.join(import.meta.dirname, '..', '..', '.nabla', 'compat', `harness-${process.pid}.mjs`);
await bundleTs(path.join(import.meta.dirname, 'main.ts'), outfile);
const { main } = await import(pathToFileURL(outfile).href);
fs.rmSync(outfile);
process.exitCode = await main(process.argv.slice(2));
