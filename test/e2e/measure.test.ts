/**
 * `nabla-build measure` against the real engine and the real kernel's trace events:
 * examples/http-c as a nabla image (with its network) and the same source as a plain
 * static binary under runc, measured in one run; examples/hello-c (no network, measured to
 * its exit). The report must have the policy, host syscalls among the policy's, a positive
 * surface figure and the ratio, and nothing may be left behind: no tracefs instance, no
 * container, no network, also after SIGINT in the middle of the load.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, nabla, repoRoot, tempDir } from '../helpers/cli.js';
import { docker } from '../helpers/docker.js';

const IMAGE = 'nabla-e2e/measure-http-c:1';
const HELLO = 'nabla-e2e/measure-hello-c:1';
const PLAIN = 'nabla-e2e/measure-http-c-runc:1';
const work = tempDir('nabla-e2e-measure-');

interface Target {
  kind: string;
  policy?: { label: string[]; printed: string[] };
  syscalls: Record<string, number>;
  functions: string[];
  http?: { ok: number; failed: number };
  lost: number;
}
interface Report {
  method: string;
  lowerBound: boolean;
  target: Target;
  against?: Target;
  ratio?: { functions: number; syscalls: number };
}

/** Trace instances, containers and networks of measure's that exist now. */
async function measureState(): Promise<string[]> {
  const instances = fs.existsSync('/sys/kernel/tracing/instances')
    ? fs.readdirSync('/sys/kernel/tracing/instances').filter((name) => name.startsWith('nabla-measure-'))
    : [];
  const containers = (await docker('ps', '-aq', '--filter', 'label=dev.nabla.measure')).stdout.split('\n').filter(Boolean);
  const networks = (await docker('network', 'ls', '-q', '--filter', 'label=dev.nabla.measure')).stdout.split('\n').filter(Boolean);
  return [...instances, ...containers, ...networks];
}

/**
 * What this file's runs left behind. Those that were there before it started are not
 * counted: a measure killed outright (SIGKILL, a machine stopped) leaves its own, and
 * the engine and the kernel keep them until someone removes them.
 */
let before = new Set<string>();
async function leftovers(): Promise<string[]> {
  return (await measureState()).filter((item) => !before.has(item));
}

const policyCalls = (t: Target) => new Set(t.policy!.printed.map((line) => line.split(' ')[0]));

beforeAll(async () => {
  before = new Set(await measureState());
  for (const [example, tag] of [['http-c', IMAGE], ['hello-c', HELLO]]) {
    const build = await nabla(['build', path.join(repoRoot, 'examples', example!), '--load', '-t', tag!]);
    expect(build.exitCode, build.stderr).toBe(0);
  }
  // The reference: the same server as a plain static musl binary, FROM scratch, under runc.
  const tools = (await nabla(['-q', 'toolchain', 'build', 'c'])).stdout.trim();
  const compiled = await docker('run', '--rm', '--network', 'none', '-v', `${path.join(repoRoot, 'examples', 'http-c')}:/src:ro`, '-v', `${work}:/out`,
    tools, 'musl-gcc', '-O2', '-static', '-o', '/out/http', '/src/http.c', '-lpthread');
  expect(compiled.exitCode, compiled.stderr).toBe(0);
  fs.writeFileSync(path.join(work, 'Dockerfile'), 'FROM scratch\nCOPY http /http\nEXPOSE 8080\nENTRYPOINT ["/http", "8080"]\n');
  const built = await execa('docker', ['build', '-q', '-t', PLAIN, work], { reject: false, env: { DOCKER_BUILDKIT: '0' } });
  expect(built.exitCode, built.stderr).toBe(0);
}, 600_000);

afterAll(async () => {
  await docker('rmi', '-f', IMAGE, HELLO, PLAIN);
  fs.rmSync(work, { recursive: true, force: true });
});

