/* store_query.h — the readers' one way into a bitsim database: read-only SQL over its views.
 *
 * report, plot and the Pareto front ask the store their questions in SQL over the schema's
 * reader views (schema.sql: run_summary, cost_rows, epoch_costs, scheme_comparison, ...), the
 * same views a user's own sqlite3 session reads, so the command line and a user agree. They
 * never hold the sqlite3 handle:
 *  - a statement that could write is refused when it is prepared, whatever the store was
 *    opened for (sqlite3_stmt_readonly), so a reader cannot change a database;
 *  - every SQLite failure becomes one bs_error line naming what the query was for;
 *  - a NULL column (the store's "not applicable") reads as NaN, "" or 0.
 * Columns and parameters are numbered as in SQL text: columns from 0, parameters ?1, ?2, ...
 */
#ifndef BITSIM_STORE_QUERY_H
#define BITSIM_STORE_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

typedef struct store_query store_query;

/* Prepares sql (one read-only statement) on s. what names the query in error messages
 * ("database query failed while <what>: ..."). */
int store_query_open(store *s, const char *sql, const char *what, store_query **out,
                     bs_error *e);
/* Binds ?i. Text is copied; NULL text binds SQL NULL (so "?1 IS NULL OR ..." filters work). */
void store_query_bind_text(store_query *q, int i, const char *v);
void store_query_bind_int(store_query *q, int i, int64_t v);
void store_query_bind_double(store_query *q, int i, double v);

/* Steps to the next row: true when there is one; false at the end or on a failure, which
 * store_query_close (or store_query_reset) then reports. */
bool store_query_next(store_query *q);
/* Rewinds for another walk with new bindings (the old ones are cleared); returns the failure
 * of the walk before, if any. */
int store_query_reset(store_query *q, bs_error *e);
/* Frees q; returns the failure that ended its last walk, BS_OK if none (a walk stopped early
 * is not a failure). NULL is fine. */
int store_query_close(store_query *q, bs_error *e);

int store_query_columns(const store_query *q);
/* Column i of the current row: NULL reads as 0, NaN and "" (never a NULL pointer; the text
 * lives until the next step, reset or close). */
int64_t store_query_int(store_query *q, int i);
double store_query_double(store_query *q, int i);
const char *store_query_text(store_query *q, int i);
bool store_query_is_null(store_query *q, int i);
/* Whether column i holds an integer (a key that is a layer number rather than a name). */
bool store_query_is_int(store_query *q, int i);

/* Whether table (or view) tbl of s has column col: a database opened read-only may predate
 * a column a writer adds on open (runs.accuracy_pct). */
bool store_has_column(store *s, const char *tbl, const char *col);

#endif
