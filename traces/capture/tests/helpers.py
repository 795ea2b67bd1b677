"""Shared test helpers: the repository root and the C reader (`bitsim trace check`)."""

import csv
import os
import subprocess

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


def reference_rows(test, name):
    """Rows of ../shared/reference/NAME (or $BITSIM_REFERENCE/NAME), '#' lines skipped, as
    dicts; the independent references of tests/refcsv.h, read at test time."""
    d = os.environ.get("BITSIM_REFERENCE") or os.path.join(REPO, "..", "shared", "reference")
    path = os.path.join(d, name)
    test.assertTrue(os.path.exists(path), "reference file %s is missing" % path)
    with open(path) as f:
        return list(csv.DictReader(l for l in f if not l.startswith("#")))


def c_replay_fwd_madds(test, trace, workdir, arch="bitfusion"):
    """Replays trace with `bitsim run` into workdir/replay.db; returns the run's FWD MAdds
    (`bitsim report --by pass`)."""
    env = _bitsim(test)
    db = os.path.join(workdir, "replay.db")
    r = subprocess.run([BITSIM, "run", "--trace", trace, "--arch", arch, "--db", db, "--quiet",
                        "--label", "replay-check", "--force"],
                       capture_output=True, text=True, env=env)
    test.assertEqual(r.returncode, 0, "bitsim run %s: %s%s" % (trace, r.stdout, r.stderr))
    r = subprocess.run([BITSIM, "report", "--db", db, "--label", "replay-check", "--by", "pass",
                        "--format", "csv"], capture_output=True, text=True, env=env)
    test.assertEqual(r.returncode, 0, r.stderr)
    rows = list(csv.DictReader(r.stdout.splitlines()))
    return int(float(next(row["madds"] for row in rows if row["pass"] == "FWD")))


def c_run_metric(test, trace, workdir, metric, arch="bitfusion"):
    """Replays trace with `bitsim run` (its own database in workdir) and returns one of the
    papers' metrics it prints: adapt_speedup ('AdaPT speedup') or cpt_cost_ratio."""
    import re
    env = _bitsim(test)
    db = os.path.join(workdir, "metric-%d.db" % abs(hash(trace)))
    r = subprocess.run([BITSIM, "run", "--trace", trace, "--arch", arch, "--db", db],
                       capture_output=True, text=True, env=env)
    test.assertEqual(r.returncode, 0, "bitsim run %s: %s%s" % (trace, r.stdout, r.stderr))
    label = {"adapt_speedup": "AdaPT speedup", "cpt_cost_ratio": "CPT cost ratio"}[metric]
    m = re.search(re.escape(label) + r" ([0-9.]+)", r.stdout)
    test.assertIsNotNone(m, r.stdout)
    return float(m.group(1))