describe('measure', () => {
  it('measures a nabla server and a plain reference in one run: policy, syscalls within it, surface, ratio', async () => {
    const result = await nabla(['measure', IMAGE, '--against', PLAIN, '--requests', '100', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(['function-tracer', 'event-stacks']).toContain(report.method);
    expect(report.lowerBound).toBe(report.method === 'event-stacks');
    const { target, against, ratio } = report;
    expect(target.kind).toBe('nabla image');
    expect(target.policy!.label.join('; ')).not.toContain('pread64');
    expect(target.policy!.printed).toContain('read fd=<net>|<dns>');
    expect(target.http).toMatchObject({ ok: 100, failed: 0 });
    const made = Object.keys(target.syscalls);
    expect(made).toEqual(expect.arrayContaining(['read', 'write'])); // frames through the tap
    for (const call of made) expect(policyCalls(target), `${call} is not in the policy`).toContain(call);
    expect(target.functions.length).toBeGreaterThan(50);
    expect(target.lost).toBe(0);
    expect(against!.kind).toBe('image');
    expect(against!.http).toMatchObject({ ok: 100, failed: 0 });
    expect(Object.keys(against!.syscalls)).toEqual(expect.arrayContaining(['accept4', 'clone', 'read', 'write']));
    expect(against!.functions.length).toBeGreaterThan(50);
    expect(ratio!.functions).toBeCloseTo(target.functions.length / against!.functions.length, 5);
    expect(ratio!.syscalls).toBeLessThan(1);
    expect(await leftovers()).toEqual([]);
  }, 300_000);

  it('prints the table with the method, the figures and the ratio', async () => {
    const result = await nabla(['measure', IMAGE, '--against', PLAIN, '--requests', '20']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/kernel functions by: (function tracer|trace-event stacks .*a lower bound)/);
    expect(result.stdout).toMatch(/\| kernel functions entered \(surface\) \| \d+ \| \d+ \| \d+\.\d\dx \|/);
    expect(result.stdout).toMatch(/policy, --print-policy on this host: write fd=1\|2\|<net>\|<dns>; read fd=<net>\|<dns>; epoll_pwait/);
    expect(result.stderr).toContain('20 GETs of http://127.0.0.1:');
  }, 300_000);

  it('measures an image without a network to its exit', async () => {
    const result = await nabla(['measure', HELLO, '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const { target } = JSON.parse(result.stdout) as Report;
    expect(target.policy!.printed).not.toContain('read fd=<net>|<dns>');
    expect(Object.keys(target.syscalls)).toEqual(expect.arrayContaining(['write', 'exit_group']));
    for (const call of Object.keys(target.syscalls)) expect(policyCalls(target)).toContain(call);
    expect(target.functions.length).toBeGreaterThan(20);
    expect(await leftovers()).toEqual([]);
  }, 120_000);

  it('removes the trace instance a killed measure left, and no one else\'s', async () => {
    const instances = '/sys/kernel/tracing/instances';
    const child = execa('true');
    await child;
    const gone = { pid: child.pid! }; // a pid no process has now
    const stale = path.join(instances, `nabla-measure-${gone.pid}-1`);
    const alive = path.join(instances, `nabla-measure-${process.pid}-7`);
    fs.mkdirSync(stale);
    fs.mkdirSync(alive);
    try {
      fs.writeFileSync(path.join(stale, 'events/enable'), '1');
      fs.writeFileSync(path.join(stale, 'tracing_on'), '1');
      const result = await nabla(['measure', HELLO, '--json']);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toContain(`removed the trace instance nabla-measure-${gone.pid}-1, left by a measure that was killed`);
      expect(fs.existsSync(stale)).toBe(false);
      expect(fs.existsSync(alive)).toBe(true);
    } finally {
      for (const dir of [stale, alive]) if (fs.existsSync(dir)) fs.rmdirSync(dir);
    }
  }, 120_000);

  it('SIGINT in the middle of the load: exit 130, nothing left behind', async () => {
    const child = execa(cliPath, ['--progress=plain', 'measure', IMAGE, '--requests', '100000'], { reject: false, all: true });
    let seen = '';
    let sent = false;
    child.all!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (!sent && seen.includes('100000 GETs of')) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), 1000); // while the GETs run, under the trace
      }
    });
    const result = await child;
    expect(sent, result.all).toBe(true);
    expect(result.exitCode, result.all).toBe(130);
    expect(result.all).toContain('interrupted, cleaning up');
    expect(await leftovers()).toEqual([]);
  }, 120_000);

  it('refuses an image Docker does not have, with one message', async () => {
    const result = await nabla(['measure', 'nabla-e2e/no-such-image:1']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('Docker has no image "nabla-e2e/no-such-image:1"');
    expect(await leftovers()).toEqual([]);
  });
});
