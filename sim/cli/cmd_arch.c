/* cmd_arch.c — `bitsim arch import FILE`: another simulator's accelerator configuration (the
 * public BitFusion simulator's conf.ini, SCALE-Sim's .cfg) as a bitsim arch file
 * (arch_import.h), checked by the arch model before it is written.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "arch_import.h"
#include "cmd.h"
#include "err.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bitsim arch import FILE [-o OUT.ini]\n\n"
            "Converts the public BitFusion simulator's conf.ini / bf_e_conf.ini or a SCALE-Sim\n"
            ".cfg into a bitsim arch file (arch/FORMAT.md), checks it, and writes it to OUT.ini\n"
            "(default: standard output). Figures the file does not state (energies; SCALE-Sim's\n"
            "clock and operand width) are filled from stated rules, each written as a comment.\n"
            "SCALE-Sim topologies are read by `--model FILE.csv`; a *_input_grad.csv or\n"
            "*_weight_grad.csv topology is already a backward GEMM and is refused there.\n\n"
            "options:\n"
            "  -o, --out FILE  write the arch file here\n"
            "  -h, --help      this text\n");
}

int cmd_arch(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv))
        return cmd_help(usage);
    static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out_path = NULL;
    int c;
    optind = 2; /* argv[1] is the action */
    opterr = 0;
    if (argc < 2 || strcmp(argv[1], "import") != 0)
        return cmd_usage_error("arch", "the action is 'import'", usage);
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (c == 'o')
            out_path = optarg;
        else
            return cmd_bad_option("arch", argv[optind - 1], usage);
    }
    if (optind != argc - 1)
        return cmd_usage_error("arch", "import needs one FILE", usage);
    const char *in = argv[optind];
    bs_error e;
    FILE *f = fopen(in, "r");
    if (!f) {
        err_set(&e, BS_EINPUT, "%s: cannot open", in);
        return err_report(&e);
    }
    static char text[1 << 16], ini[1 << 14];
    size_t len = fread(text, 1, sizeof text - 1, f);
    bool too_long = !feof(f);
    fclose(f);
    text[len] = '\0';
    if (too_long || strlen(text) != len) {
        err_set(&e, BS_EINPUT, "%s: not a configuration text (binary or over 64 KiB)", in);
        return err_report(&e);
    }
    int rc = arch_import_text(in, text, ini, sizeof ini, &e);
    arch a;
    if (rc == BS_OK)
        rc = arch_parse_buffer(&a, out_path ? out_path : "imported.ini", ini, strlen(ini), &e);
    if (rc)
        return err_report(&e);
    FILE *out = out_path ? fopen(out_path, "w") : stdout;
    if (!out || fputs(ini, out) == EOF || (out_path && fclose(out) != 0)) {
        err_set(&e, BS_EINPUT, "%s: cannot write", out_path ? out_path : "standard output");
        return err_report(&e);
    }
    return BS_OK;
}
