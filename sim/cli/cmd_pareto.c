/* cmd_pareto.c — `bitsim pareto`: the non-dominated runs of a database (latency x energy x
 * area, per trace).
 *
 * Reads only the database (front.h loads the runs with their arch's area, pareto.h filters
 * them); runs whose arch has no area model cannot be placed and are counted on stderr.
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "err.h"
#include "front.h"
#include "store.h"
#include "table.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bitsim pareto --db D [options]\n\n"
            "Lists the runs no other run of the same trace beats in latency, energy and area at\n"
            "once (all three minimised). Area and peak power come from each run's stored arch\n"
            "through the area model (BitFusion synthesis figures for the fusion units, the SRAM\n"
            "table for the buffers).\n\n"
            "options:\n"
            "  --db D         database (required)\n"
            "  --trace NAME   only runs of this trace\n"
            "  --label L      only runs with this label (e.g. one sweep's)\n"
            "  --model M      only runs of this model\n"
            "  --all          every run, with a front column, not only the front\n"
            "  --format F     %s (default table)\n"
            "  -h, --help     this text\n",
            table_format_choices());
}

int cmd_pareto(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv))
        return cmd_help(usage);
    enum { OPT_DB = 256, OPT_TRACE, OPT_LABEL, OPT_MODEL, OPT_ALL, OPT_FORMAT };
    static const struct option opts[] = {
        {"db", required_argument, NULL, OPT_DB},       {"trace", required_argument, NULL, OPT_TRACE},
        {"label", required_argument, NULL, OPT_LABEL}, {"model", required_argument, NULL, OPT_MODEL},
        {"all", no_argument, NULL, OPT_ALL},
        {"format", required_argument, NULL, OPT_FORMAT}, {NULL, 0, NULL, 0}};
    const char *db_path = NULL;
    front_query q = {0};
    bool all = false;
    int format = TABLE_TEXT, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DB: db_path = optarg; break;
        case OPT_TRACE: q.trace = optarg; break;
        case OPT_LABEL: q.label = optarg; break;
        case OPT_MODEL: q.model = optarg; break;
        case OPT_ALL: all = true; break;
        case OPT_FORMAT:
            if (cmd_table_format("pareto", optarg, &format))
                return BS_EUSAGE;
            break;
        default:
            return cmd_bad_option("pareto", argv[optind - 1], usage);
        }
    }
    if (!db_path || optind != argc)
        return cmd_usage_error("pareto", db_path ? "unexpected argument" : "--db is required",
                               usage);
    bs_error e;
    store *s;
    int rc = cmd_open_store(&s, db_path, true, &e);
    if (rc)
        return rc;
    front_set set;
    rc = front_load(store_db(s), &q, &set, &e);
    store_close(s);
    if (rc)
        return err_report(&e);
    if (set.n_no_area)
        fprintf(stderr, "bitsim pareto: %zu run(s) left out, no area model for their arch "
                "(first: %s)\n", set.n_no_area, set.first_no_area);
    if (set.n == 0) {
        front_free(&set);
        err_set(&e, BS_EINPUT, "%s: no complete runs%s", db_path,
                q.trace || q.label || q.model ? " match the filter" : " with an area model");
        return err_report(&e);
    }
    table *t = front_table(&set, all);
    bool ok = t && table_print(t, (table_format)format, stdout);
    if (ok && format == TABLE_TEXT)
        fprintf(stderr, "%zu of %zu runs on the front\n", set.n_front, set.n);
    table_free(t);
    front_free(&set);
    if (!ok) {
        err_set(&e, BS_EINTERNAL, "out of memory printing the table");
        return err_report(&e);
    }
    return BS_OK;
}
