"""digits.py -- real quantised training runs, captured as bitsim model files and traces.

The handwritten digits data set that scikit-learn ships (1797 8x8 images, 10 classes; a
Debian package, no download), upsampled bilinearly to 32x32 (and repeated to 3 channels for
ResNet-20), trains one of capture.nets' networks:
    lenet5    LeNet-5, 1x32x32; the trace names its captured model file
    resnet20  the zoo's CIFAR ResNet-20 (same layer names), 3x32x32; the trace names the zoo's
              `resnet20`, so it replays there as it is
W, A and G are fake-quantised (capture.quant: dynamic fixed point, stochastic rounding) under
one of (capture.policy):
    cpt       CPT's cyclic forward precision, gradients at 8 bits
    adaptive  per-layer word lengths in AdaPT's spirit (KL push-down, gradient-diversity push-up)
    fp32      no quantisation (the accuracy and cost baseline)
The capture hook measures densities every --every iterations and streams the trace; the model
file is written next to it; the test accuracy reached goes into the trace's provenance.

    /usr/bin/python3 -m capture.digits --arch resnet20 --scheme cpt --out-dir traces/samples
Deterministic for a given --seed on one thread.  LeNet-5: a few seconds per epoch; ResNet-20:
about 15 s per epoch on one core.
"""

import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

from .hook import CaptureHook
from .nets import LeNet5, resnet20
from .policy import AdaptivePolicy, CptSchedule
from .quant import quantised_layers
from . import sinks

ARCHS = {
    # name: (constructor, input channels, model reference written into the trace)
    "lenet5": (LeNet5, 1, None),
    "resnet20": (resnet20, 3, "resnet20"),
}


def load_digits(seed, channels=1):
    from sklearn.datasets import load_digits as sk_digits
    from sklearn.model_selection import train_test_split
    data = sk_digits()
    x = torch.tensor(data.images, dtype=torch.float32).unsqueeze(1) / 16.0
    x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
    x = x.repeat(1, channels, 1, 1)
    y = torch.tensor(data.target, dtype=torch.long)
    idx = list(range(len(y)))
    tr, te = train_test_split(idx, test_size=0.2, random_state=seed, stratify=data.target)
    return x[tr], y[tr], x[te], y[te]


