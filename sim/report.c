/* report.c — report/compare queries over the store's views (see report.h and schema.sql).
 *
 * All arithmetic that defines a figure lives in SQL next to the schema's views, so the CLI,
 * the plots and a user's own sqlite3 session agree: shares are a row's sum over the run's
 * sum (window function over the grouped rows), speedups come from scheme_comparison. The
 * baseline is the latest complete run with that label (or, when no run carries the label, with
 * that scheme) of the same model on the same arch, or on --baseline-arch when given.
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store_query.h"
#include "text.h"

static const char *const by_names[REPORT_BY_COUNT + 1] = {"layer", "pass", "epoch", "kind",
                                                          NULL};

const char *const *report_by_names(void)
{
    return by_names;
}

/* " (model M, arch A)" for the filters given, "" for none: the error names what was asked. */
static void filter_text(const report_run_query *q, char *buf, size_t n)
{
    buf[0] = '\0';
    if (q->model && q->arch)
        snprintf(buf, n, " (model %s, arch %s)", q->model, q->arch);
    else if (q->model || q->arch)
        snprintf(buf, n, " (%s %s)", q->model ? "model" : "arch", q->model ? q->model : q->arch);
}

/* One row per (model, arch) pair the query matches, with its latest run; a label on two
 * pairs is ambiguous (the latest run on either would be an arbitrary pick). */
int report_find_run(store *s, const report_run_query *q, int64_t *out, bs_error *e)
{
    static const char sql[] =
        "SELECT model_name, arch_name, max(run_id) FROM run_summary"
        " WHERE (CASE WHEN ?1 > 0 THEN run_id = ?1 ELSE label = ?2 END)"
        "   AND (?3 IS NULL OR model_name = ?3) AND (?4 IS NULL OR arch_name = ?4)"
        " GROUP BY model_name, arch_name ORDER BY model_name, arch_name";
    *out = 0;
    store_query *st;
    int rc = store_query_open(s, sql, "finding the run", &st, e);
    if (rc)
        return rc;
    store_query_bind_int(st, 1, q->run_id > 0 ? q->run_id : 0);
    store_query_bind_text(st, 2, q->label ? q->label : "");
    store_query_bind_text(st, 3, q->model);
    store_query_bind_text(st, 4, q->arch);
    int pairs = 0;
    char choices[512] = "";
    while (store_query_next(st)) {
        size_t len = strlen(choices);
        snprintf(choices + len, sizeof choices - len, "%s%s on %s", pairs ? ", " : "",
                 store_query_text(st, 0), store_query_text(st, 1));
        *out = store_query_int(st, 2);
        pairs++;
    }
    if ((rc = store_query_close(st, e))) {
        *out = 0;
        return rc;
    }
    if (pairs == 1)
        return BS_OK;
    *out = 0;
    char filters[256];
    filter_text(q, filters, sizeof filters);
    if (pairs > 1)
        return err_set(e, BS_EINPUT, "label '%s'%s is on runs of %d (model, arch) pairs: %s; "
                       "pick one with --model and --arch", q->label ? q->label : "", filters,
                       pairs, choices);
    if (q->run_id > 0)
        return err_set(e, BS_EINPUT, "no complete run %lld%s in the database",
                       (long long)q->run_id, filters);
    return err_set(e, BS_EINPUT, "no complete run labelled '%s'%s in the database",
                   q->label ? q->label : "", filters);
}

/* Appends " NAME VALUE" to buf when v is a number (NULL in the store = not applicable),
 * after a "; " unless it is the first metric (buf ends in the list's ':'). */
static void append_metric(char *buf, size_t n, const char *name, const char *fmt, double v)
{
    if (!isfinite(v))
        return;
    size_t len = strlen(buf);
    if (len + 1 >= n)
        return;
    int w = snprintf(buf + len, n - len, "%s %s", len && buf[len - 1] == ':' ? "" : ";", name);
    if (w > 0 && (size_t)w < n - len)
        snprintf(buf + len + (size_t)w, n - len - (size_t)w, fmt, v);
}

