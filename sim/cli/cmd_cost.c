/* cmd_cost.c — `bitsim cost`: one cost evaluation (or a layer's passes), for users and for
 * debugging the accelerator model.
 *
 * Two ways in: a layer of a model (--model M --layer L --pass P, the path replay takes), or a
 * raw convolution in the reference CSV's terms (--conv K,O,S,IC,OC [--im2col]), which runs
 * the BitFusion simulator's loop nest alone so its rows can be checked by eye. One evaluation
 * prints as a two-column table (quantity, value); several (--layer all, --pass all) print one
 * row each.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "cmd.h"
#include "cost.h"
#include "cost_conv.h"
#include "err.h"
#include "model.h"
#include "model_zoo.h"
#include "numfmt.h"
#include "table.h"
#include "text.h"

typedef struct cost_opts {
    const char *arch, *model, *layer;
    int pass;           /* a train_pass, or PASS_COUNT for all */
    num_format x, y;
    num_format out;     /* --out: bits 0 = not given */
    bool out_ref;       /* --out-format ref */
    double dx, dy;
    uint64_t batch;
    bool have_conv, im2col;
    uint64_t conv[5];
    int format;     /* table_format */
} cost_opts;

/* A bare number is an integer width (1..32, as traces allow); anything else a format name.
 * On failure *why says what is wrong with the operand. */
static bool parse_format(const char *s, num_format *f, const char **why)
{
    uint64_t bits;
    if (text_parse_u64(s, 0, UINT64_MAX, &bits)) {
        if (bits < 1 || bits > 32) {
            *why = "a bit-width must be 1..32";
            return false;
        }
        *f = (num_format){.kind = NUM_INT, .bits = (uint8_t)bits};
        return true;
    }
    return numfmt_parse(s, f, why);
}

/* Copies s into buf; false when it does not fit (a cut-off value could read as valid). */
static bool copy_arg(const char *s, char *buf, size_t n)
{
    return (size_t)snprintf(buf, n, "%s", s) < n;
}

/* Splits "a,b" into two tokens in buf; false unless exactly two non-empty parts. */
static bool split_pair(const char *s, char *buf, size_t n, char **a, char **b)
{
    if (!copy_arg(s, buf, n))
        return false;
    char *comma = strchr(buf, ',');
    if (!comma || comma == buf || !comma[1] || strchr(comma + 1, ','))
        return false;
    *comma = '\0';
    *a = buf;
    *b = comma + 1;
    return true;
}

/* --bits X,Y */
static bool parse_bits(const char *arg, void *dst, const char **why)
{
    cost_opts *o = dst;
    char buf[128], *p, *q;
    if (!split_pair(arg, buf, sizeof buf, &p, &q))
        return false;
    if (parse_format(p, &o->x, why) && parse_format(q, &o->y, why))
        return true;
    if (!*why)
        *why = "not a format (e.g. 8, fx8.4, fp16, bfp8/e8/b16)";
    return false;
}

/* --out-format F|ref */
static bool parse_out(const char *arg, void *dst, const char **why)
{
    cost_opts *o = dst;
    if (strcmp(arg, "ref") == 0)
        return (o->out_ref = true);
    if (parse_format(arg, &o->out, why))
        return true;
    if (!*why)
        *why = "not a format or 'ref'";
    return false;
}

/* --density X,Y */
static bool parse_density(const char *arg, void *dst, const char **why)
{
    cost_opts *o = dst;
    char buf[128], *p, *q;
    (void)why;
    return split_pair(arg, buf, sizeof buf, &p, &q) && text_parse_double(p, 0, 1, &o->dx) &&
           text_parse_double(q, 0, 1, &o->dy);
}

/* --conv K,O,S,IC,OC */
static bool parse_conv(const char *arg, void *dst, const char **why)
{
    cost_opts *o = dst;
    char buf[128];
    char *tok = copy_arg(arg, buf, sizeof buf) ? buf : NULL;
    int k = 0;
    (void)why;
    for (; k < 5 && tok; k++) {
        char *next = strchr(tok, ',');
        if (next)
            *next++ = '\0';
        if (!text_parse_u64(tok, 1, UINT32_MAX, &o->conv[k]))
            break;
        tok = next;
    }
    return (o->have_conv = k == 5 && !tok);
}

/* The output format of a MAC pass in training mode, as replay chooses it from a decision
 * (replay.c OUTPUT FORMAT): FWD writes A (= x), BWD_DATA writes G (= x), BWD_WEIGHT writes
 * WG, fp32 unless --out-format names it. --out-format F sets every MAC pass; ref (bits 0) is the
 * reference output stage. Non-MAC layers and UPDATE have none. */
