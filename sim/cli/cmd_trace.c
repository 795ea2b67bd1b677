/* cmd_trace.c — `bitsim trace`: generate, check, rewrite and list traces.
 *
 *   bitsim trace gen --scheme S --model M [--param K=V ...] [--epochs E --iters-per-epoch N
 *                    --batch B --seed S] -o FILE
 *   bitsim trace check FILE [--format F]   validate and summarise
 *   bitsim trace cat FILE [-o OUT]         canonical rewrite
 *   bitsim trace schemes [--format F]      generators with their parameters and defaults
 * The format is traces/FORMAT.md; generators are sim/scheme.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "err.h"
#include "model_zoo.h"
#include "scheme.h"
#include "table.h"
#include "text.h"
#include "trace.h"
#include "version.h"

#define PARAMS_MAX 32

static const char gen_synopsis[] = "--scheme S --model M -o FILE [options]";
static const char check_synopsis[] = "FILE [--format F]";
static const char cat_synopsis[] = "FILE [-o OUT]";
static const char schemes_synopsis[] = "[--format F]";

/* The one FILE argument of check and cat, read as a trace; the exit status on failure. */
static int read_trace_arg(trace *t, const char *path)
{
    bs_error e;
    err_clear(&e);
    return trace_read_file(t, path, &e) ? err_report(&e) : BS_OK;
}

static int write_out(const trace *t, const char *out, bs_error *e)
{
    if (strcmp(out, "-") == 0)
        return trace_write(t, stdout, e);
    FILE *f = fopen(out, "wb");
    if (!f)
        return err_set(e, BS_EINPUT, "%s: cannot open for writing: %s", out, strerror(errno));
    struct stat st;
    bool regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    int rc = trace_write(t, f, e);
    if (fclose(f) != 0 && !rc)
        rc = err_set(e, BS_EINPUT, "%s: write error: %s", out, strerror(errno));
    if (rc && regular)
        remove(out);    /* no half-written trace left to be read as a whole one (a device,
                         * e.g. /dev/full, stays) */
    return rc;
}

static int cmd_gen(int argc, char **argv)
{
    scheme_request req;
    memset(&req, 0, sizeof req);
    const char *params[PARAMS_MAX], *out = NULL;
    cmd_list param_list = {.items = params, .max = PARAMS_MAX};
    cmd_model_params mp = {0};
    CMD_MODEL_PARAMS_INIT(&mp);
    cmd_opt opts[] = {
        CMD_OPT("scheme", 's', "S", "generator name (bitsim trace schemes)", NULL, CMD_STR, &req.scheme,
         .required = true),
        CMD_OPT("model", 'm', "M", "zoo name or model file", NULL, CMD_STR, &req.model_ref,
         .required = true),
        CMD_OPT("param", 'p', "K=V", "sets the generator's parameter K",
                NULL, CMD_LIST, &param_list),
        CMD_MODEL_PARAM_OPTS(&mp),
        CMD_OPT("epochs", 0, "E", "default: the scheme's own (bitsim trace schemes: 160,\n"
                "MuPPET 114, the LLM recipes 1)", NULL, CMD_U64,
         &req.epochs, .min = 1, .max = UINT64_MAX),
        CMD_OPT("iters-per-epoch", 0, "N", "default: ceil(50000 / batch), a CIFAR epoch (an LLM\n"
                "recipe's one epoch: its optimizer steps)", NULL, CMD_U64,
         &req.iters_per_epoch, .min = 1, .max = UINT64_MAX),
        CMD_OPT("batch", 'b', "B", "samples per iteration", "128", CMD_U64, &req.batch, .min = 1,
         .max = UINT64_MAX),
        CMD_OPT("seed", 0, "S", "the generator's random seed", "1", CMD_U64, &req.seed, .min = 0,
         .max = UINT64_MAX),
        CMD_OPT("output", 'o', "FILE", "where to write ('-' is stdout)", NULL, CMD_STR, &out,
         .required = true),
    };
    const cmd_spec spec = {
        .name = "trace gen", .synopsis = gen_synopsis,
        .about = "Writes the trace a scheme generator decides for a model (see bitsim trace schemes).\n"
                 "The trace's model line records every model parameter's value (--seq ...).",
        CMD_OPTS(opts), .max_args = 0,
        .args_error = "takes no positional arguments"};
    int first, rc;
    char ref[TRACE_REF_MAX + 512];
    if (!cmd_parse(&spec, argc, argv, &first, &rc) ||
        !cmd_model_ref(&spec, req.model_ref, &mp, ref, sizeof ref, &rc))
        return rc;
    req.model_ref = ref;
    size_t np = param_list.n;
    req.params = params;
    req.n_params = np;
    bs_error e;
    err_clear(&e);
    model m;
    if ((rc = model_load(&m, req.model_ref, &e)))
        return err_report(&e);
    req.model = &m;
    char prov[256];
    snprintf(prov, sizeof prov, "bitsim %s trace gen --scheme %s", version_release(),
             req.scheme);
    req.provenance = prov;
    trace t;
    rc = scheme_generate(&t, &req, &e);
    model_free(&m);
    if (rc)
        return err_report(&e);
    rc = write_out(&t, out, &e);
    trace_free(&t);
    return rc ? err_report(&e) : BS_OK;
}