int report_run_headline(store *s, int64_t run, char *buf, size_t n, bs_error *e)
{
    store_query *st;
    int rc = store_query_open(s,
                              "SELECT label, scheme, model_name, arch_name, epochs, iterations,"
                              " batch, madds, gbitops, latency_s, energy_j, wall_s, options,"
                              " cpt_cost_ratio, adapt_speedup, mem_total_bits / 8388608.0,"
                              " smaq_storage_benefit"
                              " FROM run_summary WHERE run_id = ?1",
                              "reading the run", &st, e);
    if (rc)
        return rc;
    store_query_bind_int(st, 1, run);
    bool found = store_query_next(st);
    if (found) {
        const char *opts = store_query_text(st, 12);
        snprintf(buf, n,
                 "run %lld '%s' (scheme %s): %s on %s, %lld epochs, %lld iterations of batch %lld%s%s\n"
                 "  %.4g MAdds, %.4g GBitOPs, latency %.4g s, energy %.4g J (replayed in %.3g s)\n"
                 "  papers' metrics:",
                 (long long)run, store_query_text(st, 0), store_query_text(st, 1),
                 store_query_text(st, 2), store_query_text(st, 3),
                 (long long)store_query_int(st, 4), (long long)store_query_int(st, 5),
                 (long long)store_query_int(st, 6), *opts ? ", options " : "", opts,
                 store_query_double(st, 7), store_query_double(st, 8),
                 store_query_double(st, 9), store_query_double(st, 10),
                 store_query_double(st, 11));
        append_metric(buf, n, "CPT cost ratio ", "%.4f", store_query_double(st, 13));
        append_metric(buf, n, "AdaPT speedup ", "%.3fx", store_query_double(st, 14));
        append_metric(buf, n, "training memory ", "%.1f MiB", store_query_double(st, 15));
        append_metric(buf, n, "SmaQ storage benefit ", "%.3f", store_query_double(st, 16));
    }
    if ((rc = store_query_close(st, e)))
        return rc;
    if (!found)
        return err_set(e, BS_EINPUT, "no complete run %lld in the database", (long long)run);
    return BS_OK;
}

/* A cost row's kind (report.h report_by): MAC passes are the rows with MAdds. */
#define KIND_SQL                                                                                 \
    "(CASE WHEN layer < 0 THEN 'overhead' WHEN pass = 'UPDATE' THEN 'update'"                     \
    " WHEN madds > 0 THEN 'mac' ELSE 'non-mac' END)"

/* How each breakdown groups the run's cost rows. Key columns come first in the output. */
typedef struct breakdown_kind {
    const char *key_sql;        /* selected key columns */
    const char *group_sql, *order_sql;
    int n_keys;
    const char *key_names[2];
} breakdown_kind;

static const breakdown_kind breakdowns[REPORT_BY_COUNT] = {
    [REPORT_BY_LAYER] = {"layer, min(layer_name)", "layer", "layer", 2, {"layer", "name"}},
    [REPORT_BY_PASS] = {"pass", "pass",
                        "CASE pass WHEN 'FWD' THEN 0 WHEN 'BWD_DATA' THEN 1 WHEN 'BWD_WEIGHT'"
                        " THEN 2 WHEN 'UPDATE' THEN 3 ELSE 4 END",
                        1, {"pass", NULL}},
    [REPORT_BY_EPOCH] = {"epoch", "epoch", "epoch", 1, {"epoch", NULL}},
    [REPORT_BY_KIND] = {KIND_SQL, KIND_SQL,
                        "CASE " KIND_SQL " WHEN 'mac' THEN 0 WHEN 'non-mac' THEN 1"
                        " WHEN 'update' THEN 2 ELSE 3 END",
                        1, {"kind", NULL}},
};

/* Value columns after the keys: name, printf format. Their SQL is in breakdown_sql's order. */
static const struct {
    const char *name, *fmt;
} breakdown_cols[] = {
    {"madds", "%.4g"},     {"gbitops", "%.4g"},  {"cycles", "%.4g"},   {"latency_s", "%.4g"},
    {"time_pct", "%.1f"},  {"stall_pct", "%.1f"}, {"energy_j", "%.4g"}, {"energy_pct", "%.1f"},
    {"core_pct", "%.1f"},  {"sram_pct", "%.1f"},  {"dram_pct", "%.1f"}, {"leak_pct", "%.1f"},
};
#define N_BREAKDOWN_COLS ((int)(sizeof breakdown_cols / sizeof breakdown_cols[0]))

