/* test_replay.c — replay = the naive per-iteration loop; buckets; overhead; store; bitsim run.
 *
 * The naive loop below is the definition replay must meet: for every iteration, every layer
 * and every pass, look up the layer's decision at that iteration, form the pass's operands
 * (the mapping is written out here from DESIGN.md and the brief, not taken from replay), call
 * cost_eval and add the result to the (epoch, layer, pass) cell. Replay walks segments with a
 * memo instead; integer counts must match exactly, doubles to rounding (1e-9 relative).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "arch.h"
#include "cmd.h"
#include "cost.h"
#include "model_private.h"
#include "replay.h"
#include "replay_fixture.h"
#include "store.h"
#include "store_private.h"

static const char small_model[] =
    "model small\n"
    "input 3 8 8\n"
    "conv c1 out=4 k=3 pad=1 bias=0\n"
    "norm n1\n"
    "act r1\n"
    "conv c2 out=4 k=3 pad=1\n"
    "add a1 from=r1\n"
    "pool p1 op=global\n"
    "linear fc in=4 out=5\n";

/* Changes inside epochs and across an epoch boundary (iteration 10), densities that are not
 * bucket values, a float and a fixed-point format, two overhead records, and a change of WG
 * alone (only BWD_WEIGHT's output format changes: a new evaluation). */
static const char small_trace[] =
    "bitsim-trace 1\n"
    "model small\n"
    "batch 4\n"
    "iters_per_epoch 5\n"
    "epochs 3\n"
    "scheme test\n"
    "from 0 c1,c2 W=int4 A=int4 G=int8 dW=0.7 dA=0.55\n"
    "overhead 2:9 ops=1000 bits=32 label=kl\n"
    "from 3 c1 W=int8\n"
    "from 7 c2 A=int6 dA=0.3\n"
    "from 8 c2 WG=int16\n"
    "overhead 11 ops=50 bits=16 label=gd\n"
    "from 12 fc W=fx8.4 G=fp16 dG=0.9\n"
    "end\n";

#define EPOCHS 3
#define MAX_LAYERS 8

typedef struct naive_cell {
    uint64_t iterations, madds, elem_ops;
    double bitops, total_cycles, latency_s, energy_pj, dram_bits;
} naive_cell;

typedef struct naive_tuple {
    int layer, pass;
    num_format x, y, out, xs, ys;
    cost_sweeps sw;
    double dx, dy;
} naive_tuple;

typedef struct naive {
    naive_cell cell[EPOCHS][MAX_LAYERS][PASS_COUNT];
    uint64_t evals;
    naive_tuple seen[512], seen_layer[512];
    size_t n_seen;          /* distinct (layer shape, pass, operands): replay's evaluations */
    size_t n_seen_layer;    /* distinct (layer index, pass, operands) */
} naive;

/* Layers of one shape cost the same: the first layer index with l's kind, sub-kind, tensor
 * shapes, kernel/stride/padding/groups, product shape, parameters and first-MAC status. */
static int shape_class(const model *m, int l)
{
    const model_layer *a = &m->layers[l];
    for (int j = 0; j < l; j++) {
        const model_layer *b = &m->layers[j];
        if (a->kind == b->kind && strcmp(a->op, b->op) == 0 &&
            memcmp(&a->in, &b->in, sizeof a->in) == 0 &&
            memcmp(&a->out, &b->out, sizeof a->out) == 0 &&
            memcmp(&a->conv, &b->conv, sizeof a->conv) == 0 &&
            memcmp(&a->gemm, &b->gemm, sizeof a->gemm) == 0 && a->params == b->params &&
            a->bias == b->bias && a->first_mac == b->first_mac &&
            a->skip_bwd_data == b->skip_bwd_data && a->skip_bwd_weight == b->skip_bwd_weight)
            return j;
    }
    return l;
}

static bool is_mac(layer_kind k)
{
    return k == LAYER_CONV || k == LAYER_LINEAR || k == LAYER_MATMUL;
}

/* The operand mapping, from DESIGN.md and the issue: FWD x=A y=W, BWD_DATA x=G y=W,
 * BWD_WEIGHT x=A y=GW (the gradient as the weight-gradient pass reads it, traces/FORMAT.md:
 * SBM's bifurcation), UPDATE x=WG y=U; non-MAC layers stream A (FWD), G (BWD_DATA) or GW
 * (BWD_WEIGHT). The density of either copy of the gradient is dG.
 * The output format of a MAC pass (the cost model's training output stage, from the brief):
 * FWD writes the layer's activations A, BWD_DATA the input gradient at G, BWD_WEIGHT the
 * weight gradient at WG; UPDATE and non-MAC layers have none (bits 0). */
static void operands(const model_layer *l, int p, const trace_decision *d, cost_query *q,
                     bool exact)
{
    const double dW = d->density[TENSOR_W], dA = d->density[TENSOR_A],
                 dG = d->density[TENSOR_G];
    memset(&q->x, 0, sizeof q->x);
    memset(&q->y, 0, sizeof q->y);
    memset(&q->out, 0, sizeof q->out);
    q->density_y = 1;
    if (p == PASS_UPDATE) {
        q->x = d->fmt[TENSOR_WG], q->y = d->fmt[TENSOR_U], q->density_x = 1;
    } else if (!is_mac(l->kind)) {
        q->x = d->fmt[p == PASS_FWD ? TENSOR_A : p == PASS_BWD_DATA ? TENSOR_G : TENSOR_GW];
        q->density_x = p == PASS_FWD ? dA : dG;
    } else if (p == PASS_FWD) {
        q->x = d->fmt[TENSOR_A], q->y = d->fmt[TENSOR_W], q->density_x = dA, q->density_y = dW;
        q->out = d->fmt[TENSOR_A];
    } else if (p == PASS_BWD_DATA) {
        q->x = d->fmt[TENSOR_G], q->y = d->fmt[TENSOR_W], q->density_x = dG, q->density_y = dW;
        q->out = d->fmt[TENSOR_G];
    } else {
        q->x = d->fmt[TENSOR_A], q->y = d->fmt[TENSOR_GW], q->density_x = dA, q->density_y = dG;
        q->out = d->fmt[TENSOR_WG];
    }
    if (!exact) {
        q->density_x = replay_density_bucket(q->density_x);
        q->density_y = replay_density_bucket(q->density_y);
    }
}

