/* cmd_plot.c — `bitsim plot`: not built yet (placeholder until its issue lands). */
#include <stdio.h>

#include "cmd.h"
#include "err.h"

int cmd_plot(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "bitsim: 'plot' is not implemented yet\n");
    return BS_EINTERNAL;
}
