/* cmd_model.c — `bitsim model`: not built yet (placeholder until its issue lands). */
#include <stdio.h>

#include "cmd.h"
#include "err.h"

int cmd_model(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "bitsim: 'model' is not implemented yet\n");
    return BS_EINTERNAL;
}
