/* scheme.c — the generator table: what each published scheme decides, per layer and iteration.
 *
 * Every generator starts from the default decision (all fp32, dense) and emits only changes
 * through trace_set, so a scheme that switches precision a few times costs a few segments and
 * CPT's per-iteration schedule costs one segment per change of its rounded bit-width
 * (~6 per cycle), not one per iteration. Which layers a scheme quantizes follows its public
 * code or paper (noted per scheme); layers it leaves alone (mostly norms, pooling,
 * activations, adds, and where noted the final linear layer; SBM quantizes them all) stay
 * fp32. Overhead work (gradient-diversity and KL checks) is recorded as overhead records with
 * the op counts stated at each generator. Parameters are "k=v"; every resolved value
 * (defaults included) is written to the trace's params header line.
 */
#include "scheme.h"

#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "text.h"
#include "trace_build.h"

#define LIST_MAX 16

typedef struct scheme_ctx {
    const scheme_info *info;
    const model *m;
    char values[SCHEME_PARAMS_MAX][128];    /* resolved, in table order */
    uint64_t total, ipe, epochs, seed;
} scheme_ctx;

/* ---- parameter access ------------------------------------------------------------------ */

static int param_index(const scheme_info *s, const char *name)
{
    for (int i = 0; i < SCHEME_PARAMS_MAX && s->params[i].name; i++)
        if (strcmp(s->params[i].name, name) == 0)
            return i;
    return -1;
}

static const char *pstr(const scheme_ctx *c, const char *name)
{
    int i = param_index(c->info, name);
    return i >= 0 ? c->values[i] : "";
}

static void pset(scheme_ctx *c, const char *name, const char *value)
{
    int i = param_index(c->info, name);
    if (i >= 0)
        snprintf(c->values[i], sizeof c->values[i], "%s", value);
}

static int param_u64(const scheme_ctx *c, const char *name, uint64_t min, uint64_t max,
                     uint64_t *out, bs_error *e)
{
    const char *v = pstr(c, name);
    if (!text_parse_u64(v, min, max, out))
        return err_set(e, BS_EUSAGE, "scheme %s: parameter %s='%s' must be an integer in "
                       "%llu..%llu", c->info->name, name, v, (unsigned long long)min,
                       (unsigned long long)max);
    return BS_OK;
}

static int param_double(const scheme_ctx *c, const char *name, double min, double max,
                        double *out, bs_error *e)
{
    const char *v = pstr(c, name);
    if (!text_parse_double(v, min, max, out))
        return err_set(e, BS_EUSAGE, "scheme %s: parameter %s='%s' must be a number in "
                       "[%g, %g]", c->info->name, name, v, min, max);
    return BS_OK;
}

/* Comma-separated unsigned list, each in min..max; *n entries. */
static int param_list(const scheme_ctx *c, const char *name, uint64_t min, uint64_t max,
                      uint64_t *out, size_t *n, bs_error *e)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", pstr(c, name));
    *n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*n == LIST_MAX || !text_parse_u64(tok, min, max, &out[*n]))
            return err_set(e, BS_EUSAGE, "scheme %s: parameter %s='%s' must be a list of at "
                           "most %d integers in %llu..%llu separated by ','", c->info->name,
                           name, pstr(c, name), LIST_MAX, (unsigned long long)min,
                           (unsigned long long)max);
        (*n)++;
    }
    if (*n == 0)
        return err_set(e, BS_EUSAGE, "scheme %s: parameter %s is empty", c->info->name, name);
    return BS_OK;
}

static int param_format(const scheme_ctx *c, const char *name, num_format *f, bs_error *e)
{
    const char *why = "invalid";
    if (!numfmt_parse(pstr(c, name), f, &why))
        return err_set(e, BS_EUSAGE, "scheme %s: parameter %s='%s': %s", c->info->name, name,
                       pstr(c, name), why);
    return BS_OK;
}

static int param_choice(const scheme_ctx *c, const char *name, const char *const *choices,
                        int *out, bs_error *e)
{
    int i = text_lookup(choices, pstr(c, name));
    if (i < 0) {
        char list[128];
        text_join(choices, "|", list, sizeof list);
        return err_set(e, BS_EUSAGE, "scheme %s: parameter %s='%s' must be one of %s",
                       c->info->name, name, pstr(c, name), list);
    }
    *out = i;
    return BS_OK;
}

/* ---- layer picks and changes ----------------------------------------------------------- */

static bool pick_mac(const model_layer *l, void *ctx)
{
    (void)ctx;
    return model_layer_is_mac(l);
}

static bool pick_conv(const model_layer *l, void *ctx)
{
    (void)ctx;
    return l->kind == LAYER_CONV;
}

static num_format fmt_int(unsigned bits)
{
    num_format f = {0};
    f.kind = NUM_INT;
    f.bits = (uint8_t)bits;
    return f;
}

static num_format fmt_fx(unsigned bits, int frac)
{
    num_format f = {0};
    f.kind = NUM_FX;
    f.bits = (uint8_t)bits;
    f.frac_bits = (int8_t)frac;
    return f;
}

static num_format fmt_bfp_tensor(unsigned bits)
{
    num_format f = {0};
    f.kind = NUM_BFP;
    f.bits = (uint8_t)bits;
    f.exp_bits = 8;     /* one shared 8-bit exponent (scale) per tensor */
    return f;
}

/* A change setting the tensors in `which` (bit c = tensor_class c) to f. */
static trace_change change_fmt(unsigned which, num_format f)
{
    trace_change ch;
    memset(&ch, 0, sizeof ch);
    for (int k = 0; k < TENSOR_COUNT; k++)
        if (which & (1u << k)) {
            ch.mask |= TRACE_CH_FMT(k);
            ch.d.fmt[k] = f;
        }
    return ch;
}

#define T_W (1u << TENSOR_W)
#define T_A (1u << TENSOR_A)
#define T_G (1u << TENSOR_G)
#define T_WG (1u << TENSOR_WG)
#define T_U (1u << TENSOR_U)

static uint64_t epoch_iter(const scheme_ctx *c, uint64_t epoch)
{
    uint64_t it;
    if (!checked_mul(epoch, c->ipe, &it) || it > c->total)
        return c->total;
    return it;
}

#define NONMAC_HELP "format of norm, activation, add and pool layers (fp32: the public code; int8: Range BN)"

static const char *const linear_choices[] = {"fp32", "quantized", NULL};

static bool pick_nonmac(const model_layer *l, void *ctx)
{
    (void)ctx;
    return !model_layer_is_mac(l);
}

/* The precision of the work between the MAC layers (norm, activation, residual add, pooling)
 * is the scheme's decision (issue 12): parameter nonmac, a format for W (norm affine), A, G
 * and WG of every non-MAC layer from iteration 0 on. The default fp32 is what the public
 * PyTorch code of CPT, FracTrain, MuPPET and AdaPT runs (nn.BatchNorm2d, ReLU and the
 * residual add untouched by their quantizers); int8 is SBM's Range BN. */
static int apply_nonmac(trace *t, scheme_ctx *c, bs_error *e)
{
    num_format f;
    int rc = param_format(c, "nonmac", &f, e);
    if (rc || (f.kind == NUM_FP && f.bits == 32 && f.exp_bits == 8))
        return rc;
    trace_change ch = change_fmt(T_W | T_A | T_G | T_WG, f);
    return trace_set_where(t, 0, pick_nonmac, NULL, &ch, e);
}

/* ---- fp32 ------------------------------------------------------------------------------ */

static int gen_fp32(trace *t, scheme_ctx *c, bs_error *e)
{
    (void)t;
    (void)c;
    (void)e;
    return BS_OK;   /* the default decision is the fp32 baseline */
}

/* ---- static (SBM and friends) ---------------------------------------------------------- */

typedef struct static_preset {
    const char *name;
    const char *fmt[TENSOR_COUNT];
    const char *layers;     /* which layers the preset quantizes (static_layer_choices) */
} static_preset;

/* sbm: Banner, Hubara, Hoffer, Soudry, "Scalable Methods for 8-bit Training of Neural
 * Networks", NeurIPS 2018 (arXiv 1805.11046). Its section "Range Batch-Normalization" makes
 * batch norm tolerate 8-bit inputs (it normalises by the range, max - min, instead of the
 * standard deviation), and its abstract states the result: weights, activations and "a
 * substantial volume of the gradients stream, in all layers (including batch
 * normalization)" at 8 bits, GEMMLOWP-style (int8 with a per-tensor range), "leaving at a
 * higher precision only the final step in the computation of the weight gradients". So W, A
 * and G are int8 in EVERY layer (layers=all: conv, linear, batch norm and the ReLU, add and
 * pool activations between them; the norm's gamma/beta are its W), the weight gradient WG
 * is 16 bits, and the master weights U stay fp32.
 * Its section "Quantized Back-Propagation" (Gradients Bifurcation) keeps TWO copies of each
 * layer gradient: an 8-bit one for the next layer's back-propagation (dX = G . W^T) and a
 * 16-bit one for the weight-gradient GEMM (dW = A^T . G). A trace says so with G=int8 (read
 * by BWD_DATA) and GW=int16 (the gradient as BWD_WEIGHT reads it, traces/FORMAT.md
 * "Fields"), so SBM's weight-gradient pass is costed at 8 x 16 bits, as the paper runs it.
 * A preset's NULL format means "the same as G" (fp16 does not bifurcate: GW = G).
 * fp16: Micikevicius et al., "Mixed Precision Training", ICLR 2018: fp16 everywhere but the
 * fp32 master weights, applied to the MAC layers only (sec. 3.3 computes the batch-norm and
 * softmax reductions in fp32, though their tensors are read and written as fp16; a trace
 * cannot split a layer's arithmetic from its storage, so those layers stay fp32). */
