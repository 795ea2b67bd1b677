/* table.c — rendering of result tables (see table.h).
 *
 * Cells are stored as the strings they print as, with a kind: text, numeric (right-aligned,
 * unquoted in JSON) or missing (a non-finite double: "-" in the text forms, null in JSON, so
 * a program reading the JSON sees "no value", never a string where a number belongs).
 * A numeric cell keeps two texts: the one its caller's format gives (what a person reads in
 * the table, Markdown and LaTeX forms) and an exact one for the machine forms (CSV, JSON): an
 * integer as all its digits, a double as the shortest %.Ng that strtod reads back to the same
 * double (at most 17 digits, IEEE 754's round-trip bound), integral doubles below 2^53 as
 * integers. So a program reading the CSV gets the database's values bit for bit.
 * Widths are measured at print time so the text form lines up.
 */
#include "table.h"

#include "text.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum cell_kind { CELL_TEXT, CELL_NUMERIC, CELL_MISSING } cell_kind;

typedef struct cell {
    char *text;  /* as displayed (table, Markdown, LaTeX) */
    char *exact; /* as the machine forms print it (CSV, JSON); NULL = text */
    cell_kind kind;
} cell;

struct table {
    int n_cols;
    char **cols;
    cell *cells;
    size_t n_cells, cap;
    bool oom;
};

static const char *const format_names[TABLE_FORMAT_COUNT + 1] = {
    [TABLE_TEXT] = "table", [TABLE_CSV] = "csv",     [TABLE_JSON] = "json",
    [TABLE_MARKDOWN] = "markdown", [TABLE_LATEX] = "latex", NULL};

const char *const *table_format_names(void)
{
    return format_names;
}

table *table_new(int n_cols, const char *const *cols)
{
    table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->n_cols = n_cols;
    t->cols = calloc((size_t)n_cols, sizeof *t->cols);
    if (!t->cols) {
        free(t);
        return NULL;
    }
    for (int i = 0; i < n_cols; i++) {
        t->cols[i] = strdup(cols[i]);
        if (!t->cols[i])
            t->oom = true;
    }
    return t;
}

void table_free(table *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->n_cols; i++)
        free(t->cols[i]);
    for (size_t i = 0; i < t->n_cells; i++) {
        free(t->cells[i].text);
        free(t->cells[i].exact);
    }
    free(t->cols);
    free(t->cells);
    free(t);
}

void table_row(table *t)
{
    (void)t; /* rows are implicit: every n_cols cells make one; kept for readable callers */
}

static void add_cell_exact(table *t, const char *s, const char *exact, cell_kind kind)
{
    if (t->n_cells == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        cell *c = realloc(t->cells, cap * sizeof *c);
        if (!c) {
            t->oom = true;
            return;
        }
        t->cells = c;
        t->cap = cap;
    }
    char *dup = strdup(s), *dup_exact = exact ? strdup(exact) : NULL;
    if (!dup || (exact && !dup_exact)) {
        free(dup);
        free(dup_exact);
        t->oom = true;
        return;
    }
    t->cells[t->n_cells++] = (cell){dup, dup_exact, kind};
}

static void add_cell(table *t, const char *s, cell_kind kind)
{
    add_cell_exact(t, s, NULL, kind);
}

void table_exact_double(char *buf, size_t n, double v)
{
    text_exact_double(buf, n, v);
}

void table_cell_str(table *t, const char *s)
{
    add_cell(t, s ? s : "", CELL_TEXT);
}

void table_cell_u64(table *t, uint64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%" PRIu64, v);
    add_cell(t, b, CELL_NUMERIC);
}

void table_cell_i64(table *t, int64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%" PRId64, v);
    add_cell(t, b, CELL_NUMERIC);
}

void table_cell_double(table *t, const char *fmt, double v)
{
    char b[64];
    if (!isfinite(v)) {
        add_cell(t, "-", CELL_MISSING);
        return;
    }
    char exact[40];
    snprintf(b, sizeof b, fmt, v);
    table_exact_double(exact, sizeof exact, v);
    add_cell_exact(t, b, exact, CELL_NUMERIC);
}

static void print_csv_field(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', out);
            fputc(*s, out);
        }
        fputc('"', out);
    } else {
        fputs(s, out);
    }
}

static void print_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void print_latex_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\textbackslash{}", out);
        else if (*s == '~')
            fputs("\\textasciitilde{}", out);
        else if (*s == '^')
            fputs("\\textasciicircum{}", out);
        else {
            if (strchr("&%$#_{}", *s))
                fputc('\\', out);
            fputc(*s, out);
        }
    }
}

