/**
 * The module list a Go binary carries (what `go version -m` prints), read from the binary
 * itself: the go toolchain builds with -trimpath and -buildvcs=false but keeps this
 * record, so the SBOM lists exactly the modules that were linked, as resolved.
 * Format (Go 1.18+, src/debug/buildinfo): "\xff Go buildinf:", pointer size, flags (bit 1:
 * strings inline), padding to 32 bytes, then two varint-prefixed strings: the Go version
 * and the module info, the latter wrapped in 16-byte sentinels.
 */
import { purl } from './purl.js';
import type { Component } from './types.js';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const SENTINEL = 16;

export interface GoBuildInfo {
  /** "go1.23.4" */
  goVersion: string;
  /** The main module's path (the app). */
  path?: string;
  main?: GoModule;
  deps: GoModule[];
  settings: Record<string, string>;
}

export interface GoModule {
  path: string;
  version: string;
  /** go.sum's "h1:" hash, when the build had it (not with -mod=vendor). */
  sum?: string;
  /** A `replace` to a folder (./greet): the module's code came from there, not from its version. */
  localReplace?: string;
}

/** The build info of a Go binary, or undefined if it holds none (not a Go binary, or pre-1.18). */
export function readGoBuildInfo(binary: Buffer): GoBuildInfo | undefined {
  const at = binary.indexOf(MAGIC);
  if (at < 0 || binary.length < at + 32) return undefined;
  const flags = binary[at + 15]!;
  if ((flags & 2) === 0) return undefined; // pointers into the data segment: Go before 1.18
  let offset = at + 32;
  const next = (): string | undefined => {
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      if (offset >= binary.length || shift > 28) return undefined;
      const byte = binary[offset++]!;
      length |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
    }
    if (offset + length > binary.length) return undefined;
    const text = binary.subarray(offset, offset + length).toString('utf8');
    offset += length;
    return text;
  };
  const goVersion = next();
  const modinfo = next();
  if (!goVersion || modinfo === undefined) return undefined;
  return { goVersion, ...parseModinfo(modinfo.length >= 2 * SENTINEL ? modinfo.slice(SENTINEL, -SENTINEL) : '') };
}

function parseModinfo(text: string): Omit<GoBuildInfo, 'goVersion'> {
  const info: Omit<GoBuildInfo, 'goVersion'> = { deps: [], settings: {} };
  for (const line of text.split('\n')) {
    const [kind, ...fields] = line.split('\t');
    const module = (): GoModule => ({ path: fields[0]!, version: fields[1] ?? '', ...(fields[2] ? { sum: fields[2] } : {}) });
    if (kind === 'path') info.path = fields[0];
    else if (kind === 'mod') info.main = module();
    else if (kind === 'dep') info.deps.push(module());
    else if (kind === '=>' && info.deps.length > 0) {
      // A replace: what was linked. A folder has no module version; the module keeps its name.
      const replaced = info.deps[info.deps.length - 1]!;
      const local = /^(\.{1,2}\/|\/)/.test(fields[0] ?? '');
      info.deps[info.deps.length - 1] = local ? { path: replaced.path, version: replaced.version, localReplace: fields[0]! } : module();
    }
    else if (kind === 'build' && fields[0]?.includes('=')) {
      const [key, ...value] = fields[0].split('=');
      info.settings[key!] = value.join('=');
    }
  }
  return info;
}

/** The modules as components, and the Go standard library (its purl as OSV and Go's vulndb name it). */
export function goComponents(info: GoBuildInfo): { modules: Component[]; stdlib: Component } {
  const modules = info.deps
    .map((dep): Component => {
      const ref = purl('golang', dep.path, dep.version);
      return {
        ref,
        type: 'library',
        name: dep.path,
        version: dep.version,
        purl: ref,
        properties: {
          ...(dep.sum ? { 'dev.nabla.go.sum': dep.sum } : {}),
          ...(dep.localReplace ? { 'dev.nabla.go.replace': dep.localReplace } : {}),
        },
      };
    })
    .sort((a, b) => (a.ref < b.ref ? -1 : 1));
  const version = info.goVersion.replace(/^go/, '');
  const stdlib: Component = {
    ref: purl('golang', 'stdlib', version),
    type: 'library',
    name: 'stdlib',
    version,
    purl: purl('golang', 'stdlib', version),
    license: 'BSD-3-Clause',
    description: `the Go standard library and runtime, linked by ${info.goVersion}`,
    properties: Object.fromEntries(Object.entries(info.settings).map(([key, value]) => [`dev.nabla.go.build.${key}`, value])),
  };
  return { modules, stdlib };
}
