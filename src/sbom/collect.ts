/**
 * Everything an image holds and came from, as components: the app and its dependencies as
 * resolved (npm's installed tree, the Go binary's module list, the Python distributions in
 * the rootfs), the runtime the toolchain added (components.json), the tender and the libOS
 * with the digests of their source, the Debian parts nabla-build adds itself (time zones,
 * musl), lwIP, each file of the image's /nabla/ with its sha256, and the toolchain image
 * that built it (scope "excluded": used, not shipped).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { debianPurl, debianSourcePurl, type Debian } from './debian.js';
import { goComponents, readGoBuildInfo } from './go-buildinfo.js';
import { npmDependencies } from './npm.js';
import { purl } from './purl.js';
import { pythonDistributions } from './python.js';
import { readToolchainComponents } from './toolchain-components.js';
import type { Component } from './types.js';

export interface SbomInput {
  /** The image: its manifest digest, and the name it was built under (first -t), if any. */
  image: { digest: string; repository?: string; version?: string };
  app: {
    name: string;
    language: string;
    dir: string;
    version?: string;
    license?: string;
    sourceDigest: string;
    /** Where the source is (a VCS URL without credentials), its commit, and whether the tree differed from it. */
    source?: { url?: string; revision?: string; modified?: boolean };
  };
  /** What the toolchain wrote ($NABLA_OUT), and run.json's paths in the image. */
  outDir: string;
  run: { tender: string; unikernel: string; libos?: string };
  /** The image's own files (its one layer), by path: each /nabla/ file gets its sha256. */
  files: { path: string; data: Buffer }[];
  toolchain: { name: string; image: string; id?: string };
  /** The toolchain image's Debian (dpkg status, os-release), when the executor could read it. */
  debian?: Debian;
  /** lwIP's version, from the toolchain's copy of its source. */
  lwipVersion?: string;
  /** sha256 of the tender's and the libOS's sources (native/), when this nabla-build built the toolchain. */
  nativeSources?: { tender: string; libos: string };
  zoneinfo: boolean;
  tool: { name: string; version: string };
  /** RFC 3339, from SOURCE_DATE_EPOCH. */
  created: string;
}

export interface Inventory {
  image: Component;
  components: Component[];
}

export const APP_REF = 'nabla:app';

