/* err.c — error values with one-line messages (see err.h for the convention).
 *
 * An error is a code plus a fixed-size message in the caller's bs_error, so reporting one
 * never allocates: it still works when the failure is out of memory, and no cleanup path can
 * leak it. Every message is built with bounded snprintf/vsnprintf into that buffer, so a long
 * file name or field is cut short, never written past the end, and the result stays one line
 * (err_at assembles "file:line: field: " piece by piece, dropping what does not fit). What a
 * message quotes (a file name, a field, SQLite's text naming a corrupted database's token)
 * may hold newlines or other control characters: they become spaces, so one error is always
 * one line on stderr and in a log. Only
 * err_report, called from main/cmd_* and nowhere below, prints: "bitsim: MSG" on stderr,
 * returning the code as the exit status (a code of 0 with an error set is a bug: 3).
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Control characters (newlines, tabs, DEL) to spaces: the one-line rule. */
static void one_line(char *msg)
{
    for (unsigned char *p = (unsigned char *)msg; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

void err_clear(bs_error *e)
{
    if (e) {
        e->code = BS_OK;
        e->msg[0] = '\0';
    }
}

int err_set(bs_error *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        one_line(e->msg);
        e->code = code;
    }
    return code;
}

int err_at(bs_error *e, const char *file, long line, const char *field, const char *fmt, ...)
{
    if (!e)
        return BS_EINPUT;
    /* Built in place, piece by piece: a message is one line and may be cut, never overrun. */
    size_t cap = sizeof e->msg, n = 0;
    int w = snprintf(e->msg, cap, "%s", file ? file : "<input>");
    n = w < 0 ? 0 : ((size_t)w < cap ? (size_t)w : cap - 1);
    if (line > 0 && n < cap - 1) {
        w = snprintf(e->msg + n, cap - n, ":%ld", line);
        n = w < 0 ? n : (n + (size_t)w < cap ? n + (size_t)w : cap - 1);
    }
    if (field && n < cap - 1) {
        w = snprintf(e->msg + n, cap - n, ": %s", field);
        n = w < 0 ? n : (n + (size_t)w < cap ? n + (size_t)w : cap - 1);
    }
    if (n < cap - 2) {
        snprintf(e->msg + n, cap - n, ": ");
        n += 2;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg + n, cap - n, fmt, ap);
        va_end(ap);
    }
    one_line(e->msg);
    e->code = BS_EINPUT;
    return BS_EINPUT;
}

int err_report(const bs_error *e)
{
    fprintf(stderr, "bitsim: %s\n", e->msg[0] ? e->msg : "unknown error");
    return e->code ? e->code : BS_EINTERNAL;
}