/* Iteration-weighted average bits of tensor c over the MAC layers. */
static double avg_bits(const trace *t, tensor_class c)
{
    double sum = 0, weight = 0;
    for (uint32_t i = 0; i < t->model.n_layers; i++) {
        if (!model_layer_is_mac(&t->model.layers[i]))
            continue;
        size_t n;
        const trace_segment *s = trace_layer_segments(t, i, &n);
        for (size_t k = 0; k < n; k++) {
            double len = (double)(s[k].end - s[k].first);
            sum += len * s[k].d->fmt[c].bits;
            weight += len;
        }
    }
    return weight > 0 ? sum / weight : 0;
}

/* Distinct decisions over all segments. Decisions are interned (trace.h: equal decisions are
 * one pointer), so this is a set of pointers (open addressing, load <= 1/2, grown as needed;
 * 0 when out of memory). */
static size_t distinct_tuples(const trace *t)
{
    size_t cap = 0, n = 0;
    const trace_decision **slots = NULL;
    for (uint32_t i = 0; i < t->model.n_layers; i++) {
        size_t ns;
        const trace_segment *s = trace_layer_segments(t, i, &ns);
        for (size_t k = 0; k < ns; k++) {
            if ((n + 1) * 2 > cap) {
                size_t ncap = cap ? 2 * cap : 1024;
                const trace_decision **bigger = calloc(ncap, sizeof *bigger);
                if (!bigger) {
                    free(slots);
                    return 0;
                }
                for (size_t j = 0; j < cap; j++)
                    if (slots[j]) {
                        size_t h = (size_t)(((uintptr_t)slots[j] >> 4) * 0x9e3779b97f4a7c15ull);
                        while (bigger[h & (ncap - 1)])
                            h++;
                        bigger[h & (ncap - 1)] = slots[j];
                    }
                free(slots);
                slots = bigger;
                cap = ncap;
            }
            size_t h = (size_t)(((uintptr_t)s[k].d >> 4) * 0x9e3779b97f4a7c15ull);
            while (slots[h & (cap - 1)] && slots[h & (cap - 1)] != s[k].d)
                h++;
            if (!slots[h & (cap - 1)]) {
                slots[h & (cap - 1)] = s[k].d;
                n++;
            }
        }
    }
    free(slots);
    return n;
}

static int cmd_check(int argc, char **argv)
{
    const cmd_spec spec = {
        .name = "trace check", .synopsis = check_synopsis,
        .about = "Validates a trace against its model and summarises it: layers, iterations,\n"
                 "segments, distinct precision tuples, overheads, average bits per tensor class.",
        .min_args = 1, .max_args = 1, .args_error = "needs exactly one FILE"};
    int fmt, first, rc;
    trace t;
    if (!cmd_parse_format(spec, argc, argv, &fmt, &first, &rc) ||
        (rc = read_trace_arg(&t, argv[first])))
        return rc;
    static const char *const cols[] = {"metric", "value"};
    table *tb = table_new(2, cols);
    if (!tb) {
        trace_free(&t);
        return BS_EINTERNAL;
    }
    char buf[64];
#define ROW_STR(k, v) (table_row(tb), table_cell_str(tb, k), table_cell_str(tb, v))
#define ROW_U64(k, v) (table_row(tb), table_cell_str(tb, k), table_cell_u64(tb, v))
    ROW_STR("model", t.model.name);
    ROW_STR("scheme", t.scheme);
    ROW_U64("layers", t.model.n_layers);
    ROW_U64("iterations", t.total_iters);
    ROW_U64("segments", trace_segment_count(&t));
    ROW_U64("distinct_tuples", distinct_tuples(&t));
    ROW_U64("overhead_records", t.n_overheads);
    double overhead_ops = 0;    /* a double: a long run of big checks can pass 2^64 */
    for (size_t i = 0; i < t.n_overheads; i++)
        overhead_ops += (double)t.overheads[i].ops *
                        (double)(t.overheads[i].end - t.overheads[i].first);
    table_row(tb);
    table_cell_str(tb, "overhead_ops");
    table_cell_double(tb, "%.6g", overhead_ops);
    for (int k = 0; k < TENSOR_COUNT; k++) {
        snprintf(buf, sizeof buf, "avg_bits_%s", trace_tensor_name((tensor_class)k));
        table_row(tb);
        table_cell_str(tb, buf);
        table_cell_double(tb, "%.4f", avg_bits(&t, (tensor_class)k));
    }
#undef ROW_STR
#undef ROW_U64
    trace_free(&t);
    return cmd_print_table(tb, fmt);
}

