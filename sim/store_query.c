/* store_query.c — read-only statements for the store's readers (contract in store_query.h).
 *
 * A thin cursor over one prepared statement. Why it is one: the readers (report, plot, front)
 * had each grown their own prepare/step/finalize, NULL-to-NaN and error helpers around a raw
 * handle that could also write; here the read-only check, the NULL conventions and the error
 * text are written once. A failure while stepping is remembered, not returned, so a loop reads
 * `while (store_query_next(q)) ...` and the one check is at close.
 */
#include "store_query.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "store_private.h"

struct store_query {
    store *s;
    sqlite3_stmt *st;
    const char *what;
    int step_rc;        /* the last step's SQLite code: ROW, DONE, or the failure */
};

int store_query_open(store *s, const char *sql, const char *what, store_query **out,
                     bs_error *e)
{
    *out = NULL;
    store_query *q = calloc(1, sizeof *q);
    if (!q)
        return err_set(e, BS_EINTERNAL, "out of memory while %s", what);
    *q = (store_query){.s = s, .what = what, .step_rc = SQLITE_DONE};
    if (sqlite3_prepare_v2(store_handle(s), sql, -1, &q->st, NULL) != SQLITE_OK) {
        free(q);
        return store_db_error(s, e, what);
    }
    if (!q->st || !sqlite3_stmt_readonly(q->st)) {
        sqlite3_finalize(q->st);
        free(q);
        return err_set(e, BS_EINTERNAL, "a reader's query would write to the database (while %s)",
                       what);
    }
    *out = q;
    return BS_OK;
}

void store_query_bind_text(store_query *q, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(q->st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q->st, i);
}

void store_query_bind_int(store_query *q, int i, int64_t v)
{
    sqlite3_bind_int64(q->st, i, v);
}

void store_query_bind_double(store_query *q, int i, double v)
{
    sqlite3_bind_double(q->st, i, v);
}

bool store_query_next(store_query *q)
{
    if (q->step_rc != SQLITE_ROW && q->step_rc != SQLITE_DONE)
        return false;   /* a failed walk stays failed until reset */
    q->step_rc = sqlite3_step(q->st);
    return q->step_rc == SQLITE_ROW;
}

/* The failure that ended the walk, as a bs_error; BS_OK for a walk that ran or stopped. */
static int walk_error(store_query *q, bs_error *e)
{
    if (q->step_rc == SQLITE_ROW || q->step_rc == SQLITE_DONE)
        return BS_OK;
    return store_db_error(q->s, e, q->what);
}

int store_query_reset(store_query *q, bs_error *e)
{
    int rc = walk_error(q, e);
    sqlite3_reset(q->st);
    sqlite3_clear_bindings(q->st);
    q->step_rc = SQLITE_DONE;
    return rc;
}

int store_query_close(store_query *q, bs_error *e)
{
    if (!q)
        return BS_OK;
    int rc = walk_error(q, e);
    sqlite3_finalize(q->st);
    free(q);
    return rc;
}

int store_query_columns(const store_query *q)
{
    return sqlite3_column_count(q->st);
}

int64_t store_query_int(store_query *q, int i)
{
    return sqlite3_column_int64(q->st, i);
}

double store_query_double(store_query *q, int i)
{
    return store_query_is_null(q, i) ? NAN : sqlite3_column_double(q->st, i);
}

const char *store_query_text(store_query *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q->st, i);
    return t ? (const char *)t : "";
}

bool store_query_is_null(store_query *q, int i)
{
    return sqlite3_column_type(q->st, i) == SQLITE_NULL;
}

bool store_query_is_int(store_query *q, int i)
{
    return sqlite3_column_type(q->st, i) == SQLITE_INTEGER;
}

bool store_has_column(store *s, const char *tbl, const char *col)
{
    sqlite3_stmt *st;
    bool has = false;
    if (sqlite3_prepare_v2(store_handle(s),
                           "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2", -1, &st,
                           NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, tbl, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        has = sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    return has;
}
