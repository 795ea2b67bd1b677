/* replay.c — a trace's segments through the cost model, memoised (see replay.h).
 *
 * WHAT IT COMPUTES. For every layer l, pass p and iteration i the cost of one layer-pass is
 *     c(l, p, i) = cost_eval(arch, layer l, pass p, batch, operands of p under decision(l, i))
 * and a run's result is the sum of c over iterations, grouped by (epoch, layer, pass).
 *
 * WHY SEGMENTS ARE EXACT. The trace stores, per layer, maximal runs of iterations with one
 * decision (trace.h: segments covering [0, total) without gaps). Inside a segment every input of
 * cost_eval is the same — the layer's shape, the pass, the batch and the arch never change in a
 * run, and the operand formats and densities are the segment's decision — and cost_eval is a
 * pure function (cost.h: no state, nothing carried between calls). So all iterations of a
 * segment cost exactly the same, and the segment's sum is length x that cost: integer counts
 * (MAdds, elementwise ops) are multiplied exactly (overflow-checked), doubles are one rounding
 * of the product instead of `length` roundings of a running sum, i.e. at least as accurate as
 * the naive per-iteration loop (tests/test_replay.c runs that loop and compares). Segments are
 * cut at epoch boundaries (iteration multiples of iters_per_epoch) so each piece lands in its
 * epoch's row; cutting changes only which row a length goes to.
 *
 * WHY THE MEMO IS EXACT. Many segments share an evaluation: a CPT trace revisits the same few
 * widths every cycle, every layer's UPDATE or a non-MAC layer's passes stay fp32 all run, and
 * a ResNet repeats identical blocks (ResNet-20: 68 layers, 16 distinct shapes). The memo maps
 * the complete input of cost_eval that can vary within a run — (layer shape, pass, x format,
 * y format, density_x, density_y) — to its result. The layer shape is every field of the
 * layer cost_eval reads (kind, sub-kind, tensor shapes, kernel/stride/padding/groups, product
 * shape, parameter and element counts, first-MAC and skip flags); only the name (used in
 * error messages, and an error stops the run at the first layer that has it) and the graph
 * indices are left out, so two layers with equal shapes are one evaluation. The arch and
 * batch are constant for one replay_run (the memo lives and dies with it), so the key is the
 * whole argument list and a hit returns the value cost_eval would return. Keys are compared in full
 * (memcmp of a zero-padded struct), the hash only picks the slot (open addressing, linear
 * probing, load <= 1/2), so collisions cannot alias two keys.
 *
 * DENSITY BUCKETS. Densities are real numbers, and a scheme that draws them (AdaPT's weight
 * density) would defeat the memo, so by default a density d is rounded to 8 significant bits
 * (replay_density_bucket: 256 buckets per octave, 1, 1/2, 1/4, ... exact) and cost_eval is
 * called WITH the rounded value — so the result does not depend on which density of a bucket
 * came first. The relative rounding error is |d' - d| <= 2^-9 d (0.2%). A cost term that is
 * proportional to a density (compute skipped on zeros, compressed DRAM traffic) is therefore off
 * by at most a factor 1 +- 2^-9 (a product d_x d_y of two: 1 +- 2^-8); terms that do not
 * depend on density are exact; integer rounding inside the cost model (whole cycles per tile)
 * can add at most one such step per tile on top. `--exact-density` keys and evaluates the exact
 * double instead (bounded memo size is then the trace's distinct densities). The AdaPT weighted
 * MAdds (wl_madds) never use buckets: they are the paper's count, not the arch's.
 *
 * OUTPUT FORMAT. Replay runs the cost model in training mode: each MAC pass's result is
 * written at the format it is stored in, from the same decision (cost.h cost_query.out):
 * FWD the layer's A, BWD_DATA G, BWD_WEIGHT WG (cost.c OUTPUT STAGE says why the layer's own
 * A). It is part of the memo key, so a WG change alone is a new evaluation. Non-MAC layers and
 * UPDATE have no MAC output stage (out.bits = 0).
 *
 * GRADIENT BIFURCATION. The weight-gradient pass reads the gradient as GW, not G (trace.h
 * TENSOR_GW; SBM keeps a 16-bit copy of G for A x G and an 8-bit one for G x W): BWD_WEIGHT's
 * y of a MAC layer, and the unary operand of a non-MAC layer's BWD_WEIGHT, are taken from GW
 * (metrics_pass_operands). GW == G in every trace that does not name it, so this changes nothing
 * there; the memo key holds the formats themselves, so a GW change is a new evaluation.
 *
 * OVERHEAD. A scheme's overhead record (trace.h: ops operations of bits-bit operands per
 * iteration of a range) is costed as elementwise work of a synthetic non-MAC layer of `ops`
 * elements at batch 1 — the cost model's vector-unit rule — and lands in the epoch's OVERHEAD
 * row (layer -1); its `iterations` counts record-iterations.
 *
 * Cost: O(segments x passes) memo lookups + O(distinct keys) cost_eval calls; memory
 * O(epochs x layers x passes) rows + the memo.
 */
