/* test_metrics.c — the papers' metrics against values derived by hand from their formulas.
 *
 * Every expected value below is worked out in the comment next to it from the paper's or its
 * public code's formula, on models small enough to count by hand.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>

#include "metrics.h"
#include "replay_fixture.h"

/* The metrics of trace_text read against model_text. */
static metrics_result metrics_of(const char *model_text, const char *trace_text)
{
    trace t;
    fixture_trace(&t, model_text, trace_text);
    metrics_result tot;
    memset(&tot, 0, sizeof tot);
    bs_error e;
    err_clear(&e);
    cr_assert_eq(metrics_compute(&t, &tot, &e), 0, "%s", e.msg);
    trace_free(&t);
    return tot;
}

/* One hand-derived figure: the double at `field` (an offsetof metrics_result) of the
 * trace's metrics must be `want`. */
typedef struct figure_case {
    const char *what, *model, *trace;
    size_t field;
    double want;
} figure_case;

static void expect_figures(const figure_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        metrics_result tot = metrics_of(cases[i].model, cases[i].trace);
        double got = *(const double *)((const char *)&tot + cases[i].field);
        cr_expect_float_eq(got, cases[i].want, 1e-12, "%s: got %.12g want %.12g",
                           cases[i].what, got, cases[i].want);
    }
}

/* Two 3x3 convs on a 1x4x4 input (padding 1) and an fp32 classifier, as in CPT's CIFAR code:
 * c1 forward MAdds/sample = 16 positions x 9 x 2 = 288, c2 = 16 x 18 x 2 = 576. */
static const char cpt_model[] =
    "model cptnet\n"
    "input 1 4 4\n"
    "conv c1 out=2 k=3 pad=1 bias=0\n"
    "conv c2 out=2 k=3 pad=1 bias=0\n"
    "pool p op=global\n"
    "linear fc in=2 out=3\n";

Test(metrics, cpt_ratio_by_hand)
{
    static const figure_case cases[] = {
        /* CPT train.py: per iteration (b^2 + b g + b g)/3/32^2, averaged over iterations.
         * Iterations 0-3: b=4, g=8 -> (16 + 32 + 32)/3072 = 80/3072;
         * iterations 4-9: b=6, g=8 -> (36 + 48 + 48)/3072 = 132/3072;
         * average = (4*80 + 6*132)/10/3072 = 1112/30720. The fp32 fc is not in the formula. */
        {"the public code's formula", cpt_model,
         "bitsim-trace 1\nmodel cptnet\nbatch 8\niters_per_epoch 5\nepochs 2\n"
         "scheme cpt\n"
         "from 0 c1,c2 W=int4 A=int4 G=int8\n"
         "from 4 c1,c2 W=int6 A=int6\n"
         "end\n",
         offsetof(metrics_result, cpt_cost_ratio), 1112.0 / 30720.0},
        /* c1 at b=4, g=8: 80/3072; c2 at b=8, g=8: (64 + 64 + 64)/3072 = 192/3072; weighted
         * by forward MAdds 288 and 576: (288*80 + 576*192) / (864 * 3072). */
        {"per-layer widths weighted by MAdds", cpt_model,
         "bitsim-trace 1\nmodel cptnet\nbatch 8\niters_per_epoch 5\nepochs 2\n"
         "scheme mixed\n"
         "from 0 c1 W=int4 A=int4 G=int8\n"
         "from 0 c2 W=int8 A=int8 G=int8\n"
         "end\n",
         offsetof(metrics_result, cpt_cost_ratio), (288.0 * 80 + 576.0 * 192) / (864.0 * 3072)},
        /* SBM's gradient bifurcation: forward A x W = 8 x 8, error propagation G x W = 8 x 8,
         * weight gradient A x GW = 8 x 16: (64 + 64 + 128)/3/1024 = 256/3072 in every layer. */
        {"the weight-gradient pass read at GW", cpt_model,
         "bitsim-trace 1\nmodel cptnet\nbatch 8\niters_per_epoch 5\nepochs 2\n"
         "scheme sbm\n"
         "from 0 c1,c2 W=int8 A=int8 G=int8 GW=int16\n"
         "end\n",
         offsetof(metrics_result, cpt_cost_ratio), 256.0 / 3072.0},
    };
    expect_figures(cases, sizeof cases / sizeof cases[0]);
}

