/* tiling.c — cost of a convolution loop nest on a BitFusion-style array, and the search for
 * the tiling and loop order of least cycles (then least energy).
 *
 * THE NEST (formulas restated from hsharma35/bitfusion, src/optimizer/optimizer.py,
 * get_stats_fast, and src/simulator/accelerator.py, get_compute_cycles; re-derived, not
 * copied). Five loops tile the layer: B/b, OW/ow, OH/oh, IC/ic, OC/oc. One tile needs, in bits,
 *   weights  ceil(kh*kw*ic / L) * L * oc * b_y            L = rows * MACs-per-fusion-unit
 *   acts     ow*oh*kh*kw*ic*b * b_x        (im2col)
 *            (kw+(ow-1)sw)*(kh+(oh-1)sh)*ic*b * b_x      (direct conv: the input window)
 *   outputs  ow*oh*ceil(oc/M)*M*b * psum_bits
 * and must fit in half of each buffer (double buffering; the whole buffer without it). It
 * computes in
 *   b*oh*ow * ceil(oc/M) * ceil(kh*kw*ic / L)            (im2col)
 *   b*oh*ow * ceil(oc/M) * kh*kw * ceil(ic / L)          (direct)
 * cycles, times the temporal passes (widths above pmax, cost.c) and the density of skipped
 * zeros. Tile sizes are the powers of two below each extent plus the extent itself (OC in
 * steps of M for direct convs); OW and OH share one exponent.
 *
 * DRAM TRAFFIC (the "promotion" rule of get_stats_fast). Walk the loops from the innermost
 * out. Each buffer's traffic starts at one tile. While a buffer is still "promoted", a loop
 * its data depends on (act: B,OW,OH,IC; wgt: IC,OC; out: B,OW,OH,OC) multiplies its traffic
 * by the loop's count — a bigger block stays resident — and a loop it does not depend on
 * reuses the resident block for free. Once the block outgrows its share of the buffer the
 * buffer is demoted: every loop further out multiplies its traffic. Outputs are read back and
 * written out the same amount (partial sums). The largest resident block of each buffer is
 * the pipeline fill: latency = ceil(sum of blocks / IF) + ceil(output block / IF); the rest of
 * the traffic overlaps compute, so
 *   stall = max(0, ceil(other traffic / IF) - compute) + latency,  total = compute + stall.
 * That is the reference mode (out_bits 0). In the training output stage (cost.c, OUTPUT STAGE)
 * the output buffer's walk traffic splits into one visit per output tile (the product of the
 * tile and the counts of B, OW, OH, OC: out_once) and the rest, partial-sum spills of a split
 * reduction: spills are written and read back at psum width as above; finished outputs are
 * written once, out_elems x out_bits, padding columns dropped; no output block is read
 * before compute; the drain is the last resident block scaled to out_bits and its real
 * columns. The search's bounds stay lower bounds: the spill grows with the output traffic,
 * and the drain is bounded by the resident block's bounds.
 *
 * ON-CHIP TRAFFIC. Inside a tile the array runs input-, output- or weight-stationary,
 * whichever the simulator's access estimate (bits moved per stationary choice) rates lowest,
 * ties in that order; each choice has its own buffer read/write counts (dataflow_traffic).
 *
 * ENERGY = busy cycles * core energy + buffer bits * per-bit energies + DRAM bits * per-bit
 * energy, summed in the simulator's order so equal-cycle tilings tie-break the same way.
 *
 * WHY THE SEARCH IS EXACT AND CHEAP. Only loops with more than one tile matter to the
 * promotion walk (a count of 1 changes nothing), so a tiling needs k! orders for its k
 * non-trivial loops, enumerated depth-first from the innermost loop so prefixes are shared.
 * Once every buffer is demoted the remaining loops' order no longer matters, and a leaf whose
 * cycles already exceed the incumbent's is dropped before its energy is summed.
 * Before that, every tiling gets a lower bound on (cycles, energy) that holds for every order:
 * a buffer's traffic is at least one tile times the counts of the loops it depends on, its
 * resident block at least one tile and at most its share of the buffer. The best-bounded
 * tiling is evaluated first; afterwards a tiling is expanded only when its bound does not
 * exceed the incumbent, so the minimum found is the minimum over all tilings and orders.
 */
