"""The LeNet-5 digits example end to end (short runs), and the shipped sample traces."""

import glob
import io
import os
import tempfile
import unittest

from capture.digits import train
from capture.tests.helpers import REPO, c_model_check, c_reader_check


class ShortRuns(unittest.TestCase):
    def run_scheme(self, scheme, epochs):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        r = train(scheme, d.name, epochs=epochs, every=5, log=io.StringIO())
        with open(r["trace"]) as f:
            text = f.read()
        c_model_check(self, os.path.join(d.name, "lenet5-digits.model"))
        return r, text

    def test_cpt_trace_follows_the_cycle(self):
        r, text = self.run_scheme("cpt", 1)
        self.assertEqual(r["iterations"], 44)           # 1437 training images // 32
        self.assertIn("scheme cpt\n", text)
        self.assertIn("test accuracy %.4f" % r["accuracy"], text)
        # 44 iterations, 8 cycles: period 5; ceil(3 + 2.5 (1 - cos(pi t / 5))) for t = 0..4
        # is 3, 4, 5, 7, 8 (3.48, 4.73, 6.27, 7.52 rounded up); gradients stay at 8 bits
        self.assertIn("from 0 conv1 W=int3 A=int3 G=int8 WG=int8 ", text)
        for t, b in ((1, 4), (2, 5), (3, 7), (4, 8)):
            self.assertIn("from %d conv1,conv2,conv3,fc1,fc2 W=int%d A=int%d\n" % (t, b, b), text)
        self.assertRegex(text, r"\nfrom 5 conv1 W=int3 A=int3 ")
        c_reader_check(self, r["trace"])

    def test_adaptive_trace_records_decisions_and_overhead(self):
        r, text = self.run_scheme("adaptive", 2)
        self.assertIn("from 0 conv1 W=int8 A=int8 G=int8 WG=int8 ", text)
        self.assertIn("overhead 49 ops=", text)          # first decision after 50 iterations
        c_reader_check(self, r["trace"])


class Samples(unittest.TestCase):
    def test_shipped_samples_read_back(self):
        paths = sorted(glob.glob(os.path.join(REPO, "traces", "samples", "*-digits-*.trace")))
        self.assertEqual(len(paths), 5, paths)      # lenet5 cpt/adaptive, resnet20 x 3
        for p in paths:
            with self.subTest(trace=os.path.basename(p)):
                with open(p) as f:
                    self.assertRegex(f.read(), r"provenance .*test accuracy 0\.\d{4}")
                c_reader_check(self, p)

    def test_resnet20_samples_replay_on_the_zoo_model_and_compare(self):
        import subprocess
        from capture.tests.helpers import BITSIM
        env = dict(os.environ, BITSIM_HOME=REPO)
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        db = os.path.join(d.name, "r20.db")
        for s in ("fp32", "cpt", "adaptive"):
            p = os.path.join(REPO, "traces", "samples", "resnet20-digits-%s.trace" % s)
            with open(p) as f:
                self.assertIn("\nmodel resnet20\n", f.read())     # the zoo's, no renaming
            r = subprocess.run([BITSIM, "run", "--trace", p, "--arch", "bitfusion", "--db", db,
                                "--label", "r20-" + s, "--quiet"], capture_output=True,
                               text=True, env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([BITSIM, "compare", "--db", db, "--baseline", "r20-fp32", "--format",
                            "csv"], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        head = r.stdout.splitlines()[0].split(",")
        rows = {dict(zip(head, l.split(",")))["label"]: l for l in r.stdout.strip().splitlines()[1:]}
        self.assertEqual(set(rows), {"r20-fp32", "r20-cpt", "r20-adaptive"}, r.stdout)

if __name__ == "__main__":
    unittest.main()
