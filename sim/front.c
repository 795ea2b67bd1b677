/* front.c — loading a sweep's points from the store and marking its Pareto front.
 *
 * Reads only the store: each run's totals and its arch's area and peak power as the store
 * keeps them (table arch_area, computed by the area model when the arch was stored), so
 * runs written by `bitsim run` take part like sweep points and no model runs here. An arch
 * the area model does not cover (a GPU roofline has no area: a NULL area with the model's
 * reason) leaves its runs out of the front, counted, rather than failing the listing.
 */
#include "front.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "pareto.h"

static char *dup_col(sqlite3_stmt *st, int c)
{
    const char *s = (const char *)sqlite3_column_text(st, c);
    return strdup(s ? s : "");
}

void front_free(front_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->pts[i].arch_name);
        free(s->pts[i].trace_name);
        free(s->pts[i].label);
    }
    free(s->pts);
    *s = (front_set){0};
}

/* Marks the front within each trace's points (pts sorted by trace_id). */
static int mark_fronts(front_set *s, bs_error *e)
{
    double *obj = malloc((s->n ? s->n : 1) * 3 * sizeof *obj);
    bool *on = malloc((s->n ? s->n : 1) * sizeof *on);
    if (!obj || !on) {
        free(obj);
        free(on);
        return err_set(e, BS_EINTERNAL, "out of memory");
    }
    s->n_front = 0;
    for (size_t lo = 0, hi; lo < s->n; lo = hi) {
        for (hi = lo; hi < s->n && s->pts[hi].trace_id == s->pts[lo].trace_id; hi++) {
            obj[3 * (hi - lo)] = s->pts[hi].latency_s;
            obj[3 * (hi - lo) + 1] = s->pts[hi].energy_pj;
            obj[3 * (hi - lo) + 2] = s->pts[hi].area_mm2;
        }
        size_t k = pareto_front(obj, hi - lo, 3, on);
        if (k == (size_t)-1) {
            free(obj);
            free(on);
            return err_set(e, BS_EINPUT, "trace %s: a run has a non-finite latency, energy "
                           "or area", s->pts[lo].trace_name);
        }
        for (size_t i = lo; i < hi; i++)
            s->pts[i].on_front = on[i - lo];
        s->n_front += k;
    }
    free(obj);
    free(on);
    return BS_OK;
}

int front_load(sqlite3 *db, const front_query *q, front_set *out, bs_error *e)
{
    *out = (front_set){0};
    static const char sql[] =
        "SELECT r.id, r.trace_id, r.arch_id, r.arch_name, r.trace_name, r.label, t.latency_s,"
        " t.energy_pj, a.area_mm2, a.peak_w, coalesce(a.why, 'no stored area') FROM runs r"
        " JOIN run_totals t ON t.run_id = r.id LEFT JOIN arch_area a ON a.arch_id = r.arch_id"
        " WHERE r.status = 'complete' AND (?1 IS NULL OR r.trace_name = ?1)"
        " AND (?2 IS NULL OR r.label = ?2) AND (?3 IS NULL OR r.model_name = ?3)"
        " ORDER BY r.trace_id, t.latency_s, r.id";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return err_set(e, BS_EINPUT, "reading runs: %s%s", sqlite3_errmsg(db),
                       strstr(sqlite3_errmsg(db), "arch_area")
                           ? " (a schema-1 database: `bitsim merge NEW.db OLD.db` writes a "
                             "current copy with the archs' areas)" : "");
    if (q && q->trace)
        sqlite3_bind_text(st, 1, q->trace, -1, SQLITE_STATIC);
    if (q && q->label)
        sqlite3_bind_text(st, 2, q->label, -1, SQLITE_STATIC);
    if (q && q->model)
        sqlite3_bind_text(st, 3, q->model, -1, SQLITE_STATIC);
    size_t cap = 0;
    int rc = BS_OK, s;
    while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap) {
            cap = cap ? 2 * cap : 64;
            front_point *grown = realloc(out->pts, cap * sizeof *grown);
            if (!grown) {
                rc = err_set(e, BS_EINTERNAL, "out of memory");
                break;
            }
            out->pts = grown;
        }
        front_point *p = &out->pts[out->n];
        *p = (front_point){
            .run_id = sqlite3_column_int64(st, 0), .trace_id = sqlite3_column_int64(st, 1),
            .arch_id = sqlite3_column_int64(st, 2), .latency_s = sqlite3_column_double(st, 6),
            .energy_pj = sqlite3_column_double(st, 7),
        };
        if (sqlite3_column_type(st, 8) == SQLITE_NULL) {   /* no area model for this arch */
            if (!out->n_no_area++)
                snprintf(out->first_no_area, sizeof out->first_no_area, "%s",
                         (const char *)sqlite3_column_text(st, 10));
            continue;
        }
        p->area_mm2 = sqlite3_column_double(st, 8);
        p->power_w = sqlite3_column_double(st, 9);
        p->arch_name = dup_col(st, 3);
        p->trace_name = dup_col(st, 4);
        p->label = dup_col(st, 5);
        out->n++;
        if (!p->arch_name || !p->trace_name || !p->label)
            rc = err_set(e, BS_EINTERNAL, "out of memory");
    }
    if (!rc && s != SQLITE_DONE)
        rc = err_set(e, BS_EINPUT, "reading runs: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (!rc)
        rc = mark_fronts(out, e);
    if (rc)
        front_free(out);
    return rc;
}

