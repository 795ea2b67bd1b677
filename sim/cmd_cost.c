/* cmd_cost.c — `bitsim cost`: not built yet (placeholder until its issue lands). */
#include <stdio.h>

#include "cmd.h"
#include "err.h"

int cmd_cost(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "bitsim: 'cost' is not implemented yet\n");
    return BS_EINTERNAL;
}
