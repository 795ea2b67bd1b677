/* numfmt.h — the number formats a training scheme can choose for a tensor.
 *
 * Vocabulary of DESIGN.md: fx = fixed point <BW,FL> (two's complement, BW bits of which FL are
 * fractional), int = integer of BW bits, bfp = block floating point (a BW-bit mantissa per
 * element, one shared exponent of exp_bits per block of `block` elements), fp = IEEE-style
 * float (fp32, tf32, fp16, bf16, fp8 e4m3 / e5m2: `bits` total of which exp_bits exponent),
 * mx = a block-scaled format of the OCP Microscaling (MX) family or NVIDIA's NVFP4: `bits`-wide
 * elements (a float of exp_bits exponent bits, or an integer when exp_bits is 0) sharing one
 * scale of scale_bits (scale_exp_bits of them exponent) per `block` elements.
 * Text forms (traces, CLI): fx8.4  int8  bfp8/e8/b16  fp32 tf32 fp16 bf16 fp8e4m3 fp8e5m2
 * mxfp8e4m3 mxfp8e5m2 mxfp6e3m2 mxfp6e2m3 mxfp4 mxint8 nvfp4 (numfmt.c: sources, aliases).
 * How a format maps onto BitBricks is the cost model's business (cost.h), not this module's.
 */
#ifndef BITSIM_NUMFMT_H
#define BITSIM_NUMFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum num_kind {
    NUM_FX,
    NUM_INT,
    NUM_BFP,
    NUM_FP,
    NUM_MX,
    NUM_KIND_COUNT
} num_kind;

typedef struct num_format {
    uint8_t kind;       /* num_kind */
    uint8_t bits;       /* storage bits per element, 1..32 (bfp: mantissa bits incl. sign) */
    int8_t frac_bits;   /* fx: fractional bits FL (may exceed bits or be negative: a scale) */
    uint8_t exp_bits;   /* fp: exponent bits; bfp: shared exponent bits; mx: the element's
                         * exponent bits (0: an integer element, MXINT8) */
    uint16_t block;     /* bfp, mx: elements per shared exponent / scale */
    uint8_t scale_bits;     /* mx: bits of the per-block scale (8) */
    uint8_t scale_exp_bits; /* mx: its exponent bits (8: E8M0, 4: NVFP4's E4M3) */
} num_format;

/* Parses a text form; false (with a short reason in why, if non-NULL) when invalid, e.g.
 * bit-width 0 or 33, unknown name. */
bool numfmt_parse(const char *s, num_format *out, const char **why);
/* Canonical text form into buf (at least 32 bytes); returns buf. */
char *numfmt_format(const num_format *f, char *buf, size_t n);
bool numfmt_equal(const num_format *a, const num_format *b);
/* IEEE fp32, the baseline everywhere. */
num_format numfmt_fp32(void);
/* Average storage bits per element, counting bfp's shared exponent (exp_bits / block) and an
 * mx format's block scale (scale_bits / block). */
double numfmt_storage_bits(const num_format *f);
/* True when the element is a float (fp, or an mx format with a float element). */
bool numfmt_is_float(const num_format *f);

#endif
