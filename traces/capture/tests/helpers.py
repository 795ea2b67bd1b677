"""Shared test helpers: the repository root and the C reader (`bitsim trace check`)."""

import os
import subprocess
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BITSIM = os.path.join(REPO, "bitsim")


def _bitsim(test):
    if not os.access(BITSIM, os.X_OK):
        test.fail("no ./bitsim binary (make bitsim first; make test builds it)")
    return dict(os.environ, BITSIM_HOME=REPO)


def c_reader_check(test, path, iterations=None):
    """Asserts that `bitsim trace check PATH` accepts the trace (and, if given, that its run
    has that many iterations); returns the check's metric -> value table."""
    env = _bitsim(test)
    r = subprocess.run([BITSIM, "trace", "check", "--format", "csv", path],
                       capture_output=True, text=True, env=env)
    test.assertEqual(r.returncode, 0, "bitsim trace check %s: %s%s" % (path, r.stdout, r.stderr))
    table = dict(line.split(",", 1) for line in r.stdout.strip().splitlines()[1:])
    if iterations is not None:
        test.assertEqual(int(table["iterations"]), iterations, r.stdout)
    return table


def c_model_show(test, path):
    """`bitsim model show --format csv PATH` as a list of row dicts (asserts it succeeds)."""
    env = _bitsim(test)
    r = subprocess.run([BITSIM, "model", "show", "--format", "csv", path], capture_output=True,
                       text=True, env=env)
    test.assertEqual(r.returncode, 0, "bitsim model show %s: %s%s" % (path, r.stdout, r.stderr))
    lines = r.stdout.strip().splitlines()
    head = lines[0].split(",")
    return [dict(zip(head, l.split(","))) for l in lines[1:]]


def c_model_check(test, path):
    """Asserts that `bitsim model show PATH` accepts a model file."""
    c_model_show(test, path)
