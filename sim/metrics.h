/* metrics.h — the papers' own cost metrics of a training run, next to the hardware's.
 *
 * A user must be able to reproduce each paper's headline number from a trace before looking at
 * what an accelerator would really do. These metrics depend on the trace and the model only
 * (never on an arch), so they are the same on every arch a trace is replayed on:
 *   CPT / FracTrain training-cost ratio  (GATECH-EIC/CPT cpt_cifar/train.py)
 *   AdaPT speedup, AdaPT's own su_own     (lorenz0890/AdaPT utils/analytics.py analyse(),
 *                                          arXiv 2107.13490): 2 F / (Q + F), forward only
 *   training-memory footprint by tensor class, at the run's peak iteration
 *   SmaQ storage ratio                    (Shoghi et al., IEEE CAL 2021, Eq. 4)
 * metrics.c's top comment gives each formula, its source, and where bitsim generalises it.
 */
#ifndef BITSIM_METRICS_H
#define BITSIM_METRICS_H

#include <stdint.h>

#include "err.h"
#include "model.h"
#include "numfmt.h"
#include "trace.h"

/* The papers' metrics of a run (metrics_compute). Declared once: replay_totals holds these
 * fields as plain members and, overlaid, as one metrics_result value (replay.h). */
#define METRICS_RESULT_FIELDS                                                                  \
    double cpt_cost_ratio;  /* CPT/FracTrain: sum (b_fw^2 + 2 b_fw b_grad)/3/32^2 per iter, averaged */ \
    double adapt_speedup;   /* AdaPT's performance model vs fp32 */                          \
    double mem_weights_bits, mem_fmaps_bits, mem_grads_bits, mem_wgrads_bits, mem_optim_bits;  \
    double smaq_storage_benefit;    /* SmaQ Eq. 4, NaN when not a smaq run */

typedef struct metrics_result {
    METRICS_RESULT_FIELDS
} metrics_result;

/* The operands of one training pass of layer l under decision d (DESIGN.md, cost.h):
 *   FWD x=A y=W, BWD_DATA x=G y=W, BWD_WEIGHT x=A y=GW, UPDATE x=WG y=U.
 * Non-MAC layers stream one tensor (y.bits = 0, a unary op): FWD A, BWD_DATA G, BWD_WEIGHT GW;
 * their UPDATE is WG with U like any layer with parameters. GW is the gradient as the
 * weight-gradient pass reads it (trace.h; = G unless a trace bifurcates it) and has G's
 * density. Densities of WG and U are 1. */
typedef struct metrics_operands {
    num_format x, y;
    double density_x, density_y;
} metrics_operands;

void metrics_pass_operands(const model_layer *l, train_pass p, const trace_decision *d,
                           metrics_operands *out);

/* Word length AdaPT weights a MAC with: the element width (fx8.4 -> 8, fp32 -> 32, a bfp
 * mantissa -> its bits). A pass runs at the wider of its two operands. */
unsigned metrics_word_bits(const num_format *f);

/* AdaPT's word-length x density weighted MAdds of one pass:
 * madds x max(word(x), word(y)) x density_x x density_y. */
double metrics_wl_madds(uint64_t madds, const metrics_operands *o);

/* Fills the papers' metrics of a finished trace. Errors: out of memory, op-count overflow
 * (BS_EINPUT naming the trace's model and layer). */
int metrics_compute(const trace *tr, metrics_result *t, bs_error *e);

#endif