table *front_table(const front_set *s, bool all)
{
    static const char *const cols[] = {"trace", "arch", "latency_s", "energy_j", "area_mm2",
                                       "power_w", "front", "run"};
    table *t = table_new(8, cols);
    if (!t)
        return NULL;
    for (size_t i = 0; i < s->n; i++) {
        const front_point *p = &s->pts[i];
        if (!all && !p->on_front)
            continue;
        table_row(t);
        table_cell_str(t, p->trace_name);
        table_cell_str(t, p->arch_name);
        table_cell_double(t, "%.9g", p->latency_s);
        table_cell_double(t, "%.9g", p->energy_pj * 1e-12);
        table_cell_double(t, "%.4g", p->area_mm2);
        table_cell_double(t, "%.4g", p->power_w);
        table_cell_str(t, p->on_front ? "yes" : "no");
        table_cell_i64(t, p->run_id);
    }
    return t;
}

/* Data for plots/pareto.gp: one block per trace ("# trace NAME"), each with every point as
 * "latency_s energy_j area_mm2 on_front", blocks separated by two blank lines (gnuplot
 * `index`), then a second file of the front only sorted by latency. */
static int write_plot_data(const front_set *s, FILE *all, FILE *front, bs_error *e)
{
    for (int pass = 0; pass < 2; pass++) {
        FILE *f = pass ? front : all;
        for (size_t lo = 0, hi; lo < s->n; lo = hi) {
            if (lo > 0)
                fputs("\n\n", f);
            fprintf(f, "# trace %s\n# latency_s energy_j area_mm2 on_front\n",
                    s->pts[lo].trace_name);
            /* points are sorted by latency within a trace: the front prints as a staircase */
            for (hi = lo; hi < s->n && s->pts[hi].trace_id == s->pts[lo].trace_id; hi++) {
                const front_point *p = &s->pts[hi];
                if (!pass || p->on_front)
                    fprintf(f, "%.9g %.9g %.9g %d\n", p->latency_s, p->energy_pj * 1e-12,
                            p->area_mm2, p->on_front);
            }
        }
        if (ferror(f))
            return err_set(e, BS_EINPUT, "writing plot data failed");
    }
    return BS_OK;
}

int front_write_plot_files(sqlite3 *db, const front_query *q, const char *dir, char *all_path,
                           char *front_path, size_t n, bs_error *e)
{
    front_set s;
    int rc = front_load(db, q, &s, e);
    if (rc)
        return rc;
    if (s.n == 0) {
        rc = err_set(e, BS_EINPUT, "no complete runs with an area model to draw a front of%s%s",
                     s.n_no_area ? "; first left out: " : "", s.n_no_area ? s.first_no_area : "");
        front_free(&s);
        return rc;
    }
    /* a front needs alternatives: some trace run on two or more archs (a sweep) */
    size_t most = 0;
    for (size_t i = 0; i < s.n; i++) {
        size_t same = 0;
        for (size_t k = 0; k < s.n; k++)
            same += s.pts[k].trace_id == s.pts[i].trace_id;
        most = same > most ? same : most;
    }
    if (most < 2) {
        front_free(&s);
        return err_set(e, BS_EINPUT, "no sweep: every trace ran on one arch with an area model,"
                       " so there is no front to draw (bitsim sweep runs a trace on many)");
    }
    snprintf(all_path, n, "%s/pareto-all.dat", dir);
    snprintf(front_path, n, "%s/pareto-front.dat", dir);
    FILE *all = fopen(all_path, "w"), *front = fopen(front_path, "w");
    if (!all || !front)
        rc = err_set(e, BS_EINTERNAL, "%s: cannot write plot data", dir);
    else
        rc = write_plot_data(&s, all, front, e);
    if (all && fclose(all) != 0 && !rc)
        rc = err_set(e, BS_EINTERNAL, "%s: cannot write plot data", all_path);
    if (front && fclose(front) != 0 && !rc)
        rc = err_set(e, BS_EINTERNAL, "%s: cannot write plot data", front_path);
    front_free(&s);
    return rc;
}