static const static_preset static_presets[] = {
    /*       W       A       G       WG       U       GW */
    {"sbm", {"int8", "int8", "int8", "int16", "fp32", "int16"}, "all"},
    {"fp16", {"fp16", "fp16", "fp16", "fp16", "fp32", NULL}, "mac"},
};
static const char *const static_preset_names[] = {"sbm", "fp16", NULL};
enum { STATIC_LAYERS_MAC, STATIC_LAYERS_CONV, STATIC_LAYERS_ALL };
static const char *const static_layer_choices[] = {"mac", "conv", "all", NULL};

static int gen_static(trace *t, scheme_ctx *c, bs_error *e)
{
    static bool (*const picks[])(const model_layer *, void *) = {
        [STATIC_LAYERS_MAC] = pick_mac, [STATIC_LAYERS_CONV] = pick_conv,
        [STATIC_LAYERS_ALL] = NULL,     /* trace_set_where: every layer */
    };
    int preset, layers, rc;
    if ((rc = param_choice(c, "preset", static_preset_names, &preset, e)))
        return rc;
    if (strcmp(pstr(c, "layers"), "preset") == 0)
        pset(c, "layers", static_presets[preset].layers);
    if ((rc = param_choice(c, "layers", static_layer_choices, &layers, e)))
        return rc;
    trace_change ch;
    memset(&ch, 0, sizeof ch);
    for (int k = 0; k < TENSOR_COUNT; k++) {
        const char *name = trace_tensor_name((tensor_class)k);
        const char *preset_fmt = static_presets[preset].fmt[k];
        if (strcmp(pstr(c, name), "preset") == 0)   /* G resolves before GW (enum order) */
            pset(c, name, preset_fmt ? preset_fmt : pstr(c, "G"));
        if ((rc = param_format(c, name, &ch.d.fmt[k], e)))
            return rc;
        ch.mask |= TRACE_CH_FMT(k);
    }
    return trace_set_where(t, 0, picks[layers], NULL, &ch, e);
}

/* ---- CPT ------------------------------------------------------------------------------- */

/* Fu et al., "CPT: Efficient Deep Neural Network Training via Cyclic Precision", ICLR 2021,
 * sec. 3.2 Eq. 1, exactly as GATECH-EIC/CPT cpt_cifar/train.py cyclic_adjust_precision():
 *   num_bits = np.rint(min + 0.5*(max-min)*(1 + np.cos(np.pi*((i % P)/P) + np.pi)))
 * with P = int(iters / num_cyclic_period), evaluated before iteration i runs (i from 0).
 * np.rint rounds half to even, as C's rint() does in the default rounding mode. */
unsigned scheme_cpt_bits(uint64_t t, uint64_t period, unsigned bmin, unsigned bmax)
{
    double phase = (double)(t % period) / (double)period;
    double b = bmin + 0.5 * (double)(bmax - bmin) * (1.0 + cos(M_PI * phase + M_PI));
    return (unsigned)rint(b);
}

/* CPT's README: forward (weights and activations) cycles 3..8 bits, backward (gradients)
 * fixed at 8 ("--cyclic_num_bits_schedule 3 8 --cyclic_num_grad_bits_schedule 8 8
 * --num_cyclic_period 32"); the grad schedule 8 8 makes cyclic_adjust_precision's second
 * rint() constant 8. Checked in GATECH-EIC/CPT:
 * - Layers (cpt_cifar/models.py): conv3x3() and conv() build QConv2d, used for the first
 *   conv (ResNet.conv1 = conv3x3(3, 16)), every block conv and the 1x1 downsample convs; the
 *   classifier self.fc is a plain nn.Linear and stays fp32 (linear=fp32, the default).
 * - Tensors (cpt_cifar/modules/quantize.py QConv2d.forward): the weights (range per output
 *   channel) and the input are uniformly quantized to num_bits with a range and zero point
 *   (int here), the output gradient G to num_grad_bits by quantize_grad; the weight gradient
 *   that conv backward produces from them and the SGD update stay fp32.
 * - Period: train.py run_training uses P = int(args.iters / num_cyclic_period) with
 *   --iters the run's length in iterations (64000 by default); bitsim uses the trace's total
 *   iterations, epochs x iterations per epoch.
 * - Cost: the training-cost ratio the same loop logs is metrics.c's cpt_cost_ratio.
 * - Transformers: the paper also trains a Transformer on WikiText-103 (README "Experimental
 *   Results"), but the repository has no code for it, so which of its layers ran quantized is
 *   not public. On a transformer (no convs) linear=quantized applies the same schedule to every
 *   MAC layer — the linear layers and attention's matmuls — an assumption; norms, softmax and
 *   the rest stay fp32 as on CIFAR. */
static int gen_cpt(trace *t, scheme_ctx *c, bs_error *e)
{
    uint64_t n_cycles, bmin, bmax, gbits;
    int linear, rc;
    if ((rc = param_u64(c, "cycles", 1, 1000000, &n_cycles, e)) ||
        (rc = param_u64(c, "bmin", 1, 32, &bmin, e)) ||
        (rc = param_u64(c, "bmax", 1, 32, &bmax, e)) ||
        (rc = param_u64(c, "gbits", 1, 32, &gbits, e)) ||
        (rc = param_choice(c, "linear", linear_choices, &linear, e)))
        return rc;
    if (bmin > bmax)
        return err_set(e, BS_EUSAGE, "scheme cpt: bmin %llu exceeds bmax %llu",
                       (unsigned long long)bmin, (unsigned long long)bmax);
    uint64_t period = c->total / n_cycles;
    if (period == 0)
        return err_set(e, BS_EUSAGE, "scheme cpt: %llu iterations are fewer than %llu cycles",
                       (unsigned long long)c->total, (unsigned long long)n_cycles);
    bool (*pick)(const model_layer *, void *) = linear ? pick_mac : pick_conv;
    trace_change g = change_fmt(T_G, fmt_int((unsigned)gbits));
    if ((rc = trace_set_where(t, 0, pick, NULL, &g, e)))
        return rc;
    unsigned prev = 0;
    for (uint64_t it = 0; it < c->total; it++) {
        unsigned b = scheme_cpt_bits(it, period, (unsigned)bmin, (unsigned)bmax);
        if (b == prev)
            continue;
        trace_change ch = change_fmt(T_W | T_A, fmt_int(b));
        if ((rc = trace_set_where(t, it, pick, NULL, &ch, e)))
            return rc;
        prev = b;
    }
    return BS_OK;
}

/* ---- FracTrain PFQ --------------------------------------------------------------------- */

/* Fu et al., "FracTrain: Fractionally Squeezing Bit Savings Both Temporally and Spatially for
 * Efficient DNN Training", NeurIPS 2020, sec. 3.1 (PFQ, Alg. 1); public code
 * GATECH-EIC/FracTrain, fractrain_cifar/train_pfq.py, checked:
 * - Stages: README example --num_bits_schedule 3 4 6 8 (forward: W, A) and
 *   --num_grad_bits_schedule 6 6 8 8 (backward: G), --num_turning_point 3;
 *   adaptive_adjust_precision sets num_bits/num_grad_bits = schedule[turning_point_count]
 *   before every iteration.
 * - Turning points: loss_diff_indicator, evaluated every eval_every = 400 iterations (the
 *   code's "epoch"): once it holds epoch_keep = 5 epoch losses, a turning point is found when
 *   every |loss_i - loss_now| / scale_loss is within the threshold (--initial_threshold,
 *   default 0.15, README 0.05), which then decays by --decay (default 0.4, README 0.3).
 *   A trace generator cannot run that indicator on a loss, so the turning points are given
 *   as epochs (switch=E1,E2,E3); the default "auto" puts them at 1/4, 2/4, 3/4 of the run
 *   (an assumption, stated in the params line).
 * - Layers (fractrain_cifar/models.py ResNet): as in CPT, every conv is a QConv2d (the first
 *   one built with fix_prec=True) and the fc a plain nn.Linear (fp32).
 * - Tensors (fractrain_cifar/modules/quantize.py QConv2d.forward): the first conv (fix_prec,
 *   no per-tensor flags set) quantizes input and weights to num_bits and G to num_grad_bits,
 *   as CPT does. Deviation: for the other convs the public code quantizes the input to
 *   num_bits and G to num_grad_bits but the WEIGHTS to --weight_bits, a separate flag whose
 *   default 0 gives UniformQuantize qmin = qmax (no representable step) and which the README
 *   command does not set; bitsim follows the paper's Alg. 1, weights at the stage's forward
 *   precision like the activations.
 * - Cost: train_pfq.py logs the same fw/eb/gc ratio as CPT (metrics.c cpt_cost_ratio). */
