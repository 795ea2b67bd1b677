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
      per training forward pass (a micro-batch when AdaPT accumulates gradients; one trace
      iteration of --batch samples): "name", "qwl", "qfl", "sp", "res", "lb" hold one value
      per parameter tensor of the quantised layers, "val_acc" one accuracy per validation
      batch.  What the importer reads, as AdaPT's code does it (checked against a log AdaPT's
      own code wrote, tests/fixtures/adapt_lenet5_digits.json):
        * entry 2k is layer k's WEIGHT, 2k+1 its bias: setup() lists bias before weight, but
          the optimizer MSGD_FP.step() fills the lists in model.parameters() order (weight
          first) and copies the weight's values into the bias entry.  The log proves it: the
          weight entry's sparsity times the weight's element count is a whole number.
          W = fx<qwl>.<qfl> of entry 2k, dW = 1 - sp of entry 2k;
        * WG = W's format: step() quantises each weight gradient with its entry's <qwl, qfl>
          (QUANT_GRADS, on in every shipped config);
        * G = fp32: AdaPT never quantises activation gradients (--g-format to override);
        * A: what forward() feeds the layer: with QUANT_INPUTS each quantised layer rounds its
          input to its own (wl, fl) attributes, and QLeNet5_FP.forward sets those attributes
          through setup()'s `perm` map, whose index is never advanced -- so the layers it
          reaches (fc1, fc2, at forward positions 8 and 10) take entry 0's format (conv1's
          weight) at every step and the convs keep the start format fx8.4 (wl_start, fl_start).
          --a-format forward (the default, AdaPT's LeNet-5: exactly 5 layers), weight (A = the
          layer's W, the paper's description), or a fixed format;
        * overhead: analyse() (utils/analytics.py) adds at every logged step and entry j the
          MARViN checks' work, non_zeros x 32 x marvin_step(size_j, lb, res, non_zeros, qwl)
          x LOGGING.INTERVAL / (lb x ACCUMULATION_STEPS), with marvin_step = 3 size bisect res
          non_zeros + (lb + 1) size + 1 and bisect = 2 log2(qwl - 8) (1 when qwl <= 8).  The
          importer writes that work as `overhead` records (bits 32, label marvin), as operations
          done per logged step -- not scaled by the batch: it is bitsim's convention that an
          overhead record is the work done, while the MAdds are per batch (analyse() sets it
          against one sample's MAdds, see sim/metrics.c).  size_j is analyse()'s list for QLeNet5_FP
          (following its own code: each QConv2d_FP counted twice, the pools counted, a 28x28
          input): 150, 150, 2400, 400, 400, 64, 3000, 3000, 5880, 5880 (--check-sizes for
          other models; --no-overhead to leave it out);
        * provenance: the model's validation accuracy, the mean of the last epoch's
          validation batches (after Lightning's 2 sanity batches), not the last batch's.
      The MAdds are bitsim's own (models/), not analyse()'s list; README "AdaPT's figure and
      bitsim's" relates the two speedups.

Both write the trace with sinks.TraceFileSink.  Bad input stops with one line
"FILE:LINE: FIELD: what" (the JSON importer names the entry index as its line) and exit 1.

    /usr/bin/python3 -m capture.importers csv LOG.csv --model lenet5 --batch 64 \\
        --iters-per-epoch 100 --epochs 3 --scheme mylog -o out.trace
    /usr/bin/python3 -m capture.importers adapt LOG.json --model lenet5 \\
        --layers c1,c3,c5,f6,output --batch 256 --epochs 15 -o adapt.trace
"""

import argparse
import csv
import json
import math
import os
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
            if not re.fullmatch(r"[A-Za-z0-9_.:\-]+", layer):
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
    optional = tuple(k for k in ("res", "lb") if k in log)
    for key in ("name", "qwl", "qfl", "sp") + optional:
        if not isinstance(log.get(key), list):
            raise ImportFailure(path, 0, key, "missing or not a list (is this an AdaPT log?)")
    n = len(log["name"])
    for key in ("qwl", "qfl", "sp") + optional:
        if len(log[key]) != n:
            raise ImportFailure(path, 0, key, "%d entries, but \"name\" has %d"
                                % (len(log[key]), n))
    if n == 0:
        raise ImportFailure(path, 0, "name", "no logged steps")
    return n


# AdaPT's QLeNet5_FP (models/lenet5_fp.py), as its code treats it; see the module docstring.
ADAPT_LENET5 = dict(
    a_follow=(3, 4),                 # layers whose input format forward() sets from entry 0
    a_start="fx8.4",                 # wl_start = 8, fl_start = 4 for the others
    check_sizes=(150, 150, 2400, 400, 400, 64, 3000, 3000, 5880, 5880))


def marvin_step(size, lb, res, non_zeros, wl):
    """utils/analytics.py marvin_step(): the work of one MARViN push-down/push-up check."""
    bisect = 2 * math.log2(wl - 8) if wl > 8 else 1.0
    return 3 * size * bisect * res * non_zeros + (lb + 1) * size + 1


def _number(v, path, step, key, lo, hi, integer=False):
    ok = type(v) is int if integer else type(v) in (int, float)
    if not (ok and lo <= v <= hi and (integer or math.isfinite(v))):
        raise ImportFailure(path, step, key, "%r outside %s..%s" % (v, lo, hi))
    return v


def model_accuracy(acc, epochs, val_batches=None, sanity=2):
    """Mean of the last epoch's per-batch validation accuracies, or None."""
    if not isinstance(acc, list) or not acc or not all(
            type(a) in (int, float) and math.isfinite(a) for a in acc):
        return None
    if val_batches is None:
        if len(acc) > sanity and (len(acc) - sanity) % epochs == 0:
            val_batches = (len(acc) - sanity) // epochs
        elif len(acc) % epochs == 0:
            val_batches = len(acc) // epochs
        else:
            return None
    last = acc[-val_batches:]
    return sum(last) / len(last), val_batches


def import_adapt(path, sink, layers, density_step=0.0, a_format="forward", g_format="fp32",
                 overhead=True, check_sizes=None, log_interval=10, accumulation=4):
    """Reads an AdaPT QLogger JSON log into sink; returns (records, steps, val_acc list)."""
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
    if a_format == "forward" and len(layers) != 5:
        raise ImportFailure(path, 0, "layers", "--a-format forward is AdaPT's LeNet-5 forward() "
                            "(5 layers, %d given): give --a-format weight or a format"
                            % len(layers))
    if a_format not in ("forward", "weight"):
        a_format = parse_format(a_format, path, 0)
    g_format = parse_format(g_format, path, 0)
    if overhead:
        if check_sizes is None:
            if len(layers) != 5:
                raise ImportFailure(path, 0, "layers", "the overhead needs analyse()'s tensor "
                                    "sizes of this model: --check-sizes, or --no-overhead")
            check_sizes = ADAPT_LENET5["check_sizes"]
        for key in ("res", "lb"):
            if not isinstance(log.get(key), list):
                raise ImportFailure(path, 0, key, "missing: the overhead needs it "
                                    "(--no-overhead to import without)")
    sink.begin(layers)
    filt = ChangeFilter(density_step)
    records = 0
    last_ops = None
    for step in range(n):
        names, wls, fls, sps = (log[k][step] for k in ("name", "qwl", "qfl", "sp"))
        if not isinstance(names, list):
            raise ImportFailure(path, step, "name", "entry is not a list")
        if not all(isinstance(v, list) and len(v) == len(names) for v in (wls, fls, sps)):
            raise ImportFailure(path, step, "qwl", "entry lists differ in length")
        quantised = [j for j, nm in enumerate(names) if nm is not None]
        if len(quantised) != 2 * len(layers):
            raise ImportFailure(path, step, "name", "%d quantised parameter tensors, expected "
                                "a (weight, bias) pair for each of the %d --layers"
                                % (len(quantised), len(layers)))
        fmts = []
        for j in quantised:
            wl = _number(wls[j], path, step, "qwl", 1, 32, integer=True)
            fl = _number(fls[j], path, step, "qfl", -64, 64, integer=True)
            _number(sps[j], path, step, "sp", 0, 1)
            fmts.append("fx%d.%d" % (wl, fl))
        for k, layer in enumerate(layers):
            w = quantised[2 * k]
            wfmt = fmts[2 * k]
            if a_format == "forward":
                afmt = fmts[0] if k in ADAPT_LENET5["a_follow"] else ADAPT_LENET5["a_start"]
            else:
                afmt = wfmt if a_format == "weight" else a_format
            values = filt.changes(layer, {"W": wfmt, "A": afmt, "G": g_format, "WG": wfmt},
                                  {"W": 1.0 - sps[w]})
            if values:
                sink.change(step, layer, values)
                records += 1
        if overhead:
            if len(check_sizes) != len(quantised):
                raise ImportFailure(path, step, "check_sizes", "%d sizes for %d logged entries"
                                    % (len(check_sizes), len(quantised)))
            work = 0.0
            for size, j in zip(check_sizes, quantised):
                lb = _number(log["lb"][step][j], path, step, "lb", 1, 1e9)
                res = _number(log["res"][step][j], path, step, "res", 0, 1e9)
                nz = 1.0 - sps[j]
                work += nz * marvin_step(size, lb, res, nz, wls[j]) * log_interval / \
                    (lb * accumulation)
            ops = int(round(work))
            if ops > 0:
                if last_ops is not None and last_ops[1] == ops and last_ops[0] + \
                        last_ops[2] == step:
                    last_ops[2] += 1
                else:
                    if last_ops is not None:
                        sink.overhead(last_ops[0], last_ops[0] + last_ops[2], last_ops[1], 32,
                                      "marvin")
                    last_ops = [step, ops, 1]
    if last_ops is not None:
        sink.overhead(last_ops[0], last_ops[0] + last_ops[2], last_ops[1], 32, "marvin")
    return records, n, log.get("val_acc")


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
    ap.add_argument("--layers", help="adapt: the model's MAC layer names, comma-separated, "
                    "in AdaPT's parameter order")
    ap.add_argument("--density-step", type=float, default=0.0,
                    help="record a density only when it moved by this much (default 0: any)")
    ap.add_argument("--a-format", default="forward",
                    help="adapt: activations: forward (AdaPT's LeNet-5 forward(), default), "
                    "weight (the layer's W format) or a format")
    ap.add_argument("--g-format", default="fp32",
                    help="adapt: activation gradients (default fp32: AdaPT does not quantise them)")
    ap.add_argument("--no-overhead", action="store_true",
                    help="adapt: leave out analyse()'s precision-switching overhead")
    ap.add_argument("--check-sizes", help="adapt: analyse()'s tensor size per logged entry, "
                    "comma-separated (default: AdaPT's LeNet-5)")
    ap.add_argument("--log-interval", type=int, default=10,
                    help="adapt: the config's LOGGING.INTERVAL (default 10)")
    ap.add_argument("--accumulation", type=int, default=4,
                    help="adapt: the config's MODEL.ACCUMULATION_STEPS (default 4)")
    ap.add_argument("--val-batches", type=int,
                    help="adapt: validation batches per epoch (default: from the log)")
    args = ap.parse_args(argv)
    try:
        if args.source == "csv":
            if not args.iters_per_epoch:
                ap.error("csv needs --iters-per-epoch")
            sink = TraceFileSink(args.output, args.model, args.batch, args.iters_per_epoch,
                                 args.epochs, args.scheme or "csv",
                                 provenance="imported from %s" % args.log, stream=False)
            import_csv(args.log, sink, args.density_step)
            sink.end(args.iters_per_epoch * args.epochs, {})
        else:
            if not args.layers:
                ap.error("adapt needs --layers")
            layers = args.layers.split(",")
            sink = TraceFileSink(args.output, args.model, args.batch, 0, args.epochs,
                                 args.scheme or "adapt", stream=False)
            sizes = None
            if args.check_sizes:
                try:
                    sizes = [int(v) for v in args.check_sizes.split(",")]
                except ValueError:
                    ap.error("--check-sizes: a comma list of whole numbers")
            _, n, accs = import_adapt(args.log, sink, layers, args.density_step,
                                      a_format=args.a_format, g_format=args.g_format,
                                      overhead=not args.no_overhead, check_sizes=sizes,
                                      log_interval=args.log_interval,
                                      accumulation=args.accumulation)
            sink.iters_per_epoch = args.iters_per_epoch or n // max(args.epochs, 1)
            if sink.iters_per_epoch * args.epochs != n:
                raise ImportFailure(args.log, 0, "name", "%d logged steps are not %d epochs x "
                                    "%d iterations" % (n, args.epochs, sink.iters_per_epoch))
            prov = "imported from AdaPT log %s" % os.path.basename(args.log)
            acc = model_accuracy(accs, args.epochs, args.val_batches)
            if acc is not None:
                prov += ("; validation accuracy %.4f (mean of the last epoch's %d validation "
                         "batches)" % acc)
            sink.params = "a=%s g=%s overhead=%s" % (args.a_format, args.g_format,
                                                     "none" if args.no_overhead else "marvin")
            header = {"provenance": prov}
            if acc is not None:   # AdaPT logs a fraction; the trace states percent
                header["accuracy"] = round(100 * acc[0], 4) if acc[0] <= 1 else acc[0]
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
