/**
 * `nabla-build measure`: runs an image (and a reference beside it) under a trace of its
 * own, applies a bounded load, and says how much of the host kernel the container's tasks
 * used: the host system calls they made and the kernel functions they entered. Each run
 * gets its own tracefs instance, its own container and, when it needs one, a network; all
 * of it is removed on every way out (an exit handler covers a second Ctrl-C).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { PassThrough } from 'node:stream';
import type { Container, Engine, ImageInfo } from '../engine/engine.js';
import { imageNeeds, TENDER } from '../run/needs.js';
import { securityFor } from '../run/run.js';
import { ConfigError, EnvironmentError, errorMessage, InterruptedError, NablaError } from '../util/errors.js';
import { httpLoad, waitForHttp, type LoadResult } from './http-load.js';
import { instanceName, removeStaleInstances, TraceInstance, type SurfaceMethod } from './tracefs.js';
import { ContainerInitFinder, TraceReader, type WindowStart } from './trace-reader.js';

export interface MeasureRequest {
  image: string;
  /** A reference measured the same way: an image in Docker, or a command run on the host. */
  against?: string;
  /** GETs of the built-in load, for an image with a TCP port. */
  requests: number;
  /** A command that is the load instead (sh -c, with MEASURE_HOST, MEASURE_PORT, MEASURE_URL). */
  loadCmd?: string;
  /** How long a run may take (an image without ports runs until it exits). */
  timeoutMs: number;
  /** Trace buffer per CPU. */
  bufferKb: number;
  /** The OCI runtime Docker runs the images with (e.g. runsc), by its registered name; undefined: Docker's default. */
  runtime?: string;
  /** Runs of each, interleaved (image, reference, image, ...); the median run is reported. */
  runs: number;
  signal: AbortSignal;
}

export interface MeasureHost {
  engine: Engine;
  /** Where tracefs is mounted. */
  tracefs: string;
  /** A folder for the raw traces (removed by the caller). */
  workDir: string;
  note: (text: string) => void;
  /** The environment a --load-cmd runs in (MEASURE_* added). */
  env: NodeJS.ProcessEnv;
}

export type TargetKind = 'nabla image' | 'image' | 'command';

export interface TargetResult {
  name: string;
  kind: TargetKind;
  /** A nabla image's seccomp policy: its label, and what its tender prints on this host. */
  policy?: { label: string[]; printed: string[] };
  window: string;
  load: string;
  http?: LoadResult;
  /** Host system calls made in the window, by name. */
  syscalls: Record<string, number>;
  /** Distinct kernel functions entered in the window, sorted. */
  functions: string[];
  /** Those of them seen outside interrupts and softirqs (in the tasks' own calls, faults, scheduling). */
  taskFunctions: string[];
  events: number;
  tasks: number;
  /** Trace events lost (the buffer was full): the figures are then too low. */
  lost: number;
  /** With several runs: each run's figures, in the order they ran (this result is the median one's). */
  runs?: RunFigures[];
}

export interface RunFigures {
  functions: number;
  taskFunctions: number;
  syscalls: number;
  lost: number;
}

export interface MeasureResult {
  method: SurfaceMethod;
  /** event-stacks sees only functions on the stacks of trace events: a lower bound. */
  lowerBound: boolean;
  target: TargetResult;
  against?: TargetResult;
  /** target / against. */
  ratio?: { functions: number; taskFunctions: number; syscalls: number };
}

const LABEL = 'dev.nabla.measure';
const POLICY_LABEL = 'dev.nabla.syscalls';

/** Synchronous undo steps for an exit in the middle (a second Ctrl-C exits at once). */
const atExit = new Set<() => void>();
let exitHookInstalled = false;
function onExit(undo: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const step of [...atExit].reverse()) { // the container before its network
        try {
          step();
        } catch {
          // best effort: the process is leaving
        }
      }
    });
  }
  atExit.add(undo);
  return () => atExit.delete(undo);
}

