/* model.h — a network as a list of layers with shapes, and the op counts of its training passes.
 *
 * A model is what bitsim replays decisions onto: named layers in execution order, each with
 * its per-sample input/output tensor shapes and, for MAC layers, the shape of the product it
 * computes. Op counts follow ../shared/DESIGN.md ("The training passes of one layer"):
 *   FWD        A x W   B*M MAdds
 *   BWD_DATA   G x W   B*M MAdds, none for the first MAC layer (no gradient w.r.t. the input)
 *   BWD_WEIGHT A x G   B*M MAdds (for matmul of two activations: the second input's gradient)
 *   UPDATE     params elementwise (optimizer step)
 * Non-MAC layers (norm, pool, activation, add, softmax, embedding, rotary, mul) count
 * elementwise ops in every pass.
 * All counts are uint64_t and overflow-checked (checked.h); parsing reports file:line:field.
 * Finding and loading a network (the zoo, files, references with overrides): model_zoo.h.
 */
#ifndef BITSIM_MODEL_H
#define BITSIM_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

#define MODEL_NAME_MAX 64

typedef enum layer_kind {
    LAYER_CONV,     /* 2-D convolution, incl. grouped and depthwise (groups == in.c) */
    LAYER_LINEAR,   /* fully connected; applied per row (token) when rows > 1 */
    LAYER_MATMUL,   /* activation x activation product, e.g. Q.K^T and scores.V */
    LAYER_NORM,     /* batch/layer norm */
    LAYER_POOL,     /* max/avg/global pooling */
    LAYER_ACT,      /* relu, gelu, ... */
    LAYER_ADD,      /* residual add */
    LAYER_SOFTMAX,
    LAYER_EMBEDDING,  /* table lookup (token or learned position embedding): no MACs, traffic */
    LAYER_ROTARY,     /* rotary position embedding of q or k (RoFormer): elementwise */
    LAYER_MUL,        /* elementwise product of two inputs (the gate of SwiGLU) */
    LAYER_KIND_COUNT
} layer_kind;

typedef enum train_pass {
    PASS_FWD,
    PASS_BWD_DATA,
    PASS_BWD_WEIGHT,
    PASS_UPDATE,
    PASS_COUNT
} train_pass;

/* A per-sample tensor: channels x height x width (a sequence is c = 1, h = tokens, w = hidden,
 * or whatever the layer's FORMAT.md entry says). */
typedef struct tensor_shape {
    uint32_t c, h, w;
} tensor_shape;

/* The MAC work of one layer for one sample, as a product of matrices:
 *   count x ( [m x k] . [k x n] )
 * conv:   m = out_h*out_w, k = (in.c/groups)*kh*kw, n = out.c/groups, count = groups
 * linear: m = rows, k = in_features, n = out_features, count = 1
 * matmul: m, k, n of one head, count = heads
 * so fwd MAdds = count*m*k*n. The conv fields keep the spatial structure the BitFusion-style
 * tiling needs (kernel, stride, output size). */
typedef struct layer_gemm {
    uint64_t m, k, n, count;
} layer_gemm;

typedef struct layer_conv {
    uint32_t kh, kw, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups;
} layer_conv;

/* Everything of a layer the cost model reads: two layers whose shapes are equal cost the same
 * (replay's memo numbers the distinct shapes). Declared once, here: model_layer holds these
 * fields both as plain members (l->kind) and, overlaid, as one value (l->shape). */
