/* model_private.h — the model modules' private part: model.c's parsers, for model_zoo.c and tests.
 *
 * Everything else reaches a network through model_load (model_zoo.h: a zoo name, a file, a
 * SCALE-Sim CSV, with parameter overrides); the parsers of text already in memory are what
 * model_zoo.c reads files with and what tests/test_model.c and tests/fuzz_model.c feed
 * directly (tests/check_deps.sh refuses this header outside the model* modules).
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
/* A layer, parameter or zoo name: 1..MODEL_NAME_MAX-1 letters, digits and ._-/:[] (model.c
 * and model_zoo.c share the rule). */
bool model_valid_name(const char *s);

#endif
