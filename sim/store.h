/* store.h — bitsim's SQLite database: every run with its inputs' identities and its costs.
 *
 * The writers' face: `bitsim run` and `bitsim sweep` store runs by store_record; the readers
 * (report, compare, plot, pareto) ask their questions through store_query.h, and merging is
 * store_merge.h; nothing outside the store layer holds the SQLite handle (store_private.h).
 * Schema in sim/schema.sql (documented there). Invariants:
 *  - a database is recognised as bitsim's by PRAGMA application_id and user_version; any other
 *    SQLite file (or a non-SQLite file) is refused with a one-line error, never modified;
 *  - inputs (arch, model, trace) are stored once per content hash, so re-running the same inputs
 *    is recognised (store_find_run) and not duplicated;
 *  - one transaction per run: rows of a run become visible only when store_record commits it;
 *    a process killed at any point leaves the database valid and the run absent;
 *  - WAL mode and a busy timeout, so several processes (sweeps) can write one database;
 *  - a writer's WAL is checkpointed at store_close: a finished database is one file.
 */
#ifndef BITSIM_STORE_H
#define BITSIM_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "cost.h"
#include "err.h"
#include "replay.h"

typedef struct store store;

typedef enum store_input_kind { STORE_ARCH, STORE_MODEL, STORE_TRACE, STORE_INPUT_KIND_COUNT } store_input_kind;

/* Energy components are the cost model's (cost.h cost_energy, COST_E_*): energy_pj[k] is
 * stored in column energy_<cost_energy_name(k)>_pj. */

/* A run's rows and totals are the replay's result types (replay.h replay_row, replay_totals):
 * the store keeps what the stage that computes them defines. */

typedef struct store_run_info {
    const char *label;          /* user's label, default the scheme name */
    const char *scheme;
    const char *model_name, *arch_name, *trace_name;
    int64_t arch_id, model_id, trace_id;
    uint64_t batch, iterations, epochs;
    const char *options;        /* e.g. "exact_density=1" */
    bool has_accuracy;          /* the trace states the accuracy reached: */
    double accuracy_pct;        /*   runs.accuracy_pct, percent */
} store_run_info;

/* The database's identity: PRAGMA application_id ('bSt1') and user_version (schema version). */
#define STORE_APPLICATION_ID 0x62537431
/* 2: inputs.content_hash is SHA-256 (digest.h); 1 had two FNV-1a 64 hashes. A writer
 * migrates a version-1 database in place when it opens it (one transaction: every input's
 * hash recomputed from its stored bytes); readers read version 1 as it is. */
#define STORE_SCHEMA_VERSION 2
#define STORE_SCHEMA_OLDEST 1
/* Default wait for another process's write lock before a clear "locked" error; the
 * environment variable BITSIM_BUSY_TIMEOUT_MS (whole milliseconds, 0 = fail at once)
 * overrides it for every store_open / store_open_readonly. */
#define STORE_BUSY_TIMEOUT_MS 60000

/* Opens (creating if absent) a bitsim database. Errors name the path. */
int store_open(store **out, const char *path, bs_error *e);
/* Opens an existing bitsim database for reading only (report, compare, plot): a missing file
 * is an error, nothing is ever created or written. A database on a read-only mount or in a
 * read-only directory, or a read-only file, is read as immutable (no locks, no -wal/-shm
 * created): it must not be written by someone else meanwhile, and one whose -wal holds
 * changes not yet in the file is refused.
 * Both refuse names that are not files on disk: "", ":memory:" and URIs ("file:..."). */
int store_open_readonly(store **out, const char *path, bs_error *e);
/* Closes; a run begun and not committed is rolled back (absent). NULL is fine. */
void store_close(store *s);
/* The database's schema version (STORE_SCHEMA_OLDEST..STORE_SCHEMA_VERSION; a writer's is
 * always the current one, a reader's may be older). */
int store_version(const store *s);

/* Stores an input once per content hash; returns its id (existing or new). A new arch gets
 * its area and peak power (table arch_area, by the area model at the time it is stored). */
int store_put_input(store *s, store_input_kind kind, const char *name, const char *content,
                    size_t len, int64_t *id, bs_error *e);

/* Id of a complete run with the same inputs and options, or 0 if none. */
int store_find_run(store *s, const store_run_info *info, int64_t *run_id, bs_error *e);

/* Records one run, the one path `bitsim run` and `bitsim sweep` store a run by: one
 * transaction (begin, every row the source hands out, commit with the totals it gives and
 * wall_s; abort on any error, the source's or the database's, so a failed or killed run
 * leaves nothing visible). The write lock is held from begin to commit, so concurrent
 * writers serialise on it: a source that walks a computed result (replay_result_walk,
 * sweeps, and `bitsim run` when its first replay kept the rows) holds it only for the
 * inserts; a replay streamed into the run (replay_job_walk, `bitsim run` of a run too long
 * to keep, one process per database) holds it while it replays. */
int store_record(store *s, const store_run_info *info, replay_source_fn rows, const void *src,
                 double wall_s, int64_t *run_id, bs_error *e);

/* A writer's last step before store_close: copies the WAL into the database file, so the
 * database is one file again. BS_EINPUT when the disk is too full for that (the database
 * file would grow): the committed runs are safe in the -wal file, the message says so, and
 * the next open with space completes the copy. Other connections being busy is not an
 * error (the last to close copies the rest). */
int store_checkpoint(store *s, bs_error *e);

#endif
