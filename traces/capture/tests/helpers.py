"""Shared test helpers: the repository root and the C reader (`bitsim trace check`)."""

import os
import subprocess
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BITSIM = os.path.join(REPO, "bitsim")


def c_reader_check(test, path):
    """Asserts that `bitsim trace check PATH` accepts the trace; skips when the binary or the
    subcommand is missing (the C tests cover the reader itself)."""
    if not os.access(BITSIM, os.X_OK):
        raise unittest.SkipTest("no ./bitsim binary (run make first)")
    env = dict(os.environ, BITSIM_HOME=REPO)
    r = subprocess.run([BITSIM, "trace", "check", path], capture_output=True, text=True, env=env)
    if r.returncode != 0 and "not implemented" in r.stderr:
        raise unittest.SkipTest("bitsim trace check is not implemented in this build")
    test.assertEqual(r.returncode, 0, "bitsim trace check %s: %s%s" % (path, r.stdout, r.stderr))


def c_model_check(test, path):
    """Asserts that `bitsim model show PATH` accepts a model file (skips without ./bitsim)."""
    if not os.access(BITSIM, os.X_OK):
        raise unittest.SkipTest("no ./bitsim binary (run make first)")
    env = dict(os.environ, BITSIM_HOME=REPO)
    r = subprocess.run([BITSIM, "model", "show", path], capture_output=True, text=True, env=env)
    test.assertEqual(r.returncode, 0, "bitsim model show %s: %s%s" % (path, r.stdout, r.stderr))
