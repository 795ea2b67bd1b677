"""importers.py -- turn other training logs into bitsim traces (no torch needed).

Two sources:

csv   A per-layer precision log any training code can write, one row per (iteration, layer,
      tensor):
          iteration,layer,tensor,bits,density
          0,conv1,W,8,0.93
          0,conv1,A,8,0.51
          0,conv1,G,fx8.6,
          120,conv1,W,6,
      `tensor` is W, A, G or WG; `bits` an integer 1..32 (read as intBITS) or any bitsim format
      text (fx8.4, fp16, bfp8/e8/b16, mxfp4, nvfp4 ...), or empty for "unchanged"; `density` the non-zero
      fraction 0..1 of W, A or G, or empty (WG has none).  Rows may come in any order and may
      repeat unchanged values: the importer sorts them by iteration (stable) and keeps only
      changes, so a dense per-iteration log becomes a short trace.

adapt The JSON log of AdaPT (lorenz0890/AdaPT, utils/logging.py QLogger.save(), written to
      output/logs/<arch>_rb<N>_<optimizer>_<dataset>.json).  Its keys are lists with one entry
      per logged training step: "name", "qwl", "qfl", "sp", "res", "lb" hold one value per
      parameter tensor of the quantised layers, in module order, a (bias, weight) pair per
      layer (models/*_fp.py setup()); "val_acc" holds the validation accuracies.  AdaPT applies
      a layer's <WL, FL> to its weights, inputs and gradients, so each logged step becomes, per
      layer, W = A = G = WG = fx<WL>.<FL> and dW = 1 - sp of the weight entry.  A and G
      densities are not logged and stay at the trace default (1).  AdaPT logs one entry per
      training forward pass (a micro-batch when it accumulates gradients), so one entry is one
      trace iteration of --batch samples.  The pairs are matched, in order, to the MAC layers
      named by --layers.

Both write the trace with sinks.TraceFileSink.  Bad input stops with one line
"FILE:LINE: FIELD: what" (the JSON importer names the entry index as its line) and exit 1.

    /usr/bin/python3 -m capture.importers csv LOG.csv --model lenet5 --batch 64 \\
        --iters-per-epoch 100 --epochs 3 --scheme mylog -o out.trace
    /usr/bin/python3 -m capture.importers adapt LOG.json --model lenet5 \\
        --layers conv1,conv2,conv3,fc1,fc2 --batch 256 --epochs 15 -o adapt.trace
"""

import argparse
import csv
import json
import math
import re
import sys

from .sinks import DENSITY_TENSORS, TENSORS, ChangeFilter, TraceFileSink

# The text forms of sim/numfmt.c (traces/FORMAT.md "Number formats"); bitsim itself checks
# the ranges when it reads the trace.
FORMAT_RE = re.compile(r"^(fx\d+\.-?\d+|int\d+|bfp\d+/e\d+(/b\d+)?|fp32|tf32|fp16|bf16|fp8e4m3|"
                       r"fp8e5m2|fp\d+e\d+m\d+|mxfp8e4m3|mxfp8e5m2|mxfp6e3m2|mxfp6e2m3|mxfp4|"
                       r"mxint8|nvfp4|mxfp8|mxfp6|mxfp4e2m1)$")


class ImportFailure(Exception):
    """One-line input error: FILE:LINE: FIELD: what."""

    def __init__(self, path, line, field, what):
        super().__init__("%s:%s: %s: %s" % (path, line, field, what))


def parse_format(text, path, line):
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        bits = int(text)
        if not 1 <= bits <= 32:
            raise ImportFailure(path, line, "bits", "bit-width %d outside 1..32" % bits)
        return "fp32" if bits == 32 else "int%d" % bits
    if not FORMAT_RE.match(text):
        raise ImportFailure(path, line, "bits", "not a bit-width or format: %r" % text)
    return text


def parse_density(text, path, line):
    try:
        d = float(text)
    except ValueError:
        raise ImportFailure(path, line, "density", "not a number: %r" % text) from None
    if not (math.isfinite(d) and 0.0 <= d <= 1.0):
        raise ImportFailure(path, line, "density", "%r outside 0..1" % text)
    return d


