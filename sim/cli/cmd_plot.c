/* cmd_plot.c — `bitsim plot`: publication plots (PDF or PNG) from the database via gnuplot.
 * The numbers come from SQL over the store, the look from the scripts in plots/ (plot.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "plot.h"
#include "store.h"
#include "text.h"

static void print_file(const char *path, void *ctx)
{
    (void)ctx;
    printf("%s\n", path);
}

static void print_note(const char *msg, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "bitsim plot: %s\n", msg);
}

int cmd_plot(int argc, char **argv)
{
    const char *db_path = NULL;
    int format = PLOT_PDF;
    int size = PLOT_DOUBLE;
    plot_request req = {.on_note = print_note};
    cmd_opt opts[] = {
        CMD_OPT_DB(&db_path, "the bitsim database, opened read-only"),
        CMD_OPT("output", 'o', "DIR", "output directory (created if missing)", NULL, CMD_STR,
         &req.out_dir, .required = true),
        CMD_OPT("format", 'f', "F", "output format (pdf is vector)", "pdf", CMD_CHOICE, &format,
         .names = plot_format_names()),
        CMD_OPT("baseline", 'b', "NAME", "speedup's baseline run label or scheme", "fp32", CMD_STR,
         &req.baseline),
        CMD_OPT("baseline-arch", 0, "A", "speedup: take the baseline from arch A (e.g. a GPU;\n"
                "the axis turns logarithmic when speedups fall below 0.1)", NULL,
         CMD_STR, &req.baseline_arch),
        CMD_OPT("model", 'm', "M", "only runs of this model", NULL, CMD_STR, &req.model),
        CMD_OPT("arch", 'a', "A", "only runs on this arch", NULL, CMD_STR, &req.arch),
        CMD_OPT("size", 0, "S", "print size, text >= 8 pt (double = 7 in, column = 3.3 in,\n"
                "a two-column paper's column; slide = 10 in)", "double", CMD_CHOICE, &size,
                .names = plot_size_names()),
        CMD_OPT("energy-percent", 0, NULL, "energy: each bar normalised to 100 % (energy-share)",
                NULL, CMD_FLAG, &req.energy_percent),
    };
    /* KIND's list is plot.c's table of kinds */
    const int n_kinds = plot_kind_count();
    char about[2048];
    size_t len = (size_t)snprintf(about, sizeof about, "KIND:\n");
    for (int k = 0; k < n_kinds && len < sizeof about; k++)
        len += (size_t)snprintf(about + len, sizeof about - len, "  %-11s %s\n",
                                plot_kind_name(k), plot_kind_summary(k));
    if (len < sizeof about)
        snprintf(about + len, sizeof about - len, "  %-11s every kind above that applies (each"
                 " skipped one is named, with why)\n\n"
                 "Writes DIR/KIND.pdf (or .png) and the figure's data as DIR/KIND.csv; timeline\n"
                 "writes DIR/timeline-LABEL.pdf (and .csv) per run; runs of constant width are\n"
                 "skipped with a note.\n"
                 "Runs shown: the latest complete run of each label, model and arch.", "all");
    const cmd_spec spec = {
        .name = "plot", .synopsis = "KIND -o DIR [options]", .about = about,
        .epilog = "Needs gnuplot (Debian: gnuplot-nox).",
        CMD_OPTS(opts), .min_args = 1, .max_args = 1,
        .args_error = "needs one KIND"};
    int first, rc;
    if (!cmd_parse(&spec, argc, argv, &first, &rc))
        return rc;
    req.format = (plot_format)format;
    req.size = (plot_size)size;
    const char *kind_name = argv[first];
    bool all = strcmp(kind_name, "all") == 0;
    int kind = all ? 0 : plot_kind_parse(kind_name);
    if (kind < 0) {
        const char **names = calloc((size_t)n_kinds + 2, sizeof *names);
        if (!names) {
            bs_error e;
            err_set(&e, BS_EINTERNAL, "out of memory");
            return err_report(&e);
        }
        for (int k = 0; k < n_kinds; k++)
            names[k] = plot_kind_name(k);
        names[n_kinds] = "all";
        int near = text_closest(names, kind_name);
        char msg[160];
        if (near >= 0)
            snprintf(msg, sizeof msg, "unknown plot kind '%s' (did you mean '%s'?)", kind_name,
                     names[near]);
        else
            snprintf(msg, sizeof msg, "unknown plot kind '%s'", kind_name);
        free(names);
        return cmd_usage_error(&spec, msg);
    }
    bs_error e;
    store *s;
    if ((rc = cmd_open_store(&s, db_path, true, &e)))
        return rc;
    /* `all` skips a kind with nothing to show (e.g. no baseline run for speedup) with a note,
     * and fails only when it drew nothing or something broke */
    int drawn = 0;
    for (int k = kind; rc == BS_OK && k < (all ? n_kinds : kind + 1); k++) {
        rc = plot_make(s, k, &req, print_file, NULL, &e);
        if (rc == BS_EINPUT && all) {
            fprintf(stderr, "bitsim plot: skipping %s: %s\n", plot_kind_name(k), e.msg);
            rc = BS_OK;
            continue;
        }
        drawn += rc == BS_OK;
    }
    store_close(s);
    if (rc == BS_OK && drawn == 0)
        return err_report(&e);
    return rc ? err_report(&e) : BS_OK;
}