#include "tiling.h"

#include <math.h>
#include <string.h>

/* Which buffers a loop's index reaches (optimizer.py tile_deps): [loop][wgt, act, out]. */
static const bool loop_dep[TILE_LOOPS][ARCH_BUF_COUNT] = {
    [TILE_B] = {false, true, true},
    [TILE_OW] = {false, true, true},
    [TILE_OH] = {false, true, true},
    [TILE_IC] = {true, true, false},
    [TILE_OC] = {true, false, true},
};

static const char loop_letter[TILE_LOOPS] = {'B', 'W', 'H', 'I', 'O'};

/* Candidate tile sizes of one loop: the powers of two (times step) below the extent, then the
 * extent. At most 64 + 1 of them for 64-bit extents. */
#define TILE_CAND_MAX 66

typedef struct tile_ctx {
    double tile[TILE_LOOPS], num[TILE_LOOPS];
    double w0[ARCH_BUF_COUNT];      /* bits of one tile in each buffer */
    double compute;                 /* cycles, all tiles */
    double inner_rd[ARCH_BUF_COUNT], inner_wr_out;
    double out_once;                /* output bits with every output tile visited once */
    double drain_per_bit;           /* training stage: DRAM bits per resident output bit */
    int dataflow;
} tile_ctx;

static double ceil_div(double a, double b)
{
    return ceil(a / b);
}

/* Per-tiling quantities that do not depend on the loop order. False when a tile overflows. */
static bool tile_setup(const tiling_nest *n, const double tile[TILE_LOOPS], tile_ctx *c)
{
    double b = tile[TILE_B], ow = tile[TILE_OW], oh = tile[TILE_OH];
    double ic = tile[TILE_IC], oc = tile[TILE_OC];
    double ntiles = 1;
    for (int i = 0; i < TILE_LOOPS; i++) {
        c->tile[i] = tile[i];
        c->num[i] = ceil_div(n->dim[i], tile[i]);
        ntiles *= c->num[i];
    }
    double kk = n->kh * n->kw;
    double oc_pad = ceil_div(oc, n->cols) * n->cols;
    bool whole = n->im2col || n->reduce_window;     /* the lanes split kh*kw*ic */
    double red_steps = whole ? ceil_div(kk * ic, n->lanes_in) : ceil_div(ic, n->lanes_in);
    c->w0[ARCH_WBUF] = ceil_div(kk * ic, n->lanes_in) * n->lanes_in * oc * n->bits[ARCH_WBUF];
    if (n->im2col)
        c->w0[ARCH_ABUF] = ow * oh * kk * ic * b * n->bits[ARCH_ABUF];
    else
        c->w0[ARCH_ABUF] = (n->kw + (ow - 1) * n->sw) * (n->kh + (oh - 1) * n->sh) * ic * b *
                           n->bits[ARCH_ABUF];
    c->w0[ARCH_OBUF] = ow * oh * oc_pad * b * n->bits[ARCH_OBUF];
    for (int k = 0; k < ARCH_BUF_COUNT; k++)
        if (c->w0[k] > n->cap_bits[k])
            return false;
    if (n->out_bits > 0) {  /* training output stage only */
        c->out_once = c->w0[ARCH_OBUF];
        for (int l = 0; l < TILE_LOOPS; l++)
            if (loop_dep[l][ARCH_OBUF])
                c->out_once *= c->num[l];
        c->drain_per_bit = n->out_bits / n->bits[ARCH_OBUF] * (oc / oc_pad);
    } else {
        c->out_once = c->drain_per_bit = 0;
    }

    double per_tile = b * oh * ow * ceil_div(oc, n->cols) * red_steps * (whole ? 1 : kk);
    per_tile *= n->passes;
    if (n->density < 1)
        per_tile = ceil(per_tile * n->density);
    c->compute = ntiles * per_tile;

    /* Stationary choice (get_stats_fast, "inner loop optimizations"). */
    double ip = n->bits[ARCH_ABUF], wp = n->bits[ARCH_WBUF], op = n->bits[ARCH_OBUF];
    double is_loop = oc_pad;
    double os_loop = whole ? red_steps * n->lanes_in : red_steps * n->lanes_in * kk;
    double ws_loop = b * oh * ow;
    double is_e = os_loop * ws_loop * (ip + is_loop * (wp + op));
    double os_e = is_loop * ws_loop * (op + os_loop * (ip + wp));
    double ws_e = os_loop * is_loop * (wp + ws_loop * (ip + op));
    double least = fmin(is_e, fmin(os_e, ws_e));
    double reduce = kk * ic, outs = oc * oh * ow * b, macs = reduce * outs;
    double per_out_rd, act_rd, wgt_rd;
    if (is_e == least) {
        c->dataflow = 0;
        act_rd = reduce * oh * ow * b * ip;
        per_out_rd = macs;
        wgt_rd = macs * wp;
    } else if (os_e == least) {
        c->dataflow = 1;
        act_rd = macs * ip;
        per_out_rd = outs;
        wgt_rd = macs * wp;
    } else {
        c->dataflow = 2;
        act_rd = macs * ip;
        per_out_rd = macs;
        wgt_rd = reduce * oc * wp;
    }
    c->inner_rd[ARCH_ABUF] = ntiles * act_rd;
    c->inner_rd[ARCH_WBUF] = ntiles * wgt_rd;
    c->inner_rd[ARCH_OBUF] = ntiles * per_out_rd * op;
    c->inner_wr_out = c->inner_rd[ARCH_OBUF];
    return true;
}

