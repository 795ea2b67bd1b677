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

/* Each action has its own usage text (`bitsim model show --help`); `bitsim model --help`
 * prints them all. */
static void usage_list(FILE *out)
{
    fprintf(out,
            "usage: bitsim model list [--format F]\n\n"
            "The shipped networks (the zoo), one line each: name and description.\n"
            "zoo directory: $BITSIM_MODELS, else models/ of the checkout or install.\n\n"
            "  -f, --format F   %s (default table)\n"
            "  -h, --help       this text\n",
            table_format_choices());
}

static void usage_show(FILE *out)
{
    fprintf(out,
            "usage: bitsim model show NAME|FILE [--batch B] [--format F]\n\n"
            "Per-layer shapes, parameters, sizes and op counts of a zoo network, a model file\n"
            "(models/FORMAT.md) or a SCALE-Sim topology CSV (.csv).\n\n"
            "  -b, --batch B    samples per iteration for the per-pass columns (default 1)\n"
            "  -f, --format F   %s (default table)\n"
            "  -h, --help       this text\n\n"
            "columns: params (weights + bias + norm affine), weights (MAC weight elements),\n"
            "acts (output activation elements per sample), fwd_madds (per sample),\n"
            "FWD/BWD_DATA/BWD_WEIGHT (MAdds at the batch), elem_fwd/elem_bwd (elementwise ops\n"
            "at the batch: FWD, and BWD_DATA + BWD_WEIGHT), UPDATE (params, elementwise).\n"
            "a last row 'total' sums the columns (not in csv and json output).\n",
            table_format_choices());
}

static void usage(FILE *out)
{
    usage_list(out);
    fputc('\n', out);
    usage_show(out);
}

typedef struct show_opts {
    uint64_t batch;
    int format;     /* table_format */
} show_opts;

/* Parses the flags after the action word; returns BS_OK or BS_EUSAGE (message printed). */
static int parse_flags(int argc, char **argv, void (*usage)(FILE *out), show_opts *o,
                       int *first_arg)
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
            if (!text_parse_u64(optarg, 1, UINT64_MAX, &o->batch))
                return cmd_bad_value("model", "--batch", optarg, "a whole number >= 1");
            break;
        case 'f':
            if (cmd_table_format("model", optarg, &o->format))
                return BS_EUSAGE;
            break;
        default:
            return cmd_bad_option("model", argv[optind - 1], usage);
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
    else if (!table_print(t, (table_format)o->format, stdout))
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
        if (!table_print(t, (table_format)o->format, stdout))
            rc = err_set(&e, BS_EINTERNAL, "out of memory printing the table");
    }
    table_free(t);
    model_free(&m);
    return rc ? err_report(&e) : BS_OK;
}

typedef struct model_action {
    const char *name;
    int n_args;     /* positional arguments after the flags */
    void (*usage)(FILE *out);
} model_action;

static const model_action actions[] = {
    {"list", 0, usage_list},
    {"show", 1, usage_show},
};

int cmd_model(int argc, char **argv)
{
    const model_action *act = NULL;
    for (size_t i = 0; argc >= 2 && i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(argv[1], actions[i].name) == 0)
            act = &actions[i];
    void (*act_usage)(FILE *) = act ? act->usage : usage;
    if (cmd_wants_help(argc, argv))
        return cmd_help(act_usage);
    if (!act)
        return cmd_usage_error("model", "expected 'list' or 'show NAME|FILE'", usage);
    show_opts o;
    int first = 0;
    int rc = parse_flags(argc - 1, argv + 1, act_usage, &o, &first);
    if (rc)
        return rc;
    int n_args = argc - 1 - first;
    char **args = argv + 1 + first;
    if (n_args != act->n_args)
        return cmd_usage_error("model", act->n_args ? "show needs one NAME|FILE"
                                                    : "list takes no arguments", act_usage);
    return act->n_args ? do_show(args[0], &o) : do_list(&o);
}
