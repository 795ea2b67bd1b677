/* test_text.c — the shared strict reader: numbers, lines, comments, bad bytes. */
#include <criterion/criterion.h>
#include <string.h>

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

Test(text, numbers_lines_and_strips_comments)
{
    const char src[] = "# header\n\n  a b  # tail\nc\n";
    text_reader r;
    bs_error e;
    err_clear(&e);
    text_open_buffer(&r, "mem", src, sizeof src - 1);
    char *line;
    cr_assert_eq(text_next_line(&r, &line, &e), 1);
    cr_expect_str_eq(line, "a b");
    cr_expect_eq(r.line_no, 3);
    cr_assert_eq(text_next_line(&r, &line, &e), 1);
    cr_expect_str_eq(line, "c");
    cr_expect_eq(r.line_no, 4);
    cr_expect_eq(text_next_line(&r, &line, &e), 0);
}

Test(text, nul_byte_is_an_error_with_line)
{
    const char src[] = "ok\nb\0d\n";
    text_reader r;
    bs_error e;
    err_clear(&e);
    text_open_buffer(&r, "t.txt", src, sizeof src - 1);
    char *line;
    cr_assert_eq(text_next_line(&r, &line, &e), 1);
    cr_expect_eq(text_next_line(&r, &line, &e), -1);
    cr_expect_eq(e.code, BS_EINPUT);
    cr_expect(strstr(e.msg, "t.txt:2") != NULL, "message was: %s", e.msg);
}

Test(text, error_message_names_file_line_field)
{
    bs_error e;
    err_at(&e, "net.model", 12, "stride", "must be >= 1, got %d", 0);
    cr_expect_str_eq(e.msg, "net.model:12: stride: must be >= 1, got 0");
    cr_expect_eq(e.code, BS_EINPUT);
}
