/* tiling.h — the loop nest of one convolution on a BitFusion-style array, and its search.
 *
 * Private to the cost module (cost.c builds a tiling_nest from a layer-pass; tests and the
 * bench reach it through cost_conv_eval). The nest is the public BitFusion simulator's
 * (hsharma35/bitfusion, src/optimizer/optimizer.py): five tiled loops B/b, OW/ow, OH/oh,
 * IC/ic, OC/oc around a tile the array computes from its three buffers. tiling.c says how a
 * tile and a loop order become cycles, traffic and energy, and how the search stays exact
 * while evaluating a small part of the 120 loop orders x tilings.
 */
#ifndef BITSIM_TILING_H
#define BITSIM_TILING_H

#include <stdbool.h>
#include <stdint.h>

#include "arch.h"
#include "cost.h"

enum { TILE_B, TILE_OW, TILE_OH, TILE_IC, TILE_OC, TILE_LOOPS };

/* Everything the formulas need, in doubles (bit counts stay exact below 2^53). Namespaces
 * are indexed by arch_buf: ARCH_WBUF (y operand), ARCH_ABUF (x operand), ARCH_OBUF. */
typedef struct tiling_nest {
    double dim[TILE_LOOPS];     /* full extents B, OW, OH, IC, OC */
    double kh, kw, sh, sw;
    bool im2col;
    bool reduce_window;         /* direct conv: the lanes split kh*kw*ic, not ic (lane_reduce) */
    arch_objective objective;   /* what the search minimises (tiling.c OBJECTIVE) */
    double lanes_in;            /* rows x MACs per fusion unit: reduction elements per cycle */
    double cols;                /* output lanes M */
    double passes;              /* temporal passes per MAC (> 1 above pmax) */
    double density;             /* compute scale from skipped zeros (1 = dense) */
    double bits[ARCH_BUF_COUNT];        /* y, x storage bits; partial-sum bits */
    double cap_bits[ARCH_BUF_COUNT];    /* a tile may use this much of each buffer */
    double dram_factor[ARCH_BUF_COUNT]; /* DRAM bits per buffer bit (compression; out: 1) */
    double out_bits;            /* 0: reference output traffic (psum width, padded, filled and
                                 * written back); else the training output stage writes each
                                 * of out_elems outputs once at out_bits (tiling.c) */
    double out_elems;           /* B * OW * OH * OC, the real outputs (training stage only) */
    double if_bits;             /* DRAM interface bits per cycle */
    double rd_pj[ARCH_BUF_COUNT], wr_pj[ARCH_BUF_COUNT];
    double core_pj, dram_pj;
} tiling_nest;

typedef struct tiling_stats {
    double compute_cycles, stall_cycles, total_cycles;
    double sram_rd[ARCH_BUF_COUNT], sram_wr[ARCH_BUF_COUNT];
    double dram_rd, dram_wr;
    double energy_pj[COST_E_LEAK];  /* core, wbuf, abuf, obuf, dram */
    double energy_total_pj;         /* summed in the public simulator's order (tie-breaks) */
} tiling_stats;

/* Searches tilings and loop orders for the least objective (n->objective; cycles: least
 * cycles, then least energy). Returns false when no
 * tiling fits the buffers. t receives the choice. */
bool tiling_search(const tiling_nest *n, tiling_stats *best, cost_tiling *t);
/* a ranks before b under objective o (tiling.c OBJECTIVE). */
bool tiling_better(arch_objective o, const tiling_stats *a, const tiling_stats *b);
/* One given tiling (t->tile, t->order); false when it does not fit. Fills t->num. */
bool tiling_eval(const tiling_nest *n, cost_tiling *t, tiling_stats *s);

#endif
