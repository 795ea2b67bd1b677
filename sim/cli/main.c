/* main.c — bitsim's entry point: a table of subcommands, git-style.
 *
 * `bitsim CMD ARGS` runs cmd_CMD(ARGS); `bitsim help CMD [SUB]` is `bitsim CMD [SUB] --help`,
 * so the two always agree. Adding a subcommand is one row here plus its sim/cli/cmd_*.c file.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "text.h"
#include "version.h"

typedef struct subcommand {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} subcommand;

static const subcommand commands[] = {
    {"model", cmd_model, "list the zoo, show a network's layers and per-pass op counts"},
    {"trace", cmd_trace, "generate, check and rewrite training-decision traces"},
    {"cost", cmd_cost, "evaluate one layer-pass on an accelerator"},
    {"run", cmd_run, "replay a trace through an accelerator into the database"},
    {"report", cmd_report, "per-layer, per-pass breakdown of one stored run"},
    {"compare", cmd_compare, "compare stored runs of schemes against a baseline"},
    {"plot", cmd_plot, "draw publication plots from the database with gnuplot"},
    {"sweep", cmd_sweep, "explore a space of accelerator configurations"},
    {"pareto", cmd_pareto, "list the non-dominated points of a sweep"},
    {"merge", cmd_merge, "merge sharded sweep databases"},
    {"arch", cmd_arch, "import BitFusion / SCALE-Sim configs as arch files; list the arch keys"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bitsim <command> [options]\n"
            "       bitsim help <command> [<sub>]  (same as bitsim <command> [<sub>] --help)\n"
            "       bitsim help --all              (every command's help: the reference)\n"
            "       bitsim --version\n\n"
            "bitsim replays what a quantized-training run decided (per-layer, per-iteration\n"
            "precisions and densities) through a BitFusion-style accelerator model and stores\n"
            "MAdds, BitOPs, cycles, energy and latency in SQLite.\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nexit status: 0 ok, 1 bad input, 2 usage, 3 internal error\n");
}

/* The command called name; NULL (with the message, and a did-you-mean) when none is. */
static const subcommand *find_command(const char *name)
{
    const char *names[N_COMMANDS + 1];
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
        names[i] = commands[i].name;
    }
    names[N_COMMANDS] = NULL;
    int near = text_closest(names, name);
    if (near >= 0)
        fprintf(stderr, "bitsim: unknown command '%s' (did you mean '%s'?)\n", name, names[near]);
    else
        fprintf(stderr, "bitsim: unknown command '%s' (see bitsim --help)\n", name);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return BS_EUSAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
        usage(stdout);
        return BS_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("bitsim %s\n", version_tool());
        return BS_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return BS_OK;
        }
        if (strcmp(argv[2], "--all") == 0) {
            /* the whole reference, every text generated from its command's option table */
            usage(stdout);
            for (size_t i = 0; i < N_COMMANDS; i++) {
                char *sub_argv[] = {(char *)commands[i].name, "--help", NULL};
                printf("\n---- bitsim %s ----\n", commands[i].name);
                fflush(stdout);
                commands[i].fn(2, sub_argv);
            }
            return BS_OK;
        }
        const subcommand *c = find_command(argv[2]);
        if (!c)
            return BS_EUSAGE;
        /* `bitsim help trace gen` is `bitsim trace gen --help`: the words after help, then
         * --help (argv has room: it ends in NULL where "help" stood one slot earlier) */
        for (int i = 1; i < argc - 1; i++)
            argv[i] = argv[i + 1];
        argv[argc - 1] = "--help";
        return c->fn(argc - 1, argv + 1);
    }
    const subcommand *c = find_command(name);
    if (!c)
        return BS_EUSAGE;
    return c->fn(argc - 1, argv + 1);
}
