/* cmd_pareto.c — `bitsim pareto`: the non-dominated runs of a database (latency x energy x
 * area, per trace).
 *
 * Reads only the database (front.h loads the runs with their arch's stored area, pareto.h
 * filters them); runs whose arch has no area model cannot be placed and are counted on stderr.
 */
#include <stdio.h>

#include "cmd.h"
#include "err.h"
#include "front.h"
#include "store.h"
#include "table.h"

/* The runs with their stored area, loaded while the store is open; the front is
 * filtered and printed after it is closed. */
static int pareto_read(store *s, const void *q, void *set, bs_error *e)
{
    return front_load(s, q, set, e);
}

int cmd_pareto(int argc, char **argv)
{
    const char *db_path = NULL;
    front_query q = {0};
    bool all = false;
    int format = TABLE_TEXT;
    cmd_opt opts[] = {
        CMD_OPT_DB(&db_path, "the bitsim database, opened read-only"),
        CMD_OPT("trace", 't', "NAME", "only runs of this trace", NULL, CMD_STR, &q.trace),
        CMD_OPT("label", 'l', "L", "only runs with this label (e.g. one sweep's)", NULL, CMD_STR,
         &q.label),
        CMD_OPT("model", 'm', "M", "only runs of this model", NULL, CMD_STR, &q.model),
        CMD_OPT("all", 0, NULL, "every run, with a front column, not only the front", NULL, CMD_FLAG,
         &all),
        CMD_OPT_FORMAT(&format),
    };
    const cmd_spec spec = {
        .name = "pareto", .synopsis = "[options]",
        .about = "Lists the runs no other run of the same trace beats in latency, energy and area at\n"
                 "once (all three minimised). Area and peak power are those the database keeps for\n"
                 "each run's arch, computed by the area model when the arch was stored (BitFusion\n"
                 "synthesis figures for the fusion units, the SRAM table for the buffers).",
        CMD_OPTS(opts), .max_args = 0};
    front_set fs, *set = &fs;
    int rc;
    if (!cmd_read_store(&spec, argc, argv, &db_path, pareto_read, &q, &fs, &rc))
        return rc;
    if (set->n_no_area)
        fprintf(stderr, "bitsim pareto: %zu run(s) left out, no area model for their arch "
                "(first: %s)\n", set->n_no_area, set->first_no_area);
    if (set->n == 0) {
        front_free(set);
        bs_error e;
        err_set(&e, BS_EINPUT, "%s: no complete runs%s", db_path,
                q.trace || q.label || q.model ? " match the filter" : " with an area model");
        return err_report(&e);
    }
    rc = cmd_print_table(front_table(set, all), format);
    if (rc == BS_OK && format == TABLE_TEXT)
        fprintf(stderr, "%zu of %zu runs on the front\n", set->n_front, set->n);
    front_free(set);
    return rc;
}
