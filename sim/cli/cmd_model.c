/* cmd_model.c — `bitsim model list` and `bitsim model show NAME|FILE`.
 *
 * `show` is the per-layer view of what the replay will charge: each layer's shapes, its
 * parameters and sizes, its forward MAdds per sample, and the work of every training pass at
 * the chosen batch (DESIGN.md, "The training passes of one layer"), with network totals.
 * MAC work and elementwise work are kept in separate columns because they cost differently.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "checked.h"
#include "cmd.h"
#include "err.h"
#include "model.h"
#include "model_zoo.h"
#include "table.h"
#include "text.h"

typedef struct show_opts {
    uint64_t batch;
    int format;     /* table_format */
} show_opts;

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
        if (o->format == TABLE_TEXT) {
            printf("model %s (%s), %" PRIu32 " layers, batch %" PRIu64, m.name, m.source,
                   m.n_layers, o->batch);
            for (uint32_t i = 0; i < m.n_vars; i++)   /* the parameters this load used */
                printf(", %s %" PRIu64 "%s", m.vars[i].name, m.vars[i].value,
                       m.vars[i].value == m.vars[i].dflt ? "" : " (set)");
            printf("\n");
        }
        if (!table_print(t, (table_format)o->format, stdout))
            rc = err_set(&e, BS_EINTERNAL, "out of memory printing the table");
    }
    table_free(t);
    model_free(&m);
    return rc ? err_report(&e) : BS_OK;
}

static const char list_synopsis[] = "[--format F]";
static const char show_synopsis[] = "NAME|FILE [--batch B] [--seq N] [--model-param K=V]"
                                    " [--format F]";

static int model_list(int argc, char **argv)
{
    show_opts o = {0};
    const cmd_spec spec = {
        .name = "model list", .synopsis = list_synopsis,
        .about = "The shipped networks (the zoo), one line each: name and description.\n"
                 "zoo directory: $BITSIM_MODELS, else models/ of the checkout or install.",
        .max_args = 0, .args_error = "list takes no arguments"};
    int first, rc;
    if (!cmd_parse_format(spec, argc, argv, &o.format, &first, &rc))
        return rc;
    return do_list(&o);
}

static int model_show(int argc, char **argv)
{
    show_opts o = {0};
    cmd_model_params mp = {0};
    CMD_MODEL_PARAMS_INIT(&mp);
    cmd_opt opts[] = {
        CMD_OPT("batch", 'b', "B", "samples per iteration for the per-pass columns (as trace\n"
         "gen and cost; fwd_madds stays per sample)", "128", CMD_U64,
         &o.batch, .min = 1, .max = UINT64_MAX),
        CMD_MODEL_PARAM_OPTS(&mp),
        CMD_OPT_FORMAT(&o.format),
    };
    const cmd_spec spec = {
        .name = "model show", .synopsis = show_synopsis,
        .about = "Per-layer shapes, parameters, sizes and op counts of a zoo network, a model file\n"
                 "(models/FORMAT.md) or a SCALE-Sim topology CSV (.csv).",
        .epilog = "columns: params (weights + bias + norm affine), weights (MAC weight elements),\n"
                  "acts (output activation elements per sample), fwd_madds (per sample),\n"
                  "FWD/BWD_DATA/BWD_WEIGHT (MAdds at the batch), elem_fwd/elem_bwd (elementwise ops\n"
                  "at the batch: FWD, and BWD_DATA + BWD_WEIGHT), UPDATE (params, elementwise).\n"
                  "a last row 'total' sums the columns (not in csv and json output).",
        CMD_OPTS(opts), .min_args = 1, .max_args = 1,
        .args_error = "show needs one NAME|FILE"};
    int first, rc;
    char ref[PATH_MAX + 512];
    if (!cmd_parse(&spec, argc, argv, &first, &rc) ||
        !cmd_model_ref(&spec, argv[first], &mp, ref, sizeof ref, &rc))
        return rc;
    return do_show(ref, &o);
}

static const cmd_action actions[] = {
    {"list", model_list, list_synopsis, "the zoo: name and description of each shipped network"},
    {"show", model_show, show_synopsis, "a network's layers, sizes and per-pass op counts"},
};

int cmd_model(int argc, char **argv)
{
    return cmd_dispatch("model", NULL, actions, CMD_N(actions), argc, argv);
}
