/* cost.c — one layer-pass on one accelerator: MAdds, BitOPs, cycles, traffic, energy.
 *
 * HOW A PASS BECOMES A LOOP NEST. Each MAC pass is a product the array runs as a convolution
 * (tiling.c) whose "activation" buffer holds the x operand and "weight" buffer the y operand:
 *   FWD         conv layers: the convolution itself (im2col for the network's first MAC
 *               layer, as the BitFusion simulator lowers a first layer); linear/matmul: a
 *               1x1 "fc" nest, batch B*m rows, reduction k, outputs n.
 *   BWD_DATA    dX = G . W^T as a GEMM: batch B*m (output positions), reduction n (output
 *               channels), outputs k (= in channels x kernel: the col2im scatter-add is not
 *               charged separately). Skipped (all zero) for the first MAC layer. For a conv
 *               of stride 1 whose output is as large as its input (ResNet's 3x3 convs) dX is
 *               itself a convolution — G zero-padded, convolved with W rotated by 180
 *               degrees, in and out channels swapped, the same kernel and B*M MAdds — and the
 *               array may run it so: G streamed once as input windows and dX written once,
 *               where the GEMM writes and re-reads the column form of dX (kh*kw times dX's
 *               size, at partial-sum width). Like any compiler for the array, cost_eval takes
 *               the better of the two lowerings (least cycles, then energy). Strided convs
 *               keep the GEMM (their transposed convolution would multiply inserted zeros).
 *   BWD_WEIGHT  dW = A^T . G as a GEMM: reduction over B*m (batch and space), outputs n,
 *               and k independent output rows in the batch loop.
 * (m, k, n, count: model.h layer_gemm; groups and heads run one after another, so a grouped
 * layer costs count times one group.) All three keep MAdds = B*M (DESIGN.md).
 * UPDATE and non-MAC layers (and the bias adds of MAC layers, model.h elem ops) are vector
 * work: E elementwise ops (model.h's count) on vector_lanes lanes, with compute and DRAM
 * transfer overlapped: total = max(ceil(E / lanes), ceil(DRAM bits / interface bits)).
 * UPDATE reads WG (x) and master W (y) and writes W at y's width, one element per op. Other
 * vector work moves whole tensors, not one read and one write per op (a batch norm's four
 * ops per element do not each round-trip through DRAM; the tensors do not fit on chip, so
 * each sweep over one is a DRAM pass), at x's width (A in FWD, G backward; a saved
 * activation read backward is taken at the same width). Sweeps per pass (sweeps_of), of
 * tensors the size of the layer's input (in) or output (out):
 *   norm     FWD: x twice (statistics, then normalise), write y; BWD_DATA: G and x twice
 *            each (the two reductions, then dX), write dX; BWD_WEIGHT: G and x (dgamma,
 *            dbeta; the 2C results are not counted)
 *   pool     FWD: x, write y; BWD_DATA: G, write dX
 *   act      FWD: x, write y; BWD_DATA: G and x (the mask), write dX
 *   add      FWD: both inputs, write y; BWD_DATA: both gradients, write their sum
 *   softmax  FWD: x twice (max and sum, then divide), write y; BWD_DATA: y and G, write dX
 *   conv/linear bias: FWD fused into the output stage (compute only); BWD_WEIGHT reads G
 *            once (the bias-gradient reduction).
 *
 * THROUGHPUT FACTOR (perf_factor). BitFusion's spatial fusion (Sharma et al., ISCA 2018, the
 * Fusion Unit of 16 BitBricks; hsharma35/bitfusion accelerator.py get_perf_factor): an operand
 * of b bits with pmin <= b <= pmax occupies ceil-to-fused-width bricks, and a fusion unit does
 * floor(pmax / max(b_x, pmin)) * floor(pmax / max(b_y, pmin)) MACs per cycle. Widths below
 * pmin run as pmin (speed only; traffic and energy use the real width); odd widths floor (with
 * pmax 8, 3 bits runs as 4, 5 as 8). ABOVE pmax the public simulator has no mode (its (16,16)
 * rows fail: perf_factor divides by zero), and no source we could read describes one: the
 * authors' artifact page (http://act-lab.org/artifacts/bitfusion/, "Bit-Level Composable
 * Architecture") describes fusion only up to "a single F-PE that can operate on 8-bit
 * operands", and the paper's own text on wider operands could not be retrieved. So the rule
 * above pmax is BITSIM'S OWN (DESIGN.md: "bit-widths above pmax take several cycles"), not a
 * citation: an operand wider than pmax is split into ceil(b / pmax) pmax-bit slices
 * (schoolbook partial products, each shifted and accumulated), a product takes one cycle per
 * pair of slices, so
 *   perf_factor = 1 / (ceil(b_x / pmax) * ceil(b_y / pmax))   (16x16 on pmax 8: 1/4)
 * while the other operand, if narrow, still occupies a whole fusion unit. The reduction still
 * uses all rows; each tile's compute cycles are multiplied by the slice pairs.
 * FLOATS: in arch fp_mode = significand (default) the multiplier sees the significand,
 * mantissa plus hidden bit = bits - exp_bits (fp32 24, fp16 11, bf16 8, fp8 e4m3 4, e5m2 3),
 * as an integer; exponent addition and alignment are taken as separate narrow logic (the
 * usual split of a floating multiplier; bitsim's assumption, stated in arch/FORMAT.md).
 * fp_mode = native (systolic-fp32): any format up to pmax bits is one MAC. Block floating
 * point multiplies its per-element mantissas (bits) and adds the shared exponent per block.
 * Traffic always counts storage bits (bfp: bits + exp_bits / block).
 *
 * SPARSITY (arch [sparsity] mode): none, x (skip zero x operands: compute x density_x),
 * both (density_x * density_y). [dram] compress: bitmap (1 + d*b bits per element) or rle
 * (max(d, 2^-run_bits) * (b + run bits)), used only where it shrinks the x/y tensors' DRAM
 * traffic; buffers hold decompressed data. Outputs and partial sums are dense. Densities lie
 * in [0, 1]: 0 is an all-zero tensor (a dead ReLU map, a pruned layer); with zero-skipping its
 * compute is 0 (only the pipeline fill and the traffic remain), without it density changes
 * nothing.
 *
 * OUTPUT STAGE (training mode, cost_query.out.bits > 0; cost_conv.out_bits). The reference
 * nest (tiling.c) moves a MAC pass's outputs the way the public simulator's inference model
 * does: at partial-sum width (psum_bits, 32), padded to a multiple of the array's M output
 * columns, filled from DRAM before the reduction and written back after it. In training that
 * makes output traffic the bulk of all energy (ResNet-20 layer1.0.conv1 FWD, batch 128: 134M
 * bits written where its int8 output is 16.8M). A bit-flexible accelerator that trains at
 * those widths stores A, G and WG at their formats, so its output stage (after the output
 * buffer) quantizes results on their way out. This is BITSIM'S OWN rule, not a citation: the
 * public simulator models inference and has no output stage, and the paper's text on one
 * could not be retrieved. In training mode, per output tile of the nest:
 *   - the reduction starts on chip (zero or bias): nothing is read before it;
 *   - while the reduction is incomplete the partial sums stay in the output buffer at
 *     psum_bits; only if the tiling splits the reduction (IC) loop outside a demoted output
 *     block do they spill, and then they move exactly as the reference moves them: each
 *     extra visit of an output tile is one write and one read back at psum width, padding
 *     included (the promotion rule's traffic beyond one visit per output tile);
 *   - each finished output element is written once, at the consumer's storage width, and the
 *     padding columns are not written: B x OW x OH x OC elements x out width;
 *   - the pipeline drain is the last resident block at out width without its padding.
 * Out width per pass = the format the result is stored in: FWD the layer's OWN activation
 * format A (the trace's A of this layer, not of the layer that reads the output: the layer's
 * own decision is in the same segment, so replay's segments and memo stay per layer, and in
 * the shipped schemes a quantized layer's consumers that are MAC layers share its A; a
 * consumer that the scheme leaves in fp32, e.g. a norm under layers=mac, reads it at fp32 in
 * its own pass — the output stage is taken to quantize to the producing layer's width);
 * BWD_DATA G (dX is the previous layer's gradient); BWD_WEIGHT WG. One exception: a conv's
 * BWD_DATA lowered as the GEMM G . W^T produces the column form of dX (kh*kw partial sums per
 * input element, scatter-added afterwards), so for kh*kw > 1 those outputs are partial sums
 * and are written at psum_bits (once, unpadded); the direct transposed convolution writes dX
 * itself at G's width. The GPU roofline writes its outputs at the out width (32 in the
 * reference). out.bits == 0 keeps the reference behaviour everywhere (cost_conv_eval and the
 * rows of bitfusion_layers.csv).
 *
 * ENERGY: core per busy cycle, buffers and DRAM per bit (tiling.c), leakage = leak_mw * time.
 * The core energy per busy cycle is the pass's fusion mode's (arch core_pj_per_cycle_AxW: the
 * widths each operand occupies in a fusion unit, pmax / lanes, rounded up to 2/4/8/16;
 * temporal slices above pmax run in the pmax x pmax mode), which defaults to
 * core_pj_per_cycle for every mode — the public simulator's model, one energy per busy cycle
 * whatever the precision (its rows are checked with it). Stating the modes lets an arch
 * charge e.g. the paper's per-mode synthesis figures.
 * GPU family: a roofline, time = max(2*MAdds / peak(format class), bytes / bandwidth) with
 * each operand and the fp32 output moved once (for convs the tensors themselves — A, G, W,
 * dX, dW — never im2col or column copies); energy = ops * pJ/op + DRAM bits * pJ/bit.
 */