export async function measure(host: MeasureHost, request: MeasureRequest): Promise<MeasureResult> {
  const target = await describeImage(host.engine, request.image, 'IMAGE');
  const against = request.against === undefined ? undefined : await describeAgainst(host.engine, request.against);
  const ports = target.ports;
  if (against?.kind === 'command' && ports.length === 0 && !request.loadCmd) {
    throw new ConfigError(`${request.image} serves no port, so a command given to --against has nothing to be loaded like it`, {
      field: '--against',
      hint: 'give a reference image instead, or --load-cmd',
    });
  }
  for (const name of removeStaleInstances(host.tracefs)) host.note(`removed the trace instance ${name}, left by a measure that was killed`);
  let network: { name: string; made: boolean } | undefined;
  const networkNeeded = [target, against].some((t) => t && t.kind !== 'command' && (t.ports.length > 0 || t.needsNetwork));
  const removeAtExit = onExit(() => network?.made && execFileSync('docker', ['network', 'rm', network.name], { stdio: 'ignore' }));
  try {
    if (networkNeeded) network = await takeNetwork(host.engine);
    // Interleaved, so that what the machine does meanwhile (the page cache, others' work)
    // falls on both lines alike; each run is a fresh container and a fresh trace.
    const measured: Measured[] = [];
    const reference: Measured[] = [];
    for (let run = 0; run < request.runs; run++) {
      if (request.runs > 1) host.note(`run ${run + 1} of ${request.runs}`);
      measured.push(await measureRetryingStart(host, request, target, network?.name, 4 * run + 1, ports));
      if (against) reference.push(await measureRetryingStart(host, request, against, network?.name, 4 * run + 2, ports));
    }
    const mine = medianRun(measured);
    const theirs = reference.length > 0 ? medianRun(reference) : undefined;
    const method = measured[0]!.method;
    return {
      method,
      lowerBound: method === 'event-stacks',
      target: mine,
      against: theirs,
      ratio: theirs
        ? {
            functions: mine.functions.length / Math.max(1, theirs.functions.length),
            taskFunctions: mine.taskFunctions.length / Math.max(1, theirs.taskFunctions.length),
            syscalls: Object.keys(mine.syscalls).length / Math.max(1, Object.keys(theirs.syscalls).length),
          }
        : undefined,
    };
  } finally {
    if (network?.made) await host.engine.removeNetwork(network.name).catch(() => {});
    removeAtExit();
  }
}

interface Described {
  name: string;
  kind: TargetKind;
  info?: ImageInfo;
  ports: number[];
  needsNetwork: boolean;
}

async function describeImage(engine: Engine, name: string, field: string): Promise<Described & { info: ImageInfo }> {
  const info = await engine.inspectImage(name);
  if (!info) throw new ConfigError(`Docker has no image "${name}"`, { field, hint: 'build or load it first (docker images lists them)' });
  const nabla = info.config.Entrypoint?.[0] === TENDER;
  const ports = Object.keys(info.config.ExposedPorts ?? {})
    .filter((port) => port.endsWith('/tcp'))
    .map((port) => Number(port.split('/')[0]))
    .sort((a, b) => a - b);
  return { name, kind: nabla ? 'nabla image' : 'image', info, ports, needsNetwork: nabla && imageNeeds(name, info.config).network };
}

/** An image Docker has, else a command for the host's shell. */
async function describeAgainst(engine: Engine, against: string): Promise<Described> {
  if (against.trim() === '') throw new ConfigError('--against is empty', { field: '--against', hint: 'give an image, e.g. --against python:3.11, or a command' });
  if (/^[\w./:@-]+$/.test(against) && (await engine.inspectImage(against))) return describeImage(engine, against, '--against');
  return { name: against, kind: 'command', ports: [], needsNetwork: false };
}

