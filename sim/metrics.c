/* metrics.c — the papers' own cost metrics (see metrics.h), computed from a trace's segments.
 *
 * Every metric is a sum over (layer, segment) of segment length x a per-iteration value, so it
 * costs O(segments), never O(iterations) — the same argument as replay's.
 *
 * CPT / FracTrain training-cost ratio. CPT's public code (GATECH-EIC/CPT, cpt_cifar/train.py,
 * the loop of run_training; FracTrain's fractrain_cifar/train_pfq.py has the same four lines)
 * logs per iteration
 *     fw = b*b/32/32, eb = b*g/32/32, gc = eb, cr = (fw + eb + gc)/3
 * and reports the average of cr over all iterations ("Training FLOPS ratio"); b = num_bits is
 * the weight/activation width of every QConv2d, g = num_grad_bits the gradient width, set by
 * cyclic_adjust_precision (CPT) or adaptive_adjust_precision (PFQ) before the iteration runs.
 * The formula is one global number per iteration: it does not look at layers at all, so it
 * covers exactly the layers b and g apply to, the QConv2d convs (the first conv and the 1x1
 * downsample convs included); the final nn.Linear stays fp32 and is NOT in the formula (it
 * does not weigh the fp32 fc at 1). bitsim generalises to per-layer, per-operand widths: for
 * each MAC layer that is quantized somewhere in the run (any of W, A, G not fp32 in some
 * segment) the three products become the operand pairs of the passes, fw = b_A b_W (FWD),
 * eb = b_G b_W (BWD_DATA), gc = b_A b_G (BWD_WEIGHT), and layers are weighted by their
 * forward MAdds. With one global width (CPT, FracTrain) the weighting cancels and the value
 * is exactly the code's (checked: test_metrics.c, cpt_ratio_by_hand).
 * A run with no quantized layer (fp32) averages over all MAC layers and gives 1.
 *
 * AdaPT speedup: exactly AdaPT's own figure, su_own of lorenz0890/AdaPT utils/analytics.py
 * analyse() (printed by run_analysitcs as "Training Speedup"). For every logged step i and
 * every logged layer j it appends
 *     madd_costs_q       = non_zeros x (madds x qwl + overhead)
 *     madd_costs_float32 = madds x 32
 * (madds the layer's forward MAdds, qwl its weights' word length, non_zeros = 1 - sp, the
 * weight sparsity, overhead the MARViN precision-switching work of marvin_step() x 32) and
 * returns su_own = 2 sum(float32) / (sum(q) + sum(float32)): fp32 training is forward +
 * backward at 32 bits, AdaPT's is its quantized forward + a backward counted at fp32 cost.
 * bitsim evaluates that formula on the trace: per iteration and MAC layer, madds = forward
 * MAdds x batch, qwl = the word length of W (fx<WL,FL> -> WL, fp32 -> 32), non_zeros = d_W;
 * the scheme's overhead records (ops x bits, summed over their iterations) stand for
 * AdaPT's overhead term and are added to sum(q) as they are (AdaPT multiplies its overhead
 * by the layer's non_zeros; a bitsim overhead record is already the work done).
 * Deviations, all because they are artefacts of AdaPT's script rather than of its model:
 * (1) MAdds come from bitsim's model, not from analyse()'s conv2d()/linear() helpers
 * (conv2d counts 2 x H_in x W_in x (C_in k + 1) x C_out x C_in, i.e. input size and an
 * extra C_in factor, and analyse() calls it twice per QConv2d_FP because the branch is
 * duplicated); (2) only MAC layers enter: analyse() also logs batch-norm and pooling
 * layers with qwl, which the adapt generator leaves fp32 (they would enter at Q = F);
 * (3) units: analyse() sets ONE sample's forward MAdds of a logged step against the
 * overhead 32 x marvin_step x LOGGING.INTERVAL / (lb x ACCUMULATION_STEPS), i.e. the MARViN
 * work of INTERVAL iterations, so its overhead weighs batch x INTERVAL times more than the
 * work it is compared with; bitsim counts both as work done in the run (forward MAdds x
 * batch per iteration, the generator's marvin_step ops once per check).
 * The hardware view of all three MAC passes at their own operand widths and densities is
 * run_totals.wl_madds (replay.c), next to the cycles and energy of the arch.
 *
 * Training-memory footprint, bits, by tensor class, at the iteration where the total is
 * largest (capacity is about the peak). Per layer, with batch B (SGD with momentum, the
 * optimizer of every scheme bitsim ships):
 *     weights        params x bits(W)        feature maps   B x in_elems  x bits(A)
 *     gradient maps  B x out_elems x bits(G) weight grads   params x bits(WG)
 *     optimizer      params x bits(U)        (the momentum buffer, kept at the update format)
 * bits() is the format's storage width (a bfp shared exponent counted per element) or, for
 * split storage, SmaQ's header + inlier + outlier bits. Every layer keeps its input for its
 * backward pass, so feature maps count every layer's input. The peak comes from a sweep over
 * segment starts (one event per segment, sorted), so it is exact and O(S log S).
 *
 * SmaQ storage ratio (Shoghi et al., IEEE CAL 2021, Eq. 4): for each stored tensor of N
 * elements, (64 + 6 N_inlier + 8 N_outlier) / (32 N), averaged over tensors. bitsim takes the
 * header and widths from the trace's split-storage fields (SmaQ: 64, 6, 8), N_inlier =
 * inlier_frac x N, averages over every (layer, tensor class) stored split and over the
 * iterations it is so stored, and gives NaN when the run stores nothing split (not SmaQ).
 * The value is SmaQ's storage over fp32's: its reciprocal is the memory reduction.
 */
