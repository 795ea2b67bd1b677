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
 *               the better of the two lowerings (by the tiling objective). Strided convs
 *               keep the GEMM (their transposed convolution would multiply inserted zeros).
 *   BWD_WEIGHT  dW = A^T . G as a GEMM: reduction over B*m (batch and space), outputs n,
 *               and k independent output rows in the batch loop. Its x operand is the
 *               im2col form of A (kh*kw taps per element), which nothing else produces: in
 *               training mode its making is charged, A read once and the copy written, as
 *               a streaming pass before the GEMM (charge_im2col_copy). For a stride-1 conv
 *               the array may instead run dW as a WINDOWED nest: dW[ic][oc][i][j] = sum over
 *               b, oh, ow of A[b][ic][oh + i][ow + j] G[b][oc][oh][ow], i.e. A's channels as
 *               the nest's batch, the batch as its reduction channels, G as an OH x OW kernel
 *               and the kh x kw taps as its output, so each tile reads its window of A once
 *               (padding included) and WG is written once. cost_eval takes the better of the
 *               two by the objective (issue 12: no phantom im2col traffic).
 * (m, k, n, count: model.h layer_gemm; groups and heads run one after another, so a grouped
 * layer costs count times one group.) All of them keep MAdds = B*M (DESIGN.md).
 *
 * TILING OBJECTIVE (arch tiling_objective; tiling.c OBJECTIVE). Training passes (out.bits >
 * 0) rank tilings, loop orders and lowerings by the arch's objective, edp by default (energy
 * x cycles: no compiler trades 6x the DRAM traffic for 0.1 % fewer cycles); the reference
 * mode (out.bits == 0, cost_conv_eval, `bitsim cost --conv`) keeps the public simulator's
 * least cycles, then least energy.
 *
 * NON-MAC WORK. UPDATE and non-MAC layers (and the bias adds of MAC layers, model.h elem
 * ops) are vector work: E elementwise ops (model.h's count) on vector_lanes lanes, with
 * compute and DRAM transfer overlapped: total = max(ceil(E / lanes), ceil(DRAM bits /
 * interface bits)). UPDATE reads WG (x) and master W (y) and writes W at y's width, one
 * element per op. Other vector work moves whole tensors, not one read and one write per op
 * (a batch norm's four ops per element do not each round-trip through DRAM; the tensors do
 * not fit on chip, so each sweep over one is a DRAM pass), at x's width (A in FWD, G
 * backward; a saved activation read backward is taken at the same width). How many sweeps
 * a pass makes is the arch's nonmac mode (cost_nonmac_plan):
 * separate (one kernel per op, an eager GPU framework; separate_sweeps), of tensors the size
 * of the layer's input (in) or output (out):
 *   norm     FWD: x twice (statistics, then normalise), write y; BWD_DATA: G and x twice
 *            each (the two reductions, then dX), write dX; BWD_WEIGHT: G and x (dgamma,
 *            dbeta; the 2C results are not counted)
 *   pool     FWD: x, write y; BWD_DATA: G, write dX
 *   act      FWD: x, write y; BWD_DATA: G and x (the mask), write dX
 *   add      FWD: both inputs, write y; BWD_DATA: both gradients, write their sum
 *   softmax  FWD: x twice (max and sum, then divide), write y; BWD_DATA: y and G, write dX
 *   embedding FWD: the indices and the gathered table rows, write y; BWD_WEIGHT: G and the
 *            table-gradient rows it adds into, write them (read-modify-write); no BWD_DATA
 *   rotary   FWD: x, write y; BWD_DATA: G, write dX (the cos/sin tables, 2 x tokens x
 *            head_dim, are shared by every head and sample and taken as staying on chip)
 *   mul      FWD: both inputs, write y; BWD_DATA: G and both inputs, write both gradients
 *   conv/linear bias: FWD fused into the output stage (compute only); BWD_WEIGHT reads G
 *            once (the bias-gradient reduction).
 * fused (an accelerator; BatchNorm fission-fusion, Jung et al., "Restructuring Batch
 * Normalization to Accelerate CNN Training", MLSys 2019: split BN, fuse its statistics into
 * the producing conv and its normalisation into the following activation and conv). Rules
 * per layer from the graph (fused_plan); consumers = layers reading the layer's output:
 *   F1 a norm, or an activation whose input is a norm, a MAC layer or the network input, or
 *      an add or pool whose one consumer is neither a MAC layer nor a norm (a norm's
 *      statistics over a virtual add would re-read both addends), with exactly one consumer is
 *      VIRTUAL: its output never exists in DRAM, its consumer applies it on the fly (a MAC
 *      pass's input stage: normalise-on-read; a vector pass: as it reads). An activation
 *      after an add must exist (its mask would need both addends again); a MAC layer's input
 *      stage takes one tensor of its own input's size, so an add or pool feeding one exists.
 *   F2 every other non-MAC output, and every MAC output, is materialized (written once).
 *   F3 FWD: a non-MAC layer reads each materialized input once, unless it is virtual and its
 *      chain of virtual consumers ends in a MAC layer (that pass's own read covers it);
 *   F4 a norm over a virtual input reads it once more (statistics before the normalise; over
 *      a materialized input they are gathered in the output stage that wrote it);
 *   F5 softmax reads once more (max and sum before the divide);
 *   F6 a materialized non-MAC output is written once (its producer's vector pass applies it
 *      on the way out when the producer is virtual).
 *   B1 BWD: a layer whose output has c >= 2 consumers reads the c gradients (their sum formed
 *      on read);
 *   B2 an activation's mask: from its norm producer's input, which that norm's reduction
 *      reads in the same stage (0), else one read; it writes its input gradient only after
 *      a fan-in (c >= 2) whose producer is not an add (an add writes it, B4); otherwise its
 *      mask is applied in the output stage that writes its gradient;
 *   B3 a norm: dgamma/dbeta reduce g . x-hat in the stage that writes g, reading x once
 *      (BWD_WEIGHT); then an apply pass reads g (or its c fan-in gradients) and x and writes
 *      dX (BWD_DATA; written, as the reductions must finish before any dX exists);
 *   B4 an add writes the gradient its two inputs share once, unless its one consumer's
 *      backward wrote it already (a MAC layer's BWD_DATA, a norm's, pool's or softmax's
 *      dX);
 *   B5 pool reads g and writes dX; B6 softmax reads y and g and writes dX;
 *   MAC bias: its add in the output stage, dbias reduced where G is written (0).
 * A ResNet basic block (conv1 bn1 relu1 conv2 bn2 add relu2) then sweeps 3 tensors forward
 * (bn2 reads y2, the add reads x, relu2 writes z) and 12 backward (relu2 3, add 1, bn2 1 + 3,
 * bn1 1 + 3), against 36 in separate mode (tests: cost_passes fused_basic_block_sweeps).
 * Fused vector work without DRAM traffic of its own runs inside a neighbouring MAC pass's
 * input or output stage and overlaps it: 0 cycles (the vector lanes are taken to keep pace
 * with that stage; its energy is charged). A layer costed without a graph (cost_query.sweeps
 * not planned) is taken as between two MAC layers (conv -> layer -> conv).
 * free (MAC layers only: the public BitFusion simulator's and the papers' accounting): no
 * vector work is counted (non-MAC layers, bias, UPDATE cost 0), and replay stores no tensor
 * between MAC layers at a non-MAC format.
 * VECTOR ENERGY: vector_pj_per_op when the arch states it, else per op at 45 nm (Horowitz,
 * ISSCC 2014): an add (activation, pool, residual add, bias; a compare costs a subtract) or
 * a multiply-add (norm, softmax, optimizer step) at the operand's format class (vector_pj).
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
 * Traffic always counts storage bits (bfp: bits + exp_bits / block; mx: bits + scale / block).
 * BLOCK SCALES (the MX formats and NVFP4, numfmt.h). The OCP MX v1.0 specification (sec. 6.1,
 * "Dot product") defines the dot product of two MX blocks as X(A) X(B) sum_i P_i(A) P_i(B):
 * the elements multiply as scalars (here: their significands, E2M1 2 bits, E2M3 and E4M3 4,
 * E3M2 and E5M2 3, INT8 8 on the bricks, exactly the fp rule above), and the two shared
 * scales enter once per block product. For E8M0 scales that is an 8-bit exponent add and a
 * shift of the block's partial sum; NVFP4's E4M3 scales need a 4x4-bit significand product
 * and an exponent add (the per-tensor FP32 scale is applied once per output). Where that work
 * runs is an arch property ([array] block_scale):
 *   unit    (default) the array has per-column scale adders and a partial-sum shifter beside
 *           the bricks — narrow logic, like a float's exponent path above, pipelined with the
 *           reduction: no cycles, its energy inside core_pj_per_cycle. An MX-capable array
 *           (arch/bitfusion-mx.ini). This is also the assumption bfp always had here.
 *   vector  no scale hardware: every block product's partial sum leaves the reduction and is
 *           rescaled and accumulated on the vector lanes, one op per block product for a
 *           power-of-two scale (a shift-add), two for NVFP4's E4M3 scales (scale product,
 *           then multiply-add); block products = MAdds / block, the smaller block of the two
 *           operands (a format without blocks: the other's). Compute only (the partial sums
 *           stay in the output buffer): ceil(ops / vector_lanes) cycles, vector_pj_per_op.
 * Both are BITSIM'S OWN accounting of the spec's arithmetic (the spec defines the values, not
 * a datapath). Each pass's operands are taken as blocked along that pass's reduction
 * dimension (Transformer Engine's MXFP8 recipe keeps row- and column-wise copies for that);
 * the quantization and transposition work that makes those copies is not charged.
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
 * Out width per pass = the format the result is stored in, which replay takes from the
 * reader (issue 12): FWD the consumer's activation format A (a quantized conv feeding an
 * fp32 norm writes fp32), BWD_DATA the producer's G (dX is the previous layer's gradient),
 * BWD_WEIGHT WG; non-MAC layers' vector passes write at their reader's format too (a
 * tensor is quantized on its way out, with the range of a previous step). An operand
 * stored wider than the MAC pass takes it (cost_query x_stored / y_stored: an fp32 tensor
 * several layers read, or, fused, the conv output an fp32 norm is applied to on the fly)
 * is read from DRAM at that width and quantized in the input stage; the buffers hold it at
 * the operand's own width (nest dram_factor). One exception: a conv's
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
#include "cost_conv.h"
#include "cost_private.h"

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
    if (numfmt_is_float(f) && a->fp_mode == ARCH_FP_SIGNIFICAND && f->bits > f->exp_bits)
        return (uint32_t)(f->bits - f->exp_bits);
    return f->bits;
}

