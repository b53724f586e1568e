/**
 * One tracefs instance of our own (instances/NAME), never the global trace buffer: every
 * trace event on, filtered to the tasks we name and their children (event-fork), with a
 * kernel stack on each event, or the function tracer where the kernel allows it. A reader
 * (`cat trace_pipe`) drains it into a file while it runs, so a long run does not overrun
 * the buffer. `remove()` undoes everything; it is safe to call twice and from any state.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { EnvironmentError, errorMessage } from '../util/errors.js';
import { processAlive } from '../util/process-alive.js';

/** How the kernel functions are found: every function entered, or those on event stacks. */
export type SurfaceMethod = 'function-tracer' | 'event-stacks';

const MOUNTS = '/proc/mounts';
const DEFAULT_MOUNT = '/sys/kernel/tracing';

export interface TracefsRoot {
  path: string;
  /** We mounted it (it was not mounted): unmount it afterwards. */
  mountedHere: boolean;
}

/** Where tracefs is mounted; mounts it at /sys/kernel/tracing when it is not (root only). */
export function findTracefs(mount: (target: string) => void): TracefsRoot {
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError('measure needs root: it reads the kernel\'s trace events (tracefs) of the containers it runs', {
      hint: 'run it as root, e.g. sudo nabla-build measure IMAGE',
    });
  }
  const mounts = fs.readFileSync(MOUNTS, 'utf8').split('\n').map((line) => line.split(' '));
  const tracefs = mounts.find((fields) => fields[2] === 'tracefs');
  if (tracefs) return { path: tracefs[1]!, mountedHere: false };
  const debugfs = mounts.find((fields) => fields[2] === 'debugfs');
  if (debugfs && fs.existsSync(path.join(debugfs[1]!, 'tracing', 'instances'))) return { path: path.join(debugfs[1]!, 'tracing'), mountedHere: false };
  try {
    mount(DEFAULT_MOUNT);
  } catch (error) {
    throw new EnvironmentError(`measure needs tracefs, which is not mounted, and mounting it at ${DEFAULT_MOUNT} failed: ${errorMessage(error)}`, {
      hint: `mount it (mount -t tracefs nodev ${DEFAULT_MOUNT}); the kernel needs CONFIG_TRACING and trace events`,
      cause: error,
    });
  }
  return { path: DEFAULT_MOUNT, mountedHere: true };
}

/** Instance names: the measuring process's pid, then which of its runs. */
export const instanceName = (pid: number, index: number) => `nabla-measure-${pid}-${index}`;
const INSTANCE_NAME = /^nabla-measure-(\d+)-\d+$/;

/**
 * Removes the instances of measure runs whose process is gone (killed outright, so no
 * exit handler ran). Such an instance keeps every trace event on, and each event the
 * kernel hits still pays for its pid filter. Returns the names removed.
 */
export function removeStaleInstances(root: string): string[] {
  const instances = path.join(root, 'instances');
  if (!fs.existsSync(instances)) return [];
  const removed: string[] = [];
  for (const name of fs.readdirSync(instances)) {
    const pid = INSTANCE_NAME.exec(name)?.[1];
    if (pid === undefined || processAlive(Number(pid))) continue;
    const dir = path.join(instances, name);
    try {
      // rmdir alone: a measure in another pid namespace looks gone from here, but its
      // reader holds trace_pipe, so the kernel refuses (EBUSY) and its trace goes on.
      fs.rmdirSync(dir);
      removed.push(name);
    } catch {
      // a reader still has it open (EBUSY), or it went meanwhile: leave it
    }
  }
  return removed;
}

export class TraceInstance {
  private reader: ChildProcess | undefined;
  private removed = false;
  private chosen: SurfaceMethod = 'event-stacks';

  private constructor(
    readonly dir: string,
    private readonly output: string,
  ) {}

  get method(): SurfaceMethod {
    return this.chosen;
  }

