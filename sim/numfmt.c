/* numfmt.c — parsing and printing the number formats of numfmt.h.
 *
 * Text forms (one canonical spelling each, so a trace written twice reads the same):
 *   fxBW.FL        fixed point, BW bits of which FL fractional (FL may be negative, -64..127)
 *   intBW          integer (a per-tensor scale, as in CPT/SBM linear quantizers)
 *   bfpM/eE/bN     block floating point: M-bit mantissa per element (incl. sign), one E-bit
 *                  exponent shared by N elements; bfpM/eE (no /b) shares one exponent per
 *                  whole tensor (block 0, MuPPET's per-layer scale), counted as 0 extra bits.
 *   fp32 tf32 fp16 bf16 fp8e4m3 fp8e5m2, and fpBeEmM for any other sign+E+M = B layout
 *                  (tf32 = fp19e8m10, NVIDIA's TensorFloat-32: fp32's range, fp16's mantissa).
 *   mxfp8e4m3 mxfp8e5m2 mxfp6e3m2 mxfp6e2m3 mxfp4 mxint8   the concrete MX-compliant formats
 *                  of the OCP Microscaling Formats (MX) Specification v1.0 (Sept. 2023), sec.
 *                  5.1 Table 1: a block of k = 32 elements shares one scale X of type E8M0
 *                  (8 exponent bits, no sign, no mantissa: a power of two); elements FP8 E5M2
 *                  or E4M3, FP6 E3M2 or E2M3, FP4 E2M1, or INT8 (two's complement with an
 *                  implicit scale 2^-6, sec. 5.3). Storage = element bits + 8/32 per element
 *                  (MXFP8 8.25, MXFP6 6.25, MXFP4 4.25). Aliases (read, never written):
 *                  mxfp8 = mxfp8e4m3 (the element Transformer Engine's MXFP8 recipe uses by
 *                  default), mxfp6 = mxfp6e3m2 (the element Rouhani et al. 2023 train with),
 *                  mxfp4e2m1 = mxfp4.
 *   nvfp4          NVIDIA's NVFP4 ("Pretraining Large Language Models with NVFP4", NVIDIA,
 *                  arXiv 2509.25149, sec. 2; Transformer Engine's NVFP4 recipe): E2M1 elements,
 *                  one E4M3 scale per 16 elements, and one FP32 scale per tensor. Storage
 *                  4 + 8/16 = 4.5 bits per element; the per-tensor FP32 scale is 32 bits per
 *                  TENSOR, which a per-element figure cannot hold (like bfpM/eE's whole-tensor
 *                  exponent it counts 0 per element: 32/N bits, < 1e-4 for N >= 2^19).
 * Additive extension to the lead's contract: block 0 = whole tensor; the fpBeEmM form; the mx
 * kind.
 */
#include "numfmt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUMFMT_BITS_MAX 32

typedef struct named_fp {
    const char *name;
    uint8_t bits, exp_bits;
} named_fp;

/* The IEEE/industry floats with their own names; everything else prints as fpBeEmM. */
static const named_fp named_fps[] = {
    {"fp32", 32, 8}, {"tf32", 19, 8}, {"fp16", 16, 5}, {"bf16", 16, 8}, {"fp8e4m3", 8, 4},
    {"fp8e5m2", 8, 5},
};
#define N_NAMED_FPS (sizeof named_fps / sizeof named_fps[0])

typedef struct named_mx {
    const char *name;
    uint8_t bits, exp_bits;     /* element: bits, exponent bits (0 = integer) */
    uint16_t block;
    uint8_t scale_bits, scale_exp_bits;
} named_mx;

/* The block-scaled formats (top comment: OCP MX v1.0 Table 1, NVFP4). The first row of each
 * layout is its canonical name; later rows with the same fields are aliases. */
static const named_mx named_mxs[] = {
    {"mxfp8e4m3", 8, 4, 32, 8, 8}, {"mxfp8e5m2", 8, 5, 32, 8, 8},
    {"mxfp6e3m2", 6, 3, 32, 8, 8}, {"mxfp6e2m3", 6, 2, 32, 8, 8},
    {"mxfp4", 4, 2, 32, 8, 8},     {"mxint8", 8, 0, 32, 8, 8},
    {"nvfp4", 4, 2, 16, 8, 4},
    {"mxfp8", 8, 4, 32, 8, 8},     {"mxfp6", 6, 3, 32, 8, 8},     {"mxfp4e2m1", 4, 2, 32, 8, 8},
};
#define N_NAMED_MXS (sizeof named_mxs / sizeof named_mxs[0])

