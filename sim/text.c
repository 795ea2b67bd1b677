/* text.c — the shared strict reader and number parsers (see text.h for why they are strict).
 *
 * The reader keeps the whole input in memory and hands out one cleaned line at a time; a
 * reader error is -1 (never 1, which means "a line" and is also BS_EINPUT). The number
 * parsers take the whole token or nothing: trailing junk, NaN, inf and overflow are refused.
 */
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Scans the bytes just read for the reader's two hard errors, so that reading stops at the
 * first one instead of swallowing the rest of a binary or endless file: *line_no and
 * *line_len carry the position across chunks. */
static int scan_chunk(const char *path, const char *p, size_t n, long *line_no,
                      size_t *line_len, bs_error *e)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            (*line_no)++;
            *line_len = 0;
            continue;
        }
        if (p[i] == '\0')
            return err_at(e, path, *line_no, NULL, "NUL byte in text (not a text file?)");
        if (++*line_len >= TEXT_LINE_MAX)
            return err_at(e, path, *line_no, NULL, "line longer than %d bytes",
                          TEXT_LINE_MAX - 1);
    }
    return BS_OK;
}

/* Regular files only (a device, FIFO or socket may never end; O_NONBLOCK keeps a FIFO
 * without a writer from blocking the open), at most TEXT_FILE_MAX bytes. The size is
 * checked before reading and again while reading (a file can grow, /proc lies about it). */
int text_open_file(text_reader *r, const char *path, bs_error *e)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return err_at(e, path, 0, NULL, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return err_at(e, path, 0, NULL, "not a regular file");
    }
    if (st.st_size > TEXT_FILE_MAX) {
        close(fd);
        return err_at(e, path, 0, NULL, "larger than the %d MiB limit of text inputs",
                      TEXT_FILE_MAX >> 20);
    }
    size_t cap = (size_t)st.st_size + 1, len = 0, line_len = 0;
    long line_no = 1;
    char *buf = malloc(cap);
    int rc = buf ? BS_OK : err_set(e, BS_EINTERNAL, "%s: out of memory", path);
    while (rc == BS_OK) {
        if (len == cap) {   /* the file grew since fstat: up to one byte past the limit */
            if (cap > (size_t)TEXT_FILE_MAX) {
                rc = err_at(e, path, 0, NULL, "larger than the %d MiB limit of text inputs",
                            TEXT_FILE_MAX >> 20);
                break;
            }
            size_t grown = cap * 2 > (size_t)TEXT_FILE_MAX + 1 ? (size_t)TEXT_FILE_MAX + 1
                                                                : cap * 2;
            char *bigger = realloc(buf, grown);
            if (!bigger) {
                rc = err_set(e, BS_EINTERNAL, "%s: out of memory", path);
                break;
            }
            buf = bigger;
            cap = grown;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_at(e, path, 0, NULL, "cannot read: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
        rc = scan_chunk(path, buf + len, (size_t)n, &line_no, &line_len, e);
        len += (size_t)n;
    }
    close(fd);
    if (rc) {
        free(buf);
        return rc;
    }
    r->buf = buf;
    r->len = len;
    r->owned = true;
    return BS_OK;
}

void text_open_buffer(text_reader *r, const char *name, const char *buf, size_t len)
{
    memset(r, 0, sizeof *r);
    r->path = name;
    r->buf = buf;
    r->len = len;
}

void text_close(text_reader *r)
{
    if (r->owned)
        free((void *)r->buf);
    r->buf = NULL;
    r->owned = false;
}

int text_next_line(text_reader *r, char **out, bs_error *e)
{
    while (r->pos < r->len) {
        const char *start = r->buf + r->pos;
        const char *nl = memchr(start, '\n', r->len - r->pos);
        size_t n = nl ? (size_t)(nl - start) : r->len - r->pos;
        r->pos += n + (nl ? 1 : 0);
        r->line_no++;
        if (memchr(start, '\0', n)) {
            err_at(e, r->path, r->line_no, NULL, "NUL byte in text");
            return -1;
        }
        if (n >= TEXT_LINE_MAX) {
            err_at(e, r->path, r->line_no, NULL, "line longer than %d bytes", TEXT_LINE_MAX - 1);
            return -1;
        }
        memcpy(r->line, start, n);
        r->line[n] = '\0';
        char *hash = strchr(r->line, '#');
        if (hash)
            *hash = '\0';
        char *s = r->line;
        while (isspace((unsigned char)*s))
            s++;
        size_t m = strlen(s);
        while (m > 0 && isspace((unsigned char)s[m - 1]))
            s[--m] = '\0';
        if (*s) {
            *out = s;
            return 1;
        }
    }
    return 0;
}

bool text_has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

void text_escape_controls(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; *s && k + 5 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != 0x7f)
            out[k++] = (char)c;
        else if (c == '\n' || c == '\t' || c == '\r')
            k += (size_t)snprintf(out + k, n - k, "\\%c", c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
        else
            k += (size_t)snprintf(out + k, n - k, "\\x%02x", c);
    }
    if (n)
        out[k < n ? k : n - 1] = '\0';
}