#include "cost.h"

#include <math.h>
#include <string.h>

#include "checked.h"
#include "tiling.h"

/* ---- operand widths ---------------------------------------------------------------------- */

typedef struct lane_use {
    uint32_t lanes;     /* operands per fusion unit side */
    uint32_t slices;    /* temporal slices (> 1 above pmax) */
} lane_use;

static lane_use operand_lanes(const arch *a, uint32_t bits)
{
    uint32_t b = bits < a->pmin ? a->pmin : bits;
    if (b <= a->pmax)
        return (lane_use){a->pmax / b, 1};
    return (lane_use){1, (uint32_t)ceil_div_u64(bits, a->pmax)};
}

double cost_perf_factor(const arch *a, uint32_t bx, uint32_t by)
{
    lane_use x = operand_lanes(a, bx), y = operand_lanes(a, by);
    return (double)x.lanes * y.lanes / ((double)x.slices * y.slices);
}

uint32_t cost_mul_bits(const arch *a, const num_format *f)
{
    if (f->kind == NUM_FP && a->fp_mode == ARCH_FP_SIGNIFICAND && f->bits > f->exp_bits)
        return (uint32_t)(f->bits - f->exp_bits);
    return f->bits;
}

const char *cost_energy_name(cost_energy k)
{
    static const char *const names[COST_E_COUNT] = {
        [COST_E_CORE] = "core", [COST_E_WBUF] = "wbuf", [COST_E_ABUF] = "abuf",
        [COST_E_OBUF] = "obuf", [COST_E_DRAM] = "dram", [COST_E_LEAK] = "leak"};
    return (unsigned)k < COST_E_COUNT ? names[k] : NULL;
}

