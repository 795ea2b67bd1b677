/* cmd_model.c — `bitsim model list` and `bitsim model show NAME|FILE`.
 *
 * `show` is the per-layer view of what the replay will charge: each layer's shapes, its
 * parameters and sizes, its forward MAdds per sample, and the work of every training pass at
 * the chosen batch (DESIGN.md, "The training passes of one layer"), with network totals.
 * MAC work and elementwise work are kept in separate columns because they cost differently.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "checked.h"
#include "cmd.h"
#include "err.h"
#include "model.h"
#include "table.h"
#include "text.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bitsim model list [--format F]\n"
            "       bitsim model show NAME|FILE [--batch B] [--format F]\n\n"
            "list   the shipped networks (the zoo) with one line each\n"
            "show   per-layer shapes, parameters, sizes and op counts of a zoo network, a\n"
            "       model file (models/FORMAT.md) or a SCALE-Sim topology CSV (.csv)\n\n"
            "options:\n"
            "  -b, --batch B    samples per iteration for the per-pass columns (default 1)\n"
            "  -f, --format F   %s (default table)\n"
            "  -h, --help       this text\n\n"
            "columns of show: params (weights + bias + norm affine), weights (MAC weight\n"
            "elements), acts (output activation elements per sample), fwd_madds (per sample),\n"
            "FWD/BWD_DATA/BWD_WEIGHT (MAdds at the batch), elem_fwd/elem_bwd (elementwise ops\n"
            "at the batch: FWD, and BWD_DATA + BWD_WEIGHT), UPDATE (params, elementwise).\n"
            "a last row 'total' sums the columns (not in csv and json output).\n"
            "zoo directory: $BITSIM_MODELS, else models/ of the checkout or install.\n",
            table_format_choices());
}

typedef struct show_opts {
    uint64_t batch;
    table_format format;
} show_opts;

/* Parses the flags after the action word; returns BS_OK or BS_EUSAGE (message printed). */
static int parse_flags(int argc, char **argv, show_opts *o, int *first_arg)
{
    static const struct option longopts[] = {
        {"batch", required_argument, NULL, 'b'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    o->batch = 1;
    o->format = TABLE_TEXT;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "b:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (!text_parse_u64(optarg, 1, UINT64_MAX, &o->batch)) {
                fprintf(stderr, "bitsim: model: --batch: '%s' is not a whole number >= 1\n",
                        optarg);
                return BS_EUSAGE;
            }
            break;
        case 'f': {
            int f = table_format_parse(optarg);
            if (f < 0) {
                fprintf(stderr, "bitsim: model: --format: '%s' is not one of %s\n", optarg,
                        table_format_choices());
                return BS_EUSAGE;
            }
            o->format = (table_format)f;
            break;
        }
        default:
            fprintf(stderr, "bitsim: model: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return BS_EUSAGE;
        }
    }
    *first_arg = optind;
    return BS_OK;
}

static void list_row(const char *name, const char *desc, void *ctx)
{
    table *t = ctx;
    table_row(t);
    table_cell_str(t, name);
    table_cell_str(t, desc);
}

static int do_list(const show_opts *o)
{
    static const char *const cols[] = {"name", "description"};
    table *t = table_new(2, cols);
    if (!t)
        return err_report(&(bs_error){BS_EINTERNAL, "out of memory"});
    bs_error e;
    err_clear(&e);
    int rc = BS_OK;
    if (model_zoo_list(list_row, t, &e) < 0)
        rc = err_report(&e);
    else if (!table_print(t, o->format, stdout))
        rc = err_report(&(bs_error){BS_EINTERNAL, "out of memory printing the table"});
    table_free(t);
    return rc;
}

enum { N_NUMS = 10 };  /* numeric columns, "params" to "UPDATE" */

static const char *const show_cols[] = {
    "layer", "kind", "op", "in", "out", "params", "weights", "acts", "fwd_madds",
    "FWD", "BWD_DATA", "BWD_WEIGHT", "elem_fwd", "elem_bwd", "UPDATE"};
#define N_SHOW_COLS ((int)(sizeof show_cols / sizeof show_cols[0]))