def recalibrate_bn(model, x, batch=256):
    """Batch-norm running statistics as the mean over the training data with the final
    weights (momentum None = cumulative average): a short, fast-changing run leaves running
    statistics that lag the weights, and eval-mode accuracy then says little."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        for i in range(0, len(x), batch):
            model(x[i:i + batch])
    for m, mom in zip(bns, saved):
        m.momentum = mom


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    model.train()
    return acc


def fmt_of(bits):
    return "fp32" if bits is None else "int%d" % bits


class _NoCapture:
    """Stands in for the hook and sink when measuring training time without capture."""
    records = iteration = 0
    measure_seconds = 0.0
    path = "(not captured)"
    params = ""

    def set_format(self, *args):
        pass

    def step(self):
        self.iteration += 1

    def overhead(self, *args):
        pass

    def paused(self):
        import contextlib
        return contextlib.nullcontext()


def train(scheme, out_dir, epochs=20, batch=32, every=10, seed=0, lr=0.02, log=sys.stderr,
          capture=True, arch="lenet5", stop_after=None, adapt_interval=50, cpt_cycles=8):
    """Trains arch under scheme; returns a dict of figures.  stop_after: stop after that many
    iterations (an early stop: the trace is closed with the iterations trained)."""
    torch.manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    make, channels, zoo_ref = ARCHS[arch]
    xtr, ytr, xte, yte = load_digits(seed, channels)
    iters_per_epoch = len(ytr) // batch
    total = iters_per_epoch * epochs
    model = make()
    layers = quantised_layers(model)
    name = "%s-digits-%s" % (arch, scheme)
    model_file = "%s-digits.model" % arch
    sink = sinks.TraceFileSink(os.path.join(out_dir, name + ".trace"),
                               model_ref=zoo_ref or model_file, batch=batch,
                               iters_per_epoch=iters_per_epoch, epochs=epochs, scheme=scheme)
    hook = CaptureHook(model, xtr[:2], sink, every=every) if capture else _NoCapture()
    if not capture:
        sink = hook
    elif scheme == "fp32":
        sink.params = "captured=1"

    cpt = adaptive = None
    if scheme == "cpt":
        cpt = CptSchedule(total, cycles=cpt_cycles)
        sink.params = cpt.params()
    elif scheme == "adaptive":
        adaptive = AdaptivePolicy(layers, interval=adapt_interval)
        sink.params = adaptive.params()
    elif scheme != "fp32":
        raise ValueError("unknown scheme %r" % scheme)

    def apply_bits(per_layer):
        """per_layer: name -> {W, A, G, WG: bits or None}; sets the layers and the hook."""
        for n, m in layers:
            b = per_layer[n]
            m.bits = {"W": b["W"], "A": b["A"], "G": b["G"]}
            for t in ("W", "A", "G", "WG"):
                hook.set_format(n, t, fmt_of(b[t]))

    if adaptive:
        s = adaptive.start_bits
        apply_bits({n: dict(W=s, A=s, G=s, WG=s) for n, _ in layers})

    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, total)
    t0, c0 = time.perf_counter(), time.process_time()
    gen = torch.Generator().manual_seed(seed)
    it = 0
    for epoch in range(epochs):
        if stop_after is not None and it >= stop_after:
            break
        perm = torch.randperm(len(ytr), generator=gen)
        for i in range(iters_per_epoch):
            if stop_after is not None and it >= stop_after:
                break
            if cpt:
                b = cpt.forward_bits(it)
                g = cpt.grad_bits
                apply_bits({n: dict(W=b, A=b, G=g, WG=g) for n, _ in layers})
            sel = perm[i * batch:(i + 1) * batch]
            opt.zero_grad()
            loss = F.cross_entropy(model(xtr[sel]), ytr[sel])
            loss.backward()
            opt.step()
            sched.step()
            if adaptive:
                adaptive.observe(it)
            hook.step()
            if adaptive:
                bits, ops = adaptive.decide(it)
                if bits is not None:
                    # The checks run at the end of iteration it; the new widths hold from it+1.
                    sink.overhead(it, it + 1, ops, 32, "adapt")
                    if it + 1 < total:
                        apply_bits({n: dict(W=b, A=b, G=b, WG=b) for n, b in bits.items()})
            it += 1
        print("%s %s epoch %d loss %.3f" % (arch, scheme, epoch, loss.item()), file=log)
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    with hook.paused():
        recalibrate_bn(model, xtr)
    acc = accuracy(model, xte, yte)
    provenance = ("capture.digits %s: sklearn digits %d train / %d test, %dx32x32, SGD, seed %d;"
                  " test accuracy %.4f after %d iterations; densities sampled every %d "
                  "iterations" % (arch, len(ytr), len(yte), channels, seed, acc, it, every))
    if capture:
        with open(os.path.join(out_dir, model_file), "w") as f:
            f.write(hook.model_text("%s-digits" % arch, "%s on 32x32 digits, captured by "
                                    "traces/capture/digits.py" % arch))
        hook.close({"provenance": provenance, "accuracy": round(100 * acc, 4)})
    return dict(scheme=scheme, accuracy=acc, seconds=seconds, cpu_seconds=cpu_seconds,
                records=hook.records,
                measure_seconds=hook.measure_seconds, iterations=hook.iteration,
                trace=sink.path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", choices=sorted(ARCHS), default="lenet5")
    ap.add_argument("--scheme", choices=("cpt", "adaptive", "fp32"), action="append")
    ap.add_argument("--out-dir", default=".")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--cpt-cycles", type=int, default=8,
                    help="cpt: precision cycles over the run (default 8, CPT's)")
    ap.add_argument("--adapt-interval", type=int, default=50,
                    help="adaptive: iterations between precision decisions (default 50)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-capture", action="store_true",
                    help="train without the hook (to measure the capture overhead)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    for s in args.scheme or ["cpt", "adaptive"]:
        r = train(s, args.out_dir, epochs=args.epochs, batch=args.batch, every=args.every,
                  seed=args.seed, capture=not args.no_capture, arch=args.arch, lr=args.lr,
                  adapt_interval=args.adapt_interval, cpt_cycles=args.cpt_cycles)
        print("%(scheme)s: test accuracy %(accuracy).4f, %(iterations)d iterations in "
              "%(seconds).1f s (density measurement %(measure_seconds).2f s), %(records)d change "
              "records -> %(trace)s" % r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
