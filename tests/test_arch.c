/* test_arch.c — arch files: the shipped ones load, the SRAM table interpolates as stated, and
 * every kind of bad input is an error naming file, line and key.
 *
 * Expected figures come from the arch files' own stated parameters and the rows of the SRAM
 * table (arch/sram_table.csv), worked by hand.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch_private.h"
#include "cli_capture.h"
#include "cmd.h"

static const char *const shipped[] = {"bitfusion", "bitfusion-edge", "bitfusion-large",
                                      "systolic-int8", "systolic-fp32", "gpu-v100", "gpu-a100",
                                      "gpu-h100", "gpu-b200", "bitfusion-mx"};

Test(arch, shipped_files_load)
{
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
        arch a;
        bs_error e;
        cr_assert_eq(arch_load(&a, shipped[i], &e), 0, "%s: %s", shipped[i], e.msg);
        cr_expect_str_eq(a.name, shipped[i]);
        cr_expect_gt(a.freq_hz, 0);
        if (a.family != ARCH_GPU)
            for (int b = 0; b < ARCH_BUF_COUNT; b++)
                cr_expect_gt(a.buf_read_pj_per_bit[b], 0, "%s buffer %d", shipped[i], b);
        arch_free(&a);
    }
}

/* The paper configuration as the reference README states it (16x32 units, pmax 8, pmin 2,
 * 500 MHz, 192-bit interface, 64/32/16 KiB, 15 pJ/bit DRAM). */
Test(arch, bitfusion_is_the_paper_configuration)
{
    arch a;
    bs_error e;
    cr_assert_eq(arch_load(&a, "bitfusion", &e), 0, "%s", e.msg);
    cr_expect_eq(a.family, ARCH_BITFUSION);
    cr_expect_eq(a.rows * a.cols, 512);
    cr_expect_eq(a.pmax, 8);
    cr_expect_eq(a.pmin, 2);
    cr_expect_eq(a.brick_bits, 2);
    cr_expect_eq(a.freq_hz, 500e6);
    cr_expect_eq(a.dram_bits_per_cycle, 192);
    cr_expect_eq(a.buf_bytes[ARCH_WBUF], 65536);
    cr_expect_eq(a.buf_bytes[ARCH_ABUF], 32768);
    cr_expect_eq(a.buf_bytes[ARCH_OBUF], 16384);
    cr_expect_eq(a.dram_pj_per_bit, 15);
    cr_expect(a.double_buffer);
}

/* The stated buffer energies of bitfusion.ini equal what the SRAM table gives for the
 * simulator's banking (512 weight banks of 128 B, 16 activation banks of 2 KiB, 32 output
 * banks of 512 B with a read-write port; 32-bit words): derived and stated agree. */
Test(arch, sram_table_reproduces_stated_energies)
{
    arch stated, derived;
    bs_error e;
    cr_assert_eq(arch_load(&stated, "bitfusion", &e), 0, "%s", e.msg);
    const char *text = "[arch]\nfamily = bitfusion\nfreq_mhz = 500\n[array]\nrows = 16\n"
                       "cols = 32\npmax = 8\npmin = 2\n[buffers]\nwbuf_bytes = 65536\n"
                       "abuf_bytes = 32768\nobuf_bytes = 16384\n[dram]\nbits_per_cycle = 192\n"
                       "pj_per_bit = 15\n[energy]\ncore_pj_per_cycle = 235.104\n";
    cr_assert_eq(arch_parse_buffer(&derived, "derived.ini", text, strlen(text), &e), 0, "%s",
                 e.msg);
    for (int b = 0; b < ARCH_BUF_COUNT; b++) {
        cr_expect_float_eq(derived.buf_read_pj_per_bit[b], stated.buf_read_pj_per_bit[b],
                           1e-9 * stated.buf_read_pj_per_bit[b], "buffer %d read", b);
        cr_expect_float_eq(derived.buf_write_pj_per_bit[b], stated.buf_write_pj_per_bit[b],
                           1e-9 * stated.buf_write_pj_per_bit[b], "buffer %d write", b);
        cr_expect_gt(derived.area_mm2[1 + b], 0);
    }
}

/* Between rows 1024 B and 2048 B, a bank of 2^10.5 B lies half way in log2(size): its
 * figures are the mean of the two rows' (read 0.00113324 and 0.00190318 nJ per 32 bits). */