#include "metrics.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "checked.h"

/* Tensor classes of the memory footprint, in replay_totals order. */
enum { MEM_WEIGHTS, MEM_FMAPS, MEM_GRADS, MEM_WGRADS, MEM_OPTIM, MEM_COUNT };

void metrics_pass_operands(const model_layer *l, train_pass p, const trace_decision *d,
                           metrics_operands *o)
{
    /* Which tensor is x and y of each pass, as (class, density index or -1). The weight-
     * gradient pass reads the gradient as GW (SBM's gradient bifurcation, trace.h), whose
     * density is G's: the two are copies of one tensor. */
    static const struct { int x, dx, y, dy; } mac[PASS_COUNT] = {
        [PASS_FWD] = {TENSOR_A, TENSOR_A, TENSOR_W, TENSOR_W},
        [PASS_BWD_DATA] = {TENSOR_G, TENSOR_G, TENSOR_W, TENSOR_W},
        [PASS_BWD_WEIGHT] = {TENSOR_A, TENSOR_A, TENSOR_GW, TENSOR_G},
        [PASS_UPDATE] = {TENSOR_WG, -1, TENSOR_U, -1},
    };
    static const struct { int x, dx; } unary[PASS_COUNT] = {
        [PASS_FWD] = {TENSOR_A, TENSOR_A},
        [PASS_BWD_DATA] = {TENSOR_G, TENSOR_G},
        [PASS_BWD_WEIGHT] = {TENSOR_GW, TENSOR_G},
    };
    memset(o, 0, sizeof *o);
    if (model_layer_is_mac(l) || p == PASS_UPDATE) {
        o->x = d->fmt[mac[p].x];
        o->y = d->fmt[mac[p].y];
        o->density_x = mac[p].dx >= 0 ? d->density[mac[p].dx] : 1.0;
        o->density_y = mac[p].dy >= 0 ? d->density[mac[p].dy] : 1.0;
    } else {
        o->x = d->fmt[unary[p].x];
        o->density_x = d->density[unary[p].dx];
        o->density_y = 1.0;     /* y stays zeroed: bits 0 = unary */
    }
}

unsigned metrics_word_bits(const num_format *f)
{
    return f->bits;
}

