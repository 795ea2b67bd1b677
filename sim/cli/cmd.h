/* cmd.h — the subcommands of the bitsim binary (git's builtin table, see main.c).
 *
 * Each cmd_* lives in its own sim/cli/cmd_*.c with its own usage text, takes the arguments after
 * the subcommand name (argv[0] is the subcommand), accepts -h/--help, and returns the exit
 * status: 0 ok, 1 bad input, 2 usage, 3 internal (err.h).
 */
#ifndef BITSIM_CMD_H
#define BITSIM_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"

struct store;

int cmd_model(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_cost(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_pareto(int argc, char **argv);
int cmd_merge(int argc, char **argv);

/* True when argv holds -h or --help (before any "--"). */
int cmd_wants_help(int argc, char **argv);

/* Prints the usage text on stdout and returns BS_OK: the answer to --help, so that
 * `if (cmd_wants_help(argc, argv)) return cmd_help(usage);` starts every subcommand. */
int cmd_help(void (*usage)(FILE *out));

/* For a flag whose value is wrong: prints "bitsim CMD: FLAG: 'VALUE' is not WANT" on stderr
 * and returns BS_EUSAGE. */
int cmd_bad_value(const char *cmd, const char *flag, const char *value, const char *want);

/* Parses a --format argument (table.h) into *fmt; an unknown name prints a one-line error
 * naming the command (cmd_bad_value) and returns BS_EUSAGE. */
int cmd_table_format(const char *cmd, const char *arg, int *fmt);

/* For getopt's '?'/':' case: prints "bitsim CMD: unknown or incomplete option 'OPT'" and the
 * usage text on stderr; returns BS_EUSAGE. */
int cmd_bad_option(const char *cmd, const char *opt, void (*usage)(FILE *out));

/* For a missing or surplus argument: prints "bitsim CMD: MSG" and the usage text on stderr;
 * returns BS_EUSAGE. */
int cmd_usage_error(const char *cmd, const char *msg, void (*usage)(FILE *out));

/* Opens the database at path (store.h), read-only when read_only. Returns 0 with *s set, or
 * prints the one-line error and returns its exit status; e is cleared first and stays usable
 * for the caller's later errors. */
int cmd_open_store(struct store **s, const char *path, bool read_only, bs_error *e);

#endif