static bool mx_fields_equal(const named_mx *m, const num_format *f)
{
    return m->bits == f->bits && m->exp_bits == f->exp_bits && m->block == f->block &&
           m->scale_bits == f->scale_bits && m->scale_exp_bits == f->scale_exp_bits;
}

static bool fail(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return false;
}

/* Reads an unsigned decimal at *s (at least one digit), advancing *s; false on overflow. */
static bool read_uint(const char **s, uint64_t max, uint64_t *out)
{
    const char *p = *s;
    if (!isdigit((unsigned char)*p))
        return false;
    uint64_t v = 0;
    while (isdigit((unsigned char)*p)) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max)
            return false;
        p++;
    }
    *s = p;
    *out = v;
    return true;
}

static bool parse_bits(const char **p, uint8_t *bits, const char **why)
{
    uint64_t v;
    if (!read_uint(p, 1000, &v))
        return fail(why, "bit-width missing or not a number");
    if (v < 1 || v > NUMFMT_BITS_MAX)
        return fail(why, "bit-width out of range 1..32");
    *bits = (uint8_t)v;
    return true;
}

static bool parse_fx(const char *p, num_format *f, const char **why)
{
    f->kind = NUM_FX;
    if (!parse_bits(&p, &f->bits, why))
        return false;
    if (*p != '.')
        return fail(why, "fixed point needs fxBW.FL, e.g. fx8.4");
    p++;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    uint64_t fl;
    if (!read_uint(&p, 1000, &fl) || *p)
        return fail(why, "fractional bits missing or not a number");
    int64_t v = neg ? -(int64_t)fl : (int64_t)fl;
    if (v < -64 || v > 127)
        return fail(why, "fractional bits out of range -64..127");
    f->frac_bits = (int8_t)v;
    return true;
}

static bool parse_int(const char *p, num_format *f, const char **why)
{
    f->kind = NUM_INT;
    if (!parse_bits(&p, &f->bits, why))
        return false;
    return *p ? fail(why, "junk after integer bit-width") : true;
}

static bool parse_bfp(const char *p, num_format *f, const char **why)
{
    f->kind = NUM_BFP;
    if (!parse_bits(&p, &f->bits, why))
        return false;
    if (strncmp(p, "/e", 2) != 0)
        return fail(why, "block floating point needs bfpM/eE[/bN], e.g. bfp8/e8/b16");
    p += 2;
    uint64_t e;
    if (!read_uint(&p, 1000, &e) || e < 1 || e > 16)
        return fail(why, "shared exponent bits out of range 1..16");
    f->exp_bits = (uint8_t)e;
    if (*p == '\0')
        return true;    /* one exponent per tensor */
    if (strncmp(p, "/b", 2) != 0)
        return fail(why, "block floating point needs bfpM/eE[/bN]");
    p += 2;
    uint64_t b;
    if (!read_uint(&p, 100000, &b) || *p || b < 1 || b > UINT16_MAX)
        return fail(why, "block size out of range 1..65535");
    f->block = (uint16_t)b;
    return true;
}

static bool parse_fp(const char *s, num_format *f, const char **why)
{
    f->kind = NUM_FP;
    for (size_t i = 0; i < N_NAMED_FPS; i++) {
        if (strcmp(s, named_fps[i].name) == 0) {
            f->bits = named_fps[i].bits;
            f->exp_bits = named_fps[i].exp_bits;
            return true;
        }
    }
    if (strncmp(s, "fp", 2) != 0)
        return fail(why, "unknown format");
    const char *p = s + 2;
    if (!parse_bits(&p, &f->bits, why))
        return false;
    uint64_t e, m;
    if (*p != 'e' || (p++, !read_uint(&p, 1000, &e)) || *p != 'm' ||
        (p++, !read_uint(&p, 1000, &m)) || *p)
        return fail(why, "float needs fp32, fp16, bf16, fp8e4m3, fp8e5m2 or fpBeEmM");
    if (e < 1 || m < 1 || 1 + e + m != f->bits)
        return fail(why, "float layout needs 1 + E + M = B with E, M >= 1");
    f->exp_bits = (uint8_t)e;
    return true;
}

