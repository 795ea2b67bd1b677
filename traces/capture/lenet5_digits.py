"""lenet5_digits.py -- a real quantised training run, captured as a bitsim model and trace.

LeNet-5 (LeCun et al., 1998; ReLU and max pooling as is usual today) trained on the handwritten
digits data set that scikit-learn ships (1797 8x8 images, 10 classes), upsampled bilinearly to
LeNet's 32x32 input.  W, A and G are fake-quantised (capture.quant: dynamic fixed point,
stochastic rounding) under one of two schemes (capture.policy):
    cpt       CPT's cyclic forward precision, gradients at 8 bits
    adaptive  per-layer word lengths in AdaPT's spirit (KL push-down, gradient-diversity push-up)
    fp32      no quantisation (the accuracy baseline)
The capture hook measures densities every --every iterations and writes the model file and a
trace of change records; the test accuracy reached goes into the trace's provenance.

    /usr/bin/python3 -m capture.lenet5_digits --scheme cpt --out-dir traces/samples
(run from traces/, or with traces/ on PYTHONPATH).  Deterministic for a given --seed on one
thread.  A few tens of seconds per scheme on one CPU core.
"""

import argparse
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from .hook import CaptureHook
from .policy import AdaptivePolicy, CptSchedule
from .quant import QConv2d, QLinear, quantised_layers
from . import sinks


class LeNet5(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = QConv2d(1, 6, 5)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = QConv2d(6, 16, 5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.conv3 = QConv2d(16, 120, 5)
        self.relu3 = nn.ReLU()
        self.fc1 = QLinear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc2 = QLinear(84, classes)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = torch.flatten(self.relu3(self.conv3(x)), 1)
        return self.fc2(self.relu4(self.fc1(x)))


def load_digits(seed):
    from sklearn.datasets import load_digits as sk_digits
    from sklearn.model_selection import train_test_split
    data = sk_digits()
    x = torch.tensor(data.images, dtype=torch.float32).unsqueeze(1) / 16.0
    x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
    y = torch.tensor(data.target, dtype=torch.long)
    idx = list(range(len(y)))
    tr, te = train_test_split(idx, test_size=0.2, random_state=seed, stratify=data.target)
    return x[tr], y[tr], x[te], y[te]


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


def train(scheme, out_dir, epochs=20, batch=32, every=10, seed=0, lr=0.02, log=sys.stderr,
          capture=True):
    torch.manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    xtr, ytr, xte, yte = load_digits(seed)
    iters_per_epoch = len(ytr) // batch
    total = iters_per_epoch * epochs
    model = LeNet5()
    layers = quantised_layers(model)
    name = "lenet5-digits-%s" % scheme
    model_file = "lenet5-digits.model"
    sink = sinks.TraceFileSink(os.path.join(out_dir, name + ".trace"), model_ref=model_file,
                               batch=batch, iters_per_epoch=iters_per_epoch, epochs=epochs,
                               scheme=scheme)
    hook = CaptureHook(model, xtr[:1], sink, every=every) if capture else _NoCapture()
    if not capture:
        sink = hook

    cpt = adaptive = None
    if scheme == "cpt":
        cpt = CptSchedule(total)
        sink.params = cpt.params()
    elif scheme == "adaptive":
        adaptive = AdaptivePolicy(layers)
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
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(seed)
    it = 0
    for epoch in range(epochs):
        perm = torch.randperm(len(ytr), generator=gen)
        for i in range(iters_per_epoch):
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
        print("%s epoch %d loss %.3f test acc %.3f" % (scheme, epoch, loss.item(),
                                                       accuracy(model, xte, yte)), file=log)
    seconds = time.perf_counter() - t0
    acc = accuracy(model, xte, yte)
    provenance = ("capture lenet5_digits: sklearn digits %d train / %d test, 32x32, SGD, seed %d;"
                  " test accuracy %.4f after %d epochs; densities sampled every %d iterations"
                  % (len(ytr), len(yte), seed, acc, epochs, every))
    if capture:
        with open(os.path.join(out_dir, model_file), "w") as f:
            f.write(sinks.model_text(hook, "lenet5-digits", "LeNet-5 on 32x32 digits, captured "
                                     "by traces/capture/lenet5_digits.py"))
        hook.close({"provenance": provenance, "accuracy": round(100 * acc, 4)})
    return dict(scheme=scheme, accuracy=acc, seconds=seconds, records=hook.records,
                measure_seconds=hook.measure_seconds, iterations=hook.iteration,
                trace=sink.path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scheme", choices=("cpt", "adaptive", "fp32"), action="append")
    ap.add_argument("--out-dir", default=".")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-capture", action="store_true",
                    help="train without the hook (to measure the capture overhead)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    for s in args.scheme or ["cpt", "adaptive"]:
        r = train(s, args.out_dir, epochs=args.epochs, batch=args.batch, every=args.every,
                  seed=args.seed, capture=not args.no_capture)
        print("%(scheme)s: test accuracy %(accuracy).4f, %(iterations)d iterations in "
              "%(seconds).1f s (density measurement %(measure_seconds).2f s), %(records)d change "
              "records -> %(trace)s" % r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