/* MAdds summed in 32-bit halves (schema.sql, epoch_costs: exact below 2^63, REAL beyond). */
static const char breakdown_values_sql[] =
    "sum(madds >> 32) * 4294967296 + sum(madds & 4294967295), sum(bitops) / 1e9, sum(total_cycles), sum(latency_s),"
    " 100.0 * sum(latency_s) / sum(sum(latency_s)) OVER (),"
    " 100.0 * sum(stall_cycles) / sum(total_cycles),"
    " sum(energy_pj) * 1e-12,"
    " 100.0 * sum(energy_pj) / sum(sum(energy_pj)) OVER (),"
    " 100.0 * sum(energy_core_pj) / sum(energy_pj), 100.0 * sum(energy_sram_pj) / sum(energy_pj),"
    " 100.0 * sum(energy_dram_pj) / sum(energy_pj), 100.0 * sum(energy_leak_pj) / sum(energy_pj)";

int report_breakdown(store *s, int64_t run, report_by by, table **out, bs_error *e)
{
    *out = NULL;
    if ((int)by < 0 || by >= REPORT_BY_COUNT)
        return err_set(e, BS_EINTERNAL, "report_breakdown: bad grouping %d", (int)by);
    const breakdown_kind *k = &breakdowns[by];
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT %s, %s FROM cost_rows WHERE run_id = ?1 GROUP BY %s ORDER BY %s",
             k->key_sql, breakdown_values_sql, k->group_sql, k->order_sql);
    const char *names[2 + N_BREAKDOWN_COLS];
    for (int i = 0; i < k->n_keys; i++)
        names[i] = k->key_names[i];
    for (int i = 0; i < N_BREAKDOWN_COLS; i++)
        names[k->n_keys + i] = breakdown_cols[i].name;
    store_query *st;
    int rc = store_query_open(s, sql, "building the breakdown", &st, e);
    if (rc)
        return rc;
    table *t = table_new(k->n_keys + N_BREAKDOWN_COLS, names);
    if (!t) {
        store_query_close(st, NULL);
        return err_set(e, BS_EINTERNAL, "out of memory building the breakdown");
    }
    store_query_bind_int(st, 1, run);
    while (store_query_next(st)) {
        table_row(t);
        for (int i = 0; i < k->n_keys; i++) {
            if (store_query_is_int(st, i))
                table_cell_i64(t, store_query_int(st, i));
            else
                table_cell_str(t, store_query_text(st, i));
        }
        for (int i = 0; i < N_BREAKDOWN_COLS; i++)
            table_cell_double(t, breakdown_cols[i].fmt, store_query_double(st, k->n_keys + i));
    }
    if ((rc = store_query_close(st, e))) {
        table_free(t);
        return rc;
    }
    *out = t;
    return BS_OK;
}

/* Picks, for every compared run, the baseline run id: the latest complete run of the same
 * model whose label is ?1 (or whose scheme is ?1 when no run has that label), on the same
 * arch or on arch ?4. Filters ?2 model, ?3 arch. A label rerun (new trace, newer bitsim)
 * shows once, as its latest run, as in the plots; older runs stay in the database. */
static const char compare_sql[] =
    "SELECT c.run_id, c.model_name, c.arch_name, c.label, c.scheme, c.base_label,"
    " c.madds, c.gbitops, c.energy_j, c.latency_s, c.speedup, c.energy_saving,"
    " c.cpt_cost_ratio, c.adapt_speedup, c.mem_total_bits / 8388608.0, c.smaq_storage_benefit,"
    " (SELECT 100.0 * total(CASE WHEN " KIND_SQL " = 'non-mac' THEN k.latency_s END)"
    "   / total(k.latency_s) FROM cost_rows k WHERE k.run_id = c.run_id),"
    " (SELECT 100.0 * total(CASE WHEN " KIND_SQL " = 'non-mac' THEN k.energy_pj END)"
    "   / total(k.energy_pj) FROM cost_rows k WHERE k.run_id = c.run_id)"
    " FROM scheme_comparison c"
    " WHERE c.base_run_id = (SELECT max(b.run_id) FROM run_summary b"
    "   WHERE b.model_id = c.model_id"
    "   AND (CASE WHEN ?4 IS NULL THEN b.arch_id = c.arch_id ELSE b.arch_name = ?4 END)"
    "   AND (b.label = ?1 OR (b.scheme = ?1"
    "        AND NOT EXISTS (SELECT 1 FROM run_summary l WHERE l.label = ?1))))"
    " AND c.run_id = (SELECT max(x.run_id) FROM run_summary x WHERE x.label = c.label"
    "   AND x.model_id = c.model_id AND x.arch_id = c.arch_id)"
    " AND (?2 IS NULL OR c.model_name = ?2) AND (?3 IS NULL OR c.arch_name = ?3)"
    " ORDER BY c.model_name, c.arch_name, c.run_id";

