/**
 * All build input gathered at the edge into one validated, frozen BuildConfig:
 * CLI flags + environment + nabla.json + detection + the toolchain catalog. Every check of
 * a build's input is made here (or in the parsers it calls), before any work starts;
 * lower modules never read argv or env.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ZodIssue } from 'zod';
import { detectEntry, detectLanguage } from '../detect/detect.js';
import { LANGUAGES, type Language } from '../detect/languages.js';
import type { ImageReference } from '../image/reference.js';
import type { Toolchain, ToolchainCatalog } from '../toolchain/catalog.js';
import { ConfigError, EnvironmentError } from '../util/errors.js';
import { closest } from '../util/suggest.js';
import { parseOutputs, type OutputFlags, type OutputSpec } from './output-spec.js';
import { gitSource, packageJsonFields, type AppSource } from './provenance.js';
import { parseReference } from './reference.js';
import { memoryMiB, NABLA_JSON_FIELDS, nablaJsonSchema, type NablaJson } from './schema.js';

export type ExecutorKind = 'docker' | 'local';

export interface BuildFlags extends OutputFlags {
  config?: string;
  entry?: string;
  language?: string;
  toolchain?: string;
  tag?: string[];
  executor?: string;
  /** false with --no-cache. */
  cache?: boolean;
}

export interface BuildConfig {
  appDir: string;
  /** The nabla.json read, if any. */
  configFile?: string;
  language: Language;
  entry: string;
  toolchain: string;
  args: string[];
  env: Record<string, string>;
  workdir: string;
  ports: string[]; // "8080/tcp"
  /** container: the tender gives the unikernel the container's eth0 (--net-from=eth0). */
  network: 'container' | 'none';
  memoryMiB: number;
  files: { include: string[]; exclude: string[] };
  /** Debian's time zones (the toolchain image's /usr/share/zoneinfo) in the rootfs. */
  zoneinfo: boolean;
  /** Options from nabla.json that the toolchain applies: NABLA_NODE for "node", NABLA_HEAP for "heap". */
  languageOptions: Record<string, string>;
  /** Every timestamp in the image: mtimes and the config's `created` (seconds). */
  sourceDateEpoch: number;
  executor: ExecutorKind;
  /** Use what earlier builds kept (the compile cache, the toolchain folders); false: --no-cache. */
  cache: boolean;
  /** The variables of nabla-build's environment that the toolchain passes to compiles (passEnv). */
  compileEnv: Record<string, string>;
  outputs: OutputSpec[];
  tags: ImageReference[];
  /** The app as it names itself (nabla.json, else package.json, else its folder) and where its source is. */
  app: { name: string; version?: string; license?: string; source: AppSource };
}

export const DEFAULT_MEMORY_MIB = 256;
/** 1980-01-01T00:00:00Z, the earliest date a zip entry can hold (as Bazel's default): an app
 * that zips its own files must not meet 1970. SOURCE_DATE_EPOCH overrides it. */
export const DEFAULT_SOURCE_DATE_EPOCH = 315532800;
export const DEFAULT_EXCLUDE = [
  '.git/**',
  '.nabla/**',
  'nabla.json',
  'Dockerfile',
  '.dockerignore',
  // CI jobs (as `nabla-build init` writes them) are not app files.
  '.github/**',
  '.gitlab-ci.yml',
  '**/*.o',
  '**/.DS_Store',
];
/** Build inputs that are not app files: vendored wheels are installed, not shipped. */
const LANGUAGE_EXCLUDE: Partial<Record<string, string[]>> = {
  python: ['wheels/**', '.venv/**', '**/__pycache__/**'],
};

export interface ResolveContext {
  /** The folder relative paths in flags start from. */
  cwd: string;
  /** nabla-build's environment: SOURCE_DATE_EPOCH, NABLA_TOOLCHAIN and the toolchain's passEnv. */
  env: NodeJS.ProcessEnv;
  /** The toolchains there are: the app's must exist and build its language. */
  toolchains: ToolchainCatalog;
}

