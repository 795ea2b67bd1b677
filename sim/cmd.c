/* cmd.c — helpers shared by the subcommands (cmd.h). Kept out of main.c so the cmd_*.c files
 * link into the test binary, which has its own main. */
#include <string.h>

#include "cmd.h"

int cmd_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}
