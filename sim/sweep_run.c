/* sweep_run.c — running a sweep: points -> archs -> budgets -> replay of every trace -> store.
 *
 * Phases, and why:
 *  1. Prepare (one thread, cheap: one arch parse per point). For each point the shard owns:
 *     build its arch text (sweep_arch_overlay), apply the energy model (below), parse it,
 *     evaluate area and peak power (area.h), drop it when over budget, and drop it when an
 *     earlier point produced the same arch text (random and LHS sampling of lists repeat
 *     archs; identical text means identical results, so it is computed once). A point the
 *     arch model refuses (e.g. a buffer bank outside the SRAM table) is counted and its first
 *     reason reported, never silently lost.
 *  2. Run (--jobs threads). Points are sorted into clock groups (archs equal but for their
 *     clock) and workers take whole groups from a shared counter. Layer costs are shared
 *     where that is valid: within a run (replay_run's memo) and across the points of a clock
 *     group (one reference replay, latency and leakage rescaled; see "clock groups" below,
 *     checked against full replays). Nothing is shared between archs that
 *     differ otherwise: a layer's cycles and traffic depend on all of it. Identical archs
 *     were merged in phase 1, and a run the database already holds (same arch, model and
 *     trace content, same options: a resubmitted shard) is found and skipped. The workers
 *     share one store connection behind a mutex, taken only for the lookups and the inserts
 *     (a run is computed before its transaction begins): separate connections would meet on
 *     SQLite's file lock, whose busy handler sleeps in steps of up to 100 ms.
 *  3. Report: progress on stderr while running (only when asked: a terminal), then totals.
 * Energy model (space file `energy = model`, the default): a point's core energy per cycle is
 * BitFusion's synthesis figure for its own array and its buffer energies come from the SRAM
 * table for its own buffer sizes, so energy follows the parameters being swept; a parameter
 * the space file sets explicitly always wins. `energy = base` keeps the base arch's figures.
 */
#include "sweep_run.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "arch.h"
#include "area.h"
#include "paths.h"
#include "replay.h"
#include "store.h"
#include "sweep_arch.h"
#include "text.h"
#include "trace.h"
#include "wallclock.h"

/* Keys the energy model derives; dropped from a point's text so arch.c derives them. */
static const char *const derived_buffer_keys[] = {
    "buffers.wbuf_read_pj_per_bit", "buffers.wbuf_write_pj_per_bit",
    "buffers.abuf_read_pj_per_bit", "buffers.abuf_write_pj_per_bit",
    "buffers.obuf_read_pj_per_bit", "buffers.obuf_write_pj_per_bit",
};
#define N_DERIVED_BUFFER_KEYS (sizeof derived_buffer_keys / sizeof derived_buffer_keys[0])
static const char core_energy_key[] = "energy.core_pj_per_cycle";

typedef struct work_item {
    uint64_t point;
    uint64_t group;     /* clock group: the arch's hash with its clock (and name) left out */
    char *text;
    size_t len;
    char name[256];
    arch a;
    char options[160];  /* replay_options_text, stored with the point's runs */
} work_item;

/* The clock every group's reference replay runs at (any valid clock would do). */
#define REF_FREQ_HZ 1e9
/* Relative agreement a derived result must show with a full replay of the same point. */
#define DERIVE_TOLERANCE 1e-9
/* Groups whose first point is also replayed in full, as the check of the rescaling. */
#define CHECKS 8

/* A trace and its model as stored inputs (their bytes, read once). */
typedef struct trace_input {
    char *trace_text, *model_text;
    size_t trace_len, model_len;
    char trace_name[256], model_name[MODEL_NAME_MAX];
} trace_input;

