/**
 * `npm run bench`: the apps as plain images under runc and runsc and as nabla images, side by
 * side in one run, rounds interleaved (round 1 of every app and runtime, then round 2, …), so
 * a machine that slows down slows every column alike. Progress goes to stderr; the table to
 * stdout and, with the chart and every round's figures, to the --out folder.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { APP_TABLE, type App } from './apps.js';
import { renderChart } from './chart.js';
import { BenchError, docker, run, sleep } from './exec.js';
import { parseOptions, USAGE, UsageError, type BenchOptions } from './options.js';
import { containerProcesses, memoryOf, parseWrk, surfaceFromMeasure } from './probes.js';
import { renderReport } from './report.js';
import type { BenchResult, Cell, Round } from './results.js';
import { missingRuntimes } from './runtimes.js';

// scripts/bench.mjs runs the bundle from a cache folder: it names the repository.
const REPO = path.resolve(process.env.NABLA_BENCH_REPO ?? '.');
// A documentation range (RFC 5737 TEST-NET-2): the load goes only to the bench's own containers.
const NETWORK = { name: 'nabla-bench-suite', subnet: '198.51.100.0/24', address: (i: number) => `198.51.100.${10 + i}` };
const WRK = { threads: 2, connections: 16 };
const CONTAINER_PREFIX = 'nabla-bench-suite-';

const note = (text: string) => process.stderr.write(`bench: ${text}\n`);

async function main(argv: string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n(npm run bench -- --help shows the flags)\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (process.getuid?.() !== 0) throw new BenchError('needs root (measure reads tracefs; the memory figures read /proc of the containers): run it with sudo');
  const engine = await docker(['info', '--format', '{{json .}}']).catch((error: Error) => {
    throw new BenchError(`no Docker engine answers (${error.message}): start one with sudo bash scripts/setup-host.sh`);
  });
  const info = JSON.parse(engine) as { ServerVersion: string; Runtimes: Record<string, unknown> };
  const missing = missingRuntimes(options.runtimes, options.runtimesAsked, Object.keys(info.Runtimes));
  for (const [runtime, fix] of Object.entries(missing)) note(`${runtime}: ${fix}; its column says "not set up"`);
  if (!fs.existsSync(path.join(REPO, 'dist/main.js'))) throw new BenchError('the CLI is not built: npm run build (npm run bench does it first)');

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-bench-'));
  const names = new Set<string>(); // the containers it may have left, for an exit in the middle
  const removeAll = () => {
    for (const name of names) execFileSafe('docker', ['rm', '-f', name]);
    execFileSafe('docker', ['network', 'rm', NETWORK.name]);
    fs.rmSync(work, { recursive: true, force: true });
  };
  process.on('exit', removeAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
  const toolchains = new Map<string, Promise<string>>();
  const toolchain = (name: 'c' | 'go') => {
    if (!toolchains.has(name)) toolchains.set(name, run(process.execPath, [path.join(REPO, 'bin/nabla-build.js'), '-q', 'toolchain', 'build', name]).then((out) => out.trim()));
    return toolchains.get(name)!;
  };

  const result: BenchResult = {
    started: new Date().toISOString(),
    machine: machine(info.ServerVersion),
    settings: { rounds: options.rounds, seconds: options.seconds, connections: WRK.connections, threads: WRK.threads, measureRequests: options.measureRequests, measureRuns: options.measureRuns },
    apps: options.apps.map((name) => ({ name, title: APP_TABLE[name].title, kind: APP_TABLE[name].kind })),
    runtimes: [...options.runtimes],
    missing,
    cells: [],
  };
  const runnable = options.runtimes.filter((r) => !missing[r]);

  // The images, both kinds for every app; an app that does not build fails its cells only.
  const images = new Map<string, { plain: string; nabla: string }>();
  for (const app of options.apps.map((name) => APP_TABLE[name])) {
    note(`${app.name}: building its plain and nabla images`);
    const dir = path.join(work, app.name);
    fs.mkdirSync(dir);
    try {
      images.set(app.name, await app.build({ repo: REPO, work: dir, toolchain }));
    } catch (error) {
      note(`${app.name}: ${(error as Error).message}`);
      for (const runtime of runnable) result.cells.push({ app: app.name, runtime, failed: `the image did not build: ${(error as Error).message}`, rounds: [] });
      continue;
    }
    for (const runtime of runnable) {
      const image = runtime === 'nabla' ? images.get(app.name)!.nabla : images.get(app.name)!.plain;
      const size = Number((await docker(['image', 'inspect', '-f', '{{.Size}}', image])).trim());
      result.cells.push({ app: app.name, runtime, image, imageMB: size / 1e6, rounds: [] });
    }
  }

  await docker(['network', 'rm', NETWORK.name]).catch(() => {}); // left by an interrupted run
  await docker(['network', 'create', '--subnet', NETWORK.subnet, NETWORK.name]).catch((error: Error) => {
    throw new BenchError(`could not make the Docker network ${NETWORK.name} (${NETWORK.subnet}): ${error.message}`);
  });
  const tools = await toolchain('c');
  const live = result.cells.filter((cell) => !cell.failed);
  for (let round = 1; round <= options.rounds; round++) {
    for (const [index, cell] of live.entries()) {
      if (cell.failed) continue;
      const app = APP_TABLE[cell.app];
      const name = `${CONTAINER_PREFIX}${cell.app}-${cell.runtime}`;
      names.add(name);
      try {
        const figures = app.kind === 'http' ? await serverRound(app, cell, name, NETWORK.address(index), tools, options.seconds) : await cpuRound(cell, name);
        cell.rounds.push(figures);
        note(`round ${round}/${options.rounds}: ${cell.app} under ${cell.runtime}: ${describe(figures)}`);
      } catch (error) {
        cell.failed = `round ${round}: ${(error as Error).message}`;
        note(`${cell.app} under ${cell.runtime}: failed: ${cell.failed}`);
      } finally {
        await docker(['rm', '-f', name]).catch(() => {});
      }
    }
  }
  await docker(['network', 'rm', NETWORK.name]).catch(() => {});

  if (options.measureRequests > 0) {
    for (const cell of result.cells.filter((c) => !c.failed)) {
      note(`${cell.app} under ${cell.runtime}: nabla-build measure`);
      const args = [path.join(REPO, 'bin/nabla-build.js'), '-q', 'measure', cell.image!, '--json', '--requests', String(options.measureRequests), '--runs', String(options.measureRuns), '--timeout', '180'];
      // gVisor's ptrace platform makes several times the events (every guest call is ptrace
      // stops and signals): a larger buffer, or the trace of python's load loses some.
      if (cell.runtime === 'runsc') args.push('--runtime', 'runsc', '--buffer-mb', '256');
      // Twice at most: a trace can miss its window on a busy machine (measure says so and stops).
      for (let attempt = 1; attempt <= 2 && !cell.surface; attempt++) {
        try {
          cell.surface = surfaceFromMeasure(await run(process.execPath, args, { timeoutMs: 600_000 }));
          cell.surfaceFailed = undefined;
        } catch (error) {
          cell.surfaceFailed = `measure failed${attempt === 2 ? ' twice' : ''}: ${(error as Error).message}`;
          note(`${cell.app} under ${cell.runtime}: ${cell.surfaceFailed}`);
        }
      }
    }
  } else {
    for (const cell of result.cells) cell.surfaceFailed = 'skipped (--measure-requests 0)';
  }

  const report = renderReport(result);
  const out = path.resolve(options.out);
  fs.mkdirSync(out, { recursive: true });
  writeAtomically(path.join(out, 'bench.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeAtomically(path.join(out, 'bench.md'), report);
  writeAtomically(path.join(out, 'bench.svg'), await renderChart(result));
  process.stdout.write(report);
  note(`wrote bench.md, bench.svg and bench.json to ${out} (the images nabla-bench/suite-* are kept for the next run)`);
  // Failed cells are in the table with their reason; only a run with no figure at all failed.
  return result.cells.some((cell) => cell.rounds.length > 0) ? 0 : 1;
}

/** One round of a server: docker run, time to its first answer, wrk, its memory after the load. */
async function serverRound(app: App, cell: Cell, name: string, address: string, tools: string, seconds: number): Promise<Round> {
  const flags = ['--name', name, '--network', NETWORK.name, '--ip', address];
  if (cell.runtime === 'runsc') flags.push('--runtime', 'runsc');
  // The tender takes the container's network through a tap device.
  if (cell.runtime === 'nabla') flags.push('--cap-add', 'NET_ADMIN', '--device', '/dev/net/tun');
  const url = `http://${address}:${app.port}/`;
  const started = performance.now();
  await docker(['run', '-d', ...flags, cell.image!]);
  await firstAnswer(url, name, 60_000);
  const startMs = performance.now() - started;
  const wrk = (duration: number) => docker(['run', '--rm', '--network', 'host', tools, 'wrk', `-t${WRK.threads}`, `-c${WRK.connections}`, `-d${duration}s`, '--latency', url], { timeoutMs: (duration + 30) * 1000 });
  await wrk(1); // warm-up: the JIT, the caches, the first connections
  const load = parseWrk(await wrk(seconds));
  // A few failed requests are a figure (the table notes them); a server that fails most is broken.
  if (load.errors > load.requests / 2) throw new BenchError(`${load.errors} of ${load.requests} requests failed under load`);
  const pid = Number((await docker(['inspect', '-f', '{{.State.Pid}}', name])).trim());
  const pids = containerProcesses((await docker(['inspect', '-f', '{{.Id}}', name])).trim(), pid);
  const { requestsPerSecond, p50Ms, p99Ms, requests, errors } = load;
  return { requestsPerSecond, p50Ms, p99Ms, startMs, ...memoryOf(pids), processes: pids.length, requests, errors };
}

