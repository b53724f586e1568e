/**
 * Language and entry detection for an app folder without (or with a partial) nabla.json.
 * Markers, first match wins: go.mod → go; package.json → node; pyproject.toml or
 * requirements.txt → python; *.go → go; a single *.py → python; *.c or a Makefile → c.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DetectError } from '../util/errors.js';
import type { Language } from './languages.js';

export interface Detected {
  language: Language;
  entry: string;
  /** Why: the marker file that decided the language, for progress output. */
  reason: string;
}

export function detectLanguage(appDir: string, files: string[]): { language: Language; reason: string } {
  const has = (name: string) => files.includes(name);
  const python = files.filter((f) => f.endsWith('.py'));
  if (has('go.mod')) return { language: 'go', reason: 'go.mod' };
  if (has('package.json')) return { language: 'node', reason: 'package.json' };
  if (has('pyproject.toml')) return { language: 'python', reason: 'pyproject.toml' };
  if (has('requirements.txt')) return { language: 'python', reason: 'requirements.txt' };
  if (files.some((f) => f.endsWith('.go'))) return { language: 'go', reason: '*.go files' };
  if (python.length === 1) return { language: 'python', reason: python[0]! };
  if (files.some((f) => f.endsWith('.c'))) return { language: 'c', reason: '*.c files' };
  if (has('Makefile') || has('makefile')) return { language: 'c', reason: 'Makefile' };
  throw new DetectError(`cannot tell which language ${appDir} is written in`, {
    file: appDir,
    field: 'language',
    hint:
      'add go.mod (or *.go), package.json, pyproject.toml/requirements.txt/main.py, *.c or a Makefile, ' +
      'or set "language" in nabla.json',
  });
}

export function detectEntry(appDir: string, language: Language, files: string[]): string {
  const entry = findEntry(appDir, language, files);
  // It becomes NABLA_ENTRY and part of the image's argv: one line of printable text.
  if (/[\u0000-\u001f\u007f]/.test(entry)) {
    throw new DetectError(`the entry found in ${appDir}, ${JSON.stringify(entry)}, holds control characters`, {
      file: path.join(appDir, 'nabla.json'),
      field: 'entry',
      hint: `rename it, or set "entry" in nabla.json, e.g. { "entry": "${exampleEntry[language]}" }`,
    });
  }
  return entry;
}

function findEntry(appDir: string, language: Language, files: string[]): string {
  const has = (name: string) => files.includes(name);
  const noEntry = (looked: string): never => {
    throw new DetectError(`no entry found in ${appDir} (looked for ${looked})`, {
      file: path.join(appDir, 'nabla.json'),
      field: 'entry',
      hint: `set "entry" in nabla.json, e.g. { "entry": "${exampleEntry[language]}" }`,
    });
  };
  switch (language) {
    case 'c': {
      // A Makefile decides its own binary name, so it must be told; *.c folders are named for us.
      if (has('Makefile') || has('makefile')) noEntry('the binary name: a Makefile build needs "entry"');
      const sources = files.filter((f) => f.endsWith('.c'));
      if (sources.length === 0) noEntry('*.c files');
      // One file names the binary, else the folder; either made a usable name (".c" gave "").
      return sanitize(sources.length === 1 ? sources[0]!.slice(0, -2) : path.basename(appDir));
    }
    case 'go': {
      // The binary's name (the package in the folder is built), or "./cmd/<name>" when the
      // folder has no *.go files and cmd/ holds one program.
      if (!files.some((f) => f.endsWith('.go'))) {
        const commands = subfolders(path.join(appDir, 'cmd'));
        if (commands.length === 1) return `./cmd/${commands[0]}`;
      }
      return sanitize(goModuleName(appDir) ?? path.basename(appDir));
    }
    case 'node': {
      const main = packageMain(appDir);
      if (main) return main;
      for (const candidate of ['index.js', 'server.js', 'app.js', 'main.js']) if (has(candidate)) return candidate;
      return noEntry('"main" in package.json, index.js, server.js, app.js, main.js');
    }
    case 'python': {
      for (const candidate of ['main.py', 'app.py', '__main__.py']) if (has(candidate)) return candidate;
      const python = files.filter((f) => f.endsWith('.py'));
      if (python.length === 1) return python[0]!;
      return noEntry('main.py, app.py, __main__.py or a single *.py');
    }
  }
}

const exampleEntry: Record<Language, string> = { c: 'hello', go: 'server', node: 'server.js', python: 'main.py' };

/** A binary name made from a folder or module name. */
function sanitize(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[-.]+/, '');
  return clean || 'app';
}

function goModuleName(appDir: string): string | undefined {
  const text = readIfExists(path.join(appDir, 'go.mod'));
  const module = text?.match(/^module\s+(\S+)/m)?.[1];
  return module?.split('/').filter((part) => !/^v\d+$/.test(part)).pop();
}

function subfolders(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

/** package.json's "main", else the script of a "start" script of the form `node FILE`. */
function packageMain(appDir: string): string | undefined {
  const text = readIfExists(path.join(appDir, 'package.json'));
  if (!text) return undefined;
  try {
    const pkg = JSON.parse(text) as { main?: unknown; scripts?: { start?: unknown } };
    if (typeof pkg.main === 'string') return pkg.main;
    const start = pkg.scripts?.start;
    return typeof start === 'string' ? /^node\s+([^\s-][^\s]*)\s*$/.exec(start)?.[1] : undefined;
  } catch {
    return undefined; // the node toolchain reports a broken package.json
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
