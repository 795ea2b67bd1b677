/* trace.c — reading, building and writing traces (format: traces/FORMAT.md).
 *
 * Representation. Every layer of the model owns an array of segments; the last segment is
 * always "open" (its end is total_iters) and every change is applied to it:
 *   - a change at a later iteration that alters the decision closes it and opens a new one;
 *   - a change that alters nothing is dropped (so segments stay maximal);
 *   - a change at the open segment's own first iteration edits it in place, and if that
 *     makes it equal to the segment before, the two merge again.
 * Records must come in non-decreasing iteration order, so this is all the state there is and
 * reading is O(records x selected layers); memory is O(changes), never O(iterations).
 *
 * Canonical writing. Walk all layers' segment starts in iteration order (k-way, by scanning
 * the per-layer cursors). At each change iteration, each changing layer's difference from its
 * previous decision is a (field mask, values) pair; layers with identical pairs form one
 * record, written with the shorter of the class selector naming exactly that set ("*",
 * "@mac", "@conv", ...; ties go to the class) and the comma list of names in model order. Reading that text rebuilds exactly
 * the same segments, so write(read(write(x))) == write(x) byte for byte. Doubles are printed
 * with the fewest digits that read back to the same double.
 */
#include "trace.h"
#include "trace_build.h"
#include "trace_private.h"

#include <ctype.h>
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "model_zoo.h"
#include "text.h"

#define TRACE_MAGIC "bitsim-trace"
#define TRACE_ITERS_MAX (UINT64_C(1) << 40)
#define SELECTOR_LINE_BUDGET 3000   /* split name lists so lines stay < TEXT_LINE_MAX */

static const char *const tensor_names[] = {"W", "A", "G", "WG", "U", "GW", NULL};
static const char *const density_names[] = {"dW", "dA", "dG", NULL};
/* No "sGW": GW is the weight-gradient pass's copy of G, stored as G (sG). The NULL at index
 * TENSOR_GW ends the table for text_lookup. */
static const char *const storage_names[] = {"sW", "sA", "sG", "sWG", "sU", NULL};
#define FIELD_LIST "W A G WG U GW dW dA dG sW sA sG sWG sU"

const char *trace_tensor_name(tensor_class c)
{
    return (unsigned)c < TENSOR_COUNT ? tensor_names[c] : NULL;
}

trace_decision trace_default_decision(void)
{
    trace_decision d;
    memset(&d, 0, sizeof d);
    for (int c = 0; c < TENSOR_COUNT; c++)
        d.fmt[c] = numfmt_fp32();
    for (int i = 0; i < TRACE_DENSITY_COUNT; i++)
        d.density[i] = 1.0;
    return d;
}

static bool storage_equal(const trace_storage *a, const trace_storage *b)
{
    if (a->inlier_bits == 0 || b->inlier_bits == 0)
        return a->inlier_bits == b->inlier_bits;
    return a->inlier_bits == b->inlier_bits && a->outlier_bits == b->outlier_bits &&
           a->header_bits == b->header_bits && a->inlier_frac == b->inlier_frac;
}

/* Mask of the fields in which b differs from a. */
static uint32_t decision_diff(const trace_decision *a, const trace_decision *b)
{
    uint32_t mask = 0;
    for (int c = 0; c < TENSOR_COUNT; c++) {
        if (!numfmt_equal(&a->fmt[c], &b->fmt[c]))
            mask |= TRACE_CH_FMT(c);
        if (!storage_equal(&a->store[c], &b->store[c]))
            mask |= TRACE_CH_STORE(c);
    }
    for (int i = 0; i < TRACE_DENSITY_COUNT; i++)
        if (a->density[i] != b->density[i])
            mask |= TRACE_CH_DENSITY(i);
    return mask;
}

bool trace_decision_equal(const trace_decision *a, const trace_decision *b)
{
    return decision_diff(a, b) == 0;
}

/* True when a and b agree on every field in mask. */
static bool masked_equal(const trace_decision *a, const trace_decision *b, uint32_t mask)
{
    return (decision_diff(a, b) & mask) == 0;
}

/* GW defaults to G: a change of G that does not name GW sets GW to the same format. So a
 * trace without GW fields (every trace written before GW existed) means what it meant,
 * GW == G everywhere, and only a scheme that bifurcates the gradient names GW. */
static void apply_change(trace_decision *d, const trace_change *c)
{
    for (int k = 0; k < TENSOR_COUNT; k++) {
        if (c->mask & TRACE_CH_FMT(k))
            d->fmt[k] = c->d.fmt[k];
        if (c->mask & TRACE_CH_STORE(k))
            d->store[k] = c->d.store[k];
    }
    if ((c->mask & TRACE_CH_FMT(TENSOR_G)) && !(c->mask & TRACE_CH_FMT(TENSOR_GW)))
        d->fmt[TENSOR_GW] = c->d.fmt[TENSOR_G];
    for (int i = 0; i < TRACE_DENSITY_COUNT; i++)
        if (c->mask & TRACE_CH_DENSITY(i))
            d->density[i] = c->d.density[i];
}

/* The fields a record must state to take a layer from decision a to b under apply_change's
 * rule: the differing fields, except that GW is stated exactly when it would not come out
 * right by itself, i.e. when G is stated and b's GW differs from b's G, or when G is not
 * stated and GW changed. So the writer never writes GW equal to the G of the same record,
 * and a trace whose GW always equals G never mentions GW. */
static uint32_t record_mask(const trace_decision *a, const trace_decision *b)
{
    uint32_t mask = decision_diff(a, b) & ~TRACE_CH_FMT(TENSOR_GW);
    bool gw_changed = !numfmt_equal(&a->fmt[TENSOR_GW], &b->fmt[TENSOR_GW]);
    bool gw_is_g = numfmt_equal(&b->fmt[TENSOR_GW], &b->fmt[TENSOR_G]);
    if ((mask & TRACE_CH_FMT(TENSOR_G)) ? !gw_is_g : gw_changed)
        mask |= TRACE_CH_FMT(TENSOR_GW);
    return mask;
}

/* ---- validation shared by the reader and the builder ---------------------------------- */

static const char *format_problem(const num_format *f)
{
    if (f->kind >= NUM_KIND_COUNT)
        return "unknown format kind";
    if (f->bits < 1 || f->bits > 32)
        return "bit-width out of range 1..32";
    return NULL;
}

static const char *storage_problem(const trace_storage *s)
{
    if (s->inlier_bits == 0)
        return NULL;
    if (s->inlier_bits > 32 || s->outlier_bits < 1 || s->outlier_bits > 32)
        return "storage bit-widths out of range 1..32";
    if (!(s->inlier_frac >= 0.0 && s->inlier_frac <= 1.0))
        return "inlier fraction not in [0,1]";
    return NULL;
}

