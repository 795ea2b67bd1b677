"""sinks.py -- where the capture hook's records go: memory (tests) or bitsim's text files.

A sink receives begin(layers), change(iteration, layer, values), optional overhead(first, end,
ops, bits, label) and end(iterations, header).  `values` maps record fields ("W", "A", "G", "WG"
to formats, "dW", "dA", "dG" to densities) to their new values.

TraceFileSink buffers the records and writes the whole trace at end(), because the header's
provenance (accuracy reached) is known only then; a run is small (change records only), so
buffering costs little.  The text follows traces/FORMAT.md; model_text() follows
models/FORMAT.md.
"""

import os

TENSORS = ("W", "A", "G", "WG")
DENSITY_TENSORS = ("W", "A", "G")


class ChangeFilter:
    """Turns a layer's current state into the fields that changed since its last record.

    Formats count as changed when their text differs; densities when they moved by at least
    `density_step` since the value last recorded (so slow drift is still recorded once it adds
    up).  Densities are rounded to 4 decimals.  The first call for a layer returns every known
    field.
    """

    def __init__(self, density_step=0.01):
        self.density_step = density_step
        self.emitted = {}

    def changes(self, layer, formats, densities):
        last = self.emitted.setdefault(layer, {})
        out = {t: f for t, f in formats.items() if f is not None and last.get(t) != f}
        for t, d in densities.items():
            if d is None:
                continue
            d, key = round(d, 4), "d" + t
            if key not in last or (d != last[key] and
                                   abs(d - last[key]) >= self.density_step - 1e-12):
                out[key] = d
        last.update(out)
        return out


class MemorySink:
    def __init__(self):
        self.layers, self.changes, self.overheads = [], [], []
        self.iterations, self.header = None, None

    def begin(self, layers):
        self.layers = list(layers)

    def change(self, iteration, layer, values):
        self.changes.append((iteration, layer, dict(values)))

    def overhead(self, first, end, ops, bits, label):
        self.overheads.append((first, end, ops, bits, label))

    def end(self, iterations, header):
        self.iterations, self.header = iterations, dict(header)


def format_density(d):
    """Densities as short decimals: 0.25, 1, 0.0831."""
    s = ("%.4f" % d).rstrip("0").rstrip(".")
    return s if s else "0"


class TraceFileSink(MemorySink):
    def __init__(self, path, model_ref, batch, iters_per_epoch, epochs, scheme, params="",
                 provenance=""):
        super().__init__()
        self.path, self.model_ref = path, model_ref
        self.batch, self.iters_per_epoch, self.epochs = batch, iters_per_epoch, epochs
        self.scheme, self.params, self.provenance = scheme, params, provenance

    def end(self, iterations, header):
        super().end(iterations, header)
        self.params = header.get("params", self.params)
        self.provenance = header.get("provenance", self.provenance)
        self.accuracy = header.get("accuracy")   # final accuracy, percent (header `accuracy`)
        total = self.iters_per_epoch * self.epochs
        if iterations != total:
            raise ValueError("trace %s: %d iterations captured, header says %d x %d = %d"
                             % (self.path, iterations, self.iters_per_epoch, self.epochs, total))
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path, "w") as f:
            f.write(trace_text(self))


FIELD_ORDER = ("W", "A", "G", "WG", "dW", "dA", "dG")


def record_fields(values):
    """'W=int8 dA=0.25 ...' in the trace's field order."""
    out = []
    for k in FIELD_ORDER:
        if k in values:
            v = values[k]
            out.append("%s=%s" % (k, format_density(v) if k.startswith("d") else v))
    return " ".join(out)


def one_line(text):
    """Header text on one line, without '#' (which starts a comment in bitsim's files)."""
    return " ".join(str(text).replace("#", "no.").split())


