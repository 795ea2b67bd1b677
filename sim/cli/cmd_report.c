/* cmd_report.c — `bitsim report`: where one stored run's time and energy go.
 *
 * Reads only the database (report.h). The text view is for people: a headline with the run's
 * totals, then the breakdown by pass and by layer. --by picks one breakdown; machine formats
 * (csv, json) always print exactly one table so their output stays one document.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "err.h"
#include "report.h"
#include "store.h"
#include "table.h"
#include "text.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bitsim report --db FILE (--run ID | --label LABEL) [--model M] [--arch A]\n"
            "                     [--by %s] [--format %s]\n\n"
            "Where a stored run's time and energy go: MAdds, GBitOPs, latency and energy per\n"
            "layer, pass or epoch, their share of the run (time_pct, energy_pct), the share of\n"
            "stall cycles, and the energy split into core / SRAM buffers / DRAM / leakage.\n\n"
            "  --db FILE       the bitsim database (opened read-only)\n"
            "  --run ID        the run's id (see bitsim compare, or the runs table)\n"
            "  --label LABEL   the latest complete run with this label; when the label is on\n"
            "                  runs of several models or archs, name one with --model/--arch\n"
            "  --model M       only runs of this model (its name, as bitsim compare shows it)\n"
            "  --arch A        only runs on this arch (its name, as bitsim compare shows it)\n"
            "  --by KIND       one breakdown; default for table/markdown/latex: headline, then by\n"
            "                  pass and by layer; default for csv/json: by layer\n"
            "  --format F      output format (default table)\n",
            report_by_choices(), table_format_choices());
}

/* Prints one breakdown, with a title line in the human formats. */
static int print_breakdown(struct sqlite3 *db, int64_t run, report_by by, table_format fmt,
                           bool titled, bs_error *e)
{
    table *t;
    int rc = report_breakdown(db, run, by, &t, e);
    if (rc)
        return rc;
    static const char *const titles[REPORT_BY_COUNT] = {"by layer", "by pass", "by epoch"};
    if (titled)
        printf("\n%s:\n", titles[by]);
    bool ok = table_print(t, fmt, stdout);
    table_free(t);
    return ok ? BS_OK : err_set(e, BS_EINTERNAL, "cannot print the report table");
}

int cmd_report(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv))
        return cmd_help(usage);
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},     {"run", required_argument, NULL, 'r'},
        {"label", required_argument, NULL, 'l'},  {"by", required_argument, NULL, 'b'},
        {"format", required_argument, NULL, 'f'}, {"model", required_argument, NULL, 'm'},
        {"arch", required_argument, NULL, 'a'},   {NULL, 0, NULL, 0},
    };
    const char *db_path = NULL, *label = NULL, *model = NULL, *arch = NULL;
    int64_t run_id = 0;
    int by = -1, fmt = TABLE_TEXT, c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db_path = optarg; break;
        case 'l': label = optarg; break;
        case 'm': model = optarg; break;
        case 'a': arch = optarg; break;
        case 'r':
            if (!text_parse_i64(optarg, 1, INT64_MAX, &run_id))
                return cmd_bad_value("report", "--run", optarg, "a run id");
            break;
        case 'b':
            if ((by = report_by_parse(optarg)) < 0) {
                char want[64];
                snprintf(want, sizeof want, "one of %s", report_by_choices());
                return cmd_bad_value("report", "--by", optarg, want);
            }
            break;
        case 'f':
            if (cmd_table_format("report", optarg, &fmt))
                return BS_EUSAGE;
            break;
        default:
            return cmd_bad_option("report", argv[optind - 1], usage);
        }
    }
    if (optind < argc || !db_path || (run_id > 0) == (label != NULL))
        return cmd_usage_error("report", "needs --db and exactly one of --run or --label", usage);
    bs_error e;
    store *s;
    int rc = cmd_open_store(&s, db_path, true, &e);
    if (rc)
        return rc;
    struct sqlite3 *db = store_db(s);
    int64_t run;
    bool machine = fmt == TABLE_CSV || fmt == TABLE_JSON;
    report_run_query q = {.run_id = run_id, .label = label, .model = model, .arch = arch};
    rc = report_find_run(db, &q, &run, &e);
    if (rc == BS_OK && (by >= 0 || machine)) {
        rc = print_breakdown(db, run, by >= 0 ? (report_by)by : REPORT_BY_LAYER, fmt, false, &e);
    } else if (rc == BS_OK) {
        char headline[1024];
        rc = report_run_headline(db, run, headline, sizeof headline, &e);
        if (rc == BS_OK) {
            printf("%s\n", headline);
            rc = print_breakdown(db, run, REPORT_BY_PASS, fmt, true, &e);
        }
        if (rc == BS_OK)
            rc = print_breakdown(db, run, REPORT_BY_LAYER, fmt, true, &e);
    }
    store_close(s);
    return rc ? err_report(&e) : BS_OK;
}
