/* test_scheme.c — generators against schedules derived by hand from the papers' formulas.
 *
 * Run: ResNet-20, batch 128, 391 iterations per epoch (ceil(50000/128)).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_private.h"
#include "scheme.h"
#include "trace_fixture.h"

/* The request every test builds: scheme and params on a model, a run shape. */
static scheme_request request(const char *scheme, const char *ref, const model *m,
                              uint64_t batch, uint64_t epochs, const char *const *params,
                              size_t n)
{
    scheme_request r;
    memset(&r, 0, sizeof r);
    r.scheme = scheme;
    r.model_ref = ref;
    r.model = m;
    r.batch = batch;
    r.epochs = epochs;
    r.params = params;
    r.n_params = n;
    return r;
}

static int gen(trace *t, const char *scheme, const char *const *params, size_t n,
               uint64_t epochs, uint64_t seed, bs_error *e)
{
    scheme_request r = request(scheme, "resnet20", fixture_resnet20(), 128, epochs, params, n);
    r.seed = seed;
    err_clear(e);
    return scheme_generate(t, &r, e);
}

/* gen() that must succeed (seed 1); the failure names the scheme and the error. */
static void gen_ok(trace *t, const char *scheme, const char *const *params, size_t n,
                   uint64_t epochs)
{
    bs_error e;
    cr_assert_eq(gen(t, scheme, params, n, epochs, 1, &e), 0, "%s: %s", scheme, e.msg);
}

static uint32_t layer(const char *name)
{
    int i = model_find_layer(fixture_resnet20(), name);
    cr_assert(i >= 0);
    return (uint32_t)i;
}

static unsigned bits_at(const trace *t, const char *name, tensor_class c, uint64_t it)
{
    const trace_segment *s = trace_segment_at(t, layer(name), it);
    cr_assert(s, "no segment of %s at %llu", name, (unsigned long long)it);
    return s->d->fmt[c].bits;
}

/* CPT, default 160 epochs: T = 391 * 160 = 62,560 iterations, N = 32 cycles, so
 * P = 62560 / 32 = 1955. b(t) = rint(3 + 2.5 (1 + cos(pi (t mod P)/P + pi)))
 *                             = rint(3 + 2.5 (1 - cos(x))), x = pi (t mod P) / P.
 * Crossings of the rounding midpoints (b = 3.5, 4.5, 5.5, 6.5, 7.5):
 *   1 - cos x = 0.2 -> x = acos(0.8)  = 0.643501 -> t = 0.643501 * 1955 / pi = 400.44 -> 401
 *   1 - cos x = 0.6 -> x = acos(0.4)  = 1.159279 -> t = 721.41                   -> 722
 *   1 - cos x = 1.0 -> x = pi/2                   -> t = 977.5                    -> 978
 *   1 - cos x = 1.4 -> x = acos(-0.4) = 1.982313 -> t = 1233.59                  -> 1234
 *   1 - cos x = 1.8 -> x = acos(-0.8) = 2.498092 -> t = 1554.56                  -> 1555
 * so each cycle holds 6 runs (3,4,5,6,7,8 bits) and each conv layer 32 * 6 = 192 segments.
 * Total segments: 19 conv x 192 + 49 other layers x 1 = 3,697. */
Test(scheme, cpt_schedule_matches_hand_derivation)
{
    trace t;
    gen_ok(&t, "cpt", NULL, 0, 0);
    cr_expect_eq(t.total_iters, 62560);
    size_t n;
    trace_layer_segments(&t, layer("conv1"), &n);
    cr_expect_eq(n, 192);
    cr_expect_eq(trace_segment_count(&t), 3697);
    struct { uint64_t it; unsigned bits; } pts[] = {
        {0, 3}, {400, 3}, {401, 4}, {721, 4}, {722, 5}, {977, 5}, {978, 6}, {1233, 6},
        {1234, 7}, {1554, 7}, {1555, 8}, {1954, 8}, {1955, 3},             /* first cycle */
        {1955 + 978, 6}, {31 * 1955 + 1555, 8}, {62559, 8},                /* later ones */
    };
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        cr_expect_eq(bits_at(&t, "layer2.1.conv2", TENSOR_W, pts[i].it), pts[i].bits,
                     "W bits at %llu", (unsigned long long)pts[i].it);
        cr_expect_eq(bits_at(&t, "conv1", TENSOR_A, pts[i].it), pts[i].bits);
        cr_expect_eq(bits_at(&t, "conv1", TENSOR_G, pts[i].it), 8, "gradients fixed at 8");
    }
    /* the final fc stays fp32; so do norms */
    cr_expect_eq(bits_at(&t, "fc", TENSOR_W, 1555), 32);
    trace_layer_segments(&t, layer("fc"), &n);
    cr_expect_eq(n, 1);
    cr_expect_eq(bits_at(&t, "bn1", TENSOR_A, 1555), 32);
    /* the exported formula agrees with the hand values too */
    cr_expect_eq(scheme_cpt_bits(977, 1955, 3, 8), 5);
    cr_expect_eq(scheme_cpt_bits(978, 1955, 3, 8), 6);
    trace_free(&t);
}