async function takeNetwork(engine: Engine): Promise<{ name: string; made: boolean }> {
  if (await engine.networkExists('bridge')) return { name: 'bridge', made: false };
  // An engine without its default bridge (dockerd --bridge=none): a network of our own.
  const name = `nabla-measure-${crypto.randomBytes(4).toString('hex')}`;
  await engine.createNetwork(name, { [LABEL]: 'network' });
  return { name, made: true };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The threads of a process and of all its descendants. */
function treeThreads(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(/^\d+ \(.*\) \S (\d+)/s.exec(fs.readFileSync(`/proc/${entry}/stat`, 'utf8'))?.[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // it exited meanwhile
    }
  }
  const tids: number[] = [];
  for (let todo = [root]; todo.length > 0; ) {
    const pid = todo.pop()!;
    try {
      tids.push(...fs.readdirSync(`/proc/${pid}/task`).map(Number));
    } catch {
      continue;
    }
    todo.push(...(children.get(pid) ?? []));
  }
  return tids;
}

/** The threads of every process called `comm` (containerd: the root of every new container's tasks). */
function threadsOf(comm: string): number[] {
  const tids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== comm) continue;
      for (const task of fs.readdirSync(`/proc/${entry}/task`)) tids.push(Number(task));
    } catch {
      // it exited meanwhile
    }
  }
  return tids;
}

type Measured = { method: SurfaceMethod; result: TargetResult };

/**
 * The run with the median kernel-function figure (of an even number, the lower of the two
 * middle ones), with every run's figures beside it. A whole run rather than a median per
 * figure, so that its function list, host calls and figures stay one run's. The figure
 * moves from run to run with the interrupts that land while the tasks run and with what
 * the page cache holds; the median of a few runs is the steadier figure.
 */
export function medianRun(runs: Measured[]): TargetResult {
  const results = runs.map((r) => r.result);
  if (results.length === 1) return results[0]!;
  const sorted = [...results].sort((a, b) => a.functions.length - b.functions.length);
  const figures = (r: TargetResult): RunFigures => ({
    functions: r.functions.length,
    taskFunctions: r.taskFunctions.length,
    syscalls: Object.keys(r.syscalls).length,
    lost: r.lost,
  });
  return { ...sorted[Math.floor((sorted.length - 1) / 2)]!, runs: results.map(figures) };
}

/** The trace ran, lost nothing, and still has not the start of the window (see measureOne). */
class MissedStart extends EnvironmentError {}

/**
 * measureOne, once more when its trace missed the start of the window with no event lost.
 * That was seen when the traced tasks' list was rewritten while the first process exec'd
 * (startContainer's narrow, now called only once a server answers); kept for what else a
 * busy machine may do to a trace.
 */
async function measureRetryingStart(...args: Parameters<typeof measureOne>): ReturnType<typeof measureOne> {
  try {
    return await measureOne(...args);
  } catch (error) {
    if (!(error instanceof MissedStart)) throw error;
    const [host, request, target, network, index, ports] = args;
    host.note(`${error.message}; running it again`);
    return measureOne(host, request, target, network, index + 2, ports);
  }
}