static int gen_pfq(trace *t, scheme_ctx *c, bs_error *e)
{
    uint64_t fw[LIST_MAX], bw[LIST_MAX], sw[LIST_MAX];
    size_t nfw, nbw, nsw;
    int linear, rc;
    if ((rc = param_list(c, "fw", 1, 32, fw, &nfw, e)) ||
        (rc = param_list(c, "bw", 1, 32, bw, &nbw, e)) ||
        (rc = param_choice(c, "linear", linear_choices, &linear, e)))
        return rc;
    if (nfw != nbw)
        return err_set(e, BS_EUSAGE, "scheme fractrain-pfq: fw and bw need the same number of "
                       "stages (%zu vs %zu)", nfw, nbw);
    if (strcmp(pstr(c, "switch"), "auto") == 0) {
        char buf[128] = "";
        for (size_t k = 1; k < nfw; k++)
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%llu", k > 1 ? "," : "",
                     (unsigned long long)(c->epochs * k / nfw));
        pset(c, "switch", nfw > 1 ? buf : "none");
    }
    nsw = 0;
    if (strcmp(pstr(c, "switch"), "none") != 0 &&
        (rc = param_list(c, "switch", 0, UINT32_MAX, sw, &nsw, e)))
        return rc;
    if (nsw != nfw - 1)
        return err_set(e, BS_EUSAGE, "scheme fractrain-pfq: %zu stages need %zu switch epochs, "
                       "got %zu", nfw, nfw - 1, nsw);
    for (size_t k = 1; k < nsw; k++)
        if (sw[k] <= sw[k - 1])
            return err_set(e, BS_EUSAGE, "scheme fractrain-pfq: switch epochs must increase");
    bool (*pick)(const model_layer *, void *) = linear ? pick_mac : pick_conv;
    for (size_t k = 0; k < nfw; k++) {
        uint64_t it = k ? epoch_iter(c, sw[k - 1]) : 0;
        if (it >= c->total)
            break;  /* a stage the run never reaches */
        trace_change ch = change_fmt(T_W | T_A, fmt_int((unsigned)fw[k]));
        trace_change g = change_fmt(T_G, fmt_int((unsigned)bw[k]));
        if ((rc = trace_set_where(t, it, pick, NULL, &ch, e)) ||
            (rc = trace_set_where(t, it, pick, NULL, &g, e)))
            return rc;
    }
    return BS_OK;
}

/* ---- MuPPET ---------------------------------------------------------------------------- */

/* Rajagopal, Vink, Venieris, Bouganis, "Multi-Precision Policy Enforced Training (MuPPET)",
 * ICML 2020, sec. 3-4; public code ICIdsl/muppet (checked file by file):
 * - Format: quantize.py Quantizer.quantize_inputs/scale/findSfAndScale is dynamic fixed
 *   point: a B-bit signed integer per element and ONE power-of-two scale factor per tensor
 *   (sf = floor(log2(min(maxVal/max, minVal/min)))), stochastic rounding (Round_Meth).
 *   bitsim writes it as bfpB/e8: B-bit mantissas, one shared exponent per whole tensor.
 * - Which tensors and layers: models/cifar/resnet.py builds every conv (the first one and
 *   the 1x1 downsample included) as QuantConv2d and the classifier as QuantLinear;
 *   quant_layers.py forward() quantizes each such layer's OUTPUT (and QuantAvgPool2d's,
 *   which is the fc's input; the network input, conv1's, is quantized per sample in
 *   training.py batch_iter), scaler.py backward_quantize_hook quantizes every quant layer's
 *   grad_input (the gradient it passes back and its weight gradient WG), quant_sgd.py step()
 *   quantizes p.grad (WG) and re-quantizes the weights from the fp32 master copy fpWeights
 *   (W; U stays fp32). bitsim puts W, A, G and WG of every conv and linear layer at the
 *   level's format: the paper's view of a quantized MAC. Deviation: in the code an fp32
 *   batch norm, ReLU and residual add sit between one conv's quantized output and the next
 *   conv's input (and between a conv's quantized grad_input and the previous conv's output
 *   gradient), so those MAC operands are off the B-bit grid in the PyTorch emulation; a
 *   B-bit accelerator would fold the norm and run them at B bits, as costed here. The
 *   batch-norm parameters' gradients that quant_sgd also quantizes stay fp32 (tiny).
 * - Ladder: the configs/ .ini files, Prec_Schedule 8 12 14 16 -1 (-1 = fp32). The switches are made at
 *   run time by policy.py check_violation (gradient diversity, Policy_Resolution 3,
 *   Policy_Patience 2), so the public code has no epochs per level. The default 22, 22, 10,
 *   15 quantized epochs then 45 fp32 are MuPPET's published CIFAR-10 ResNet-20 run, as
 *   AdaPT's code (lorenz0890/AdaPT utils/analytics.py run_analysitcs, gen_json "MuPPET
 *   results from paper") encodes it; 45 fp32 epochs also follow from ICIdsl/muppet's
 *   check_stopping_condition: Fp32_Epochs_Per_Lr 15 at each of lr 0.1, 0.01, 0.001 (Gamma
 *   0.1, Min_LR 0.001). Total 114 epochs. Switch epochs may be given instead (switch=E1,...):
 *   the epoch at which each next level starts.
 * - Overhead, policy.py, called from training.py train_network once per EPOCH (after its
 *   last mini-batch), in every epoch including the fp32 ones: update() adds each
 *   parameter's squared gradient norm and the gradient itself to running sums, 3 fp32 ops
 *   per parameter ("gd-accumulate", at the epoch's last iteration); check_violation(), when
 *   (epoch + 1) % Policy_Resolution == 0 and the data type is not Float, computes
 *   ||sum of grads||^2 per parameter tensor (2 ops per parameter) and one ratio per tensor
 *   ("gd-check", same iteration). Parameters: all of the model's (named_parameters). */
static uint64_t muppet_epochs(const scheme_ctx *c)
{
    uint64_t per[LIST_MAX], fp32 = 0, sum = 0;
    size_t n;
    if (param_list(c, "epochs_per_level", 0, 100000, per, &n, NULL) ||
        !text_parse_u64(pstr(c, "fp32_epochs"), 0, 100000, &fp32))
        return 114;
    for (size_t k = 0; k < n; k++)
        sum += per[k];
    return sum + fp32 ? sum + fp32 : 1;
}

static int gen_muppet(trace *t, scheme_ctx *c, bs_error *e)
{
    uint64_t lv[LIST_MAX], per[LIST_MAX], sw[LIST_MAX], fp32_epochs, res;
    size_t nlv, nper, nsw;
    int rc;
    if ((rc = param_list(c, "levels", 1, 32, lv, &nlv, e)) ||
        (rc = param_list(c, "epochs_per_level", 0, 100000, per, &nper, e)) ||
        (rc = param_u64(c, "fp32_epochs", 0, 100000, &fp32_epochs, e)) ||
        (rc = param_u64(c, "resolution", 1, 100000, &res, e)))
        return rc;
    if (strcmp(pstr(c, "switch"), "none") != 0) {
        if ((rc = param_list(c, "switch", 0, UINT32_MAX, sw, &nsw, e)))
            return rc;
        if (nsw != nlv)
            return err_set(e, BS_EUSAGE, "scheme muppet: %zu levels need %zu switch epochs "
                           "(the start of each next level, the last one fp32), got %zu", nlv,
                           nlv, nsw);
        for (size_t k = 0; k < nsw; k++)
            if (sw[k] == 0 || (k && sw[k] <= sw[k - 1]))
                return err_set(e, BS_EUSAGE, "scheme muppet: switch epochs must increase "
                               "from at least 1");
    } else {
        if (nper != nlv)
            return err_set(e, BS_EUSAGE, "scheme muppet: %zu levels need %zu epochs_per_level",
                           nlv, nlv);
        uint64_t acc = 0;
        for (size_t k = 0; k < nlv; k++)
            sw[k] = acc += per[k];
        nsw = nlv;
    }
    for (size_t k = 0; k <= nlv; k++) {
        uint64_t it = k ? epoch_iter(c, sw[k - 1]) : 0;
        if (it >= c->total)
            break;
        if (k < nlv && sw[k] == (k ? sw[k - 1] : 0))
            continue;   /* a level of zero epochs */
        num_format f = k < nlv ? fmt_bfp_tensor((unsigned)lv[k]) : numfmt_fp32();
        trace_change ch = change_fmt(T_W | T_A | T_G | T_WG, f);
        if ((rc = trace_set_where(t, it, pick_mac, NULL, &ch, e)))
            return rc;
    }
    uint64_t quant_end = epoch_iter(c, sw[nlv - 1]);
    uint64_t params = model_params(c->m), tensors = 0, accum_ops, check_ops;
    for (uint32_t i = 0; i < c->m->n_layers; i++)
        tensors += c->m->layers[i].params > 0;
    if (!checked_mul(params, 3, &accum_ops) || !checked_mul(params, 2, &check_ops) ||
        !checked_add(check_ops, tensors, &check_ops))
        return err_set(e, BS_EINPUT, "scheme muppet: overhead op count overflows");
    for (uint64_t ep = 0; ep < c->epochs; ep++) {
        uint64_t end = epoch_iter(c, ep + 1);
        if (end == 0 || end == epoch_iter(c, ep))
            continue;
        if (accum_ops &&
            (rc = trace_add_overhead(t, end - 1, end, accum_ops, 32, "gd-accumulate", e)))
            return rc;
        if ((ep + 1) % res != 0 || end > quant_end)
            continue;
        if (check_ops && (rc = trace_add_overhead(t, end - 1, end, check_ops, 32, "gd-check", e)))
            return rc;
    }
    return BS_OK;
}

/* ---- AdaPT (synthetic policy) ---------------------------------------------------------- */

