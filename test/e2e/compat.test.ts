/**
 * `npm run compat`'s short subset (test/compat/suites.json, "quick"): CPython test modules
 * and Go packages run in nabla images and under runc by the harness itself. Nothing may
 * crash or hang, the known-good ones must pass in the unikernel wherever they pass under
 * runc, and a test that needs a process must be counted as such. Also the go toolchain's
 * `"entry": "test:PACKAGE"`, which the harness builds its Go images with.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir, writeFiles } from '../helpers/cli.js';
import { LoadedImages, runImage } from '../helpers/docker.js';
import { runSuites, summary, suites, type Options, type RunResult } from '../compat/main.js';

const work = tempDir('nabla-e2e-compat-');
const images = new LoadedImages();
afterAll(async () => {
  fs.rmSync(work, { recursive: true, force: true });
  await images.removeAll();
});

describe('npm run compat, the quick subset', () => {
  const options: Options = {
    languages: ['python', 'go'],
    python: suites.python.quick,
    go: suites.go.quick,
    timeout: 180,
    budgetMinutes: 20,
    results: path.join(work, 'results'),
    rebuild: false,
    fromLogs: false,
  };
  let result: RunResult;
  beforeAll(async () => {
    result = await runSuites(options);
  }, 25 * 60_000);

  const all = () => [...result.comparisons.python, ...result.comparisons.go];

  it('every module and package ran to its end on both sides: no crash, no timeout', () => {
    expect(all().map((c) => c.name).sort()).toEqual([...suites.python.quick, ...suites.go.quick].sort());
    for (const c of all()) {
      expect(`${c.name} runc: ${c.runc.status} ${c.runc.statusDetail}`).toBe(`${c.name} runc: ok `);
      expect(`${c.name} nabla: ${c.nabla.status} ${c.nabla.statusDetail}`).toBe(`${c.name} nabla: ok `);
      expect(c.runcCounts.pass, `${c.name} passes nothing under runc`).toBeGreaterThan(0);
    }
  });

  it('known-good modules: every test that passes under runc passes in the unikernel, or needs a process', () => {
    const knownGood = [...suites.python.knownGood, ...suites.go.knownGood];
    for (const c of all().filter((c) => knownGood.includes(c.name))) {
      const gap = c.gap.filter((g) => !g.process);
      expect(gap.map((g) => `${c.name}: ${g.test}: ${g.nabla.outcome}: ${g.nabla.detail.slice(-300)}`)).toEqual([]);
      expect(c.bothPass + c.gap.length).toBe(c.runcCounts.pass);
    }
  });

  it("test_json's json.tool tests start a child python: counted as needing a process, and the rest pass", () => {
    const json = result.comparisons.python.find((c) => c.name === 'test_json')!;
    const processes = json.gap.filter((g) => g.process);
    expect(processes.length).toBeGreaterThan(5);
    expect(processes.every((g) => g.test.startsWith('test.test_json.test_tool.'))).toBe(true);
    expect(new Set(processes.map((g) => g.process))).toEqual(new Set(['subprocess', 'a child python (test.support.script_helper)']));
    expect(json.gap.filter((g) => !g.process)).toEqual([]);
  });

  it('the report: a markdown row per module with both sides, totals, and per-module logs and gaps', async () => {
    const text = await summary(result, options);
    expect(text).toMatch(/^\| test_json \| \d+ \/ 0 \/ 0 \/ \d+ \| \d+ \/ \d+ \/ \d+ \/ \d+ \| \d+ \| [\d.]+% \| 100\.0% \| {2}\|$/m);
    expect(text).toMatch(/^\| strings \| (\d+) \/ 0 \/ 0 \/ 0 \| \1 \/ 0 \/ 0 \/ 0 \| 0 \| 100\.0% \| 100\.0% \| {2}\|$/m);
    expect(text).toMatch(/^\| \*\*total\*\* \(4\) \|/m);
    expect(text).toContain('- test_json: ');
    const gap = fs.readFileSync(path.join(options.results, 'python', 'test_json.gap.md'), 'utf8');
    expect(gap).toContain('(needs a process: subprocess)');
    expect(gap).toContain('OSError: [Errno 38] Function not implemented');
    expect(fs.readFileSync(path.join(options.results, 'go', 'encoding_base64.nabla.log'), 'utf8')).toContain('--- PASS: TestEncode');
  });
});

describe('npm run compat, its command line', () => {
  const compat = (...args: string[]) => execa('node', [path.join(repoRoot, 'test', 'compat', 'start.mjs'), ...args], { reject: false, cwd: repoRoot });

  it('--help says what it runs and where the results go; a bad flag is one line and exit 2, a harness failure exit 1', async () => {
    const help = await compat('--help');
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('usage: npm run compat -- [options]');
    expect(help.stdout).toContain('--only NAME');
    const bad = await compat('--timeout', '0');
    expect(bad.stderr.trim()).toBe('compat: --timeout 0: not a positive number\n(see npm run compat -- --help)');
    expect(bad.exitCode).toBe(2);
    const nothing = await compat('--from-logs', '--results', path.join(work, 'no-such-run'));
    expect(nothing.stderr.trim()).toBe(`compat: --from-logs: no results folder ${path.join(work, 'no-such-run')}`);
    expect(nothing.exitCode).toBe(1);
  });
});

describe('go toolchain: "entry": "test:PACKAGE"', () => {
  it("test:. builds the app package's tests (go test -c); the image runs them where they read testdata/", async () => {
    const app = writeFiles(path.join(work, 'calc'), {
      'go.mod': 'module example.com/calc\n\ngo 1.23\n',
      'calc.go': 'package calc\n\nfunc Add(a, b int) int { return a + b }\n',
      'calc_test.go': [
        'package calc',
        '',
        'import (',
        '\t"os"',
        '\t"testing"',
        ')',
        '',
        'func TestAdd(t *testing.T) {',
        '\tif Add(2, 40) != 42 {',
        '\t\tt.Fatal("2 + 40")',
        '\t}',
        '}',
        '',
        'func TestTestdata(t *testing.T) {',
        '\tb, err := os.ReadFile("testdata/answer.txt")',
        '\tif err != nil || string(b) != "42\\n" {',
        '\t\tt.Fatalf("testdata/answer.txt: %q, %v", b, err)',
        '\t}',
        '}',
        '',
      ].join('\n'),
      'testdata/answer.txt': '42\n',
      'nabla.json': JSON.stringify({ entry: 'test:.' }),
    });
    await images.build(app, 'nabla-e2e/calc-test:1');
    const run = await runImage('nabla-e2e/calc-test:1', '-test.v');
    expect(run.stdout).toContain('--- PASS: TestAdd');
    expect(run.stdout).toContain('--- PASS: TestTestdata');
    expect(run.stdout.trim().split('\n').pop()).toBe('PASS');
    expect(run.exitCode).toBe(0);
    const entrypoint = await execa('docker', ['image', 'inspect', 'nabla-e2e/calc-test:1', '--format', '{{json .Config.Entrypoint}}']);
    expect(JSON.parse(entrypoint.stdout)).toContain('/nabla/calc.test.nabla');
  });

  it("test:time puts GOROOT/lib/time/zoneinfo.zip in the rootfs, which Debian's Go leaves out and the time tests load at start", async () => {
    const app = writeFiles(path.join(work, 'time'), {
      'go.mod': 'module compat\n\ngo 1.23\n',
      'nabla.json': JSON.stringify({ entry: 'test:time', workdir: '/usr/lib/go-1.23/src/time' }),
    });
    await images.build(app, 'nabla-e2e/time-test:1');
    // Without the zip the binary panics before any test ("cannot load America/Los_Angeles");
    // TestFirstZone reads zones from it.
    const run = await runImage('nabla-e2e/time-test:1', '-test.v', '-test.run', '^(TestFormat|TestFirstZone)$');
    for (const test of ['TestFormat', 'TestFirstZone']) expect(run.stdout).toContain(`--- PASS: ${test} `);
    expect(run.exitCode).toBe(0);
  });

  it('"test:" with no package, or a package without tests: one clear message, exit 4', async () => {
    const app = writeFiles(path.join(work, 'no-tests'), { 'go.mod': 'module notests\n\ngo 1.23\n', 'lib.go': 'package notests\n' });
    const empty = await nabla(['build', app, '--entry', 'test:']);
    expect(empty.stderr).toContain('"entry" "test:" names no package; use e.g. "test:.", "test:./store" or "test:net/http"');
    expect(empty.exitCode).toBe(4);
    const none = await nabla(['build', app, '--entry', 'test:.']);
    expect(none.stderr).toContain('the package "." has no tests (no *_test.go files)');
    expect(none.exitCode).toBe(4);
  });
});
