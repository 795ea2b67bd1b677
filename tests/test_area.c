/* test_area.c — the area and peak-power model (area.h) against figures derived by hand.
 *
 * area.c scales BitFusion's 4x4 synthesis row for the arch's (pmax, pmin) by rows*cols/16 and
 * sums the buffers' SRAM-table areas; each expected number below is that arithmetic done by
 * hand from the table rows it quotes (results/systolic_array_synth.csv, the shipped SRAM
 * table) and, for the core energy per cycle, the public simulator's own 235.104 pJ from the
 * reference data, so a wrong row, bank split or scale factor shows up as a different figure.
 * The remaining test pins the rules rather than the numbers: an area stated in the arch file
 * wins; an unsynthesised precision (naming it) or a GPU arch is an input error.
 */
#include <criterion/criterion.h>

#include "arch.h"
#include "area.h"

static void load(arch *a, const char *name)
{
    bs_error e;
    cr_assert_eq(arch_load(a, name, &e), 0, "%s", e.msg);
}

/* BitFusion's 16 x 32 array, pmax 8, pmin 2, 64/32/16 KiB buffers:
 *   core  : the 4x4 synthesis row (8, 2) is 27752.83558 um^2 for 16 fusion units,
 *           x 512/16 = 888090.74 um^2 = 0.88809074 mm^2;
 *   wbuf  : 512 banks of 65536/512 = 128 bytes, table row 128 B: 0.00149898 mm^2 -> 0.76747776;
 *   abuf  : 16 banks of 2048 bytes, row 2048 B: 0.015132 mm^2 -> 0.242112;
 *   obuf  : 32 banks of 512 bytes with a read-write port, row 512 B rw: 0.00760331 -> 0.24330592;
 *   total : 2.14098642 mm^2.
 * Peak power: core 235.104 pJ per busy cycle x 500 MHz = 0.117552 W; DRAM 192 bits per cycle
 * x 500 MHz x 15 pJ/bit = 1.44 W; no leakage: 1.557552 W. */
Test(area, bitfusion_paper_configuration)
{
    arch a;
    load(&a, "bitfusion");
    area_report r;
    bs_error e;
    cr_assert_eq(area_eval(&a, &r, &e), 0, "%s", e.msg);
    cr_expect_float_eq(r.core_mm2, 0.88809074, 1e-7);
    cr_expect_float_eq(r.buf_mm2[ARCH_WBUF], 0.76747776, 1e-7);
    cr_expect_float_eq(r.buf_mm2[ARCH_ABUF], 0.242112, 1e-7);
    cr_expect_float_eq(r.buf_mm2[ARCH_OBUF], 0.24330592, 1e-7);
    cr_expect_float_eq(r.total_mm2, 2.14098642, 1e-6);
    cr_expect_float_eq(r.core_dyn_w, 0.117552, 1e-9);
    cr_expect_float_eq(r.dram_w, 1.44, 1e-9);
    cr_expect_float_eq(r.peak_w, 1.557552, 1e-9);
    arch_free(&a);
}

/* The public simulator's core energy (../shared/reference/README.md: 0.235104 nJ per busy
 * cycle, "its 4x4 synthesis row scaled by 512/16 at 500 MHz"): 3673500 nW / 16 units / 500 MHz
 * x 512 units = 235.104 pJ. */
Test(area, core_energy_from_synthesis_matches_the_simulator)
{
    arch a;
    load(&a, "bitfusion");
    double pj;
    cr_assert(area_core_pj_per_cycle(&a, &pj));
    cr_expect_float_eq(pj, 235.104, 1e-9);
    a.rows *= 2;    /* twice the fusion units: twice the energy per cycle and core area */
    cr_assert(area_core_pj_per_cycle(&a, &pj));
    cr_expect_float_eq(pj, 470.208, 1e-9);
    a.pmax = 6;     /* never synthesised */
    cr_expect_not(area_core_pj_per_cycle(&a, &pj));
    arch_free(&a);
}

Test(area, stated_area_wins_and_unknown_precisions_fail)
{
    arch a;
    load(&a, "bitfusion");
    area_report r;
    bs_error e;
    a.area_mm2[0] = 3.5;
    cr_assert_eq(area_eval(&a, &r, &e), 0, "%s", e.msg);
    cr_expect_float_eq(r.core_mm2, 3.5, 1e-12);
    a.area_mm2[0] = 0;
    a.pmax = 6;
    cr_expect_eq(area_eval(&a, &r, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "pmax 6") != NULL, "%s", e.msg);
    a.family = ARCH_GPU;
    cr_expect_eq(area_eval(&a, &r, &e), BS_EINPUT);
    arch_free(&a);
}
