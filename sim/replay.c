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
 * An arch that neither skips an operand's zeros nor compresses DRAM traffic does not read
 * that operand's density at all (cost_reads_density: cost.c's two density terms are then
 * exactly 1), so its key and its cost_eval call carry density 1 instead: every density in
 * [0, 1] (the trace reader refuses others) gives that same result bit for bit, so this is
 * no approximation, with or without buckets. It matters: the shipped bitfusion has neither,
 * and a trace whose densities change at every step (a capture) would otherwise make one
 * tiling search per distinct bucket (the Llama stress trace of `make bench`: 13,975
 * evaluations per 10^4 steps, 211 without).
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
 * WALK ORDER. Rows are made epoch by epoch: each (layer, pass) keeps its walk (the segment
 * walks, the next iteration, the cost of the piece it is in) from one epoch to the next, so
 * one epoch's rows are complete before the next is started and go to the caller's sink at
 * once (replay_each): a run of 10^5 epochs needs no more memory than one of 10 (issue 13 D9:
 * every row was kept, 8.3 GB for ResNet-20 x 10^5 epochs). A piece is still looked up once
 * however many epochs it spans, and every row is the same sum over its pieces in the same
 * order as a layer-by-layer walk (overheads in record order), so the numbers are the same.
 *
 * Cost: O(segments x passes) memo lookups + O(distinct keys) cost_eval calls + O(epochs x
 * layers x passes) row sums; memory O(layers x passes + overhead records) + the memo.
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
    uint32_t val;           /* index in memo.vals */
    memo_key key;
} memo_slot;

/* The values live apart from the slots, in order of evaluation, so an index into vals stays
 * valid when the slots are rehashed: the seen cache and the walks hold indices, not copies
 * (copying each piece's cost in and out of the seen cache, cache misses mostly, took about
 * a tenth of a per-step replay's time). */
typedef struct memo {
    memo_slot *slots;
    size_t cap, used;   /* cap a power of two; used = values in vals */
    pass_cost *vals;
    size_t vals_cap;
} memo;

/* The slot of a key: its 64-bit words times distinct odd constants, summed, then the
 * multiply-xorshift finalizer of MurmurHash3/splitmix64 (which brings the high bits down to
 * the slot bits). The memo is looked up once per segment piece and pass; the products are
 * independent, where folding a word at a time through the mix was a chain of 9 dependent
 * multiplies (this made the per-step Llama replay 12-20% faster), and the byte-wise FNV
 * before that a sixth of its time. Only the slot depends on it (keys are compared in full). */
static uint64_t memo_hash(const memo_key *k)
{
    static const uint64_t odd[] = {
        0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull, 0x94d049bb133111ebull,
        0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull, 0xd6e8feb86659fd93ull,
        0xff51afd7ed558ccdull, 0xc4ceb9fe1a85ec53ull, 0x87c37b91114253d5ull,
        0x4cf5ad432745937full, 0x52dce729da3ed7b5ull, 0x9fb21c651e98df25ull};
    uint64_t w[(sizeof *k + 7) / 8] = {0}, h = 0;
    _Static_assert(sizeof w / sizeof w[0] <= sizeof odd / sizeof odd[0], "a constant per word");
    memcpy(w, k, sizeof *k);
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        h += w[i] * odd[i];
    h ^= h >> 31;
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
    bool reads_density[2];      /* cost_reads_density(a, x / y) */
    memo memo;
    int32_t *shape_class;       /* per layer: its shape's number (shape_classes) */
    int32_t *consumer;          /* per layer: its first consumer, -1 none (NEIGHBOURS) */
    uint32_t *n_consumers;      /* per layer: how many layers read its output */
    cost_sweeps *plan;          /* layers x passes: cost_nonmac_plan */
    replay_row *grid;       /* one epoch: slots rows */
    size_t slots;               /* 1 (overhead) + layers x passes */
    struct seen_decision *seen; /* SEEN_SLOTS, see replay_layer_epoch */
    bool *has_work;             /* per slot: the (layer, pass) has MAdds or elementwise ops */
    struct slot_walk *walk;     /* per slot: where its walk is (replay_layer_epoch) */
    pass_cost *ov_cost;         /* per overhead record, evaluated when it starts */
    size_t *ov_order, *active;  /* overheads by first iteration; those running, by index */
    size_t ov_next, n_active;
    replay_stats stats;
} replay_ctx;