def _csv_rows(f, path):
    """(line number, row) of csv.reader; its own errors (a field over the csv module's size
    limit, ...) become ImportFailure, not a traceback."""
    reader = csv.reader(f)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as ex:
            raise ImportFailure(path, reader.line_num, "csv", str(ex)) from None
        yield reader.line_num, row


def import_csv(path, sink, density_step=0.0):
    """Reads the CSV at path into sink (begin/change/end); returns the number of records."""
    rows = []
    with open(path, newline="") as f:
        reader = _csv_rows(f, path)
        _, header = next(reader, (1, None))
        want = ["iteration", "layer", "tensor", "bits", "density"]
        if header is None or [h.strip().lower() for h in header] != want:
            raise ImportFailure(path, 1, "header", "expected %s" % ",".join(want))
        for line, row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if row[0].lstrip().startswith("#"):
                continue
            if len(row) != 5:
                raise ImportFailure(path, line, "row", "%d fields, expected 5" % len(row))
            it_text, layer, tensor, bits, dens = (c.strip() for c in row)
            if not re.fullmatch(r"\d+", it_text):
                raise ImportFailure(path, line, "iteration", "not a count: %r" % it_text)
            if not re.fullmatch(r"[A-Za-z0-9_.\-]+", layer):
                raise ImportFailure(path, line, "layer", "bad layer name %r" % layer)
            if tensor not in TENSORS:
                raise ImportFailure(path, line, "tensor", "%r is not one of %s"
                                    % (tensor, ", ".join(TENSORS)))
            fmt = parse_format(bits, path, line) if bits else None
            d = None
            if dens:
                if tensor not in DENSITY_TENSORS:
                    raise ImportFailure(path, line, "density", "%s has no density" % tensor)
                d = parse_density(dens, path, line)
            if fmt is None and d is None:
                raise ImportFailure(path, line, "bits", "row sets neither bits nor density")
            rows.append((int(it_text), layer, tensor, fmt, d, line))
    if not rows:
        raise ImportFailure(path, 1, "rows", "no data rows")
    rows.sort(key=lambda r: r[0])
    layers = []
    for r in rows:
        if r[1] not in layers:
            layers.append(r[1])
    sink.begin(layers)
    filt = ChangeFilter(density_step)
    total = sink.iters_per_epoch * sink.epochs if hasattr(sink, "epochs") else None
    records = 0
    i = 0
    while i < len(rows):
        it = rows[i][0]
        if total is not None and it >= total:
            raise ImportFailure(path, rows[i][5], "iteration", "%d is past the run's %d iterations"
                                % (it, total))
        state = {}
        while i < len(rows) and rows[i][0] == it:
            _, layer, tensor, fmt, d, _ = rows[i]
            fm, dm = state.setdefault(layer, ({}, {}))
            if fmt is not None:
                fm[tensor] = fmt
            if d is not None:
                dm[tensor] = d
            i += 1
        for layer in layers:
            if layer in state:
                values = filt.changes(layer, *state[layer])
                if values:
                    sink.change(it, layer, values)
                    records += 1
    return records


def _adapt_entries(log, path):
    for key in ("name", "qwl", "qfl", "sp"):
        if not isinstance(log.get(key), list):
            raise ImportFailure(path, 0, key, "missing or not a list (is this an AdaPT log?)")
    n = len(log["name"])
    for key in ("qwl", "qfl", "sp"):
        if len(log[key]) != n:
            raise ImportFailure(path, 0, key, "%d entries, but \"name\" has %d"
                                % (len(log[key]), n))
    if n == 0:
        raise ImportFailure(path, 0, "name", "no logged steps")
    return n


