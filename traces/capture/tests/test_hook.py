"""The hook's records of a tiny model against densities computed by hand."""

import os
import tempfile
import unittest

import torch
import torch.nn as nn

from capture.hook import CaptureHook
from capture.sinks import MemorySink, TraceFileSink, model_text
from capture.tests.helpers import c_model_check, c_reader_check


class Tiny(nn.Module):
    """x[2x4] -> fc1 (4->3) -> fc2 (3->2), no bias, so every product is easy by hand."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3, bias=False)
        self.fc2 = nn.Linear(3, 2, bias=False)
        with torch.no_grad():
            # 3 non-zeros of 12
            self.fc1.weight.copy_(torch.tensor([[1., 0, 2, 0], [0, 1, 0, 0], [0, 0, 0, 0]]))
            # 2 non-zeros of 6
            self.fc2.weight.copy_(torch.tensor([[1., 0, 0], [0, 1, 0]]))

    def forward(self, x):
        return self.fc2(self.fc1(x))


# 4 non-zeros of 8.  fc1 output h = x W1^T = [[1, 2, 0], [6, 0, 0]]: 3 of 6.
X = torch.tensor([[1., 2, 0, 0], [0, 0, 3, 4]])
# loss = sum(out * M): the gradient at fc2's output is M (3 of 4 non-zero), at fc1's output
# M W2 = [[1, 0, 0], [1, 1, 0]] (3 of 6).
M = torch.tensor([[1., 0], [1, 1]])
DENSE_X = torch.ones(2, 4)


def run_iteration(model, hook, x):
    model.zero_grad()
    (model(x) * M).sum().backward()
    hook.step()


class HookDensities(unittest.TestCase):
    def setUp(self):
        self.model = Tiny()
        self.sink = MemorySink()
        self.hook = CaptureHook(self.model, X, self.sink, every=2)

    def test_first_record_carries_hand_computed_densities(self):
        run_iteration(self.model, self.hook, X)
        fp32 = {"W": "fp32", "A": "fp32", "G": "fp32", "WG": "fp32"}
        self.assertEqual(self.sink.changes, [
            (0, "fc1", dict(fp32, dW=0.25, dA=0.5, dG=0.5)),
            (0, "fc2", dict(fp32, dW=0.3333, dA=0.5, dG=0.75)),
        ])

    def test_densities_are_sampled_every_k_iterations(self):
        run_iteration(self.model, self.hook, X)         # 0: sampled
        run_iteration(self.model, self.hook, DENSE_X)   # 1: not sampled, no record
        self.assertEqual(len(self.sink.changes), 2)
        # no full backward hooks, ever (pytorch/pytorch#61519): G comes from tensor hooks
        self.assertEqual(len(self.model.fc1._backward_hooks), 0)
        run_iteration(self.model, self.hook, DENSE_X)   # 2: sampled
        # dense input: fc1 A = 1; h = [[3, 1, 0], [3, 1, 0]] -> 4 of 6 for fc2's A
        self.assertEqual(self.sink.changes[2:], [(2, "fc1", {"dA": 1.0}),
                                                 (2, "fc2", {"dA": 0.6667})])

    def test_format_changes_are_recorded_at_their_iteration(self):
        run_iteration(self.model, self.hook, X)
        self.hook.set_format("fc2", "W", "int4")
        self.hook.set_format("fc2", "G", "fx8.6")
        run_iteration(self.model, self.hook, X)
        self.assertEqual(self.sink.changes[2:], [(1, "fc2", {"W": "int4", "G": "fx8.6"})])

    def test_unchanged_state_emits_nothing(self):
        for _ in range(4):
            run_iteration(self.model, self.hook, X)
        self.assertEqual(len(self.sink.changes), 2)
        self.assertEqual(self.hook.iteration, 4)

    def test_unknown_layer_or_tensor_is_refused(self):
        with self.assertRaises(KeyError):
            self.hook.set_format("fc9", "W", "int8")
        with self.assertRaises(KeyError):
            self.hook.set_format("fc1", "X", "int8")

    def test_missing_backward_in_iteration_zero_is_an_error(self):
        self.model(X)
        with self.assertRaises(RuntimeError):
            self.hook.step()


class DensityStep(unittest.TestCase):
    def test_small_drift_is_held_until_it_adds_up(self):
        model = Tiny()
        sink = MemorySink()
        hook = CaptureHook(model, X, sink, every=1, density_step=0.2)
        x = torch.ones(2, 4)
        run_iteration(model, hook, x)              # fc1 dA = 1
        x[0, 0] = 0
        run_iteration(model, hook, x)              # 7/8 = 0.875: moved 0.125 < 0.2
        x[0, 1] = 0
        run_iteration(model, hook, x)              # 6/8 = 0.75: moved 0.25 >= 0.2
        fc1 = [(it, v) for it, layer, v in sink.changes if layer == "fc1"]
        self.assertEqual([it for it, _ in fc1], [0, 2])
        self.assertEqual(fc1[1][1], {"dA": 0.75})


class PublishedTensors(unittest.TestCase):
    def test_bitsim_w_overrides_the_master_weight(self):
        class Pruned(nn.Linear):
            def forward(self, x):
                # the arithmetic uses a copy with its first row zeroed: 2 of 3 rows remain
                w = self.weight.clone()
                w[0] = 0
                self.bitsim_w = w
                return nn.functional.linear(x, w)

        model = nn.Sequential(Pruned(2, 3, bias=False))
        with torch.no_grad():
            model[0].weight.fill_(1.0)
        sink = MemorySink()
        hook = CaptureHook(model, torch.ones(1, 2), sink)
        model(torch.ones(1, 2)).sum().backward()
        hook.step()
        self.assertAlmostEqual(sink.changes[0][2]["dW"], 0.6667)


class ModelFile(unittest.TestCase):
    def test_tiny_model_text(self):
        hook = CaptureHook(Tiny(), X, MemorySink())
        self.assertEqual(model_text(hook, "tiny").splitlines()[1:], [
            "model tiny", "input 4 1 1",
            "linear fc1 in=4 out=3 bias=0", "linear fc2 in=3 out=2 bias=0"])

    def test_conv_pool_and_branch_records(self):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.c1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
                self.r = nn.ReLU()
                self.p = nn.MaxPool2d(2)
                self.c2 = nn.Conv2d(3, 4, (1, 3), bias=False)

            def forward(self, x):
                return self.p(self.r(self.c1(x))), self.c2(x)

        hook = CaptureHook(Net(), torch.zeros(1, 3, 8, 8), MemorySink())
        text = model_text(hook, "n")
        self.assertEqual(text.splitlines()[3:], [
            "conv c1 out=8 k=3 stride=2 pad=1", "act r op=relu", "pool p op=max k=2",
            "conv c2 out=4 kh=1 kw=3 bias=0 from=input"])
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "n.model")
            with open(path, "w") as f:
                f.write(text)
            c_model_check(self, path)


class CReaderAcceptsCapture(unittest.TestCase):
    def test_tiny_capture_reads_back(self):
        with tempfile.TemporaryDirectory() as d:
            model = Tiny()
            sink = TraceFileSink(os.path.join(d, "tiny.trace"), "tiny.model", batch=2,
                                 iters_per_epoch=3, epochs=2, scheme="capture-test")
            hook = CaptureHook(model, X, sink, every=2)
            with open(os.path.join(d, "tiny.model"), "w") as f:
                f.write(model_text(hook, "tiny"))
            for it in range(6):
                if it == 3:
                    hook.set_formats("fc1", "int6")
                run_iteration(model, hook, X if it < 4 else DENSE_X)
            hook.close({"provenance": "unit test # with a hash"})
            with open(sink.path) as f:
                text = f.read()
            self.assertIn("from 3 fc1 W=int6 A=int6 G=int6 WG=int6\n", text)
            self.assertIn("provenance unit test no. with a hash\n", text)
            self.assertTrue(text.endswith("end\n"))
            c_reader_check(self, sink.path)

    def run_for(self, d, name, iterations):
        """Plans 3 x 5 iterations, trains `iterations` of them; returns the trace's text."""
        sink = TraceFileSink(os.path.join(d, name), "tiny.model", 2, 3, 5, "x")
        model = Tiny()
        with CaptureHook(model, X, sink) as hook:
            for _ in range(iterations):
                run_iteration(model, hook, X)
        c_reader_check(self, sink.path, iterations=iterations)
        with open(sink.path) as f:
            return f.read()

    def test_early_stop_closes_with_the_iterations_trained(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "tiny.model"), "w") as f:
                f.write(model_text(CaptureHook(Tiny(), X, MemorySink()), "tiny"))
            # 4 iterations: 2 epochs begun, the second cut short -> 'partial 4'
            text = self.run_for(d, "t.trace", 4)
            self.assertIn("\nepochs 2\n", text)
            self.assertTrue(text.endswith("\npartial 4\n"), text)
            # exactly one epoch: a complete trace of 1 epoch
            text = self.run_for(d, "u.trace", 3)
            self.assertIn("\nepochs 1\n", text)
            self.assertTrue(text.endswith("\nend\n"), text)

    def test_resumed_run_continues_the_trace(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "tiny.model"), "w") as f:
                f.write(model_text(CaptureHook(Tiny(), X, MemorySink()), "tiny"))
            path = os.path.join(d, "r.trace")
            model = Tiny()
            # first run: 7 of 4 x 5 = 20 planned iterations, W of fc1 int6 from 3, then a crash
            # (the hook is never closed: the file says 'partial 7')
            hook = CaptureHook(model, X, TraceFileSink(path, "tiny.model", 2, 5, 4, "r"))
            for it in range(7):
                if it == 3:
                    hook.set_format("fc1", "W", "int6")
                run_iteration(model, hook, X)
            c_reader_check(self, path, iterations=7)
            # resumed from a checkpoint at iteration 5: records from 5 on are dropped, the
            # hook starts at 5, the last decisions are known (int6 is not written again)
            sink = TraceFileSink(path, "tiny.model", 2, 5, 4, "r", resume=True)
            self.assertEqual(sink.resume_from, 7)
            with CaptureHook(model, X, sink, every=5, start_iteration=5) as hook:
                self.assertEqual(hook.iteration, 5)
                hook.set_format("fc1", "W", "int6")
                for it in range(5, 15):
                    if it == 12:
                        hook.set_format("fc1", "W", "int4")
                    run_iteration(model, hook, X)
            with open(path) as f:
                text = f.read()
            self.assertIn("\nfrom 3 fc1 W=int6\n", text)
            self.assertIn("\nfrom 12 fc1 W=int4\n", text)
            self.assertEqual(text.count("W=int6"), 1, text)
            self.assertTrue(text.endswith("\nend\n"), text)     # 15 = 3 whole epochs of 5
            c_reader_check(self, path, iterations=15)
            with self.assertRaises(ValueError):             # another run's trace
                TraceFileSink(path, "tiny.model", 4, 5, 4, "r", resume=True)

