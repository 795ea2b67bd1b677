/* store_private.h — the store layer's private part: for store*.c only.
 *
 * The modules of the store layer (store.c, store_query.c, store_merge.c) share the SQLite
 * handle; nothing else may reach it (tests/check_deps.sh fails on an include of this header
 * from any other module), so every read outside the layer goes through store_query.h and
 * every write through store.h.
 */
#ifndef BITSIM_STORE_PRIVATE_H
#define BITSIM_STORE_PRIVATE_H

#include "store.h"

struct sqlite3;

/* s's connection. */
struct sqlite3 *store_handle(const store *s);
/* Whether s was opened for writing (store_open) and recognised as a bitsim database. */
bool store_writable(const store *s);
/* One-line bs_error for the last SQLite failure on s ("... while <what>: <sqlite message>"),
 * naming a busy or locked database as such; returns its code. */
int store_db_error(store *s, bs_error *e, const char *what);

/* Fills table arch_area for the stored archs that have none: inputs copied in by SQL
 * (store_merge) skip store_put_input, which fills it for a new arch. */
int store_fill_arch_areas(store *s, bs_error *e);
/* The name to ATTACH s's file by from another connection (merge): its path, or for a file
 * opened read-only where it cannot be written (a read-only mount, directory or file) the
 * immutable URI it was opened by. */
const char *store_attach_name(const store *s);

#endif
