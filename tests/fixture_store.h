/* fixture_store.h — synthetic runs written through the store.h API, for store/report/plot tests.
 *
 * Every (epoch, layer, pass) row of a synthetic run carries the same made-up costs, so a
 * test can derive any sum by hand: a run of E epochs, L layers and the 3 MAC passes has
 * E*L*3 rows, latency E*L*3*row_latency_s, and so on. The FWD operand widths ramp linearly
 * from bits_first (epoch 0) to bits_last (last epoch), plus layer % 4 bits, to give the
 * timeline plot a visible pattern. Header-only (static inline) so each test file can use it.
 */
#ifndef BITSIM_FIXTURE_STORE_H
#define BITSIM_FIXTURE_STORE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

#define FIXTURE_PASSES 3
static const char *const fixture_pass_names[FIXTURE_PASSES] = {"FWD", "BWD_DATA", "BWD_WEIGHT"};
/* Share of each row's energy per component (core, wbuf, abuf, obuf, dram, leak); sums to 1. */
static const double fixture_energy_share[COST_E_COUNT] = {0.4, 0.1, 0.05, 0.05, 0.3, 0.1};

typedef struct fixture_run {
    const char *label, *scheme, *model, *arch;
    uint32_t epochs, layers;
    uint64_t row_madds;
    double row_latency_s, row_energy_pj;
    double bits_first, bits_last;
    const char *options;
} fixture_run;

static inline uint64_t fixture_rows(const fixture_run *f)
{
    return (uint64_t)f->epochs * f->layers * FIXTURE_PASSES;
}

static inline double fixture_bits(const fixture_run *f, uint32_t epoch, uint32_t layer)
{
    double t = f->epochs > 1 ? (double)epoch / (f->epochs - 1) : 0;
    return f->bits_first + t * (f->bits_last - f->bits_first) + layer % 4;
}

/* Puts an arch, a model and a trace whose bytes are the given texts; fills info's ids and
 * names (label/scheme "x"/"fp32" unless already set). 0 on success. */
static inline int fixture_put_inputs(store *s, const char *arch, const char *model,
                                     const char *trace, store_run_info *info, bs_error *e)
{
    int rc;
    if ((rc = store_put_input(s, STORE_ARCH, arch, arch, strlen(arch), &info->arch_id, e)) ||
        (rc = store_put_input(s, STORE_MODEL, model, model, strlen(model), &info->model_id, e)) ||
        (rc = store_put_input(s, STORE_TRACE, trace, trace, strlen(trace), &info->trace_id, e)))
        return rc;
    info->arch_name = arch;
    info->model_name = model;
    info->trace_name = trace;
    info->label = info->label ? info->label : "x";
    info->scheme = info->scheme ? info->scheme : "fp32";
    return 0;
}

/* The synthetic run's rows, made as they are handed out (a replay_source_fn, like the
 * streamed replay of `bitsim run`), then its totals. */
static inline int fixture_walk(const void *src, replay_row_fn fn, void *ctx,
                               replay_totals *totals, bs_error *e)
{
    const fixture_run *f = src;
    for (uint32_t ep = 0; ep < f->epochs; ep++)
        for (uint32_t l = 0; l < f->layers; l++)
            for (int p = 0; p < FIXTURE_PASSES; p++) {
                char name[32];
                snprintf(name, sizeof name, "conv%u", l);
                replay_row r = {
                    .epoch = ep, .layer = (int32_t)l, .layer_name = name,
                    .pass = fixture_pass_names[p], .iterations = 10, .madds = f->row_madds,
                    .bitops = (double)f->row_madds * 64, .wl_madds = (double)f->row_madds * 8,
                    .compute_cycles = 75, .stall_cycles = 25, .total_cycles = 100,
                    .latency_s = f->row_latency_s, .dram_read_bits = 1000,
                    .dram_write_bits = 500, .avg_bits_x = fixture_bits(f, ep, l),
                    .avg_bits_y = fixture_bits(f, ep, l) + 2,
                };
                for (int c = 0; c < COST_E_COUNT; c++)
                    r.energy_pj[c] = f->row_energy_pj * fixture_energy_share[c];
                int rc = fn(&r, ctx, e);
                if (rc)
                    return rc;
            }
    double n = (double)fixture_rows(f);
    *totals = (replay_totals){
        .madds = n * (double)f->row_madds, .bitops = n * (double)f->row_madds * 64,
        .wl_madds = n * (double)f->row_madds * 8, .cycles = n * 100,
        .latency_s = n * f->row_latency_s, .energy_pj = n * f->row_energy_pj,
        .dram_bits = n * 1500, .cpt_cost_ratio = f->bits_first / 32, .adapt_speedup = NAN,
        .mem_weights_bits = 8388608, .mem_fmaps_bits = 4 * 8388608.0, .mem_grads_bits = 0,
        .mem_wgrads_bits = 8388608, .mem_optim_bits = 2 * 8388608.0,
        .smaq_storage_benefit = NAN,
    };
    return 0;
}

