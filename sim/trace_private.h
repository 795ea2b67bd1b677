/* trace_private.h — the trace module's private part: trace.c's entry points for its tests.
 *
 * Everything else reads a trace with trace_read_file and builds one with trace_build.h; the
 * reader of text already in memory (optionally against a model already loaded) and the
 * decision helpers are what tests/test_trace.c and tests/fuzz_trace.c call directly
 * (tests/check_deps.sh refuses this header outside the trace* modules).
 */
#ifndef BITSIM_TRACE_PRIVATE_H
#define BITSIM_TRACE_PRIVATE_H

#include "trace.h"

/* trace_read_file's parser, on text in memory (path for messages). */
int trace_read_buffer(trace *t, const char *path, const char *buf, size_t len, bs_error *e);
/* As trace_read_buffer but validating against an already loaded model (copied) instead of
 * loading the trace's model reference (tests, fuzzers, callers that hold the model). */
int trace_read_buffer_model(trace *t, const char *path, const char *buf, size_t len,
                            const model *m, bs_error *e);

/* The default decision: all fp32, densities 1, no split storage. */
trace_decision trace_default_decision(void);
bool trace_decision_equal(const trace_decision *a, const trace_decision *b);

/* The segment of layer i holding iteration it (binary search), or NULL. */
const trace_segment *trace_segment_at(const trace *t, uint32_t layer, uint64_t it);

#endif
