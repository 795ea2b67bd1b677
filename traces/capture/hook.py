"""hook.py -- records what a PyTorch training run decided, as a bitsim model and trace.

A CaptureHook is attached to a model once and told, once per training iteration, that the
iteration is over (`step()`).  In between it learns two things per MAC layer (conv, linear):

  * the precision decisions the training code reports with `set_format(layer, tensor, fmt)`
    (tensors W, A, G, WG; formats in bitsim's text form, e.g. "int8", "fx8.4", "fp32");
  * the densities (fraction of non-zeros) of the weight W, the input activation A and the
    output gradient G, measured by forward and full-backward hooks.

Why it is cheap: densities are measured only on sampled iterations (every `every`-th, starting
with iteration 0); between samples the last measurement holds, exactly like the trace's
piecewise-constant semantics ("from iteration i on ...").  A measurement costs one
count_nonzero per tensor, and the module hooks are attached only for sampled iterations, so the
others run the model untouched.

Why the trace is small: a change record is emitted for a layer only when one of its values
changed since the last record -- formats exactly, densities by at least `density_step`
(default 0.01, i.e. one per cent) -- so a run of thousands of iterations becomes a few hundred
records.  The first record of every layer (iteration 0) carries every field.

Which tensors are measured: what the layer's arithmetic saw.  By default that is the module's
input, `module.weight` and the gradient w.r.t. its output; a layer that quantises internally
(capture.quant.QConv2d / QLinear) publishes the quantised tensors as `bitsim_a`, `bitsim_w`,
`bitsim_g`, and those win.  A module called several times in one iteration (shared weights)
reports its last call.  Layers are named after their module path with every character
outside [A-Za-z0-9_] replaced by '_' ("features.0" -> "features_0").

Output goes to a sink (see sinks.py): anything with begin(layers), change(iteration, layer,
values) and end(iterations, header) -- the header comes last because the provenance (accuracy
reached) is known only when training is over.  The layer shapes seen by `record_shapes` become the model
file (model_text()).
"""

import re
import time

import torch
import torch.nn as nn

from .sinks import DENSITY_TENSORS, TENSORS, ChangeFilter

# Leaf module types the model file knows: (type, kind, op).  Subclasses match too
# (QConv2d is a Conv2d); the first match wins, so more specific types come first.
LAYER_KINDS = (
    (nn.Conv2d, "conv", ""),
    (nn.Linear, "linear", ""),
    (nn.MaxPool2d, "pool", "max"),
    (nn.AvgPool2d, "pool", "avg"),
    (nn.AdaptiveAvgPool2d, "pool", "avg"),
    (nn.BatchNorm2d, "norm", "batch"),
    (nn.BatchNorm1d, "norm", "batch"),
    (nn.LayerNorm, "norm", "layer"),
    (nn.ReLU, "act", "relu"),
    (nn.Tanh, "act", "tanh"),
    (nn.Sigmoid, "act", "sigmoid"),
    (nn.GELU, "act", "gelu"),
    (nn.Softmax, "softmax", ""),
)


def layer_kind(module):
    for cls, kind, op in LAYER_KINDS:
        if isinstance(module, cls):
            return kind, op
    return None, None


def density(t):
    """Fraction of non-zero elements of a tensor (1.0 for an empty one)."""
    n = t.numel()
    return 1.0 if n == 0 else torch.count_nonzero(t).item() / n


def safe_name(path):
    return re.sub(r"[^A-Za-z0-9_]", "_", path) or "input"


def chw(shape):
    """Per-sample (c, h, w) of a batched tensor shape: NCHW, NC, or N x tokens x hidden."""
    dims = list(shape[1:])
    if len(dims) == 3:
        return tuple(dims)
    if len(dims) == 2:
        return (1, dims[0], dims[1])
    if len(dims) == 1:
        return (dims[0], 1, 1)
    raise ValueError("cannot describe tensor shape %r per sample" % (tuple(shape),))


class LayerInfo:
    """Shape record of one leaf layer, in execution order."""

    def __init__(self, name, module, kind, op, in_shape, out_shape, source=None):
        self.name, self.module, self.kind, self.op = name, module, kind, op
        self.in_shape, self.out_shape = in_shape, out_shape
        self.source = source    # producer of the input when not the layer above, else None

    @property
    def is_mac(self):
        return self.kind in ("conv", "linear")