/* fixture_walk's rows into a replay_result (layer names copied). */
static inline int fixture_keep_row(const replay_row *row, void *ctx, bs_error *e)
{
    replay_result *r = ctx;
    (void)e;
    r->rows[r->n_rows] = *row;
    r->rows[r->n_rows].layer_name = strdup(row->layer_name);
    return r->rows[r->n_rows++].layer_name ? 0 : BS_EINTERNAL;
}

/* Records f through store_record from the computed rows of f (replay_result_walk). */
static inline int fixture_record_computed(store *s, const fixture_run *f,
                                          const store_run_info *info, int64_t *run_id,
                                          bs_error *e)
{
    replay_result r = {.rows = calloc(fixture_rows(f) + 1, sizeof *r.rows)};
    int rc = r.rows ? fixture_walk(f, fixture_keep_row, &r, &r.totals, e) : BS_EINTERNAL;
    if (rc == 0)
        rc = store_record(s, info, replay_result_walk, &r, 0.5, run_id, e);
    for (size_t k = 0; k < r.n_rows; k++)
        free((char *)r.rows[k].layer_name);
    free(r.rows);
    return rc;
}

/* Puts the inputs (content = their names) and records one run through store_record (the
 * path of `bitsim run` and `bitsim sweep`): its rows made first and stored from the array
 * when computed (replay_result_walk, as a sweep does), else streamed (as bitsim run does).
 * Returns its id or 0. */
static inline int64_t fixture_add_run_from(store *s, const fixture_run *f, bool computed,
                                           bs_error *e)
{
    int64_t run_id;
    char trace[256];
    snprintf(trace, sizeof trace, "trace of %s/%s/%s", f->label, f->scheme, f->model);
    store_run_info info = {
        .label = f->label, .scheme = f->scheme, .batch = 128, .iterations = 10ULL * f->epochs,
        .epochs = f->epochs, .options = f->options ? f->options : "",
    };
    if (fixture_put_inputs(s, f->arch, f->model, trace, &info, e) ||
        (computed ? fixture_record_computed(s, f, &info, &run_id, e)
                  : store_record(s, &info, fixture_walk, f, 0.5, &run_id, e)))
        return 0;
    return run_id;
}

/* fixture_add_run_from, streamed. */
static inline int64_t fixture_add_run(store *s, const fixture_run *f, bs_error *e)
{
    return fixture_add_run_from(s, f, false, e);
}

/* A fresh path in a fresh temporary directory (caller frees; the directory is left behind
 * in /tmp, cleaned by fixture_cleanup). */
static inline char *fixture_tmp_path(const char *file)
{
    char dir[] = "/tmp/bitsim-test-XXXXXX";
    if (!mkdtemp(dir))
        return NULL;
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, file);
    return p;
}

/* Removes the directory of a fixture_tmp_path and everything in it, then frees path. */
static inline void fixture_cleanup(char *path)
{
    if (!path)
        return;
    char *slash = strrchr(path, '/');
    if (slash) {
        *slash = '\0';
        char cmd[512];
        if (strncmp(path, "/tmp/bitsim-test-", 17) == 0 && !strchr(path, '\'')) {
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
            if (system(cmd) != 0) { /* best effort: a leftover temp dir is harmless */
            }
        }
    }
    free(path);
}

/* A copy of tests/data/NAME (under $BITSIM_HOME) at a fresh fixture_tmp_path, so a test may
 * open it, even for writing, without touching the shipped file; NULL if the copy failed. */
static inline char *fixture_data_copy(const char *name)
{
    const char *home = getenv("BITSIM_HOME");
    char *copy = fixture_tmp_path(name), cmd[1200];
    if (!copy)
        return NULL;
    snprintf(cmd, sizeof cmd, "cp '%s/tests/data/%s' '%s'", home && *home ? home : ".", name, copy);
    if (system(cmd) != 0) {
        fixture_cleanup(copy);
        return NULL;
    }
    return copy;
}

#endif
