/* cmd_compare.c — `bitsim compare`: schemes side by side against a baseline, like the papers'
 * tables (MAdds, GBitOPs, energy, latency, speedup, energy saving), with the papers' own
 * metrics next to the hardware's. Reads only the database (report.h).
 */
#include <stdio.h>

#include "cmd.h"
#include "err.h"
#include "report.h"
#include "store.h"
#include "table.h"

/* The comparison table, made while the store is open (cmd_read_store closes it). */
static int compare_read(store *s, const void *q, void *t, bs_error *e)
{
    return report_compare_table(s, q, t, e);
}

int cmd_compare(int argc, char **argv)
{
    const char *db_path = NULL;
    report_compare_query q = {0};
    int fmt = TABLE_TEXT;
    cmd_opt opts[] = {
        CMD_OPT_DB(&db_path, "the bitsim database, opened read-only"),
        CMD_OPT("baseline", 'b', "NAME", "run label or scheme of the baseline, e.g. fp32", NULL, CMD_STR,
         &q.baseline, .required = true),
        CMD_OPT("model", 'm', "M", "only runs of this model", NULL, CMD_STR, &q.model),
        CMD_OPT("arch", 'a', "A", "only runs on this arch", NULL, CMD_STR, &q.arch),
        CMD_OPT("baseline-arch", 0, "A", "take the baseline run from arch A instead of the run's own",
         NULL, CMD_STR, &q.baseline_arch),
        CMD_OPT_FORMAT(&fmt),
    };
    const cmd_spec spec = {
        .name = "compare", .synopsis = "--baseline LABEL|SCHEME [options]",
        .about = "One row per stored run that has a baseline: the latest complete run with label\n"
                 "LABEL (or, when no run has that label, with scheme SCHEME) of the same model on\n"
                 "the same arch (or on --baseline-arch, e.g. a GPU baseline).",
        .epilog = "columns: run (the run's id, for bitsim report --run); madds; gbitops\n"
                  "  (MAdds x b_x x b_y / 1e9, the FracTrain/CPT convention); energy_j; latency_s;\n"
                  "  speedup = baseline latency / run latency (x);\n"
                  "  energy_saving = baseline energy / run energy (x); nonmac_time_pct,\n"
                  "  nonmac_energy_pct (share of the run in non-MAC layers: norm, activation, add,\n"
                  "  pool; the rest is MAC layers, updates, overhead); the papers' metrics:\n"
                  "  cpt_cost_ratio (CPT/FracTrain training cost vs fp32), adapt_speedup (AdaPT's\n"
                  "  performance model), mem_mib (training-memory footprint), smaq_benefit (SmaQ\n"
                  "  Eq. 4, smaq runs only); '-' = not applicable",
        CMD_OPTS(opts), .max_args = 0};
    table *t;
    int rc;
    if (!cmd_read_store(&spec, argc, argv, &db_path, compare_read, &q, &t, &rc))
        return rc;
    return cmd_print_table(t, fmt);
}
