/* test_cost.c — the cost model against independent numbers.
 *
 * 1. The public BitFusion simulator's layer results (../shared/reference/bitfusion_layers.csv,
 *    read at test time): every `ok` row, every count and energy column within 1% (the
 *    formulas are deterministic, so the test also reports the largest error seen).
 * 2. Hand-derived figures: the throughput factor of every width pair 1..16 from the rule in
 *    words; a one-tile layer worked out on paper; a compute-bound and a memory-bound layer;
 *    sparsity and compression; 16- and 32-bit operands; the pass mapping's MAdds; a GPU
 *    roofline; the training output stage (outputs written once at the consumer's width,
 *    partial-sum spills at psum width) by hand, per pass, and against exhaustive search.
 * 3. The `bitsim cost` command: its answer is cost_conv_eval's, and its exit codes.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arch.h"
#include "cmd.h"
#include "cost_private.h"
#include "model.h"
#include "model_zoo.h"
#include "refcsv.h"

static arch bf;

static void load_bitfusion(void)
{
    bs_error e;
    cr_assert_eq(arch_load(&bf, "bitfusion", &e), 0, "%s", e.msg);
}

static double rel_err(double got, double want)
{
    if (got == want)
        return 0;
    return fabs(got - want) / fmax(fabs(want), 1e-300);
}

/* ---- 1. the reference rows --------------------------------------------------------------- */

/* A reference column and how to read it from a result. Energies in the CSV are nJ. */
typedef struct ref_col {
    const char *name;
    double (*get)(const cost_result *r);
} ref_col;

static double g_total(const cost_result *r) { return (double)r->total_cycles; }
static double g_stall(const cost_result *r) { return (double)r->stall_cycles; }
static double g_compute(const cost_result *r) { return (double)r->compute_cycles; }
static double g_rd_act(const cost_result *r) { return r->sram_read_bits[ARCH_ABUF]; }
static double g_rd_wgt(const cost_result *r) { return r->sram_read_bits[ARCH_WBUF]; }
static double g_rd_out(const cost_result *r) { return r->sram_read_bits[ARCH_OBUF]; }
static double g_wr_act(const cost_result *r) { return r->sram_write_bits[ARCH_ABUF]; }
static double g_wr_wgt(const cost_result *r) { return r->sram_write_bits[ARCH_WBUF]; }
static double g_wr_out(const cost_result *r) { return r->sram_write_bits[ARCH_OBUF]; }
static double g_rd_dram(const cost_result *r) { return r->dram_read_bits; }
static double g_wr_dram(const cost_result *r) { return r->dram_write_bits; }
static double g_core(const cost_result *r) { return r->energy_pj[COST_E_CORE] / 1e3; }
static double g_sram(const cost_result *r)
{
    return (r->energy_pj[COST_E_WBUF] + r->energy_pj[COST_E_ABUF] + r->energy_pj[COST_E_OBUF]) /
           1e3;
}
static double g_dram(const cost_result *r) { return r->energy_pj[COST_E_DRAM] / 1e3; }
static double g_dyn(const cost_result *r) { return r->energy_total_pj / 1e3; }
static double g_perf(const cost_result *r) { return r->perf_factor; }

static const ref_col ref_cols[] = {
    {"total_cycles", g_total}, {"mem_stall_cycles", g_stall}, {"compute_cycles", g_compute},
    {"reads_act", g_rd_act},   {"reads_wgt", g_rd_wgt},       {"reads_out", g_rd_out},
    {"writes_act", g_wr_act},  {"writes_wgt", g_wr_wgt},      {"writes_out", g_wr_out},
    {"reads_dram", g_rd_dram}, {"writes_dram", g_wr_dram},    {"core_energy", g_core},
    {"sram_energy", g_sram},   {"dram_energy", g_dram},       {"dyn_energy", g_dyn},
    {"perf_factor", g_perf},
};
#define N_REF_COLS (int)(sizeof ref_cols / sizeof ref_cols[0])

static void conv_of_row(const refcsv *t, int i, cost_conv *c)
{
    cost_conv_init(c, (uint32_t)refcsv_num(t, i, "K"), (uint32_t)refcsv_num(t, i, "O"),
                   (uint32_t)refcsv_num(t, i, "S"), (uint64_t)refcsv_num(t, i, "IC"),
                   (uint64_t)refcsv_num(t, i, "OC"), (uint64_t)refcsv_num(t, i, "batch"),
                   (uint32_t)refcsv_num(t, i, "iprec"), (uint32_t)refcsv_num(t, i, "wprec"),
                   refcsv_num(t, i, "im2col") != 0);
}

static refcsv ref;

Test(cost_reference, every_ok_row_within_one_percent, .init = load_bitfusion, .timeout = 60)
{
    cr_assert(refcsv_load(&ref, "bitfusion_layers.csv"),
              "cannot read %s/bitfusion_layers.csv (set BITSIM_REFERENCE)", refcsv_dir());
    for (int k = 0; k < N_REF_COLS; k++)
        cr_assert_geq(refcsv_col(&ref, ref_cols[k].name), 0, "column %s missing",
                      ref_cols[k].name);
    double worst[N_REF_COLS] = {0};
    int checked = 0;
    for (int i = 0; i < ref.n_rows; i++) {
        if (strcmp(refcsv_get(&ref, i, "status"), "ok"))
            continue;
        cost_conv c;
        conv_of_row(&ref, i, &c);
        cost_result r;
        bs_error e;
        cr_assert_eq(cost_conv_eval(&bf, &c, &r, &e), 0, "%s: %s",
                     refcsv_get(&ref, i, "case"), e.msg);
        for (int k = 0; k < N_REF_COLS; k++) {
            double want = refcsv_num(&ref, i, ref_cols[k].name);
            double err = rel_err(ref_cols[k].get(&r), want);
            cr_expect_leq(err, 0.01, "%s: %s = %.10g, reference %.10g",
                          refcsv_get(&ref, i, "case"), ref_cols[k].name, ref_cols[k].get(&r),
                          want);
            worst[k] = fmax(worst[k], err);
        }
        checked++;
    }
    cr_assert_geq(checked, 90, "only %d ok rows found", checked);
    fprintf(stderr, "cost_reference: %d ok rows; largest relative error per column:\n", checked);
    for (int k = 0; k < N_REF_COLS; k++)
        fprintf(stderr, "  %-17s %.3g\n", ref_cols[k].name, worst[k]);
    refcsv_free(&ref);
}

/* The simulator fails on (16,16); bitsim answers, and under the tiling it chooses for (8,8)
 * the 16-bit compute is exactly 4x (two slices per operand), and its own search does no
 * worse than that tiling. */
Test(cost_reference, wide_rows_are_finite_and_temporal, .init = load_bitfusion, .timeout = 60)
{
    cr_assert(refcsv_load(&ref, "bitfusion_layers.csv"));
    int wide = 0;
    for (int i = 0; i < ref.n_rows; i++) {
        if (refcsv_num(&ref, i, "iprec") != 16 || refcsv_num(&ref, i, "wprec") != 16)
            continue;
        cost_conv c16, c8;
        conv_of_row(&ref, i, &c16);
        c8 = c16;
        c8.x_bits = c8.y_bits = 8;
        c8.x_mul_bits = c8.y_mul_bits = 8;
        cost_result r16, r8, r16_fixed;
        bs_error e;
        cr_assert_eq(cost_conv_eval(&bf, &c16, &r16, &e), 0, "%s", e.msg);
        cr_assert_eq(cost_conv_eval(&bf, &c8, &r8, &e), 0, "%s", e.msg);
        cr_assert(isfinite(r16.energy_total_pj) && r16.total_cycles > 0);
        cr_assert_eq(r16.perf_factor, 0.25);
        cost_tiling t = r8.tiling;
        if (cost_conv_eval_tiling(&bf, &c16, &t, &r16_fixed, &e) == 0) {
            cr_expect_eq(r16_fixed.compute_cycles, 4 * r8.compute_cycles, "%s",
                         refcsv_get(&ref, i, "case"));
            cr_expect_leq(r16.total_cycles, r16_fixed.total_cycles);
        }
        wide++;
    }
    cr_assert_geq(wide, 1);
    refcsv_free(&ref);
}

/* ---- 2. hand-derived --------------------------------------------------------------------- */

/* The rule in words, pmax 8, pmin 2, 2-bit bricks: an operand of 1 or 2 bits uses one brick
 * column, so 4 of them share a fusion unit side; 3 or 4 bits use two (2 per side); 5..8 bits
 * need all four (1 per side); 9..16 bits take two 8-bit slices in time (half a MAC per cycle
 * per side). The factor is the product of the two sides. */
static const double side_8_2[17] = {0, 4, 4, 2, 2, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,
                                    0.5, 0.5};

Test(cost_hand, perf_factor_every_width_pair, .init = load_bitfusion)
{
    for (uint32_t bx = 1; bx <= 16; bx++)
        for (uint32_t by = 1; by <= 16; by++)
            cr_expect_eq(cost_perf_factor(&bf, bx, by), side_8_2[bx] * side_8_2[by],
                         "(%u,%u)", bx, by);
    /* a few from the paper's Fusion Unit figure: 8x8 one MAC, 2x8 four, 2x2 sixteen */
    cr_expect_eq(cost_perf_factor(&bf, 8, 8), 1);
    cr_expect_eq(cost_perf_factor(&bf, 2, 8), 4);
    cr_expect_eq(cost_perf_factor(&bf, 2, 2), 16);
    /* 32 bits: four slices each */
    cr_expect_eq(cost_perf_factor(&bf, 32, 32), 1.0 / 16);
}

/* The searched cost of a square conv on the paper configuration (asserts success). */
static cost_result search_conv(uint32_t k, uint32_t o, uint32_t st, uint64_t ic, uint64_t oc,
                               uint64_t batch, uint32_t bits)
{
    cost_conv c;
    cost_conv_init(&c, k, o, st, ic, oc, batch, bits, bits, false);
    cost_result r;
    bs_error e;
    cr_assert_eq(cost_conv_eval(&bf, &c, &r, &e), 0, "%s", e.msg);
    return r;
}

/* The whole layer as one tile, worked by hand from the nest's rules (tiling.c top comment):
 * conv 3x3, 8x8 output, 16 in, 32 out channels, batch 1, 8-bit, on the paper configuration
 * (16 rows, 32 cols, buffers 64/32/16 KiB halved, 192-bit DRAM port). */
Test(cost_hand, one_tile_layer, .init = load_bitfusion)
{
    cost_conv c;
    cost_conv_init(&c, 3, 8, 1, 16, 32, 1, 8, 8, false);
    cost_tiling t = {.order = {'B', 'W', 'H', 'I', 'O'}, .tile = {1, 8, 8, 16, 32}};
    cost_result r;
    bs_error e;
    cr_assert_eq(cost_conv_eval_tiling(&bf, &c, &t, &r, &e), 0, "%s", e.msg);
    /* compute: b * ceil(oc/32) * ow*oh * kw*kh * ceil(ic/16) = 1*1*64*9*1 */
    cr_expect_eq(r.compute_cycles, 576);
    /* fills: weights ceil(9*16/16)*16*32*8 = 36864, inputs 10*10*16*8 = 12800,
     * outputs 8*8*32*32 = 65536 (exactly half the 16 KiB buffer: fits) */
    cr_expect_eq(r.sram_write_bits[ARCH_WBUF], 36864);
    cr_expect_eq(r.sram_write_bits[ARCH_ABUF], 12800);
    cr_expect_eq(r.dram_read_bits, 36864 + 12800 + 65536);
    cr_expect_eq(r.dram_write_bits, 65536);
    /* all traffic is pipeline fill: ceil(115200/192) + ceil(65536/192) = 600 + 342 */
    cr_expect_eq(r.stall_cycles, 942);
    cr_expect_eq(r.total_cycles, 576 + 942);
    /* stationary estimates: IS 144*64*(8+32*40) = 11870208, OS 32*64*(32+144*16) = 4784128,
     * WS 144*32*(8+64*40) = 11833344 -> output stationary; 294912 MACs read 8 bits of each
     * operand, 2048 outputs read and written once at 32 bits, plus the output fill */
    cr_expect_eq(r.tiling.dataflow, 1);
    cr_expect_eq(r.sram_read_bits[ARCH_ABUF], 294912.0 * 8);
    cr_expect_eq(r.sram_read_bits[ARCH_WBUF], 294912.0 * 8);
    cr_expect_eq(r.sram_read_bits[ARCH_OBUF], 65536 + 2048 * 32);
    cr_expect_eq(r.sram_write_bits[ARCH_OBUF], 65536 + 2048 * 32);
    /* energy: the arch's per-cycle and per-bit figures times those counts */
    cr_expect_float_eq(r.energy_pj[COST_E_CORE], 576 * bf.core_pj_per_cycle, 1e-9);
    cr_expect_float_eq(r.energy_pj[COST_E_DRAM], (115200.0 + 65536) * bf.dram_pj_per_bit,
                       1e-6);
    cr_expect_float_eq(r.latency_s, 1518 / 500e6, 1e-15);
    /* the search can only do as well or better */
    cr_expect_leq(search_conv(3, 8, 1, 16, 32, 1, 8).total_cycles, r.total_cycles);
}

