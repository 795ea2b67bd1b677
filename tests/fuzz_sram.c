/* fuzz_sram.c — libFuzzer target for the SRAM table reader (arch/sram_table.csv, read by
 * arch.c for buffers whose per-bit energies are derived from their size) and the GSL
 * interpolation behind arch_sram_lookup. Any table must give figures or a one-line error;
 * figures interpolated between non-negative rows are finite and non-negative. A lookup that
 * fails for the size asked ("SRAM table: ... outside the table") still means the text parsed,
 * which is what the reach line's first stage counts. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "arch_private.h"
#include "fuzz.h"

enum { R_PARSED, R_LOOKED_UP, R_COUNT };
static fuzz_stage reach[R_COUNT] = {
    [R_PARSED] = {"SRAM table: parsed", 0.001, 0},
    [R_LOOKED_UP] = {"SRAM table: interpolated", 0.001, 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reach_input("fuzz_sram", reach, R_COUNT);
    static const struct {
        uint64_t bytes;
        bool rw;
    } asks[] = {{128, false}, {3000, false}, {16384, false}, {512, true}, {6000, true},
                {1, false}, {UINT64_MAX, true}};
    bool parsed = false, looked_up = false;
    for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
        arch_sram s;
        bs_error e;
        err_clear(&e);
        int rc = arch_sram_lookup_text("fuzz.csv", (const char *)data, size, asks[i].bytes, 32,
                                       asks[i].rw, &s, &e);
        if (rc) {
            check(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL);
            if (strncmp(e.msg, "SRAM table:", 11) != 0)
                break;      /* the text itself was refused: the other sizes would be too */
            parsed = true;
            continue;
        }
        parsed = looked_up = true;
        check(isfinite(s.read_pj_per_bit) && s.read_pj_per_bit >= 0);
        check(isfinite(s.write_pj_per_bit) && s.write_pj_per_bit >= 0);
        check(isfinite(s.leak_mw) && s.leak_mw >= 0);
        check(isfinite(s.area_mm2) && s.area_mm2 >= 0);
    }
    if (parsed)
        fuzz_reach(R_PARSED);
    if (looked_up)
        fuzz_reach(R_LOOKED_UP);
    return 0;
}