/* Checks the masked fields of c; on a problem names the field in *field. */
static const char *change_problem(const trace_change *c, const char **field)
{
    if (c->mask & TRACE_CH_STORE(TENSOR_GW)) {
        *field = "sGW";
        return "GW has no split storage (it is stored as G: use sG)";
    }
    for (int k = 0; k < TENSOR_COUNT; k++) {
        const char *why;
        if ((c->mask & TRACE_CH_FMT(k)) && (why = format_problem(&c->d.fmt[k]))) {
            *field = tensor_names[k];
            return why;
        }
        if ((c->mask & TRACE_CH_STORE(k)) && (why = storage_problem(&c->d.store[k]))) {
            *field = storage_names[k];
            return why;
        }
    }
    for (int i = 0; i < TRACE_DENSITY_COUNT; i++) {
        double v = c->d.density[i];
        if ((c->mask & TRACE_CH_DENSITY(i)) && !(v >= 0.0 && v <= 1.0)) {
            *field = density_names[i];
            return "density not in [0,1]";
        }
    }
    return NULL;
}

/* ---- segments ------------------------------------------------------------------------- */

static int oom(bs_error *e)
{
    return err_set(e, BS_EINTERNAL, "out of memory");
}

/* Makes room for one more element in a doubling array (*items, *cap elements of size). */
static int grow(void **items, size_t *cap, size_t n, size_t size, size_t first_cap,
                bs_error *e)
{
    if (n < *cap)
        return BS_OK;
    size_t c = *cap ? *cap * 2 : first_cap;
    void *p = realloc(*items, c * size);
    if (!p)
        return oom(e);
    *items = p;
    *cap = c;
    return BS_OK;
}

/* ---- interned decisions ---------------------------------------------------------------- */

/* Every distinct decision once (trace.h, trace_segment): copies in fixed chunks, so their
 * addresses never move, found through an open-addressing set (load <= 1/2) whose hash reads
 * exactly the fields trace_decision_equal compares (numfmt_equal's per-kind fields, a split
 * storage only when split, densities with -0 as +0), so equal decisions hash alike and are
 * one copy; then segments compare decisions by pointer. */
#define POOL_CHUNK 1024

typedef struct trace_pool {
    trace_decision **chunks;
    size_t n_chunks, cap_chunks, used;  /* used: decisions stored */
    const trace_decision **slots;
    size_t cap;                         /* slots, a power of two */
} trace_pool;

static uint64_t pool_mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 31);
}

static uint64_t double_bits(double x)
{
    x += 0.0;   /* -0 and +0 are equal: one hash */
    uint64_t v;
    memcpy(&v, &x, sizeof v);
    return v;
}

static uint64_t decision_hash(const trace_decision *d)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int c = 0; c < TENSOR_COUNT; c++) {
        const num_format *f = &d->fmt[c];
        uint64_t v = (uint64_t)f->kind | (uint64_t)f->bits << 8;
        if (f->kind == NUM_FX)
            v |= (uint64_t)(uint8_t)f->frac_bits << 16;
        else if (f->kind == NUM_BFP)
            v |= (uint64_t)f->exp_bits << 16 | (uint64_t)f->block << 24;
        else if (f->kind == NUM_FP)
            v |= (uint64_t)f->exp_bits << 16;
        h = pool_mix(h, v);
        const trace_storage *st = &d->store[c];
        if (st->inlier_bits) {
            h = pool_mix(h, (uint64_t)st->inlier_bits | (uint64_t)st->outlier_bits << 8 |
                                (uint64_t)st->header_bits << 16);
            h = pool_mix(h, double_bits(st->inlier_frac));
        } else {
            h = pool_mix(h, 0);
        }
    }
    for (int i = 0; i < TRACE_DENSITY_COUNT; i++)
        h = pool_mix(h, double_bits(d->density[i]));
    return h;
}

static const trace_decision **pool_slot(const trace_pool *p, const trace_decision *d)
{
    size_t i = (size_t)decision_hash(d) & (p->cap - 1);
    while (p->slots[i] && !trace_decision_equal(p->slots[i], d))
        i = (i + 1) & (p->cap - 1);
    return &p->slots[i];
}

static bool pool_grow(trace_pool *p)
{
    size_t ncap = p->cap ? p->cap * 2 : 64;
    const trace_decision **old = p->slots;
    size_t ocap = p->cap;
    p->slots = calloc(ncap, sizeof *p->slots);
    if (!p->slots) {
        p->slots = old;
        return false;
    }
    p->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i])
            *pool_slot(p, old[i]) = old[i];
    free(old);
    return true;
}

/* The trace's copy of d (stored on first sight); NULL when out of memory. */
static const trace_decision *intern(trace *t, const trace_decision *d)
{
    trace_pool *p = t->pool;
    if ((p->used + 1) * 2 > p->cap && !pool_grow(p))
        return NULL;
    const trace_decision **slot = pool_slot(p, d);
    if (*slot)
        return *slot;
    if (p->used == p->n_chunks * POOL_CHUNK) {
        if (p->n_chunks == p->cap_chunks) {
            size_t nc = p->cap_chunks ? p->cap_chunks * 2 : 8;
            trace_decision **c = realloc(p->chunks, nc * sizeof *c);
            if (!c)
                return NULL;
            p->chunks = c;
            p->cap_chunks = nc;
        }
        if (!(p->chunks[p->n_chunks] = malloc(POOL_CHUNK * sizeof **p->chunks)))
            return NULL;
        p->n_chunks++;
    }
    trace_decision *copy = &p->chunks[p->used / POOL_CHUNK][p->used % POOL_CHUNK];
    *copy = *d;
    p->used++;
    *slot = copy;
    return copy;
}

static void pool_free(trace_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_chunks; i++)
        free(p->chunks[i]);
    free(p->chunks);
    free(p->slots);
    free(p);
}

/* Appends [first, end) with the interned decision in. */
static int layer_push(trace_layer_segs *L, uint64_t first, uint64_t end,
                      const trace_decision *in, bs_error *e)
{
    int rc = grow((void **)&L->segs, &L->cap, L->n, sizeof *L->segs, 4, e);
    if (rc)
        return rc;
    L->segs[L->n].first = first;
    L->segs[L->n].end = end;
    L->segs[L->n].d = in;
    L->n++;
    return BS_OK;
}

/* One record applies one change to many layers, which mostly hold the same decision (a
 * selector like @mac on a uniform run): the last decision it turned into what, so the change
 * is applied and interned once per distinct previous decision, not once per layer. */
typedef struct change_memo {
    const trace_decision *from, *to;
} change_memo;

static int layer_apply(trace *t, uint32_t li, uint64_t it, const trace_change *c,
                       change_memo *cm, bs_error *e)
{
    trace_layer_segs *L = &t->layers[li];
    trace_segment *last = &L->segs[L->n - 1];
    const trace_decision *in;
    if (cm && cm->from == last->d) {
        in = cm->to;
    } else {
        trace_decision d = *last->d;
        apply_change(&d, c);
        if (!(in = intern(t, &d)))
            return oom(e);
        if (cm)
            *cm = (change_memo){last->d, in};
    }
    if (last->first == it) {
        last->d = in;
        if (L->n >= 2 && L->segs[L->n - 2].d == in) {
            L->n--;
            L->segs[L->n - 1].end = t->total_iters;
        }
        return BS_OK;
    }
    if (last->d == in)
        return BS_OK;
    last->end = it;
    return layer_push(L, it, t->total_iters, in, e);
}

