/** The figures taken of a running container: wrk's load, its memory, measure's surface. */
import fs from 'node:fs';
import type { Surface } from './results.js';

export interface WrkFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Socket errors and non-2xx/3xx answers. */
  errors: number;
}

/** wrk's duration ("812.50us", "1.20ms", "2.01s", "1.5m") in ms. */
export function wrkDurationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!match) throw new Error(`not a wrk duration: "${text}"`);
  const value = Number(match[1]);
  return { us: value / 1000, ms: value, s: value * 1000, m: value * 60_000 }[match[2] as 'us' | 'ms' | 's' | 'm'];
}

/** The figures of `wrk --latency`'s report. */
export function parseWrk(output: string): WrkFigures {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  const p50 = /^\s+50%\s+(\S+)/m.exec(output);
  const p99 = /^\s+99%\s+(\S+)/m.exec(output);
  const requests = /^\s+(\d+) requests in /m.exec(output);
  if (!rps || !p50 || !p99 || !requests) throw new Error(`wrk printed no figures (was --latency given?): ${output.trim().split('\n').slice(-3).join(' / ')}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  const errors = (socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return { requestsPerSecond: Number(rps[1]), p50Ms: wrkDurationMs(p50[1]!), p99Ms: wrkDurationMs(p99[1]!), requests: Number(requests[1]), errors };
}

/** The host processes of a container: its first process and what it forks, and, for runsc, the sandbox's others (named by the container's ID: the gofer). */
export function containerProcesses(containerId: string, rootPid: number, proc = '/proc'): number[] {
  const parents = new Map<number, number>();
  const named = new Set<number>();
  for (const entry of fs.readdirSync(proc)) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const stat = fs.readFileSync(`${proc}/${pid}/stat`, 'utf8');
      parents.set(pid, Number(/^\d+ \(.*\) \S (\d+)/s.exec(stat)?.[1]));
      const comm = fs.readFileSync(`${proc}/${pid}/comm`, 'utf8').trim();
      // The shim (containerd-shim-runc-v2 -id ID) carries the ID too, under every runtime: not the container's.
      if (!comm.startsWith('containerd-shim') && fs.readFileSync(`${proc}/${pid}/cmdline`, 'utf8').includes(containerId)) named.add(pid);
    } catch {
      // it exited meanwhile
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p && hops < 64; p = parents.get(p), hops++) if (p === rootPid) return true;
    return false;
  };
  return [...parents.keys()].filter((pid) => inTree(pid) || named.has(pid)).sort((a, b) => a - b);
}

/** Summed PSS and RSS of processes, MiB (PSS shares a page among the processes that map it: runsc's maps its memory file more than once). */
export function memoryOf(pids: number[], proc = '/proc'): { pssMiB: number; rssMiB: number } {
  let pssKb = 0;
  let rssKb = 0;
  for (const pid of pids) {
    try {
      pssKb += Number(/^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`${proc}/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
      rssKb += Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`${proc}/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // it exited meanwhile
    }
  }
  return { pssMiB: pssKb / 1024, rssMiB: rssKb / 1024 };
}

/** The figures of `nabla-build measure --json` for its target. */
export function surfaceFromMeasure(json: string): Surface {
  const result = JSON.parse(json) as {
    method: string;
    lowerBound: boolean;
    target: { syscalls: Record<string, number>; functions: string[]; load: string; http?: { requests: number; ok: number }; lost: number };
  };
  const t = result.target;
  return {
    method: result.method,
    lowerBound: result.lowerBound,
    hostSyscalls: Object.keys(t.syscalls).length,
    functions: t.functions.length,
    syscalls: t.syscalls,
    load: t.load,
    answered: t.http?.ok,
    requests: t.http?.requests,
    lost: t.lost,
  };
}
