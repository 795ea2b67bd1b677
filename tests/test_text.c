/* test_text.c — the shared strict reader: numbers, lines, comments, bad bytes.
 *
 * The contract every parser builds on: whole-token numbers only, comments and blanks
 * stripped, line numbers counted, and reader errors returned as -1 with file:line filled.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "err.h"
#include "text.h"

Test(text, parses_whole_numbers_only)
{
    uint64_t u = 7;
    cr_expect(text_parse_u64("42", 0, 100, &u));
    cr_expect_eq(u, 42);
    cr_expect_not(text_parse_u64("42x", 0, 100, &u));
    cr_expect_not(text_parse_u64("", 0, 100, &u));
    cr_expect_not(text_parse_u64("-1", 0, 100, &u));
    cr_expect_not(text_parse_u64("101", 0, 100, &u));
    cr_expect_not(text_parse_u64("99999999999999999999999", 0, UINT64_MAX, &u));
    cr_expect_eq(u, 42, "a failed parse must leave the output untouched");
}

Test(text, rejects_non_finite_doubles)
{
    double d = 0.5;
    cr_expect(text_parse_double("0.25", 0, 1, &d));
    cr_expect_float_eq(d, 0.25, 1e-15);
    cr_expect_not(text_parse_double("nan", 0, 1, &d));
    cr_expect_not(text_parse_double("inf", 0, 1e300, &d));
    cr_expect_not(text_parse_double("1e999", 0, 1e308, &d));
    cr_expect_not(text_parse_double("1.5", 0, 1, &d));
    cr_expect_not(text_parse_double("0.5 ", 0, 1, &d));
}

/* Every line the reader hands out of src (len bytes), with its line number, until the end or
 * an error; returns text_next_line's last result (0 at the end, -1 on error, e filled). */
typedef struct read_result {
    int n;
    char line[4][16];
    long line_no[4];
} read_result;

static int read_lines(const char *name, const char *src, size_t len, read_result *out,
                      bs_error *e)
{
    text_reader r;
    err_clear(e);
    text_open_buffer(&r, name, src, len);
    out->n = 0;
    char *line;
    int rc;
    while ((rc = text_next_line(&r, &line, e)) == 1) {
        cr_assert_lt(out->n, 4);
        snprintf(out->line[out->n], sizeof out->line[0], "%s", line);
        out->line_no[out->n++] = r.line_no;
    }
    text_close(&r);
    return rc;
}

Test(text, numbers_lines_and_strips_comments)
{
    const char src[] = "# header\n\n  a b  # tail\nc\n";
    read_result got;
    bs_error e;
    cr_expect_eq(read_lines("mem", src, sizeof src - 1, &got, &e), 0);
    cr_assert_eq(got.n, 2);
    cr_expect_str_eq(got.line[0], "a b");
    cr_expect_eq(got.line_no[0], 3);
    cr_expect_str_eq(got.line[1], "c");
    cr_expect_eq(got.line_no[1], 4);
}

Test(text, nul_byte_is_an_error_with_line)
{
    const char src[] = "ok\nb\0d\n";
    read_result got;
    bs_error e;
    cr_expect_eq(read_lines("t.txt", src, sizeof src - 1, &got, &e), -1);
    cr_expect_eq(got.n, 1, "the line before the NUL byte is read");
    cr_expect_eq(e.code, BS_EINPUT);
    cr_expect(strstr(e.msg, "t.txt:2") != NULL, "message was: %s", e.msg);
}

/* The reader's errors are -1, never 1: 1 is both "a line" and BS_EINPUT. */
Test(text, over_long_line_is_an_error_not_a_line)
{
    static char src[TEXT_LINE_MAX + 16];
    memset(src, 'x', sizeof src - 2);
    src[sizeof src - 2] = '\n';
    read_result got;
    bs_error e;
    cr_expect_eq(read_lines("long.txt", src, sizeof src - 1, &got, &e), -1);
    cr_expect_eq(got.n, 0);
    cr_expect_eq(e.code, BS_EINPUT);
    cr_expect(strstr(e.msg, "long.txt:1: line longer than") != NULL, "message was: %s", e.msg);
}

Test(text, error_message_names_file_line_field)
{
    bs_error e;
    err_at(&e, "net.model", 12, "stride", "must be >= 1, got %d", 0);
    cr_expect_str_eq(e.msg, "net.model:12: stride: must be >= 1, got 0");
    cr_expect_eq(e.code, BS_EINPUT);
}

/* A message is one line whatever it quotes: SQLite's "malformed database schema" names the
 * bad token of a corrupted shard database, newlines and all (found by tests/fuzz_merge.c;
 * tests/corpus/fuzz_merge/regress-multiline-error.db is that database). Control characters
 * become spaces. */
Test(text, error_messages_stay_one_line)
{
    bs_error e;
    err_set(&e, BS_EINPUT, "x.db: %s", "unrecognized token: \"'%Y\n[arch]\r\nfamily\t= gpu\x7f\"");
    cr_expect_str_eq(e.msg, "x.db: unrecognized token: \"'%Y [arch]  family = gpu \"");
    err_at(&e, "a\nb.model", 3, "na\nme", "bad %s", "va\x01lue");
    cr_expect_str_eq(e.msg, "a b.model:3: na me: bad va lue");
}

/* ---- text_open_file: bounded reads (issue 13 D3) ----------------------------------------- */