static int alloc_layers(trace *t, bs_error *e)
{
    t->layers = calloc(t->model.n_layers ? t->model.n_layers : 1, sizeof *t->layers);
    t->pool = calloc(1, sizeof *t->pool);
    if (!t->layers || !t->pool)
        return oom(e);
    trace_decision d = trace_default_decision();
    const trace_decision *in = intern(t, &d);
    if (!in)
        return oom(e);
    for (uint32_t i = 0; i < t->model.n_layers; i++) {
        int rc = layer_push(&t->layers[i], 0, t->total_iters, in, e);
        if (rc)
            return rc;
    }
    return BS_OK;
}

const trace_segment *trace_layer_segments(const trace *t, uint32_t layer, size_t *n)
{
    if (!t->layers || layer >= t->model.n_layers) {
        *n = 0;
        return NULL;
    }
    *n = t->layers[layer].n;
    return t->layers[layer].segs;
}

const trace_segment *trace_segment_at(const trace *t, uint32_t layer, uint64_t it)
{
    size_t n;
    const trace_segment *s = trace_layer_segments(t, layer, &n);
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid].end <= it)
            lo = mid + 1;
        else if (s[mid].first > it)
            hi = mid;
        else
            return &s[mid];
    }
    return NULL;
}

size_t trace_segment_count(const trace *t)
{
    size_t sum = 0;
    for (uint32_t i = 0; t->layers && i < t->model.n_layers; i++)
        sum += t->layers[i].n;
    return sum;
}

/* ---- model copy and lifetime ---------------------------------------------------------- */

static int model_copy(model *dst, const model *src, bs_error *e)
{
    *dst = *src;
    dst->layers = NULL;
    if (src->n_layers) {
        dst->layers = malloc(src->n_layers * sizeof *dst->layers);
        if (!dst->layers) {
            dst->n_layers = 0;
            return oom(e);
        }
        memcpy(dst->layers, src->layers, src->n_layers * sizeof *dst->layers);
    }
    return BS_OK;
}

void trace_free(trace *t)
{
    if (t->layers)
        for (uint32_t i = 0; i < t->model.n_layers; i++)
            free(t->layers[i].segs);
    free(t->layers);
    pool_free(t->pool);
    free(t->overheads);
    if (t->model.layers)
        model_free(&t->model);
    memset(t, 0, sizeof *t);
}

/* ---- overheads ------------------------------------------------------------------------ */

static bool label_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= TRACE_LABEL_MAX)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            return false;
    return true;
}

static int overhead_push(trace *t, const trace_overhead *o, bs_error *e)
{
    int rc = grow((void **)&t->overheads, &t->cap_overheads, t->n_overheads,
                  sizeof *t->overheads, 16, e);
    if (rc)
        return rc;
    t->overheads[t->n_overheads++] = *o;
    return BS_OK;
}

static int overhead_cmp(const void *pa, const void *pb)
{
    const trace_overhead *a = pa, *b = pb;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    int c = strcmp(a->label, b->label);
    if (c)
        return c;
    if (a->ops != b->ops)
        return a->ops < b->ops ? -1 : 1;
    return (a->bits > b->bits) - (a->bits < b->bits);
}

/* ---- header validation shared by reader and builder ------------------------------------ */

/* Header strings travel through the line reader, so they must not hold '#' (a comment) nor
 * control characters; params must be key=value tokens. Canonical params: single spaces. */
static const char *text_field_problem(const char *s)
{
    if (strchr(s, '#'))
        return "must not contain '#' (it starts a comment)";
    if (text_has_control(s))
        return "must not contain control characters";
    return NULL;
}

static const char *params_canonical(const char *in, char *out, size_t n)
{
    const char *why = text_field_problem(in);
    if (why)
        return why;
    char buf[TRACE_PARAMS_MAX];
    if (strlen(in) >= sizeof buf)
        return "too long";
    strcpy(buf, in);
    char *tok[TEXT_TOKENS_MAX];
    int nt = text_split(buf, tok, TEXT_TOKENS_MAX);
    if (nt < 0)
        return "too many parameters";
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < nt; i++) {
        char *eq = strchr(tok[i], '=');
        if (!eq || eq == tok[i] || !eq[1])
            return "parameters must be key=value tokens";
        int w = snprintf(out + len, n - len, "%s%s", i ? " " : "", tok[i]);
        if (w < 0 || (size_t)w >= n - len)
            return "too long";
        len += (size_t)w;
    }
    return NULL;
}

static const char *scheme_problem(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= TRACE_SCHEME_MAX)
        return "scheme name must be 1..31 characters";
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            return "scheme name may hold only letters, digits, '_', '-', '.'";
    return NULL;
}

static const char *run_shape_problem(uint64_t batch, uint64_t ipe, uint64_t epochs,
                                     uint64_t *total, const char **field)
{
    if (batch < 1) {
        *field = "batch";
        return "must be at least 1";
    }
    if (ipe < 1) {
        *field = "iters_per_epoch";
        return "must be at least 1";
    }
    if (epochs < 1) {
        *field = "epochs";
        return "must be at least 1";
    }
    if (!checked_mul(ipe, epochs, total) || *total > TRACE_ITERS_MAX) {
        *field = "epochs";
        return "iters_per_epoch x epochs exceeds 2^40 iterations";
    }
    return NULL;
}

/* ---- reader --------------------------------------------------------------------------- */

enum {
    H_MODEL,
    H_BATCH,
    H_IPE,
    H_EPOCHS,
    H_SCHEME,
    H_PARAMS,
    H_PROVENANCE,
    H_ACCURACY,
    H_COUNT
};
static const char *const header_names[] = {
    "model", "batch", "iters_per_epoch", "epochs", "scheme", "params", "provenance", "accuracy",
    NULL,
};
static const bool header_required[H_COUNT] = {true, true, true, true, true, false, false, false};

typedef struct reader {
    trace *t;
    text_reader tr;
    const char *path;
    const char *base_dir;       /* directory of the trace file, for relative model paths */
    const model *given;         /* preloaded model, or NULL */
    long header_line[H_COUNT];  /* 0 = not seen */
    bool body;                  /* header done, model loaded */
    uint64_t last_iter;
    unsigned char *sel;         /* per-layer selection scratch */
} reader;

/* "path:line: field: message" at the line being read. */
#define FAIL(r, e, field, ...) err_at((e), (r)->path, (r)->tr.line_no, (field), __VA_ARGS__)

