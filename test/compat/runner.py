"""Runs CPython regression test modules and reports every test on fd 1, one line each.

    python runner.py test_os [test_json ...]

Set up as regrtest does (`python -m test -u none`: no optional resources, faulthandler,
the unraisable and threading hooks, a fresh temporary working directory), then each
module's tests run under a result that writes, as it goes, lines like
    @@compat {"event": "start", "test": "test.test_os.FileTests.test_access"}
    @@compat {"event": "end", "test": "...", "outcome": "fail", "detail": "Traceback ..."}
(outcomes: pass, fail, error, skip, xfail, upass). The lines go straight to fd 1, so a
test that swaps sys.stdout does not hide them, and a run that hangs or crashes still
leaves the tests it finished. The harness (test/compat) reads them from docker's output.
"""
import importlib
import json
import os
import sys
import time
import traceback
import unittest

from test import support
from test.libregrtest.cmdline import _parse_args
from test.libregrtest.setup import setup_tests
from test.support import os_helper

DETAIL_LIMIT = 6000
LOAD_ERROR = "cannot load the module:\n"


def emit(**fields):
    line = "\n@@compat " + json.dumps(fields) + "\n"
    os.write(1, line.encode("utf-8", "backslashreplace"))


def test_id(test):
    # An _ErrorHolder (setUpClass, setUpModule) has only a description.
    return test.id() if hasattr(test, "id") else str(test)


class StreamingResult(unittest.TestResult):
    """Reports each test as it starts and ends; a test with a failed subtest fails once."""

    def __init__(self):
        super().__init__()
        self.reported = set()

    def startTest(self, test):
        super().startTest(test)
        emit(event="start", test=test_id(test))

    def end(self, test, outcome, detail=""):
        name = test_id(test)
        if name in self.reported:
            return
        self.reported.add(name)
        emit(event="end", test=name, outcome=outcome, detail=detail[-DETAIL_LIMIT:])

    def stopTest(self, test):
        super().stopTest(test)
        self.end(test, "pass")

    def addError(self, test, err):
        super().addError(test, err)
        self.end(test, "error", self._exc_info_to_string(err, test))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.end(test, "fail", self._exc_info_to_string(err, test))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            self.end(test, "fail" if failed else "error", f"{subtest}\n" + self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.end(test, "skip", str(reason))

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.end(test, "xfail")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.end(test, "upass")


# Tests that, when fork fails, wait forever for the child it would have made instead of
# failing (test_forkinthread forks in a thread and reads a pipe the child writes). In the
# unikernel, which refuses fork by design, they would hang their whole module: skipped
# there, with the reason CPython's own fork skips give (processes.ts counts it as needing
# a process). Under runc they run.
HANG_WITHOUT_FORK = {"test.test_thread.TestForkInThread.test_forkinthread"}
IN_UNIKERNEL = os.uname().release.endswith("-nabla")


def skip_hangs_without_fork(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            skip_hangs_without_fork(test)
        elif test.id() in HANG_WITHOUT_FORK:
            method = getattr(test, test._testMethodName)
            reason = "requires working os.fork() (waits forever for the child it could not make)"
            setattr(test, test._testMethodName, unittest.skip(reason)(method))


def run_module(name):
    """Imports test.<name> afresh and runs its tests; an import that fails is one result."""
    module_name = name if name.startswith("test.") else "test." + name
    sys.modules.pop(module_name, None)
    emit(event="module", module=name)
    started = time.monotonic()
    try:
        module = importlib.import_module(module_name)
        suite = unittest.TestLoader().loadTestsFromModule(module)
    except unittest.SkipTest as e:
        emit(event="end", test=module_name, outcome="skip", detail=f"module skipped: {e}")
    except BaseException:
        emit(event="end", test=module_name, outcome="error", detail=LOAD_ERROR + traceback.format_exc()[-DETAIL_LIMIT:])
    else:
        if IN_UNIKERNEL:
            skip_hangs_without_fork(suite)
        suite.run(StreamingResult())
    emit(event="done", module=name, seconds=round(time.monotonic() - started, 2))


def main(names):
    ns = _parse_args(["-u", "none"])
    setup_tests(ns)
    support.verbose = 0
    support.failfast = False
    os.chdir(os.environ.get("TMPDIR", "/tmp"))
    with os_helper.temp_cwd(f"test_python_{os.getpid()}", quiet=True):
        for name in names:
            run_module(name)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: runner.py TEST_MODULE...")
    main(sys.argv[1:])
