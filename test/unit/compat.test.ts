/**
 * The compat harness's reading of test output (test/compat): Go's -test.v lines, runner.py's
 * @@compat lines, runs cut short, and which failures count as needing a process.
 */
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../test/compat/main.js';
import { parseGo, parsePython } from '../../test/compat/parse.js';
import { needsProcess } from '../../test/compat/processes.js';
import { compare, markdownTable } from '../../test/compat/report.js';
import type { ContainerRun } from '../../test/compat/results.js';

const run = (output: string, exitCode = 0, timedOut = false): ContainerRun => ({ exitCode, output, timedOut, seconds: 3 });

const goOutput = [
  '=== RUN   TestA',
  '--- PASS: TestA (0.00s)',
  '=== RUN   TestB',
  '=== RUN   TestB/sub',
  '    b_test.go:10: wrong answer',
  '    --- FAIL: TestB/sub (0.00s)',
  '--- FAIL: TestB (0.00s)',
  '=== RUN   TestC',
  '    c_test.go:3: skipping test: cannot exec subprocess on linux/amd64: readlink /proc/self/exe: no such file',
  '--- SKIP: TestC (0.00s)',
  '=== RUN   TestP',
  '=== PAUSE TestP',
  '=== RUN   TestQ',
  '--- PASS: TestQ (0.00s)',
  '=== CONT  TestP',
  '    p_test.go:9: fork/exec /bin/true: function not implemented',
  '--- FAIL: TestP (0.00s)',
  '=== RUN   ExampleX',
  '--- PASS: ExampleX (0.00s)',
  'FAIL',
].join('\n');

describe('compat: Go output', () => {
  it('counts top-level tests and examples, keeps subtest lines in the parent, attributes output after PAUSE/CONT', () => {
    const r = parseGo('nabla', 'pkg', run(goOutput, 1));
    expect(r.status).toBe('ok');
    expect([...r.tests].map(([name, t]) => `${name}:${t.outcome}`)).toEqual(['TestA:pass', 'TestB:fail', 'TestC:skip', 'TestQ:pass', 'TestP:fail', 'ExampleX:pass']);
    expect(r.tests.get('TestB')?.detail).toContain('wrong answer');
    expect(r.tests.get('TestP')?.detail).toContain('fork/exec /bin/true');
  });

  it('a panic is a crash, and the test that was running is an error with the panic in its detail', () => {
    const r = parseGo('nabla', 'pkg', run('=== RUN   TestA\n--- PASS: TestA (0.00s)\n=== RUN   TestB\npanic: runtime error: invalid memory address\ngoroutine 1 [running]:', 2));
    expect(r.status).toBe('crash');
    expect(r.statusDetail).toBe('exit 2; running: TestB');
    expect(r.tests.get('TestB')).toMatchObject({ outcome: 'error' });
    expect(r.tests.get('TestB')?.detail).toContain('panic: runtime error');
  });

  it("Go's own -test.timeout, or the harness's kill, is a timeout naming the running test", () => {
    const own = parseGo('nabla', 'pkg', run('=== RUN   TestSlow\npanic: test timed out after 2m0s\n\trunning tests:\n\t\tTestSlow (2m0s)', 2));
    expect(own.status).toBe('timeout');
    expect(own.statusDetail).toContain('running: TestSlow');
    const killed = parseGo('runc', 'pkg', run('=== RUN   TestHang\n', 137, true));
    expect(killed.status).toBe('timeout');
    expect(killed.tests.get('TestHang')?.outcome).toBe('error');
  });

  it('a binary that dies before any test (the tender refusing to start) is one error', () => {
    const r = parseGo('nabla', 'net', run('nabla-run: something went wrong', 125));
    expect(r.status).toBe('crash');
    expect(r.statusDetail).toContain('exit 125');
    expect(r.tests.get('net')?.detail).toContain('something went wrong');
  });
});

const py = (fields: object) => `@@compat ${JSON.stringify(fields)}`;

describe('compat: CPython output', () => {
  it('reads start/end lines (also after text a test left on the line), maps xfail and upass', () => {
    const output = [
      py({ event: 'module', module: 'test_x' }),
      py({ event: 'start', test: 't.a' }),
      `some output${py({ event: 'end', test: 't.a', outcome: 'pass', detail: '' })}`,
      py({ event: 'end', test: 't.b', outcome: 'xfail', detail: '' }),
      py({ event: 'end', test: 't.c', outcome: 'upass', detail: '' }),
      py({ event: 'end', test: 't.d', outcome: 'skip', detail: 'requires working os.fork()' }),
      py({ event: 'done', module: 'test_x', seconds: 1 }),
    ].join('\n');
    const r = parsePython('runc', 'test_x', run(output));
    expect(r.status).toBe('ok');
    expect([...r.tests].map(([name, t]) => `${name}:${t.outcome}`)).toEqual(['t.a:pass', 't.b:pass', 't.c:fail', 't.d:skip']);
  });

  it('a module that does not import: "load error", with the exception', () => {
    const detail = 'cannot load the module:\nTraceback (most recent call last):\n  ...\nOSError: [Errno 97] Address family not supported by protocol\n';
    const r = parsePython('nabla', 'test_stat', run(py({ event: 'end', test: 'test.test_stat', outcome: 'error', detail })));
    expect(r.status).toBe('load error');
    expect(r.statusDetail).toBe('OSError: [Errno 97] Address family not supported by protocol');
    expect(r.tests.get('test.test_stat')?.outcome).toBe('error');
  });

  it('no "done" line: a crash, with the test that was running', () => {
    const output = [py({ event: 'start', test: 't.a' }), py({ event: 'end', test: 't.a', outcome: 'pass' }), py({ event: 'start', test: 't.b' }), 'Fatal Python error: Segmentation fault'].join('\n');
    const r = parsePython('nabla', 'test_x', run(output, 139));
    expect(r.status).toBe('crash');
    expect(r.statusDetail).toBe('exit 139 (SIGSEGV); running: t.b');
    expect(r.tests.get('t.b')?.detail).toContain('Segmentation fault');
  });
});

