/** The markdown the bench prints and writes: one table per app, metrics down, runtimes across. */
import type { RuntimeName } from './options.js';
import { cellOf, metricsFor, type BenchResult, type Cell, type Metric } from './results.js';
import { ratio } from './stats.js';

const RUNTIME_TITLE: Record<RuntimeName, string> = { runc: 'runc', runsc: 'runsc (gVisor)', nabla: 'nabla' };

export function formatNumber(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? '' : value.toFixed(digits);
}

export function formatRatio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '' : `${value.toFixed(2)}×`;
}

export function markdownTable(header: string[], rows: string[][]): string {
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [header, align, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** What a cell shows for a metric: the figure, or why there is none. */
function shown(result: BenchResult, cell: Cell | undefined, runtime: RuntimeName, metric: Metric): string {
  if (result.missing[runtime]) return 'not set up';
  if (!cell) return '';
  if (cell.failed) return 'failed';
  const value = metric.value(cell);
  if (value !== undefined) return formatNumber(value, metric.digits);
  if ((metric.key === 'syscalls' || metric.key === 'surface') && cell.surfaceFailed) return 'no figure';
  return '';
}

export function renderReport(result: BenchResult): string {
  const { runtimes } = result;
  const compared = runtimes.includes('runc') ? runtimes.filter((r) => r !== 'runc') : [];
  const m = result.machine;
  const s = result.settings;
  const out: string[] = [
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Docker ${m.docker}${m.runsc ? `, runsc ${m.runsc}` : ''}; run of ${result.started}.`,
    `Servers: wrk -t${s.threads} -c${s.connections} -d${s.seconds}s from the host's network to the container's address on a Docker network of its own; ` +
      `${s.rounds} round${s.rounds === 1 ? '' : 's'} of start + load per app and runtime, interleaved; each figure the median of its rounds. ` +
      `Host syscalls and surface: \`nabla-build measure\`${s.measureRequests > 0 ? `, ${s.measureRequests} GETs one connection each (a server) or the whole run (cpu)${(s.measureRuns ?? 1) > 1 ? `, the median of ${s.measureRuns} runs` : ''}` : ' (skipped)'}, ` +
      'trace-event stacks: a lower bound. Ratios are to runc in the same run.',
  ];
  for (const app of result.apps) {
    const header = ['', ...runtimes.map((r) => RUNTIME_TITLE[r]), ...compared.map((r) => `${r} / runc`)];
    const rows = metricsFor(app.kind).map((metric) => {
      const cells = runtimes.map((r) => shown(result, cellOf(result, app.name, r), r, metric));
      const runc = cellOf(result, app.name, 'runc');
      const ratios = compared.map((r) => {
        const cell = cellOf(result, app.name, r);
        return cell && runc && !cell.failed && !runc.failed ? formatRatio(ratio(metric.value(cell), metric.value(runc))) : '';
      });
      return [metric.label, ...cells, ...ratios];
    });
    out.push('', `### ${app.name}: ${app.title}`, '', markdownTable(header, rows));
    const notes = notesFor(result, app.name);
    if (notes.length > 0) out.push('', ...notes.map((note) => `- ${note}`));
  }
  const missing = Object.entries(result.missing).map(([runtime, fix]) => `- ${runtime} is not set up here: ${fix}`);
  if (missing.length > 0) out.push('', ...missing);
  return `${out.join('\n')}\n`;
}

function notesFor(result: BenchResult, app: string): string[] {
  const notes: string[] = [];
  for (const cell of result.cells.filter((c) => c.app === app)) {
    if (cell.failed) notes.push(`${cell.runtime}: failed: ${cell.failed}`);
    const errors = cell.rounds.reduce((sum, round) => sum + (round.errors ?? 0), 0);
    const requests = cell.rounds.reduce((sum, round) => sum + (round.requests ?? 0), 0);
    if (errors > 0) notes.push(`${cell.runtime}: wrk counted ${errors} errors (sockets reset or timed out, non-2xx answers) beside ${requests} requests answered`);
    else if (cell.surfaceFailed) notes.push(`${cell.runtime}: no host syscalls or surface figure: ${cell.surfaceFailed}`);
    const s = cell.surface;
    if (s && s.requests !== undefined && s.answered !== s.requests) notes.push(`${cell.runtime}: measure's load: ${s.answered} of ${s.requests} GETs answered`);
    if (s && s.lost > 0) notes.push(`${cell.runtime}: measure lost ${s.lost} trace events: its figures are too low`);
  }
  return notes;
}
