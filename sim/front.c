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
#include <stdlib.h>
#include <string.h>

#include "pareto.h"
#include "store_query.h"

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

int front_load(store *db, const front_query *q, front_set *out, bs_error *e)
{
    *out = (front_set){0};
    if (!store_has_column(db, "arch_area", "area_mm2"))
        return err_set(e, BS_EINPUT, "reading runs: the database keeps no archs' areas (a "
                       "schema-1 database: `bitsim merge NEW.db OLD.db` writes a current copy "
                       "with the archs' areas)");
    static const char sql[] =
        "SELECT r.id, r.trace_id, r.arch_id, r.arch_name, r.trace_name, r.label, t.latency_s,"
        " t.energy_pj, a.area_mm2, a.peak_w, coalesce(a.why, 'no stored area') FROM runs r"
        " JOIN run_totals t ON t.run_id = r.id LEFT JOIN arch_area a ON a.arch_id = r.arch_id"
        " WHERE r.status = 'complete' AND (?1 IS NULL OR r.trace_name = ?1)"
        " AND (?2 IS NULL OR r.label = ?2) AND (?3 IS NULL OR r.model_name = ?3)"
        " ORDER BY r.trace_id, t.latency_s, r.id";
    store_query *st;
    int rc = store_query_open(db, sql, "reading runs", &st, e);
    if (rc)
        return rc;
    store_query_bind_text(st, 1, q ? q->trace : NULL);
    store_query_bind_text(st, 2, q ? q->label : NULL);
    store_query_bind_text(st, 3, q ? q->model : NULL);
    size_t cap = 0;
    while (!rc && store_query_next(st)) {
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
            .run_id = store_query_int(st, 0), .trace_id = store_query_int(st, 1),
            .arch_id = store_query_int(st, 2), .latency_s = store_query_double(st, 6),
            .energy_pj = store_query_double(st, 7),
        };
        if (store_query_is_null(st, 8)) {   /* no area model for this arch */
            if (!out->n_no_area++)
                snprintf(out->first_no_area, sizeof out->first_no_area, "%s",
                         store_query_text(st, 10));
            continue;
        }
        p->area_mm2 = store_query_double(st, 8);
        p->power_w = store_query_double(st, 9);
        p->arch_name = strdup(store_query_text(st, 3));
        p->trace_name = strdup(store_query_text(st, 4));
        p->label = strdup(store_query_text(st, 5));
        out->n++;
        if (!p->arch_name || !p->trace_name || !p->label)
            rc = err_set(e, BS_EINTERNAL, "out of memory");
    }
    int rc_q = store_query_close(st, rc ? NULL : e);
    if (!rc)
        rc = rc_q;
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

int front_write_plot_files(store *db, const front_query *q, const char *dir, char *all_path,
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
