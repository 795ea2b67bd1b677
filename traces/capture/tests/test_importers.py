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
        #   entries 2, 3 (sizes 0): 1 x 0.9 x 0.1 + 1 x 0.1 = 0.19.  Sum 68.44 -> 68 operations
        #   per step (work done, not scaled by the batch).
        sink = MemorySink()
        import_adapt(self.write("a.json", json.dumps(ADAPT)), sink, ["conv1", "fc"],
                     a_format="weight", check_sizes=[10, 1, 0, 0])
        self.assertEqual(sink.overheads[0][:4], (0, 2, 68, 32))
        # step 2: entry 0 sparsity 0.25 -> 3*10*50*0.75 + 261 = 1386 x 0.75 x 0.1 = 103.95;
        # with 17.7 and 0.19: 121.84 -> 122
        self.assertEqual(sink.overheads[1], (2, 3, 122, 32, "marvin"))

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

    def test_optional_lists_that_are_not_lists_are_clean_errors(self):
        # found by fuzz_importers.py: "res": 1.5 gave TypeError (len() of a float), a traceback
        log = json.loads(json.dumps(ADAPT))
        log["res"] = 1.5
        with self.assertRaises(ImportFailure) as cm:
            import_adapt(self.write("res.json", json.dumps(log)), MemorySink(), ["conv1", "fc"],
                         **HAND)
        self.assertIn("res.json:0: res: missing or not a list", str(cm.exception))

    def test_deeply_nested_json_is_a_clean_error(self):
        # found by fuzz_importers.py: json.load raised RecursionError (a traceback, not exit 1)
        path = self.write("deep.json", '{"name": ' + "[" * 100000 + "]" * 100000 + "}")
        with self.assertRaises(ImportFailure) as cm:
            import_adapt(path, MemorySink(), ["conv1", "fc"])
        self.assertIn("deep.json:1: json: nested too deeply", str(cm.exception))

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


FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
# LeNet-5 (AdaPT's models/lenet5_fp.py; the zoo's lenet5): weight and bias element counts
WEIGHTS = (150, 2400, 48000, 10080, 840)
BIASES = (6, 16, 120, 84, 10)
LAYERS = "c1,c3,c5,f6,output"


class AdaptRealLog(Files):
    """A log AdaPT's own code wrote (fixtures/adapt_make_log.py; fixtures/README.md)."""

    def setUp(self):
        super().setUp()
        with open(os.path.join(FIXTURES, "adapt_lenet5_digits.json")) as f:
            self.log = json.load(f)
        with open(os.path.join(FIXTURES, "adapt_lenet5_digits.meta.json")) as f:
            self.meta = json.load(f)

    def test_entry_2k_is_the_weight(self):
        # a sparsity is (zeros / elements): times the weight's count it is whole at every step,
        # times the bias's count it is not (somewhere)
        whole = lambda x: abs(x - round(x)) < 1e-6
        for sp in self.log["sp"]:
            for k, n in enumerate(WEIGHTS):
                self.assertTrue(whole(sp[2 * k] * n), (sp[2 * k], n))
        self.assertFalse(all(whole(sp[2 * k] * b) for sp in self.log["sp"]
                             for k, b in enumerate(BIASES)))

    def import_(self, *extra):
        out = os.path.join(self.dir.name, "adapt.trace")
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = main(["adapt", os.path.join(FIXTURES, "adapt_lenet5_digits.json"), "-o", out,
                       "--model", "lenet5", "--layers", LAYERS, "--batch", "64",
                       "--epochs", "15"] + list(extra))
        self.assertEqual(rc, 0, err.getvalue())
        with open(out) as f:
            return out, f.read()

    def test_imports_what_adapts_code_does(self):
        path, text = self.import_()
        c_reader_check(self, path, iterations=self.meta["logged_steps"])
        sink = MemorySink()
        import_adapt(os.path.join(FIXTURES, "adapt_lenet5_digits.json"), sink,
                     LAYERS.split(","))
        state = {}
        for step in range(len(self.log["sp"])):
            for it, layer, v in (c for c in sink.changes if c[0] == step):
                state.setdefault(layer, {}).update(v)
            wl, fl, sp = self.log["qwl"][step], self.log["qfl"][step], self.log["sp"][step]
            for k, layer in enumerate(LAYERS.split(",")):
                s = state[layer]
                self.assertEqual(s["W"], "fx%d.%d" % (wl[2 * k], fl[2 * k]))
                self.assertEqual(s["WG"], s["W"])
                self.assertAlmostEqual(s["dW"], 1 - sp[2 * k], delta=5e-5)   # 4 decimals
                self.assertEqual(s["G"], "fp32")
                # forward(): the convs read at wl_start/fl_start, fc layers at entry 0's format
                self.assertEqual(s["A"], "fx%d.%d" % (wl[0], fl[0]) if k >= 3 else "fx8.4")
        self.assertIn("validation accuracy %.4f (mean of the last epoch's 3 validation batches)"
                      % self.meta["model_val_accuracy"], text)

    def test_overhead_is_analyses(self):
        """With analyse()'s own per-entry MAdds list, bitsim's AdaPT formula over the imported
        records gives exactly AdaPT's su_own: the imported overhead is analyse()'s."""
        sink = MemorySink()
        import_adapt(os.path.join(FIXTURES, "adapt_lenet5_digits.json"), sink,
                     LAYERS.split(","))
        ov = {}
        for first, end, ops, bits, _ in sink.overheads:
            for it in range(first, end):
                ov[it] = ops * bits
        madds = self.meta["analyse_madds_list"]
        q = f = 0.0
        for step, (wl, sp) in enumerate(zip(self.log["qwl"], self.log["sp"])):
            for j, m in enumerate(madds):
                q += (1 - sp[j]) * m * wl[j]
                f += m * 32
            q += ov.get(step, 0)
        # ops are rounded to whole operations per step: a relative error below 1e-6
        self.assertAlmostEqual(2 * f / (q + f), self.meta["su_own"], delta=1e-6)

    def test_overhead_lowers_bitsims_adapt_speedup(self):
        from capture.tests.helpers import c_run_metric
        with_ov, _ = self.import_()
        with_s = c_run_metric(self, with_ov, self.dir.name, "adapt_speedup")
        without, _ = self.import_("--no-overhead", "-o",
                                  os.path.join(self.dir.name, "no-ov.trace"))
        without_s = c_run_metric(self, os.path.join(self.dir.name, "no-ov.trace"),
                                 self.dir.name, "adapt_speedup")
        self.assertLess(with_s, without_s)
