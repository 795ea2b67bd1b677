/* version.c — the release and the build commit (version.h), from the Makefile's -D flags. */
#include "version.h"

#ifndef BITSIM_VERSION
#define BITSIM_VERSION "0.1.0"
#endif
#ifndef BITSIM_BUILD_REV
#define BITSIM_BUILD_REV "unknown"
#endif

const char *version_release(void)
{
    return BITSIM_VERSION;
}

const char *version_tool(void)
{
    return BITSIM_VERSION "+" BITSIM_BUILD_REV;
}