def import_adapt(path, sink, layers, density_step=0.0):
    """Reads an AdaPT QLogger JSON log into sink; returns (records, last val_acc or None)."""
    with open(path) as f:
        try:
            log = json.load(f)
        except json.JSONDecodeError as ex:
            raise ImportFailure(path, ex.lineno, "json", ex.msg) from None
        except RecursionError:
            raise ImportFailure(path, 1, "json", "nested too deeply") from None
    if not isinstance(log, dict):
        raise ImportFailure(path, 1, "json", "top level is not an object")
    n = _adapt_entries(log, path)
    sink.begin(layers)
    filt = ChangeFilter(density_step)
    records = 0
    for step in range(n):
        names, wls, fls, sps = (log[k][step] for k in ("name", "qwl", "qfl", "sp"))
        if not isinstance(names, list):
            raise ImportFailure(path, step, "name", "entry is not a list")
        if not all(isinstance(v, list) and len(v) == len(names) for v in (wls, fls, sps)):
            raise ImportFailure(path, step, "qwl", "entry lists differ in length")
        quantised = [j for j, nm in enumerate(names) if nm is not None]
        if len(quantised) != 2 * len(layers):
            raise ImportFailure(path, step, "name", "%d quantised parameter tensors, expected "
                                "a (bias, weight) pair for each of the %d --layers"
                                % (len(quantised), len(layers)))
        for k, layer in enumerate(layers):
            w = quantised[2 * k + 1]
            wl, fl, sp = wls[w], fls[w], sps[w]
            if not (type(wl) is int and 1 <= wl <= 32):
                raise ImportFailure(path, step, "qwl", "word length %r outside 1..32" % (wl,))
            if not (type(fl) is int and -64 <= fl <= 64):
                raise ImportFailure(path, step, "qfl", "fractional length %r" % (fl,))
            if not (type(sp) in (int, float) and 0 <= sp <= 1):
                raise ImportFailure(path, step, "sp", "sparsity %r outside 0..1" % (sp,))
            fmt = "fx%d.%d" % (wl, fl)
            values = filt.changes(layer, {t: fmt for t in TENSORS}, {"W": 1.0 - sp})
            if values:
                sink.change(step, layer, values)
                records += 1
    acc = log.get("val_acc")
    last = acc[-1] if isinstance(acc, list) and acc and isinstance(acc[-1], (int, float)) \
        else None
    return records, n, last


def main(argv=None):
    ap = argparse.ArgumentParser(prog="capture.importers",
                                 description="Import a training log as a bitsim trace.")
    ap.add_argument("source", choices=("csv", "adapt"))
    ap.add_argument("log")
    ap.add_argument("-o", "--output", required=True, help="trace file to write")
    ap.add_argument("--model", required=True, help="model reference written into the trace")
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--epochs", type=int, required=True)
    ap.add_argument("--iters-per-epoch", type=int,
                    help="csv: required; adapt: default = logged steps / epochs")
    ap.add_argument("--scheme", help="scheme name (default: csv / adapt)")
    ap.add_argument("--layers", help="adapt: the model's MAC layer names, comma-separated")
    ap.add_argument("--density-step", type=float, default=0.0,
                    help="record a density only when it moved by this much (default 0: any)")
    args = ap.parse_args(argv)
    try:
        if args.source == "csv":
            if not args.iters_per_epoch:
                ap.error("csv needs --iters-per-epoch")
            sink = TraceFileSink(args.output, args.model, args.batch, args.iters_per_epoch,
                                 args.epochs, args.scheme or "csv",
                                 provenance="imported from %s" % args.log)
            import_csv(args.log, sink, args.density_step)
            sink.end(args.iters_per_epoch * args.epochs, {})
        else:
            if not args.layers:
                ap.error("adapt needs --layers")
            layers = args.layers.split(",")
            sink = TraceFileSink(args.output, args.model, args.batch, 0, args.epochs,
                                 args.scheme or "adapt")
            _, n, acc = import_adapt(args.log, sink, layers, args.density_step)
            sink.iters_per_epoch = args.iters_per_epoch or n // max(args.epochs, 1)
            if sink.iters_per_epoch * args.epochs != n:
                raise ImportFailure(args.log, 0, "name", "%d logged steps are not %d epochs x "
                                    "%d iterations" % (n, args.epochs, sink.iters_per_epoch))
            prov = "imported from AdaPT log %s" % args.log
            if acc is not None:
                prov += "; last validation accuracy %.4f" % acc
            header = {"provenance": prov}
            if acc is not None:   # AdaPT logs a fraction; the trace states percent
                header["accuracy"] = round(100 * acc, 4) if acc <= 1 else acc
            sink.end(n, header)
    except ImportFailure as ex:
        print(ex, file=sys.stderr)
        return 1
    except (OSError, ValueError) as ex:
        print("%s: %s" % (args.log, ex), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
