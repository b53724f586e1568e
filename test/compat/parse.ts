/**
 * Reads test outcomes from a container's output: CPython's from the `@@compat` lines that
 * runner.py writes, Go's from a test binary's `-test.v` lines.
 */
import { addUnfinished, describeExit, runningWhen, tail, type ContainerRun, type Outcome, type Side, type SuiteRun, type TestResult } from './results.js';

const MARK = '@@compat ';
/** How runner.py starts the detail of a module that did not import. */
const LOAD_ERROR = 'cannot load the module:\n';

interface PythonEvent {
  event: 'module' | 'start' | 'end' | 'done';
  test?: string;
  outcome?: string;
  detail?: string;
}

/** runner.py's outcomes; an expected failure is a success, an unexpected success a failure. */
const PYTHON_OUTCOMES: Record<string, Outcome> = { pass: 'pass', xfail: 'pass', fail: 'fail', upass: 'fail', error: 'error', skip: 'skip' };

export function parsePython(side: Side, name: string, run: ContainerRun): SuiteRun {
  const tests = new Map<string, TestResult>();
  const started = new Set<string>();
  let done = false;
  for (const line of run.output.split('\n')) {
    const at = line.indexOf(MARK);
    if (at < 0) continue;
    let event: PythonEvent;
    try {
      event = JSON.parse(line.slice(at + MARK.length)) as PythonEvent;
    } catch {
      continue; // a test wrote into the middle of the line; the line after it is whole
    }
    if (event.event === 'start' && event.test) started.add(event.test);
    if (event.event === 'end' && event.test) {
      tests.set(event.test, { outcome: PYTHON_OUTCOMES[event.outcome ?? ''] ?? 'error', detail: event.detail ?? '' });
    }
    if (event.event === 'done') done = true;
  }
  const loadError = [...tests.values()].find((t) => t.detail.startsWith(LOAD_ERROR));
  if (loadError && tests.size === 1 && run.exitCode === 0 && !run.timedOut) {
    return { side, name, tests, seconds: run.seconds, container: run, status: 'load error', statusDetail: tail(loadError.detail, 1) };
  }
  return finish(side, name, run, tests, started, done && run.exitCode === 0);
}

/**
 * Go's verbose output: `=== RUN|CONT|NAME|PAUSE Test` says whose output follows,
 * `--- PASS|FAIL|SKIP: Test (0.01s)` at the start of a line ends a top-level test (or
 * example); indented ones are subtests, kept in their parent's detail. Tests count at the
 * top level, as `go test` reports them.
 */
export function parseGo(side: Side, name: string, run: ContainerRun): SuiteRun {
  const tests = new Map<string, TestResult>();
  const started = new Set<string>();
  const output = new Map<string, string[]>();
  let current = '';
  let done = false;
  const outcomes: Record<string, Outcome> = { PASS: 'pass', FAIL: 'fail', SKIP: 'skip' };
  for (const line of run.output.split('\n')) {
    const header = /^=== (RUN|CONT|NAME|PAUSE)\s+(\S+)/.exec(line);
    if (header) {
      current = header[2]!.split('/')[0]!;
      if (header[1] === 'RUN') started.add(current);
      continue;
    }
    const end = /^--- (PASS|FAIL|SKIP): (\S+)/.exec(line);
    if (end) {
      const test = end[2]!;
      tests.set(test, { outcome: outcomes[end[1]!]!, detail: (output.get(test) ?? []).join('\n') });
      continue;
    }
    if (/^(PASS|FAIL)$/.test(line)) done = true;
    if (current && !done) {
      const lines = output.get(current) ?? [];
      if (lines.length < 200) lines.push(line);
      output.set(current, lines);
      // A failed test's lines printed after its `--- FAIL` line (non-chatty output) join it.
      const result = tests.get(current);
      if (result && result.outcome !== 'pass') result.detail = lines.join('\n');
    }
  }
  // Go's own -test.timeout ends the binary with a panic naming the running tests.
  const goTimeout = /panic: test timed out after/.test(run.output);
  return finish(side, name, { ...run, timedOut: run.timedOut || goTimeout }, tests, started, done && (run.exitCode === 0 || run.exitCode === 1));
}

function finish(side: Side, name: string, run: ContainerRun, tests: Map<string, TestResult>, started: Set<string>, ended: boolean): SuiteRun {
  const base = { side, name, tests, seconds: run.seconds, container: run };
  if (run.timedOut) {
    const unfinished = addUnfinished(tests, started, `timed out after ${Math.round(run.seconds)} s`, run.output);
    return { ...base, status: 'timeout', statusDetail: `timed out after ${Math.round(run.seconds)} s${runningWhen(unfinished)}` };
  }
  if (!ended) {
    const why = describeExit(run.exitCode);
    const unfinished = addUnfinished(tests, started, `the run ended early: ${why}`, run.output);
    if (unfinished.length === 0 && tests.size === 0) tests.set(name, { outcome: 'error', detail: `no test ran: ${why}\n${tail(run.output, 30)}` });
    return { ...base, status: 'crash', statusDetail: `${why}${runningWhen(unfinished)}` };
  }
  return { ...base, status: 'ok', statusDetail: '' };
}