typedef struct sweep_job {
    const sweep_space *space;
    const sweep_options *opt;
    trace *traces;
    trace_input *inputs;
    work_item *items;           /* sorted by (group, point) */
    size_t n_items;
    size_t *group_start;        /* n_groups + 1 offsets into items */
    size_t n_groups;
    atomic_size_t next, done;
    atomic_bool derive_off;     /* a derived result disagreed with a full replay */
    atomic_size_t checks;       /* derived results checked against a full replay */
    atomic_size_t derived, full_replays;
    atomic_bool failed;
    pthread_mutex_t lock;       /* guards err, runs_written, runs_present */
    pthread_mutex_t db_lock;    /* guards db: one connection, one writer at a time */
    store *db;
    bs_error err;
    uint64_t runs_written, runs_present;
    uint64_t refused;           /* (point, trace) runs the cost model refused */
    char first_refused[BS_ERR_MSG_MAX];
} sweep_job;

static double cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return NAN;
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static bool space_sets(const sweep_space *s, const char *key)
{
    for (uint32_t j = 0; j < s->n_params; j++)
        if (strcmp(s->params[j].key, key) == 0)
            return true;
    return false;
}

/* The point's display name: base name and its parameters, e.g.
 * "bitfusion{rows=16,wbuf_bytes=65536}" (the part after the section). */
static void point_name(const sweep_space *s, const char *base_name, const char *const *values,
                       char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "%s{", base_name);
    for (uint32_t j = 0; j < s->n_params && len < n; j++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s=%s", j ? "," : "",
                                strchr(s->params[j].key, '.') + 1, values[j]);
    if (len < n)
        snprintf(buf + len, n - len, "}");
}

/* The text of one point, with the energy model applied. */
static int point_text(const sweep_space *s, const char *base, size_t base_len,
                      const char *const *values, char **text, size_t *len, bs_error *e)
{
    const char *keys[SWEEP_MAX_PARAMS + N_DERIVED_BUFFER_KEYS + 1];
    const char *vals[SWEEP_MAX_PARAMS + N_DERIVED_BUFFER_KEYS + 1];
    uint32_t n = 0;
    for (uint32_t j = 0; j < s->n_params; j++, n++) {
        keys[n] = s->params[j].key;
        vals[n] = values[j];
    }
    if (s->energy == SWEEP_ENERGY_MODEL)
        for (size_t k = 0; k < N_DERIVED_BUFFER_KEYS; k++)
            if (!space_sets(s, derived_buffer_keys[k])) {
                keys[n] = derived_buffer_keys[k];
                vals[n++] = NULL;   /* drop: arch.c derives it from the SRAM table */
            }
    int rc = sweep_arch_overlay(base, base_len, keys, vals, n, text, len, e);
    if (rc || s->energy != SWEEP_ENERGY_MODEL || space_sets(s, core_energy_key))
        return rc;
    /* the core energy needs the point's array: parse once, derive, rewrite */
    arch a;
    bs_error ignore;
    double pj;
    if (arch_parse_buffer(&a, "point", *text, *len, &ignore) != BS_OK)
        return BS_OK;   /* the caller's parse reports it */
    bool derived = area_core_pj_per_cycle(&a, &pj);
    arch_free(&a);
    if (!derived)
        return BS_OK;   /* no synthesis figure for this array: keep the base's figure */
    char pj_text[64];
    snprintf(pj_text, sizeof pj_text, "%.9g", pj);
    const char *ck[] = {core_energy_key}, *cv[] = {pj_text};
    char *out;
    size_t out_len;
    rc = sweep_arch_overlay(*text, *len, ck, cv, 1, &out, &out_len, e);
    free(*text);
    *text = rc ? NULL : out;
    *len = rc ? 0 : out_len;
    return rc;
}

/* The arch texts kept so far, by hash; a hash match is a duplicate only when the texts are
 * equal too (a 64-bit hash alone could merge two different archs). */
typedef struct seen_entry {
    uint64_t h;         /* hash | 1; 0 = empty slot */
    size_t item;        /* index of the kept work item with this text */
} seen_entry;

typedef struct seen_set {
    seen_entry *slot;
    size_t cap, n;
} seen_set;

/* Open-addressed set of the kept items' texts: true when items[i]'s text equals one already
 * there, else adds it. */
