/** The body of `measure`, loaded only when it runs. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { measure, type MeasureResult, type TargetResult } from '../../measure/measure.js';
import { findTracefs } from '../../measure/tracefs.js';
import { ConfigError } from '../../util/errors.js';
import { engine } from '../engine.js';
import type { GlobalOptions } from '../options.js';
import { notice } from '../progress.js';

export interface MeasureFlags {
  against?: string;
  requests: number;
  loadCmd?: string;
  timeout: number;
  bufferMb: number;
  runs: number;
  runtime?: string;
  json?: boolean;
}

export async function measureImage(image: string, flags: MeasureFlags, globals: GlobalOptions): Promise<void> {
  if (flags.loadCmd !== undefined && flags.loadCmd.trim() === '') throw new ConfigError('--load-cmd is empty', { field: '--load-cmd', hint: 'give a shell command, e.g. --load-cmd "curl -s $MEASURE_URL"' });
  if (flags.runtime !== undefined && !/^[\w.-]+$/.test(flags.runtime)) throw new ConfigError(`--runtime "${flags.runtime}" is not a runtime name`, { field: '--runtime', hint: 'give a name docker info lists under Runtimes, e.g. --runtime runsc' });
  const note = (text: string) => (globals.progress === 'quiet' ? undefined : notice(`nabla-build: ${text}`));
  const root = findTracefs((target) => execFileSync('mount', ['-t', 'tracefs', 'nodev', target], { stdio: 'pipe' }));
  if (root.mountedHere) note(`mounted tracefs at ${root.path}`);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-measure-'));
  try {
    const result = await measure(
      { engine: await engine(), tracefs: root.path, workDir, note, env: process.env },
      {
        image,
        against: flags.against,
        requests: flags.requests,
        loadCmd: flags.loadCmd,
        timeoutMs: flags.timeout * 1000,
        bufferKb: flags.bufferMb * 1024,
        runtime: flags.runtime,
        runs: flags.runs,
        signal: globals.signal,
      },
    );
    process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : table(result));
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
    if (root.mountedHere) {
      try {
        execFileSync('umount', [root.path], { stdio: 'ignore' });
      } catch {
        // busy (another tracer): leave it mounted
      }
    }
  }
}

function table(result: MeasureResult): string {
  const { target, against, ratio } = result;
  const lines: string[] = [];
  const method =
    result.method === 'function-tracer'
      ? 'function tracer (every kernel function entered)'
      : 'trace-event stacks (the function tracer is refused on this kernel): a lower bound';
  lines.push(`kernel functions by: ${method}`);
  lines.push(`window: ${target.window}${against && against.window !== target.window ? `; reference: ${against.window}` : ''}`);
  lines.push('');
  const columns = against ? ['', target.name, against.name, 'ratio'] : ['', target.name];
  const rows: string[][] = [];
  const row = (label: string, mine: string, theirs: string, r?: number) => rows.push(against ? [label, mine, theirs, r === undefined ? '' : `${r.toFixed(2)}x`] : [label, mine]);
  row('kind', target.kind, against?.kind ?? '');
  row('load', target.load + httpNote(target), against ? against.load + httpNote(against) : '');
  row('kernel functions entered (surface)', figure(target, 'functions'), against ? figure(against, 'functions') : '', ratio?.functions);
  row('  of them outside interrupts and softirqs', figure(target, 'taskFunctions'), against ? figure(against, 'taskFunctions') : '', ratio?.taskFunctions);
  row('distinct host syscalls', String(Object.keys(target.syscalls).length), String(against ? Object.keys(against.syscalls).length : ''), ratio?.syscalls);
  row('host syscalls made', String(total(target)), String(against ? total(against) : ''));
  row('policy (allowed host syscalls)', target.policy ? String(target.policy.printed.length) : 'none of its own', against?.policy ? String(against.policy.printed.length) : against ? 'none of its own' : '');
  row('trace events / tasks', `${target.events} / ${target.tasks}`, against ? `${against.events} / ${against.tasks}` : '');
  lines.push(markdown(columns, rows));
  if (target.runs) lines.push('', `the median of ${target.runs.length} runs (the range in brackets); each run's figures are in --json`);
  for (const t of [target, against]) {
    if (!t) continue;
    lines.push('');
    lines.push(`${t.name}: host syscalls: ${Object.entries(t.syscalls).map(([name, count]) => `${name} ${count}`).join(', ') || 'none'}`);
    if (t.policy) {
      lines.push(`${t.name}: policy, label dev.nabla.syscalls: ${t.policy.label.join('; ')}`);
      lines.push(`${t.name}: policy, --print-policy on this host: ${t.policy.printed.join('; ')}`);
    }
    if (t.lost > 0) lines.push(`${t.name}: ${t.lost} trace events were lost: its figures are too low`);
  }
  return `${lines.join('\n')}\n`;
}

/** A count of the reported run, with the range over the runs when there were several. */
function figure(t: TargetResult, key: 'functions' | 'taskFunctions'): string {
  const mine = String(t[key].length);
  if (!t.runs) return mine;
  const all = t.runs.map((r) => r[key]);
  return `${mine} (${Math.min(...all)}–${Math.max(...all)})`;
}

function total(t: TargetResult): number {
  return Object.values(t.syscalls).reduce((a, b) => a + b, 0);
}

function httpNote(t: TargetResult): string {
  return t.http ? ` (${t.http.ok} answered, ${t.http.failed} failed, ${(t.http.ms / 1000).toFixed(1)} s)` : '';
}

function markdown(columns: string[], rows: string[][]): string {
  return [`| ${columns.join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
