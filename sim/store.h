/* store.h — bitsim's SQLite database: every run with its inputs' identities and its costs.
 *
 * Contract between replay (writer) and report/compare/plot (readers). Schema in sim/schema.sql
 * (documented there). Invariants:
 *  - a database is recognised as bitsim's by PRAGMA application_id and user_version; any other
 *    SQLite file (or a non-SQLite file) is refused with a one-line error, never modified;
 *  - inputs (arch, model, trace) are stored once per content hash, so re-running the same inputs
 *    is recognised (store_find_run) and not duplicated;
 *  - one transaction per run: rows of a run become visible only at store_run_commit; a process
 *    killed at any point leaves the database valid and the run absent;
 *  - WAL mode and a busy timeout, so several processes (sweeps) can write one database;
 *  - a writer's WAL is checkpointed at store_close: a finished database is one file.
 */
#ifndef BITSIM_STORE_H
#define BITSIM_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "cost.h"
#include "err.h"

typedef struct store store;

typedef enum store_input_kind { STORE_ARCH, STORE_MODEL, STORE_TRACE, STORE_INPUT_KIND_COUNT } store_input_kind;

/* Energy components are the cost model's (cost.h cost_energy, COST_E_*): energy_pj[k] is
 * stored in column energy_<cost_energy_name(k)>_pj. */

/* Costs of one (epoch, layer, pass) summed over that epoch's iterations. layer = -1 with
 * pass = "OVERHEAD" holds the scheme's extra work (trace overhead records). */
typedef struct store_cost_row {
    uint32_t epoch;
    int32_t layer;              /* index in the model, -1 for scheme overhead */
    const char *layer_name;
    const char *pass;           /* "FWD", "BWD_DATA", "BWD_WEIGHT", "UPDATE", "OVERHEAD" */
    uint64_t iterations;
    uint64_t madds, elem_ops;
    double bitops;              /* doubles: sums over a 90-epoch run exceed 2^64 */
    double wl_madds;            /* AdaPT's word-length x density weighted MAdds */
    double compute_cycles, stall_cycles, total_cycles;
    double latency_s;
    double energy_pj[COST_E_COUNT];
    double dram_read_bits, dram_write_bits;
    double avg_bits_x, avg_bits_y;  /* iteration-weighted operand widths of the pass */
} store_cost_row;

/* Whole-run figures, the papers' own metrics next to the hardware's. */
typedef struct store_run_totals {
    double madds, bitops, wl_madds, cycles, latency_s, energy_pj, dram_bits;
    double cpt_cost_ratio;      /* CPT/FracTrain: sum (b_fw^2 + 2 b_fw b_grad)/3/32^2 per iter, averaged */
    double adapt_speedup;       /* AdaPT's performance model vs fp32 */
    double mem_weights_bits, mem_fmaps_bits, mem_grads_bits, mem_wgrads_bits, mem_optim_bits;
    double smaq_storage_benefit;/* SmaQ Eq. 4, NaN when not a smaq run */
} store_run_totals;

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
#define STORE_SCHEMA_VERSION 1
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
/* How long to wait for another writer's lock before failing (default STORE_BUSY_TIMEOUT_MS). */
void store_set_busy_timeout(store *s, int ms);

/* Stores an input once per content hash; returns its id (existing or new). */
int store_put_input(store *s, store_input_kind kind, const char *name, const char *content,
                    size_t len, int64_t *id, bs_error *e);

/* Id of a complete run with the same inputs and options, or 0 if none. */
int store_find_run(store *s, const store_run_info *info, int64_t *run_id, bs_error *e);

/* Begins the run's transaction; rows follow; commit makes it visible with its totals and
 * wall time; abort rolls everything back. The write lock is held from begin to commit, so
 * concurrent writers (sweeps) serialise on it: a writer that computes the whole run first
 * and then calls begin/add/commit in one burst holds the lock only for the inserts. */
int store_run_begin(store *s, const store_run_info *info, int64_t *run_id, bs_error *e);
int store_add_cost(store *s, int64_t run_id, const store_cost_row *row, bs_error *e);
int store_run_commit(store *s, int64_t run_id, const store_run_totals *t, double wall_s,
                     bs_error *e);
void store_run_abort(store *s);

/* A writer's last step before store_close: copies the WAL into the database file, so the
 * database is one file again. BS_EINPUT when the disk is too full for that (the database
 * file would grow): the committed runs are safe in the -wal file, the message says so, and
 * the next open with space completes the copy. Other connections being busy is not an
 * error (the last to close copies the rest). */
int store_checkpoint(store *s, bs_error *e);

/* The name to ATTACH the same file by from another connection (merge): its path, or for a
 * file opened read-only where it cannot be written (a read-only mount, directory or file)
 * the immutable URI it was opened by. */
const char *store_attach_name(const store *s);

/* The underlying handle, for report/compare/plot queries (read-only use). */
struct sqlite3 *store_db(store *s);
/* Whether the database (schema "main", or an attached one's name) has runs.accuracy_pct
 * (one opened read-only and created before the column was added may not; a writer adds it
 * on open). */
bool store_db_has_accuracy(struct sqlite3 *db, const char *schema);

#endif
