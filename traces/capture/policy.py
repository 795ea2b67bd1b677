"""policy.py -- two precision policies for the capture examples: CPT's cyclic schedule and a
per-layer adaptive policy in AdaPT's spirit.

CPT (Fu et al., "CPT: Efficient Deep Neural Network Training via Cyclic Precision", ICLR 2021,
Eq. 1): the forward precision of W and A cycles between b_min and b_max along a cosine,
    b(t) = ceil(b_min + 1/2 (b_max - b_min) (1 - cos(pi * (t mod P) / P))),
with P = total iterations / cycles; gradients stay at a fixed precision (8 bits in the paper).

Adaptive (after Kummer et al., AdaPT / MARViN, lorenz0890/AdaPT optimizers/msgd_fp.py): every
`interval` iterations and per layer,
  * push-down: the smallest word length b in [b_min, b_max] whose rounding of the layer's fp32
    weights keeps the Kullback-Leibler divergence between the weight histogram and the quantised
    weights' histogram (`resolution` bins over the weights' range) below `kl_eps`;
  * push-up: the gradient diversity of the last `lookback` weight gradients (Yin et al., 2018),
        GD = sum_i ||g_i||^2 / ||sum_i g_i||^2,
    adds s extra bits: with l = ln GD - 1, s = max(1, ceil(1 / l^2)) when l > 0 (AdaPT's s1
    term), else 1; s is capped at `max_push_up`.
The layer's new word length is clamp(push_down + s) and applies to its W, A, G and WG, as AdaPT
applies one <WL, FL> per layer.  This is a simplification: AdaPT also searches the fractional
length, adapts lookback and resolution, and runs on accumulated gradients.

Both return bit-widths; the example turns them into formats ("intB") and reports them to the
capture hook.  The adaptive policy also reports the work of its checks (operation counts), which
the trace keeps as scheme overhead.
"""

import math

import torch

from .quant import fixed_point_quantise


class CptSchedule:
    def __init__(self, total_iters, cycles=8, min_bits=3, max_bits=8, grad_bits=8):
        if total_iters < 1 or cycles < 1 or not 2 <= min_bits <= max_bits <= 32:
            raise ValueError("bad CPT schedule parameters")
        self.total_iters, self.cycles = total_iters, cycles
        self.min_bits, self.max_bits, self.grad_bits = min_bits, max_bits, grad_bits
        self.period = max(1, total_iters // cycles)

    def forward_bits(self, it):
        phase = (it % self.period) / self.period
        b = self.min_bits + 0.5 * (self.max_bits - self.min_bits) * (1 - math.cos(math.pi * phase))
        return min(self.max_bits, math.ceil(b - 1e-9))

    def params(self):
        return "cycles=%d bmin=%d bmax=%d bgrad=%d" % (self.cycles, self.min_bits,
                                                       self.max_bits, self.grad_bits)


def kl_divergence(p_samples, q_samples, resolution):
    """KL(P || Q) of two samples' histograms over P's range, with a small floor on Q."""
    lo, hi = p_samples.min().item(), p_samples.max().item()
    if hi <= lo:
        return 0.0
    p = torch.histc(p_samples, bins=resolution, min=lo, max=hi)
    q = torch.histc(q_samples.clamp(lo, hi), bins=resolution, min=lo, max=hi)
    p = p / p.sum()
    q = (q + 1e-6) / (q + 1e-6).sum()
    mask = p > 0
    return torch.sum(p[mask] * torch.log(p[mask] / q[mask])).item()


def gradient_diversity(grads):
    """sum ||g_i||^2 / ||sum g_i||^2 (Yin et al., AISTATS 2018); inf when the sum vanishes."""
    total = torch.zeros_like(grads[0])
    sq = 0.0
    for g in grads:
        total += g
        sq += torch.sum(g * g).item()
    denom = torch.sum(total * total).item()
    return float("inf") if denom == 0.0 else sq / denom


class AdaptivePolicy:
    def __init__(self, layers, interval=50, lookback=8, min_bits=4, max_bits=16, start_bits=8,
                 kl_eps=0.01, resolution=64, max_push_up=4):
        self.layers = dict(layers)      # name -> module with .weight
        self.interval, self.lookback = interval, lookback
        self.min_bits, self.max_bits = min_bits, max_bits
        self.kl_eps, self.resolution, self.max_push_up = kl_eps, resolution, max_push_up
        self.bits = {n: start_bits for n in self.layers}
        self.history = {n: [] for n in self.layers}
        self.start_bits = start_bits

    def params(self):
        return ("interval=%d lookback=%d bmin=%d bmax=%d bstart=%d kl_eps=%g resolution=%d"
                % (self.interval, self.lookback, self.min_bits, self.max_bits, self.start_bits,
                   self.kl_eps, self.resolution))

    def wants_gradients(self, it):
        """True in the `lookback` iterations before a decision: keep their weight gradients."""
        return (it + 1) % self.interval >= self.interval - self.lookback or \
            (it + 1) % self.interval == 0

    def observe(self, it):
        if not self.wants_gradients(it):
            return
        for name, m in self.layers.items():
            if m.weight.grad is not None:
                self.history[name].append(m.weight.grad.detach().clone())
                del self.history[name][:-self.lookback]

    def push_down(self, w):
        for b in range(self.min_bits, self.max_bits + 1):
            if kl_divergence(w, fixed_point_quantise(w, b, stochastic=False),
                             self.resolution) <= self.kl_eps:
                return b
        return self.max_bits

    def push_up(self, grads):
        if len(grads) < 2:
            return 1
        gd = gradient_diversity(grads)
        if not math.isfinite(gd) or gd <= 0:
            return 1
        l = math.log(gd) - 1
        s = max(1, math.ceil(1 / (l * l))) if l > 0 else 1
        return min(s, self.max_push_up)

    def decide(self, it):
        """At the end of iteration it: new bit-widths per layer (every `interval`) and the
        operation count of the checks, or (None, 0)."""
        if (it + 1) % self.interval != 0:
            return None, 0
        ops = 0
        for name, m in self.layers.items():
            w = m.weight.detach().flatten()
            down = self.push_down(w)
            tried = down - self.min_bits + 1
            # each candidate: quantise (n), two histograms (2n), KL over the bins
            ops += tried * (3 * w.numel() + 3 * self.resolution)
            grads = self.history[name]
            ops += 3 * w.numel() * len(grads)      # sum, squares, norms
            b = down + self.push_up(grads)
            self.bits[name] = max(self.min_bits, min(self.max_bits, b))
            grads.clear()
        return dict(self.bits), ops
