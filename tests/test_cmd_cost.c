/* test_cmd_cost.c — `bitsim cost` flag handling that test_cost.c (the cost model) leaves out.
 *
 * Densities: cost_eval takes any fraction in [0, 1] (0 is an all-zero tensor: a dead ReLU map,
 * a pruned layer), so the command must accept the same range and reject what is outside it.
 * Shipped bitfusion has no zero-skipping and no DRAM compression, so by cost.c's documented
 * rule ("without it density changes nothing") a density-0 run prints the dense numbers.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cli_capture.h"
#include "cmd.h"

static int cost_csv(const char *density, char *out, size_t n)
{
    char *argv[] = {"cost", "--conv", "3,32,1,16,16", "--bits", "8,8", "--density",
                    (char *)density, "--format", "csv", NULL};
    return run_cmd(cmd_cost, argv, out, n);
}

Test(cmd_cost, density_zero_is_an_all_zero_tensor)
{
    setenv("BITSIM_HOME", ".", 0);
    static char dense[8192], zero[8192], both_zero[8192];
    cr_assert_eq(cost_csv("1,1", dense, sizeof dense), 0);
    cr_expect_eq(cost_csv("0,1", zero, sizeof zero), 0, "density 0 is legal: %s", zero);
    cr_expect_eq(cost_csv("0,0", both_zero, sizeof both_zero), 0);
    cr_expect_str_eq(zero, dense, "no zero-skipping on bitfusion: density changes nothing");
}

Test(cmd_cost, density_outside_0_1_is_a_usage_error)
{
    setenv("BITSIM_HOME", ".", 0);
    static char out[8192];
    static const char *const bad[] = {"-0.1,1", "1,1.5", "nan,1", "0", "0,1,1", "0x,1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(cost_csv(bad[i], out, sizeof out), 2, "--density %s", bad[i]);
}
