/* store_merge.c — `bitsim merge`: one database per shard in, one database out (see
 * store_merge.h).
 *
 * How: ATTACH the input database as `src`, then inside one write transaction
 *  1. INSERT OR IGNORE every input row: (kind, content_hash) is UNIQUE, so known inputs are
 *     skipped;
 *  2. for each complete src run (in id order), map its arch/model/trace ids to OUT's ids
 *     through content_hash, skip it when OUT has a complete run with the same ids and options,
 *     else copy the run row, its costs rows and its run_totals row under the new run id.
 * Column lists come from the schema itself (PRAGMA table_info), so a column added to
 * schema.sql is merged without touching this file. OUT's connection is the store's own
 * (store_private.h): the merge runs inside the store layer, no other module holds a handle.
 */
#include "store_merge.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_private.h"
#include "store_query.h"
#include "text.h"

static int db_error(sqlite3 *db, const char *what, const char *path, bs_error *e)
{
    return err_set(e, BS_EINPUT, "%s: %s: %s", path, what, sqlite3_errmsg(db));
}

static int exec_sql(sqlite3 *db, const char *sql, const char *path, bs_error *e)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = err_set(e, BS_EINPUT, "%s: merging: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        return rc;
    }
    return BS_OK;
}

/* "a, b, c" of table's columns except skip, prefixed by prefix (e.g. "s."), into buf. */
static int column_list(sqlite3 *db, const char *table, const char *skip, const char *prefix,
                       char *buf, size_t n, bs_error *e)
{
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA main.table_info(%s)", table);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(db, "reading the schema", table, e);
    size_t len = 0;
    buf[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *col = (const char *)sqlite3_column_text(st, 1);
        if (!col || strcmp(col, skip) == 0)
            continue;
        int w = snprintf(buf + len, n - len, "%s%s%s", len ? ", " : "", prefix, col);
        if (w < 0 || (size_t)w >= n - len) {
            sqlite3_finalize(st);
            return err_set(e, BS_EINTERNAL, "merge: column list of %s too long", table);
        }
        len += (size_t)w;
    }
    sqlite3_finalize(st);
    return len ? BS_OK : err_set(e, BS_EINTERNAL, "merge: table %s has no columns", table);
}

enum { Q_RUNS, Q_MATCH, Q_COPY_RUN, Q_COPY_COSTS, Q_COPY_TOTALS, Q_COUNT };

typedef struct merger {
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
    const char *path;
    bool src_has_accuracy;      /* a source written before runs.accuracy_pct existed has not */
} merger;

/* The same input in OUT (T is the per-kind view archs, models or traces of schema.sql). */
#define MAP_ID(T, col)                                                                   \
    "(SELECT m.id FROM main." T " m JOIN src." T " s ON s.content_hash = m.content_hash" \
    " WHERE s.id = r." col ")"

