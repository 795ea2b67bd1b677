/* replay.h — a training run's cost on one accelerator: a trace's segments through cost_eval.
 *
 * replay_run walks every layer's segments (never iterations), evaluates each distinct
 * (layer, pass, operand formats, density bucket) once on the arch, and sums segment length x
 * per-iteration cost into rows per (epoch, layer, pass), plus one OVERHEAD row per epoch for
 * the scheme's extra work. replay.c's top comment says why this equals a per-iteration loop.
 * The rows and totals (with the papers' metrics, metrics.h) are this stage's result; the
 * store records them as one run (store_record, from a replay_source_fn).
 */
#ifndef BITSIM_REPLAY_H
#define BITSIM_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "err.h"
#include "cost.h"
#include "metrics.h"
#include "trace.h"

/* Densities are rounded to 8 significant bits (256 buckets per octave) before cost_eval:
 * |bucket(d) - d| <= 2^-9 d. See replay.c for what that bounds. */
#define REPLAY_DENSITY_BITS 8

/* Costs of one (epoch, layer, pass) summed over that epoch's iterations. layer = -1 with
 * pass = "OVERHEAD" holds the scheme's extra work (trace overhead records). */
typedef struct replay_row {
    uint32_t epoch;
    int32_t layer;              /* index in the model, -1 for scheme overhead */
    const char *layer_name;
    const char *pass;           /* "FWD", "BWD_DATA", "BWD_WEIGHT", "UPDATE", "OVERHEAD" */
    uint64_t iterations;
    uint64_t madds, elem_ops;
    double bitops;              /* doubles: sums over a 90-epoch run exceed 2^64 */
    double wl_madds;            /* AdaPT's word-length x density weighted MAdds */
    double compute_cycles, stall_cycles, total_cycles;
    double latency_s;
    double energy_pj[COST_E_COUNT];
    double dram_read_bits, dram_write_bits;
    double avg_bits_x, avg_bits_y;  /* iteration-weighted operand widths of the pass */
} replay_row;

/* Whole-run figures, the papers' own metrics (metrics.h) next to the hardware's. */
typedef struct replay_totals {
    double madds, bitops, wl_madds, cycles, latency_s, energy_pj, dram_bits;
    union {
        struct {
            METRICS_RESULT_FIELDS
        };
        metrics_result metrics;     /* the same fields, as metrics_compute fills them */
    };
} replay_totals;

typedef struct replay_options {
    bool exact_density;     /* evaluate every distinct density exactly (no buckets) */
} replay_options;

/* The options and cost-model modes (arch [schedule]) a replay runs with, as stored with the
 * run (store_run_info.options) and shown by report: "exact_density=0 nonmac=fused
 * tiling_objective=edp lane_reduce=ic" ("-" where the family has no such key). */
void replay_options_text(const arch *a, const replay_options *o, char *buf, size_t n);

typedef struct replay_stats {
    uint64_t segments;      /* layer segments walked */
    uint64_t pieces;        /* segment pieces after splitting at epoch boundaries */
    uint64_t cost_evals;    /* distinct evaluations (memo misses) */
    uint64_t memo_hits;
} replay_stats;

typedef struct replay_result {
    replay_row *rows;       /* ordered by epoch, then layer (overhead -1 first), then pass
                             * name (BWD_DATA, BWD_WEIGHT, FWD, UPDATE: the costs table's key) */
    size_t n_rows;
    replay_totals totals;   /* hardware sums + the papers' metrics */
    replay_stats stats;
} replay_result;

/* The most cost rows one run may have (epochs x rows per epoch, checked before replaying):
 * about 120 GB of database at ~120 bytes a row. A longer run is refused (BS_EINPUT, field
 * "epochs"): make its epochs coarser. */
#define REPLAY_ROWS_MAX 1000000000ULL

/* Receives a replay's rows, complete, in the order of replay_result.rows; non-zero stops the
 * replay with that code (e filled). */
typedef int (*replay_row_fn)(const replay_row *row, void *ctx, bs_error *e);

/* Replays finished trace t on arch a, handing each row to fn (NULL: rows are only summed)
 * as soon as its epoch is done, so memory does not grow with the run's length. r gets
 * n_rows, totals and stats; r->rows stays NULL. Errors name the layer and pass (bad
 * densities, a layer the arch cannot tile, count overflow) or the field (too many rows). */
int replay_each(const trace *t, const arch *a, const replay_options *o, replay_row_fn fn,
                void *ctx, replay_result *r, bs_error *e);

/* replay_each into an array: r->rows holds every row (memory O(rows)); free r with
 * replay_result_free. For callers that need the rows themselves (sweeps rescale them). */
int replay_run(const trace *t, const arch *a, const replay_options *o, replay_result *r,
               bs_error *e);
/* replay_run keeping at most max_rows rows: a run with more gets r->rows NULL (the rows were
 * dropped as they came: memory O(max_rows)), n_rows, totals and stats complete either way.
 * For a caller that stores short runs' rows as they are and replays long ones again. */
int replay_run_upto(const trace *t, const arch *a, const replay_options *o, size_t max_rows,
                    replay_result *r, bs_error *e);
void replay_result_free(replay_result *r);

/* Where a run's rows come from, for the one path that records a run (store_record): a
 * source hands every row to fn in the order of replay_result.rows, stopping at fn's first
 * non-zero return (which it returns), then fills *totals. */
typedef int (*replay_source_fn)(const void *src, replay_row_fn fn, void *ctx,
                                replay_totals *totals, bs_error *e);
/* Source: the rows of a computed result (src: const replay_result *; sweeps, which rescale
 * the rows before storing them). */
int replay_result_walk(const void *result, replay_row_fn fn, void *ctx, replay_totals *totals,
                       bs_error *e);
/* Source: t replayed on a now, streamed by replay_each (src: const replay_job *; `bitsim
 * run`, memory independent of the run's length); r gets n_rows, totals and stats, no rows. */
typedef struct replay_job {
    const trace *t;
    const arch *a;
    const replay_options *o;
    replay_result *r;
} replay_job;
int replay_job_walk(const void *job, replay_row_fn fn, void *ctx, replay_totals *totals,
                    bs_error *e);

/* The result of the same replay on the same arch clocked at hz instead of ref_hz (the clock
 * rule of the cost model, cost.h): cycles, traffic and dynamic energy do not depend on the
 * clock; latency = cycles / clock and leakage energy = leak power x latency scale by
 * ref_hz / hz. Bitfusion and systolic families only (a GPU roofline's clock is not its only
 * time base). out->rows is malloc'd (NULL when out of memory); free with replay_result_free. */
void replay_result_rescale_clock(const replay_result *ref, double ref_hz, double hz,
                                 replay_result *out);

/* ---- Private Part: for tests/test_replay.c only ---- */

/* The density replay evaluates for d in [0, 1]: d rounded to REPLAY_DENSITY_BITS significant
 * bits (exact for 1, 0.5, 0.25, ...). */
double replay_density_bucket(double d);

#endif
