/**
 * Puts the runc and nabla runs of each module side by side: counts, the tests that pass
 * under runc and not in the unikernel (the gap), and which of those need a process.
 */
import { needsProcess, type Language } from './processes.js';
import { count, type Counts, type SuiteRun, type TestResult } from './results.js';

export interface GapTest {
  test: string;
  nabla: TestResult;
  /** Set when the failure comes from starting a process (processes.ts). */
  process?: string;
}

export interface Comparison {
  language: Language;
  name: string;
  runc: SuiteRun;
  nabla: SuiteRun;
  runcCounts: Counts;
  nablaCounts: Counts;
  /** Tests that pass under runc and in the unikernel. */
  bothPass: number;
  /** Tests that pass under runc and not in the unikernel. */
  gap: GapTest[];
}

export function compare(language: Language, runc: SuiteRun, nabla: SuiteRun): Comparison {
  const gap: GapTest[] = [];
  let bothPass = 0;
  for (const [test, result] of runc.tests) {
    if (result.outcome !== 'pass') continue;
    const there = nabla.tests.get(test) ?? { outcome: 'error', detail: 'never ran in the unikernel (the run ended before it)' };
    if (there.outcome === 'pass') bothPass++;
    else gap.push({ test, nabla: there, process: needsProcess(language, there.detail) });
  }
  return {
    language,
    name: runc.name,
    runc,
    nabla,
    runcCounts: count(runc.tests.values()),
    nablaCounts: count(nabla.tests.values()),
    bothPass,
    gap,
  };
}

const needingProcess = (c: Comparison) => c.gap.filter((g) => g.process).length;

function ratio(part: number, whole: number): string {
  return whole === 0 ? '—' : `${((100 * part) / whole).toFixed(1)}%`;
}

const cells = (c: Counts) => `${c.pass} / ${c.fail} / ${c.error} / ${c.skip}`;

function status(run: SuiteRun): string {
  return run.status === 'ok' ? '' : `${run.status} (${run.statusDetail.replace(/\|/g, '\\|')})`;
}

/**
 * The markdown table: per module, passed / failed / errors / skipped for both sides, the
 * tests that need a process, and the share of runc's passing tests that pass in the
 * unikernel (with and without those that need a process); then the totals.
 */
export function markdownTable(title: string, comparisons: Comparison[]): string {
  const header = [
    `| ${title} | runc pass / fail / error / skip | nabla pass / fail / error / skip | needs processes | pass in nabla of runc's passes | excluding processes | notes |`,
    '|---|---|---|---|---|---|---|',
  ];
  const rows = comparisons.map((c) => {
    const processes = needingProcess(c);
    const notes = [status(c.runc) && `runc: ${status(c.runc)}`, status(c.nabla) && `nabla: ${status(c.nabla)}`].filter(Boolean).join('; ');
    const runcPass = c.runcCounts.pass;
    return `| ${c.name} | ${cells(c.runcCounts)} | ${cells(c.nablaCounts)} | ${processes} | ${ratio(c.bothPass, runcPass)} | ${ratio(c.bothPass, runcPass - processes)} | ${notes} |`;
  });
  const sum = (pick: (c: Comparison) => Counts): Counts =>
    comparisons.reduce((t, c) => ({ pass: t.pass + pick(c).pass, fail: t.fail + pick(c).fail, error: t.error + pick(c).error, skip: t.skip + pick(c).skip }), { pass: 0, fail: 0, error: 0, skip: 0 });
  const both = comparisons.reduce((t, c) => t + c.bothPass, 0);
  const processes = comparisons.reduce((t, c) => t + needingProcess(c), 0);
  const runcTotal = sum((c) => c.runcCounts);
  const cut = comparisons.filter((c) => c.nabla.status !== 'ok').length;
  const total = `| **total** (${comparisons.length}) | ${cells(runcTotal)} | ${cells(sum((c) => c.nablaCounts))} | ${processes} | ${ratio(both, runcTotal.pass)} | ${ratio(both, runcTotal.pass - processes)} | ${cut} cut short in nabla |`;
  return [...header, ...rows, total].join('\n');
}

/** What needs a process, per module: how many tests and why. */
export function processList(comparisons: Comparison[]): string {
  const lines: string[] = [];
  for (const c of comparisons) {
    const reasons = new Map<string, number>();
    for (const g of c.gap) if (g.process) reasons.set(g.process, (reasons.get(g.process) ?? 0) + 1);
    if (reasons.size === 0) continue;
    const why = [...reasons].map(([reason, n]) => `${reason} ${n}`).join(', ');
    lines.push(`- ${c.name}: ${[...reasons.values()].reduce((a, b) => a + b, 0)} (${why})`);
  }
  return lines.length > 0 ? lines.join('\n') : '- none';
}

/** The gap of one module, for its results file: each test, its outcome in nabla, why. */
export function gapReport(c: Comparison): string {
  const lines = [`# ${c.name}: passes under runc, not in nabla (${c.gap.length})`, ''];
  if (c.runc.status !== 'ok') lines.push(`runc: ${c.runc.status}: ${c.runc.statusDetail}`);
  if (c.nabla.status !== 'ok') lines.push(`nabla: ${c.nabla.status}: ${c.nabla.statusDetail}`);
  for (const g of c.gap) {
    lines.push('', `## ${g.test}: ${g.nabla.outcome}${g.process ? ` (needs a process: ${g.process})` : ''}`, '', '```', g.nabla.detail.trimEnd(), '```');
  }
  return lines.join('\n') + '\n';
}