/* The training output stage (cost.c top comment) on the one-tile layer above, worked by hand.
 * Outputs 8x8 positions x 32 channels, batch 1 = 2048 elements; at out_bits = 8 the DRAM
 * writes are 2048 x 8 = 16384 bits (the reference: 65536, psum width 32). Nothing is read
 * back: reads are weights 36864 + inputs 12800 = 49664. The output buffer is written only by
 * the array (2048 x 32) and read by the array and by the output stage (2048 x 32 each).
 * Stall: fill ceil(49664/192) = 259, drain ceil(16384/192) = 86.
 * With 20 output channels (oc padded to 32 columns in the buffer) the 12 padding columns
 * are not written: 8*8*20 = 1280 outputs x 8 = 10240 bits; weights ceil(144/16)*16*20*8 =
 * 23040; stall ceil(35840/192) + ceil(10240/192) = 187 + 54. */
Test(cost_hand, training_output_stage_one_tile, .init = load_bitfusion)
{
    static const struct {
        uint64_t oc;
        double rd, wr;
        uint64_t stall;
    } want[] = {{32, 36864 + 12800, 16384, 259 + 86}, {20, 23040 + 12800, 10240, 187 + 54}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cost_conv c;
        cost_conv_init(&c, 3, 8, 1, 16, want[i].oc, 1, 8, 8, false);
        c.out_bits = 8;
        cost_tiling t = {.order = {'B', 'W', 'H', 'I', 'O'}, .tile = {1, 8, 8, 16, 32}};
        cost_result r;
        bs_error e;
        cr_assert_eq(cost_conv_eval_tiling(&bf, &c, &t, &r, &e), 0, "%s", e.msg);
        double outs = 64.0 * (double)want[i].oc;
        cr_expect_eq(r.compute_cycles, 576);
        cr_expect_eq(r.dram_write_bits, want[i].wr, "oc %llu: writes %.0f",
                     (unsigned long long)want[i].oc, r.dram_write_bits);
        cr_expect_eq(r.dram_write_bits, outs * 8);
        cr_expect_eq(r.dram_read_bits, want[i].rd, "reads %.0f", r.dram_read_bits);
        cr_expect_eq(r.sram_write_bits[ARCH_OBUF], outs * 32);
        cr_expect_eq(r.sram_read_bits[ARCH_OBUF], outs * 32 * 2);
        cr_expect_eq(r.stall_cycles, want[i].stall, "stall %llu",
                     (unsigned long long)r.stall_cycles);
        cr_expect_float_eq(r.energy_pj[COST_E_DRAM], (want[i].rd + want[i].wr) *
                           bf.dram_pj_per_bit, 1e-6);
    }
}

/* Partial sums that must leave the chip still move at psum width (the reference's rule),
 * only the finished outputs shrink. conv 3x3, 8x8, 16 -> 32 channels, batch 2, 8-bit, one tile
 * per image (b = 1) and all of IC = 32 in two tiles of 16, order I outermost then B (outer to
 * inner: I B W H O). Walking from the inside: the B loop (count 2) doubles the output block
 * to 2 x 65536 > the 65536-bit half buffer, so outputs are demoted and the I loop (count 2)
 * doubles their traffic: the reference moves 4 x 65536 = 262144 bits each way. Of those,
 * one visit per output tile (2 x 65536) is the finished output; the rest, 131072 bits, are
 * partial sums spilled and read back. Training stage at out_bits = 8: writes 131072 +
 * 2 x 2048 outputs x 8 = 163840; reads the weights (I doubles them: 2 x 36864), the inputs
 * (B and I: 4 x 12800) and the 131072 spilled bits. */
Test(cost_hand, training_partial_sums_spill_at_psum_width, .init = load_bitfusion)
{
    cost_conv c;
    cost_conv_init(&c, 3, 8, 1, 32, 32, 2, 8, 8, false);
    cost_tiling t = {.order = {'I', 'B', 'W', 'H', 'O'}, .tile = {1, 8, 8, 16, 32}};
    cost_result ref, r;
    bs_error e;
    cr_assert_eq(cost_conv_eval_tiling(&bf, &c, &t, &ref, &e), 0, "%s", e.msg);
    cr_expect_eq(ref.dram_write_bits, 262144);
    cr_expect_eq(ref.dram_read_bits, 2 * 36864 + 4 * 12800 + 262144);
    c.out_bits = 8;
    cr_assert_eq(cost_conv_eval_tiling(&bf, &c, &t, &r, &e), 0, "%s", e.msg);
    cr_expect_eq(r.dram_write_bits, 131072 + 2 * 2048 * 8, "writes %.0f", r.dram_write_bits);
    cr_expect_eq(r.dram_read_bits, 2 * 36864 + 4 * 12800 + 131072, "reads %.0f",
                 r.dram_read_bits);
    cr_expect_eq(r.compute_cycles, ref.compute_cycles);
}

/* When the reduction is one tile, nothing spills, so DRAM writes are exactly outputs x
 * out_bits whatever tiling the search picks: doubling the output width doubles them. Here IC
 * = 16 = the reduction lanes at 8x8 bits (16 rows x 1 MAC): splitting it would double the
 * compute for nothing, so the search keeps it whole (asserted). */
Test(cost_hand, training_output_width_scales_writes, .init = load_bitfusion)
{
    const double outs = 8.0 * 14 * 14 * 96;      /* batch x positions x channels */
    double prev = 0;
    for (uint32_t bits = 4; bits <= 32; bits *= 2) {
        cost_conv c;
        cost_conv_init(&c, 3, 14, 1, 16, 96, 8, 8, 8, false);
        c.out_bits = bits;
        cost_result r;
        bs_error e;
        cr_assert_eq(cost_conv_eval(&bf, &c, &r, &e), 0, "%s", e.msg);
        cr_expect_eq(r.tiling.num[3 /* IC */], 1);
        cr_expect_eq(r.dram_write_bits, outs * bits, "%u bits: %.0f", bits, r.dram_write_bits);
        if (prev > 0)
            cr_expect_eq(r.dram_write_bits, 2 * prev);
        prev = r.dram_write_bits;
    }
}

/* ResNet-style 3x3, 56x56, 64->64, batch 16, 8-bit: plenty of reuse. The minimum compute is
 * B * ceil(OC/32) * O^2 * K^2 * ceil(IC/16) = 16*2*3136*9*4 and memory hides behind it. */
Test(cost_hand, compute_bound_layer, .init = load_bitfusion)
{
    cost_result r = search_conv(3, 56, 1, 64, 64, 16, 8);
    cr_expect_eq(r.compute_cycles, 16ull * 2 * 3136 * 9 * 4);
    cr_expect_lt(r.stall_cycles * 100, r.total_cycles, "stall %llu of %llu",
                 (unsigned long long)r.stall_cycles, (unsigned long long)r.total_cycles);
    cr_expect_eq(r.madds, 16ull * 3136 * 9 * 64 * 64);
    cr_expect_eq(r.bitops, (double)r.madds * 64);
}

/* fc 4096x4096 at batch 1: every 8-bit weight is used once, so DRAM bounds the time:
 * at least 4096*4096*8 bits / 192 bits per cycle, against at most MACs/512 cycles of compute
 * when the array is full. */
Test(cost_hand, memory_bound_layer, .init = load_bitfusion)
{
    cost_result r = search_conv(1, 1, 1, 4096, 4096, 1, 8);
    double weight_bits = 4096.0 * 4096 * 8;
    cr_expect_geq(r.dram_read_bits, weight_bits);
    cr_expect_geq((double)r.total_cycles, ceil(weight_bits / 192));
    cr_expect_geq(r.compute_cycles, 4096ull * 4096 / 512);
    cr_expect_gt(r.stall_cycles, 10 * r.compute_cycles);
    cr_expect_eq(r.total_cycles, r.compute_cycles + r.stall_cycles);
}

static void parse_arch_text(arch *a, const char *text)
{
    bs_error e;
    cr_assert_eq(arch_parse_buffer(a, "test.ini", text, strlen(text), &e), 0, "%s", e.msg);
}

#define SPARSE_ARCH(mode, compress)                                                          \
    "[arch]\nfamily = bitfusion\nfreq_mhz = 500\n[array]\nrows = 16\ncols = 32\npmax = 8\n"  \
    "pmin = 2\n[buffers]\nwbuf_bytes = 65536\nabuf_bytes = 32768\nobuf_bytes = 16384\n"      \
    "[dram]\nbits_per_cycle = 192\npj_per_bit = 15\ncompress = " compress "\n"              \
    "[energy]\ncore_pj_per_cycle = 235.104\n[sparsity]\nmode = " mode "\n"

typedef struct sparse_case {
    const char *text;
    uint64_t compute;
    double x_dram_factor;
} sparse_case;

/* Parses case k's arch into *a, evaluates the fixed conv tiling below at operand density
 * `density` into *r and checks compute cycles, DRAM read bits and MAdds. The caller frees *a. */
static void expect_sparse_case(const sparse_case *k, size_t i, double density, arch *a,
                               cost_result *r)
{
    parse_arch_text(a, k->text);
    cost_conv c;
    cost_conv_init(&c, 3, 8, 1, 16, 32, 1, 8, 8, false);
    c.density_x = c.density_y = density;
    cost_tiling t = {.order = {'B', 'W', 'H', 'I', 'O'}, .tile = {1, 8, 8, 16, 32}};
    bs_error e;
    cr_assert_eq(cost_conv_eval_tiling(a, &c, &t, r, &e), 0, "case %zu: %s", i, e.msg);
    cr_expect_eq(r->compute_cycles, k->compute, "case %zu", i);
    /* weights 36864 and inputs 12800 bits compressed alike, outputs 65536 dense */
    cr_expect_float_eq(r->dram_read_bits, (36864 + 12800) * k->x_dram_factor + 65536, 1e-6,
                       "case %zu", i);
    cr_expect_eq(r->madds, 294912, "MAdds count all products, zero or not");
}

/* Under a fixed tiling whose per-tile compute (1*1*64*9*1 = 576 cycles) is divisible by 4:
 * skipping zeros of both operands at densities 0.5 and 0.5 leaves a quarter; skipping x only
 * leaves half; a dense datapath keeps all. Bitmap compression sends 1 + 0.5*8 of every 8
 * bits of the sparse operands. */