/* MuPPET defaults: levels 8, 12, 14, 16 for 22, 22, 10, 15 epochs, then 45 fp32 epochs:
 * 114 epochs = 44,574 iterations. Level starts at epochs 0, 22, 44, 54, 69 -> iterations
 * 0, 8602, 17204, 21114, 26979. Every MAC layer (19 conv + fc) has 5 segments.
 * Gradient-diversity checks every 3 epochs while quantized: epochs 3, 6, ..., 69 -> 23. */
Test(scheme, muppet_ladder_matches_hand_derivation)
{
    trace t;
    gen_ok(&t, "muppet", NULL, 0, 0);
    cr_expect_eq(t.epochs, 114);
    cr_expect_eq(t.total_iters, 44574);
    size_t n;
    const trace_segment *s = trace_layer_segments(&t, layer("fc"), &n);
    cr_assert_eq(n, 5);
    uint64_t starts[] = {0, 8602, 17204, 21114, 26979};
    unsigned bits[] = {8, 12, 14, 16, 32};
    for (int k = 0; k < 5; k++) {
        cr_expect_eq(s[k].first, starts[k]);
        cr_expect_eq(s[k].d->fmt[TENSOR_W].bits, bits[k]);
        cr_expect_eq(s[k].d->fmt[TENSOR_G].bits, bits[k]);
        cr_expect_eq(s[k].d->fmt[TENSOR_U].bits, 32, "master weights stay fp32");
    }
    cr_expect_eq(s[0].d->fmt[TENSOR_W].kind, NUM_BFP);
    cr_expect_eq(s[4].d->fmt[TENSOR_W].kind, NUM_FP);
    cr_expect_eq(bits_at(&t, "layer3.2.conv2", TENSOR_A, 21113), 14);
    trace_layer_segments(&t, layer("bn1"), &n);
    cr_expect_eq(n, 1);
    size_t checks = 0, accum = 0;
    for (size_t i = 0; i < t.n_overheads; i++) {
        if (strcmp(t.overheads[i].label, "gd-check") == 0)
            checks++;
        if (strcmp(t.overheads[i].label, "gd-accumulate") == 0) {
            /* ICIdsl/muppet training.py train_network: policy.update(model) once per epoch,
             * after the epoch's last mini-batch, in every epoch (fp32 ones too): square,
             * sum and add of each parameter's gradient, 3 ops per parameter, at the last
             * iteration of epoch k = 391 (k + 1) - 1. */
            cr_expect_eq(t.overheads[i].first, 391 * (accum + 1) - 1);
            cr_expect_eq(t.overheads[i].end, 391 * (accum + 1));
            cr_expect_eq(t.overheads[i].ops, 3 * model_params(fixture_resnet20()));
            accum++;
        }
    }
    /* check_violation computes the gradient diversity when (epoch + 1) % 3 == 0 and the
     * data type is not Float: quantized epochs 0..68 -> epochs 2, 5, ..., 68 = 23 checks. */
    cr_expect_eq(checks, 23);
    cr_expect_eq(accum, 114);
    trace_free(&t);
}

Test(scheme, muppet_explicit_switch_epochs)
{
    const char *p[] = {"switch=10,20,30,40"};
    trace t;
    gen_ok(&t, "muppet", p, 1, 50);
    /* epoch 10 -> iteration 3910; epoch 40 -> 15640 (fp32) */
    cr_expect_eq(bits_at(&t, "conv1", TENSOR_W, 3909), 8);
    cr_expect_eq(bits_at(&t, "conv1", TENSOR_W, 3910), 12);
    cr_expect_eq(bits_at(&t, "conv1", TENSOR_W, 15640), 32);
    trace_free(&t);
}

/* FracTrain PFQ: fw 3,4,6,8 / bw 6,6,8,8 with turning points at 1/4, 2/4, 3/4 of 160 epochs:
 * epochs 40, 80, 120 -> iterations 15640, 31280, 46920. */
Test(scheme, fractrain_pfq_stages)
{
    trace t;
    gen_ok(&t, "fractrain-pfq", NULL, 0, 0);
    uint64_t it[] = {0, 15639, 15640, 31280, 46919, 46920, 62559};
    unsigned fw[] = {3, 3, 4, 6, 6, 8, 8}, bw[] = {6, 6, 6, 8, 8, 8, 8};
    for (int k = 0; k < 7; k++) {
        cr_expect_eq(bits_at(&t, "layer1.0.conv1", TENSOR_W, it[k]), fw[k]);
        cr_expect_eq(bits_at(&t, "layer1.0.conv1", TENSOR_G, it[k]), bw[k]);
    }
    cr_expect(strstr(t.params, "switch=40,80,120"), "resolved params: %s", t.params);
    trace_free(&t);
}

/* SBM (Banner et al., NeurIPS 2018): 8-bit W, A and G in every layer, batch norm included
 * (Range BN) and so the ReLU, add and pool activations between them; weight gradients at 16
 * bits; fp32 master weights; "gradients bifurcation" (section "Quantized Back-Propagation"):
 * the gradient copy of the weight-gradient GEMM at 16 bits (GW), the one propagated to the
 * previous layer at 8 (G). One decision from iteration 0: one segment per layer (68). */
