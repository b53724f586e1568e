/**
 * Lays out the image from what the toolchain produced and the app's own files:
 *   /nabla/nabla-run        the tender (from the toolchain)
 *   /nabla/<app>.nabla      the unikernel (from the toolchain)
 *   /nabla/libos.nabla      the libOS beside a program that was not relinked (Go, Node), if any
 *   /nabla/ld-linux-*.so.2  a dynamically linked program's loader (Node), if any
 *   /nabla/rootfs.tar       the app's files under /app, plus the toolchain's runtime files,
 *                           plus what every Linux program expects (rootfs/system.ts: /etc,
 *                           /tmp, time zones) where the toolchain brought none: the
 *                           unikernel's whole file system, read through the tender's disk
 * and the config: the entrypoint runs the tender with the memory and disk (and the libOS),
 * then the args; the env is the toolchain's (run.json) overridden by nabla.json's.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BuildConfig } from '../config/resolve.js';
import { rfc3339 } from '../image/oci.js';
import type { ImageSpec } from '../image/types.js';
import { packRootfs } from '../rootfs/disk.js';
import { systemEntries, withoutGiven, ZONEINFO_IN_IMAGE, zoneinfoEntries } from '../rootfs/system.js';
import { fileEntries, treeEntries } from '../rootfs/tree.js';
import { CompileError } from '../util/errors.js';

export const APP_DIR_IN_IMAGE = '/app';
export const ROOTFS_IN_IMAGE = '/nabla/rootfs.tar';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The interface Docker (and Kubernetes) give a container on a network. */
const CONTAINER_INTERFACE = 'eth0';

export interface ComposeInput {
  config: BuildConfig;
  outDir: string;
  /** A copy of the toolchain image's folder named in rootfs-shared: the rootfs under outDir's rootfs/. */
  sharedRootfsDir?: string;
  /** A copy of the toolchain image's /usr/share/zoneinfo, when nabla.json wants time zones. */
  zoneinfoDir?: string;
  appFiles: string[];
  toolchainImage: string;
  sourceDigest: string;
  version: string;
}

/** run.json: what nabla-compile says the image runs. */
export interface RunSpec {
  tender: string;
  unikernel: string;
  /** The standalone libOS the tender loads beside the unikernel (`--libos=`). */
  libos?: string;
  /** The dynamic loader of a dynamically linked unikernel (`--interp=`, Node). */
  interp?: string;
  /** Free guest memory executable (`--x-exec-heap`): JITs and shared libraries' code. */
  execHeap?: boolean;
  /** The heap's mode (`--heap=`): "flat" for C and Python unless nabla.json says "paged". */
  heap?: 'paged' | 'flat';
  /** Arguments before nabla.json's and `docker run`'s (Node: the script). */
  args?: string[];
  /** Environment the program needs (Go: GODEBUG); nabla.json's env wins on conflicts. */
  env?: Record<string, string>;
}

export async function composeImage({ config, outDir, sharedRootfsDir, zoneinfoDir, appFiles, toolchainImage, sourceDigest, version }: ComposeInput): Promise<ImageSpec> {
  const run = readRunSpec(outDir, config.toolchain);
  const annotations = openContainersAnnotations(config, toolchainImage);
  const { source } = config.app;
  // With the container's network the tender allows the tap's calls too (policy-net.txt).
  const netPolicy = path.join(outDir, 'policy-net.txt');
  const policyFile = config.network === 'container' && fs.existsSync(netPolicy) ? netPolicy : path.join(outDir, 'policy.txt');
  const policy = fs.readFileSync(policyFile, 'utf8').trim().split('\n');
  const runtimeDir = path.join(outDir, 'rootfs');
  const own = fs.existsSync(runtimeDir) ? treeEntries(runtimeDir, '/') : [];
  // The toolchain's shared runtime beneath what this compile wrote (its dependencies).
  const runtime = [...own, ...(sharedRootfsDir ? withoutGiven(treeEntries(sharedRootfsDir, '/'), own) : [])];
  const defaults = [...(zoneinfoDir ? zoneinfoEntries(zoneinfoDir) : []), ...systemEntries({ zoneinfo: zoneinfoDir !== undefined })];
  const rootfs = await packRootfs(
    [...fileEntries(config.appDir, appFiles, APP_DIR_IN_IMAGE), ...runtime, ...withoutGiven(defaults, runtime, [ZONEINFO_IN_IMAGE])],
    config.sourceDateEpoch,
  );
  return {
    entries: [
      ...treeEntries(path.join(outDir, 'nabla'), '/nabla'),
      { type: 'file', path: ROOTFS_IN_IMAGE, mode: 0o644, data: rootfs },
    ],
    config: {
      entrypoint: [
        run.tender,
        `--mem=${config.memoryMiB}`,
        `--disk=${ROOTFS_IN_IMAGE}`,
        ...(config.network === 'container' ? [`--net-from=${CONTAINER_INTERFACE}`] : []),
        ...(run.libos ? [`--libos=${run.libos}`] : []),
        ...(run.interp ? [`--interp=${run.interp}`] : []),
        ...(run.execHeap ? ['--x-exec-heap'] : []),
        ...(run.heap === 'flat' ? ['--heap=flat'] : []),
        run.unikernel,
        ...(run.args ?? []),
        ...config.args,
      ],
      cmd: [],
      env: Object.entries({ ...run.env, ...config.env })
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, value]) => `${key}=${value}`),
      workingDir: config.workdir,
      exposedPorts: [...new Set(config.ports)].sort(),
      labels: {
        ...annotations,
        'dev.nabla.language': config.language,
        'dev.nabla.toolchain': toolchainImage,
        'dev.nabla.memory': `${config.memoryMiB}`,
        'dev.nabla.syscalls': policy.join('; '),
        'dev.nabla.source.digest': sourceDigest,
        'dev.nabla.build.version': version,
        ...(source.modified !== undefined ? { 'dev.nabla.source.modified': String(source.modified) } : {}),
      },
    },
    annotations,
    sourceDateEpoch: config.sourceDateEpoch,
  };
}