static int load_model(reader *r, bs_error *e)
{
    trace *t = r->t;
    if (r->given)
        return model_copy(&t->model, r->given, e);
    char resolved[PATH_MAX + TRACE_REF_MAX + 2];
    const char *ref = t->model_ref;
    if (r->base_dir && model_ref_is_path(ref) && ref[0] != '/') {
        /* the path part only: parameter overrides follow it (models/FORMAT.md) */
        int base = (int)model_ref_base_len(ref);
        snprintf(resolved, sizeof resolved, "%s/%.*s", r->base_dir, base, ref);
        FILE *f = fopen(resolved, "rb");
        if (f) {
            fclose(f);
            snprintf(resolved, sizeof resolved, "%s/%s", r->base_dir, ref);
            ref = resolved;
        }
    }
    bs_error inner;
    err_clear(&inner);
    int rc = model_load(&t->model, ref, &inner);
    if (rc) {
        memset(&t->model, 0, sizeof t->model);
        if (rc == BS_EINTERNAL)
            return err_set(e, rc, "%s", inner.msg);
        return err_at(e, r->path, r->header_line[H_MODEL], "model", "cannot load '%s': %s",
                      t->model_ref, inner.msg);
    }
    return BS_OK;
}

/* Ends the header: required fields present, run shape valid, model loaded, layers made. */
static int finish_header(reader *r, bs_error *e)
{
    trace *t = r->t;
    for (int h = 0; h < H_COUNT; h++)
        if (header_required[h] && !r->header_line[h])
            return FAIL(r, e, header_names[h], "missing header field '%s' (required before "
                        "the first record)", header_names[h]);
    const char *field, *why;
    if ((why = run_shape_problem(t->batch, t->iters_per_epoch, t->epochs, &t->total_iters,
                                 &field)))
        return FAIL(r, e, field, "%s", why);
    int rc = load_model(r, e);
    if (rc)
        return rc;
    if (t->model.n_layers == 0)
        return err_at(e, r->path, r->header_line[H_MODEL], "model", "model '%s' has no layers",
                      t->model_ref);
    r->sel = calloc(t->model.n_layers, 1);
    if (!r->sel)
        return oom(e);
    r->body = true;
    return alloc_layers(t, e);
}

static int parse_header_line(reader *r, char *line, bs_error *e)
{
    trace *t = r->t;
    char *key = line, *val = line;
    while (*val && !isspace((unsigned char)*val))
        val++;
    if (*val) {
        *val++ = '\0';
        while (isspace((unsigned char)*val))
            val++;
    }
    int h = text_lookup(header_names, key);
    if (h < 0)
        return FAIL(r, e, key, "unknown header field or record '%s' (expected one of model, "
                    "batch, iters_per_epoch, epochs, scheme, params, provenance, accuracy, from, "
                    "overhead, end)", key);
    if (r->header_line[h])
        return FAIL(r, e, key, "duplicate header field (first on line %ld)", r->header_line[h]);
    r->header_line[h] = r->tr.line_no;
    const char *why = NULL;
    uint64_t *num = h == H_BATCH ? &t->batch : h == H_IPE ? &t->iters_per_epoch
                  : h == H_EPOCHS ? &t->epochs : NULL;
    if (num) {
        if (!text_parse_u64(val, 1, UINT64_MAX, num))
            return FAIL(r, e, key, "'%s' is not a positive integer", val);
        return BS_OK;
    }
    switch (h) {
    case H_MODEL:
        if (!*val)
            return FAIL(r, e, key, "empty model reference");
        if (strlen(val) >= sizeof t->model_ref)
            return FAIL(r, e, key, "model reference longer than %d bytes", TRACE_REF_MAX - 1);
        strcpy(t->model_ref, val);
        return BS_OK;
    case H_SCHEME:
        if ((why = scheme_problem(val)))
            return FAIL(r, e, key, "%s", why);
        strcpy(t->scheme, val);
        return BS_OK;
    case H_PARAMS:
        if ((why = params_canonical(val, t->params, sizeof t->params)))
            return FAIL(r, e, key, "%s", why);
        return BS_OK;
    case H_ACCURACY: /* the run's final accuracy in percent: what the cost buys */
        if (!text_parse_double(val, 0, 100, &t->accuracy_pct))
            return FAIL(r, e, key, "'%s' is not a percentage in [0, 100]", val);
        t->has_accuracy = true;
        return BS_OK;
    default: /* H_PROVENANCE */
        if ((why = text_field_problem(val)))
            return FAIL(r, e, key, "%s", why);
        if (strlen(val) >= sizeof t->provenance)
            return FAIL(r, e, key, "longer than %d bytes", TRACE_PROVENANCE_MAX - 1);
        strcpy(t->provenance, val);
        return BS_OK;
    }
}

static bool has_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static bool layer_in_class(const model_layer *l, int cls)
{
    /* cls -1: MAC layers; otherwise a layer_kind */
    return cls < 0 ? model_layer_is_mac(l) : (int)l->kind == cls;
}

/* "@mac" -> -1, "@conv" -> LAYER_CONV ...; -2 when unknown. */
static int class_parse(const char *name)
{
    if (strcmp(name, "mac") == 0)
        return -1;
    for (int k = 0; k < LAYER_KIND_COUNT; k++) {
        const char *kn = model_kind_name((layer_kind)k);
        if (kn && strcmp(kn, name) == 0)
            return k;
    }
    return -2;
}

/* Fills r->sel from a selector: comma-separated terms, left to right; "!term" removes. */
static int parse_selector(reader *r, char *s, uint32_t *count, bs_error *e)
{
    const model *m = &r->t->model;
    memset(r->sel, 0, m->n_layers);
    char *save = s;
    for (;;) {
        char *comma = strchr(save, ',');
        if (comma)
            *comma = '\0';
        char *term = save;
        bool neg = term[0] == '!';
        if (neg)
            term++;
        if (!*term)
            return FAIL(r, e, "layer", "empty term in layer selector");
        unsigned char v = neg ? 0 : 1;
        uint32_t hits = 0;
        int exact = model_find_layer(m, term);
        if (exact >= 0) {
            r->sel[exact] = v;
            hits = 1;
        } else if (strcmp(term, "*") == 0) {
            memset(r->sel, v, m->n_layers);
            hits = m->n_layers;
        } else if (term[0] == '@') {
            int cls = class_parse(term + 1);
            if (cls == -2)
                return FAIL(r, e, "layer", "unknown layer class '%s' (use @mac or a layer "
                            "kind such as @conv, @linear)", term);
            for (uint32_t i = 0; i < m->n_layers; i++)
                if (layer_in_class(&m->layers[i], cls)) {
                    r->sel[i] = v;
                    hits++;
                }
        } else if (has_glob(term)) {
            for (uint32_t i = 0; i < m->n_layers; i++)
                if (fnmatch(term, m->layers[i].name, 0) == 0) {
                    r->sel[i] = v;
                    hits++;
                }
        }
        if (hits == 0)
            return FAIL(r, e, "layer", "unknown layer '%s' (no layer of model '%s' matches)",
                        term, m->name);
        if (!comma)
            break;
        save = comma + 1;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->n_layers; i++)
        n += r->sel[i];
    if (n == 0)
        return FAIL(r, e, "layer", "selector selects no layers");
    *count = n;
    return BS_OK;
}