/* The decisions of a layer and its neighbours over one piece of iterations (NEIGHBOURS). */
typedef struct piece_decisions {
    const trace_decision *self, *producer, *consumer;   /* NULL: no such layer */
} piece_decisions;

/* What one (layer, pass) costs under one piece's decisions, as replay_layer_epoch adds it to the
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
    uint32_t val;               /* its cost: memo.vals[val] */
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

/* The density the memo keys and cost_eval is called with (DENSITY BUCKETS): 1 when the arch
 * does not read this operand's density (cost_reads_density), else d or its bucket. */
static double key_density(const replay_ctx *c, int operand, double d)
{
    if (!c->reads_density[operand])
        return 1.0;
    return c->o->exact_density ? d : replay_density_bucket(d);
}

static int eval_pass(replay_ctx *c, uint32_t layer, train_pass p, const metrics_operands *ops,
                     const piece_decisions *pd, uint64_t first, uint64_t end,
                     uint32_t *out, bs_error *e)
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
    k.density_x = key_density(c, 0, ops->density_x);
    k.density_y = key_density(c, 1, ops->density_y);
    memo *m = &c->memo;
    if ((m->used + 1) * 2 > m->cap && !memo_grow(m))
        return err_set(e, BS_EINTERNAL, "out of memory (replay memo)");
    memo_slot *s = memo_find(m, &k);
    if (s->used) {
        c->stats.memo_hits++;
        *out = s->val;
        return BS_OK;
    }
    if (m->used == m->vals_cap) {
        size_t cap = m->vals_cap ? 2 * m->vals_cap : 256;
        pass_cost *grown = cap <= UINT32_MAX ? realloc(m->vals, cap * sizeof *grown) : NULL;
        if (!grown)
            return err_set(e, BS_EINTERNAL, "out of memory (replay memo)");
        m->vals = grown;
        m->vals_cap = cap;
    }
    q.density_x = k.density_x;
    q.density_y = k.density_y;
    q.sweeps = k.sweeps;
    char what[MODEL_NAME_MAX + 32];
    snprintf(what, sizeof what, "layer %s, %s", l->name, model_pass_name(p));
    int rc = evaluate(c, &q, what, first, end, &m->vals[m->used], e);
    if (rc)
        return rc;
    s->used = true;
    s->key = k;
    s->val = (uint32_t)m->used++;
    *out = s->val;
    return BS_OK;
}

/* row += len x cost; wl = the piece's weighted MAdds for one iteration. */
static bool accumulate(replay_row *row, uint64_t len, const pass_cost *pc, double wl,
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
    row->avg_bits_x += n * bits_x;  /* sums until emit_epoch divides by iterations */
    row->avg_bits_y += n * bits_y;
    return true;
}