export function resolveBuildConfig(dir: string | undefined, flags: BuildFlags, ctx: ResolveContext): BuildConfig {
  const appDir = path.resolve(ctx.cwd, dir ?? '.');
  const files = listAppDir(appDir);
  const configFile = flags.config ? path.resolve(ctx.cwd, flags.config) : path.join(appDir, 'nabla.json');
  const json = readNablaJson(configFile, flags.config !== undefined);

  const language = pickLanguage(flags.language, json?.language, appDir, files);
  const entry = flags.entry ?? json?.entry ?? detectEntry(appDir, language, files);
  const tags = (flags.tag ?? []).map(parseReference);
  const outputs = parseOutputs(flags, tags, ctx.cwd);
  const sourceDateEpoch = parseSourceDateEpoch(ctx.env.SOURCE_DATE_EPOCH);
  const toolchain = pickToolchain(flags.toolchain ?? json?.toolchain ?? language, language, ctx.toolchains, json ? configFile : undefined);
  const executor = pickExecutor(flags.executor, toolchain.name, ctx.env.NABLA_TOOLCHAIN);
  const declared = packageJsonFields(appDir);

  return Object.freeze({
    appDir,
    configFile: json ? configFile : undefined,
    language,
    entry,
    toolchain: toolchain.name,
    args: json?.args ?? [],
    env: json?.env ?? {},
    workdir: json?.workdir ?? '/app',
    ports: (json?.ports ?? []).map((p) => (typeof p === 'number' || !p.includes('/') ? `${p}/tcp` : p)),
    // An app that exposes ports serves on the network; others get none unless they ask.
    network: json?.network ?? (json?.ports?.length ? 'container' : 'none'),
    memoryMiB: json?.memory === undefined ? DEFAULT_MEMORY_MIB : memoryMiB(json.memory),
    files: {
      include: json?.files?.include ?? ['**'],
      exclude: [...DEFAULT_EXCLUDE, ...(LANGUAGE_EXCLUDE[language] ?? []), ...(json?.files?.exclude ?? [])],
    },
    zoneinfo: json?.zoneinfo ?? true,
    languageOptions: languageOptions(json, language, configFile),
    sourceDateEpoch,
    executor,
    cache: flags.cache !== false,
    compileEnv: passedEnv(toolchain.passEnv, ctx.env),
    outputs,
    tags,
    app: Object.freeze({
      name: declared.name ?? path.basename(appDir),
      ...((json?.version ?? declared.version) ? { version: json?.version ?? declared.version } : {}),
      ...((json?.license ?? declared.license) ? { license: json?.license ?? declared.license } : {}),
      source: Object.freeze(gitSource(appDir)),
    }),
  });
}

/** The language's own block of nabla.json, as the variable the toolchain reads (JSON text). */
function languageOptions(json: NablaJson | undefined, language: Language, configFile: string): Record<string, string> {
  return { ...nodeOptions(json, language, configFile), ...heapOption(json, language, configFile) };
}

/** Go's heap arenas and V8's code range reserve more address space than --mem: a flat heap cannot hold them. */
function heapOption(json: NablaJson | undefined, language: Language, configFile: string): Record<string, string> {
  if (json?.heap === undefined) return {};
  if (json.heap === 'flat' && (language === 'go' || language === 'node')) {
    throw new ConfigError(`${configFile}: field "heap": a ${language === 'go' ? 'Go' : 'Node'} app reserves more address space than its memory, which a flat heap cannot hold`, {
      file: configFile,
      field: 'heap',
      hint: 'remove "heap" (Go and Node apps always have a paged heap)',
    });
  }
  return { NABLA_HEAP: json.heap };
}

function nodeOptions(json: NablaJson | undefined, language: Language, configFile: string): Record<string, string> {
  if (json?.node === undefined) return {};
  if (language !== 'node') {
    throw new ConfigError(`${configFile}: field "node" is for Node apps, and this app is ${language}`, {
      file: configFile,
      field: 'node',
      hint: 'remove "node", or set "language": "node" if this is a Node app',
    });
  }
  return { NABLA_NODE: JSON.stringify(json.node) };
}

function listAppDir(appDir: string): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(appDir);
  } catch {
    throw new ConfigError(`app folder ${appDir} does not exist`, {
      file: appDir,
      hint: 'pass the folder that holds your app, e.g. `nabla-build build examples/hello-c`',
    });
  }
  if (!stat.isDirectory()) {
    throw new ConfigError(`${appDir} is not a folder`, { file: appDir, hint: 'pass the folder that holds your app, not a file' });
  }
  return fs.readdirSync(appDir).sort();
}

function readNablaJson(file: string, required: boolean): NablaJson | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read ${file}: ${(error as Error).message}`, { file, hint: 'check the --config path' });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file} is not valid JSON: ${(error as Error).message}`, {
      file,
      hint: 'fix the syntax (a JSON validator or `node -e "JSON.parse(require(\'fs\').readFileSync(0))" < nabla.json` shows where)',
    });
  }
  const parsed = nablaJsonSchema.safeParse(data);
  if (!parsed.success) throw describeIssue(file, parsed.error.issues[0]!);
  return parsed.data;
}