/* Issue 12 (cost.h cost_query, cost.c OUTPUT STAGE): every tensor is written at its reader's
 * format, at the same iteration: FWD output at the first consumer's A (a non-MAC layer only
 * when it has exactly one consumer, else at its own width), BWD_DATA's dX at the producer's
 * G. A MAC layer reads A at a non-MAC producer's A only when that tensor was not written for
 * it: the producer has several readers, or nonmac = fused (it is computed on the fly from a
 * tensor stored for the non-MAC chain). nonmac = free: no tensors between MAC layers (own
 * formats). Every layer-pass carries its non-MAC plan. */
static void neighbours(const trace *t, const arch *a, uint32_t l, int p, uint64_t it,
                       cost_query *q)
{
    const model *m = &t->model;
    const model_layer *ly = &m->layers[l];
    cost_sweeps plan[PASS_COUNT];
    cost_nonmac_plan(a, m, l, plan);
    q->sweeps = plan[p];
    memset(&q->x_stored, 0, sizeof q->x_stored);
    memset(&q->y_stored, 0, sizeof q->y_stored);
    bool mac = is_mac(ly->kind);
    if (!mac)
        memset(&q->out, 0, sizeof q->out);
    if (p == PASS_UPDATE || (!mac && p == PASS_BWD_WEIGHT) || a->nonmac == ARCH_NONMAC_FREE)
        return;
    int32_t cons = -1;
    int n_cons = 0, n_prod_cons = 0;
    for (uint32_t j = l + 1; j < m->n_layers; j++)
        if (m->layers[j].src == (int32_t)l || m->layers[j].src2 == (int32_t)l) {
            if (cons < 0)
                cons = (int32_t)j;
            n_cons++;
        }
    for (uint32_t j = 0; ly->src >= 0 && j < m->n_layers; j++)
        n_prod_cons += m->layers[j].src == ly->src || m->layers[j].src2 == ly->src;
    const trace_decision *pd = ly->src >= 0 ? trace_segment_at(t, (uint32_t)ly->src, it)->d : NULL;
    const trace_decision *cd = cons >= 0 ? trace_segment_at(t, (uint32_t)cons, it)->d : NULL;
    bool wide = pd && !is_mac(m->layers[ly->src].kind) &&
                (a->nonmac == ARCH_NONMAC_FUSED || n_prod_cons >= 2);
    if (p == PASS_FWD && cd && (mac || n_cons == 1))
        q->out = cd->fmt[TENSOR_A];
    if (p == PASS_BWD_DATA && pd)
        q->out = pd->fmt[TENSOR_G];
    if (mac && p != PASS_BWD_DATA && wide)
        q->x_stored = pd->fmt[TENSOR_A];
}

/* Adds (layer, pass, operands) to seen unless it is there already. Densities are part of
 * the operands only where the arch reads them (cost.c SPARSITY): zero-skipping of x
 * ([sparsity] x or both) or of y (both), or any DRAM compression; elsewhere a density
 * changes nothing, and its tuple is the same evaluation. */
static void note_in(naive_tuple *seen, size_t *n_seen, int layer, int p, cost_query q,
                    const arch *a)
{
    bool compress = a->dram_compress != ARCH_COMPRESS_NONE;
    if (!compress && a->sparsity == ARCH_SPARSE_NONE)
        q.density_x = 1;
    if (!compress && a->sparsity != ARCH_SPARSE_BOTH)
        q.density_y = 1;
    for (size_t i = 0; i < *n_seen; i++)
        if (seen[i].layer == layer && seen[i].pass == p && numfmt_equal(&seen[i].x, &q.x) &&
            numfmt_equal(&seen[i].y, &q.y) && numfmt_equal(&seen[i].out, &q.out) &&
            numfmt_equal(&seen[i].xs, &q.x_stored) && numfmt_equal(&seen[i].ys, &q.y_stored) &&
            !memcmp(&seen[i].sw, &q.sweeps, sizeof q.sweeps) && seen[i].dx == q.density_x &&
            seen[i].dy == q.density_y)
            return;
    cr_assert_lt(*n_seen, 512);
    seen[(*n_seen)++] = (naive_tuple){.layer = layer, .pass = p, .x = q.x, .y = q.y,
                                      .out = q.out, .xs = q.x_stored, .ys = q.y_stored,
                                      .sw = q.sweeps, .dx = q.density_x, .dy = q.density_y};
}

static void note_tuple(naive *n, const model *m, int layer, int p, const cost_query *q,
                       const arch *a)
{
    note_in(n->seen, &n->n_seen, shape_class(m, layer), p, *q, a);
    note_in(n->seen_layer, &n->n_seen_layer, layer, p, *q, a);
}

static void naive_loop(const trace *t, const arch *a, bool exact, naive *n)
{
    memset(n, 0, sizeof *n);
    cr_assert_eq(t->epochs, EPOCHS);
    cr_assert_leq(t->model.n_layers, MAX_LAYERS);
    for (uint64_t it = 0; it < t->total_iters; it++) {
        uint64_t ep = it / t->iters_per_epoch;
        for (uint32_t l = 0; l < t->model.n_layers; l++) {
            const model_layer *ly = &t->model.layers[l];
            const trace_segment *s = trace_segment_at(t, l, it);
            cr_assert_not_null(s);
            for (int p = 0; p < PASS_COUNT; p++) {
                if (p == PASS_BWD_DATA && ly->first_mac)
                    continue;   /* no gradient w.r.t. the network input */
                uint64_t m = 0, el = 0;
                cr_assert(model_pass_madds(ly, (train_pass)p, t->batch, &m));
                cr_assert(model_pass_elem_ops(ly, (train_pass)p, t->batch, &el));
                if (m == 0 && el == 0)
                    continue;
                cost_query q = {.layer = ly, .pass = (train_pass)p, .batch = t->batch};
                operands(ly, p, s->d, &q, exact);
                neighbours(t, a, l, p, it, &q);
                note_tuple(n, &t->model, (int)l, p, &q, a);
                cost_result r;
                bs_error e;
                err_clear(&e);
                cr_assert_eq(cost_eval(a, &q, &r, &e), 0, "%s", e.msg);
                n->evals++;
                naive_cell *c = &n->cell[ep][l][p];
                c->iterations++;
                c->madds += r.madds;
                c->elem_ops += r.elem_ops;
                c->bitops += r.bitops;
                c->total_cycles += (double)r.total_cycles;
                c->latency_s += r.latency_s;
                for (int k = 0; k < COST_E_COUNT; k++)
                    c->energy_pj += r.energy_pj[k];
                c->dram_bits += r.dram_read_bits + r.dram_write_bits;
            }
        }
    }
}

