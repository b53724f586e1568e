// Bundles the CLI into dist/ (one ESM entry plus lazily loaded chunks), so it starts fast
// and runs inside a builder image without node_modules. dockerode stays external: only
// src/engine/docker.ts loads it, when a command first talks to the engine, and a builder
// image (--executor local) never does.
import { build } from 'esbuild';

await build({
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['dockerode'],
  // Bundled CommonJS packages call require(); give ESM chunks one.
  banner: { js: "import { createRequire as __nablaRequire } from 'node:module'; const require = __nablaRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
