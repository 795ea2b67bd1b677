/* cost_private.h — the cost module's private part: cost.c's inner steps, for its tests.
 *
 * The tiling search and the throughput factor are what cost_eval and cost_conv_eval are made
 * of; tests/test_cost.c and tests/bench_cost.c check them one by one (tests/check_deps.sh
 * refuses this header outside the cost* modules).
 */
#ifndef BITSIM_COST_PRIVATE_H
#define BITSIM_COST_PRIVATE_H

#include <stdint.h>

#include "arch.h"
#include "cost.h"
#include "cost_conv.h"

/* The same nest with a given tiling and order (no search): the per-tiling cost the search
 * minimises. t->order and t->tile must be set; t->num is recomputed. */
int cost_conv_eval_tiling(const arch *a, const cost_conv *c, cost_tiling *t, cost_result *r,
                          bs_error *e);
/* MACs per fusion unit per cycle for multiplier widths bx, by on arch a (BitFusion's
 * perf_factor, extended above pmax by temporal decomposition: see cost.c). */
double cost_perf_factor(const arch *a, uint32_t bx, uint32_t by);

#endif
