/* fuzz_trace.c — libFuzzer target for the trace reader and the canonical writer.
 *
 * Any input must either be rejected with an error or, when accepted, write canonical text that
 * reads back and rewrites to the same bytes. The model is ResNet-20 from the zoo, loaded once
 * (the Makefile runs fuzzers with BITSIM_HOME at the checkout).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "model.h"
#include "model_zoo.h"
#include "trace_private.h"

enum { R_PARSED, R_COUNT };
static fuzz_stage reach[R_COUNT] = {
    [R_PARSED] = {"trace: parsed and round-tripped", 0.001, 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reach_input("fuzz_trace", reach, R_COUNT);
    static model m;
    static int loaded;
    if (!loaded) {
        bs_error e;
        err_clear(&e);
        if (model_load(&m, "resnet20", &e)) {
            fprintf(stderr, "fuzz_trace: %s\n", e.msg);
            abort();
        }
        loaded = 1;
    }
    trace t;
    bs_error e;
    err_clear(&e);
    if (trace_read_buffer_model(&t, "fuzz", (const char *)data, size, &m, &e)) {
        check(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL);
        return 0;
    }
    fuzz_reach(R_PARSED);
    char *a = NULL, *b = NULL;
    size_t la, lb;
    if (trace_write_buffer(&t, &a, &la, &e))
        abort();
    trace_free(&t);
    if (trace_read_buffer_model(&t, "canonical", a, la, &m, &e))
        abort();
    if (trace_write_buffer(&t, &b, &lb, &e) || la != lb || memcmp(a, b, la) != 0)
        abort();
    trace_free(&t);
    free(a);
    free(b);
    return 0;
}
