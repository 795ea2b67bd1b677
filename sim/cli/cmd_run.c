/* cmd_run.c — `bitsim run`: replay a trace on an arch and store the run.
 *
 * Loads the trace (and its model) and the arch, records the three inputs in the database by
 * content hash, and stores nothing new when a complete run of the same inputs and options
 * exists (unless --force). The replay (replay.h) runs before the database is opened, so a
 * rejected trace leaves no file behind; rows and totals are stored in one transaction, so an
 * interrupted run leaves nothing behind either.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "cmd.h"
#include "err.h"
#include "replay.h"
#include "store.h"
#include "text.h"
#include "trace.h"
#include "wallclock.h"

/* The most rows `bitsim run` keeps from its first replay (64 MiB of replay_row): every shipped
 * scheme's run and the 10^5-step Llama stress trace (180,300 rows) fit. */
#define RUN_ROWS_KEPT (((size_t)64 << 20) / sizeof(replay_row))

/* Stores the file at path as an input of kind (content-hashed by the store). */
static int put_file(store *s, store_input_kind kind, const char *name, const char *path,
                    int64_t *id, bs_error *e)
{
    text_reader r;
    int rc = text_open_file(&r, path, e);
    if (rc)
        return rc;
    rc = store_put_input(s, kind, name, r.buf, r.len, id, e);
    text_close(&r);
    return rc;
}

typedef struct run_args {
    const char *trace_path, *arch_name, *db_path, *label;
    bool exact_density, force, quiet;
} run_args;