Test(scheme, static_sbm_and_fp32)
{
    trace t;
    gen_ok(&t, "static", NULL, 0, 0);
    cr_expect_eq(bits_at(&t, "fc", TENSOR_W, 0), 8);
    cr_expect_eq(bits_at(&t, "conv1", TENSOR_WG, 99), 16, "SBM keeps weight gradients at 16");
    cr_expect_eq(bits_at(&t, "conv1", TENSOR_G, 99), 8, "8-bit gradient for G x W");
    cr_expect_eq(bits_at(&t, "conv1", TENSOR_GW, 99), 16, "16-bit gradient for A x G");
    cr_expect_eq(bits_at(&t, "fc", TENSOR_GW, 62559), 16);
    static const char *const non_mac[] = {"bn1", "relu1", "layer1.0.add", "layer3.2.bn2",
                                          "pool"};
    for (size_t i = 0; i < sizeof non_mac / sizeof non_mac[0]; i++) {
        cr_expect_eq(bits_at(&t, non_mac[i], TENSOR_A, 0), 8, "%s: A (Range BN, 8 bit)",
                     non_mac[i]);
        cr_expect_eq(bits_at(&t, non_mac[i], TENSOR_G, 500), 8, "%s: G", non_mac[i]);
        cr_expect_eq(bits_at(&t, non_mac[i], TENSOR_GW, 500), 16, "%s: GW", non_mac[i]);
        cr_expect_eq(bits_at(&t, non_mac[i], TENSOR_U, 0), 32, "%s: fp32 master", non_mac[i]);
    }
    cr_expect_eq(bits_at(&t, "bn1", TENSOR_W, 0), 8, "Range BN's gamma/beta at 8 bits");
    cr_expect(strstr(t.params, "layers=all"), "resolved params: %s", t.params);
    cr_expect_eq(trace_segment_count(&t), 68);
    trace_free(&t);
    const char *mac_only[] = {"layers=mac"};
    gen_ok(&t, "static", mac_only, 1, 0);
    cr_expect_eq(bits_at(&t, "conv1", TENSOR_A, 0), 8);
    cr_expect_eq(bits_at(&t, "bn1", TENSOR_A, 0), 32, "layers=mac leaves batch norm fp32");
    cr_expect_eq(bits_at(&t, "relu1", TENSOR_G, 0), 32);
    trace_free(&t);
    const char *fp16[] = {"preset=fp16"};
    gen_ok(&t, "static", fp16, 1, 0);
    cr_expect_eq(bits_at(&t, "conv1", TENSOR_A, 0), 16);
    cr_expect_eq(bits_at(&t, "bn1", TENSOR_A, 0), 32, "mixed precision keeps norms fp32");
    cr_expect(strstr(t.params, "layers=mac"), "resolved params: %s", t.params);
    cr_expect_eq(bits_at(&t, "conv1", TENSOR_GW, 0), 16, "fp16 does not bifurcate: GW = G");
    trace_free(&t);
    const char *own_g[] = {"G=int4"};     /* GW is the preset's, not G's */
    gen_ok(&t, "static", own_g, 1, 0);
    cr_expect_eq(bits_at(&t, "conv1", TENSOR_G, 0), 4);
    cr_expect_eq(bits_at(&t, "conv1", TENSOR_GW, 0), 16);
    trace_free(&t);
    const char *no_split[] = {"GW=int8"};
    gen_ok(&t, "static", no_split, 1, 0);
    cr_expect_eq(bits_at(&t, "conv1", TENSOR_GW, 0), 8, "GW=int8: the pre-bifurcation SBM");
    trace_free(&t);
    const char *p[] = {"W=fx4.2"};
    gen_ok(&t, "static", p, 1, 0);
    cr_expect_eq(bits_at(&t, "conv1", TENSOR_W, 0), 4);
    cr_expect_eq(bits_at(&t, "conv1", TENSOR_A, 0), 8);
    trace_free(&t);
    gen_ok(&t, "fp32", NULL, 0, 0);
    cr_expect_eq(trace_segment_count(&t), 68);
    cr_expect_eq(bits_at(&t, "conv1", TENSOR_W, 0), 32);
    trace_free(&t);
}

/* SmaQ Eq. 4 with the Gaussian assumption: inlier fraction = erf(1/sqrt 2) = 0.682689... */
Test(scheme, smaq_storage_split)
{
    trace t;
    gen_ok(&t, "smaq", NULL, 0, 0);
    const trace_segment *s = trace_segment_at(&t, layer("conv1"), 0);
    cr_assert(s);
    const trace_storage *w = &s->d->store[TENSOR_W];
    cr_expect_eq(w->inlier_bits, 6);
    cr_expect_eq(w->outlier_bits, 8);
    cr_expect_eq(w->header_bits, 64);
    cr_expect_float_eq(w->inlier_frac, erf(1.0 / sqrt(2.0)), 1e-6);
    cr_expect_eq(s->d->store[TENSOR_G].inlier_bits, 0, "G not split by default");
    cr_expect_eq(s->d->fmt[TENSOR_W].bits, 32, "compute stays fp32");
    trace_free(&t);
}

