/* cmd_plot.c — `bitsim plot`: publication plots (PDF or PNG) from the database via gnuplot.
 * The numbers come from SQL over the store, the look from the scripts in plots/ (plot.h).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "plot.h"
#include "store.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bitsim plot KIND --db FILE -o DIR [--format pdf|png] [--baseline NAME]\n"
            "                   [--baseline-arch A] [--model M] [--arch A]\n\n"
            "KIND:\n"
            "  speedup     speedup and energy saving of each run against --baseline (bars)\n"
            "  energy      training energy per run, stacked by component (core, buffers, DRAM)\n"
            "  cumulative  cumulative training time and energy over epochs, one line per run\n"
            "  timeline    per run: forward-pass bit-width heatmap over epochs and layers\n"
            "  pareto      sweep points: energy vs latency, colour = area, the front marked\n"
            "  all         every kind above\n\n"
            "Writes DIR/KIND.pdf (or .png); timeline writes DIR/timeline-LABEL.pdf per run.\n"
            "Runs shown: the latest complete run of each label, model and arch.\n\n"
            "  --db FILE          the bitsim database (opened read-only)\n"
            "  -o, --out DIR      output directory (created if missing)\n"
            "  --format F         pdf (default, vector) or png\n"
            "  --baseline NAME    speedup's baseline run label or scheme (default fp32)\n"
            "  --baseline-arch A  speedup: take the baseline from arch A (e.g. a GPU)\n"
            "  --model M, --arch A  only runs of this model / on this arch\n\n"
            "Needs gnuplot (Debian: gnuplot-nox).\n");
}

static void print_file(const char *path, void *ctx)
{
    (void)ctx;
    printf("%s\n", path);
}

int cmd_plot(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv))
        return cmd_help(usage);
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},       {"out", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},   {"baseline", required_argument, NULL, 'b'},
        {"baseline-arch", required_argument, NULL, 'B'},
        {"model", required_argument, NULL, 'm'},    {"arch", required_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    const char *db_path = NULL;
    plot_request req = {.format = PLOT_PDF, .baseline = "fp32"};
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db_path = optarg; break;
        case 'o': req.out_dir = optarg; break;
        case 'b': req.baseline = optarg; break;
        case 'B': req.baseline_arch = optarg; break;
        case 'm': req.model = optarg; break;
        case 'a': req.arch = optarg; break;
        case 'f': {
            int f = plot_format_parse(optarg);
            if (f < 0)
                return cmd_bad_value("plot", "--format", optarg, "pdf or png");
            req.format = (plot_format)f;
            break;
        }
        default:
            return cmd_bad_option("plot", argv[optind - 1], usage);
        }
    }
    if (optind != argc - 1 || !db_path || !req.out_dir)
        return cmd_usage_error("plot", "needs one KIND, --db and -o", usage);
    const char *kind_name = argv[optind];
    bool all = strcmp(kind_name, "all") == 0;
    int kind = all ? 0 : plot_kind_parse(kind_name);
    if (kind < 0) {
        fprintf(stderr, "bitsim plot: unknown plot kind '%s' (see bitsim plot --help)\n", kind_name);
        return BS_EUSAGE;
    }
    bs_error e;
    store *s;
    int rc = cmd_open_store(&s, db_path, true, &e);
    if (rc)
        return rc;
    /* `all` skips a kind with nothing to show (e.g. no baseline run for speedup) with a note,
     * and fails only when it drew nothing or something broke */
    int drawn = 0;
    for (int k = kind; rc == BS_OK && k < (all ? PLOT_KIND_COUNT : kind + 1); k++) {
        rc = plot_make(store_db(s), (plot_kind)k, &req, print_file, NULL, &e);
        if (rc == BS_EINPUT && all) {
            fprintf(stderr, "bitsim plot: skipping %s: %s\n", plot_kind_name((plot_kind)k), e.msg);
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
