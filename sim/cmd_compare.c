/* cmd_compare.c — `bitsim compare`: not built yet (placeholder until its issue lands). */
#include <stdio.h>

#include "cmd.h"
#include "err.h"

int cmd_compare(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "bitsim: 'compare' is not implemented yet\n");
    return BS_EINTERNAL;
}
