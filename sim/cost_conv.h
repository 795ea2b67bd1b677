/* cost_conv.h — the cost model's reference mode: one convolution as the public BitFusion
 * simulator takes it.
 *
 * cost_eval (cost.h) lowers every MAC layer-pass onto this nest and adds what training needs;
 * cost_conv_eval is the nest alone, with the simulator's inputs (square kernel, input and
 * weight precision, im2col for a first layer) and its choice of tiling (least cycles), so its
 * rows can be checked one for one against ../shared/reference/bitfusion_layers.csv
 * (`bitsim cost --conv`, tests/test_cost.c).
 */
#ifndef BITSIM_COST_CONV_H
#define BITSIM_COST_CONV_H

#include <stdbool.h>
#include <stdint.h>

#include "arch.h"
#include "cost.h"
#include "err.h"

/* Reference mode: one convolution (or fc: k = o = s = 1) as the public BitFusion simulator
 * takes it. Fields beyond its own (non-square, groups, float widths, densities) default to the
 * reference behaviour when left as cost_conv_init sets them. */
typedef struct cost_conv {
    uint32_t kh, kw;            /* kernel */
    uint32_t oh, ow;            /* output size */
    uint32_t sh, sw;            /* stride */
    uint64_t ic, oc;            /* channels per group */
    uint64_t batch;
    uint64_t groups;            /* independent copies run one after another (1) */
    double x_bits, y_bits;      /* storage bits per element (bfp: incl. its exponent share):
                                 * traffic and buffer footprint */
    uint32_t x_mul_bits, y_mul_bits;    /* widths the multiplier sees (= storage for ints) */
    bool im2col;                /* lower to a GEMM (the simulator does for a first layer) */
    double density_x, density_y;
    double out_bits;            /* 0: reference output traffic; else the training output
                                 * stage writes each output once at this width (cost.c) */
    double x_dram_bits;         /* 0: = x_bits; else x's width in DRAM (quantize on read) */
    double y_dram_bits;         /* the same for y */
    arch_objective objective;   /* what the tiling search minimises (cycles) */
} cost_conv;

/* Square conv as in the reference CSV: k, o, s, ic, oc, batch, iprec, wprec, im2col. */
void cost_conv_init(cost_conv *c, uint32_t k, uint32_t o, uint32_t s, uint64_t ic, uint64_t oc,
                    uint64_t batch, uint32_t iprec, uint32_t wprec, bool im2col);
int cost_conv_eval(const arch *a, const cost_conv *c, cost_result *r, bs_error *e);

#endif