async function measureOne(
  host: MeasureHost,
  request: MeasureRequest,
  target: Described,
  network: string | undefined,
  index: number,
  ports: number[],
): Promise<Measured> {
  const policy = target.kind === 'nabla image' ? await readPolicy(host.engine, target.info!) : undefined;
  // A command serves the image's port on the host's loopback; a container's own port is
  // published on a free port of the loopback.
  const port = target.kind === 'command' ? ports[0] : target.ports[0];
  const hostPort = port === undefined ? undefined : target.kind === 'command' ? port : await freePort();
  const traceFile = path.join(host.workDir, `trace-${index}.txt`);
  const instance = TraceInstance.create(host.tracefs, instanceName(process.pid, index), traceFile, request.bufferKb);
  const removeInstanceAtExit = onExit(() => instance.remove());
  let running: Running | undefined;
  const removeRunningAtExit = onExit(() => running?.removeNow());
  try {
    host.note(`${target.name}: tracing with ${instance.method === 'function-tracer' ? 'the function tracer' : 'trace-event stacks (the function tracer is refused here)'} in ${instance.dir}`);
    const started =
      target.kind === 'command'
        ? await startCommand(instance, target.name)
        : await startContainer(host.engine, instance, target, network, port, hostPort, request.runtime);
    running = started;
    const load = await applyLoad(host, request, target, started, port === undefined ? undefined : { host: '127.0.0.1', port: hostPort! });
    await instance.stop();
    const lost = instance.overruns();
    await started.remove();
    running = undefined;
    const opensAt: WindowStart = target.kind === 'nabla image' ? 'filter' : 'exec';
    const root = started.root || (await findRoot(traceFile, target, started.containerId));
    const summary = await readTrace(traceFile, root, opensAt);
    if (!summary.opened) {
      throw new (lost > 0 ? EnvironmentError : MissedStart)(
        `${target.name}: the trace has no ${opensAt === 'filter' ? 'seccomp filter of the tender' : 'exec'} of its first process (pid ${root})`,
        {
          details: [
            `found by ${started.root ? 'Docker\'s pid' : 'the trace'}; its exec ${summary.rootExeced ? 'seen' : 'not seen'}; ${summary.rootEventsBefore} events of it; ${lost} events lost`,
          ],
          hint: lost > 0 ? `the trace lost ${lost} events (buffer full: try a larger --buffer-mb, or a quieter machine)` : 'the run ended before it started',
        },
      );
    }
    if (lost > 0) host.note(`${target.name}: the trace lost ${lost} events (buffer full): the figures are low; try a larger --buffer-mb`);
    return {
      method: instance.method,
      result: {
        name: target.name,
        kind: target.kind,
        policy,
        window: opensAt === 'filter' ? 'from the tender\'s seccomp filter to the end of the load or run' : 'from the exec of its first process to the end of the load or run',
        load: load.description,
        http: load.http,
        syscalls: Object.fromEntries([...summary.syscalls].sort(([a], [b]) => a.localeCompare(b))),
        functions: [...summary.functions].sort(),
        taskFunctions: [...summary.taskFunctions].sort(),
        events: summary.events,
        tasks: summary.tasks.size,
        lost,
      },
    };
  } finally {
    await running?.remove().catch(() => {});
    removeRunningAtExit();
    instance.remove();
    removeInstanceAtExit();
    fs.rmSync(traceFile, { force: true });
  }
}

interface Running {
  /** The host pid whose exec (or filter) opens the window (0: it exited before it was asked). */
  root: number;
  /** The container's ID, to find its first process in the trace when root is 0. */
  containerId?: string;
  /**
   * A server's: traces only its own tasks from now on. Called once it answers the built-in
   * load; a --load-cmd keeps the wider list, as no answer is awaited before it.
   */
  narrow?: () => void;
  exited: Promise<number>;
  isRunning(): Promise<boolean>;
  /** Output it wrote, the last lines (for a message when it fails). */
  tail(): string[];
  remove(): Promise<void>;
  removeNow(): void;
}