Test(arch, sram_interpolates_in_log_size)
{
    arch_sram s;
    bs_error e;
    cr_assert_eq(arch_sram_lookup(1448, 32, false, &s, &e), 0, "%s", e.msg);
    double t = log2(1448.0) - 10;
    double want = ((1 - t) * 0.00113324 + t * 0.00190318) / 32 * 1e3;
    cr_expect_float_eq(s.read_pj_per_bit, want, 1e-12);
    cr_expect_neq(arch_sram_lookup(64, 32, false, &s, &e), 0, "below the table");
    cr_expect_neq(arch_sram_lookup(1 << 20, 32, false, &s, &e), 0, "above the table");
}

/* A table given as text (what tests/fuzz_sram.c feeds): the midpoint in log2 size of two rows
 * is the mean of their per-access energies, divided by the 32-bit word; rows of the other
 * port kind are ignored; a bad row is refused naming its line. */
Test(arch, sram_table_text)
{
    static const char table[] = "# bank_bytes,word_bytes,rw_port,read_nj,write_nj,leak_mw,area\n"
                                "1024,4,0,0.001,0.002,1,0.01\n"
                                "4096,4,0,0.003,0.006,3,0.03\n"
                                "2048,4,1,9,9,9,9\n";
    arch_sram s;
    bs_error e;
    cr_assert_eq(arch_sram_lookup_text("t.csv", table, strlen(table), 2048, 32, false, &s, &e),
                 0, "%s", e.msg);
    cr_expect_float_eq(s.read_pj_per_bit, 0.002 / 32 * 1e3, 1e-12);
    cr_expect_float_eq(s.write_pj_per_bit, 0.004 / 32 * 1e3, 1e-12);
    cr_expect_float_eq(s.leak_mw, 2, 1e-12);
    cr_expect_float_eq(s.area_mm2, 0.02, 1e-12);
    static const char bad[] = "1024,4,0,0.001,0.002,1,0.01\n1024,4,2,0,0,0,0\n";
    cr_expect_neq(arch_sram_lookup_text("t.csv", bad, strlen(bad), 1024, 32, false, &s, &e), 0);
    cr_expect(strncmp(e.msg, "t.csv:2:", 8) == 0, "%s", e.msg);
}

static int parse(const char *text, bs_error *e)
{
    arch a;
    return arch_parse_buffer(&a, "bad.ini", text, strlen(text), e);
}

#define HEAD "[arch]\nfamily = bitfusion\nfreq_mhz = 500\n"
#define ARRAY "[array]\nrows = 16\ncols = 32\npmax = 8\npmin = 2\n"
#define BUFS "[buffers]\nwbuf_bytes = 65536\nabuf_bytes = 32768\nobuf_bytes = 16384\n"
#define TAIL "[dram]\nbits_per_cycle = 192\npj_per_bit = 15\n[energy]\ncore_pj_per_cycle = 1\n"

Test(arch, a_good_minimal_file_parses)
{
    bs_error e;
    cr_assert_eq(parse(HEAD ARRAY BUFS TAIL, &e), 0, "%s", e.msg);
}

/* Each bad input: the message must name the place (file:line or file) and the key. */
Test(arch, errors_name_file_line_and_key)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {HEAD ARRAY BUFS TAIL "bogus = 1\n", "bad.ini:18: bogus: unknown key"},
        {HEAD ARRAY BUFS TAIL "[nosuch]\n", "bad.ini:18: section: unknown section"},
        {HEAD "[array]\nrows = 16\npmax = 8\npmin = 2\n" BUFS TAIL, "bad.ini:4: cols: missing"},
        {HEAD "[array]\nrows = x16\ncols = 32\npmax = 8\npmin = 2\n" BUFS TAIL,
         "bad.ini:5: rows: bad value"},
        {HEAD "[array]\nrows = 0\ncols = 32\npmax = 8\npmin = 2\n" BUFS TAIL,
         "bad.ini:5: rows: bad value"},
        {HEAD ARRAY "rows = 8\n" BUFS TAIL, "bad.ini:9: rows: given twice"},
        {HEAD ARRAY BUFS TAIL "[gpu]\npeak_tops_fp32 = 1\n", "bad.ini:19: peak_tops_fp32: not used"},
        {"rows = 16\n", "bad.ini:1: rows: key outside"},
        {HEAD ARRAY BUFS TAIL "[sparsity]\nmode = sometimes\n", "bad.ini:19: mode: bad value"},
        {HEAD ARRAY BUFS TAIL "[dram]\npj_per_bit = 3\n", "bad.ini:19: pj_per_bit: given twice"},
        {"[array]\nrows = 16\n", "family: missing"},
        {HEAD "[array]\nrows = 16\ncols = 32\npmax = 4\npmin = 8\n" BUFS TAIL, "pmin"},
        {HEAD ARRAY "[buffers]\nwbuf_bytes = 64\nabuf_bytes = 32768\nobuf_bytes = 16384\n" TAIL,
         "wbuf"},
        {HEAD ARRAY BUFS TAIL "just words\n", "bad.ini:18: expected"},
        {HEAD "freq_mhz = nan\n", "bad.ini:4: freq_mhz"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bs_error e;
        err_clear(&e);
        cr_expect_eq(parse(cases[i].text, &e), BS_EINPUT, "case %zu accepted", i);
        cr_expect(strstr(e.msg, cases[i].want) != NULL, "case %zu: '%s' lacks '%s'", i, e.msg,
                  cases[i].want);
    }
}

