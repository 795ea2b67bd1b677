/* test_arch_import.c — `bitsim arch import` on the public files' key/values
 * (tests/data/import/: hsharma35/bitfusion conf.ini and bf_e_conf.ini, SCALE-Sim v2's
 * configs/scale.cfg, each fixture naming its source). Expected values are the files' own,
 * mapped by hand: a -> rows, c -> cols, high/low_prec -> pmax/pmin, Wgt/Act/Out_SRAM ->
 * w/a/obuf_bytes, if_width -> DRAM bits per cycle, frequency Hz -> MHz; SCALE-Sim kB x 1024
 * and Bandwidth words x 8 bits.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "arch_import.h"
#include "checkout.h"

static char *slurp(const char *rel)
{
    static char buf[8192];
    return checkout_read(rel, buf, sizeof buf);
}

static void import_and_parse(const char *rel, arch *a)
{
    static char ini[1 << 14];
    bs_error e;
    cr_assert_eq(arch_import_text(rel, slurp(rel), ini, sizeof ini, &e), BS_OK, "%s", e.msg);
    cr_assert_eq(arch_parse_buffer(a, rel, ini, strlen(ini), &e), BS_OK, "%s\n%s", e.msg, ini);
}

/* A key whose line holds "key = value" in the imported text, as a number. */
static double key_of(const char *rel, const char *key)
{
    static char ini[1 << 14];
    bs_error e;
    cr_assert_eq(arch_import_text(rel, slurp(rel), ini, sizeof ini, &e), BS_OK, "%s", e.msg);
    char pat[64];
    snprintf(pat, sizeof pat, "\n%s = ", key);
    const char *p = strstr(ini, pat);
    cr_assert_not_null(p, "%s not in\n%s", key, ini);
    return strtod(p + strlen(pat), NULL);
}

typedef struct want_key {
    const char *key;
    double want;
} want_key;

/* Imports and parses f, then checks every key of want against the imported text. */
static void expect_keys(const char *f, const want_key *want, size_t n)
{
    arch a;
    import_and_parse(f, &a);
    for (size_t i = 0; i < n; i++)
        cr_expect_float_eq(key_of(f, want[i].key), want[i].want, 1e-9, "%s: %s", f, want[i].key);
}

Test(arch_import, bitfusion_bf_e_conf_is_the_paper_configuration)
{
    static const want_key keys[] = {
        {"freq_mhz", 500}, {"rows", 16}, {"cols", 32}, {"pmax", 8}, {"pmin", 2},
        {"wbuf_bytes", 65536}, {"abuf_bytes", 32768}, {"obuf_bytes", 16384},
        {"bits_per_cycle", 192}, {"pj_per_bit", 15},
    };
    expect_keys("tests/data/import/bitfusion_bf_e_conf.ini", keys, sizeof keys / sizeof keys[0]);
}

/* conf.ini's 8 x 8 array; its core energy per fusion unit as in the 512-unit paper
 * configuration (arch/bitfusion.ini): 64 of 512 */
Test(arch_import, bitfusion_conf_ini_8x8)
{
    static const want_key keys[] = {
        {"rows", 8}, {"cols", 8}, {"wbuf_bytes", 262144}, {"abuf_bytes", 65536},
        {"bits_per_cycle", 128}, {"core_pj_per_cycle", 235.104 * 64 / 512},
    };
    expect_keys("tests/data/import/bitfusion_conf.ini", keys, sizeof keys / sizeof keys[0]);
}

/* SCALE-Sim: kB x 1024, Bandwidth words x 8 bits, an 8-bit array */
Test(arch_import, scalesim_cfg_32x32)
{
    static const want_key keys[] = {
        {"rows", 32}, {"cols", 32}, {"native_bits", 8}, {"wbuf_bytes", 64 * 1024},
        {"abuf_bytes", 64 * 1024}, {"obuf_bytes", 64 * 1024}, {"bits_per_cycle", 64 * 8},
    };
    expect_keys("tests/data/import/scalesim_scale.cfg", keys, sizeof keys / sizeof keys[0]);
}

Test(arch_import, errors_name_file_line_and_key)
{
    static char ini[4096];
    bs_error e;
    cr_expect_eq(arch_import_text("x.ini", "[arch]\nfamily = bitfusion\n", ini, sizeof ini, &e),
                 BS_EINPUT);
    cr_expect(strstr(e.msg, "neither") != NULL, "%s", e.msg);
    cr_expect_eq(arch_import_text("c.ini", "[accelerator]\na = 8\nc = -1\n", ini, sizeof ini, &e),
                 BS_EINPUT);
    cr_expect(strstr(e.msg, "frequency") != NULL, "%s", e.msg);
    cr_expect_eq(arch_import_text("c.ini", "[system]\nif_width = 1\n[accelerator]\nfrequency = 5e8\n"
                                  "a = 8\nc = -1\nhigh_prec = 8\nlow_prec = 2\nWgt_SRAM = 1\n"
                                  "Act_SRAM = 1\nOut_SRAM = 1\n", ini, sizeof ini, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "c.ini:6: [accelerator] c: '-1' is not a positive number") != NULL,
              "%s", e.msg);
    cr_expect_eq(arch_import_text("g.cfg", "[architecture_presets]\nArrayHeight 32\n", ini,
                                  sizeof ini, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "g.cfg:2:") != NULL, "%s", e.msg);
}

/* SCALE-Sim's gradient topologies are backward GEMMs already: refused as networks, with why. */
#include "model.h"
#include "model_zoo.h"
Test(arch_import, scalesim_gradient_topologies_are_refused)
{
    static model m;
    bs_error e;
    cr_expect_eq(model_load(&m, "/nonexistent/resnet18_input_grad.csv", &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "gradient topology") != NULL, "%s", e.msg);
    cr_expect_eq(model_load(&m, "x_weight_grad.csv", &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "BWD_WEIGHT") != NULL, "%s", e.msg);
}