/* Kummer, Sidak, Reichmann, Gansterer, "Adaptive Precision Training (AdaPT): A dynamic fixed
 * point quantized training approach for DNNs", SDM 2023 (arXiv 2107.13490); public code
 * lorenz0890/AdaPT, checked file by file:
 * - Start and format: models/resnet_fp.py QResNet_FP(wl_start=8, fl_start=4): every layer
 *   fixed point <8,4> (qtorch fixed_point_quantize, stochastic rounding).
 * - Tensors: models/qlayers/qconvd2d_fp.py (and qlinear_fp.py ...) quantize the layer's
 *   input (quant_in, QUANT_INPUTS = True: A) and output at the layer's <WL,FL>;
 *   optimizers/msgd_fp.py step() quantizes p.grad (QUANT_GRADS: WG) and writes the updated
 *   fp32 master weights fpWeights back quantized (W; U stays fp32). No backward hook exists:
 *   the activation gradients G stay fp32 (parameter G=fp32, the default; G=quantized puts
 *   them at the layer's format too).
 * - Per-layer switching: msgd_fp.py step() collects each weight tensor's gradients; after
 *   lb of them (lookback, adapted between MIN_ and MAX_LOOKBACK 25..100 by gradient
 *   diversity, __adapt_lookback) it runs __push_down (bisection over FL then WL on the KL
 *   divergence of the weights' histogram with `res` bins, MIN_/MAX_RESOLUTION 50..150) and
 *   __push_up (gradient diversity), and sets the layer's <WL,FL>; the sparsity of the
 *   written-back weights is logged as 'sp' (density d = 1 - sp).
 * - Overhead: AdaPT's own performance model, utils/analytics.py marvin_step, per layer and
 *   check: 3 n bisect res d (push-down) + (lb + 1) n + 1 (push-up), with bisect =
 *   2 log2(wl - 8) if wl > 8 else 1 and n the layer's weight elements, counted at 32 bits
 *   ("marvin", one record per check summing the layers, rounded up to whole ops). res and lb
 *   default to the config's MAX_RESOLUTION 150 and MAX_LOOKBACK 100, the worst case
 *   marvin_step itself assumes when not given. Deviation: marvin_step's n ("tensordimsprod")
 *   is kh x kw x C_out for a conv (C_in left out) and the input size for a linear layer;
 *   bitsim uses the weight count, the work a push-down over the weights does.
 * - Layers: bitsim quantizes the conv and linear layers; AdaPT also gives its batch-norm
 *   and average-pooling layers a <WL,FL> (QBatchNorm2d_FP, QAvgPool2d_FP): they stay fp32
 *   here (their work is elementwise and small).
 * Without a real run this generator follows a documented SYNTHETIC policy, deterministic in
 * --seed (splitmix64): every `interval` epochs (AdaPT checks a layer after lb optimizer steps
 * of ACCUMULATION_STEPS 4 mini-batches, 400 iterations at lb 100, about one CIFAR epoch at
 * batch 128), for each MAC layer, draw u in [0,1): u < p_up raises WL by `step` (at most
 * wl_max), u > 1 - p_down lowers it by `step` (at least wl_min); FL = WL/2; dW is drawn
 * uniformly in [dw_min, 1] (two decimals); dA and dG are fixed parameters. Or it replays an
 * AdaPT-style log (log=FILE, see adapt_from_log). */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *s)
{
    return (double)(splitmix64(s) >> 11) * 0x1.0p-53;
}

/* AdaPT's marvin_step (utils/analytics.py): push-down + push-up ops of one layer's check;
 * 0 when it does not fit 63 bits. */
static uint64_t marvin_ops(uint64_t n, unsigned wl, double density, uint64_t res, uint64_t lb)
{
    double bisect = wl > 8 ? 2.0 * log2((double)(wl - 8)) : 1.0;
    double ops = ceil(3.0 * (double)n * bisect * (double)res * density +
                      (double)(lb + 1) * (double)n + 1.0);
    return ops < 0x1p63 ? (uint64_t)ops : 0;
}

typedef struct adapt_cfg {
    uint64_t res, lb;
    bool quant_g;
} adapt_cfg;

/* Adds one check's "marvin" record (ops summed over the layers) at iteration it. */
static int add_marvin(trace *t, uint64_t it, uint64_t ops, bs_error *e)
{
    if (ops == 0)
        return BS_OK;
    return trace_add_overhead(t, it, it + 1, ops, 32, "marvin", e);
}

/* The change putting a MAC layer at fx<wl,fl>: W, A, WG and, if asked, G. */
static trace_change adapt_change(unsigned wl, int fl, const adapt_cfg *cfg)
{
    return change_fmt(T_W | T_A | T_WG | (cfg->quant_g ? T_G : 0), fmt_fx(wl, fl));
}

/* An AdaPT-style log (our documented text form of what AdaPT's per-layer precision switches
 * record, its logged qwl, qfl and sp per layer): one line per (check, layer), '#' comments:
 *     EPOCH LAYER WL FL [DENSITY]
 * EPOCH non-decreasing and within the run, LAYER a MAC layer of the model, WL 1..32,
 * FL -64..127, DENSITY (of the weights) in [0,1]. The layer's tensors (adapt_change) use
 * fx<WL,FL> from the first iteration of EPOCH on; each epoch that has lines gets one "marvin"
 * record summing marvin_ops of its lines. */
static int adapt_from_log(trace *t, scheme_ctx *c, const char *path, const adapt_cfg *cfg,
                          bs_error *e)
{
    text_reader r;
    int rc = text_open_file(&r, path, e);
    if (rc)
        return rc;
    char *line;
    uint64_t last_epoch = 0, ops = 0;
    bool any = false;
    while ((rc = text_next_line(&r, &line, e)) == 1) {
        rc = BS_OK;
        char *tok[6];
        int nt = text_split(line, tok, 6);
        if (nt != 4 && nt != 5) {
            rc = err_at(e, path, r.line_no, NULL, "expected 'EPOCH LAYER WL FL [DENSITY]'");
            break;
        }
        uint64_t epoch, wl;
        int64_t fl;
        double dens = 1.0;
        int li = model_find_layer(c->m, tok[1]);
        if (!text_parse_u64(tok[0], 0, c->epochs - 1, &epoch))
            rc = err_at(e, path, r.line_no, "epoch", "'%s' is not an epoch of the run "
                        "(0..%llu)", tok[0], (unsigned long long)(c->epochs - 1));
        else if (any && epoch < last_epoch)
            rc = err_at(e, path, r.line_no, "epoch", "%s is out of order (previous %llu)",
                        tok[0], (unsigned long long)last_epoch);
        else if (li < 0 || !model_layer_is_mac(&c->m->layers[li]))
            rc = err_at(e, path, r.line_no, "layer", "'%s' is not a conv/linear/matmul layer "
                        "of model '%s'", tok[1], c->m->name);
        else if (!text_parse_u64(tok[2], 1, 32, &wl))
            rc = err_at(e, path, r.line_no, "wl", "word length '%s' out of range 1..32", tok[2]);
        else if (!text_parse_i64(tok[3], -64, 127, &fl))
            rc = err_at(e, path, r.line_no, "fl", "fractional bits '%s' out of range -64..127",
                        tok[3]);
        else if (nt == 5 && !text_parse_double(tok[4], 0.0, 1.0, &dens))
            rc = err_at(e, path, r.line_no, "density", "'%s' is not a number in [0,1]", tok[4]);
        if (rc)
            break;
        if (any && epoch != last_epoch) {
            if ((rc = add_marvin(t, epoch_iter(c, last_epoch), ops, e)))
                break;
            ops = 0;
        }
        uint64_t it = epoch_iter(c, epoch);
        uint64_t o = marvin_ops(c->m->layers[li].weight_elems, (unsigned)wl, dens, cfg->res,
                                cfg->lb);
        if (!checked_add(ops, o, &ops)) {
            rc = err_at(e, path, r.line_no, NULL, "overhead op count overflows");
            break;
        }
        trace_change ch = adapt_change((unsigned)wl, (int)fl, cfg);
        ch.mask |= TRACE_CH_DENSITY(0);
        ch.d.density[0] = dens;
        if ((rc = trace_set(t, it, (uint32_t)li, &ch, e)))
            break;
        last_epoch = epoch;
        any = true;
    }
    if (rc < 0)     /* a reader error (NUL byte, over-long line): e says which */
        rc = e ? e->code : BS_EINPUT;
    if (rc == BS_OK && any)
        rc = add_marvin(t, epoch_iter(c, last_epoch), ops, e);
    text_close(&r);
    return rc;
}

static const char *const adapt_g_choices[] = {"fp32", "quantized", NULL};

