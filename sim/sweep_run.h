/* sweep_run.h — running a sweep: every point of a shard of a sampled space (sweep.h) over
 * every trace, into a database, with budgets, worker threads and clock-group sharing
 * (sweep_run.c's top comment says why sharing is exact and how it is checked).
 */
#ifndef BITSIM_SWEEP_RUN_H
#define BITSIM_SWEEP_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sweep.h"

typedef struct sweep_options {
    const char *const *traces;  /* trace files; every point replays each */
    size_t n_traces;
    const char *db_path;
    unsigned jobs;              /* worker threads (>= 1) */
    sweep_shard shard;          /* {0, 1} = everything */
    const char *label;          /* the runs' label */
    bool progress;              /* progress line on stderr (the caller checks isatty) */
    bool no_sharing;            /* replay every point in full (no clock-group rescaling) */
} sweep_options;

typedef struct sweep_summary {
    uint64_t points;            /* points of this shard */
    uint64_t invalid;           /* refused by the arch or area model */
    uint64_t over_budget;       /* outside the [constraints] */
    uint64_t duplicates;        /* same arch text as an earlier point */
    uint64_t archs_run;         /* distinct archs replayed */
    uint64_t runs_written, runs_present;
    uint64_t runs_refused;      /* (point, trace) the cost model refused: not stored */
    uint64_t full_replays;      /* replay_run calls (references and checks included) */
    uint64_t derived;           /* runs derived from their clock group's reference */
    bool sharing_off;           /* a derived result disagreed with its check: turned off */
    double wall_s, cpu_s;       /* elapsed, and CPU time of the process (all threads) */
    char first_invalid[BS_ERR_MSG_MAX];
    char wal_kept[BS_ERR_MSG_MAX];  /* non-empty: stored, but a full disk keeps runs in the
                                     * -wal (store_checkpoint's message) */
} sweep_summary;

/* Runs the shard's points of s (already sampled) over every trace into o->db_path.
 * Errors: base arch or traces unreadable, a swept key the arch refuses (space file line), a
 * replay or database failure (names the point). */
int sweep_run(const sweep_space *s, const sweep_options *o, sweep_summary *sum, bs_error *e);

#endif