class InplaceReluAfterConv(unittest.TestCase):
    def test_tensor_hooks_see_the_conv_gradient(self):
        # 1x1 conv with weight 1 copies x = [1, -2, 0, 3]; ReLU(inplace=True) zeroes -2; the
        # loss sum(out) sends 1 back through the ReLU mask, so the conv's output gradient is
        # [1, 0, 0, 1]: dG = 2/4.  dA = 3/4 (one zero in x), dW = 1.  With full backward hooks
        # this model raised "... BackwardHookFunctionBackward is a view and is being modified
        # inplace" (pytorch/pytorch#61519).
        model = nn.Sequential(nn.Conv2d(1, 1, 1, bias=False), nn.ReLU(inplace=True))
        with torch.no_grad():
            model[0].weight.fill_(1.0)
        x = torch.tensor([1.0, -2.0, 0.0, 3.0]).reshape(1, 1, 2, 2)
        sink = MemorySink()
        hook = CaptureHook(model, x, sink)
        model(x).sum().backward()
        hook.step()
        self.assertEqual(sink.changes[0][1], "0")
        v = sink.changes[0][2]
        self.assertEqual((v["dW"], v["dA"], v["dG"]), (1.0, 0.75, 0.5))


class Formats(unittest.TestCase):
    def one_step(self, model, x, run=None):
        sink = MemorySink()
        hook = CaptureHook(model, x, sink)
        (run or (lambda: model(x)))().float().sum().backward()
        hook.step()
        return hook, {layer: v for _, layer, v in sink.changes}

    def test_attribute_protocol_and_set_format_override(self):
        class Custom(nn.Linear):
            bitsim_format = {"W": 4, "A": "fx8.4"}

        model = nn.Sequential(Custom(4, 3), nn.Linear(3, 2))
        model[1].bitsim_format = "bfp8/e8/b16"
        hook, rec = self.one_step(model, torch.ones(2, 4))
        self.assertEqual([rec["0"][t] for t in ("W", "A", "G", "WG")],
                         ["int4", "fx8.4", "fp32", "fp32"])
        self.assertEqual({rec["1"][t] for t in ("W", "A", "G", "WG")}, {"bfp8/e8/b16"})
        hook.set_format("0", "W", "int6")           # the training code's word wins
        model(torch.ones(2, 4)).sum().backward()
        hook.step()
        self.assertEqual(hook.formats("0")["W"], "int6")
        with self.assertRaises(ValueError):
            hook.set_format("0", "W", "int40")

    def test_fake_quantize_ranges_become_bits(self):
        from torch.ao.quantization import FakeQuantize, MovingAverageMinMaxObserver
        import torch.ao.nn.qat as qat
        from torch.ao.quantization import get_default_qat_qconfig
        # weight fake-quant of the default QAT qconfig: quant_min -128, quant_max 127 -> 8 bits;
        # an activation FakeQuantize over 0..15 -> 4 bits for the layer reading its output
        fc = qat.Linear(4, 3, qconfig=get_default_qat_qconfig("fbgemm"))
        act = FakeQuantize(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=15)
        model = nn.Sequential(act, fc)
        _, rec = self.one_step(model, torch.rand(2, 4))
        self.assertEqual((rec["1"]["W"], rec["1"]["A"], rec["1"]["G"]), ("int8", "int4", "fp32"))
        act.disable_fake_quant()
        _, rec = self.one_step(model, torch.rand(2, 4))
        self.assertEqual(rec["1"]["A"], "fp32")

    def test_autocast_dtype(self):
        model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
        x = torch.ones(2, 4)

        def run():
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return model(x)
        _, rec = self.one_step(model, x, run)
        self.assertEqual([rec["0"][t] for t in ("W", "A", "G", "WG")],
                         ["bf16", "bf16", "bf16", "fp32"])