def trace_text(s):
    """The trace text of a finished sink (traces/FORMAT.md): header, then `from` records and
    `overhead` records in iteration order, then `end`.  Layers of one iteration whose changes
    are identical share one record (a comma list of names)."""
    lines = ["bitsim-trace 1",
             "# written by traces/capture (change records only)",
             "model %s" % s.model_ref,
             "batch %d" % s.batch,
             "iters_per_epoch %d" % s.iters_per_epoch,
             "epochs %d" % s.epochs,
             "scheme %s" % s.scheme]
    if s.params:
        lines.append("params %s" % one_line(s.params))
    if s.provenance:
        lines.append("provenance %s" % one_line(s.provenance))
    if getattr(s, "accuracy", None) is not None:
        lines.append("accuracy %s" % repr(float(s.accuracy)))
    # (iteration, kind order, position): changes of an iteration before its overheads.
    events = []
    by_iter = {}
    for pos, (it, layer, values) in enumerate(s.changes):
        fields = record_fields(values)
        group = by_iter.setdefault(it, {})
        if fields not in group:
            group[fields] = []
            events.append((it, 0, pos, fields))
        group[fields].append(layer)
    for pos, (first, end, ops, bits, label) in enumerate(s.overheads):
        rng = "%d" % first if end == first + 1 else "%d:%d" % (first, end)
        events.append((first, 1, pos, "overhead %s ops=%d bits=%d label=%s"
                       % (rng, ops, bits, label)))
    events.sort(key=lambda e: e[:3])
    for it, kind, _, text in events:
        if kind == 0:
            lines.append("from %d %s %s" % (it, ",".join(by_iter[it][text]), text))
        else:
            lines.append(text)
    lines.append("end")
    return "\n".join(lines) + "\n"


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _window_keys(prefix_pairs):
    """k=5 for square windows, kh=5 kw=3 otherwise; likewise stride and pad."""
    out = []
    for key, (a, b), default in prefix_pairs:
        if a == b:
            if a != default:
                out.append("%s=%d" % (key, a))
        else:
            out.append("%sh=%d %sw=%d" % (key, a, key, b) if key == "k" else
                       "%s_h=%d %s_w=%d" % (key, a, key, b))
    return out


def _layer_line(l):
    """One models/FORMAT.md line for a recorded layer (hook.LayerInfo)."""
    m = l.module
    if l.kind == "conv":
        if isinstance(m.padding, str):
            raise ValueError("layer %s: padding=%r: give explicit padding" % (l.name, m.padding))
        keys = ["out=%d" % m.out_channels]
        keys += _window_keys([("k", _pair(m.kernel_size), None), ("stride", _pair(m.stride), 1),
                              ("pad", _pair(m.padding), 0)])
        dil = _pair(m.dilation)
        if dil[0] != dil[1]:
            raise ValueError("layer %s: unequal dilation %r" % (l.name, dil))
        if dil[0] != 1:
            keys.append("dilation=%d" % dil[0])
        if m.groups != 1:
            keys.append("groups=%d" % m.groups)
        if m.bias is None:
            keys.append("bias=0")
    elif l.kind == "linear":
        c, h, w = l.in_shape
        rows = (c * h * w) // m.in_features
        keys = ["in=%d" % m.in_features, "out=%d" % m.out_features]
        if rows != 1:
            keys.append("rows=%d" % rows)
        if m.bias is None:
            keys.append("bias=0")
    elif l.kind == "pool":
        if l.out_shape[1:] == (1, 1) and not hasattr(m, "kernel_size"):
            keys = ["op=global"]
        elif hasattr(m, "kernel_size"):
            k = _pair(m.kernel_size)
            st = _pair(m.stride if m.stride else m.kernel_size)
            pad = _pair(m.padding)
            if k[0] != k[1] or st[0] != st[1] or pad[0] != pad[1]:
                raise ValueError("layer %s: non-square pooling" % l.name)
            keys = ["op=%s" % l.op, "k=%d" % k[0]]
            if st[0] != k[0]:
                keys.append("stride=%d" % st[0])
            if pad[0]:
                keys.append("pad=%d" % pad[0])
        else:
            raise ValueError("layer %s: adaptive pooling to %r is not a global pool"
                             % (l.name, l.out_shape))
    elif l.kind in ("act", "norm"):
        keys = ["op=%s" % l.op]
    else:
        keys = []
    if l.source is not None:
        keys.append("from=%s" % l.source)
    return " ".join([l.kind, l.name] + keys)


def model_text(hook, name, description=""):
    """The model file of the layers the hook recorded (models/FORMAT.md): one line per layer
    in execution order; `from=` where a layer does not read the line above."""
    c, h, w = hook.input_shape
    lines = ["# captured by traces/capture from a PyTorch module (execution order)",
             "model %s" % name]
    if description:
        lines.append("description %s" % description)
    lines.append("input %d %d %d" % (c, h, w))
    lines += [_layer_line(l) for l in hook.layers]
    return "\n".join(lines) + "\n"
