/**
 * `npm run compat`: the languages' own test suites in nabla images and under runc, side by
 * side (test/compat/README.md). Progress goes to stderr; the markdown report to stdout
 * and, with each module's logs and gap, to the results folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { killRunning, repoRoot } from './docker.js';
import { goToolchain, prepareGoPackage, runGo, type GoPackage, type GoToolchain } from './go.js';
import { preparePython, runPython, type PythonImages } from './python.js';
import type { Language } from './processes.js';
import { compare, gapReport, markdownTable, processList, type Comparison } from './report.js';
import { parseGo, parsePython } from './parse.js';
import { count, type ContainerRun, type SuiteRun } from './results.js';

const usage = `usage: npm run compat -- [options]

Runs CPython's regression tests (Debian's libpython3.11-testsuite) and Go's standard
library tests (go test -c) in nabla images and under runc (a plain docker run), one
module or package per container, and prints per module: passed / failed / errors /
skipped on both sides, the tests that need a process, and how many of runc's passing
tests pass in the unikernel.

  --suite python|go|all   which suites (default: all)
  --only NAME             just this module or package (repeatable): test_os, test_asyncio.test_tasks, net/http
  --quick                 the short subset that npm test runs
  --timeout SECONDS       per module and side; past it the run is killed and reported as "timeout" (default 180)
  --budget MINUTES        per suite: stop starting its modules after this long; the rest are
                          listed as not run (default 20; lists are in order of importance)
  --results DIR           where the report, logs and per-test gaps go (default .nabla/compat/results)
  --rebuild               build the images again even if they exist
  --from-logs             run nothing: read the logs a run left in the results folder and
                          report again (after a change to the harness's reading of them)
  -h, --help              this text

Lists: test/compat/suites.json. Results: DIR/summary.md, DIR/results.json, and per module
DIR/<suite>/<name>.{runc,nabla}.log and <name>.gap.md (each test that passes under runc
and not in nabla, with its failure text).`;

interface Suites {
  python: { modules: string[]; quick: string[]; knownGood: string[] };
  go: { packages: string[]; quick: string[]; knownGood: string[] };
}

export const suites = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test', 'compat', 'suites.json'), 'utf8')) as Suites;

export interface Options {
  languages: Language[];
  python: string[];
  go: string[];
  timeout: number;
  budgetMinutes: number;
  results: string;
  rebuild: boolean;
  fromLogs: boolean;
}

class UsageError extends Error {}

export function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      suite: { type: 'string', default: 'all' },
      only: { type: 'string', multiple: true },
      quick: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '180' },
      budget: { type: 'string', default: '20' },
      results: { type: 'string', default: path.join(repoRoot, '.nabla', 'compat', 'results') },
      rebuild: { type: 'boolean', default: false },
      'from-logs': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const suite = values.suite;
  if (suite !== 'python' && suite !== 'go' && suite !== 'all') throw new UsageError(`--suite ${suite}: use python, go or all`);
  const number = (flag: string, text: string) => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} ${text}: not a positive number`);
    return n;
  };
  let python = values.quick ? suites.python.quick : suites.python.modules;
  let go = values.quick ? suites.go.quick : suites.go.packages;
  if (values.only) {
    for (const name of values.only) {
      if (!/^test_[A-Za-z0-9_.]+$/.test(name) && !/^[a-z0-9][a-z0-9_/.]*$/.test(name)) {
        throw new UsageError(`--only ${name}: not a CPython test module (test_os) or a Go package (net/http)`);
      }
    }
    python = values.only.filter((n) => n.startsWith('test_'));
    go = values.only.filter((n) => !n.startsWith('test_'));
  }
  const languages: Language[] = [];
  if ((suite === 'all' || suite === 'python') && python.length > 0) languages.push('python');
  if ((suite === 'all' || suite === 'go') && go.length > 0) languages.push('go');
  if (languages.length === 0) throw new UsageError('nothing to run: --only names no module of the chosen --suite');
  return {
    languages,
    python,
    go,
    timeout: number('timeout', values.timeout),
    budgetMinutes: number('budget', values.budget),
    results: path.resolve(values.results),
    rebuild: values.rebuild,
    fromLogs: values['from-logs'],
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

const brief = (run: SuiteRun) => {
  const c = count(run.tests.values());
  return `${c.pass}/${c.fail}/${c.error}/${c.skip} ${run.seconds.toFixed(0)}s${run.status === 'ok' ? '' : ` ${run.status.toUpperCase()}`}`;
};

/** Writes a module's logs and gap, and prints its progress line. */
function record(results: string, language: Language, index: string, c: Comparison): void {
  const dir = path.join(results, language);
  const base = path.join(dir, c.name.replace(/\//g, '_'));
  fs.mkdirSync(dir, { recursive: true });
  for (const run of [c.runc, c.nabla]) {
    const { output, ...how } = run.container;
    fs.writeFileSync(`${base}.${run.side}.log`, output);
    fs.writeFileSync(`${base}.${run.side}.json`, JSON.stringify(how) + '\n');
  }
  fs.writeFileSync(`${base}.gap.md`, gapReport(c));
  const processes = c.gap.filter((g) => g.process).length;
  log(`${index} ${c.name}: runc ${brief(c.runc)} | nabla ${brief(c.nabla)} | both pass ${c.bothPass}/${c.runcCounts.pass}, needs processes ${processes}`);
}

export interface RunResult {
  comparisons: Record<Language, Comparison[]>;
  /** Modules not run, and why: over the budget, a test image that did not build, no logs. */
  notRun: Record<Language, string[]>;
  pythonLeftOut: string[];
}

/** Runs the chosen suites; a module's progress line is logged as soon as both sides ran. */
export async function runSuites(options: Options): Promise<RunResult> {
  const work = path.join(path.dirname(options.results), 'work');
  fs.mkdirSync(work, { recursive: true });
  fs.mkdirSync(options.results, { recursive: true });
  const out: RunResult = { comparisons: { python: [], go: [] }, notRun: { python: [], go: [] }, pythonLeftOut: [] };

  if (options.languages.includes('python')) {
    const images: PythonImages = await preparePython(work, log, options.rebuild);
    out.pythonLeftOut = images.leftOut;
    const deadline = Date.now() + options.budgetMinutes * 60_000;
    for (const [i, module] of options.python.entries()) {
      if (Date.now() > deadline) {
        out.notRun.python.push(`${module} (over the budget)`);
        continue;
      }
      const runc = await runPython(images, 'runc', module, options.timeout);
      const nabla = await runPython(images, 'nabla', module, options.timeout);
      const c = compare('python', runc, nabla);
      out.comparisons.python.push(c);
      record(options.results, 'python', `[python ${i + 1}/${options.python.length}]`, c);
    }
  }
  if (options.languages.includes('go')) {
    const toolchain: GoToolchain = await goToolchain();
    log(`go: toolchain ${toolchain.image}, GOROOT ${toolchain.goroot}`);
    const deadline = Date.now() + options.budgetMinutes * 60_000;
    for (const [i, name] of options.go.entries()) {
      if (Date.now() > deadline) {
        out.notRun.go.push(`${name} (over the budget)`);
        continue;
      }
      let pkg: GoPackage;
      try {
        pkg = await prepareGoPackage(work, toolchain, name, options.rebuild);
      } catch (error) {
        log(`[go ${i + 1}/${options.go.length}] ${name}: the test image did not build: ${(error as Error).message}`);
        out.notRun.go.push(`${name} (the test image did not build)`);
        continue;
      }
      const runc = await runGo(pkg, 'runc', options.timeout);
      const nabla = await runGo(pkg, 'nabla', options.timeout);
      const c = compare('go', runc, nabla);
      out.comparisons.go.push(c);
      record(options.results, 'go', `[go ${i + 1}/${options.go.length}]`, c);
    }
  }
  return out;
}

/** The comparisons again from the logs and exit records a run left (--from-logs). */
function readLogs(options: Options): RunResult {
  const leftOut = path.join(path.dirname(options.results), 'work', 'python-app.left-out');
  const pythonLeftOut = fs.existsSync(leftOut) ? fs.readFileSync(leftOut, 'utf8').split('\n').filter(Boolean) : [];
  const out: RunResult = { comparisons: { python: [], go: [] }, notRun: { python: [], go: [] }, pythonLeftOut };
  for (const language of options.languages) {
    for (const name of language === 'python' ? options.python : options.go) {
      const base = path.join(options.results, language, name.replace(/\//g, '_'));
      if (!fs.existsSync(`${base}.nabla.json`) || !fs.existsSync(`${base}.runc.json`)) {
        out.notRun[language].push(`${name} (no logs in the results folder)`);
        continue;
      }
      const [runc, nabla] = (['runc', 'nabla'] as const).map((side) => {
        const container = { ...JSON.parse(fs.readFileSync(`${base}.${side}.json`, 'utf8')), output: fs.readFileSync(`${base}.${side}.log`, 'utf8') } as ContainerRun;
        return (language === 'python' ? parsePython : parseGo)(side, name, container);
      });
      out.comparisons[language].push(compare(language, runc!, nabla!));
    }
  }
  return out;
}

async function commit(): Promise<string> {
  const head = await execa('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD'], { reject: false });
  const dirty = await execa('git', ['-C', repoRoot, 'status', '--porcelain', '--untracked-files=no'], { reject: false });
  return `${head.stdout.trim() || 'unknown'}${dirty.stdout.trim() ? ' (with uncommitted changes)' : ''}`;
}

export async function summary(result: RunResult, options: Options): Promise<string> {
  const parts = [`# Compat run, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${await commit()}`, ''];
  parts.push(`Per module and side: tests passed / failed / errors / skipped; timeout ${options.timeout} s per module and side, at most ${options.budgetMinutes} min per suite; both sides with \`--network none\`.`);
  for (const language of options.languages) {
    const comparisons = result.comparisons[language];
    parts.push('', `## ${language === 'python' ? 'CPython 3.11 (test modules)' : 'Go 1.23 (packages, -test.short)'}`, '');
    parts.push(markdownTable(language === 'python' ? 'module' : 'package', comparisons));
    if (result.notRun[language].length > 0) parts.push('', `Not run: ${result.notRun[language].join(', ')}`);
    parts.push('', 'Tests that need a process (pass under runc; in nabla the call is refused):', '', processList(comparisons));
  }
  if (result.pythonLeftOut.length > 0) parts.push('', `Left out of the CPython suite (they do not compile, on purpose): ${result.pythonLeftOut.map((f) => path.basename(f)).join(', ')}`);
  return parts.join('\n') + '\n';
}

function toJson(result: RunResult): unknown {
  const one = (c: Comparison) => ({
    name: c.name,
    runc: { status: c.runc.status, statusDetail: c.runc.statusDetail, seconds: c.runc.seconds, ...c.runcCounts },
    nabla: { status: c.nabla.status, statusDetail: c.nabla.statusDetail, seconds: c.nabla.seconds, ...c.nablaCounts },
    bothPass: c.bothPass,
    gap: c.gap.map((g) => ({ test: g.test, outcome: g.nabla.outcome, process: g.process ?? null })),
  });
  return { python: result.comparisons.python.map(one), go: result.comparisons.go.map(one), notRun: result.notRun };
}

export async function main(argv: string[]): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseOptions(argv);
  } catch (error) {
    log(`compat: ${(error as Error).message}\n(see npm run compat -- --help)`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  process.once('SIGINT', () => {
    log('compat: interrupted; stopping its containers');
    void killRunning().then(() => process.exit(130));
  });
  const started = Date.now();
  try {
    if (options.fromLogs && !fs.existsSync(options.results)) throw new Error(`--from-logs: no results folder ${options.results}`);
    const result = options.fromLogs ? readLogs(options) : await runSuites(options);
    const text = await summary(result, options);
    fs.writeFileSync(path.join(options.results, 'summary.md'), text);
    fs.writeFileSync(path.join(options.results, 'results.json'), JSON.stringify(toJson(result), null, 2) + '\n');
    process.stdout.write(text);
  } catch (error) {
    // The harness itself failed (no engine, an image that did not build): say so in one go.
    log(`compat: ${(error as Error).message}`);
    await killRunning();
    return 1;
  }
  log(`compat: done in ${((Date.now() - started) / 60_000).toFixed(1)} min; results in ${options.results}`);
  return 0;
}