static num_format pass_output(const cost_opts *o, const model_layer *l, train_pass p)
{
    num_format none = {0};
    if (o->out_ref || !model_layer_is_mac(l) || p == PASS_UPDATE)
        return none;
    if (o->out.bits)
        return o->out;
    return p == PASS_BWD_WEIGHT ? numfmt_fp32() : o->x;
}

/* The wide table's columns: wide_head, energy_<name>_pj for every cost.h energy component
 * (wide_cols fills them in from cost_energy_name), then wide_tail. */
static const char *const wide_head[] = {
    "layer", "pass", "madds", "elem_ops", "bitops", "perf_factor", "compute_cycles",
    "stall_cycles", "total_cycles", "wbuf_rd_bits", "wbuf_wr_bits", "abuf_rd_bits",
    "abuf_wr_bits", "obuf_rd_bits", "obuf_wr_bits", "dram_rd_bits", "dram_wr_bits"};
static const char *const wide_tail[] = {"energy_total_pj", "latency_s", "loop_order",
                                        "dataflow"};
enum {
    N_HEAD = (int)(sizeof wide_head / sizeof wide_head[0]),
    N_WIDE = N_HEAD + COST_E_COUNT + (int)(sizeof wide_tail / sizeof wide_tail[0]),
};

static const char *const *wide_cols(void)
{
    static char energy[COST_E_COUNT][32];
    static const char *cols[N_WIDE];
    if (!cols[0]) {
        for (int i = 0; i < N_HEAD; i++)
            cols[i] = wide_head[i];
        for (int k = 0; k < COST_E_COUNT; k++) {
            snprintf(energy[k], sizeof energy[k], "energy_%s_pj", cost_energy_name((cost_energy)k));
            cols[N_HEAD + k] = energy[k];
        }
        for (int i = N_HEAD + COST_E_COUNT; i < N_WIDE; i++)
            cols[i] = wide_tail[i - N_HEAD - COST_E_COUNT];
    }
    return cols;
}

/* The values of one evaluation in wide_cols order after layer and pass; emit() is either
 * "a cell of this row" or "a (quantity, value) row". */
typedef void (*emit_fn)(table *t, const char *col, const char *text, double v, bool is_int);

static void emit_result(table *t, const cost_result *r, emit_fn emit)
{
    double vals[N_WIDE - 4] = {
        (double)r->madds, (double)r->elem_ops, r->bitops, r->perf_factor,
        (double)r->compute_cycles, (double)r->stall_cycles, (double)r->total_cycles,
        r->sram_read_bits[ARCH_WBUF], r->sram_write_bits[ARCH_WBUF],
        r->sram_read_bits[ARCH_ABUF], r->sram_write_bits[ARCH_ABUF],
        r->sram_read_bits[ARCH_OBUF], r->sram_write_bits[ARCH_OBUF], r->dram_read_bits,
        r->dram_write_bits};
    for (int k = 0; k < COST_E_COUNT; k++)
        vals[N_HEAD - 2 + k] = r->energy_pj[k];
    vals[N_HEAD - 2 + COST_E_COUNT] = r->energy_total_pj;
    vals[N_HEAD - 1 + COST_E_COUNT] = r->latency_s;
    const int n_int = 7;    /* madds .. total_cycles print as integers except perf_factor */
    const char *const *cols = wide_cols();
    for (int i = 0; i < N_WIDE - 4; i++)
        emit(t, cols[2 + i], NULL, vals[i], i < n_int && i != 3 && i != 2);
    char order[8] = "-";
    if (r->tiling.order[0])
        snprintf(order, sizeof order, "%.5s", r->tiling.order);
    emit(t, "loop_order", order, 0, false);
    emit(t, "dataflow", r->madds ? cost_dataflow_name(r->tiling.dataflow) : "-", 0, false);
}

static void emit_cell(table *t, const char *col, const char *text, double v, bool is_int)
{
    (void)col;
    if (text)
        table_cell_str(t, text);
    else if (is_int)
        table_cell_u64(t, (uint64_t)v);
    else if (v == floor(v) && fabs(v) < 1e15)  /* a whole count of bits or ops, in full */
        table_cell_double(t, "%.0f", v);
    else
        table_cell_double(t, "%.10g", v);
}

static void emit_pair(table *t, const char *col, const char *text, double v, bool is_int)
{
    table_row(t);
    table_cell_str(t, col);
    emit_cell(t, col, text, v, is_int);
}

