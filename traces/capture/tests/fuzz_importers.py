"""fuzz_importers.py -- a small deterministic mutation fuzzer for the capture importers.

Debian has no atheris, so this is libFuzzer's idea in the standard library: start from the
seed logs in tests/corpus/py_importers_csv/ and tests/corpus/py_importers_adapt/, mutate them
(byte flips, inserted separators and quotes, deleted or repeated ranges, splices of two seeds,
numbers swapped for edge values, and for JSON, values of the parsed log replaced by other
types, extremes or deep nesting), and run each through the importer's command line (main())
exactly as a user would.  The contract of importers.py is that bad input stops with one line
and exit 1; so every input must return 0 (a trace written) or 1 with one non-empty line on
stderr that names the log file, and never raise -- a traceback, a RecursionError, a
csv.Error are all findings.  Inputs are drawn from a seeded random.Random, so a run is
reproducible: a failure reports the seed and the case number, and writes the input beside
the message.  There is no coverage feedback; the mutators aim at the format's structure
instead, and the reach line shows how many inputs each importer accepted.

    /usr/bin/python3 -m capture.tests.fuzz_importers --seconds 60      # from traces/
    /usr/bin/python3 -m capture.tests.fuzz_importers --cases 2000 --seed 7

The unittest wrapper (test_fuzz_importers.py) runs a fixed number of cases in `make test`.
"""

import argparse
import contextlib
import io
import json
import os
import random
import sys
import tempfile
import time

from capture import importers

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CORPUS = os.path.join(REPO, "tests", "corpus")

# importer -> (corpus directory, file suffix, the command line after the log path)
TARGETS = {
    "csv": ("py_importers_csv", ".csv",
            ["--model", "m.model", "--batch", "8", "--iters-per-epoch", "3", "--epochs", "2"]),
    "adapt": ("py_importers_adapt", ".json",
              ["--model", "m.model", "--batch", "8", "--epochs", "1", "--layers", "conv1,fc",
               "--a-format", "weight", "--no-overhead"]),
}

TOKENS = [b",", b"\n", b"\r", b"\r\n", b'"', b"'", b"#", b" ", b"\t", b"\x00", b"\xff",
          b"\xc3", b"{", b"}", b"[", b"]", b":", b"null", b"true", b"-", b".", b"e", b"0",
          b"1", b"9", b"32", b"33", b"-1", b"nan", b"NaN", b"Infinity", b"-Infinity",
          b"1e999", b"1e-999", b"18446744073709551616", b"9" * 5000, b"fx", b"fx8.", b"int",
          b"bfp8/e8/b", b"W", b"A", b"G", b"WG", b"X", b"\\", b"\\u0000", b"\xef\xbb\xbf"]
EDGE_NUMBERS = [b"0", b"-0", b"1", b"-1", b"32", b"33", b"64", b"65", b"0.5", b"1.0000001",
                b"2147483648", b"18446744073709551616", b"1e308", b"1e999", b"-1e999", b"nan",
                b"NaN", b"inf", b"", b"0x10", b"1_0", b"\xd9\xa3"]
JSON_VALUES = [None, True, False, 0, -1, 1, 8, 32, 33, -65, 2 ** 70, 0.5, 1.5, -0.0, 1e308,
               float("inf"), float("nan"), "", "QConv2d_FP", "8", [], {}, [[]], {"a": 1}]


def load_seeds(target):
    d, _, _ = TARGETS[target]
    d = os.path.join(CORPUS, d)
    seeds = []
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            seeds.append(f.read())
    return seeds


def _span(rng, data):
    if not data:
        return 0, 0
    a = rng.randrange(len(data))
    return a, min(len(data), a + rng.choice((1, 1, 2, 4, 8, 32, 256)))


def mutate_bytes(rng, data, seeds):
    data = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3, 5))):
        op = rng.randrange(7)
        a, b = _span(rng, data)
        if op == 0 and data:                                    # flip bits of one byte
            data[a] ^= 1 << rng.randrange(8)
        elif op == 1:                                           # insert a structural token
            data[a:a] = rng.choice(TOKENS)
        elif op == 2:                                           # delete a range
            del data[a:b]
        elif op == 3:                                           # repeat a range
            data[a:a] = data[a:b] * rng.choice((1, 2, 16, 200, 1000))
        elif op == 4:                                           # splice another seed
            other = rng.choice(seeds)
            c, d = _span(rng, other)
            data[a:b] = other[c:d]
        elif op == 5:                                           # swap a number for an edge
            digits = [i for i, ch in enumerate(data) if 0x30 <= ch <= 0x39]
            if digits:
                i = j = rng.choice(digits)
                while i > 0 and data[i - 1] in b"0123456789.-":
                    i -= 1
                while j < len(data) and data[j] in b"0123456789.-e":
                    j += 1
                data[i:j] = rng.choice(EDGE_NUMBERS)
        else:                                                   # cut the file short
            del data[a:]
    return bytes(data)