/* "I/O@F+H" e.g. 6/8@0.6827+64, or "none". */
static bool parse_storage(char *v, trace_storage *s)
{
    memset(s, 0, sizeof *s);
    if (strcmp(v, "none") == 0)
        return true;
    char *slash = strchr(v, '/'), *at = strchr(v, '@'), *plus = strrchr(v, '+');
    if (!slash || !at || !plus || !(slash < at && at < plus))
        return false;
    *slash = *at = *plus = '\0';
    uint64_t in, out, hdr;
    double frac;
    if (!text_parse_u64(v, 1, 32, &in) || !text_parse_u64(slash + 1, 1, 32, &out) ||
        !text_parse_double(at + 1, 0.0, 1.0, &frac) || !text_parse_u64(plus + 1, 0, 65535, &hdr))
        return false;
    s->inlier_bits = (uint8_t)in;
    s->outlier_bits = (uint8_t)out;
    s->inlier_frac = frac + 0.0;
    s->header_bits = (uint16_t)hdr;
    return true;
}

static int parse_field(reader *r, char *tok, trace_change *c, bs_error *e)
{
    char *key, *val;
    if (!text_key_value(tok, &key, &val))
        return FAIL(r, e, tok, "expected FIELD=VALUE (fields: " FIELD_LIST ")");
    int k;
    uint32_t bit;
    if ((k = text_lookup(tensor_names, key)) >= 0) {
        bit = TRACE_CH_FMT(k);
        const char *why = "invalid";
        if (!numfmt_parse(val, &c->d.fmt[k], &why))
            return FAIL(r, e, key, "bad format '%s': %s", val, why);
    } else if ((k = text_lookup(density_names, key)) >= 0) {
        bit = TRACE_CH_DENSITY(k);
        if (!text_parse_double(val, 0.0, 1.0, &c->d.density[k]))
            return FAIL(r, e, key, "density '%s' is not a number in [0,1]", val);
        c->d.density[k] += 0.0;     /* "-0" reads as +0, one canonical spelling */
    } else if ((k = text_lookup(storage_names, key)) >= 0) {
        bit = TRACE_CH_STORE(k);
        char copy[64];      /* parse_storage cuts its argument; val stays whole for the message */
        if ((size_t)snprintf(copy, sizeof copy, "%s", val) >= sizeof copy ||
            !parse_storage(copy, &c->d.store[k]))
            return FAIL(r, e, key, "bad split storage '%s' (expected none or "
                        "INLIER_BITS/OUTLIER_BITS@INLIER_FRACTION+HEADER_BITS, e.g. "
                        "6/8@0.6827+64)", val);
    } else {
        return FAIL(r, e, key, "unknown field (fields: " FIELD_LIST ")");
    }
    if (c->mask & bit)
        return FAIL(r, e, key, "field given twice in one record");
    c->mask |= bit;
    return BS_OK;
}

static int parse_iteration(reader *r, const char *s, uint64_t *it, bs_error *e)
{
    if (!text_parse_u64(s, 0, UINT64_MAX, it))
        return FAIL(r, e, "iteration", "'%s' is not a non-negative integer", s);
    if (*it >= r->t->total_iters)
        return FAIL(r, e, "iteration", "%s is beyond the run (iterations 0..%llu, "
                    "%llu per epoch x %llu epochs)", s,
                    (unsigned long long)(r->t->total_iters - 1),
                    (unsigned long long)r->t->iters_per_epoch,
                    (unsigned long long)r->t->epochs);
    if (*it < r->last_iter)
        return FAIL(r, e, "iteration", "%s is out of order (a previous record is at %llu; "
                    "records must not go back in time)", s, (unsigned long long)r->last_iter);
    return BS_OK;
}

static int parse_from(reader *r, char **tok, int nt, bs_error *e)
{
    if (nt < 4)
        return FAIL(r, e, nt < 2 ? "iteration" : nt < 3 ? "layer" : "from",
                    "expected 'from ITERATION LAYERS FIELD=VALUE ...'");
    uint64_t it;
    int rc = parse_iteration(r, tok[1], &it, e);
    if (rc)
        return rc;
    uint32_t count;
    if ((rc = parse_selector(r, tok[2], &count, e)))
        return rc;
    trace_change c;
    memset(&c, 0, sizeof c);
    for (int i = 3; i < nt; i++)
        if ((rc = parse_field(r, tok[i], &c, e)))
            return rc;
    r->last_iter = it;
    change_memo cm = {NULL, NULL};
    for (uint32_t i = 0; i < r->t->model.n_layers; i++)
        if (r->sel[i] && (rc = layer_apply(r->t, i, it, &c, &cm, e)))
            return rc;
    return BS_OK;
}

static int parse_overhead(reader *r, char **tok, int nt, bs_error *e)
{
    if (nt < 2)
        return FAIL(r, e, "iteration", "expected 'overhead ITER[:END] ops=N bits=B label=L'");
    trace_overhead o;
    memset(&o, 0, sizeof o);
    char *colon = strchr(tok[1], ':');
    if (colon)
        *colon = '\0';
    int rc = parse_iteration(r, tok[1], &o.first, e);
    if (rc)
        return rc;
    o.end = o.first + 1;
    if (colon) {
        if (!text_parse_u64(colon + 1, 0, UINT64_MAX, &o.end))
            return FAIL(r, e, "iteration", "range end '%s' is not a non-negative integer",
                        colon + 1);
        if (o.end <= o.first || o.end > r->t->total_iters)
            return FAIL(r, e, "iteration", "range %llu:%llu must satisfy first < end <= %llu",
                        (unsigned long long)o.first, (unsigned long long)o.end,
                        (unsigned long long)r->t->total_iters);
    }
    bool seen[3] = {false, false, false};
    static const char *const keys[] = {"ops", "bits", "label", NULL};
    for (int i = 2; i < nt; i++) {
        char *key, *val;
        if (!text_key_value(tok[i], &key, &val))
            return FAIL(r, e, tok[i], "expected KEY=VALUE (ops, bits, label)");
        int k = text_lookup(keys, key);
        if (k < 0)
            return FAIL(r, e, key, "unknown overhead field (ops, bits, label)");
        if (seen[k])
            return FAIL(r, e, key, "field given twice in one record");
        seen[k] = true;
        uint64_t v;
        if (k == 0) {
            if (!text_parse_u64(val, 1, UINT64_MAX, &o.ops))
                return FAIL(r, e, key, "'%s' is not a positive integer", val);
        } else if (k == 1) {
            if (!text_parse_u64(val, 1, 32, &v))
                return FAIL(r, e, key, "bit-width '%s' out of range 1..32", val);
            o.bits = (uint8_t)v;
        } else {
            if (!label_ok(val))
                return FAIL(r, e, key, "label '%s' must be 1..31 letters, digits, '_', '-', "
                            "'.'", val);
            strcpy(o.label, val);
        }
    }
    for (int k = 0; k < 3; k++)
        if (!seen[k])
            return FAIL(r, e, keys[k], "missing overhead field '%s'", keys[k]);
    r->last_iter = o.first;
    return overhead_push(r->t, &o, e);
}

