/* test_paths.c — where bitsim finds its data (paths.h), on a directory made for the test:
 * $BITSIM_HOME wins, a name resolves to SUB/NAME.EXT, an existing file path is used as it is,
 * a name with '/' is never looked up in a data directory, and did-you-mean names the closest
 * shipped stem. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"

static char home[64];

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs("x\n", f);
    fclose(f);
}

static void setup(void)
{
    snprintf(home, sizeof home, "/tmp/bitsim-paths-XXXXXX");
    cr_assert_not_null(mkdtemp(home));
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/arch", home);
    cr_assert_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/arch/edge-tpu.ini", home);
    touch(p);
    snprintf(p, sizeof p, "%s/arch/bitfusion.ini", home);
    touch(p);
    snprintf(p, sizeof p, "%s/arch/notes.txt", home);
    touch(p);
    setenv("BITSIM_HOME", home, 1);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    if (system(cmd) != 0) { /* best effort */
    }
}

TestSuite(paths, .init = setup, .fini = teardown);

Test(paths, bitsim_home_is_searched_first)
{
    char buf[PATH_MAX], want[PATH_MAX];
    snprintf(want, sizeof want, "%s/arch", home);
    cr_expect_str_eq(paths_data_dir("arch", buf, sizeof buf), want);
}

Test(paths, a_name_resolves_in_its_data_directory)
{
    char buf[PATH_MAX], want[PATH_MAX];
    snprintf(want, sizeof want, "%s/arch/bitfusion.ini", home);
    cr_expect(paths_resolve("arch", "bitfusion", ".ini", buf, sizeof buf));
    cr_expect_str_eq(buf, want);
    cr_expect(!paths_resolve("arch", "nosuch", ".ini", buf, sizeof buf));
    cr_expect(!paths_resolve("arch", "notes", ".ini", buf, sizeof buf), "only NAME.EXT");
}

Test(paths, an_existing_file_wins_and_a_path_is_never_looked_up)
{
    char buf[PATH_MAX], file[PATH_MAX];
    snprintf(file, sizeof file, "%s/arch/edge-tpu.ini", home);
    cr_expect(paths_resolve("arch", file, ".ini", buf, sizeof buf));
    cr_expect_str_eq(buf, file);
    /* "sub/bitfusion" has a '/': a mistyped path fails instead of finding the shipped file */
    cr_expect(!paths_resolve("arch", "sub/bitfusion", ".ini", buf, sizeof buf));
}

Test(paths, closest_name_for_did_you_mean)
{
    char dir[PATH_MAX], buf[64];
    snprintf(dir, sizeof dir, "%s/arch", home);
    cr_expect(paths_closest_name(dir, ".ini", "BitFusion", buf, sizeof buf));
    cr_expect_str_eq(buf, "bitfusion");
    cr_expect(paths_closest_name(dir, ".ini", "edgetpu", buf, sizeof buf));
    cr_expect_str_eq(buf, "edge-tpu");
    cr_expect(!paths_closest_name(dir, ".ini", "gpu-a100", buf, sizeof buf));
    cr_expect(!paths_closest_name(dir, ".ini", "notes", buf, sizeof buf), "only .ini stems");
    cr_expect(!paths_closest_name("/nonexistent", ".ini", "x", buf, sizeof buf));
}