static int print_results(const cost_opts *o, const char *const *names, const char *const *passes,
                         const cost_result *rs, int n)
{
    table *t;
    if (n == 1 && o->format == TABLE_TEXT) {
        static const char *const cols[] = {"quantity", "value"};
        if (!(t = table_new(2, cols)))
            return BS_EINTERNAL;
        emit_pair(t, "layer", names[0], 0, false);
        emit_pair(t, "pass", passes[0], 0, false);
        emit_result(t, &rs[0], emit_pair);
    } else {
        if (!(t = table_new(N_WIDE, wide_cols())))
            return BS_EINTERNAL;
        for (int i = 0; i < n; i++) {
            table_row(t);
            table_cell_str(t, names[i]);
            table_cell_str(t, passes[i]);
            emit_result(t, &rs[i], emit_cell);
        }
    }
    /* the batch scales every count: said above the human table (machine forms stay pure) */
    if (o->format == TABLE_TEXT)
        printf("batch %llu (samples per iteration; --batch)\n", (unsigned long long)o->batch);
    bool ok = table_print(t, (table_format)o->format, stdout);
    table_free(t);
    return ok ? BS_OK : BS_EINTERNAL;
}

/* A layer name is input, as a model or arch name is (exit 1), with a did-you-mean. */
static int no_such_layer(const model *m, const char *layer, bs_error *e)
{
    const char **names = calloc((size_t)m->n_layers + 1, sizeof *names);
    if (!names)
        return err_set(e, BS_EINTERNAL, "out of memory");
    for (size_t i = 0; i < m->n_layers; i++)
        names[i] = m->layers[i].name;
    int near = text_closest(names, layer);
    if (near >= 0)
        err_set(e, BS_EINPUT, "cost: --layer: model %s has no layer '%s'; did you mean '%s'? "
                "(see bitsim model show %s)", m->name, layer, names[near], m->name);
    else
        err_set(e, BS_EINPUT, "cost: --layer: model %s has no layer '%s' (see bitsim model "
                "show %s)", m->name, layer, m->name);
    free(names);
    return BS_EINPUT;
}

static int run_conv(const cost_opts *o, const arch *a, bs_error *e)
{
    cost_conv c;
    cost_conv_init(&c, (uint32_t)o->conv[0], (uint32_t)o->conv[1], (uint32_t)o->conv[2],
                   o->conv[3], o->conv[4], o->batch, o->x.bits, o->y.bits, o->im2col);
    c.x_mul_bits = cost_mul_bits(a, &o->x);
    c.y_mul_bits = cost_mul_bits(a, &o->y);
    c.density_x = o->dx;
    c.density_y = o->dy;
    cost_result r;
    int rc = cost_conv_eval(a, &c, &r, e);
    if (rc)
        return rc;
    const char *name = "conv", *pass = "FWD";
    return print_results(o, &name, &pass, &r, 1);
}

static int run_model(const cost_opts *o, const arch *a, bs_error *e)
{
    model m;
    int rc = model_load(&m, o->model, e);
    if (rc)
        return rc;
    int first = 0, last = (int)m.n_layers - 1;
    if (strcmp(o->layer, "all")) {
        uint64_t idx;
        first = model_find_layer(&m, o->layer);
        if (first < 0 && text_parse_u64(o->layer, 0, m.n_layers ? m.n_layers - 1 : 0, &idx) &&
            m.n_layers)
            first = (int)idx;
        if (first < 0) {
            rc = no_such_layer(&m, o->layer, e);
            model_free(&m);
            return rc;
        }
        last = first;
    }
    int p0 = o->pass == PASS_COUNT ? 0 : o->pass, p1 = o->pass == PASS_COUNT ? PASS_COUNT - 1 : o->pass;
    int n = (last - first + 1) * (p1 - p0 + 1);
    cost_result *rs = calloc((size_t)n, sizeof *rs);
    const char **names = calloc((size_t)n, sizeof *names);
    const char **passes = calloc((size_t)n, sizeof *passes);
    rc = rs && names && passes ? BS_OK : err_set(e, BS_EINTERNAL, "out of memory");
    int k = 0;
    for (int l = first; rc == BS_OK && l <= last; l++)
        for (int p = p0; rc == BS_OK && p <= p1; p++, k++) {
            cost_sweeps plan[PASS_COUNT];   /* the layer's non-MAC sweeps in its graph */
            cost_nonmac_plan(a, &m, (uint32_t)l, plan);
            cost_query q = {.layer = &m.layers[l], .pass = (train_pass)p, .batch = o->batch,
                            .x = o->x, .y = o->y, .density_x = o->dx, .density_y = o->dy,
                            .out = pass_output(o, &m.layers[l], (train_pass)p),
                            .sweeps = plan[p]};
            rc = cost_eval(a, &q, &rs[k], e);
            names[k] = m.layers[l].name;
            passes[k] = model_pass_name((train_pass)p);
        }
    if (rc == BS_OK)
        rc = print_results(o, names, passes, rs, n);
    free(rs);
    free(names);
    free(passes);
    model_free(&m);
    return rc;
}