static int read_version(reader *r, bs_error *e)
{
    char *line;
    int rc = text_next_line(&r->tr, &line, e);
    if (rc < 0)     /* a reader error (NUL byte, over-long line): e says which */
        return e ? e->code : BS_EINPUT;
    if (rc == 0)
        return err_at(e, r->path, 0, "version", "empty file: not a bitsim trace (expected a "
                      "first line '%s %d')", TRACE_MAGIC, TRACE_VERSION);
    char *tok[3];
    int nt = text_split(line, tok, 3);
    if (nt < 1 || strcmp(tok[0], TRACE_MAGIC) != 0)
        return FAIL(r, e, "version", "not a bitsim trace (expected a first line '%s %d')",
                    TRACE_MAGIC, TRACE_VERSION);
    uint64_t v;
    if (nt != 2 || !text_parse_u64(tok[1], 0, 1000000, &v))
        return FAIL(r, e, "version", "expected '%s %d'", TRACE_MAGIC, TRACE_VERSION);
    if (v != TRACE_VERSION)
        return FAIL(r, e, "version", "unsupported trace version %llu (this bitsim reads "
                    "version %d)", (unsigned long long)v, TRACE_VERSION);
    r->t->version = (int)v;
    return BS_OK;
}

/* 'partial N' (traces/FORMAT.md, "End marker"): the run was cut after iteration N-1 of the
 * header's plan. Every record lies before N; the run becomes [0, N): every layer's open
 * segment is closed at N instead of at the planned end, an overhead range at N. */
static int read_partial(reader *r, char **tok, int nt, bs_error *e)
{
    trace *t = r->t;
    uint64_t n;
    if (nt != 2 || !text_parse_u64(tok[1], 1, t->total_iters, &n))
        return FAIL(r, e, "partial", "expected 'partial N' with N the iterations completed, "
                    "1..%llu", (unsigned long long)t->total_iters);
    if (r->last_iter >= n)
        return FAIL(r, e, "partial", "a record at iteration %llu is not before the cut at %llu",
                    (unsigned long long)r->last_iter, (unsigned long long)n);
    for (size_t i = 0; i < t->n_overheads; i++)     /* begun before the cut: ran until it */
        if (t->overheads[i].end > n)
            t->overheads[i].end = n;
    t->total_iters = n;
    for (uint32_t i = 0; i < t->model.n_layers; i++)
        t->layers[i].segs[t->layers[i].n - 1].end = n;
    t->partial = true;
    return BS_OK;
}

static int read_all(reader *r, bs_error *e)
{
    int rc = read_version(r, e);
    if (rc)
        return rc;
    bool ended = false;
    char *line;
    while ((rc = text_next_line(&r->tr, &line, e)) == 1) {
        if (ended)
            return FAIL(r, e, "end", "text after the %s marker", r->t->partial ? "partial" : "end");
        char first[16];
        size_t n = strcspn(line, " \t");
        snprintf(first, sizeof first, "%.*s", (int)(n < 15 ? n : 15), line);
        bool is_record = strcmp(first, "from") == 0 || strcmp(first, "overhead") == 0 ||
                         strcmp(first, "end") == 0 || strcmp(first, "partial") == 0;
        if (!is_record) {
            if (r->body)
                return FAIL(r, e, first, "unknown record '%s' (expected from, overhead, end; "
                            "header fields come before the first record)", first);
            if ((rc = parse_header_line(r, line, e)))
                return rc;
            continue;
        }
        if (!r->body && (rc = finish_header(r, e)))
            return rc;
        char *tok[TEXT_TOKENS_MAX];
        int nt = text_split(line, tok, TEXT_TOKENS_MAX);
        if (nt < 0)
            return FAIL(r, e, first, "too many fields (at most %d)", TEXT_TOKENS_MAX);
        if (strcmp(first, "end") == 0) {
            if (nt != 1)
                return FAIL(r, e, "end", "the end marker takes no arguments");
            ended = true;
        } else if (strcmp(first, "partial") == 0) {
            if ((rc = read_partial(r, tok, nt, e)))
                return rc;
            ended = true;
        } else if (strcmp(first, "from") == 0) {
            if ((rc = parse_from(r, tok, nt, e)))
                return rc;
        } else if ((rc = parse_overhead(r, tok, nt, e))) {
            return rc;
        }
    }
    if (rc < 0)     /* a reader error (NUL byte, over-long line): e says which */
        return e ? e->code : BS_EINPUT;
    if (!ended)
        return err_at(e, r->path, r->tr.line_no, "end", "missing end marker: the trace is "
                      "truncated (its last line must be 'end', or 'partial N' for a run cut "
                      "after N iterations)");
    return trace_finish(r->t, e);
}

static int read_common(trace *t, const char *path, const char *base_dir, const model *given,
                       text_reader *tr, bs_error *e)
{
    memset(t, 0, sizeof *t);
    reader r;
    memset(&r, 0, sizeof r);
    r.t = t;
    r.tr = *tr;
    r.path = path;
    r.base_dir = base_dir;
    r.given = given;
    int rc = read_all(&r, e);
    free(r.sel);
    text_close(&r.tr);
    if (rc)
        trace_free(t);
    return rc;
}

int trace_read_buffer_model(trace *t, const char *path, const char *buf, size_t len,
                            const model *m, bs_error *e)
{
    text_reader tr;
    text_open_buffer(&tr, path, buf, len);
    return read_common(t, path, NULL, m, &tr, e);
}

int trace_read_buffer(trace *t, const char *path, const char *buf, size_t len, bs_error *e)
{
    return trace_read_buffer_model(t, path, buf, len, NULL, e);
}

int trace_read_file(trace *t, const char *path, bs_error *e)
{
    memset(t, 0, sizeof *t);
    text_reader tr;
    int rc = text_open_file(&tr, path, e);
    if (rc)
        return rc;
    char dir[PATH_MAX];     /* path opened above, so it fits: the directory is never cut */
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    return read_common(t, path, dir, NULL, &tr, e);
}

/* ---- builder -------------------------------------------------------------------------- */

int trace_begin(trace *t, const char *model_ref, const model *m, uint64_t batch,
                uint64_t iters_per_epoch, uint64_t epochs, const char *scheme,
                const char *params, const char *provenance, bs_error *e)
{
    memset(t, 0, sizeof *t);
    t->version = TRACE_VERSION;
    const char *why, *field;
    if (!model_ref || !*model_ref || strlen(model_ref) >= sizeof t->model_ref ||
        text_field_problem(model_ref))
        return err_set(e, BS_EUSAGE, "model reference must be 1..%d printable characters "
                       "without '#'", TRACE_REF_MAX - 1);
    strcpy(t->model_ref, model_ref);
    if ((why = scheme_problem(scheme ? scheme : "")))
        return err_set(e, BS_EUSAGE, "scheme: %s", why);
    strcpy(t->scheme, scheme);
    if ((why = params_canonical(params ? params : "", t->params, sizeof t->params)))
        return err_set(e, BS_EUSAGE, "params: %s", why);
    provenance = provenance ? provenance : "";
    if (strlen(provenance) >= sizeof t->provenance || (why = text_field_problem(provenance)))
        return err_set(e, BS_EUSAGE, "provenance: %s", why ? why : "too long");
    strcpy(t->provenance, provenance);
    if ((why = run_shape_problem(batch, iters_per_epoch, epochs, &t->total_iters, &field)))
        return err_set(e, BS_EUSAGE, "%s: %s", field, why);
    t->batch = batch;
    t->iters_per_epoch = iters_per_epoch;
    t->epochs = epochs;
    int rc = m ? model_copy(&t->model, m, e) : model_load(&t->model, model_ref, e);
    if (rc) {
        trace_free(t);
        return rc;
    }
    /* a generated trace names every model parameter at the value it used (models/FORMAT.md,
     * "Parameters"), so it replays the same shapes whatever the file's defaults become */
    if (!model_ref_resolved(&t->model, model_ref, t->model_ref, sizeof t->model_ref) ||
        text_field_problem(t->model_ref)) {
        trace_free(t);
        return err_set(e, BS_EUSAGE, "model reference with its parameters longer than %d "
                       "bytes", TRACE_REF_MAX - 1);
    }
    if ((rc = alloc_layers(t, e)))
        trace_free(t);
    return rc;
}

