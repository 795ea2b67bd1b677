/* fuzz_arch_import.c — libFuzzer target for `bitsim arch import` (BitFusion conf.ini,
 * SCALE-Sim .cfg). Invariants: a one-line error on rejection; an accepted input becomes an
 * arch file the arch parser either accepts or rejects with a one-line error (an imported
 * configuration may be one the model refuses, e.g. a bank outside the SRAM table). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "arch_import.h"

static void check(bool ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
    arch a;
    err_clear(&e);
    if (arch_parse_buffer(&a, "imported.ini", ini, strlen(ini), &e))
        check(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL);
    return 0;
}
