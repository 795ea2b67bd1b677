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
    /* and what it prints is the layer's count by hand, not only equal to itself: a 3x3 kernel
     * over a 32x32 output, 16 -> 16 channels, batch 128 (the default): 9 * 1024 * 16 * 16 *
     * 128 = 301,989,888 MAdds; BitOPs at 8 x 8 bits = 64 per MAdd */
    static const char want[] = "conv,FWD,301989888,0,19327352832,";
    cr_expect(strstr(zero, want) != NULL, "%s", zero);
    cr_expect(strstr(both_zero, want) != NULL, "%s", both_zero);
}

Test(cmd_cost, density_outside_0_1_is_a_usage_error)
{
    setenv("BITSIM_HOME", ".", 0);
    static char out[8192];
    static const char *const bad[] = {"-0.1,1", "1,1.5", "nan,1", "0", "0,1,1", "0x,1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(cost_csv(bad[i], out, sizeof out), 2, "--density %s", bad[i]);
}

/* A value longer than the flag's buffer is refused whole, not cut off: "0.5,000...0x" cut
 * after its zeros would read as the valid density pair 0.5,0. */
Test(cmd_cost, overlong_density_with_junk_is_a_usage_error)
{
    setenv("BITSIM_HOME", ".", 0);
    static char out[8192];
    char density[300] = "0.5,";
    memset(density + 4, '0', 250);
    density[254] = 'x';
    density[255] = '\0';
    cr_expect_eq(cost_csv(density, out, sizeof out), 2, "--density 0.5,0...0x (255 chars)");
}

/* The value of column `name` in the first data row of the command's CSV output. */
static double csv_column(const char *csv, const char *name)
{
    const char *header_end = strchr(csv, '\n'), *at = strstr(csv, name);
    cr_assert(header_end && at && at < header_end, "%s", csv);
    int col = 0;
    for (const char *c = csv; c < at; c++)
        col += *c == ',';
    const char *field = header_end + 1;
    for (int i = 0; i < col && field; i++)
        field = strchr(field, ',') ? strchr(field, ',') + 1 : NULL;
    cr_assert_not_null(field);
    return strtod(field, NULL);
}

/* DRAM write bits of ResNet-20's layer1.0.conv1 FWD at batch 128 with --out OUT ("" = none),
 * read from the command's CSV (column dram_wr_bits). */
static double fwd_dram_writes(const char *out_flag)
{
    static char csv[8192];
    char *argv[] = {"cost", "--model", "resnet20", "--layer", "layer1.0.conv1", "--pass", "fwd",
                    "--bits", "8,8", "--batch", "128", "--format", "csv",
                    *out_flag ? "--out-format" : NULL, (char *)out_flag, NULL};
    cr_assert_eq(run_cmd(cmd_cost, argv, csv, sizeof csv), 0, "%s", csv);
    return csv_column(csv, "dram_wr_bits");
}

/* Training mode, as bitsim run uses it: the output (16 channels x 32 x 32 per sample, batch
 * 128 = 2,097,152 elements) is written once at the activation's width: 8 bits -> 16,777,216;
 * --out int16 doubles it; --out ref is the public simulator's 32-bit padded output stage,
 * which writes more than the 32-bit output alone (67,108,864). */
Test(cmd_cost, output_is_written_once_at_its_format)
{
    setenv("BITSIM_HOME", ".", 0);
    cr_expect_float_eq(fwd_dram_writes(""), 2097152.0 * 8, 0.5);
    cr_expect_float_eq(fwd_dram_writes("int16"), 2097152.0 * 16, 0.5);
    cr_expect_gt(fwd_dram_writes("ref"), 2097152.0 * 32);
}

/* `bitsim cost --bits mxfp4,mxfp8`: block-scaled operands by name. On BitFusion (pmax 8) the
 * MXFP4 activation's 2-bit E2M1 significand takes 8/2 = 4 lanes and the MXFP8 weight's 4-bit
 * E4M3 significand 8/4 = 2: 8 MACs per fusion unit per cycle; BitOPs count the element widths,
 * 4 x 8 per MAdd (a 3x3 conv, 16 -> 16 channels, 8x8 output, batch 16 (--batch 16):
 * 9 x 16 x 16 x 64 x 16 = 2,359,296 MAdds). An unknown
 * block-scaled name is a usage error. */
Test(cmd_cost, block_scaled_formats_by_name)
{
    setenv("BITSIM_HOME", ".", 0);
    static char csv[8192];
    char *argv[] = {"cost", "--conv", "3,8,1,16,16", "--bits", "mxfp4,mxfp8", "--batch", "16",
                    "--format", "csv", NULL};
    cr_assert_eq(run_cmd(cmd_cost, argv, csv, sizeof csv), 0, "%s", csv);
    cr_expect_float_eq(csv_column(csv, "perf_factor"), 8, 0);
    cr_expect_float_eq(csv_column(csv, "madds"), 2359296, 0);
    cr_expect_float_eq(csv_column(csv, "bitops"), 2359296.0 * 4 * 8, 0.5);
    char *bad[] = {"cost", "--conv", "3,8,1,16,16", "--bits", "mxfp3,mxfp8", NULL};
    cr_expect_eq(run_cmd(cmd_cost, bad, csv, sizeof csv), 2, "%s", csv);
}

/* The human table prints whole counts in full: AlexNet's first conv at batch 16 is 1,686,643,200
 * MAdds (55 x 55 x 96 outputs x 11 x 11 x 3 taps x 16), so 8 x 8 bit operands make
 * 107,945,164,800 BitOPs, not "1.079451648e+11". */
Test(cmd_cost, whole_counts_print_in_full)
{
    setenv("BITSIM_HOME", ".", 0);
    static char out[8192];
    char *argv[] = {"cost", "--conv", "11,55,4,3,96", "--im2col", "--bits", "8,8", "--batch",
                    "16", NULL};
    cr_assert_eq(run_cmd(cmd_cost, argv, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, " 1686643200\n") != NULL, "%s", out);
    cr_expect(strstr(out, " 107945164800\n") != NULL, "%s", out);
}
