"""CSV and AdaPT-log import against hand-written expected records."""

import contextlib
import io
import json
import os
import tempfile
import unittest

from capture.importers import ImportFailure, import_adapt, import_csv, main
from capture.sinks import MemorySink
from capture.tests.helpers import c_reader_check

CSV = """iteration,layer,tensor,bits,density
0,conv1,W,8,0.9
0,conv1,A,8,0.5
0,conv1,G,fx8.6,
0,conv1,WG,8,
0,fc,W,16,
5,conv1,W,8,0.9
5,conv1,A,6,
# rows need not be sorted
3,fc,W,4,0.25
"""

MODEL = "model m\ninput 1 4 4\nconv conv1 out=2 k=3\nlinear fc in=8 out=3\n"

# Entries in AdaPT's order: (weight, bias) per layer, the bias copying the weight's qwl/qfl.
ADAPT = {
    "name": [["QConv2d_FP", "QConv2d_FP", "QLinear_FP", "QLinear_FP"]] * 3,
    "qwl": [[8, 8, 8, 8], [8, 8, 6, 6], [8, 8, 6, 6]],
    "qfl": [[4, 4, 4, 4], [4, 4, 3, 3], [4, 4, 3, 3]],
    "sp": [[0.5, 0, 0.1, 0], [0.5, 0, 0.1, 0], [0.25, 0, 0.1, 0]],
    "res": [[50] * 4] * 3, "lb": [[25] * 4] * 3,
    "val_acc": [0.5, 0.9], "val_loss": [1.0, 0.3], "lr": [0.1] * 3,
}
HAND = dict(a_format="weight", overhead=False)

