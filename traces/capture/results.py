"""results.py — a bitsim database as pandas DataFrames, for analysis and matplotlib figures.

    from capture import results
    with results.open_db("out/bitsim.db") as db:
        runs = results.runs(db)               # one row per complete run, with its totals
        per_epoch = results.epochs(db)        # (run, epoch): costs and running sums
        per_layer = results.layers(db, run_id=3)
        per_pass = results.passes(db)

Reads only the database's views (sim/schema.sql: run_summary, epoch_costs, cost_rows), which
are the same the C reports read, so a DataFrame holds the stored values exactly (SQLite REAL
is an IEEE double, INTEGER an int64): nothing is rounded on the way, unlike the text tables.
Only complete runs appear (a run is visible only when its replay committed). The database is
opened read-only, so a running sweep is never disturbed. Needs Debian's python3-pandas.
"""
import sqlite3

import pandas as pd

# store.c's identity: PRAGMA application_id = 'bSt1'. An unrelated SQLite file is refused.
BITSIM_APPLICATION_ID = 0x62537431

# Sums of cost_rows columns that make sense per layer and per pass: these, the energy
# columns (energy_<component>_pj, one per component of the cost model, then energy_sram_pj
# and energy_pj) in the view's order, read from the view so a new component needs no edit
# here, then the DRAM traffic.
_SUMS_BEFORE_ENERGY = ("madds", "elem_ops", "bitops", "wl_madds", "compute_cycles",
                       "stall_cycles", "total_cycles", "latency_s")
_SUMS_AFTER_ENERGY = ("dram_read_bits", "dram_write_bits")


def _sums(db):
    cols = [r[0] for r in db.execute("SELECT name FROM pragma_table_info('cost_rows')")]
    energy = tuple(c for c in cols if c.startswith("energy_") and c.endswith("_pj"))
    return _SUMS_BEFORE_ENERGY + energy + _SUMS_AFTER_ENERGY


class BitsimDBError(Exception):
    """The file is missing or is not a bitsim database."""


def open_db(path):
    """Opens a bitsim database read-only (a sqlite3.Connection, usable in a with block)."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
    except sqlite3.Error as e:
        raise BitsimDBError(f"{path}: cannot open as a bitsim database: {e}") from None
    if app_id != BITSIM_APPLICATION_ID:
        con.close()
        raise BitsimDBError(f"{path}: not a bitsim database (application_id {app_id:#x})")
    return con


def _filter(run_id, column="run_id"):
    if run_id is None:
        return "", ()
    return f" WHERE {column} = ?", (int(run_id),)


def _has_accuracy(db):
    return db.execute("SELECT count(*) FROM pragma_table_info('runs')"
                      " WHERE name = 'accuracy_pct'").fetchone()[0] > 0


def runs(db):
    """Every complete run with its inputs and totals (the run_summary view: madds, bitops,
    gbitops, cycles, latency_s, energy_pj, energy_j, the energy components, dram_bits and the
    papers' metrics) and accuracy_pct (the trace header's `accuracy`, NaN when not stated),
    one row per run, indexed by run_id."""
    acc = "r.accuracy_pct" if _has_accuracy(db) else "NULL AS accuracy_pct"
    return pd.read_sql_query(f"SELECT s.*, {acc} FROM run_summary s JOIN runs r ON r.id = s.run_id"
                             " ORDER BY s.run_id", db, index_col="run_id")


def epochs(db, run_id=None):
    """Per (run, epoch): madds, bitops, cycles, latency_s, energy_pj and the running sums
    cum_latency_s, cum_energy_pj, cum_bitops (the epoch_costs view). Epochs count from 0."""
    where, args = _filter(run_id)
    return pd.read_sql_query(f"SELECT * FROM epoch_costs{where} ORDER BY run_id, epoch", db,
                             params=args)


def _grouped(db, keys, run_id):
    where, args = _filter(run_id, "c.run_id")
    sums = ", ".join(f"sum(c.{k}) AS {k}" for k in _sums(db))
    sql = (f"SELECT c.run_id, {', '.join('c.' + k for k in keys)}, {sums}"
           f" FROM cost_rows c JOIN runs r ON r.id = c.run_id AND r.status = 'complete'{where}"
           f" GROUP BY c.run_id, {', '.join('c.' + k for k in keys)}"
           f" ORDER BY c.run_id, {', '.join('c.' + k for k in keys)}")
    return pd.read_sql_query(sql, db, params=args)


def layers(db, run_id=None):
    """Per (run, layer): the costs summed over epochs and passes. layer -1 is the scheme's
    overhead (pass OVERHEAD)."""
    return _grouped(db, ("layer", "layer_name"), run_id)


def passes(db, run_id=None):
    """Per (run, pass): FWD, BWD_DATA, BWD_WEIGHT, UPDATE, OVERHEAD, summed over epochs and
    layers."""
    return _grouped(db, ("pass",), run_id)


def costs(db, run_id=None):
    """The raw per-(run, epoch, layer, pass) rows with derived sums (the cost_rows view)."""
    where, args = _filter(run_id)
    return pd.read_sql_query(f"SELECT * FROM cost_rows{where} ORDER BY run_id, epoch, layer, pass",
                             db, params=args)
