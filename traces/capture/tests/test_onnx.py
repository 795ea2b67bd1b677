"""The ONNX importer: a hand-counted small network, torchvision's resnet18 against the zoo and
../shared/reference/model_macs.csv, and bad files."""

import contextlib
import io
import os
import tempfile
import unittest
import warnings

import torch
import torch.nn as nn
import torchvision

from capture.onnx_import import main
from capture.tests.helpers import REPO, c_model_show, reference_rows


def export(model, x, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, path, training=torch.onnx.TrainingMode.TRAINING,
                          do_constant_folding=False)


class Onnx(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def convert(self, model, x, name):
        src = os.path.join(self.dir.name, name + ".onnx")
        out = os.path.join(self.dir.name, name + ".model")
        export(model, x, src)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertEqual(main([src, "-o", out]), 0, err.getvalue())
        with open(out) as f:
            return f.read(), c_model_show(self, out)

    def test_small_network_by_hand(self):
        # conv 3->8, 3x3, stride 2, pad 1 on 3x16x16 -> 8x8x8: 64 * 27 * 8 = 13824 MACs;
        # ReLU6 (Clip 0..6); global average pool; linear 8 -> 5: 40.  Total 13864.
        net = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8),
                            nn.ReLU6(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))
        text, rows = self.convert(net, torch.zeros(1, 3, 16, 16), "small")
        self.assertEqual([l for l in text.splitlines() if not l.startswith(("#", "model",
                                                                             "description"))],
                         ["input 3 16 16", "conv 0 out=8 k=3 stride=2 pad=1", "norm 1 op=batch",
                          "act 2 op=relu6", "pool 3 op=global", "linear 5 in=8 out=5"])
        self.assertEqual(sum(int(r["fwd_madds"]) for r in rows), 13864)

    def test_resnet18_matches_the_zoo_and_the_reference(self):
        _, rows = self.convert(torchvision.models.resnet18(), torch.zeros(1, 3, 224, 224), "r18")
        ref = {r["network"]: r for r in reference_rows(self, "model_macs.csv")}
        self.assertEqual(sum(int(r["fwd_madds"]) for r in rows),
                         int(ref["resnet18_imagenet"]["fwd_macs_conv_linear"]))
        zoo = c_model_show(self, os.path.join(REPO, "models", "resnet18.model"))
        macs = lambda rs: [r["layer"] for r in rs if r["kind"] in ("conv", "linear")]
        self.assertEqual(macs(rows), macs(zoo))

    def test_bad_file_is_one_line_and_exit_1(self):
        bad = os.path.join(self.dir.name, "bad.onnx")
        with open(bad, "wb") as f:
            f.write(b"\x08\x01garbage")
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = main([bad, "-o", os.path.join(self.dir.name, "x.model")])
        self.assertEqual(rc, 1)
        self.assertTrue(err.getvalue().startswith(bad + ": "), err.getvalue())
        self.assertEqual(err.getvalue().count("\n"), 1)
        self.assertFalse(os.path.exists(os.path.join(self.dir.name, "x.model")))


if __name__ == "__main__":
    unittest.main()
