/* paths.h — where bitsim finds its shipped data (models/, arch/, plots/).
 *
 * A user runs ./bitsim from the checkout, or an installed bitsim from anywhere; both must find
 * the zoo and the arch files without flags. Search order for a data subdirectory:
 *   $BITSIM_HOME/SUB, the directory of the running executable/SUB (the checkout),
 *   then the installed BITSIM_DATADIR/SUB (set by the Makefile from PREFIX).
 */
#ifndef BITSIM_PATHS_H
#define BITSIM_PATHS_H

#include <stdbool.h>
#include <stddef.h>

/* Fills buf with the first existing directory for sub ("models", "arch", "plots");
 * returns buf, or NULL when none exists (buf then holds the installed path, for messages). */
const char *paths_data_dir(const char *sub, char *buf, size_t n);

/* Resolves NAME in sub with extension ext (".model", ".ini") unless NAME is itself an existing
 * file path. Returns true with the path in buf. */
bool paths_resolve(const char *sub, const char *name, const char *ext, char *buf, size_t n);

/* Did-you-mean for a shipped name: the file stem in dir ending in ext ("resnet20" for
 * "resnet-20" in models/) closest to name by text_closest(). Returns true with it in buf;
 * false when none is close (or dir cannot be read). */
bool paths_closest_name(const char *dir, const char *ext, const char *name, char *buf, size_t n);

#endif
