/* replay_fixture.h — small models and traces written out in the replay and metrics tests. */
#ifndef BITSIM_TEST_REPLAY_FIXTURE_H
#define BITSIM_TEST_REPLAY_FIXTURE_H

#include <criterion/criterion.h>
#include <string.h>

#include "model.h"
#include "trace.h"

/* Parses model text (models/FORMAT.md) into m; fails the test on error. */
static inline void fixture_model(model *m, const char *text)
{
    bs_error e;
    err_clear(&e);
    cr_assert_eq(model_parse_buffer(m, "test.model", text, strlen(text), &e), 0, "%s", e.msg);
}

/* Reads trace text (traces/FORMAT.md) against model text; fails the test on error. */
static inline void fixture_trace(trace *t, const char *model_text, const char *trace_text)
{
    model m;
    fixture_model(&m, model_text);
    bs_error e;
    err_clear(&e);
    int rc = trace_read_buffer_model(t, "test.trace", trace_text, strlen(trace_text), &m, &e);
    model_free(&m);
    cr_assert_eq(rc, 0, "%s", e.msg);
}

#endif