class KilledCapture(unittest.TestCase):
    """SIGKILL a capturing training process mid-run: the trace on disk must be one that
    `bitsim trace check` accepts, cut at the last complete iteration."""

    CHILD = r'''
import sys, torch, torch.nn as nn
sys.path.insert(0, sys.argv[2])
from capture import CaptureHook, TraceFileSink
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
x = torch.randn(2, 4)
sink = TraceFileSink(sys.argv[1], "tiny.model", 2, 100, 10, "killed")
hook = CaptureHook(model, x, sink, every=1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for it in range(1000):
    opt.zero_grad()
    model(torch.randn(2, 4)).relu().sum().backward()
    opt.step()
    hook.set_format("0", "W", "int%d" % (2 + it % 7))
    hook.step()
    print(it, flush=True)
'''

    def test_sigkill_leaves_a_partial_trace(self):
        import signal
        import subprocess
        import sys
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "tiny.model"), "w") as f:
                f.write("model tiny\ninput 4 1 1\nlinear 0 in=4 out=3\nact 1\n"
                        "linear 2 in=3 out=2\n")
            path = os.path.join(d, "k.trace")
            traces = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
            p = subprocess.Popen([sys.executable, "-c", self.CHILD, path, traces],
                                 stdout=subprocess.PIPE, text=True)
            try:
                for line in p.stdout:
                    if int(line) >= 40:
                        break
            finally:
                p.send_signal(signal.SIGKILL)
                p.wait()
                p.stdout.close()
            last = int(line)
            with open(path) as f:
                text = f.read()
            n = int(text.rstrip().rsplit("\n", 1)[1].split()[1])
            self.assertTrue(text.rstrip().rsplit("\n", 1)[1].startswith("partial "), text[-200:])
            self.assertGreaterEqual(n, last + 1)        # iteration `last` was complete
            self.assertIn("\nfrom %d 0 W=int%d" % (n - 1, 2 + (n - 1) % 7), text)
            c_reader_check(self, path, iterations=n)
            # and it replays: exactly the n iterations that ran (the fp32 forward MAdds of
            # the two linears are 2 samples x (4*3 + 3*2) = 36 per iteration)
            from capture.tests.helpers import c_replay_fwd_madds
            self.assertEqual(c_replay_fwd_madds(self, path, d), 36 * n)
