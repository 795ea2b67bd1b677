/* cmd_report.c — `bitsim report`: not built yet (placeholder until its issue lands). */
#include <stdio.h>

#include "cmd.h"
#include "err.h"

int cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "bitsim: 'report' is not implemented yet\n");
    return BS_EINTERNAL;
}