static int prepare_all(merger *m, bs_error *e)
{
    char run_cols[2048], cost_cols[2048], cost_src[2048], tot_cols[2048], tot_src[2048];
    int rc;
    if ((rc = column_list(m->db, "runs", "id", "", run_cols, sizeof run_cols, e)) ||
        (rc = column_list(m->db, "costs", "run_id", "", cost_cols, sizeof cost_cols, e)) ||
        (rc = column_list(m->db, "costs", "run_id", "c.", cost_src, sizeof cost_src, e)) ||
        (rc = column_list(m->db, "run_totals", "run_id", "", tot_cols, sizeof tot_cols, e)) ||
        (rc = column_list(m->db, "run_totals", "run_id", "t.", tot_src, sizeof tot_src, e)))
        return rc;
    /* runs: copy every column but remap the three input ids */
    char run_src[2400] = "";
    char tmp[2048];
    snprintf(tmp, sizeof tmp, "%s", run_cols);
    size_t len = 0;
    for (char *col = strtok(tmp, ", "); col; col = strtok(NULL, ", ")) {
        const char *expr = strcmp(col, "arch_id") == 0 ? "?2"
                         : strcmp(col, "model_id") == 0 ? "?3"
                         : strcmp(col, "trace_id") == 0 ? "?4"
                         : strcmp(col, "accuracy_pct") == 0 && !m->src_has_accuracy ? "NULL"
                         : NULL;
        int w = snprintf(run_src + len, sizeof run_src - len, "%s%s%s", len ? ", " : "",
                         expr ? expr : "r.", expr ? "" : col);
        if (w < 0 || (size_t)w >= sizeof run_src - len)
            return err_set(e, BS_EINTERNAL, "merge: runs column list too long");
        len += (size_t)w;
    }
    char *sql[Q_COUNT];
    int ok = 1;
    ok &= asprintf(&sql[Q_RUNS],
                   "SELECT r.id, " MAP_ID("archs", "arch_id") ", " MAP_ID("models", "model_id")
                   ", " MAP_ID("traces", "trace_id") ", r.options FROM src.runs r"
                   " WHERE r.status = 'complete' ORDER BY r.id") > 0;
    ok &= asprintf(&sql[Q_MATCH],
                   "SELECT 1 FROM main.runs WHERE status = 'complete' AND arch_id = ?1"
                   " AND model_id = ?2 AND trace_id = ?3 AND options = ?4 LIMIT 1") > 0;
    ok &= asprintf(&sql[Q_COPY_RUN], "INSERT INTO main.runs (%s) SELECT %s FROM src.runs r"
                   " WHERE r.id = ?1", run_cols, run_src) > 0;
    ok &= asprintf(&sql[Q_COPY_COSTS], "INSERT INTO main.costs (run_id, %s) SELECT ?2, %s"
                   " FROM src.costs c WHERE c.run_id = ?1", cost_cols, cost_src) > 0;
    ok &= asprintf(&sql[Q_COPY_TOTALS], "INSERT INTO main.run_totals (run_id, %s) SELECT ?2,"
                   " %s FROM src.run_totals t WHERE t.run_id = ?1", tot_cols, tot_src) > 0;
    if (!ok)
        return err_set(e, BS_EINTERNAL, "out of memory");
    rc = BS_OK;
    for (int i = 0; i < Q_COUNT; i++) {
        if (!rc && sqlite3_prepare_v2(m->db, sql[i], -1, &m->q[i], NULL) != SQLITE_OK)
            rc = db_error(m->db, "preparing the merge", m->path, e);
        free(sql[i]);
    }
    return rc;
}

static int step_done(merger *m, sqlite3_stmt *st, bs_error *e)
{
    int s = sqlite3_step(st);
    sqlite3_reset(st);
    return s == SQLITE_DONE ? BS_OK : db_error(m->db, "copying a run", m->path, e);
}

static int copy_runs(merger *m, store_merge_stats *st, bs_error *e)
{
    sqlite3_stmt *runs = m->q[Q_RUNS];
    int s, rc = BS_OK;
    while (!rc && (s = sqlite3_step(runs)) == SQLITE_ROW) {
        int64_t src_id = sqlite3_column_int64(runs, 0);
        sqlite3_stmt *match = m->q[Q_MATCH];
        for (int k = 1; k <= 3; k++)
            sqlite3_bind_int64(match, k, sqlite3_column_int64(runs, k));
        sqlite3_bind_text(match, 4, (const char *)sqlite3_column_text(runs, 4), -1,
                          SQLITE_TRANSIENT);
        bool present = sqlite3_step(match) == SQLITE_ROW;
        sqlite3_reset(match);
        if (present) {
            st->runs_present++;
            continue;
        }
        sqlite3_stmt *cp = m->q[Q_COPY_RUN];
        sqlite3_bind_int64(cp, 1, src_id);
        for (int k = 1; k <= 3; k++)
            sqlite3_bind_int64(cp, k + 1, sqlite3_column_int64(runs, k));
        if ((rc = step_done(m, cp, e)))
            break;
        int64_t dst_id = sqlite3_last_insert_rowid(m->db);
        for (int q = Q_COPY_COSTS; q <= Q_COPY_TOTALS && !rc; q++) {
            sqlite3_bind_int64(m->q[q], 1, src_id);
            sqlite3_bind_int64(m->q[q], 2, dst_id);
            rc = step_done(m, m->q[q], e);
        }
        st->runs_added++;
    }
    if (!rc && s != SQLITE_DONE)
        rc = db_error(m->db, "reading runs", m->path, e);
    sqlite3_reset(runs);
    return rc;
}

