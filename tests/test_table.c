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
#include <string.h>

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

/* t printed in each of the n formats, one after another, as a malloc'd string; frees t. */
static char *print_formats(table *t, const table_format *formats, int n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cr_assert_not_null(out);
    for (int i = 0; i < n; i++)
        cr_assert(table_print(t, formats[i], out));
    fclose(out);
    table_free(t);
    return buf;
}

/* The table rendered in format f, as a malloc'd string. */
static char *render(table_format f)
{
    return print_formats(awkward_table(), &f, 1);
}

typedef struct rendering {
    table_format format;
    const char *expected;
} rendering;

static const rendering renderings[] = {
    {TABLE_CSV,
     "name,value\n"
     "\"a,b \"\"q\"\" |\",1.5\n"
     "x_&%$#{}\\~^,-\n"},
    {TABLE_JSON,
     "[\n"
     "  {\"name\": \"a,b \\\"q\\\" |\", \"value\": 1.5},\n"
     "  {\"name\": \"x_&%$#{}\\\\~^\", \"value\": null}\n"
     "]\n"},
    {TABLE_MARKDOWN,
     "| name        | value |\n"
     "| ----------- | ----- |\n"
     "| a,b \"q\" \\|  |  1.50 |\n"
     "| x_&%$#{}\\~^ | -     |\n"},
    {TABLE_LATEX,
     "% bitsim table: needs \\usepackage{booktabs} and \\usepackage{siunitx}\n"
     "\\begin{tabular}{lS[table-format=1.2]}\n"
     "\\toprule\n"
     "name & {value} \\\\\n"
     "\\midrule\n"
     "a,b \"q\" | & 1.50 \\\\\n"
     "x\\_\\&\\%\\$\\#\\{\\}\\textbackslash{}\\textasciitilde{}\\textasciicircum{} & {--} \\\\\n"
     "\\bottomrule\n"
     "\\end{tabular}\n"},
    {TABLE_TEXT,
     "name         value\n"
     "a,b \"q\" |     1.50\n"
     "x_&%$#{}\\~^  -\n"},
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
    char *buf = print_formats(t, (const table_format[]){TABLE_JSON}, 1);
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

/* The machine forms are exact: whatever the display format, strtod of the CSV/JSON text gives
 * back the very double stored (values chosen so %.4g, %.9g and %.15g all lose bits: 0.1+0.2,
 * 1/3, a large non-integral count and 2^-1074), and an integral count prints all its digits. */
Test(table, csv_and_json_round_trip_every_double_exactly)
{
    static const double values[] = {0.1 + 0.2, 1.0 / 3, 970598400000000.5, 4.9406564584124654e-324,
                                    -1.7976931348623157e308, 6.02214076e23, 12345.678901234567};
    static const char *const cols[] = {"v"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char buf[40];
        table_exact_double(buf, sizeof buf, values[i]);
        cr_expect_eq(strtod(buf, NULL), values[i], "%s is not %.17g", buf, values[i]);
        cr_expect_leq(strlen(buf), 24, "%s", buf);
    }
    table *t = table_new(1, cols);
    cr_assert_not_null(t);
    table_row(t);
    table_cell_double(t, "%.4g", 970598400000000.0); /* ResNet-20's MAdds: an integer */
    table_row(t);
    table_cell_double(t, "%.4g", 0.1 + 0.2);
    char *buf = print_formats(t, (const table_format[]){TABLE_CSV, TABLE_JSON, TABLE_TEXT}, 3);
    cr_expect_str_eq(buf, "v\n970598400000000\n0.30000000000000004\n"
                          "[\n  {\"v\": 970598400000000},\n  {\"v\": 0.30000000000000004}\n]\n"
                          "v\n9.706e+14\n      0.3\n");
    free(buf);
}

/* LaTeX numbers in siunitx's syntax (exponent without '+' or leading zeros), the S column's
 * table-format the widest integer part, fraction and exponent of the column. */
Test(table, latex_numbers_are_siunitx_input)
{
    static const char *const cols[] = {"e_j"};
    table *t = table_new(1, cols);
    cr_assert_not_null(t);
    table_row(t);
    table_cell_double(t, "%.4g", 9.706e14);
    table_row(t);
    table_cell_double(t, "%.4g", -1.5e-5);
    char *buf = print_formats(t, (const table_format[]){TABLE_LATEX}, 1);
    cr_expect(strstr(buf, "\\begin{tabular}{S[table-format=-1.3e-2]}\n") != NULL, "%s", buf);
    cr_expect(strstr(buf, "{e\\_j} \\\\\n\\midrule\n9.706e14 \\\\\n-1.5e-5 \\\\\n\\bottomrule")
              != NULL, "%s", buf);
    free(buf);
}