/** Polls until the server answers a GET (any status), or fails with its last output. */
async function firstAnswer(url: string, name: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await answers(url)) return;
    await sleep(5);
  }
  const logs = await docker(['logs', '--tail', '5', name]).catch(() => '');
  throw new BenchError(`no answer at ${url} in ${timeoutMs / 1000} s${logs.trim() ? `; its last output: ${logs.trim().split('\n').join(' / ')}` : ''}`);
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: 1000 }, (response) => {
      response.resume();
      response.on('end', () => resolve(true));
      response.on('error', () => resolve(false));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

/** One round of the cpu program: docker run --rm, time to its first line, its own figure for the work. */
function cpuRound(cell: Cell, name: string): Promise<Round> {
  const args = ['run', '--rm', '--name', name, '--network', 'none', ...(cell.runtime === 'runsc' ? ['--runtime', 'runsc'] : []), cell.image!];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let startMs: number | undefined;
    let workMs: number | undefined;
    let output = '';
    const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => {
      startMs ??= performance.now() - started;
      output += chunk.toString();
      const done = /cpu: 1270607 primes .* ([\d.]+) ms/.exec(output);
      if (done) workMs = Number(done[1]);
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && startMs !== undefined && workMs !== undefined) resolve({ startMs, workMs });
      else reject(new BenchError(`the cpu program exited with ${code}: ${output.trim().split('\n').slice(-3).join(' / ')}`));
    });
  });
}

function describe(round: Round): string {
  const parts: string[] = [];
  if (round.requestsPerSecond !== undefined) parts.push(`${Math.round(round.requestsPerSecond)} requests/s, p99 ${round.p99Ms!.toFixed(2)} ms`);
  if (round.workMs !== undefined) parts.push(`work ${Math.round(round.workMs)} ms`);
  parts.push(`start ${Math.round(round.startMs ?? 0)} ms`);
  if (round.pssMiB !== undefined) parts.push(`${round.pssMiB.toFixed(1)} MiB PSS in ${round.processes} processes`);
  return parts.join(', ');
}

function machine(dockerVersion: string): BenchResult['machine'] {
  let runsc: string | undefined;
  try {
    runsc = /runsc version (\S+)/.exec(execFileSync('runsc', ['--version'], { encoding: 'utf8' }))?.[1];
  } catch {
    // not installed
  }
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    docker: dockerVersion,
    runsc,
  };
}

function writeAtomically(file: string, text: string): void {
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
}

function execFileSafe(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
  } catch {
    // gone already
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof BenchError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