/* Adds the part of [first, end) inside the epoch [lo, hi) x cost to slot's row. */
static bool add_piece(replay_ctx *c, size_t slot, uint64_t first, uint64_t end, uint64_t lo,
                      uint64_t hi, const pass_cost *pc, double wl, double bits_x, double bits_y)
{
    uint64_t a = first > lo ? first : lo, b = end < hi ? end : hi;
    if (a >= b)
        return true;
    c->stats.pieces++;
    return accumulate(&c->grid[slot], b - a, pc, wl, bits_x, bits_y);
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

/* Where one (layer, pass)'s walk is between epochs: its segment walks, the next iteration,
 * and the cost of the piece it is in, up to piece_end (memo.vals[val]; the rest a copy: the
 * seen cache may evict it). */
typedef struct slot_walk {
    seg_walk ws, wp, wc;
    uint64_t it, piece_end, total;
    uint32_t val;
    double wl, bits_x, bits_y;
} slot_walk;

/* Which (layer, pass) slots have work, and their walks opened; op counts that overflow are
 * an error up front. */
static int find_work(replay_ctx *c, bs_error *e)
{
    const trace *t = c->t;
    for (uint32_t i = 0; i < t->model.n_layers; i++) {
        const model_layer *l = &t->model.layers[i];
        size_t ns;
        const trace_segment *segs = trace_layer_segments(t, i, &ns);
        c->stats.segments += ns;
        for (int p = 0; p < PASS_COUNT; p++) {
            uint64_t madds, elem;
            if (!model_pass_madds(l, (train_pass)p, t->batch, &madds) ||
                !model_pass_elem_ops(l, (train_pass)p, t->batch, &elem))
                return err_set(e, BS_EINPUT, "layer %s, %s: op count overflows 64 bits",
                               l->name, model_pass_name((train_pass)p));
            size_t slot = 1 + (size_t)i * ROW_SLOTS_PER_LAYER + (size_t)p;
            /* e.g. BWD_DATA of the first MAC layer: no work, no row */
            c->has_work[slot] = madds > 0 || elem > 0;
            slot_walk *w = &c->walk[slot];
            walk_open(t, (int32_t)i, &w->ws);
            walk_open(t, l->src, &w->wp);
            walk_open(t, c->consumer[i], &w->wc);
            w->total = ns ? segs[ns - 1].end : 0;
        }
    }
    return BS_OK;
}

/* Layer i's pieces inside the epoch [lo, hi), every pass with work. A piece is where the
 * layer's own, its producer's and its consumer's decisions all stay (NEIGHBOURS); it is
 * looked up when the walk enters it, however many epochs it then spans. */
static int replay_layer_epoch(replay_ctx *c, uint32_t i, uint64_t lo, uint64_t hi, bs_error *e)
{
    const model_layer *l = &c->t->model.layers[i];
    for (int p = 0; p < PASS_COUNT; p++) {
        size_t slot = 1 + (size_t)i * ROW_SLOTS_PER_LAYER + (size_t)p;
        if (!c->has_work[slot])
            continue;
        slot_walk *w = &c->walk[slot];
        while (w->it < hi && w->it < w->total) {
            if (w->it >= w->piece_end) {
                uint64_t end = w->total;
                piece_decisions pd = {.self = walk_at(&w->ws, w->it, &end),
                                      .producer = walk_at(&w->wp, w->it, &end),
                                      .consumer = walk_at(&w->wc, w->it, &end)};
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
                    uint32_t val = 0;
                    int rc = eval_pass(c, i, (train_pass)p, &ops, &pd, w->it, end, &val, e);
                    if (rc)
                        return rc;
                    *sd = (seen_decision){.pd = pd, .slot = slot, .val = val,
                                          .wl = metrics_wl_madds(c->memo.vals[val].madds,
                                                                 &ops),
                                          .bits_x = metrics_word_bits(&ops.x),
                                          .bits_y = metrics_word_bits(&ops.y)};
                }
                w->piece_end = end;
                w->val = sd->val;
                w->wl = sd->wl;
                w->bits_x = sd->bits_x;
                w->bits_y = sd->bits_y;
            }
            uint64_t stop = w->piece_end < hi ? w->piece_end : hi;
            if (!add_piece(c, slot, w->it, stop, lo, hi, &c->memo.vals[w->val], w->wl,
                           w->bits_x, w->bits_y))
                return err_set(e, BS_EINPUT, "layer %s, %s: run totals overflow 64 bits",
                               l->name, model_pass_name((train_pass)p));
            w->it = stop;
        }
    }
    return BS_OK;
}