Test(arch, unknown_name_is_an_error)
{
    arch a;
    bs_error e;
    cr_expect_eq(arch_load(&a, "no-such-arch", &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "no-such-arch") != NULL, "%s", e.msg);
}

/* arch/FORMAT.md's key tables are what the parser's key table prints (`make arch-doc` writes
 * them), and every section of the table has its block: a key added to arch.c without its doc
 * text, or a shipped FORMAT.md not regenerated, fails here. */
Test(arch, format_doc_is_the_key_table)
{
    FILE *f = fopen("arch/FORMAT.md", "rb");
    cr_assert(f, "arch/FORMAT.md missing (tests run from the repo root)");
    static char doc[1 << 17];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    const char *section, *key;
    const char *last = "";
    for (size_t i = 0; (key = arch_key_name(i, &section)) != NULL; i++) {
        if (!strcmp(section, last))
            continue;
        last = section;
        char marker[64];
        snprintf(marker, sizeof marker, "<!-- keys [%s]:", section);
        const char *at = strstr(doc, marker);
        cr_expect(at != NULL, "arch/FORMAT.md has no key block for [%s] (make arch-doc)", section);
        if (!at)
            continue;
        at = strchr(at, '\n') + 1;
        const char *end = strstr(at, "<!-- end keys -->");
        cr_assert(end != NULL, "arch/FORMAT.md: the [%s] block is not closed", section);
        char *want;
        size_t want_len;
        FILE *m = open_memstream(&want, &want_len);
        bs_error e;
        cr_assert_eq(arch_keys_doc(m, section, &e), 0, "%s", e.msg);
        fclose(m);
        cr_expect(want_len == (size_t)(end - at) && !memcmp(want, at, want_len),
                  "arch/FORMAT.md's [%s] keys differ from sim/arch.c's key table: run make "
                  "arch-doc\nwant:\n%s", section, want);
        free(want);
    }
}

/* `bitsim arch keys SECTION` with a section the format does not have: an input error naming
 * it; no section: every section's table. */
Test(arch, keys_doc_refuses_an_unknown_section)
{
    bs_error e;
    FILE *m = fopen("/dev/null", "w");
    cr_expect_eq(arch_keys_doc(m, "no_such", &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "[no_such]") != NULL, "%s", e.msg);
    cr_expect_eq(arch_keys_doc(m, NULL, &e), 0, "%s", e.msg);
    fclose(m);
}

/* `bitsim arch keys SECTION` prints that section's table (sparsity has the one key `mode`,
 * values none|x|both, default none); a section the format lacks exits 1 (bad input), two
 * sections exit 2 (usage). */
Test(arch, keys_command_prints_a_section)
{
    static char out[1 << 14];
    char *ok[] = {"arch", "keys", "sparsity", NULL};
    cr_assert_eq(run_cmd(cmd_arch, ok, out, sizeof out), 0);
    cr_expect(strstr(out, "| `mode` | `none`\\|`x`\\|`both` |  | BSG | none |") != NULL, "%s", out);
    cr_expect(strstr(out, "`rows`") == NULL, "%s", out);
    char *bad[] = {"arch", "keys", "sparsity_", NULL};
    cr_expect_eq(run_cmd(cmd_arch, bad, out, sizeof out), 1);
    char *two[] = {"arch", "keys", "arch", "dram", NULL};
    cr_expect_eq(run_cmd(cmd_arch, two, out, sizeof out), 2);
}

