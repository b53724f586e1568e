/**
 * Go's standard library tests both ways, with the same binary. nabla: nabla-build builds
 * an app folder whose nabla.json says `"entry": "test:PACKAGE"`: the go toolchain runs
 * `go test -c` and puts the package's folder (its testdata) in the rootfs at its GOROOT
 * path, the image's working directory (and, for time, GOROOT/lib/time/zoneinfo.zip, which
 * its tests load). runc: that binary and those files, copied out of the nabla image, run
 * in a plain Debian container at the same paths.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { buildNablaImage, copyFromImage, imageExists, runContainer, shortHash, toolchainImage } from './docker.js';
import { parseGo } from './parse.js';
import type { Side, SuiteRun } from './results.js';

const RUNC_IMAGE = 'nabla/debian:bookworm';
const MEMORY = '1024M';

export interface GoPackage {
  name: string;
  nabla: string;
  /** The package's folder in the image (GOROOT/src/PACKAGE): the working directory on both sides. */
  workdir: string;
  /** On the host: the test binary and the package folder, copied out of the nabla image. */
  binary: string;
  folder: string;
  /** The image's GOROOT/lib, if it has one (time's zoneinfo.zip), and where it goes. */
  lib?: { host: string; path: string };
}

export interface GoToolchain {
  image: string;
  goroot: string;
}

export async function goToolchain(): Promise<GoToolchain> {
  const image = await toolchainImage('go');
  const goroot = (await execa('docker', ['run', '--rm', '--network', 'none', image, 'go', 'env', 'GOROOT'])).stdout.trim();
  return { image, goroot };
}

/** Builds (or reuses) the package's test image, and copies its binary and folder out for runc. */
export async function prepareGoPackage(work: string, toolchain: GoToolchain, pkg: string, rebuild: boolean): Promise<GoPackage> {
  const slug = pkg.replace(/\//g, '_');
  const workdir = `${toolchain.goroot}/src/${pkg}`;
  const nablaJson = JSON.stringify({ language: 'go', entry: `test:${pkg}`, workdir, memory: MEMORY }, null, 2) + '\n';
  const nabla = `nabla-compat/go-${slug}:${shortHash(toolchain.image, nablaJson)}`;
  const dir = path.join(work, 'go', slug);
  const binary = path.join(dir, 'out', `${path.basename(pkg)}.test`);
  const folder = path.join(dir, 'out', 'package');
  const lib = { host: path.join(dir, 'out', 'lib'), path: `${toolchain.goroot}/lib` };
  if (rebuild || !(await imageExists(nabla))) {
    const app = path.join(dir, 'app');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(app, { recursive: true });
    fs.writeFileSync(path.join(app, 'go.mod'), 'module compat\n\ngo 1.23\n');
    fs.writeFileSync(path.join(app, 'nabla.json'), nablaJson);
    await buildNablaImage(app, nabla, path.join(dir, 'nabla-build.log'));
  }
  if (!fs.existsSync(binary) || !fs.existsSync(folder) || rebuild) {
    fs.rmSync(path.join(dir, 'out'), { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, 'out', 'rootfs'), { recursive: true });
    await copyFromImage(nabla, `/nabla/${path.basename(pkg)}.test.nabla`, binary);
    await copyFromImage(nabla, '/nabla/rootfs.tar', path.join(dir, 'out', 'rootfs.tar'));
    await execa('tar', ['-xf', path.join(dir, 'out', 'rootfs.tar'), '-C', path.join(dir, 'out', 'rootfs')]);
    fs.renameSync(path.join(dir, 'out', 'rootfs', workdir.slice(1)), folder);
    const imageLib = path.join(dir, 'out', 'rootfs', lib.path.slice(1));
    if (fs.existsSync(imageLib)) fs.renameSync(imageLib, lib.host);
    fs.rmSync(path.join(dir, 'out', 'rootfs'), { recursive: true, force: true });
    fs.rmSync(path.join(dir, 'out', 'rootfs.tar'));
  }
  return { name: pkg, nabla, workdir, binary, folder, lib: fs.existsSync(lib.host) ? lib : undefined };
}

export async function runGo(pkg: GoPackage, side: Side, timeoutSeconds: number): Promise<SuiteRun> {
  // Go's own timeout fires first and names the tests still running; the harness's kill is the backstop.
  const flags = ['-test.short', '-test.v', `-test.timeout=${Math.max(10, timeoutSeconds - 15)}s`];
  if (side === 'nabla') return parseGo(side, pkg.name, await runContainer(['--network', 'none', pkg.nabla, ...flags], timeoutSeconds));
  // The unikernel's writes to its rootfs stay in its memory; runc writes to a fresh copy.
  const folder = fs.mkdtempSync(`${pkg.folder}-run-`);
  fs.cpSync(pkg.folder, folder, { recursive: true });
  try {
    const mounts = ['-v', `${pkg.binary}:/compat/pkg.test:ro`, '-v', `${folder}:${pkg.workdir}`, '-w', pkg.workdir];
    if (pkg.lib) mounts.push('-v', `${pkg.lib.host}:${pkg.lib.path}:ro`);
    return parseGo(side, pkg.name, await runContainer(['--network', 'none', ...mounts, RUNC_IMAGE, '/compat/pkg.test', ...flags], timeoutSeconds));
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}