Test(scheme, adapt_is_deterministic_and_bounded)
{
    trace a, b, c;
    bs_error e;
    cr_assert_eq(gen(&a, "adapt", NULL, 0, 20, 7, &e), 0, "%s", e.msg);
    cr_assert_eq(gen(&b, "adapt", NULL, 0, 20, 7, &e), 0, "%s", e.msg);
    cr_assert_eq(gen(&c, "adapt", NULL, 0, 20, 8, &e), 0, "%s", e.msg);
    char *ta, *tb, *tc;
    size_t la, lb, lc;
    cr_assert_eq(trace_write_buffer(&a, &ta, &la, &e), 0);
    cr_assert_eq(trace_write_buffer(&b, &tb, &lb, &e), 0);
    cr_assert_eq(trace_write_buffer(&c, &tc, &lc, &e), 0);
    cr_expect_str_eq(ta, tb, "same seed, same trace");
    cr_expect_str_neq(ta, tc, "another seed, another trace");
    const model *m = fixture_resnet20();
    for (uint32_t i = 0; i < m->n_layers; i++) {
        if (!model_layer_is_mac(&m->layers[i]))
            continue;
        size_t n;
        const trace_segment *s = trace_layer_segments(&a, i, &n);
        cr_expect_eq(s[0].d->fmt[TENSOR_W].bits, 8, "AdaPT starts at <8,4>");
        cr_expect_eq(s[0].d->fmt[TENSOR_W].frac_bits, 4);
        for (size_t k = 0; k < n; k++) {
            unsigned wl = s[k].d->fmt[TENSOR_W].bits;
            cr_expect(wl >= 4 && wl <= 16);
            cr_expect_eq(s[k].d->fmt[TENSOR_W].frac_bits, (int)wl / 2);
            cr_expect(s[k].d->density[TENSOR_W] >= 0.5 && s[k].d->density[TENSOR_W] <= 1.0);
        }
    }
    cr_expect(a.n_overheads > 0);
    free(ta);
    free(tb);
    free(tc);
    trace_free(&a);
    trace_free(&b);
    trace_free(&c);
}

Test(scheme, every_scheme_round_trips_byte_for_byte)
{
    size_t n;
    const scheme_info *s = scheme_table(&n);
    cr_expect_eq(n, 11);
    for (size_t i = 0; i < n; i++) {
        trace t;
        bs_error e;
        cr_assert_eq(gen(&t, s[i].name, NULL, 0, 0, 1, &e), 0, "%s: %s", s[i].name, e.msg);
        char *first, *second;
        size_t l1, l2;
        cr_assert_eq(trace_write_buffer(&t, &first, &l1, &e), 0);
        trace_free(&t);
        cr_assert_eq(fixture_read(&t, first, &e), 0, "%s: %s", s[i].name, e.msg);
        cr_assert_eq(trace_write_buffer(&t, &second, &l2, &e), 0);
        cr_expect_eq(l1, l2);
        cr_expect_str_eq(first, second, "%s does not round-trip", s[i].name);
        free(first);
        free(second);
        trace_free(&t);
    }
}

