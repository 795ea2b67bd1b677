/* numfmt.h — the number formats a training scheme can choose for a tensor.
 *
 * Vocabulary of DESIGN.md: fx = fixed point <BW,FL> (two's complement, BW bits of which FL are
 * fractional), int = integer of BW bits, bfp = block floating point (a BW-bit mantissa per
 * element, one shared exponent of exp_bits per block of `block` elements), fp = IEEE-style
 * float (fp32, fp16, bf16, fp8 e4m3 / e5m2: `bits` total of which exp_bits exponent).
 * Text forms (traces, CLI): fx8.4  int8  bfp8/e8/b16  fp32 fp16 bf16 fp8e4m3 fp8e5m2.
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
    NUM_KIND_COUNT
} num_kind;

typedef struct num_format {
    uint8_t kind;       /* num_kind */
    uint8_t bits;       /* storage bits per element, 1..32 (bfp: mantissa bits incl. sign) */
    int8_t frac_bits;   /* fx: fractional bits FL (may exceed bits or be negative: a scale) */
    uint8_t exp_bits;   /* fp: exponent bits; bfp: shared exponent bits */
    uint16_t block;     /* bfp: elements per shared exponent */
} num_format;

/* Parses a text form; false (with a short reason in why, if non-NULL) when invalid, e.g.
 * bit-width 0 or 33, unknown name. */
bool numfmt_parse(const char *s, num_format *out, const char **why);
/* Canonical text form into buf (at least 32 bytes); returns buf. */
char *numfmt_format(const num_format *f, char *buf, size_t n);
bool numfmt_equal(const num_format *a, const num_format *b);
/* IEEE fp32, the baseline everywhere. */
num_format numfmt_fp32(void);
/* Average storage bits per element, counting bfp's shared exponent (exp_bits / block). */
double numfmt_storage_bits(const num_format *f);

#endif