static const trace_overhead *overhead(const replay_ctx *c, size_t j)
{
    return &c->t->overheads[j];
}

static int by_first(const void *x, const void *y, void *ctx)
{
    const replay_ctx *c = ctx;
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    uint64_t a = overhead(c, i)->first, b = overhead(c, j)->first;
    return a < b ? -1 : a > b ? 1 : (i > j) - (i < j);
}

/* Evaluates overhead record j: a synthetic elementwise layer of `ops` elements, batch 1 (see
 * the top comment). */
static int eval_overhead(replay_ctx *c, size_t j, bs_error *e)
{
    const trace_overhead *ov = overhead(c, j);
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
    return evaluate(c, &q, what, ov->first, ov->end, &c->ov_cost[j], e);
}

/* The overheads running in the epoch [lo, hi) into slot 0, in record order (as the sums of
 * a record-by-record walk); records start in order of their first iteration. */
static int replay_overheads_epoch(replay_ctx *c, uint64_t lo, uint64_t hi, bs_error *e)
{
    size_t n = c->t->n_overheads;
    while (c->ov_next < n && overhead(c, c->ov_order[c->ov_next])->first < hi) {
        size_t j = c->ov_order[c->ov_next++];
        const trace_overhead *ov = overhead(c, j);
        if (ov->ops == 0 || ov->first >= ov->end)
            continue;
        int rc = eval_overhead(c, j, e);
        if (rc)
            return rc;
        size_t k = c->n_active++;
        for (; k > 0 && c->active[k - 1] > j; k--)
            c->active[k] = c->active[k - 1];
        c->active[k] = j;
    }
    size_t kept = 0;
    for (size_t k = 0; k < c->n_active; k++) {
        size_t j = c->active[k];
        const trace_overhead *ov = overhead(c, j);
        if (!add_piece(c, 0, ov->first, ov->end, lo, hi, &c->ov_cost[j],
                       (double)ov->ops * ov->bits, ov->bits, 0))
            return err_set(e, BS_EINPUT, "overhead %s: run totals overflow 64 bits",
                           ov->label);
        if (ov->end > hi)
            c->active[kept++] = j;
    }
    c->n_active = kept;
    return BS_OK;
}

/* Hands the epoch's rows with work to fn in the costs table's key order, adds them to the
 * totals, and clears the grid for the next epoch. */
static int emit_epoch(replay_ctx *c, uint32_t epoch, replay_row_fn fn, void *ctx,
                      replay_result *r, bs_error *e)
{
    const trace *t = c->t;
    /* Passes in the order of their names, so rows arrive in the costs table's primary-key
     * order (run, epoch, layer, pass) and SQLite appends instead of splitting pages. */
    static const int pass_by_name[PASS_COUNT] = {PASS_BWD_DATA, PASS_BWD_WEIGHT, PASS_FWD,
                                                 PASS_UPDATE};
    replay_totals *tot = &r->totals;
    for (size_t in_epoch = 0; in_epoch < c->slots; in_epoch++) {
        size_t slot = in_epoch;
        if (in_epoch > 0)
            slot = 1 + (in_epoch - 1) / PASS_COUNT * PASS_COUNT +
                   (size_t)pass_by_name[(in_epoch - 1) % PASS_COUNT];
        replay_row row = c->grid[slot];
        if (row.iterations == 0)
            continue;
        row.epoch = epoch;
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
        r->n_rows++;
        tot->madds += (double)row.madds;
        tot->bitops += row.bitops;
        tot->wl_madds += row.wl_madds;
        tot->cycles += row.total_cycles;
        tot->latency_s += row.latency_s;
        for (int q = 0; q < COST_E_COUNT; q++)
            tot->energy_pj += row.energy_pj[q];
        tot->dram_bits += row.dram_read_bits + row.dram_write_bits;
        int rc = fn ? fn(&row, ctx, e) : BS_OK;
        if (rc)
            return rc;
    }
    memset(c->grid, 0, c->slots * sizeof *c->grid);
    return BS_OK;
}

