/* cmd_pareto.c — `bitsim pareto`: not built yet (placeholder until its issue lands). */
#include <stdio.h>

#include "cmd.h"
#include "err.h"

int cmd_pareto(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "bitsim: 'pareto' is not implemented yet\n");
    return BS_EINTERNAL;
}