static int gen_adapt(trace *t, scheme_ctx *c, bs_error *e)
{
    uint64_t interval, step, wl_min, wl_max;
    double p_up, p_down, dw_min, da, dg;
    adapt_cfg cfg;
    int quant_g, rc;
    if ((rc = param_u64(c, "interval", 1, 100000, &interval, e)) ||
        (rc = param_u64(c, "step", 1, 16, &step, e)) ||
        (rc = param_u64(c, "wl_min", 2, 32, &wl_min, e)) ||
        (rc = param_u64(c, "wl_max", 2, 32, &wl_max, e)) ||
        (rc = param_double(c, "p_up", 0, 1, &p_up, e)) ||
        (rc = param_double(c, "p_down", 0, 1, &p_down, e)) ||
        (rc = param_double(c, "dw_min", 0, 1, &dw_min, e)) ||
        (rc = param_double(c, "dA", 0, 1, &da, e)) || (rc = param_double(c, "dG", 0, 1, &dg, e)) ||
        (rc = param_u64(c, "res", 1, 100000, &cfg.res, e)) ||
        (rc = param_u64(c, "lb", 1, 100000, &cfg.lb, e)) ||
        (rc = param_choice(c, "G", adapt_g_choices, &quant_g, e)))
        return rc;
    cfg.quant_g = quant_g == 1;
    if (wl_min > 8 || wl_max < 8 || wl_min > wl_max)
        return err_set(e, BS_EUSAGE, "scheme adapt: need wl_min <= 8 <= wl_max (AdaPT starts "
                       "at <8,4>)");
    if (strcmp(pstr(c, "log"), "none") != 0)
        return adapt_from_log(t, c, pstr(c, "log"), &cfg, e);
    uint64_t rng = c->seed;
    uint32_t n = c->m->n_layers;
    unsigned *wl = malloc((n ? n : 1) * sizeof *wl);
    if (!wl)
        return err_set(e, BS_EINTERNAL, "out of memory");
    for (uint32_t i = 0; i < n; i++)
        wl[i] = 8;
    rc = BS_OK;
    for (uint64_t ep = 0; ep < c->epochs && !rc; ep += interval) {
        uint64_t it = epoch_iter(c, ep), ops = 0;
        for (uint32_t i = 0; i < n && !rc; i++) {
            const model_layer *l = &c->m->layers[i];
            if (!model_layer_is_mac(l))
                continue;
            if (ep > 0) {
                double u = uniform01(&rng);
                if (u < p_up)
                    wl[i] = (unsigned)(wl[i] + step > wl_max ? wl_max : wl[i] + step);
                else if (u > 1.0 - p_down)
                    wl[i] = (unsigned)(wl[i] < wl_min + step ? wl_min : wl[i] - step);
            }
            trace_change ch = adapt_change(wl[i], (int)wl[i] / 2, &cfg);
            double dw = round((dw_min + (1.0 - dw_min) * uniform01(&rng)) * 100.0) / 100.0;
            ch.mask |= TRACE_CH_DENSITY(0) | TRACE_CH_DENSITY(1) | TRACE_CH_DENSITY(2);
            ch.d.density[0] = dw;
            ch.d.density[1] = da;
            ch.d.density[2] = dg;
            rc = trace_set(t, it, i, &ch, e);
            if (!rc && ep > 0 &&
                !checked_add(ops, marvin_ops(l->weight_elems, wl[i], dw, cfg.res, cfg.lb), &ops))
                rc = err_set(e, BS_EINPUT, "scheme adapt: overhead op count overflows");
        }
        if (!rc)
            rc = add_marvin(t, it, ops, e);
    }
    free(wl);
    return rc;
}

/* ---- SmaQ ------------------------------------------------------------------------------ */

/* Shoghi et al., "SmaQ: Smart Quantization for DNN Training by Exploiting Value Clustering",
 * IEEE Computer Architecture Letters 2021, sec. III, Eq. 4: a stored tensor keeps its mean and
 * standard deviation (2 x 32 = 64 bits), values within +-1 sigma of the mean at 6 bits and the
 * rest at 8 bits; footprint ratio = sum(64 + 6 N_in + 8 N_out) / sum(32 N). Assumption: the
 * values are Gaussian, so the inlier fraction is P(|x - mu| <= sigma) = erf(1/sqrt 2) =
 * 0.682689... Compute stays fp32: SmaQ is a memory-footprint decision on stored tensors.
 * Source check: SmaQ has no public code that could be found (searched by name and by its
 * figures), so Eq. 4 and the 6/8-bit split follow the paper as cited. Its abstract names the
 * data structures it studies: weights, gradients, feature maps, gradient maps and optimizer
 * state; which of them a run stores split is the `tensors` parameter, W,A,U by default (an
 * assumption: the long-lived and largest tensors; tensors=W,A,G,WG,U splits all five). */
static int gen_smaq(trace *t, scheme_ctx *c, bs_error *e)
{
    uint64_t in_bits, out_bits, hdr;
    double frac;
    int rc;
    if ((rc = param_u64(c, "inlier_bits", 1, 32, &in_bits, e)) ||
        (rc = param_u64(c, "outlier_bits", 1, 32, &out_bits, e)) ||
        (rc = param_u64(c, "header_bits", 0, 65535, &hdr, e)) ||
        (rc = param_double(c, "inlier_frac", 0, 1, &frac, e)))
        return rc;
    trace_change ch;
    memset(&ch, 0, sizeof ch);
    char buf[128];
    snprintf(buf, sizeof buf, "%s", pstr(c, "tensors"));
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int k = -1;
        for (int j = 0; j < TENSOR_COUNT; j++)
            if (strcmp(tok, trace_tensor_name((tensor_class)j)) == 0)
                k = j;
        if (k < 0)
            return err_set(e, BS_EUSAGE, "scheme smaq: tensors='%s': '%s' is not one of W, A, "
                           "G, WG, U", pstr(c, "tensors"), tok);
        ch.mask |= TRACE_CH_STORE(k);
        ch.d.store[k].inlier_bits = (uint8_t)in_bits;
        ch.d.store[k].outlier_bits = (uint8_t)out_bits;
        ch.d.store[k].header_bits = (uint16_t)hdr;
        ch.d.store[k].inlier_frac = frac;
    }
    if (!ch.mask)
        return err_set(e, BS_EUSAGE, "scheme smaq: tensors is empty");
    return trace_set_where(t, 0, NULL, NULL, &ch, e);
}

/* ---- LLM recipes: bf16, fp8, mx, nvfp4 ------------------------------------------------- */

/* What the four recipes share. Every recipe trains with fp32 master weights and weight
 * gradients accumulated in fp32 (U = WG = fp32: Megatron-LM's main_grad, which all four
 * sources train on or against); the non-MAC layers (norms, softmax, activations, adds,
 * embeddings, rotary) read and write bf16 tensors (the bf16 baseline around the quantized
 * GEMMs). A MAC layer's role decides its W, A and G:
 *   linear   the recipe's GEMM formats (LLM_LINEAR);
 *   matmul   the attention score/context batched matmuls: the recipe's choice (LLM_MATMUL);
 *   high     linear layers a recipe keeps in bf16 (the LM head `head`, NVFP4's first and
 *            last layers) (LLM_HIGH).
 * Overheads (quantization work, one record per label for the whole run, so a trace stays a
 * few lines however long the run): a cast of an N-element tensor to a scaled format is N ops
 * (one fused elementwise op per element: |x| into the amax, scale, convert — one kernel, as
 * Transformer Engine's cast kernels are), plus per block of a block-scaled format one op for
 * an E8M0 scale (exponent of the block amax) or two for E4M3 (amax / 6, convert). Its
 * traffic: the bf16 source read once (16 bits per element) per kernel, each copy written at
 * its format's storage width (fp8 8, MXFP8 8.25, NVFP4 4.5 ...). replay costs an overhead
 * record of `ops` ops of `bits` bits as an elementwise kernel that reads and writes `ops`
 * elements of `bits` bits (traces/FORMAT.md), so a cast record's bits is the width that makes
 * those two agree: bits = round(traffic / (2 x ops)), e.g. fp8 (16 + 8) / 2 = 12. */
enum { LLM_REST, LLM_LINEAR, LLM_MATMUL, LLM_HIGH, LLM_ROLES };

typedef struct llm_plan {
    const char *fmt[LLM_ROLES][3];  /* W, A, G per role */
    const char *head;               /* fnmatch pattern of linear layers kept bf16 */
    double high_first, high_last;   /* fractions of the linear layers kept bf16 */
} llm_plan;

static bool is_linear(const model_layer *l)
{
    return l->kind == LAYER_LINEAR;
}

static uint32_t count_linear(const model *m)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->n_layers; i++)
        n += is_linear(&m->layers[i]);
    return n;
}

static int llm_role(const scheme_ctx *c, const llm_plan *p, uint32_t i, uint32_t lin_index,
                    uint32_t n_linear)
{
    const model_layer *l = &c->m->layers[i];
    if (!model_layer_is_mac(l))
        return LLM_REST;
    if (l->kind == LAYER_MATMUL)
        return LLM_MATMUL;
    if (!is_linear(l))
        return LLM_LINEAR;      /* a conv in a transformer: treated as a GEMM */
    uint32_t first = (uint32_t)llround(p->high_first * n_linear);
    uint32_t last = (uint32_t)llround(p->high_last * n_linear);
    if ((p->head && fnmatch(p->head, l->name, 0) == 0) || lin_index < first ||
        lin_index + last >= n_linear)
        return LLM_HIGH;
    return LLM_LINEAR;
}

/* Sets every layer's formats from the plan, at iteration 0. */
static int llm_apply(trace *t, const scheme_ctx *c, const llm_plan *p, bs_error *e)
{
    uint32_t n_linear = count_linear(c->m), lin = 0;
    num_format fp32 = numfmt_fp32();
    for (uint32_t i = 0; i < c->m->n_layers; i++) {
        int role = llm_role(c, p, i, lin, n_linear);
        lin += is_linear(&c->m->layers[i]);
        trace_change ch = change_fmt(T_WG | T_U, fp32);
        static const tensor_class cls[3] = {TENSOR_W, TENSOR_A, TENSOR_G};
        for (int k = 0; k < 3; k++) {
            num_format f;
            const char *why = "invalid";
            if (!numfmt_parse(p->fmt[role][k], &f, &why))
                return err_set(e, BS_EUSAGE, "scheme %s: format '%s': %s", c->info->name,
                               p->fmt[role][k], why);
            ch.mask |= TRACE_CH_FMT(cls[k]);
            ch.d.fmt[cls[k]] = f;
        }
        int rc = trace_set(t, 0, i, &ch, e);
        if (rc)
            return rc;
    }
    return BS_OK;
}

