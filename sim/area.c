/* area.c — the area and peak-power model (see area.h for where each figure comes from).
 *
 * Fusion-unit figures: BitFusion's synthesis of 4x4 arrays (16 fusion units) at 45 nm and
 * 500 MHz, hsharma35/bitfusion results/systolic_array_synth.csv, rows N = M = 4, divided by
 * 16. pmin = 2 rows are bit-flexible arrays of 2-bit BitBricks up to pmax bits; pmin = pmax
 * rows are fixed-width arrays (the systolic baselines). The simulator scales the 4x4 row by
 * N*M/16 for any array it has no row for, which is every array larger than 16 units.
 */
#include "area.h"

#include <math.h>
#include <stdio.h>

/* BitFusion synthesis, 4x4 fusion units, 500 MHz: area um^2, leakage nW, dynamic nW. */
typedef struct fu_synth {
    uint32_t pmax, pmin;
    double area_um2, leak_nw, dyn_nw;
} fu_synth;

static const fu_synth synth_4x4[] = {
    {2, 2, 1297.069191, 27768, 325616},
    {4, 2, 5670.201557, 175220, 942252},
    {4, 4, 3066.008364, 84995, 659402},
    {8, 2, 27752.83558, 949240, 3673500},
    {8, 8, 8171.729995, 257700, 1627500},
    {16, 2, 141302.2232, 4726700, 16907600},
    {16, 16, 26870.48336, 912260, 4821500},
};
enum { SYNTH_UNITS = 16 };
#define SYNTH_HZ 500e6

/* Per fusion unit, from the 4x4 synthesis rows: false when (pmax, pmin) was not synthesised.
 * Area in mm^2, dynamic and leakage power in W at the synthesis clock (500 MHz). */
static bool area_fusion_unit(uint32_t pmax, uint32_t pmin, double *area_mm2, double *dyn_w,
                             double *leak_w)
{
    for (size_t i = 0; i < sizeof synth_4x4 / sizeof synth_4x4[0]; i++) {
        const fu_synth *s = &synth_4x4[i];
        if (s->pmax == pmax && s->pmin == pmin) {
            *area_mm2 = s->area_um2 * 1e-6 / SYNTH_UNITS;
            *dyn_w = s->dyn_nw * 1e-9 / SYNTH_UNITS;
            *leak_w = s->leak_nw * 1e-9 / SYNTH_UNITS;
            return true;
        }
    }
    return false;
}

bool area_core_pj_per_cycle(const arch *a, double *pj)
{
    double mm2, dyn_w, leak_w;
    if (a->family == ARCH_GPU || !area_fusion_unit(a->pmax, a->pmin, &mm2, &dyn_w, &leak_w))
        return false;
    *pj = dyn_w / SYNTH_HZ * 1e12 * (double)a->rows * a->cols;
    return true;
}

int area_eval(const arch *a, area_report *out, bs_error *e)
{
    *out = (area_report){0};
    if (a->family == ARCH_GPU)
        return err_set(e, BS_EINPUT, "%s: the area model covers bitfusion and systolic "
                       "arrays, not gpu rooflines", a->source);
    double fu_mm2, fu_dyn_w, fu_leak_w;
    double units = (double)a->rows * a->cols;
    if (a->family == ARCH_SYSTOLIC && a->pmin != a->pmax)
        return err_set(e, BS_EINTERNAL, "%s: systolic arch with pmin != pmax", a->source);
    if (a->area_mm2[0] > 0)
        out->core_mm2 = a->area_mm2[0];
    else if (area_fusion_unit(a->pmax, a->pmin, &fu_mm2, &fu_dyn_w, &fu_leak_w))
        out->core_mm2 = fu_mm2 * units;
    else {
        char have[128] = "";    /* the pairs synth_4x4 holds, so the message never goes stale */
        size_t len = 0;
        for (size_t i = 0; i < sizeof synth_4x4 / sizeof synth_4x4[0] && len < sizeof have; i++)
            len += (size_t)snprintf(have + len, sizeof have - len, "%s%u/%u", i ? " " : "",
                                    synth_4x4[i].pmax, synth_4x4[i].pmin);
        return err_set(e, BS_EINPUT, "%s: no BitFusion synthesis figures for pmax %u pmin %u "
                       "(have %s); state [area] core", a->source, a->pmax, a->pmin, have);
    }
    out->total_mm2 = out->core_mm2;
    /* arch.c fills each buffer's area when the file does not state it: the SRAM table's
     * bank area times the banks (simulator.py's banking), so it is only read here. */
    for (int b = 0; b < ARCH_BUF_COUNT; b++) {
        out->buf_mm2[b] = a->area_mm2[1 + b];
        if (!(out->buf_mm2[b] > 0))
            return err_set(e, BS_EINPUT, "%s: no area for the %s buffer", a->source,
                           b == ARCH_WBUF ? "weight" : b == ARCH_ABUF ? "activation" : "output");
        out->total_mm2 += out->buf_mm2[b];
    }
    out->core_dyn_w = a->core_pj_per_cycle * 1e-12 * a->freq_hz;
    out->dram_w = (double)a->dram_bits_per_cycle * a->freq_hz * a->dram_pj_per_bit * 1e-12;
    out->leak_w = a->leak_mw * 1e-3;
    out->peak_w = out->core_dyn_w + out->dram_w + out->leak_w;
    return BS_OK;
}
