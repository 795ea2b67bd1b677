"""hook.py -- records what a PyTorch training run decided, as a bitsim model and trace.

A CaptureHook is attached to a model once and told, once per training iteration, that the
iteration is over (`step()`).  At construction it records the model's whole forward graph
(graph.py: functional ops included, names as PyTorch spells them, unsupported ops reported);
the model file is `hook.model_text(name)`.  During training it learns, per MAC layer (conv,
linear, and the projections of nn.MultiheadAttention):

  * the formats of W, A, G, WG -- read automatically where the training code states them
    (formats.py: a layer's `bitsim_format` attribute, torch.ao FakeQuantize modules, autocast
    and half-precision dtypes), or reported with `set_format(layer, tensor, fmt)`, which wins;
  * the densities (fraction of non-zeros) of the weight W, the input activation A and the
    gradient G arriving at the layer's output.

How G is seen: on sampled iterations the forward hook registers a *tensor* hook on the layer's
output (no full backward hooks: those wrap the output in a view that `ReLU(inplace=True)`
then modifies, pytorch/pytorch#61519).  A tensor hook registered before an in-place op still
receives the gradient of the value the layer produced.

Why it is cheap: densities are measured only on sampled iterations (every `every`-th, starting
with iteration 0); between samples the last measurement holds, exactly like the trace's
piecewise-constant semantics.  A measurement is one count_nonzero per tensor.  The forward
hooks stay attached (they read formats and cost microseconds); nothing touches the backward
pass of an unsampled iteration.

Why the trace is small: a change record is emitted for a layer only when one of its values
changed since the last record -- formats exactly, densities by at least `density_step`
(default 0.01) -- and the first record of every layer (iteration 0) carries every field.

Which tensors are measured: what the layer's arithmetic saw.  By default the module's input,
`module.weight` and the gradient w.r.t. its output; a layer that quantises internally
(capture.quant.QConv2d / QLinear) publishes the tensors it multiplied as `bitsim_a`,
`bitsim_w`, `bitsim_g`, and those win.  A module called k times in one iteration is k layers
(`name`, `name:2`, ...), measured call by call.  Matmul layers get formats but no measured
densities (trace default 1); the q/k/v projections of MultiheadAttention get W and A.

Output goes to a sink (sinks.py): begin(layers), change(iteration, layer, values),
flush(iterations done) after every step, end(iterations, header).  Use the hook as a context
manager, or call close(): a run that stops early (or raises) is closed with the iterations
actually trained.
"""

import contextlib
import time

import torch

from . import formats as fmts
from .graph import ArgSpy, capture_graph, model_text as graph_model_text
from .sinks import DENSITY_TENSORS, TENSORS, ChangeFilter


def density(t):
    """Fraction of non-zero elements of a tensor (1.0 for an empty one)."""
    n = t.numel()
    return 1.0 if n == 0 else torch.count_nonzero(t).item() / n