/* l1: 4 -> 2 (8 weights), relu, l2: 2 -> 3 (6 weights), no biases. */
static const char tiny_model[] =
    "model tiny\n"
    "input 1 1 4\n"
    "linear l1 in=4 out=2 bias=0\n"
    "act r1\n"
    "linear l2 in=2 out=3 bias=0\n";

Test(metrics, fp32_run_is_the_baseline_of_every_ratio)
{
    metrics_result tot = metrics_of(tiny_model,
                  "bitsim-trace 1\nmodel tiny\nbatch 1\niters_per_epoch 2\nepochs 1\n"
                  "scheme fp32\nend\n");
    cr_expect_float_eq(tot.cpt_cost_ratio, 1.0, 1e-15);
    cr_expect_float_eq(tot.adapt_speedup, 1.0, 1e-15);
    cr_expect(isnan(tot.smaq_storage_benefit), "not a SmaQ run");
}

Test(metrics, adapt_speedup_by_hand)
{
    static const figure_case cases[] = {
        /* lorenz0890/AdaPT utils/analytics.py analyse(): per logged step and layer
         *   F = MAdds x 32,  Q = non_zeros x (MAdds x qwl + overhead),
         *   su_own = 2 sum F / (sum Q + sum F)
         * with MAdds the layer's forward count, qwl its weights' word length and non_zeros
         * 1 - weight sparsity (the backward pass is the fp32 F in numerator and denominator).
         * Batch 1, 2 iterations: l1 forward 8 MAdds, l2 6; W = A = fx8.4 (qwl 8), dW = 0.5.
         *   F per iteration = (8 + 6) x 32 = 448, two iterations 896;
         *   Q per iteration = 0.5 x (8 x 8) + 0.5 x (6 x 8) = 32 + 24 = 56, two 112;
         *   the trace's overhead (the scheme's MARViN work): 10 ops x 32 bits = 320 -> Q = 432;
         *   su = 2 x 896 / (432 + 896) = 1792 / 1328.
         * G stays fp32 here and does not enter: AdaPT's model weighs the forward pass only. */
        {"AdaPT's own figure", tiny_model,
         "bitsim-trace 1\nmodel tiny\nbatch 1\niters_per_epoch 2\nepochs 1\n"
         "scheme adapt\n"
         "from 0 l1,l2 W=fx8.4 A=fx8.4 dW=0.5\n"
         "overhead 0 ops=10 bits=32 label=kl\n"
         "end\n",
         offsetof(metrics_result, adapt_speedup), 1792.0 / 1328.0},
        /* AdaPT's qwl is the layer's weight word length: W = fx4.2, A = fx16.8, dW = 1,
         * batch 2, 1 iteration: F = 2 x 14 x 32 = 896, Q = 2 x 14 x 4 = 112, su = 1792 / 1008. */
        {"the weights' word length", tiny_model,
         "bitsim-trace 1\nmodel tiny\nbatch 2\niters_per_epoch 1\nepochs 1\n"
         "scheme adapt\n"
         "from 0 l1,l2 W=fx4.2 A=fx16.8\n"
         "end\n",
         offsetof(metrics_result, adapt_speedup), 1792.0 / 1008.0},
    };
    expect_figures(cases, sizeof cases / sizeof cases[0]);
}

Test(metrics, wl_madds_is_madds_times_wider_word_times_densities)
{
    metrics_operands o;
    memset(&o, 0, sizeof o);
    cr_assert(numfmt_parse("fx6.3", &o.x, NULL));
    cr_assert(numfmt_parse("int8", &o.y, NULL));
    o.density_x = 0.25;
    o.density_y = 0.5;
    cr_expect_float_eq(metrics_wl_madds(1000, &o), 1000.0 * 8 * 0.125, 1e-12);
}

