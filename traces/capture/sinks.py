"""sinks.py -- where the capture hook's records go: memory (tests) or bitsim's text files.

A sink receives begin(layers), change(iteration, layer, values), optional overhead(first, end,
ops, bits, label), flush(iterations_done) after every training iteration, and
end(iterations, header) once.  `values` maps record fields ("W", "A", "G", "WG" to formats,
"dW", "dA", "dG" to densities) to their new values.

TraceFileSink streams: begin() writes the header (the planned run) and every flush() appends
that iteration's records followed by `partial N` (traces/FORMAT.md: the run so far is
iterations [0, N)), overwriting the previous `partial` line in ONE write, so that at every
moment the file is a trace `bitsim trace check` accepts, up to the last complete iteration --
a run killed with SIGKILL, a crash, or early stopping lose nothing that was finished.
end() then rewrites the file (atomically: temporary file + rename) with the provenance known
only at the end (accuracy reached) and the run actually trained: `epochs` = the epochs begun,
ending in `end` when they were all complete and in `partial N` when the last one was cut.
The text follows traces/FORMAT.md; model files come from graph.model_text (models/FORMAT.md).
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

    def begin(self, layers, start=0):
        self.layers = list(layers)

    def change(self, iteration, layer, values):
        self.changes.append((iteration, layer, dict(values)))

    def overhead(self, first, end, ops, bits, label):
        self.overheads.append((first, end, ops, bits, label))

    def flush(self, iterations):
        pass

    def end(self, iterations, header):
        self.iterations, self.header = iterations, dict(header)


def format_density(d):
    """Densities as short decimals: 0.25, 1, 0.0831."""
    s = ("%.4f" % d).rstrip("0").rstrip(".")
    return s if s else "0"


class TraceFileSink(MemorySink):
    """Streams a trace to `path` as it is captured (see the module docstring); `epochs` is the
    planned run, the header of the final file says how many were actually trained."""

    def __init__(self, path, model_ref, batch, iters_per_epoch, epochs, scheme, params="",
                 provenance="", stream=True, resume=False):
        """resume: continue the trace already at path (a resumed training run): its records
        before the hook's start iteration are kept, `resume_from` says how many iterations it
        holds (the hook starts there unless told otherwise)."""
        super().__init__()
        self.stream = stream    # False: write only at end() (importers: no file on a bad log)
        if stream and (batch < 1 or iters_per_epoch < 1 or epochs < 1):
            raise ValueError("trace %s: batch, iters_per_epoch and epochs must be >= 1" % path)
        self.path, self.model_ref = path, model_ref
        self.batch, self.iters_per_epoch, self.epochs = batch, iters_per_epoch, epochs
        self.scheme, self.params, self.provenance = scheme, params, provenance
        self._fd = None
        self._tail = 0          # file offset of the current 'partial' line
        self._pending = 0       # changes / overheads not yet on disk
        self._pending_ov = 0
        self.closed = False
        self.resume_from, self._old = 0, None
        if resume and os.path.exists(path):
            self._old = read_records(path, self)
            self.resume_from = self._old[2]

    def begin(self, layers, start=0):
        super().begin(layers, start)
        if not self.stream:
            return
        if self._old is not None:
            if start > self.resume_from:
                raise ValueError("trace %s holds %d iterations: cannot resume at %d"
                                 % (self.path, self.resume_from, start))
            self.changes = [c for c in self._old[0] if c[0] < start]
            self.overheads = [(a, min(b, start), o, bits, lab)
                              for a, b, o, bits, lab in self._old[1] if a < start]
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        head = "\n".join(header_lines(self, self.epochs, "streaming: the run so far") +
                         record_lines(self.changes, self.overheads)) + "\n"
        tail = "partial %d\n" % start if start else ""
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(head + tail)
        os.replace(tmp, self.path)
        self._fd = os.open(self.path, os.O_WRONLY)
        self._tail = len(head.encode())
        self._pending, self._pending_ov = len(self.changes), len(self.overheads)

    def flush(self, iterations):
        """Iterations [0, iterations) are complete: their records go to disk, then the
        'partial' line, in one write (so a kill leaves the old state or the new one)."""
        if self._fd is None:
            return
        new = self.changes[self._pending:]
        news = self.overheads[self._pending_ov:]
        body = record_lines(new, news)
        text = "".join(l + "\n" for l in body) + "partial %d\n" % iterations
        data = text.encode()
        os.pwrite(self._fd, data, self._tail)
        self._tail += len(data) - len(("partial %d\n" % iterations).encode())
        self._pending, self._pending_ov = len(self.changes), len(self.overheads)

    def end(self, iterations, header):
        super().end(iterations, header)
        self.params = header.get("params", self.params)
        self.provenance = header.get("provenance", self.provenance)
        self.accuracy = header.get("accuracy")   # final accuracy, percent (header `accuracy`)
        if self.batch < 1 or self.iters_per_epoch < 1 or self.epochs < 1:
            self._close_fd()
            raise ValueError("trace %s: batch, iters_per_epoch and epochs must be >= 1"
                             % self.path)
        if iterations < 1:
            self._close_fd()
            raise ValueError("trace %s: no iteration was captured" % self.path)
        planned = self.iters_per_epoch * self.epochs
        if iterations > planned:
            self._close_fd()
            raise ValueError("trace %s: %d iterations captured, more than the planned %d x %d"
                             % (self.path, iterations, self.iters_per_epoch, self.epochs))
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(trace_text(self, iterations))
        os.replace(tmp, self.path)
        self._close_fd()
        self.closed = True

    def _close_fd(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


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


def read_records(path, sink):
    """(changes, overheads, iterations held) of a trace this module wrote at path, checked
    against sink's run (model, batch, iters_per_epoch); ValueError when it cannot be
    continued."""
    changes, overheads, held, head = [], [], None, {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if words[0] == "from":
                values = {}
                for kv in words[3:]:
                    k, v = kv.split("=", 1)
                    values[k] = float(v) if k.startswith("d") else v
                changes += [(int(words[1]), layer, dict(values))
                            for layer in words[2].split(",")]
            elif words[0] == "overhead":
                first, _, end = words[1].partition(":")
                kv = dict(w.split("=", 1) for w in words[2:])
                overheads.append((int(first), int(end) if end else int(first) + 1,
                                  int(kv["ops"]), int(kv["bits"]), kv["label"]))
            elif words[0] == "partial":
                held = int(words[1])
            elif words[0] == "end":
                held = int(head["iters_per_epoch"]) * int(head["epochs"])
            elif len(words) >= 2:
                head[words[0]] = words[1]
    want = {"model": sink.model_ref, "batch": str(sink.batch),
            "iters_per_epoch": str(sink.iters_per_epoch)}
    for k, v in want.items():
        if head.get(k) != v:
            raise ValueError("%s: cannot resume: its %s is %r, this run's %r"
                             % (path, k, head.get(k), v))
    if held is None:
        raise ValueError("%s: cannot resume: no 'partial' or 'end' line (not written by "
                         "traces/capture?)" % path)
    return changes, overheads, held


def header_lines(s, epochs, note):
    lines = ["bitsim-trace 1",
             "# written by traces/capture (change records only; %s)" % note,
             "model %s" % s.model_ref,
             "batch %d" % s.batch,
             "iters_per_epoch %d" % s.iters_per_epoch,
             "epochs %d" % epochs,
             "scheme %s" % s.scheme]
    if s.params:
        lines.append("params %s" % one_line(s.params))
    if s.provenance:
        lines.append("provenance %s" % one_line(s.provenance))
    if getattr(s, "accuracy", None) is not None:
        lines.append("accuracy %s" % repr(float(s.accuracy)))
    return lines


def record_lines(changes, overheads):
    """`from` and `overhead` lines in iteration order (changes of an iteration before its
    overheads); layers of one iteration whose changes are identical share one record."""
    events = []
    by_iter = {}
    for pos, (it, layer, values) in enumerate(changes):
        fields = record_fields(values)
        group = by_iter.setdefault(it, {})
        if fields not in group:
            group[fields] = []
            events.append((it, 0, pos, fields))
        group[fields].append(layer)
    for pos, (first, end, ops, bits, label) in enumerate(overheads):
        rng = "%d" % first if end == first + 1 else "%d:%d" % (first, end)
        events.append((first, 1, pos, "overhead %s ops=%d bits=%d label=%s"
                       % (rng, ops, bits, label)))
    events.sort(key=lambda e: e[:3])
    return ["from %d %s %s" % (it, ",".join(by_iter[it][text]), text) if kind == 0 else text
            for it, kind, _, text in events]


def trace_text(s, iterations=None):
    """The trace text of a finished sink (traces/FORMAT.md).  iterations: the run actually
    trained (default: the whole plan); the header gets the epochs begun, and the text ends
    in `partial N` when the last of them was cut short."""
    planned = s.iters_per_epoch * s.epochs
    iterations = planned if iterations is None else iterations
    epochs = -(-iterations // s.iters_per_epoch)
    lines = header_lines(s, epochs, "complete" if iterations == epochs * s.iters_per_epoch
                         else "cut after %d iterations" % iterations)
    lines += record_lines(s.changes, s.overheads)
    lines.append("end" if iterations == epochs * s.iters_per_epoch else
                 "partial %d" % iterations)
    return "\n".join(lines) + "\n"


def model_text(hook, name, description=""):
    """The model file of the graph a CaptureHook recorded (graph.model_text)."""
    from .graph import model_text as graph_model_text
    return graph_model_text(hook.graph, name, description)