const char *cost_dataflow_name(int dataflow)
{
    static const char *const names[] = {"input stationary", "output stationary",
                                        "weight stationary"};
    return dataflow >= 0 && dataflow < 3 ? names[dataflow] : "-";
}

/* ---- reference mode: one convolution ----------------------------------------------------- */

void cost_conv_init(cost_conv *c, uint32_t k, uint32_t o, uint32_t s, uint64_t ic, uint64_t oc,
                    uint64_t batch, uint32_t iprec, uint32_t wprec, bool im2col)
{
    *c = (cost_conv){.kh = k, .kw = k, .oh = o, .ow = o, .sh = s, .sw = s, .ic = ic, .oc = oc,
                     .batch = batch, .groups = 1, .x_bits = iprec, .y_bits = wprec,
                     .x_mul_bits = iprec, .y_mul_bits = wprec, .im2col = im2col,
                     .density_x = 1, .density_y = 1};
}

/* A density is a fraction of non-zeros: 0 (an all-zero tensor) through 1. NaN fails. */
static bool density_ok(double d)
{
    return d >= 0 && d <= 1;
}

/* DRAM bits per dense bit of a sparse tensor. rle: one (run, value) entry per non-zero, and at
 * least one per 2^run_bits elements (a run field cannot count more zeros), so an all-zero
 * tensor still costs its run entries. */
static double compress_factor(const arch *a, double bits, double density)
{
    double f = 1;
    if (a->dram_compress == ARCH_COMPRESS_BITMAP) {
        f = (density * bits + 1) / bits;
    } else if (a->dram_compress == ARCH_COMPRESS_RLE) {
        double entries = fmax(density, ldexp(1.0, -(int)a->rle_run_bits));
        f = entries * (bits + a->rle_run_bits) / bits;
    }
    return f < 1 ? f : 1;
}

static double compute_density(const arch *a, double dx, double dy)
{
    static const int uses[ARCH_SPARSE_COUNT][2] = {{0, 0}, {1, 0}, {1, 1}};
    return (uses[a->sparsity][0] ? dx : 1) * (uses[a->sparsity][1] ? dy : 1);
}