Test(scheme, rejects_unknown_schemes_and_parameters)
{
    trace t;
    bs_error e;
    /* a name that is not a scheme is bad input (exit 1), like an unknown model or arch; a
     * near miss is named */
    cr_expect_eq(gen(&t, "sgd9000", NULL, 0, 0, 1, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "unknown scheme 'sgd9000'"), "%s", e.msg);
    cr_expect(!strstr(e.msg, "did you mean"), "%s", e.msg);
    cr_expect_eq(gen(&t, "CPT", NULL, 0, 0, 1, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "did you mean 'cpt'?"), "%s", e.msg);
    cr_expect_eq(gen(&t, "fp23", NULL, 0, 0, 1, &e), BS_EINPUT);   /* swapped digits */
    cr_expect(strstr(e.msg, "did you mean 'fp32'?"), "%s", e.msg);
    const char *p1[] = {"colour=red"};
    cr_expect_eq(gen(&t, "cpt", p1, 1, 0, 1, &e), BS_EUSAGE);
    cr_expect(strstr(e.msg, "no parameter 'colour'"), "%s", e.msg);
    const char *p2[] = {"bmax=33"};
    cr_expect_eq(gen(&t, "cpt", p2, 1, 0, 1, &e), BS_EUSAGE);
    cr_expect(strstr(e.msg, "bmax='33'"), "%s", e.msg);
    const char *p3[] = {"W=int0"};
    cr_expect_eq(gen(&t, "static", p3, 1, 0, 1, &e), BS_EUSAGE);
    const char *p4[] = {"fw=3,4", "bw=6"};
    cr_expect_eq(gen(&t, "fractrain-pfq", p4, 2, 0, 1, &e), BS_EUSAGE);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

/* AdaPT's overhead model, utils/analytics.py marvin_step, per layer and precision check:
 *   3 n bisect res d + (lb + 1) n + 1,  bisect = 2 log2(wl - 8) if wl > 8 else 1,
 * res = MAX_RESOLUTION 150, lb = MAX_LOOKBACK 100 (its config's worst case), d = 1 here
 * (dw_min=1). p_up=1, step 2: every MAC layer goes 8 -> 10 at epoch 1 (bisect 2 log2 2 = 2)
 * and 10 -> 12 at epoch 2 (bisect 2 log2 4 = 4), so with N the model's MAC weights and L its
 * MAC layers:  epoch 1: (900 + 101) N + L = 1001 N + L,  epoch 2: (1800 + 101) N + L. */
Test(scheme, adapt_overhead_is_marvin_step)
{
    const char *p[] = {"p_up=1", "p_down=0", "dw_min=1"};
    trace t;
    gen_ok(&t, "adapt", p, 3, 3);
    const model *m = fixture_resnet20();
    uint64_t n = 0, l = 0;
    for (uint32_t i = 0; i < m->n_layers; i++)
        if (model_layer_is_mac(&m->layers[i])) {
            n += m->layers[i].weight_elems;
            l++;
        }
    uint64_t want[] = {1001 * n + l, 1901 * n + l};
    size_t k = 0;
    for (size_t i = 0; i < t.n_overheads; i++) {
        cr_assert_str_eq(t.overheads[i].label, "marvin");
        cr_assert_lt(k, 2);
        cr_expect_eq(t.overheads[i].first, 391 * (k + 1));
        cr_expect_eq(t.overheads[i].ops, want[k], "check %zu: got %llu want %llu", k,
                     (unsigned long long)t.overheads[i].ops, (unsigned long long)want[k]);
        k++;
    }
    cr_expect_eq(k, 2, "a check at epochs 1 and 2 (epoch 0 is the initial <8,4>)");
    cr_expect_eq(bits_at(&t, "fc", TENSOR_W, 2 * 391), 12);
    cr_expect_eq(bits_at(&t, "fc", TENSOR_A, 2 * 391), 12);
    cr_expect_eq(bits_at(&t, "fc", TENSOR_WG, 2 * 391), 12);
    cr_expect_eq(bits_at(&t, "fc", TENSOR_G, 2 * 391), 32, "G stays fp32 (AdaPT's code)");
    trace_free(&t);
}

/* An AdaPT-style log replaces the synthetic policy: epoch 3 -> iteration 3 * 391 = 1173. */
Test(scheme, adapt_replays_a_log)
{
    char path[] = "/tmp/bitsim_adapt_logXXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    write_file(path, "# epoch layer wl fl density\n"
                     "0 conv1 8 4 0.9\n"
                     "0 fc 8 4\n"
                     "3 conv1 12 7 0.8\n");
    char param[128];
    snprintf(param, sizeof param, "log=%s", path);
    const char *p[] = {param};
    trace t;
    bs_error e;
    gen_ok(&t, "adapt", p, 1, 10);
    const trace_segment *s = trace_segment_at(&t, layer("conv1"), 1172);
    cr_assert(s);
    cr_expect_eq(s->d->fmt[TENSOR_W].bits, 8);
    cr_expect_float_eq(s->d->density[TENSOR_W], 0.9, 0);
    s = trace_segment_at(&t, layer("conv1"), 1173);
    cr_expect_eq(s->d->fmt[TENSOR_WG].bits, 12);
    cr_expect_eq(s->d->fmt[TENSOR_WG].frac_bits, 7);
    cr_expect_float_eq(s->d->density[TENSOR_W], 0.8, 0);
    cr_expect_eq(bits_at(&t, "layer1.0.conv1", TENSOR_W, 3000), 32, "not in the log: fp32");
    /* One MARViN record per logged epoch, AdaPT's marvin_step (utils/analytics.py) per line:
     * 3 n bisect res d + (lb + 1) n + 1, bisect = 2 log2(wl - 8) if wl > 8 else 1,
     * res = 150, lb = 100; conv1 n = 3 x 16 x 9 = 432, fc n = 64 x 10 = 640.
     *   epoch 0: conv1 wl 8 d 0.9: 3*432*1*150*0.9 + 101*432 + 1 = 174960 + 43632 + 1 = 218593
     *            fc    wl 8 d 1:   3*640*1*150     + 101*640 + 1 = 288000 + 64640 + 1 = 352641
     *   epoch 3: conv1 wl 12 d 0.8: bisect 2 log2 4 = 4:
     *            3*432*4*150*0.8 + 43632 + 1 = 622080 + 43633 = 665713 */
    uint64_t want_ops[] = {218593 + 352641, 665713}, want_at[] = {0, 1173};
    size_t kl = 0;
    for (size_t i = 0; i < t.n_overheads; i++) {
        cr_expect_str_neq(t.overheads[i].label, "gd-accumulate", "AdaPT counts GD in push_up");
        if (strcmp(t.overheads[i].label, "marvin") != 0)
            continue;
        cr_assert_lt(kl, 2);
        cr_expect_eq(t.overheads[i].first, want_at[kl]);
        cr_expect_eq(t.overheads[i].ops, want_ops[kl], "got %llu",
                     (unsigned long long)t.overheads[i].ops);
        cr_expect_eq(t.overheads[i].bits, 32);
        kl++;
    }
    cr_expect_eq(kl, 2, "one MARViN record per logged epoch (0 and 3)");
    s = trace_segment_at(&t, layer("conv1"), 1173);
    cr_expect_eq(s->d->fmt[TENSOR_G].bits, 32, "AdaPT's code quantizes no activation gradient");
    trace_free(&t);

    static const struct {
        const char *log, *expect;   /* a bad log, a substring of its message */
    } bad[] = {
        {"0 conv1 8 4\n2 bn1 8 4\n", ":2: layer: 'bn1' is not a conv/linear/matmul layer"},
        {"5 conv1 8 4\n2 conv1 8 4\n", ":2: epoch: 2 is out of order"},
        {"0 conv1 33 4\n", ":1: wl: word length '33'"},
        {"10 conv1 8 4\n", "not an epoch of the run (0..9)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, bad[i].log);
        cr_expect_eq(gen(&t, "adapt", p, 1, 10, 1, &e), BS_EINPUT, "accepted: %s", bad[i].log);
        cr_expect(strstr(e.msg, bad[i].expect), "%s", e.msg);
    }
    unlink(path);
}

/* ---- LLM recipes on a hand-written decoder ------------------------------------------------ */

/* One attention + MLP block and an LM head, 4 tokens of width 64 (model show gives the same
 * shapes): linear attn.q 64->64, matmuls scores (4x64 . 64x4) and context (4x4 . 4x64),
 * linear mlp.fc 64->256 and mlp.proj 256->64, linear lm_head 64->100. */
static const char tiny_decoder[] =
    "model tiny_decoder\ninput 1 4 64 grad=1\nnorm ln op=layer\n"
    "linear attn.q in=64 out=64 rows=4\n"
    "matmul attn.scores m=4 k=64 n=4 heads=1 from=attn.q\nsoftmax attn.softmax\n"
    "matmul attn.context m=4 k=4 n=64 heads=1 from=attn.q\n"
    "linear mlp.fc in=64 out=256 rows=4\nlinear mlp.proj in=256 out=64 rows=4\n"
    "linear lm_head in=64 out=100 rows=4 bias=0\n";

static const model *tiny_model(void)
{
    static model m;
    static int loaded;
    if (!loaded) {
        bs_error e;
        cr_assert_eq(model_parse_buffer(&m, "tiny.model", tiny_decoder, strlen(tiny_decoder),
                                        &e), 0, "%s", e.msg);
        loaded = 1;
    }
    return &m;
}

/* batch 2, 10 iterations */
static void gen_llm(trace *t, const char *scheme, const char *const *params, size_t n)
{
    scheme_request r = request(scheme, "tiny.model", tiny_model(), 2, 1, params, n);
    r.iters_per_epoch = 10;
    bs_error e;
    cr_assert_eq(scheme_generate(t, &r, &e), 0, "%s: %s", scheme, e.msg);
}

/* A segment's decision, whether the segment holds it by value (trace_decision d) or points
 * at an interned one (const trace_decision *d, branch i17b's trace change): _Generic picks
 * the form that matches, so this file compiles before and after that change is merged. */
#define SEGMENT_DECISION(s) _Generic((s)->d, trace_decision: &(s)->d, default: (s)->d)

static const num_format *fmt_of(const trace *t, const char *name, tensor_class c)
{
    int i = model_find_layer(tiny_model(), name);
    cr_assert(i >= 0, "%s", name);
    const trace_segment *s = trace_segment_at(t, (uint32_t)i, 0);
    cr_assert(s);
    const trace_decision *d = SEGMENT_DECISION(s);
    return &d->fmt[c];
}

static void expect_fmt(const trace *t, const char *name, tensor_class c, const char *want)
{
    char buf[32];
    numfmt_format(fmt_of(t, name, c), buf, sizeof buf);
    cr_expect_str_eq(buf, want, "%s %s", name, trace_tensor_name(c));
}

typedef struct fmt_want {
    const char *layer;
    tensor_class tensor;
    const char *fmt;
} fmt_want;

static void expect_fmts(const trace *t, const fmt_want *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_fmt(t, w[i].layer, w[i].tensor, w[i].fmt);
}

typedef struct overhead_want {
    const char *label;
    uint64_t ops;
    unsigned bits;      /* 0: not checked */
} overhead_want;

static trace_overhead overhead_of(const trace *t, const char *label);

static void expect_overheads(const trace *t, const overhead_want *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        trace_overhead o = overhead_of(t, w[i].label);
        cr_expect_eq(o.ops, w[i].ops, "%s ops %llu", w[i].label, (unsigned long long)o.ops);
        if (w[i].bits)
            cr_expect_eq(o.bits, w[i].bits, "%s bits %u", w[i].label, o.bits);
    }
}