/* Every role bf16 (the baseline), and the `head` parameter's pattern if the scheme has one
 * ("none" or absent: no head); a recipe then overrides its quantized roles. */
static llm_plan bf16_plan(const scheme_ctx *c)
{
    llm_plan p;
    memset(&p, 0, sizeof p);
    for (int r = 0; r < LLM_ROLES; r++)
        for (int k = 0; k < 3; k++)
            p.fmt[r][k] = "bf16";
    const char *head = pstr(c, "head");
    p.head = *head && strcmp(head, "none") != 0 ? head : NULL;
    return p;
}

/* Sets role r's W, A, G. */
static void plan_role(llm_plan *p, int r, const char *w, const char *a, const char *g)
{
    p->fmt[r][0] = w;
    p->fmt[r][1] = a;
    p->fmt[r][2] = g;
}

/* Quantization ops of one cast of an n-element tensor to f (top of this section). */
static double cast_ops(double n, const num_format *f)
{
    double per_block = 0;
    if (f->kind == NUM_MX && f->block)
        per_block = (f->scale_bits > f->scale_exp_bits ? 2.0 : 1.0) / f->block;
    return n * (1.0 + per_block);
}

/* Sums, over the layers whose role is LLM_LINEAR (or also LLM_MATMUL when `matmul`), the cast
 * work on A, W and G per iteration: each tensor read once per kernel at 16 bits, after
 * `amax_passes` separate read-only amax passes (NVFP4's per-tensor scale, N ops each), and
 * cast into `copies` copies (MX: a row- and a column-wise one); `extra_per_elem` ops per
 * element of A and G go to extra_ops (NVFP4's Wgrad Hadamard, bf16 in and out). */
typedef struct cast_rule {
    double copies, amax_passes, extra_per_elem;
} cast_rule;

typedef struct cast_work {
    uint64_t ops, extra_ops, tensors;
    unsigned bits;      /* the record width matching the casts' traffic (section comment) */
} cast_work;

static int llm_cast_overhead(trace *t, const scheme_ctx *c, const llm_plan *p, bool matmul,
                             cast_rule r, cast_work *out, bs_error *e)
{
    uint32_t n_linear = count_linear(c->m), lin = 0;
    double ops = 0, traffic = 0, extra = 0, tensors = 0, batch = (double)t->batch;
    for (uint32_t i = 0; i < c->m->n_layers; i++) {
        const model_layer *l = &c->m->layers[i];
        int role = llm_role(c, p, i, lin, n_linear);
        lin += is_linear(l);
        if (role != LLM_LINEAR && !(matmul && role == LLM_MATMUL))
            continue;
        /* a matmul's "weight" operand is the second activation, as large as its k x n */
        double n[3] = {l->kind == LAYER_MATMUL ? batch * (double)l->gemm.k *
                                                     (double)l->gemm.n * (double)l->gemm.count
                                               : (double)l->weight_elems,
                       batch * (double)l->in_elems, batch * (double)l->out_elems};
        for (int k = 0; k < 3; k++) {
            num_format f;
            if (!numfmt_parse(p->fmt[role][k], &f, NULL))
                return err_set(e, BS_EINTERNAL, "scheme %s: bad recipe format", c->info->name);
            ops += r.copies * cast_ops(n[k], &f) + r.amax_passes * n[k];
            traffic += n[k] * (16.0 * (1 + r.amax_passes) + r.copies * numfmt_storage_bits(&f));
        }
        extra += r.extra_per_elem * (n[1] + n[2]);
        tensors += 3;
    }
    if (!(ops < 0x1p63 && extra < 0x1p63))
        return err_set(e, BS_EINPUT, "scheme %s: overhead op count overflows", c->info->name);
    out->ops = (uint64_t)ceil(ops);
    out->extra_ops = (uint64_t)ceil(extra);
    out->tensors = (uint64_t)tensors;
    double bits = ops > 0 ? round(traffic / (2 * ops)) : 16;
    out->bits = bits < 1 ? 1 : bits > 32 ? 32 : (unsigned)bits;
    return BS_OK;
}

static int add_run_overhead(trace *t, const scheme_ctx *c, uint64_t ops, unsigned bits,
                            const char *label, bs_error *e)
{
    return ops ? trace_add_overhead(t, 0, c->total, ops, bits, label, e) : BS_OK;
}

static const char *const bf16_or_quant[] = {"bf16", "quantized", NULL};

/* bf16: the mixed-precision baseline LLM recipes compare against. Kalamkar et al., "A Study of
 * BFLOAT16 for Deep Learning Training", arXiv 1905.12322 (bf16 tensors, fp32 master weights
 * and accumulation); Megatron-LM's --bf16 (every layer's tensors bf16, fp32 main_grad and
 * optimizer). Every tensor bf16 but WG and U (fp32). */
static int gen_bf16(trace *t, scheme_ctx *c, bs_error *e)
{
    llm_plan p = bf16_plan(c);
    return llm_apply(t, c, &p, e);
}

/* fp8: Micikevicius et al., "FP8 Formats for Deep Learning", arXiv 2209.05433 (2022), sec. 3-4:
 * E4M3 for weights and activations, E5M2 for gradients, GEMM inputs in FP8 with one scale per
 * tensor, higher precision for the rest; as NVIDIA Transformer Engine runs it (recipe
 * DelayedScaling, fp8_format=HYBRID: E4M3 forward, E5M2 backward; format=e4m3 is its E4M3
 * recipe). Layers: TE's FP8 modules are the transformer's linear layers (te.Linear,
 * LayerNormLinear, LayerNormMLP); attention's batched matmuls run in bf16 (DotProductAttention
 * without fp8_dpa: matmul=bf16, the default) and Megatron's output layer (LM head) is not a TE
 * module (head=lm_head keeps it bf16). Overheads, per FP8 linear layer and iteration, its
 * three FP8 tensors A, W, G: the cast, N ops each ("fp8-cast", 12 bits: 16 read, 8 written;
 * the amax is taken during the cast, as TE fuses it), and the delayed-scaling bookkeeping per
 * tensor, as TE's nvte_delayed_scaling_recipe_amax_and_scale_update (transformer_engine
 * recipe.h) describes it: the amax history rotated by one (history moves), reduced by max
 * (history ops, amax_compute_algo "max") and the scale set so the tensor's amax maps to
 * 2^-margin x the FP8 maximum (3 ops): 2 x history + 3 ops ("amax-history", 32 bits).
 * history defaults to 1024 (DelayedScaling's amax_history_len default, with margin 0 and
 * fp8_format HYBRID); TE also reduces the amaxes across data-parallel ranks (one all-reduce
 * per step), which bitsim does not model (no network). */
static int gen_fp8(trace *t, scheme_ctx *c, bs_error *e)
{
    static const char *const fmt_choices[] = {"hybrid", "e4m3", NULL};
    int fmt, matmul, rc;
    uint64_t history;
    if ((rc = param_choice(c, "format", fmt_choices, &fmt, e)) ||
        (rc = param_choice(c, "matmul", bf16_or_quant, &matmul, e)) ||
        (rc = param_u64(c, "history", 1, 1u << 20, &history, e)))
        return rc;
    const char *g = fmt == 0 ? "fp8e5m2" : "fp8e4m3";
    llm_plan p = bf16_plan(c);
    plan_role(&p, LLM_LINEAR, "fp8e4m3", "fp8e4m3", g);
    if (matmul)
        plan_role(&p, LLM_MATMUL, "fp8e4m3", "fp8e4m3", g);
    cast_work w;
    uint64_t hist;
    if ((rc = llm_apply(t, c, &p, e)) ||
        (rc = llm_cast_overhead(t, c, &p, matmul, (cast_rule){1, 0, 0}, &w, e)))
        return rc;
    if (!checked_mul(w.tensors, 2 * history + 3, &hist))
        return err_set(e, BS_EINPUT, "scheme fp8: overhead op count overflows");
    if ((rc = add_run_overhead(t, c, w.ops, w.bits, "fp8-cast", e)))
        return rc;
    return add_run_overhead(t, c, hist, 32, "amax-history", e);
}

