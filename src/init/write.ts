/**
 * Writes a starter app into a folder without ever overwriting: every file that is already
 * there is named in one error before anything is written, and a failure part-way removes
 * what this call wrote.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, OutputError } from '../util/errors.js';
import type { TemplateFile } from './templates.js';

export function writeNewFiles(dir: string, files: TemplateFile[]): string[] {
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) {
    throw new ConfigError(`${dir} is not a folder`, { file: dir, hint: 'name a new folder, or an existing one to add the app to' });
  }
  const existing = files.map((file) => file.path).filter((file) => fs.existsSync(path.join(dir, file)));
  if (existing.length > 0) {
    throw new ConfigError(`${existing.length === 1 ? 'a file' : `${existing.length} files`} of the new app already exist in ${dir}; nothing was written`, {
      file: dir,
      details: existing.map((file) => `exists: ${file}`),
      hint: 'run it in an empty folder (nabla-build init NEW-DIR), or move those files away first',
    });
  }
  const written: string[] = [];
  try {
    for (const file of files) {
      const target = path.join(dir, file.path);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      // wx: fails if the file appeared since the check, rather than overwriting it.
      fs.writeFileSync(target, file.content, { flag: 'wx', mode: file.mode });
      written.push(target);
    }
  } catch (error) {
    for (const target of written) fs.rmSync(target, { force: true });
    throw new OutputError(`could not write the new app into ${dir}: ${(error as Error).message}`, {
      file: dir,
      hint: 'check the folder is writable; nothing of the new app was left there',
      cause: error,
    });
  }
  return files.map((file) => file.path);
}