/* The run-long overhead record with this label (NULL-safe: a zero record when absent). */
static trace_overhead overhead_of(const trace *t, const char *label)
{
    for (size_t i = 0; i < t->n_overheads; i++)
        if (strcmp(t->overheads[i].label, label) == 0) {
            cr_expect_eq(t->overheads[i].first, 0);
            cr_expect_eq(t->overheads[i].end, 10, "%s spans the run", label);
            return t->overheads[i];
        }
    return (trace_overhead){0};
}

/* FP8 (Micikevicius et al. 2022; TE HYBRID): the linear layers E4M3 W/A, E5M2 G; matmuls,
 * the norm, softmax and the LM head bf16; WG and U fp32. Overheads by hand, batch 2:
 * attn.q W 4096 + A 2*256 + G 2*256 = 5120; mlp.fc 16384 + 512 + 2*1024 = 18944; mlp.proj
 * 16384 + 2048 + 512 = 18944; one cast op per element: 43008. amax history (TE's
 * amax-and-scale update: rotate 1024, max over 1024, scale 3): 9 FP8 tensors x 2051 = 18459. The cast record's width makes replay's traffic (ops x 2 x bits) the
 * cast's: 16 bits read + 8 written = 2 x 12. */
Test(scheme_llm, fp8_formats_and_overheads)
{
    trace t;
    gen_llm(&t, "fp8", NULL, 0);
    static const fmt_want want[] = {
        {"attn.q", TENSOR_W, "fp8e4m3"},     {"mlp.fc", TENSOR_A, "fp8e4m3"},
        {"mlp.proj", TENSOR_G, "fp8e5m2"},   {"mlp.proj", TENSOR_WG, "fp32"},
        {"mlp.proj", TENSOR_U, "fp32"},      {"attn.scores", TENSOR_A, "bf16"},
        {"lm_head", TENSOR_W, "bf16"},       {"ln", TENSOR_A, "bf16"}};
    expect_fmts(&t, want, sizeof want / sizeof want[0]);
    static const overhead_want ovh[] = {{"fp8-cast", 43008, 12}, {"amax-history", 18459, 32}};
    expect_overheads(&t, ovh, 2);
    trace_free(&t);
    const char *p[] = {"format=e4m3", "head=none", "history=16"};
    gen_llm(&t, "fp8", p, 3);
    expect_fmt(&t, "mlp.proj", TENSOR_G, "fp8e4m3");
    expect_fmt(&t, "lm_head", TENSOR_W, "fp8e4m3");
    /* lm_head adds W 6400 + A 512 + G 2*400 = 7712 cast ops and 3 tensors */
    cr_expect_eq(overhead_of(&t, "fp8-cast").ops, 43008 + 7712);
    cr_expect_eq(overhead_of(&t, "amax-history").ops, 12 * (2 * 16 + 3));
    trace_free(&t);
}