#include "replay.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "cost.h"
#include "metrics.h"
#include "text.h"

#define ROW_SLOTS_PER_LAYER PASS_COUNT

/* ---- density buckets ------------------------------------------------------------------- */

double replay_density_bucket(double d)
{
    if (!(d > 0) || !isfinite(d))
        return d;       /* cost_eval rejects it with its own message */
    int ex;
    double m = frexp(d, &ex);                       /* d = m 2^ex, m in [0.5, 1) */
    double scale = (double)(1u << (REPLAY_DENSITY_BITS + 1));
    return ldexp(nearbyint(m * scale) / scale, ex);
}

/* ---- the memo -------------------------------------------------------------------------- */

typedef struct memo_key {
    int32_t shape_class;    /* the layer's shape, numbered (shape_classes) */
    int32_t pass;
    num_format x, y, out;
    double density_x, density_y;
} memo_key;

typedef struct pass_cost {
    uint64_t madds, elem_ops;
    double bitops, compute_cycles, stall_cycles, total_cycles, latency_s;
    double energy_pj[COST_E_COUNT];
    double dram_read_bits, dram_write_bits;
} pass_cost;

typedef struct memo_slot {
    bool used;
    memo_key key;
    pass_cost val;
} memo_slot;

typedef struct memo {
    memo_slot *slots;
    size_t cap, used;   /* cap a power of two */
} memo;

static uint64_t memo_hash(const memo_key *k)
{
    return text_hash64(k, sizeof *k, 0x9e3779b97f4a7c15ull);
}

static memo_slot *memo_find(memo *m, const memo_key *k)
{
    size_t i = (size_t)memo_hash(k) & (m->cap - 1);
    while (m->slots[i].used && memcmp(&m->slots[i].key, k, sizeof *k) != 0)
        i = (i + 1) & (m->cap - 1);
    return &m->slots[i];
}

static bool memo_grow(memo *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 1024;
    memo_slot *old = m->slots;
    size_t ocap = m->cap;
    m->slots = calloc(ncap, sizeof *m->slots);
    if (!m->slots) {
        m->slots = old;
        return false;
    }
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].used)
            *memo_find(m, &old[i].key) = old[i];
    free(old);
    return true;
}

/* ---- evaluation ------------------------------------------------------------------------ */

static void to_pass_cost(const cost_result *r, pass_cost *c)
{
    c->madds = r->madds;
    c->elem_ops = r->elem_ops;
    c->bitops = r->bitops;
    c->compute_cycles = (double)r->compute_cycles;
    c->stall_cycles = (double)r->stall_cycles;
    c->total_cycles = (double)r->total_cycles;
    c->latency_s = r->latency_s;
    for (int k = 0; k < COST_E_COUNT; k++)
        c->energy_pj[k] = r->energy_pj[k];
    c->dram_read_bits = r->dram_read_bits;
    c->dram_write_bits = r->dram_write_bits;
}

typedef struct replay_ctx {
    const trace *t;
    const arch *a;
    const replay_options *o;
    memo memo;
    int32_t *shape_class;       /* per layer: its shape's number (shape_classes) */
    store_cost_row *grid;       /* epochs x slots */
    size_t slots;               /* 1 (overhead) + layers x passes */
    replay_stats stats;
} replay_ctx;

/* Per layer, the number of its shape among the model's distinct layer_shapes, in order of
 * first appearance (layers x distinct shapes comparisons, once per run). */
static int32_t *shape_classes(const model *m)
{
    int32_t *cls = malloc(((size_t)m->n_layers + 1) * sizeof *cls);
    layer_shape *first = malloc(((size_t)m->n_layers + 1) * sizeof *first);
    if (!cls || !first) {
        free(cls);
        free(first);
        return NULL;
    }
    uint32_t n_first = 0;
    for (uint32_t i = 0; i < m->n_layers; i++) {
        /* memcmp over the shape's bytes: layers are created zeroed (model.c add_layer_slot),
         * padding included, so equal shapes compare equal; a layer with stray padding would
         * only become a class of its own (a memo miss, never a wrong cost) */
        const layer_shape *s = &m->layers[i].shape;
        uint32_t j = 0;
        while (j < n_first && memcmp(&first[j], s, sizeof *s) != 0)
            j++;
        if (j == n_first)
            first[n_first++] = *s;
        cls[i] = (int32_t)j;
    }
    free(first);
    return cls;
}

