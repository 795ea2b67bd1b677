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
 * OUTPUT FORMAT AND NEIGHBOURS. Replay runs the cost model in training mode: every pass's
 * result is written at the format its reader stores it in (cost.h cost_query.out, cost.c
 * OUTPUT STAGE): FWD the first consumer's A (a non-MAC layer with several readers: its
 * own), BWD_DATA the producer's G (the layer's own when there is none), BWD_WEIGHT WG. A
 * MAC layer reads its A at a non-MAC producer's A when that tensor was not written for it
 * (the producer has several readers, or nonmac = fused, where the producer is applied on
 * the fly to a tensor stored for the non-MAC chain): x_stored. Those formats are decisions
 * of OTHER layers at the same iteration, so a layer's segments are cut into pieces wherever
 * its producer's or first consumer's decision changes (seg_walk); inside a piece every input
 * of cost_eval is constant again, so the segment argument above holds per piece. nonmac =
 * free has no tensors between MAC layers: own formats. Every layer-pass also carries its
 * non-MAC plan (cost_nonmac_plan: DRAM sweeps from the graph, which differ between
 * equal-shaped layers), computed once per run. All of these are in the memo key, so a WG
 * change alone, or a neighbour's, is a new evaluation. UPDATE has no output stage.
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
    num_format x, y, out, x_stored, y_stored;
    double density_x, density_y;
    cost_sweeps sweeps;     /* the layer's non-MAC plan (graph context, cost_nonmac_plan) */
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

/* The slot of a key: its 64-bit words folded with a multiply-xorshift mix (the finalizer of
 * MurmurHash3/splitmix64), a word at a time: the memo is looked up once per segment and pass,
 * and the byte-wise FNV this replaced was a sixth of a per-step Llama replay's time. Only the
 * slot depends on it (keys are compared in full). */
static uint64_t memo_hash(const memo_key *k)
{
    uint64_t w[(sizeof *k + 7) / 8] = {0}, h = 0x9e3779b97f4a7c15ull;
    memcpy(w, k, sizeof *k);
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        h ^= w[i];
        h *= 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 29);
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
    int32_t *consumer;          /* per layer: its first consumer, -1 none (NEIGHBOURS) */
    uint32_t *n_consumers;      /* per layer: how many layers read its output */
    cost_sweeps *plan;          /* layers x passes: cost_nonmac_plan */
    store_cost_row *grid;       /* epochs x slots */
    size_t slots;               /* 1 (overhead) + layers x passes */
    struct seen_decision *seen; /* SEEN_SLOTS, see replay_layer */
    replay_stats stats;
} replay_ctx;

/* The decisions of a layer and its neighbours over one piece of iterations (NEIGHBOURS). */
typedef struct piece_decisions {
    const trace_decision *self, *producer, *consumer;   /* NULL: no such layer */
} piece_decisions;

/* What one (layer, pass) costs under one piece's decisions, as replay_layer adds it to the
 * rows. The trace interns decisions (trace.h: equal decisions are one pointer), so (layer,
 * pass, the pointers of its own, its producer's and its consumer's decisions) determines every
 * input of the memo key (NEIGHBOURS: the neighbours fix the stored formats); a direct-mapped
 * cache of these skips building the operands, bucketing the densities and the memo lookup
 * for decisions the layer had before (a per-step trace cycles through few). A collision only
 * misses: the memo still answers, so the result is the same either way. Fixed size: memory
 * does not grow with the trace. */
#define SEEN_SLOTS 4096
typedef struct seen_decision {
    piece_decisions pd;         /* pd.self NULL: empty */
    size_t slot;                /* the (layer, pass) row slot */
    pass_cost pc;
    double wl, bits_x, bits_y;
} seen_decision;

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

/* The formats a MAC pass's result is written at and its operands are stored at, from the
 * decisions of the layer and its neighbours (top comment, OUTPUT FORMAT); bits 0 = none /
 * the operand's own. */