/* MX (Rouhani et al. 2023 sec. 6 presets: every matmul's inputs quantized, attention's
 * included; mxfp8, the TE/Mishra et al. recipe: attention bf16). Casts, two copies of N + N/32
 * ops: linear elements 43008 (above), scores W 2*64*4 + A 2*256 + G 2*16 = 1056, context
 * 2*4*64 + 2*16 + 2*256 = 1056. With the matmuls: 45120 x 2 x 33/32 = 93060; linear only
 * (mxfp8): 43008 x 2 x 33/32 = 88704. Traffic: 16 bits read + two copies written at 8.25 =
 * 32.5 bits per element, 32.5 / (2 x 2 x 33/32) = 7.88: width 8. matmul=quantized puts
 * mxfp8's attention matmuls back in MXFP8 (93060). */
Test(scheme_llm, mx_presets_and_overheads)
{
    static const struct {
        const char *preset, *w, *a, *g, *attn;
        uint64_t cast_ops;
    } want[] = {{"mxfp8", "mxfp8e4m3", "mxfp8e4m3", "mxfp8e4m3", "bf16", 88704},
                {"mxfp6", "mxfp6e3m2", "mxfp6e3m2", "mxfp6e3m2", "mxfp6e3m2", 93060},
                {"mxfp6-fwd", "mxfp6e3m2", "mxfp6e3m2", "mxfp8e5m2", "mxfp6e3m2", 93060},
                {"mxfp4", "mxfp4", "mxfp6e3m2", "mxfp6e3m2", "mxfp6e3m2", 93060}};
    for (size_t i = 0; i < 4; i++) {
        char param[64];
        snprintf(param, sizeof param, "preset=%s", want[i].preset);
        const char *p[] = {param};
        trace t;
        gen_llm(&t, "mx", p, 1);
        expect_fmt(&t, "mlp.fc", TENSOR_W, want[i].w);
        expect_fmt(&t, "mlp.fc", TENSOR_A, want[i].a);
        expect_fmt(&t, "attn.q", TENSOR_G, want[i].g);
        expect_fmt(&t, "attn.context", TENSOR_A, want[i].attn);
        expect_fmt(&t, "lm_head", TENSOR_A, "bf16");
        expect_fmt(&t, "attn.softmax", TENSOR_A, "bf16");
        cr_expect_eq(overhead_of(&t, "mx-cast").ops, want[i].cast_ops, "%s", want[i].preset);
        if (i == 0)
            cr_expect_eq(overhead_of(&t, "mx-cast").bits, 8);
        trace_free(&t);
    }
    const char *p[] = {"preset=mxfp8", "matmul=quantized"};
    trace t;
    gen_llm(&t, "mx", p, 2);
    expect_fmt(&t, "attn.context", TENSOR_A, "mxfp8e4m3");
    cr_expect_eq(overhead_of(&t, "mx-cast").ops, 93060);
    trace_free(&t);
}