const char *cost_energy_name(cost_energy k)
{
#define COST_E_NAME(id, name) [COST_E_##id] = #name,
    static const char *const names[COST_E_COUNT] = {COST_ENERGY_COMPONENTS(COST_E_NAME)};
#undef COST_E_NAME
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

/* Which operand densities (x, y) a [sparsity] mode scales compute by (SPARSITY). */
static const bool sparsity_uses[ARCH_SPARSE_COUNT][2] = {{0, 0}, {1, 0}, {1, 1}};

static double compute_density(const arch *a, double dx, double dy)
{
    return (sparsity_uses[a->sparsity][0] ? dx : 1) * (sparsity_uses[a->sparsity][1] ? dy : 1);
}

/* The only readers of a query's densities past check_query are compute_density and
 * compress_factor (every other term is dense: SPARSITY); without zero-skipping of the operand
 * compute_density multiplies by exactly 1 in its place, and without compression
 * compress_factor is exactly 1. */
bool cost_reads_density(const arch *a, int operand)
{
    return sparsity_uses[a->sparsity][operand != 0] || a->dram_compress != ARCH_COMPRESS_NONE;
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
    if (!(c->x_dram_bits >= 0 && c->x_dram_bits <= 64) ||
        !(c->y_dram_bits >= 0 && c->y_dram_bits <= 64) || (unsigned)c->objective >= ARCH_OBJ_COUNT)
        return err_set(e, BS_EINPUT, "cost: bad stored width or tiling objective");
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
    double x_dram = c->x_dram_bits > c->x_bits ? c->x_dram_bits : c->x_bits;
    double y_dram = c->y_dram_bits > c->y_bits ? c->y_dram_bits : c->y_bits;
    double core_pj = a->core_pj_by_mode[core_mode_index(a, x)][core_mode_index(a, y)];
    *n = (tiling_nest){
        .dim = {(double)c->batch, c->ow, c->oh, (double)c->ic, (double)c->oc},
        .kh = c->kh, .kw = c->kw, .sh = c->sh, .sw = c->sw, .im2col = c->im2col,
        .reduce_window = a->family == ARCH_BITFUSION && a->lane_reduce == ARCH_LANES_WINDOW,
        .objective = c->objective,
        .lanes_in = (double)a->rows * x.lanes * y.lanes,
        .cols = a->cols,
        .passes = (double)x.slices * y.slices,
        .density = compute_density(a, c->density_x, c->density_y),
        .bits = {c->y_bits, c->x_bits, a->psum_bits},
        .dram_factor = {compress_factor(a, y_dram, c->density_y) * y_dram / c->y_bits,
                        compress_factor(a, x_dram, c->density_x) * x_dram / c->x_bits, 1},
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

/* Leakage over r->latency_s, and the energy total. */
static void leak_and_total(const arch *a, cost_result *r)
{
    r->energy_pj[COST_E_LEAK] = a->leak_mw * 1e-3 * r->latency_s * 1e12;
    r->energy_total_pj = 0;
    for (int k = 0; k < COST_E_COUNT; k++)
        r->energy_total_pj += r->energy_pj[k];
}

static void leak_and_latency(const arch *a, cost_result *r)
{
    r->latency_s = (double)r->total_cycles / a->freq_hz;
    leak_and_total(a, r);
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

/* Format class an operand needs; ordered so the pair runs at the larger one. A float (fp, or
 * an mx format's float element) by its width: > 16 bits fp32 (19-bit fp19e8m10 = tf32), 9..16
 * fp16 (bf16 with 8 exponent bits), 7..8 fp8, 5..6 fp6, <= 4 fp4: MXFP8 runs as fp8, MXFP6
 * as fp6, MXFP4 and NVFP4 as fp4 (a GPU with those formats applies their block scales in the
 * tensor core, as Blackwell's block-scaled MMA does). Integers, fixed point, bfp and MXINT8:
 * <= 4 bits int4, <= 8 int8, wider fp32. */
static arch_gpu_class gpu_class_of(const num_format *f)
{
    if (numfmt_is_float(f)) {
        if (f->bits > 16)
            return f->bits == 19 && f->exp_bits == 8 ? ARCH_GPU_TF32 : ARCH_GPU_FP32;
        if (f->bits > 8)
            return f->exp_bits == 8 ? ARCH_GPU_BF16 : ARCH_GPU_FP16;
        return f->bits > 6 ? ARCH_GPU_FP8 : f->bits > 4 ? ARCH_GPU_FP6 : ARCH_GPU_FP4;
    }
    return f->bits <= 4 ? ARCH_GPU_INT4 : f->bits <= 8 ? ARCH_GPU_INT8 : ARCH_GPU_FP32;
}

/* Rank for "the larger of two classes" and the fallback when a class is unsupported (peak
 * 0): the next wider format the GPU has. fp4 -> fp6 -> fp8 -> fp16: MXFP4/NVFP4 operands on
 * a part without FP4 (H100) run at its FP8 peak, where E2M1, E2M3 and E3M2 values are exact
 * E4M3 values; the block scales then have to be applied outside the tensor core, work the
 * roofline does not charge, so such a figure is a bound, not a measurement. tf32 -> fp32. */
static const int gpu_rank[ARCH_GPU_CLASS_COUNT] = {
    [ARCH_GPU_INT4] = 0, [ARCH_GPU_FP4] = 1, [ARCH_GPU_INT8] = 2, [ARCH_GPU_FP6] = 3,
    [ARCH_GPU_FP8] = 4, [ARCH_GPU_FP16] = 5, [ARCH_GPU_BF16] = 5, [ARCH_GPU_TF32] = 6,
    [ARCH_GPU_FP32] = 7};
static const arch_gpu_class gpu_fallback[ARCH_GPU_CLASS_COUNT] = {
    [ARCH_GPU_INT4] = ARCH_GPU_INT8, [ARCH_GPU_INT8] = ARCH_GPU_FP16,
    [ARCH_GPU_FP4] = ARCH_GPU_FP6, [ARCH_GPU_FP6] = ARCH_GPU_FP8,
    [ARCH_GPU_FP8] = ARCH_GPU_FP16, [ARCH_GPU_FP16] = ARCH_GPU_FP32,
    [ARCH_GPU_BF16] = ARCH_GPU_FP32, [ARCH_GPU_TF32] = ARCH_GPU_FP32,
    [ARCH_GPU_FP32] = ARCH_GPU_FP32};

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
    /* the roofline's time itself: cycles at freq_hz are a count for the tables, and rounding
     * each layer-pass up to whole cycles made latency depend on the clock (issue 13 D13) */
    r->latency_s = fmax(t_compute, t_mem);
    leak_and_total(a, r);
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
    c->x_dram_bits = q->x_stored.bits ? numfmt_storage_bits(&q->x_stored) : 0;
    c->y_dram_bits = q->y_stored.bits ? numfmt_storage_bits(&q->y_stored) : 0;
    /* the reference mode (no output stage) keeps the public simulator's choice */
    c->objective = q->out.bits ? a->objective : ARCH_OBJ_CYCLES;
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
    double xb = c->x_dram_bits > c->x_bits ? c->x_dram_bits : c->x_bits;
    double yb = c->y_dram_bits > c->y_bits ? c->y_dram_bits : c->y_bits;
    double rd = x_elems * xb * compress_factor(a, xb, c->density_x) +
                y_elems * yb * compress_factor(a, yb, c->density_y);
    double wr = out_elems * (q->out.bits ? numfmt_storage_bits(&q->out) : 32);
    r->madds = (uint64_t)(outs * red * (double)c->oc * groups);
    arch_gpu_class cls = gpu_class(a, &q->x, &q->y);
    double ops = 2 * (double)r->madds * compute_density(a, q->density_x, q->density_y);
    gpu_finish(a, ops, cls, rd, wr, r);
    return BS_OK;
}

/* ---- non-MAC work ------------------------------------------------------------------------ */

/* separate: every pass of a non-MAC layer sweeps whole tensors (top comment, NON-MAC WORK). */
static const cost_sweeps separate_sweeps[LAYER_KIND_COUNT][PASS_UPDATE] = {
    /*                 FWD           BWD_DATA      BWD_WEIGHT */
    [LAYER_CONV] =    {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 1, 0, 0}},  /* bias: fused add; dbias */
    [LAYER_LINEAR] =  {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 1, 0, 0}},
    [LAYER_MATMUL] =  {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}},
    [LAYER_NORM] =    {{2, 0, 0, 1}, {2, 2, 1, 0}, {1, 1, 0, 0}},
    [LAYER_POOL] =    {{1, 0, 0, 1}, {0, 1, 1, 0}, {0, 0, 0, 0}},
    [LAYER_ACT] =     {{1, 0, 0, 1}, {1, 1, 1, 0}, {0, 0, 0, 0}},
    [LAYER_ADD] =     {{2, 0, 0, 1}, {0, 2, 0, 1}, {0, 0, 0, 0}},
    [LAYER_SOFTMAX] = {{2, 0, 0, 1}, {0, 2, 1, 0}, {0, 0, 0, 0}},
    [LAYER_EMBEDDING] = {{1, 1, 0, 1}, {0, 0, 0, 0}, {0, 2, 0, 1}},
    [LAYER_ROTARY] =  {{1, 0, 0, 1}, {0, 1, 1, 0}, {0, 0, 0, 0}},
    [LAYER_MUL] =     {{2, 0, 0, 1}, {2, 1, 2, 0}, {0, 0, 0, 0}},
};

