/**
 * A Node app's dependencies as npm installed them: node_modules/.package-lock.json (the
 * "hidden lockfile" npm writes beside what it installed, so exactly the tree in the image),
 * else the app's package-lock.json without its dev packages (what `npm ci --omit=dev`
 * installs), else the package.json files under node_modules/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { purl } from './purl.js';
import type { Component } from './types.js';

interface LockEntry {
  name?: string;
  version?: string;
  integrity?: string;
  license?: string;
  link?: boolean;
  dev?: boolean;
  devOptional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

export interface NpmTree {
  /** Every installed package. */
  packages: Component[];
  /** refs of the app's own dependencies (package.json). */
  direct: string[];
}

/** nodeModules: the installed node_modules/ folder; appDir: the app's source (package.json, lockfile). */
export function npmDependencies(nodeModules: string | undefined, appDir: string): NpmTree {
  const entries = readTree(nodeModules, appDir);
  const refs = new Map<string, string>(); // install path → ref
  const components = new Map<string, Component>();
  for (const [where, entry] of entries) {
    const name = entry.name ?? where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (!entry.version || !name) continue;
    const component: Component = {
      ref: purl('npm', name, entry.version),
      type: 'library',
      name,
      version: entry.version,
      purl: purl('npm', name, entry.version),
      ...(entry.license ? { license: entry.license } : {}),
      ...(sriHashes(entry.integrity) ?? {}),
    };
    refs.set(where, component.ref);
    components.set(component.ref, component);
  }
  // Edges as node resolves them: the nearest node_modules/NAME up from the package's own folder.
  const resolve = (from: string, dep: string): string | undefined => {
    for (let dir = from; ; dir = parentPackage(dir)) {
      const ref = refs.get(dir ? `${dir}/node_modules/${dep}` : `node_modules/${dep}`);
      if (ref || dir === '') return ref;
    }
  };
  for (const [where, entry] of entries) {
    const ref = refs.get(where);
    if (!ref) continue;
    const deps = [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {})];
    const dependsOn = [...new Set(deps.flatMap((dep) => resolve(where, dep) ?? []))].sort();
    if (dependsOn.length > 0) components.get(ref)!.dependsOn = dependsOn;
  }
  const manifest = readJson<LockEntry>(path.join(appDir, 'package.json')) ?? {};
  const direct = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {})];
  return {
    packages: [...components.values()],
    direct: [...new Set(direct.flatMap((dep) => refs.get(`node_modules/${dep}`) ?? []))].sort(),
  };
}

/** "node_modules/a/node_modules/b" → "node_modules/a"; "node_modules/a" → "". */
function parentPackage(where: string): string {
  const cut = where.lastIndexOf('/node_modules/');
  return cut < 0 ? '' : where.slice(0, cut);
}

/** install path ("node_modules/a", "node_modules/a/node_modules/b") → entry, sorted by path. */
function readTree(nodeModules: string | undefined, appDir: string): [string, LockEntry][] {
  const fromLock = (file: string, omitDev: boolean) => {
    const lock = readJson<{ packages?: Record<string, LockEntry> }>(file);
    if (!lock?.packages) return undefined;
    return Object.entries(lock.packages).filter(
      ([where, entry]) => where.startsWith('node_modules/') && !entry.link && !(omitDev && (entry.dev || entry.devOptional)),
    );
  };
  const installed = nodeModules !== undefined && fs.existsSync(nodeModules) ? nodeModules : undefined;
  const tree =
    (installed ? (fromLock(path.join(installed, '.package-lock.json'), false) ?? walk(installed)) : undefined) ??
    fromLock(path.join(appDir, 'package-lock.json'), true) ??
    fromLock(path.join(appDir, 'npm-shrinkwrap.json'), true) ??
    [];
  return tree.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The package.json of every package under node_modules/ (a vendored tree without npm's hidden lockfile). */
function walk(nodeModules: string): [string, LockEntry][] {
  const found: [string, LockEntry][] = [];
  const visit = (dir: string, where: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      if (name.startsWith('@')) {
        for (const scoped of fs.readdirSync(path.join(dir, name)).sort()) add(path.join(dir, name, scoped), `${where}/${name}/${scoped}`);
      } else {
        add(path.join(dir, name), `${where}/${name}`);
      }
    }
  };
  const add = (dir: string, where: string) => {
    const manifest = readJson<LockEntry & { license?: unknown }>(path.join(dir, 'package.json'));
    if (!manifest) return;
    found.push([where, { ...manifest, license: typeof manifest.license === 'string' ? manifest.license : undefined }]);
    if (fs.existsSync(path.join(dir, 'node_modules'))) visit(path.join(dir, 'node_modules'), `${where}/node_modules`);
  };
  visit(nodeModules, 'node_modules');
  return found;
}

/** "sha512-<base64>" (a lockfile's integrity) → { hashes: { 'SHA-512': hex } }. */
function sriHashes(integrity: string | undefined): Pick<Component, 'hashes'> | undefined {
  const hashes: Record<string, string> = {};
  for (const item of integrity?.split(/\s+/) ?? []) {
    const match = /^sha(1|256|384|512)-([A-Za-z0-9+/=]+)$/.exec(item);
    if (match) hashes[`SHA-${match[1]}`] = Buffer.from(match[2]!, 'base64').toString('hex');
  }
  return Object.keys(hashes).length > 0 ? { hashes } : undefined;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