static int check_conv(const arch *a, const cost_conv *c, bs_error *e)
{
    if (a->family == ARCH_GPU)
        return err_set(e, BS_EUSAGE, "arch %s: a GPU roofline has no loop nest", a->name);
    if (!c->kh || !c->kw || !c->oh || !c->ow || !c->sh || !c->sw || !c->ic || !c->oc ||
        !c->batch || !c->groups)
        return err_set(e, BS_EINPUT, "cost: every conv dimension must be at least 1");
    if (!(c->x_bits > 0 && c->y_bits > 0) || !c->x_mul_bits || !c->y_mul_bits ||
        c->x_bits > 64 || c->y_bits > 64 || c->x_mul_bits > 64 || c->y_mul_bits > 64)
        return err_set(e, BS_EINPUT, "cost: operand widths must be 1..64 bits");
    if (!density_ok(c->density_x) || !density_ok(c->density_y))
        return err_set(e, BS_EINPUT, "cost: densities must lie in [0, 1]");
    if (!(c->out_bits >= 0 && c->out_bits <= 64))
        return err_set(e, BS_EINPUT, "cost: output width must be 0 (reference) or up to 64 bits");
    /* The nest counts in doubles: exact below 2^53 (every reference row), rounded to 1e-16
     * relative above. Cycle counts must still fit uint64_t: refuse beyond 2^62 / 4096 MACs. */
    double macs = (double)c->kh * c->kw * c->oh * c->ow * (double)c->ic * (double)c->oc *
                  (double)c->batch * (double)c->groups;
    if (macs * 4096 > 0x1p62)
        return err_set(e, BS_EINPUT, "cost: layer too large for exact counts (%.3g MACs)", macs);
    return BS_OK;
}

/* Index of a fusion mode's operand width in arch.core_pj_by_mode: the width one operand
 * occupies in a fusion unit (pmax / lanes; pmax for temporal slices), rounded up to a power
 * of two in 2..16. */
static int core_mode_index(const arch *a, lane_use u)
{
    uint32_t width = a->pmax / u.lanes;
    int i = 0;
    while (i < ARCH_CORE_MODES - 1 && (2u << i) < width)
        i++;
    return i;
}

static void nest_from_conv(const arch *a, const cost_conv *c, tiling_nest *n)
{
    lane_use x = operand_lanes(a, c->x_mul_bits), y = operand_lanes(a, c->y_mul_bits);
    double core_pj = a->core_pj_by_mode[core_mode_index(a, x)][core_mode_index(a, y)];
    *n = (tiling_nest){
        .dim = {(double)c->batch, c->ow, c->oh, (double)c->ic, (double)c->oc},
        .kh = c->kh, .kw = c->kw, .sh = c->sh, .sw = c->sw, .im2col = c->im2col,
        .lanes_in = (double)a->rows * x.lanes * y.lanes,
        .cols = a->cols,
        .passes = (double)x.slices * y.slices,
        .density = compute_density(a, c->density_x, c->density_y),
        .bits = {c->y_bits, c->x_bits, a->psum_bits},
        .dram_factor = {compress_factor(a, c->y_bits, c->density_y),
                        compress_factor(a, c->x_bits, c->density_x), 1},
        .out_bits = c->out_bits,
        .out_elems = (double)c->batch * c->ow * c->oh * (double)c->oc,
        .if_bits = a->dram_bits_per_cycle,
        .core_pj = core_pj,
        .dram_pj = a->dram_pj_per_bit,
    };
    for (int k = 0; k < ARCH_BUF_COUNT; k++) {
        n->cap_bits[k] = (double)a->buf_bytes[k] * 8 / (a->double_buffer ? 2 : 1);
        n->rd_pj[k] = a->buf_read_pj_per_bit[k];
        n->wr_pj[k] = a->buf_write_pj_per_bit[k];
    }
}

static void leak_and_latency(const arch *a, cost_result *r)
{
    r->latency_s = (double)r->total_cycles / a->freq_hz;
    r->energy_pj[COST_E_LEAK] = a->leak_mw * 1e-3 * r->latency_s * 1e12;
    r->energy_total_pj = 0;
    for (int k = 0; k < COST_E_COUNT; k++)
        r->energy_total_pj += r->energy_pj[k];
}

/* Scales one group's stats by the group count into r. */
static void result_from_stats(const arch *a, const cost_conv *c, const tiling_stats *s,
                              cost_result *r)
{
    double g = (double)c->groups;
    r->compute_cycles = (uint64_t)(s->compute_cycles * g);
    r->stall_cycles = (uint64_t)(s->stall_cycles * g);
    r->total_cycles = r->compute_cycles + r->stall_cycles;
    for (int k = 0; k < ARCH_BUF_COUNT; k++) {
        r->sram_read_bits[k] = s->sram_rd[k] * g;
        r->sram_write_bits[k] = s->sram_wr[k] * g;
    }
    r->dram_read_bits = s->dram_rd * g;
    r->dram_write_bits = s->dram_wr * g;
    for (int k = 0; k < COST_E_LEAK; k++)
        r->energy_pj[k] = s->energy_pj[k] * g;
    r->madds = (uint64_t)c->kh * c->kw * c->oh * c->ow * c->ic * c->oc * c->batch * c->groups;
    r->bitops = (double)r->madds * c->x_bits * c->y_bits;
    r->perf_factor = cost_perf_factor(a, c->x_mul_bits, c->y_mul_bits);
    leak_and_latency(a, r);
}