/* Markdown: a '|' inside a cell would end the cell, so it is written "\|" (counted in the
 * column width). */
static size_t md_len(const char *s, bool markdown)
{
    size_t n = strlen(s);
    for (; markdown && *s; s++)
        n += *s == '|';
    return n;
}

static void print_padded(FILE *out, const char *s, size_t width, bool right, bool markdown)
{
    size_t n = md_len(s, markdown);
    for (size_t k = n; right && k < width; k++)
        fputc(' ', out);
    for (; *s; s++) {
        if (markdown && *s == '|')
            fputc('\\', out);
        fputc(*s, out);
    }
    for (size_t k = n; !right && k < width; k++)
        fputc(' ', out);
}

/* CSV: the header row, then the cells in their exact (machine) form. */
static void print_csv(const table *t, FILE *out)
{
    for (int c = 0; c < t->n_cols; c++) {
        fputs(c ? "," : "", out);
        print_csv_field(out, t->cols[c]);
    }
    fputc('\n', out);
    for (size_t i = 0; i < t->n_cells; i++) {
        int c = (int)(i % (size_t)t->n_cols);
        const cell *x = &t->cells[i];
        fputs(c ? "," : "", out);
        print_csv_field(out, x->exact ? x->exact : x->text);
        if (c == t->n_cols - 1)
            fputc('\n', out);
    }
}

/* A displayed number in siunitx's input syntax: "9.706e+14" -> "9.706e14", "1e-05" ->
 * "1e-5" (siunitx reads e as the exponent marker and typesets 9.706 x 10^14). */
static void siunitx_number(const char *s, char *buf, size_t n)
{
    size_t k = 0;
    for (; *s && k + 1 < n; s++) {
        buf[k++] = *s;
        if (*s == 'e' || *s == 'E') {
            if (s[1] == '+')
                s++;
            else if (s[1] == '-' && k + 1 < n)
                buf[k++] = *++s;
            while (s[1] == '0' && s[2] >= '0' && s[2] <= '9')
                s++;
        }
    }
    buf[k] = '\0';
}

/* The widest integer part, fraction and exponent of a numeric column's displayed numbers: its
 * siunitx table-format, so the S column aligns on the decimal marker. */
static void siunitx_table_format(const table *t, int c, char *buf, size_t n)
{
    int int_d = 1, frac_d = 0, exp_d = 0;
    bool neg = false, neg_exp = false;
    for (size_t i = (size_t)c; i < t->n_cells; i += (size_t)t->n_cols) {
        if (t->cells[i].kind != CELL_NUMERIC)
            continue;
        char num[64];
        siunitx_number(t->cells[i].text, num, sizeof num);
        const char *p = num;
        neg |= *p == '-';
        p += *p == '-';
        int d = (int)strspn(p, "0123456789");
        int_d = d > int_d ? d : int_d;
        p += d;
        if (*p == '.') {
            d = (int)strspn(++p, "0123456789");
            frac_d = d > frac_d ? d : frac_d;
            p += d;
        }
        if (*p == 'e') {
            neg_exp |= *++p == '-';
            p += *p == '-';
            d = (int)strspn(p, "0123456789");
            exp_d = d > exp_d ? d : exp_d;
        }
    }
    int w = snprintf(buf, n, "%s%d.%d", neg ? "-" : "", int_d, frac_d);
    if (exp_d && w > 0 && (size_t)w < n)
        snprintf(buf + w, n - (size_t)w, "e%s%d", neg_exp ? "-" : "", exp_d);
}

/* A column is numeric when it has a number and no text cell. */
static bool numeric_column(const table *t, int c)
{
    bool any = false;
    for (size_t i = (size_t)c; i < t->n_cells; i += (size_t)t->n_cols) {
        if (t->cells[i].kind == CELL_TEXT)
            return false;
        any |= t->cells[i].kind == CELL_NUMERIC;
    }
    return any;
}

/* LaTeX for papers: booktabs rules, numeric columns as siunitx S columns (aligned on the
 * decimal marker, exponents typeset as x 10^n), their headers and missing values braced so
 * siunitx reads them as text. Needs \usepackage{booktabs,siunitx}, said in a comment. */