static int run(const run_args *ra, bs_error *e)
{
    double t0 = wallclock_s();
    trace t;
    memset(&t, 0, sizeof t);
    arch a;
    memset(&a, 0, sizeof a);
    store *s = NULL;
    char *text = NULL;
    replay_result res;
    memset(&res, 0, sizeof res);
    int rc = trace_read_file(&t, ra->trace_path, e);
    if (rc)
        return rc;
    if ((rc = arch_load(&a, ra->arch_name, e)))
        goto out;
    /* Replay before the database is touched: a trace the cost model rejects part-way leaves
     * no file, no inputs and no run behind. This pass keeps the rows of a run of at most
     * RUN_ROWS_KEPT rows, which are then stored as they are; a longer run's rows are made
     * again, streamed into the run's transaction, below, so memory does not grow with the
     * run (issue 13 D9). The second replay is the same computation, so both paths store the
     * same numbers; it is not cheap (the Llama stress trace of `make bench` spent half its
     * time replaying twice), hence the kept rows. */
    replay_options o = {.exact_density = ra->exact_density};
    double t1 = wallclock_s();
    if ((rc = replay_run_upto(&t, &a, &o, RUN_ROWS_KEPT, &res, e))) {
        /* Name the input the message is about. */
        char msg[BS_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", e->msg);
        err_set(e, rc, "%s: %s", ra->trace_path, msg);
        goto out;
    }
    double t2 = wallclock_s();
    size_t len;
    if ((rc = trace_write_buffer(&t, &text, &len, e)) || (rc = store_open(&s, ra->db_path, e)))
        goto out;
    /* The cost-model modes the run used (arch [schedule]) are stored with it and shown by
     * report's headline; the arch content itself is stored too. */
    char options[160];
    replay_options_text(&a, &o, options, sizeof options);
    store_run_info info = {.label = ra->label, .scheme = t.scheme, .model_name = t.model.name,
                           .arch_name = a.name, .trace_name = ra->trace_path,
                           .batch = t.batch, .iterations = t.total_iters, .epochs = t.epochs,
                           .options = options,
                           .has_accuracy = t.has_accuracy, .accuracy_pct = t.accuracy_pct};
    /* The trace by its canonical text (formatting does not change its identity). */
    if ((rc = put_file(s, STORE_ARCH, a.name, a.source, &info.arch_id, e)) ||
        (rc = put_file(s, STORE_MODEL, t.model.name, t.model.source, &info.model_id, e)) ||
        (rc = store_put_input(s, STORE_TRACE, ra->trace_path, text, len, &info.trace_id, e)))
        goto out;
    int64_t run_id = 0;
    if (!ra->force && (rc = store_find_run(s, &info, &run_id, e)) == BS_OK && run_id) {
        if (!ra->quiet)
            printf("run %lld: same trace, model, arch and options already stored in %s "
                   "(skipped; --force stores again)\n", (long long)run_id, ra->db_path);
        goto out;
    }
    if (rc)
        goto out;
    replay_job job = {.t = &t, .a = &a, .o = &o, .r = &res};
    bool kept = res.n_rows <= RUN_ROWS_KEPT;
    if ((rc = store_record(s, &info, kept ? replay_result_walk : replay_job_walk,
                           kept ? (const void *)&res : &job, t2 - t0, &run_id, e)))
        goto out;
    bs_error warn;
    err_clear(&warn);
    if (store_checkpoint(s, &warn))   /* stored, but not in one file: say so, still exit 0 */
        fprintf(stderr, "bitsim: warning: %s\n", warn.msg);
    double t3 = wallclock_s();
    if (!ra->quiet) {
        const replay_totals *x = &res.totals;
        char cut[64] = "";
        if (t.partial)      /* a run cut at N (traces/FORMAT.md): the plan is not what ran */
            snprintf(cut, sizeof cut, "; partial: %llu iterations ran",
                     (unsigned long long)t.total_iters);
        printf("run %lld: %s on %s (%s, %llu epochs x %llu iterations%s), label %s\n",
               (long long)run_id, t.model.name, a.name, t.scheme, (unsigned long long)t.epochs,
               (unsigned long long)t.iters_per_epoch, cut, ra->label ? ra->label : t.scheme);
        printf("  replay: %llu segments, %llu pieces, %llu cost evaluations, %llu memo hits, "
               "%zu rows; replay %.3f s, store %.3f s\n",
               (unsigned long long)res.stats.segments, (unsigned long long)res.stats.pieces,
               (unsigned long long)res.stats.cost_evals, (unsigned long long)res.stats.memo_hits,
               res.n_rows, t2 - t1, t3 - t2);
        printf("  MAdds %.4g  GBitOPs %.4g  cycles %.4g  latency %.4g s  energy %.4g J  "
               "DRAM %.4g GB\n",
               x->madds, x->bitops / 1e9, x->cycles, x->latency_s, x->energy_pj * 1e-12,
               x->dram_bits / 8e9);
        char smaq[32] = "- (no split storage)";
        if (!isnan(x->smaq_storage_benefit))
            snprintf(smaq, sizeof smaq, "%.4f", x->smaq_storage_benefit);
        printf("  CPT cost ratio %.4f  AdaPT speedup %.4f  SmaQ storage ratio %s\n",
               x->cpt_cost_ratio, x->adapt_speedup, smaq);
        printf("  memory (MiB): weights %.2f  feature maps %.2f  gradient maps %.2f  "
               "weight grads %.2f  optimizer %.2f\n",
               x->mem_weights_bits / 8 / 1048576, x->mem_fmaps_bits / 8 / 1048576,
               x->mem_grads_bits / 8 / 1048576, x->mem_wgrads_bits / 8 / 1048576,
               x->mem_optim_bits / 8 / 1048576);
    }
out:
    replay_result_free(&res);
    store_close(s);
    free(text);
    arch_free(&a);
    trace_free(&t);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    run_args ra = {0};
    cmd_opt opts[] = {
        CMD_OPT("trace", 't', "FILE", "a bitsim trace (bitsim trace gen, traces/FORMAT.md)", NULL,
         CMD_STR, &ra.trace_path, .required = true),
        CMD_OPT("arch", 'a', "ARCH", "arch name (arch/ARCH.ini) or an .ini path", NULL, CMD_STR,
         &ra.arch_name, .required = true),
        CMD_OPT_DB(&ra.db_path, "the database, created when absent"),
        CMD_OPT("label", 'l', "LABEL", "the run's name in reports (default: the trace's scheme)", NULL,
         CMD_STR, &ra.label),
        CMD_OPT("exact-density", 0, NULL, "no density buckets (default: densities rounded to 8\n"
         "significant bits, cost error <= 0.2% per density term)", NULL, CMD_FLAG,
         &ra.exact_density),
        CMD_OPT("force", 0, NULL, "store again even when the same inputs were already run", NULL,
         CMD_FLAG, &ra.force),
        CMD_OPT_QUIET(&ra.quiet, "print nothing but errors"),
    };
    const cmd_spec spec = {
        .name = "run", .synopsis = "--trace FILE --arch ARCH [options]",
        .about = "Replays a training trace through an accelerator and stores MAdds, BitOPs, cycles,\n"
                 "latency, energy by component and DRAM traffic per (epoch, layer, pass), with the\n"
                 "papers' own metrics (CPT cost ratio, AdaPT speedup, memory footprint, SmaQ).\n"
                 "Walks the trace's segments, evaluating each distinct layer-pass once. Prints the\n"
                 "run id, which bitsim report --run takes.",
        CMD_OPTS(opts), .max_args = 0};
    int first, rc;
    if (!cmd_parse(&spec, argc, argv, &first, &rc))
        return rc;
    bs_error e;
    err_clear(&e);
    rc = run(&ra, &e);
    return rc ? err_report(&e) : BS_OK;
}