/* The outputs' DRAM traffic. `fill` is their walk traffic (psum bits, padded: what the
 * reference moves each way); lo and hi bound the largest resident output block (equal for a
 * finished walk). Reference: fill is read and written, the block filled before compute and
 * drained after it. Training stage: only partial-sum spills (traffic beyond one visit per
 * output tile) go both ways, at psum width; each real output is then written once at
 * out_bits; the drain is the last block at out_bits without its padding columns; nothing is
 * read before compute (the reduction starts on chip). */
static double out_spill(const tiling_nest *n, const tile_ctx *c, double fill)
{
    return n->out_bits == 0 ? fill : fmax(0, fill - c->out_once);
}

/* Cycles from each buffer's traffic (fill) and lo <= largest resident block <= hi: the
 * pipeline fill and drain are latency, the rest overlaps compute (top comment). Summed in
 * the order weights, acts, outputs. */
static double cycles_of(const tiling_nest *n, const tile_ctx *c, const double fill[ARCH_BUF_COUNT],
                        const double lo[ARCH_BUF_COUNT], const double hi[ARCH_BUF_COUNT],
                        double *stall)
{
    double initial = 0, middle = 0, final;
    for (int k = 0; k < ARCH_OBUF; k++) {
        initial += lo[k] * n->dram_factor[k];
        middle += fmax(0, fill[k] - hi[k]) * n->dram_factor[k];
    }
    double fo = fill[ARCH_OBUF], lo_o = lo[ARCH_OBUF], hi_o = hi[ARCH_OBUF];
    if (n->out_bits == 0) {
        initial += lo_o;
        final = lo_o;
        middle += 2 * fmax(0, fo - hi_o);
    } else {
        double once = n->out_elems * n->out_bits;
        final = fmin(lo_o * c->drain_per_bit, once);
        middle += 2 * out_spill(n, c, fo) + once - fmin(hi_o * c->drain_per_bit, once);
    }
    double latency = ceil_div(initial, n->if_bits) + ceil_div(final, n->if_bits);
    double mem = ceil_div(middle, n->if_bits);
    *stall = fmax(0, mem - c->compute) + latency;
    return c->compute + *stall;
}

/* Stats from each buffer's DRAM traffic and the bounds on its resident block. Monotone in
 * every argument, which is what lets the search bound a tiling by passing lower bounds. */
