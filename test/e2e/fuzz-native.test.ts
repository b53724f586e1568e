/**
 * The C fuzzers (test/fuzz/c/run.sh): libFuzzer with ASan and UBSan over the tender's ELF
 * and NABLA-note checks (elf) and the libOS's rootfs tar index with path lookups (tar), each
 * for NABLA_FUZZ_C_SECONDS (default 60) from its seed corpus, which also replays every input
 * that once crashed. They run here, in the e2e project, because that is where Docker is and
 * where files run one at a time: a fuzzer then has both cores, and `npm test` (CI's only
 * command) runs them with no step of its own. Their clang lives in a small image made from
 * test/fuzz/c/Dockerfile on the Debian base (tagged by the file's hash, built once); the
 * sources are mounted read-only, so a change to a parser is fuzzed without a rebuild.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/cli.js';

const SECONDS = Number(process.env.NABLA_FUZZ_C_SECONDS ?? 60);
/** Each target, and the least line coverage of its parser files the run must reach (seeds alone give most of it). */
const TARGETS: Array<[string, Record<string, number>]> = [
  // elf.c: the harness opens every input as the program and as the loader, each given a base
  // for ET_DYN (a PIE beside the libOS), so both roles' lines are reached (72.65% in 20 s).
  ['elf', { 'elf.c': 70 }],
  ['tar', { 'tar.c': 90, 'vfs.c': 50 }],
];
const dockerfile = path.join(repoRoot, 'test', 'fuzz', 'c', 'Dockerfile');
const image = `nabla/fuzz-c:${crypto.createHash('sha256').update(fs.readFileSync(dockerfile)).digest('hex').slice(0, 16)}`;
const out = tempDir('nabla-e2e-fuzz-');
let output = '';
let exitCode = -1;
const lines = new Map<string, { status: string; detail: string }>();

beforeAll(async () => {
  if ((await execa('docker', ['image', 'inspect', image], { reject: false })).exitCode !== 0) {
    const empty = tempDir('nabla-fuzz-context-'); // the Dockerfile copies nothing in
    const build = await execa('docker', ['build', '--network', 'host', '-t', image, '-f', dockerfile, empty], { reject: false, all: true });
    fs.rmSync(empty, { recursive: true, force: true });
    expect(build.exitCode, String(build.all)).toBe(0);
  }
  fs.chmodSync(out, 0o777);
  const run = await execa(
    'docker',
    ['run', '--rm', '--network', 'none', '--cap-drop', 'ALL', '-v', `${repoRoot}:/src:ro`, '-v', `${out}:/out`, image,
      'sh', '-c', `umask 0 && exec nice -n 19 sh /src/test/fuzz/c/run.sh /out/c ${SECONDS}`],
    { reject: false, stdin: 'ignore', all: true },
  );
  output = String(run.all);
  exitCode = run.exitCode ?? -1;
  process.stderr.write(`${output}\n`);
  for (const line of output.split('\n')) {
    const m = /^(ok|FAIL) (\w+): (.*)$/.exec(line);
    if (m) lines.set(m[2]!, { status: m[1]!, detail: m[3]! });
  }
}, (SECONDS * TARGETS.length + 600) * 1000);

afterAll(() => {
  fs.rmSync(out, { recursive: true, force: true });
});

describe(`C fuzzers (libFuzzer, ASan+UBSan), ${SECONDS} s each`, () => {
  it('every target ran and the suite closed with the counts', () => {
    expect([...lines.keys()].sort(), output).toEqual(TARGETS.map(([t]) => t).sort());
    expect(output.trim().split('\n').pop(), output).toMatch(/^\d+ passed, \d+ failed$/);
    expect(exitCode, output).toBe([...lines.values()].every((l) => l.status === 'ok') ? 0 : 1);
  });

  it.each(TARGETS)('%s: no crash, leak, UB or broken promise, and the parser files covered', (target, least) => {
    const line = lines.get(target) ?? { status: 'missing', detail: output };
    // A FAIL line names the sanitizer's summary and the input saved under the run's folder.
    expect(line.status, `${target}: ${line.detail}`).toBe('ok');
    const execs = Number(/^(\d+) executions/.exec(line.detail)?.[1]);
    expect(execs, line.detail).toBeGreaterThan(1000);
    expect(line.detail).toMatch(/cov: \d+ ft: \d+/);
    for (const [file, percent] of Object.entries(least)) {
      const covered = Number(new RegExp(`${file.replace('.', '\\.')} ([\\d.]+)%`).exec(line.detail)?.[1]);
      expect(covered, `${file} in ${line.detail}`).toBeGreaterThanOrEqual(percent);
    }
  });
});
