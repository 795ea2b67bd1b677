/* area.h — silicon area and peak power of an accelerator, for sweep budgets and Pareto fronts.
 *
 * The model is the public BitFusion simulator's (hsharma35/bitfusion, simulator.py
 * get_area / get_energy_cost), so that latency x energy x area fronts rest on the same
 * figures as its published results:
 *  - core: BitFusion's 45 nm, 500 MHz synthesis of a 4x4 array of fusion units
 *    (results/systolic_array_synth.csv) for the arch's (pmax, pmin), scaled by rows*cols/16
 *    — the simulator's own rule for every array larger than the synthesised ones;
 *  - buffers: what arch.c derives from its SRAM table (banked as simulator.py does: weights in
 *    rows*cols banks, activations in `rows`, outputs in `cols`), unless the file states it;
 *  - an area the arch file states explicitly (area_mm2 of a component) wins over the model.
 * Peak power is what the arch's own energy figures give with everything busy at once: core
 * energy per cycle x clock, plus the DRAM interface moving its full width every cycle at its
 * energy per bit, plus leakage (on-chip buffer accesses are not included: their rate depends
 * on the dataflow). GPU archs have no area model (an error says so).
 */
#ifndef BITSIM_AREA_H
#define BITSIM_AREA_H

#include "arch.h"
#include "err.h"

typedef struct area_report {
    double core_mm2;
    double buf_mm2[ARCH_BUF_COUNT];     /* indexed by arch_buf */
    double total_mm2;
    double core_dyn_w, dram_w, leak_w;  /* core and DRAM interface at full rate, leakage */
    double peak_w;                      /* their sum */
} area_report;

/* Area and peak power of a. Errors: a GPU arch, a (pmax, pmin) pair without synthesis
 * figures and no stated core area. */
int area_eval(const arch *a, area_report *out, bs_error *e);

/* Core energy per busy cycle of the whole array from the same synthesis rows: dynamic power
 * per fusion unit / 500 MHz x rows x cols (for BitFusion's 16x32, pmax 8, pmin 2 this is the
 * public simulator's 235.104 pJ). false when (pmax, pmin) was not synthesised or a is a gpu.
 * Sweeps that change the array use it so energy follows the array (sweeps/FORMAT.md). */
bool area_core_pj_per_cycle(const arch *a, double *pj);

#endif
