/**
 * Which failures come from starting a process. The unikernel is one process and refuses
 * fork, exec, spawn (ENOSYS) by design, so a test that needs one cannot pass there; the
 * report counts such tests apart, with the reason. Conservative: a failure counts only
 * when its text shows both the process call and the refusal (or a skip says the test
 * needs a process); anything else stays a gap to fix.
 */

interface Rule {
  /** The reason shown in the report. */
  reason: string;
  /** Every pattern must match the failure text. */
  all: RegExp[];
}

/** The refusals: ENOSYS or EPERM, as CPython and Go print them. */
const REFUSED = /Errno 38\]|Function not implemented|function not implemented|Errno 1\]|Operation not permitted|operation not permitted/;

const PYTHON_RULES: Rule[] = [
  { reason: 'a child python (test.support.script_helper)', all: [/support\/script_helper\.py/, /subprocess\.py", line \d+, in _execute_child/, REFUSED] },
  { reason: 'subprocess', all: [/subprocess\.py", line \d+, in _execute_child/, REFUSED] },
  { reason: 'multiprocessing', all: [/multiprocessing\//, REFUSED] },
  { reason: 'fork', all: [/\b(os|pty)\.(fork|forkpty)\(|\bfork\(\)/, REFUSED] },
  { reason: 'posix_spawn / os.spawn*', all: [/posix_spawnp?\(|os\.spawn[lv]|\bspawn_func\(/, REFUSED] },
  { reason: 'exec', all: [/os\.exec[lv]p?e?\(/, REFUSED] },
  { reason: 'fork (skipped: requires fork)', all: [/^requires working os\.fork\(\)|requires os\.fork|test needs os\.fork/] },
  { reason: 'subprocess (skipped: requires subprocess)', all: [/^requires subprocess support/] },
  { reason: 'a shell (skipped: no /bin/sh)', all: [/^requires a shell$/] },
];

const GO_RULES: Rule[] = [
  { reason: 'exec (os/exec, os.StartProcess)', all: [/fork\/exec /, REFUSED] },
  { reason: 'exec (skipped: testenv cannot exec)', all: [/cannot exec subprocess/] },
  { reason: 'exec (os.StartProcess, syscall.ForkExec)', all: [/StartProcess|ForkExec/, REFUSED] },
  { reason: 'exec (the program is not in the unikernel\'s rootfs)', all: [/exec: "[^"]+": executable file not found in \$PATH/] },
  // os's TestHostname runs /bin/hostname to compare, and os/signal's TestDetectNohup runs
  // itself under /usr/bin/nohup: each skips when it finds no such program.
  { reason: 'exec (the program is not in the unikernel\'s rootfs)', all: [/skipping test; test requires hostname but it does not exist|cannot find nohup; skipping second half of test/] },
  { reason: 'ptrace', all: [/\bptrace\b/i, REFUSED] },
  { reason: 'setuid/setgid', all: [/\b[Ss]et(re[sg]?)?[ug]id\b/, REFUSED] },
];

export type Language = 'python' | 'go';

/** The reason a test's failure (or skip) text says it needs a process, or undefined. */
export function needsProcess(language: Language, detail: string): string | undefined {
  const rules = language === 'python' ? PYTHON_RULES : GO_RULES;
  return rules.find((rule) => rule.all.every((pattern) => pattern.test(detail)))?.reason;
}