  /**
   * Makes the instance and sets it up; tracing stays off until start(). The function tracer
   * is probed in the instance itself: a locked-down kernel refuses it (EPERM) for root too.
   */
  static create(root: string, name: string, output: string, bufferKb: number): TraceInstance {
    const instances = path.join(root, 'instances');
    if (!fs.existsSync(instances)) {
      throw new EnvironmentError(`${root} has no instances/ folder: this kernel's tracefs cannot give measure a trace buffer of its own`, {
        hint: 'measure needs Linux 4.x or newer with CONFIG_TRACING',
      });
    }
    const dir = path.join(instances, name);
    fs.mkdirSync(dir);
    const instance = new TraceInstance(dir, output);
    try {
      instance.chosen = instance.functionTracerAllowed() ? 'function-tracer' : 'event-stacks';
      instance.write('tracing_on', '0');
      instance.write('buffer_size_kb', String(bufferKb));
      instance.write('options/event-fork', '1');
      // A full buffer drops the newest events, not the oldest: the exec (or seccomp) that
      // opens the window comes first and must survive a burst of others' events.
      instance.write('options/overwrite', '0');
      if (instance.method === 'function-tracer') {
        instance.write('options/function-fork', '1');
        instance.write('current_tracer', 'function');
      } else {
        instance.write('options/stacktrace', '1');
      }
      // Every event: their stacks are the method (the more events, the more functions seen),
      // and the lineage of the container's tasks comes from sched_process_fork and _exec.
      instance.write('events/enable', '1');
      const cpus = fs.readFileSync(path.join(dir, 'tracing_cpumask'), 'utf8').trim();
      if (/^[0,]*$/.test(cpus)) throw new EnvironmentError(`the trace instance traces no CPU (tracing_cpumask ${cpus})`);
      return instance;
    } catch (error) {
      instance.remove();
      throw error;
    }
  }

  private functionTracerAllowed(): boolean {
    try {
      this.write('current_tracer', 'function');
      this.write('current_tracer', 'nop');
      return true;
    } catch {
      return false; // EPERM under lockdown, EINVAL without CONFIG_FUNCTION_TRACER
    }
  }

  private write(file: string, value: string): void {
    fs.writeFileSync(path.join(this.dir, file), value);
  }

  /** Adds tasks to trace (with everything they fork from now on). */
  addPids(pids: number[]): void {
    for (const pid of pids) {
      fs.appendFileSync(path.join(this.dir, 'set_event_pid'), `${pid}\n`);
      if (this.method === 'function-tracer') fs.appendFileSync(path.join(this.dir, 'set_ftrace_pid'), `${pid}\n`);
    }
  }

  /** Traces exactly these tasks (and what they fork from now on), no longer the ones before. */
  setPids(pids: number[]): void {
    if (pids.length === 0) throw new Error('setPids: an empty list would trace every task');
    fs.writeFileSync(path.join(this.dir, 'set_event_pid'), pids.join(' '));
    if (this.method === 'function-tracer') fs.writeFileSync(path.join(this.dir, 'set_ftrace_pid'), pids.join(' '));
  }

  start(): void {
    const out = fs.openSync(this.output, 'w');
    this.reader = spawn('cat', [path.join(this.dir, 'trace_pipe')], { stdio: ['ignore', out, 'ignore'] });
    fs.closeSync(out);
    this.write('tracing_on', '1');
  }

  /**
   * Stops tracing, lets the reader drain the buffer, stops it, and appends what it had not
   * read yet (a reader starved of CPU on a busy machine leaves events behind): `trace`
   * shows the events still in the buffer without consuming them, in the same format.
   */
  async stop(): Promise<void> {
    this.write('tracing_on', '0');
    const deadline = Date.now() + 30_000;
    while (this.entriesLeft() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 300)); // the reader's last write
    await this.stopReader();
    const rest = fs.readFileSync(path.join(this.dir, 'trace'), 'utf8');
    fs.appendFileSync(this.output, rest.split('\n').filter((line) => !line.startsWith('#')).join('\n'));
  }

  private entriesLeft(): number {
    return this.perCpuStat('entries');
  }

  /** Events lost because the buffer was full (the figure would then be too low). */
  overruns(): number {
    return this.perCpuStat('overrun') + this.perCpuStat('dropped events');
  }

  private perCpuStat(name: string): number {
    const perCpu = path.join(this.dir, 'per_cpu');
    let total = 0;
    for (const cpu of fs.readdirSync(perCpu)) {
      const stats = fs.readFileSync(path.join(perCpu, cpu, 'stats'), 'utf8');
      const match = new RegExp(`^${name}: (\\d+)`, 'm').exec(stats);
      total += Number(match?.[1] ?? 0);
    }
    return total;
  }

  /** Kills the reader; the promise waits until it is gone (its last write done). */
  private stopReader(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    if (!reader?.pid || reader.exitCode !== null || reader.signalCode !== null) return Promise.resolve();
    const gone = new Promise<void>((resolve) => reader.once('exit', () => resolve()));
    reader.kill('SIGKILL');
    return gone;
  }

  /** Tracing off, the reader gone, the instance removed. Synchronous, so an exit handler can call it. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    try {
      this.write('tracing_on', '0');
    } catch {
      // already gone
    }
    void this.stopReader();
    // rmdir is refused (EBUSY) while the reader still has trace_pipe open: wait for it.
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        fs.rmdirSync(this.dir);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      }
    }
    throw new EnvironmentError(`could not remove the trace instance ${this.dir}`, { hint: `remove it by hand: rmdir ${this.dir}` });
  }
}
