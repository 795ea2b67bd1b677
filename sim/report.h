/* report.h — the questions users ask of the store, answered as tables (report, compare, plot).
 *
 * Reads only the database, through store_query.h over schema.sql's views; never the inputs,
 * never the cost model, so a database moved to another machine reports the same. The store
 * may be opened read-only (store_open_readonly) or for writing. Conventions (DESIGN.md):
 * speedup = baseline latency / run latency and energy_saving = baseline energy / run energy,
 * both ratios ("x"), of runs of the same model (content hash) on the same arch, unless a
 * baseline arch is named explicitly (e.g. a GPU baseline).
 */
#ifndef BITSIM_REPORT_H
#define BITSIM_REPORT_H

#include <stdint.h>

#include "err.h"
#include "store.h"
#include "table.h"

/* kind: MAC-layer passes ("mac", conv/linear/matmul FWD, BWD_DATA, BWD_WEIGHT with their
 * bias work), non-MAC layers ("non-mac": norm, activation, add, pool, softmax), "update"
 * (optimizer steps) and scheme "overhead". */
typedef enum report_by {
    REPORT_BY_LAYER, REPORT_BY_PASS, REPORT_BY_EPOCH, REPORT_BY_KIND, REPORT_BY_COUNT
} report_by;

/* "layer", "pass", "epoch", "kind", for usage texts and option tables. */
const char *const *report_by_names(void);   /* NULL-terminated, report_by order */

/* Which run to report: run_id when > 0, else the latest complete run labelled label;
 * model and arch (names as stored, NULL = any) narrow either. */
typedef struct report_run_query {
    int64_t run_id;
    const char *label;
    const char *model, *arch;
} report_run_query;

/* Finds the run. A label whose runs span more than one (model, arch) pair after the filters
 * is ambiguous: BS_EINPUT with one line listing the pairs ("resnet20 on bitfusion, ..."),
 * rather than the latest of them picked silently. No such run -> BS_EINPUT naming it. */
int report_find_run(store *s, const report_run_query *q, int64_t *out, bs_error *e);

/* A few lines describing the run (label, scheme, model, arch, epochs, totals, the papers'
 * metrics that apply), into buf. */
int report_run_headline(store *s, int64_t run, char *buf, size_t n, bs_error *e);

/* Where the time and the energy go: one row per layer, pass or epoch of the run, with MAdds,
 * GBitOPs, latency and energy and their shares of the run, and the energy's split into
 * core / SRAM buffers / DRAM / leakage. */
int report_breakdown(store *s, int64_t run, report_by by, table **out, bs_error *e);

typedef struct report_compare_query {
    const char *baseline;       /* a run label, or else a scheme name (latest such run) */
    const char *model, *arch;   /* optional filters on the compared runs, NULL = all */
    const char *baseline_arch;  /* optional: the baseline runs on this arch instead */
} report_compare_query;

typedef struct report_compare_row {
    int64_t run_id;
    const char *model, *arch, *label, *scheme, *baseline_label;
    double madds, gbitops, energy_j, latency_s, speedup, energy_saving;
    double cpt_cost_ratio, adapt_speedup, mem_total_mib, smaq_storage_benefit; /* NaN = n/a */
    double nonmac_time_pct, nonmac_energy_pct;  /* share of non-MAC layers (report_by kind) */
} report_compare_row;

/* Calls fn for each run with a baseline, ordered by model, arch, run id. fn returning non-zero
 * stops the walk and is returned. No baseline run at all -> BS_EINPUT naming it. */
int report_compare_each(store *s, const report_compare_query *q,
                        int (*fn)(const report_compare_row *row, void *ctx), void *ctx,
                        bs_error *e);

/* The same rows as a table: model, arch, label, scheme, madds, gbitops, energy_j, latency_s,
 * speedup, energy_saving, nonmac_time_pct, nonmac_energy_pct, cpt_cost_ratio, adapt_speedup,
 * mem_mib, smaq_benefit. */
int report_compare_table(store *s, const report_compare_query *q, table **out, bs_error *e);

#endif
