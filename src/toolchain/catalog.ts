/**
 * The toolchains shipped in toolchains/<name>/: a Dockerfile, its files, and a
 * toolchain.json saying what it builds. Each image is tagged with a content hash of its
 * folder (and its parent's hash), so a change rebuilds and no change reuses.
 * A toolchain.json with "image" instead names an image made elsewhere (an external
 * toolchain, e.g. rumprun's): used as it is, never built, if it keeps the compile contract.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { LANGUAGES } from '../detect/languages.js';
import { ALL_FILES, fileEntries, selectFiles } from '../rootfs/tree.js';
import { ConfigError, ToolchainError } from '../util/errors.js';
import { packageRoot } from '../util/paths.js';
import { closest } from '../util/suggest.js';
import type { TarEntry } from '../util/tar.js';

/** The Debian base every toolchain starts from; `nabla-build toolchain bootstrap` makes it. */
export const BASE_IMAGE = 'nabla/debian:bookworm';

const manifestSchema = z
  .object({
    description: z.string(),
    /** The toolchain this one builds FROM, or null for the Debian base image. */
    from: z.string().nullable(),
    languages: z.array(z.enum(LANGUAGES)),
    /** Network for app compiles: none (hermetic) or host (npm/pip downloads). */
    network: z.enum(['none', 'host']),
    /** Variables of nabla-build's environment handed to compiles when set (an index, a proxy). */
    passEnv: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a variable name, e.g. "PIP_INDEX_URL"')).default([]),
    /** Compiles get a folder kept between them ($NABLA_CACHE): only for a compile that runs none of the app's code. */
    cache: z.boolean().default(false),
    /** Folders of the nabla-build package (e.g. "native") added to the build context and the hash. */
    include: z
      .array(
        z
          .string()
          .regex(/^[a-z0-9][a-z0-9._/-]*$/, 'must be a folder of the nabla-build package, e.g. "native"')
          .refine((folder) => !folder.split('/').includes('..'), 'must stay inside the nabla-build package (no "..")'),
      )
      .default([]),
    /** An image made elsewhere that keeps the compile contract: used as is, no Dockerfile. */
    image: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._/:@-]*$/, 'must be an image reference, e.g. "registry.example/team/rumprun-c:1"')
      .optional(),
  })
  .strict()
  .refine((t) => !t.image || (t.from === null && t.include.length === 0), {
    message: 'a toolchain with "image" is made elsewhere: it has no "from" (null) and no "include"',
    path: ['image'],
  });

export interface Toolchain {
  name: string;
  dir: string;
  description: string;
  from: string | null;
  languages: string[];
  network: 'none' | 'host';
  passEnv: string[];
  /** Compiles get a cache folder kept between them, per image ($NABLA_CACHE). */
  cache: boolean;
  include: string[];
  /** An external image used as it is (toolchain.json "image"); none: built from dir's Dockerfile. */
  image?: string;
}

export class ToolchainCatalog {
  private readonly toolchains = new Map<string, Toolchain>();
  private readonly hashes = new Map<string, string>();

  constructor(readonly root: string) {
    for (const name of fs.readdirSync(root).sort()) {
      const dir = path.join(root, name);
      const manifestPath = path.join(dir, 'toolchain.json');
      if (!fs.existsSync(manifestPath)) continue;
      let data: unknown;
      try {
        data = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
      } catch (error) {
        throw new ToolchainError(`${manifestPath} is not valid JSON: ${(error as Error).message.replace(/\s+/g, ' ')}`, {
          file: manifestPath,
          hint: 'see toolchains/README.md for the toolchain.json fields',
          cause: error,
        });
      }
      const parsed = manifestSchema.safeParse(data);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new ToolchainError(`${manifestPath}: field "${issue.path.join('.')}": ${issue.message}`, {
          file: manifestPath,
          field: issue.path.join('.'),
          hint: 'see toolchains/README.md for the toolchain.json fields',
        });
      }
      this.toolchains.set(name, { name, dir, ...parsed.data });
    }
  }

  list(): Toolchain[] {
    return [...this.toolchains.values()];
  }

  get(name: string): Toolchain {
    const toolchain = this.toolchains.get(name);
    if (!toolchain) {
      const names = [...this.toolchains.keys()];
      const suggestion = closest(name, names);
      throw new ConfigError(`unknown toolchain "${name}"`, {
        field: 'toolchain',
        hint: `${suggestion ? `did you mean "${suggestion}"? ` : ''}available: ${names.join(', ')}`,
      });
    }
    return toolchain;
  }

  /** The toolchains to build, parents first, ending with `name`. */
  lineage(name: string): Toolchain[] {
    const chain: Toolchain[] = [];
    for (let t: Toolchain | undefined = this.get(name); t; t = t.from ? this.get(t.from) : undefined) {
      if (chain.includes(t)) throw new ToolchainError(`toolchain "${name}" has a cycle in "from"`, { field: 'from' });
      chain.unshift(t);
    }
    return chain;
  }

  /** sha256 over the folder's files (path, mode, bytes) and the parent's hash. */
  hash(name: string): string {
    const known = this.hashes.get(name);
    if (known) return known;
    const toolchain = this.lineage(name).at(-1)!; // refuses a cycle in "from" before the parent's hash recurses
    const digest = crypto.createHash('sha256');
    digest.update(`parent:${toolchain.from ? this.hash(toolchain.from) : BASE_IMAGE}\0`);
    for (const entry of this.context(name)) {
      if (entry.type !== 'file') continue;
      digest.update(`${entry.path}\0${entry.mode & 0o111 ? 'x' : '-'}\0`);
      digest.update(entry.data);
      digest.update('\0');
    }
    const hex = digest.digest('hex');
    this.hashes.set(name, hex);
    return hex;
  }

  /** The docker build context: the toolchain folder, plus its `include` folders under their own names. */
  context(name: string): TarEntry[] {
    const toolchain = this.get(name);
    const entries = fileEntries(toolchain.dir, selectFiles(toolchain.dir, ALL_FILES), '/');
    for (const folder of toolchain.include) {
      const dir = path.join(packageRoot(), folder);
      if (!fs.existsSync(dir)) {
        throw new ToolchainError(`toolchain "${name}" includes "${folder}", which nabla-build does not have`, {
          file: path.join(toolchain.dir, 'toolchain.json'),
          field: 'include',
        });
      }
      entries.push(...fileEntries(dir, selectFiles(dir, ALL_FILES), `/${folder}`));
    }
    return entries;
  }

  image(name: string): string {
    return this.get(name).image ?? `nabla/toolchain-${name}:${this.hash(name).slice(0, 16)}`;
  }

  /** The image a toolchain's Dockerfile builds FROM (passed as the NABLA_FROM build arg). */
  parentImage(name: string): string {
    const from = this.get(name).from;
    return from ? this.image(from) : BASE_IMAGE;
  }
}

/** The catalog of `dir` (an absolute path), or of the toolchains shipped with nabla-build. */
export function openCatalog(dir?: string): ToolchainCatalog {
  const root = dir ?? path.join(packageRoot(), 'toolchains');
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new ConfigError(`toolchains folder ${root} does not exist`, {
      file: root,
      field: '--toolchains-dir',
      hint: 'pass a folder holding <name>/Dockerfile and <name>/toolchain.json',
    });
  }
  return new ToolchainCatalog(root);
}
