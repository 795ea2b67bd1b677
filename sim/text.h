/* text.h — the strict line and number reading shared by every bitsim parser.
 *
 * Models, traces, arch files and sweep spaces are all line-oriented text written by hand, so
 * they share one reader: it numbers lines, strips '#' comments and surrounding blanks, rejects
 * NUL bytes and over-long lines, and hands out one line at a time from a file or a memory
 * buffer (the latter is what the fuzzers and tests feed). Numbers are parsed strictly: the
 * whole token must be a number, in range, finite — "8x", "", "nan", "1e999" are errors, never
 * a silent 0. Parsers build their file:line:field messages with err_at() from err.h.
 */
#ifndef BITSIM_TEXT_H
#define BITSIM_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define TEXT_LINE_MAX 4096
/* The largest text input read (bytes): far above any hand-written or generated model, trace,
 * arch or space file (a 160-epoch per-iteration trace is a few MiB), far below memory. */
#define TEXT_FILE_MAX (256 << 20)
#define TEXT_TOKENS_MAX 64

typedef struct text_reader {
    const char *path;   /* name used in messages (a file path or "<memory>") */
    const char *buf;    /* whole contents, owned when `owned` */
    size_t len, pos;
    long line_no;       /* number of the line last returned (1-based) */
    bool owned;
    char line[TEXT_LINE_MAX];
} text_reader;

/* Reads the whole file into memory. Errors (BS_EINPUT, one line naming the path): cannot
 * open/read, not a regular file (devices, FIFOs: /dev/zero never ends), larger than
 * TEXT_FILE_MAX, and — found while reading, which stops there — a NUL byte or a line of
 * TEXT_LINE_MAX bytes or more ("path:line: ..."). */
int text_open_file(text_reader *r, const char *path, bs_error *e);
/* Reads from a caller-owned buffer (not copied; must outlive the reader). */
void text_open_buffer(text_reader *r, const char *name, const char *buf, size_t len);
void text_close(text_reader *r);

/* Next non-blank line with the comment stripped, into r->line. Returns 1 with *out set,
 * 0 at end of input, or -1 with e filled (NUL byte, line too long; e->code says which exit
 * status). The error is negative so that it can never be mistaken for "a line". */
int text_next_line(text_reader *r, char **out, bs_error *e);

/* True when s holds a control character (a byte below 0x20, or DEL): labels and names that
 * go into tables and one-line messages must not (a newline splits a row or an error). */
bool text_has_control(const char *s);
/* s into out (at most n bytes, always terminated) with control characters written as
 * \n, \t, \r or \xHH, so that quoting a bad value keeps a message on one line. */
void text_escape_controls(const char *s, char *out, size_t n);

/* Splits s in place at blanks; returns the token count (at most max) or -1 if more. */
int text_split(char *s, char **tok, int max);

/* Splits "key=value" in place; returns false when there is no '=' or either side is empty. */
bool text_key_value(char *tok, char **key, char **value);

/* Whole-token parses. Return true on success; false leaves *out untouched. */
bool text_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
bool text_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
bool text_parse_double(const char *s, double min, double max, double *out);

/* Index of s in a NULL-terminated name table, or -1. Tables over if-ladders. */
int text_lookup(const char *const *names, const char *s);

/* Did-you-mean: the index of the name in a NULL-terminated table closest to s by edit
 * distance, ignoring case (insertions, deletions, substitutions, swaps of neighbours), when it is
 * close enough to be a typo (distance <= 1 for up to 4 characters, 2 up to 8, else 3, and
 * less than the name's length); -1 when none is. */
int text_closest(const char *const *names, const char *s);

/* Joins a NULL-terminated name table with sep into buf ("a|b|c"), cut to fit n; returns buf.
 * Choice strings in messages and usage texts come from here, never typed beside the table. */
char *text_join(const char *const *names, const char *sep, char *buf, size_t n);

/* Appends printf output to the text of length *len in buf (size n). False when it does not
 * fit: *len is then n, so every later append does nothing and fails too, and one check at
 * the end (or of each result) tells whether the whole text was built. */
bool text_appendf(char *buf, size_t n, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* FNV-1a 64-bit hash of a byte string, for content identities (store) and memo keys. */
uint64_t text_hash64(const void *data, size_t len, uint64_t seed);

/* The shortest text of v that strtod reads back to v (integral values below 2^53 as
 * integers, else %.Ng with N <= 17); buf of at least 32 bytes. */
void text_exact_double(char *buf, size_t n, double v);

#endif
