"""Graph capture (graph.py) against hand-written model lines and hand-counted MACs."""

import os
import tempfile
import unittest
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

from capture.graph import capture_graph, model_text
from capture.tests.helpers import c_model_show


def capture(model, x):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        g = capture_graph(model, x)
    return g, [str(m.message) for m in w]


def lines(g):
    return [l for l in model_text(g, "m").splitlines() if not l.startswith("#")][1:]


class Residual(nn.Module):
    """conv (3->4, 3x3, pad 1, no bias) on 3x8x8: 8*8 * 3*9 * 4 = 6912 MACs;
    conv2 (4->4, 3x3, pad 1, bias): 8*8 * 4*9 * 4 = 9216; fc 256 -> 10: 2560.  Total 18688."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.block = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4))
        self.fc = nn.Linear(256, 10)

    def forward(self, x):
        y = self.relu(self.conv(x))
        z = self.block(y)
        z += y                          # functional, in place
        z = self.relu(z)                # the same ReLU module a second time
        return F.softmax(self.fc(torch.flatten(z, 1)), dim=1)


class Graphs(unittest.TestCase):
    def test_functional_ops_names_and_macs(self):
        g, warned = capture(Residual(), torch.randn(2, 3, 8, 8))
        self.assertEqual(lines(g), [
            "input 3 8 8",
            "conv conv out=4 k=3 pad=1 bias=0",
            "act relu op=relu",
            "conv block.0 out=4 k=3 pad=1",
            "norm block.1 op=batch",
            "add add from=relu",
            "act relu:2 op=relu",
            "linear fc in=256 out=10",
            "softmax softmax",
        ])
        self.assertEqual(g.forward_macs(), 6912 + 9216 + 2560)
        self.assertEqual(g.unsupported, {})
        self.assertEqual(warned, [])
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.model")
            with open(path, "w") as f:
                f.write(model_text(g, "m"))
            rows = c_model_show(self, path)
            self.assertEqual(sum(int(r["fwd_madds"]) for r in rows), 18688)

    def test_attention_matmul(self):
        class Attn(nn.Module):
            def __init__(self):
                super().__init__()
                self.q = nn.Linear(8, 8, bias=False)

            def forward(self, x):                 # x: N x 6 tokens x 8
                a = self.q(x)
                return torch.softmax(a @ a.transpose(1, 2), -1)

        g, _ = capture(Attn(), torch.randn(2, 6, 8))
        # q: 6 rows * 8 * 8 = 384 MACs; scores: 6 x 8 . 8 x 6 = 288
        self.assertEqual(lines(g), ["input 1 6 8", "linear q in=8 out=8 rows=6 bias=0",
                                    "matmul matmul m=6 k=8 n=6 from=q", "softmax softmax"])
        self.assertEqual(g.forward_macs(), 384 + 288)

    def test_one_d_convolution_and_norms(self):
        net = nn.Sequential(nn.Conv1d(2, 3, 3, padding=1), nn.GroupNorm(1, 3), nn.SiLU(),
                            nn.ReLU6(), nn.Flatten(), nn.Linear(30, 4), nn.LayerNorm(4))
        g, _ = capture(net, torch.randn(2, 2, 10))
        # Conv1d as a 1 x k conv on C x 1 x L: 10 * 2*3 * 3 = 180 MACs; linear 30 * 4 = 120
        self.assertEqual(lines(g), ["input 2 1 10", "conv 0 out=3 kh=1 kw=3 pad_h=0 pad_w=1",
                                    "norm 1 op=batch", "act 2 op=silu", "act 3 op=relu6",
                                    "linear 5 in=30 out=4", "norm 6 op=layer"])
        self.assertEqual(g.forward_macs(), 180 + 120)

    def test_unsupported_ops_are_reported_once_with_their_work(self):
        class Odd(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(10, 8)
                self.up = nn.ConvTranspose2d(4, 2, 2, stride=2)
                self.c3 = nn.Conv3d(1, 2, 3)
                self.hs = nn.Hardswish()
                self.drop = nn.Dropout(0.5)
                self.fc = nn.Linear(8, 8)

            def forward(self, tokens, x, v):
                e = self.drop(self.fc(self.emb(tokens)))      # 5 tokens x 8 = 40 elements
                return e, self.hs(self.hs(self.up(x))), self.c3(v)

        model = Odd()
        x, v = torch.randn(2, 4, 8, 8), torch.randn(2, 1, 4, 6, 6)
        tokens = torch.zeros(2, 5, dtype=torch.long)

        class Wrap(nn.Module):
            def __init__(self):
                super().__init__()
                self.m = model

            def forward(self, t):
                return self.m(t, x, v)

        g, warned = capture(Wrap(), tokens)
        u = {k: (calls, work, unit) for k, (calls, work, unit, _) in g.unsupported.items()}
        self.assertEqual(u["Embedding"], (1, 40, "elements"))
        # transposed conv: every input element (4*8*8) times out channels (2) times 2x2 taps
        self.assertEqual(u["ConvTranspose2d"], (1, 256 * 2 * 4, "MACs"))
        # 3-d conv: output 2 x 2x4x4 = 64 elements, each 1 * 3*3*3 MACs
        self.assertEqual(u["Conv3d"], (1, 64 * 27, "MACs"))
        # Hardswish twice on 2 x 16 x 16 = 512 elements: reported once, with both calls
        self.assertEqual(u["Hardswish"], (2, 1024, "elements"))
        self.assertEqual(u["Dropout"], (1, 40, "elements"))
        self.assertEqual(sum("Hardswish" in w for w in warned), 1)
        # the embedding's output is the model input (grad=1): fc is a first layer with
        # a gradient-needing input
        self.assertEqual(lines(g)[:2], ["input 1 5 8 grad=1", "linear m.fc in=8 out=8 rows=5"])
        self.assertIn("# not modelled: Conv3d x1, 1728 MACs per sample", model_text(g, "m"))

    def test_multihead_attention_expands_like_the_zoo(self):
        mha = nn.MultiheadAttention(16, 4, batch_first=True)

        class Self(nn.Module):
            def __init__(self):
                super().__init__()
                self.attn = mha

            def forward(self, x):      # keywords, as torchvision's ViT calls it
                return self.attn(query=x, key=x, value=x, need_weights=False)[0]

        g, _ = capture(Self(), torch.randn(2, 5, 16))
        self.assertEqual(lines(g), [
            "input 1 5 16",
            "linear attn.k_proj in=16 out=16 rows=5",
            "linear attn.v_proj in=16 out=16 rows=5 from=input",
            "linear attn.q_proj in=16 out=16 rows=5 from=input",
            "matmul attn.scores m=5 k=4 n=5 heads=4 from=attn.k_proj",
            "softmax attn.softmax",
            "matmul attn.context m=5 k=5 n=4 heads=4 from=attn.v_proj",
            "linear attn.out_proj in=16 out=16 rows=5"])
        # 4 projections of 5*16*16 = 1280 and two matmuls of 4*5*4*5 = 400
        self.assertEqual(g.forward_macs(), 4 * 1280 + 2 * 400)
        # the hook measures the projections' W and A (and out_proj's G) in training
        from capture.hook import CaptureHook
        from capture.sinks import MemorySink
        sink = MemorySink()
        net = Self()
        x = torch.randn(2, 5, 16)
        x[0] = 0                                # half of the input is zero: dA = 0.5
        hook = CaptureHook(net, x, sink)
        net(x).sum().backward()
        hook.step()
        rec = {layer: v for _, layer, v in sink.changes}
        self.assertEqual(rec["attn.q_proj"]["dA"], 0.5)
        self.assertEqual(rec["attn.k_proj"]["dW"], 1.0)
        self.assertIn("dG", rec["attn.out_proj"])

    def test_shortcut_a_is_recognised(self):
        from capture.nets import BasicBlock
        g, _ = capture(BasicBlock(16, 32, 2), torch.randn(2, 16, 8, 8))
        self.assertIn("add add from=input shortcut=A", lines(g))


if __name__ == "__main__":
    unittest.main()