/* One cost_eval; errors say what was evaluated and for which iterations. */
static int evaluate(replay_ctx *c, const cost_query *q, const char *what, uint64_t first,
                    uint64_t end, pass_cost *out, bs_error *e)
{
    cost_result r;
    bs_error ce;
    err_clear(&ce);
    int rc = cost_eval(c->a, q, &r, &ce);
    if (rc)
        return err_set(e, rc, "%s, iterations %llu..%llu: %s", what, (unsigned long long)first,
                       (unsigned long long)end - 1, ce.msg);
    to_pass_cost(&r, out);
    c->stats.cost_evals++;
    return BS_OK;
}

/* The format a MAC pass's result is stored in under decision d (top comment, OUTPUT FORMAT);
 * bits 0 for passes without a MAC output stage. */
static num_format pass_output(const model_layer *l, train_pass p, const trace_decision *d)
{
    static const int stored_as[PASS_COUNT] = {[PASS_FWD] = TENSOR_A, [PASS_BWD_DATA] = TENSOR_G,
                                              [PASS_BWD_WEIGHT] = TENSOR_WG,
                                              [PASS_UPDATE] = -1};
    num_format none = {.bits = 0};
    if (!model_layer_is_mac(l) || stored_as[p] < 0)
        return none;
    return d->fmt[stored_as[p]];
}

static int eval_pass(replay_ctx *c, uint32_t layer, train_pass p, const metrics_operands *ops,
                     const trace_segment *seg, const pass_cost **out, bs_error *e)
{
    memo_key k;
    memset(&k, 0, sizeof k);    /* padding is part of the compared bytes */
    k.shape_class = c->shape_class[layer];
    k.pass = (int32_t)p;
    k.x = ops->x;
    k.y = ops->y;
    k.out = pass_output(&c->t->model.layers[layer], p, &seg->d);
    k.density_x = c->o->exact_density ? ops->density_x : replay_density_bucket(ops->density_x);
    k.density_y = c->o->exact_density ? ops->density_y : replay_density_bucket(ops->density_y);
    if ((c->memo.used + 1) * 2 > c->memo.cap && !memo_grow(&c->memo))
        return err_set(e, BS_EINTERNAL, "out of memory (replay memo)");
    memo_slot *s = memo_find(&c->memo, &k);
    if (s->used) {
        c->stats.memo_hits++;
        *out = &s->val;
        return BS_OK;
    }
    const model_layer *l = &c->t->model.layers[layer];
    cost_query q = {.layer = l, .pass = p, .batch = c->t->batch, .x = k.x, .y = k.y,
                    .density_x = k.density_x, .density_y = k.density_y, .out = k.out};
    char what[MODEL_NAME_MAX + 32];
    snprintf(what, sizeof what, "layer %s, %s", l->name, model_pass_name(p));
    int rc = evaluate(c, &q, what, seg->first, seg->end, &s->val, e);
    if (rc)
        return rc;
    s->used = true;
    s->key = k;
    c->memo.used++;
    *out = &s->val;
    return BS_OK;
}

/* row += len x cost; wl = the piece's weighted MAdds for one iteration. */
static bool accumulate(store_cost_row *row, uint64_t len, const pass_cost *pc, double wl,
                       double bits_x, double bits_y)
{
    if (!checked_muladd(&row->madds, len, pc->madds) ||
        !checked_muladd(&row->elem_ops, len, pc->elem_ops) ||
        !checked_add(row->iterations, len, &row->iterations))
        return false;
    double n = (double)len;
    row->bitops += n * pc->bitops;
    row->wl_madds += n * wl;
    row->compute_cycles += n * pc->compute_cycles;
    row->stall_cycles += n * pc->stall_cycles;
    row->total_cycles += n * pc->total_cycles;
    row->latency_s += n * pc->latency_s;
    for (int k = 0; k < COST_E_COUNT; k++)
        row->energy_pj[k] += n * pc->energy_pj[k];
    row->dram_read_bits += n * pc->dram_read_bits;
    row->dram_write_bits += n * pc->dram_write_bits;
    row->avg_bits_x += n * bits_x;  /* sums until finish_rows divides by iterations */
    row->avg_bits_y += n * bits_y;
    return true;
}

