/* err.h — how an error travels in bitsim.
 *
 * SQLite's habit: a function that can fail returns an int code and fills a caller-supplied
 * bs_error with one line of text; nothing below main() prints or exits. The code doubles as
 * the process exit status, so the meaning of a failure survives all the way out:
 *   0 ok, 1 bad input (file, value, database), 2 usage (flags), 3 internal (bug, out of memory).
 * Messages that concern a file read "FILE:LINE: FIELD: what is wrong" so a user can jump there.
 */
#ifndef BITSIM_ERR_H
#define BITSIM_ERR_H

#include <stddef.h>

enum {
    BS_OK = 0,
    BS_EINPUT = 1,
    BS_EUSAGE = 2,
    BS_EINTERNAL = 3
};

#define BS_ERR_MSG_MAX 512

typedef struct bs_error {
    int code;
    char msg[BS_ERR_MSG_MAX];
} bs_error;

/* Clears e (code 0, empty message). */
void err_clear(bs_error *e);

/* Sets code and a printf-style message; returns code so callers can `return err_set(...)`.
 * e may be NULL (the message is then dropped, the code still returned). */
int err_set(bs_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like err_set with code BS_EINPUT and the message prefixed "file:line: field: ".
 * line <= 0 omits the line, field NULL omits the field. */
int err_at(bs_error *e, const char *file, long line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Prints "bitsim: <msg>" on stderr and returns e->code (the exit status). */
int err_report(const bs_error *e);

#endif