static int check_builder_iter(trace *t, uint64_t it, bs_error *e)
{
    if (t->finished)
        return err_set(e, BS_EINTERNAL, "trace: change after trace_finish");
    if (it >= t->total_iters)
        return err_set(e, BS_EINPUT, "iteration %llu is beyond the run of %llu iterations",
                       (unsigned long long)it, (unsigned long long)t->total_iters);
    return BS_OK;
}

int trace_set(trace *t, uint64_t it, uint32_t layer, const trace_change *c, bs_error *e)
{
    int rc = check_builder_iter(t, it, e);
    if (rc)
        return rc;
    if (layer >= t->model.n_layers)
        return err_set(e, BS_EINTERNAL, "trace_set: layer %u out of range", layer);
    trace_layer_segs *L = &t->layers[layer];
    if (it < L->segs[L->n - 1].first)
        return err_set(e, BS_EINTERNAL, "trace_set: iteration %llu goes back in time",
                       (unsigned long long)it);
    const char *field = NULL, *why = change_problem(c, &field);
    if (why)
        return err_set(e, BS_EINPUT, "%s: %s", field, why);
    return layer_apply(t, layer, it, c, NULL, e);
}

int trace_set_where(trace *t, uint64_t it, bool (*pick)(const model_layer *, void *), void *ctx,
                    const trace_change *c, bs_error *e)
{
    for (uint32_t i = 0; i < t->model.n_layers; i++) {
        if (pick && !pick(&t->model.layers[i], ctx))
            continue;
        int rc = trace_set(t, it, i, c, e);
        if (rc)
            return rc;
    }
    return BS_OK;
}

int trace_add_overhead(trace *t, uint64_t first, uint64_t end, uint64_t ops, unsigned bits,
                       const char *label, bs_error *e)
{
    int rc = check_builder_iter(t, first, e);
    if (rc)
        return rc;
    if (end <= first || end > t->total_iters || ops == 0 || bits < 1 || bits > 32 ||
        !label || !label_ok(label))
        return err_set(e, BS_EINPUT, "overhead '%s': needs first < end <= %llu, ops >= 1, "
                       "bits 1..32 and a 1..31 character label", label ? label : "",
                       (unsigned long long)t->total_iters);
    trace_overhead o;
    memset(&o, 0, sizeof o);
    o.first = first;
    o.end = end;
    o.ops = ops;
    o.bits = (uint8_t)bits;
    strcpy(o.label, label);
    return overhead_push(t, &o, e);
}

int trace_finish(trace *t, bs_error *e)
{
    (void)e;
    if (t->n_overheads > 1)
        qsort(t->overheads, t->n_overheads, sizeof *t->overheads, overhead_cmp);
    t->finished = true;
    return BS_OK;
}

/* ---- writer --------------------------------------------------------------------------- */

/* Shortest %.*g that reads back to the same double. */
static void print_double(char *buf, size_t n, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool failed;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[TEXT_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->failed = true;
        return;
    }
    sb_add(b, tmp, (size_t)n);
}

static void write_fields(sbuf *b, const trace_decision *d, uint32_t mask)
{
    char tmp[64];
    for (int c = 0; c < TENSOR_COUNT; c++)
        if (mask & TRACE_CH_FMT(c))
            sb_printf(b, " %s=%s", tensor_names[c], numfmt_format(&d->fmt[c], tmp, sizeof tmp));
    for (int i = 0; i < TRACE_DENSITY_COUNT; i++)
        if (mask & TRACE_CH_DENSITY(i)) {
            print_double(tmp, sizeof tmp, d->density[i]);
            sb_printf(b, " %s=%s", density_names[i], tmp);
        }
    for (int c = 0; c < TENSOR_COUNT; c++)
        if (mask & TRACE_CH_STORE(c)) {
            const trace_storage *s = &d->store[c];
            if (s->inlier_bits == 0) {
                sb_printf(b, " %s=none", storage_names[c]);
                continue;
            }
            print_double(tmp, sizeof tmp, s->inlier_frac);
            sb_printf(b, " %s=%u/%u@%s+%u", storage_names[c], s->inlier_bits, s->outlier_bits,
                      tmp, s->header_bits);
        }
}

static bool name_writable(const char *s)
{
    if (!*s || *s == '!' || *s == '@')
        return false;
    for (; *s; s++)
        if (*s == ',' || *s == '#' || isspace((unsigned char)*s))
            return false;
    return true;
}

/* The shortest selector naming exactly the layers with group[i] set (count of them), or
 * NULL when only a name list will do. */
static const char *class_selector(const model *m, const unsigned char *group, uint32_t count,
                                  char *buf, size_t n)
{
    if (count == m->n_layers)
        return "*";
    for (int cls = -1; cls < LAYER_KIND_COUNT; cls++) {
        bool same = true;
        for (uint32_t i = 0; i < m->n_layers && same; i++)
            same = (group[i] != 0) == layer_in_class(&m->layers[i], cls);
        if (same) {
            snprintf(buf, n, "@%s", cls < 0 ? "mac" : model_kind_name((layer_kind)cls));
            return buf;
        }
    }
    return NULL;
}

static void write_group(sbuf *b, const trace *t, uint64_t it, const unsigned char *group,
                        uint32_t count, uint32_t first_layer, const trace_decision *d,
                        uint32_t mask)
{
    const model *m = &t->model;
    char cls[32];
    const char *sel = class_selector(m, group, count, cls, sizeof cls);
    size_t names_len = 0;
    for (uint32_t k = first_layer; sel && k < m->n_layers; k++)
        if (group[k])
            names_len += strlen(m->layers[k].name) + (names_len ? 1 : 0);
    if (sel && strlen(sel) <= names_len) {    /* the shorter of class and name list */
        sb_printf(b, "from %llu %s", (unsigned long long)it, sel);
        write_fields(b, d, mask);
        sb_str(b, "\n");
        return;
    }
    uint32_t i = first_layer;
    while (i < m->n_layers) {
        sb_printf(b, "from %llu ", (unsigned long long)it);
        size_t width = 0;
        bool any = false;
        for (; i < m->n_layers; i++) {
            if (!group[i])
                continue;
            size_t w = strlen(m->layers[i].name) + 1;
            if (any && width + w > SELECTOR_LINE_BUDGET)
                break;
            sb_printf(b, "%s%s", any ? "," : "", m->layers[i].name);
            width += w;
            any = true;
        }
        write_fields(b, d, mask);
        sb_str(b, "\n");
        while (i < m->n_layers && !group[i])
            i++;
    }
}

