"""quant.py -- fake quantisation of weights, activations and gradients for the capture examples.

What it emulates: fixed-point arithmetic of BW bits with a power-of-two scale chosen per tensor
and per call from the tensor's largest magnitude ("dynamic fixed point"): the fractional length
is FL = BW - 1 - ceil(log2(max|x|)), values are rounded to multiples of 2^-FL and saturated to
[-2^(BW-1), 2^(BW-1) - 1] * 2^-FL.  Because FL follows the data, a trace records these tensors as
intBW (an integer of BW bits times a shared scale); the cost model only needs BW.

Rounding is stochastic (Gupta et al., ICML 2015): x is rounded up with probability equal to its
distance from the lower grid point, so the rounding error has zero mean and small gradients
survive low precision on average -- the rounding quantised training relies on.

Gradients are quantised with an autograd function whose forward is the identity and whose
backward rounds the incoming gradient; forward values use a straight-through estimator (the
gradient of round() is taken as 1).  Layers QConv2d / QLinear quantise their input activation (A),
weight (W) and output gradient (G) with the bit-widths held in `bits` (a dict W/A/G -> int or None
for fp32), and expose the tensors they actually multiplied as `bitsim_a`, `bitsim_w`, `bitsim_g`
so that the capture hook measures densities of what the arithmetic really saw.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def fixed_point_quantise(x, bits, stochastic=True, generator=None):
    """Rounds x onto a BW-bit fixed-point grid scaled to its own range; returns a new tensor.

    bits None (or >= 32) means fp32: x is returned unchanged.  An all-zero tensor stays zero.
    """
    if bits is None or bits >= 32:
        return x
    if bits < 2:
        raise ValueError("fixed point needs at least 2 bits (sign + 1), got %r" % (bits,))
    max_abs = x.detach().abs().max().item() if x.numel() else 0.0
    if max_abs == 0.0 or not math.isfinite(max_abs):
        return x
    frac_bits = bits - 1 - math.ceil(math.log2(max_abs))
    step = 2.0 ** (-frac_bits)
    scaled = x / step
    if stochastic:
        noise = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        scaled = torch.floor(scaled + noise)
    else:
        scaled = torch.round(scaled)
    top = 2.0 ** (bits - 1)
    return torch.clamp(scaled, -top, top - 1) * step


class _QuantiseForward(torch.autograd.Function):
    """Forward: fixed_point_quantise; backward: straight through."""

    @staticmethod
    def forward(ctx, x, bits):
        return fixed_point_quantise(x, bits)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class _QuantiseBackward(torch.autograd.Function):
    """Forward: identity; backward: quantises the gradient and hands it to `sink`."""

    @staticmethod
    def forward(ctx, x, bits, sink):
        ctx.bits = bits
        ctx.sink = sink
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        q = fixed_point_quantise(grad, ctx.bits)
        if ctx.sink is not None:
            ctx.sink(q)
        return q, None, None


def quantise_forward(x, bits):
    return x if bits is None else _QuantiseForward.apply(x, bits)


def quantise_backward(x, bits, sink=None):
    if bits is None and sink is None:
        return x
    return _QuantiseBackward.apply(x, bits, sink)


class _QuantisedMac:
    """Mixin (listed before the torch layer) of QConv2d and QLinear: W, A, G quantisation and
    the bitsim_* tensors.  Subclasses give _mac(a, w), the layer's product."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bits = {"W": None, "A": None, "G": None}
        self.bitsim_a = self.bitsim_w = self.bitsim_g = None

    @property
    def bitsim_format(self):
        """The attribute protocol of formats.py: what this layer quantises W, A, G to."""
        return {t: ("fp32" if b is None else "int%d" % b) for t, b in self.bits.items()}

    def _store_g(self, g):
        self.bitsim_g = g

    def forward(self, x):
        a = quantise_forward(x, self.bits["A"])
        w = quantise_forward(self.weight, self.bits["W"])
        if self.training:
            self.bitsim_a, self.bitsim_w = a.detach(), w.detach()
        y = self._mac(a, w)
        # G is the error arriving at this layer's output: it multiplies W (BWD_DATA) and A
        # (BWD_WEIGHT), so it is quantised where it enters the layer.
        return quantise_backward(y, self.bits["G"], self._store_g if self.training else None)


class QConv2d(_QuantisedMac, nn.Conv2d):
    def _mac(self, a, w):
        return self._conv_forward(a, w, self.bias)


class QLinear(_QuantisedMac, nn.Linear):
    def _mac(self, a, w):
        return F.linear(a, w, self.bias)


def quantised_layers(model):
    """(name, module) of every QConv2d / QLinear in model, in registration order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, _QuantisedMac)]
