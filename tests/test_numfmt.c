/* test_numfmt.c — number format text forms: parse, canonical print, bad widths.
 *
 * Every kind of format a trace or `bitsim cost --bits` may name (int, fx, bfp, fp with the
 * short names fp16, bf16, fp8e4m3 ...) reads back from its canonical text, parses to the
 * fields the paper conventions give (bfp storage bits per element), and bad widths are refused.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "numfmt.h"

static void roundtrip(const char *text)
{
    num_format f;
    const char *why = NULL;
    cr_assert(numfmt_parse(text, &f, &why), "%s: %s", text, why ? why : "");
    char buf[32];
    cr_expect_str_eq(numfmt_format(&f, buf, sizeof buf), text);
}

Test(numfmt, canonical_forms_read_back)
{
    const char *forms[] = {"fx8.4", "fx16.-2", "int3", "int32", "bfp8/e8/b16", "bfp12/e8",
                           "fp32", "fp16", "bf16", "fp8e4m3", "fp8e5m2", "fp24e8m15"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        roundtrip(forms[i]);
}

Test(numfmt, fields_of_parsed_formats)
{
    num_format f;
    cr_assert(numfmt_parse("fx8.4", &f, NULL));
    cr_expect_eq(f.kind, NUM_FX);
    cr_expect_eq(f.bits, 8);
    cr_expect_eq(f.frac_bits, 4);
    cr_assert(numfmt_parse("bf16", &f, NULL));
    cr_expect_eq(f.kind, NUM_FP);
    cr_expect_eq(f.bits, 16);
    cr_expect_eq(f.exp_bits, 8);
    cr_assert(numfmt_parse("bfp8/e8/b16", &f, NULL));
    cr_expect_eq(f.block, 16);
    /* 8 mantissa bits + 8 exponent bits shared by 16 elements = 8.5 bits per element */
    cr_expect_float_eq(numfmt_storage_bits(&f), 8.5, 1e-12);
    num_format fp32 = numfmt_fp32();
    cr_assert(numfmt_parse("fp32", &f, NULL));
    cr_expect(numfmt_equal(&f, &fp32));
    cr_expect_float_eq(numfmt_storage_bits(&fp32), 32.0, 0);
}

Test(numfmt, rejects_bad_widths_and_names)
{
    const char *bad[] = {"int0", "int33", "fx0.0", "fx33.4", "fx8", "fx8.x", "bfp8", "bfp8/e0",
                         "bfp8/e8/b0", "fp8e4m4", "fp", "float", "", "int8x", "fp32x",
                         "fx8.200", "bfp40/e8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        num_format f;
        const char *why = NULL;
        cr_expect_not(numfmt_parse(bad[i], &f, &why), "'%s' must be rejected", bad[i]);
        cr_expect(why && *why, "'%s' needs a reason", bad[i]);
    }
    const char *why = NULL;
    num_format f;
    numfmt_parse("int33", &f, &why);
    cr_expect(strstr(why, "1..32"), "reason names the range: %s", why);
}
