/* test_table.c — result tables in every output format.
 *
 * The expected texts are written out by hand from the formats' own rules (RFC 4180 quoting
 * for CSV, JSON strings and null, Markdown's '|' escape, LaTeX's special characters), so a
 * change in rendering shows up as a readable diff of one format.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "table.h"

/* A two-row table whose cells need escaping in every format, and whose second row has a NaN
 * (a metric that does not apply). */
static table *awkward_table(void)
{
    static const char *const cols[] = {"name", "value"};
    table *t = table_new(2, cols);
    cr_assert_not_null(t);
    table_row(t);
    table_cell_str(t, "a,b \"q\" |");
    table_cell_double(t, "%.2f", 1.5);
    table_row(t);
    table_cell_str(t, "x_&%$#{}\\~^");
    table_cell_double(t, "%.2f", NAN);
    return t;
}

/* The table rendered in format f, as a malloc'd string. */
static char *render(table_format f)
{
    table *t = awkward_table();
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cr_assert_not_null(out);
    cr_assert(table_print(t, f, out));
    fclose(out);
    table_free(t);
    return buf;
}

typedef struct rendering {
    table_format format;
    const char *expected;
} rendering;

static const rendering renderings[] = {
    {TABLE_CSV,
     "name,value\n"
     "\"a,b \"\"q\"\" |\",1.50\n"
     "x_&%$#{}\\~^,-\n"},
    {TABLE_JSON,
     "[\n"
     "  {\"name\": \"a,b \\\"q\\\" |\", \"value\": 1.50},\n"
     "  {\"name\": \"x_&%$#{}\\\\~^\", \"value\": null}\n"
     "]\n"},
    {TABLE_MARKDOWN,
     "| name        | value |\n"
     "| ----------- | ----- |\n"
     "| a,b \"q\" \\|  |  1.50 |\n"
     "| x_&%$#{}\\~^ | -     |\n"},
    {TABLE_LATEX,
     "\\begin{tabular}{lr}\n"
     "\\hline\n"
     "name & value \\\\\n"
     "\\hline\n"
     "a,b \"q\" | & 1.50 \\\\\n"
     "x\\_\\&\\%\\$\\#\\{\\}\\textbackslash{}\\textasciitilde{}\\textasciicircum{} & - \\\\\n"
     "\\hline\n"
     "\\end{tabular}\n"},
    {TABLE_TEXT,
     "name         value\n"
     "a,b \"q\" |     1.50\n"
     "x_&%$#{}\\~^  -    \n"},
};

Test(table, every_format_escapes_and_marks_missing_values)
{
    for (size_t i = 0; i < sizeof renderings / sizeof renderings[0]; i++) {
        char *got = render(renderings[i].format);
        cr_expect_str_eq(got, renderings[i].expected, "format %d:\n%s", renderings[i].format,
                         got);
        free(got);
    }
}

Test(table, json_prints_nan_and_inf_as_null)
{
    static const char *const cols[] = {"a", "b", "c"};
    table *t = table_new(3, cols);
    cr_assert_not_null(t);
    table_row(t);
    table_cell_double(t, "%g", NAN);
    table_cell_double(t, "%g", INFINITY);
    table_cell_u64(t, 7);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cr_assert(table_print(t, TABLE_JSON, out));
    fclose(out);
    table_free(t);
    cr_expect_str_eq(buf, "[\n  {\"a\": null, \"b\": null, \"c\": 7}\n]\n");
    free(buf);
}

Test(table, incomplete_row_is_refused)
{
    static const char *const cols[] = {"a", "b"};
    table *t = table_new(2, cols);
    cr_assert_not_null(t);
    table_row(t);
    table_cell_str(t, "only one");
    cr_expect_not(table_print(t, TABLE_CSV, stdout));
    table_free(t);
}
