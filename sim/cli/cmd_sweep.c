/* cmd_sweep.c — `bitsim sweep`: replay traces over a space of accelerator configurations.
 *
 * The flags become a sweep_options (sweep.h): the space file is parsed and sampled, then
 * every point of this shard is replayed into the database. The summary goes to stderr so
 * stdout stays free; progress is shown only when stderr is a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "sweep_run.h"
#include "text.h"

static bool parse_shard(const char *arg, void *dst, const char **why)
{
    (void)why;
    return sweep_shard_parse(arg, dst);
}

/* --seed: given or not (the space file's seed stands when not). */
typedef struct seed_opt {
    bool set;
    uint64_t value;
} seed_opt;

static bool parse_seed(const char *arg, void *dst, const char **why)
{
    seed_opt *s = dst;
    (void)why;
    return (s->set = text_parse_u64(arg, 0, UINT64_MAX, &s->value));
}

int cmd_sweep(int argc, char **argv)
{
    const char **traces = calloc((size_t)argc + 1, sizeof *traces);
    if (!traces)
        return BS_EINTERNAL;
    cmd_list trace_list = {.items = traces, .max = (size_t)argc + 1};
    sweep_options o = {.traces = traces};
    const char *space_path = NULL;
    bool quiet = false;
    seed_opt seed = {0};
    uint64_t jobs = 1;
    cmd_opt opts[] = {
        CMD_OPT("trace", 't', "T", "a trace file (extra arguments are traces too)", NULL, CMD_LIST,
         &trace_list),
        CMD_OPT("space", 's', "S", "the space file (sweeps/FORMAT.md)", NULL, CMD_STR, &space_path,
         .required = true),
        CMD_OPT_DB(&o.db_path, "the database, created when absent"),
        CMD_OPT("jobs", 'j', "N", "worker threads", "1", CMD_U64, &jobs, .min = 1, .max = 1024),
        CMD_OPT("shard", 0, "I/N", "run shard I of N (0 <= I < N)", "0/1", CMD_PARSE, &o.shard,
         .parse = parse_shard, .want = "I/N with 0 <= I < N"),
        CMD_OPT("seed", 0, "S", "random/lhs seed, overriding the space file's", NULL, CMD_PARSE,
         &seed, .parse = parse_seed, .want = "a whole number >= 0"),
        CMD_OPT("label", 'l', "L", "the runs' label", "sweep", CMD_STR, &o.label),
        CMD_OPT("no-sharing", 0, NULL, "replay every point in full: points that differ only in clock\n"
         "normally share one replay, rescaled (checked; see sweep_run.c)", NULL, CMD_FLAG,
         &o.no_sharing),
        CMD_OPT_QUIET(&quiet, "no summary line"),
    };
    const cmd_spec spec = {
        .name = "sweep", .synopsis = "--space S.ini --trace T [--trace T2 | T2 ...] [options]",
        .about = "Replays every trace on every point of the space (sweeps/FORMAT.md: parameters as\n"
                 "lists, ranges or distributions; grid, random or Latin-hypercube sampling; area and\n"
                 "power budgets) and stores each run in the database. Points are numbered over the\n"
                 "whole space; --shard i/n runs those with index mod n = i, so n shards writing n\n"
                 "databases, merged with `bitsim merge`, give the unsharded result. Runs the database\n"
                 "already holds are skipped, so an interrupted sweep can be rerun.",
        .epilog = "Progress (points done, rate, ETA) goes to stderr when it is a terminal.",
        CMD_OPTS(opts), .max_args = -1};
    int first, rc;
    if (!cmd_parse(&spec, argc, argv, &first, &rc)) {
        free(traces);
        return rc;
    }
    for (int i = first; i < argc; i++)
        traces[trace_list.n++] = argv[i];
    o.n_traces = trace_list.n;
    o.jobs = (unsigned)jobs;
    if (o.n_traces == 0) {
        free(traces);
        return cmd_usage_error(&spec, "needs at least one --trace");
    }
    bs_error e;
    err_clear(&e);
    sweep_space s;
    sweep_summary sum;
    if ((rc = sweep_space_load(&s, space_path, &e)) == BS_OK) {
        o.progress = isatty(STDERR_FILENO);
        if ((rc = sweep_space_sample(&s, seed.set, seed.value, &e)) == BS_OK)
            rc = sweep_run(&s, &o, &sum, &e);
        sweep_space_free(&s);
    }
    free(traces);
    if (rc)
        return err_report(&e);
    if (sum.wal_kept[0])    /* stored, but not in one file: said even with --quiet */
        fprintf(stderr, "bitsim: warning: %s\n", sum.wal_kept);
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
