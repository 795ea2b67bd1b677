/* cmd_sweep.c — `bitsim sweep`: not built yet (placeholder until its issue lands). */
#include <stdio.h>

#include "cmd.h"
#include "err.h"

int cmd_sweep(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "bitsim: 'sweep' is not implemented yet\n");
    return BS_EINTERNAL;
}