describe('compat: needs a process', () => {
  const subprocessTrace = [
    'Traceback (most recent call last):',
    '  File "/usr/lib/python3.11/subprocess.py", line 1834, in _execute_child',
    '    self.pid = _fork_exec(',
    'OSError: [Errno 38] Function not implemented',
  ].join('\n');

  it('names the process call when the text shows it refused', () => {
    expect(needsProcess('python', subprocessTrace)).toBe('subprocess');
    expect(needsProcess('python', `  File "/app/test/support/script_helper.py", line 134\n${subprocessTrace}`)).toBe('a child python (test.support.script_helper)');
    expect(needsProcess('python', '    pid = os.fork()\nOSError: [Errno 38] Function not implemented')).toBe('fork');
    expect(needsProcess('python', "    pid = self.spawn_func(args[0], args, os.environ,\nOSError: [Errno 38] Function not implemented: '/nabla/python.nabla'")).toBe('posix_spawn / os.spawn*');
    expect(needsProcess('python', 'requires working os.fork()')).toBe('fork (skipped: requires fork)');
    expect(needsProcess('python', 'requires a shell')).toBe('a shell (skipped: no /bin/sh)');
    expect(needsProcess('go', 'fork/exec /bin/sh: function not implemented')).toBe('exec (os/exec, os.StartProcess)');
    expect(needsProcess('go', 'skipping test: cannot exec subprocess on linux/amd64: ...')).toBe('exec (skipped: testenv cannot exec)');
    expect(needsProcess('go', '    os_test.go:1919: skipping test; test requires hostname but it does not exist')).toBe("exec (the program is not in the unikernel's rootfs)");
    expect(needsProcess('go', '    signal_test.go:315: cannot find nohup; skipping second half of test')).toBe("exec (the program is not in the unikernel's rootfs)");
  });

  it('does not count other failures, even ENOSYS from other calls or a subprocess mention alone', () => {
    expect(needsProcess('python', 'OSError: [Errno 38] Function not implemented')).toBeUndefined();
    expect(needsProcess('python', '  File "/usr/lib/python3.11/subprocess.py", line 1834, in _execute_child\nAssertionError: 1 != 2')).toBeUndefined();
    expect(needsProcess('python', 'ConnectionRefusedError: [Errno 111] Connection refused')).toBeUndefined();
    expect(needsProcess('go', 'readlink /proc/self/exe: no such file or directory')).toBeUndefined();
    expect(needsProcess('go', 'os_test.go:1908: Hostname() = "", want "nabla"')).toBeUndefined();
  });
});

describe('compat: the report', () => {
  it("counts the runc-passing tests that pass in nabla, with and without those that need a process", () => {
    const runc = parseGo('runc', 'os/exec', run(goOutput.replace(/^--- FAIL: TestB /m, '--- PASS: TestB ').replace(/--- FAIL: TestP/, '--- PASS: TestP').replace(/\nFAIL$/, '\nPASS')));
    const nabla = parseGo('nabla', 'os/exec', run(goOutput, 1));
    const c = compare('go', runc, nabla);
    expect(c.bothPass).toBe(3); // TestA, TestQ, ExampleX; TestB failed; TestP needs exec
    expect(c.gap.map((g) => `${g.test}:${g.process ?? ''}`)).toEqual(['TestB:', 'TestP:exec (os/exec, os.StartProcess)']);
    const table = markdownTable('package', [c]);
    expect(table).toContain('| os/exec | 5 / 0 / 0 / 1 | 3 / 2 / 0 / 1 | 1 | 60.0% | 75.0% |  |');
    expect(table).toContain('| **total** (1) |');
  });
});

describe('compat: options', () => {
  it('--only picks the suite by the name; bad values are refused with the flag named', () => {
    const options = parseOptions(['--only', 'test_os', '--only', 'net/http', '--timeout', '60']);
    expect(options).toMatchObject({ languages: ['python', 'go'], python: ['test_os'], go: ['net/http'], timeout: 60 });
    expect(() => parseOptions(['--suite', 'ruby'])).toThrow('--suite ruby: use python, go or all');
    expect(() => parseOptions(['--timeout', 'soon'])).toThrow('--timeout soon: not a positive number');
    expect(() => parseOptions(['--only', 'rm -rf'])).toThrow('--only rm -rf: not a CPython test module');
    expect(() => parseOptions(['--suite', 'go', '--only', 'test_os'])).toThrow('nothing to run');
    expect(() => parseOptions(['--frobnicate'])).toThrow();
    expect(parseOptions(['--help'])).toBe('help');
  });
});