/* The graph facts the fused rules read about one layer (NON-MAC WORK, fused). */
typedef struct fuse_ctx {
    const model *m;     /* NULL: a layer between two MAC layers, nothing else known */
    uint32_t i;
} fuse_ctx;

static int consumers(const fuse_ctx *f, uint32_t i, uint32_t *first)
{
    int n = 0;
    for (uint32_t j = i + 1; j < f->m->n_layers; j++)
        if (f->m->layers[j].src == (int32_t)i || f->m->layers[j].src2 == (int32_t)i) {
            if (n++ == 0)
                *first = j;
        }
    return n;
}

/* Kind of layer i's producer (input src); -1 for the network input. */
static int producer_kind(const fuse_ctx *f, int32_t src)
{
    return src >= 0 ? (int)f->m->layers[src].kind : -1;
}

static bool is_mac_kind(int kind)
{
    return kind == LAYER_CONV || kind == LAYER_LINEAR || kind == LAYER_MATMUL;
}

/* F1: the layer's output stays on chip, consumed on the fly by its one consumer. */
static bool fused_virtual(const fuse_ctx *f, uint32_t i)
{
    const model_layer *l = &f->m->layers[i];
    uint32_t c = 0;
    if (model_layer_is_mac(l) || consumers(f, i, &c) != 1)
        return false;
    int pk = producer_kind(f, l->src);
    switch (l->kind) {
    case LAYER_NORM:
        return true;
    case LAYER_ACT:     /* the mask can be recomputed from a norm's or MAC's stored input */
        return pk == LAYER_NORM || pk < 0 || is_mac_kind(pk);
    case LAYER_ADD:
    case LAYER_POOL:    /* a MAC's input stage takes one tensor of its own input's size; a
                         * norm's statistics are gathered where its input is written */
        return !model_layer_is_mac(&f->m->layers[c]) && f->m->layers[c].kind != LAYER_NORM;
    default:
        return false;
    }
}

