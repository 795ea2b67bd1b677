/* table.h — one result table, printed as text, CSV, JSON, Markdown or LaTeX.
 *
 * Every command that prints rows (model show, cost, report, compare, pareto) builds a table
 * of cells and lets this module render it, so `--format table|csv|json|markdown|latex` means
 * the same everywhere (the jq/curl habit: human output next to machine output). Cells are
 * text; numeric cells are right-aligned in text output and unquoted in JSON; a missing value
 * (non-finite double) is "-" in the text forms and null in JSON.
 * The machine forms (CSV, JSON) are exact: integers print all their digits, doubles the
 * shortest text that reads back to the same double; the caller's printf format shapes only
 * the human forms (table, Markdown, LaTeX). LaTeX uses booktabs rules and siunitx S columns.
 */
#ifndef BITSIM_TABLE_H
#define BITSIM_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum table_format {
    TABLE_TEXT,
    TABLE_CSV,
    TABLE_JSON,
    TABLE_MARKDOWN,
    TABLE_LATEX,
    TABLE_FORMAT_COUNT
} table_format;

typedef struct table table;

/* The names, in table_format order, NULL-terminated: option tables and messages build
 * their "table|csv|..." from it (text_join). */
const char *const *table_format_names(void);

/* A table with n_cols columns named by cols[] (copied). NULL when out of memory. */
table *table_new(int n_cols, const char *const *cols);
void table_free(table *t);

/* Starts a new row; then add exactly n_cols cells with the table_cell_* calls. */
void table_row(table *t);
void table_cell_str(table *t, const char *s);
void table_cell_u64(table *t, uint64_t v);
void table_cell_i64(table *t, int64_t v);
/* A double printed with printf format fmt (e.g. "%.4g"); a non-finite value is a missing
 * cell: "-" in the text forms (table, csv, markdown, latex), null in JSON. */
void table_cell_double(table *t, const char *fmt, double v);

/* The exact text of v into buf (n >= 32): integral values below 2^53 as integers, others as
 * the shortest %.Ng (N <= 17) that strtod reads back to v. */
void table_exact_double(char *buf, size_t n, double v);

/* Renders to out. Returns false if a row was left incomplete or memory ran out. */
bool table_print(const table *t, table_format f, FILE *out);

#endif