int store_merge_into(store *out, const char *in_path, store_merge_stats *st, bs_error *e)
{
    /* Let the store check the input's identity first: never ATTACH a foreign file. */
    store *in;
    int rc = store_open_readonly(&in, in_path, e);
    if (rc)
        return rc;
    /* inputs are matched by content_hash: an input of an older schema (other digests) is
     * migrated in place first, as any writer opening it would */
    if (store_version(in) < STORE_SCHEMA_VERSION) {
        store_close(in);
        if ((rc = store_open(&in, in_path, e)))
            return rc;
    }
    if (!store_writable(out)) {
        store_close(in);
        return err_set(e, BS_EINTERNAL, "merge: the output database is not open for writing");
    }
    merger m = {.db = store_handle(out), .path = in_path,
                .src_has_accuracy = store_has_column(in, "runs", "accuracy_pct")};
    sqlite3_stmt *att;
    if (sqlite3_prepare_v2(m.db, "ATTACH DATABASE ?1 AS src", -1, &att, NULL) != SQLITE_OK) {
        store_close(in);
        return db_error(m.db, "attaching", in_path, e);
    }
    /* by the name the store opened it (an immutable URI for a read-only file) */
    sqlite3_bind_text(att, 1, store_attach_name(in), -1, SQLITE_TRANSIENT);
    int s = sqlite3_step(att);
    sqlite3_finalize(att);
    store_close(in);
    if (s != SQLITE_DONE)
        return db_error(m.db, "attaching", in_path, e);
    if ((rc = exec_sql(m.db, "BEGIN IMMEDIATE", in_path, e))) {
        exec_sql(m.db, "DETACH DATABASE src", in_path, NULL);
        return rc;
    }
    int before = sqlite3_total_changes(m.db);
    /* inputs are unique per (kind, content_hash): known ones are skipped */
    rc = exec_sql(m.db, "INSERT OR IGNORE INTO main.inputs (kind, name, content_hash, bytes,"
                  " content, added_at) SELECT kind, name, content_hash, bytes, content,"
                  " added_at FROM src.inputs ORDER BY id", in_path, e);
    if (!rc)
        st->inputs_added += (uint64_t)(sqlite3_total_changes(m.db) - before);
    if (!rc)
        rc = store_fill_arch_areas(out, e);     /* the new archs' areas, as store_put_input */
    if (!rc)
        rc = prepare_all(&m, e);
    if (!rc)
        rc = copy_runs(&m, st, e);
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(m.q[i]);
    if (rc)
        exec_sql(m.db, "ROLLBACK", in_path, NULL);
    else
        rc = exec_sql(m.db, "COMMIT", in_path, e);
    exec_sql(m.db, "DETACH DATABASE src", in_path, NULL);
    return rc;
}

/* Each run's digest: hashes of its identity, totals and costs rows (in key order); the
 * database digest sums them (order-free) and counts them. Numbers enter as their 17-digit
 * text, so equal doubles give equal digests on every platform. */
int store_merge_digest(store *s, uint64_t *digest, uint64_t *runs, bs_error *e)
{
    sqlite3 *db = store_handle(s);
    static const char sql[] =
        "SELECT r.id, a.content_hash || ' ' || m.content_hash || ' ' || t.content_hash || ' ' ||"
        " r.options || ' ' || r.scheme || ' ' || r.batch || ' ' || r.iterations || ' ' ||"
        " r.epochs FROM runs r JOIN archs a ON a.id = r.arch_id JOIN models m ON"
        " m.id = r.model_id JOIN traces t ON t.id = r.trace_id WHERE r.status = 'complete'";
    static const char rows_sql[] =
        "SELECT * FROM run_totals WHERE run_id = ?1";
    static const char costs_sql[] =
        "SELECT * FROM costs WHERE run_id = ?1 ORDER BY epoch, layer, pass";
    sqlite3_stmt *st = NULL, *tot = NULL, *cst = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, rows_sql, -1, &tot, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, costs_sql, -1, &cst, NULL) != SQLITE_OK) {
        int rc = db_error(db, "digest", "database", e);
        sqlite3_finalize(st);
        sqlite3_finalize(tot);
        sqlite3_finalize(cst);
        return rc;
    }
    *digest = 0;
    *runs = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 1);
        uint64_t h = text_hash64(id, strlen(id), 0);
        sqlite3_stmt *parts[2] = {tot, cst};
        for (int p = 0; p < 2; p++) {
            sqlite3_bind_int64(parts[p], 1, sqlite3_column_int64(st, 0));
            while (sqlite3_step(parts[p]) == SQLITE_ROW)
                for (int c = 1; c < sqlite3_column_count(parts[p]); c++) {
                    char buf[64];
                    int type = sqlite3_column_type(parts[p], c);
                    if (type == SQLITE_FLOAT)
                        snprintf(buf, sizeof buf, "%.17g", sqlite3_column_double(parts[p], c));
                    else
                        snprintf(buf, sizeof buf, "%.60s",
                                 type == SQLITE_NULL ? "null"
                                 : (const char *)sqlite3_column_text(parts[p], c));
                    h = text_hash64(buf, strlen(buf), h);
                }
            sqlite3_reset(parts[p]);
        }
        *digest += h;
        (*runs)++;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(tot);
    sqlite3_finalize(cst);
    return BS_OK;
}
