/* cmd_trace.c — `bitsim trace`: generate, check, rewrite and list traces.
 *
 *   bitsim trace gen --scheme S --model M [--param k=v ...] [--epochs E --iters-per-epoch N
 *                    --batch B --seed S] -o FILE
 *   bitsim trace check FILE [--format F]   validate and summarise
 *   bitsim trace cat FILE [-o OUT]         canonical rewrite
 *   bitsim trace schemes [--format F]      generators with their parameters and defaults
 * The format is traces/FORMAT.md; generators are sim/scheme.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "scheme.h"
#include "table.h"
#include "text.h"
#include "trace.h"

#ifndef BITSIM_VERSION
#define BITSIM_VERSION "0.1.0"
#endif

#define PARAMS_MAX 32

/* Each subcommand has its own usage text (`bitsim trace gen --help`); `bitsim trace --help`
 * prints their synopses and what a trace is. */
#define GEN_SYNOPSIS                                                                           \
    "bitsim trace gen --scheme S --model M [--param k=v ...] [--epochs E]\n"                   \
    "                        [--iters-per-epoch N] [--batch B] [--seed S] -o FILE\n"
#define CHECK_SYNOPSIS "bitsim trace check FILE [--format F]\n"
#define CAT_SYNOPSIS "bitsim trace cat FILE [-o OUT]\n"
#define SCHEMES_SYNOPSIS "bitsim trace schemes [--format F]\n"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " GEN_SYNOPSIS "       " CHECK_SYNOPSIS "       " CAT_SYNOPSIS
            "       " SCHEMES_SYNOPSIS "\n"
            "A trace records what a quantized-training run decided: per layer and iteration the\n"
            "formats of W, A, G, WG, U and GW (G as the weight-gradient pass reads it,\n"
            "default G) and the densities of W, A, G, written as changes\n"
            "(traces/FORMAT.md). gen writes a scheme's trace, check validates and summarises\n"
            "one, cat rewrites one in canonical form, schemes lists the generators.\n"
            "`bitsim trace SUBCOMMAND --help` describes each.\n");
}

static void usage_gen(FILE *out)
{
    fprintf(out,
            "usage: " GEN_SYNOPSIS "\n"
            "Writes the trace a scheme generator decides for a model (see bitsim trace schemes).\n\n"
            "  -s, --scheme S          generator name\n"
            "  -m, --model M           zoo name or model file\n"
            "  -p, --param k=v         a generator parameter (repeatable, at most %d)\n"
            "  --epochs E              default: the scheme's own (160, MuPPET 114)\n"
            "  --iters-per-epoch N     default: ceil(50000 / batch)\n"
            "  --batch B               default 128\n"
            "  --seed S                default 1\n"
            "  -o, --output FILE       where to write ('-' is stdout)\n",
            PARAMS_MAX);
}

static void usage_check(FILE *out)
{
    fprintf(out,
            "usage: " CHECK_SYNOPSIS "\n"
            "Validates a trace against its model and summarises it: layers, iterations,\n"
            "segments, distinct precision tuples, overheads, average bits per tensor class.\n\n"
            "  -f, --format F   %s (default table)\n",
            table_format_choices());
}

static void usage_cat(FILE *out)
{
    fprintf(out,
            "usage: " CAT_SYNOPSIS "\n"
            "Rewrites a trace in canonical form (the form its identity in the database is\n"
            "taken from).\n\n"
            "  -o, --output OUT   where to write (default '-', stdout)\n");
}

static void usage_schemes(FILE *out)
{
    fprintf(out,
            "usage: " SCHEMES_SYNOPSIS "\n"
            "The scheme generators with their default epochs, parameters, parameter defaults\n"
            "and sources.\n\n"
            "  -f, --format F   %s (default table)\n",
            table_format_choices());
}

/* --epochs, --iters-per-epoch, --batch: a whole number >= 1. */
static int parse_u64_flag(const char *flag, const char *v, uint64_t *out)
{
    return text_parse_u64(v, 1, UINT64_MAX, out)
               ? BS_OK
               : cmd_bad_value("trace gen", flag, v, "a positive integer");
}

