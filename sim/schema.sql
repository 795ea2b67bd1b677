-- schema.sql — bitsim's SQLite database (embedded into the binary at build time, see Makefile).
--
-- Identity: PRAGMA application_id = 0x62537431 ('bSt1') and PRAGMA user_version = schema
-- version (store.c sets both after running this file). Every statement is IF NOT EXISTS: a
-- writer migrating an older database runs this file again to add what is new (store.c). store_open refuses any database whose
-- identity differs, so a user's unrelated SQLite file is never modified.
--
-- Layout (data flows one way: inputs -> runs -> costs -> views):
--   inputs                 every arch, model and trace once per (kind, content hash); the bytes
--                          are kept, so a stored run can be reproduced from the database
--                          alone (views archs, models, traces show one kind each);
--   runs                   one row per replay: its inputs, label, scheme, options, tool version,
--                          wall time and status; written in the same transaction as its costs,
--                          so a run is either complete with all rows or absent;
--   costs                  one row per (run, epoch, layer, pass): the pass's costs summed over
--                          that epoch's iterations (layer -1, pass OVERHEAD = scheme overhead);
--   arch_area              each stored arch's area and peak power by the area model (area.h),
--                          computed once when the arch is stored (NULL with the model's reason
--                          for archs it does not cover, e.g. GPU rooflines): what pareto reads;
--   run_totals             whole-run figures: the hardware's (MAdds, BitOPs, cycles, latency,
--                          energy, DRAM bits) next to the papers' own metrics (CPT/FracTrain cost
--                          ratio, AdaPT speedup, training-memory footprint, SmaQ benefit); the
--                          energy components are summed from costs at commit (store.c).
-- Views (what report, compare and plot read):
--   run_summary            per-run totals of complete runs, in display units as well;
--   scheme_comparison      every run paired with every run of the same model (content hash):
--                          speedup = baseline latency / run latency, energy_saving = baseline
--                          energy / run energy (both ratios, "x"); compare picks the baseline;
--   epoch_costs            per-(run, epoch) costs with running (cumulative) sums over epochs;
--   cost_rows              costs rows with derived sums (SRAM and total energy, DRAM bits),
--                          which report groups by layer, pass or epoch.
-- Units are in the column names: _pj picojoules, _j joules, _s seconds, _bits bits.

CREATE TABLE IF NOT EXISTS inputs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('arch', 'model', 'trace')),
    name         TEXT NOT NULL,             -- name at first sight (same bytes, same row)
    content_hash TEXT NOT NULL,             -- SHA-256 of content, 64 hex digits (digest.h)
    bytes        INTEGER NOT NULL,
    content      BLOB NOT NULL,
    added_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (kind, content_hash)
);
CREATE VIEW IF NOT EXISTS archs AS SELECT id, name, content_hash, bytes, content, added_at FROM inputs WHERE kind = 'arch';
CREATE VIEW IF NOT EXISTS models AS SELECT id, name, content_hash, bytes, content, added_at FROM inputs WHERE kind = 'model';
CREATE VIEW IF NOT EXISTS traces AS SELECT id, name, content_hash, bytes, content, added_at FROM inputs WHERE kind = 'trace';

CREATE TABLE IF NOT EXISTS runs (
    id           INTEGER PRIMARY KEY,
    label        TEXT NOT NULL,             -- user's label, default the scheme name
    scheme       TEXT NOT NULL,             -- fp32, sbm, cpt, fractrain, muppet, adapt, ...
    arch_id      INTEGER NOT NULL REFERENCES inputs(id),
    model_id     INTEGER NOT NULL REFERENCES inputs(id),
    trace_id     INTEGER NOT NULL REFERENCES inputs(id),
    arch_name    TEXT NOT NULL,
    model_name   TEXT NOT NULL,
    trace_name   TEXT NOT NULL,
    batch        INTEGER NOT NULL,
    iterations   INTEGER NOT NULL,
    epochs       INTEGER NOT NULL,
    options      TEXT NOT NULL DEFAULT '',  -- e.g. 'exact_density=1'; part of the run's identity
    tool_version TEXT NOT NULL,
    started_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    wall_s       REAL,                      -- replay wall time, set at commit
    status       TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'complete', 'failed')),
    accuracy_pct REAL
);
-- runs.accuracy_pct: the final accuracy the training run reached, percent (the trace header's
-- `accuracy`), NULL when not stated. It came after schema version 1 first shipped: store.c
-- adds the column to an older database when a writer opens it (additive: user_version stays).
CREATE INDEX IF NOT EXISTS runs_by_inputs ON runs(model_id, arch_id, trace_id);
CREATE INDEX IF NOT EXISTS runs_by_label ON runs(label);

