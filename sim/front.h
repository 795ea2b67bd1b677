/* front.h — the Pareto front of the runs in a database: latency x energy x area.
 *
 * Reads only the store: each complete run's totals (latency, energy) and its arch's stored
 * area and peak power (store.h: computed by area.h when the arch was stored). Runs are
 * compared only with runs of the same trace (same content hash): a front mixes archs, never
 * workloads. Used by `bitsim pareto` (a table) and `bitsim plot pareto` (data for
 * plots/pareto.gp).
 */
#ifndef BITSIM_FRONT_H
#define BITSIM_FRONT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "store.h"
#include "table.h"

typedef struct front_point {
    int64_t run_id, trace_id, arch_id;
    char *arch_name, *trace_name, *label;
    double latency_s, energy_pj, area_mm2, power_w;
    bool on_front;
} front_point;

typedef struct front_query {
    const char *trace;      /* trace name filter, NULL = all */
    const char *label;      /* run label filter (a sweep's label), NULL = all */
    const char *model;      /* model name filter, NULL = all */
} front_query;

typedef struct front_set {
    front_point *pts;
    size_t n, n_front;
    size_t n_no_area;       /* runs left out: their arch has no area model (e.g. a GPU) */
    char first_no_area[BS_ERR_MSG_MAX];
} front_set;

/* Loads the matching complete runs and marks the non-dominated ones per trace. Runs on an
 * arch the area model does not cover (GPU rooflines) are left out and counted. Errors: the
 * database unreadable. No runs is not an error. */
int front_load(store *db, const front_query *q, front_set *out, bs_error *e);
void front_free(front_set *s);

/* The front (or every point, when all) as a table: trace, arch, latency_s, energy_j,
 * area_mm2, power_w, run, sorted by trace then latency. NULL when out of memory. */
table *front_table(const front_set *s, bool all);


/* For `bitsim plot pareto`: loads the query's front and writes DIR/pareto-all.dat and
 * DIR/pareto-front.dat (their paths into all_path, front_path). BS_EINPUT when no run
 * qualifies. */
int front_write_plot_files(store *db, const front_query *q, const char *dir,
                           char *all_path, char *front_path, size_t n, bs_error *e);

#endif