static void tile_finish(const tiling_nest *n, const tile_ctx *c, const double fill[ARCH_BUF_COUNT],
                        const double lo[ARCH_BUF_COUNT], const double hi[ARCH_BUF_COUNT],
                        tiling_stats *s)
{
    s->compute_cycles = c->compute;
    s->total_cycles = cycles_of(n, c, fill, lo, hi, &s->stall_cycles);
    double spill = out_spill(n, c, fill[ARCH_OBUF]);
    double once = n->out_bits == 0 ? 0 : n->out_elems * n->out_bits;
    double drain = n->out_bits == 0 ? 0 : n->out_elems * n->bits[ARCH_OBUF];
    s->dram_rd = 0;
    for (int k = 0; k < ARCH_BUF_COUNT; k++) {
        s->sram_wr[k] = fill[k];
        s->sram_rd[k] = c->inner_rd[k];
    }
    for (int k = 0; k < ARCH_OBUF; k++)
        s->dram_rd += fill[k] * n->dram_factor[k];
    s->dram_rd += spill;
    s->sram_wr[ARCH_OBUF] = spill + c->inner_wr_out;
    s->sram_rd[ARCH_OBUF] += spill + drain;
    s->dram_wr = spill + once;

    s->energy_pj[COST_E_CORE] = c->compute * n->core_pj;
    for (int k = 0; k < ARCH_BUF_COUNT; k++)
        s->energy_pj[COST_E_WBUF + k] = s->sram_rd[k] * n->rd_pj[k] + s->sram_wr[k] * n->wr_pj[k];
    s->energy_pj[COST_E_DRAM] = (s->dram_rd + s->dram_wr) * n->dram_pj;
    /* stats.py get_energy: core, then wbuf rd/wr, ibuf rd/wr, obuf rd/wr, dram rd, dram wr */
    double e = s->energy_pj[COST_E_CORE];
    for (int k = 0; k < ARCH_BUF_COUNT; k++) {
        e += s->sram_rd[k] * n->rd_pj[k];
        e += s->sram_wr[k] * n->wr_pj[k];
    }
    e += s->dram_rd * n->dram_pj;
    e += s->dram_wr * n->dram_pj;
    s->energy_total_pj = e;
}

/* The walk's state after some loops, innermost first. */
typedef struct walk {
    double w[ARCH_BUF_COUNT], maxw[ARCH_BUF_COUNT];
    bool promoted[ARCH_BUF_COUNT];
} walk;

static void walk_step(const tiling_nest *n, walk *st, int loop, double count)
{
    for (int k = 0; k < ARCH_BUF_COUNT; k++) {
        if (!st->promoted[k]) {
            st->w[k] *= count;
        } else if (loop_dep[loop][k]) {
            st->w[k] *= count;
            if (st->w[k] > n->cap_bits[k])
                st->promoted[k] = false;
            else
                st->maxw[k] = st->w[k];
        }
    }
}

static void walk_finish(const tiling_nest *n, const tile_ctx *c, const walk *st, tiling_stats *s)
{
    tile_finish(n, c, st->w, st->maxw, st->maxw, s);
}

/* OBJECTIVE. A tiling's rank is a key (primary, secondary) compared lexicographically:
 *   cycles  (total cycles, energy)     the public simulator's choice (reference mode)
 *   energy  (energy, total cycles)
 *   edp     (energy x total cycles, total cycles)
 * Both parts of every key are non-decreasing in cycles and in energy (energy and cycles are
 * non-negative), so a pair of lower bounds (cycles >= lb.c, energy >= lb.e) gives a key that
 * is lexicographically no larger than the true one: the bounds below stay bounds for every
 * objective, and pruning on "bound strictly worse than the incumbent" stays exact. */
typedef struct rank_key {
    double primary, secondary;
} rank_key;

static rank_key rank_of(arch_objective o, const tiling_stats *s)
{
    switch (o) {
    case ARCH_OBJ_ENERGY:
        return (rank_key){s->energy_total_pj, s->total_cycles};
    case ARCH_OBJ_EDP:
        return (rank_key){s->energy_total_pj * s->total_cycles, s->total_cycles};
    default:
        return (rank_key){s->total_cycles, s->energy_total_pj};
    }
}

static bool rank_less(arch_objective o, const tiling_stats *a, const tiling_stats *b, bool or_equal)
{
    rank_key x = rank_of(o, a), y = rank_of(o, b);
    if (x.primary != y.primary)
        return x.primary < y.primary;
    return or_equal ? x.secondary <= y.secondary : x.secondary < y.secondary;
}

