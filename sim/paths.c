/* paths.c — finds the shipped data directories (models/, arch/, plots/) without flags.
 *
 * The same binary runs from a checkout (./bitsim), from build/ (the test and fuzz binaries)
 * and installed under PREFIX, so the data is looked for, first hit wins, in
 * $BITSIM_HOME/SUB (an explicit override), next to the running executable (read from
 * /proc/self/exe, so it works whatever the current directory), one directory above it (for
 * build/), and finally the install datadir BITSIM_DATADIR (set by the Makefile). A NAME that
 * is already an existing file path is used as is (a user's own file wins over a shipped one
 * of the same name), and a NAME containing '/' is never looked up in a data directory (a
 * mistyped path fails instead of silently finding a zoo entry). See paths.h for the interface.
 */
#include "paths.h"

#include <dirent.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"

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
        /* the executable's directory, then the one above it (test and tool binaries live
         * in build/) */
        char *slash;
        for (int up = 0; up < 2 && (slash = strrchr(exe, '/')) != NULL; up++) {
            *slash = '\0';
            snprintf(buf, n, "%s/%s", exe, sub);
            if (is_dir(buf))
                return buf;
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

bool paths_closest_name(const char *dir, const char *ext, const char *name, char *buf, size_t n)
{
    enum { MAX_NAMES = 512 };
    DIR *d = opendir(dir);
    if (!d)
        return false;
    static const size_t stem_max = 64;
    char (*stems)[64] = calloc(MAX_NAMES, stem_max);
    const char **names = calloc(MAX_NAMES + 1, sizeof *names);
    size_t k = 0, el = strlen(ext);
    struct dirent *de;
    while (stems && names && k < MAX_NAMES && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len <= el || len - el >= stem_max ||
            strcmp(de->d_name + len - el, ext) != 0)
            continue;
        memcpy(stems[k], de->d_name, len - el);
        stems[k][len - el] = '\0';
        names[k] = stems[k];
        k++;
    }
    closedir(d);
    int near = names ? text_closest(names, name) : -1;
    if (near >= 0)
        snprintf(buf, n, "%s", names[near]);
    free(stems);
    free(names);
    return near >= 0;
}
