/* trace.h — what a quantized-training run decided, as piecewise-constant segments per layer.
 *
 * A trace (traces/FORMAT.md) names a model and the run's shape (batch, iterations per epoch,
 * epochs), then lists only CHANGES: "from iteration i on, these layers use W=fx8.4 A=int6 ...".
 * The reader turns the records into, for every layer of the model, an array of segments that
 * covers [0, total_iters) without gaps, each segment a maximal run of iterations with one
 * decision (adjacent segments of a layer always differ). Memory is O(layers x changes), never
 * O(iterations): replay walks segments (cost = length x cost of one iteration).
 * Layers and iterations not mentioned keep the default decision: every tensor fp32, density 1,
 * no split storage. Scheme overhead work (AdaPT's checks, MuPPET's gradient-diversity metric)
 * is kept as overhead records. The writer writes the canonical text: trace_write of a trace
 * read from trace_write's output gives identical bytes.
 * Building a trace in code (the scheme generators) is trace_build.h.
 */
#ifndef BITSIM_TRACE_H
#define BITSIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "model.h"
#include "numfmt.h"

#define TRACE_VERSION 1

typedef enum tensor_class {
    TENSOR_W,   /* weights as used by the MAC passes */
    TENSOR_A,   /* activations (the layer's input) */
    TENSOR_G,   /* activation gradients / errors */
    TENSOR_WG,  /* weight gradients */
    TENSOR_U,   /* update / master weights */
    TENSOR_GW,  /* the activation gradient as the weight-gradient pass (A x G) reads it: SBM's
                 * "gradients bifurcation" keeps a wider copy of G for that pass. A change of G
                 * that does not name GW sets GW too, so GW == G unless a record says otherwise
                 * (traces/FORMAT.md, "Fields"). GW has no split storage: it is a compute
                 * operand, stored as G. Last in the enum so older indices keep their values. */
    TENSOR_COUNT
} tensor_class;

/* Densities (non-zero fraction, 0..1) exist for W, A, G: index with TENSOR_W/A/G. */
#define TRACE_DENSITY_COUNT 3

/* Split storage of a stored tensor (SmaQ, Shoghi et al. 2021, Eq. 4): a per-tensor header of
 * header_bits (SmaQ: mean and std as two fp32 = 64), inliers (within +-1 sigma of the mean) at
 * inlier_bits, outliers at outlier_bits, inlier_frac of the elements being inliers. Storage
 * bits of a tensor of N elements = header_bits + N*(inlier_frac*inlier_bits +
 * (1-inlier_frac)*outlier_bits). inlier_bits == 0 means "no split": stored in its fmt. */
typedef struct trace_storage {
    uint8_t inlier_bits, outlier_bits;  /* 1..32 each when split */
    uint16_t header_bits;
    double inlier_frac;                 /* 0..1 */
} trace_storage;

typedef struct trace_decision {
    num_format fmt[TENSOR_COUNT];
    double density[TRACE_DENSITY_COUNT];    /* W, A, G */
    trace_storage store[TENSOR_COUNT];      /* SmaQ-style split storage */
} trace_decision;

/* A segment points at its decision, interned: the trace keeps one copy of every distinct
 * decision (trace_decision_equal), owned by the trace and valid until trace_free, so equal
 * decisions are one pointer. A segment is 24 bytes instead of 176, which is what bounds a
 * trace that changes every layer at every step (10^5 steps x 289 layers of Llama-2-7B). */
typedef struct trace_segment {
    uint64_t first, end;        /* iterations [first, end) */
    const trace_decision *d;
} trace_segment;

struct trace_pool;              /* the interned decisions (trace.c) */

/* Scheme overhead: `ops` operations of `bits`-bit operands at EVERY iteration of [first, end)
 * (a one-off check is a range of one iteration), labelled e.g. "kl", "gd". */
#define TRACE_LABEL_MAX 32
typedef struct trace_overhead {
    uint64_t first, end;
    uint64_t ops;           /* per iteration in the range */
    uint8_t bits;           /* 1..32 */
    char label[TRACE_LABEL_MAX];
} trace_overhead;

typedef struct trace_layer_segs {
    trace_segment *segs;
    size_t n, cap;
} trace_layer_segs;

#define TRACE_REF_MAX 256
#define TRACE_SCHEME_MAX 32
#define TRACE_PARAMS_MAX 1024
#define TRACE_PROVENANCE_MAX 1024

typedef struct trace {
    int version;                            /* TRACE_VERSION */
    char model_ref[TRACE_REF_MAX];          /* as written: zoo name or file path */
    uint64_t batch, iters_per_epoch, epochs;
    uint64_t total_iters;                   /* iters_per_epoch * epochs (checked) */
    char scheme[TRACE_SCHEME_MAX];
    char params[TRACE_PARAMS_MAX];          /* "k=v k=v" (canonical: single spaces), may be "" */
    char provenance[TRACE_PROVENANCE_MAX];  /* free text, may be "" */
    bool has_accuracy;                      /* header `accuracy` given */
    double accuracy_pct;                    /* final accuracy reached, percent (0..100) */
    model model;                            /* the loaded model, owned */
    trace_layer_segs *layers;               /* model.n_layers entries */
    struct trace_pool *pool;                /* the segments' decisions, owned */
    trace_overhead *overheads;              /* sorted by (first, end, label, ops, bits) */
    size_t n_overheads, cap_overheads;
    bool finished;                          /* trace_finish done: ready to write/replay */
    bool partial;                           /* ended by 'partial N' instead of 'end': the run
                                             * was cut (a killed or stopped capture) and
                                             * total_iters is N, less than the header's plan */
} trace;

/* Reads a trace file. path names the input in messages ("FILE:LINE: FIELD: ..."). The model
 * reference is loaded with model_load (a relative file path is tried next to the trace file
 * first). All errors are BS_EINPUT except out of memory (BS_EINTERNAL). On error t is left
 * freed. */
int trace_read_file(trace *t, const char *path, bs_error *e);

/* Writes the canonical text. Requires a finished trace. */
int trace_write(const trace *t, FILE *out, bs_error *e);
/* Canonical text into a malloc'd NUL-terminated buffer (*len without the NUL). */
int trace_write_buffer(const trace *t, char **buf, size_t *len, bs_error *e);
void trace_free(trace *t);

/* Segments of layer i (0 <= i < model.n_layers); NULL/0 when out of range. */
const trace_segment *trace_layer_segments(const trace *t, uint32_t layer, size_t *n);
/* Total segments over all layers. */
size_t trace_segment_count(const trace *t);

/* Names of the record fields: "W","A","G","WG","U","GW"; "dW","dA","dG"; "sW",...  */
const char *trace_tensor_name(tensor_class c);

#endif