static int conv_run(const arch *a, const cost_conv *c, cost_tiling *t, cost_result *r,
                    bs_error *e)
{
    int rc = check_conv(a, c, e);
    if (rc)
        return rc;
    tiling_nest n;
    nest_from_conv(a, c, &n);
    tiling_stats s;
    memset(r, 0, sizeof *r);
    bool ok = t ? tiling_eval(&n, t, &s) : tiling_search(&n, &s, &r->tiling);
    if (!ok)
        return err_set(e, BS_EINPUT,
                       "cost: arch %s cannot hold even the smallest tile of this layer "
                       "(a %ux%u kernel over %llu channels at %g/%g bits)",
                       a->name, c->kh, c->kw, (unsigned long long)c->ic, c->x_bits, c->y_bits);
    if (t)
        r->tiling = *t;
    result_from_stats(a, c, &s, r);
    return BS_OK;
}

int cost_conv_eval(const arch *a, const cost_conv *c, cost_result *r, bs_error *e)
{
    return conv_run(a, c, NULL, r, e);
}

int cost_conv_eval_tiling(const arch *a, const cost_conv *c, cost_tiling *t, cost_result *r,
                          bs_error *e)
{
    return conv_run(a, c, t, r, e);
}

/* ---- GPU roofline ------------------------------------------------------------------------ */

/* Format class an operand needs; ordered so the pair runs at the larger one. */
static arch_gpu_class gpu_class_of(const num_format *f)
{
    if (f->kind == NUM_FP) {
        if (f->bits > 16)
            return ARCH_GPU_FP32;
        if (f->bits > 8)
            return f->exp_bits == 8 ? ARCH_GPU_BF16 : ARCH_GPU_FP16;
        return ARCH_GPU_FP8;
    }
    return f->bits <= 4 ? ARCH_GPU_INT4 : f->bits <= 8 ? ARCH_GPU_INT8 : ARCH_GPU_FP32;
}

/* Rank for "the larger of two classes" and the fallback when a class is unsupported. */
static const int gpu_rank[ARCH_GPU_CLASS_COUNT] = {
    [ARCH_GPU_INT4] = 0, [ARCH_GPU_INT8] = 1, [ARCH_GPU_FP8] = 2, [ARCH_GPU_FP16] = 3,
    [ARCH_GPU_BF16] = 3, [ARCH_GPU_FP32] = 4};
static const arch_gpu_class gpu_fallback[ARCH_GPU_CLASS_COUNT] = {
    [ARCH_GPU_INT4] = ARCH_GPU_INT8, [ARCH_GPU_INT8] = ARCH_GPU_FP16,
    [ARCH_GPU_FP8] = ARCH_GPU_FP16, [ARCH_GPU_FP16] = ARCH_GPU_FP32,
    [ARCH_GPU_BF16] = ARCH_GPU_FP32, [ARCH_GPU_FP32] = ARCH_GPU_FP32};

static arch_gpu_class gpu_class(const arch *a, const num_format *x, const num_format *y)
{
    arch_gpu_class cx = gpu_class_of(x), cy = y->bits ? gpu_class_of(y) : cx;
    arch_gpu_class c = gpu_rank[cy] > gpu_rank[cx] ? cy : cx;
    if (gpu_rank[cx] == gpu_rank[cy] && cx != cy)
        c = ARCH_GPU_FP32;  /* fp16 x bf16: no common fast path */
    while (a->gpu_peak_ops_s[c] <= 0 && c != ARCH_GPU_FP32)
        c = gpu_fallback[c];
    return c;
}