static void print_latex(const table *t, FILE *out)
{
    bool *numeric = calloc((size_t)t->n_cols, sizeof *numeric);
    if (!numeric)
        return;
    fputs("% bitsim table: needs \\usepackage{booktabs} and \\usepackage{siunitx}\n"
          "\\begin{tabular}{", out);
    for (int c = 0; c < t->n_cols; c++) {
        char fmt[48];
        numeric[c] = numeric_column(t, c);
        if (numeric[c]) {
            siunitx_table_format(t, c, fmt, sizeof fmt);
            fprintf(out, "S[table-format=%s]", fmt);
        } else {
            fputc('l', out);
        }
    }
    fputs("}\n\\toprule\n", out);
    for (int c = 0; c < t->n_cols; c++) {
        fputs(c ? " & " : "", out);
        fputs(numeric[c] ? "{" : "", out);
        print_latex_text(out, t->cols[c]);
        fputs(numeric[c] ? "}" : "", out);
    }
    fputs(" \\\\\n\\midrule\n", out);
    for (size_t i = 0; i < t->n_cells; i++) {
        int c = (int)(i % (size_t)t->n_cols);
        const cell *x = &t->cells[i];
        fputs(c ? " & " : "", out);
        if (x->kind == CELL_NUMERIC) {
            char num[64];
            siunitx_number(x->text, num, sizeof num);
            fputs(num, out);
        } else if (x->kind == CELL_MISSING) {
            fputs(numeric[c] ? "{--}" : "--", out);
        } else {
            fputs(numeric[c] ? "{" : "", out);
            print_latex_text(out, x->text);
            fputs(numeric[c] ? "}" : "", out);
        }
        fputs(c == t->n_cols - 1 ? " \\\\\n" : "", out);
    }
    fputs("\\bottomrule\n\\end{tabular}\n", out);
    free(numeric);
}

static void print_text(const table *t, FILE *out, bool markdown)
{
    size_t *w = calloc((size_t)t->n_cols, sizeof *w);
    if (!w)
        return;
    for (int c = 0; c < t->n_cols; c++)
        w[c] = md_len(t->cols[c], markdown);
    for (size_t i = 0; i < t->n_cells; i++) {
        size_t n = md_len(t->cells[i].text, markdown);
        if (n > w[i % (size_t)t->n_cols])
            w[i % (size_t)t->n_cols] = n;
    }
    const char *sep = markdown ? " | " : "  ";
    /* plain text ends a line at its last character: a left-aligned last column is not padded
     * (trailing blanks would wrap a wide table's every line on a narrower terminal) */
    int last = t->n_cols - 1;
    if (markdown)
        fputs("| ", out);
    for (int c = 0; c < t->n_cols; c++) {
        fputs(c ? sep : "", out);
        print_padded(out, t->cols[c], c == last && !markdown ? 0 : w[c], false, markdown);
    }
    fputs(markdown ? " |\n" : "\n", out);
    if (markdown) {
        fputs("|", out);
        for (int c = 0; c < t->n_cols; c++) {
            fputc(' ', out);
            for (size_t k = 0; k < w[c]; k++)
                fputc('-', out);
            fputs(" |", out);
        }
        fputc('\n', out);
    }
    for (size_t i = 0; i < t->n_cells; i++) {
        int c = (int)(i % (size_t)t->n_cols);
        if (c == 0 && markdown)
            fputs("| ", out);
        const cell *x = &t->cells[i];
        bool right = x->kind == CELL_NUMERIC;
        fputs(c ? sep : "", out);
        print_padded(out, x->text, c == last && !markdown && !right ? 0 : w[c], right, markdown);
        if (c == t->n_cols - 1)
            fputs(markdown ? " |\n" : "\n", out);
    }
    free(w);
}

bool table_print(const table *t, table_format f, FILE *out)
{
    if (t->oom || t->n_cells % (size_t)t->n_cols)
        return false;
    size_t n_rows = t->n_cells / (size_t)t->n_cols;
    switch (f) {
    case TABLE_TEXT:
    case TABLE_MARKDOWN:
        print_text(t, out, f == TABLE_MARKDOWN);
        break;
    case TABLE_CSV:
        print_csv(t, out);
        break;
    case TABLE_JSON:
        fputs("[\n", out);
        for (size_t r = 0; r < n_rows; r++) {
            fputs("  {", out);
            for (int c = 0; c < t->n_cols; c++) {
                const cell *x = &t->cells[r * (size_t)t->n_cols + (size_t)c];
                if (c)
                    fputs(", ", out);
                print_json_string(out, t->cols[c]);
                fputs(": ", out);
                if (x->kind == CELL_NUMERIC)
                    fputs(x->exact ? x->exact : x->text, out);
                else if (x->kind == CELL_MISSING)
                    fputs("null", out);
                else
                    print_json_string(out, x->text);
            }
            fputs(r + 1 < n_rows ? "},\n" : "}\n", out);
        }
        fputs("]\n", out);
        break;
    case TABLE_LATEX:
        print_latex(t, out);
        break;
    default:
        return false;
    }
    return true;
}
