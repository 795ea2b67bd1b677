/* test_cmd.c — the option tables (sim/cli/cmd.h): one table parses argv, applies its defaults
 * and prints --help, so what help says is what parsing does. A small table of every kind is
 * parsed here, in-process, with stdout/stderr captured. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cli_capture.h"
#include "cmd.h"
#include "text.h"

typedef struct args {
    const char *name;
    bool flag;
    uint64_t n;
    int fmt;
    const char *items[4];
    cmd_list list;
    int first, status;
} args;

static bool parse_even(const char *arg, void *dst, const char **why)
{
    uint64_t v;
    if (!text_parse_u64(arg, 0, 100, &v))
        return false;
    if (v % 2) {
        *why = "must be even";
        return false;
    }
    *(uint64_t *)dst = v;
    return true;
}

static uint64_t even;

/* The command under test: `demo [options] ARG...`, its table of one row per kind. */
static args a;
static int demo(int argc, char **argv)
{
    memset(&a, 0, sizeof a);
    a.list = (cmd_list){.items = a.items, .max = 4};
    cmd_opt opts[] = {
        CMD_OPT("name", 'n', "NAME", "a name", NULL, CMD_STR, &a.name, .required = true),
        CMD_OPT("flag", 0, NULL, "a flag", NULL, CMD_FLAG, &a.flag),
        CMD_OPT("count", 'c', "N", "a count", "7", CMD_U64, &a.n, .min = 1, .max = 9),
        CMD_OPT_FORMAT(&a.fmt),
        CMD_OPT("item", 'i', "X", "an item", NULL, CMD_LIST, &a.list),
        CMD_OPT("even", 0, "E", "an even number", "4", CMD_PARSE, &even, .parse = parse_even),
    };
    const cmd_spec spec = {.name = "demo", .synopsis = "--name NAME [options] ARG...",
                           .about = "A demo.", CMD_OPTS(opts), .min_args = 1, .max_args = 2};
    if (!cmd_parse(&spec, argc, argv, &a.first, &a.status))
        return a.status;
    printf("ok\n");
    return 0;
}

static int run(char **argv)
{
    static char out[8192];
    return run_cmd(demo, argv, out, sizeof out);
}

Test(cmd, defaults_are_applied_from_the_table)
{
    char *argv[] = {"demo", "--name", "x", "arg", NULL};
    cr_assert_eq(run(argv), 0);
    cr_expect_str_eq(a.name, "x");
    cr_expect(!a.flag);
    cr_expect_eq(a.n, 7, "the row's default \"7\"");
    cr_expect_eq(a.fmt, TABLE_TEXT, "format's default \"table\"");
    cr_expect_eq(even, 4);
    cr_expect_eq(a.first, 3, "positional arguments after the options");
}

Test(cmd, every_kind_parses_short_long_and_prefix)
{
    char *argv[] = {"demo", "-n", "y", "--flag", "-c", "3", "-f", "json", "-i", "a", "--item",
                    "b", "--ev", "8", "p", "q", NULL};
    cr_assert_eq(run(argv), 0);
    cr_expect_str_eq(a.name, "y");
    cr_expect(a.flag);
    cr_expect_eq(a.n, 3);
    cr_expect_eq(a.fmt, TABLE_JSON);
    cr_expect_eq(a.list.n, 2);
    cr_expect_str_eq(a.items[1], "b");
    cr_expect_eq(even, 8, "--ev is an unambiguous prefix of --even");
}

Test(cmd, mistakes_are_usage_errors)
{
    char *missing[] = {"demo", "arg", NULL};
    cr_expect_eq(run(missing), BS_EUSAGE, "--name is required");
    char *range[] = {"demo", "-n", "x", "-c", "10", "arg", NULL};
    cr_expect_eq(run(range), BS_EUSAGE, "--count above its max");
    char *choice[] = {"demo", "-n", "x", "-f", "yaml", "arg", NULL};
    cr_expect_eq(run(choice), BS_EUSAGE);
    char *odd[] = {"demo", "-n", "x", "--even", "3", "arg", NULL};
    cr_expect_eq(run(odd), BS_EUSAGE);
    char *empty[] = {"demo", "-n", "", "arg", NULL};
    cr_expect_eq(run(empty), BS_EUSAGE, "an empty string value");
    char *unknown[] = {"demo", "-n", "x", "--nope", "arg", NULL};
    cr_expect_eq(run(unknown), BS_EUSAGE);
    char *no_args[] = {"demo", "-n", "x", NULL};
    cr_expect_eq(run(no_args), BS_EUSAGE, "min_args 1");
    char *too_many[] = {"demo", "-n", "x", "a", "b", "c", NULL};
    cr_expect_eq(run(too_many), BS_EUSAGE, "max_args 2");
    char *too_many_items[] = {"demo", "-n", "x", "-i", "1", "-i", "2", "-i", "3", "-i", "4",
                              "-i", "5", "arg", NULL};
    cr_expect_eq(run(too_many_items), BS_EUSAGE, "a list of at most 4");
}

/* --help prints every row of the table, with its default, and exits 0 without running. */
Test(cmd, help_is_the_table)
{
    static char out[8192];
    char *argv[] = {"demo", "--help", NULL};
    cr_assert_eq(run_cmd(demo, argv, out, sizeof out), 0);
    cr_expect(strstr(out, "ok\n") == NULL, "help does not run the command");
    static const char *const want[] = {
        "usage: bitsim demo --name NAME [options] ARG...", "A demo.",
        "-n, --name NAME", "a name (required)", "--flag", "-c, --count N", "a count (default 7)",
        "-f, --format F", "output format: table|csv|json|markdown|latex (default table)",
        "-i, --item X", "(repeatable)", "--even E", "(default 4)", "-h, --help",
        "exit status: 0 ok, 1 bad input, 2 usage, 3 internal error"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect(strstr(out, want[i]) != NULL, "missing '%s' in:\n%s", want[i], out);
}
