/* sweep_arch.c — a sweep point as arch text: the base arch file with some keys changed.
 *
 * Why text and not a struct setter: the arch parser is the one place that knows what a key
 * means, its unit, range and defaults (arch/FORMAT.md). Rewriting `key = value` lines and
 * parsing the result keeps that knowledge in one module, makes a point's arch exactly what a
 * user would get by editing the file, and gives the store a content hash that identifies the
 * point independently of how a sweep reached it (so shards merge without duplicates).
 * Rules: a key SECTION.KEY replaces the value of the first `KEY = ...` line inside
 * [SECTION] (its trailing comment goes with it); a key the base does not set is added at the
 * end of its section, or in a new [SECTION] at the end; a NULL value removes the key's line
 * (so the arch parser derives or defaults it).
 */
#include "sweep_arch.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The output is built in an open_memstream: it grows as needed and any write error,
 * including out of memory, shows at fclose. */
static void put_kv(FILE *b, const char *key, const char *value)
{
    if (value)      /* NULL: the key is removed */
        fprintf(b, "%s = %s\n", key, value);
}

/* Span [*s, *s + *n) trimmed of blanks. */
static void trim_span(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

static bool span_eq(const char *s, size_t n, const char *z, size_t zn)
{
    return n == zn && memcmp(s, z, n) == 0;
}

/* Section part of key "SEC.KEY" is key[0 .. dot), the key after it. */
static bool in_section(const char *key, const char *sec, size_t sec_len)
{
    const char *dot = strchr(key, '.');
    return dot && span_eq(sec, sec_len, key, (size_t)(dot - key));
}

/* Appends the overrides of section sec not yet written. */
static void flush_section(FILE *out, const char *sec, size_t sec_len, const char *const *keys,
                          const char *const *values, uint32_t n, bool *done)
{
    for (uint32_t k = 0; k < n; k++)
        if (!done[k] && in_section(keys[k], sec, sec_len)) {
            put_kv(out, strchr(keys[k], '.') + 1, values[k]);
            done[k] = true;
        }
}

int sweep_arch_overlay(const char *base, size_t len, const char *const *keys,
                       const char *const *values, uint32_t n, char **out_text,
                       size_t *out_len, bs_error *e)
{
    char *text = NULL;
    size_t text_len = 0;
    FILE *out = open_memstream(&text, &text_len);
    bool *done = calloc(n ? n : 1, sizeof *done);
    if (!done || !out) {
        free(done);
        if (out)
            fclose(out);
        free(text);
        return err_set(e, BS_EINTERNAL, "out of memory");
    }
    const char *sec = "";
    size_t sec_len = 0;
    for (size_t pos = 0; pos < len;) {
        const char *line = base + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - line) : len - pos;
        pos += line_len + (nl != NULL);
        const char *s = line;
        size_t m = line_len;
        const char *hash = memchr(s, '#', m);
        if (hash)
            m = (size_t)(hash - s);
        trim_span(&s, &m);
        bool replaced = false;
        if (m >= 2 && s[0] == '[' && s[m - 1] == ']') {
            flush_section(out, sec, sec_len, keys, values, n, done);
            sec = s + 1;
            sec_len = m - 2;
            trim_span(&sec, &sec_len);
        } else if (m > 0) {
            const char *eq = memchr(s, '=', m);
            if (eq) {
                const char *k = s;
                size_t kn = (size_t)(eq - s);
                trim_span(&k, &kn);
                for (uint32_t j = 0; j < n && !replaced; j++) {
                    const char *dot = strchr(keys[j], '.');
                    if (!done[j] && in_section(keys[j], sec, sec_len) &&
                        span_eq(k, kn, dot + 1, strlen(dot + 1))) {
                        put_kv(out, dot + 1, values[j]);
                        done[j] = replaced = true;
                    }
                }
            }
        }
        if (!replaced) {
            fwrite(line, 1, line_len, out);
            fputc('\n', out);
        }
    }
    flush_section(out, sec, sec_len, keys, values, n, done);
    for (uint32_t k = 0; k < n; k++)
        if (!done[k] && values[k]) {
            /* a section the base does not have: add it with all of its keys */
            const char *dot = strchr(keys[k], '.');
            fprintf(out, "[%.*s]\n", (int)(dot - keys[k]), keys[k]);
            flush_section(out, keys[k], (size_t)(dot - keys[k]), keys, values, n, done);
        }
    free(done);
    bool failed = ferror(out);
    if (fclose(out) != 0 || failed || !text) {
        free(text);
        return err_set(e, BS_EINTERNAL, "out of memory");
    }
    *out_text = text;
    *out_len = text_len;
    return BS_OK;
}
