/* cmd_merge.c — `bitsim merge`: not built yet (placeholder until its issue lands). */
#include <stdio.h>

#include "cmd.h"
#include "err.h"

int cmd_merge(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "bitsim: 'merge' is not implemented yet\n");
    return BS_EINTERNAL;
}
