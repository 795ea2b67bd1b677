/* replay_fixture.h — small models and traces written inline in the replay and metrics tests.
 *
 * test_replay.c and test_metrics.c check hand-derived counts on networks of two or three
 * layers and traces of a few records, so the inputs are short strings in the test itself,
 * where the reader can see what the expected numbers were derived from. They go through the
 * real parsers (model_parse_buffer, trace_read_buffer_model), so a fixture is validated exactly
 * as a file would be and cannot describe something a user could not write; the trace is read
 * against the parsed model (copied into the trace, so the model is freed here) rather than a
 * zoo lookup, which keeps the tests independent of models/ and of BITSIM_HOME. Any parse
 * error fails the calling test with the parser's own one-line message.
 */
#ifndef BITSIM_TEST_REPLAY_FIXTURE_H
#define BITSIM_TEST_REPLAY_FIXTURE_H

#include <criterion/criterion.h>
#include <string.h>

#include "model_private.h"
#include "trace_private.h"

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