Test(cost_hand, sparsity_scaling)
{
    static const sparse_case cases[] = {
        {SPARSE_ARCH("none", "none"), 576, 1},
        {SPARSE_ARCH("x", "none"), 288, 1},
        {SPARSE_ARCH("both", "none"), 144, 1},
        {SPARSE_ARCH("both", "bitmap"), 144, (1 + 0.5 * 8) / 8},
        {SPARSE_ARCH("both", "rle"), 144, 0.5 * (8 + 4) / 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        arch a;
        cost_result r;
        expect_sparse_case(&cases[i], i, 0.5, &a, &r);
        arch_free(&a);
    }
}

/* Density 0 is a legitimate all-zero tensor (a dead ReLU map, a pruned layer). The rule:
 * with zero-skipping the skipped operand's compute is 0; without it, density does not change
 * the compute (576 cycles as dense). DRAM: dense storage is unchanged; a bitmap still sends
 * its 1 bit per element (1/8 of 8-bit data); run-length coding still sends one (run, value)
 * entry per 2^4 zeros at most (max(d, 2^-run_bits) * (8 + 4) / 8 = 12/128). */
Test(cost_hand, zero_density_is_legal)
{
    static const sparse_case cases[] = {
        {SPARSE_ARCH("none", "none"), 576, 1},
        {SPARSE_ARCH("x", "none"), 0, 1},
        {SPARSE_ARCH("both", "bitmap"), 0, 1.0 / 8},
        {SPARSE_ARCH("both", "rle"), 0, 12.0 / 128},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        arch a;
        cost_result r;
        expect_sparse_case(&cases[i], i, 0, &a, &r);
        bs_error e;
        /* the same through cost_eval's query check */
        model_layer l = {.kind = LAYER_ACT, .in = {1, 1, 64}, .out = {1, 1, 64},
                         .in_elems = 64, .out_elems = 64, .fwd_elem_ops = 64};
        snprintf(l.name, sizeof l.name, "relu");
        cost_query q = {.layer = &l, .pass = PASS_FWD, .batch = 1,
                        .x = {.kind = NUM_INT, .bits = 8}, .density_x = 0, .density_y = 0};
        cr_expect_eq(cost_eval(&a, &q, &r, &e), 0, "case %zu: %s", i, e.msg);
        arch_free(&a);
    }
}

/* Core energy per fusion mode (arch/FORMAT.md [energy] core_pj_per_cycle_AxW). The arch
 * states 100 pJ per busy cycle for the whole array, and 40 pJ in 4x4 mode and 70 pJ in 2x8
 * mode. Under one fixed tiling (576 compute cycles at 8x8; fewer cycles at narrower modes, so
 * compare per cycle): 8x8 costs 100 per cycle, 4x4 40, 3x4 runs as 4x4 (40), 2x8 70, 8x2 is
 * not stated so it keeps the default 100, and 16x16 on pmax 8 runs as temporal 8x8 slices
 * (100). Without any of the keys, every mode costs core_pj_per_cycle (the BitFusion
 * simulator's model, which the reference rows check). */
Test(cost_hand, core_energy_per_fusion_mode, .init = load_bitfusion)
{
    static const char with_modes[] =
        "[arch]\nfamily = bitfusion\nfreq_mhz = 500\n[array]\nrows = 16\ncols = 32\npmax = 8\n"
        "pmin = 2\n[buffers]\nwbuf_bytes = 65536\nabuf_bytes = 32768\nobuf_bytes = 16384\n"
        "[dram]\nbits_per_cycle = 192\npj_per_bit = 15\n[energy]\ncore_pj_per_cycle = 100\n"
        "core_pj_per_cycle_4x4 = 40\ncore_pj_per_cycle_2x8 = 70\n";
    static const struct {
        uint32_t bx, by;
        double pj_per_cycle;
    } cases[] = {{8, 8, 100}, {4, 4, 40}, {3, 4, 40}, {2, 8, 70}, {8, 2, 100}, {16, 16, 100}};
    arch a;
    parse_arch_text(&a, with_modes);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cost_conv c;
        cost_conv_init(&c, 3, 8, 1, 16, 32, 1, cases[i].bx, cases[i].by, false);
        cost_tiling t = {.order = {'B', 'W', 'H', 'I', 'O'}, .tile = {1, 8, 8, 16, 32}};
        cost_result r;
        bs_error e;
        cr_assert_eq(cost_conv_eval_tiling(&a, &c, &t, &r, &e), 0, "%s", e.msg);
        cr_expect_gt(r.compute_cycles, 0);
        cr_expect_float_eq(r.energy_pj[COST_E_CORE], (double)r.compute_cycles *
                           cases[i].pj_per_cycle, 1e-9, "%ux%u", cases[i].bx, cases[i].by);
        /* the shipped bitfusion arch states no mode: 235.104 pJ per busy cycle in every mode */
        cr_assert_eq(cost_conv_eval_tiling(&bf, &c, &t, &r, &e), 0, "%s", e.msg);
        cr_expect_float_eq(r.energy_pj[COST_E_CORE], (double)r.compute_cycles * 235.104, 1e-9,
                           "%ux%u default", cases[i].bx, cases[i].by);
    }
    arch b;
    parse_arch_text(&b, with_modes);
    cr_expect_eq(arch_hash(&a), arch_hash(&b));
    arch_free(&b);
    static const char without[] =
        "[arch]\nfamily = bitfusion\nfreq_mhz = 500\n[array]\nrows = 16\ncols = 32\npmax = 8\n"
        "pmin = 2\n[buffers]\nwbuf_bytes = 65536\nabuf_bytes = 32768\nobuf_bytes = 16384\n"
        "[dram]\nbits_per_cycle = 192\npj_per_bit = 15\n[energy]\ncore_pj_per_cycle = 100\n";
    parse_arch_text(&b, without);
    cr_expect_neq(arch_hash(&a), arch_hash(&b), "the mode energies are part of the identity");
    arch_free(&b);
    arch_free(&a);
    /* a systolic array has one mode: the keys are refused there, at their line */
    static const char systolic[] =
        "[arch]\nfamily = systolic\nfreq_mhz = 500\n[array]\nrows = 16\ncols = 32\n"
        "native_bits = 8\n[buffers]\nwbuf_bytes = 65536\nabuf_bytes = 32768\n"
        "obuf_bytes = 16384\n[dram]\nbits_per_cycle = 192\npj_per_bit = 15\n[energy]\n"
        "core_pj_per_cycle = 100\ncore_pj_per_cycle_4x4 = 40\n";
    bs_error e;
    cr_expect_eq(arch_parse_buffer(&b, "s.ini", systolic, strlen(systolic), &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "s.ini:17: core_pj_per_cycle_4x4") != NULL, "%s", e.msg);
}

static num_format fmt(uint8_t kind, uint8_t bits, uint8_t exp_bits)
{
    return (num_format){.kind = kind, .bits = bits, .exp_bits = exp_bits};
}

/* 32-bit operands: int32 is four 8-bit slices per operand (16x the 8x8 cycles); fp32 on the
 * bricks multiplies its 24-bit significand, three slices (9x); a fixed fp32 array does any
 * format in one MAC, and a fixed int8 array gains nothing below 8 bits. */
Test(cost_hand, thirty_two_bit_and_fixed_arrays, .init = load_bitfusion)
{
    num_format fp32 = fmt(NUM_FP, 32, 8), int32 = fmt(NUM_INT, 32, 0), int4 = fmt(NUM_INT, 4, 0);
    cr_expect_eq(cost_mul_bits(&bf, &fp32), 24);
    cr_expect_eq(cost_perf_factor(&bf, cost_mul_bits(&bf, &fp32), 24), 1.0 / 9);
    cr_expect_eq(cost_perf_factor(&bf, cost_mul_bits(&bf, &int32), 32), 1.0 / 16);
    arch sf, si;
    bs_error e;
    cr_assert_eq(arch_load(&sf, "systolic-fp32", &e), 0, "%s", e.msg);
    cr_assert_eq(arch_load(&si, "systolic-int8", &e), 0, "%s", e.msg);
    cr_expect_eq(cost_perf_factor(&sf, cost_mul_bits(&sf, &fp32), cost_mul_bits(&sf, &fp32)), 1);
    cr_expect_eq(cost_perf_factor(&sf, 4, 4), 1);
    cr_expect_eq(cost_perf_factor(&si, cost_mul_bits(&si, &int4), 4), 1);
    cr_expect_eq(cost_perf_factor(&si, 16, 16), 0.25);

    /* under one tiling, 32x32-bit compute is 16x the 8x8 compute */
    cost_conv c8, c32;
    cost_conv_init(&c8, 3, 8, 1, 16, 32, 1, 8, 8, false);
    cost_conv_init(&c32, 3, 8, 1, 16, 32, 1, 32, 32, false);
    cost_tiling t = {.order = {'B', 'W', 'H', 'I', 'O'}, .tile = {1, 8, 8, 4, 32}};
    cost_tiling t2 = t;
    cost_result r8, r32;
    cr_assert_eq(cost_conv_eval_tiling(&bf, &c8, &t, &r8, &e), 0, "%s", e.msg);
    cr_assert_eq(cost_conv_eval_tiling(&bf, &c32, &t2, &r32, &e), 0, "%s", e.msg);
    cr_expect_eq(r32.compute_cycles, 16 * r8.compute_cycles);
    cr_expect_eq(r32.bitops, 16 * r8.bitops);
}

/* A conv layer written out by hand: 3x3, 32->64 channels, 16x16 output, stride 1. */
static model_layer conv_layer(bool first)
{
    model_layer l = {.kind = LAYER_CONV, .in = {32, 16, 16}, .out = {64, 16, 16},
                     .conv = {.kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1, .pad_h = 1,
                              .pad_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1},
                     .gemm = {.m = 256, .k = 288, .n = 64, .count = 1}, .first_mac = first,
                     .skip_bwd_data = first, .params = 288 * 64, .weight_elems = 288 * 64,
                     .in_elems = 32 * 256, .out_elems = 64 * 256, .fwd_madds = 256ull * 288 * 64};
    snprintf(l.name, sizeof l.name, "conv");
    return l;
}

/* cost_reads_density (cost.h) against the rule of cost.c SPARSITY, and its promise: where an
 * operand's density is not read, any density gives the same result bit for bit (a MAC conv
 * in every pass and a ReLU, on every sparsity x compression mode and on the GPU roofline). */
Test(cost_hand, unread_densities_change_nothing)
{
    static const char *const texts[] = {
        SPARSE_ARCH("none", "none"), SPARSE_ARCH("x", "none"), SPARSE_ARCH("both", "none"),
        SPARSE_ARCH("none", "bitmap"), SPARSE_ARCH("x", "rle"), SPARSE_ARCH("both", "bitmap")};
    static const bool want[][2] = {{0, 0}, {1, 0}, {1, 1}, {1, 1}, {1, 1}, {1, 1}};
    static const double dens[][2] = {{1, 1}, {0.3, 1}, {1, 0.3}, {0, 0}, {0.55, 0.7}};
    model_layer conv = conv_layer(false), relu = {.kind = LAYER_ACT, .in = {1, 1, 64},
                                                  .out = {1, 1, 64}, .in_elems = 64,
                                                  .out_elems = 64, .fwd_elem_ops = 64};
    snprintf(relu.name, sizeof relu.name, "relu");
    num_format i8 = {.kind = NUM_INT, .bits = 8};
    for (size_t i = 0; i < 7; i++) {
        arch a;
        bs_error e;
        if (i < 6)
            parse_arch_text(&a, texts[i]);
        else
            cr_assert_eq(arch_load(&a, "gpu-v100", &e), 0, "%s", e.msg);
        bool reads[2] = {cost_reads_density(&a, 0), cost_reads_density(&a, 1)};
        if (i < 6)
            cr_expect(reads[0] == want[i][0] && reads[1] == want[i][1], "arch %zu", i);
        for (int l = 0; l < 2; l++)
            for (int p = 0; p < (l ? 2 : PASS_COUNT); p++) {
                cost_query q = {.layer = l ? &relu : &conv, .pass = (train_pass)p, .batch = 4,
                                .x = i8, .y = l ? (num_format){.bits = 0} : i8,
                                .out = l ? (num_format){.bits = 0} : i8};
                cost_result base, r;
                q.density_x = q.density_y = 1;
                cr_assert_eq(cost_eval(&a, &q, &base, &e), 0, "%s", e.msg);
                for (size_t d = 0; d < sizeof dens / sizeof dens[0]; d++) {
                    /* the unread densities at dens[d], the read ones at 1 */
                    q.density_x = reads[0] ? 1 : dens[d][0];
                    q.density_y = reads[1] ? 1 : dens[d][1];
                    cr_assert_eq(cost_eval(&a, &q, &r, &e), 0, "%s", e.msg);
                    cr_expect(memcmp(&r, &base, sizeof r) == 0,
                              "arch %zu layer %d pass %d: unread densities %g, %g changed the "
                              "result", i, l, p, q.density_x, q.density_y);
                }
                if (l == 0 && p == PASS_FWD && (reads[0] || reads[1])) {
                    q.density_x = q.density_y = 0.3;    /* a read density does change it */
                    cr_assert_eq(cost_eval(&a, &q, &r, &e), 0, "%s", e.msg);
                    cr_expect(r.total_cycles != base.total_cycles ||
                              r.dram_read_bits != base.dram_read_bits, "arch %zu", i);
                }
            }
        arch_free(&a);
    }
}

/* The arch and layer of the backward-GEMM hand counts below: a 3x3 conv, 8 -> 16 channels,
 * 4x4 output, stride 1, pad 1, on a 16x32 array with a 2^20-bit DRAM port and a 64 KiB output
 * buffer (why those: backward_gemms_by_hand). */
static void small_gemm_setup(arch *a, model_layer *l)
{
    static const char wide[] =
        "[arch]\nfamily = bitfusion\nfreq_mhz = 500\n[array]\nrows = 16\ncols = 32\npmax = 8\n"
        "pmin = 2\n[buffers]\nwbuf_bytes = 65536\nabuf_bytes = 32768\nobuf_bytes = 65536\n"
        "obuf_read_pj_per_bit = 0.03\nobuf_write_pj_per_bit = 0.07\n"
        "[dram]\nbits_per_cycle = 1048576\npj_per_bit = 15\n[energy]\ncore_pj_per_cycle = 1\n";
    parse_arch_text(a, wide);
    a->objective = ARCH_OBJ_CYCLES;     /* the hand counts are least-cycle choices */
    *l = (model_layer){.kind = LAYER_CONV, .in = {8, 4, 4}, .out = {16, 4, 4},
                       .conv = {.kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1, .pad_h = 1,
                                .pad_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1},
                       .gemm = {.m = 16, .k = 72, .n = 16, .count = 1}, .params = 72 * 16,
                       .weight_elems = 72 * 16, .in_elems = 128, .out_elems = 256,
                       .fwd_madds = 16 * 72 * 16};
    snprintf(l->name, sizeof l->name, "conv");
}