static bool better(const tiling_nest *n, const tiling_stats *a, const tiling_stats *b)
{
    return rank_less(n->objective, a, b, false);
}

static bool not_worse(const tiling_nest *n, const tiling_stats *a, const tiling_stats *b)
{
    return rank_less(n->objective, a, b, true);
}

bool tiling_better(arch_objective o, const tiling_stats *a, const tiling_stats *b)
{
    return rank_less(o, a, b, false);
}

/* Best so far, with its tiling. */
typedef struct search {
    const tiling_nest *n;
    tiling_stats best;
    bool found;
    tile_ctx best_ctx;
    int best_seq[TILE_LOOPS], best_len;     /* non-trivial loops, innermost first */
} search;

/* Total cycles of a finished walk, the cheap half of walk_finish (for early rejection). */
static double walk_cycles(const tiling_nest *n, const tile_ctx *c, const walk *st)
{
    double stall;
    return cycles_of(n, c, st->w, st->maxw, st->maxw, &stall);
}

/* A lower bound on (cycles, energy) of every completion of a partial walk (loops not in
 * `used` still to come): traffic only grows, a promoted buffer's remaining dependent loops
 * multiply it for sure, its resident block ends at most at its share of the buffer, and a
 * demoted buffer's block is final. */
static void node_bound(const tiling_nest *n, const tile_ctx *c, const walk *st, const int *loops,
                       int k, unsigned used, tiling_stats *lb)
{
    double fill[ARCH_BUF_COUNT], resident_max[ARCH_BUF_COUNT];
    for (int b = 0; b < ARCH_BUF_COUNT; b++) {
        fill[b] = st->w[b];
        for (int i = 0; i < k; i++)
            if (!(used & (1u << i)) && (!st->promoted[b] || loop_dep[loops[i]][b]))
                fill[b] *= c->num[loops[i]];
        resident_max[b] = st->promoted[b] ? n->cap_bits[b] : st->maxw[b];
    }
    tile_finish(n, c, fill, st->maxw, resident_max, lb);
}

static void dfs(search *sr, const tile_ctx *c, const walk *st, const int *loops, int k,
                unsigned used, int *seq, int depth)
{
    bool any_promoted = false;
    for (int b = 0; b < ARCH_BUF_COUNT; b++)
        any_promoted |= st->promoted[b];
    if (depth < k && !any_promoted) {
        /* Every buffer is demoted: the remaining loops multiply all traffic whatever their
         * order, so one order (the remaining ones as listed) stands for all. */
        walk rest = *st;
        for (int i = 0; i < k; i++)
            if (!(used & (1u << i))) {
                walk_step(sr->n, &rest, loops[i], c->num[loops[i]]);
                seq[depth++] = loops[i];
            }
        dfs(sr, c, &rest, loops, k, (1u << k) - 1, seq, depth);
        return;
    }
    if (depth > 0 && depth + 1 < k && sr->found) {
        tiling_stats lb;
        node_bound(sr->n, c, st, loops, k, used, &lb);
        if (!not_worse(sr->n, &lb, &sr->best))
            return;
    }
    if (depth == k) {
        /* cycles alone decide only when cycles are the primary key */
        if (sr->found && sr->n->objective == ARCH_OBJ_CYCLES &&
            walk_cycles(sr->n, c, st) > sr->best.total_cycles)
            return;
        tiling_stats s;
        walk_finish(sr->n, c, st, &s);
        if (!sr->found || better(sr->n, &s, &sr->best)) {
            sr->best = s;
            sr->found = true;
            sr->best_ctx = *c;
            memcpy(sr->best_seq, seq, sizeof(int) * (size_t)k);
            sr->best_len = k;
        }
        return;
    }
    for (int i = 0; i < k; i++) {
        if (used & (1u << i))
            continue;
        walk next = *st;
        walk_step(sr->n, &next, loops[i], c->num[loops[i]]);
        seq[depth] = loops[i];
        dfs(sr, c, &next, loops, k, used | (1u << i), seq, depth + 1);
    }
}