static bool materialized(const fuse_ctx *f, int32_t src)
{
    return src < 0 || model_layer_is_mac(&f->m->layers[src]) || !fused_virtual(f, (uint32_t)src);
}

/* A virtual layer's chain of virtual consumers ends in a MAC layer's input stage. */
static bool chain_ends_in_mac(const fuse_ctx *f, uint32_t i)
{
    uint32_t c = 0;
    while (fused_virtual(f, i)) {
        consumers(f, i, &c);
        if (model_layer_is_mac(&f->m->layers[c]))
            return true;
        i = c;
    }
    return false;
}

/* Layer c's backward writes its input gradient to DRAM (B2-B6): MAC layers (BWD_DATA's
 * output stage), norms, pools, softmax; an activation after a fan-in not fed by an add. */
static bool writes_input_grad(const fuse_ctx *f, uint32_t c)
{
    const model_layer *l = &f->m->layers[c];
    uint32_t first = 0;
    switch (l->kind) {
    case LAYER_ACT:
        return consumers(f, c, &first) >= 2 && producer_kind(f, l->src) != LAYER_ADD;
    case LAYER_ADD:
        return false;
    default:
        return true;
    }
}

/* The fused rules F1-F6 and B1-B6 (top comment, NON-MAC WORK) for layer i of a model. */
static void fused_plan(const fuse_ctx *f, cost_sweeps sw[PASS_UPDATE])
{
    memset(sw, 0, sizeof(cost_sweeps) * PASS_UPDATE);
    const model_layer *l = &f->m->layers[f->i];
    if (model_layer_is_mac(l))
        return;     /* bias add in the output stage, dbias where G is written */
    uint32_t c = 0;
    int nc = consumers(f, f->i, &c);
    bool virt = fused_virtual(f, f->i);
    int pk = producer_kind(f, l->src);
    cost_sweeps *fw = &sw[PASS_FWD], *bd = &sw[PASS_BWD_DATA], *bw = &sw[PASS_BWD_WEIGHT];
    /* FWD: F3 reads of materialized inputs (unless a MAC's input stage reads them), F4 the
     * statistics pre-pass of a norm over a virtual input, F5 softmax's max/sum pass, F6 the
     * write of a materialized output. */
    if (!(virt && chain_ends_in_mac(f, f->i))) {
        fw->rd_in += materialized(f, l->src);
        if (l->src2 >= -1)
            fw->rd_in += materialized(f, l->src2);
    }
    if (l->kind == LAYER_NORM && !materialized(f, l->src))
        fw->rd_in++;
    if (l->kind == LAYER_SOFTMAX)
        fw->rd_in++;
    fw->wr_out = !virt;
    /* BWD: B1 fan-in of several consumers' gradients, then per kind. */
    uint8_t fan_in = nc >= 2 ? (uint8_t)nc : 0, g_reads = nc >= 2 ? (uint8_t)nc : 1;
    switch (l->kind) {
    case LAYER_ACT:     /* B2: mask (shared with a norm producer's read of its input) */
        bd->rd_out = fan_in + (pk != LAYER_NORM);
        bd->wr_in = nc >= 2 && pk != LAYER_ADD;
        break;
    case LAYER_NORM:    /* B3: dgamma/dbeta read x; the apply pass reads g and x, writes dX */
        *bd = (cost_sweeps){.rd_in = 1, .rd_out = g_reads, .wr_in = 1};
        bw->rd_in = l->params ? 1 : 0;
        break;
    case LAYER_ADD: {   /* B4: the gradient both inputs take, written once unless it is */
        bool g_written = nc == 1 && writes_input_grad(f, c);
        bd->rd_out = fan_in;
        bd->wr_in = !g_written;
        break;
    }
    case LAYER_POOL:    /* B5 */
        *bd = (cost_sweeps){.rd_out = g_reads, .wr_in = 1};
        break;
    case LAYER_SOFTMAX: /* B6 */
        *bd = (cost_sweeps){.rd_out = (uint8_t)(1 + g_reads), .wr_in = 1};
        break;
    default:
        break;
    }
}

