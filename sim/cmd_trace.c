/* cmd_trace.c — `bitsim trace`: not built yet (placeholder until its issue lands). */
#include <stdio.h>

#include "cmd.h"
#include "err.h"

int cmd_trace(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "bitsim: 'trace' is not implemented yet\n");
    return BS_EINTERNAL;
}