/* At most this many rows per epoch: the overhead row and every (layer, pass) with work. */
static uint64_t rows_per_epoch(const replay_ctx *c)
{
    uint64_t n = c->t->n_overheads > 0;
    for (size_t k = 1; k < c->slots; k++)
        n += c->has_work[k];
    return n;
}

static void ctx_free(replay_ctx *c)
{
    free(c->grid);
    free(c->shape_class);
    free(c->seen);
    free(c->consumer);
    free(c->n_consumers);
    free(c->plan);
    free(c->memo.slots);
    free(c->memo.vals);
    free(c->has_work);
    free(c->walk);
    free(c->ov_cost);
    free(c->ov_order);
    free(c->active);
}

int replay_each(const trace *t, const arch *a, const replay_options *o, replay_row_fn fn,
                void *ctx, replay_result *r, bs_error *e)
{
    static const replay_options defaults = {0};
    memset(r, 0, sizeof *r);
    if (!o)
        o = &defaults;
    if (!t->finished || t->iters_per_epoch == 0 || t->epochs == 0)
        return err_set(e, BS_EINTERNAL, "replay: trace is not finished");
    replay_ctx c = {.t = t, .a = a, .o = o,
                    .reads_density = {cost_reads_density(a, 0), cost_reads_density(a, 1)}};
    uint32_t nl = t->model.n_layers;
    size_t n_ov = t->n_overheads ? t->n_overheads : 1;
    c.slots = 1 + (size_t)nl * ROW_SLOTS_PER_LAYER;
    c.grid = calloc(c.slots, sizeof *c.grid);
    c.has_work = calloc(c.slots, sizeof *c.has_work);
    c.walk = calloc(c.slots, sizeof *c.walk);
    c.ov_cost = calloc(n_ov, sizeof *c.ov_cost);
    c.ov_order = calloc(n_ov, sizeof *c.ov_order);
    c.active = calloc(n_ov, sizeof *c.active);
    c.shape_class = shape_classes(&t->model);
    c.seen = calloc(SEEN_SLOTS, sizeof *c.seen);
    c.consumer = malloc(((size_t)nl + 1) * sizeof *c.consumer);
    c.n_consumers = calloc((size_t)nl + 1, sizeof *c.n_consumers);
    c.plan = calloc(((size_t)nl + 1) * PASS_COUNT, sizeof *c.plan);
    if (!c.grid || !c.has_work || !c.walk || !c.ov_cost || !c.ov_order || !c.active ||
        !c.shape_class || !c.seen || !c.consumer || !c.n_consumers || !c.plan ||
        !memo_grow(&c.memo)) {
        ctx_free(&c);
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
    for (size_t j = 0; j < t->n_overheads; j++)
        c.ov_order[j] = j;
    qsort_r(c.ov_order, t->n_overheads, sizeof *c.ov_order, by_first, &c);
    int rc = find_work(&c, e);
    uint64_t per_epoch = rc ? 0 : rows_per_epoch(&c);
    if (!rc && per_epoch > 0 && t->epochs > REPLAY_ROWS_MAX / per_epoch)
        rc = err_set(e, BS_EINPUT, "epochs: %llu epochs x %llu cost rows per epoch is more "
                     "than the %llu rows a run may store (replay.h); make epochs coarser "
                     "(fewer epochs of more iterations)", (unsigned long long)t->epochs,
                     (unsigned long long)per_epoch, (unsigned long long)REPLAY_ROWS_MAX);
    for (uint64_t ep = 0; ep < t->epochs && !rc; ep++) {
        uint64_t lo = ep * t->iters_per_epoch, hi = lo + t->iters_per_epoch;
        rc = replay_overheads_epoch(&c, lo, hi, e);
        for (uint32_t i = 0; i < nl && !rc; i++)
            rc = replay_layer_epoch(&c, i, lo, hi, e);
        if (!rc)
            rc = emit_epoch(&c, (uint32_t)ep, fn, ctx, r, e);
    }
    if (!rc)
        rc = metrics_compute(t, &r->totals.metrics, e);
    r->stats = c.stats;
    ctx_free(&c);
    return rc;
}

void replay_result_rescale_clock(const replay_result *ref, double ref_hz, double hz,
                                 replay_result *out)
{
    double s = ref_hz / hz;
    *out = *ref;
    out->rows = malloc((ref->n_rows ? ref->n_rows : 1) * sizeof *out->rows);
    if (!out->rows)
        return;
    double leak = 0;
    for (size_t i = 0; i < ref->n_rows; i++) {
        replay_row *r = &out->rows[i];
        *r = ref->rows[i];
        r->latency_s *= s;
        leak += r->energy_pj[COST_E_LEAK];
        r->energy_pj[COST_E_LEAK] *= s;
    }
    out->totals.latency_s *= s;
    out->totals.energy_pj += leak * (s - 1);
}

/* replay_run's sink: the rows into one growing array, dropped once there are more than max. */
typedef struct row_array {
    replay_row *rows;
    size_t n, cap, max;
    bool dropped;
} row_array;

static int append_row(const replay_row *row, void *ctx, bs_error *e)
{
    row_array *ra = ctx;
    if (ra->dropped)
        return BS_OK;
    if (ra->n == ra->max) {
        free(ra->rows);
        *ra = (row_array){.dropped = true};
        return BS_OK;
    }
    if (ra->n == ra->cap) {
        size_t cap = ra->cap ? ra->cap * 2 : 256;
        replay_row *grown = realloc(ra->rows, cap * sizeof *grown);
        if (!grown)
            return err_set(e, BS_EINTERNAL, "out of memory (replay rows)");
        ra->rows = grown;
        ra->cap = cap;
    }
    ra->rows[ra->n++] = *row;
    return BS_OK;
}

int replay_run_upto(const trace *t, const arch *a, const replay_options *o, size_t max_rows,
                    replay_result *r, bs_error *e)
{
    row_array ra = {.max = max_rows};
    int rc = replay_each(t, a, o, append_row, &ra, r, e);
    if (rc) {
        free(ra.rows);
        memset(r, 0, sizeof *r);
        return rc;
    }
    r->rows = ra.rows;
    return BS_OK;
}

int replay_run(const trace *t, const arch *a, const replay_options *o, replay_result *r,
               bs_error *e)
{
    return replay_run_upto(t, a, o, SIZE_MAX, r, e);
}

void replay_options_text(const arch *a, const replay_options *o, char *buf, size_t n)
{
    snprintf(buf, n, "exact_density=%d nonmac=%s tiling_objective=%s lane_reduce=%s",
             o && o->exact_density ? 1 : 0, arch_nonmac_name(a->nonmac),
             a->family == ARCH_GPU ? "-" : arch_objective_name(a->objective),
             a->family == ARCH_BITFUSION ? arch_lane_reduce_name(a->lane_reduce) : "-");
}

int replay_result_walk(const void *result, replay_row_fn fn, void *ctx, replay_totals *totals,
                       bs_error *e)
{
    const replay_result *r = result;
    for (size_t k = 0; k < r->n_rows; k++) {
        int rc = fn(&r->rows[k], ctx, e);
        if (rc)
            return rc;
    }
    *totals = r->totals;
    return BS_OK;
}

int replay_job_walk(const void *job, replay_row_fn fn, void *ctx, replay_totals *totals,
                    bs_error *e)
{
    const replay_job *j = job;
    int rc = replay_each(j->t, j->a, j->o, fn, ctx, j->r, e);
    if (rc == BS_OK)
        *totals = j->r->totals;
    return rc;
}

void replay_result_free(replay_result *r)
{
    free(r->rows);
    r->rows = NULL;
    r->n_rows = 0;
}