static bool seen_add(seen_set *s, const work_item *items, size_t i)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        seen_entry *t = calloc(cap, sizeof *t);
        if (!t)
            return false;   /* out of memory: treat as new (only loses deduplication) */
        for (size_t j = 0; j < s->cap; j++)
            if (s->slot[j].h)
                for (size_t k = s->slot[j].h & (cap - 1);; k = (k + 1) & (cap - 1))
                    if (!t[k].h) {
                        t[k] = s->slot[j];
                        break;
                    }
        free(s->slot);
        s->slot = t;
        s->cap = cap;
    }
    const work_item *w = &items[i];
    uint64_t h = text_hash64(w->text, w->len, 0x5eedULL) | 1;
    for (size_t k = h & (s->cap - 1);; k = (k + 1) & (s->cap - 1)) {
        const seen_entry *x = &s->slot[k];
        if (x->h == h && items[x->item].len == w->len &&
            memcmp(items[x->item].text, w->text, w->len) == 0)
            return true;
        if (!x->h) {
            s->slot[k] = (seen_entry){h, i};
            s->n++;
            return false;
        }
    }
}

static void free_items(work_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(items[i].text);
        arch_free(&items[i].a);
    }
    free(items);
}

/* Phase 1. */
static int prepare(const sweep_space *s, const sweep_options *o, const char *base,
                   size_t base_len, const char *base_name, work_item **out, size_t *n_out,
                   sweep_summary *sum, bs_error *e)
{
    uint64_t n_own = sweep_shard_size(o->shard, s->n_points);
    work_item *items = calloc(n_own ? n_own : 1, sizeof *items);
    if (!items)
        return err_set(e, BS_EINTERNAL, "out of memory for %llu points",
                       (unsigned long long)n_own);
    seen_set seen = {0};
    size_t n = 0;
    int rc = BS_OK;
    char vbuf[SWEEP_MAX_PARAMS][SWEEP_VALUE_MAX];
    const char *values[SWEEP_MAX_PARAMS];
    for (uint64_t k = 0; k < n_own && !rc; k++) {
        uint64_t p = o->shard.index + k * o->shard.count;
        for (uint32_t j = 0; j < s->n_params; j++) {
            sweep_point_value(s, p, j, vbuf[j], sizeof vbuf[j]);
            values[j] = vbuf[j];
        }
        work_item *w = &items[n];
        w->point = p;
        sum->points++;
        if ((rc = point_text(s, base, base_len, values, &w->text, &w->len, e)))
            break;
        point_name(s, base_name, values, w->name, sizeof w->name);
        bs_error why;
        area_report ar;
        int prc = arch_parse_buffer(&w->a, w->name, w->text, w->len, &why);
        if (!prc && (prc = area_eval(&w->a, &ar, &why)))
            arch_free(&w->a);
        if (prc) {
            if (!sum->invalid++)
                snprintf(sum->first_invalid, sizeof sum->first_invalid, "point %llu: %.400s",
                         (unsigned long long)p, why.msg);
        } else if (!sweep_within_budget(s, ar.total_mm2, ar.peak_w)) {
            sum->over_budget++;
            arch_free(&w->a);
        } else if (seen_add(&seen, items, n)) {
            sum->duplicates++;
            arch_free(&w->a);
        } else {
            arch key = w->a;
            key.name[0] = '\0';
            key.freq_hz = 0;
            /* other families (a GPU roofline) may depend on the clock otherwise: own group */
            w->group = w->a.family == ARCH_GPU ? p : arch_hash(&key);
            replay_options_text(&w->a, NULL, w->options, sizeof w->options);  /* default */
            n++;
            continue;
        }
        free(w->text);
        w->text = NULL;
    }
    free(seen.slot);
    if (rc) {
        free_items(items, n + 1);
        return rc;
    }
    *out = items;
    *n_out = n;
    return BS_OK;
}

