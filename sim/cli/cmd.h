/* cmd.h — the subcommands of the bitsim binary (git's builtin table, see main.c) and the one
 * option table each of them declares (git's parse-options).
 *
 * Each cmd_* lives in its own sim/cli/cmd_*.c, takes the arguments after the subcommand name
 * (argv[0] is the subcommand) and returns the exit status: 0 ok, 1 bad input, 2 usage,
 * 3 internal (err.h). Its options are ONE table of cmd_opt rows (name, short flag, argument,
 * help, default, what to fill); cmd_parse() parses argv with it and cmd_usage() prints the
 * --help text from it, so a flag cannot be parsed one way and documented another, and the
 * shared flags mean the same everywhere:
 *   -f, --format   output format        -o, --output   output file or directory
 *   -q, --quiet    nothing but errors   --db FILE      the database (default bitsim.db)
 */
#ifndef BITSIM_CMD_H
#define BITSIM_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "table.h"

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
int cmd_arch(int argc, char **argv);

/* The database every command opens unless --db names another. */
#define CMD_DEFAULT_DB "bitsim.db"

/* What an option fills. */
typedef enum cmd_opt_kind {
    CMD_FLAG,     /* bool *: set true */
    CMD_STR,      /* const char **: the argument (never empty) */
    CMD_LIST,     /* cmd_list *: repeatable, each argument appended */
    CMD_U64,      /* uint64_t *: a whole number in [min, max] */
    CMD_CHOICE,   /* int *: the index of the argument in names[] (did-you-mean on a typo) */
    CMD_PARSE,    /* anything: parse(arg, dst, &why) decides */
} cmd_opt_kind;

/* A repeatable option's values, in caller-provided storage of max slots. */
typedef struct cmd_list {
    const char **items;
    size_t n, max;
} cmd_list;

typedef struct cmd_opt {
    const char *name;       /* long name without "--" */
    char short_name;        /* 'f' for -f; 0 for none */
    const char *arg;        /* the argument's placeholder in --help ("FILE"); NULL: a flag */
    const char *help;       /* one or more lines ('\n' separates them) */
    const char *def;        /* default: applied before parsing AND shown in --help; NULL none */
    cmd_opt_kind kind;
    void *dst;
    bool required;          /* a usage error when absent */
    uint64_t min, max;      /* CMD_U64 */
    const char *const *names;   /* CMD_CHOICE, NULL-terminated */
    /* CMD_PARSE: false when arg is not valid; *why (may stay NULL) says what is wrong */
    bool (*parse)(const char *arg, void *dst, const char **why);
    const char *want;       /* CMD_PARSE: what a valid argument is, for the error message */
} cmd_opt;

typedef struct cmd_spec {
    const char *name;       /* "run", "trace gen" */
    const char *synopsis;   /* after "usage: bitsim NAME "; '\n' starts another usage line */
    const char *about;      /* what the command does (paragraphs), before the options */
    const char *epilog;     /* after the options (columns, units, ...); may be NULL */
    cmd_opt *opts;          /* n_opts rows; -h/--help is added by cmd_parse */
    size_t n_opts;
    int min_args, max_args; /* positional arguments allowed; max_args -1 = any number */
    const char *args_error; /* the message when their count is wrong ("needs one FILE") */
} cmd_spec;

/* One row: CMD_OPT(name, short, arg, help, default, kind, dst[, .required = true, .min = ...]).
 * (Designated, so a row names only what it uses.) */
#define CMD_OPT(n, s, a, h, d, k, p, ...)                                                      \
    {.name = (n), .short_name = (s), .arg = (a), .help = (h), .def = (d), .kind = (k),          \
     .dst = (p), __VA_ARGS__}

#define CMD_N(opts) (sizeof(opts) / sizeof((opts)[0]))
/* In a cmd_spec initializer: the table and its length. */
#define CMD_OPTS(opts) .opts = (opts), .n_opts = CMD_N(opts)

/* The shared rows, one meaning everywhere (see the top of this file). */
#define CMD_OPT_FORMAT(dst)                                                                    \
    CMD_OPT("format", 'f', "F", "output format", "table", CMD_CHOICE, (dst),                  \
            .names = table_format_names())
#define CMD_OPT_DB(dst, help) CMD_OPT("db", 0, "FILE", (help), CMD_DEFAULT_DB, CMD_STR, (dst))
#define CMD_OPT_QUIET(dst, help) CMD_OPT("quiet", 'q', NULL, (help), NULL, CMD_FLAG, (dst))