void cost_nonmac_plan(const arch *a, const model *m, uint32_t i, cost_sweeps out[PASS_COUNT])
{
    memset(out, 0, sizeof(cost_sweeps) * PASS_COUNT);
    layer_kind k = m->layers[i].kind;
    if ((unsigned)k >= LAYER_KIND_COUNT)
        return;
    if (a->nonmac == ARCH_NONMAC_FUSED) {
        fuse_ctx f = {m, i};
        fused_plan(&f, out);
    } else if (a->nonmac == ARCH_NONMAC_SEPARATE) {
        memcpy(out, separate_sweeps[k], sizeof separate_sweeps[k]);
    }
    for (int p = 0; p < PASS_COUNT; p++)
        out[p].planned = 1;
}

/* Without a graph (a layer costed alone): the plan of the layer between two MAC layers, its
 * only producer and consumer (a conv -> norm -> conv chain). */
static void default_sweeps(const arch *a, const model_layer *l, cost_sweeps out[PASS_COUNT])
{
    model_layer chain[3];
    memset(chain, 0, sizeof chain);
    chain[0].kind = chain[2].kind = LAYER_CONV;
    chain[1] = *l;
    chain[0].src = -1, chain[1].src = 0, chain[1].src2 = -2, chain[2].src = 1, chain[2].src2 = -2;
    chain[0].src2 = -2;
    model m = {.layers = chain, .n_layers = 3};
    cost_nonmac_plan(a, &m, 1, out);
}