static bool parse_mx(const char *s, num_format *f, const char **why)
{
    for (size_t i = 0; i < N_NAMED_MXS; i++) {
        if (strcmp(s, named_mxs[i].name) == 0) {
            *f = (num_format){.kind = NUM_MX, .bits = named_mxs[i].bits,
                              .exp_bits = named_mxs[i].exp_bits, .block = named_mxs[i].block,
                              .scale_bits = named_mxs[i].scale_bits,
                              .scale_exp_bits = named_mxs[i].scale_exp_bits};
            return true;
        }
    }
    return fail(why, "unknown block-scaled format (mxfp8e4m3, mxfp8e5m2, mxfp6e3m2, "
                     "mxfp6e2m3, mxfp4, mxint8, nvfp4; aliases mxfp8, mxfp6)");
}

typedef struct kind_prefix {
    const char *prefix;
    bool (*parse)(const char *rest, num_format *f, const char **why);
    bool whole;   /* parse gets the whole string rather than the rest */
} kind_prefix;

static const kind_prefix prefixes[] = {
    {"fx", parse_fx, false},
    {"int", parse_int, false},
    {"bfp", parse_bfp, false},
    {"fp", parse_fp, true},
    {"bf16", parse_fp, true},
    {"tf32", parse_fp, true},
    {"mx", parse_mx, true},
    {"nvfp", parse_mx, true},
};
#define N_PREFIXES (sizeof prefixes / sizeof prefixes[0])

bool numfmt_parse(const char *s, num_format *out, const char **why)
{
    if (!s || !*s)
        return fail(why, "empty format");
    for (size_t i = 0; i < N_PREFIXES; i++) {
        size_t n = strlen(prefixes[i].prefix);
        if (strncmp(s, prefixes[i].prefix, n) != 0)
            continue;
        num_format f = {0};
        if (!prefixes[i].parse(prefixes[i].whole ? s : s + n, &f, why))
            return false;
        *out = f;
        return true;
    }
    return fail(why, "unknown format (fxBW.FL, intBW, bfpM/eE[/bN], fp32, tf32, fp16, bf16, "
                     "fp8e4m3, fp8e5m2, fpBeEmM, mxfp8e4m3 ... mxfp4, mxint8, nvfp4)");
}

char *numfmt_format(const num_format *f, char *buf, size_t n)
{
    switch (f->kind) {
    case NUM_FX:
        snprintf(buf, n, "fx%u.%d", f->bits, f->frac_bits);
        break;
    case NUM_INT:
        snprintf(buf, n, "int%u", f->bits);
        break;
    case NUM_BFP:
        if (f->block)
            snprintf(buf, n, "bfp%u/e%u/b%u", f->bits, f->exp_bits, f->block);
        else
            snprintf(buf, n, "bfp%u/e%u", f->bits, f->exp_bits);
        break;
    case NUM_FP:
        for (size_t i = 0; i < N_NAMED_FPS; i++) {
            if (named_fps[i].bits == f->bits && named_fps[i].exp_bits == f->exp_bits) {
                snprintf(buf, n, "%s", named_fps[i].name);
                return buf;
            }
        }
        snprintf(buf, n, "fp%ue%um%d", f->bits, f->exp_bits, f->bits - 1 - f->exp_bits);
        break;
    case NUM_MX:
        snprintf(buf, n, "?");
        for (size_t i = 0; i < N_NAMED_MXS; i++) {
            if (mx_fields_equal(&named_mxs[i], f)) {
                snprintf(buf, n, "%s", named_mxs[i].name);
                break;
            }
        }
        break;
    default:
        snprintf(buf, n, "?");
        break;
    }
    return buf;
}

bool numfmt_equal(const num_format *a, const num_format *b)
{
    if (a->kind != b->kind || a->bits != b->bits)
        return false;
    switch (a->kind) {
    case NUM_FX:
        return a->frac_bits == b->frac_bits;
    case NUM_BFP:
        return a->exp_bits == b->exp_bits && a->block == b->block;
    case NUM_FP:
        return a->exp_bits == b->exp_bits;
    case NUM_MX:
        return a->exp_bits == b->exp_bits && a->block == b->block &&
               a->scale_bits == b->scale_bits && a->scale_exp_bits == b->scale_exp_bits;
    default:
        return true;
    }
}

num_format numfmt_fp32(void)
{
    num_format f = {0};
    f.kind = NUM_FP;
    f.bits = 32;
    f.exp_bits = 8;
    return f;
}

double numfmt_storage_bits(const num_format *f)
{
    if (f->kind == NUM_BFP && f->block > 0)
        return f->bits + (double)f->exp_bits / f->block;
    if (f->kind == NUM_MX && f->block > 0)
        return f->bits + (double)f->scale_bits / f->block;
    return f->bits;
}

bool numfmt_is_float(const num_format *f)
{
    return f->kind == NUM_FP || (f->kind == NUM_MX && f->exp_bits > 0);
}
