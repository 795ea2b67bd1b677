/* cmd.c — the option tables of the subcommands: parsing and --help from one declaration
 * (cmd.h), and the few helpers every subcommand shares.
 *
 * cmd_parse() turns a table of cmd_opt rows into getopt_long's struct option array and short
 * option string, applies each row's default by parsing its text exactly as if the user had
 * given it (so the default --help shows is the default the command runs with), then fills
 * each row's destination. Every mistake is reported the same way ("bitsim CMD: ..." on stderr,
 * then the usage, exit 2); a choice that is nearly right gets a did-you-mean (text_closest).
 * cmd_usage() prints the same rows as the --help text. Kept out of main.c so the cmd_*.c files
 * link into the test binary, which has its own main.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "err.h"
#include "store.h"
#include "text.h"

#define CMD_OPTS_MAX 40

/* ---- --help from the table ---------------------------------------------------------- */

/* "  -f, --format F" — the left column of an option's help row. */
static void opt_label(const cmd_opt *o, char *buf, size_t n)
{
    char shortf[8] = "    ";
    if (o->short_name)
        snprintf(shortf, sizeof shortf, "-%c, ", o->short_name);
    snprintf(buf, n, "  %s--%s%s%s", shortf, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
}

/* The "one of a|b|c" a choice option accepts. */
static void choice_list(const cmd_opt *o, char *buf, size_t n)
{
    text_join(o->names, "|", buf, n);
}

/* Prints help (lines split at '\n') with the first line after the label, the rest under it. */
static void print_help_rows(FILE *out, const char *label, const char *help, int col)
{
    int len = (int)strlen(label);
    fputs(label, out);
    if (len + 2 > col) {
        fputc('\n', out);
        len = 0;
    }
    const char *p = help;
    for (bool first = true;; first = false) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(out, "%*s%.*s\n", first ? col - len : col, "", n, p);
        if (!nl)
            break;
        p = nl + 1;
    }
}

/* The --help text, generated from the spec (usage lines, about, the option table, epilog). */
static void cmd_usage(const cmd_spec *sp, FILE *out)
{
    const char *syn = sp->synopsis ? sp->synopsis : "[options]";
    fprintf(out, "usage: ");
    for (const char *p = syn;;) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(out, "bitsim %s %.*s\n", sp->name, n, p);
        if (!nl)
            break;
        p = nl + 1;
        fprintf(out, "       ");
    }
    if (sp->about)
        fprintf(out, "\n%s\n", sp->about);
    fprintf(out, "\noptions:\n");
    int col = 0;
    char label[96];
    for (size_t i = 0; i < sp->n_opts; i++) {
        opt_label(&sp->opts[i], label, sizeof label);
        int len = (int)strlen(label) + 2;
        if (len > col && len <= 26)
            col = len;
    }
    if (col < 18)
        col = 18;
    for (size_t i = 0; i < sp->n_opts; i++) {
        const cmd_opt *o = &sp->opts[i];
        char help[1024], extra[300] = "", notes[170] = "";
        size_t nl = 0, el = 0;
        /* default, required, repeatable: one parenthesis */
        if (o->def)
            text_appendf(notes, sizeof notes, &nl, " (default %s", o->def);
        if (o->required)
            text_appendf(notes, sizeof notes, &nl, "%srequired", nl ? "; " : " (");
        if (o->kind == CMD_LIST)
            text_appendf(notes, sizeof notes, &nl, "%srepeatable", nl ? "; " : " (");
        if (nl)
            text_appendf(notes, sizeof notes, &nl, ")");
        if (o->kind == CMD_CHOICE) {
            char list[200];
            choice_list(o, list, sizeof list);
            /* after a short one-line help ": a|b|c"; under a longer one, or where the list
             * and the notes would run past column 90, "one of: a|b|c" on a line of its own */
            bool below = strchr(o->help, '\n') ||
                         col + strlen(o->help) + 2 + strlen(list) + strlen(notes) > 90;
            text_appendf(extra, sizeof extra, &el, below ? "\none of: %s" : ": %s", list);
        }
        text_appendf(extra, sizeof extra, &el, "%s", notes);
        snprintf(help, sizeof help, "%s%s", o->help, extra);
        opt_label(o, label, sizeof label);
        print_help_rows(out, label, help, col);
    }
    print_help_rows(out, "  -h, --help", "this text", col);
    if (sp->epilog)
        fprintf(out, "\n%s\n", sp->epilog);
    fprintf(out, "\nexit status: 0 ok, 1 bad input, 2 usage, 3 internal error\n");
}