/* The backward GEMMs by hand. Layer: 3x3 conv, 8 -> 16 channels, 4x4 output, stride 1,
 * pad 1, no bias; batch 2; int8 operands. model.h: m = 16 output positions, k = 8*9 = 72,
 * n = 16, so B*M = 2*16*72*16 = 36864 MAdds per pass. Array 16 rows x 32 cols at 8x8 bits:
 * L = 16 reduction lanes per column, M = 32 columns. To make the counts independent of which
 * of several equal tilings the search picks, the DRAM port is 2^20 bits/cycle (every tiling's
 * fill and drain take one cycle each: stall = 2) and the output buffer 64 KiB (the whole
 * output is one resident block), so the least-cycle tilings are those of least compute, and
 * of those the least-energy ones move every operand once.
 *
 * BWD_DATA (cost.c: dX = G . W^T as a 1x1 nest): rows b = B*m = 32, reduction ic = n = 16,
 * outputs oc = k = 72. Compute (tiling.c, direct nest): b * ceil(oc/M) * ceil(ic/L)
 * = 32 * 3 * 1 = 96 cycles. DRAM reads: G 32*16*8 = 4096 bits; W ceil(16/L)*L*72*8 = 9216;
 * the output block filled once at psum width with oc padded to 96: 32*96*32 = 98304; writes
 * the same 98304. Total 96 + 2 = 98 cycles.
 * BWD_WEIGHT (dW = A^T . G): rows b = k = 72, reduction ic = B*m = 32, outputs oc = n = 16.
 * Compute 72 * ceil(16/32) * ceil(32/16) = 144 cycles (half the columns idle: n = 16 < M).
 * DRAM reads: A as the im2col matrix 72*32*8 = 18432 bits (9x the 2*8*16*8 = 2048 bits of the
 * activation itself: the nest charges the lowered copy); G ceil(32/16)*16*16*8 = 4096; output
 * 72*32*32 = 73728 (oc padded to 32); writes 73728. Total 144 + 2 = 146 cycles. */
Test(cost_passes, backward_gemms_by_hand)
{
    arch a;
    model_layer l;
    small_gemm_setup(&a, &l);
    static const struct {
        train_pass pass;
        uint64_t compute, total;
        double dram_rd, dram_wr;
    } want[] = {
        {PASS_BWD_DATA, 96, 98, 4096 + 9216 + 98304, 98304},
        {PASS_BWD_WEIGHT, 144, 146, 18432 + 4096 + 73728, 73728},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cost_query q = {.layer = &l, .pass = want[i].pass, .batch = 2,
                        .x = fmt(NUM_INT, 8, 0), .y = fmt(NUM_INT, 8, 0),
                        .density_x = 1, .density_y = 1};
        cost_result r;
        bs_error e;
        cr_assert_eq(cost_eval(&a, &q, &r, &e), 0, "%s", e.msg);
        const char *p = model_pass_name(q.pass);
        cr_expect_eq(r.madds, 36864, "%s", p);
        cr_expect_eq(r.compute_cycles, want[i].compute, "%s compute %llu", p,
                     (unsigned long long)r.compute_cycles);
        cr_expect_eq(r.total_cycles, want[i].total, "%s total %llu", p,
                     (unsigned long long)r.total_cycles);
        cr_expect_float_eq(r.dram_read_bits, want[i].dram_rd, 1e-9, "%s reads %.0f", p,
                           r.dram_read_bits);
        cr_expect_float_eq(r.dram_write_bits, want[i].dram_wr, 1e-9, "%s writes %.0f", p,
                           r.dram_write_bits);
    }
    arch_free(&a);
}

/* The same layer and arch as backward_gemms_by_hand, with the training output stage
 * (cost_query.out set). Every output is written once at the consumer's width, nothing is read
 * back (the reduction fits on chip), no padding columns:
 *   FWD        out = A int8: 2 images x 16 positions x 16 channels = 512 outputs x 8 = 4096.
 *   BWD_DATA   out = G int8, but the GEMM's outputs are the column form of dX (k = 72 per
 *              position, scatter-added afterwards): partial sums, written at psum width
 *              without the padding to 96 columns: 32 x 72 x 32 = 73728; reads G 4096 + W
 *              9216. (The direct convolution would need 2*16*9 = 288 compute cycles against
 *              the GEMM's 96, so the GEMM stays: 98 cycles.)
 *   BWD_WEIGHT out = WG int16: 72 x 16 = 1152 weight gradients x 16 = 18432; reads A's im2col
 *              form 18432 + G 4096; 146 cycles as before, plus the making of that im2col
 *              copy, which training mode charges (cost.c BWD_WEIGHT): A read once, 2 x 128 x
 *              8 = 2048 bits, the copy written, 18432 bits; 20480 bits over the 2^20-bit port
 *              = 1 cycle: 147. (The windowed nest would need 8 x 3 x 3 x 16 x ceil(2/16) =
 *              1152 compute cycles: the batch of 2 fills 2 of 16 reduction lanes.)
 * The tiling objective is cycles here (small_gemm_setup; under edp BWD_DATA takes the direct
 * convolution instead: 290 cycles, but no column form of dX written at psum width). */
Test(cost_passes, training_outputs_by_hand)
{
    arch a;
    model_layer l;
    small_gemm_setup(&a, &l);
    num_format i8 = fmt(NUM_INT, 8, 0), i16 = fmt(NUM_INT, 16, 0);
    static const struct {
        train_pass pass;
        int out16;
        uint64_t total;         /* 0: not checked */
        double dram_rd, dram_wr;
    } want[] = {
        {PASS_FWD, 0, 0, -1, 4096},
        {PASS_BWD_DATA, 0, 98, 4096 + 9216, 73728},
        {PASS_BWD_WEIGHT, 1, 147, 18432 + 4096 + 2048, 18432 + 18432},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cost_query q = {.layer = &l, .pass = want[i].pass, .batch = 2, .x = i8, .y = i8,
                        .out = want[i].out16 ? i16 : i8, .density_x = 1, .density_y = 1};
        cost_result r;
        bs_error e;
        cr_assert_eq(cost_eval(&a, &q, &r, &e), 0, "%s", e.msg);
        const char *p = model_pass_name(q.pass);
        cr_expect_eq(r.madds, 36864, "%s", p);
        if (want[i].total)
            cr_expect_eq(r.total_cycles, want[i].total, "%s total %llu", p,
                         (unsigned long long)r.total_cycles);
        if (want[i].dram_rd >= 0)
            cr_expect_float_eq(r.dram_read_bits, want[i].dram_rd, 1e-9, "%s reads %.0f", p,
                               r.dram_read_bits);
        cr_expect_float_eq(r.dram_write_bits, want[i].dram_wr, 1e-9, "%s writes %.0f", p,
                           r.dram_write_bits);
    }
    arch_free(&a);
}

Test(cost_passes, madds_and_bitops_per_pass, .init = load_bitfusion)
{
    model_layer l = conv_layer(false);
    num_format i8 = fmt(NUM_INT, 8, 0), i4 = fmt(NUM_INT, 4, 0);
    const uint64_t batch = 8, madds = 8ull * 256 * 288 * 64;
    for (int p = PASS_FWD; p <= PASS_BWD_WEIGHT; p++) {
        cost_query q = {.layer = &l, .pass = (train_pass)p, .batch = batch, .x = i8, .y = i4,
                        .density_x = 1, .density_y = 1};
        cost_result r;
        bs_error e;
        cr_assert_eq(cost_eval(&bf, &q, &r, &e), 0, "%s: %s", model_pass_name(q.pass), e.msg);
        cr_expect_eq(r.madds, madds, "%s", model_pass_name(q.pass));
        cr_expect_eq(r.bitops, (double)madds * 8 * 4);
        cr_expect_eq(r.total_cycles, r.compute_cycles + r.stall_cycles);
        double sum = 0;
        for (int k = 0; k < COST_E_COUNT; k++)
            sum += r.energy_pj[k];
        cr_expect_float_eq(r.energy_total_pj, sum, 1e-6 * sum);
        /* the array can do no more than rows*cols*perf MACs per cycle */
        cr_expect_geq((double)r.compute_cycles, (double)madds / (16 * 32 * 4));
    }
    model_layer first = conv_layer(true);
    cost_query q = {.layer = &first, .pass = PASS_BWD_DATA, .batch = batch, .x = i8, .y = i8,
                    .density_x = 1, .density_y = 1};
    cost_result r;
    bs_error e;
    cr_assert_eq(cost_eval(&bf, &q, &r, &e), 0, "%s", e.msg);
    cr_expect_eq(r.madds, 0);
    cr_expect_eq(r.total_cycles, 0);
    /* UPDATE: params elementwise on the 32 vector lanes; reads WG (8) + master W (32 bits),
     * writes W (32): 18432 * 72 bits over 192 bits/cycle = 6912 cycles > 18432/32 = 576 */
    q = (cost_query){.layer = &l, .pass = PASS_UPDATE, .batch = batch, .x = i8,
                     .y = fmt(NUM_FP, 32, 8), .density_x = 1, .density_y = 1};
    cr_assert_eq(cost_eval(&bf, &q, &r, &e), 0, "%s", e.msg);
    cr_expect_eq(r.elem_ops, 18432);
    cr_expect_eq(r.compute_cycles, 576);
    cr_expect_eq(r.total_cycles, 6912);
}

/* In nonmac = separate mode, non-MAC layers stream whole tensors through DRAM, not one read and one write per
 * elementwise op: a batch norm's four ops per element (mean, variance, normalise, scale and
 * shift) run as two sweeps over x (statistics, then normalise) and one write of y. Batch 4,
 * 16x32x32 fp32 tensors (E = 65536 elements of 32 bits, 2,097,152 bits per tensor), the
 * shipped BitFusion's 192-bit DRAM port and 32 vector lanes; the per-pass tensor traffic
 * (cost.c's table) and the resulting cycles, all memory-bound:
 *   norm FWD          read x twice, write y          3 tensors  6,291,456 bits  32768 cycles
 *   norm BWD_DATA     read G, x twice each, write dX 5 tensors 10,485,760 bits  54614
 *   norm BWD_WEIGHT   read G and x (dgamma, dbeta)   2 tensors  4,194,304 bits  21846
 *   act FWD           read x, write y                2                           21846
 *   act BWD_DATA      read G and x, write dX         3                           32768
 *   add FWD           read both inputs, write y      3                           32768
 *   add BWD_DATA      read both gradients, write     3                           32768
 *   global pool FWD   read x (E), write 4x16 means   2,097,152 + 2,048 bits      10934
 *   global pool BWD   read G (4x16), write dX (E)    the same                    10934
 * (the per-op rule charged norm FWD 4 reads and 4 writes per element: 87382 cycles). */
Test(cost_passes, non_mac_layers_stream_tensors, .init = load_bitfusion)
{
    arch sep = bf;      /* nonmac = separate: one kernel per op (GPUs' rule) */
    sep.nonmac = ARCH_NONMAC_SEPARATE;
    static const struct {
        layer_kind kind;
        train_pass pass;
        uint64_t cycles;
        double bits;
    } want[] = {
        {LAYER_NORM, PASS_FWD, 32768, 6291456},
        {LAYER_NORM, PASS_BWD_DATA, 54614, 10485760},
        {LAYER_NORM, PASS_BWD_WEIGHT, 21846, 4194304},
        {LAYER_ACT, PASS_FWD, 21846, 4194304},
        {LAYER_ACT, PASS_BWD_DATA, 32768, 6291456},
        {LAYER_ADD, PASS_FWD, 32768, 6291456},
        {LAYER_ADD, PASS_BWD_DATA, 32768, 6291456},
        {LAYER_POOL, PASS_FWD, 10934, 2097152 + 2048},
        {LAYER_POOL, PASS_BWD_DATA, 10934, 2097152 + 2048},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        bool pool = want[i].kind == LAYER_POOL;
        model_layer l = {.kind = want[i].kind, .in = {16, 32, 32},
                         .out = {16, pool ? 1 : 32, pool ? 1 : 32}, .in_elems = 16384,
                         .out_elems = pool ? 16 : 16384, .params = want[i].kind == LAYER_NORM ? 32 : 0,
                         .conv = {.kh = pool ? 32 : 0, .kw = pool ? 32 : 0, .stride_h = 1,
                                  .stride_w = 1}};
        snprintf(l.name, sizeof l.name, "%s", model_kind_name(l.kind));
        snprintf(l.op, sizeof l.op, "%s", pool ? "avg" : want[i].kind == LAYER_NORM ? "batch" : "relu");
        cost_query q = {.layer = &l, .pass = want[i].pass, .batch = 4, .x = numfmt_fp32(),
                        .density_x = 1, .density_y = 1};
        cost_result r;
        bs_error e;
        cr_assert_eq(cost_eval(&sep, &q, &r, &e), 0, "%s", e.msg);
        const char *what = model_pass_name(q.pass);
        cr_expect_gt(r.elem_ops, 0, "%s %s", l.name, what);
        cr_expect_float_eq(r.dram_read_bits + r.dram_write_bits, want[i].bits, 1e-6,
                           "%s %s: %.0f bits", l.name, what, r.dram_read_bits + r.dram_write_bits);
        cr_expect_eq(r.total_cycles, want[i].cycles, "%s %s: %llu cycles", l.name, what,
                     (unsigned long long)r.total_cycles);
    }
}

/* GPU roofline: fc 4096x4096, batch 64, fp16 on the V100 file (125 TFLOPS fp16, 900 GB/s):
 * 2*64*4096*4096 ops / 125e12 = 17.18 us; traffic (64*4096 + 4096*4096) * 2 bytes + the
 * 64*4096 fp32 outputs = 35.16 MB / 900 GB/s = 39.07 us: memory-bound. */