double metrics_wl_madds(uint64_t madds, const metrics_operands *o)
{
    unsigned wx = metrics_word_bits(&o->x), wy = metrics_word_bits(&o->y);
    return (double)madds * (double)(wx > wy ? wx : wy) * o->density_x * o->density_y;
}

/* CPT's cost of one layer for one iteration relative to fp32, one term per MAC pass:
 * (b_A b_W + b_G b_W + b_A b_GW) / 3 / 32^2  (= (b_fw^2 + 2 b_fw b_grad)/3/32^2 when
 * b_A = b_W = b_fw and b_G = b_GW = b_grad; GW is the gradient as the weight-gradient pass
 * reads it, = G unless a trace bifurcates it as SBM does). */
static double cpt_layer_ratio(unsigned bits_a, unsigned bits_w, unsigned bits_g,
                              unsigned bits_gw)
{
    double fw = (double)bits_a * bits_w, eb = (double)bits_g * bits_w,
           gc = (double)bits_a * bits_gw;
    return (fw + eb + gc) / 3.0 / (32.0 * 32.0);
}

/* Stored bits of one tensor of n elements in format f, or split per s (SmaQ) when
 * s->inlier_bits != 0: header + n (inlier_frac inlier_bits + (1 - inlier_frac) outlier_bits). */
static double tensor_bits(uint64_t n, const num_format *f, const trace_storage *s)
{
    if (n == 0)
        return 0;
    if (s->inlier_bits == 0)
        return (double)n * numfmt_storage_bits(f);
    return s->header_bits + (double)n * (s->inlier_frac * s->inlier_bits +
                                         (1.0 - s->inlier_frac) * s->outlier_bits);
}

/* Per-class element counts of one layer (per iteration, whole batch) and the class's tensor. */
static void layer_mem_elems(const model_layer *l, uint64_t batch, uint64_t n[MEM_COUNT])
{
    n[MEM_WEIGHTS] = l->params;
    n[MEM_FMAPS] = batch * l->in_elems;     /* overflow ruled out by metrics_compute */
    n[MEM_GRADS] = batch * l->out_elems;
    n[MEM_WGRADS] = l->params;
    n[MEM_OPTIM] = l->params;
}

static const int mem_tensor[MEM_COUNT] = {TENSOR_W, TENSOR_A, TENSOR_G, TENSOR_WG, TENSOR_U};

static void layer_mem_bits(const model_layer *l, uint64_t batch, const trace_decision *d,
                           double bits[MEM_COUNT])
{
    uint64_t n[MEM_COUNT];
    layer_mem_elems(l, batch, n);
    for (int c = 0; c < MEM_COUNT; c++)
        bits[c] = tensor_bits(n[c], &d->fmt[mem_tensor[c]], &d->store[mem_tensor[c]]);
    /* A bifurcated gradient (SBM) is kept twice: GW, the weight-gradient copy, beside G. */
    if (!numfmt_equal(&d->fmt[TENSOR_GW], &d->fmt[TENSOR_G]))
        bits[MEM_GRADS] += tensor_bits(n[MEM_GRADS], &d->fmt[TENSOR_GW],
                                               &(trace_storage){0});   /* never split */
}

/* Layers ordered by the first iteration of their next segment: a binary min-heap of
 * (first, layer) entries (ties by layer, so the order is deterministic). */
typedef struct next_entry {
    uint64_t first;
    uint32_t layer;
} next_entry;

static bool entry_less(const next_entry *a, const next_entry *b)
{
    return a->first < b->first || (a->first == b->first && a->layer < b->layer);
}

static void heap_down(next_entry *h, size_t n, size_t i)
{
    next_entry x = h[i];
    for (;;) {
        size_t l = 2 * i + 1, m = l;
        if (l >= n)
            break;
        if (l + 1 < n && entry_less(&h[l + 1], &h[l]))
            m = l + 1;
        if (!entry_less(&h[m], &x))
            break;
        h[i] = h[m];
        i = m;
    }
    h[i] = x;
}