/* ---- parsing ------------------------------------------------------------------------- */

int cmd_usage_error(const cmd_spec *sp, const char *msg)
{
    fprintf(stderr, "bitsim %s: %s\n", sp->name, msg);
    cmd_usage(sp, stderr);
    return BS_EUSAGE;
}

/* Fills o's destination from arg; false with the reason printed (on stderr) when arg is not
 * a valid value. */
static bool opt_set(const cmd_spec *sp, const cmd_opt *o, const char *arg)
{
    const char *why = NULL;
    char want[256] = "";
    switch (o->kind) {
    case CMD_FLAG:
        *(bool *)o->dst = true;
        return true;
    case CMD_STR:
        /* no control characters: labels and names go into tables and one-line messages,
         * where a newline splits a row or an error (issue 13 D10) */
        if (*arg && !text_has_control(arg)) {
            *(const char **)o->dst = arg;
            return true;
        }
        snprintf(want, sizeof want, *arg ? "a value without control characters"
                                         : "a non-empty value");
        break;
    case CMD_LIST: {
        cmd_list *l = o->dst;
        if (*arg && !text_has_control(arg) && l->n < l->max) {
            l->items[l->n++] = arg;
            return true;
        }
        if (*arg) {
            fprintf(stderr, "bitsim %s: --%s: at most %zu of them\n", sp->name, o->name, l->max);
            return false;
        }
        snprintf(want, sizeof want, "a non-empty value");
        break;
    }
    case CMD_U64:
        if (text_parse_u64(arg, o->min, o->max, o->dst))
            return true;
        if (o->max == UINT64_MAX)
            snprintf(want, sizeof want, "a whole number >= %llu", (unsigned long long)o->min);
        else
            snprintf(want, sizeof want, "a whole number in %llu..%llu",
                     (unsigned long long)o->min, (unsigned long long)o->max);
        break;
    case CMD_CHOICE: {
        for (int i = 0; o->names[i]; i++)
            if (strcasecmp(o->names[i], arg) == 0) {    /* `-f CSV`, `--pass FWD` */
                *(int *)o->dst = i;
                return true;
            }
        char list[200];
        choice_list(o, list, sizeof list);
        int near = text_closest(o->names, arg);
        if (near >= 0)
            snprintf(want, sizeof want, "one of %s (did you mean '%s'?)", list, o->names[near]);
        else
            snprintf(want, sizeof want, "one of %s", list);
        break;
    }
    case CMD_PARSE:
        if (o->parse(arg, o->dst, &why))
            return true;
        if (why) {
            char shown[256];
            text_escape_controls(arg, shown, sizeof shown);
            fprintf(stderr, "bitsim %s: --%s: '%s': %s\n", sp->name, o->name, shown, why);
            return false;
        }
        snprintf(want, sizeof want, "%s", o->want ? o->want : "valid");
        break;
    }
    char shown[256];    /* a value with a line break must not break the one-line message */
    text_escape_controls(arg, shown, sizeof shown);
    fprintf(stderr, "bitsim %s: --%s: '%s' is not %s\n", sp->name, o->name, shown, want);
    return false;
}