/* Per-op vector energies at 45 nm (pJ), Horowitz, "Computing's energy problem (and what we
 * can do about it)", ISSCC 2014: int8 add 0.03 / mult 0.2, int32 add 0.1 / mult 3.1, fp16
 * add 0.4 / mult 1.1, fp32 add 0.9 / mult 3.7. A format takes the row of the narrowest class
 * that holds it (ints, fixed and block floating point by their bits; int9..32 as int32). */
typedef struct op_pj {
    double add, mult;
} op_pj;

static op_pj vector_op_pj(const num_format *f)
{
    if (f->kind == NUM_FP)
        return f->bits <= 16 ? (op_pj){0.4, 1.1} : (op_pj){0.9, 3.7};
    return f->bits <= 8 ? (op_pj){0.03, 0.2} : (op_pj){0.1, 3.1};
}

/* A vector op of a norm, softmax or optimizer step is a multiply-add (scale and shift, the
 * squares of the statistics, exp's polynomial, momentum and learning rate); of an
 * activation, pooling, residual add or bias an add (a compare costs as a subtract). */
static double vector_pj(const arch *a, const cost_query *q, const num_format *f)
{
    if (a->vector_pj_per_op >= 0)
        return a->vector_pj_per_op;     /* stated in the arch file */
    op_pj e = vector_op_pj(f);
    layer_kind k = q->layer->kind;
    bool mult = q->pass == PASS_UPDATE || k == LAYER_NORM || k == LAYER_SOFTMAX;
    return e.add + (mult ? e.mult : 0);
}

