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

ADAPT = {
    "name": [["QConv2d_FP", "QConv2d_FP", "QLinear_FP", "QLinear_FP"]] * 3,
    "qwl": [[8, 8, 8, 8], [8, 8, 6, 6], [8, 8, 6, 6]],
    "qfl": [[4, 4, 4, 4], [4, 4, 3, 3], [4, 4, 3, 3]],
    "sp": [[0, 0.5, 0, 0.1], [0, 0.5, 0, 0.1], [0, 0.25, 0, 0.1]],
    "res": [[50] * 4] * 3, "lb": [[25] * 4] * 3,
    "val_acc": [0.5, 0.9], "val_loss": [1.0, 0.3], "lr": [0.1] * 3,
}


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

    def test_csv_module_errors_are_clean(self):
        # found by fuzz_importers.py: csv.Error ("field larger than field limit") escaped
        # import_csv as a traceback
        path = self.write("log.csv", "iteration,layer,tensor,bits,density\n0,\"" + "x" * 200000)
        with self.assertRaises(ImportFailure) as cm:
            import_csv(path, MemorySink())
        self.assertIn("log.csv:2: csv: field larger than field limit", str(cm.exception))

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

    def test_block_scaled_formats_pass_through(self):
        log = ("iteration,layer,tensor,bits,density\n0,conv1,W,mxfp4,\n0,conv1,A,mxfp6e3m2,\n"
               "0,conv1,G,nvfp4,\n0,fc,W,mxfp8,\n0,fc,A,tf32,\n")
        sink = MemorySink()
        import_csv(self.write("log.csv", log), sink)
        self.assertEqual(sink.changes, [
            (0, "conv1", {"W": "mxfp4", "A": "mxfp6e3m2", "G": "nvfp4"}),
            (0, "fc", {"W": "mxfp8", "A": "tf32"}),
        ])
        self.write("m.model", MODEL)
        out = os.path.join(self.dir.name, "mx.trace")
        rc = main(["csv", self.write("log.csv", log), "-o", out, "--model", "m.model",
                   "--batch", "8", "--iters-per-epoch", "3", "--epochs", "2"])
        self.assertEqual(rc, 0)
        c_reader_check(self, out)
        with self.assertRaises(ImportFailure):
            import_csv(self.write("log.csv", "iteration,layer,tensor,bits,density\n"
                                  "0,conv1,W,mxfp3,\n"), MemorySink())

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
                                           ["conv1", "fc"])
        fx84 = {t: "fx8.4" for t in ("W", "A", "G", "WG")}
        self.assertEqual(sink.changes, [
            (0, "conv1", dict(fx84, dW=0.5)),
            (0, "fc", dict(fx84, dW=0.9)),
            (1, "fc", {t: "fx6.3" for t in ("W", "A", "G", "WG")}),
            (2, "conv1", {"dW": 0.75}),
        ])
        self.assertEqual((records, steps, acc), (4, 3, 0.9))

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
                import_adapt(path, MemorySink(), ["conv1", "fc"])
            self.assertIn(prefix, str(cm.exception))

    def test_deeply_nested_json_is_a_clean_error(self):
        # found by fuzz_importers.py: json.load raised RecursionError (a traceback, not exit 1)
        path = self.write("deep.json", '{"name": ' + "[" * 100000 + "]" * 100000 + "}")
        with self.assertRaises(ImportFailure) as cm:
            import_adapt(path, MemorySink(), ["conv1", "fc"])
        self.assertIn("deep.json:1: json: nested too deeply", str(cm.exception))

    def test_layer_count_mismatch(self):
        with self.assertRaises(ImportFailure) as cm:
            import_adapt(self.write("a.json", json.dumps(ADAPT)), MemorySink(), ["conv1"])
        self.assertIn("a.json:0: name:", str(cm.exception))

    def test_not_an_adapt_log(self):
        with self.assertRaises(ImportFailure) as cm:
            import_adapt(self.write("a.json", '{"val_acc": []}'), MemorySink(), ["c"])
        self.assertIn("a.json:0: name:", str(cm.exception))
        with self.assertRaises(ImportFailure) as cm:
            import_adapt(self.write("b.json", '{"name": [\n'), MemorySink(), ["c"])
        self.assertIn("b.json:2: json:", str(cm.exception))

    def test_cli_writes_a_trace_the_c_reader_accepts(self):
        self.write("m.model", MODEL)
        out = os.path.join(self.dir.name, "adapt.trace")
        rc = main(["adapt", self.write("a.json", json.dumps(ADAPT)), "-o", out, "--model",
                   "m.model", "--layers", "conv1,fc", "--batch", "256", "--epochs", "1"])
        self.assertEqual(rc, 0)
        with open(out) as f:
            text = f.read()
        self.assertIn("iters_per_epoch 3\n", text)
        self.assertIn("last validation accuracy 0.9000", text)
        c_reader_check(self, out)


if __name__ == "__main__":
    unittest.main()