static int cmd_cat(int argc, char **argv)
{
    const char *out = NULL;
    cmd_opt opts[] = {
        CMD_OPT("output", 'o', "OUT", "where to write ('-' is stdout)", "-", CMD_STR, &out),
    };
    const cmd_spec spec = {
        .name = "trace cat", .synopsis = cat_synopsis,
        .about = "Rewrites a trace in canonical form (the form its identity in the database is\n"
                 "taken from).",
        CMD_OPTS(opts), .min_args = 1, .max_args = 1,
        .args_error = "needs exactly one FILE"};
    int first, rc;
    trace t;
    if (!cmd_parse(&spec, argc, argv, &first, &rc) || (rc = read_trace_arg(&t, argv[first])))
        return rc;
    bs_error e;
    rc = write_out(&t, out, &e);
    trace_free(&t);
    return rc ? err_report(&e) : BS_OK;
}

static int cmd_schemes(int argc, char **argv)
{
    const cmd_spec spec = {
        .name = "trace schemes", .synopsis = schemes_synopsis,
        .about = "The scheme generators with their default epochs, parameters, parameter defaults\n"
                 "and sources.",
        .max_args = 0, .args_error = "takes no arguments"};
    int fmt, first, rc;
    if (!cmd_parse_format(spec, argc, argv, &fmt, &first, &rc))
        return rc;
    static const char *const cols[] = {"scheme", "epochs", "param", "default", "meaning"};
    table *tb = table_new(5, cols);
    if (!tb)
        return BS_EINTERNAL;
    size_t n;
    const scheme_info *s = scheme_table(&n);
    for (size_t i = 0; i < n; i++) {
        table_row(tb);
        table_cell_str(tb, s[i].name);
        table_cell_u64(tb, s[i].default_epochs);
        table_cell_str(tb, "-");
        table_cell_str(tb, "-");
        char what[256];
        snprintf(what, sizeof what, "%s [%s]", s[i].summary, s[i].source);
        table_cell_str(tb, what);
        for (int k = 0; k < SCHEME_PARAMS_MAX && s[i].params[k].name; k++) {
            table_row(tb);
            table_cell_str(tb, s[i].name);
            table_cell_str(tb, "");
            table_cell_str(tb, s[i].params[k].name);
            table_cell_str(tb, s[i].params[k].default_value);
            table_cell_str(tb, s[i].params[k].help);
        }
    }
    return cmd_print_table(tb, fmt);
}

static const cmd_action subs[] = {
    {"gen", cmd_gen, gen_synopsis, "write the trace a scheme generator decides for a model"},
    {"check", cmd_check, check_synopsis, "validate a trace and summarise it"},
    {"cat", cmd_cat, cat_synopsis, "rewrite a trace in canonical form"},
    {"schemes", cmd_schemes, schemes_synopsis, "list the generators, their parameters and sources"},
};

int cmd_trace(int argc, char **argv)
{
    return cmd_dispatch("trace",
                        "A trace records what a quantized-training run decided: per layer and iteration the\n"
                        "formats of W, A, G, WG, U and GW (G as the weight-gradient pass reads it,\n"
                        "default G) and the densities of W, A, G, written as changes\n"
                        "(traces/FORMAT.md).",
                        subs, CMD_N(subs), argc, argv);
}
