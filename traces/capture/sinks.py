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
        total = self.iters_per_epoch * self.epochs
        if iterations != total:
            raise ValueError("trace %s: %d iterations captured, header says %d x %d = %d"
                             % (self.path, iterations, self.iters_per_epoch, self.epochs, total))
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path, "w") as f:
            f.write(trace_text(self))


def trace_text(s):
    """The trace text of a finished sink (traces/FORMAT.md)."""
    lines = ["# bitsim trace captured by traces/capture (change records only)",
             "bitsim-trace 1",
             "model %s" % s.model_ref,
             "batch %d" % s.batch,
             "iters_per_epoch %d" % s.iters_per_epoch,
             "epochs %d" % s.epochs,
             "scheme %s" % s.scheme]
    if s.params:
        lines.append("params %s" % s.params)
    if s.provenance:
        lines.append("provenance %s" % s.provenance.replace("\n", " "))
    order = ("W", "A", "G", "WG", "dW", "dA", "dG")
    for it, layer, values in s.changes:
        fields = []
        for k in order:
            if k in values:
                v = values[k]
                fields.append("%s=%s" % (k, format_density(v) if k.startswith("d") else v))
        lines.append("@%d %s %s" % (it, layer, " ".join(fields)))
    for first, end, ops, bits, label in s.overheads:
        lines.append("overhead %d %d ops=%d bits=%d label=%s" % (first, end, ops, bits, label))
    return "\n".join(lines) + "\n"


def model_text(hook, name, description=""):
    """The model file of the layers the hook recorded (models/FORMAT.md)."""
    c, h, w = hook.input_shape
    lines = ["# %s" % description if description else "# captured by traces/capture",
             "name %s" % name,
             "input %d %d %d" % (c, h, w)]
    for l in hook.layers:
        m = l.module
        if l.kind == "conv":
            lines.append("%s conv out=%d k=%dx%d stride=%dx%d pad=%dx%d groups=%d" % (
                l.name, m.out_channels, m.kernel_size[0], m.kernel_size[1], m.stride[0],
                m.stride[1], m.padding[0], m.padding[1], m.groups))
        elif l.kind == "linear":
            lines.append("%s linear out=%d" % (l.name, m.out_features))
        else:
            lines.append("%s %s %s" % (l.name, l.kind, l.op))
    return "\n".join(lines) + "\n"
