/** `npm run bench`'s parts that need no Docker: its flags, its figures, its table and its chart. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartPoints, chartSpec, renderChart } from '../../bench/suite/chart.js';
import { parseOptions, UsageError } from '../../bench/suite/options.js';
import { containerProcesses, memoryOf, parseWrk, surfaceFromMeasure, wrkDurationMs } from '../../bench/suite/probes.js';
import { renderReport } from '../../bench/suite/report.js';
import type { BenchResult, Cell } from '../../bench/suite/results.js';
import { missingRuntimes } from '../../bench/suite/runtimes.js';
import { median, ratio } from '../../bench/suite/stats.js';

describe('bench flags', () => {
  it('defaults to every app and runtime, three rounds', () => {
    const options = parseOptions([]);
    expect(options).toMatchObject({ out: 'bench-results', apps: ['c', 'go', 'python', 'node', 'cpu'], runtimes: ['runc', 'runsc', 'nabla'], runtimesAsked: false, rounds: 3, seconds: 5, measureRequests: 300, measureRuns: 3 });
    expect(Object.isFrozen(options)).toBe(true);
  });

  it('takes lists in any order and keeps the table\'s order; naming runtimes makes them required', () => {
    const options = parseOptions(['--apps', 'python,c', '--runtimes', 'nabla, runc', '--rounds', '1', '--out', 'x', '--measure-requests', '0', '--measure-runs', '5']);
    expect(options).toMatchObject({ apps: ['c', 'python'], runtimes: ['runc', 'nabla'], runtimesAsked: true, rounds: 1, out: 'x', measureRequests: 0, measureRuns: 5 });
  });

  it.each([
    [['--apps', 'c,rust'], '--apps: unknown rust (known: c, go, python, node, cpu)'],
    [['--runtimes', ''], '--runtimes is empty'],
    [['--rounds', '0'], '--rounds "0": a whole number from 1 to 20'],
    [['--rounds', '2.5'], '--rounds "2.5": a whole number from 1 to 20'],
    [['--seconds', '61'], '--seconds "61": a whole number from 1 to 60'],
    [['--measure-runs', '10'], '--measure-runs "10": a whole number from 1 to 9'],
    [['--out', ' '], '--out is empty'],
    [['--colour'], "Unknown option '--colour'"],
    [['c'], 'positional'],
  ])('refuses %j with one clear message', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(UsageError);
    expect(() => parseOptions(argv)).toThrow(message);
  });
});

describe('bench runtimes', () => {
  it('runs runc and nabla on any engine, runsc only where it is registered', () => {
    expect(missingRuntimes(['runc', 'runsc', 'nabla'], false, ['runc', 'runsc'])).toEqual({});
    expect(missingRuntimes(['runc', 'nabla'], true, ['runc'])).toEqual({});
  });

  it('makes a default runsc that is not set up a column that says how, and a named one an error', () => {
    expect(missingRuntimes(['runc', 'runsc', 'nabla'], false, ['runc'])).toEqual({
      runsc: expect.stringContaining('the engine has no runtime "runsc": sudo bash bench/setup-runsc.sh'),
    });
    expect(() => missingRuntimes(['runsc'], true, ['runc', 'io.containerd.runc.v2'])).toThrow('sudo bash bench/setup-runsc.sh');
  });
});

describe('bench figures', () => {
  it('takes the median of odd and even counts, and nothing of none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeUndefined();
  });

  it('gives a ratio only when both figures are there and the reference is not 0', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(undefined, 2)).toBeUndefined();
    expect(ratio(3, undefined)).toBeUndefined();
    expect(ratio(3, 0)).toBeUndefined();
  });

  it('reads wrk --latency', () => {
    const output = `Running 5s test @ http://198.51.100.10:8080/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   512.00us    1.20ms  40.00ms   95.00%
  Latency Distribution
     50%  245.00us
     75%  400.00us
     90%    1.00ms
     99%   10.51ms
  181040 requests in 5.00s, 20.00MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:  36208.12
Transfer/sec:      4.00MB
`;
    expect(parseWrk(output)).toEqual({ requestsPerSecond: 36208.12, p50Ms: 0.245, p99Ms: 10.51, requests: 181040, errors: 9 });
    expect(wrkDurationMs('2.01s')).toBeCloseTo(2010, 6);
    expect(wrkDurationMs('1.50m')).toBe(90_000);
    expect(() => wrkDurationMs('fast')).toThrow('not a wrk duration');
    expect(() => parseWrk('unable to connect to 198.51.100.10:8080 Connection refused')).toThrow('wrk printed no figures');
  });

  it('counts a container\'s processes: its tree and those named by its ID, not the shim', () => {
    const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-proc-'));
    const id = 'c0ffee'.repeat(10);
    const task = (pid: number, ppid: number, comm: string, cmdline: string, pss: number) => {
      fs.mkdirSync(path.join(proc, String(pid)));
      fs.writeFileSync(path.join(proc, String(pid), 'stat'), `${pid} (${comm}) S ${ppid} 1 1 0`);
      fs.writeFileSync(path.join(proc, String(pid), 'comm'), `${comm}\n`);
      fs.writeFileSync(path.join(proc, String(pid), 'cmdline'), cmdline.replaceAll(' ', '\0'));
      fs.writeFileSync(path.join(proc, String(pid), 'smaps_rollup'), `Rss: ${pss * 2} kB\nPss:  ${pss} kB\n`);
      fs.writeFileSync(path.join(proc, String(pid), 'status'), `Name: ${comm}\nVmRSS:\t ${pss * 2} kB\n`);
    };
    try {
      task(10, 1, 'containerd-shim', `containerd-shim-runc-v2 -namespace moby -id ${id}`, 5000);
      task(20, 10, 'runsc-sandbox', `runsc-sandbox boot ${id}`, 1024);
      task(21, 20, 'exe', 'stub', 512);
      task(30, 10, 'runsc-gofer', `runsc-gofer gofer --bundle /run/${id}`, 512);
      task(40, 1, 'sshd', 'sshd', 9000);
      fs.mkdirSync(path.join(proc, 'self'));
      const pids = containerProcesses(id, 20, proc);
      expect(pids).toEqual([20, 21, 30]);
      expect(memoryOf(pids, proc)).toEqual({ pssMiB: 2, rssMiB: 4 });
      expect(containerProcesses('another', 40, proc)).toEqual([40]);
    } finally {
      fs.rmSync(proc, { recursive: true, force: true });
    }
  });

  it('takes measure\'s figures from its JSON', () => {
    const json = JSON.stringify({
      method: 'event-stacks',
      lowerBound: true,
      target: { syscalls: { read: 10, write: 12, ppoll: 3 }, functions: ['a', 'b'], load: '300 GETs', http: { requests: 300, ok: 299 }, lost: 0 },
    });
    expect(surfaceFromMeasure(json)).toEqual({
      method: 'event-stacks',
      lowerBound: true,
      hostSyscalls: 3,
      functions: 2,
      syscalls: { read: 10, write: 12, ppoll: 3 },
      load: '300 GETs',
      answered: 299,
      requests: 300,
      lost: 0,
    });
  });
});

function sample(): BenchResult {
  const server = (runtime: Cell['runtime'], rps: number[], extra: Partial<Cell> = {}): Cell => ({
    app: 'c',
    runtime,
    image: `nabla-bench/suite-c-${runtime === 'nabla' ? 'nabla' : 'plain'}`,
    imageMB: runtime === 'nabla' ? 1.5 : 0.1,
    rounds: rps.map((r) => ({ requestsPerSecond: r, p50Ms: 0.25, p99Ms: 2, startMs: 500, pssMiB: 1, rssMiB: 1, requests: r * 5, errors: 0 })),
    surface: { method: 'event-stacks', lowerBound: true, hostSyscalls: runtime === 'nabla' ? 7 : 21, functions: runtime === 'nabla' ? 300 : 450, syscalls: {}, load: '300 GETs', answered: 300, requests: 300, lost: 0 },
    ...extra,
  });
  return {
    started: '2026-12-06T13:10:00.000Z',
    machine: { cpu: 'AMD EPYC', cores: 2, memoryGiB: 24, kernel: '6.18', docker: '20.10.24' },
    settings: { rounds: 3, seconds: 5, connections: 16, threads: 2, measureRequests: 300 },
    apps: [
      { name: 'c', title: 'examples/http-c', kind: 'http' },
      { name: 'cpu', title: 'a sieve', kind: 'cpu' },
    ],
    runtimes: ['runc', 'runsc', 'nabla'],
    missing: {},
    cells: [
      server('runc', [30_000, 10_000, 20_000]),
      server('runsc', [], { failed: 'round 1: no answer at http://198.51.100.11:8080/ in 60 s', surface: undefined }),
      server('nabla', [25_000, 15_000, 10_000]),
      { app: 'cpu', runtime: 'runc', imageMB: 0.05, rounds: [{ startMs: 400, workMs: 1000 }], surfaceFailed: 'measure failed: it exited' },
      { app: 'cpu', runtime: 'runsc', imageMB: 0.05, rounds: [{ startMs: 600, workMs: 1500 }] },
      { app: 'cpu', runtime: 'nabla', imageMB: 1.4, rounds: [{ startMs: 500, workMs: 1100 }] },
    ],
  };
}

describe('bench table', () => {
  it('shows medians, ratios to runc, and why a cell has no figure', () => {
    const report = renderReport(sample());
    expect(report).toContain('| requests/s | 20000 | failed | 15000 |  | 0.75× |');
    expect(report).toContain('| distinct host syscalls | 21 | failed | 7 |  | 0.33× |');
    expect(report).toContain('| work, ms (its own clock) | 1000 | 1500 | 1100 | 1.50× | 1.10× |');
    expect(report).toContain('| distinct host syscalls | no figure |  |  |  |  |');
    expect(report).toContain('- runsc: failed: round 1: no answer at http://198.51.100.11:8080/ in 60 s');
    expect(report).toContain('- runc: no host syscalls or surface figure: measure failed: it exited');
    expect(report).not.toContain('requests/s | 1000'); // the cpu program has no wrk rows
  });

  it('says how to set up a runtime that is missing, in its column and below', () => {
    const result = { ...sample(), missing: { runsc: 'the engine has no runtime "runsc": sudo bash bench/setup-runsc.sh' } };
    result.cells = result.cells.filter((cell) => cell.runtime !== 'runsc');
    const report = renderReport(result);
    expect(report).toContain('| requests/s | 20000 | not set up | 15000 |  | 0.75× |');
    expect(report).toContain('- runsc is not set up here: the engine has no runtime "runsc": sudo bash bench/setup-runsc.sh');
  });

  it('leaves the ratio columns out when runc was not run', () => {
    const result = { ...sample(), runtimes: ['nabla' as const] };
    expect(renderReport(result)).toContain('|  | nabla |\n| --- | ---: |\n| requests/s | 15000 |');
  });
});

describe('bench chart', () => {
  it('charts the ratios that have both sides', () => {
    const points = chartPoints(sample());
    expect(points).toContainEqual({ app: 'c', metric: 'requests/s', runtime: 'nabla', ratio: 0.75 });
    expect(points).toContainEqual({ app: 'cpu', metric: 'cpu work', runtime: 'runsc', ratio: 1.5 });
    expect(points.some((p) => p.app === 'c' && p.runtime === 'runsc')).toBe(false); // failed
    expect(points.some((p) => p.metric === 'host syscalls' && p.app === 'cpu')).toBe(false); // runc has no figure
  });

  it('builds a vega-lite spec and renders it to SVG without a browser', async () => {
    const spec = chartSpec(sample()) as { facet: unknown; data: { values: unknown[] } };
    expect(spec.facet).toMatchObject({ row: { field: 'app' } });
    expect(spec.data.values.length).toBe(chartPoints(sample()).length);
    const svg = await renderChart(sample());
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('requests/s');
    expect(svg).toContain('0.75');
    expect(svg).toContain('× runc');
  }, 30_000);
});