int report_compare_each(store *s, const report_compare_query *q,
                        int (*fn)(const report_compare_row *row, void *ctx), void *ctx,
                        bs_error *e)
{
    if (!q->baseline || !*q->baseline)
        return err_set(e, BS_EUSAGE, "compare needs a baseline (a run label or a scheme)");
    store_query *st;
    int rc = store_query_open(s, compare_sql, "comparing runs", &st, e);
    if (rc)
        return rc;
    store_query_bind_text(st, 1, q->baseline);
    store_query_bind_text(st, 2, q->model);
    store_query_bind_text(st, 3, q->arch);
    store_query_bind_text(st, 4, q->baseline_arch);
    int stop = 0, rows = 0;
    while (!stop && store_query_next(st)) {
        report_compare_row r = {
            .run_id = store_query_int(st, 0),
            .model = store_query_text(st, 1),
            .arch = store_query_text(st, 2),
            .label = store_query_text(st, 3),
            .scheme = store_query_text(st, 4),
            .baseline_label = store_query_text(st, 5),
            .madds = store_query_double(st, 6),
            .gbitops = store_query_double(st, 7),
            .energy_j = store_query_double(st, 8),
            .latency_s = store_query_double(st, 9),
            .speedup = store_query_double(st, 10),
            .energy_saving = store_query_double(st, 11),
            .cpt_cost_ratio = store_query_double(st, 12),
            .adapt_speedup = store_query_double(st, 13),
            .mem_total_mib = store_query_double(st, 14),
            .smaq_storage_benefit = store_query_double(st, 15),
            .nonmac_time_pct = store_query_double(st, 16),
            .nonmac_energy_pct = store_query_double(st, 17),
        };
        rows++;
        stop = fn(&r, ctx);
    }
    rc = store_query_close(st, e);
    if (stop)
        return stop;
    if (rc)
        return rc;
    if (rows == 0)
        return err_set(e, BS_EINPUT,
                       "no run has a baseline '%s' (a run label or scheme of the same model%s%s%s)",
                       q->baseline, q->baseline_arch ? " on arch " : " and arch",
                       q->baseline_arch ? q->baseline_arch : "",
                       q->model || q->arch ? ", within the --model/--arch filter" : "");
    return BS_OK;
}

static const struct {
    const char *name, *fmt;
} compare_cols[] = {
    {"madds", "%.4g"},        {"gbitops", "%.4g"},        {"energy_j", "%.4g"},
    {"latency_s", "%.4g"},    {"speedup", "%.3f"},        {"energy_saving", "%.3f"},
    {"nonmac_time_pct", "%.1f"}, {"nonmac_energy_pct", "%.1f"},
    {"cpt_cost_ratio", "%.4f"}, {"adapt_speedup", "%.3f"}, {"mem_mib", "%.1f"},
    {"smaq_benefit", "%.3f"},
};
#define N_COMPARE_COLS ((int)(sizeof compare_cols / sizeof compare_cols[0]))

static int add_compare_row(const report_compare_row *r, void *ctx)
{
    table *t = ctx;
    const double v[N_COMPARE_COLS] = {r->madds, r->gbitops, r->energy_j, r->latency_s,
                                      r->speedup, r->energy_saving, r->nonmac_time_pct,
                                      r->nonmac_energy_pct, r->cpt_cost_ratio,
                                      r->adapt_speedup, r->mem_total_mib,
                                      r->smaq_storage_benefit};
    table_row(t);
    table_cell_i64(t, r->run_id);
    table_cell_str(t, r->model);
    table_cell_str(t, r->arch);
    table_cell_str(t, r->label);
    table_cell_str(t, r->scheme);
    for (int i = 0; i < N_COMPARE_COLS; i++)
        table_cell_double(t, compare_cols[i].fmt, v[i]);
    return 0;
}

int report_compare_table(store *s, const report_compare_query *q, table **out, bs_error *e)
{
    /* "run" first: the id bitsim report --run takes */
    enum { N_KEYS = 5 };
    const char *names[N_KEYS + N_COMPARE_COLS] = {"run", "model", "arch", "label", "scheme"};
    for (int i = 0; i < N_COMPARE_COLS; i++)
        names[N_KEYS + i] = compare_cols[i].name;
    *out = table_new(N_KEYS + N_COMPARE_COLS, names);
    if (!*out)
        return err_set(e, BS_EINTERNAL, "out of memory building the comparison");
    int rc = report_compare_each(s, q, add_compare_row, *out, e);
    if (rc) {
        table_free(*out);
        *out = NULL;
    }
    return rc;
}
