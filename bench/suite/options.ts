/** `npm run bench -- [flags]`: the command line, checked once into one frozen object. */
import { parseArgs } from 'node:util';

export const APPS = ['c', 'go', 'python', 'node', 'cpu'] as const;
export const RUNTIMES = ['runc', 'runsc', 'nabla'] as const;
export type AppName = (typeof APPS)[number];
export type RuntimeName = (typeof RUNTIMES)[number];

export interface BenchOptions {
  out: string;
  apps: readonly AppName[];
  runtimes: readonly RuntimeName[];
  /** Whether the user named the runtimes: then a missing one is an error, not a column that says so. */
  runtimesAsked: boolean;
  rounds: number;
  /** Length of one wrk round, seconds. */
  seconds: number;
  /** GETs of measure's load, per server. */
  measureRequests: number;
  /** Runs of measure per cell; the median run is the figure. */
  measureRuns: number;
  help: boolean;
}

export const USAGE = `Usage: npm run bench -- [--out DIR] [--apps c,go,python,node,cpu] [--runtimes runc,runsc,nabla] [--rounds N] [--seconds S] [--measure-requests N]

Runs each app as a plain image under runc, the same plain image under runsc (gVisor) and as a
nabla image, rounds interleaved, and writes bench.md (the table, also printed), bench.svg (the
chart) and bench.json (every round) to DIR (default: bench-results).

  --out DIR               where the results go (made if missing)
  --apps LIST             of ${APPS.join(', ')} (default: all)
  --runtimes LIST         of ${RUNTIMES.join(', ')} (default: all; a runtime not set up is then a
                          column that says so, while one you name must be there)
  --rounds N              rounds of start + load per app and runtime (default 3, 1 to 20)
  --seconds S             length of one wrk round (default 5, 1 to 60)
  --measure-requests N    GETs of \`nabla-build measure\`'s load per server (default 300; 0: skip measure)
  --measure-runs N        runs of measure per app and runtime, the median run is the figure
                          (default 3, 1 to 9: the figure moves from run to run)

Needs root (tracefs for measure, /proc of the containers for memory), a Docker engine, and for
runsc: sudo bash bench/setup-runsc.sh.`;

export class UsageError extends Error {}

export function parseOptions(argv: string[]): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        out: { type: 'string' },
        apps: { type: 'string' },
        runtimes: { type: 'string' },
        rounds: { type: 'string' },
        seconds: { type: 'string' },
        'measure-requests': { type: 'string' },
        'measure-runs': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.out !== undefined && v.out.trim() === '') throw new UsageError('--out is empty: give a folder, e.g. --out bench-results');
  return Object.freeze({
    out: v.out ?? 'bench-results',
    apps: Object.freeze(list('--apps', v.apps, APPS)),
    runtimes: Object.freeze(list('--runtimes', v.runtimes, RUNTIMES)),
    runtimesAsked: v.runtimes !== undefined,
    rounds: whole('--rounds', v.rounds, 3, 1, 20),
    seconds: whole('--seconds', v.seconds, 5, 1, 60),
    measureRequests: whole('--measure-requests', v['measure-requests'], 300, 0, 10_000),
    measureRuns: whole('--measure-runs', v['measure-runs'], 3, 1, 9),
    help: v.help ?? false,
  });
}

/** A comma-separated list of known names, in the order the table shows them. */
function list<T extends string>(flag: string, value: string | undefined, known: readonly T[]): T[] {
  if (value === undefined) return [...known];
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError(`${flag} is empty: give some of ${known.join(', ')}`);
  const unknown = names.filter((name) => !(known as readonly string[]).includes(name));
  if (unknown.length > 0) throw new UsageError(`${flag}: unknown ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return known.filter((name) => names.includes(name));
}

function whole(flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`${flag} "${value}": a whole number from ${min} to ${max}`);
  return Number(value);
}
