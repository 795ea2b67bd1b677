/* cmd_report.c — `bitsim report`: where one stored run's time and energy go.
 *
 * Reads only the database (report.h). The text view is for people: a headline with the run's
 * totals, then the breakdown by pass and by layer. --by picks one breakdown; machine formats
 * (csv, json) always print exactly one table so their output stays one document.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "err.h"
#include "report.h"
#include "store.h"
#include "table.h"
#include "text.h"

/* Prints one breakdown, with a title line in the human formats. */
static int print_breakdown(store *s, int64_t run, report_by by, table_format fmt, bool titled,
                           bs_error *e)
{
    table *t;
    int rc = report_breakdown(s, run, by, &t, e);
    if (rc)
        return rc;
    static const char *const titles[REPORT_BY_COUNT] = {"by layer", "by pass", "by epoch",
                                                        "by kind (MAC layers, non-MAC layers, "
                                                        "optimizer, overhead)"};
    if (titled)
        printf("\n%s:\n", titles[by]);
    bool ok = table_print(t, fmt, stdout);
    table_free(t);
    return ok ? BS_OK : err_set(e, BS_EINTERNAL, "cannot print the report table");
}

/* --run: a run id, as bitsim run and bitsim compare print it. */
static bool parse_run_id(const char *arg, void *dst, const char **why)
{
    (void)why;
    return text_parse_i64(arg, 1, INT64_MAX, dst);
}

int cmd_report(int argc, char **argv)
{
    const char *db_path = NULL, *label = NULL, *model = NULL, *arch = NULL;
    int64_t run_id = 0;
    int by = -1, fmt = TABLE_TEXT;
    cmd_opt opts[] = {
        CMD_OPT_DB(&db_path, "the bitsim database, opened read-only"),
        CMD_OPT("run", 'r', "ID", "the run's id: the 'run' column of bitsim compare, or the id\n"
         "bitsim run prints", NULL, CMD_PARSE, &run_id, .parse = parse_run_id,
         .want = "a run id (a whole number >= 1)"),
        CMD_OPT("label", 'l', "LABEL", "the latest complete run with this label; when the label is on\n"
         "runs of several models or archs, name one with --model/--arch", NULL, CMD_STR, &label),
        CMD_OPT("model", 'm', "M", "only runs of this model (its name, as bitsim compare shows it)",
         NULL, CMD_STR, &model),
        CMD_OPT("arch", 'a', "A", "only runs on this arch (its name, as bitsim compare shows it)", NULL,
         CMD_STR, &arch),
        CMD_OPT("by", 'b', "KIND", "one breakdown (default for table/markdown/latex: headline,\n"
         "then by kind, by pass and by layer; for csv/json: by layer)", NULL, CMD_CHOICE, &by,
         .names = report_by_names()),
        CMD_OPT_FORMAT(&fmt),
    };
    const cmd_spec spec = {
        .name = "report", .synopsis = "(--run ID | --label LABEL) [options]",
        .about = "Where a stored run's time and energy go: MAdds, GBitOPs, latency and energy per\n"
                 "layer, pass, epoch or kind (MAC layers / non-MAC layers / optimizer update /\n"
                 "scheme overhead), their share of the run (time_pct, energy_pct), the share of\n"
                 "stall cycles, and the energy split into core / SRAM buffers / DRAM / leakage.\n"
                 "The headline names the cost-model modes the run used (arch [schedule]).",
        CMD_OPTS(opts), .max_args = 0};
    int first, rc;
    if (!cmd_parse(&spec, argc, argv, &first, &rc))
        return rc;
    if ((run_id > 0) == (label != NULL))
        return cmd_usage_error(&spec, "needs exactly one of --run or --label");
    bs_error e;
    store *s;
    if ((rc = cmd_open_store(&s, db_path, true, &e)))
        return rc;
    int64_t run;
    bool machine = fmt == TABLE_CSV || fmt == TABLE_JSON;
    report_run_query q = {.run_id = run_id, .label = label, .model = model, .arch = arch};
    rc = report_find_run(s, &q, &run, &e);
    if (rc == BS_OK && (by >= 0 || machine)) {
        rc = print_breakdown(s, run, by >= 0 ? (report_by)by : REPORT_BY_LAYER, fmt, false, &e);
    } else if (rc == BS_OK) {
        char headline[1024];
        rc = report_run_headline(s, run, headline, sizeof headline, &e);
        if (rc == BS_OK) {
            printf("%s\n", headline);
            rc = print_breakdown(s, run, REPORT_BY_KIND, fmt, true, &e);
        }
        if (rc == BS_OK)
            rc = print_breakdown(s, run, REPORT_BY_PASS, fmt, true, &e);
        if (rc == BS_OK)
            rc = print_breakdown(s, run, REPORT_BY_LAYER, fmt, true, &e);
    }
    store_close(s);
    return rc ? err_report(&e) : BS_OK;
}