Test(metrics, a_bifurcated_gradient_keeps_both_copies)
{
    /* SBM keeps each output gradient twice: G at 8 bits for G x W and GW at 16 bits for the
     * weight gradient. Batch 2, every layer's output gradient: l1 and r1 2 x (2 + 2) elements
     * at 8 + 16 bits = 192; l2 G = GW = fp32 (one copy), 2 x 3 x 32 = 192 -> 384. */
    metrics_result tot = metrics_of(tiny_model,
                  "bitsim-trace 1\nmodel tiny\nbatch 2\niters_per_epoch 10\nepochs 1\n"
                  "scheme sbm\n"
                  "from 0 l1,r1 G=int8 GW=int16\n"
                  "end\n");
    cr_expect_float_eq(tot.mem_grads_bits, 384, 1e-9);
}

Test(metrics, memory_footprint_by_class_at_the_peak)
{
    /* Batch 2, 10 iterations. Weights: l1 8 params, l2 6.
     *   iterations 0-2: l1 int8, l2 fp32 -> 64 + 192 = 256 bits
     *   iterations 3-4: l1 int8, l2 int4 -> 64 + 24 = 88
     *   iterations 5-9: l1 fp32, l2 int4 -> 256 + 24 = 280   (the peak; other classes constant)
     * Feature maps kept for backward (every layer's input, batch 2, fp32):
     *   2 x (4 + 2 + 2) x 32 = 512.
     * Gradient maps (every layer's output): l1 and r1 fp32 2 x (2 + 2) x 32 = 256; l2's in
     *   bfp8/e8/b16 = 8 + 8/16 = 8.5 bits per element: 2 x 3 x 8.5 = 51 -> 307.
     * Weight gradients and optimizer state (momentum) fp32: 14 x 32 = 448 each. */
    metrics_result tot = metrics_of(tiny_model,
                  "bitsim-trace 1\nmodel tiny\nbatch 2\niters_per_epoch 10\nepochs 1\n"
                  "scheme mem\n"
                  "from 0 l1 W=int8\n"
                  "from 0 l2 G=bfp8/e8/b16\n"
                  "from 3 l2 W=int4\n"
                  "from 5 l1 W=fp32\n"
                  "end\n");
    cr_expect_float_eq(tot.mem_weights_bits, 280, 1e-9);
    cr_expect_float_eq(tot.mem_fmaps_bits, 512, 1e-9);
    cr_expect_float_eq(tot.mem_grads_bits, 307, 1e-9);
    cr_expect_float_eq(tot.mem_wgrads_bits, 448, 1e-9);
    cr_expect_float_eq(tot.mem_optim_bits, 448, 1e-9);
}

static const char one_layer_model[] =
    "model one\n"
    "input 1 1 4\n"
    "linear l1 in=4 out=2 bias=0\n";

Test(metrics, smaq_eq4_by_hand)
{
    /* SmaQ Eq. 4 per tensor: (64 + 6 N_in + 8 N_out) / (32 N), averaged.
     * Weights, N = 8, inliers 0.75: (64 + 6*6 + 8*2)/256 = 116/256, all 10 iterations;
     * feature map, N = batch 2 x 4 = 8, inliers 0.5: (64 + 6*4 + 8*4)/256 = 120/256, stored
     * split from iteration 5 (5 iterations). Average over tensor-iterations:
     * (10*116 + 5*120) / 15 / 256 = 1760/3840. */
    metrics_result tot = metrics_of(one_layer_model,
                  "bitsim-trace 1\nmodel one\nbatch 2\niters_per_epoch 10\nepochs 1\n"
                  "scheme smaq\n"
                  "from 0 l1 sW=6/8@0.75+64\n"
                  "from 5 l1 sA=6/8@0.5+64\n"
                  "end\n");
    cr_expect_float_eq(tot.smaq_storage_benefit, 1760.0 / 3840.0, 1e-12, "got %.12g",
                       tot.smaq_storage_benefit);
    /* The footprint stores split tensors at their split size: weights 116 bits, feature
     * maps (peak: the fp32 phase, 2 x 4 x 32 = 256 bits, is larger than 120). */
    cr_expect_float_eq(tot.mem_weights_bits, 116, 1e-9);
    cr_expect_float_eq(tot.mem_fmaps_bits, 256, 1e-9);
}