/* Peak of the summed footprint over iterations; per-class values at that peak. The
 * footprint changes only where some layer's segment starts, so the layers' segment lists
 * (each sorted by iteration) are merged through a heap: O(segments x log layers) time and
 * O(layers) memory. (It was an event per segment, sorted: at 10^5 steps x 289 layers that
 * array and qsort's copy of it were 2.8 GB.) */
static int memory_peak(const trace *tr, double peak[MEM_COUNT], bs_error *e)
{
    uint32_t nl = tr->model.n_layers;
    next_entry *h = malloc((nl ? nl : 1) * sizeof *h);
    size_t *cursor = calloc(nl ? nl : 1, sizeof *cursor), n = 0;
    double (*cur)[MEM_COUNT] = calloc(nl ? nl : 1, sizeof *cur);
    if (!h || !cursor || !cur) {
        free(h);
        free(cursor);
        free(cur);
        return err_set(e, BS_EINTERNAL, "out of memory (memory footprint)");
    }
    for (uint32_t i = 0; i < nl; i++) {
        size_t ns;
        const trace_segment *s = trace_layer_segments(tr, i, &ns);
        if (ns)
            h[n++] = (next_entry){s[0].first, i};
    }
    for (size_t i = n; i-- > 0;)
        heap_down(h, n, i);
    double run[MEM_COUNT] = {0}, best = -1;
    memset(peak, 0, MEM_COUNT * sizeof *peak);
    while (n) {
        uint64_t it = h[0].first;
        while (n && h[0].first == it) {
            uint32_t i = h[0].layer;
            size_t ns;
            const trace_segment *s = trace_layer_segments(tr, i, &ns);
            double now[MEM_COUNT];
            layer_mem_bits(&tr->model.layers[i], tr->batch, s[cursor[i]].d, now);
            for (int c = 0; c < MEM_COUNT; c++) {
                run[c] += now[c] - cur[i][c];
                cur[i][c] = now[c];
            }
            if (++cursor[i] == ns)
                h[0] = h[--n];
            else
                h[0].first = s[cursor[i]].first;
            heap_down(h, n, 0);
        }
        double total = 0;
        for (int c = 0; c < MEM_COUNT; c++)
            total += run[c];
        if (total > best) {
            best = total;
            memcpy(peak, run, sizeof run);
        }
    }
    free(h);
    free(cursor);
    free(cur);
    return BS_OK;
}

static bool is_fp32(const num_format *f)
{
    num_format fp32 = numfmt_fp32();
    return numfmt_equal(f, &fp32);
}

/* A MAC layer enters CPT's formula when some segment quantizes W, A or G. */
static bool layer_quantized(const trace *tr, uint32_t i)
{
    size_t ns;
    const trace_segment *s = trace_layer_segments(tr, i, &ns);
    for (size_t j = 0; j < ns; j++)
        if (!is_fp32(&s[j].d->fmt[TENSOR_W]) || !is_fp32(&s[j].d->fmt[TENSOR_A]) ||
            !is_fp32(&s[j].d->fmt[TENSOR_G]) || !is_fp32(&s[j].d->fmt[TENSOR_GW]))
            return true;
    return false;
}

static double cpt_ratio(const trace *tr)
{
    const model *m = &tr->model;
    bool any = false;
    for (uint32_t i = 0; i < m->n_layers && !any; i++)
        any = model_layer_is_mac(&m->layers[i]) && layer_quantized(tr, i);
    double num = 0, weight = 0;
    for (uint32_t i = 0; i < m->n_layers; i++) {
        const model_layer *l = &m->layers[i];
        if (!model_layer_is_mac(l) || (any && !layer_quantized(tr, i)))
            continue;
        size_t ns;
        const trace_segment *s = trace_layer_segments(tr, i, &ns);
        for (size_t j = 0; j < ns; j++) {
            const trace_decision *d = s[j].d;
            num += (double)(s[j].end - s[j].first) * (double)l->fwd_madds *
                   cpt_layer_ratio(metrics_word_bits(&d->fmt[TENSOR_A]),
                                           metrics_word_bits(&d->fmt[TENSOR_W]),
                                           metrics_word_bits(&d->fmt[TENSOR_G]),
                                           metrics_word_bits(&d->fmt[TENSOR_GW]));
        }
        weight += (double)l->fwd_madds;
    }
    return weight > 0 && tr->total_iters ? num / (weight * (double)tr->total_iters) : NAN;
}

