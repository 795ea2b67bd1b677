/* trace_fixture.h — shared helpers of the trace tests: the ResNet-20 model, once per process.
 *
 * Loading the model from the zoo for every test would dominate the suite's time, so the
 * trace and scheme tests share one copy, read-only.
 */
#ifndef BITSIM_TEST_TRACE_FIXTURE_H
#define BITSIM_TEST_TRACE_FIXTURE_H

#include <criterion/criterion.h>

#include "model.h"
#include "model_zoo.h"
#include "trace_private.h"

/* The zoo's ResNet-20 (loaded on first use, kept for the process). */
static inline const model *fixture_resnet20(void)
{
    static model m;
    static int loaded;
    if (!loaded) {
        bs_error e;
        err_clear(&e);
        cr_assert_eq(model_load(&m, "resnet20", &e), 0, "%s", e.msg);
        loaded = 1;
    }
    return &m;
}

/* Reads text against ResNet-20 as "t.trace"; returns the code, message in e. */
static inline int fixture_read(trace *t, const char *text, bs_error *e)
{
    err_clear(e);
    return trace_read_buffer_model(t, "t.trace", text, strlen(text), fixture_resnet20(), e);
}

#endif