/* UPDATE and non-MAC layers: E elementwise ops on the vector lanes, tensors through DRAM. */
static void vector_work(const arch *a, const cost_query *q, uint64_t elems, cost_result *r)
{
    if (a->nonmac == ARCH_NONMAC_FREE)
        return;     /* MAC passes only: vector work is not counted */
    /* UPDATE reads WG (x) and master W (y) and writes W, one element per op; other vector
     * work sweeps whole tensors at x's width (the plan) */
    bool update = q->pass == PASS_UPDATE && q->y.bits;
    double x = numfmt_storage_bits(&q->x), y = update ? numfmt_storage_bits(&q->y) : 0;
    double e = (double)elems;
    double rd_elems = e, wr_elems = e;
    if (q->pass != PASS_UPDATE && (unsigned)q->layer->kind < LAYER_KIND_COUNT) {
        cost_sweeps plan[PASS_COUNT];
        const cost_sweeps *t = &q->sweeps;
        if (!t->planned) {
            default_sweeps(a, q->layer, plan);
            t = &plan[q->pass];
        }
        double in = (double)q->batch * (double)q->layer->in_elems;
        double out = (double)q->batch * (double)q->layer->out_elems;
        rd_elems = t->rd_in * in + t->rd_out * out;
        wr_elems = t->wr_in * in + t->wr_out * out;
    }
    double rd = rd_elems * x * compress_factor(a, x, q->density_x) +
                (y > 0 ? e * y * compress_factor(a, y, q->density_y) : 0);
    /* written at the reader's format when the query names one (OUTPUT STAGE), else x's */
    double w = q->out.bits && !update ? numfmt_storage_bits(&q->out) : x;
    double wr = update ? e * y : wr_elems * w;
    if (a->family == ARCH_GPU) {
        num_format unary = {.bits = 0};
        arch_gpu_class cls = gpu_class(a, &q->x, update ? &q->y : &unary);
        gpu_finish(a, e, cls, rd, wr, r);
        return;
    }
    uint64_t compute = ceil_div_u64(elems, a->vector_lanes);
    uint64_t mem = (uint64_t)ceil((rd + wr) / a->dram_bits_per_cycle);
    /* fused: work without DRAM traffic of its own runs in a neighbouring MAC pass's input or
     * output stage and overlaps it */
    if (a->nonmac == ARCH_NONMAC_FUSED && !update && rd + wr == 0)
        compute = 0;
    r->compute_cycles = compute;
    r->total_cycles = compute > mem ? compute : mem;
    r->stall_cycles = r->total_cycles - compute;
    r->dram_read_bits = rd;
    r->dram_write_bits = wr;
    const num_format *wide = update && numfmt_storage_bits(&q->y) > x ? &q->y : &q->x;
    r->energy_pj[COST_E_CORE] = e * vector_pj(a, q, wide);
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

/* BWD_WEIGHT of a convolution as a windowed nest (top comment, BWD_WEIGHT): dW[ic][oc][kh][kw]
 * = sum over b, oh, ow of A[b][ic][kh + oh][kw + ow] . G[b][oc][oh][ow], i.e. A's channels
 * as the nest's batch, the batch as its reduction channels, G as an OH x OW kernel and the
 * kh x kw taps as its output: each tile reads its window of A once. Stride 1, no dilation
 * (a strided conv's taps would need a dilated kernel, which the nest does not have). */
static bool windowed_conv_of_bwd_weight(const arch *a, const cost_query *q, cost_conv *c)
{
    const model_layer *l = q->layer;
    const layer_conv *k = &l->conv;
    if (q->pass != PASS_BWD_WEIGHT || l->kind != LAYER_CONV || k->stride_h != 1 ||
        k->stride_w != 1 || k->dil_h > 1 || k->dil_w > 1 || (uint64_t)k->kh * k->kw == 1)
        return false;
    uint32_t groups = k->groups ? k->groups : 1;
    *c = (cost_conv){.kh = l->out.h, .kw = l->out.w, .oh = k->kh, .ow = k->kw, .sh = 1, .sw = 1,
                     .ic = q->batch, .oc = l->out.c / groups, .batch = l->in.c / groups,
                     .groups = groups, .im2col = false};
    set_operands(a, q, false, c);
    return true;
}

/* a before b under the arch's objective for this query (cycles in the reference mode). */
static bool result_better(const cost_conv *c, const cost_result *x, const cost_result *y)
{
    tiling_stats sx = {.total_cycles = (double)x->total_cycles,
                       .energy_total_pj = x->energy_total_pj};
    tiling_stats sy = {.total_cycles = (double)y->total_cycles,
                       .energy_total_pj = y->energy_total_pj};
    return tiling_better(c->objective, &sx, &sy);
}

/* The GEMM lowering of a conv's BWD_WEIGHT reads the im2col copy of A (kh*kw taps per input
 * element); in training mode that copy is made first and its making is charged: A read once,
 * the copy written, a streaming pass before the GEMM (top comment, BWD_WEIGHT). */
static void charge_im2col_copy(const arch *a, const cost_query *q, const cost_conv *c,
                               cost_result *r)
{
    const model_layer *l = q->layer;
    if (q->pass != PASS_BWD_WEIGHT || l->kind != LAYER_CONV || q->out.bits == 0 ||
        (uint64_t)l->conv.kh * l->conv.kw == 1)
        return;
    double xb = c->x_dram_bits > c->x_bits ? c->x_dram_bits : c->x_bits;
    double rd = (double)q->batch * (double)l->in_elems * xb;
    double wr = (double)c->batch * (double)c->ic * (double)c->groups * c->x_bits;
    uint64_t cycles = (uint64_t)ceil((rd + wr) / a->dram_bits_per_cycle);
    r->stall_cycles += cycles;
    r->total_cycles += cycles;
    r->dram_read_bits += rd;
    r->dram_write_bits += wr;
    r->energy_pj[COST_E_DRAM] += (rd + wr) * a->dram_pj_per_bit;
    leak_and_latency(a, r);
}

/* The MAC pass on the array: its nest, or the better (by the objective) of it and the direct
 * form: for BWD_DATA of a stride-1 conv the transposed convolution, for BWD_WEIGHT of a
 * stride-1 conv the windowed nest. */
static int array_mac(const arch *a, const cost_query *q, const cost_conv *c, cost_result *r,
                     bs_error *e)
{
    int rc = conv_run(a, c, NULL, r, e);
    if (rc)
        return rc;
    charge_im2col_copy(a, q, c, r);
    cost_conv direct;
    bool has_direct = transposed_conv_of_bwd_data(a, q, &direct) ||
                      (q->out.bits && windowed_conv_of_bwd_weight(a, q, &direct));
    if (!has_direct)
        return BS_OK;
    cost_result d;
    if (conv_run(a, &direct, NULL, &d, NULL) != BS_OK)
        return BS_OK;   /* the direct form does not fit the buffers: the GEMM stands */
    if (result_better(c, &d, r))
        *r = d;
    return BS_OK;
}

/* Elements per scale of a block-scaled operand, 0 for one without blocks. */
static uint32_t scale_block(const num_format *f)
{
    return (f->kind == NUM_MX || f->kind == NUM_BFP) ? f->block : 0;
}

/* Vector ops of the per-block scale work of a MAC pass on an array without scale units (top
 * comment, BLOCK SCALES): one per block product, two with a non-power-of-two (E4M3) scale. */
static uint64_t block_scale_ops(const arch *a, const cost_query *q, uint64_t madds)
{
    if (a->family == ARCH_GPU || a->block_scale != ARCH_SCALE_VECTOR)
        return 0;
    uint32_t bx = scale_block(&q->x), by = scale_block(&q->y);
    uint32_t block = bx && by ? (bx < by ? bx : by) : bx ? bx : by;
    if (!block)
        return 0;
    bool fine_scale = (q->x.kind == NUM_MX && q->x.scale_bits > q->x.scale_exp_bits) ||
                      (q->y.kind == NUM_MX && q->y.scale_bits > q->y.scale_exp_bits);
    return ceil_div_u64(madds, block) * (fine_scale ? 2 : 1);
}

/* Adds n scale ops on the vector lanes to a MAC pass's result: compute, no traffic. */
static void add_scale_work(const arch *a, uint64_t n, cost_result *r)
{
    r->compute_cycles += ceil_div_u64(n, a->vector_lanes);
    r->total_cycles = r->compute_cycles + r->stall_cycles;
    r->energy_pj[COST_E_CORE] += (double)n * a->vector_pj_per_op;
    leak_and_latency(a, r);
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
    if (a->family != ARCH_GPU) {
        leak_and_latency(a, r);
        return;
    }
    r->latency_s += v->latency_s;   /* roofline times add; not via cycles (gpu_finish) */
    leak_and_total(a, r);
}

int cost_eval(const arch *a, const cost_query *q, cost_result *r, bs_error *e)
{
    memset(r, 0, sizeof *r);
    int rc = check_query(q, e);
    if (rc)
        return rc;
    const model_layer *l = q->layer;
    uint64_t madds, elems, scale_ops = 0;
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
        scale_ops = block_scale_ops(a, q, madds);
        if (scale_ops)
            add_scale_work(a, scale_ops, r);
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
    r->elem_ops = elems + scale_ops;
    return BS_OK;
}