/* AdaPT's su_own (see the top comment): forward MAdds of every MAC layer and iteration,
 * F = MAdds x 32, Q = d_W x MAdds x word(W), plus the trace's overhead bits in Q. */
static int adapt_speedup(const trace *tr, double *out, bs_error *e)
{
    const model *m = &tr->model;
    double fp32_cost = 0, q_cost = 0;
    for (uint32_t i = 0; i < m->n_layers; i++) {
        const model_layer *l = &m->layers[i];
        if (!model_layer_is_mac(l))
            continue;
        uint64_t madds;
        if (!model_pass_madds(l, PASS_FWD, tr->batch, &madds))
            return err_set(e, BS_EINPUT, "%s: layer %s: MAdds overflow", m->source, l->name);
        size_t ns;
        const trace_segment *s = trace_layer_segments(tr, i, &ns);
        for (size_t j = 0; j < ns; j++) {
            double len = (double)(s[j].end - s[j].first);
            const trace_decision *d = s[j].d;
            fp32_cost += len * (double)madds * 32.0;
            q_cost += len * d->density[TENSOR_W] * (double)madds *
                      metrics_word_bits(&d->fmt[TENSOR_W]);
        }
    }
    for (size_t j = 0; j < tr->n_overheads; j++) {
        const trace_overhead *ov = &tr->overheads[j];
        q_cost += (double)(ov->end - ov->first) * (double)ov->ops * ov->bits;
    }
    *out = q_cost + fp32_cost > 0 ? 2.0 * fp32_cost / (q_cost + fp32_cost) : NAN;
    return BS_OK;
}

static double smaq_ratio(const trace *tr)
{
    double sum = 0, weight = 0;
    for (uint32_t i = 0; i < tr->model.n_layers; i++) {
        const model_layer *l = &tr->model.layers[i];
        uint64_t n[MEM_COUNT];
        layer_mem_elems(l, tr->batch, n);
        size_t ns;
        const trace_segment *s = trace_layer_segments(tr, i, &ns);
        for (size_t j = 0; j < ns; j++)
            for (int c = 0; c < MEM_COUNT; c++) {
                const trace_storage *st = &s[j].d->store[mem_tensor[c]];
                if (st->inlier_bits == 0 || n[c] == 0)
                    continue;
                double len = (double)(s[j].end - s[j].first);
                sum += len * tensor_bits(n[c], &s[j].d->fmt[mem_tensor[c]], st) /
                       (32.0 * (double)n[c]);
                weight += len;
            }
    }
    return weight > 0 ? sum / weight : NAN;
}

int metrics_compute(const trace *tr, metrics_result *t, bs_error *e)
{
    for (uint32_t i = 0; i < tr->model.n_layers; i++) {
        const model_layer *l = &tr->model.layers[i];
        uint64_t x;
        if (!checked_mul(tr->batch, l->in_elems, &x) || !checked_mul(tr->batch, l->out_elems, &x))
            return err_set(e, BS_EINPUT, "%s: layer %s: feature-map size overflows",
                           tr->model.source, l->name);
    }
    double peak[MEM_COUNT] = {0};
    int rc = memory_peak(tr, peak, e);
    if (rc)
        return rc;
    t->mem_weights_bits = peak[MEM_WEIGHTS];
    t->mem_fmaps_bits = peak[MEM_FMAPS];
    t->mem_grads_bits = peak[MEM_GRADS];
    t->mem_wgrads_bits = peak[MEM_WGRADS];
    t->mem_optim_bits = peak[MEM_OPTIM];
    t->cpt_cost_ratio = cpt_ratio(tr);
    t->smaq_storage_benefit = smaq_ratio(tr);
    return adapt_speedup(tr, &t->adapt_speedup, e);
}