function describeIssue(file: string, issue: ZodIssue): ConfigError {
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const where = issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
    const known = NESTED_FIELDS[String(issue.path[0])] ?? NABLA_JSON_FIELDS;
    const suggestion = closest(key, known);
    return new ConfigError(`${file}: unknown field "${where}${key}"`, {
      file,
      field: `${where}${key}`,
      hint: suggestion ? `did you mean "${where}${suggestion}"?` : `known fields: ${known.filter((k) => k !== '$schema').join(', ')}`,
    });
  }
  const field = issue.path.join('.') || '(top level)';
  return new ConfigError(`${file}: field "${field}": ${issue.message}`, {
    file,
    field,
    hint: fieldHints[String(issue.path[0])] ?? 'see README.md, "nabla.json"',
  });
}

const NESTED_FIELDS: Record<string, string[]> = { files: ['include', 'exclude'], node: ['version', 'options'] };

const fieldHints: Record<string, string> = {
  entry: 'set "entry" to the program to run, e.g. "hello" or "main.py"',
  language: `use one of ${LANGUAGES.join(', ')}`,
  args: 'use a list of strings, e.g. ["--port", "8080"]',
  env: 'use an object of strings, e.g. { "MODE": "production" }',
  ports: 'use a list such as [8080, "53/udp"]',
  network: 'use "container" (the unikernel takes the container\'s network) or "none"',
  memory: 'use MiB as a number (256) or a size string ("1G")',
  files: 'use { "include": ["**"], "exclude": ["tests/**"] }',
  node: 'use { "version": 22, "options": ["--jitless"] }: a major the node toolchain has (24 or 22), and node\'s own options',
  version: 'use a string, e.g. "1.2.0": the image\'s org.opencontainers.image.version',
  license: 'use an SPDX license expression, e.g. "MIT" or "Apache-2.0 OR MIT"',
  zoneinfo: 'use true (Debian\'s time zones in /usr/share/zoneinfo, the default) or false (none: the app knows only UTC; the image is about 200 KB smaller)',
};

function pickLanguage(flag: string | undefined, fromJson: Language | undefined, appDir: string, files: string[]): Language {
  if (flag !== undefined) {
    if (!(LANGUAGES as readonly string[]).includes(flag)) {
      throw new ConfigError(`unknown language "${flag}"`, { field: '--language', hint: `use one of ${LANGUAGES.join(', ')}` });
    }
    return flag as Language;
  }
  return fromJson ?? detectLanguage(appDir, files).language;
}

export function parseSourceDateEpoch(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_SOURCE_DATE_EPOCH;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new ConfigError(`SOURCE_DATE_EPOCH="${value}" is not a whole number of seconds`, {
      field: 'SOURCE_DATE_EPOCH',
      hint: 'set it to e.g. $(git log -1 --format=%ct), or unset it for 1980-01-01 (315532800)',
    });
  }
  return Number(value);
}

/** The toolchain by name; it must exist and build the app's language. */
function pickToolchain(name: string, language: Language, catalog: ToolchainCatalog, configFile: string | undefined): Toolchain {
  const toolchain = catalog.get(name);
  if (!toolchain.languages.includes(language)) {
    const fitting = catalog.list().filter((t) => t.languages.includes(language));
    throw new ConfigError(`toolchain "${toolchain.name}" does not build ${language} apps`, {
      file: configFile,
      field: 'toolchain',
      hint: `remove "toolchain" to use the default for ${language}, or pick one of: ${fitting.map((t) => t.name).join(', ') || '(none yet)'}`,
    });
  }
  return toolchain;
}

/**
 * docker, or local when running inside a toolchain image ($NABLA_TOOLCHAIN names it): a
 * local build needs that image to be the app's toolchain.
 */
function pickExecutor(value: string | undefined, toolchain: string, current: string | undefined): ExecutorKind {
  const kind = value === undefined || value === 'auto' ? (current !== undefined ? 'local' : 'docker') : value;
  if (kind !== 'docker' && kind !== 'local') {
    throw new ConfigError(`unknown executor "${value}"`, {
      field: '--executor',
      hint: 'use docker (default), local (inside a toolchain image) or auto',
    });
  }
  if (kind === 'local' && current !== toolchain) {
    throw new EnvironmentError(
      current
        ? `--executor local runs in the "${current}" toolchain image, but this app needs "${toolchain}"`
        : '--executor local must run inside a nabla toolchain image (NABLA_TOOLCHAIN is not set)',
      {
        field: '--executor',
        hint: `use FROM nabla/builder-${toolchain} in your Dockerfile, or build with --executor docker`,
      },
    );
  }
  return kind;
}

/** The variables of `env` that a toolchain's passEnv names and that are set. */
export function passedEnv(names: readonly string[], env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (env[name] ? [[name, env[name]]] : [])));
}