int cmd_cost(int argc, char **argv)
{
    cost_opts o = {0};
    /* --pass: model.h's pass names in lower case, then "all" (index PASS_COUNT) */
    char lower[PASS_COUNT][16];
    const char *pass_names[PASS_COUNT + 2];
    for (int p = 0; p < PASS_COUNT; p++) {
        const char *n = model_pass_name((train_pass)p);
        size_t k = 0;
        for (; n[k] && k < sizeof lower[p] - 1; k++)
            lower[p][k] = (char)tolower((unsigned char)n[k]);
        lower[p][k] = '\0';
        pass_names[p] = lower[p];
    }
    pass_names[PASS_COUNT] = "all";
    pass_names[PASS_COUNT + 1] = NULL;
    cmd_opt opts[] = {
        CMD_OPT("arch", 'a', "A", "arch name (arch/A.ini) or file", "bitfusion", CMD_STR, &o.arch),
        CMD_OPT("model", 'm', "M", "zoo network or model file", NULL, CMD_STR, &o.model),
        CMD_OPT("layer", 'l', "L", "layer name, index from 0, or 'all'", NULL, CMD_STR, &o.layer),
        CMD_OPT("pass", 'p', "P", "the training pass, or all", "fwd", CMD_CHOICE, &o.pass,
                .names = pass_names),
        CMD_OPT("bits", 'B', "X,Y", "operand formats of the pass: x,y (FWD: activation,weight;\n"
         "BWD_DATA: grad,weight; BWD_WEIGHT: activation,grad; UPDATE:\n"
         "weight grad,master weight); a number means intN; formats as\n"
         "in traces: int8 fx8.4 bfp8/e8/b16 fp32 fp16 bf16 fp8e4m3\n"
         "mxfp8 mxfp6 mxfp4 mxint8 nvfp4", "8,8", CMD_PARSE, &o,
         .parse = parse_bits, .want = "two formats X,Y (e.g. 8,4 or fp16,int8)"),
        CMD_OPT("out-format", 0, "F|ref", "format the pass's output is written in (training mode, as\n"
         "bitsim run does); default: FWD and BWD_DATA write x's\n"
         "format (A, G), BWD_WEIGHT fp32 (WG); 'ref': the public\n"
         "simulator's output stage (32-bit, padded; --conv always)", NULL, CMD_PARSE, &o,
         .parse = parse_out),
        CMD_OPT("density", 'd', "X,Y", "non-zero fractions of x and y, in [0,1] (0: an all-zero\n"
         "tensor)", "1,1", CMD_PARSE, &o, .parse = parse_density,
         .want = "two fractions X,Y in [0,1]"),
        CMD_OPT("batch", 'b', "B", "samples per iteration (as trace gen's; printed)", "128",
         CMD_U64, &o.batch, .min = 1,
         .max = UINT32_MAX),
        CMD_OPT("conv", 'c', "K,O,S,IC,OC", "a raw convolution instead of a model layer", NULL,
         CMD_PARSE, &o, .parse = parse_conv, .want = "K,O,S,IC,OC (five whole numbers >= 1)"),
        CMD_OPT("im2col", 'i', NULL, "with --conv: lower it as the simulator does a first layer", NULL,
         CMD_FLAG, &o.im2col),
        CMD_OPT_FORMAT(&o.format),
    };
    const cmd_spec spec = {
        .name = "cost",
        .synopsis = "[--arch A] --model M --layer L [--pass P] [options]\n"
                    "[--arch A] --conv K,O,S,IC,OC [--im2col] [options]",
        .about = "Cost of one layer-pass on an accelerator: MAdds, BitOPs, cycles (compute, memory\n"
                 "stall, total), buffer and DRAM traffic in bits, energy by component, latency and\n"
                 "the tiling chosen. --conv evaluates a raw convolution (fc: K=O=S=1) the way the\n"
                 "public BitFusion simulator does (the reference mode: least cycles). A model\n"
                 "layer is costed in training mode with the arch's [schedule]: its tiling\n"
                 "objective (edp by default) and, for non-MAC layers, the DRAM sweeps its\n"
                 "place in the graph gives under the nonmac mode (fused by default).",
        .epilog = "units: bits, cycles, pJ, seconds. Arch files: arch/FORMAT.md.",
        CMD_OPTS(opts), .max_args = 0};
    int first, rc;
    if (!cmd_parse(&spec, argc, argv, &first, &rc))
        return rc;
    if (!o.have_conv && (!o.model || !o.layer))
        return cmd_usage_error(&spec, "give --model and --layer, or --conv");
    bs_error e;
    err_clear(&e);
    arch a;
    if ((rc = arch_load(&a, o.arch, &e)) != 0)
        return err_report(&e);
    rc = o.have_conv ? run_conv(&o, &a, &e) : run_model(&o, &a, &e);
    arch_free(&a);
    return rc ? err_report(&e) : BS_OK;
}