static int write_out(const trace *t, const char *out, bs_error *e)
{
    if (strcmp(out, "-") == 0)
        return trace_write(t, stdout, e);
    FILE *f = fopen(out, "wb");
    if (!f)
        return err_set(e, BS_EINPUT, "%s: cannot open for writing", out);
    int rc = trace_write(t, f, e);
    if (fclose(f) != 0 && !rc)
        rc = err_set(e, BS_EINPUT, "%s: write error", out);
    return rc;
}

static int cmd_gen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"scheme", required_argument, NULL, 's'}, {"model", required_argument, NULL, 'm'},
        {"param", required_argument, NULL, 'p'}, {"epochs", required_argument, NULL, 'E'},
        {"iters-per-epoch", required_argument, NULL, 'N'},
        {"batch", required_argument, NULL, 'B'}, {"seed", required_argument, NULL, 'S'},
        {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    scheme_request req;
    memset(&req, 0, sizeof req);
    req.seed = 1;
    const char *params[PARAMS_MAX], *out = NULL;
    size_t np = 0;
    int c, rc;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "s:m:p:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': req.scheme = optarg; break;
        case 'm': req.model_ref = optarg; break;
        case 'p':
            if (np == PARAMS_MAX)
                return cmd_usage_error("trace gen", "too many --param", usage_gen);
            params[np++] = optarg;
            break;
        case 'E': if ((rc = parse_u64_flag("--epochs", optarg, &req.epochs))) return rc; break;
        case 'N':
            if ((rc = parse_u64_flag("--iters-per-epoch", optarg, &req.iters_per_epoch)))
                return rc;
            break;
        case 'B': if ((rc = parse_u64_flag("--batch", optarg, &req.batch))) return rc; break;
        case 'S':
            if (!text_parse_u64(optarg, 0, UINT64_MAX, &req.seed))
                return cmd_bad_value("trace gen", "--seed", optarg, "a non-negative integer");
            break;
        case 'o': out = optarg; break;
        case 'h': return cmd_help(usage_gen);
        default: return cmd_bad_option("trace gen", argv[optind - 1], usage_gen);
        }
    }
    if (optind < argc)
        return cmd_usage_error("trace gen", "takes no positional arguments", usage_gen);
    if (!req.scheme || !req.model_ref || !out)
        return cmd_usage_error("trace gen", "needs --scheme, --model and -o", usage_gen);
    req.params = params;
    req.n_params = np;
    bs_error e;
    err_clear(&e);
    model m;
    if ((rc = model_load(&m, req.model_ref, &e)))
        return err_report(&e);
    req.model = &m;
    char prov[256];
    snprintf(prov, sizeof prov, "bitsim %s trace gen --scheme %s", BITSIM_VERSION,
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
            sum += len * s[k].d.fmt[c].bits;
            weight += len;
        }
    }
    return weight > 0 ? sum / weight : 0;
}

/* Packs the fields trace_decision_equal compares into bytes (so equal decisions pack equal). */
static size_t pack_decision(const trace_decision *d, unsigned char *out)
{
    size_t n = 0;
    for (int c = 0; c < TENSOR_COUNT; c++) {
        const num_format *f = &d->fmt[c];
        unsigned char b[6] = {f->kind, f->bits, (unsigned char)f->frac_bits, f->exp_bits,
                              (unsigned char)(f->block & 0xff), (unsigned char)(f->block >> 8)};
        memcpy(out + n, b, sizeof b);
        n += sizeof b;
        const trace_storage *s = &d->store[c];
        double frac = s->inlier_bits ? s->inlier_frac + 0.0 : 0.0;
        unsigned char sb[4] = {s->inlier_bits, s->inlier_bits ? s->outlier_bits : 0,
                               (unsigned char)(s->inlier_bits ? s->header_bits & 0xff : 0),
                               (unsigned char)(s->inlier_bits ? s->header_bits >> 8 : 0)};
        memcpy(out + n, sb, sizeof sb);
        n += sizeof sb;
        memcpy(out + n, &frac, sizeof frac);
        n += sizeof frac;
    }
    for (int i = 0; i < TRACE_DENSITY_COUNT; i++) {
        double v = d->density[i] + 0.0;     /* -0 and +0 compare equal */
        memcpy(out + n, &v, sizeof v);
        n += sizeof v;
    }
    return n;
}