async function startContainer(
  engine: Engine,
  instance: TraceInstance,
  target: Described,
  network: string | undefined,
  port: number | undefined,
  hostPort: number | undefined,
  runtime: string | undefined,
): Promise<Running> {
  const info = target.info!;
  const nabla = target.kind === 'nabla image';
  const publish = port === undefined ? [] : [{ containerPort: `${port}/tcp`, hostIp: '127.0.0.1', hostPort: hostPort! }];
  const useNetwork = nabla ? target.needsNetwork : target.ports.length > 0;
  let container: Container | undefined;
  try {
    container = await engine.createContainer({
      image: target.name,
      cmd: [],
      env: {},
      workingDir: info.config.WorkingDir ?? '/',
      labels: { [LABEL]: target.name },
      network: useNetwork && network ? network : 'none',
      security: nabla ? securityFor(imageNeeds(target.name, info.config)) : undefined,
      publish,
      runtime,
    });
  } catch (error) {
    throw new EnvironmentError(`the engine could not create a container of ${target.name}: ${errorMessage(error)}`, {
      hint: runtime ? `is the runtime "${runtime}" registered with the engine? (docker info lists its runtimes)` : undefined,
      cause: error,
    });
  }
  const made = container;
  const lines: string[] = [];
  const output = new PassThrough();
  output.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)) && lines.splice(0, Math.max(0, lines.length - 20)));
  // containerd starts the shim that starts runc that starts the container: trace from there.
  instance.addPids(threadsOf('containerd'));
  instance.start();
  let exited: Promise<number>;
  try {
    ({ exited } = await made.start(output, output));
  } catch (error) {
    await made.remove().catch(() => {});
    throw new EnvironmentError(`the engine could not start ${target.name}: ${errorMessage(error)}`, {
      hint: nabla && target.needsNetwork ? 'the image takes the container\'s network: the engine must allow --cap-add NET_ADMIN and --device /dev/net/tun' : undefined,
      cause: error,
    });
  }
  let done = false;
  void exited.then(() => (done = true), () => (done = true));
  // 0 when it has exited already (a short run): then the trace says which process it was.
  const root = await made.hostPid().catch(() => 0);
  // A server, once it answers: from then on only its tasks, as containerd's other
  // descendants (containers others start meanwhile) would fill the buffer during the load.
  // Not before: a list rewritten while the root execs lost its exec event, or the tender's
  // filter, now and then (no event counted lost). Not a run measured to its exit, which is
  // short: a list rewritten as its only task exits lost that task's last events (its write
  // and exit_group, on a fast machine, 2 runs in 8).
  const narrow = () => {
    const tasks = root === 0 ? [] : treeThreads(root);
    if (tasks.length === 0) return; // never an empty list: that would trace every task on the machine
    instance.setPids(tasks);
    instance.addPids(treeThreads(root)); // again, for tasks it made while the first list was written
  };
  return {
    root,
    narrow: port === undefined ? undefined : narrow,
    containerId: made.id,
    exited,
    isRunning: async () => !done,
    tail: () => lines,
    remove: () => made.remove(),
    removeNow: () => execFileSync('docker', ['rm', '-f', made.id], { stdio: 'ignore' }),
  };
}

/** `sh -c 'kill -STOP $$; exec CMD'`: stopped before the exec, so its pid can be traced first. */
async function startCommand(instance: TraceInstance, command: string): Promise<Running> {
  const child: ChildProcess = spawn('sh', ['-c', `kill -STOP $$; exec ${command}`], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)) && lines.splice(0, Math.max(0, lines.length - 20)));
  const pid = child.pid!;
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? 15 : 0))));
  let done = false;
  void exited.then(() => (done = true));
  const stopped = () => {
    try {
      return / T /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ''));
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 100 && !stopped() && !done; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  if (!stopped()) throw new EnvironmentError(`could not start the command "${command}" stopped before its exec`);
  instance.addPids([pid]);
  instance.start();
  process.kill(pid, 'SIGCONT');
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // gone already
    }
  };
  return {
    root: pid,
    exited,
    isRunning: async () => !done,
    tail: () => lines,
    remove: async () => {
      killGroup('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
      killGroup('SIGKILL');
    },
    removeNow: () => killGroup('SIGKILL'),
  };
}