/* Roofline of ops at the class's peak (gpu_class never picks a class without one). */
static void gpu_finish(const arch *a, double ops, arch_gpu_class cls, double rd_bits,
                       double wr_bits, cost_result *r)
{
    double t_compute = ops / a->gpu_peak_ops_s[cls];
    double t_mem = (rd_bits + wr_bits) / 8 / a->mem_bytes_s;
    r->compute_cycles = (uint64_t)ceil(t_compute * a->freq_hz);
    r->total_cycles = (uint64_t)ceil(fmax(t_compute, t_mem) * a->freq_hz);
    if (r->total_cycles < r->compute_cycles)
        r->total_cycles = r->compute_cycles;
    r->stall_cycles = r->total_cycles - r->compute_cycles;
    r->dram_read_bits = rd_bits;
    r->dram_write_bits = wr_bits;
    r->energy_pj[COST_E_CORE] = ops * a->gpu_pj_per_op[cls];
    r->energy_pj[COST_E_DRAM] = (rd_bits + wr_bits) * a->dram_pj_per_bit;
    r->perf_factor = 1;
    leak_and_latency(a, r);
}

/* ---- cost_eval --------------------------------------------------------------------------- */

/* Width the pass's outputs are written at in training mode, 0 in reference mode (top
 * comment, OUTPUT STAGE): the out format, or psum width for the column form of a conv's dX. */
static double out_width(const arch *a, const cost_query *q, bool column_form)
{
    if (q->out.bits == 0)
        return 0;
    return column_form ? a->psum_bits : numfmt_storage_bits(&q->out);
}

/* The query's operand widths, densities and output width into a nest's shape. */
static void set_operands(const arch *a, const cost_query *q, bool column_form, cost_conv *c)
{
    c->x_bits = numfmt_storage_bits(&q->x);
    c->y_bits = numfmt_storage_bits(&q->y);
    c->x_mul_bits = cost_mul_bits(a, &q->x);
    c->y_mul_bits = cost_mul_bits(a, &q->y);
    c->density_x = q->density_x;
    c->density_y = q->density_y;
    c->out_bits = out_width(a, q, column_form);
}

/* The nest of a MAC pass (top comment). False on overflow. */
static bool conv_of_pass(const arch *a, const cost_query *q, cost_conv *c)
{
    const model_layer *l = q->layer;
    const layer_gemm *g = &l->gemm;
    uint64_t rows;
    if (!checked_mul(q->batch, g->m, &rows))
        return false;
    cost_conv_init(c, 1, 1, 1, 1, 1, 1, 1, 1, false);
    c->groups = g->count;
    switch (q->pass) {
    case PASS_FWD:
        if (l->kind == LAYER_CONV) {
            uint32_t groups = l->conv.groups ? l->conv.groups : 1;
            *c = (cost_conv){.kh = l->conv.kh, .kw = l->conv.kw, .oh = l->out.h, .ow = l->out.w,
                             .sh = l->conv.stride_h, .sw = l->conv.stride_w,
                             .ic = l->in.c / groups, .oc = l->out.c / groups,
                             .batch = q->batch, .groups = groups, .im2col = l->first_mac};
        } else {
            c->batch = rows;
            c->ic = g->k;
            c->oc = g->n;
        }
        break;
    case PASS_BWD_DATA:
        c->batch = rows;
        c->ic = g->n;
        c->oc = g->k;
        break;
    case PASS_BWD_WEIGHT:
        c->batch = g->k;
        c->ic = rows;
        c->oc = g->n;
        break;
    default:
        return false;
    }
    set_operands(a, q, q->pass == PASS_BWD_DATA && l->kind == LAYER_CONV &&
                           (uint64_t)l->conv.kh * l->conv.kw > 1, c);
    return true;
}

static int gpu_mac(const arch *a, const cost_query *q, const cost_conv *c, cost_result *r)
{
    /* x: batch x (reduction), y: reduction x outputs, out: batch x outputs at 32 bits. */
    double kk = (double)c->kh * c->kw, groups = (double)c->groups;
    double red = kk * (double)c->ic, outs = (double)c->oh * c->ow * (double)c->batch;
    double x_elems = groups * outs * red, y_elems = groups * red * (double)c->oc;
    double out_elems = groups * outs * (double)c->oc;
    const model_layer *l = q->layer;
    if (l->kind == LAYER_CONV) {
        /* Each tensor moves once: the activation, gradient, dX and dW themselves, never the
         * im2col / column copies a GEMM lowering of a convolution would materialise. */
        double B = (double)q->batch, A = B * (double)l->in_elems, G = B * (double)l->out_elems;
        double W = (double)l->weight_elems;
        if (q->pass == PASS_FWD)
            x_elems = A;
        else if (q->pass == PASS_BWD_DATA)
            x_elems = G, out_elems = A;
        else
            x_elems = A, y_elems = G, out_elems = W;
    }
    double rd = x_elems * c->x_bits * compress_factor(a, c->x_bits, c->density_x) +
                y_elems * c->y_bits * compress_factor(a, c->y_bits, c->density_y);
    double wr = out_elems * (q->out.bits ? numfmt_storage_bits(&q->out) : 32);
    r->madds = (uint64_t)(outs * red * (double)c->oc * groups);
    arch_gpu_class cls = gpu_class(a, &q->x, &q->y);
    double ops = 2 * (double)r->madds * compute_density(a, q->density_x, q->density_y);
    gpu_finish(a, ops, cls, rd, wr, r);
    return BS_OK;
}