static void expect_close(double got, double want, const char *what, const replay_row *row)
{
    double tol = 1e-9 * fmax(fabs(want), 1e-30);
    cr_expect(fabs(got - want) <= tol, "epoch %u layer %s %s: %s = %.17g, naive loop %.17g",
              row->epoch, row->layer_name, row->pass, what, got, want);
}

/* A shipped arch by name, or an arch file's text (starting with '[') */
static void load_arch(arch *a, const char *name)
{
    bs_error e;
    err_clear(&e);
    if (name[0] == '[')
        cr_assert_eq(arch_parse_buffer(a, "test.ini", name, strlen(name), &e), 0, "%s", e.msg);
    else
        cr_assert_eq(arch_load(a, name, &e), 0, "%s", e.msg);
}

/* Reads trace_text against model_text into *t and loads arch_name (load_arch) into *a. */
static void load_inputs(trace *t, arch *a, const char *model_text, const char *trace_text,
                        const char *arch_name)
{
    fixture_trace(t, model_text, trace_text);
    load_arch(a, arch_name);
}

/* Replays t on a with options o (NULL: the defaults); the replay must succeed. */
static void replay_ok(const trace *t, const arch *a, const replay_options *o, replay_result *r)
{
    bs_error e;
    err_clear(&e);
    cr_assert_eq(replay_run(t, a, o, r, &e), 0, "%s", e.msg);
}

static void check_against_naive_on(const char *model_text, const char *trace_text,
                                   const char *arch_name, bool exact, size_t *evals_by_layer)
{
    trace t;
    arch a;
    load_inputs(&t, &a, model_text, trace_text, arch_name);
    static naive n;
    naive_loop(&t, &a, exact, &n);
    replay_options o = {.exact_density = exact};
    replay_result r;
    replay_ok(&t, &a, &o, &r);

    size_t cells = 0;
    for (int ep = 0; ep < EPOCHS; ep++)
        for (int l = 0; l < MAX_LAYERS; l++)
            for (int p = 0; p < PASS_COUNT; p++)
                cells += n.cell[ep][l][p].iterations > 0;
    size_t layer_rows = 0;
    for (size_t k = 0; k < r.n_rows; k++) {
        const replay_row *row = &r.rows[k];
        if (row->layer < 0)
            continue;
        layer_rows++;
        int p = model_pass_parse(row->pass);
        cr_assert(p >= 0 && row->epoch < EPOCHS && row->layer < MAX_LAYERS);
        cr_expect_str_eq(row->layer_name, t.model.layers[row->layer].name);
        const naive_cell *c = &n.cell[row->epoch][row->layer][p];
        cr_expect_eq(row->iterations, c->iterations, "%s %s", row->layer_name, row->pass);
        cr_expect_eq(row->madds, c->madds, "%s %s madds", row->layer_name, row->pass);
        cr_expect_eq(row->elem_ops, c->elem_ops, "%s %s elem_ops", row->layer_name, row->pass);
        expect_close(row->bitops, c->bitops, "bitops", row);
        expect_close(row->total_cycles, c->total_cycles, "cycles", row);
        expect_close(row->latency_s, c->latency_s, "latency", row);
        double energy = 0;
        for (int q = 0; q < COST_E_COUNT; q++)
            energy += row->energy_pj[q];
        expect_close(energy, c->energy_pj, "energy", row);
        expect_close(row->dram_read_bits + row->dram_write_bits, c->dram_bits, "dram", row);
    }
    cr_expect_eq(layer_rows, cells, "one row per (epoch, layer, pass) with work");
    /* The memo evaluates each distinct tuple once (+ one evaluation per overhead record). */
    cr_expect_eq(r.stats.cost_evals, n.n_seen + t.n_overheads, "evals %llu, distinct %zu",
                 (unsigned long long)r.stats.cost_evals, n.n_seen);
    cr_expect_lt(r.stats.cost_evals, n.evals);
    if (evals_by_layer)
        *evals_by_layer = n.n_seen_layer + t.n_overheads;
    replay_result_free(&r);
    arch_free(&a);
    trace_free(&t);
}

static void check_against_naive(const char *arch_name, bool exact)
{
    check_against_naive_on(small_model, small_trace, arch_name, exact, NULL);
}

/* Three identical convs after a first one, each followed by a ReLU: the memo is keyed by the
 * layer's shape, so c2/c3 and r1/r2/r3 share evaluations; results still equal the naive loop
 * (which calls cost_eval for every layer), and the evaluations are fewer than one per layer. */
static const char repeat_model[] =
    "model repeat\n"
    "input 4 8 8\n"
    "conv c1 out=4 k=3 pad=1 bias=0\n"
    "act r1\n"
    "conv c2 out=4 k=3 pad=1 bias=0\n"
    "act r2\n"
    "conv c3 out=4 k=3 pad=1 bias=0\n"
    "act r3\n";

static const char repeat_trace[] =
    "bitsim-trace 1\nmodel repeat\nbatch 4\niters_per_epoch 5\nepochs 3\nscheme test\n"
    "from 0 c1,c2,c3 W=int8 A=int8 G=int8 dA=0.6\n"
    "from 4 c3 W=int4\n"
    "from 9 c3 W=int8\n"
    "end\n";

/* The shipped bitfusion with zero-skipping of both operands and bitmap-compressed DRAM
 * traffic: every density reaches the cost. */
static const char sparse_arch[] =
    "[arch]\nfamily = bitfusion\nfreq_mhz = 500\n[array]\nrows = 16\ncols = 32\npmax = 8\n"
    "pmin = 2\n[buffers]\nwbuf_bytes = 65536\nabuf_bytes = 32768\nobuf_bytes = 16384\n"
    "[dram]\nbits_per_cycle = 192\npj_per_bit = 15\ncompress = bitmap\n"
    "[energy]\ncore_pj_per_cycle = 235.104\n[sparsity]\nmode = both\n";

