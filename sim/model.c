/* model.c — reading networks (bitsim model text, SCALE-Sim CSV) and counting their work
 * (finding them, in the zoo or by path: model_zoo.c).
 *
 * A model file is one layer per line in execution order (models/FORMAT.md). Each line is
 * checked completely before the next is read: the kind and every key come from tables
 * (kind_specs, key_specs), the layer's input shape comes from the line above, from `from=`,
 * or from an explicit `input=CxHxW`, and the kind's shape rule then derives the output shape,
 * the GEMM view [m x k].[k x n] x count, the parameters and the per-sample work. Every product
 * goes through checked.h, so a file whose numbers overflow 64 bits is rejected with its
 * file:line:field instead of wrapping. Because all per-sample counts and the network totals
 * are proven to fit at load time, later per-batch products only need one more check.
 *
 * Which backward passes a layer really needs is derived, not declared: a tensor "needs a
 * gradient" when some layer at or before it has parameters. BWD_DATA of a layer is skipped
 * when none of its inputs needs a gradient (DESIGN.md: the first layer has no BWD_DATA),
 * which is exact for branching graphs too (BERT's q, k and v projections all read the input).
 */
#include "model.h"
#include "model_private.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "text.h"

static const char *const kind_names[] = {"conv", "linear", "matmul",   "norm",
                                         "pool", "act",    "add",      "softmax",
                                         "embedding", "rotary", "mul", NULL};
static const char *const pass_names[] = {"FWD", "BWD_DATA", "BWD_WEIGHT", "UPDATE", NULL};

bool model_layer_is_mac(const model_layer *l)
{
    return l->kind == LAYER_CONV || l->kind == LAYER_LINEAR || l->kind == LAYER_MATMUL;
}

const char *model_kind_name(layer_kind k)
{
    return (unsigned)k < LAYER_KIND_COUNT ? kind_names[k] : NULL;
}

const char *model_pass_name(train_pass p)
{
    return (unsigned)p < PASS_COUNT ? pass_names[p] : NULL;
}

int model_pass_parse(const char *s)
{
    for (int i = 0; pass_names[i]; i++)
        if (strcasecmp(pass_names[i], s) == 0)
            return i;
    return -1;
}

/* ---- keys ------------------------------------------------------------------------------ */

typedef enum key_id {
    KEY_IN, KEY_OUT, KEY_K, KEY_KH, KEY_KW, KEY_STRIDE, KEY_STRIDE_H, KEY_STRIDE_W, KEY_PAD,
    KEY_PAD_H, KEY_PAD_W, KEY_DILATION, KEY_GROUPS, KEY_BIAS, KEY_ROWS, KEY_M, KEY_N,
    KEY_HEADS, KEY_AFFINE, KEY_OP, KEY_FROM, KEY_SHORTCUT, KEY_INPUT, KEY_VOCAB, KEY_DIM,
    KEY_POSITIONS, KEY_KV_HEADS, KEY_TIED, KEY_COUNT
} key_id;

#define BIT(k) (1u << (k))

typedef struct key_spec {
    const char *name;
    uint64_t min, max;  /* numeric keys */
    bool text;          /* value is a word, not a number */
} key_spec;

static const key_spec key_specs[KEY_COUNT] = {
    [KEY_IN] = {"in", 1, UINT32_MAX, false},
    [KEY_OUT] = {"out", 1, UINT32_MAX, false},
    [KEY_K] = {"k", 1, UINT32_MAX, false},
    [KEY_KH] = {"kh", 1, UINT32_MAX, false},
    [KEY_KW] = {"kw", 1, UINT32_MAX, false},
    [KEY_STRIDE] = {"stride", 1, UINT32_MAX, false},
    [KEY_STRIDE_H] = {"stride_h", 1, UINT32_MAX, false},
    [KEY_STRIDE_W] = {"stride_w", 1, UINT32_MAX, false},
    [KEY_PAD] = {"pad", 0, UINT32_MAX, false},
    [KEY_PAD_H] = {"pad_h", 0, UINT32_MAX, false},
    [KEY_PAD_W] = {"pad_w", 0, UINT32_MAX, false},
    [KEY_DILATION] = {"dilation", 1, UINT32_MAX, false},
    [KEY_GROUPS] = {"groups", 1, UINT32_MAX, false},
    [KEY_BIAS] = {"bias", 0, 1, false},
    [KEY_ROWS] = {"rows", 1, UINT32_MAX, false},
    [KEY_M] = {"m", 1, UINT32_MAX, false},
    [KEY_N] = {"n", 1, UINT32_MAX, false},
    [KEY_HEADS] = {"heads", 1, UINT32_MAX, false},
    [KEY_AFFINE] = {"affine", 0, 1, false},
    [KEY_OP] = {"op", 0, 0, true},
    [KEY_FROM] = {"from", 0, 0, true},
    [KEY_SHORTCUT] = {"shortcut", 0, 0, true},
    [KEY_INPUT] = {"input", 0, 0, true},
    [KEY_VOCAB] = {"vocab", 1, UINT32_MAX, false},
    [KEY_DIM] = {"dim", 1, UINT32_MAX, false},
    [KEY_POSITIONS] = {"positions", 0, 1, false},
    [KEY_KV_HEADS] = {"kv_heads", 1, UINT32_MAX, false},
    [KEY_TIED] = {"tied", 0, 0, true},
};
_Static_assert(KEY_COUNT <= 32, "layer_line.given is a 32-bit mask");

/* One parsed layer line: numeric values, word values, which keys were given. */
typedef struct layer_line {
    uint64_t num[KEY_COUNT];
    const char *word[KEY_COUNT];
    uint32_t given;
} layer_line;

static bool has(const layer_line *ll, key_id k)
{
    return (ll->given & BIT(k)) != 0;
}

static uint64_t num_or(const layer_line *ll, key_id k, uint64_t dflt)
{
    return has(ll, k) ? ll->num[k] : dflt;
}

/* ---- parse state ----------------------------------------------------------------------- */

typedef struct parse_state {
    model *m;
    const char *path;
    long line;
    bs_error *e;
    uint32_t cap;
    bool have_input;        /* an `input C H W` line was seen */
    bool input_grad;        /* `input C H W grad=1`: the model is a slice of a deeper net */
    bool fresh_input_grad;  /* input= shapes need a gradient (SCALE-Sim rows after the first) */
    enum { CSV_FORM_UNKNOWN, CSV_FORM_CONV, CSV_FORM_GEMM } csv_form;   /* SCALE-Sim header */
    bool *needs_grad;       /* per layer: its output needs a gradient */
    const char *overrides;  /* "NAME=VALUE ..." from the model reference, or NULL */
    uint64_t total_madds, total_params;
    long lines_seen;        /* non-blank lines parsed so far */
} parse_state;

/* Input of a layer: its shape, elements and whether a gradient must flow into it. */
typedef struct layer_input {
    int32_t src;
    tensor_shape shape;
    uint64_t elems;
    bool needs_grad;
    const char *name;   /* for messages */
} layer_input;