/* Adds [first, end) x cost to slot's rows, cut at epoch boundaries. */
static bool add_span(replay_ctx *c, size_t slot, uint64_t first, uint64_t end,
                     const pass_cost *pc, double wl, double bits_x, double bits_y)
{
    uint64_t ipe = c->t->iters_per_epoch;
    while (first < end) {
        uint64_t epoch = first / ipe, stop = (epoch + 1) * ipe;
        if (stop > end)
            stop = end;
        if (!accumulate(&c->grid[epoch * c->slots + slot], stop - first, pc, wl, bits_x, bits_y))
            return false;
        c->stats.pieces++;
        first = stop;
    }
    return true;
}

static int replay_layer(replay_ctx *c, uint32_t i, bs_error *e)
{
    const trace *t = c->t;
    const model_layer *l = &t->model.layers[i];
    size_t ns;
    const trace_segment *segs = trace_layer_segments(t, i, &ns);
    c->stats.segments += ns;
    for (int p = 0; p < PASS_COUNT; p++) {
        uint64_t madds, elem;
        if (!model_pass_madds(l, (train_pass)p, t->batch, &madds) ||
            !model_pass_elem_ops(l, (train_pass)p, t->batch, &elem))
            return err_set(e, BS_EINPUT, "layer %s, %s: op count overflows 64 bits", l->name,
                           model_pass_name((train_pass)p));
        if (madds == 0 && elem == 0)
            continue;   /* e.g. BWD_DATA of the first MAC layer: no work, no row */
        size_t slot = 1 + (size_t)i * ROW_SLOTS_PER_LAYER + (size_t)p;
        for (size_t j = 0; j < ns; j++) {
            metrics_operands ops;
            metrics_pass_operands(l, (train_pass)p, &segs[j].d, &ops);
            const pass_cost *pc = NULL;
            int rc = eval_pass(c, i, (train_pass)p, &ops, &segs[j], &pc, e);
            if (rc)
                return rc;
            if (!add_span(c, slot, segs[j].first, segs[j].end, pc,
                          metrics_wl_madds(pc->madds, &ops), metrics_word_bits(&ops.x),
                          metrics_word_bits(&ops.y)))
                return err_set(e, BS_EINPUT, "layer %s, %s: run totals overflow 64 bits",
                               l->name, model_pass_name((train_pass)p));
        }
    }
    return BS_OK;
}

static int replay_overheads(replay_ctx *c, bs_error *e)
{
    for (size_t j = 0; j < c->t->n_overheads; j++) {
        const trace_overhead *ov = &c->t->overheads[j];
        if (ov->ops == 0 || ov->first >= ov->end)
            continue;
        /* A synthetic elementwise layer of `ops` elements, batch 1 (see the top comment). */
        model_layer ol;
        memset(&ol, 0, sizeof ol);
        snprintf(ol.name, sizeof ol.name, "overhead:%s", ov->label);
        ol.kind = LAYER_ACT;
        snprintf(ol.op, sizeof ol.op, "identity");
        uint32_t w = ov->ops > UINT32_MAX ? UINT32_MAX : (uint32_t)ov->ops;
        ol.in = ol.out = (tensor_shape){1, 1, w};
        ol.in_elems = ol.out_elems = ol.fwd_elem_ops = ov->ops;
        ol.src = -1;
        ol.src2 = -2;
        /* A unary op (y.bits = 0) on fp32 or integer operands of the record's width. */
        cost_query q = {.layer = &ol, .pass = PASS_FWD, .batch = 1, .density_x = 1.0,
                        .density_y = 1.0};
        q.x = ov->bits == 32 ? numfmt_fp32() : (num_format){.kind = NUM_INT, .bits = ov->bits};
        char what[TRACE_LABEL_MAX + 16];
        snprintf(what, sizeof what, "overhead %s", ov->label);
        pass_cost pc;
        int rc = evaluate(c, &q, what, ov->first, ov->end, &pc, e);
        if (rc)
            return rc;
        if (!add_span(c, 0, ov->first, ov->end, &pc, (double)ov->ops * ov->bits, ov->bits, 0))
            return err_set(e, BS_EINPUT, "overhead %s: run totals overflow 64 bits",
                           ov->label);
    }
    return BS_OK;
}

