/** What one bench run found (bench.json is this, as it is), and the figures the table shows. */
import type { AppName, RuntimeName } from './options.js';
import { median } from './stats.js';

/** One round of one app under one runtime. */
export interface Round {
  requestsPerSecond?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** From `docker run` to the first HTTP answer (a server) or the first line of output (the cpu program). */
  startMs?: number;
  /** The cpu program's own figure for its work. */
  workMs?: number;
  /** Summed over the container's processes after the load, MiB. */
  pssMiB?: number;
  rssMiB?: number;
  /** Processes counted for the memory figures. */
  processes?: number;
  /** wrk's requests answered in the round, and its errors beside them (socket errors, non-2xx/3xx answers). */
  requests?: number;
  errors?: number;
}

/** `nabla-build measure`'s figures for one image under one runtime. */
export interface Surface {
  method: string;
  lowerBound: boolean;
  hostSyscalls: number;
  functions: number;
  /** Host syscalls by name, as measure counted them. */
  syscalls: Record<string, number>;
  load: string;
  /** GETs answered / made (a server). */
  answered?: number;
  requests?: number;
  lost: number;
}

export interface Cell {
  app: AppName;
  runtime: RuntimeName;
  image?: string;
  /** Why this app could not be run under this runtime at all. */
  failed?: string;
  rounds: Round[];
  imageMB?: number;
  surface?: Surface;
  /** Why measure gave no figure (it failed, or was skipped). */
  surfaceFailed?: string;
}

export interface BenchResult {
  /** ISO time the run started. */
  started: string;
  machine: { cpu: string; cores: number; memoryGiB: number; kernel: string; docker: string; runsc?: string };
  settings: { rounds: number; seconds: number; connections: number; threads: number; measureRequests: number; measureRuns?: number };
  apps: { name: AppName; title: string; kind: 'http' | 'cpu' }[];
  runtimes: RuntimeName[];
  /** Runtimes not set up here: what to do. */
  missing: Partial<Record<RuntimeName, string>>;
  cells: Cell[];
}

export interface Metric {
  key: string;
  label: string;
  /** Its name in the chart. */
  short: string;
  /** Which apps it is measured for. */
  kinds: readonly ('http' | 'cpu')[];
  /** Digits after the point. */
  digits: number;
  better: 'higher' | 'lower';
  value(cell: Cell): number | undefined;
}

const fromRounds = (pick: (round: Round) => number | undefined) => (cell: Cell) =>
  median(cell.rounds.map(pick).filter((v): v is number => v !== undefined));

export const METRICS: readonly Metric[] = [
  { key: 'rps', short: 'requests/s', label: 'requests/s', kinds: ['http'], digits: 0, better: 'higher', value: fromRounds((r) => r.requestsPerSecond) },
  { key: 'p50', short: 'p50', label: 'p50 latency, ms', kinds: ['http'], digits: 2, better: 'lower', value: fromRounds((r) => r.p50Ms) },
  { key: 'p99', short: 'p99', label: 'p99 latency, ms', kinds: ['http'], digits: 2, better: 'lower', value: fromRounds((r) => r.p99Ms) },
  { key: 'work', short: 'cpu work', label: 'work, ms (its own clock)', kinds: ['cpu'], digits: 0, better: 'lower', value: fromRounds((r) => r.workMs) },
  { key: 'start', short: 'start', label: 'start to first answer, ms', kinds: ['http'], digits: 0, better: 'lower', value: fromRounds((r) => r.startMs) },
  { key: 'start', short: 'start', label: 'start to first line of output, ms', kinds: ['cpu'], digits: 0, better: 'lower', value: fromRounds((r) => r.startMs) },
  { key: 'memory', short: 'memory', label: 'memory after the load, MiB (PSS)', kinds: ['http'], digits: 2, better: 'lower', value: fromRounds((r) => r.pssMiB) },
  { key: 'image', short: 'image', label: 'image size, MB', kinds: ['http', 'cpu'], digits: 2, better: 'lower', value: (cell) => cell.imageMB },
  { key: 'syscalls', short: 'host syscalls', label: 'distinct host syscalls', kinds: ['http', 'cpu'], digits: 0, better: 'lower', value: (cell) => cell.surface?.hostSyscalls },
  { key: 'surface', short: 'surface', label: 'kernel functions entered (surface)', kinds: ['http', 'cpu'], digits: 0, better: 'lower', value: (cell) => cell.surface?.functions },
];

export function metricsFor(kind: 'http' | 'cpu'): Metric[] {
  return METRICS.filter((metric) => metric.kinds.includes(kind));
}

export function cellOf(result: BenchResult, app: AppName, runtime: RuntimeName): Cell | undefined {
  return result.cells.find((cell) => cell.app === app && cell.runtime === runtime);
}
