/* fuzz_space.c — libFuzzer target for the sweep space parser, the sampler and the arch-text
 * overlay: any input must give a space or a one-line error, never a crash, leak or undefined
 * behaviour. The overlay is fed the input itself as the "base" text with the space's keys. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sweep.h"
#include "sweep_arch.h"

enum { R_PARSED, R_SAMPLED, R_OVERLAID, R_COUNT };
static fuzz_stage reach[R_COUNT] = {
    [R_PARSED] = {"space: parsed", 0.001, 0},
    [R_SAMPLED] = {"space: sampled", 0.0005, 0},
    [R_OVERLAID] = {"arch overlay: applied", 0.0005, 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reach_input("fuzz_space", reach, R_COUNT);
    sweep_space s;
    bs_error e;
    err_clear(&e);
    if (sweep_space_parse(&s, "fuzz.ini", (const char *)data, size, &e) != BS_OK) {
        check(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL);
        return 0;
    }
    fuzz_reach(R_PARSED);
    /* Sample small spaces only, so one input cannot take seconds. */
    if (s.n_points <= 4096 && sweep_space_sample(&s, false, 0, &e) == BS_OK) {
        fuzz_reach(R_SAMPLED);
        static char vals[SWEEP_MAX_PARAMS][SWEEP_VALUE_MAX];
        const char *keys[SWEEP_MAX_PARAMS], *values[SWEEP_MAX_PARAMS];
        for (uint64_t i = 0; i < s.n_points; i += 1 + s.n_points / 16)
            for (uint32_t j = 0; j < s.n_params; j++) {
                sweep_point_value(&s, i, j, vals[j], sizeof vals[j]);
                keys[j] = s.params[j].key;
                values[j] = j % 3 == 2 ? NULL : vals[j];    /* some removals too */
            }
        char *text;
        size_t len;
        if (sweep_arch_overlay((const char *)data, size, keys, values, s.n_params, &text, &len,
                               &e) == BS_OK) {
            fuzz_reach(R_OVERLAID);
            free(text);
        }
    }
    (void)sweep_within_budget(&s, 1.0, 1.0);
    sweep_space_free(&s);
    return 0;
}
