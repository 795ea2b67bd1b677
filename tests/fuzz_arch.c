/* fuzz_arch.c — libFuzzer target for the arch parser, and through it the cost model.
 * Invariants on every accepted input: a one-line error on rejection; on acceptance, a small
 * convolution and a GEMM cost out with total = compute + stall, finite non-negative energies
 * and traffic, or are rejected with a message (a tile that fits no buffer). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "cost.h"
#include "cost_conv.h"
#include "fuzz.h"

enum { R_PARSED, R_GPU, R_COSTED, R_COUNT };
static fuzz_stage reach[R_COUNT] = {
    [R_PARSED] = {"arch: parsed", 0.001, 0},
    [R_GPU] = {"arch: gpu family", 0, 0},
    [R_COSTED] = {"cost model: conv evaluated", 0.0005, 0},
};

static void check_result(const cost_result *r)
{
    check(r->total_cycles == r->compute_cycles + r->stall_cycles);
    check(isfinite(r->energy_total_pj) && r->energy_total_pj >= 0);
    for (int k = 0; k < COST_E_COUNT; k++)
        check(isfinite(r->energy_pj[k]) && r->energy_pj[k] >= 0);
    check(isfinite(r->dram_read_bits) && r->dram_read_bits >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reach_input("fuzz_arch", reach, R_COUNT);
    arch a;
    bs_error e;
    err_clear(&e);
    int rc = arch_parse_buffer(&a, "fuzz.ini", (const char *)data, size, &e);
    if (rc) {
        check(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL);
        return 0;
    }
    check(a.name[0] != '\0');
    fuzz_reach(R_PARSED);
    if (a.family == ARCH_GPU) {
        fuzz_reach(R_GPU);
        return 0;
    }
    cost_conv c;
    cost_result r;
    cost_conv_init(&c, 3, 6, 1, 8, 16, 2, 4, 8, false);
    if (cost_conv_eval(&a, &c, &r, &e) == 0) {
        fuzz_reach(R_COSTED);
        check_result(&r);
        check(r.madds == 3ull * 3 * 6 * 6 * 8 * 16 * 2);
    } else {
        check(e.msg[0] != '\0');
    }
    cost_conv_init(&c, 1, 1, 1, 40, 24, 3, 16, 3, false);
    if (cost_conv_eval(&a, &c, &r, &e) == 0)
        check_result(&r);
    arch_free(&a);
    return 0;
}
