/* arch_import.h — other simulators' accelerator configurations as bitsim arch files.
 *
 * Reads the public BitFusion simulator's conf.ini / bf_e_conf.ini (hsharma35/bitfusion:
 * [system] if_width; [accelerator] frequency in Hz, Wgt_SRAM/Act_SRAM/Out_SRAM in bytes, a
 * = input lanes, c = output lanes, high_prec / low_prec) and SCALE-Sim's .cfg
 * ([architecture_presets] ArrayHeight, ArrayWidth, IfmapSramSzkB, FilterSramSzkB,
 * OfmapSramSzkB, Bandwidth in words per cycle, Dataflow), and writes the same configuration
 * as a bitsim arch file (arch/FORMAT.md). Neither file states every figure bitsim needs; what
 * is filled in, and from which rule, is written into the output as comments (see the .c).
 * Text in, text out: the result is checked by the arch module like any hand-written file.
 */
#ifndef BITSIM_ARCH_IMPORT_H
#define BITSIM_ARCH_IMPORT_H

#include <stddef.h>

#include "err.h"

/* Converts the configuration text (path names it in errors and comments) into a bitsim arch
 * file in out (n bytes). The kind is told apart by its sections: [accelerator] BitFusion,
 * [architecture_presets] SCALE-Sim. Errors (BS_EINPUT): neither kind, a required key
 * missing, a value not a positive number; each names path, line and key. */
int arch_import_text(const char *path, const char *text, char *out, size_t n, bs_error *e);

#endif
