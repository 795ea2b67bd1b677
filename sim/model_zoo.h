/* model_zoo.h — finding and loading a network: a zoo name or a file, with overrides.
 *
 * A model reference is a zoo name ("resnet20") or a file path, optionally followed by
 * parameter overrides ("gpt2_small seq=512"); it is what --model takes and what a trace's
 * model line records. model.h is the network itself.
 */
#ifndef BITSIM_MODEL_ZOO_H
#define BITSIM_MODEL_ZOO_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "model.h"

/* Loads NAME from the zoo (models/NAME.model under the zoo directory) or, when the argument
 * names an existing file (contains '/' or ends in .model/.csv), that file. SCALE-Sim topology
 * CSVs (.csv) are imported. The zoo directory is $BITSIM_MODELS, else the build-time default.
 * A reference may end in parameter overrides, "gpt2_small seq=512 ..." (the trailing blank-
 * separated words containing '='); each must name a `param` of the file. */
int model_load(model *m, const char *name_or_path, bs_error *e);
/* True when model_load takes ref as a file path rather than a zoo name (the rule above;
 * overrides are not part of the path). */
bool model_ref_is_path(const char *ref);
/* Length of the name-or-path part of a reference (without its overrides and the blanks
 * before them). */
size_t model_ref_base_len(const char *ref);
/* The reference that reloads exactly m: the base of ref followed by every parameter of m at
 * the value it was loaded with ("gpt2_small seq=1024"), so a trace written with it replays
 * the same shapes even if the file's defaults change. False if it does not fit in n. */
bool model_ref_resolved(const model *m, const char *ref, char *out, size_t n);
/* Zoo listing: calls fn(name, description, ctx) for each models/NAME.model; returns count or -1. */
int model_zoo_list(void (*fn)(const char *name, const char *desc, void *ctx), void *ctx,
                   bs_error *e);

#endif
