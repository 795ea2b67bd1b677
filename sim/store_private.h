/* store_private.h — the store layer's private part: for store*.c only.
 *
 * The modules of the store layer (store.c, store_query.c, store_merge.c) share the SQLite
 * handle; nothing else may reach it (tests/check_deps.sh fails on an include of this header
 * from any other module), so every read outside the layer goes through store_query.h and
 * every write through store.h. Tests include it too: the store's own unit tests drive
 * store_record's steps, and tests that plant a state (an older row, a made-up accuracy)
 * write it over the handle.
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

/* How long to wait for another writer's lock before failing (default STORE_BUSY_TIMEOUT_MS;
 * users set BITSIM_BUSY_TIMEOUT_MS, tests this). */
void store_set_busy_timeout(store *s, int ms);

/* store_record's steps (its own unit tests drive them one by one): begin takes the write
 * lock and opens the run; rows follow; commit makes it visible with its totals and wall
 * time; abort rolls everything back. */
int store_run_begin(store *s, const store_run_info *info, int64_t *run_id, bs_error *e);
int store_add_cost(store *s, int64_t run_id, const replay_row *row, bs_error *e);
int store_run_commit(store *s, int64_t run_id, const replay_totals *t, double wall_s,
                     bs_error *e);
void store_run_abort(store *s);

#endif