/* check_against_naive_on for bitfusion, gpu-v100 and sparse_arch, with and without density
 * buckets;
 * when want_by_layer > 0, the distinct (layer, pass, operands) keys must number that. */
static void check_against_naive_everywhere(const char *model_text, const char *trace_text,
                                           size_t want_by_layer)
{
    const char *archs[] = {"bitfusion", "gpu-v100", sparse_arch};
    for (int i = 0; i < 3; i++)
        for (int exact = 0; exact < 2; exact++) {
            size_t by_layer = 0;
            check_against_naive_on(model_text, trace_text, archs[i], exact, &by_layer);
            if (want_by_layer)
                cr_expect_eq(by_layer, want_by_layer, "%s: per-layer keys", archs[i]);
        }
}

Test(replay, repeated_layer_shapes_share_evaluations)
{
    /* by layer: c1 FWD, BWD_WEIGHT, UPDATE (no BWD_DATA); c2 4 passes; c3 the same 4 plus
     * FWD and BWD_DATA at W=int4 (BWD_WEIGHT and UPDATE do not read W); r1..r3 FWD and
     * BWD_DATA each. By shape (replay, checked inside against n_seen): 3 + 4 + 2 + 2 = 11. */
    check_against_naive_everywhere(repeat_model, repeat_trace, 3 + 4 + 6 + 3 * 2);
}

/* Densities changing alone, each value twice: on an arch that reads no density (bitfusion,
 * gpu-v100: no zero-skipping, no compression) they are no new evaluation, on sparse_arch each
 * distinct (bucketed) density is one; the rows equal the naive loop, which evaluates every
 * iteration at its own density, everywhere. */
static const char density_trace[] =
    "bitsim-trace 1\nmodel repeat\nbatch 4\niters_per_epoch 5\nepochs 3\nscheme test\n"
    "from 0 c1,c2,c3 W=int8 A=int8 G=int8 dA=0.6\n"
    "from 2 c2 dA=0.3 dW=0.8\n"
    "from 5 c2 dA=0.6 dW=1\n"
    "from 7 c3 dG=0.45\n"
    "from 9 c2 dA=0.3 dW=0.8\n"
    "from 12 c3 dG=1\n"
    "end\n";

Test(replay, density_only_changes_evaluate_where_the_arch_reads_them)
{
    /* bitfusion by layer: the 3 + 4 + 4 MAC passes and 3 x 2 of the ReLUs, as in
     * repeated_layer_shapes_share_evaluations without c3's W change */
    check_against_naive_everywhere(repeat_model, density_trace, 0);
    size_t by_layer = 0;
    check_against_naive_on(repeat_model, density_trace, "bitfusion", false, &by_layer);
    cr_expect_eq(by_layer, 3 + 4 + 4 + 3 * 2);
    size_t sparse_by_layer = 0;
    check_against_naive_on(repeat_model, density_trace, sparse_arch, false, &sparse_by_layer);
    cr_expect_gt(sparse_by_layer, by_layer);
}

Test(replay, equals_naive_loop_bitfusion_buckets)
{
    check_against_naive("bitfusion", false);
}

Test(replay, equals_naive_loop_gpu_exact_density)
{
    check_against_naive("gpu-v100", true);
}

Test(replay, equals_naive_loop_bitfusion_exact_density)
{
    check_against_naive("bitfusion", true);
}

/* SBM-style gradient bifurcation (G for BWD_DATA, GW for BWD_WEIGHT), GW changing alone, a
 * G change that takes GW with it, and a non-MAC layer with a GW of its own. */
static const char bifurcated_trace[] =
    "bitsim-trace 1\nmodel small\nbatch 4\niters_per_epoch 5\nepochs 3\nscheme test\n"
    "from 0 * W=int8 A=int8 G=int8 GW=int16 dA=0.55\n"
    "from 3 c2 GW=int4\n"
    "from 6 c2 G=fp16\n"
    "from 8 n1 GW=fp32\n"
    "from 11 fc G=int6 GW=int12\n"
    "end\n";

Test(replay, equals_naive_loop_with_a_bifurcated_gradient)
{
    check_against_naive_everywhere(small_model, bifurcated_trace, 0);
}

/* By hand: c2 is a 3x3 conv, 4 -> 4 channels on 8x8 (pad 1): 8*8*4*4*9 = 9216 MACs per
 * sample, x batch 4 = 36864 per iteration and pass. BitOPs = MAdds x b_x x b_y (DESIGN.md):
 * BWD_DATA reads G x W = 8 x 8 bits, BWD_WEIGHT reads A x GW = 8 x 16 bits. */
Test(replay, weight_gradient_pass_reads_gw_data_pass_reads_g)
{
    static const char text[] =
        "bitsim-trace 1\nmodel small\nbatch 4\niters_per_epoch 5\nepochs 1\nscheme test\n"
        "from 0 c2 W=int8 A=int8 G=int8 GW=int16\n"
        "end\n";
    trace t;
    arch a;
    load_inputs(&t, &a, small_model, text, "bitfusion");
    replay_options o = {.exact_density = true};
    replay_result r;
    replay_ok(&t, &a, &o, &r);
    const double madds = 5.0 * 36864;
    int found = 0;
    for (size_t k = 0; k < r.n_rows; k++) {
        const replay_row *row = &r.rows[k];
        if (row->layer < 0 || strcmp(row->layer_name, "c2") != 0)
            continue;
        int p = model_pass_parse(row->pass);
        if (p == PASS_BWD_DATA) {
            cr_expect_float_eq(row->bitops, madds * 8 * 8, 1e-9 * madds * 64, "G x W");
            found++;
        } else if (p == PASS_BWD_WEIGHT) {
            cr_expect_float_eq(row->bitops, madds * 8 * 16, 1e-9 * madds * 128, "A x GW");
            found++;
        }
    }
    cr_expect_eq(found, 2);
    replay_result_free(&r);
    arch_free(&a);
    trace_free(&t);
}

