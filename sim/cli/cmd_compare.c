/* cmd_compare.c — `bitsim compare`: schemes side by side against a baseline, like the papers'
 * tables (MAdds, GBitOPs, energy, latency, speedup, energy saving), with the papers' own
 * metrics next to the hardware's. Reads only the database (report.h).
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "err.h"
#include "report.h"
#include "store.h"
#include "table.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bitsim compare --db FILE --baseline LABEL|SCHEME [--model M] [--arch A]\n"
            "                      [--baseline-arch A] [--format %s]\n\n"
            "One row per stored run that has a baseline: the latest complete run with label\n"
            "LABEL (or, when no run has that label, with scheme SCHEME) of the same model on\n"
            "the same arch (or on --baseline-arch, e.g. a GPU baseline).\n\n"
            "columns: madds; gbitops (MAdds x b_x x b_y / 1e9, the FracTrain/CPT convention);\n"
            "  energy_j; latency_s; speedup = baseline latency / run latency (x);\n"
            "  energy_saving = baseline energy / run energy (x); the papers' metrics:\n"
            "  cpt_cost_ratio (CPT/FracTrain training cost vs fp32), adapt_speedup (AdaPT's\n"
            "  performance model), mem_mib (training-memory footprint), smaq_benefit (SmaQ\n"
            "  Eq. 4, smaq runs only); '-' = not applicable\n\n"
            "  --db FILE           the bitsim database (opened read-only)\n"
            "  --baseline NAME     run label or scheme of the baseline, e.g. fp32\n"
            "  --model M, --arch A only runs of this model / on this arch\n"
            "  --baseline-arch A   take the baseline run from arch A instead of the run's own\n"
            "  --format F          output format (default table)\n",
            table_format_choices());
}

int cmd_compare(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv))
        return cmd_help(usage);
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},     {"baseline", required_argument, NULL, 'b'},
        {"model", required_argument, NULL, 'm'},  {"arch", required_argument, NULL, 'a'},
        {"baseline-arch", required_argument, NULL, 'B'},
        {"format", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0},
    };
    const char *db_path = NULL;
    report_compare_query q = {0};
    int fmt = TABLE_TEXT, c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db_path = optarg; break;
        case 'b': q.baseline = optarg; break;
        case 'm': q.model = optarg; break;
        case 'a': q.arch = optarg; break;
        case 'B': q.baseline_arch = optarg; break;
        case 'f':
            if (cmd_table_format("compare", optarg, &fmt))
                return BS_EUSAGE;
            break;
        default:
            return cmd_bad_option("compare", argv[optind - 1], usage);
        }
    }
    if (optind < argc || !db_path || !q.baseline)
        return cmd_usage_error("compare", "needs --db and --baseline", usage);
    bs_error e;
    store *s;
    int rc = cmd_open_store(&s, db_path, true, &e);
    if (rc)
        return rc;
    table *t;
    rc = report_compare_table(store_db(s), &q, &t, &e);
    store_close(s);
    if (rc)
        return err_report(&e);
    bool ok = table_print(t, (table_format)fmt, stdout);
    table_free(t);
    if (!ok)
        return err_report(&(bs_error){BS_EINTERNAL, "cannot print the comparison table"});
    return BS_OK;
}