def _json_nodes(v, path=()):
    yield path
    if isinstance(v, dict):
        for k in v:
            yield from _json_nodes(v[k], path + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from _json_nodes(x, path + (i,))


def mutate_json(rng, data):
    """Structure-aware: replace one value of the parsed log (or drop a key), write it again."""
    try:
        log = json.loads(data)
    except (ValueError, RecursionError):
        return data
    path = rng.choice(list(_json_nodes(log)))
    choice = rng.randrange(4)
    nested = None
    if choice == 0:
        new = rng.choice(JSON_VALUES)
    elif choice == 1:                           # deep nesting, spliced in as text below
        nested = "[" * rng.choice((50, 3000))
        new = "@NESTED@"
    elif choice == 2:                           # a list grown or emptied
        new = [] if rng.random() < 0.5 else [rng.choice(JSON_VALUES)] * rng.choice((1, 7, 500))
    elif path and isinstance(_get(log, path[:-1]), dict):
        del _get(log, path[:-1])[path[-1]]      # a key dropped
        return json.dumps(log).encode()
    else:
        new = None
    if path:
        _get(log, path[:-1])[path[-1]] = new
    else:
        log = new
    text = json.dumps(log)
    if nested is not None:
        depth = len(nested)
        text = text.replace('"@NESTED@"', nested + "]" * depth)
    return text.encode()


def _get(v, path):
    for k in path:
        v = v[k]
    return v


def run_one(target, data, workdir):
    """Runs the importer's CLI on data; returns ("ok" | "rejected", stderr) or raises."""
    _, suffix, args = TARGETS[target]
    log = os.path.join(workdir, "log" + suffix)
    out = os.path.join(workdir, "out.trace")
    with open(log, "wb") as f:
        f.write(data)
    if os.path.exists(out):
        os.unlink(out)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = importers.main([target, log, "-o", out] + args)
    msg = err.getvalue()
    if rc == 0:
        with open(out) as f:
            text = f.read()
        if not (text.startswith("bitsim-trace 1\n") and text.endswith("end\n")):
            raise AssertionError("exit 0 but the trace is not a whole trace:\n" + text[:400])
        return "ok", msg
    if rc != 1:
        raise AssertionError("exit status %r, want 0 or 1; stderr %r" % (rc, msg))
    lines = msg.rstrip("\n").split("\n")
    if len(lines) != 1 or not lines[0].strip() or not lines[0].startswith(log):
        raise AssertionError("rejection is not one line naming %s: %r" % (log, msg[:400]))
    return "rejected", msg


def fuzz(target, cases=None, seconds=None, seed=1, report=sys.stderr):
    """Runs cases inputs (or for seconds); returns the reach counts. Raises on a finding,
    with the seed, the case number and where the input was saved."""
    rng = random.Random("%s/%d" % (target, seed))
    seeds = load_seeds(target)
    counts = {"inputs": 0, "ok": 0, "rejected": 0}
    end = time.monotonic() + seconds if seconds else None
    with tempfile.TemporaryDirectory() as workdir:
        case = 0
        while (cases is None or case < cases) and (end is None or time.monotonic() < end):
            if case < len(seeds):         # the seeds themselves first
                data = seeds[case]
            else:
                data = rng.choice(seeds)
                r = rng.random()
                if target == "adapt" and r < 0.5:
                    data = mutate_json(rng, data)
                if target != "adapt" or r >= 0.3:
                    data = mutate_bytes(rng, data, seeds)
            try:
                kind, _ = run_one(target, data, workdir)
            except BaseException as ex:     # anything that is not a clean exit 0/1
                saved = os.path.join(tempfile.gettempdir(),
                                     "fuzz_importers-%s-seed%d-case%d" % (target, seed, case))
                with open(saved, "wb") as f:
                    f.write(data)
                raise AssertionError("%s importer, seed %d, case %d (input saved as %s): %s: %s"
                                     % (target, seed, case, saved, type(ex).__name__,
                                        str(ex)[:300])) from ex
            counts["inputs"] += 1
            counts[kind] += 1
            case += 1
    n = counts["inputs"]
    print("reach py_importers %s: %d inputs; accepted %d (%.1f%%); rejected cleanly %d (%.1f%%)"
          % (target, n, counts["ok"], 100.0 * counts["ok"] / max(n, 1), counts["rejected"],
             100.0 * counts["rejected"] / max(n, 1)), file=report)
    return counts


def main(argv=None):
    ap = argparse.ArgumentParser(prog="capture.tests.fuzz_importers",
                                 description="Mutation-fuzz the capture importers.")
    ap.add_argument("--target", choices=sorted(TARGETS), action="append",
                    help="importer to fuzz (default: all)")
    ap.add_argument("--cases", type=int, help="inputs per importer")
    ap.add_argument("--seconds", type=float, help="time per importer (default 10)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if args.cases is None and args.seconds is None:
        args.seconds = 10
    for t in args.target or sorted(TARGETS):
        try:
            fuzz(t, args.cases, args.seconds, args.seed)
        except AssertionError as ex:
            print("fuzz_importers: FINDING: %s" % ex, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
