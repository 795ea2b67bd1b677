/* numfmt.c — parsing and printing the number formats of numfmt.h.
 *
 * Text forms (one canonical spelling each, so a trace written twice reads the same):
 *   fxBW.FL        fixed point, BW bits of which FL fractional (FL may be negative, -64..127)
 *   intBW          integer (a per-tensor scale, as in CPT/SBM linear quantizers)
 *   bfpM/eE/bN     block floating point: M-bit mantissa per element (incl. sign), one E-bit
 *                  exponent shared by N elements; bfpM/eE (no /b) shares one exponent per
 *                  whole tensor (block 0, MuPPET's per-layer scale), counted as 0 extra bits.
 *   fp32 fp16 bf16 fp8e4m3 fp8e5m2, and fpBeEmM for any other sign+E+M = B layout.
 * Additive extension to the lead's contract: block 0 = whole tensor; the fpBeEmM form.
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
    {"fp32", 32, 8}, {"fp16", 16, 5}, {"bf16", 16, 8}, {"fp8e4m3", 8, 4}, {"fp8e5m2", 8, 5},
};
#define N_NAMED_FPS (sizeof named_fps / sizeof named_fps[0])

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
    return fail(why, "unknown format (fxBW.FL, intBW, bfpM/eE[/bN], fp32, fp16, bf16, "
                     "fp8e4m3, fp8e5m2, fpBeEmM)");
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
    return f->bits;
}