/* Parses argv (argv[0] is the command word) against spec: applies the defaults, then the
 * options; positional arguments are collected (in order) at argv[*first_arg..argc-1].
 * Returns true when the command should go on. Otherwise *status is the exit status: 0 when
 * -h/--help printed the usage on stdout, 2 (usage: unknown option, bad value, missing
 * required option, wrong number of arguments) with the message and usage on stderr. */
bool cmd_parse(const cmd_spec *spec, int argc, char **argv, int *first_arg, int *status);

/* For a command whose only option is -f/--format (a table printer): cmd_parse of spec (which
 * has no options of its own) with that one row filling *fmt. */
bool cmd_parse_format(cmd_spec spec, int argc, char **argv, int *fmt, int *first_arg,
                      int *status);

/* For a command that reads the database once: cmd_parse, then the database at *db_path (an
 * option cmd_parse fills) opened read-only; read(s, query, out, e) runs on the open store,
 * which is closed right after it. True when it succeeded; otherwise *status is
 * the exit status (parse, open or read's error printed). */
typedef int (*cmd_read_fn)(struct store *s, const void *query, void *out, bs_error *e);
bool cmd_read_store(const cmd_spec *spec, int argc, char **argv, const char *const *db_path,
                    cmd_read_fn read, const void *query, void *out, int *status);

/* For a missing or surplus argument: prints "bitsim CMD: MSG" and the usage text on stderr;
 * returns BS_EUSAGE. */
int cmd_usage_error(const cmd_spec *spec, const char *msg);

/* A sub-action of a command ("trace gen", "model show"): its word, its handler, and its
 * synopsis (the same string its cmd_spec uses) and summary for `bitsim CMD --help`. */
typedef struct cmd_action {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *synopsis;
    const char *summary;
} cmd_action;

/* Runs the action argv[1] names. `bitsim CMD --help` prints every action's synopsis and
 * summary, about, then every action's own --help; no action or an unknown one is a usage
 * error (with a did-you-mean) that prints the synopses. */
int cmd_dispatch(const char *cmd, const char *about, const cmd_action *acts, size_t n,
                 int argc, char **argv);

/* The model-parameter options of every command that loads a model (models/FORMAT.md,
 * "Parameters"): `--seq N` is `--model-param seq=N`; both end up as " KEY=VALUE" words after
 * the model reference, which model_load reads as overrides. */
#define CMD_MODEL_PARAMS_MAX 16
typedef struct cmd_model_params {
    uint64_t seq;                               /* 0: not given */
    const char *items[CMD_MODEL_PARAMS_MAX];
    cmd_list list;                              /* set up by CMD_MODEL_PARAMS_INIT */
} cmd_model_params;
#define CMD_MODEL_PARAMS_INIT(mp) ((mp)->list = (cmd_list){.items = (mp)->items, \
                                                          .max = CMD_MODEL_PARAMS_MAX})
#define CMD_MODEL_PARAM_OPTS(mp)                                                              \
    CMD_OPT("seq", 0, "N", "sequence length of a transformer (= --model-param seq=N)", NULL,  \
            CMD_U64, &(mp)->seq, .min = 1, .max = UINT32_MAX),                                \
    CMD_OPT("model-param", 0, "K=V", "sets the model file's parameter K", NULL, \
            CMD_LIST, &(mp)->list)
/* ref followed by the parameters as overrides, into out (size n). False, with a usage error
 * naming spec printed and *status 2, when an item is not KEY=VALUE or the result is too long. */
bool cmd_model_ref(const cmd_spec *spec, const char *ref, const cmd_model_params *mp,
                   char *out, size_t n, int *status);

/* Prints t to stdout in format fmt (a table_format, as CMD_OPT_FORMAT fills it) and frees it.
 * Returns the exit status: 0, or 3 with a one-line message when t is NULL (it could not be
 * made) or cannot be printed (out of memory). */
int cmd_print_table(table *t, int fmt);

/* Opens the database at path (store.h), read-only when read_only. Returns 0 with *s set, or
 * prints the one-line error and returns its exit status; e is cleared first and stays usable
 * for the caller's later errors. */
int cmd_open_store(struct store **s, const char *path, bool read_only, bs_error *e);

#endif