static void fail(sweep_job *j, const bs_error *e, const work_item *w)
{
    pthread_mutex_lock(&j->lock);
    if (!atomic_load(&j->failed)) {
        j->err = *e;
        if (w)
            snprintf(j->err.msg, sizeof j->err.msg, "point %llu (%.150s): %.300s",
                     (unsigned long long)w->point, w->name, e->msg);
        atomic_store(&j->failed, true);
    }
    pthread_mutex_unlock(&j->lock);
}

/* ---- clock groups -----------------------------------------------------------------------
 * A point's layer costs depend on its clock only through time: cost.c counts cycles and bits
 * per cycle of the array and the DRAM port, then latency = cycles / clock and leakage energy
 * = leak_mw x latency; nothing else reads the clock. So points that differ only in clock
 * share one replay: the group's reference run at REF_FREQ_HZ, with every latency and leakage
 * energy scaled by REF_FREQ_HZ / clock. That is the layer-cost sharing that is valid across
 * archs. It is checked, not assumed: the first point of each of the first CHECKS groups is
 * also replayed in full and must agree within DERIVE_TOLERANCE (relative) in every number
 * (rescaling rounds differently in the last bits); one disagreement switches sharing off for
 * the rest of the sweep, reported, and that point keeps its full result. Every point is
 * derived, even alone in its group, so what is stored does not depend on which points a shard
 * holds: shards merge into exactly the unsharded database. tests/test_sweep.c checks the
 * rescaling against full replays over a range of clocks.
 */


static bool close_enough(double a, double b)
{
    return a == b || fabs(a - b) <= DERIVE_TOLERANCE * fmax(fabs(a), fabs(b));
}

/* Every number of two results agrees (rows in the same order). */
static bool results_agree(const replay_result *x, const replay_result *y)
{
    if (x->n_rows != y->n_rows)
        return false;
    for (size_t i = 0; i < x->n_rows; i++) {
        const replay_row *a = &x->rows[i], *b = &y->rows[i];
        const double va[] = {a->bitops, a->wl_madds, a->compute_cycles, a->stall_cycles,
                             a->total_cycles, a->latency_s, a->dram_read_bits,
                             a->dram_write_bits, a->avg_bits_x, a->avg_bits_y};
        const double vb[] = {b->bitops, b->wl_madds, b->compute_cycles, b->stall_cycles,
                             b->total_cycles, b->latency_s, b->dram_read_bits,
                             b->dram_write_bits, b->avg_bits_x, b->avg_bits_y};
        if (a->epoch != b->epoch || a->layer != b->layer || strcmp(a->pass, b->pass) ||
            a->iterations != b->iterations || a->madds != b->madds || a->elem_ops != b->elem_ops)
            return false;
        for (size_t k = 0; k < sizeof va / sizeof va[0]; k++)
            if (!close_enough(va[k], vb[k]))
                return false;
        for (int k = 0; k < COST_E_COUNT; k++)
            if (!close_enough(a->energy_pj[k], b->energy_pj[k]))
                return false;
    }
    const replay_totals *p = &x->totals, *q = &y->totals;
    return close_enough(p->madds, q->madds) && close_enough(p->bitops, q->bitops) &&
           close_enough(p->cycles, q->cycles) && close_enough(p->latency_s, q->latency_s) &&
           close_enough(p->energy_pj, q->energy_pj) && close_enough(p->dram_bits, q->dram_bits);
}

/* Inputs of point w and trace t into the store, the run's identity into info. Caller holds
 * db_lock. */
