/* scheme.h — generators that write what a published quantized-training scheme decides.
 *
 * One table row per scheme (scheme.c): name, one-line summary, citation, its parameters with
 * the defaults of its paper/code, its default run length, and the function that builds the
 * trace. A generator sees the model, the run shape and its resolved parameters and emits
 * changes with trace_set; the resolved parameters (every one, defaults included) go into the
 * trace header so a trace says exactly how it was made.
 */
#ifndef BITSIM_SCHEME_H
#define BITSIM_SCHEME_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "model.h"
#include "trace.h"

typedef struct scheme_param {
    const char *name;
    const char *default_value;
    const char *help;
} scheme_param;

#define SCHEME_PARAMS_MAX 16

typedef struct scheme_info {
    const char *name;
    const char *summary;
    const char *source;             /* paper + section / public code */
    uint64_t default_epochs;        /* when --epochs is not given */
    scheme_param params[SCHEME_PARAMS_MAX];    /* terminated by a NULL name */
} scheme_info;

/* The run a generator is asked for. epochs 0: the scheme's default; iters_per_epoch 0:
 * ceil(50000 / batch) (CIFAR's 50,000 training images). params: "k=v" strings. */
typedef struct scheme_request {
    const char *scheme;
    const char *model_ref;          /* written into the trace header */
    const model *model;             /* loaded model (copied into the trace) */
    uint64_t batch, iters_per_epoch, epochs, seed;
    const char *const *params;
    size_t n_params;
    const char *provenance;         /* may be NULL */
} scheme_request;

/* The table, for listings. */
const scheme_info *scheme_table(size_t *n);

/* Builds a finished trace. Unknown scheme or parameter, bad values: BS_EUSAGE. */
int scheme_generate(trace *t, const scheme_request *req, bs_error *e);

/* ---- Private Part: for tests/test_scheme.c only ---- */

/* CPT's forward bit-width at iteration t (GATECH-EIC/CPT cpt_cifar/train.py,
 * cyclic_adjust_precision): rint(bmin + 0.5 (bmax - bmin) (1 + cos(pi (t mod P)/P + pi))). */
unsigned scheme_cpt_bits(uint64_t t, uint64_t period, unsigned bmin, unsigned bmax);

#endif