bool cmd_parse(const cmd_spec *sp, int argc, char **argv, int *first_arg, int *status)
{
    struct option lo[CMD_OPTS_MAX + 2];
    char shorts[2 * CMD_OPTS_MAX + 8];     /* getopt's "f:o:qh" */
    size_t ns = 0;
    bool seen[CMD_OPTS_MAX] = {false};
    *status = BS_OK;
    if (sp->n_opts > CMD_OPTS_MAX) {
        fprintf(stderr, "bitsim %s: internal: too many options\n", sp->name);
        *status = BS_EINTERNAL;
        return false;
    }
    /* the defaults, parsed as if given: a default that does not parse is a bug */
    for (size_t i = 0; i < sp->n_opts; i++) {
        const cmd_opt *o = &sp->opts[i];
        if (o->def && o->kind != CMD_FLAG && !opt_set(sp, o, o->def)) {
            fprintf(stderr, "bitsim %s: internal: the default of --%s does not parse\n",
                    sp->name, o->name);
            *status = BS_EINTERNAL;
            return false;
        }
        lo[i] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
                                256 + (int)i};
        if (o->short_name) {
            shorts[ns++] = o->short_name;
            if (o->arg)
                shorts[ns++] = ':';
        }
    }
    lo[sp->n_opts] = (struct option){"help", no_argument, NULL, 'h'};
    lo[sp->n_opts + 1] = (struct option){NULL, 0, NULL, 0};
    shorts[ns++] = 'h';
    shorts[ns] = '\0';
    optind = 0;     /* glibc: 0 also resets getopt's internal state between calls */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        const cmd_opt *o = NULL;
        if (c == 'h') {
            cmd_usage(sp, stdout);
            return false;
        }
        if (c >= 256 && c < 256 + (int)sp->n_opts) {
            o = &sp->opts[c - 256];
        } else {
            for (size_t i = 0; i < sp->n_opts && !o; i++)
                if (sp->opts[i].short_name && sp->opts[i].short_name == c)
                    o = &sp->opts[i];
        }
        if (!o) {
            /* '?' or ':': unknown option, or one missing its argument */
            const char *bad = argv[optind - 1];
            if (optopt && optopt < 256 && bad[0] == '-' && bad[1] != '-')
                fprintf(stderr, "bitsim %s: unknown or incomplete option '-%c'\n", sp->name,
                        optopt);
            else
                fprintf(stderr, "bitsim %s: unknown or incomplete option '%s'\n", sp->name,
                        bad);
            cmd_usage(sp, stderr);
            *status = BS_EUSAGE;
            return false;
        }
        if (!opt_set(sp, o, optarg)) {
            *status = BS_EUSAGE;
            return false;
        }
        seen[o - sp->opts] = true;
    }
    for (size_t i = 0; i < sp->n_opts; i++)
        if (sp->opts[i].required && !seen[i]) {
            char msg[128];
            snprintf(msg, sizeof msg, "--%s is required", sp->opts[i].name);
            *status = cmd_usage_error(sp, msg);
            return false;
        }
    int n_args = argc - optind;
    if (n_args < sp->min_args || (sp->max_args >= 0 && n_args > sp->max_args)) {
        char msg[160];
        if (sp->args_error)
            snprintf(msg, sizeof msg, "%s", sp->args_error);
        else if (sp->max_args == 0)
            snprintf(msg, sizeof msg, "unexpected argument '%s'", argv[optind]);
        else
            snprintf(msg, sizeof msg, "wrong number of arguments");
        *status = cmd_usage_error(sp, msg);
        return false;
    }
    *first_arg = optind;
    return true;
}

/* ---- sub-actions and the database ---------------------------------------------------- */