/* Whole-tensor DRAM sweeps of one pass of a layer: reads and writes of tensors the size of
 * the layer's input (per sample in_elems) and of its output (out_elems). Top comment. */
typedef struct tensor_sweeps {
    uint8_t rd_in, rd_out, wr_in, wr_out;
} tensor_sweeps;

static const tensor_sweeps sweeps_of[LAYER_KIND_COUNT][PASS_UPDATE] = {
    /*                 FWD           BWD_DATA      BWD_WEIGHT */
    [LAYER_CONV] =    {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 1, 0, 0}},  /* bias: fused add; dbias */
    [LAYER_LINEAR] =  {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 1, 0, 0}},
    [LAYER_MATMUL] =  {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}},
    [LAYER_NORM] =    {{2, 0, 0, 1}, {2, 2, 1, 0}, {1, 1, 0, 0}},
    [LAYER_POOL] =    {{1, 0, 0, 1}, {0, 1, 1, 0}, {0, 0, 0, 0}},
    [LAYER_ACT] =     {{1, 0, 0, 1}, {1, 1, 1, 0}, {0, 0, 0, 0}},
    [LAYER_ADD] =     {{2, 0, 0, 1}, {0, 2, 0, 1}, {0, 0, 0, 0}},
    [LAYER_SOFTMAX] = {{2, 0, 0, 1}, {0, 2, 1, 0}, {0, 0, 0, 0}},
};

/* UPDATE and non-MAC layers: E elementwise ops on the vector lanes, tensors through DRAM. */
static void vector_work(const arch *a, const cost_query *q, uint64_t elems, cost_result *r)
{
    /* UPDATE reads WG (x) and master W (y) and writes W, one element per op; other vector
     * work sweeps whole tensors at x's width (sweeps_of) */
    bool update = q->pass == PASS_UPDATE && q->y.bits;
    double x = numfmt_storage_bits(&q->x), y = update ? numfmt_storage_bits(&q->y) : 0;
    double e = (double)elems;
    double rd_elems = e, wr_elems = e;
    if (q->pass != PASS_UPDATE && (unsigned)q->layer->kind < LAYER_KIND_COUNT) {
        const tensor_sweeps *t = &sweeps_of[q->layer->kind][q->pass];
        double in = (double)q->batch * (double)q->layer->in_elems;
        double out = (double)q->batch * (double)q->layer->out_elems;
        rd_elems = t->rd_in * in + t->rd_out * out;
        wr_elems = t->wr_in * in + t->wr_out * out;
    }
    double rd = rd_elems * x * compress_factor(a, x, q->density_x) +
                (y > 0 ? e * y * compress_factor(a, y, q->density_y) : 0);
    double wr = update ? e * y : wr_elems * x;
    if (a->family == ARCH_GPU) {
        num_format unary = {.bits = 0};
        arch_gpu_class cls = gpu_class(a, &q->x, update ? &q->y : &unary);
        gpu_finish(a, e, cls, rd, wr, r);
        return;
    }
    uint64_t compute = ceil_div_u64(elems, a->vector_lanes);
    uint64_t mem = (uint64_t)ceil((rd + wr) / a->dram_bits_per_cycle);
    r->compute_cycles = compute;
    r->total_cycles = compute > mem ? compute : mem;
    r->stall_cycles = r->total_cycles - compute;
    r->dram_read_bits = rd;
    r->dram_write_bits = wr;
    r->energy_pj[COST_E_CORE] = e * a->vector_pj_per_op;
    r->energy_pj[COST_E_DRAM] = (rd + wr) * a->dram_pj_per_bit;
    r->perf_factor = 1;
    leak_and_latency(a, r);
}

/* BWD_DATA of a convolution as a convolution (top comment): dX = G convolved with the
 * rotated W, channels swapped, the same kernel, output the size of the input. Only where that
 * keeps MAdds = B*M exactly: stride 1, no dilation, output as large as the input. */