class Files(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path


class CsvImport(Files):
    def test_changes_only_sorted_by_iteration(self):
        sink = MemorySink()
        import_csv(self.write("log.csv", CSV), sink)
        self.assertEqual(sink.changes, [
            (0, "conv1", {"W": "int8", "A": "int8", "G": "fx8.6", "WG": "int8",
                          "dW": 0.9, "dA": 0.5}),
            (0, "fc", {"W": "int16"}),
            (3, "fc", {"W": "int4", "dW": 0.25}),
            (5, "conv1", {"A": "int6"}),
        ])

    def test_bad_rows_name_file_line_and_field(self):
        cases = [
            ("0,conv1,W,8,1.5\n", "log.csv:2: density:"),
            ("0,conv1,X,8,\n", "log.csv:2: tensor:"),
            ("0,conv1,W,33,\n", "log.csv:2: bits:"),
            ("0,conv1,W,fx,\n", "log.csv:2: bits:"),
            ("0,conv1,WG,8,0.5\n", "log.csv:2: density:"),
            ("-1,conv1,W,8,\n", "log.csv:2: iteration:"),
            ("0,conv1,W,,\n", "log.csv:2: bits:"),
            ("0,conv1,W,8\n", "log.csv:2: row:"),
            ("0,conv1,W,8,nan\n", "log.csv:2: density:"),
        ]
        for row, prefix in cases:
            path = self.write("log.csv", "iteration,layer,tensor,bits,density\n" + row)
            with self.assertRaises(ImportFailure) as cm:
                import_csv(path, MemorySink())
            msg = str(cm.exception)
            self.assertTrue(msg.startswith(os.path.join(self.dir.name, prefix)), msg)
        with self.assertRaises(ImportFailure) as cm:
            import_csv(self.write("log.csv", "it,layer\n"), MemorySink())
        self.assertIn("log.csv:1: header:", str(cm.exception))

    def test_cli_writes_a_trace_the_c_reader_accepts(self):
        self.write("m.model", MODEL)
        out = os.path.join(self.dir.name, "csv.trace")
        rc = main(["csv", self.write("log.csv", CSV), "-o", out, "--model", "m.model",
                   "--batch", "8", "--iters-per-epoch", "3", "--epochs", "2"])
        self.assertEqual(rc, 0)
        with open(out) as f:
            text = f.read()
        self.assertIn("from 3 fc W=int4 dW=0.25\n", text)
        c_reader_check(self, out)

    def test_cli_rejects_iterations_past_the_run(self):
        out = os.path.join(self.dir.name, "csv.trace")
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = main(["csv", self.write("log.csv", CSV), "-o", out, "--model", "m.model",
                       "--batch", "8", "--iters-per-epoch", "2", "--epochs", "2"])
        self.assertEqual(rc, 1)
        self.assertIn("log.csv:7: iteration: 5 is past the run's 4 iterations", err.getvalue())
        self.assertFalse(os.path.exists(out))


class AdaptImport(Files):
    def test_weight_entries_of_each_pair_become_layer_records(self):
        sink = MemorySink()
        records, steps, acc = import_adapt(self.write("a.json", json.dumps(ADAPT)), sink,
                                           ["conv1", "fc"], **HAND)
        fx84 = {"W": "fx8.4", "A": "fx8.4", "G": "fp32", "WG": "fx8.4"}
        self.assertEqual(sink.changes, [
            (0, "conv1", dict(fx84, dW=0.5)),
            (0, "fc", dict(fx84, dW=0.9)),
            (1, "fc", {"W": "fx6.3", "A": "fx6.3", "WG": "fx6.3"}),
            (2, "conv1", {"dW": 0.75}),
        ])
        self.assertEqual((records, steps, acc), (4, 3, [0.5, 0.9]))

    def test_overhead_is_analyse_marvin_step_per_entry(self):
        # step 0, entry 0: size 10, lb 25, res 50, non_zeros 0.5, qwl 8 (bisect 1):
        #   marvin_step = 3*10*1*50*0.5 + 26*10 + 1 = 1011; x 0.5 (non_zeros) x 10 / (25 x 4)
        #   = 50.55; entry 1 (bias, sp 0): size 1: 3*1*50 + 26 + 1 = 177 x 0.1 = 17.7;
        #   entries 2, 3 (sizes 0): 1 x 0.9 x 0.1 + 1 x 0.1 = 0.19.  Sum 68.44, x batch 2 = 137.
        sink = MemorySink()
        import_adapt(self.write("a.json", json.dumps(ADAPT)), sink, ["conv1", "fc"],
                     a_format="weight", check_sizes=[10, 1, 0, 0], batch=2)
        self.assertEqual(sink.overheads[0][:4], (0, 2, 137, 32))
        # step 2: entry 0 sparsity 0.25 -> 3*10*50*0.75 + 261 = 1386 x 0.75 x 0.1 = 103.95
        self.assertEqual(sink.overheads[1], (2, 3, round(2 * (103.95 + 17.7 + 0.19)), 32,
                                             "marvin"))

    def test_malformed_entries_name_the_step(self):
        def broken(key, step, value):
            log = json.loads(json.dumps(ADAPT))
            log[key][step] = value
            return self.write("%s%d.json" % (key, step), json.dumps(log))

        cases = [(broken("name", 1, "QConv2d_FP"), "name1.json:1: name:"),
                 (broken("qwl", 2, [8, 8, 8]), "qwl2.json:2: qwl:"),
                 (broken("qwl", 0, [8, 40, 8, 8]), "qwl0.json:0: qwl:"),
                 (broken("qfl", 0, [4, True, 4, 4]), "qfl0.json:0: qfl:"),
                 (broken("sp", 1, [0, 0, 0, 1.5]), "sp1.json:1: sp:")]
        for path, prefix in cases:
            with self.assertRaises(ImportFailure) as cm:
                import_adapt(path, MemorySink(), ["conv1", "fc"], **HAND)
            self.assertIn(prefix, str(cm.exception))

    def test_layer_count_mismatch(self):
        with self.assertRaises(ImportFailure) as cm:
            import_adapt(self.write("a.json", json.dumps(ADAPT)), MemorySink(), ["conv1"], **HAND)
        self.assertIn("a.json:0: name:", str(cm.exception))

    def test_not_an_adapt_log(self):
        with self.assertRaises(ImportFailure) as cm:
            import_adapt(self.write("a.json", '{"val_acc": []}'), MemorySink(), ["c"], **HAND)
        self.assertIn("a.json:0: name:", str(cm.exception))
        with self.assertRaises(ImportFailure) as cm:
            import_adapt(self.write("b.json", '{"name": [\n'), MemorySink(), ["c"], **HAND)
        self.assertIn("b.json:2: json:", str(cm.exception))

    def test_cli_writes_a_trace_the_c_reader_accepts(self):
        self.write("m.model", MODEL)
        out = os.path.join(self.dir.name, "adapt.trace")
        rc = main(["adapt", self.write("a.json", json.dumps(ADAPT)), "-o", out, "--model",
                   "m.model", "--layers", "conv1,fc", "--batch", "256", "--epochs", "1",
                   "--a-format", "weight", "--no-overhead", "--val-batches", "2"])
        self.assertEqual(rc, 0)
        with open(out) as f:
            text = f.read()
        self.assertIn("iters_per_epoch 3\n", text)
        # the model's accuracy: the mean of the epoch's two validation batches, not the last
        self.assertIn("validation accuracy 0.7000 (mean of the last epoch's 2", text)
        c_reader_check(self, out)


if __name__ == "__main__":
    unittest.main()
