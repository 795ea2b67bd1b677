/* fuzz_arch_import.c — libFuzzer target for `bitsim arch import` (BitFusion conf.ini,
 * SCALE-Sim .cfg). Invariants: a one-line error on rejection; an accepted input becomes an
 * arch file the arch parser either accepts or rejects with a one-line error (an imported
 * configuration may be one the model refuses, e.g. a bank outside the SRAM table). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "arch_import.h"
#include "fuzz.h"

enum { R_IMPORTED, R_PARSED, R_COUNT };
static fuzz_stage reach[R_COUNT] = {
    [R_IMPORTED] = {"arch import: converted", 0.001, 0},
    [R_PARSED] = {"arch import: result parsed as an arch", 0.0005, 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reach_input("fuzz_arch_import", reach, R_COUNT);
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    static char ini[1 << 14];
    bs_error e;
    err_clear(&e);
    int rc = arch_import_text("fuzz.cfg", text, ini, sizeof ini, &e);
    free(text);
    if (rc) {
        check(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL);
        return 0;
    }
    fuzz_reach(R_IMPORTED);
    arch a;
    err_clear(&e);
    if (arch_parse_buffer(&a, "imported.ini", ini, strlen(ini), &e))
        check(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL);
    else
        fuzz_reach(R_PARSED);
    return 0;
}