Test(replay, density_buckets_keep_the_stated_bound)
{
    cr_expect_eq(replay_density_bucket(1.0), 1.0);
    cr_expect_eq(replay_density_bucket(0.5), 0.5);
    cr_expect_eq(replay_density_bucket(0.25), 0.25);
    cr_expect_eq(replay_density_bucket(0.75), 0.75);
    const double bound = ldexp(1.0, -(REPLAY_DENSITY_BITS + 1));
    double last = -1;
    int distinct_top_octave = 0;
    for (int i = 1; i <= 100000; i++) {
        double d = i / 100000.0, b = replay_density_bucket(d);
        cr_assert(fabs(b - d) <= bound * d, "d=%.17g bucket %.17g", d, b);
        cr_assert_eq(replay_density_bucket(b), b, "buckets are fixed points");
        if (d >= 0.5 && d < 1 && b < 1 && b != last) {
            distinct_top_octave++;
            last = b;
        }
    }
    /* 2^REPLAY_DENSITY_BITS buckets per octave ([0.5, 1) rounds into 256 values below 1). */
    cr_expect_eq(distinct_top_octave, 1 << REPLAY_DENSITY_BITS);
}

/* An all-zero tensor (density 0) is legal input (traces/FORMAT.md: densities in [0,1]): its
 * bucket is 0 itself, and the replay runs it like any density. */
/* The row of layer `layer`, pass `pass`, epoch `epoch` of r (NULL when absent). */
static const replay_row *find_row(const replay_result *r, uint32_t epoch, const char *layer,
                                  const char *pass)
{
    for (size_t i = 0; i < r->n_rows; i++)
        if (r->rows[i].epoch == epoch && strcmp(r->rows[i].layer_name, layer) == 0 &&
            strcmp(r->rows[i].pass, pass) == 0)
            return &r->rows[i];
    return NULL;
}

/* All-zero activations and gradients, by hand. c1 (conv 3->4, k=3, pad=1 on 3x8x8) does
 * 8*8*4*3*3*3 = 6912 MAdds per sample: x batch 4 x 5 iterations = 138240 per epoch in FWD and
 * in BWD_WEIGHT; it is the first MAC layer, so it has no BWD_DATA. Density cannot change a
 * MAdd count, but it zeroes AdaPT's word-length x density weighted MAdds of every pass with
 * a zero operand (FWD: A, BWD_WEIGHT: A and G), while dense int8 operands weigh 8 per MAdd;
 * on an arch without sparsity support (the shipped bitfusion: [sparsity] mode = none) the
 * cycles are the dense run's. */
Test(replay, zero_density_replays)
{
    cr_expect_eq(replay_density_bucket(0.0), 0.0);
    static const char zero_trace[] =
        "bitsim-trace 1\nmodel small\nbatch 4\niters_per_epoch 5\nepochs 3\nscheme test\n"
        "from 0 c1,c2 W=int8 A=int8 G=int8 dA=0 dG=0\nend\n";
    static const char dense_trace[] =
        "bitsim-trace 1\nmodel small\nbatch 4\niters_per_epoch 5\nepochs 3\nscheme test\n"
        "from 0 c1,c2 W=int8 A=int8 G=int8\nend\n";
    trace t, td;
    arch a;
    load_inputs(&t, &a, small_model, zero_trace, "bitfusion");
    fixture_trace(&td, small_model, dense_trace);
    replay_result dense;
    replay_ok(&td, &a, NULL, &dense);
    for (int exact = 0; exact < 2; exact++) {
        replay_options o = {.exact_density = exact};
        replay_result r;
        replay_ok(&t, &a, &o, &r);
        for (uint32_t ep = 0; ep < 3; ep++) {
            static const char *const passes[] = {"FWD", "BWD_WEIGHT"};
            for (int p = 0; p < 2; p++) {
                const replay_row *z = find_row(&r, ep, "c1", passes[p]);
                const replay_row *d = find_row(&dense, ep, "c1", passes[p]);
                cr_assert(z && d, "epoch %u c1 %s missing", ep, passes[p]);
                cr_expect_eq(z->madds, 138240, "%s", passes[p]);
                cr_expect_eq(d->madds, 138240, "%s", passes[p]);
                cr_expect_eq(z->wl_madds, 0.0, "%s: a zero operand weighs 0", passes[p]);
                cr_expect_eq(d->wl_madds, 138240.0 * 8, "%s: int8 weighs 8", passes[p]);
                cr_expect_eq(z->total_cycles, d->total_cycles, "%s: no sparsity support",
                             passes[p]);
            }
            const replay_row *bd = find_row(&r, ep, "c1", "BWD_DATA");
            cr_expect(!bd || bd->madds == 0, "the first MAC layer has no BWD_DATA");
        }
        replay_result_free(&r);
    }
    replay_result_free(&dense);
    trace_free(&td);
    arch_free(&a);
    trace_free(&t);
}

/* The clock rule (cost.h latency_s): the same replay at 500 MHz equals the 1 GHz one with
 * latency and leakage energy doubled and everything else unchanged; checked against a full
 * replay at 500 MHz, row by row. An arch with leakage (leak_mw > 0) makes the energy part of
 * the check. */