static void pass_storage(const replay_ctx *c, uint32_t layer, train_pass p, piece_decisions pd,
                         cost_query *q)
{
    const model *m = &c->t->model;
    const model_layer *l = &m->layers[layer];
    bool mac = model_layer_is_mac(l);
    num_format none = {.bits = 0};
    q->out = q->x_stored = q->y_stored = none;
    if (p == PASS_UPDATE || (!mac && p != PASS_FWD && p != PASS_BWD_DATA))
        return;
    if (c->a->nonmac == ARCH_NONMAC_FREE)  /* MAC layers only: no tensors between them */
        pd.producer = pd.consumer = NULL;
    const trace_decision *d = pd.self;
    /* A non-MAC producer stored A at our width (it wrote for its one reader) unless its
     * tensor serves several readers or, fused, it is consumed on the fly from its own
     * source, which was stored for the non-MAC chain: then at the producer's width. */
    bool wide_a = pd.producer && !model_layer_is_mac(&m->layers[l->src]) &&
                  (c->a->nonmac == ARCH_NONMAC_FUSED || c->n_consumers[l->src] >= 2);
    switch (p) {
    case PASS_FWD:      /* written at the reader's A (a MAC layer: its first reader's) */
        if (pd.consumer && (mac || c->n_consumers[layer] == 1))
            q->out = pd.consumer->fmt[TENSOR_A];
        else if (mac)
            q->out = d->fmt[TENSOR_A];
        if (mac && wide_a)
            q->x_stored = pd.producer->fmt[TENSOR_A];
        break;
    case PASS_BWD_DATA: /* dX written at the producer's G */
        q->out = pd.producer ? pd.producer->fmt[TENSOR_G] : mac ? d->fmt[TENSOR_G] : none;
        break;
    default:            /* BWD_WEIGHT: A as in FWD; G was written at ours */
        q->out = d->fmt[TENSOR_WG];
        if (wide_a)
            q->x_stored = pd.producer->fmt[TENSOR_A];
        break;
    }
}

