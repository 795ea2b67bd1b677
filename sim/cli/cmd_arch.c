/* cmd_arch.c — `bitsim arch import FILE`: another simulator's accelerator configuration (the
 * public BitFusion simulator's conf.ini, SCALE-Sim's .cfg) as a bitsim arch file
 * (arch_import.h), checked by the arch model before it is written; `bitsim arch keys`: the
 * arch format's keys, printed from the parser's key table (arch_keys_doc).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch.h"
#include "arch_import.h"
#include "cmd.h"
#include "err.h"

static const char import_synopsis[] = "FILE [-o OUT.ini]";

static int arch_import(int argc, char **argv)
{
    const char *out_path = NULL;
    cmd_opt opts[] = {
        CMD_OPT("output", 'o', "FILE", "write the arch file here (default: standard output)",
                NULL, CMD_STR, &out_path),
    };
    const cmd_spec spec = {
        .name = "arch import", .synopsis = import_synopsis,
        .about = "Converts the public BitFusion simulator's conf.ini / bf_e_conf.ini or a SCALE-Sim\n"
                 ".cfg into a bitsim arch file (arch/FORMAT.md), checks it, and writes it. Figures\n"
                 "the file does not state (energies; SCALE-Sim's clock and operand width) are\n"
                 "filled from stated rules, each written as a comment beside it.",
        .epilog = "SCALE-Sim topologies are read by --model FILE.csv; a *_input_grad.csv or\n"
                  "*_weight_grad.csv topology is already a backward GEMM and is refused there.",
        .opts = opts, .n_opts = CMD_N(opts), .min_args = 1, .max_args = 1,
        .args_error = "import needs one FILE"};
    int first, rc;
    if (!cmd_parse(&spec, argc, argv, &first, &rc))
        return rc;
    const char *in = argv[first];
    bs_error e;
    FILE *f = fopen(in, "r");
    if (!f) {
        err_set(&e, BS_EINPUT, "%s: cannot open: %s", in, strerror(errno));
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
    rc = arch_import_text(in, text, ini, sizeof ini, &e);
    arch a;
    if (rc == BS_OK)
        rc = arch_parse_buffer(&a, out_path ? out_path : "imported.ini", ini, strlen(ini), &e);
    if (rc)
        return err_report(&e);
    FILE *out = out_path ? fopen(out_path, "w") : stdout;
    bool ok = out && fputs(ini, out) != EOF;
    int why = errno;
    if (out && out_path && fclose(out) != 0 && ok) {
        ok = false;
        why = errno;
    }
    if (!ok) {
        err_set(&e, BS_EINPUT, "%s: cannot write: %s", out_path ? out_path : "standard output",
                strerror(why));
        return err_report(&e);
    }
    return BS_OK;
}

static const char keys_synopsis[] = "[SECTION]";

static int arch_keys(int argc, char **argv)
{
    const cmd_spec spec = {
        .name = "arch keys", .synopsis = keys_synopsis,
        .about = "Prints every key of the arch format (or of one [SECTION]) as Markdown tables:\n"
                 "its values (names or range), unit, the families that take it (B bitfusion,\n"
                 "S systolic, G gpu), default and meaning. They are read from the parser's own\n"
                 "key table; arch/FORMAT.md embeds the same tables.",
        .min_args = 0, .max_args = 1, .args_error = "keys takes at most one SECTION"};
    int first, rc;
    if (!cmd_parse(&spec, argc, argv, &first, &rc))
        return rc;
    bs_error e;
    if (arch_keys_doc(stdout, first < argc ? argv[first] : NULL, &e))
        return err_report(&e);
    return BS_OK;
}

static const cmd_action actions[] = {
    {"import", arch_import, import_synopsis,
     "a BitFusion conf.ini or SCALE-Sim .cfg as a bitsim arch file"},
    {"keys", arch_keys, keys_synopsis, "the arch format's keys, from the parser's key table"},
};

int cmd_arch(int argc, char **argv)
{
    return cmd_dispatch("arch", NULL, actions, CMD_N(actions), argc, argv);
}
