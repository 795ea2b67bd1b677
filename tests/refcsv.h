/* refcsv.h — reads ../shared/reference/bitfusion_layers.csv for the cost tests and bench.
 *
 * The reference rows are the public BitFusion simulator's results (see that directory's
 * README). Columns are looked up by header name, so column order may change; fields are
 * plain (no quoted commas in this file). Header-only, static: test_cost.c and bench_cost.c
 * both include it.
 */
#ifndef BITSIM_TESTS_REFCSV_H
#define BITSIM_TESTS_REFCSV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFCSV_COLS 64
#define REFCSV_ROWS 512

typedef struct refcsv {
    int n_cols, n_rows;
    char *names[REFCSV_COLS];
    char *cells[REFCSV_ROWS][REFCSV_COLS];
    char *text;
} refcsv;

static inline const char *refcsv_dir(void)
{
    const char *d = getenv("BITSIM_REFERENCE");
    return d && *d ? d : "../shared/reference";
}

static inline int refcsv_split(char *line, char **out)
{
    int n = 0;
    for (char *p = line; n < REFCSV_COLS;) {
        out[n++] = p;
        p = strchr(p, ',');
        if (!p)
            break;
        *p++ = '\0';
    }
    return n;
}

/* Loads NAME from the reference directory; false when missing or malformed. */
static inline int refcsv_load(refcsv *t, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", refcsv_dir(), name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    t->text = malloc((size_t)len + 1);
    if (!t->text || fread(t->text, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        return 0;
    }
    fclose(f);
    t->text[len] = '\0';
    t->n_rows = 0;
    t->n_cols = 0;
    char *save = NULL;
    for (char *line = strtok_r(t->text, "\r\n", &save); line;
         line = strtok_r(NULL, "\r\n", &save)) {
        if (line[0] == '#' || !line[0])
            continue;
        if (!t->n_cols) {
            t->n_cols = refcsv_split(line, t->names);
            continue;
        }
        if (t->n_rows == REFCSV_ROWS)
            return 0;
        if (refcsv_split(line, t->cells[t->n_rows]) != t->n_cols)
            return 0;
        t->n_rows++;
    }
    return t->n_cols > 0;
}

static inline void refcsv_free(refcsv *t)
{
    free(t->text);
    t->text = NULL;
}

static inline int refcsv_col(const refcsv *t, const char *name)
{
    for (int i = 0; i < t->n_cols; i++)
        if (!strcmp(t->names[i], name))
            return i;
    return -1;
}

/* Cell of row r in column name ("" when the column is missing). */
static inline const char *refcsv_get(const refcsv *t, int r, const char *name)
{
    int c = refcsv_col(t, name);
    return c < 0 ? "" : t->cells[r][c];
}

static inline double refcsv_num(const refcsv *t, int r, const char *name)
{
    return strtod(refcsv_get(t, r, name), NULL);
}

#endif