/* Distinct decisions over all segments: an open-addressing hash set of packed decisions. */
static size_t distinct_tuples(const trace *t)
{
    size_t total = trace_segment_count(t), cap = 16;
    while (cap < 2 * total)
        cap *= 2;
    uint64_t *slots = calloc(cap, sizeof *slots);   /* hash | 1, 0 = empty */
    const trace_decision **who = calloc(cap, sizeof *who);
    size_t n = 0;
    unsigned char key[256];
    for (uint32_t i = 0; slots && who && i < t->model.n_layers; i++) {
        size_t ns;
        const trace_segment *s = trace_layer_segments(t, i, &ns);
        for (size_t k = 0; k < ns; k++) {
            uint64_t h = text_hash64(key, pack_decision(&s[k].d, key), 0) | 1;
            size_t j = h & (cap - 1);
            while (slots[j] && !(slots[j] == h && trace_decision_equal(who[j], &s[k].d)))
                j = (j + 1) & (cap - 1);
            if (!slots[j]) {
                slots[j] = h;
                who[j] = &s[k].d;
                n++;
            }
        }
    }
    free(slots);
    free(who);
    return n;
}

/* The options of check and schemes: --format and --help. Returns BS_OK with *fmt set, -1
 * when help was printed, or a usage error. */
static int parse_format_flag(int argc, char **argv, const char *cmd, void (*usage)(FILE *out),
                             int *fmt)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    *fmt = TABLE_TEXT;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return -1;
        }
        if (c != 'f')
            return cmd_bad_option(cmd, argv[optind - 1], usage);
        if (cmd_table_format(cmd, optarg, fmt))
            return BS_EUSAGE;
    }
    return BS_OK;
}

static int cmd_check(int argc, char **argv)
{
    int fmt, rc = parse_format_flag(argc, argv, "trace check", usage_check, &fmt);
    if (rc)
        return rc < 0 ? BS_OK : rc;
    if (optind != argc - 1)
        return cmd_usage_error("trace check", "needs exactly one FILE", usage_check);
    bs_error e;
    err_clear(&e);
    trace t;
    if (trace_read_file(&t, argv[optind], &e))
        return err_report(&e);
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
    bool ok = table_print(tb, (table_format)fmt, stdout);
    table_free(tb);
    trace_free(&t);
    return ok ? BS_OK : BS_EINTERNAL;
}

static int cmd_cat(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = "-";
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (c == 'h')
            return cmd_help(usage_cat);
        if (c != 'o')
            return cmd_bad_option("trace cat", argv[optind - 1], usage_cat);
        out = optarg;
    }
    if (optind != argc - 1)
        return cmd_usage_error("trace cat", "needs exactly one FILE", usage_cat);
    bs_error e;
    err_clear(&e);
    trace t;
    if (trace_read_file(&t, argv[optind], &e))
        return err_report(&e);
    int rc = write_out(&t, out, &e);
    trace_free(&t);
    return rc ? err_report(&e) : BS_OK;
}

static int cmd_schemes(int argc, char **argv)
{
    int fmt, rc = parse_format_flag(argc, argv, "trace schemes", usage_schemes, &fmt);
    if (rc)
        return rc < 0 ? BS_OK : rc;
    if (optind != argc)
        return cmd_usage_error("trace schemes", "takes no arguments", usage_schemes);
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
    bool ok = table_print(tb, (table_format)fmt, stdout);
    table_free(tb);
    return ok ? BS_OK : BS_EINTERNAL;
}

typedef struct trace_sub {
    const char *name;
    int (*fn)(int argc, char **argv);
} trace_sub;

static const trace_sub subs[] = {
    {"gen", cmd_gen}, {"check", cmd_check}, {"cat", cmd_cat}, {"schemes", cmd_schemes},
};

int cmd_trace(int argc, char **argv)
{
    if (argc < 2)
        return cmd_usage_error("trace", "needs a subcommand", usage);
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
        return cmd_help(usage);
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].fn(argc - 1, argv + 1);
    char msg[128];
    snprintf(msg, sizeof msg, "unknown subcommand '%s'", argv[1]);
    return cmd_usage_error("trace", msg, usage);
}