Test(replay, rescaled_clock_equals_a_full_replay)
{
    static const char arch_1ghz[] =
        "[arch]\nname = clk\nfamily = bitfusion\nfreq_mhz = 1000\n[array]\nrows = 4\ncols = 4\n"
        "pmax = 8\npmin = 2\n[buffers]\nwbuf_bytes = 65536\nabuf_bytes = 65536\n"
        "obuf_bytes = 65536\nwbuf_read_pj_per_bit = 0.02\nwbuf_write_pj_per_bit = 0.03\n"
        "abuf_read_pj_per_bit = 0.06\nabuf_write_pj_per_bit = 0.1\nobuf_read_pj_per_bit = 0.03\n"
        "obuf_write_pj_per_bit = 0.07\n[dram]\nbits_per_cycle = 64\npj_per_bit = 10\n[energy]\n"
        "core_pj_per_cycle = 50\nleak_mw = 120\n";
    char arch_500[sizeof arch_1ghz];
    snprintf(arch_500, sizeof arch_500, "%s", arch_1ghz);
    memcpy(strstr(arch_500, "freq_mhz = 1000"), "freq_mhz =  500", 15);
    trace t;
    fixture_trace(&t, small_model, small_trace);
    arch fast, slow;
    bs_error e;
    cr_assert_eq(arch_parse_buffer(&fast, "clk", arch_1ghz, strlen(arch_1ghz), &e), 0, "%s", e.msg);
    cr_assert_eq(arch_parse_buffer(&slow, "clk", arch_500, strlen(arch_500), &e), 0, "%s", e.msg);
    replay_result ref, full, derived;
    replay_ok(&t, &fast, NULL, &ref);
    replay_ok(&t, &slow, NULL, &full);
    replay_result_rescale_clock(&ref, 1e9, 5e8, &derived);
    cr_assert_not_null(derived.rows);
    cr_assert_eq(derived.n_rows, full.n_rows);
    for (size_t i = 0; i < full.n_rows; i++) {
        const replay_row *d = &derived.rows[i], *f = &full.rows[i], *r = &ref.rows[i];
        expect_close(d->latency_s, f->latency_s, "latency_s", f);
        expect_close(d->latency_s, 2 * r->latency_s, "latency_s x 2", f);
        for (int k = 0; k < COST_E_COUNT; k++)
            expect_close(d->energy_pj[k], f->energy_pj[k], cost_energy_name((cost_energy)k), f);
        expect_close(d->total_cycles, f->total_cycles, "total_cycles", f);
    }
    cr_expect_gt(full.totals.energy_pj, ref.totals.energy_pj, "leakage grows with latency");
    expect_close(derived.totals.energy_pj, full.totals.energy_pj, "total energy", &full.rows[0]);
    expect_close(derived.totals.latency_s, full.totals.latency_s, "total latency", &full.rows[0]);
    replay_result_free(&derived);
    replay_result_free(&full);
    replay_result_free(&ref);
    arch_free(&slow);
    arch_free(&fast);
    trace_free(&t);
}

Test(replay, buckets_change_costs_within_the_bound)
{
    trace t;
    arch a;
    load_inputs(&t, &a, small_model, small_trace, "bitfusion");
    replay_result rb, rx;
    replay_options ob = {.exact_density = false}, ox = {.exact_density = true};
    replay_ok(&t, &a, &ob, &rb);
    replay_ok(&t, &a, &ox, &rx);
    cr_expect_eq(rb.totals.madds, rx.totals.madds, "MAdds do not depend on density");
    cr_expect_eq(rb.totals.bitops, rx.totals.bitops);
    cr_expect_eq(rb.totals.wl_madds, rx.totals.wl_madds, "wl_madds always use exact density");
    /* Density terms move by at most 2^-8 (a product of two bucketed densities). */
    double bound = ldexp(1.0, -REPLAY_DENSITY_BITS);
    cr_expect_leq(fabs(rb.totals.energy_pj - rx.totals.energy_pj), bound * rx.totals.energy_pj);
    cr_expect_leq(fabs(rb.totals.dram_bits - rx.totals.dram_bits), bound * rx.totals.dram_bits);
    replay_result_free(&rb);
    replay_result_free(&rx);
    arch_free(&a);
    trace_free(&t);
}

Test(replay, overhead_rows_by_hand_and_no_first_layer_bwd_data)
{
    trace t;
    arch a;
    load_inputs(&t, &a, small_model, small_trace, "bitfusion");
    replay_result r;
    replay_ok(&t, &a, NULL, &r);
    /* kl: iterations 2..8 = 3 in epoch 0 (2,3,4), 4 in epoch 1 (5..8), 1000 ops of 32 bits;
     * gd: iteration 11 (epoch 2), 50 ops of 16 bits. */
    const uint64_t want_ops[EPOCHS] = {3000, 4000, 50};
    const double want_wl[EPOCHS] = {3000.0 * 32, 4000.0 * 32, 50.0 * 16};
    int seen = 0;
    for (size_t k = 0; k < r.n_rows; k++) {
        const replay_row *row = &r.rows[k];
        cr_expect(!(row->layer == 0 && strcmp(row->pass, "BWD_DATA") == 0),
                  "the first MAC layer has no BWD_DATA row");
        if (row->layer != -1)
            continue;
        seen++;
        cr_expect_str_eq(row->pass, "OVERHEAD");
        cr_expect_eq(row->elem_ops, want_ops[row->epoch], "epoch %u", row->epoch);
        cr_expect_float_eq(row->wl_madds, want_wl[row->epoch], 1e-9);
        cr_expect_gt(row->energy_pj[COST_E_CORE] + row->energy_pj[COST_E_DRAM], 0);
        /* a scheme's check is its own pass over its data in every nonmac mode but free,
         * never overlapped into a MAC layer's stage: kl reads and writes 1000 x 32 bits per
         * iteration over the 192-bit port, ceil(64000 / 192) = 334 cycles (> 1000 / 32
         * lanes), x 3 iterations in epoch 0 */
        if (row->epoch == 0)
            cr_expect_float_eq(row->total_cycles, 3 * 334, 1e-9, "%g", row->total_cycles);
    }
    cr_expect_eq(seen, EPOCHS);
    replay_result_free(&r);
    arch_free(&a);
    trace_free(&t);
}

