/**
 * The layers of src/, enforced: `npm run lint:layers`, and test/unit/layers.test.ts in
 * `npm test`. A module imports only modules of the layers below its own, never one beside
 * it or above it. So nothing imports cli/; util/ imports nothing of ours; only build/
 * knows both config/ and the publishers, which never see config/; executor/ and
 * toolchain/ reach the engine and the tar helpers (util/) downwards, not through image/.
 * A folder of src/ not listed here fails the check.
 */
const LAYERS = [
  ['cli'], // commander, progress, exit codes; the only reader of argv and env
  ['measure'], // runs images under a trace: what they use of the host kernel
  ['build', 'run', 'init'], // one build: toolchain, compile, image, publishers; running an image; starter apps
  ['config', 'image/publishers'], // flags + env + nabla.json → BuildConfig; each output
  ['toolchain', 'executor', 'image', 'sbom'], // sbom: what an image holds, as CycloneDX
  ['detect', 'engine', 'registry', 'rootfs', 'convert'], // convert: reading someone else's image (ELF, layers)
  ['util'], // helpers that know nothing of nabla-build
];

const MODULES = LAYERS.flat();

/** The files of a module; image/ is the image without its publishers. */
const files = (module) => (module === 'image' ? '^src/image/(?!publishers/)' : `^src/${module}/`);

const layerRules = LAYERS.flatMap((layer, depth) =>
  layer.flatMap((module) => {
    const allowed = LAYERS.slice(depth + 1).flat();
    const forbidden = LAYERS.slice(0, depth + 1)
      .flat()
      .filter((other) => other !== module);
    if (forbidden.length === 0) return []; // the top layer may import every module
    return {
      name: `layer-${module.replace('/', '-')}`,
      comment: `${module} may import only ${allowed.join(', ') || 'itself'}: imports point down the layers (.dependency-cruiser.cjs)`,
      severity: 'error',
      from: { path: files(module) },
      to: { path: forbidden.map(files).join('|') },
    };
  }),
);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'module-in-a-layer',
      comment: `every folder of src/ is one of the layered modules: ${MODULES.join(', ')}; add a new one to LAYERS`,
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: `^src/(${MODULES.join('|')})/` },
    },
    {
      name: 'no-circular',
      comment: 'a cycle makes two modules one; break it by moving the shared part down a layer',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'dockerode-only-in-engine',
      comment: 'use the Engine interface (src/engine/engine.ts); only its implementation, src/engine/docker.ts, knows dockerode',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/engine/docker\\.ts$' },
      to: { path: 'node_modules/(@types/)?dockerode/' },
    },
    {
      name: 'no-dead-modules',
      comment: 'every module of src/ is used by the CLI; delete the ones that are not',
      severity: 'error',
      from: { path: '^src/cli/main\\.ts$' },
      to: { path: '^src/', reachable: false },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to nothing',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // `import type` counts: a type from a module above is a dependency on it too.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