Test(cost_passes, gpu_roofline)
{
    arch g;
    bs_error e;
    cr_assert_eq(arch_load(&g, "gpu-v100", &e), 0, "%s", e.msg);
    model_layer l = {.kind = LAYER_LINEAR, .in = {1, 1, 4096}, .out = {1, 1, 4096},
                     .gemm = {.m = 1, .k = 4096, .n = 4096, .count = 1},
                     .params = 4096 * 4096, .weight_elems = 4096 * 4096, .in_elems = 4096,
                     .out_elems = 4096, .fwd_madds = 4096 * 4096};
    num_format f16 = fmt(NUM_FP, 16, 5);
    cost_query q = {.layer = &l, .pass = PASS_FWD, .batch = 64, .x = f16, .y = f16,
                    .density_x = 1, .density_y = 1};
    cost_result r;
    cr_assert_eq(cost_eval(&g, &q, &r, &e), 0, "%s", e.msg);
    double bytes = (64.0 * 4096 + 4096.0 * 4096) * 2 + 64.0 * 4096 * 4;
    cr_expect_float_eq(r.latency_s, bytes / 900e9, 1e-15);
    cr_expect_float_eq(r.compute_cycles, ceil(2.0 * 64 * 4096 * 4096 / 125e12 * 1530e6), 1);
    cr_expect_gt(r.stall_cycles, 0);
    /* Issue 13 D13: the roofline's time is ops / peak or bytes / bandwidth, whatever the clock
     * (which only counts cycles): at 0.001 MHz it was rounded up to whole 1 ms cycles. */
    g.freq_hz = 1e3;
    cr_assert_eq(cost_eval(&g, &q, &r, &e), 0, "%s", e.msg);
    cr_expect_float_eq(r.latency_s, bytes / 900e9, 1e-15, "%.9g s at 1 kHz", r.latency_s);
    q.batch = 1 << 20;  /* compute-bound: 2 * 2^20 * 4096^2 ops at 125 TFLOPS */
    cr_assert_eq(cost_eval(&g, &q, &r, &e), 0, "%s", e.msg);
    cr_expect_float_eq(r.latency_s, 2.0 * (1 << 20) * 4096 * 4096 / 125e12, 1e-12, "%.9g s",
                       r.latency_s);
    /* with the bias add after the GEMM (its own roofline term), the same at either clock */
    l.bias = true;
    q.batch = 64;
    cost_result slow, fast;
    cr_assert_eq(cost_eval(&g, &q, &slow, &e), 0, "%s", e.msg);
    g.freq_hz = 1530e6;
    cr_assert_eq(cost_eval(&g, &q, &fast, &e), 0, "%s", e.msg);
    cr_expect_gt(fast.latency_s, bytes / 900e9, "the bias add takes time");
    cr_expect_float_eq(slow.latency_s, fast.latency_s, 1e-15, "%.9g s at 1 kHz, %.9g s at 1530 MHz",
                       slow.latency_s, fast.latency_s);
}

/* A ResNet basic-block conv: 3x3, 16 -> 16 channels, 32x32, stride 1, pad 1; and its
 * downsampling sibling: 3x3, 16 -> 32, 32x32 -> 16x16, stride 2. */
static model_layer block_conv(bool stride2)
{
    uint32_t oc = stride2 ? 32 : 16, o = stride2 ? 16 : 32, s = stride2 ? 2 : 1;
    model_layer l = {.kind = LAYER_CONV, .in = {16, 32, 32}, .out = {oc, o, o},
                     .conv = {.kh = 3, .kw = 3, .stride_h = s, .stride_w = s, .pad_h = 1,
                              .pad_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1},
                     .gemm = {.m = (uint64_t)o * o, .k = 144, .n = oc, .count = 1},
                     .params = 144ull * oc, .weight_elems = 144ull * oc, .in_elems = 16384,
                     .out_elems = (uint64_t)oc * o * o, .fwd_madds = (uint64_t)o * o * 144 * oc};
    snprintf(l.name, sizeof l.name, stride2 ? "down" : "block");
    return l;
}

static bool stats_better(const cost_result *a, const cost_result *b)
{
    return a->total_cycles < b->total_cycles ||
           (a->total_cycles == b->total_cycles && a->energy_total_pj < b->energy_total_pj);
}

/* BWD_DATA of a stride-1 conv whose output has its input's size is itself a convolution:
 * dX = G (padded) convolved with the 180-degree-rotated W, in and out channels swapped, same
 * kernel, output = the input's size — the same B*M MAdds. The array can run it as that
 * convolution (G streamed once as an input window, dX written once) or as the GEMM
 * G . W^T (whose k = ic*kh*kw outputs per position are the column form of dX, 9x its size
 * at partial-sum width, scatter-added afterwards). cost_eval takes the better lowering
 * (least cycles, then energy), each costed by the reference nest (cost_conv_eval). A stride-2
 * conv has no such direct form here: the GEMM. */
Test(cost_passes, bwd_data_takes_the_better_lowering, .init = load_bitfusion)
{
    num_format i8 = fmt(NUM_INT, 8, 0);
    const uint64_t batch = 16;
    for (int stride2 = 0; stride2 < 2; stride2++) {
        model_layer l = block_conv(stride2);
        cost_query q = {.layer = &l, .pass = PASS_BWD_DATA, .batch = batch, .x = i8, .y = i8,
                        .density_x = 1, .density_y = 1};
        cost_result got, gemm, conv;
        bs_error e;
        cr_assert_eq(cost_eval(&bf, &q, &got, &e), 0, "%s", e.msg);
        cost_conv c;
        cost_conv_init(&c, 1, 1, 1, l.gemm.n, l.gemm.k, batch * l.gemm.m, 8, 8, false);
        cr_assert_eq(cost_conv_eval(&bf, &c, &gemm, &e), 0, "%s", e.msg);
        const cost_result *want = &gemm;
        if (!stride2) {
            cost_conv_init(&c, 3, 32, 1, 16, 16, batch, 8, 8, false);
            cr_assert_eq(cost_conv_eval(&bf, &c, &conv, &e), 0, "%s", e.msg);
            cr_expect(stats_better(&conv, &gemm), "the direct form wins here: %llu vs %llu",
                      (unsigned long long)conv.total_cycles,
                      (unsigned long long)gemm.total_cycles);
            want = stats_better(&conv, &gemm) ? &conv : &gemm;
        }
        cr_expect_eq(got.madds, batch * l.fwd_madds);
        cr_expect_eq(got.total_cycles, want->total_cycles, "%s: %llu vs %llu", l.name,
                     (unsigned long long)got.total_cycles,
                     (unsigned long long)want->total_cycles);
        cr_expect_float_eq(got.dram_read_bits, want->dram_read_bits, 1e-6, "%s", l.name);
        cr_expect_float_eq(got.dram_write_bits, want->dram_write_bits, 1e-6, "%s", l.name);
        cr_expect_float_eq(got.energy_total_pj, want->energy_total_pj, 1e-6, "%s", l.name);
    }
}

/* The GPU roofline moves each tensor once: BWD_DATA of a conv reads G (B*out elements) and W
 * and writes dX (B*in elements, fp32), not its 9x column form; BWD_WEIGHT reads A (B*in) and
 * G (B*out) and writes dW (weights, fp32), not A's 9x im2col copy. */
Test(cost_passes, gpu_backward_moves_each_tensor_once)
{
    arch g;
    bs_error e;
    cr_assert_eq(arch_load(&g, "gpu-v100", &e), 0, "%s", e.msg);
    model_layer l = block_conv(false);
    num_format f32 = numfmt_fp32();
    const double B = 128;
    cost_query q = {.layer = &l, .pass = PASS_BWD_DATA, .batch = 128, .x = f32, .y = f32,
                    .density_x = 1, .density_y = 1};
    cost_result r;
    cr_assert_eq(cost_eval(&g, &q, &r, &e), 0, "%s", e.msg);
    cr_expect_float_eq(r.dram_read_bits, (B * 16384 + 2304) * 32, 1e-6, "%.0f", r.dram_read_bits);
    cr_expect_float_eq(r.dram_write_bits, B * 16384 * 32, 1e-6, "%.0f", r.dram_write_bits);
    q.pass = PASS_BWD_WEIGHT;
    cr_assert_eq(cost_eval(&g, &q, &r, &e), 0, "%s", e.msg);
    cr_expect_float_eq(r.dram_read_bits, (B * 16384 + B * 16384) * 32, 1e-6, "%.0f",
                       r.dram_read_bits);
    cr_expect_float_eq(r.dram_write_bits, 2304.0 * 32, 1e-6, "%.0f", r.dram_write_bits);
    arch_free(&g);
}

Test(cost_errors, bad_queries_and_impossible_layers, .init = load_bitfusion)
{
    model_layer l = conv_layer(false);
    num_format i8 = fmt(NUM_INT, 8, 0);
    cost_query q = {.layer = &l, .pass = PASS_FWD, .batch = 1, .x = i8, .y = i8,
                    .density_x = -0.25, .density_y = 1};
    cost_result r;
    bs_error e;
    cr_expect_eq(cost_eval(&bf, &q, &r, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "densit") != NULL, "%s", e.msg);
    q.density_x = 1.5;
    cr_expect_eq(cost_eval(&bf, &q, &r, &e), BS_EINPUT);
    q.density_x = NAN;
    cr_expect_eq(cost_eval(&bf, &q, &r, &e), BS_EINPUT);
    q.density_x = 0;
    cr_expect_eq(cost_eval(&bf, &q, &r, &e), 0, "an all-zero tensor is legal: %s", e.msg);
    q.density_x = 1;
    q.batch = 0;
    cr_expect_eq(cost_eval(&bf, &q, &r, &e), BS_EINPUT);
    q.batch = 1;
    q.x.bits = 0;
    cr_expect_eq(cost_eval(&bf, &q, &r, &e), BS_EINPUT);
    /* a 1-byte activation buffer holds no tile at all */
    arch tiny;
    parse_arch_text(&tiny, "[arch]\nfamily = bitfusion\nfreq_mhz = 500\n[array]\nrows = 16\n"
                           "cols = 32\npmax = 8\npmin = 2\n[buffers]\nwbuf_bytes = 65536\n"
                           "abuf_bytes = 1\nobuf_bytes = 16384\nabuf_read_pj_per_bit = 1\n"
                           "abuf_write_pj_per_bit = 1\n[dram]\nbits_per_cycle = 192\n"
                           "pj_per_bit = 15\n[energy]\ncore_pj_per_cycle = 1\n");
    cost_conv c;
    cost_conv_init(&c, 3, 8, 1, 16, 32, 1, 8, 8, false);
    cr_expect_eq(cost_conv_eval(&tiny, &c, &r, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "tile") != NULL, "%s", e.msg);
    /* 2^40 samples of a 4096x4096 fc: cycle counts would not fit 64 bits */
    cost_conv_init(&c, 1, 1, 1, 4096, 4096, 1ull << 40, 8, 8, false);
    cr_expect_eq(cost_conv_eval(&bf, &c, &r, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "too large") != NULL, "%s", e.msg);
}

/* ---- the search is exact: it equals exhaustive enumeration ------------------------------ */

/* Tile sizes as tiling.c documents them: powers of two (times step) below the extent, then
 * the extent. */
static int tile_sizes(uint64_t extent, uint64_t step, uint64_t *out)
{
    int k = 0;
    for (uint64_t v = step; v < extent; v *= 2)
        out[k++] = v;
    out[k++] = extent;
    return k;
}

/* The rank of a tiling under an objective (arch/FORMAT.md tiling_objective): cycles (cycles,
 * energy), energy (energy, cycles), edp (energy x cycles, cycles). */
static void rank_key(arch_objective o, double cyc, double en, double *k1, double *k2)
{
    *k1 = o == ARCH_OBJ_CYCLES ? cyc : o == ARCH_OBJ_ENERGY ? en : en * cyc;
    *k2 = o == ARCH_OBJ_CYCLES ? en : cyc;
}

/* Every tiling x every one of the 120 loop orders through cost_conv_eval_tiling; the least
 * key of c->objective must be what the pruned search returns. */