/* A temp directory with the small model and trace as files (bitsim run reads files). */
static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static void temp_inputs(char dir[64], char trace_path[128], char db_path[128])
{
    snprintf(dir, 64, "/tmp/bitsim-replay-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char model_path[128];
    snprintf(model_path, sizeof model_path, "%s/small.model", dir);
    write_file(model_path, small_model);
    snprintf(trace_path, 128, "%s/small.trace", dir);
    char text[sizeof small_trace + 64];
    /* The trace names its model by a path relative to the trace file. */
    const char *body = strstr(small_trace, "batch");
    snprintf(text, sizeof text, "bitsim-trace 1\nmodel small.model\n%s", body);
    write_file(trace_path, text);
    snprintf(db_path, 128, "%s/t.db", dir);
}

static void remove_temp(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

static double query_double(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
    double v = sqlite3_column_type(st, 0) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return v;
}

Test(replay, stores_one_run_and_reads_totals_back)
{
    char dir[64], trace_path[128], db_path[128];
    temp_inputs(dir, trace_path, db_path);
    trace t;
    bs_error e;
    err_clear(&e);
    cr_assert_eq(trace_read_file(&t, trace_path, &e), 0, "%s", e.msg);
    arch a;
    load_arch(&a, "bitfusion");
    static naive n;
    naive_loop(&t, &a, false, &n);
    double madds = 0, energy = 0;
    for (int ep = 0; ep < EPOCHS; ep++)
        for (int l = 0; l < MAX_LAYERS; l++)
            for (int p = 0; p < PASS_COUNT; p++) {
                madds += (double)n.cell[ep][l][p].madds;
                energy += n.cell[ep][l][p].energy_pj;
            }
    replay_result r;
    cr_assert_eq(replay_run(&t, &a, NULL, &r, &e), 0, "%s", e.msg);
    store *s;
    cr_assert_eq(store_open(&s, db_path, &e), 0, "%s", e.msg);
    store_run_info info = {.scheme = t.scheme, .model_name = t.model.name, .arch_name = a.name,
                           .trace_name = "small.trace", .batch = t.batch,
                           .iterations = t.total_iters, .epochs = t.epochs, .options = ""};
    cr_assert_eq(store_put_input(s, STORE_ARCH, "a", "a", 1, &info.arch_id, &e), 0, "%s", e.msg);
    cr_assert_eq(store_put_input(s, STORE_MODEL, "m", "m", 1, &info.model_id, &e), 0);
    cr_assert_eq(store_put_input(s, STORE_TRACE, "t", "t", 1, &info.trace_id, &e), 0);
    double overhead_energy = 0;
    for (size_t k = 0; k < r.n_rows; k++)
        if (r.rows[k].layer < 0)
            for (int q = 0; q < COST_E_COUNT; q++)
                overhead_energy += r.rows[k].energy_pj[q];
    /* Both row sources store_record takes: the computed rows (sweeps; bitsim run when its
     * first replay kept them) and the replay streamed into the run (bitsim run of a longer
     * run), each read back against the naive loop. */
    replay_result streamed;
    replay_job job = {.t = &t, .a = &a, .r = &streamed};
    const struct {
        replay_source_fn walk;
        const void *src;
    } sources[] = {{replay_result_walk, &r}, {replay_job_walk, &job}};
    for (size_t k = 0; k < sizeof sources / sizeof sources[0]; k++) {
        int64_t id = 0;
        cr_assert_eq(store_record(s, &info, sources[k].walk, sources[k].src, 0.5, &id, &e), 0,
                     "%s", e.msg);
        cr_assert_gt(id, 0);
        sqlite3 *db = store_handle(s);
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM costs WHERE run_id = %lld", (long long)id);
        cr_expect_eq((size_t)query_double(db, sql), r.n_rows, "source %zu", k);
        /* Totals read back equal the naive loop's layer sums plus the overhead rows' energy. */
        snprintf(sql, sizeof sql, "SELECT madds FROM run_totals WHERE run_id = %lld", (long long)id);
        cr_expect_float_eq(query_double(db, sql), madds, 1e-9 * madds, "source %zu", k);
        snprintf(sql, sizeof sql, "SELECT energy_pj FROM run_totals WHERE run_id = %lld",
                 (long long)id);
        cr_expect_float_eq(query_double(db, sql), energy + overhead_energy, 1e-9 * energy,
                           "source %zu", k);
        snprintf(sql, sizeof sql, "SELECT smaq_storage_benefit FROM run_totals WHERE run_id = %lld",
                 (long long)id);
        cr_expect(isnan(query_double(db, sql)), "no split storage: SmaQ ratio is NULL");
        int64_t found = 0;
        cr_expect_eq(store_find_run(s, &info, &found, &e), 0);
        cr_expect_eq(found, id, "the same inputs are recognised (the latest run)");
    }
    cr_expect_null(streamed.rows, "a streamed replay keeps no rows");
    /* replay_run_upto keeps a run of at most max rows whole (bitsim run stores those) */
    replay_result upto;
    cr_assert_eq(replay_run_upto(&t, &a, NULL, r.n_rows, &upto, &e), 0, "%s", e.msg);
    cr_assert_not_null(upto.rows);
    cr_expect_eq(upto.n_rows, r.n_rows);
    cr_expect(memcmp(upto.rows, r.rows, r.n_rows * sizeof *r.rows) == 0, "the same rows");
    replay_result_free(&upto);
    cr_assert_eq(replay_run_upto(&t, &a, NULL, r.n_rows - 1, &upto, &e), 0, "%s", e.msg);
    cr_expect_null(upto.rows, "one row more than kept: none");
    cr_expect_eq(upto.n_rows, r.n_rows);
    store_close(s);
    replay_result_free(&r);
    arch_free(&a);
    trace_free(&t);
    remove_temp(dir);
}

static int run_cmd(const char *const *args)
{
    char *argv[16];
    int argc = 0;
    for (; args[argc]; argc++)
        argv[argc] = (char *)args[argc];
    argv[argc] = NULL;
    return cmd_run(argc, argv);
}

Test(replay, bitsim_run_skips_identical_reruns)
{
    char dir[64], trace_path[128], db_path[128];
    temp_inputs(dir, trace_path, db_path);
    const char *base[] = {"run", "--trace", trace_path, "--arch", "bitfusion", "--db", db_path,
                          "--quiet", NULL};
    cr_assert_eq(run_cmd(base), 0);
    cr_assert_eq(run_cmd(base), 0, "an identical rerun succeeds without storing");
    const char *force[] = {"run", "--trace", trace_path, "--arch", "bitfusion", "--db", db_path,
                           "--quiet", "--force", NULL};
    cr_assert_eq(run_cmd(force), 0);
    const char *exact[] = {"run", "--trace", trace_path, "--arch", "bitfusion", "--db", db_path,
                           "--quiet", "--exact-density", "--label", "exact", NULL};
    cr_assert_eq(run_cmd(exact), 0);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    cr_expect_eq(query_double(db, "SELECT count(*) FROM runs WHERE status = 'complete'"), 3,
                 "first run, forced rerun, exact-density run");
    cr_expect_eq(query_double(db, "SELECT count(*) FROM runs WHERE label = 'exact'"), 1);
    sqlite3_close(db);
    remove_temp(dir);
}

Test(replay, bitsim_run_rejects_bad_input_and_usage)
{
    char dir[64], trace_path[128], db_path[128];
    temp_inputs(dir, trace_path, db_path);
    const char *none[] = {"run", NULL};
    cr_expect_eq(run_cmd(none), BS_EUSAGE);
    const char *missing[] = {"run", "--trace", "/nonexistent.trace", "--arch", "bitfusion",
                             "--db", db_path, "--quiet", NULL};
    cr_expect_eq(run_cmd(missing), BS_EINPUT);
    const char *bad_arch[] = {"run", "--trace", trace_path, "--arch", "no-such-arch", "--db",
                              db_path, "--quiet", NULL};
    cr_expect_eq(run_cmd(bad_arch), BS_EINPUT);
    const char *stray[] = {"run", "--trace", trace_path, "--arch", "bitfusion", "extra", NULL};
    cr_expect_eq(run_cmd(stray), BS_EUSAGE);
    char not_db[160];
    snprintf(not_db, sizeof not_db, "%s/not.db", dir);
    write_file(not_db, "this is not a database, and it must stay that way\n");
    const char *bad_db[] = {"run", "--trace", trace_path, "--arch", "bitfusion", "--db", not_db,
                            "--quiet", NULL};
    cr_expect_eq(run_cmd(bad_db), BS_EINPUT);
    remove_temp(dir);
}

Test(replay, a_layer_the_cost_model_rejects_is_named)
{
    /* An arch whose 1-byte activation buffer holds no tile: cost_eval refuses the first MAC
     * layer, and the error must name the layer, the pass and the iterations, and nothing may
     * be returned. */
    static const char tiny[] =
        "[arch]\nfamily = bitfusion\nfreq_mhz = 500\n[array]\nrows = 16\ncols = 32\npmax = 8\n"
        "pmin = 2\n[buffers]\nwbuf_bytes = 65536\nabuf_bytes = 1\nobuf_bytes = 16384\n"
        "abuf_read_pj_per_bit = 1\nabuf_write_pj_per_bit = 1\n[dram]\nbits_per_cycle = 192\n"
        "pj_per_bit = 15\n[energy]\ncore_pj_per_cycle = 1\n";
    trace t;
    fixture_trace(&t, small_model, small_trace);
    arch a;
    bs_error e;
    err_clear(&e);
    cr_assert_eq(arch_parse_buffer(&a, "tiny.ini", tiny, strlen(tiny), &e), 0, "%s", e.msg);
    replay_result r;
    err_clear(&e);
    cr_expect_eq(replay_run(&t, &a, NULL, &r, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "layer c1, FWD, iterations 0..2") != NULL, "%s", e.msg);
    cr_expect_null(r.rows);
    arch_free(&a);
    trace_free(&t);
}

/* ---- streaming (issue 13 D9) ------------------------------------------------------------ */

/* Counts the rows replay_each hands out and checks they come in the costs table's key order
 * (epoch, then layer with the overhead -1 first, then pass name). */
typedef struct row_count {
    uint64_t n;
    int64_t last_epoch, last_layer;
    char last_pass[16];
    bool ordered;
} row_count;

static int count_row(const replay_row *row, void *ctx, bs_error *e)
{
    (void)e;
    row_count *c = ctx;
    int key = row->epoch != c->last_epoch ? (row->epoch > c->last_epoch ? 1 : -1)
              : row->layer != c->last_layer ? (row->layer > c->last_layer ? 1 : -1)
                                            : strcmp(row->pass, c->last_pass);
    c->ordered = c->ordered && (c->n == 0 || key > 0);
    c->last_epoch = row->epoch;
    c->last_layer = row->layer;
    snprintf(c->last_pass, sizeof c->last_pass, "%s", row->pass);
    c->n++;
    return 0;
}

/* A run's memory must not grow with its length: ResNet-20 x 10^5 epochs needed 8.3 GB when
 * every row was kept. Here 200,000 epochs of the small model replay under an address-space
 * limit of 256 MiB, which the kept rows alone would pass (22 rows an epoch at ~390 bytes:
 * 1.7 GB). Rows per epoch: the overhead, c1 3 (no BWD_DATA: first MAC layer), n1 4, r1 2,
 * c2 4, a1 2, p1 2, fc 4. ASan reserves terabytes of shadow memory: no limit there. */
Test(replay, memory_does_not_grow_with_the_run_length, .timeout = 60)
{
    static const char long_trace[] = "bitsim-trace 1\nmodel small\nbatch 4\niters_per_epoch 2\n"
                                     "epochs 200000\nscheme test\n"
                                     "from 0 c1,c2 W=int4 A=int4 G=int8\n"
                                     "overhead 0:400000 ops=10 bits=32 label=kl\n"
                                     "from 3 c1 W=int8\nend\n";
    trace t;
    arch a;
    load_inputs(&t, &a, small_model, long_trace, "bitfusion");
#ifndef __SANITIZE_ADDRESS__
    struct rlimit lim = {256u << 20, 256u << 20};
    cr_assert_eq(setrlimit(RLIMIT_AS, &lim), 0);
#endif
    row_count c = {.ordered = true};
    replay_result r;
    bs_error e;
    err_clear(&e);
    cr_assert_eq(replay_each(&t, &a, NULL, count_row, &c, &r, &e), 0, "%s", e.msg);
    cr_expect(c.ordered, "rows out of key order");
    cr_expect_eq(c.n, r.n_rows);
    /* the same under the limit when at most 1000 rows are kept (bitsim run's first replay) */
    replay_result capped;
    cr_assert_eq(replay_run_upto(&t, &a, NULL, 1000, &capped, &e), 0, "%s", e.msg);
    cr_expect_null(capped.rows, "more rows than kept: none");
    cr_expect_eq(capped.n_rows, r.n_rows);
    cr_expect(memcmp(&capped.totals, &r.totals, sizeof r.totals) == 0, "the same totals");
    replay_result one;
    static const char one_epoch[] = "bitsim-trace 1\nmodel small\nbatch 4\niters_per_epoch 2\n"
                                    "epochs 1\nscheme test\nfrom 0 c1,c2 W=int4 A=int4 G=int8\n"
                                    "overhead 0:2 ops=10 bits=32 label=kl\nend\n";
    trace t1;
    fixture_trace(&t1, small_model, one_epoch);
    cr_assert_eq(replay_run(&t1, &a, NULL, &one, &e), 0, "%s", e.msg);
    cr_expect_eq(c.n, 200000 * one.n_rows, "%llu rows, %zu per epoch", (unsigned long long)c.n,
                 one.n_rows);
    cr_expect_eq(one.n_rows, 22, "%zu rows", one.n_rows);
    replay_result_free(&one);
    trace_free(&t1);
    trace_free(&t);
    arch_free(&a);
}
