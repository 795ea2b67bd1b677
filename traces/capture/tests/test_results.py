"""Tests of capture.results against SQL on the same database, and of the exactness of
`bitsim compare`'s CSV and JSON against the database's values.

The database is built here by ./bitsim (trace gen + run, a two-epoch ResNet-20 on BitFusion
and on the V100 roofline); every DataFrame value is checked against an independent SQL query
over the base tables (runs, run_totals, costs), not the views the module reads.
"""
import json
import math
import os
import sqlite3
import subprocess
import tempfile
import unittest

from .helpers import BITSIM, REPO

try:
    import pandas  # noqa: F401
    from capture import results
except ImportError:  # pragma: no cover
    results = None


def _bitsim(*args, cwd):
    env = dict(os.environ, BITSIM_HOME=REPO)
    r = subprocess.run([BITSIM, *args], capture_output=True, text=True, env=env, cwd=cwd)
    if r.returncode != 0:
        raise AssertionError(f"bitsim {' '.join(args)}: {r.stderr}")
    return r.stdout


@unittest.skipIf(results is None, "pandas is not installed (apt-get install python3-pandas)")
@unittest.skipUnless(os.access(BITSIM, os.X_OK), "no ./bitsim binary (run make first)")
class ResultsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.db_path = os.path.join(d, "r.db")
        for scheme in ("fp32", "cpt"):
            trace = os.path.join(d, f"{scheme}.trace")
            _bitsim("trace", "gen", "--scheme", scheme, "--model", "resnet20", "--epochs", "2",
                    "--iters-per-epoch", "40", "--batch", "128", "-o", trace, cwd=d)
            for arch in ("bitfusion", "gpu-v100"):
                _bitsim("run", "--trace", trace, "--arch", arch, "--db", cls.db_path,
                        "--label", scheme, "--quiet", cwd=d)
        cls.sql = sqlite3.connect(cls.db_path)

    @classmethod
    def tearDownClass(cls):
        cls.sql.close()
        cls.tmp.cleanup()

    def test_runs_match_the_base_tables(self):
        with results.open_db(self.db_path) as db:
            df = results.runs(db)
        want = self.sql.execute(
            "SELECT r.id, r.label, r.arch_name, t.madds, t.latency_s, t.energy_pj, t.bitops"
            " FROM runs r JOIN run_totals t ON t.run_id = r.id WHERE r.status = 'complete'"
            " ORDER BY r.id").fetchall()
        self.assertEqual(len(df), 4)
        self.assertTrue(df.accuracy_pct.isna().all(), "generated traces state no accuracy")
        for run_id, label, arch, madds, lat, energy, bitops in want:
            row = df.loc[run_id]
            self.assertEqual((row.label, row.arch_name), (label, arch))
            self.assertEqual(row.madds, madds)        # exact: same doubles
            self.assertEqual(row.latency_s, lat)
            self.assertEqual(row.energy_pj, energy)
            self.assertEqual(row.gbitops, bitops / 1e9)

    def test_epochs_layers_passes_sum_the_cost_rows(self):
        with results.open_db(self.db_path) as db:
            ep, ly, ps = results.epochs(db), results.layers(db), results.passes(db)
            one = results.layers(db, run_id=1)
        for run_id, n_epochs, madds, lat in self.sql.execute(
                "SELECT run_id, count(DISTINCT epoch), sum(madds), sum(latency_s) FROM costs"
                " GROUP BY run_id"):
            e = ep[ep.run_id == run_id]
            self.assertEqual(len(e), n_epochs)
            self.assertEqual(int(e.madds.sum()), madds)
            self.assertTrue(math.isclose(e.latency_s.sum(), lat, rel_tol=1e-12))
            self.assertTrue(math.isclose(e.cum_latency_s.iloc[-1], lat, rel_tol=1e-12))
            self.assertEqual(int(ly[ly.run_id == run_id].madds.sum()), madds)
            self.assertEqual(int(ps[ps.run_id == run_id].madds.sum()), madds)
        fwd = self.sql.execute("SELECT sum(madds), sum(energy_dram_pj) FROM costs"
                               " WHERE run_id = 1 AND pass = 'FWD'").fetchone()
        row = ps[(ps.run_id == 1) & (ps["pass"] == "FWD")].iloc[0]
        self.assertEqual((int(row.madds), row.energy_dram_pj), fwd)
        # every energy column of the schema (sim/schema.sql), in its order, summed
        self.assertEqual([c for c in ps.columns if c.startswith("energy_")],
                         ["energy_core_pj", "energy_wbuf_pj", "energy_abuf_pj", "energy_obuf_pj",
                          "energy_dram_pj", "energy_leak_pj", "energy_sram_pj", "energy_pj"])
        conv1 = self.sql.execute("SELECT layer_name, sum(madds) FROM costs WHERE run_id = 1"
                                 " AND layer = 0").fetchone()
        first = one[one.layer == 0].iloc[0]
        self.assertEqual((first.layer_name, int(first.madds)), conv1)
        self.assertEqual(set(one.run_id), {1})

    def test_accuracy_from_the_trace_header(self):
        """A captured trace's header `accuracy` (traces/samples: LeNet-5 CPT, the percentage
        its `accuracy` line states, make traces-real regenerates it) is in the runs table and in
        runs()."""
        d = self.tmp.name
        db_path = os.path.join(d, "acc.db")
        trace = os.path.join(REPO, "traces/samples/lenet5-digits-cpt.trace")
        with open(trace) as f:
            stated = [float(l.split()[1]) for l in f if l.startswith("accuracy ")]
        self.assertEqual(len(stated), 1)
        _bitsim("run", "--trace", trace, "--arch", "bitfusion", "--db", db_path, "--quiet", cwd=d)
        with results.open_db(db_path) as db:
            df = results.runs(db)
        self.assertEqual(list(df.accuracy_pct), stated)

    def test_a_foreign_file_is_refused(self):
        path = os.path.join(self.tmp.name, "other.db")
        sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
        with self.assertRaises(results.BitsimDBError):
            results.open_db(path)

    def test_compare_csv_and_json_are_exact(self):
        """Every number `bitsim compare` prints as CSV or JSON reads back to the very double
        the database holds (independent SQL: run_totals and the baseline's own row)."""
        d = self.tmp.name
        csv_text = _bitsim("compare", "--db", self.db_path, "--baseline", "fp32", "--format",
                           "csv", cwd=d)
        js = json.loads(_bitsim("compare", "--db", self.db_path, "--baseline", "fp32",
                                "--format", "json", cwd=d))
        lines = csv_text.strip().split("\n")
        cols = lines[0].split(",")
        rows = [dict(zip(cols, line.split(","))) for line in lines[1:]]
        self.assertEqual(len(rows), len(js))
        for csv_row, js_row in zip(rows, js):
            r = self.sql.execute(
                "SELECT t.madds, t.bitops, t.energy_pj, t.latency_s FROM runs r"
                " JOIN run_totals t ON t.run_id = r.id WHERE r.label = ? AND r.arch_name = ?",
                (js_row["label"], js_row["arch"])).fetchone()
            base = self.sql.execute(
                "SELECT t.energy_pj, t.latency_s FROM runs r JOIN run_totals t"
                " ON t.run_id = r.id WHERE r.label = 'fp32' AND r.arch_name = ?",
                (js_row["arch"],)).fetchone()
            want = {"madds": r[0], "gbitops": r[1] / 1e9, "energy_j": r[2] * 1e-12,
                    "latency_s": r[3], "speedup": base[1] / r[3],
                    "energy_saving": (base[0] * 1e-12) / (r[2] * 1e-12)}
            for k, v in want.items():
                self.assertEqual(float(csv_row[k]), v, f"csv {k}: {csv_row[k]} vs {v!r}")
                self.assertEqual(js_row[k], v, f"json {k}")
            # an integer count prints as an integer, all its digits
            self.assertEqual(csv_row["madds"], str(int(r[0])))
            self.assertIsInstance(js_row["madds"], int)


if __name__ == "__main__":
    unittest.main()