static int put_inputs(sweep_job *j, const work_item *w, size_t t, store_run_info *info,
                      bs_error *e)
{
    const trace_input *in = &j->inputs[t];
    const trace *tr = &j->traces[t];
    int64_t arch_id, model_id, trace_id;
    int rc;
    if ((rc = store_put_input(j->db, STORE_ARCH, w->name, w->text, w->len, &arch_id, e)) ||
        (rc = store_put_input(j->db, STORE_MODEL, in->model_name, in->model_text,
                              in->model_len, &model_id, e)) ||
        (rc = store_put_input(j->db, STORE_TRACE, in->trace_name, in->trace_text,
                              in->trace_len, &trace_id, e)))
        return rc;
    *info = (store_run_info){
        .label = j->opt->label, .scheme = tr->scheme, .model_name = in->model_name,
        .arch_name = w->name, .trace_name = in->trace_name, .arch_id = arch_id,
        .model_id = model_id, .trace_id = trace_id, .batch = tr->batch,
        .iterations = tr->total_iters, .epochs = tr->epochs,
        .options = w->options,
        .has_accuracy = tr->has_accuracy, .accuracy_pct = tr->accuracy_pct,
    };
    return BS_OK;
}

/* The group's reference replays (one per trace), computed on first need. */
typedef struct group_ref {
    replay_result *res;     /* per trace */
    bool *have;             /* res[t] computed */
} group_ref;

static int full_replay(sweep_job *j, const arch *a, size_t t, replay_result *r, bs_error *e)
{
    replay_options ro = {0};
    atomic_fetch_add(&j->full_replays, 1);
    return replay_run(&j->traces[t], a, &ro, r, e);
}

/* The result to store for point w and trace t: derived from its clock group's reference
 * whenever sharing is on, even in a group of one, so that what is stored does not depend on
 * which points share this shard; a group's first derived point is also replayed in full as
 * the check, for the first CHECKS groups of the sweep. */
static int point_result(sweep_job *j, const work_item *w, size_t k, size_t t, group_ref *g,
                        replay_result *out, bool *owned_full, bs_error *e)
{
    *owned_full = true;
    if (w->a.family == ARCH_GPU || j->opt->no_sharing || atomic_load(&j->derive_off))
        return full_replay(j, &w->a, t, out, e);
    int rc;
    if (!g->have[t]) {
        arch ref = w->a;
        ref.freq_hz = REF_FREQ_HZ;
        if ((rc = full_replay(j, &ref, t, &g->res[t], e)))
            return rc;
        g->have[t] = true;
    }
    replay_result_rescale_clock(&g->res[t], REF_FREQ_HZ, w->a.freq_hz, out);
    if (!out->rows)
        return err_set(e, BS_EINTERNAL, "out of memory");
    *owned_full = false;
    if (k == 0 && atomic_fetch_add(&j->checks, 1) < CHECKS) {
        replay_result full;
        if ((rc = full_replay(j, &w->a, t, &full, e))) {
            free(out->rows);
            return rc;
        }
        bool agree = results_agree(out, &full);
        if (!agree) {
            atomic_store(&j->derive_off, true);
            free(out->rows);
            *out = full;
            *owned_full = true;
            return BS_OK;
        }
        replay_result_free(&full);
    }
    atomic_fetch_add(&j->derived, 1);
    return BS_OK;
}

/* Point w, trace t: unless the database has the run, compute it and store it. The run is
 * computed before its transaction begins, so db_lock is held only for lookups and inserts. */
static int run_one(sweep_job *j, const work_item *w, size_t k, size_t t, group_ref *g,
                   bool *present, bool *refused, bs_error *e)
{
    store_run_info info;
    int64_t run_id = 0;
    pthread_mutex_lock(&j->db_lock);
    int rc = put_inputs(j, w, t, &info, e);
    if (!rc)
        rc = store_find_run(j->db, &info, &run_id, e);
    pthread_mutex_unlock(&j->db_lock);
    *present = run_id != 0;
    if (rc || *present)
        return rc;
    double t0 = wallclock_s();
    replay_result r;
    bool owned_full;
    if ((rc = point_result(j, w, k, t, g, &r, &owned_full, e))) {
        /* the cost model refuses this arch for this workload (e.g. a layer whose smallest
         * tile does not fit a buffer): the point is refused, the sweep goes on */
        *refused = rc == BS_EINPUT;
        return *refused ? BS_OK : rc;
    }
    pthread_mutex_lock(&j->db_lock);
    rc = store_record(j->db, &info, replay_result_walk, &r, wallclock_s() - t0, &run_id, e);
    pthread_mutex_unlock(&j->db_lock);
    if (owned_full)
        replay_result_free(&r);
    else
        free(r.rows);
    return rc;
}