Test(arch, hash_tells_configurations_apart)
{
    arch a, b;
    bs_error e;
    cr_assert_eq(arch_load(&a, "bitfusion", &e), 0);
    cr_assert_eq(arch_load(&b, "bitfusion", &e), 0);
    cr_expect_eq(arch_hash(&a), arch_hash(&b));
    b.dram_bits_per_cycle = 64;
    cr_expect_neq(arch_hash(&a), arch_hash(&b));
}

/* The TF32/FP6/FP4 peaks and block_scale stated at their defaults (0, unit) are the same
 * arch as a file that leaves them out (one identity); another value is a different arch. */
Test(arch, new_keys_at_their_defaults_are_the_same_arch)
{
    static const char gpu[] = "[arch]\nfamily = gpu\nfreq_mhz = 1410\n[gpu]\n"
                              "peak_tops_fp32 = 19.5\npeak_tops_fp16 = 312\n%s"
                              "[dram]\nbandwidth_gb_s = 1555\npj_per_bit = 3.9\n";
    char text[512];
    arch plain, zeros, fp4;
    bs_error e;
    snprintf(text, sizeof text, gpu, "");
    cr_assert_eq(arch_parse_buffer(&plain, "g.ini", text, strlen(text), &e), 0, "%s", e.msg);
    snprintf(text, sizeof text, gpu, "peak_tops_fp4 = 0\npeak_tops_tf32 = 0\n");
    cr_assert_eq(arch_parse_buffer(&zeros, "g.ini", text, strlen(text), &e), 0, "%s", e.msg);
    snprintf(text, sizeof text, gpu, "peak_tops_fp4 = 1000\n");
    cr_assert_eq(arch_parse_buffer(&fp4, "g.ini", text, strlen(text), &e), 0, "%s", e.msg);
    cr_expect_eq(arch_hash(&plain), arch_hash(&zeros));
    cr_expect_neq(arch_hash(&plain), arch_hash(&fp4));
    const char *bf = HEAD ARRAY BUFS TAIL, *unit = HEAD ARRAY "block_scale = unit\n" BUFS TAIL,
               *vec = HEAD ARRAY "block_scale = vector\n" BUFS TAIL;
    arch a, b, c;
    cr_assert_eq(arch_parse_buffer(&a, "b.ini", bf, strlen(bf), &e), 0, "%s", e.msg);
    cr_assert_eq(arch_parse_buffer(&b, "b.ini", unit, strlen(unit), &e), 0, "%s", e.msg);
    cr_assert_eq(arch_parse_buffer(&c, "b.ini", vec, strlen(vec), &e), 0, "%s", e.msg);
    cr_expect_eq(a.block_scale, ARCH_SCALE_UNIT);
    cr_expect_eq(c.block_scale, ARCH_SCALE_VECTOR);
    cr_expect_eq(arch_hash(&a), arch_hash(&b));
    cr_expect_neq(arch_hash(&a), arch_hash(&c));
    /* a gpu file may not say block_scale (an array key) */
    snprintf(text, sizeof text, gpu, "");
    char bad[600];
    snprintf(bad, sizeof bad, "%s[array]\nblock_scale = unit\n", text);
    cr_expect_neq(arch_parse_buffer(&a, "g.ini", bad, strlen(bad), &e), 0);
}

/* arch_hash covers every key of the format: changing any one key's value (one bit of its
 * stored value) changes the hash. A key left out of the hash would make two different archs
 * one clock group in a sweep. */
Test(arch, hash_covers_every_key)
{
    arch base;
    bs_error e;
    cr_assert_eq(arch_load(&base, "bitfusion", &e), 0, "%s", e.msg);
    uint64_t h0 = arch_hash(&base);
    const char *section, *key;
    size_t n = 0;
    for (size_t i = 0; (key = arch_key_name(i, &section)) != NULL; i++, n++) {
        size_t off, bytes = arch_key_field(i, &off);
        cr_assert_gt(bytes, 0);
        cr_assert_leq(off + bytes, sizeof base);
        arch b = base;
        ((unsigned char *)&b)[off] ^= 1;    /* the lowest bit of the value's first byte */
        cr_expect_neq(arch_hash(&b), h0, "[%s] %s is not part of arch_hash", section, key);
    }
    cr_expect_geq(n, 60, "only %zu keys", n);
}