int cmd_dispatch(const char *cmd, const char *about, const cmd_action *acts, size_t n,
                 int argc, char **argv)
{
    const char *names[16];
    size_t nn = n < 15 ? n : 15;
    for (size_t i = 0; i < nn; i++)
        names[i] = acts[i].name;
    names[nn] = NULL;
    bool help = argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0);
    if (argc >= 2 && !help)
        for (size_t i = 0; i < n; i++)
            if (strcmp(argv[1], acts[i].name) == 0)
                return acts[i].fn(argc - 1, argv + 1);
    FILE *out = help ? stdout : stderr;
    if (!help) {
        char list[160];
        text_join(names, ", ", list, sizeof list);
        int near = argc >= 2 ? text_closest(names, argv[1]) : -1;
        if (argc < 2)
            fprintf(stderr, "bitsim %s: needs a subcommand, one of: %s\n", cmd, list);
        else if (near >= 0)
            fprintf(stderr, "bitsim %s: unknown subcommand '%s' (did you mean '%s'?)\n", cmd,
                    argv[1], names[near]);
        else
            fprintf(stderr, "bitsim %s: unknown subcommand '%s' (one of: %s)\n", cmd, argv[1],
                    list);
    }
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s bitsim %s %s %s\n", i ? "      " : "usage:", cmd, acts[i].name,
                acts[i].synopsis);
    fputc('\n', out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %-9s %s\n", acts[i].name, acts[i].summary);
    if (about)
        fprintf(out, "\n%s\n", about);
    if (!help) {
        fprintf(out, "\n`bitsim %s SUBCOMMAND --help` (or bitsim help %s SUBCOMMAND) describes "
                "each.\n", cmd, cmd);
        return BS_EUSAGE;
    }
    /* --help: then each action's own --help, generated from its table */
    for (size_t i = 0; i < n; i++) {
        char *sub_argv[] = {(char *)acts[i].name, "--help", NULL};
        printf("\n");
        fflush(stdout);
        acts[i].fn(2, sub_argv);
    }
    return BS_OK;
}

/* cmd_parse, then the database at *db_path (an option cmd_parse fills) opened read-only into
 * *s. True when the command should go on; otherwise *status is the exit status (the message
 * printed). */
static bool cmd_parse_open(const cmd_spec *spec, int argc, char **argv,
                           const char *const *db_path, store **s, bs_error *e, int *status)
{
    int first;
    if (!cmd_parse(spec, argc, argv, &first, status))
        return false;
    return (*status = cmd_open_store(s, *db_path, true, e)) == BS_OK;
}

bool cmd_read_store(const cmd_spec *spec, int argc, char **argv, const char *const *db_path,
                    cmd_read_fn read, const void *query, void *out, int *status)
{
    bs_error e;
    store *s;
    if (!cmd_parse_open(spec, argc, argv, db_path, &s, &e, status))
        return false;
    int rc = read(s, query, out, &e);
    store_close(s);
    if (rc)
        *status = err_report(&e);
    return rc == BS_OK;
}

bool cmd_parse_format(cmd_spec spec, int argc, char **argv, int *fmt, int *first_arg,
                      int *status)
{
    cmd_opt opts[] = {
        CMD_OPT_FORMAT(fmt),
    };
    spec.opts = opts;
    spec.n_opts = CMD_N(opts);
    return cmd_parse(&spec, argc, argv, first_arg, status);
}

bool cmd_model_ref(const cmd_spec *spec, const char *ref, const cmd_model_params *mp,
                   char *out, size_t n, int *status)
{
    int w = snprintf(out, n, "%s", ref);
    if (w >= 0 && mp->seq)
        w += snprintf(out + w, (size_t)w < n ? n - (size_t)w : 0, " seq=%llu",
                      (unsigned long long)mp->seq);
    for (size_t i = 0; w >= 0 && i < mp->list.n; i++) {
        const char *kv = mp->list.items[i], *eq = strchr(kv, '=');
        if (!eq || eq == kv || !eq[1] || strpbrk(kv, " \t")) {
            char msg[256];
            snprintf(msg, sizeof msg, "--model-param: '%s' is not KEY=VALUE", kv);
            *status = cmd_usage_error(spec, msg);
            return false;
        }
        w += snprintf(out + w, (size_t)w < n ? n - (size_t)w : 0, " %s", kv);
    }
    if (w < 0 || (size_t)w >= n) {
        *status = cmd_usage_error(spec, "the model reference with its parameters is too long");
        return false;
    }
    return true;
}

int cmd_open_store(store **s, const char *path, bool read_only, bs_error *e)
{
    err_clear(e);
    int rc = read_only ? store_open_readonly(s, path, e) : store_open(s, path, e);
    return rc ? err_report(e) : BS_OK;
}

int cmd_print_table(table *t, int fmt)
{
    bool ok = t && table_print(t, (table_format)fmt, stdout);
    table_free(t);
    if (!ok)
        return err_report(&(bs_error){BS_EINTERNAL, "out of memory printing the table"});
    return BS_OK;
}
