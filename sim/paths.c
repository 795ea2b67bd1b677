/* paths.c — data directory lookup (see paths.h for the order and why). */
#include "paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef BITSIM_DATADIR
#define BITSIM_DATADIR "/usr/local/share/bitsim"
#endif

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

const char *paths_data_dir(const char *sub, char *buf, size_t n)
{
    const char *home = getenv("BITSIM_HOME");
    if (home && *home) {
        snprintf(buf, n, "%s/%s", home, sub);
        if (is_dir(buf))
            return buf;
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, n, "%s/%s", exe, sub);
            if (is_dir(buf))
                return buf;
            /* test and tool binaries live in build/: look one level up too */
            slash = strrchr(exe, '/');
            if (slash) {
                *slash = '\0';
                snprintf(buf, n, "%s/%s", exe, sub);
                if (is_dir(buf))
                    return buf;
            }
        }
    }
    snprintf(buf, n, "%s/%s", BITSIM_DATADIR, sub);
    return is_dir(buf) ? buf : NULL;
}

bool paths_resolve(const char *sub, const char *name, const char *ext, char *buf, size_t n)
{
    if (is_file(name)) {
        snprintf(buf, n, "%s", name);
        return true;
    }
    if (strchr(name, '/'))
        return false;
    char dir[PATH_MAX];
    if (!paths_data_dir(sub, dir, sizeof dir))
        return false;
    snprintf(buf, n, "%s/%s%s", dir, name, ext);
    return is_file(buf);
}
