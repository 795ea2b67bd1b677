/* model_private.h — the model module's private part: model.c's entry points for its tests.
 *
 * Everything else reaches a network through model_load (a zoo name, a file, a SCALE-Sim CSV,
 * with parameter overrides); the parsers of text already in memory are what tests/test_model.c
 * and tests/fuzz_model.c feed directly (tests/check_deps.sh refuses this header outside the
 * model* modules).
 */
#ifndef BITSIM_MODEL_PRIVATE_H
#define BITSIM_MODEL_PRIVATE_H

#include "model.h"

/* Parses bitsim model text (models/FORMAT.md). path names it in messages. */
int model_parse_buffer(model *m, const char *path, const char *buf, size_t len, bs_error *e);
/* The same with parameter overrides "NAME=VALUE ..." (NULL or "" for none). */
int model_parse_buffer_with(model *m, const char *path, const char *buf, size_t len,
                            const char *overrides, bs_error *e);
/* Imports a SCALE-Sim topology CSV (conv and GEMM rows). */
int model_parse_scalesim(model *m, const char *path, const char *buf, size_t len, bs_error *e);

/* Parses a pass name (case-insensitive, e.g. "fwd", "bwd_data"); -1 if unknown. */
int model_pass_parse(const char *s);
/* Forward MAdds per sample of the network's MAC layers. */
uint64_t model_fwd_madds(const model *m);
/* The zoo directory in use ($BITSIM_MODELS, else the build-time default). */
const char *model_zoo_dir(void);

#endif