static void check_exhaustive(const arch *a, const cost_conv *c)
{
    uint64_t b[70], o[70], ic[70], oc[70];
    int nb = tile_sizes(c->batch, 1, b), no = tile_sizes(c->ow, 1, o);
    int ni = tile_sizes(c->ic, 1, ic), nc = tile_sizes(c->oc, c->im2col ? 1 : a->cols, oc);
    static const char letters[5] = {'B', 'W', 'H', 'I', 'O'};
    double best_cycles = INFINITY, best_energy = INFINITY;
    bs_error e;
    for (int i0 = 0; i0 < nb; i0++)
        for (int i1 = 0; i1 < no; i1++)
            for (int i2 = 0; i2 < ni; i2++)
                for (int i3 = 0; i3 < nc; i3++)
                    for (int p = 0; p < 3125; p++) {
                        int d[5], q = p;
                        unsigned seen = 0;
                        for (int j = 0; j < 5; j++, q /= 5) {
                            d[j] = q % 5;
                            seen |= 1u << d[j];
                        }
                        if (seen != 31)
                            continue;
                        cost_tiling t = {.tile = {b[i0], o[i1], o[i1], ic[i2], oc[i3]}};
                        for (int j = 0; j < 5; j++)
                            t.order[j] = letters[d[j]];
                        cost_result r;
                        if (cost_conv_eval_tiling(a, c, &t, &r, &e))
                            continue;
                        double cyc = (double)r.total_cycles;
                        double en = r.energy_pj[COST_E_CORE] + r.energy_pj[COST_E_WBUF] +
                                    r.energy_pj[COST_E_ABUF] + r.energy_pj[COST_E_OBUF] +
                                    r.energy_pj[COST_E_DRAM];
                        double k1, k2;
                        rank_key(c->objective, cyc, en, &k1, &k2);
                        if (k1 < best_cycles || (k1 == best_cycles && k2 < best_energy)) {
                            best_cycles = k1;
                            best_energy = k2;
                        }
                    }
    cost_result r;
    cr_assert_eq(cost_conv_eval(a, c, &r, &e), 0, "%s", e.msg);
    double en = r.energy_pj[COST_E_CORE] + r.energy_pj[COST_E_WBUF] + r.energy_pj[COST_E_ABUF] +
                r.energy_pj[COST_E_OBUF] + r.energy_pj[COST_E_DRAM];
    double k1, k2;
    rank_key(c->objective, (double)r.total_cycles, en, &k1, &k2);
    cr_expect_float_eq(k1, best_cycles, 1e-12 * best_cycles, "%s: %g vs %g",
                       arch_objective_name(c->objective), k1, best_cycles);
    cr_expect_float_eq(k2, best_energy, 1e-9 * best_energy, "%s: %g vs %g",
                       arch_objective_name(c->objective), k2, best_energy);
}

Test(cost_search, equals_exhaustive_enumeration, .init = load_bitfusion, .timeout = 120)
{
    cost_conv c;
    cost_conv_init(&c, 3, 14, 1, 48, 96, 8, 4, 8, false);      /* direct conv, odd sizes */
    check_exhaustive(&bf, &c);
    cost_conv_init(&c, 5, 12, 2, 3, 20, 16, 2, 3, true);       /* im2col, stride 2 */
    check_exhaustive(&bf, &c);
    cost_conv_init(&c, 1, 1, 1, 2048, 1000, 4, 16, 16, false); /* fc, above pmax */
    check_exhaustive(&bf, &c);

    /* the training output stage: outputs at 8 bits, partial sums that spill at 32 */
    cost_conv_init(&c, 3, 14, 1, 48, 96, 8, 4, 8, false);
    c.out_bits = 8;
    check_exhaustive(&bf, &c);
    /* the training objectives (issue 12): the bounds must bound energy x cycles too */
    c.objective = ARCH_OBJ_EDP;
    check_exhaustive(&bf, &c);
    c.objective = ARCH_OBJ_ENERGY;
    check_exhaustive(&bf, &c);
    cost_conv_init(&c, 5, 12, 2, 3, 20, 16, 2, 3, true);
    c.objective = ARCH_OBJ_EDP;
    check_exhaustive(&bf, &c);

    /* sparse and compressed traffic, no double buffering */
    arch sp;
    parse_arch_text(&sp, "[arch]\nfamily = bitfusion\nfreq_mhz = 500\n[array]\nrows = 8\n"
                         "cols = 16\npmax = 8\npmin = 2\n[buffers]\nwbuf_bytes = 8192\n"
                         "abuf_bytes = 4096\nobuf_bytes = 4096\ndouble_buffer = false\n"
                         "wbuf_read_pj_per_bit = 0.02\nwbuf_write_pj_per_bit = 0.03\n"
                         "abuf_read_pj_per_bit = 0.06\nabuf_write_pj_per_bit = 0.1\n"
                         "obuf_read_pj_per_bit = 0.03\nobuf_write_pj_per_bit = 0.07\n"
                         "[dram]\nbits_per_cycle = 64\npj_per_bit = 15\ncompress = bitmap\n"
                         "[energy]\ncore_pj_per_cycle = 60\n[sparsity]\nmode = both\n");
    cost_conv_init(&c, 3, 10, 1, 40, 24, 4, 8, 4, false);
    c.density_x = 0.3;
    c.density_y = 0.6;
    check_exhaustive(&sp, &c);
    c.out_bits = 4;     /* training stage with small buffers: partial sums spill */
    check_exhaustive(&sp, &c);

    /* buffers so large that thousands of tilings fit: the search's bound list overflows
     * and its recomputing path runs */
    arch big;
    parse_arch_text(&big, "[arch]\nfamily = bitfusion\nfreq_mhz = 500\n[array]\nrows = 16\n"
                          "cols = 32\npmax = 8\npmin = 2\n[buffers]\n"
                          "wbuf_bytes = 1073741824\nabuf_bytes = 1073741824\n"
                          "obuf_bytes = 1073741824\nwbuf_read_pj_per_bit = 0.02\n"
                          "wbuf_write_pj_per_bit = 0.03\nabuf_read_pj_per_bit = 0.06\n"
                          "abuf_write_pj_per_bit = 0.1\nobuf_read_pj_per_bit = 0.03\n"
                          "obuf_write_pj_per_bit = 0.07\n[dram]\nbits_per_cycle = 192\n"
                          "pj_per_bit = 15\n[energy]\ncore_pj_per_cycle = 235\n");
    cost_conv_init(&c, 3, 32, 1, 64, 64, 512, 8, 8, true);
    check_exhaustive(&big, &c);
}

/* ---- 3. the command ---------------------------------------------------------------------- */

static void quiet(void)
{
    cr_redirect_stdout();
    cr_redirect_stderr();
}

static int run_cost(int argc, const char **argv)
{
    return cmd_cost(argc, (char **)argv);
}

/* `bitsim cost --conv ...` prints the same total as cost_conv_eval for that row. */
Test(cost_cli, conv_prints_the_evaluation, .init = quiet)
{
    const char *argv[] = {"cost", "--conv", "11,55,4,3,96", "--im2col", "--bits", "4,8",
                          "--batch", "16", "--format", "csv", NULL};
    cr_assert_eq(run_cost(10, argv), 0);
    fflush(stdout);
    load_bitfusion();
    cost_conv c;
    cost_conv_init(&c, 11, 55, 4, 3, 96, 16, 4, 8, true);
    cost_result r;
    bs_error e;
    cr_assert_eq(cost_conv_eval(&bf, &c, &r, &e), 0);
    char want[64];
    snprintf(want, sizeof want, ",%llu,", (unsigned long long)r.total_cycles);
    FILE *out = cr_get_redirected_stdout();
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, out);
    buf[n] = '\0';
    cr_expect(strstr(buf, "total_cycles") != NULL, "%s", buf);
    cr_expect(strstr(buf, want) != NULL, "%s lacks %s", buf, want);
}

Test(cost_cli, exit_codes, .init = quiet)
{
    const char *help[] = {"cost", "--help", NULL};
    cr_expect_eq(run_cost(2, help), 0);
    const char *bits[] = {"cost", "--conv", "1,1,1,8,8", "--bits", "3", NULL};
    cr_expect_eq(run_cost(5, bits), BS_EUSAGE);
    const char *dens[] = {"cost", "--conv", "1,1,1,8,8", "--density", "1.5,1", NULL};
    cr_expect_eq(run_cost(5, dens), BS_EUSAGE);
    const char *conv[] = {"cost", "--conv", "1,1,8,8", NULL};
    cr_expect_eq(run_cost(3, conv), BS_EUSAGE);
    const char *none[] = {"cost", NULL};
    cr_expect_eq(run_cost(1, none), BS_EUSAGE);
    const char *arch_bad[] = {"cost", "--arch", "no-such-arch", "--conv", "1,1,1,8,8", NULL};
    cr_expect_eq(run_cost(5, arch_bad), BS_EINPUT);
    /* a layer name is input, as a model or arch name is (test_cli did_you_mean_for_names) */
    const char *layer_bad[] = {"cost", "--model", "lenet5", "--layer", "nope", NULL};
    cr_expect_eq(run_cost(5, layer_bad), BS_EINPUT);
    const char *all[] = {"cost", "--model", "lenet5", "--layer", "all", "--pass", "all",
                         "--format", "json", NULL};
    cr_expect_eq(run_cost(9, all), 0);
}

/* ---- block-scaled formats (MX, NVFP4) and per-format GPU peaks -------------------------- */

static num_format parsed(const char *text)
{
    num_format f;
    cr_assert(numfmt_parse(text, &f, NULL), "%s", text);
    return f;
}

/* The multiplier sees an MX element's significand, mantissa + hidden bit (OCP MX v1.0 sec.
 * 5.1: E2M1 1+1 = 2, E2M3 and E4M3 3+1 = 4, E3M2 and E5M2 2+1 = 3; INT8 all 8 bits). On
 * BitFusion (pmax 8, pmin 2) a fusion unit then does floor(8/2)^2 = 16 MXFP4 MACs,
 * floor(8/4)^2 = 4 at 4 bits, floor(8/3)^2 = 4 at 3 bits, 1 MXINT8 MAC per cycle; tf32's
 * 11-bit significand is two 8-bit slices per operand: 1/4. */
Test(cost_mx, element_significands_on_the_bricks, .init = load_bitfusion)
{
    static const struct {
        const char *f;
        uint32_t mul;
        double perf;
    } want[] = {{"mxfp4", 2, 16}, {"nvfp4", 2, 16}, {"mxfp6e2m3", 4, 4}, {"mxfp6e3m2", 3, 4},
                {"mxfp8e4m3", 4, 4}, {"mxfp8e5m2", 3, 4}, {"mxint8", 8, 1},
                /* the per-tensor-scaled FP8 formats (Micikevicius et al. 2022, Table 1) and
                 * bf16 (8-bit significand: one MAC per fusion unit, as int8) */
                {"fp8e4m3", 4, 4}, {"fp8e5m2", 3, 4}, {"bf16", 8, 1}, {"tf32", 11, 0.25}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        num_format f = parsed(want[i].f);
        uint32_t m = cost_mul_bits(&bf, &f);
        cr_expect_eq(m, want[i].mul, "%s: %u", want[i].f, m);
        cr_expect_float_eq(cost_perf_factor(&bf, m, m), want[i].perf, 0, "%s", want[i].f);
    }
    /* a float datapath (fp_mode native) takes any element up to its width as one MAC */
    arch sf;
    bs_error e;
    cr_assert_eq(arch_load(&sf, "systolic-fp32", &e), 0, "%s", e.msg);
    num_format m4 = parsed("mxfp4");
    cr_expect_eq(cost_mul_bits(&sf, &m4), 4);
}

static model_layer square_fc(uint64_t n)
{
    model_layer l = {.kind = LAYER_LINEAR, .in = {1, 1, n}, .out = {1, 1, n},
                     .gemm = {.m = 1, .k = n, .n = n, .count = 1}, .params = n * n,
                     .weight_elems = n * n, .in_elems = n, .out_elems = n,
                     .fwd_madds = n * n};
    snprintf(l.name, sizeof l.name, "fc");
    return l;
}

/* Compute-bound fc 8192 x 8192 at batch 8192 (2 x 8192^3 = 1.0995e12 ops): compute time =
 * ops / the datasheet dense peak of the class the operands pick (arch/FORMAT.md [gpu]):
 * H100 SXM bf16 989.4, fp8 1978.9, tf32 494.7 TFLOPS; MXFP6/MXFP4/NVFP4 have no Hopper
 * tensor-core path and fall back to its FP8 peak. B200 (HGX): bf16 2250, fp8 and MXFP8 4500,
 * MXFP6 4500 (FP6 = FP8 rate), MXFP4 and NVFP4 9000; fp8 x MXFP4 runs at the wider, fp8. */
Test(cost_mx, gpu_picks_the_peak_of_the_operands_format)
{
    static const struct {
        const char *arch, *x, *y;
        double peak_tops;
    } want[] = {
        {"gpu-h100", "bf16", "bf16", 989.4},      {"gpu-h100", "fp8e4m3", "fp8e5m2", 1978.9},
        {"gpu-h100", "tf32", "tf32", 494.7},      {"gpu-h100", "fp32", "fp32", 67},
        {"gpu-h100", "mxfp8", "mxfp8", 1978.9},   {"gpu-h100", "mxfp4", "mxfp4", 1978.9},
        {"gpu-h100", "nvfp4", "nvfp4", 1978.9},   {"gpu-h100", "mxfp6", "mxfp6", 1978.9},
        {"gpu-b200", "bf16", "bf16", 2250},       {"gpu-b200", "mxfp8", "mxfp8", 4500},
        {"gpu-b200", "mxfp6e2m3", "mxfp6", 4500}, {"gpu-b200", "mxfp4", "mxfp4", 9000},
        {"gpu-b200", "nvfp4", "nvfp4", 9000},     {"gpu-b200", "fp8e4m3", "mxfp4", 4500},
        {"gpu-b200", "mxint8", "mxint8", 4500},   {"gpu-a100", "mxfp4", "mxfp4", 312},
    };
    model_layer l = square_fc(8192);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        arch g;
        bs_error e;
        cr_assert_eq(arch_load(&g, want[i].arch, &e), 0, "%s", e.msg);
        cost_query q = {.layer = &l, .pass = PASS_FWD, .batch = 8192, .x = parsed(want[i].x),
                        .y = parsed(want[i].y), .density_x = 1, .density_y = 1};
        cost_result r;
        cr_assert_eq(cost_eval(&g, &q, &r, &e), 0, "%s", e.msg);
        double ops = 2.0 * 8192 * 8192 * 8192;
        double want_cycles = ceil(ops / (want[i].peak_tops * 1e12) * g.freq_hz);
        /* the bias add (8192 x 8192 elementwise ops at the same peak) adds < 1e-4 */
        cr_expect(fabs((double)r.compute_cycles - want_cycles) <= 1e-4 * want_cycles + 2,
                  "%s %s x %s: %llu cycles, want %.0f", want[i].arch, want[i].x, want[i].y,
                  (unsigned long long)r.compute_cycles, want_cycles);
    }
}

