/* cmd_run.c — `bitsim run`: not built yet (placeholder until its issue lands). */
#include <stdio.h>

#include "cmd.h"
#include "err.h"

int cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "bitsim: 'run' is not implemented yet\n");
    return BS_EINTERNAL;
}
