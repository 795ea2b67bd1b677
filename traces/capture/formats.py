"""formats.py -- the number formats a layer uses, read from the training code where it says so.

The capture hook asks `detect(module, inputs, layer, graph)` at every training forward call of
a MAC layer.  Sources, the first that states a tensor's format wins (CaptureHook.set_format
overrides them all):

1. The attribute protocol, for custom layers: a module may carry `bitsim_format`, either one
   format for all of W, A, G, WG, or a dict naming some of them, e.g.
       self.bitsim_format = {"W": 4, "A": "int4", "G": "fx8.6"}
   Values are bitsim format text (traces/FORMAT.md: int6, fx8.4, bfp8/e8/b16, fp16, bf16,
   fp8e4m3, ...) or a bit-width (an integer: intB; 32 is fp32).  It is read at every call, so
   a layer that changes its precision just updates the attribute.  capture.quant's QConv2d /
   QLinear publish their `bits` this way.
2. torch.ao quantisation-aware training: a layer's `weight_fake_quant` gives W, and a
   FakeQuantize module that produced the layer's input (graph.py follows it) gives A; each
   counts ceil(log2(quant_max - quant_min + 1)) bits (quant_min/quant_max of the FakeQuantize,
   else of its observer), as intB, while its fake_quant_enabled flag is on.
3. The dtype the arithmetic runs in: inside torch.autocast (CPU or CUDA) a conv/linear runs in
   the autocast dtype, so W, A and G are fp16 or bf16; a module whose weights are half
   (`model.half()`) runs in that dtype, WG included.  Otherwise nothing is stated (fp32).
"""

import math
import re

import torch

TENSORS = ("W", "A", "G", "WG")
FORMAT_RE = re.compile(r"^(fx\d+\.-?\d+|int\d+|bfp\d+/e\d+(/b\d+)?|fp32|fp16|bf16|fp8e4m3|"
                       r"fp8e5m2|fp\d+e\d+m\d+)$")
DTYPE_FORMAT = {torch.float16: "fp16", torch.bfloat16: "bf16", torch.float32: "fp32"}


def normalise(value, what="format"):
    """bitsim format text of an int bit-width or a format string; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("%s: %r is not a format" % (what, value))
    if isinstance(value, int):
        if not 1 <= value <= 32:
            raise ValueError("%s: bit-width %d outside 1..32" % (what, value))
        return "fp32" if value == 32 else "int%d" % value
    text = str(value).strip()
    if not FORMAT_RE.match(text):
        raise ValueError("%s: %r is not a bitsim format (int6, fx8.4, bfp8/e8/b16, fp16, bf16, "
                         "fp8e4m3 ...)" % (what, text))
    for b in re.findall(r"\d+", text)[:1]:
        if not 1 <= int(b) <= 32:
            raise ValueError("%s: %r: bit-width outside 1..32" % (what, text))
    return text


def fake_quant_bits(fq):
    """Bits of a torch.ao FakeQuantize (or observer) from quant_min/quant_max, or None when it
    is disabled or states no range."""
    enabled = getattr(fq, "fake_quant_enabled", None)
    if enabled is not None and torch.is_tensor(enabled) and not bool(enabled.reshape(-1)[0]):
        return None
    lo, hi = getattr(fq, "quant_min", None), getattr(fq, "quant_max", None)
    if lo is None or hi is None:
        obs = getattr(fq, "activation_post_process", None)
        lo, hi = getattr(obs, "quant_min", None), getattr(obs, "quant_max", None)
    if lo is None or hi is None or hi <= lo:
        return None
    return max(1, math.ceil(math.log2(int(hi) - int(lo) + 1)))


def _attribute(module, layer):
    spec = getattr(module, "bitsim_format", None)
    if spec is None:
        return {}
    what = "%s.bitsim_format" % layer.name
    if isinstance(spec, dict):
        bad = [k for k in spec if k not in TENSORS]
        if bad:
            raise ValueError("%s: unknown tensor %r (known: %s)" % (what, bad[0],
                                                                   ", ".join(TENSORS)))
        return {t: normalise(v, what) for t, v in spec.items() if v is not None}
    f = normalise(spec, what)
    return {t: f for t in TENSORS}


def _fake_quant(module, layer, graph):
    out = {}
    wfq = getattr(module, "weight_fake_quant", None)
    if wfq is not None:
        b = fake_quant_bits(wfq)
        if b is not None:
            out["W"] = normalise(b)
    afq = getattr(graph, "fq_input", {}).get(layer.name)
    if afq is not None:
        b = fake_quant_bits(afq)
        if b is not None:
            out["A"] = normalise(b)
    return out


def _dtype(module, inputs):
    x = next((t for t in inputs if torch.is_tensor(t)), None)
    if x is not None and x.is_floating_point():
        if x.device.type == "cuda" and torch.is_autocast_enabled():
            f = DTYPE_FORMAT.get(torch.get_autocast_gpu_dtype())
            return {"W": f, "A": f, "G": f} if f and f != "fp32" else {}
        if x.device.type == "cpu" and hasattr(torch, "is_autocast_cpu_enabled") and \
                torch.is_autocast_cpu_enabled():
            f = DTYPE_FORMAT.get(torch.get_autocast_cpu_dtype())
            return {"W": f, "A": f, "G": f} if f and f != "fp32" else {}
    w = getattr(module, "weight", None)
    if torch.is_tensor(w) and w.dtype in (torch.float16, torch.bfloat16):
        f = DTYPE_FORMAT[w.dtype]
        return {t: f for t in TENSORS}
    return {}


def detect(module, inputs, layer, graph):
    """The formats the training code states for layer (a graph.Layer) at this call."""
    out = _dtype(module, inputs)
    out.update(_fake_quant(module, layer, graph))
    out.update(_attribute(module, layer))
    return out
