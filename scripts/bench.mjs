// `npm run bench`: bundles bench/suite (TypeScript) with esbuild into a cache folder and runs
// it in this process, so the flags after `--` reach it. Its packages (vega, vega-lite: dev
// dependencies) stay external and load from node_modules.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleTs } from './bundle-ts.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(repo, 'node_modules/.cache/nabla-bench/main.mjs');
await bundleTs(path.join(repo, 'bench/suite/main.ts'), outfile);
process.env.NABLA_BENCH_REPO = repo;
await import(pathToFileURL(outfile).href);