class CaptureHook:
    def __init__(self, model, example_input, sink, every=10, density_step=0.01,
                 header=None, default_format="fp32"):
        if every < 1:
            raise ValueError("every must be >= 1")
        self.model, self.sink = model, sink
        self.every = every
        self.header = dict(header or {})
        self.iteration = 0
        self.layers = self.record_shapes(example_input)
        self.mac_layers = [l for l in self.layers if l.is_mac]
        self.formats = {l.name: {t: default_format for t in TENSORS} for l in self.mac_layers}
        self.densities = {l.name: {t: None for t in DENSITY_TENSORS} for l in self.mac_layers}
        self.filter = ChangeFilter(density_step)
        self.records = 0
        self.measure_seconds = 0.0
        self._handles = []
        self._attach()
        self.sink.begin([l.name for l in self.mac_layers])

    # ---- shapes ------------------------------------------------------------------------------
    def record_shapes(self, example_input):
        """Runs one forward pass (no grad) and records every known leaf layer's shapes.

        Which layer produced a layer's input is found by storage address (views such as
        flatten share it); when that is not the layer above, the record names it (from=).
        Tensors made by functional code (x + y) have no producing layer: such a layer is
        assumed to read the layer above, so branched networks need their joins as modules."""
        names = {m: safe_name(n) for n, m in self.model.named_modules()}
        seen, handles = [], []
        producer = {example_input.data_ptr(): "input"}
        alive = []      # outputs kept alive, so that no later tensor reuses their address

        def on_forward(module, inputs, output):
            kind, op = layer_kind(module)
            src = producer.get(inputs[0].data_ptr())
            above = seen[-1].name if seen else "input"
            info = LayerInfo(names[module], module, kind, op, chw(inputs[0].shape),
                             chw(output.shape), src if src not in (None, above) else None)
            seen.append(info)
            producer[output.data_ptr()] = info.name
            alive.append(output)

        for m in self.model.modules():
            if layer_kind(m)[0] is not None:
                handles.append(m.register_forward_hook(on_forward))
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                self.model(example_input)
        finally:
            for h in handles:
                h.remove()
            self.model.train(was_training)
        self.input_shape = chw(example_input.shape)
        return seen

    # ---- measurement -------------------------------------------------------------------------
    # The hooks are attached only for sampled iterations: a registered full-backward hook makes
    # PyTorch wrap every call of the module, which costs even when the hook returns at once.
    def _attach(self):
        if self._handles:
            return
        for info in self.mac_layers:
            self._handles.append(info.module.register_forward_hook(self._forward_hook(info)))
            self._handles.append(
                info.module.register_full_backward_hook(self._backward_hook(info)))

    def _detach(self):
        for h in self._handles:
            h.remove()
        self._handles = []

    def sampling(self):
        return self.iteration % self.every == 0

    def _forward_hook(self, info):
        def hook(module, inputs, output):
            if not (module.training and self.sampling()):
                return
            a = getattr(module, "bitsim_a", None)
            w = getattr(module, "bitsim_w", None)
            self._measure(info.name, "A", a if a is not None else inputs[0])
            self._measure(info.name, "W", w if w is not None else module.weight)
        return hook

    def _backward_hook(self, info):
        def hook(module, grad_input, grad_output):
            if not (module.training and self.sampling()):
                return
            g = getattr(module, "bitsim_g", None)
            if g is None:
                g = grad_output[0]
            if g is not None:
                self._measure(info.name, "G", g)
        return hook

    def _measure(self, layer, tensor, value):
        t0 = time.perf_counter()
        self.densities[layer][tensor] = density(value.detach())
        self.measure_seconds += time.perf_counter() - t0

    # ---- decisions ---------------------------------------------------------------------------
    def set_format(self, layer, tensor, fmt):
        """Reports that from the current iteration on, `tensor` of `layer` uses format fmt."""
        if layer not in self.formats:
            raise KeyError("unknown MAC layer %r (known: %s)" % (layer, ", ".join(self.formats)))
        if tensor not in TENSORS:
            raise KeyError("unknown tensor %r (known: %s)" % (tensor, ", ".join(TENSORS)))
        self.formats[layer][tensor] = str(fmt)

    def set_formats(self, layer, fmt):
        for t in TENSORS:
            self.set_format(layer, t, fmt)

    # ---- records -----------------------------------------------------------------------------
    def step(self):
        """Ends the current iteration: emits change records, then advances the counter."""
        for info in self.mac_layers:
            values = self.filter.changes(info.name, self.formats[info.name],
                                         self.densities[info.name])
            if self.iteration == 0:
                missing = [t for t in DENSITY_TENSORS if "d" + t not in values]
                if missing:
                    raise RuntimeError("layer %s: no %s density measured in iteration 0 (was the "
                                       "model run forward and backward in train mode?)"
                                       % (info.name, "/".join(missing)))
            if values:
                self.sink.change(self.iteration, info.name, values)
                self.records += 1
        self.iteration += 1
        if self.sampling():
            self._attach()
        else:
            self._detach()

    def close(self, provenance=None):
        """Finishes the trace: `provenance` (e.g. accuracy reached) joins the header."""
        self._detach()
        self.header.update(provenance or {})
        self.sink.end(self.iteration, self.header)
