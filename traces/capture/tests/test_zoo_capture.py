"""Captures of torchvision's resnet18, vgg11, mobilenet_v2 and of nn.TransformerEncoderLayer
against the zoo (models/*.model), ../shared/reference/model_macs.csv and a hand count, and
their traces replaying on the zoo's models without renaming."""

import os
import tempfile
import unittest
import warnings

import torch
import torch.nn as nn
import torchvision

from capture import CaptureHook, TraceFileSink
from capture.tests.helpers import REPO, c_model_show, c_reader_check, reference_rows


def zoo(name):
    return os.path.join(REPO, "models", name + ".model")


def fwd_macs(rows):
    return sum(int(r["fwd_madds"]) for r in rows)


def mac_names(rows):
    return [r["layer"] for r in rows if r["kind"] in ("conv", "linear", "matmul")]


def vgg11_hand_macs():
    """VGG configuration A (Simonyan & Zisserman, ICLR 2015, Table 1) at 224x224: 3x3 convs
    with padding 1, a 2x2 max pool after stages of 1, 1, 2, 2, 2 convs, then FC 25088-4096-
    4096-1000.  MACs of a conv = H*W * Cin*9 * Cout."""
    stages = [(224, [(3, 64)]), (112, [(64, 128)]), (56, [(128, 256), (256, 256)]),
              (28, [(256, 512), (512, 512)]), (14, [(512, 512), (512, 512)])]
    conv = sum(hw * hw * cin * 9 * cout for hw, convs in stages for cin, cout in convs)
    return conv + 512 * 7 * 7 * 4096 + 4096 * 4096 + 4096 * 1000


class Torchvision(unittest.TestCase):
    def capture_and_train(self, arch, zoo_ref, net, x, iters=2):
        """Structure plus a few iterations on random data; returns (model rows, trace)."""
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        torch.manual_seed(0)
        trace = os.path.join(d.name, arch + ".trace")
        sink = TraceFileSink(trace, zoo_ref or arch + ".model", batch=x.shape[0],
                             iters_per_epoch=iters, epochs=1, scheme="capture-test")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hook = CaptureHook(net, x, sink, every=1)
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        with hook:
            for _ in range(iters):
                opt.zero_grad()
                out = net(torch.randn_like(x))
                (out[0] if isinstance(out, tuple) else out).square().mean().backward()
                opt.step()
                hook.step()
        path = os.path.join(d.name, arch + ".model")
        with open(path, "w") as f:
            f.write(hook.model_text(arch))
        return c_model_show(self, path), trace

    def reference(self, network):
        rows = {r["network"]: r for r in reference_rows(self, "model_macs.csv")}
        return int(rows[network]["fwd_macs_conv_linear"]), int(rows[network]["params"])

    def check_against_zoo(self, arch, net, network):
        rows, trace = self.capture_and_train(arch, arch, net, torch.zeros(2, 3, 224, 224))
        macs, params = self.reference(network)
        zoo_rows = c_model_show(self, zoo(arch))
        self.assertEqual(fwd_macs(rows), macs)
        self.assertEqual(fwd_macs(rows), fwd_macs(zoo_rows))
        self.assertEqual(sum(int(r["params"]) for r in rows), params)
        self.assertEqual(mac_names(rows), mac_names(zoo_rows))     # names line up
        c_reader_check(self, trace, iterations=2)                  # replays on the zoo's model

    def test_resnet18(self):
        self.check_against_zoo("resnet18", torchvision.models.resnet18(), "resnet18_imagenet")

    def test_mobilenet_v2(self):
        self.check_against_zoo("mobilenet_v2", torchvision.models.mobilenet_v2(),
                               "mobilenet_v2_imagenet")

    def test_structure_only_resnet50_and_alexnet(self):
        from capture.graph import capture_graph, model_text
        for arch, network in (("resnet50", "resnet50_imagenet"), ("alexnet", "alexnet_imagenet")):
            with self.subTest(arch=arch), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                g = capture_graph(getattr(torchvision.models, arch)(), torch.zeros(1, 3, 224, 224))
                d = tempfile.TemporaryDirectory()
                self.addCleanup(d.cleanup)
                path = os.path.join(d.name, arch + ".model")
                with open(path, "w") as f:
                    f.write(model_text(g, arch))
                rows = c_model_show(self, path)
                macs, params = self.reference(network)
                self.assertEqual(fwd_macs(rows), macs)
                self.assertEqual(sum(int(r["params"]) for r in rows), params)
                self.assertEqual(mac_names(rows), mac_names(c_model_show(self, zoo(arch))))

    def test_example_resnet20_is_the_zoo_resnet20(self):
        from capture.nets import resnet20
        rows, trace = self.capture_and_train("resnet20", "resnet20", resnet20(),
                                             torch.zeros(2, 3, 32, 32))
        cols = ("layer", "kind", "op", "in", "out", "params", "fwd_madds", "FWD", "BWD_DATA",
                "BWD_WEIGHT", "elem_fwd", "elem_bwd")
        pick = lambda rs: [tuple(r[c] for c in cols) for r in rs]
        self.assertEqual(pick(rows), pick(c_model_show(self, zoo("resnet20"))))
        macs, params = self.reference("resnet20_cifar10_shortcutA")
        self.assertEqual((fwd_macs(rows), sum(int(r["params"]) for r in rows)), (macs, params))
        c_reader_check(self, trace, iterations=2)

    def test_vgg11_inplace_relus(self):
        # torchvision's VGG runs ReLU(inplace=True) right after every conv
        rows, trace = self.capture_and_train("vgg11", None, torchvision.models.vgg11(),
                                             torch.zeros(1, 3, 224, 224))
        self.assertEqual(fwd_macs(rows), vgg11_hand_macs())
        self.assertEqual(vgg11_hand_macs(), 7609090048)
        self.assertEqual(sum(r["kind"] == "conv" for r in rows), 8)
        c_reader_check(self, trace, iterations=2)

    def test_transformer_encoder_layer_is_the_zoo_bert_layer(self):
        net = nn.TransformerEncoderLayer(768, 12, 3072, activation="gelu", batch_first=True)
        # an input that requires grad: one layer of a deeper network, as the zoo's (grad=1)
        x = torch.zeros(1, 128, 768, requires_grad=True)
        rows, trace = self.capture_and_train("bert", None, net, x, 1)
        zoo_rows = c_model_show(self, zoo("bert_base_layer"))
        kinds = lambda rs: sorted((r["kind"], r["op"]) for r in rs)
        self.assertEqual(kinds(rows), kinds(zoo_rows))
        macs, params = self.reference("bert_base_encoder_layer_seq128")
        self.assertEqual(fwd_macs(rows), macs)
        self.assertEqual(sum(int(r["params"]) for r in rows), params)
        for p in ("FWD", "BWD_DATA", "BWD_WEIGHT"):
            self.assertEqual(sum(int(r[p]) for r in rows), sum(int(r[p]) for r in zoo_rows), p)
        c_reader_check(self, trace, iterations=1)


if __name__ == "__main__":
    unittest.main()