/* NVFP4 (NVIDIA 2025): 4 linear layers; bf16_first 2/62 of 4 rounds to 0, bf16_last 8/62
 * of 4 to 1 (lm_head, also the head pattern); matmuls bf16. Casts: 2 x (N + 2N/16) + N =
 * 3.25 N over the 43008 elements = 139776; Hadamard pass over A and G: attn.q 512 + 512,
 * mlp.fc 512 + 2048, mlp.proj 2048 + 512 = 6144. Cast traffic per element: amax read 16,
 * cast read 16, two copies at 4.5 = 41 bits over 3.25 ops: width round(41 / 6.5) = 6.
 * bf16_first=0.25 keeps attn.q bf16 too. */
Test(scheme_llm, nvfp4_layers_and_overheads)
{
    trace t;
    gen_llm(&t, "nvfp4", NULL, 0);
    static const fmt_want want[] = {
        {"attn.q", TENSOR_W, "nvfp4"}, {"mlp.proj", TENSOR_G, "nvfp4"},
        {"lm_head", TENSOR_W, "bf16"}, {"attn.scores", TENSOR_A, "bf16"}};
    expect_fmts(&t, want, sizeof want / sizeof want[0]);
    static const overhead_want ovh[] = {{"nvfp4-cast", 139776, 6}, {"rht", 6144, 16}};
    expect_overheads(&t, ovh, 2);
    trace_free(&t);
    const char *p[] = {"bf16_first=0.25", "rht=0"};
    gen_llm(&t, "nvfp4", p, 2);
    expect_fmt(&t, "attn.q", TENSOR_W, "bf16");
    expect_fmt(&t, "mlp.fc", TENSOR_W, "nvfp4");
    cr_expect_eq(overhead_of(&t, "rht").ops, 0);
    trace_free(&t);
}

/* bf16: every tensor bf16 but WG and U; CPT's cyclic schedule on the decoder's MAC layers
 * (linear=quantized: a transformer has no convs) cycles their W and A. */
Test(scheme_llm, bf16_baseline_and_cpt_on_a_transformer)
{
    trace t;
    gen_llm(&t, "bf16", NULL, 0);
    expect_fmt(&t, "attn.q", TENSOR_W, "bf16");
    expect_fmt(&t, "ln", TENSOR_G, "bf16");
    expect_fmt(&t, "lm_head", TENSOR_WG, "fp32");
    cr_expect_eq(t.n_overheads, 0);
    trace_free(&t);
    const char *p[] = {"linear=quantized", "cycles=1"};
    gen_llm(&t, "cpt", p, 2);
    /* 10 iterations, P = 10: b(0) = bmin = 3 */
    expect_fmt(&t, "mlp.fc", TENSOR_W, "int3");
    expect_fmt(&t, "attn.scores", TENSOR_A, "int3");
    expect_fmt(&t, "mlp.fc", TENSOR_G, "int8");
    trace_free(&t);
}

/* nonmac (issue 12): the precision of the layers between the MAC layers is the scheme's
 * decision. Default fp32 (CPT's, FracTrain's, MuPPET's and AdaPT's PyTorch code leave
 * nn.BatchNorm2d, ReLU and the residual add unquantized): bn, relu and add stay fp32 while
 * the convs cycle; nonmac=int8 puts W, A, G and WG of every non-MAC layer at int8 from
 * iteration 0, and leaves the MAC layers' decisions alone; a bad format is a usage error. */
Test(scheme, nonmac_precision_parameter)
{
    static const char *const schemes[] = {"cpt", "fractrain-pfq", "muppet", "adapt"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        trace d, q;
        gen_ok(&d, schemes[i], NULL, 0, 0);
        const char *p8[] = {"nonmac=int8"};
        gen_ok(&q, schemes[i], p8, 1, 0);
        const trace_segment *s = trace_segment_at(&d, layer("layer1.0.bn1"), 0);
        cr_expect(s->d->fmt[TENSOR_A].kind == NUM_FP && s->d->fmt[TENSOR_A].bits == 32, "%s",
                  schemes[i]);
        static const char *const nonmac[] = {"layer1.0.bn1", "layer1.0.relu1", "layer1.0.add"};
        for (size_t k = 0; k < 3; k++)
            for (int c = TENSOR_W; c <= TENSOR_WG; c++) {
                const trace_segment *g = trace_segment_at(&q, layer(nonmac[k]), 100);
                cr_expect(g->d->fmt[c].kind == NUM_INT && g->d->fmt[c].bits == 8, "%s %s %s",
                          schemes[i], nonmac[k], trace_tensor_name((tensor_class)c));
            }
        cr_expect_eq(bits_at(&q, "layer1.0.conv1", TENSOR_A, 1000),
                     bits_at(&d, "layer1.0.conv1", TENSOR_A, 1000), "%s", schemes[i]);
        cr_expect(strstr(q.params, "nonmac=int8"), "%s: %s", schemes[i], q.params);
        trace_free(&d);
        trace_free(&q);
    }
    trace t;
    bs_error e;
    const char *bad[] = {"nonmac=int99"};
    cr_expect_eq(gen(&t, "cpt", bad, 1, 0, 1, &e), BS_EUSAGE);
    cr_expect(strstr(e.msg, "nonmac"), "%s", e.msg);
}