static void write_overhead(sbuf *b, const trace_overhead *o)
{
    if (o->end == o->first + 1)
        sb_printf(b, "overhead %llu", (unsigned long long)o->first);
    else
        sb_printf(b, "overhead %llu:%llu", (unsigned long long)o->first,
                  (unsigned long long)o->end);
    sb_printf(b, " ops=%llu bits=%u label=%s\n", (unsigned long long)o->ops, o->bits, o->label);
}

typedef struct writer_state {
    size_t *cursor;             /* next segment per layer */
    trace_decision *prev;       /* decision in force per layer */
    const trace_decision **prev_d;  /* the same as a segment's pointer, NULL: the default */
    uint32_t *mask;             /* change mask per layer at the current iteration */
    unsigned char *group;
    unsigned char *done;
} writer_state;

static void writer_state_free(writer_state *w)
{
    free(w->cursor);
    free(w->prev);
    free(w->prev_d);
    free(w->mask);
    free(w->group);
    free(w->done);
}

static bool writer_state_init(writer_state *w, uint32_t n)
{
    memset(w, 0, sizeof *w);
    size_t k = n ? n : 1;
    w->cursor = calloc(k, sizeof *w->cursor);
    w->prev = calloc(k, sizeof *w->prev);
    w->prev_d = calloc(k, sizeof *w->prev_d);
    w->mask = calloc(k, sizeof *w->mask);
    w->group = calloc(k, 1);
    w->done = calloc(k, 1);
    if (!w->cursor || !w->prev || !w->prev_d || !w->mask || !w->group || !w->done) {
        writer_state_free(w);
        return false;
    }
    trace_decision d = trace_default_decision();
    for (uint32_t i = 0; i < n; i++)
        w->prev[i] = d;
    return true;
}

/* Writes the records of change iteration it (every layer whose next segment starts there).
 * Segments point at their decisions, and one pointer is one content: layers going from the
 * same decision to the same one (every layer of an @mac record) have one record mask, so the
 * last pair's mask is reused, and layers now at the same decision are in one group without
 * comparing fields. Both shortcuts give what the comparisons give (a per-step trace of
 * 289 layers spent most of its canonical write comparing equal decisions). */
static void write_change_point(sbuf *b, const trace *t, writer_state *w, uint64_t it)
{
    uint32_t n = t->model.n_layers;
    const trace_decision *last_from = NULL, *last_to = NULL;
    uint32_t last_mask = 0;
    for (uint32_t i = 0; i < n; i++) {
        w->mask[i] = 0;
        w->done[i] = 1;
        const trace_layer_segs *L = &t->layers[i];
        if (w->cursor[i] < L->n && L->segs[w->cursor[i]].first == it) {
            const trace_decision *d = L->segs[w->cursor[i]].d;
            if (!last_to || w->prev_d[i] != last_from || d != last_to) {
                last_mask = record_mask(&w->prev[i], d);
                last_from = w->prev_d[i];
                last_to = d;
            }
            w->mask[i] = last_mask;
            w->prev[i] = *d;
            w->prev_d[i] = d;
            w->cursor[i]++;
            w->done[i] = w->mask[i] == 0;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        if (w->done[i])
            continue;
        memset(w->group, 0, n);
        uint32_t count = 0;
        for (uint32_t j = i; j < n; j++) {
            if (!w->done[j] && w->mask[j] == w->mask[i] &&
                (w->prev_d[j] == w->prev_d[i] ||
                 masked_equal(&w->prev[j], &w->prev[i], w->mask[i]))) {
                w->group[j] = 1;
                w->done[j] = 1;
                count++;
            }
        }
        write_group(b, t, it, w->group, count, i, &w->prev[i], w->mask[i]);
    }
}

static int write_sbuf(const trace *t, sbuf *b, bs_error *e)
{
    if (!t->finished || !t->layers)
        return err_set(e, BS_EINTERNAL, "trace_write: trace not finished");
    for (uint32_t i = 0; i < t->model.n_layers; i++)
        if (!name_writable(t->model.layers[i].name))
            return err_set(e, BS_EINPUT, "layer name '%s' cannot be written in a trace "
                           "selector (no ',', '#', blanks, leading '!' or '@')",
                           t->model.layers[i].name);
    sb_printf(b, "%s %d\n", TRACE_MAGIC, TRACE_VERSION);
    sb_printf(b, "model %s\nbatch %llu\niters_per_epoch %llu\nepochs %llu\nscheme %s\n",
              t->model_ref, (unsigned long long)t->batch,
              (unsigned long long)t->iters_per_epoch, (unsigned long long)t->epochs, t->scheme);
    if (t->params[0])
        sb_printf(b, "params %s\n", t->params);
    if (t->provenance[0])
        sb_printf(b, "provenance %s\n", t->provenance);
    if (t->has_accuracy) {
        char acc[40];
        text_exact_double(acc, sizeof acc, t->accuracy_pct);
        sb_printf(b, "accuracy %s\n", acc);
    }
    writer_state w;
    if (!writer_state_init(&w, t->model.n_layers))
        return oom(e);
    size_t oi = 0;
    for (;;) {
        uint64_t next = UINT64_MAX;
        for (uint32_t i = 0; i < t->model.n_layers; i++) {
            const trace_layer_segs *L = &t->layers[i];
            if (w.cursor[i] < L->n && L->segs[w.cursor[i]].first < next)
                next = L->segs[w.cursor[i]].first;
        }
        while (oi < t->n_overheads && t->overheads[oi].first < next)
            write_overhead(b, &t->overheads[oi++]);
        if (next == UINT64_MAX)
            break;
        write_change_point(b, t, &w, next);
        if (b->failed)
            break;
    }
    writer_state_free(&w);
    if (t->partial)
        sb_printf(b, "partial %llu\n", (unsigned long long)t->total_iters);
    else
        sb_str(b, "end\n");
    if (b->failed)
        return oom(e);
    return BS_OK;
}

int trace_write_buffer(const trace *t, char **buf, size_t *len, bs_error *e)
{
    sbuf b = {0};
    int rc = write_sbuf(t, &b, e);
    if (rc) {
        free(b.p);
        return rc;
    }
    *buf = b.p;
    *len = b.len;
    return BS_OK;
}

int trace_write(const trace *t, FILE *out, bs_error *e)
{
    char *buf;
    size_t len;
    int rc = trace_write_buffer(t, &buf, &len, e);
    if (rc)
        return rc;
    size_t w = fwrite(buf, 1, len, out);
    free(buf);
    if (w != len || fflush(out) != 0)
        return err_set(e, BS_EINPUT, "cannot write the trace: %s", "write error");
    return BS_OK;
}