class CaptureHook:
    def __init__(self, model, example_input, sink, every=10, density_step=0.01,
                 header=None, default_format="fp32", start_iteration=None):
        """start_iteration: the first iteration this hook sees (a resumed run); default: where
        the sink's trace stops (TraceFileSink(..., resume=True)), else 0."""
        if every < 1:
            raise ValueError("every must be >= 1")
        self.model, self.sink = model, sink
        self.every = every
        self.header = dict(header or {})
        self.iteration = 0
        self.graph = capture_graph(model, example_input)
        self.layers = self.graph.layers
        self.input_shape = self.graph.input_shape
        self.mac_layers = self.graph.mac_layers()
        self.default_format = default_format
        self.explicit = {l.name: {} for l in self.mac_layers}
        self.auto = {l.name: {} for l in self.mac_layers}
        self.densities = {l.name: {t: None for t in DENSITY_TENSORS} for l in self.mac_layers}
        self.filter = ChangeFilter(density_step)
        self.records = 0
        self.measure_seconds = 0.0
        self.closed = False
        # module -> its layers by call order (MultiheadAttention: all four projections)
        self.by_module = {}
        for l in self.mac_layers:
            if l.module is not None:
                self.by_module.setdefault(l.module, []).append(l)
        self.calls = {}
        self._paused = False
        self._handles = [m.register_forward_hook(self._forward_hook(m))
                         for m in self.by_module]
        self._spy = ArgSpy(m for m in self.by_module if isinstance(m, torch.nn.MultiheadAttention))
        if start_iteration is None:
            start_iteration = getattr(sink, "resume_from", 0)
        self.iteration = start_iteration
        self.sink.begin([l.name for l in self.mac_layers], start_iteration)
        for it, layer, values in self.sink.changes:   # a resumed trace: what it already says
            self.filter.emitted.setdefault(layer, {}).update(values)

    # ---- measurement -------------------------------------------------------------------------
    def sampling(self):
        return self.iteration % self.every == 0

    def _layers_of_call(self, module):
        n = self.calls[module] = self.calls.get(module, 0) + 1
        ls = self.by_module[module]
        if isinstance(module, torch.nn.MultiheadAttention):
            return ls[4 * (n - 1):4 * n]
        return ls[n - 1:n]

    def _forward_hook(self, module):
        def hook(mod, inputs, output):
            if not mod.training or self._paused:
                return
            for layer in self._layers_of_call(mod):
                self.auto[layer.name] = fmts.detect(mod, inputs, layer, self.graph)
                if self.sampling():
                    self._sample(mod, inputs, output, layer)
        return hook

    def _sample(self, mod, inputs, output, layer):
        arg = layer.tensor_arg or 0
        if layer.tensor_arg is not None:
            inputs = self._spy.qkv(mod)       # MultiheadAttention: query, key, value
        if "A" in layer.needs:
            a = getattr(mod, "bitsim_a", None)
            if a is None and len(inputs) > arg and torch.is_tensor(inputs[arg]):
                a = inputs[arg]
            if a is not None:
                self._measure(layer.name, "A", a)
        w = getattr(mod, "bitsim_w", None)
        if w is None:
            w = layer.weight if layer.wslice is None else \
                layer.weight[layer.wslice[0]:layer.wslice[1]]
        if w is not None:
            self._measure(layer.name, "W", w)
        if "G" not in layer.needs or hasattr(mod, "bitsim_g"):
            return      # bitsim_g: read at step(), what the layer's backward used
        out = output[0] if isinstance(output, tuple) else output
        if torch.is_tensor(out) and out.requires_grad:
            name = layer.name

            def on_grad(g):
                self._measure(name, "G", g)
            out.register_hook(on_grad)

    def _measure(self, layer, tensor, value):
        t0 = time.perf_counter()
        self.densities[layer][tensor] = density(value.detach())
        self.measure_seconds += time.perf_counter() - t0

    # ---- decisions ---------------------------------------------------------------------------
    def set_format(self, layer, tensor, fmt):
        """Reports that from the current iteration on, `tensor` of `layer` uses format fmt
        (overrides what formats.py reads from the model; None returns to it)."""
        if layer not in self.explicit:
            raise KeyError("unknown MAC layer %r (known: %s)"
                           % (layer, ", ".join(self.explicit)))
        if tensor not in TENSORS:
            raise KeyError("unknown tensor %r (known: %s)" % (tensor, ", ".join(TENSORS)))
        if fmt is None:
            self.explicit[layer].pop(tensor, None)
        else:
            self.explicit[layer][tensor] = fmts.normalise(fmt, "%s %s" % (layer, tensor))

    def set_formats(self, layer, fmt):
        for t in TENSORS:
            self.set_format(layer, t, fmt)

    def formats(self, layer):
        """The formats layer uses now: set_format, else read from the model, else default."""
        out = {t: self.default_format for t in TENSORS}
        out.update(self.auto[layer])
        out.update(self.explicit[layer])
        return out

    # ---- records -----------------------------------------------------------------------------
    def step(self):
        """Ends the current iteration: emits change records, flushes, advances the counter."""
        if self.sampling():
            for layer in self.mac_layers:
                g = getattr(layer.module, "bitsim_g", None) if layer.module is not None else None
                if g is not None and "G" in layer.needs:
                    self._measure(layer.name, "G", g)
        for info in self.mac_layers:
            values = self.filter.changes(info.name, self.formats(info.name),
                                         self.densities[info.name])
            if self.iteration == 0:
                missing = [t for t in info.needs if "d" + t not in values]
                if missing:
                    raise RuntimeError("layer %s: no %s density measured in iteration 0 (was the "
                                       "model run forward and backward in train mode?)"
                                       % (info.name, "/".join(missing)))
            if values:
                self.sink.change(self.iteration, info.name, values)
                self.records += 1
        self.iteration += 1
        self.calls.clear()
        self.sink.flush(self.iteration)

    def close(self, provenance=None):
        """Finishes the trace with the iterations actually trained; `provenance` (e.g. the
        accuracy reached) joins the header."""
        if self.closed:
            return
        self.closed = True
        for h in self._handles:
            h.remove()
        self._handles = []
        self._spy.remove()
        self.header.update(provenance or {})
        self.sink.end(self.iteration, self.header)

    @contextlib.contextmanager
    def paused(self):
        """Forward passes inside are not training iterations (evaluation in train mode, batch-
        norm recalibration): nothing is read or measured."""
        self._paused, was = True, self._paused
        try:
            yield self
        finally:
            self._paused = was

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if not self.closed and self.iteration > 0:
            if kind is not None:
                self.header.setdefault("provenance", "")
                self.header["provenance"] = (self.header["provenance"] + "; run stopped by %s "
                                             "after %d iterations" % (kind.__name__,
                                                                      self.iteration)).lstrip("; ")
            self.close()
        return False

    def model_text(self, name, description=""):
        return graph_model_text(self.graph, name, description)
