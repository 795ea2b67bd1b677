/* bench_cost.c — `make bench`, cost section: how fast bitsim costs a layer, next to the
 * public BitFusion simulator's own time for the same layer (python_seconds in
 * ../shared/reference/bitfusion_layers.csv), at the same answers.
 *
 * For every `ok` reference row: the time of one full evaluation (tiling search included),
 * the best of five averages over 4 ms of repetitions each (the machine is shared, and the
 * minimum is the figure least disturbed by other jobs), the simulator's time, their ratio, and the
 * largest relative difference of the answer from the row over its count and energy columns
 * (0 = the same answer). Then throughput: evaluations per second with the search, and with a
 * given tiling (no search: the cost of one loop nest). Timing is wall-clock, one thread.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arch.h"
#include "cost_private.h"
#include "wallclock.h"
#include "refcsv.h"


static double rel(double got, double want)
{
    return got == want ? 0 : fabs(got - want) / fmax(fabs(want), 1e-300);
}

/* Largest relative difference over the columns the tests check. */
static double answer_diff(const refcsv *t, int i, const cost_result *r)
{
    double sram = r->energy_pj[COST_E_WBUF] + r->energy_pj[COST_E_ABUF] +
                  r->energy_pj[COST_E_OBUF];
    const struct {
        const char *col;
        double v;
    } cols[] = {
        {"total_cycles", (double)r->total_cycles}, {"mem_stall_cycles", (double)r->stall_cycles},
        {"compute_cycles", (double)r->compute_cycles},
        {"reads_act", r->sram_read_bits[ARCH_ABUF]}, {"reads_wgt", r->sram_read_bits[ARCH_WBUF]},
        {"reads_out", r->sram_read_bits[ARCH_OBUF]}, {"writes_out", r->sram_write_bits[ARCH_OBUF]},
        {"writes_act", r->sram_write_bits[ARCH_ABUF]},
        {"writes_wgt", r->sram_write_bits[ARCH_WBUF]}, {"reads_dram", r->dram_read_bits},
        {"writes_dram", r->dram_write_bits}, {"core_energy", r->energy_pj[COST_E_CORE] / 1e3},
        {"sram_energy", sram / 1e3}, {"dram_energy", r->energy_pj[COST_E_DRAM] / 1e3},
        {"dyn_energy", r->energy_total_pj / 1e3},
    };
    double worst = 0;
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
        worst = fmax(worst, rel(cols[k].v, refcsv_num(t, i, cols[k].col)));
    return worst;
}

int main(void)
{
    static refcsv t;
    if (!refcsv_load(&t, "bitfusion_layers.csv")) {
        fprintf(stderr, "bench_cost: cannot read %s/bitfusion_layers.csv\n", refcsv_dir());
        return 1;
    }
    arch a;
    bs_error e;
    if (arch_load(&a, "bitfusion", &e)) {
        fprintf(stderr, "bench_cost: %s\n", e.msg);
        return 1;
    }
    printf("%-28s %12s %12s %10s %10s\n", "layer (reference row)", "python_s", "bitsim_us",
           "speedup", "max_diff");
    double log_edp = 0, min_edp = INFINITY;
    double log_sum = 0, min_ratio = INFINITY, worst_diff = 0, search_s = 0, fixed_s = 0;
    long n = 0, search_evals = 0, fixed_evals = 0;
    for (int i = 0; i < t.n_rows; i++) {
        if (strcmp(refcsv_get(&t, i, "status"), "ok"))
            continue;
        cost_conv c;
        cost_conv_init(&c, (uint32_t)refcsv_num(&t, i, "K"), (uint32_t)refcsv_num(&t, i, "O"),
                       (uint32_t)refcsv_num(&t, i, "S"), (uint64_t)refcsv_num(&t, i, "IC"),
                       (uint64_t)refcsv_num(&t, i, "OC"), (uint64_t)refcsv_num(&t, i, "batch"),
                       (uint32_t)refcsv_num(&t, i, "iprec"),
                       (uint32_t)refcsv_num(&t, i, "wprec"), refcsv_num(&t, i, "im2col") != 0);
        cost_result r;
        double per = INFINITY, el;
        for (int batch = 0; batch < 5; batch++) {   /* best of 5: other jobs share the CPU */
            long reps = 0;
            double t0 = wallclock_s();
            do {
                if (cost_conv_eval(&a, &c, &r, &e)) {
                    fprintf(stderr, "bench_cost: %s\n", e.msg);
                    return 1;
                }
                reps++;
            } while ((el = wallclock_s() - t0) < 0.004);
            per = fmin(per, el / (double)reps);
            search_s += el;
            search_evals += reps;
        }

        /* the same search under the training objective (tiling_objective = edp): its
         * pruning bounds the product, so it must stay as fast */
        cost_conv ce = c;
        ce.objective = ARCH_OBJ_EDP;
        cost_result re;
        double per_edp = INFINITY;
        for (int batch = 0; batch < 3; batch++) {
            long reps = 0;
            double t0 = wallclock_s();
            do {
                cost_conv_eval(&a, &ce, &re, &e);
                reps++;
            } while ((el = wallclock_s() - t0) < 0.004);
            per_edp = fmin(per_edp, el / (double)reps);
        }
        min_edp = fmin(min_edp, refcsv_num(&t, i, "python_seconds") / per_edp);
        log_edp += log(refcsv_num(&t, i, "python_seconds") / per_edp);

        cost_tiling tl = r.tiling;
        cost_result rf;
        long freps = 0;
        double t0 = wallclock_s();
        do {
            cost_conv_eval_tiling(&a, &c, &tl, &rf, &e);
            freps++;
        } while ((el = wallclock_s() - t0) < 0.005);
        fixed_s += el;
        fixed_evals += freps;

        double py = refcsv_num(&t, i, "python_seconds"), ratio = py / per;
        double diff = answer_diff(&t, i, &r);
        printf("%-28s %12.4f %12.1f %9.0fx %10.2g\n", refcsv_get(&t, i, "case"), py, per * 1e6,
               ratio, diff);
        log_sum += log(ratio);
        min_ratio = fmin(min_ratio, ratio);
        worst_diff = fmax(worst_diff, diff);
        n++;
    }
    printf("\n%ld layers: speedup over the public simulator geometric mean %.0fx, minimum %.0fx"
           " (target >= 1000x); largest answer difference %.2g\n",
           n, exp(log_sum / (double)n), min_ratio, worst_diff);
    printf("with tiling_objective = edp: speedup geometric mean %.0fx, minimum %.0fx\n",
           exp(log_edp / (double)n), min_edp);
    printf("evaluations/s: %.0f with the tiling search, %.0f with a given tiling (no search)\n",
           (double)search_evals / search_s, (double)fixed_evals / fixed_s);
    refcsv_free(&t);
    return 0;
}
