/**
 * One C style for all our C: .clang-format (the libOS's: tabs, width 8, Linux braces),
 * checked with Debian's clang-format (14 on bookworm; scripts/setup-host.sh installs it)
 * over every *.c and *.h under native/, test/native/ and test/fuzz/ that git lists, new files included.
 * `npm run format:c` reformats them all in place.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

/** The files the style covers, as git pathspecs (`*` crosses directories). package.json's format:c uses the same. */
const PATHSPECS = ['native/*.[ch]', 'test/native/*.[ch]', 'test/fuzz/*.[ch]'];

/** Tracked and new (untracked, not ignored) files; a tracked file deleted from the work tree is not checked. */
function cFiles(): string[] {
  const ls = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...PATHSPECS], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (ls.error || ls.status !== 0) throw new Error(`git ls-files failed: ${ls.error?.message ?? ls.stderr}`);
  return [...new Set(ls.stdout.split('\0').filter((f) => f && fs.existsSync(path.join(repoRoot, f))))].sort();
}

describe('C style', () => {
  it('every C file under native/ and test/native/ is as clang-format writes it', () => {
    const version = spawnSync('clang-format', ['--version'], { encoding: 'utf8' });
    if (version.error || version.status !== 0) {
      expect.fail('clang-format is not installed: install clang-format (apt-get install clang-format); scripts/setup-host.sh installs it');
    }
    const files = cFiles();
    expect(files.length, 'git lists no C files: PATHSPECS or the checkout is wrong').toBeGreaterThan(50);
    const check = spawnSync('clang-format', ['--style=file', '--dry-run', '--Werror', ...files], {
      cwd: repoRoot,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (check.status === 0) return;
    const bad = [...new Set([...check.stderr.matchAll(/^(.+?):\d+:\d+: (?:error|warning): code should be clang-formatted/gm)].map((m) => m[1]))];
    if (bad.length === 0) expect.fail(`clang-format failed (exit ${check.status}):\n${check.stderr || check.error?.message}`);
    const fix = bad.length <= 5 ? `clang-format -i ${bad.join(' ')}` : 'clang-format -i FILE (each file above)';
    expect.fail(
      `${bad.length} C file(s) differ from the style in .clang-format (checked with ${version.stdout.trim()}):\n` +
        bad.map((f) => `  ${f}\n`).join('') +
        `fix: ${fix}, or reformat every C file: npm run format:c`,
    );
  });

  it('npm run format:c reformats the same files', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const script = pkg.scripts['format:c'] ?? '';
    for (const spec of PATHSPECS) expect(script).toContain(`'${spec}'`);
    expect(script).toContain('clang-format -i');
  });
});