/* mx: the Microscaling training recipes. Rouhani et al., "Microscaling Data Formats for Deep
 * Learning", arXiv 2310.10537 (2023), sec. 6 (training), evaluates GPT-like decoders trained
 * with MXFP6_E3M2 for weights, activations and gradients in forward and backward (preset
 * mxfp6) and with MXFP4 weights and MXFP6_E3M2 activations and gradients (preset mxfp4);
 * mxfp8 is the MXFP8 recipe of Mishra et al., "Recipes for Pre-training LLMs with MXFP8",
 * arXiv 2506.08027 (2025): E4M3 elements for all tensors (Transformer Engine's MXFP8BlockScaling
 * default); mxfp6-fwd = MXFP6_E3M2 forward, MXFP8 E5M2 gradients, a variant between the two
 * (not one of the papers' runs). The paper's emulation library, microsoft/microxcaling
 * (README "Spec Configuration"; examples/run_mxfp6.sh: w/a_elem_format fp6_e3m2, scale_bits
 * 8, block_size 32, bfloat 16), quantizes the inputs of linear, matmul and bmm — attention's
 * batched matmuls included — runs the vector ops (GELU, softmax, layernorm) in bfloat16 (the
 * rest bf16 here), and gives the backward GEMMs the forward formats unless told otherwise (so
 * mxfp6's G is E3M2 too). So matmul=preset (the default) quantizes attention's matmuls in
 * the Rouhani presets and keeps them bf16 in mxfp8, as Transformer Engine's MXFP8 recipe (and
 * so Mishra et al.) runs attention (DotProductAttention in bf16); quantized or bf16 overrides.
 * Deviation: Rouhani et al.'s emulation quantizes the LM head too; head=none does that, the
 * default lm_head keeps it bf16 as Mishra et al. do. Overhead: every quantized operand is cast twice per iteration, a row-
 * and a column-wise copy (each pass blocks along its own reduction dimension, as TE's MXFP8
 * stores both), N + N/32 ops per copy ("mx-cast"; bits from the traffic, 16 read once and
 * each copy written at its storage width: 8 for MXFP8). */
static const char *const mx_preset_names[] = {"mxfp8", "mxfp6", "mxfp6-fwd", "mxfp4", NULL};
static const struct {
    const char *fmt[3];     /* W, A, G */
    const char *matmul;     /* what matmul=preset means */
} mx_presets[] = {
    {{"mxfp8e4m3", "mxfp8e4m3", "mxfp8e4m3"}, "bf16"},
    {{"mxfp6e3m2", "mxfp6e3m2", "mxfp6e3m2"}, "quantized"},
    {{"mxfp6e3m2", "mxfp6e3m2", "mxfp8e5m2"}, "quantized"},
    {{"mxfp4", "mxfp6e3m2", "mxfp6e3m2"}, "quantized"},
};

static int gen_mx(trace *t, scheme_ctx *c, bs_error *e)
{
    int preset, matmul, rc;
    if ((rc = param_choice(c, "preset", mx_preset_names, &preset, e)))
        return rc;
    if (strcmp(pstr(c, "matmul"), "preset") == 0)
        pset(c, "matmul", mx_presets[preset].matmul);
    if ((rc = param_choice(c, "matmul", bf16_or_quant, &matmul, e)))
        return rc;
    llm_plan p = bf16_plan(c);
    const char *const *f = mx_presets[preset].fmt;
    plan_role(&p, LLM_LINEAR, f[0], f[1], f[2]);
    if (matmul)
        plan_role(&p, LLM_MATMUL, f[0], f[1], f[2]);
    cast_work w;
    if ((rc = llm_apply(t, c, &p, e)) ||
        (rc = llm_cast_overhead(t, c, &p, matmul, (cast_rule){2, 0, 0}, &w, e)))
        return rc;
    return add_run_overhead(t, c, w.ops, w.bits, "mx-cast", e);
}

/* nvfp4: NVIDIA, "Pretraining Large Language Models with NVFP4", arXiv 2509.25149 (2025),
 * sec. 4: the linear layers' GEMMs take NVFP4 inputs in all three passes (Fprop, Dgrad,
 * Wgrad: W, A, G nvfp4); a few linear layers stay in BF16 — in the 12B model the first two
 * and the last eight of its 62 blocks (bf16_first = 2/62, bf16_last = 8/62 of the linear
 * layers here, the LM head among them); attention, softmax, norms and embeddings stay in
 * higher precision (matmul layers and the rest bf16). Its other techniques and what bitsim
 * makes of them: 2-D 16x16 block scaling of the weights (one E4M3 scale per 256 weights, so
 * that Fprop and Dgrad see the same quantized W) — bitsim stores W with the 1-D 16-element
 * blocks of nvfp4 (4.5 bits per weight where 16x16 needs 4.03: an upper bound on weight
 * traffic); stochastic rounding of the gradients — a rounding mode, no cost; random Hadamard
 * transforms of the Wgrad inputs (16 x 16): one more pass over A and G, N ops each ("rht", 16
 * bits; rht=0 leaves it out; its 16 MACs per element run as a 16 x 16 GEMM on the tensor
 * cores, which the elementwise record does not charge: 16 x (A + G) MACs, under 1% of the
 * Wgrad GEMM's k x n x m for k, n >= 2048). Casts:
 * A, W, G twice per iteration (row- and column-wise, as for MX), N + 2N/16 ops each, after
 * one N-op amax pass per tensor for its FP32 scale: 3N + N/4 ops ("nvfp4-cast"; traffic 16 + 16
 * read, 2 x 4.5 written: bits round(41 / 6.5) = 6). Deviation:
 * the report switches to BF16 for the last part of the run (its sec. 5); bitsim keeps NVFP4
 * for the whole run. */
static int gen_nvfp4(trace *t, scheme_ctx *c, bs_error *e)
{
    double first, last;
    int rht, rc;
    if ((rc = param_double(c, "bf16_first", 0, 1, &first, e)) ||
        (rc = param_double(c, "bf16_last", 0, 1, &last, e)) ||
        (rc = param_choice(c, "rht", (const char *const[]){"0", "1", NULL}, &rht, e)))
        return rc;
    llm_plan p = bf16_plan(c);
    plan_role(&p, LLM_LINEAR, "nvfp4", "nvfp4", "nvfp4");
    p.high_first = first;
    p.high_last = last;
    cast_work w;
    cast_rule r = {2, 1, rht ? 1 : 0};
    if ((rc = llm_apply(t, c, &p, e)) ||
        (rc = llm_cast_overhead(t, c, &p, false, r, &w, e)))
        return rc;
    if ((rc = add_run_overhead(t, c, w.ops, w.bits, "nvfp4-cast", e)))
        return rc;
    return add_run_overhead(t, c, w.extra_ops, 16, "rht", e);
}

/* ---- the table ------------------------------------------------------------------------- */

typedef int (*gen_fn)(trace *t, scheme_ctx *c, bs_error *e);

typedef struct scheme_row {
    scheme_info info;
    gen_fn gen;
    uint64_t (*epochs)(const scheme_ctx *c);    /* default epochs from params, or NULL */
} scheme_row;