static void walk_start(const tile_ctx *c, walk *st)
{
    for (int k = 0; k < ARCH_BUF_COUNT; k++) {
        st->w[k] = st->maxw[k] = c->w0[k];
        st->promoted[k] = true;
    }
}

static void expand(search *sr, const tile_ctx *c)
{
    int loops[TILE_LOOPS], k = 0, seq[TILE_LOOPS];
    for (int i = 0; i < TILE_LOOPS; i++)
        if (c->num[i] > 1)
            loops[k++] = i;
    walk st;
    walk_start(c, &st);
    dfs(sr, c, &st, loops, k, 0, seq, 0);
}

/* A lower bound on (cycles, energy) over every loop order (top comment). */
static void tile_bound(const tiling_nest *n, const tile_ctx *c, tiling_stats *s)
{
    double fill[ARCH_BUF_COUNT];
    for (int k = 0; k < ARCH_BUF_COUNT; k++) {
        fill[k] = c->w0[k];
        for (int l = 0; l < TILE_LOOPS; l++)
            if (loop_dep[l][k])
                fill[k] *= c->num[l];
    }
    tile_finish(n, c, fill, c->w0, n->cap_bits, s);
}

static int candidates(double extent, double step, double *out)
{
    int k = 0;
    for (double v = step; v < extent && k < TILE_CAND_MAX - 1; v *= 2)
        out[k++] = v;
    out[k++] = extent;
    return k;
}

/* Calls fn on every tiling; a tiling is an index into each candidate list. */
typedef struct cand_set {
    double v[4][TILE_CAND_MAX];     /* B, O (shared exponent), IC, OC */
    int len[4];
    double o_w[TILE_CAND_MAX], o_h[TILE_CAND_MAX];
} cand_set;

static void cand_init(const tiling_nest *n, cand_set *cs)
{
    cs->len[0] = candidates(n->dim[TILE_B], 1, cs->v[0]);
    double omax = fmax(n->dim[TILE_OW], n->dim[TILE_OH]);
    int k = 0;
    for (double v = 1;; v *= 2) {
        cs->o_w[k] = fmin(v, n->dim[TILE_OW]);
        cs->o_h[k] = fmin(v, n->dim[TILE_OH]);
        k++;
        if (v >= omax || k == TILE_CAND_MAX)
            break;
    }
    cs->len[1] = k;
    cs->len[2] = candidates(n->dim[TILE_IC], 1, cs->v[2]);
    cs->len[3] = candidates(n->dim[TILE_OC], n->im2col ? 1 : n->cols, cs->v[3]);
}

static void record_tiling(const search *sr, cost_tiling *t)
{
    const tile_ctx *c = &sr->best_ctx;
    /* Outermost first: the trivial loops (count 1, order irrelevant), then the chosen
     * non-trivial order from outside in. */
    int pos = 0;
    for (int i = 0; i < TILE_LOOPS; i++)
        if (!(c->num[i] > 1))
            t->order[pos++] = loop_letter[i];
    for (int i = sr->best_len - 1; i >= 0; i--)
        t->order[pos++] = loop_letter[sr->best_seq[i]];
    for (int i = 0; i < TILE_LOOPS; i++) {
        t->num[i] = (uint64_t)c->num[i];
        t->tile[i] = (uint64_t)c->tile[i];
    }
    t->dataflow = c->dataflow;
}

/* A valid tiling remembered by the first pass: its bound and its candidate indices. */
typedef struct bounded {
    double cycles, energy;
    uint8_t idx[4];
} bounded;

/* Enough for every realistic layer (a few thousand tilings); past it the second pass
 * recomputes instead of remembering. On the stack: cost_eval never allocates. */
#define BOUNDED_MAX 2048

static void tile_of(const cand_set *cs, const uint8_t idx[4], double tile[TILE_LOOPS])
{
    tile[TILE_B] = cs->v[0][idx[0]];
    tile[TILE_OW] = cs->o_w[idx[1]];
    tile[TILE_OH] = cs->o_h[idx[1]];
    tile[TILE_IC] = cs->v[2][idx[2]];
    tile[TILE_OC] = cs->v[3][idx[3]];
}