CREATE TABLE IF NOT EXISTS costs (
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    epoch           INTEGER NOT NULL,
    layer           INTEGER NOT NULL,       -- index in the model, -1 for scheme overhead
    layer_name      TEXT NOT NULL,
    -- the pass names as ORs, not IN (...): SQLite builds an IN list of more than two values
    -- into a temporary b-tree each time the insert runs, a third of `bitsim run`'s time for
    -- the 129,120 rows of ResNet-74 CPT (make bench); the same constraint either way
    pass            TEXT NOT NULL CHECK (pass = 'FWD' OR pass = 'BWD_DATA' OR pass = 'BWD_WEIGHT'
                                         OR pass = 'UPDATE' OR pass = 'OVERHEAD'),
    iterations      INTEGER NOT NULL,
    madds           INTEGER NOT NULL,
    elem_ops        INTEGER NOT NULL,
    bitops          REAL NOT NULL,          -- MAdds x b_x x b_y (FracTrain/CPT GBitOPs x 1e9)
    wl_madds        REAL NOT NULL,          -- AdaPT: MAdds x word length x density
    compute_cycles  REAL NOT NULL,
    stall_cycles    REAL NOT NULL,
    total_cycles    REAL NOT NULL,
    latency_s       REAL NOT NULL,
    energy_core_pj  REAL NOT NULL,
    energy_wbuf_pj  REAL NOT NULL,
    energy_abuf_pj  REAL NOT NULL,
    energy_obuf_pj  REAL NOT NULL,
    energy_dram_pj  REAL NOT NULL,
    energy_leak_pj  REAL NOT NULL,
    dram_read_bits  REAL NOT NULL,
    dram_write_bits REAL NOT NULL,
    avg_bits_x      REAL,                   -- iteration-weighted operand widths of the pass
    avg_bits_y      REAL,                   -- (FWD: x = activations, y = weights)
    PRIMARY KEY (run_id, epoch, layer, pass)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS arch_area (
    arch_id   INTEGER PRIMARY KEY REFERENCES inputs(id),
    area_mm2  REAL,                         -- NULL: the area model does not cover the arch
    peak_w    REAL,
    why       TEXT                          -- the area model's reason when area_mm2 is NULL
);

CREATE TABLE IF NOT EXISTS run_totals (
    run_id               INTEGER PRIMARY KEY REFERENCES runs(id),
    madds                REAL NOT NULL,
    bitops               REAL NOT NULL,
    wl_madds             REAL NOT NULL,
    cycles               REAL NOT NULL,
    latency_s            REAL NOT NULL,
    energy_pj            REAL NOT NULL,
    dram_bits            REAL NOT NULL,
    cpt_cost_ratio       REAL,              -- CPT/FracTrain: mean over iterations of (b_fw^2 + 2 b_fw b_grad)/3/32^2
    adapt_speedup        REAL,              -- AdaPT's performance model against fp32
    mem_weights_bits     REAL,              -- training-memory footprint by tensor class
    mem_fmaps_bits       REAL,              --   feature maps kept for backward
    mem_grads_bits       REAL,              --   gradient maps
    mem_wgrads_bits      REAL,              --   weight gradients
    mem_optim_bits       REAL,              --   optimizer state
    smaq_storage_benefit REAL,              -- SmaQ Eq. 4; NULL when not a smaq run
    energy_core_pj       REAL,              -- components: sums of the run's costs rows
    energy_wbuf_pj       REAL,
    energy_abuf_pj       REAL,
    energy_obuf_pj       REAL,
    energy_dram_pj       REAL,
    energy_leak_pj       REAL
);

CREATE VIEW IF NOT EXISTS run_summary AS
SELECT r.id AS run_id, r.label, r.scheme, r.model_name, r.arch_name, r.trace_name,
       r.model_id, r.arch_id, r.trace_id, r.batch, r.iterations, r.epochs, r.options,
       r.tool_version, r.started_at, r.wall_s,
       t.madds, t.bitops, t.bitops / 1e9 AS gbitops, t.wl_madds, t.cycles, t.latency_s,
       t.energy_pj, t.energy_pj * 1e-12 AS energy_j, t.dram_bits,
       t.cpt_cost_ratio, t.adapt_speedup,
       t.mem_weights_bits, t.mem_fmaps_bits, t.mem_grads_bits, t.mem_wgrads_bits, t.mem_optim_bits,
       t.mem_weights_bits + t.mem_fmaps_bits + t.mem_grads_bits + t.mem_wgrads_bits
         + t.mem_optim_bits AS mem_total_bits,
       t.smaq_storage_benefit,
       t.energy_core_pj, t.energy_wbuf_pj, t.energy_abuf_pj, t.energy_obuf_pj,
       t.energy_dram_pj, t.energy_leak_pj
FROM runs r JOIN run_totals t ON t.run_id = r.id
WHERE r.status = 'complete';

CREATE VIEW IF NOT EXISTS scheme_comparison AS
SELECT r.run_id, r.label, r.scheme, r.model_name, r.arch_name, r.model_id, r.arch_id,
       b.run_id AS base_run_id, b.label AS base_label, b.scheme AS base_scheme,
       b.arch_name AS base_arch_name, b.arch_id AS base_arch_id,
       r.madds, r.gbitops, r.energy_j, r.latency_s,
       b.latency_s / r.latency_s AS speedup,
       b.energy_j / r.energy_j AS energy_saving,
       r.cpt_cost_ratio, r.adapt_speedup, r.mem_total_bits, r.smaq_storage_benefit
FROM run_summary r JOIN run_summary b ON b.model_id = r.model_id;

-- One costs row with the derived sums report groups by layer, pass or epoch.
CREATE VIEW IF NOT EXISTS cost_rows AS
SELECT c.*,
       c.energy_wbuf_pj + c.energy_abuf_pj + c.energy_obuf_pj AS energy_sram_pj,
       c.energy_core_pj + c.energy_wbuf_pj + c.energy_abuf_pj + c.energy_obuf_pj
         + c.energy_dram_pj + c.energy_leak_pj AS energy_pj,
       c.dram_read_bits + c.dram_write_bits AS dram_bits
FROM costs c;

-- Per-epoch sums of cost_rows (its energy_pj is the one spelling of a row's total energy).
-- MAdds are summed in two 32-bit halves, which cannot overflow, and joined by SQLite's
-- arithmetic, which turns to REAL only when the total passes 2^63: exact where it fits, a
-- real number beyond (a plain sum() fails with "integer overflow" there). report.c does the
-- same.
CREATE VIEW IF NOT EXISTS epoch_costs AS
SELECT c.run_id, c.epoch,
       sum(c.madds >> 32) * 4294967296 + sum(c.madds & 4294967295) AS madds,
       sum(c.bitops) AS bitops, sum(c.total_cycles) AS cycles,
       sum(c.latency_s) AS latency_s,
       sum(c.energy_pj) AS energy_pj,
       sum(sum(c.latency_s)) OVER w AS cum_latency_s,
       sum(sum(c.energy_pj)) OVER w AS cum_energy_pj,
       sum(sum(c.bitops)) OVER w AS cum_bitops
FROM cost_rows c JOIN runs r ON r.id = c.run_id AND r.status = 'complete'
GROUP BY c.run_id, c.epoch
WINDOW w AS (PARTITION BY c.run_id ORDER BY c.epoch);