static const char *temp_file(const char *content, size_t len)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/bitsim-text-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

static const char *open_fails(const char *path)
{
    static bs_error e;
    text_reader r;
    err_clear(&e);
    int rc = text_open_file(&r, path, &e);
    cr_assert_eq(rc, BS_EINPUT, "opening %s: rc %d (%s)", path, rc, e.msg);
    cr_assert_null(strchr(e.msg, '\n'), "one line: %s", e.msg);
    return e.msg;
}

/* /dev/zero never ends: before, the reader grew to gigabytes (the timeout catches that). */
Test(text, refuses_a_file_that_is_not_regular, .timeout = 10)
{
    const char *msg = open_fails("/dev/zero");
    cr_expect(strstr(msg, "/dev/zero: not a regular file") != NULL, "%s", msg);
    msg = open_fails("/dev/null");
    cr_expect(strstr(msg, "/dev/null: not a regular file") != NULL, "%s", msg);
}

/* A (sparse) file above the documented limit is refused by its size, before any read. */
Test(text, refuses_a_file_above_the_size_limit, .timeout = 10)
{
    const char *path = temp_file("x\n", 2);
    cr_assert_eq(truncate(path, (off_t)TEXT_FILE_MAX + 1), 0);
    const char *msg = open_fails(path);
    char want[128];
    snprintf(want, sizeof want, "larger than the %d MiB limit", TEXT_FILE_MAX >> 20);
    cr_expect(strstr(msg, path) && strstr(msg, want), "%s", msg);
    unlink(path);
}

/* Reading stops at the first NUL byte and at the first over-long line, with its line. */
Test(text, stops_reading_at_a_nul_byte_or_an_over_long_line)
{
    const char *path = temp_file("a\nb\n\0\n", 6);
    const char *msg = open_fails(path);
    char want[128];
    snprintf(want, sizeof want, "%s:3: NUL byte", path);
    cr_expect(strstr(msg, want) != NULL, "%s", msg);
    unlink(path);

    static char src[2 * TEXT_LINE_MAX];
    memset(src, 'x', sizeof src);
    src[0] = '\n';
    path = temp_file(src, sizeof src);
    msg = open_fails(path);
    snprintf(want, sizeof want, "%s:2: line longer than %d bytes", path, TEXT_LINE_MAX - 1);
    cr_expect(strstr(msg, want) != NULL, "%s", msg);
    unlink(path);
}

/* Did-you-mean: distances counted by hand (case ignored; a swap of neighbours is one edit). */
Test(text, closest_name_is_a_likely_typo_or_none)
{
    static const char *const names[] = {"gen", "check", "cat", "schemes", NULL};
    cr_expect_eq(text_closest(names, "gne"), 0);       /* one swap */
    cr_expect_eq(text_closest(names, "CHECK"), 1);     /* case only: distance 0 */
    cr_expect_eq(text_closest(names, "chek"), 1);      /* one deletion */
    cr_expect_eq(text_closest(names, "scheme"), 3);    /* one deletion */
    cr_expect_eq(text_closest(names, "cot"), 2);       /* one substitution */
    cr_expect_eq(text_closest(names, "xyz"), -1);      /* 3 edits from every name */
    cr_expect_eq(text_closest(names, "c"), -1);        /* 2 edits from "cat": over 1 */
    static const char *const zoo[] = {"resnet20", "resnet56", "vgg16", NULL};
    cr_expect_eq(text_closest(zoo, "resnet-20"), 0);   /* one insertion; 9 chars allow 3 */
    cr_expect_eq(text_closest(zoo, "vgg19"), 2);
}

Test(text, join_builds_choice_strings_from_the_table)
{
    static const char *const names[] = {"table", "csv", "json", NULL};
    char buf[64];
    cr_expect_str_eq(text_join(names, "|", buf, sizeof buf), "table|csv|json");
    char small[8];
    cr_expect_str_eq(text_join(names, "|", small, sizeof small), "table|c");  /* cut to fit */
}

/* SHA-256 known answers (FIPS 180-2, appendix B.1 and B.2; and the empty string). */
Test(text, sha256_digest_known_answers)
{
    char hex[DIGEST_HEX_LEN + 1];
    digest_sha256_hex("abc", 3, hex);
    cr_expect_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    digest_sha256_hex(two_blocks, strlen(two_blocks), hex);
    cr_expect_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    digest_sha256_hex("", 0, hex);
    cr_expect_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* A text built in pieces: each piece lands after the last; one that does not fit fails, and
 * so does every piece after it, so a check at the end tells whether the whole text is there. */
Test(text, appendf_builds_in_pieces_and_fails_for_good)
{
    char buf[8];
    size_t len = 0;
    cr_expect(text_appendf(buf, sizeof buf, &len, "%s=%d", "ab", 12));
    cr_expect_str_eq(buf, "ab=12");
    cr_expect_eq(len, 5);
    cr_expect(text_appendf(buf, sizeof buf, &len, "%c", 'x'));
    cr_expect_str_eq(buf, "ab=12x");
    cr_expect(!text_appendf(buf, sizeof buf, &len, "yz"), "6 + 2 characters and the NUL exceed 8 bytes");
    cr_expect_eq(len, sizeof buf);
    cr_expect(!text_appendf(buf, sizeof buf, &len, "%s", ""), "after a failure every append fails");
    cr_expect_eq(len, sizeof buf);
}