/* Compacts the grid into rows with work, fills names, averages and totals. */
static int finish_rows(replay_ctx *c, replay_result *r, bs_error *e)
{
    const trace *t = c->t;
    size_t n = 0, cells = (size_t)t->epochs * c->slots;
    for (size_t k = 0; k < cells; k++)
        n += c->grid[k].iterations > 0;
    r->rows = calloc(n ? n : 1, sizeof *r->rows);
    if (!r->rows)
        return err_set(e, BS_EINTERNAL, "out of memory (replay rows)");
    /* Passes in the order of their names, so rows arrive in the costs table's primary-key
     * order (run, epoch, layer, pass) and SQLite appends instead of splitting pages. */
    static const int pass_by_name[PASS_COUNT] = {PASS_BWD_DATA, PASS_BWD_WEIGHT, PASS_FWD,
                                                 PASS_UPDATE};
    store_run_totals *tot = &r->totals;
    for (size_t cell = 0; cell < cells; cell++) {
        size_t in_epoch = cell % c->slots, k = cell;
        if (in_epoch > 0)
            k = cell - in_epoch + 1 + (in_epoch - 1) / PASS_COUNT * PASS_COUNT +
                (size_t)pass_by_name[(in_epoch - 1) % PASS_COUNT];
        store_cost_row row = c->grid[k];
        if (row.iterations == 0)
            continue;
        size_t slot = k % c->slots;
        row.epoch = (uint32_t)(k / c->slots);
        if (slot == 0) {
            row.layer = -1;
            row.layer_name = "overhead";
            row.pass = "OVERHEAD";
        } else {
            uint32_t li = (uint32_t)((slot - 1) / ROW_SLOTS_PER_LAYER);
            row.layer = (int32_t)li;
            row.layer_name = t->model.layers[li].name;
            row.pass = model_pass_name((train_pass)((slot - 1) % ROW_SLOTS_PER_LAYER));
        }
        row.avg_bits_x /= (double)row.iterations;
        row.avg_bits_y /= (double)row.iterations;
        r->rows[r->n_rows++] = row;
        tot->madds += (double)row.madds;
        tot->bitops += row.bitops;
        tot->wl_madds += row.wl_madds;
        tot->cycles += row.total_cycles;
        tot->latency_s += row.latency_s;
        for (int q = 0; q < COST_E_COUNT; q++)
            tot->energy_pj += row.energy_pj[q];
        tot->dram_bits += row.dram_read_bits + row.dram_write_bits;
    }
    return BS_OK;
}

int replay_run(const trace *t, const arch *a, const replay_options *o, replay_result *r,
               bs_error *e)
{
    static const replay_options defaults = {0};
    memset(r, 0, sizeof *r);
    if (!o)
        o = &defaults;
    if (!t->finished || t->iters_per_epoch == 0 || t->epochs == 0)
        return err_set(e, BS_EINTERNAL, "replay: trace is not finished");
    replay_ctx c = {.t = t, .a = a, .o = o};
    c.slots = 1 + (size_t)t->model.n_layers * ROW_SLOTS_PER_LAYER;
    if (t->epochs > SIZE_MAX / c.slots / sizeof *c.grid)
        return err_set(e, BS_EINPUT, "replay: %llu epochs x %u layers is too many rows",
                       (unsigned long long)t->epochs, t->model.n_layers);
    c.grid = calloc((size_t)t->epochs * c.slots, sizeof *c.grid);
    c.shape_class = shape_classes(&t->model);
    if (!c.grid || !c.shape_class || !memo_grow(&c.memo)) {
        free(c.grid);
        free(c.shape_class);
        free(c.memo.slots);
        return err_set(e, BS_EINTERNAL, "out of memory (replay)");
    }
    int rc = BS_OK;
    for (uint32_t i = 0; i < t->model.n_layers && !rc; i++)
        rc = replay_layer(&c, i, e);
    if (!rc)
        rc = replay_overheads(&c, e);
    if (!rc)
        rc = finish_rows(&c, r, e);
    if (!rc)
        rc = metrics_compute(t, &r->totals, e);
    r->stats = c.stats;
    free(c.grid);
    free(c.shape_class);
    free(c.memo.slots);
    if (rc)
        replay_result_free(r);
    return rc;
}

void replay_result_free(replay_result *r)
{
    free(r->rows);
    r->rows = NULL;
    r->n_rows = 0;
}

int replay_store(store *s, const replay_result *r, const store_run_info *info, double wall_s,
                 int64_t *run_id, bs_error *e)
{
    int rc = store_run_begin(s, info, run_id, e);
    if (rc)
        return rc;
    for (size_t k = 0; k < r->n_rows && !rc; k++)
        rc = store_add_cost(s, *run_id, &r->rows[k], e);
    if (!rc)
        rc = store_run_commit(s, *run_id, &r->totals, wall_s, e);
    if (rc)
        store_run_abort(s);
    return rc;
}
