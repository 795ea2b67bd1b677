/* replay.h — a training run's cost on one accelerator: a trace's segments through cost_eval.
 *
 * replay_run walks every layer's segments (never iterations), evaluates each distinct
 * (layer, pass, operand formats, density bucket) once on the arch, and sums segment length x
 * per-iteration cost into rows per (epoch, layer, pass), plus one OVERHEAD row per epoch for
 * the scheme's extra work. replay.c's top comment says why this equals a per-iteration loop.
 * replay_store writes the rows and totals (with the papers' metrics, metrics.h) as one run.
 */
#ifndef BITSIM_REPLAY_H
#define BITSIM_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "err.h"
#include "store.h"
#include "trace.h"

/* Densities are rounded to 8 significant bits (256 buckets per octave) before cost_eval:
 * |bucket(d) - d| <= 2^-9 d. See replay.c for what that bounds. */
#define REPLAY_DENSITY_BITS 8

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
    store_cost_row *rows;   /* ordered by epoch, then layer (overhead -1 first), then pass
                             * name (BWD_DATA, BWD_WEIGHT, FWD, UPDATE: the costs table's key) */
    size_t n_rows;
    store_run_totals totals;/* hardware sums + the papers' metrics */
    replay_stats stats;
} replay_result;

/* The density replay evaluates for d in [0, 1]: d rounded to REPLAY_DENSITY_BITS significant
 * bits (exact for 1, 0.5, 0.25, ...). */
double replay_density_bucket(double d);

/* The most cost rows one run may have (epochs x rows per epoch, checked before replaying):
 * about 120 GB of database at ~120 bytes a row. A longer run is refused (BS_EINPUT, field
 * "epochs"): make its epochs coarser. */
#define REPLAY_ROWS_MAX 1000000000ULL

/* Receives a replay's rows, complete, in the order of replay_result.rows; non-zero stops the
 * replay with that code (e filled). */
typedef int (*replay_row_fn)(const store_cost_row *row, void *ctx, bs_error *e);

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
void replay_result_free(replay_result *r);

/* Replays t on a straight into one run of s (replay_each: memory independent of the run's
 * length): begin, rows as they are made, commit with the totals; abort on any error, so a
 * failed or killed run leaves nothing visible. r gets totals and stats (no rows). */
int replay_each_store(store *s, const trace *t, const arch *a, const replay_options *o,
                      const store_run_info *info, double wall_s, replay_result *r,
                      int64_t *run_id, bs_error *e);

/* Stores r as one run (one transaction: begin, rows, commit with totals and wall_s; abort on
 * any error, so a failed or killed run leaves nothing visible). */
int replay_store(store *s, const replay_result *r, const store_run_info *info, double wall_s,
                 int64_t *run_id, bs_error *e);

#endif