#define MODEL_LAYER_SHAPE_FIELDS                                                               \
    layer_kind kind;                                                                           \
    char op[16];            /* sub-kind as written: "max", "avg", "relu", "batch", ... */      \
    tensor_shape in, out;   /* per sample */                                                   \
    layer_conv conv;        /* LAYER_CONV; LAYER_POOL uses kh, kw, stride, pad (dil = groups = 1) */ \
    layer_gemm gemm;        /* MAC layers only (conv, linear, matmul) */                       \
    bool first_mac;         /* first MAC layer of the network: BWD_DATA skipped (exactly:      \
                             * a MAC layer none of whose inputs needs a gradient) */          \
    uint64_t params;        /* trainable parameters (weights + bias + norm affine) */          \
    uint64_t weight_elems;  /* elements of the MAC weight tensor (0 for matmul/non-MAC) */     \
    uint64_t in_elems, out_elems;   /* per sample */                                           \
    uint64_t fwd_madds;     /* per sample, MAC layers */                                       \
    uint64_t fwd_elem_ops;  /* per sample, non-MAC layers (elementwise ops of FWD) */          \
    bool bias;              /* conv/linear: has a bias vector (counted in params) */          \
    bool skip_bwd_data;     /* no input needs a gradient: BWD_DATA costs 0 (see FORMAT.md) */ \
    bool skip_bwd_weight;   /* matmul whose second input needs no gradient */

typedef struct layer_shape {
    MODEL_LAYER_SHAPE_FIELDS
} layer_shape;

typedef struct model_layer {
    char name[MODEL_NAME_MAX];
    union {
        struct {
            MODEL_LAYER_SHAPE_FIELDS
        };
        layer_shape shape;  /* the same fields as one value: layers start zeroed (padding
                             * too), so equal shapes compare equal with memcmp */
    };
    long src_line;          /* line in the model file, for messages */
    /* where the inputs come from (which gradients the backward passes must produce) */
    int32_t src, src2;      /* input layer indices: -1 the network input (or an input=
                             * shape), -2 none (src2 of one-input layers) */
    bool tied;              /* linear whose weight is an earlier embedding's (tied=): its
                             * weight_elems are kept, its params are the bias only */
    uint32_t kv_heads;      /* matmul: heads of the right operand (grouped-query attention;
                             * = gemm.count when not grouped). Not part of the shape: the
                             * cost model reads each head's K/V as its own (repeat_kv) */
} model_layer;

/* A model-file parameter (`param NAME DEFAULT`, models/FORMAT.md): a whole number the layer
 * lines use as $NAME, e.g. the sequence length of a transformer. value is what this load
 * used (the default or an override of the model reference). */
#define MODEL_VARS_MAX 8
#define MODEL_VAR_NAME_MAX 24
typedef struct model_var {
    char name[MODEL_VAR_NAME_MAX];
    uint64_t value, dflt;
} model_var;

typedef struct model {
    char name[MODEL_NAME_MAX];  /* zoo name or file stem */
    char source[256];           /* path it was read from */
    char description[128];      /* the file's `description` line (model list) */
    tensor_shape input;         /* per-sample network input */
    model_layer *layers;
    uint32_t n_layers;
    model_var vars[MODEL_VARS_MAX];  /* in file order */
    uint32_t n_vars;
} model;

/* True for conv, linear and matmul. */
bool model_layer_is_mac(const model_layer *l);
/* Canonical names: "conv", "linear", ...; "FWD", "BWD_DATA", ... ; NULL past the end. */
const char *model_kind_name(layer_kind k);
const char *model_pass_name(train_pass p);

/* Releases what model_load (model_zoo.h) allocated. */
void model_free(model *m);

/* Index of the layer called name, or -1. */
int model_find_layer(const model *m, const char *name);

/* Op counts of one layer for one pass at batch B, overflow-checked: MAdds for MAC layers
 * (0 for BWD_DATA of the first MAC layer and for UPDATE), elementwise ops otherwise and
 * for UPDATE (= params). Returns false on overflow. */
bool model_pass_madds(const model_layer *l, train_pass p, uint64_t batch, uint64_t *out);
bool model_pass_elem_ops(const model_layer *l, train_pass p, uint64_t batch, uint64_t *out);

/* Trainable parameters of the network (weights, biases, norm affines). */
uint64_t model_params(const model *m);

#endif