/* Storage bits include the scales: the roofline reads the fc's x (8192 x 8192) and W (8192 x
 * 8192) at 8.25 bits (MXFP8) or 4.5 bits (NVFP4) per element. */
Test(cost_mx, traffic_counts_the_block_scales)
{
    arch g;
    bs_error e;
    cr_assert_eq(arch_load(&g, "gpu-b200", &e), 0, "%s", e.msg);
    model_layer l = square_fc(8192);
    l.bias = false;
    const char *fmts[] = {"mxfp8", "nvfp4", "fp8e4m3"};
    const double bits[] = {8.25, 4.5, 8};
    for (int i = 0; i < 3; i++) {
        cost_query q = {.layer = &l, .pass = PASS_FWD, .batch = 8192, .x = parsed(fmts[i]),
                        .y = parsed(fmts[i]), .density_x = 1, .density_y = 1};
        cost_result r;
        cr_assert_eq(cost_eval(&g, &q, &r, &e), 0, "%s", e.msg);
        cr_expect_float_eq(r.dram_read_bits, 2.0 * 8192 * 8192 * bits[i], 1, "%s", fmts[i]);
    }
}

/* [array] block_scale = vector: each block product's partial sum is rescaled on the vector
 * lanes (cost.c BLOCK SCALES): fc 256 x 256, batch 64 = 4,194,304 MAdds; MXFP8 x MXFP8 (block
 * 32, E8M0) 4194304 / 32 = 131072 ops; NVFP4 (block 16, E4M3: 2 ops) 4194304 / 16 * 2 =
 * 524288; MXFP8 x NVFP4 by the smaller block with the E4M3 scale: 524288; fp8 (per-tensor
 * scale) none. On 32 lanes: 4096, 16384, 16384 more compute cycles than with scale units. */
Test(cost_mx, block_scale_work_without_scale_units)
{
    static const char base[] =
        "[arch]\nfamily = bitfusion\nfreq_mhz = 500\n[array]\nrows = 16\ncols = 32\npmax = 8\n"
        "pmin = 2\nblock_scale = %s\n[buffers]\nwbuf_bytes = 65536\nabuf_bytes = 32768\n"
        "obuf_bytes = 16384\n[dram]\nbits_per_cycle = 192\npj_per_bit = 15\n[energy]\n"
        "core_pj_per_cycle = 235.104\nvector_pj_per_op = 1\n";
    char text[1024];
    arch unit, vec;
    snprintf(text, sizeof text, base, "unit");
    parse_arch_text(&unit, text);
    snprintf(text, sizeof text, base, "vector");
    parse_arch_text(&vec, text);
    model_layer l = square_fc(256);
    l.bias = false;
    static const struct {
        const char *x, *y;
        uint64_t ops;
    } want[] = {{"mxfp8", "mxfp8", 131072}, {"nvfp4", "nvfp4", 524288},
                {"mxfp8", "nvfp4", 524288}, {"fp8e4m3", "fp8e4m3", 0},
                {"mxfp4", "fp8e4m3", 131072}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cost_query q = {.layer = &l, .pass = PASS_FWD, .batch = 64, .x = parsed(want[i].x),
                        .y = parsed(want[i].y), .density_x = 1, .density_y = 1};
        cost_result ru, rv;
        bs_error e;
        cr_assert_eq(cost_eval(&unit, &q, &ru, &e), 0, "%s", e.msg);
        cr_assert_eq(cost_eval(&vec, &q, &rv, &e), 0, "%s", e.msg);
        cr_expect_eq(ru.elem_ops, 0, "%s x %s", want[i].x, want[i].y);
        cr_expect_eq(rv.elem_ops, want[i].ops, "%s x %s: %llu", want[i].x, want[i].y,
                     (unsigned long long)rv.elem_ops);
        cr_expect_eq(rv.compute_cycles, ru.compute_cycles + want[i].ops / 32, "%s x %s",
                     want[i].x, want[i].y);
        cr_expect_float_eq(rv.energy_pj[COST_E_CORE] - ru.energy_pj[COST_E_CORE],
                           (double)want[i].ops, 1e-6, "%s x %s", want[i].x, want[i].y);
        cr_expect_eq(rv.dram_read_bits, ru.dram_read_bits);
    }
}

/* nonmac = fused, one ResNet basic block by hand (ResNet-20 layer1.1: conv1 -> bn1 -> relu1
 * -> conv2 -> bn2 -> add(+ block input x) -> relu2; x and the block output z feed two layers
 * each). Tensors: y1, y2 the conv outputs (written by the convs' output stages, not counted
 * here), z the residual stream. Sweeps of a 16x32x32 tensor per sample, from the physics
 * (Jung et al., MLSys 2019, fission-fusion):
 *   FWD   bn1 statistics in conv1's output stage; bn1-scale-shift and relu1 applied as conv2
 *         reads y1 (its own read): 0. bn2 statistics in conv2's output stage; bn2 apply, the
 *         add and relu2 are one vector pass: read y2 (charged to bn2), read x (the add),
 *         write z (relu2, which two layers read): 3 sweeps (separate mode: 3+2+3+3+2 = 13).
 *   BWD   relu2: sum the two gradients of z on read (2) and its mask from z (1): 3; the add:
 *         write dz' once, the gradient both the bn2 branch and the shortcut take: 1; bn2:
 *         dgamma/dbeta reduce dz' x x-hat while dz' is produced, reading y2: 1; its apply
 *         pass reads dz' and y2 and writes dY2 for conv2's two backward passes: 3; relu1:
 *         its mask comes from y1, which bn1's reduction reads in the same stage (conv2's
 *         BWD_DATA output stage): 0; bn1: 1 (reduction) + 3 (apply): 12 sweeps backward
 *         (separate mode: 23). 36 -> 15 sweeps per block per iteration. */
Test(cost_passes, fused_basic_block_sweeps, .init = load_bitfusion)
{
    model m;
    bs_error e;
    cr_assert_eq(model_load(&m, "resnet20", &e), 0, "%s", e.msg);
    static const struct {
        const char *layer;
        cost_sweeps fwd, bwd_data, bwd_weight;  /* rd_in, rd_out, wr_in, wr_out */
    } want[] = {
        {"layer1.1.bn1", {0, 0, 0, 0, 1}, {1, 1, 1, 0, 1}, {1, 0, 0, 0, 1}},
        {"layer1.1.relu1", {0, 0, 0, 0, 1}, {0, 0, 0, 0, 1}, {0, 0, 0, 0, 1}},
        {"layer1.1.bn2", {1, 0, 0, 0, 1}, {1, 1, 1, 0, 1}, {1, 0, 0, 0, 1}},
        {"layer1.1.add", {1, 0, 0, 0, 1}, {0, 0, 1, 0, 1}, {0, 0, 0, 0, 1}},
        {"layer1.1.relu2", {0, 0, 0, 1, 1}, {0, 3, 0, 0, 1}, {0, 0, 0, 0, 1}},
    };
    int fwd = 0, bwd = 0, sep = 0;
    arch s = bf;
    s.nonmac = ARCH_NONMAC_SEPARATE;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int li = model_find_layer(&m, want[i].layer);
        cr_assert_geq(li, 0, "%s", want[i].layer);
        cost_sweeps got[PASS_COUNT], sp[PASS_COUNT];
        cost_nonmac_plan(&bf, &m, (uint32_t)li, got);
        cost_nonmac_plan(&s, &m, (uint32_t)li, sp);
        const cost_sweeps *w[3] = {&want[i].fwd, &want[i].bwd_data, &want[i].bwd_weight};
        for (int p = 0; p < 3; p++) {
            cr_expect(got[p].rd_in == w[p]->rd_in && got[p].rd_out == w[p]->rd_out &&
                          got[p].wr_in == w[p]->wr_in && got[p].wr_out == w[p]->wr_out,
                      "%s %s: %d %d %d %d", want[i].layer, model_pass_name((train_pass)p),
                      got[p].rd_in, got[p].rd_out, got[p].wr_in, got[p].wr_out);
            int n = got[p].rd_in + got[p].rd_out + got[p].wr_in + got[p].wr_out;
            *(p == 0 ? &fwd : &bwd) += n;
            sep += sp[p].rd_in + sp[p].rd_out + sp[p].wr_in + sp[p].wr_out;
        }
    }
    cr_expect_eq(fwd, 3);
    cr_expect_eq(bwd, 12);
    cr_expect_eq(sep, 36);
    /* free: nothing at all, not even compute */
    arch fr = bf;
    fr.nonmac = ARCH_NONMAC_FREE;
    int li = model_find_layer(&m, "layer1.1.bn2");
    cost_sweeps plan[PASS_COUNT];
    cost_nonmac_plan(&fr, &m, (uint32_t)li, plan);
    cost_query q = {.layer = &m.layers[li], .pass = PASS_FWD, .batch = 4, .x = numfmt_fp32(),
                    .density_x = 1, .density_y = 1, .sweeps = plan[PASS_FWD]};
    cost_result r;
    cr_assert_eq(cost_eval(&fr, &q, &r, &e), 0, "%s", e.msg);
    cr_expect_eq(r.total_cycles, 0);
    cr_expect_eq(r.energy_total_pj, 0);
    cr_expect_gt(r.elem_ops, 0);
    /* fused, bn2 FWD: one read of y2, 4 x 16384 x 32 = 2,097,152 bits over the 192-bit port:
     * 10923 cycles (memory-bound: 4 x 4 x 16384 ops / 32 lanes = 8192); energy: DRAM 15 pJ/bit
     * + 262,144 ops x (0.9 + 3.7) pJ (an fp32 multiply-add, Horowitz ISSCC 2014) */
    cost_nonmac_plan(&bf, &m, (uint32_t)li, plan);
    q.sweeps = plan[PASS_FWD];
    cr_assert_eq(cost_eval(&bf, &q, &r, &e), 0, "%s", e.msg);
    cr_expect_eq(r.total_cycles, 10923);
    cr_expect_float_eq(r.energy_total_pj, 2097152 * 15.0 + 262144 * 4.6, 1e-9, "%g",
                       r.energy_total_pj);
    model_free(&m);
}

/* BWD_WEIGHT of a small conv by hand: the layer of backward_gemms_by_hand (3x3, 8 -> 16
 * channels, 4x4 output, stride 1, pad 1) at batch 16, int8, training mode (WG int16), tiling
 * objective cycles (small_gemm_setup).
 *   GEMM: rows k = 72, reduction B*m = 256, outputs n = 16: compute 72 x ceil(16/32) x
 *   ceil(256/16) = 1152 cycles; it reads the im2col copy of A, 72 x 256 x 8 = 147,456 bits,
 *   which must first be made: A read once (16 x 128 x 8 = 16,384 bits) and the copy written
 *   (147,456): 163,840 more bits through the 2^20-bit port (1 cycle).
 *   Windowed: A's channels as the nest's batch (8), the batch as reduction (16), G as a 4x4
 *   kernel, the 3x3 taps as output: compute 8 x 3 x 3 x ceil(16/32) x 16 x ceil(16/16) =
 *   1152 cycles, the same; A read once per tile as its padded 6x6 window: 8 x 16 x 36 x 8 =
 *   36,864 bits; G 16 x 256 x 8 = 32,768 (once); WG written once, 72 x 16 x 16 = 18,432.
 *   Equal compute, far less traffic: the windowed nest stands, 36,864 + 32,768 bits read. */