static int fail(parse_state *ps, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(parse_state *ps, const char *field, const char *fmt, ...)
{
    char msg[BS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_at(ps->e, ps->path, ps->line, field, "%s", msg);
}

static bool shape_elems(tensor_shape s, uint64_t *out)
{
    uint64_t hw;
    return checked_mul(s.h, s.w, &hw) && checked_mul(hw, s.c, out);
}

static void shape_str(tensor_shape s, char *buf, size_t n)
{
    snprintf(buf, n, "%" PRIu32 "x%" PRIu32 "x%" PRIu32, s.c, s.h, s.w);
}

/* "CxHxW" with each part in 1..UINT32_MAX. */
static bool parse_shape(const char *s, tensor_shape *out)
{
    char buf[96];
    if (strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    uint64_t v[3];
    char *p = buf;
    for (int i = 0; i < 3; i++) {
        char *x = strchr(p, 'x');
        if ((i < 2) != (x != NULL))
            return false;
        if (x)
            *x = '\0';
        if (!text_parse_u64(p, 1, UINT32_MAX, &v[i]))
            return false;
        p = x ? x + 1 : p;
    }
    out->c = (uint32_t)v[0];
    out->h = (uint32_t)v[1];
    out->w = (uint32_t)v[2];
    return true;
}

static const model_var *find_var(const model *m, const char *name)
{
    for (uint32_t i = 0; i < m->n_vars; i++)
        if (strcmp(m->vars[i].name, name) == 0)
            return &m->vars[i];
    return NULL;
}

/* A whole number as written, or $NAME: the value of an earlier `param NAME DEFAULT` line. */
static int parse_number(parse_state *ps, const char *field, const char *value, uint64_t min,
                        uint64_t max, uint64_t *out)
{
    if (value[0] != '$') {
        if (!text_parse_u64(value, min, max, out))
            return fail(ps, field, "'%s' is not a whole number in %" PRIu64 "..%" PRIu64,
                        value, min, max);
        return BS_OK;
    }
    const model_var *v = find_var(ps->m, value + 1);
    if (!v)
        return fail(ps, field, "'%s': no parameter '%s' (declare it first: 'param %s DEFAULT')",
                    value, value + 1, value + 1);
    if (v->value < min || v->value > max)
        return fail(ps, field, "%s = %" PRIu64 " is not in %" PRIu64 "..%" PRIu64, value,
                    v->value, min, max);
    *out = v->value;
    return BS_OK;
}

/* The output of layer src, or the network input for src = -1, as an input. */
static int name_input(parse_state *ps, int32_t src, layer_input *in)
{
    model *m = ps->m;
    in->src = src;
    if (src >= 0) {
        const model_layer *from = &m->layers[src];
        in->shape = from->out;
        in->elems = from->out_elems;
        in->needs_grad = ps->needs_grad[src];
        in->name = from->name;
        return BS_OK;
    }
    in->shape = m->input;
    in->needs_grad = ps->input_grad;
    in->name = "input";
    if (!shape_elems(in->shape, &in->elems))   /* checked on the input line already */
        return fail(ps, "input", "element count overflows 64 bits");
    return BS_OK;
}

/* Resolves `from=NAME` ("input" is the network input). */
static int resolve_from(parse_state *ps, const char *name, layer_input *in)
{
    if (strcmp(name, "input") == 0) {
        if (!ps->have_input)
            return fail(ps, "from", "'input' used but the file has no 'input C H W' line");
        return name_input(ps, -1, in);
    }
    int i = model_find_layer(ps->m, name);
    if (i < 0)
        return fail(ps, "from", "no earlier layer called '%s'", name);
    return name_input(ps, i, in);
}

/* The layer on the line above, or the network input for the first layer. */
static int previous_input(parse_state *ps, layer_input *in)
{
    if (ps->m->n_layers > 0)
        return name_input(ps, (int32_t)ps->m->n_layers - 1, in);
    if (!ps->have_input)
        return fail(ps, "input",
                    "no input shape: put an 'input C H W' line before the first layer "
                    "or give input=CxHxW");
    return name_input(ps, -1, in);
}

/* ---- per-kind shape rules -------------------------------------------------------------- */

typedef struct shape_ctx {
    parse_state *ps;
    const layer_line *ll;
    model_layer *l;
    layer_input in, in2;    /* in2 only for add and matmul */
} shape_ctx;

/* l->out from one spatial dimension of a conv or pool window. */
static int window_out(shape_ctx *c, const char *field, uint32_t size, uint32_t k, uint32_t s,
                      uint32_t pad, uint32_t dil, uint32_t *out)
{
    uint64_t span = (uint64_t)dil * (k - 1) + 1, padded = (uint64_t)size + 2 * (uint64_t)pad;
    if (span > padded)
        return fail(c->ps, field, "window %" PRIu64 " is larger than the padded input %" PRIu64
                    " (input '%s')", span, padded, c->in.name);
    uint64_t o = (padded - span) / s + 1;
    if (o > UINT32_MAX)
        return fail(c->ps, field, "output size %" PRIu64 " too large", o);
    *out = (uint32_t)o;
    return BS_OK;
}

static int fill_gemm(shape_ctx *c, const char *field, uint64_t m, uint64_t k, uint64_t n,
                     uint64_t count)
{
    layer_gemm *g = &c->l->gemm;
    g->m = m;
    g->k = k;
    g->n = n;
    g->count = count;
    uint64_t mk, mkn;
    if (!checked_mul(m, k, &mk) || !checked_mul(mk, n, &mkn) ||
        !checked_mul(mkn, count, &c->l->fwd_madds))
        return fail(c->ps, field, "MAdd count overflows 64 bits");
    return BS_OK;
}

/* Weights of a conv or linear layer: fan_in x out, plus an out-long bias unless bias=0
 * (PyTorch's default is a bias; torchvision's ResNets and MobileNets switch it off). */
static int set_weights(shape_ctx *c, uint64_t fan_in, uint64_t out)
{
    model_layer *l = c->l;
    l->bias = num_or(c->ll, KEY_BIAS, 1) != 0;
    if (!checked_mul(fan_in, out, &l->weight_elems) ||
        !checked_add(l->weight_elems, l->bias ? out : 0, &l->params))
        return fail(c->ps, "out", "weight count overflows 64 bits");
    return BS_OK;
}

static int shape_conv(shape_ctx *c)
{
    const layer_line *ll = c->ll;
    model_layer *l = c->l;
    layer_conv *cv = &l->conv;
    static const key_id square_or_hw[][3] = {{KEY_K, KEY_KH, KEY_KW},
                                             {KEY_STRIDE, KEY_STRIDE_H, KEY_STRIDE_W},
                                             {KEY_PAD, KEY_PAD_H, KEY_PAD_W}};
    for (int i = 0; i < 3; i++) {
        const key_id *t = square_or_hw[i];
        if (has(ll, t[0]) && (has(ll, t[1]) || has(ll, t[2])))
            return fail(c->ps, key_specs[t[0]].name, "give %s= or %s=/%s=, not both",
                        key_specs[t[0]].name, key_specs[t[1]].name, key_specs[t[2]].name);
    }
    if (!has(ll, KEY_K) && !(has(ll, KEY_KH) && has(ll, KEY_KW)))
        return fail(c->ps, "k", "missing: conv needs k= (or both kh= and kw=)");
    uint64_t k = num_or(ll, KEY_K, 1), st = num_or(ll, KEY_STRIDE, 1),
             pad = num_or(ll, KEY_PAD, 0);
    cv->kh = (uint32_t)num_or(ll, KEY_KH, k);
    cv->kw = (uint32_t)num_or(ll, KEY_KW, k);
    cv->stride_h = (uint32_t)num_or(ll, KEY_STRIDE_H, st);
    cv->stride_w = (uint32_t)num_or(ll, KEY_STRIDE_W, st);
    cv->pad_h = (uint32_t)num_or(ll, KEY_PAD_H, pad);
    cv->pad_w = (uint32_t)num_or(ll, KEY_PAD_W, pad);
    cv->dil_h = cv->dil_w = (uint32_t)num_or(ll, KEY_DILATION, 1);
    cv->groups = (uint32_t)num_or(ll, KEY_GROUPS, 1);
    uint32_t cin = c->in.shape.c, cout = (uint32_t)ll->num[KEY_OUT];
    if (has(ll, KEY_IN) && ll->num[KEY_IN] != cin)
        return fail(c->ps, "in", "%" PRIu64 " input channels given but input '%s' has %" PRIu32,
                    ll->num[KEY_IN], c->in.name, cin);
    if (cin % cv->groups || cout % cv->groups)
        return fail(c->ps, "groups", "%" PRIu32 " groups do not divide %" PRIu32
                    " input and %" PRIu32 " output channels", cv->groups, cin, cout);
    l->out.c = cout;
    int rc = window_out(c, has(ll, KEY_KH) ? "kh" : "k", c->in.shape.h, cv->kh, cv->stride_h,
                        cv->pad_h, cv->dil_h, &l->out.h);
    if (rc == BS_OK)
        rc = window_out(c, has(ll, KEY_KW) ? "kw" : "k", c->in.shape.w, cv->kw, cv->stride_w,
                        cv->pad_w, cv->dil_w, &l->out.w);
    if (rc)
        return rc;
    uint64_t m = (uint64_t)l->out.h * l->out.w, kk;
    if (!checked_mul((uint64_t)(cin / cv->groups) * cv->kh, cv->kw, &kk))
        return fail(c->ps, "k", "kernel size overflows 64 bits");
    if ((rc = fill_gemm(c, "out", m, kk, cout / cv->groups, cv->groups)))
        return rc;
    return set_weights(c, kk, cout);
}

/* tied=EMB: the linear layer's in x out weight IS the vocab x dim table of an earlier
 * embedding (GPT-2's LM head, Radford et al. 2019, as in Hugging Face's GPT2LMHeadModel): the
 * MACs and the weight tensor the passes read stay, the parameters are counted once, at the
 * embedding (only a bias of the linear layer adds its own). */
static int tie_weights(shape_ctx *c, uint64_t fin, uint64_t fout)
{
    const model *m = c->ps->m;
    const char *name = c->ll->word[KEY_TIED];
    int t = model_find_layer(m, name);
    if (t < 0)
        return fail(c->ps, "tied", "no earlier layer called '%s'", name);
    const model_layer *emb = &m->layers[t];
    if (emb->kind != LAYER_EMBEDDING)
        return fail(c->ps, "tied", "'%s' is a %s layer, not an embedding", name,
                    kind_names[emb->kind]);
    if (emb->out.w != fin || emb->params != c->l->weight_elems)
        return fail(c->ps, "tied", "weight in %" PRIu64 " x out %" PRIu64 " differs from the "
                    "table of '%s' (%" PRIu64 " entries x dim %" PRIu32 ")", fin, fout, name,
                    emb->params / emb->out.w, emb->out.w);
    c->l->tied = true;
    c->l->params -= c->l->weight_elems;
    return BS_OK;
}

/* Linear layers see their input as rows x in_features (a flatten is free), so only the
 * element count has to chain. */
static int shape_linear(shape_ctx *c)
{
    const layer_line *ll = c->ll;
    model_layer *l = c->l;
    uint64_t rows = num_or(ll, KEY_ROWS, 1), fin = ll->num[KEY_IN], fout = ll->num[KEY_OUT];
    uint64_t want;
    if (!checked_mul(rows, fin, &want))
        return fail(c->ps, "in", "rows x in overflows 64 bits");
    if (want != c->in.elems)
        return fail(c->ps, "in", "rows %" PRIu64 " x in %" PRIu64 " = %" PRIu64
                    " elements but input '%s' has %" PRIu64, rows, fin, want, c->in.name,
                    c->in.elems);
    l->out = (tensor_shape){1, (uint32_t)rows, (uint32_t)fout};
    int rc = fill_gemm(c, "out", rows, fin, fout, 1);
    if (rc == BS_OK)
        rc = set_weights(c, fin, fout);
    return rc == BS_OK && has(ll, KEY_TIED) ? tie_weights(c, fin, fout) : rc;
}

/* heads x ([m x k] . [k x n]): the line above is the left operand, from= the right one;
 * like linear, only element counts must chain (heads split and merge for free). */
static int shape_matmul(shape_ctx *c)
{
    const layer_line *ll = c->ll;
    model_layer *l = c->l;
    uint64_t m = ll->num[KEY_M], k = ll->num[KEY_K], n = ll->num[KEY_N],
             heads = num_or(ll, KEY_HEADS, 1), kv = num_or(ll, KEY_KV_HEADS, heads), a, b;
    /* grouped-query attention (Ainslie et al., EMNLP 2023): kv_heads groups of heads/kv_heads
     * query heads share one key/value head. The MACs are those of heads products; only the
     * right operand is smaller (each head reads its group's K or V, as repeat_kv does) */
    if (heads % kv)
        return fail(c->ps, "kv_heads", "%" PRIu64 " kv_heads do not divide %" PRIu64 " heads",
                    kv, heads);
    if (!checked_mul(m, k, &a) || !checked_mul(a, heads, &a) || !checked_mul(k, n, &b) ||
        !checked_mul(b, kv, &b))
        return fail(c->ps, "k", "operand size overflows 64 bits");
    if (a != c->in.elems)
        return fail(c->ps, "m", "left operand heads x m x k = %" PRIu64
                    " elements but input '%s' has %" PRIu64, a, c->in.name, c->in.elems);
    if (b != c->in2.elems)
        return fail(c->ps, "from", "right operand %s x k x n = %" PRIu64
                    " elements but '%s' has %" PRIu64, has(ll, KEY_KV_HEADS) ? "kv_heads"
                    : "heads", b, c->in2.name, c->in2.elems);
    l->kv_heads = (uint32_t)kv;
    l->out = (tensor_shape){(uint32_t)heads, (uint32_t)m, (uint32_t)n};
    return fill_gemm(c, "n", m, k, n, heads);
}

static const char *const norm_ops[] = {"batch", "layer", "rms", NULL};

static int shape_norm(shape_ctx *c)
{
    model_layer *l = c->l;
    l->out = c->in.shape;
    /* batch norm: gamma and beta per channel; layer norm: per element of the last dim; RMS
     * norm (Zhang & Sennrich, NeurIPS 2019): a gain per element of the last dim, no bias */
    uint64_t per = strcmp(l->op, "batch") == 0 ? l->in.c : l->in.w;
    uint64_t tensors = strcmp(l->op, "rms") == 0 ? 1 : 2;
    l->params = num_or(c->ll, KEY_AFFINE, 1) ? tensors * per : 0;
    return BS_OK;
}

/* A lookup table of vocab x dim: every element of the input is an index (a token id, or the
 * position with positions=1) and becomes one dim-long row, so the output is 1 x elems x dim.
 * Learned positions index 0..tokens-1, so there must be no more tokens than table rows (GPT-2:
 * n_ctx = 1024). */
static int shape_embedding(shape_ctx *c)
{
    const layer_line *ll = c->ll;
    model_layer *l = c->l;
    uint64_t vocab = ll->num[KEY_VOCAB], dim = ll->num[KEY_DIM], rows = c->in.elems;
    if (num_or(ll, KEY_POSITIONS, 0) && rows > vocab)
        return fail(c->ps, "positions", "%" PRIu64 " positions from input '%s' but the table "
                    "has %" PRIu64 " (the model's context length)", rows, c->in.name, vocab);
    if (rows > UINT32_MAX)
        return fail(c->ps, "input", "%" PRIu64 " indices from '%s': more than %u", rows,
                    c->in.name, UINT32_MAX);
    l->out = (tensor_shape){1, (uint32_t)rows, (uint32_t)dim};
    if (!checked_mul(vocab, dim, &l->params))
        return fail(c->ps, "dim", "vocab x dim overflows 64 bits");
    return BS_OK;
}

static const char *const pool_ops[] = {"max", "avg", "global", NULL};

static int shape_pool(shape_ctx *c)
{
    const layer_line *ll = c->ll;
    model_layer *l = c->l;
    layer_conv *cv = &l->conv;
    cv->dil_h = cv->dil_w = cv->groups = 1;
    l->out.c = c->in.shape.c;
    if (strcmp(l->op, "global") == 0) {
        if (ll->given & (BIT(KEY_K) | BIT(KEY_STRIDE) | BIT(KEY_PAD)))
            return fail(c->ps, "op", "global pooling takes no k, stride or pad");
        cv->kh = l->in.h;
        cv->kw = l->in.w;
        cv->stride_h = cv->stride_w = 1;
        l->out.h = l->out.w = 1;
        return BS_OK;
    }
    if (!has(ll, KEY_K))
        return fail(c->ps, "k", "missing: %s pooling needs k=", l->op);
    cv->kh = cv->kw = (uint32_t)ll->num[KEY_K];
    cv->stride_h = cv->stride_w = (uint32_t)num_or(ll, KEY_STRIDE, ll->num[KEY_K]);
    cv->pad_h = cv->pad_w = (uint32_t)num_or(ll, KEY_PAD, 0);
    int rc = window_out(c, "k", l->in.h, cv->kh, cv->stride_h, cv->pad_h, 1, &l->out.h);
    return rc ? rc : window_out(c, "k", l->in.w, cv->kw, cv->stride_w, cv->pad_w, 1, &l->out.w);
}

static const char *const act_ops[] = {"relu", "relu6", "tanh", "sigmoid", "gelu", "silu",
                                      "identity", NULL};

static int shape_same(shape_ctx *c)
{
    c->l->out = c->in.shape;
    return BS_OK;
}

static const char *const shortcut_ops[] = {"none", "A", NULL};

/* Two-input elementwise layers: both inputs of one shape, which is the output's. */
static int equal_shapes(shape_ctx *c, const char *hint)
{
    tensor_shape a = c->in.shape, b = c->in2.shape;
    c->l->out = a;
    if (a.c == b.c && a.h == b.h && a.w == b.w)
        return BS_OK;
    char sa[48], sb[48];
    shape_str(a, sa, sizeof sa);
    shape_str(b, sb, sizeof sb);
    return fail(c->ps, "from", "shape %s of '%s' differs from %s of '%s'%s", sb, c->in2.name,
                sa, c->in.name, hint);
}

static int shape_mul(shape_ctx *c)
{
    return equal_shapes(c, "");
}

/* Residual add. shortcut=A (He et al. 2016, CIFAR option A) lets the from= input be
 * subsampled by an integer stride and zero-padded in channels, with no parameters or MACs. */
static int shape_add(shape_ctx *c)
{
    model_layer *l = c->l;
    tensor_shape a = c->in.shape, b = c->in2.shape;
    char sa[48], sb[48];
    shape_str(a, sa, sizeof sa);
    shape_str(b, sb, sizeof sb);
    l->out = a;
    const char *sc = c->ll->word[KEY_SHORTCUT];
    if (!sc || strcmp(sc, "none") == 0)
        return equal_shapes(c, " (different shapes need shortcut=A or a projection conv)");
    uint32_t s = b.h / a.h;
    if (s == 0 || b.c > a.c || (b.h + s - 1) / s != a.h || (b.w + s - 1) / s != a.w)
        return fail(c->ps, "from", "shortcut A cannot map %s of '%s' onto %s of '%s' "
                    "(needs a whole subsampling stride and no more channels)",
                    sb, c->in2.name, sa, c->in.name);
    return BS_OK;
}

/* What each kind takes and how its shape follows (models/FORMAT.md documents the same). */
typedef struct kind_spec {
    uint32_t allowed, required;
    const char *const *ops;     /* allowed op= words, NULL if none */
    const char *default_op;     /* NULL: op= is required when ops != NULL */
    bool two_inputs;            /* from= is the second input, the line above the first */
    int (*shape)(shape_ctx *c);
} kind_spec;

#define COMMON_KEYS (BIT(KEY_FROM) | BIT(KEY_INPUT))
#define CONV_KEYS                                                                           \
    (BIT(KEY_IN) | BIT(KEY_OUT) | BIT(KEY_K) | BIT(KEY_KH) | BIT(KEY_KW) | BIT(KEY_STRIDE) |  \
     BIT(KEY_STRIDE_H) | BIT(KEY_STRIDE_W) | BIT(KEY_PAD) | BIT(KEY_PAD_H) | BIT(KEY_PAD_W) | \
     BIT(KEY_DILATION) | BIT(KEY_GROUPS) | BIT(KEY_BIAS))

static const kind_spec kind_specs[LAYER_KIND_COUNT] = {
    [LAYER_CONV] = {CONV_KEYS | COMMON_KEYS, BIT(KEY_OUT), NULL, NULL, false, shape_conv},
    [LAYER_LINEAR] = {BIT(KEY_IN) | BIT(KEY_OUT) | BIT(KEY_ROWS) | BIT(KEY_BIAS) | BIT(KEY_TIED) |
                      COMMON_KEYS, BIT(KEY_IN) | BIT(KEY_OUT), NULL, NULL, false, shape_linear},
    [LAYER_MATMUL] = {BIT(KEY_M) | BIT(KEY_K) | BIT(KEY_N) | BIT(KEY_HEADS) |
                      BIT(KEY_KV_HEADS) | COMMON_KEYS,
                      BIT(KEY_M) | BIT(KEY_K) | BIT(KEY_N) | BIT(KEY_FROM), NULL, NULL, true,
                      shape_matmul},
    [LAYER_NORM] = {BIT(KEY_OP) | BIT(KEY_AFFINE) | COMMON_KEYS, 0, norm_ops, "batch", false,
                    shape_norm},
    [LAYER_POOL] = {BIT(KEY_OP) | BIT(KEY_K) | BIT(KEY_STRIDE) | BIT(KEY_PAD) | COMMON_KEYS,
                    BIT(KEY_OP), pool_ops, NULL, false, shape_pool},
    [LAYER_ACT] = {BIT(KEY_OP) | COMMON_KEYS, 0, act_ops, "relu", false, shape_same},
    [LAYER_ADD] = {BIT(KEY_FROM) | BIT(KEY_SHORTCUT), BIT(KEY_FROM), NULL, NULL, true,
                   shape_add},
    [LAYER_SOFTMAX] = {COMMON_KEYS, 0, NULL, NULL, false, shape_same},
    [LAYER_EMBEDDING] = {BIT(KEY_VOCAB) | BIT(KEY_DIM) | BIT(KEY_POSITIONS) | COMMON_KEYS,
                         BIT(KEY_VOCAB) | BIT(KEY_DIM), NULL, NULL, false, shape_embedding},
    [LAYER_ROTARY] = {COMMON_KEYS, 0, NULL, NULL, false, shape_same},
    [LAYER_MUL] = {BIT(KEY_FROM), BIT(KEY_FROM), NULL, NULL, true, shape_mul},
};

/* "in out k ..." for messages. */
static void key_list(uint32_t mask, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < KEY_COUNT && used < n; k++)
        if (mask & BIT(k)) {
            int w = snprintf(buf + used, n - used, "%s%s", used ? " " : "", key_specs[k].name);
            used += w > 0 ? (size_t)w : 0;
        }
}

static int parse_keys(parse_state *ps, layer_kind kind, char **tok, int n, layer_line *ll)
{
    const kind_spec *ks = &kind_specs[kind];
    char allowed[256];
    for (int i = 0; i < n; i++) {
        char *key, *value;
        if (!text_key_value(tok[i], &key, &value))
            return fail(ps, tok[i], "expected key=value");
        int k = -1;
        for (int j = 0; j < KEY_COUNT; j++)
            if (strcmp(key_specs[j].name, key) == 0)
                k = j;
        if (k < 0 || !(ks->allowed & BIT(k))) {
            key_list(ks->allowed, allowed, sizeof allowed);
            return fail(ps, key, "unknown key for %s (it takes: %s)", kind_names[kind],
                        allowed);
        }
        if (ll->given & BIT(k))
            return fail(ps, key, "given twice");
        ll->given |= BIT(k);
        const key_spec *sp = &key_specs[k];
        if (sp->text) {
            ll->word[k] = value;
        } else {
            int rc = parse_number(ps, key, value, sp->min, sp->max, &ll->num[k]);
            if (rc)
                return rc;
        }
    }
    if ((ll->given & ks->required) != ks->required) {
        for (int k = 0; k < KEY_COUNT; k++)
            if ((ks->required & BIT(k)) && !(ll->given & BIT(k)))
                return fail(ps, key_specs[k].name, "missing: %s needs %s=", kind_names[kind],
                            key_specs[k].name);
    }
    return BS_OK;
}

bool model_valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= MODEL_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._-/:[]", s[i]))
            return false;
    return true;
}

/* The next free layer, zeroed; NULL (e filled) when out of memory. */
static model_layer *add_layer_slot(parse_state *ps)
{
    model *m = ps->m;
    if (m->n_layers == ps->cap) {
        uint32_t cap = ps->cap ? ps->cap * 2 : 32;
        model_layer *nl = realloc(m->layers, cap * sizeof *nl);
        bool *ng = realloc(ps->needs_grad, cap * sizeof *ng);
        if (ng)
            ps->needs_grad = ng;
        if (nl)
            m->layers = nl;
        if (!nl || !ng) {
            err_set(ps->e, BS_EINTERNAL, "%s: out of memory", ps->path);
            return NULL;
        }
        ps->cap = cap;
    }
    model_layer *l = &m->layers[m->n_layers];
    memset(l, 0, sizeof *l);
    return l;
}

/* Per-sample elementwise work of one pass (FORMAT.md, "Elementwise ops"). UPDATE is params
 * for every kind and handled by the caller. */
static uint64_t elem_ops_per_sample(const model_layer *l, train_pass p)
{
    uint64_t e = l->out_elems, window = (uint64_t)l->conv.kh * l->conv.kw;
    switch (l->kind) {
    case LAYER_CONV:
    case LAYER_LINEAR:  /* the bias add, and its gradient's reduction */
        return l->bias && p != PASS_BWD_DATA ? e : 0;
    case LAYER_MATMUL:
        return 0;
    case LAYER_NORM:    /* statistics, normalize, scale+shift; dgamma, dbeta. RMS norm has
                         * no mean and no shift: sum of squares, normalize, scale; dgamma */
        if (strcmp(l->op, "rms") == 0)
            return p == PASS_BWD_WEIGHT ? (l->params ? e : 0) : 3 * e;
        return p == PASS_BWD_WEIGHT ? (l->params ? 2 * e : 0) : 4 * e;
    case LAYER_POOL:    /* one compare or add per window element, both ways */
        return p == PASS_BWD_WEIGHT ? 0 : window * e;
    case LAYER_ACT:
        return p == PASS_BWD_WEIGHT ? 0 : e;
    case LAYER_ADD:     /* the add; backward sums the two gradients at the fork */
        return p == PASS_BWD_WEIGHT ? 0 : e;
    case LAYER_SOFTMAX: /* max, exp, sum, divide; backward dot, subtract, multiply */
        return p == PASS_FWD ? 4 * e : p == PASS_BWD_DATA ? 3 * e : 0;
    case LAYER_EMBEDDING:   /* the gather moves each output element once; backward adds
                             * each gradient element into its table row; ids get none */
        return p == PASS_BWD_DATA ? 0 : e;
    case LAYER_ROTARY:  /* x*cos + rotate_half(x)*sin: 2 multiplies, 1 add; the same back */
        return p == PASS_BWD_WEIGHT ? 0 : 3 * e;
    case LAYER_MUL:     /* a*b; backward G*b and G*a */
        return p == PASS_FWD ? e : p == PASS_BWD_DATA ? 2 * e : 0;
    default:
        return 0;
    }
}

static int build_layer(parse_state *ps, layer_kind kind, const char *name,
                       const layer_line *ll_in);

static int parse_layer(parse_state *ps, char **tok, int n)
{
    int kind = text_lookup(kind_names, tok[0]);
    if (kind < 0) {
        char kinds[128];
        text_join(kind_names, "|", kinds, sizeof kinds);
        return fail(ps, "kind", "unknown layer kind '%s' (one of %s, or model, description, "
                    "input)", tok[0], kinds);
    }
    if (n < 2)
        return fail(ps, "name", "missing: '%s' needs a layer name", tok[0]);
    if (!model_valid_name(tok[1]) || strcmp(tok[1], "input") == 0)
        return fail(ps, "name", "'%s' is not a valid layer name (letters, digits, ._-/:[] ; "
                    "at most %d characters; not 'input')", tok[1], MODEL_NAME_MAX - 1);
    layer_line ll;
    memset(&ll, 0, sizeof ll);
    int rc = parse_keys(ps, (layer_kind)kind, tok + 2, n - 2, &ll);
    return rc ? rc : build_layer(ps, (layer_kind)kind, tok[1], &ll);
}

/* Appends one checked layer: inputs, shape rule, gradients, totals. */
static int build_layer(parse_state *ps, layer_kind kind, const char *name, const layer_line *ll_in)
{
    model *m = ps->m;
    int rc = BS_OK;
    int dup = model_find_layer(m, name);
    if (dup >= 0)
        return fail(ps, "name", "duplicate layer name '%s' (first on line %ld)", name,
                    m->layers[dup].src_line);
    layer_line ll = *ll_in;
    const kind_spec *ks = &kind_specs[kind];
    shape_ctx c;
    memset(&c, 0, sizeof c);
    c.ps = ps;
    c.ll = &ll;
    c.in2.src = -2;
    /* The slot first: growing the array moves the layers, and the inputs below point at
     * their names (issue 13 D1). */
    model_layer *l = add_layer_slot(ps);
    if (!l)
        return BS_EINTERNAL;

    /* inputs */
    if (has(&ll, KEY_INPUT)) {
        if (has(&ll, KEY_FROM) && !ks->two_inputs)
            return fail(ps, "input", "give either input= or from=, not both");
        tensor_shape s;
        if (!parse_shape(ll.word[KEY_INPUT], &s))
            return fail(ps, "input", "'%s' is not CxHxW with each part in 1..%u",
                        ll.word[KEY_INPUT], UINT32_MAX);
        c.in = (layer_input){.src = -1, .shape = s, .name = "input=",
                             .needs_grad = ps->fresh_input_grad};
        if (!shape_elems(s, &c.in.elems))
            return fail(ps, "input", "element count overflows 64 bits");
    } else if (has(&ll, KEY_FROM) && !ks->two_inputs) {
        rc = resolve_from(ps, ll.word[KEY_FROM], &c.in);
    } else {
        rc = previous_input(ps, &c.in);
    }
    if (rc == BS_OK && ks->two_inputs)
        rc = resolve_from(ps, ll.word[KEY_FROM], &c.in2);
    if (rc)
        return rc;

    c.l = l;
    snprintf(l->name, sizeof l->name, "%s", name);
    l->kind = (layer_kind)kind;
    l->src_line = ps->line;
    l->src = c.in.src;
    l->src2 = c.in2.src;
    l->in = c.in.shape;
    l->in_elems = c.in.elems;
    if (ks->ops) {
        const char *op = has(&ll, KEY_OP) ? ll.word[KEY_OP] : ks->default_op;
        if (text_lookup(ks->ops, op) < 0) {
            char ops[128];
            text_join(ks->ops, "|", ops, sizeof ops);
            return fail(ps, "op", "'%s' is not one of %s", op, ops);
        }
        snprintf(l->op, sizeof l->op, "%s", op);
    }
    if (has(&ll, KEY_SHORTCUT)) {
        if (text_lookup(shortcut_ops, ll.word[KEY_SHORTCUT]) < 0)
            return fail(ps, "shortcut", "'%s' is not one of none|A", ll.word[KEY_SHORTCUT]);
        snprintf(l->op, sizeof l->op, "%s", ll.word[KEY_SHORTCUT]);
    }
    if ((rc = ks->shape(&c)))
        return rc;
    if (!shape_elems(l->out, &l->out_elems))
        return fail(ps, "out", "output element count overflows 64 bits");

    /* gradients (see the top of the file) */
    l->skip_bwd_data = !c.in.needs_grad && (c.in2.src == -2 || !c.in2.needs_grad);
    if (l->kind == LAYER_MATMUL) {
        l->skip_bwd_data = !c.in.needs_grad;
        l->skip_bwd_weight = !c.in2.needs_grad;
    }
    if (l->kind == LAYER_EMBEDDING)     /* indices are integers: no gradient reaches them */
        l->skip_bwd_data = true;
    l->first_mac = model_layer_is_mac(l) && l->skip_bwd_data;
    ps->needs_grad[m->n_layers] = l->params > 0 || l->tied || c.in.needs_grad ||
                                  (c.in2.src != -2 && c.in2.needs_grad);

    /* per-sample totals must fit, so batch products need only one check later */
    uint64_t w = (uint64_t)l->conv.kh * l->conv.kw;
    if (l->out_elems > UINT64_MAX / 4 || (w && l->out_elems > UINT64_MAX / 4 / w))
        return fail(ps, "out", "elementwise op count overflows 64 bits");
    l->fwd_elem_ops = elem_ops_per_sample(l, PASS_FWD);
    if (!checked_add(ps->total_madds, l->fwd_madds, &ps->total_madds) ||
        !checked_add(ps->total_params, l->params, &ps->total_params))
        return fail(ps, "out", "network total overflows 64 bits");
    m->n_layers++;
    return BS_OK;
}

/* The value of NAME=VALUE among the reference's overrides (*found false if none). */
static int override_of(parse_state *ps, const char *name, bool *found, uint64_t *value)
{
    *found = false;
    const char *p = ps->overrides;
    size_t k = strlen(name);
    while (p && *p) {
        p += strspn(p, " \t");
        size_t w = strcspn(p, " \t");
        if (w > k && strncmp(p, name, k) == 0 && p[k] == '=') {
            if (*found)
                return fail(ps, name, "parameter '%s' overridden twice in the model reference",
                            name);
            char val[32] = "";
            size_t vl = w - k - 1;
            if (vl < sizeof val)
                memcpy(val, p + k + 1, vl);
            if (vl >= sizeof val || !text_parse_u64(val, 1, UINT32_MAX, value))
                return fail(ps, name, "override '%.*s' of the model reference: not a whole "
                            "number in 1..%u", (int)w, p, UINT32_MAX);
            *found = true;
        }
        p += w;
    }
    return BS_OK;
}

/* param NAME DEFAULT: a whole number the following lines use as $NAME. */
static int parse_param(parse_state *ps, char **tok, int n)
{
    model *m = ps->m;
    if (n != 3)
        return fail(ps, "param", "expected 'param NAME DEFAULT'");
    const char *name = tok[1];
    size_t k = strlen(name);
    bool ok = k > 0 && k < MODEL_VAR_NAME_MAX && (isalpha((unsigned char)name[0]) ||
                                                  name[0] == '_');
    for (size_t i = 0; ok && i < k; i++)
        ok = isalnum((unsigned char)name[i]) || name[i] == '_';
    if (!ok)
        return fail(ps, "param", "'%s' is not a parameter name (a letter or _, then letters, "
                    "digits or _; at most %d characters)", name, MODEL_VAR_NAME_MAX - 1);
    if (find_var(m, name))
        return fail(ps, "param", "parameter '%s' declared twice", name);
    if (m->n_vars == MODEL_VARS_MAX)
        return fail(ps, "param", "more than %d parameters", MODEL_VARS_MAX);
    model_var *v = &m->vars[m->n_vars];
    if (!text_parse_u64(tok[2], 1, UINT32_MAX, &v->dflt))
        return fail(ps, name, "default '%s' is not a whole number in 1..%u", tok[2],
                    UINT32_MAX);
    bool given;
    int rc = override_of(ps, name, &given, &v->value);
    if (rc)
        return rc;
    if (!given)
        v->value = v->dflt;
    snprintf(v->name, sizeof v->name, "%s", name);
    m->n_vars++;
    return BS_OK;
}

/* Every override of the reference must name a parameter of the file. */
static int check_overrides(const model *m, const char *path, const char *overrides,
                           bs_error *e)
{
    for (const char *p = overrides; p && *p;) {
        p += strspn(p, " \t");
        size_t w = strcspn(p, " \t"), k = strcspn(p, "=");
        if (w == 0)
            break;
        bool known = false;
        for (uint32_t i = 0; i < m->n_vars && !known; i++)
            known = k < w && strlen(m->vars[i].name) == k && strncmp(m->vars[i].name, p, k) == 0;
        if (!known) {
            char list[MODEL_VARS_MAX * (MODEL_VAR_NAME_MAX + 1) + 8] = "";
            for (uint32_t i = 0; i < m->n_vars; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                         i ? ", " : "", m->vars[i].name);
            return err_set(e, BS_EINPUT, "%s: no parameter '%.*s' to override (%s%s)", path,
                           (int)(k < w ? k : w), p, m->n_vars ? "it has: " : "it has none",
                           list);
        }
        p += w;
    }
    return BS_OK;
}

static int parse_directive(parse_state *ps, char **tok, int n, char *rest)
{
    model *m = ps->m;
    if (strcmp(tok[0], "param") == 0)
        return parse_param(ps, tok, n);
    if (strcmp(tok[0], "model") == 0) {
        if (n != 2 || !model_valid_name(tok[1]))
            return fail(ps, "model", "expected 'model NAME' (letters, digits, ._-)");
        snprintf(m->name, sizeof m->name, "%s", tok[1]);
        return BS_OK;
    }
    if (strcmp(tok[0], "description") == 0) {
        size_t k = strlen(rest);
        if (k >= sizeof m->description)
            k = sizeof m->description - 1;
        memcpy(m->description, rest, k);
        m->description[k] = '\0';
        return BS_OK;
    }
    /* input C H W */
    if (ps->have_input)
        return fail(ps, "input", "given twice");
    if (m->n_layers > 0)
        return fail(ps, "input", "must come before the first layer");
    if (n == 5) {
        char *key, *value;
        uint64_t g;
        if (!text_key_value(tok[4], &key, &value) || strcmp(key, "grad") != 0)
            return fail(ps, "input", "expected 'input C H W [grad=0|1]'");
        if (!text_parse_u64(value, 0, 1, &g))
            return fail(ps, "grad", "'%s' is not 0 or 1", value);
        ps->input_grad = g != 0;
    } else if (n != 4) {
        return fail(ps, "input", "expected 'input C H W [grad=0|1]'");
    }
    static const char *const dims[] = {"C", "H", "W"};
    uint64_t v[3];
    for (int i = 0; i < 3; i++) {
        if (tok[i + 1][0] == '$') {
            int rc = parse_number(ps, "input", tok[i + 1], 1, UINT32_MAX, &v[i]);
            if (rc)
                return rc;
        } else if (!text_parse_u64(tok[i + 1], 1, UINT32_MAX, &v[i])) {
            return fail(ps, "input", "%s '%s' is not a whole number in 1..%u", dims[i],
                        tok[i + 1], UINT32_MAX);
        }
    }
    m->input = (tensor_shape){(uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2]};
    uint64_t elems;
    if (!shape_elems(m->input, &elems))
        return fail(ps, "input", "element count overflows 64 bits");
    ps->have_input = true;
    return BS_OK;
}

static void set_stem(model *m, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strcspn(base, ".");
    if (n >= sizeof m->name)
        n = sizeof m->name - 1;
    memcpy(m->name, base, n);
    m->name[n] = '\0';
    snprintf(m->source, sizeof m->source, "%s", path);
}

typedef int (*line_parser)(parse_state *ps, char *line);

/* The one reading loop of both formats: line by line into a fresh model; on any error the
 * model is freed and the first error (file:line:field) returned. */
static int parse_lines(model *m, const char *path, const char *buf, size_t len,
                       const char *overrides, bs_error *e, line_parser parse_line)
{
    memset(m, 0, sizeof *m);
    set_stem(m, path);
    parse_state ps = {.m = m, .path = path, .e = e, .overrides = overrides};
    text_reader r;
    text_open_buffer(&r, path, buf, len);
    char *line;
    int rc;
    while ((rc = text_next_line(&r, &line, e)) == 1) {
        ps.line = r.line_no;
        if ((rc = parse_line(&ps, line)))
            break;
    }
    if (rc < 0)     /* a reader error (NUL byte, over-long line): e says which */
        rc = e ? e->code : BS_EINPUT;
    if (rc == 0 && m->n_layers == 0)    /* at the last line: where a layer was expected */
        rc = err_at(e, path, r.line_no > 0 ? r.line_no : 1, "layer",
                    "no layers (a model needs at least one layer line)");
    if (rc == 0)
        rc = check_overrides(m, path, overrides, e);
    free(ps.needs_grad);
    if (rc)
        model_free(m);
    return rc;
}

static int parse_model_line(parse_state *ps, char *line)
{
    char rest[TEXT_LINE_MAX];
    const char *after = line + strcspn(line, " \t");
    after += strspn(after, " \t");
    snprintf(rest, sizeof rest, "%s", after);
    char *tok[TEXT_TOKENS_MAX];
    int n = text_split(line, tok, TEXT_TOKENS_MAX);
    if (n < 0)
        return fail(ps, NULL, "more than %d words on one line", TEXT_TOKENS_MAX);
    static const char *const directives[] = {"model", "description", "input", "param", NULL};
    bool directive = text_lookup(directives, tok[0]) >= 0;
    /* A first line that is nothing of a model: some other file (a trace's `model
     * ../../etc/shadow`); its content is not quoted back (issue 13 D8). */
    if (ps->lines_seen++ == 0 && !directive && text_lookup(kind_names, tok[0]) < 0)
        return fail(ps, NULL, "not a bitsim model file: the first line must be a 'model', "
                    "'description', 'input', 'param' or layer line (models/FORMAT.md)");
    return directive ? parse_directive(ps, tok, n, rest) : parse_layer(ps, tok, n);
}

int model_parse_buffer_with(model *m, const char *path, const char *buf, size_t len,
                            const char *overrides, bs_error *e)
{
    return parse_lines(m, path, buf, len, overrides, e, parse_model_line);
}

int model_parse_buffer(model *m, const char *path, const char *buf, size_t len, bs_error *e)
{
    return model_parse_buffer_with(m, path, buf, len, NULL, e);
}

void model_free(model *m)
{
    free(m->layers);
    m->layers = NULL;
    m->n_layers = 0;
}

int model_find_layer(const model *m, const char *name)
{
    for (uint32_t i = 0; i < m->n_layers; i++)
        if (strcmp(m->layers[i].name, name) == 0)
            return (int)i;
    return -1;
}

bool model_pass_madds(const model_layer *l, train_pass p, uint64_t batch, uint64_t *out)
{
    bool counted = model_layer_is_mac(l) &&
                   (p == PASS_FWD || (p == PASS_BWD_DATA && !l->skip_bwd_data) ||
                    (p == PASS_BWD_WEIGHT && !l->skip_bwd_weight));
    /* a matmul of two activations whose right input needs no gradient has no BWD_WEIGHT;
     * conv and linear always produce WG */
    if (!counted) {
        *out = 0;
        return true;
    }
    return checked_mul(batch, l->fwd_madds, out);
}

bool model_pass_elem_ops(const model_layer *l, train_pass p, uint64_t batch, uint64_t *out)
{
    if (p == PASS_UPDATE) {
        *out = l->params;
        return true;
    }
    if (p == PASS_BWD_DATA && l->skip_bwd_data) {
        *out = 0;
        return true;
    }
    return checked_mul(batch, elem_ops_per_sample(l, p), out);
}

uint64_t model_fwd_madds(const model *m)
{
    uint64_t s = 0;
    for (uint32_t i = 0; i < m->n_layers; i++)
        s += m->layers[i].fwd_madds;    /* proven to fit at load time */
    return s;
}

uint64_t model_params(const model *m)
{
    uint64_t s = 0;
    for (uint32_t i = 0; i < m->n_layers; i++)
        s += m->layers[i].params;
    return s;
}

/* ---- SCALE-Sim topology import --------------------------------------------------------- */

/* SCALE-Sim (Samajdar et al., ISPASS 2020; scalesim-project/scale-sim-v2,
 * scalesim/topology_utils.py) reads one header line and then one row per layer, each row
 * ending in a comma. Conv form: name, IFMAP height, IFMAP width, filter height, filter width,
 * channels, filters, stride [, stride width]; the IFMAP already includes any padding, so the
 * output is ceil((ifmap - filter) / stride) + 1 (rounded up, so a last partial window
 * counts; the importer adds the smallest symmetric padding that gives the same count) and MACs = out_h*out_w*fh*fw*channels*filters.
 * Rows whose name contains "DP" are depthwise: SCALE-Sim runs one single-channel conv per
 * channel, which is a grouped conv with groups = channels here (same MACs). GEMM form (header
 * "Layer Name, M, N, K", `-i gemm`): SCALE-Sim turns it into ifmap M x K, filter 1 x K, one
 * channel, N filters, i.e. M*N*K MACs — a linear layer with rows = M, in = K, out = N.
 * Rows do not chain (SCALE-Sim lists MAC layers only, without pooling), so each row gets its
 * own input; the first row is taken as the network's first layer (no BWD_DATA), later rows
 * as inner layers. Names are trimmed and blanks or other characters not allowed in layer
 * names become '_'. */

static const char *const scalesim_conv_cols[] = {"IFMAP Height", "IFMAP Width",
                                                 "Filter Height", "Filter Width", "Channels",
                                                 "Num Filter", "Strides", "Stride Width"};
static const char *const scalesim_gemm_cols[] = {"M", "N", "K"};

/* Splits a CSV row at commas (no quoting in SCALE-Sim files), trims each field, and drops
 * the empty field after the customary trailing comma. Returns the field count or -1. */
static int csv_fields(char *s, char **f, int max)
{
    int n = 0;
    for (;;) {
        if (n == max)
            return -1;
        char *comma = strchr(s, ',');
        if (comma)
            *comma = '\0';
        while (isspace((unsigned char)*s))
            s++;
        size_t k = strlen(s);
        while (k > 0 && isspace((unsigned char)s[k - 1]))
            s[--k] = '\0';
        f[n++] = s;
        if (!comma)
            break;
        s = comma + 1;
    }
    if (n > 1 && f[n - 1][0] == '\0')
        n--;
    return n;
}

static void scalesim_name(const char *raw, char *out, size_t n)
{
    snprintf(out, n, "%s", raw);
    for (char *p = out; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-/:[]", *p))
            *p = '_';
}

static int scalesim_row(parse_state *ps, char **f, int n, bool gemm)
{
    int want_min = gemm ? 4 : 8, want_max = gemm ? 4 : 9;
    if (n < want_min || n > want_max)
        return fail(ps, NULL, "expected %d%s fields (name and %s), got %d", want_min,
                    gemm ? "" : " or 9", gemm ? "M, N, K" : "the conv columns", n);
    if (f[0][0] == '\0')
        return fail(ps, "Layer name", "empty");
    char name[MODEL_NAME_MAX];
    if (strlen(f[0]) >= sizeof name)
        return fail(ps, "Layer name", "longer than %d characters", MODEL_NAME_MAX - 1);
    scalesim_name(f[0], name, sizeof name);
    uint64_t v[8];
    for (int i = 1; i < n; i++) {
        const char *col = gemm ? scalesim_gemm_cols[i - 1] : scalesim_conv_cols[i - 1];
        if (!text_parse_u64(f[i], 1, UINT32_MAX, &v[i - 1]))
            return fail(ps, col, "'%s' is not a whole number in 1..%u", f[i], UINT32_MAX);
    }
    layer_line ll;
    memset(&ll, 0, sizeof ll);
    char shape[96];
    if (gemm) {
        snprintf(shape, sizeof shape, "1x%" PRIu64 "x%" PRIu64, v[0], v[2]);
        ll.num[KEY_ROWS] = v[0];
        ll.num[KEY_OUT] = v[1];
        ll.num[KEY_IN] = v[2];
        ll.num[KEY_BIAS] = 0;
        ll.given = BIT(KEY_ROWS) | BIT(KEY_OUT) | BIT(KEY_IN) | BIT(KEY_BIAS) | BIT(KEY_INPUT);
        ll.word[KEY_INPUT] = shape;
        return build_layer(ps, LAYER_LINEAR, name, &ll);
    }
    if (v[2] > v[0] || v[3] > v[1])
        return fail(ps, v[2] > v[0] ? "Filter Height" : "Filter Width",
                    "filter %" PRIu64 "x%" PRIu64 " larger than the IFMAP %" PRIu64 "x%" PRIu64,
                    v[2], v[3], v[0], v[1]);
    bool depthwise = strstr(f[0], "DP") != NULL;
    uint64_t out_c;
    if (depthwise && !checked_mul(v[4], v[5], &out_c))
        return fail(ps, "Num Filter", "channels x filters overflows");
    if (depthwise && out_c > UINT32_MAX)
        return fail(ps, "Num Filter", "channels x filters too large");
    snprintf(shape, sizeof shape, "%" PRIu64 "x%" PRIu64 "x%" PRIu64, v[4], v[0], v[1]);
    ll.word[KEY_INPUT] = shape;
    ll.num[KEY_KH] = v[2];
    ll.num[KEY_KW] = v[3];
    ll.num[KEY_OUT] = depthwise ? out_c : v[5];
    ll.num[KEY_GROUPS] = depthwise ? v[4] : 1;
    ll.num[KEY_STRIDE_H] = v[6];
    ll.num[KEY_STRIDE_W] = n == 9 ? v[7] : v[6];
    /* SCALE-Sim rounds the output up, ceil((ifmap - filter) / stride) + 1; the smallest
     * symmetric padding that gives the same count reproduces its MACs exactly */
    for (int d = 0; d < 2; d++) {
        uint64_t span = v[d] - v[2 + d], s = ll.num[d ? KEY_STRIDE_W : KEY_STRIDE_H];
        uint64_t deficit = ceil_div_u64(span, s) * s - span;
        ll.num[d ? KEY_PAD_W : KEY_PAD_H] = (deficit + 1) / 2;
    }
    ll.num[KEY_BIAS] = 0;
    ll.given = BIT(KEY_INPUT) | BIT(KEY_KH) | BIT(KEY_KW) | BIT(KEY_OUT) | BIT(KEY_GROUPS) |
               BIT(KEY_STRIDE_H) | BIT(KEY_STRIDE_W) | BIT(KEY_BIAS) |
               BIT(KEY_PAD_H) | BIT(KEY_PAD_W);
    return build_layer(ps, LAYER_CONV, name, &ll);
}

static int parse_scalesim_line(parse_state *ps, char *line)
{
    char *f[TEXT_TOKENS_MAX];
    int n = csv_fields(line, f, TEXT_TOKENS_MAX);
    if (n < 0)
        return fail(ps, NULL, "more than %d fields", TEXT_TOKENS_MAX);
    if (ps->csv_form == CSV_FORM_UNKNOWN) {
        /* the header names the form; SCALE-Sim itself only skips it */
        if (n >= 2 && strcasecmp(f[1], "M") == 0)
            ps->csv_form = CSV_FORM_GEMM;
        else if (n >= 2 && strncasecmp(f[1], "IFMAP Height", 12) == 0)
            ps->csv_form = CSV_FORM_CONV;
        else
            return fail(ps, "header", "expected 'Layer name, IFMAP Height, ...' (conv) or "
                        "'Layer Name, M, N, K' (GEMM)");
        return BS_OK;
    }
    model *m = ps->m;
    ps->fresh_input_grad = m->n_layers > 0;
    int rc = scalesim_row(ps, f, n, ps->csv_form == CSV_FORM_GEMM);
    if (rc == BS_OK && m->n_layers == 1)
        m->input = m->layers[0].in;
    return rc;
}

int model_parse_scalesim(model *m, const char *path, const char *buf, size_t len, bs_error *e)
{
    int rc = parse_lines(m, path, buf, len, NULL, e, parse_scalesim_line);
    if (rc == BS_OK)
        snprintf(m->description, sizeof m->description, "SCALE-Sim topology %s", path);
    return rc;
}