static void *worker(void *arg)
{
    sweep_job *j = arg;
    bs_error e;
    err_clear(&e);
    uint64_t written = 0, present = 0;
    size_t nt = j->opt->n_traces;
    group_ref g = {calloc(nt, sizeof *g.res), calloc(nt, sizeof *g.have)};
    if (!g.res || !g.have) {
        err_set(&e, BS_EINTERNAL, "out of memory");
        fail(j, &e, NULL);
    }
    while (g.res && g.have && !atomic_load(&j->failed)) {
        size_t gi = atomic_fetch_add(&j->next, 1);
        if (gi >= j->n_groups)
            break;
        size_t lo = j->group_start[gi], n = j->group_start[gi + 1] - lo;
        for (size_t k = 0; k < n && !atomic_load(&j->failed); k++) {
            const work_item *w = &j->items[lo + k];
            for (size_t t = 0; t < nt; t++) {
                bool was_present = false, refused = false;
                if (run_one(j, w, k, t, &g, &was_present, &refused, &e)) {
                    fail(j, &e, w);
                    break;
                }
                if (refused) {
                    pthread_mutex_lock(&j->lock);
                    if (!j->refused++)
                        snprintf(j->first_refused, sizeof j->first_refused,
                                 "point %llu (%.150s): %.300s", (unsigned long long)w->point,
                                 w->name, e.msg);
                    pthread_mutex_unlock(&j->lock);
                    err_clear(&e);
                    continue;
                }
                *(was_present ? &present : &written) += 1;
            }
            atomic_fetch_add(&j->done, 1);
        }
        for (size_t t = 0; t < nt; t++)
            if (g.have[t]) {
                replay_result_free(&g.res[t]);
                g.have[t] = false;
            }
    }
    free(g.res);
    free(g.have);
    pthread_mutex_lock(&j->lock);
    j->runs_written += written;
    j->runs_present += present;
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

static int by_group(const void *x, const void *y)
{
    const work_item *a = x, *b = y;
    if (a->group != b->group)
        return a->group < b->group ? -1 : 1;
    return a->point < b->point ? -1 : a->point > b->point;
}

/* True when x and y are the same arch but for name, source, clock and area, compared byte by
 * byte (arch_parse_buffer zeroes the struct first, so padding compares equal): a group is
 * never formed on a hash alone, so a hash collision cannot put two archs into one group. */
static bool same_but_clock(const arch *x, const arch *y)
{
    arch a, b;
    memcpy(&a, x, sizeof a);
    memcpy(&b, y, sizeof b);
    arch *both[2] = {&a, &b};
    for (int k = 0; k < 2; k++) {
        memset(both[k]->name, 0, sizeof both[k]->name);
        memset(both[k]->source, 0, sizeof both[k]->source);
        both[k]->freq_hz = 0;
        memset(both[k]->area_mm2, 0, sizeof both[k]->area_mm2);
    }
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Sorts the items into clock groups and records where each group starts. */
static int make_groups(sweep_job *j, bs_error *e)
{
    qsort(j->items, j->n_items, sizeof *j->items, by_group);
    j->group_start = malloc((j->n_items + 1) * sizeof *j->group_start);
    if (!j->group_start)
        return err_set(e, BS_EINTERNAL, "out of memory");
    j->n_groups = 0;
    for (size_t i = 0; i < j->n_items; i++)
        if (i == 0 || j->items[i].group != j->items[i - 1].group ||
            !same_but_clock(&j->items[j->group_start[j->n_groups - 1]].a, &j->items[i].a))
            j->group_start[j->n_groups++] = i;
    j->group_start[j->n_groups] = j->n_items;
    return BS_OK;
}

static void print_progress(size_t done, size_t total, double elapsed, bool final)
{
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\rsweep: %zu/%zu points (%.0f%%), %.1f points/s, ETA %dm%02ds   %s", done,
            total, total ? 100.0 * (double)done / (double)total : 100.0, rate, (int)(eta / 60),
            (int)fmod(eta, 60), final ? "\n" : "");
    fflush(stderr);
}

static int load_base(const sweep_space *s, char **text, size_t *len, char *name, size_t name_n,
                     bs_error *e)
{
    char path[1024];
    if (!paths_resolve("arch", s->arch, ".ini", path, sizeof path))
        return err_at(e, s->path, s->arch_line, "arch", "no arch '%s' (not a file, not in "
                      "the arch/ directory)", s->arch);
    text_reader r;
    int rc = text_open_file(&r, path, e);
    if (rc)
        return rc;
    arch a;
    rc = arch_parse_buffer(&a, path, r.buf, r.len, e);
    if (!rc) {
        snprintf(name, name_n, "%s", a.name);
        arch_free(&a);
        *text = malloc(r.len + 1);
        if (!*text)
            rc = err_set(e, BS_EINTERNAL, "out of memory");
        else {
            memcpy(*text, r.buf, r.len);
            (*text)[r.len] = '\0';
            *len = r.len;
        }
    }
    text_close(&r);
    return rc;
}

static int read_all(const char *path, char **text, size_t *len, bs_error *e)
{
    text_reader r;
    int rc = text_open_file(&r, path, e);
    if (rc)
        return rc;
    *text = (char *)r.buf;  /* take ownership of the reader's buffer */
    *len = r.len;
    return BS_OK;
}

/* A trace, its canonical text and its model's bytes: the inputs as `bitsim run` stores them
 * (cmd_run.c), so a sweep point and a run of the same arch, model and trace are one run. */
static int load_trace(trace *t, trace_input *in, const char *path, bs_error *e)
{
    int rc = trace_read_file(t, path, e);
    if (rc)
        return rc;
    if ((rc = trace_write_buffer(t, &in->trace_text, &in->trace_len, e)) ||
        (rc = read_all(t->model.source, &in->model_text, &in->model_len, e))) {
        trace_free(t);
        return rc;
    }
    snprintf(in->trace_name, sizeof in->trace_name, "%s", path);
    snprintf(in->model_name, sizeof in->model_name, "%s", t->model.name);
    return BS_OK;
}

typedef struct key_check_ctx {
    const char *base;
    size_t len;
} key_check_ctx;

/* The arch format's verdict on one key = value set on the base arch. */
static bool check_one(const char *key, const char *value, void *ctx, char *why, size_t n)
{
    const key_check_ctx *c = ctx;
    const char *keys[] = {key}, *vals[] = {value};
    char *text;
    size_t len;
    bs_error e;
    if (sweep_arch_overlay(c->base, c->len, keys, vals, 1, &text, &len, &e)) {
        snprintf(why, n, "%s", e.msg);
        return false;
    }
    arch a;
    int rc = arch_parse_buffer(&a, "arch", text, len, &e);
    free(text);
    if (rc) {
        /* "arch:LINE: KEY: reason" -> "arch refuses KEY = VALUE: reason" */
        const char *msg = e.msg, *colon = strstr(msg, ": ");
        if (strncmp(msg, "arch:", 5) == 0 && colon)
            msg = colon + 2;
        snprintf(why, n, "%s = %s: %s", key, value, msg);
        return false;
    }
    arch_free(&a);
    return true;
}

int sweep_run(const sweep_space *s, const sweep_options *o, sweep_summary *sum, bs_error *e)
{
    memset(sum, 0, sizeof *sum);
    double t0 = wallclock_s(), c0 = cpu_s();
    char *base = NULL, base_name[ARCH_NAME_MAX];
    size_t base_len = 0;
    int rc = load_base(s, &base, &base_len, base_name, sizeof base_name, e);
    if (rc)
        return rc;
    key_check_ctx kc = {base, base_len};
    if ((rc = sweep_space_check_keys(s, check_one, &kc, e))) {
        free(base);
        return rc;
    }
    sweep_job j = {.space = s, .opt = o};
    j.traces = calloc(o->n_traces ? o->n_traces : 1, sizeof *j.traces);
    size_t n_loaded = 0;
    if (!j.traces)
        rc = err_set(e, BS_EINTERNAL, "out of memory");
    j.inputs = calloc(o->n_traces ? o->n_traces : 1, sizeof *j.inputs);
    if (!j.inputs)
        rc = err_set(e, BS_EINTERNAL, "out of memory");
    for (; !rc && n_loaded < o->n_traces; n_loaded++)
        if ((rc = load_trace(&j.traces[n_loaded], &j.inputs[n_loaded], o->traces[n_loaded], e)))
            break;
    if (!rc)
        rc = prepare(s, o, base, base_len, base_name, &j.items, &j.n_items, sum, e);
    free(base);
    if (!rc && j.n_items > 0)
        rc = make_groups(&j, e);
    if (!rc && j.n_items > 0) {
        unsigned jobs = o->jobs ? o->jobs : 1;
        if (jobs > j.n_groups)
            jobs = (unsigned)j.n_groups;
        pthread_t *th = calloc(jobs, sizeof *th);
        pthread_mutex_init(&j.lock, NULL);
        pthread_mutex_init(&j.db_lock, NULL);
        if ((rc = store_open(&j.db, o->db_path, e)))
            jobs = 0;
        unsigned started = 0;
        for (; th && started < jobs; started++)
            if (pthread_create(&th[started], NULL, worker, &j))
                break;
        if (!rc && (!th || started == 0))
            rc = err_set(e, BS_EINTERNAL, "cannot start worker threads");
        double t_run = wallclock_s();
        while (!rc && o->progress && atomic_load(&j.done) < j.n_items &&
               !atomic_load(&j.failed)) {
            struct timespec nap = {0, 250 * 1000 * 1000};
            nanosleep(&nap, NULL);
            if (atomic_load(&j.done) < j.n_items)
                print_progress(atomic_load(&j.done), j.n_items, wallclock_s() - t_run, false);
        }
        for (unsigned t = 0; t < started; t++)
            pthread_join(th[t], NULL);
        if (!rc && o->progress)
            print_progress(atomic_load(&j.done), j.n_items, wallclock_s() - t_run, true);
        free(th);
        bs_error wal;
        err_clear(&wal);
        if (!rc && j.db && store_checkpoint(j.db, &wal))
            snprintf(sum->wal_kept, sizeof sum->wal_kept, "%s", wal.msg);
        store_close(j.db);
        pthread_mutex_destroy(&j.lock);
        pthread_mutex_destroy(&j.db_lock);
        if (!rc && atomic_load(&j.failed)) {
            *e = j.err;
            rc = e->code ? e->code : BS_EINTERNAL;
        }
        sum->runs_written = j.runs_written;
        sum->runs_present = j.runs_present;
        sum->runs_refused = j.refused;
        if (j.refused && !sum->invalid)
            snprintf(sum->first_invalid, sizeof sum->first_invalid, "%s", j.first_refused);
        sum->archs_run = atomic_load(&j.done);
        sum->derived = atomic_load(&j.derived);
        sum->full_replays = atomic_load(&j.full_replays);
        sum->sharing_off = atomic_load(&j.derive_off);
    }
    for (size_t t = 0; t < n_loaded; t++) {
        trace_free(&j.traces[t]);
        free(j.inputs[t].trace_text);
        free(j.inputs[t].model_text);
    }
    free(j.traces);
    free(j.inputs);
    free_items(j.items, j.n_items);
    free(j.group_start);
    sum->wall_s = wallclock_s() - t0;
    sum->cpu_s = cpu_s() - c0;
    return rc;
}
