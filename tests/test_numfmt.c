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
                           "fp32", "fp16", "bf16", "fp8e4m3", "fp8e5m2", "fp24e8m15", "tf32",
                           "mxfp8e4m3", "mxfp8e5m2", "mxfp6e3m2", "mxfp6e2m3", "mxfp4",
                           "mxint8", "nvfp4"};
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
                         "fx8.200", "bfp40/e8", "mxfp3", "mxfp8e3m4", "mx", "nvfp8",
                         "mxfp4x", "nvfp"};
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

/* The OCP Microscaling Formats (MX) Specification v1.0, sec. 5.1 Table 1: every concrete MX
 * format has k = 32 elements per block and an 8-bit E8M0 scale; the element layouts are FP8
 * E5M2 / E4M3, FP6 E3M2 / E2M3, FP4 E2M1 and INT8. NVFP4 (NVIDIA, arXiv 2509.25149 sec. 2):
 * E2M1 elements, 16 per block, an E4M3 (8-bit) block scale. Storage per element = element
 * bits + scale bits / block, worked by hand: 8 + 8/32 = 8.25, 6 + 8/32 = 6.25,
 * 4 + 8/32 = 4.25, 4 + 8/16 = 4.5. */
Test(numfmt, mx_and_nvfp4_fields_and_storage)
{
    static const struct {
        const char *text;
        unsigned bits, exp_bits, block, scale_bits, scale_exp_bits;
        double storage;
        bool is_float;
    } want[] = {
        {"mxfp8e4m3", 8, 4, 32, 8, 8, 8.25, true}, {"mxfp8e5m2", 8, 5, 32, 8, 8, 8.25, true},
        {"mxfp6e3m2", 6, 3, 32, 8, 8, 6.25, true}, {"mxfp6e2m3", 6, 2, 32, 8, 8, 6.25, true},
        {"mxfp4", 4, 2, 32, 8, 8, 4.25, true},     {"mxint8", 8, 0, 32, 8, 8, 8.25, false},
        {"nvfp4", 4, 2, 16, 8, 4, 4.5, true},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        num_format f;
        cr_assert(numfmt_parse(want[i].text, &f, NULL), "%s", want[i].text);
        cr_expect_eq(f.kind, NUM_MX, "%s", want[i].text);
        cr_expect_eq(f.bits, want[i].bits, "%s bits", want[i].text);
        cr_expect_eq(f.exp_bits, want[i].exp_bits, "%s exp_bits", want[i].text);
        cr_expect_eq(f.block, want[i].block, "%s block", want[i].text);
        cr_expect_eq(f.scale_bits, want[i].scale_bits, "%s scale_bits", want[i].text);
        cr_expect_eq(f.scale_exp_bits, want[i].scale_exp_bits, "%s scale exp", want[i].text);
        cr_expect_float_eq(numfmt_storage_bits(&f), want[i].storage, 1e-12, "%s", want[i].text);
        cr_expect_eq(numfmt_is_float(&f), want[i].is_float, "%s", want[i].text);
    }
}

/* Aliases read as their canonical format and print canonically; MXFP8 E4M3 and FP8 E4M3
 * (per-tensor scale) are different formats, as are MXFP4 and NVFP4 (same element). */
Test(numfmt, mx_aliases_and_distinctions)
{
    static const char *const alias[][2] = {
        {"mxfp8", "mxfp8e4m3"}, {"mxfp6", "mxfp6e3m2"}, {"mxfp4e2m1", "mxfp4"}};
    for (size_t i = 0; i < 3; i++) {
        num_format a, c;
        char buf[32];
        cr_assert(numfmt_parse(alias[i][0], &a, NULL));
        cr_assert(numfmt_parse(alias[i][1], &c, NULL));
        cr_expect(numfmt_equal(&a, &c), "%s = %s", alias[i][0], alias[i][1]);
        cr_expect_str_eq(numfmt_format(&a, buf, sizeof buf), alias[i][1]);
    }
    num_format mx8, fp8, mx4, nv4;
    cr_assert(numfmt_parse("mxfp8e4m3", &mx8, NULL) && numfmt_parse("fp8e4m3", &fp8, NULL));
    cr_assert(numfmt_parse("mxfp4", &mx4, NULL) && numfmt_parse("nvfp4", &nv4, NULL));
    cr_expect_not(numfmt_equal(&mx8, &fp8));
    cr_expect_not(numfmt_equal(&mx4, &nv4));
    /* FP8 E4M3 / E5M2 (Micikevicius et al. 2022, Table 1): 1 sign, 4 or 5 exponent bits, 3
     * or 2 mantissa bits; per-tensor scaled, so no per-element scale bits */
    cr_expect_eq(fp8.bits, 8);
    cr_expect_eq(fp8.exp_bits, 4);
    cr_expect_float_eq(numfmt_storage_bits(&fp8), 8.0, 0);
    num_format tf32;
    cr_assert(numfmt_parse("tf32", &tf32, NULL));
    cr_expect_eq(tf32.bits, 19);    /* 1 sign + 8 exponent + 10 mantissa bits */
    cr_expect_eq(tf32.exp_bits, 8);
}