/* The numeric cells of one layer, in column order from "params"; false on overflow. */
static bool layer_numbers(const model_layer *l, uint64_t batch, uint64_t v[N_NUMS])
{
    uint64_t bwd_data, bwd_weight;
    v[0] = l->params;
    v[1] = l->weight_elems;
    v[2] = l->out_elems;
    v[3] = l->fwd_madds;
    return model_pass_madds(l, PASS_FWD, batch, &v[4]) &&
           model_pass_madds(l, PASS_BWD_DATA, batch, &v[5]) &&
           model_pass_madds(l, PASS_BWD_WEIGHT, batch, &v[6]) &&
           model_pass_elem_ops(l, PASS_FWD, batch, &v[7]) &&
           model_pass_elem_ops(l, PASS_BWD_DATA, batch, &bwd_data) &&
           model_pass_elem_ops(l, PASS_BWD_WEIGHT, batch, &bwd_weight) &&
           checked_add(bwd_data, bwd_weight, &v[8]) &&
           model_pass_elem_ops(l, PASS_UPDATE, batch, &v[9]);
}

static void cell_shape(table *t, tensor_shape s)
{
    char buf[48];
    snprintf(buf, sizeof buf, "%" PRIu32 "x%" PRIu32 "x%" PRIu32, s.c, s.h, s.w);
    table_cell_str(t, buf);
}

static int do_show(const char *what, const show_opts *o)
{
    bs_error e;
    err_clear(&e);
    model m;
    if (model_load(&m, what, &e))
        return err_report(&e);
    table *t = table_new(N_SHOW_COLS, show_cols);
    if (!t) {
        model_free(&m);
        return err_report(&(bs_error){BS_EINTERNAL, "out of memory"});
    }
    uint64_t sum[N_NUMS] = {0};
    int rc = BS_OK;
    for (uint32_t i = 0; i < m.n_layers && rc == BS_OK; i++) {
        const model_layer *l = &m.layers[i];
        uint64_t v[N_NUMS];
        bool ok = layer_numbers(l, o->batch, v);
        for (int c = 0; ok && c < N_NUMS; c++)
            ok = checked_add(sum[c], v[c], &sum[c]);
        if (!ok) {
            rc = err_set(&e, BS_EINPUT, "--batch: %" PRIu64 " makes the counts of '%s' "
                         "overflow 64 bits", o->batch, l->name);
            break;
        }
        table_row(t);
        table_cell_str(t, l->name);
        table_cell_str(t, model_kind_name(l->kind));
        table_cell_str(t, l->op[0] ? l->op : "-");
        cell_shape(t, l->in);
        cell_shape(t, l->out);
        for (int c = 0; c < N_NUMS; c++)
            table_cell_u64(t, v[c]);
    }
    /* the totals row is for readers; csv and json stay one row per layer for programs */
    bool with_total = o->format != TABLE_CSV && o->format != TABLE_JSON;
    if (rc == BS_OK && with_total) {
        table_row(t);
        table_cell_str(t, "total");
        table_cell_str(t, "-");
        table_cell_str(t, "-");
        cell_shape(t, m.input);
        cell_shape(t, m.layers[m.n_layers - 1].out);
        for (int c = 0; c < N_NUMS; c++)
            table_cell_u64(t, sum[c]);
    }
    if (rc == BS_OK) {
        if (o->format == TABLE_TEXT)
            printf("model %s (%s), %" PRIu32 " layers, batch %" PRIu64 "\n", m.name, m.source,
                   m.n_layers, o->batch);
        if (!table_print(t, o->format, stdout))
            rc = err_set(&e, BS_EINTERNAL, "out of memory printing the table");
    }
    table_free(t);
    model_free(&m);
    return rc ? err_report(&e) : BS_OK;
}

int cmd_model(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) {
        usage(stdout);
        return BS_OK;
    }
    if (argc < 2) {
        usage(stderr);
        return BS_EUSAGE;
    }
    const char *action = argv[1];
    show_opts o;
    int first;
    int rc = parse_flags(argc - 1, argv + 1, &o, &first);
    if (rc)
        return rc;
    int n_args = argc - 1 - first;
    char **args = argv + 1 + first;
    if (strcmp(action, "list") == 0 && n_args == 0)
        return do_list(&o);
    if (strcmp(action, "show") == 0 && n_args == 1)
        return do_show(args[0], &o);
    fprintf(stderr, "bitsim: model: expected 'list' or 'show NAME|FILE'\n");
    usage(stderr);
    return BS_EUSAGE;
}
