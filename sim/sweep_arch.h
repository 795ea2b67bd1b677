/* sweep_arch.h — a sweep point as arch text: the base arch file with some keys changed.
 *
 * A point is text, not a patched struct, so the arch parser judges every value and the store
 * identifies the point by its content (sweep_arch.c says why and gives the rules).
 */
#ifndef BITSIM_SWEEP_ARCH_H
#define BITSIM_SWEEP_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A point's arch text: base (len bytes) with each keys[k] ("SECTION.KEY") set to values[k]
 * (replacing its line, or added to its section); values[k] NULL removes the key's line.
 * *out_text is malloc'd, NUL-terminated. */
int sweep_arch_overlay(const char *base, size_t len, const char *const *keys,
                       const char *const *values, uint32_t n, char **out_text,
                       size_t *out_len, bs_error *e);

#endif
