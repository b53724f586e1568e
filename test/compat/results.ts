/**
 * What one run of a module (CPython) or package (Go) gave, read from its container's
 * output: each test's outcome, and whether the run ended by itself.
 */

export type Side = 'runc' | 'nabla';
export type Outcome = 'pass' | 'fail' | 'error' | 'skip';

export interface TestResult {
  outcome: Outcome;
  /** Failure text, traceback or skip reason. */
  detail: string;
}

/**
 * ok: ran to its end (failures are in the tests); timeout: killed at the time limit;
 * crash: ended early; load error: the module did not import (one error, the module's).
 */
export type RunStatus = 'ok' | 'timeout' | 'crash' | 'load error';

export interface SuiteRun {
  side: Side;
  name: string;
  status: RunStatus;
  /** For timeout or crash: what ended it (exit code, the test that was running). */
  statusDetail: string;
  tests: Map<string, TestResult>;
  seconds: number;
  /** The container run it was read from (its whole output), kept in the results folder. */
  container: ContainerRun;
}

/** A finished container: its exit code and output, and whether the harness killed it. */
export interface ContainerRun {
  exitCode: number;
  output: string;
  timedOut: boolean;
  seconds: number;
}

export interface Counts {
  pass: number;
  fail: number;
  error: number;
  skip: number;
}

export function count(tests: Iterable<TestResult>): Counts {
  const counts: Counts = { pass: 0, fail: 0, error: 0, skip: 0 };
  for (const test of tests) counts[test.outcome]++;
  return counts;
}

/** The last lines of a text, for a status line. */
export function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** How a container ended, in words: "exit 139 (SIGSEGV)". */
export function describeExit(exitCode: number): string {
  const signals: Record<number, string> = { 4: 'SIGILL', 6: 'SIGABRT', 7: 'SIGBUS', 9: 'SIGKILL', 11: 'SIGSEGV', 31: 'SIGSYS' };
  const signal = exitCode > 128 ? signals[exitCode - 128] : undefined;
  if (exitCode === 125) return 'exit 125 (the tender or docker refused to start it)';
  return signal ? `exit ${exitCode} (${signal})` : `exit ${exitCode}`;
}

/**
 * Tests that started and never ended (the one running when the run hung or crashed)
 * count as errors, so a run cut short shows in the counts, not only in its status.
 */
export function addUnfinished(tests: Map<string, TestResult>, started: Iterable<string>, why: string, output: string): string[] {
  const unfinished = [...started].filter((name) => !tests.has(name));
  const last = tail(output, 40);
  for (const name of unfinished) tests.set(name, { outcome: 'error', detail: `did not finish: ${why}\n${last}` });
  return unfinished;
}

/** Ends a status line for a run cut short: which test was running. */
export function runningWhen(unfinished: string[]): string {
  if (unfinished.length === 0) return '';
  const shown = unfinished.slice(-3).join(', ');
  return `; running: ${shown}${unfinished.length > 3 ? ` (+${unfinished.length - 3} more)` : ''}`;
}