async function applyLoad(
  host: MeasureHost,
  request: MeasureRequest,
  target: Described,
  running: Running,
  address: { host: string; port: number } | undefined,
): Promise<{ description: string; http?: LoadResult }> {
  const fail = (message: string, cause?: unknown) =>
    new NablaError(`${target.name}: ${message}`, { details: running.tail().length ? ['its last output:', ...running.tail()] : undefined, cause });
  if (request.loadCmd) {
    host.note(`${target.name}: load: ${request.loadCmd}`);
    const env: Record<string, string> = address ? { MEASURE_HOST: address.host, MEASURE_PORT: String(address.port), MEASURE_URL: `http://${address.host}:${address.port}/` } : {};
    const code = await runLoadCommand(request.loadCmd, { ...host.env, ...env }, request.signal);
    if (code !== 0) throw fail(`the load command exited with ${code}`);
    return { description: `--load-cmd ${JSON.stringify(request.loadCmd)}` };
  }
  if (address) {
    try {
      await waitForHttp(address.host, address.port, request.timeoutMs, request.signal, running.isRunning);
    } catch (error) {
      if (error instanceof InterruptedError) throw error;
      throw fail(`${errorMessage(error)}`, error);
    }
    running.narrow?.();
    host.note(`${target.name}: ${request.requests} GETs of http://${address.host}:${address.port}/, one connection each`);
    const http = await httpLoad(address.host, address.port, request.requests, request.signal);
    if (http.ok === 0) throw fail(`none of the ${request.requests} GETs was answered with a 2xx or 3xx status`);
    return { description: `${request.requests} GETs of /, one connection each`, http };
  }
  host.note(`${target.name}: no port: measuring its run until it exits`);
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, request.timeoutMs, 'timeout').unref());
  const aborted = new Promise<'aborted'>((resolve) =>
    request.signal.aborted ? resolve('aborted') : request.signal.addEventListener('abort', () => resolve('aborted'), { once: true }),
  );
  const outcome = await Promise.race([running.exited, timeout, aborted]);
  if (outcome === 'aborted') throw new InterruptedError();
  if (outcome === 'timeout') throw fail(`still running after ${request.timeoutMs / 1000} s; an image without ports is measured until it exits (give --load-cmd, or --timeout)`);
  return { description: `its run, to its exit (${outcome})` };
}

function runLoadCommand(command: string, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 2, 2], env } /* stdout is for the table */);
    const abort = () => child.kill('SIGTERM');
    signal.addEventListener('abort', abort, { once: true });
    child.on('error', reject);
    child.on('exit', (code, killed) => {
      signal.removeEventListener('abort', abort);
      if (signal.aborted) reject(new InterruptedError());
      else resolve(code ?? (killed ? 128 : 1));
    });
  });
}

/** The policy in the image's label, and as the tender prints it for this host and these flags. */
async function readPolicy(engine: Engine, info: ImageInfo): Promise<{ label: string[]; printed: string[] }> {
  const label = (info.config.Labels?.[POLICY_LABEL] ?? '').split('; ').filter(Boolean);
  const entrypoint = info.config.Entrypoint ?? [];
  const container = await engine.createContainer({
    image: info.id,
    entrypoint: [TENDER],
    cmd: ['--print-policy', ...entrypoint.slice(1)],
    env: {},
    workingDir: info.config.WorkingDir ?? '/',
    labels: { [LABEL]: 'policy' },
    network: 'none',
  });
  const printed: string[] = [];
  try {
    const code = await container.run((line) => printed.push(line));
    if (code !== 0) throw new EnvironmentError(`the tender refused --print-policy (exit ${code})`, { details: printed });
  } finally {
    await container.remove().catch(() => {});
  }
  return { label, printed };
}

/**
 * The container's first process, from the trace: the one runc started that exec'd its
 * entrypoint; of several (containers of other runs started in the same moment), the one
 * in this container's cgroup.
 */
async function findRoot(file: string, target: Described, containerId: string | undefined): Promise<number> {
  const finder = new ContainerInitFinder(containerId);
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) finder.line(line);
  const entry = target.info?.config.Entrypoint?.[0] ?? target.info?.config.Cmd?.[0];
  const matching = finder.execs.filter((e) => entry === undefined || e.filename === entry || path.basename(e.filename) === path.basename(entry));
  const ours = matching.filter((e) => e.inContainer);
  if (ours.length === 1) return ours[0]!.pid;
  if (matching.length === 1) return matching[0]!.pid;
  throw new EnvironmentError(
    matching.length === 0
      ? `${target.name}: its first process is not in the trace (it ran too briefly for Docker to report it, and runc's start was not seen)`
      : `${target.name}: it exited at once, and ${matching.length} containers started in the same moment: the trace cannot tell which was its`,
    { hint: 'run measure again' },
  );
}

async function readTrace(file: string, root: number, opensAt: WindowStart) {
  const reader = new TraceReader(root, opensAt);
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) reader.line(line);
  return reader.result();
}