bool tiling_search(const tiling_nest *n, tiling_stats *best, cost_tiling *t)
{
    cand_set cs;
    cand_init(n, &cs);
    search sr = {.n = n, .found = false};
    tile_ctx c, lb_ctx = {.compute = 0};
    tiling_stats lb, lb_best = {.total_cycles = 0};
    double tile[TILE_LOOPS];
    bounded kept[BOUNDED_MAX];
    int n_kept = 0;
    bool overflow = false;
    uint64_t tilings = 0;
    uint8_t idx[4];

    /* Pass 1: bound every tiling; the least bound seeds the incumbent. */
    for (idx[0] = 0; idx[0] < cs.len[0]; idx[0]++)
        for (idx[1] = 0; idx[1] < cs.len[1]; idx[1]++)
            for (idx[2] = 0; idx[2] < cs.len[2]; idx[2]++)
                for (idx[3] = 0; idx[3] < cs.len[3]; idx[3]++) {
                    tilings++;
                    tile_of(&cs, idx, tile);
                    if (!tile_setup(n, tile, &c))
                        continue;
                    tile_bound(n, &c, &lb);
                    if (n_kept < BOUNDED_MAX)
                        kept[n_kept++] = (bounded){lb.total_cycles, lb.energy_total_pj,
                                                   {idx[0], idx[1], idx[2], idx[3]}};
                    else
                        overflow = true;
                    if (n_kept + overflow == 1 || better(n, &lb, &lb_best)) {
                        lb_best = lb;
                        lb_ctx = c;
                    }
                }
    if (n_kept == 0)
        return false;
    expand(&sr, &lb_ctx);

    /* Pass 2: expand every tiling whose bound does not exceed the incumbent. */
    for (int i = 0; i < n_kept; i++) {
        lb.total_cycles = kept[i].cycles;
        lb.energy_total_pj = kept[i].energy;
        if (!not_worse(n, &lb, &sr.best))
            continue;
        tile_of(&cs, kept[i].idx, tile);
        tile_setup(n, tile, &c);
        expand(&sr, &c);
    }
    if (overflow) {     /* the rest, recomputed: tilings past the first BOUNDED_MAX valid */
        int seen = 0;
        for (idx[0] = 0; idx[0] < cs.len[0]; idx[0]++)
            for (idx[1] = 0; idx[1] < cs.len[1]; idx[1]++)
                for (idx[2] = 0; idx[2] < cs.len[2]; idx[2]++)
                    for (idx[3] = 0; idx[3] < cs.len[3]; idx[3]++) {
                        tile_of(&cs, idx, tile);
                        if (!tile_setup(n, tile, &c) || seen++ < BOUNDED_MAX)
                            continue;
                        tile_bound(n, &c, &lb);
                        if (not_worse(n, &lb, &sr.best))
                            expand(&sr, &c);
                    }
    }
    *best = sr.best;
    memset(t, 0, sizeof *t);
    record_tiling(&sr, t);
    t->search_points = tilings * 120;
    return true;
}

static int loop_of_letter(char ch)
{
    for (int i = 0; i < TILE_LOOPS; i++)
        if (loop_letter[i] == ch)
            return i;
    return -1;
}

bool tiling_eval(const tiling_nest *n, cost_tiling *t, tiling_stats *s)
{
    double tile[TILE_LOOPS];
    unsigned seen = 0;
    for (int i = 0; i < TILE_LOOPS; i++) {
        int l = loop_of_letter(t->order[i]);
        if (l < 0 || (seen & (1u << l)) || t->tile[i] == 0)
            return false;
        seen |= 1u << l;
        tile[i] = fmin((double)t->tile[i], n->dim[i]);
    }
    tile_ctx c;
    if (!tile_setup(n, tile, &c))
        return false;
    walk st;
    walk_start(&c, &st);
    for (int i = TILE_LOOPS - 1; i >= 0; i--) {
        int l = loop_of_letter(t->order[i]);
        walk_step(n, &st, l, c.num[l]);
    }
    walk_finish(n, &c, &st, s);
    for (int i = 0; i < TILE_LOOPS; i++)
        t->num[i] = (uint64_t)c.num[i];
    t->dataflow = c.dataflow;
    t->search_points = 1;
    return true;
}