static const scheme_row rows[] = {
    {{"fp32", "fp32 baseline: every tensor fp32, dense", "IEEE 754 single precision", 160,
      {{NULL, NULL, NULL}}},
     gen_fp32, NULL},
    {{"static", "fixed precision for the whole run (preset sbm: 8-bit W/A/G in every layer, "
      "16-bit WG and weight-gradient-pass G)",
      "Banner et al., NeurIPS 2018 (SBM); Micikevicius et al., ICLR 2018 (fp16)", 160,
      {{"preset", "sbm", "sbm (int8 W/A/G in all layers incl. Range BN, int16 WG, fp32 U) or "
        "fp16 (mixed precision, MAC layers)"},
       {"W", "preset", "weight format (overrides the preset)"},
       {"A", "preset", "activation format"},
       {"G", "preset", "activation-gradient format"},
       {"WG", "preset", "weight-gradient format"},
       {"U", "preset", "update / master-weight format"},
       {"GW", "preset", "gradient format of the weight-gradient pass (SBM's bifurcation: sbm "
        "int16, fp16 = G)"},
       {"layers", "preset", "all, mac (conv+linear+matmul) or conv (preset: sbm all, fp16 mac)"},
       {NULL, NULL, NULL}}},
     gen_static, NULL},
    {{"cpt", "cyclic precision per iteration: forward 3..8 bits on a cosine, gradients 8",
      "Fu et al., ICLR 2021, Eq. 1; GATECH-EIC/CPT cpt_cifar/train.py", 160,
      {{"cycles", "32", "number of cyclic periods N (P = total iterations / N)"},
       {"bmin", "3", "lowest forward bit-width"},
       {"bmax", "8", "highest forward bit-width"},
       {"gbits", "8", "gradient bit-width (fixed)"},
       {"linear", "fp32", "fp32 (CPT's CIFAR code keeps the final fc fp32) or quantized "
        "(every MAC layer: use it for a transformer)"},
       {"nonmac", "fp32", NONMAC_HELP},
       {NULL, NULL, NULL}}},
     gen_cpt, NULL},
    {{"fractrain-pfq", "progressive fractional quantization: stages of rising precision",
      "Fu et al., NeurIPS 2020, sec. 3.1 Alg. 1; GATECH-EIC/FracTrain train_pfq.py", 160,
      {{"fw", "3,4,6,8", "forward (W, A) bits per stage"},
       {"bw", "6,6,8,8", "backward (G) bits per stage"},
       {"switch", "auto", "epochs of the turning points (auto: 1/4, 2/4, 3/4 of the run)"},
       {"linear", "fp32", "fp32 or quantized final linear layer"},
       {"nonmac", "fp32", NONMAC_HELP},
       {NULL, NULL, NULL}}},
     gen_pfq, NULL},
    {{"muppet", "block floating point ladder 8->12->14->16 bits, then fp32",
      "Rajagopal et al., ICML 2020; ICIdsl/muppet (policy.py, configs)", 114,
      {{"levels", "8,12,14,16", "quantized word lengths, in order (then fp32)"},
       {"epochs_per_level", "22,22,10,15", "epochs at each quantized level"},
       {"fp32_epochs", "45", "fp32 epochs at the end (sets the default run length)"},
       {"switch", "none", "explicit epochs at which each next level starts (overrides)"},
       {"resolution", "3", "epochs between gradient-diversity checks"},
       {"nonmac", "fp32", NONMAC_HELP},
       {NULL, NULL, NULL}}},
     gen_muppet, muppet_epochs},
    {{"adapt", "per-layer fixed point from <8,4>, synthetic switches and weight densities",
      "Kummer et al., arXiv 2107.13490 (AdaPT); lorenz0890/AdaPT", 160,
      {{"interval", "1", "epochs between precision checks"},
       {"p_up", "0.25", "probability a layer gains `step` bits at a check"},
       {"p_down", "0.1", "probability a layer loses `step` bits at a check"},
       {"step", "2", "word-length change per switch"},
       {"wl_min", "4", "smallest word length"},
       {"wl_max", "16", "largest word length"},
       {"dw_min", "0.5", "weight density drawn uniformly in [dw_min, 1] at each check"},
       {"dA", "1", "activation density"},
       {"dG", "1", "gradient density"},
       {"log", "none", "AdaPT-style log file to replay instead of the synthetic policy"},
       {"res", "150", "histogram bins of the KL push-down (MAX_RESOLUTION), for the overhead"},
       {"lb", "100", "gradients per check (MAX_LOOKBACK), for the overhead"},
       {"G", "fp32", "activation gradients: fp32 (AdaPT's code) or quantized (layer's format)"},
       {"nonmac", "fp32", NONMAC_HELP},
       {NULL, NULL, NULL}}},
     gen_adapt, NULL},
    {{"smaq", "split storage: inliers (+-1 sigma) at 6 bits, outliers at 8, fp32 compute",
      "Shoghi et al., IEEE CAL 2021, Eq. 4", 160,
      {{"inlier_bits", "6", "bits of values within +-1 sigma"},
       {"outlier_bits", "8", "bits of the other values"},
       {"inlier_frac", "0.682689", "inlier fraction (Gaussian: erf(1/sqrt 2))"},
       {"header_bits", "64", "per-tensor mean and std (2 x fp32)"},
       {"tensors", "W,A,U", "stored tensors the split applies to"},
       {NULL, NULL, NULL}}},
     gen_smaq, NULL},
    {{"bf16", "bf16 mixed precision: every tensor bf16, fp32 weight gradients and master "
      "weights (the LLM baseline)",
      "Kalamkar et al., arXiv 1905.12322; Megatron-LM --bf16", 1, {{NULL, NULL, NULL}}},
     gen_bf16, NULL},
    {{"fp8", "FP8 training: linear layers' GEMMs E4M3 forward, E5M2 gradients, per-tensor "
      "delayed scaling; the rest bf16",
      "Micikevicius et al., arXiv 2209.05433; NVIDIA Transformer Engine DelayedScaling", 1,
      {{"format", "hybrid", "hybrid (E4M3 W/A, E5M2 G) or e4m3 (E4M3 everywhere)"},
       {"matmul", "bf16", "attention batched matmuls: bf16 (TE default) or quantized"},
       {"head", "lm_head", "linear layers kept bf16 (fnmatch pattern, or none)"},
       {"history", "1024", "amax history length (TE amax_history_len), for the overhead"},
       {NULL, NULL, NULL}}},
     gen_fp8, NULL},
    {{"mx", "OCP Microscaling training: GEMM inputs in MX formats per tensor class, the rest "
      "bf16",
      "Rouhani et al., arXiv 2310.10537 sec. 6; Mishra et al., arXiv 2506.08027 (MXFP8)", 1,
      {{"preset", "mxfp8", "mxfp8 (E4M3 W/A/G), mxfp6 (E3M2 W/A/G), mxfp6-fwd (E3M2 W/A, "
        "MXFP8 E5M2 G) or mxfp4 (MXFP4 W, MXFP6 E3M2 A/G)"},
       {"matmul", "preset", "attention batched matmuls: quantized, bf16 or preset (mxfp8 "
        "bf16 as TE, the others quantized as Rouhani et al.)"},
       {"head", "lm_head", "linear layers kept bf16 (fnmatch pattern, or none)"},
       {NULL, NULL, NULL}}},
     gen_mx, NULL},
    {{"nvfp4", "NVFP4 pretraining: linear GEMMs NVFP4 in fwd/bwd, first/last layers and "
      "attention bf16, Hadamard-transformed Wgrad",
      "NVIDIA, Pretraining LLMs with NVFP4, arXiv 2509.25149 sec. 4", 1,
      {{"bf16_first", "0.032258", "fraction of the linear layers kept bf16 at the start (2/62)"},
       {"bf16_last", "0.129032", "fraction kept bf16 at the end (8/62)"},
       {"head", "lm_head", "linear layers kept bf16 besides (fnmatch pattern, or none)"},
       {"rht", "1", "1: charge the 16x16 random Hadamard transforms of the Wgrad inputs"},
       {NULL, NULL, NULL}}},
     gen_nvfp4, NULL},
};
#define N_ROWS (sizeof rows / sizeof rows[0])

static scheme_info table_cache[N_ROWS];

const scheme_info *scheme_table(size_t *n)
{
    for (size_t i = 0; i < N_ROWS; i++)
        table_cache[i] = rows[i].info;
    *n = N_ROWS;
    return table_cache;
}

static const scheme_row *find_row(const char *name)
{
    for (size_t i = 0; i < N_ROWS; i++)
        if (strcmp(rows[i].info.name, name) == 0)
            return &rows[i];
    return NULL;
}

static bool param_value_ok(const char *v)
{
    if (!*v)
        return false;
    for (; *v; v++)
        if (isspace((unsigned char)*v) || *v == '#' || (unsigned char)*v < 0x20)
            return false;
    return true;
}

static int resolve_params(scheme_ctx *c, const scheme_request *req, bs_error *e)
{
    const scheme_info *s = c->info;
    for (int i = 0; i < SCHEME_PARAMS_MAX && s->params[i].name; i++)
        snprintf(c->values[i], sizeof c->values[i], "%s", s->params[i].default_value);
    for (size_t k = 0; k < req->n_params; k++) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", req->params[k]);
        char *key, *val;
        if (!text_key_value(buf, &key, &val))
            return err_set(e, BS_EUSAGE, "--param '%s': expected KEY=VALUE", req->params[k]);
        int i = param_index(s, key);
        if (i < 0)
            return err_set(e, BS_EUSAGE, "scheme %s has no parameter '%s' (see bitsim trace "
                           "schemes)", s->name, key);
        if (!param_value_ok(val) || strlen(val) >= sizeof c->values[i])
            return err_set(e, BS_EUSAGE, "--param %s: value must be 1..127 characters without "
                           "blanks or '#'", key);
        snprintf(c->values[i], sizeof c->values[i], "%s", val);
    }
    return BS_OK;
}

static void params_line(const scheme_ctx *c, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    const scheme_info *s = c->info;
    for (int i = 0; i < SCHEME_PARAMS_MAX && s->params[i].name && len < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%s=%s", len ? " " : "", s->params[i].name,
                                c->values[i]);
    if (len < n && strcmp(s->name, "adapt") == 0 && strcmp(pstr(c, "log"), "none") == 0)
        snprintf(out + len, n - len, "%sseed=%llu", len ? " " : "", (unsigned long long)c->seed);
}

int scheme_generate(trace *t, const scheme_request *req, bs_error *e)
{
    memset(t, 0, sizeof *t);
    const scheme_row *row = find_row(req->scheme ? req->scheme : "");
    if (!row) {
        /* a name that is not a scheme is bad input, like an unknown model or arch */
        size_t n;
        const scheme_info *info = scheme_table(&n);
        const char *names[64];
        for (size_t i = 0; i < n && i < 63; i++)
            names[i] = info[i].name;
        names[n < 63 ? n : 63] = NULL;
        int near = text_closest(names, req->scheme ? req->scheme : "");
        if (near >= 0)
            return err_set(e, BS_EINPUT, "unknown scheme '%s'; did you mean '%s'? (see bitsim "
                           "trace schemes)", req->scheme, names[near]);
        return err_set(e, BS_EINPUT, "unknown scheme '%s' (see bitsim trace schemes)",
                       req->scheme ? req->scheme : "");
    }
    scheme_ctx c;
    memset(&c, 0, sizeof c);
    c.info = &row->info;
    c.m = req->model;
    c.seed = req->seed;
    int rc = resolve_params(&c, req, e);
    if (rc)
        return rc;
    uint64_t batch = req->batch ? req->batch : 128;
    c.ipe = req->iters_per_epoch ? req->iters_per_epoch : ceil_div_u64(50000, batch);
    c.epochs = req->epochs ? req->epochs : row->epochs ? row->epochs(&c) : row->info.default_epochs;
    rc = trace_begin(t, req->model_ref, req->model, batch, c.ipe, c.epochs, row->info.name, "",
                     req->provenance, e);
    if (rc)
        return rc;
    c.total = t->total_iters;
    if (param_index(&row->info, "nonmac") >= 0)
        rc = apply_nonmac(t, &c, e);
    if (!rc)
        rc = row->gen(t, &c, e);
    if (!rc) {
        char line[TRACE_PARAMS_MAX];
        params_line(&c, line, sizeof line);
        snprintf(t->params, sizeof t->params, "%s", line);
        rc = trace_finish(t, e);
    }
    if (rc)
        trace_free(t);
    return rc;
}
