/* cmd.c — helpers shared by the subcommands (cmd.h).
 *
 * Every subcommand reports usage mistakes, bad --format names and unopenable databases the
 * same way ("bitsim CMD: ..." on stderr, then the usage text, exit 2; or the error's one line,
 * exit 1/3), so those few lines live here once. Kept out of main.c so the cmd_*.c files link
 * into the test binary, which has its own main.
 */
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "store.h"
#include "table.h"
#include "text.h"

int cmd_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

int cmd_bad_value(const char *cmd, const char *flag, const char *value, const char *want)
{
    char shown[256];    /* a value with a line break must not break the one-line message */
    text_escape_controls(value, shown, sizeof shown);
    fprintf(stderr, "bitsim %s: %s: '%s' is not %s\n", cmd, flag, shown, want);
    return BS_EUSAGE;
}

int cmd_help(void (*usage)(FILE *out))
{
    usage(stdout);
    return BS_OK;
}

int cmd_table_format(const char *cmd, const char *arg, int *fmt)
{
    int f = table_format_parse(arg);
    if (f < 0) {
        char want[64];
        snprintf(want, sizeof want, "one of %s", table_format_choices());
        return cmd_bad_value(cmd, "--format", arg, want);
    }
    *fmt = f;
    return BS_OK;
}

int cmd_bad_option(const char *cmd, const char *opt, void (*usage)(FILE *out))
{
    fprintf(stderr, "bitsim %s: unknown or incomplete option '%s'\n", cmd, opt);
    usage(stderr);
    return BS_EUSAGE;
}

int cmd_usage_error(const char *cmd, const char *msg, void (*usage)(FILE *out))
{
    fprintf(stderr, "bitsim %s: %s\n", cmd, msg);
    usage(stderr);
    return BS_EUSAGE;
}

int cmd_open_store(store **s, const char *path, bool read_only, bs_error *e)
{
    err_clear(e);
    int rc = read_only ? store_open_readonly(s, path, e) : store_open(s, path, e);
    return rc ? err_report(e) : BS_OK;
}
