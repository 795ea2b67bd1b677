/* cmd_sweep.c — `bitsim sweep`: replay traces over a space of accelerator configurations.
 *
 * The flags become a sweep_options (sweep.h): the space file is parsed and sampled, then
 * every point of this shard is replayed into the database. The summary goes to stderr so
 * stdout stays free; progress is shown only when stderr is a terminal.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "sweep.h"
#include "text.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bitsim sweep --trace T [--trace T2 | T2 ...] --space S.ini [options]\n\n"
            "Replays every trace on every point of the space (sweeps/FORMAT.md: parameters as\n"
            "lists, ranges or distributions; grid, random or Latin-hypercube sampling; area and\n"
            "power budgets) and stores each run in the database. Points are numbered over the\n"
            "whole space; --shard i/n runs those with index mod n = i, so n shards writing n\n"
            "databases, merged with `bitsim merge`, give the unsharded result. Runs the database\n"
            "already holds are skipped, so an interrupted sweep can be rerun.\n\n"
            "options:\n"
            "  --trace T      a trace file (repeatable; extra arguments are traces too)\n"
            "  --space S      the space file (required)\n"
            "  --db D         database (default bitsim.db)\n"
            "  --jobs N       worker threads (default 1)\n"
            "  --shard I/N    run shard I of N (0 <= I < N)\n"
            "  --seed S       random/lhs seed, overriding the space file's\n"
            "  --label L      the runs' label (default sweep)\n"
            "  --no-sharing   replay every point in full: points that differ only in clock\n"
            "                 normally share one replay, rescaled (checked; see sweep_run.c)\n"
            "  -q, --quiet    no summary line\n"
            "  -h, --help     this text\n\n"
            "Progress (points done, rate, ETA) goes to stderr when it is a terminal.\n");
}

int cmd_sweep(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv))
        return cmd_help(usage);
    enum { OPT_TRACE = 256, OPT_SPACE, OPT_DB, OPT_JOBS, OPT_SHARD, OPT_SEED, OPT_LABEL,
           OPT_NO_SHARING };
    static const struct option opts[] = {
        {"trace", required_argument, NULL, OPT_TRACE}, {"space", required_argument, NULL, OPT_SPACE},
        {"db", required_argument, NULL, OPT_DB},       {"jobs", required_argument, NULL, OPT_JOBS},
        {"shard", required_argument, NULL, OPT_SHARD}, {"seed", required_argument, NULL, OPT_SEED},
        {"label", required_argument, NULL, OPT_LABEL}, {"quiet", no_argument, NULL, 'q'},
        {"no-sharing", no_argument, NULL, OPT_NO_SHARING},
        {NULL, 0, NULL, 0}};
    const char **traces = calloc((size_t)argc + 1, sizeof *traces);
    if (!traces)
        return BS_EINTERNAL;
    sweep_options o = {.traces = traces, .db_path = "bitsim.db", .jobs = 1,
                       .shard = {0, 1}, .label = "sweep"};
    const char *space_path = NULL;
    bool seed_set = false, quiet = false;
    uint64_t seed = 0, u;
    int c, rc = BS_OK;
    optind = 1;
    opterr = 0;
    while (rc == BS_OK && (c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
        switch (c) {
        case OPT_TRACE: traces[o.n_traces++] = optarg; break;
        case OPT_SPACE: space_path = optarg; break;
        case OPT_DB: o.db_path = optarg; break;
        case OPT_LABEL:
            o.label = optarg;
            if (text_has_control(optarg))
                rc = cmd_bad_value("sweep", "--label", optarg,
                                   "a label without control characters");
            break;
        case 'q': quiet = true; break;
        case OPT_NO_SHARING: o.no_sharing = true; break;
        case OPT_JOBS:
            if (!text_parse_u64(optarg, 1, 1024, &u))
                rc = cmd_bad_value("sweep", "--jobs", optarg, "an integer in 1..1024");
            o.jobs = (unsigned)u;
            break;
        case OPT_SHARD:
            if (!sweep_shard_parse(optarg, &o.shard))
                rc = cmd_bad_value("sweep", "--shard", optarg, "I/N with 0 <= I < N");
            break;
        case OPT_SEED:
            if (!text_parse_u64(optarg, 0, UINT64_MAX, &seed))
                rc = cmd_bad_value("sweep", "--seed", optarg, "an integer >= 0");
            seed_set = true;
            break;
        default:
            rc = cmd_bad_option("sweep", argv[optind - 1], usage);
        }
    }
    for (int i = optind; rc == BS_OK && i < argc; i++)
        traces[o.n_traces++] = argv[i];
    if (rc == BS_OK && (!space_path || o.n_traces == 0))
        rc = cmd_usage_error("sweep", space_path ? "needs at least one --trace"
                                                 : "--space is required", usage);
    if (rc) {
        free(traces);
        return rc;
    }
    bs_error e;
    err_clear(&e);
    sweep_space s;
    sweep_summary sum;
    if ((rc = sweep_space_load(&s, space_path, &e)) == BS_OK) {
        o.progress = isatty(STDERR_FILENO);
        if ((rc = sweep_space_sample(&s, seed_set, seed, &e)) == BS_OK)
            rc = sweep_run(&s, &o, &sum, &e);
        sweep_space_free(&s);
    }
    free(traces);
    if (rc)
        return err_report(&e);
    if (!quiet) {
        fprintf(stderr, "bitsim sweep: shard %llu/%llu: %llu points, %llu archs run, %llu over "
                "budget, %llu duplicate archs, %llu refused by the arch model; runs: %llu "
                "written, %llu already present; %.2f s, %.2f s cpu (%.1f points/s)\n",
                (unsigned long long)o.shard.index, (unsigned long long)o.shard.count,
                (unsigned long long)sum.points, (unsigned long long)sum.archs_run,
                (unsigned long long)sum.over_budget, (unsigned long long)sum.duplicates,
                (unsigned long long)sum.invalid, (unsigned long long)sum.runs_written,
                (unsigned long long)sum.runs_present, sum.wall_s, sum.cpu_s,
                sum.wall_s > 0 ? (double)sum.points / sum.wall_s : 0.0);
        fprintf(stderr, "bitsim sweep: %llu full replays, %llu runs derived from a clock "
                "group's reference%s\n", (unsigned long long)sum.full_replays,
                (unsigned long long)sum.derived,
                sum.sharing_off ? " (sharing turned OFF: a derived run disagreed with its "
                                  "check; later runs were replayed in full)" : "");
        if (sum.runs_refused)
            fprintf(stderr, "bitsim sweep: %llu runs refused by the cost model (not stored)\n",
                    (unsigned long long)sum.runs_refused);
        if (sum.invalid || sum.runs_refused)
            fprintf(stderr, "bitsim sweep: first refused %s\n", sum.first_invalid);
    }
    return BS_OK;
}