Test(cost_passes, bwd_weight_windowed_by_hand)
{
    arch a;
    model_layer l;
    small_gemm_setup(&a, &l);
    num_format i8 = fmt(NUM_INT, 8, 0), i16 = fmt(NUM_INT, 16, 0);
    cost_query q = {.layer = &l, .pass = PASS_BWD_WEIGHT, .batch = 16, .x = i8, .y = i8,
                    .out = i16, .density_x = 1, .density_y = 1};
    cost_result r;
    bs_error e;
    cr_assert_eq(cost_eval(&a, &q, &r, &e), 0, "%s", e.msg);
    cr_expect_eq(r.madds, 16ull * 16 * 72 * 16);
    cr_expect_eq(r.compute_cycles, 1152);
    cr_expect_float_eq(r.dram_read_bits, 36864 + 32768, 1e-9, "%.0f", r.dram_read_bits);
    cr_expect_float_eq(r.dram_write_bits, 18432, 1e-9, "%.0f", r.dram_write_bits);
    /* stride 2: no windowed form; the GEMM pays for its copy (A read, copy written) */
    model_layer s2 = l;
    s2.conv.stride_h = s2.conv.stride_w = 2;
    s2.out = (tensor_shape){16, 2, 2};
    s2.out_elems = 64;
    s2.gemm.m = 4;
    s2.fwd_madds = 4 * 72 * 16;
    q.layer = &s2;
    cr_assert_eq(cost_eval(&a, &q, &r, &e), 0, "%s", e.msg);
    /* copy: 16 x 128 x 8 read + 72 x 64 x 8 written; GEMM reads the copy 36,864 and G
     * ceil(64/16) x 16 x 16 x 8 = 8192 */
    cr_expect_float_eq(r.dram_read_bits, 16384 + 36864 + 8192, 1e-9, "%.0f", r.dram_read_bits);
    cr_expect_float_eq(r.dram_write_bits, 36864 + 18432, 1e-9, "%.0f", r.dram_write_bits);
    arch_free(&a);
}

/* A quantized conv feeding an fp32 layer (issue 12): the layer of backward_gemms_by_hand, FWD,
 * batch 2, int4 operands, objective cycles. Its consumer is an fp32 batch norm, so the output
 * stage writes its 2 x 16 x 16 = 512 outputs at 32 bits: 16,384 bits, not 512 x 4 = 2048.
 * And when its input was stored by an fp32 producer (x_stored = fp32), the array reads that
 * tensor at 32 bits and quantizes it to 4 in the input stage: the one input window of the
 * whole layer, (3 + 3) x (3 + 3) x 8 channels x 2 images = 576 elements (padding included),
 * costs 576 x 32 = 18,432 bits instead of 576 x 4 = 2304; the buffer holds 4-bit values, so
 * the tiling and the compute stay the same. */
Test(cost_passes, quantized_layer_feeding_fp32_by_hand)
{
    arch a;
    model_layer l;
    small_gemm_setup(&a, &l);
    num_format i4 = fmt(NUM_INT, 4, 0), f32 = numfmt_fp32();
    cost_query q = {.layer = &l, .pass = PASS_FWD, .batch = 2, .x = i4, .y = i4, .out = i4,
                    .density_x = 1, .density_y = 1};
    cost_result own, wide, stored;
    bs_error e;
    cr_assert_eq(cost_eval(&a, &q, &own, &e), 0, "%s", e.msg);
    q.out = f32;
    cr_assert_eq(cost_eval(&a, &q, &wide, &e), 0, "%s", e.msg);
    q.x_stored = f32;
    cr_assert_eq(cost_eval(&a, &q, &stored, &e), 0, "%s", e.msg);
    cr_expect_float_eq(own.dram_write_bits, 2048, 1e-9, "%.0f", own.dram_write_bits);
    cr_expect_float_eq(wide.dram_write_bits, 16384, 1e-9, "%.0f", wide.dram_write_bits);
    cr_expect_float_eq(wide.dram_read_bits, own.dram_read_bits, 1e-9);
    cr_expect_float_eq(stored.dram_read_bits - wide.dram_read_bits, 18432 - 2304, 1e-9, "%.0f",
                       stored.dram_read_bits - wide.dram_read_bits);
    cr_expect_eq(stored.compute_cycles, own.compute_cycles);
    arch_free(&a);
}

/* Tiling objective by hand (issue 12): a layer where edp picks another tiling than cycles.
 * Arch: 4 x 4 fusion units of 8-bit bricks (L = 4 reduction lanes, M = 4 columns), buffers
 * 1024 / 512 / 512 bytes (a tile may use half: 4096 / 2048 / 2048 bits), a 64-bit DRAM port,
 * core 1 pJ per busy cycle, DRAM 1 pJ/bit, no SRAM energy. Layer: 3x3 conv, 4 -> 8 channels,
 * 4x4 output, stride 1, batch 1, int8, training output stage at 8 bits (1024 bits of output).
 * Both tilings compute 288 cycles (4608 MACs, 16 per cycle at full columns).
 * Tiling C (b, ow, oh, ic, oc) = (1, 1, 1, 4, 4), loops OW (4), OC (2), OH (4) innermost out:
 *   tiles: weights 9 x 4 x 4 x 8 = 1152 bits, input window 3 x 3 x 4 x 8 = 288, out 4 x 32 = 128.
 *   OW: acts 1152, outs 512 (resident). OC: weights 2304 (resident), outs 1024. OH: acts 4608
 *   and outs 4096 outgrow their halves (demoted; resident blocks 1152, 1024).
 *   fill = weights 2304 + the acts' first block 1152 = 3456 bits: 54 cycles; drain = the last
 *   block 1024 psum bits at 8/32: 256 bits, 4 cycles; overlapped traffic = acts 4608 - 1152 +
 *   outputs 1024 - 256 = 4224 bits, 66 cycles < 288. Total 288 + 54 + 4 = 346 cycles.
 *   DRAM: reads 2304 + 4608, writes 1024: 7936 bits. Energy 288 + 7936 = 8224 pJ.
 * Tiling E = (1, 4, 4, 4, 4), only OC (2) left: weights 2304 (resident), the 6 x 6 x 4 x 8
 *   = 1152-bit input window read once, outputs 2 x 2048 (demoted; spills none: every output
 *   tile is visited once). fill 3456 bits: 54 cycles; drain 2048 x 8/32 = 512 bits: 8; the
 *   rest 1024 - 512 = 512 bits: 8 cycles, overlapped. Total 288 + 54 + 8 = 350 cycles.
 *   DRAM: reads 2304 + 1152, writes 1024: 4480 bits. Energy 288 + 4480 = 4768 pJ.
 * cycles: C (346 < 350). edp: 346 x 8224 = 2,845,504 > 350 x 4768 = 1,668,800: E. */
Test(cost_search, tiling_objective_by_hand)
{
    static const char txt[] =
        "[arch]\nfamily = bitfusion\nfreq_mhz = 500\n[array]\nrows = 4\ncols = 4\npmax = 8\n"
        "pmin = 8\nbrick_bits = 8\n[buffers]\nwbuf_bytes = 1024\nabuf_bytes = 512\n"
        "obuf_bytes = 512\nwbuf_read_pj_per_bit = 0\nwbuf_write_pj_per_bit = 0\n"
        "abuf_read_pj_per_bit = 0\nabuf_write_pj_per_bit = 0\nobuf_read_pj_per_bit = 0\n"
        "obuf_write_pj_per_bit = 0\n[dram]\nbits_per_cycle = 64\npj_per_bit = 1\n"
        "[energy]\ncore_pj_per_cycle = 1\n";
    arch a;
    parse_arch_text(&a, txt);
    cost_conv c;
    cost_conv_init(&c, 3, 4, 1, 4, 8, 1, 8, 8, false);
    c.out_bits = 8;
    static const struct {
        arch_objective obj;
        uint64_t cycles, tile_ow;
        double energy, dram;
    } want[] = {{ARCH_OBJ_CYCLES, 346, 1, 8224, 7936}, {ARCH_OBJ_EDP, 350, 4, 4768, 4480}};
    for (size_t i = 0; i < 2; i++) {
        c.objective = want[i].obj;
        cost_result r;
        bs_error e;
        cr_assert_eq(cost_conv_eval(&a, &c, &r, &e), 0, "%s", e.msg);
        const char *o = arch_objective_name(want[i].obj);
        cr_expect_eq(r.compute_cycles, 288, "%s", o);
        cr_expect_eq(r.total_cycles, want[i].cycles, "%s: %llu", o,
                     (unsigned long long)r.total_cycles);
        cr_expect_float_eq(r.energy_total_pj, want[i].energy, 1e-9, "%s: %g", o, r.energy_total_pj);
        cr_expect_float_eq(r.dram_read_bits + r.dram_write_bits, want[i].dram, 1e-9, "%s", o);
        cr_expect_eq(r.tiling.tile[1], want[i].tile_ow, "%s", o);
    }
    arch_free(&a);
}

/* lane_reduce (bitsim's own sensitivity switch, arch/FORMAT.md): a 3x3 conv over 4 input
 * channels, 4x4 output, 32 output channels, batch 1, int8 on the shipped BitFusion (16 rows
 * of 8x8-bit units: L = 16 reduction lanes, 32 columns). ic (BitFusion's
 * get_compute_cycles): each of the 9 taps reduces ceil(4/16) = 1 step, 16 outputs x 9 = 144
 * cycles, 12 of 16 lanes idle; window: the 36 products of an output share the lanes,
 * ceil(36/16) = 3 steps, 16 x 3 = 48 cycles. */
Test(cost_search, lane_reduce_switch, .init = load_bitfusion)
{
    cost_conv c;
    cost_conv_init(&c, 3, 4, 1, 4, 32, 1, 8, 8, false);
    cost_result r;
    bs_error e;
    cr_assert_eq(cost_conv_eval(&bf, &c, &r, &e), 0, "%s", e.msg);
    cr_expect_eq(r.compute_cycles, 144);
    arch w = bf;
    w.lane_reduce = ARCH_LANES_WINDOW;
    cr_assert_eq(cost_conv_eval(&w, &c, &r, &e), 0, "%s", e.msg);
    cr_expect_eq(r.compute_cycles, 48);
}

/* Fused rules around a post-norm transformer residual (BERT-base layer): attention.output.add
 * feeds only its LayerNorm. Kept virtual, the norm's statistics would have to re-read both
 * addends; so the add is materialized: it reads its two inputs and writes the sum (F3, F6),
 * the norm's statistics ride on that write, and the norm reads the sum once to normalise and
 * writes its output, which two layers read (F3, F6). Backward the norm's apply pass writes
 * dX, which is the add's gradient for both inputs: the add writes nothing (B4); the norm
 * reads its two consumers' gradients (B1) and x, and writes dX (B3). */
Test(cost_passes, fused_norm_after_residual_add, .init = load_bitfusion)
{
    model m;
    bs_error e;
    cr_assert_eq(model_load(&m, "bert_base_layer", &e), 0, "%s", e.msg);
    cost_sweeps add[PASS_COUNT], ln[PASS_COUNT];
    int ia = model_find_layer(&m, "attention.output.add");
    int il = model_find_layer(&m, "attention.output.LayerNorm");
    cr_assert(ia >= 0 && il >= 0);
    cost_nonmac_plan(&bf, &m, (uint32_t)ia, add);
    cost_nonmac_plan(&bf, &m, (uint32_t)il, ln);
    cr_expect(add[PASS_FWD].rd_in == 2 && add[PASS_FWD].wr_out == 1);
    cr_expect(add[PASS_BWD_DATA].rd_out == 0 && add[PASS_BWD_DATA].wr_in == 0);
    cr_expect(ln[PASS_FWD].rd_in == 1 && ln[PASS_FWD].wr_out == 1);
    cr_expect(ln[PASS_BWD_DATA].rd_in == 1 && ln[PASS_BWD_DATA].rd_out == 2 &&
              ln[PASS_BWD_DATA].wr_in == 1);
    cr_expect_eq(ln[PASS_BWD_WEIGHT].rd_in, 1);
    model_free(&m);
}

/* The other direction (issue 12): an fp32 norm feeding an 8-bit conv. Fused, bn2's backward
 * apply pass of ResNet-20 layer1.1 (batch 4, 16x32x32) reads g and x at fp32 and writes dX
 * for conv2, which takes G at int8: 2 x 65,536 x 32 + 65,536 x 8 = 4,718,592 bits (at fp32
 * throughout 6,291,456). */
Test(cost_passes, fp32_norm_feeding_quantized_conv, .init = load_bitfusion)
{
    model m;
    bs_error e;
    cr_assert_eq(model_load(&m, "resnet20", &e), 0, "%s", e.msg);
    int li = model_find_layer(&m, "layer1.1.bn2");
    cost_sweeps plan[PASS_COUNT];
    cost_nonmac_plan(&bf, &m, (uint32_t)li, plan);
    cost_query q = {.layer = &m.layers[li], .pass = PASS_BWD_DATA, .batch = 4,
                    .x = numfmt_fp32(), .density_x = 1, .density_y = 1,
                    .sweeps = plan[PASS_BWD_DATA]};
    cost_result r;
    cr_assert_eq(cost_eval(&bf, &q, &r, &e), 0, "%s", e.msg);
    cr_expect_float_eq(r.dram_read_bits + r.dram_write_bits, 6291456, 1e-9);
    q.out = fmt(NUM_INT, 8, 0);
    cr_assert_eq(cost_eval(&bf, &q, &r, &e), 0, "%s", e.msg);
    cr_expect_float_eq(r.dram_read_bits, 4194304, 1e-9, "%.0f", r.dram_read_bits);
    cr_expect_float_eq(r.dram_write_bits, 524288, 1e-9, "%.0f", r.dram_write_bits);
    model_free(&m);
}