static int eval_pass(replay_ctx *c, uint32_t layer, train_pass p, const metrics_operands *ops,
                     const piece_decisions *pd, uint64_t first, uint64_t end,
                     const pass_cost **out, bs_error *e)
{
    const model_layer *l = &c->t->model.layers[layer];
    cost_query q = {.layer = l, .pass = p, .batch = c->t->batch, .x = ops->x, .y = ops->y};
    pass_storage(c, layer, p, *pd, &q);
    memo_key k;
    memset(&k, 0, sizeof k);    /* padding is part of the compared bytes */
    k.shape_class = c->shape_class[layer];
    k.pass = (int32_t)p;
    k.x = ops->x;
    k.y = ops->y;
    k.out = q.out;
    k.x_stored = q.x_stored;
    k.y_stored = q.y_stored;
    k.sweeps = c->plan[(size_t)layer * PASS_COUNT + (size_t)p];
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
    q.density_x = k.density_x;
    q.density_y = k.density_y;
    q.sweeps = k.sweeps;
    char what[MODEL_NAME_MAX + 32];
    snprintf(what, sizeof what, "layer %s, %s", l->name, model_pass_name(p));
    int rc = evaluate(c, &q, what, first, end, &s->val, e);
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

/* A walk over one layer's segments cut where its producer's or consumer's decision changes. */
typedef struct seg_walk {
    const trace_segment *s;
    size_t n, j;
} seg_walk;

static void walk_open(const trace *t, int32_t layer, seg_walk *w)
{
    w->j = 0;
    w->n = 0;
    w->s = layer >= 0 ? trace_layer_segments(t, (uint32_t)layer, &w->n) : NULL;
}

static const trace_decision *walk_at(seg_walk *w, uint64_t it, uint64_t *end)
{
    if (!w->s)
        return NULL;
    while (w->j + 1 < w->n && w->s[w->j].end <= it)
        w->j++;
    if (w->s[w->j].end < *end)
        *end = w->s[w->j].end;
    return w->s[w->j].d;
}

static int replay_layer(replay_ctx *c, uint32_t i, bs_error *e)
{
    const trace *t = c->t;
    const model_layer *l = &t->model.layers[i];
    size_t ns;
    const trace_segment *segs = trace_layer_segments(t, i, &ns);
    c->stats.segments += ns;
    int32_t prod = l->src, cons = c->consumer[i];
    uint64_t total = ns ? segs[ns - 1].end : 0;
    for (int p = 0; p < PASS_COUNT; p++) {
        uint64_t madds, elem;
        if (!model_pass_madds(l, (train_pass)p, t->batch, &madds) ||
            !model_pass_elem_ops(l, (train_pass)p, t->batch, &elem))
            return err_set(e, BS_EINPUT, "layer %s, %s: op count overflows 64 bits", l->name,
                           model_pass_name((train_pass)p));
        if (madds == 0 && elem == 0)
            continue;   /* e.g. BWD_DATA of the first MAC layer: no work, no row */
        size_t slot = 1 + (size_t)i * ROW_SLOTS_PER_LAYER + (size_t)p;
        seg_walk ws, wp, wc;
        walk_open(t, (int32_t)i, &ws);
        walk_open(t, prod, &wp);
        walk_open(t, cons, &wc);
        for (uint64_t it = 0; it < total;) {
            uint64_t end = total;
            piece_decisions pd = {.self = walk_at(&ws, it, &end),
                                  .producer = walk_at(&wp, it, &end),
                                  .consumer = walk_at(&wc, it, &end)};
            uintptr_t h = (((uintptr_t)pd.self >> 4) * 0x9e3779b97f4a7c15ull) ^
                          (((uintptr_t)pd.producer >> 4) * 0xc2b2ae3d27d4eb4full) ^
                          (((uintptr_t)pd.consumer >> 4) * 0x165667b19e3779f9ull);
            h += slot;
            seen_decision *sd = &c->seen[(h ^ (h >> 29)) & (SEEN_SLOTS - 1)];
            if (sd->pd.self == pd.self && sd->pd.producer == pd.producer &&
                sd->pd.consumer == pd.consumer && sd->slot == slot) {
                c->stats.memo_hits++;
            } else {
                metrics_operands ops;
                metrics_pass_operands(l, (train_pass)p, pd.self, &ops);
                const pass_cost *pc = NULL;
                int rc = eval_pass(c, i, (train_pass)p, &ops, &pd, it, end, &pc, e);
                if (rc)
                    return rc;
                *sd = (seen_decision){.pd = pd, .slot = slot, .pc = *pc,
                                      .wl = metrics_wl_madds(pc->madds, &ops),
                                      .bits_x = metrics_word_bits(&ops.x),
                                      .bits_y = metrics_word_bits(&ops.y)};
            }
            if (!add_span(c, slot, it, end, &sd->pc, sd->wl, sd->bits_x, sd->bits_y))
                return err_set(e, BS_EINPUT, "layer %s, %s: run totals overflow 64 bits",
                               l->name, model_pass_name((train_pass)p));
            it = end;
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
        /* its own pass over the data in every nonmac mode but free: read once, write once
         * (a scheme's check is not fused into a MAC layer's stages) */
        cost_query q = {.layer = &ol, .pass = PASS_FWD, .batch = 1, .density_x = 1.0,
                        .density_y = 1.0,
                        .sweeps = {.rd_in = 1, .wr_out = 1, .planned = 1}};
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
    c.seen = calloc(SEEN_SLOTS, sizeof *c.seen);
    uint32_t nl = t->model.n_layers;
    c.consumer = malloc(((size_t)nl + 1) * sizeof *c.consumer);
    c.n_consumers = calloc((size_t)nl + 1, sizeof *c.n_consumers);
    c.plan = calloc(((size_t)nl + 1) * PASS_COUNT, sizeof *c.plan);
    if (!c.grid || !c.shape_class || !c.seen || !c.consumer || !c.n_consumers || !c.plan ||
        !memo_grow(&c.memo)) {
        free(c.grid);
        free(c.shape_class);
        free(c.seen);
        free(c.consumer);
        free(c.n_consumers);
        free(c.plan);
        free(c.memo.slots);
        return err_set(e, BS_EINTERNAL, "out of memory (replay)");
    }
    for (uint32_t i = 0; i < nl; i++) {
        c.consumer[i] = -1;
        for (uint32_t j = nl; j-- > i + 1;)
            if (t->model.layers[j].src == (int32_t)i || t->model.layers[j].src2 == (int32_t)i) {
                c.consumer[i] = (int32_t)j;
                c.n_consumers[i]++;
            }
        cost_nonmac_plan(a, &t->model, i, &c.plan[(size_t)i * PASS_COUNT]);
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
    free(c.seen);
    free(c.consumer);
    free(c.n_consumers);
    free(c.plan);
    free(c.memo.slots);
    if (rc)
        replay_result_free(r);
    return rc;
}

void replay_options_text(const arch *a, const replay_options *o, char *buf, size_t n)
{
    snprintf(buf, n, "exact_density=%d nonmac=%s tiling_objective=%s lane_reduce=%s",
             o && o->exact_density ? 1 : 0, arch_nonmac_name(a->nonmac),
             a->family == ARCH_GPU ? "-" : arch_objective_name(a->objective),
             a->family == ARCH_BITFUSION ? arch_lane_reduce_name(a->lane_reduce) : "-");
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
