/** Runs the built CLI (bin/nabla-build.js) as a user would, capturing both streams. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type Options } from 'execa';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const cliPath = path.join(repoRoot, 'bin', 'nabla-build.js');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function nabla(args: string[], options: Options = {}): Promise<CliResult> {
  const result = await execa(cliPath, ['--progress=plain', ...args], { reject: false, ...options, stdin: 'ignore' });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** A fresh temp folder, removed by the returned cleanup. */
export function tempDir(prefix = 'nabla-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes files (relative path → content) under dir. */
export function writeFiles(dir: string, files: Record<string, string>): string {
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  return dir;
}
