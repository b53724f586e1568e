/**
 * Starter apps from templates/: `templates/<language>/<kind>/` holds one app (its source,
 * nabla.json and Dockerfile) and `templates/shared/` the files every app gets (.dockerignore,
 * CI jobs). A language is one folder; its kinds are `hello` and `server`.
 *
 * Files are copied as they are, but for two kinds of marks, so that GitHub's own `${{ … }}`
 * expressions pass through untouched:
 *   {{version}}                              the nabla-build version (CI installs that one)
 *   a line `{{#KIND}}` … a line `{{/KIND}}`  kept only in an app of that kind
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../util/errors.js';

export const TEMPLATE_KINDS = ['hello', 'server'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

export interface TemplateChoice {
  /** The templates/ folder. */
  root: string;
  language: string;
  kind: TemplateKind;
  version: string;
}

export interface TemplateFile {
  /** Relative to the new app's folder, with "/" separators. */
  path: string;
  content: Buffer;
  mode: number;
}

/** The files of one starter app, rendered; the language's own files win over shared ones. */
export function renderTemplate(choice: TemplateChoice): TemplateFile[] {
  const appDir = path.join(choice.root, choice.language, choice.kind);
  if (!fs.existsSync(appDir)) {
    throw new ConfigError(`there is no ${choice.kind} template for ${choice.language} in ${choice.root}`, {
      field: '--lang',
      hint: `languages with templates: ${templateLanguages(choice.root).join(', ')}`,
    });
  }
  const files = new Map<string, TemplateFile>();
  for (const dir of [path.join(choice.root, 'shared'), appDir]) {
    for (const relative of walk(dir)) {
      const source = path.join(dir, relative);
      const text = fs.readFileSync(source, 'utf8');
      files.set(relative, { path: relative, content: Buffer.from(render(text, choice)), mode: fs.statSync(source).mode & 0o111 ? 0o755 : 0o644 });
    }
  }
  return [...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The languages that have a folder in templates/. */
export function templateLanguages(root: string): string[] {
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'shared')
    .map((entry) => entry.name)
    .sort();
}

function render(text: string, choice: TemplateChoice): string {
  const kept: string[] = [];
  let section: string | undefined;
  for (const line of text.split('\n')) {
    const open = /^\{\{#(\w+)\}\}$/.exec(line);
    const close = /^\{\{\/(\w+)\}\}$/.exec(line);
    if (open) section = open[1];
    else if (close) section = undefined;
    else if (section === undefined || section === choice.kind) kept.push(line);
  }
  return kept.join('\n').replaceAll('{{version}}', choice.version);
}

/** Every file under dir, relative, sorted. */
function walk(dir: string, prefix = ''): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((entry) => {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      return entry.isDirectory() ? walk(dir, relative) : [relative];
    });
}