int text_split(char *s, char **tok, int max)
{
    int n = 0;
    for (;;) {
        while (*s && isspace((unsigned char)*s))
            s++;
        if (!*s)
            return n;
        if (n == max)
            return -1;
        tok[n++] = s;
        while (*s && !isspace((unsigned char)*s))
            s++;
        if (*s)
            *s++ = '\0';
    }
}

bool text_key_value(char *tok, char **key, char **value)
{
    char *eq = strchr(tok, '=');
    if (!eq || eq == tok || eq[1] == '\0')
        return false;
    *eq = '\0';
    *key = tok;
    *value = eq + 1;
    return true;
}

bool text_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return false;   /* rejects "", "-1", "+1", " 1" */
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = (uint64_t)v;
    return true;
}

bool text_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !(isdigit((unsigned char)*s) || (*s == '-' && isdigit((unsigned char)s[1]))))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = (int64_t)v;
    return true;
}

bool text_parse_double(const char *s, double min, double max, double *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno == ERANGE && fabs(v) > 1.0)
        return false;   /* overflow; underflow to a tiny value is fine */
    if (*end || !isfinite(v) || v < min || v > max)
        return false;
    *out = v;
    return true;
}

int text_lookup(const char *const *names, const char *s)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

/* Case-insensitive edit distance with adjacent transpositions counted as one edit (the
 * optimal-string-alignment variant of Damerau-Levenshtein: "gne" is one edit from "gen").
 * Names are short: strings longer than 63 characters are never typos worth suggesting. */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    int d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int best = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

int text_closest(const char *const *names, const char *s)
{
    size_t len = strlen(s);
    int limit = len <= 4 ? 1 : len <= 8 ? 2 : 3, best = -1, best_d = limit + 1;
    for (int i = 0; names && names[i]; i++) {
        int d = edit_distance(s, names[i]);
        if (d < best_d && d < (int)strlen(names[i])) {
            best = i;
            best_d = d;
        }
    }
    return best;
}

char *text_join(const char *const *names, const char *sep, char *buf, size_t n)
{
    size_t len = 0;
    if (n)
        buf[0] = '\0';
    for (int i = 0; names[i] && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? sep : "", names[i]);
    return buf;
}

bool text_appendf(char *buf, size_t n, size_t *len, const char *fmt, ...)
{
    if (*len >= n)
        return false;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *len, n - *len, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= n - *len) {
        *len = n;
        return false;
    }
    *len += (size_t)w;
    return true;
}

uint64_t text_hash64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

void text_exact_double(char *buf, size_t n, double v)
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0) { /* 2^53: every integer exact */
        snprintf(buf, n, "%.0f", v);
        return;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, n, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}
