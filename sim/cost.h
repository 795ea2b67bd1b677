/* cost.h — what one layer-pass costs on one accelerator.
 *
 * cost_eval maps (layer, training pass, operand formats, densities, batch) onto a loop nest
 * the array runs — a convolution, or a GEMM written as a 1x1 "fc" convolution — and returns
 * MAdds, BitOPs, cycles (compute, memory stalls, total), buffer and DRAM traffic in bits,
 * energy by component and latency. The loop nest is costed the way the public BitFusion
 * simulator does (hsharma35/bitfusion, optimizer.py get_stats_fast / _optimize_for_order):
 * power-of-two tiles at most half of each buffer, the loop order and tiling of least cycles
 * (then least energy; training passes: the arch's tiling_objective, edp by default), DRAM
 * traffic by the promotion rule, memory overlapped with compute. cost_conv.h is that nest
 * alone, the "reference mode" whose results equal the public simulator's rows in
 * ../shared/reference/bitfusion_layers.csv. Where bitsim goes beyond it (training passes,
 * widths above pmax, floats, sparsity, leakage, non-MAC work and its fusion, systolic and GPU
 * baselines) cost.c's top comment states the rule and its source.
 *
 * Nothing here allocates: cost_eval is pure and thread-safe, so callers may memoise it.
 */
#ifndef BITSIM_COST_H
#define BITSIM_COST_H

#include <stdbool.h>
#include <stdint.h>

#include "arch.h"
#include "err.h"
#include "model.h"
#include "numfmt.h"

/* Energy components: the one list (X(ID, name): COST_E_<ID>, cost_energy_name() "<name>"), in
 * this order everywhere downstream (replay's rows, the store's columns energy_<name>_pj, which
 * sim/schema.sql declares, reports). */
#define COST_ENERGY_COMPONENTS(X) \
    X(CORE, core) X(WBUF, wbuf) X(ABUF, abuf) X(OBUF, obuf) X(DRAM, dram) X(LEAK, leak)
typedef enum cost_energy {
#define COST_E_ID(id, name) COST_E_##id,
    COST_ENERGY_COMPONENTS(COST_E_ID)
#undef COST_E_ID
    COST_E_COUNT
} cost_energy;

/* "core", "wbuf", "abuf", "obuf", "dram", "leak"; NULL out of range. */
const char *cost_energy_name(cost_energy k);

/* DRAM sweeps of one non-MAC layer-pass: whole tensors the size of the layer's input (in) or
 * output (out) read or written (cost.c NON-MAC WORK). planned == 0: not planned from the
 * graph; cost_eval then takes the mode's rule for a layer between two MAC layers. */
typedef struct cost_sweeps {
    uint8_t rd_in, rd_out, wr_in, wr_out, planned;
} cost_sweeps;

/* One layer-pass. Operands (DESIGN.md "The training passes of one layer"):
 *   FWD        x = A  (activations)   y = W  (weights)
 *   BWD_DATA   x = G  (output grads)  y = W  (transposed)
 *   BWD_WEIGHT x = A                  y = G
 *   UPDATE     x = WG (weight grads)  y = master W
 * Non-MAC layers: x = the tensor the pass streams; y.bits == 0 means a unary op.
 * Densities are fractions of non-zeros in [0, 1] (0: an all-zero tensor).
 * out: the format the pass's result is stored in (training mode, cost.c "OUTPUT STAGE"):
 *   FWD the layer's activation A, BWD_DATA the gradient G, BWD_WEIGHT the weight gradient WG.
 * out.bits == 0 is the reference behaviour: outputs move at partial-sum width, padded to the
 * array's columns, read in and written back as the public BitFusion simulator moves them. */
typedef struct cost_query {
    const model_layer *layer;
    train_pass pass;
    uint64_t batch;
    num_format x, y;
    double density_x, density_y;
    num_format out;
    /* x_stored: the format x is stored in DRAM when that is wider than x (a tensor stored at
     * its producer's or reader's width, quantized to x in the input stage: cost.c OUTPUT
     * STAGE); bits 0 = x. y_stored likewise. sweeps: a non-MAC layer's, cost_nonmac_plan. */
    num_format x_stored, y_stored;
    cost_sweeps sweeps;
} cost_query;

/* The loop nest chosen (for display and debugging; equal optima may differ in it). */
typedef struct cost_tiling {
    char order[5];              /* outermost first: 'B','W','H','I','O' = B/b OW/ow OH/oh IC/ic OC/oc */
    uint64_t num[5], tile[5];   /* tile count and tile size per loop, indexed B,W,H,I,O */
    int dataflow;               /* 0 input, 1 output, 2 weight stationary */
    uint64_t search_points;     /* tilings x loop orders considered (before pruning) */
} cost_tiling;

typedef struct cost_result {
    uint64_t madds;             /* multiply-accumulates (0 for vector work) */
    uint64_t elem_ops;          /* elementwise ops (UPDATE, non-MAC layers) */
    double bitops;              /* madds * b_x * b_y (DESIGN.md; fp32 counts 32) */
    uint64_t compute_cycles, stall_cycles, total_cycles;   /* total = compute + stall */
    double sram_read_bits[ARCH_BUF_COUNT];      /* indexed by arch_buf */
    double sram_write_bits[ARCH_BUF_COUNT];
    double dram_read_bits, dram_write_bits;
    double energy_pj[COST_E_COUNT];
    double energy_total_pj;
    double latency_s;   /* THE CLOCK RULE: the only clock-dependent figures are latency_s =
                         * total_cycles / clock and leakage energy = leak power x latency_s;
                         * cycles, traffic and dynamic energy are per cycle (bitfusion and
                         * systolic families). replay_result_rescale_clock() and the sweep's
                         * clock groups rely on it; the sweep checks it against full replays. */
    double perf_factor;         /* MACs per fusion unit per cycle (< 1 above pmax) */
    cost_tiling tiling;
} cost_result;

/* The DRAM sweeps of layer i of m in every pass under a's nonmac mode (cost.c NON-MAC WORK):
 * in fused mode they depend on the layer's producer and consumers. MAC layers: their bias
 * work's sweeps. */
void cost_nonmac_plan(const arch *a, const model *m, uint32_t i, cost_sweeps out[PASS_COUNT]);

/* Evaluates one layer-pass. Errors: bad query (zero batch, density outside [0,1], zero bits),
 * a layer the arch cannot tile (a single tile overflows a buffer), count overflow. */
int cost_eval(const arch *a, const cost_query *q, cost_result *r, bs_error *e);

/* Whether cost_eval's result on arch a depends on a query's density_x (operand 0) or
 * density_y (1): only when the arch skips that operand's zeros ([sparsity] mode) or
 * compresses DRAM traffic ([dram] compress). When false, every density in [0, 1] gives the
 * same result bit for bit, so a caller that memoises cost_eval may key on density 1. */
bool cost_reads_density(const arch *a, int operand);

/* Multiplier width of a format on arch a (ints/fx: bits; fp: significand or native; bfp: its
 * mantissa bits). */
uint32_t cost_mul_bits(const arch *a, const num_format *f);

/* Names for display: "input stationary", ... */
const char *cost_dataflow_name(int dataflow);

#endif
