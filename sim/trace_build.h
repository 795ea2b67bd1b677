/* trace_build.h — building a trace in code: what the scheme generators (scheme.c) write with.
 *
 * trace_begin, then trace_set / trace_set_where / trace_add_overhead in iteration order, then
 * trace_finish; the result is a trace like one read from a file (trace.h), ready for
 * trace_write and replay. Every call validates what it is given, as the reader validates a
 * record, so a generator cannot build a trace the reader would refuse.
 */
#ifndef BITSIM_TRACE_BUILD_H
#define BITSIM_TRACE_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "model.h"
#include "trace.h"

/* A change of some fields of a decision, as one record states it. mask bits: */
#define TRACE_CH_FMT(c) (1u << (c))                         /* c: tensor_class */
#define TRACE_CH_DENSITY(i) (1u << (TENSOR_COUNT + (i)))    /* i: 0..2 (W, A, G) */
#define TRACE_CH_STORE(c) (1u << (TENSOR_COUNT + TRACE_DENSITY_COUNT + (c)))
#define TRACE_CH_ALL ((1u << (2 * TENSOR_COUNT + TRACE_DENSITY_COUNT)) - 1)
typedef struct trace_change {
    uint32_t mask;
    trace_decision d;   /* only the masked fields are used */
} trace_change;

/* trace_begin takes a copy of m (or loads model_ref when m is NULL)
 * and validates the header values; params and provenance may be NULL. */
int trace_begin(trace *t, const char *model_ref, const model *m, uint64_t batch,
                uint64_t iters_per_epoch, uint64_t epochs, const char *scheme,
                const char *params, const char *provenance, bs_error *e);
/* From iteration `it` on, layer `layer` changes the masked fields (validated: bit-widths
 * 1..32, densities and inlier fractions in [0,1]; a change of G without GW sets GW = G, as
 * the reader does; TRACE_CH_STORE(TENSOR_GW) is rejected). Per layer, iterations must not decrease
 * between calls; it < total_iters. */
int trace_set(trace *t, uint64_t it, uint32_t layer, const trace_change *c, bs_error *e);
/* trace_set on every layer for which pick(layer, ctx) is true (pick NULL: all layers). */
int trace_set_where(trace *t, uint64_t it, bool (*pick)(const model_layer *, void *), void *ctx,
                    const trace_change *c, bs_error *e);
int trace_add_overhead(trace *t, uint64_t first, uint64_t end, uint64_t ops, unsigned bits,
                       const char *label, bs_error *e);
/* Marks the trace complete (segments are kept closed at total_iters all along) and sorts
 * the overheads into canonical order; trace_write requires it. */
int trace_finish(trace *t, bs_error *e);

#endif