/**
 * org.opencontainers.image.* (the OCI image spec's pre-defined annotations), as both the
 * manifest's annotations and the config's labels. base.name is the toolchain image: the
 * image is FROM scratch, but its tender, libOS and runtime come from there, so a new
 * toolchain is what asks for a rebuild. A tree that differs from its commit keeps the
 * commit as the revision (tools expect a commit id there) and says so in
 * dev.nabla.source.modified, as Go's build info has vcs.modified.
 */
export function openContainersAnnotations(config: BuildConfig, toolchainImage: string): Record<string, string> {
  const { version, license, source } = config.app;
  const key = (name: string) => `org.opencontainers.image.${name}`;
  return {
    [key('created')]: rfc3339(config.sourceDateEpoch),
    ...(source.url ? { [key('source')]: source.url } : {}),
    ...(source.revision ? { [key('revision')]: source.revision } : {}),
    ...(version ? { [key('version')]: version } : {}),
    ...(license ? { [key('licenses')]: license } : {}),
    [key('base.name')]: toolchainImage,
  };
}

export function readRunSpec(outDir: string, toolchain: string): RunSpec {
  const broken = (why: string) =>
    new CompileError(`toolchain "${toolchain}" broke the compile contract: ${why}`, {
      file: 'toolchains/README.md',
      hint: 'nabla-compile must write $NABLA_OUT/nabla/, run.json ({"tender","unikernel"}, optional "libos", "interp", "execHeap", "heap", "args" and "env") and policy.txt',
    });
  let run: Partial<RunSpec>;
  try {
    run = JSON.parse(fs.readFileSync(path.join(outDir, 'run.json'), 'utf8')) as Partial<RunSpec>;
  } catch {
    throw broken('run.json is missing or not JSON');
  }
  for (const key of ['tender', 'unikernel', 'libos', 'interp'] as const) {
    const value = run[key];
    if ((key === 'libos' || key === 'interp') && value === undefined) continue;
    const inNabla = typeof value === 'string' && value.startsWith('/nabla/') && !value.split('/').includes('..');
    if (!inNabla || !fs.existsSync(path.join(outDir, value.slice(1)))) {
      throw broken(`run.json "${key}" must name a file the toolchain wrote under /nabla/`);
    }
  }
  if (run.execHeap !== undefined && typeof run.execHeap !== 'boolean') throw broken('run.json "execHeap" must be true or false');
  if (run.heap !== undefined && run.heap !== 'paged' && run.heap !== 'flat') throw broken('run.json "heap" must be "paged" or "flat"');
  if (run.heap === 'flat' && run.execHeap) throw broken('run.json "heap": "flat" and "execHeap" do not go together (a JIT needs a paged heap)');
  const args: unknown = run.args;
  if (args !== undefined && !(Array.isArray(args) && args.every((a) => typeof a === 'string'))) {
    throw broken('run.json "args" must be an array of strings');
  }
  const env: unknown = run.env;
  if (env !== undefined) {
    const entries = env !== null && typeof env === 'object' && !Array.isArray(env) ? Object.entries(env) : undefined;
    if (!entries || entries.some(([name, value]) => !ENV_NAME.test(name) || typeof value !== 'string')) {
      throw broken('run.json "env" must be an object of NAME: "string value"');
    }
  }
  if (!fs.existsSync(path.join(outDir, 'policy.txt'))) throw broken('policy.txt is missing');
  return run as RunSpec;
}