export function collect(input: SbomInput): Inventory {
  const components: Component[] = [];
  const add = (component: Component) => {
    if (!components.some((c) => c.ref === component.ref)) components.push(component);
    return component.ref;
  };
  const fileData = (imagePath: string) => input.files.find((f) => f.path === imagePath)?.data;
  const sha256 = (data: Buffer) => ({ 'SHA-256': crypto.createHash('sha256').update(data).digest('hex') });

  // The app and what it depends on, as the toolchain resolved it.
  const appDeps: string[] = [];
  if (input.app.language === 'node') {
    const installed = path.join(input.outDir, 'rootfs', 'app', 'node_modules');
    const vendored = path.join(input.app.dir, 'node_modules');
    const tree = npmDependencies(fs.existsSync(installed) ? installed : fs.existsSync(vendored) ? vendored : undefined, input.app.dir);
    tree.packages.forEach(add);
    appDeps.push(...tree.direct);
  }
  const unikernel = fileData(input.run.unikernel);
  const compiled = input.app.language === 'c' || input.app.language === 'go';
  const go = input.app.language === 'go' && unikernel ? readGoBuildInfo(unikernel) : undefined;
  if (go) {
    const { modules, stdlib } = goComponents(go);
    modules.forEach(add);
    appDeps.push(...modules.map((m) => m.ref), add(stdlib));
  }
  if (input.app.language === 'python') {
    for (const dist of pythonDistributions(path.join(input.outDir, 'rootfs', 'usr', 'lib', 'python3', 'dist-packages'))) appDeps.push(add(dist));
  }
  // The runtime the toolchain put in (Node.js, CPython, Debian libraries): the app runs on it.
  for (const component of readToolchainComponents(input.outDir, input.toolchain.name)) appDeps.push(add(component));

  const app: Component = {
    ref: APP_REF,
    type: 'application',
    name: input.app.name,
    ...(input.app.version ? { version: input.app.version } : {}),
    ...(input.app.license ? { license: input.app.license } : {}),
    // The unikernel is the app's own program when it was compiled (C, Go), else its runtime (node, python).
    ...(unikernel && compiled ? { hashes: sha256(unikernel) } : {}),
    description: `the ${input.app.language} app, ${compiled ? 'compiled into' : 'run by'} ${input.run.unikernel}`,
    ...(input.app.source?.url ? { vcs: input.app.source.url } : {}),
    properties: {
      'dev.nabla.source.digest': input.app.sourceDigest,
      ...(input.app.source?.revision ? { 'dev.nabla.source.revision': input.app.source.revision } : {}),
      ...(input.app.source?.modified !== undefined ? { 'dev.nabla.source.modified': String(input.app.source.modified) } : {}),
      ...(go?.path ? { 'dev.nabla.go.module': go.path } : {}),
    },
    dependsOn: [...new Set(appDeps)].sort(),
  };

  // Debian's musl and lwIP, which the tender and the libOS are built from (toolchains/c).
  const debian = input.debian;
  const musl = debian?.packages.get('musl-dev');
  const muslRef =
    musl && debian
      ? add({
          ref: debianSourcePurl(debian, musl),
          type: 'library',
          name: 'musl',
          version: musl.sourceVersion,
          purl: debianSourcePurl(debian, musl),
          license: 'MIT',
          description: "Debian's musl source: libOS-musl (relinked apps' libc) and the tender's libc",
        })
      : undefined;
  const lwip = input.lwipVersion ? purl('generic', 'lwip', input.lwipVersion) : undefined;
  const lwipRef = lwip
    ? add({ ref: lwip, type: 'library', name: 'lwip', version: input.lwipVersion, purl: lwip, license: 'BSD-3-Clause', description: "lwIP from Debian's source: the libOS's TCP/IP stack" })
    : undefined;
  const builtFrom = (digest: string | undefined): Record<string, string> => (digest ? { 'dev.nabla.source.digest': digest } : {});
  const tenderData = fileData(input.run.tender);
  const tender = add({
    ref: 'nabla:tender',
    type: 'application',
    name: 'nabla-run',
    version: input.tool.version,
    license: 'Apache-2.0',
    description: `the tender that loads and confines the unikernel (${input.run.tender})`,
    ...(tenderData ? { hashes: sha256(tenderData) } : {}),
    properties: builtFrom(input.nativeSources?.tender),
    dependsOn: muslRef ? [muslRef] : [],
  });
  const libosData = input.run.libos ? fileData(input.run.libos) : undefined;
  const libos = add({
    ref: 'nabla:libos',
    type: 'operating-system',
    name: 'nabla-libos',
    version: input.tool.version,
    license: 'Apache-2.0',
    description: input.run.libos ? `the library OS beside the program (${input.run.libos})` : `the library OS, linked into ${input.run.unikernel}`,
    ...(libosData ? { hashes: sha256(libosData) } : {}),
    properties: builtFrom(input.nativeSources?.libos),
    dependsOn: [muslRef, lwipRef].filter((ref): ref is string => ref !== undefined).sort(),
  });
  app.dependsOn = [...new Set([...(app.dependsOn ?? []), libos])].sort();
  add(app);

  const tzdata = input.zoneinfo ? debian?.packages.get('tzdata') : undefined;
  const zoneinfo = tzdata && debian
    ? add({ ref: debianPurl(debian, tzdata), type: 'data', name: 'tzdata', version: tzdata.version, purl: debianPurl(debian, tzdata),
        license: 'LicenseRef-public-domain', description: "Debian's time zones, in the rootfs at /usr/share/zoneinfo" })
    : undefined;

  // The image's files, each with its sha256: what a scanner can match byte for byte.
  const files = input.files
    .filter((file) => file.path.startsWith('/nabla/'))
    .map((file) => add({ ref: `nabla:file:${file.path}`, type: 'file', name: file.path, hashes: sha256(file.data) }));

  const [toolchainName, toolchainTag] = splitTag(input.toolchain.image);
  const toolchain = add({
    ref: 'nabla:toolchain',
    type: 'container',
    name: toolchainName,
    version: toolchainTag,
    scope: 'excluded',
    description: `the toolchain image "${input.toolchain.name}" that compiled the app (not in the image)`,
    ...(input.toolchain.id
      ? { purl: purl('oci', path.basename(toolchainName), input.toolchain.id, { repository_url: toolchainName, tag: toolchainTag }) }
      : {}),
  });

  const repository = input.image.repository;
  const image: Component = {
    ref: 'nabla:image',
    type: 'container',
    name: repository ?? input.app.name,
    ...(input.image.version ? { version: input.image.version } : {}),
    purl: purl('oci', path.basename(repository ?? input.app.name).toLowerCase(), input.image.digest, { repository_url: repository }),
    dependsOn: [APP_REF, tender, libos, ...(zoneinfo ? [zoneinfo] : []), ...files, toolchain].sort(),
  };
  return { image, components };
}

/** "nabla/toolchain-c:abc" → ["nabla/toolchain-c", "abc"]. */
function splitTag(reference: string): [string, string | undefined] {
  const colon = reference.lastIndexOf(':');
  return colon > reference.lastIndexOf('/') ? [reference.slice(0, colon), reference.slice(colon + 1)] : [reference, undefined];
}