static bool transposed_conv_of_bwd_data(const arch *a, const cost_query *q, cost_conv *c)
{
    const model_layer *l = q->layer;
    const layer_conv *k = &l->conv;
    if (q->pass != PASS_BWD_DATA || l->kind != LAYER_CONV || k->stride_h != 1 ||
        k->stride_w != 1 || k->dil_h > 1 || k->dil_w > 1 || l->in.h != l->out.h ||
        l->in.w != l->out.w)
        return false;
    uint32_t groups = k->groups ? k->groups : 1;
    *c = (cost_conv){.kh = k->kh, .kw = k->kw, .oh = l->in.h, .ow = l->in.w, .sh = 1, .sw = 1,
                     .ic = l->out.c / groups, .oc = l->in.c / groups, .batch = q->batch,
                     .groups = groups, .im2col = false};
    set_operands(a, q, false, c);
    return true;
}

/* The MAC pass on the array: its nest, or for BWD_DATA of a stride-1 conv the better of the
 * GEMM and the direct convolution (least cycles, then least energy, as the tiling search). */
static int array_mac(const arch *a, const cost_query *q, const cost_conv *c, cost_result *r,
                     bs_error *e)
{
    int rc = conv_run(a, c, NULL, r, e);
    cost_conv direct;
    if (rc || !transposed_conv_of_bwd_data(a, q, &direct))
        return rc;
    cost_result d;
    if (conv_run(a, &direct, NULL, &d, NULL) != BS_OK)
        return BS_OK;   /* the direct form does not fit the buffers: the GEMM stands */
    if (d.total_cycles < r->total_cycles ||
        (d.total_cycles == r->total_cycles && d.energy_total_pj < r->energy_total_pj))
        *r = d;
    return BS_OK;
}

static int check_query(const cost_query *q, bs_error *e)
{
    if (!q->layer)
        return err_set(e, BS_EINTERNAL, "cost: no layer");
    if ((unsigned)q->pass >= PASS_COUNT)
        return err_set(e, BS_EINPUT, "cost: unknown pass %d", (int)q->pass);
    if (q->batch == 0)
        return err_set(e, BS_EINPUT, "cost: batch must be at least 1");
    if (q->x.bits == 0 || q->x.bits > 64 || q->y.bits > 64 || q->out.bits > 64)
        return err_set(e, BS_EINPUT, "cost: operand widths must be 1..64 bits");
    if (!density_ok(q->density_x) || !density_ok(q->density_y))
        return err_set(e, BS_EINPUT, "cost: densities must lie in [0, 1]");
    return BS_OK;
}

/* r += v for work that runs after r's (bias adds after a MAC pass). */
static void add_result(const arch *a, cost_result *r, const cost_result *v)
{
    r->compute_cycles += v->compute_cycles;
    r->stall_cycles += v->stall_cycles;
    r->total_cycles += v->total_cycles;
    for (int k = 0; k < ARCH_BUF_COUNT; k++) {
        r->sram_read_bits[k] += v->sram_read_bits[k];
        r->sram_write_bits[k] += v->sram_write_bits[k];
    }
    r->dram_read_bits += v->dram_read_bits;
    r->dram_write_bits += v->dram_write_bits;
    for (int k = 0; k < COST_E_LEAK; k++)
        r->energy_pj[k] += v->energy_pj[k];
    leak_and_latency(a, r);
}

int cost_eval(const arch *a, const cost_query *q, cost_result *r, bs_error *e)
{
    memset(r, 0, sizeof *r);
    int rc = check_query(q, e);
    if (rc)
        return rc;
    const model_layer *l = q->layer;
    uint64_t madds, elems;
    if (!model_pass_madds(l, q->pass, q->batch, &madds) ||
        !model_pass_elem_ops(l, q->pass, q->batch, &elems))
        return err_set(e, BS_EINPUT, "cost: layer %s: op count overflows", l->name);
    if (madds > 0) {
        if (q->y.bits == 0)
            return err_set(e, BS_EINPUT, "cost: layer %s: a MAC pass needs both operand widths",
                           l->name);
        cost_conv c;
        if (!conv_of_pass(a, q, &c))
            return err_set(e, BS_EINPUT, "cost: layer %s: shape overflows", l->name);
        rc = a->family == ARCH_GPU ? gpu_mac(a, q, &c, r) : array_mac(a, q, &c, r, e);
        if (rc)
            return rc;
        if (r->madds != madds)
            return err_set(e, BS_EINTERNAL, "cost: layer %s %s: nest has %llu MAdds, model %llu",
                           l->name, model_pass_name(q->pass), (unsigned long long)r->madds,
                           (unsigned long long)madds);
        r->bitops = (double)madds * q->x.bits * q->y.bits;
    }
    if (elems > 0) {
        cost_result v;
        memset(&v, 0, sizeof v);
        vector_work(a, q, elems, &v);
        if (madds > 0)
            add_result(a, r, &v);
        else
            *r = v;
    }
    r->elem_ops = elems;
    return BS_OK;
}
