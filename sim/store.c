/* store.c — bitsim's SQLite database (contract in store.h, schema in schema.sql).
 *
 * Why it is safe to kill a writer and to run several at once:
 *  - WAL journal: readers never block the writer and a crash leaves the last committed state;
 *  - one transaction per run: store_run_begin takes the write lock (BEGIN IMMEDIATE, so the
 *    lock is acquired up front and a busy database fails there, after the busy timeout, not
 *    in the middle of the rows), store_run_commit commits runs + costs + run_totals at once.
 *    A process killed in between leaves only an uncommitted WAL tail that SQLite discards;
 *  - concurrent writers wait for each other via sqlite3_busy_timeout, so no row is lost;
 *  - synchronous=NORMAL: in WAL mode a killed process loses nothing committed and never
 *    corrupts the file; only a power cut may drop the last committed runs (they re-run).
 * Identity: a database is ours when application_id and user_version match (schema.sql). A
 * file is checked before SQLite touches it: a non-SQLite header, or another application's
 * database, is refused with one line naming the path; an empty or absent file is initialised.
 * Inputs are keyed by their SHA-256 (digest.h) so the same arch/model/trace bytes are stored
 * once whatever their file name; a lookup by digest also compares the bytes, so even a
 * collision could not make two inputs one. Schema version 1 keyed them by two FNV-1a 64 runs;
 * a writer opening such a database recomputes every digest from the stored bytes (migrate).
 * store_add_cost reuses one prepared statement: a 160-epoch trace writes ~20k rows.
 */
#include "store.h"
#include "store_private.h"
#include "store_query.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "area.h"
#include "arch.h"
#include "digest.h"
#include "text.h"
#include "version.h"
#include "wallclock.h"

/* A run records the release and the commit it was computed by (version_tool()); a rerun of
 * the same inputs is recognised only under the same tool version, so results of an older cost
 * model are never taken for the current one's. */
#define STORE_TOOL_VERSION version_tool()

/* The schema text, generated from sim/schema.sql by the Makefile (build/schema_sql.h). */
#include "schema_sql.h"

static const char *const input_kinds[STORE_INPUT_KIND_COUNT] = {"arch", "model", "trace"};

/* Prepared statements, reused for the life of the handle. */
enum {
    ST_ADD_COST,
    ST_FIND_RUN,
    ST_INSERT_RUN,
    ST_INSERT_TOTALS,
    ST_FINISH_RUN,
    ST_PUT_INPUT,
    ST_GET_INPUT,
    ST_COUNT
};

/* The statements with no energy component in them; ST_ADD_COST and ST_INSERT_TOTALS list
 * one column per component, so they are built from cost.h's cost_energy names at open
 * (energy_sql): adding a component touches cost.h/cost.c and schema.sql's columns only. */
static const char *const statement_sql[ST_COUNT] = {
    [ST_FIND_RUN] =
        "SELECT max(id) FROM runs WHERE status = 'complete' AND arch_id = ?1 AND model_id = ?2"
        " AND trace_id = ?3 AND options = ?4 AND tool_version = ?5",
    [ST_INSERT_RUN] =
        "INSERT INTO runs (label, scheme, arch_id, model_id, trace_id, arch_name, model_name,"
        " trace_name, batch, iterations, epochs, options, tool_version, accuracy_pct)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [ST_FINISH_RUN] = "UPDATE runs SET status = 'complete', wall_s = ?2 WHERE id = ?1",
    [ST_PUT_INPUT] = "INSERT OR IGNORE INTO inputs (kind, name, content_hash, bytes, content)"
                     " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_GET_INPUT] = "SELECT id FROM inputs WHERE kind = ?1 AND content_hash = ?2 AND content = ?3",
};

struct store {
    sqlite3 *db;
    char *path;
    int busy_timeout_ms;
    int64_t open_run;                   /* run whose transaction is open, 0 if none */
    bool writable;                      /* opened for writing and recognised as ours */
    int version;                        /* its schema version (user_version) */
    char *uri;                          /* a read-only file's immutable URI, else NULL */
    sqlite3_stmt *st[ST_COUNT];
};

/* One-line message for an SQLite failure on s's database. */
static int db_error(store *s, bs_error *e, const char *what)
{
    int rc = sqlite3_errcode(s->db);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return err_set(e, BS_EINPUT,
                       "%s: database is locked by another process (waited %d ms while %s)",
                       s->path, s->busy_timeout_ms, what);
    if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
        return err_set(e, BS_EINPUT, "%s: not a valid database (%s)", s->path,
                       sqlite3_errmsg(s->db));
    if (rc == SQLITE_FULL)
        return err_set(e, BS_EINPUT, "%s: the disk is full while %s: that write is not stored "
                       "(what was committed before is safe)", s->path, what);
    if (rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN || rc == SQLITE_IOERR ||
        rc == SQLITE_PERM)
        return err_set(e, BS_EINPUT, "%s: %s while %s", s->path, sqlite3_errmsg(s->db), what);
    return err_set(e, BS_EINTERNAL, "%s: %s while %s", s->path, sqlite3_errmsg(s->db), what);
}

static int exec(store *s, const char *sql, const char *what, bs_error *e)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_error(s, e, what);
    return BS_OK;
}

/* application_id, user_version and the number of schema objects, read in ONE statement so
 * they come from one snapshot (another process may be creating the schema right now). */
static int read_identity(store *s, int64_t v[3], bs_error *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT (SELECT application_id FROM pragma_application_id),"
                           " (SELECT user_version FROM pragma_user_version),"
                           " (SELECT count(*) FROM sqlite_master)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_error(s, e, "reading its identity");
    int rc = sqlite3_step(st);
    for (int i = 0; i < 3 && rc == SQLITE_ROW; i++)
        v[i] = sqlite3_column_int64(st, i);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? BS_OK : db_error(s, e, "reading its identity");
}

/* Before SQLite opens it: an existing non-empty file must start with SQLite's magic header,
 * otherwise it is someone else's file and we must not touch it. *exists reports whether a
 * non-empty file is there. */
static int check_file_header(const char *path, bool *exists, bs_error *e)
{
    static const char magic[16] = "SQLite format 3";
    struct stat stt;
    *exists = false;
    if (stat(path, &stt) != 0)
        return BS_OK;
    if (!S_ISREG(stt.st_mode))
        return err_set(e, BS_EINPUT, "%s: not a bitsim database (not a regular file)", path);
    if (stt.st_size == 0)
        return BS_OK;
    *exists = true;
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, BS_EINPUT, "%s: cannot open database for reading", path);
    unsigned char head[100] = {0};
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n < sizeof magic || memcmp(head, magic, sizeof magic) != 0)
        return err_set(e, BS_EINPUT, "%s: not a bitsim database (not an SQLite file)", path);
    /* application_id is the big-endian word at offset 68 of the header. A nonzero one that
     * is not ours is refused before SQLite opens the file, which for a WAL database would
     * create -wal/-shm files beside it. (Zero proves nothing: a new bitsim database may
     * have its header only in the WAL yet; check_identity decides those.) */
    uint32_t app_id = (uint32_t)head[68] << 24 | (uint32_t)head[69] << 16 |
                      (uint32_t)head[70] << 8 | head[71];
    if (n == sizeof head && app_id != 0 && app_id != STORE_APPLICATION_ID)
        return err_set(e, BS_EINPUT, "%s: not a bitsim database (another application's SQLite file)",
                       path);
    return BS_OK;
}

/* Our identity, or an empty database; anything else is refused. *fresh = needs the schema. */
static int check_identity(store *s, bool *fresh, bs_error *e)
{
    int64_t id[3];
    int rc = read_identity(s, id, e);
    if (rc)
        return rc;
    int64_t app_id = id[0], version = id[1], objects = id[2];
    *fresh = app_id == 0 && version == 0 && objects == 0;
    if (*fresh)
        return BS_OK;
    if (app_id != STORE_APPLICATION_ID)
        return err_set(e, BS_EINPUT, "%s: not a bitsim database (another application's SQLite file)",
                       s->path);
    if (version < STORE_SCHEMA_OLDEST || version > STORE_SCHEMA_VERSION)
        return err_set(e, BS_EINPUT,
                       "%s: bitsim database of schema version %lld, this bitsim reads versions "
                       "%d to %d", s->path, (long long)version, STORE_SCHEMA_OLDEST,
                       STORE_SCHEMA_VERSION);
    s->version = (int)version;
    return BS_OK;
}

static double monotonic_ms(void)
{
    return wallclock_s() * 1e3;
}

/* PRAGMA journal_mode=WAL needs an exclusive lock, and when another process holds a lock on
 * a database still in rollback mode (several writers racing to create the same new file,
 * each reading its identity) SQLite returns SQLITE_BUSY at once, WITHOUT calling the busy
 * handler (that would risk a deadlock between two lock upgrades). So the busy timeout is
 * honoured here by hand: retry with short sleeps until it has passed. Once one process has
 * switched, the mode is persistent and the pragma is a no-op for the others. */
static int switch_to_wal(store *s, bs_error *e)
{
    double deadline = monotonic_ms() + s->busy_timeout_ms;
    int pause_ms = 1;
    for (;;) {
        int rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return BS_OK;
        if ((rc & 0xff) != SQLITE_BUSY || monotonic_ms() >= deadline)
            return db_error(s, e, "switching to WAL");
        sqlite3_sleep(pause_ms);
        pause_ms = pause_ms < 16 ? pause_ms * 2 : 16;
    }
}

/* Runs schema.sql inside a write transaction, re-checking emptiness under the lock so two
 * processes creating the same file at once initialise it exactly once. */
static int create_schema(store *s, bs_error *e)
{
    int rc;
    if ((rc = switch_to_wal(s, e)) || (rc = exec(s, "BEGIN IMMEDIATE", "creating the schema", e)))
        return rc;
    bool fresh = false;
    rc = check_identity(s, &fresh, e);
    if (rc == BS_OK && fresh) {
        char pragmas[128];
        snprintf(pragmas, sizeof pragmas, "PRAGMA application_id=%d; PRAGMA user_version=%d;",
                 STORE_APPLICATION_ID, STORE_SCHEMA_VERSION);
        if (!(rc = exec(s, store_schema_sql, "creating the schema", e)))
            rc = exec(s, pragmas, "creating the schema", e);
    }
    if (rc == BS_OK)
        return exec(s, "COMMIT", "creating the schema", e);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Views whose definition changed within the schema version: a writer replaces an older
 * one by schema.sql's (issue 13 D6: epoch_costs summed MAdds with sum(), which fails past
 * 2^63). Views hold no data, so this changes no stored number. */
static const char *const current_views[] = {"epoch_costs", NULL};

/* schema.sql's "CREATE VIEW IF NOT EXISTS name ..." statement as SQLite stores it
 * ("CREATE VIEW name ...", without its ';') into buf; false if absent. */
static bool schema_view_sql(const char *name, char *buf, size_t n)
{
    char head[96];
    snprintf(head, sizeof head, "CREATE VIEW IF NOT EXISTS %s AS", name);
    const char *at = strstr(store_schema_sql, head), *end = at ? strchr(at, ';') : NULL;
    if (!end)
        return false;
    at += strlen("CREATE VIEW IF NOT EXISTS ");
    int w = snprintf(buf, n, "CREATE VIEW %.*s", (int)(end - at), at);
    return w > 0 && (size_t)w < n;
}

/* The view's definition as stored in the database ("" when absent). */
static void stored_view_sql(store *s, const char *name, char *buf, size_t n)
{
    buf[0] = '\0';
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT sql FROM sqlite_master WHERE type = 'view' AND"
                           " name = ?1", -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static int update_views(store *s, bs_error *e)
{
    for (int i = 0; current_views[i]; i++) {
        char want[2048], have[2048];
        if (!schema_view_sql(current_views[i], want, sizeof want))
            return err_set(e, BS_EINTERNAL, "schema.sql lacks view %s", current_views[i]);
        stored_view_sql(s, current_views[i], have, sizeof have);
        if (strcmp(want, have) == 0)
            continue;
        /* under the write lock, checked again: another writer may have just done it */
        int rc = exec(s, "BEGIN IMMEDIATE", "updating a view", e);
        if (rc)
            return rc;
        stored_view_sql(s, current_views[i], have, sizeof have);
        if (strcmp(want, have) != 0) {
            char drop[96];
            snprintf(drop, sizeof drop, "DROP VIEW IF EXISTS %s", current_views[i]);
            if ((rc = exec(s, drop, "updating a view", e)) ||
                (rc = exec(s, want, "updating a view", e))) {
                sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
                return rc;
            }
        }
        if ((rc = exec(s, "COMMIT", "updating a view", e)))
            return rc;
    }
    return BS_OK;
}

/* Additive schema changes made after version 1 shipped, applied when a writer opens an older
 * database (a new nullable column changes no stored value and no query of older code, so
 * user_version stays): runs.accuracy_pct. Checked and added under the write lock, so two
 * writers opening one database at once add it once. */
static int add_missing_columns(store *s, bs_error *e)
{
    if (store_has_column(s, "runs", "accuracy_pct"))    /* the usual case: no lock taken */
        return BS_OK;
    int rc = exec(s, "BEGIN IMMEDIATE", "adding runs.accuracy_pct", e);
    if (rc)
        return rc;
    if (!store_has_column(s, "runs", "accuracy_pct"))   /* another writer may have added it */
        rc = exec(s, "ALTER TABLE runs ADD COLUMN accuracy_pct REAL", "adding runs.accuracy_pct", e);
    if (rc == BS_OK)
        return exec(s, "COMMIT", "adding runs.accuracy_pct", e);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* A cost row's columns before its energy components: parameters ?1..?COST_FIXED_COLS in this
 * order (store_add_cost binds them; from ?COST_FIRST_REAL on they are reals), then
 * energy_<name>_pj as ?COST_FIXED_COLS+1+k. */
static const char cost_fixed_cols[] =
    "run_id, epoch, layer, layer_name, pass, iterations, madds, elem_ops, bitops, wl_madds,"
    " compute_cycles, stall_cycles, total_cycles, latency_s, dram_read_bits, dram_write_bits,"
    " avg_bits_x, avg_bits_y";
enum { COST_FIRST_REAL = 9, COST_FIXED_COLS = 18 };
/* A run's totals before its energy components (?1..?TOTALS_FIXED_COLS, store_run_commit);
 * the components are the sums of the run's costs rows, summed by SQL at commit. */
static const char totals_fixed_cols[] =
    "run_id, madds, bitops, wl_madds, cycles, latency_s, energy_pj, dram_bits, cpt_cost_ratio,"
    " adapt_speedup, mem_weights_bits, mem_fmaps_bits, mem_grads_bits, mem_wgrads_bits,"
    " mem_optim_bits, smaq_storage_benefit";
enum { TOTALS_FIXED_COLS = 16 };

/* Appends fmt (one %s: the name) once per energy component, in cost_energy order. */
static void append_energy(char *buf, size_t n, size_t *len, const char *fmt)
{
    for (int k = 0; k < COST_E_COUNT; k++)
        text_appendf(buf, n, len, fmt, cost_energy_name((cost_energy)k));
}

/* Appends the parameters ?from..?to, comma-separated (a comma before each but ?1). */
static void append_params(char *buf, size_t n, size_t *len, int from, int to)
{
    for (int i = from; i <= to; i++)
        text_appendf(buf, n, len, i > 1 ? ", ?%d" : "?%d", i);
}

/* The SQL of ST_ADD_COST or ST_INSERT_TOTALS into buf; false if it does not fit (or which
 * is another statement). */
static bool energy_sql(int which, char *buf, size_t n)
{
    size_t len = 0;
    if (which == ST_ADD_COST) {
        text_appendf(buf, n, &len, "INSERT INTO costs (%s", cost_fixed_cols);
        append_energy(buf, n, &len, ", energy_%s_pj");
        text_appendf(buf, n, &len, ") VALUES (");
        append_params(buf, n, &len, 1, COST_FIXED_COLS + COST_E_COUNT);
        return text_appendf(buf, n, &len, ")");
    }
    if (which == ST_INSERT_TOTALS) {
        text_appendf(buf, n, &len, "INSERT INTO run_totals (%s", totals_fixed_cols);
        append_energy(buf, n, &len, ", energy_%s_pj");
        text_appendf(buf, n, &len, ") SELECT ");
        append_params(buf, n, &len, 1, TOTALS_FIXED_COLS);
        append_energy(buf, n, &len, ", total(energy_%s_pj)");
        return text_appendf(buf, n, &len, " FROM costs WHERE run_id = ?1");
    }
    return false;
}

static int prepare_all(store *s, bs_error *e)
{
    for (int i = 0; i < ST_COUNT; i++) {
        char built[2048];
        const char *sql = statement_sql[i];
        if (!sql) {
            if (!energy_sql(i, built, sizeof built))
                return err_set(e, BS_EINTERNAL, "%s: cannot build statement %d", s->path, i);
            sql = built;
        }
        if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK)
            return db_error(s, e, "preparing statements");
    }
    return BS_OK;
}

/* Connection settings of a writer. synchronous=NORMAL: see the top of the file.
 * cache_size=-131072 (a limit of 128 MiB, allocated only as pages are touched): a run is ONE
 * transaction of up to ~130k cost rows (ResNet-74, 160 epochs: ~3,900 pages of 4 KiB); with
 * SQLite's default 2 MB cache the transaction spills dirty pages into the WAL mid-way and
 * reads them back.
 * wal_autocheckpoint=8192 pages (32 MiB) instead of SQLite's 1000: a single run's commit then
 * does not also copy the WAL into the database (store_close checkpoints once, so a finished
 * database is one file), while a long sweep that keeps its handles open still has a bounded
 * WAL. (0 = never would let a 10,000-point sweep's WAL grow to the size of the database; on
 * the ResNet-74 CPT run, 0 and 8192 measured the same store time, 0.46-0.49 s.)
 * Neither setting changes durability or the one-transaction-per-run rule. */
static const char writer_pragmas[] = "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                                     " PRAGMA cache_size=-131072; PRAGMA wal_autocheckpoint=8192";

/* $BITSIM_BUSY_TIMEOUT_MS overrides STORE_BUSY_TIMEOUT_MS (tests, scripts that prefer to fail
 * fast on a locked database): a whole number of milliseconds, 0 = fail at once. */
static int busy_timeout_from_env(int *ms, bs_error *e)
{
    *ms = STORE_BUSY_TIMEOUT_MS;
    const char *v = getenv("BITSIM_BUSY_TIMEOUT_MS");
    if (!v || !*v)
        return BS_OK;
    uint64_t x;
    if (!text_parse_u64(v, 0, INT_MAX, &x))
        return err_set(e, BS_EUSAGE,
                       "BITSIM_BUSY_TIMEOUT_MS: '%s' is not a number of milliseconds 0..%d", v,
                       INT_MAX);
    *ms = (int)x;
    return BS_OK;
}

static int step_reset(store *s, sqlite3_stmt *st, const char *what, bs_error *e);

/* The area model's verdict on every stored arch that has none yet (only_id: just that one,
 * 0: all): one arch_area row each, area and peak power, or NULLs and the model's reason (a
 * GPU roofline, a text that is not an arch). Readers (the Pareto front) read these rows
 * instead of re-running the model. Runs inside the caller's transaction, if any. */
static int fill_arch_areas_in(store *s, int64_t only_id, bs_error *e);

/* Outside a transaction the SELECT below would hold a read snapshot while its INSERT asks to
 * write: in WAL mode, when another writer commits in between, that upgrade fails at once
 * (SQLITE_BUSY_SNAPSHOT, the busy timeout never applies) and `run` refused with "database is
 * locked" under concurrent writers. So a caller without a transaction gets one of its own,
 * taken as a writer from the start (BEGIN IMMEDIATE waits for the lock like every writer). */
static int fill_arch_areas(store *s, int64_t only_id, bs_error *e)
{
    if (!sqlite3_get_autocommit(s->db))
        return fill_arch_areas_in(s, only_id, e);
    int rc = exec(s, "BEGIN IMMEDIATE", "storing arch areas", e);
    if (rc)
        return rc;
    rc = fill_arch_areas_in(s, only_id, e);
    if (rc == BS_OK)
        rc = exec(s, "COMMIT", "storing arch areas", e);
    if (rc)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int fill_arch_areas_in(store *s, int64_t only_id, bs_error *e)
{
    sqlite3_stmt *sel = NULL, *ins = NULL;
    int rc = BS_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT id, name, content FROM inputs WHERE kind = 'arch'"
                           " AND (?1 = 0 OR id = ?1)"
                           " AND id NOT IN (SELECT arch_id FROM arch_area)", -1, &sel,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "INSERT INTO arch_area (arch_id, area_mm2, peak_w, why)"
                           " VALUES (?1, ?2, ?3, ?4)", -1, &ins, NULL) != SQLITE_OK)
        rc = db_error(s, e, "storing arch areas");
    sqlite3_bind_int64(sel, 1, only_id);
    int step = SQLITE_DONE;
    while (rc == BS_OK && (step = sqlite3_step(sel)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(sel, 0);
        char name[160];
        snprintf(name, sizeof name, "%s (stored arch %lld)",
                 (const char *)sqlite3_column_text(sel, 1), (long long)id);
        arch a;
        area_report ar;
        bs_error why;
        err_clear(&why);
        int arc = arch_parse_buffer(&a, name, sqlite3_column_blob(sel, 2),
                                    (size_t)sqlite3_column_bytes(sel, 2), &why);
        if (!arc) {
            arc = area_eval(&a, &ar, &why);
            arch_free(&a);
        }
        if (arc == BS_EINTERNAL) {
            rc = err_set(e, arc, "%s", why.msg);
            break;
        }
        sqlite3_bind_int64(ins, 1, id);
        if (arc) {
            sqlite3_bind_null(ins, 2);
            sqlite3_bind_null(ins, 3);
            sqlite3_bind_text(ins, 4, why.msg, -1, SQLITE_TRANSIENT);
        } else {
            sqlite3_bind_double(ins, 2, ar.total_mm2);
            sqlite3_bind_double(ins, 3, ar.peak_w);
            sqlite3_bind_null(ins, 4);
        }
        rc = step_reset(s, ins, "storing arch areas", e);
    }
    if (rc == BS_OK && step != SQLITE_DONE)
        rc = db_error(s, e, "storing arch areas");
    sqlite3_finalize(sel);
    sqlite3_finalize(ins);
    return rc;
}

int store_fill_arch_areas(store *s, bs_error *e)
{
    return fill_arch_areas(s, 0, e);
}

/* Version 1 -> 2: the new table (arch_area) from schema.sql, every input's content_hash the
 * SHA-256 of its stored bytes (runs refer to inputs by id, so nothing else changes), and the
 * stored archs' areas. One write transaction, the version
 * re-read under the lock: two writers opening the same old file migrate it once. */
static int migrate(store *s, bs_error *e)
{
    int rc = exec(s, "BEGIN IMMEDIATE", "migrating the schema", e);
    if (rc)
        return rc;
    bool fresh;
    sqlite3_stmt *sel = NULL, *upd = NULL;
    if ((rc = check_identity(s, &fresh, e)) || s->version == STORE_SCHEMA_VERSION)
        goto out;
    /* what is new in the schema (every statement is IF NOT EXISTS), then the data */
    if ((rc = exec(s, store_schema_sql, "migrating the schema", e)))
        goto out;
    if (sqlite3_prepare_v2(s->db, "SELECT id, content FROM inputs", -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "UPDATE inputs SET content_hash = ?2 WHERE id = ?1", -1, &upd,
                           NULL) != SQLITE_OK) {
        rc = db_error(s, e, "migrating the schema");
        goto out;
    }
    int step;
    while (rc == BS_OK && (step = sqlite3_step(sel)) == SQLITE_ROW) {
        char hash[DIGEST_HEX_LEN + 1];
        digest_sha256_hex(sqlite3_column_blob(sel, 1), (size_t)sqlite3_column_bytes(sel, 1),
                          hash);
        sqlite3_bind_int64(upd, 1, sqlite3_column_int64(sel, 0));
        sqlite3_bind_text(upd, 2, hash, -1, SQLITE_TRANSIENT);
        rc = step_reset(s, upd, "migrating the schema", e);
    }
    if (rc == BS_OK && step != SQLITE_DONE)
        rc = db_error(s, e, "migrating the schema");
    if (rc == BS_OK)
        rc = fill_arch_areas(s, 0, e);
    if (rc == BS_OK) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", STORE_SCHEMA_VERSION);
        rc = exec(s, pragma, "migrating the schema", e);
    }
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    if (rc == BS_OK && (rc = exec(s, "COMMIT", "migrating the schema", e)) == BS_OK)
        s->version = STORE_SCHEMA_VERSION;
    if (rc)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Names SQLite gives a meaning other than "this file": "" (a private temporary database),
 * ":memory:", and URIs ("file:...", which may say mode=memory and skip the header check).
 * Such a database vanishes at exit, so a run would "succeed" and store nothing. A file
 * really called file:x is ./file:x. */
static bool is_file_name(const char *path)
{
    return *path && strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0;
}

/* Whether this process may write path and create files beside it (-wal, -shm). access()
 * also answers EROFS on a read-only mount, for root too. */
static bool can_write_beside(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        slash[slash == dir] = '\0';     /* "/x.db" -> "/" */
    return access(path, W_OK) == 0 && access(dir, W_OK) == 0;
}

/* True when path-wal exists and is not empty: committed transactions may live there. */
static bool has_wal(const char *path)
{
    char wal[PATH_MAX + 8];
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat st;
    return stat(wal, &st) == 0 && st.st_size > 0;
}

/* "file:PATH?immutable=1" with PATH percent-encoded (RFC 3986 unreserved and '/' kept). */
static bool immutable_uri(const char *path, char *uri, size_t n)
{
    size_t k = (size_t)snprintf(uri, n, "file:%s", path[0] == '/' ? "//" : "");
    for (const unsigned char *p = (const unsigned char *)path; *p && k + 4 < n; p++) {
        if (isalnum(*p) || strchr("/-._~", *p))
            uri[k++] = (char)*p;
        else
            k += (size_t)snprintf(uri + k, n - k, "%%%02X", *p);
    }
    return k + sizeof "?immutable=1" <= n &&
           (size_t)snprintf(uri + k, n - k, "?immutable=1") < n - k;
}

/* A reader's connection. One that may write beside the file opens it read-write (made
 * read-only by query_only below): a SQLITE_OPEN_READONLY connection cannot remove the
 * -wal/-shm files it creates on a WAL database, so it would leave them beside a file it
 * refused (another application's) or merely read. One that may not (a read-only file,
 * directory or mount) opens the file immutable: SQLite then takes no locks and creates
 * nothing, which is exact because the file cannot change under us, and is refused only when
 * a -wal beside it may hold committed runs the file does not have yet. */
static int open_reader(store *s, const char *path, int *sqlite_rc, bs_error *e)
{
    if (can_write_beside(path)) {
        *sqlite_rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI,
                                     NULL);
        return BS_OK;
    }
    if (has_wal(path))
        return err_set(e, BS_EINPUT, "%s: read-only, and its -wal file holds changes not yet "
                       "copied into it: open it once where it is writable", path);
    char uri[2 * PATH_MAX];
    if (!immutable_uri(path, uri, sizeof uri))
        return err_set(e, BS_EINPUT, "%s: path too long", path);
    s->uri = strdup(uri);
    if (!s->uri)
        return err_set(e, BS_EINTERNAL, "out of memory opening %s", path);
    *sqlite_rc = sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    return BS_OK;
}

static int open_common(store **out, const char *path, bool readonly, bs_error *e)
{
    *out = NULL;
    if (!is_file_name(path))
        return err_set(e, BS_EINPUT, "'%s': not a database file name (SQLite would keep it in "
                       "memory or read it as a URI, and store nothing on disk); a file called "
                       "file:x is ./file:x", path);
    int busy_ms;
    int rc = busy_timeout_from_env(&busy_ms, e);
    if (rc)
        return rc;
    bool exists;
    rc = check_file_header(path, &exists, e);
    if (rc)
        return rc;
    if (readonly && !exists)
        return err_set(e, BS_EINPUT, access(path, F_OK) == 0
                                         ? "%s: not a bitsim database (empty file)"
                                         : "%s: no such bitsim database",
                       path);
    store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return err_set(e, BS_EINTERNAL, "out of memory opening %s", path);
    }
    /* SQLITE_OPEN_URI: only for the immutable reader's own URI and merge's ATTACH of it;
     * user-given URIs were refused above. */
    int orc = SQLITE_OK;
    if (!readonly)
        orc = sqlite3_open_v2(path, &s->db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, NULL);
    else if ((rc = open_reader(s, path, &orc, e))) {
        store_close(s);
        return rc;
    }
    if (orc == SQLITE_OK && readonly)
        orc = sqlite3_exec(s->db, "PRAGMA query_only=1", NULL, NULL, NULL);
    if (orc != SQLITE_OK) {
        rc = err_set(e, BS_EINPUT, "%s: cannot open database: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : "out of memory");
        store_close(s);
        return rc;
    }
    store_set_busy_timeout(s, busy_ms);
    bool fresh = false;
    rc = check_identity(s, &fresh, e);
    if (rc == BS_OK && fresh && readonly)
        rc = err_set(e, BS_EINPUT, "%s: not a bitsim database (empty)", path);
    if (rc == BS_OK && fresh)
        rc = create_schema(s, e);
    if (rc == BS_OK && fresh)
        s->version = STORE_SCHEMA_VERSION;
    else if (rc == BS_OK && !readonly)
        rc = update_views(s, e);
    if (rc == BS_OK && !readonly && s->version < STORE_SCHEMA_VERSION)
        rc = migrate(s, e);
    if (rc == BS_OK && !readonly)
        rc = exec(s, writer_pragmas, "configuring", e);
    if (rc == BS_OK && !readonly && !fresh)
        rc = add_missing_columns(s, e);
    if (rc == BS_OK && !readonly)
        rc = prepare_all(s, e);
    s->writable = rc == BS_OK && !readonly;
    /* A WAL left behind (a full disk kept the last writer from copying it into the file):
     * copy what can be copied now, so a long sweep does not wait for its close. */
    if (s->writable && has_wal(path))
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc) {
        store_close(s);
        return rc;
    }
    *out = s;
    return BS_OK;
}

int store_open(store **out, const char *path, bs_error *e)
{
    return open_common(out, path, false, e);
}

int store_open_readonly(store **out, const char *path, bs_error *e)
{
    return open_common(out, path, true, e);
}

void store_set_busy_timeout(store *s, int ms)
{
    s->busy_timeout_ms = ms;
    sqlite3_busy_timeout(s->db, ms);
}

void store_close(store *s)
{
    if (!s)
        return;
    if (s->open_run)
        store_run_abort(s);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    /* Copy what is left in the WAL into the database now (writer_pragmas checkpoint only
     * every 32 MiB), so readers opening it later find one small file. The last connection to close also
     * deletes the WAL (SQLite does that itself); while other writers are still open this
     * PASSIVE checkpoint copies what it can without waiting for them. Never on a file that was
     * refused (another application's database is not ours to checkpoint). */
    if (s->writable)
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    sqlite3_close(s->db);
    free(s->uri);
    free(s->path);
    free(s);
}

sqlite3 *store_handle(const store *s)
{
    return s->db;
}

bool store_writable(const store *s)
{
    return s->writable;
}

int store_db_error(store *s, bs_error *e, const char *what)
{
    return db_error(s, e, what);
}

int store_checkpoint(store *s, bs_error *e)
{
    if (!s->writable)
        return BS_OK;
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc == SQLITE_OK || rc == SQLITE_BUSY)
        return BS_OK;   /* busy: other connections copy it when they close */
    if (rc == SQLITE_FULL)
        return err_set(e, BS_EINPUT, "%s: the disk is full: committed runs stay in %s-wal "
                       "until there is space to copy them into the database (keep both files "
                       "together; the next bitsim command on it completes the copy)", s->path,
                       s->path);
    return db_error(s, e, "copying the WAL into the database");
}

const char *store_attach_name(const store *s)
{
    return s->uri ? s->uri : s->path;
}

/* Readies a reused statement for its next use: no pending step, no bindings left over. */
static void reset_stmt(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Steps a reused statement to completion and resets it; SQLITE_DONE or SQLITE_ROW is ok. */
static int step_reset(store *s, sqlite3_stmt *st, const char *what, bs_error *e)
{
    int rc = sqlite3_step(st);
    int result = rc == SQLITE_DONE || rc == SQLITE_ROW ? BS_OK : db_error(s, e, what);
    reset_stmt(st);
    return result;
}

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
    return sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

/* SQLite integers are signed 64-bit; counts beyond that are refused, never wrapped. */
static int bind_u64(store *s, sqlite3_stmt *st, int i, uint64_t v, const char *field, bs_error *e)
{
    if (v > (uint64_t)INT64_MAX)
        return err_set(e, BS_EINPUT, "%s: %s = %llu exceeds the database's 64-bit signed range",
                       s->path, field, (unsigned long long)v);
    sqlite3_bind_int64(st, i, (int64_t)v);
    return BS_OK;
}

int store_put_input(store *s, store_input_kind kind, const char *name, const char *content,
                    size_t len, int64_t *id, bs_error *e)
{
    if ((int)kind < 0 || kind >= STORE_INPUT_KIND_COUNT)
        return err_set(e, BS_EINTERNAL, "store_put_input: bad input kind %d", (int)kind);
    char hash[DIGEST_HEX_LEN + 1];
    digest_sha256_hex(content, len, hash);
    sqlite3_stmt *ins = s->st[ST_PUT_INPUT], *get = s->st[ST_GET_INPUT];
    bind_text(ins, 1, input_kinds[kind]);
    bind_text(ins, 2, name);
    sqlite3_bind_text(ins, 3, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 4, (int64_t)len);
    sqlite3_bind_blob64(ins, 5, len ? content : "", len, SQLITE_STATIC);
    int rc = step_reset(s, ins, "storing an input", e);
    if (rc)
        return rc;
    bind_text(get, 1, input_kinds[kind]);
    sqlite3_bind_text(get, 2, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob64(get, 3, len ? content : "", len, SQLITE_STATIC);
    *id = 0;
    if (sqlite3_step(get) == SQLITE_ROW)
        *id = sqlite3_column_int64(get, 0);
    rc = step_reset(s, get, "looking up an input", e);
    if (rc == BS_OK && *id == 0)
        rc = err_set(e, BS_EINTERNAL, "%s: input '%s' vanished after insert", s->path, name);
    if (rc == BS_OK && kind == STORE_ARCH)
        rc = fill_arch_areas(s, *id, e);
    return rc;
}

int store_find_run(store *s, const store_run_info *info, int64_t *run_id, bs_error *e)
{
    sqlite3_stmt *st = s->st[ST_FIND_RUN];
    sqlite3_bind_int64(st, 1, info->arch_id);
    sqlite3_bind_int64(st, 2, info->model_id);
    sqlite3_bind_int64(st, 3, info->trace_id);
    bind_text(st, 4, info->options);
    bind_text(st, 5, STORE_TOOL_VERSION);
    *run_id = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        *run_id = sqlite3_column_int64(st, 0);
    return step_reset(s, st, "looking up a run", e);
}

int store_run_begin(store *s, const store_run_info *info, int64_t *run_id, bs_error *e)
{
    if (s->open_run)
        return err_set(e, BS_EINTERNAL, "%s: run %lld is still open", s->path,
                       (long long)s->open_run);
    int rc = exec(s, "BEGIN IMMEDIATE", "beginning a run", e);
    if (rc)
        return rc;
    sqlite3_stmt *st = s->st[ST_INSERT_RUN];
    const char *label = info->label && *info->label ? info->label : info->scheme;
    bind_text(st, 1, label);
    bind_text(st, 2, info->scheme);
    sqlite3_bind_int64(st, 3, info->arch_id);
    sqlite3_bind_int64(st, 4, info->model_id);
    sqlite3_bind_int64(st, 5, info->trace_id);
    bind_text(st, 6, info->arch_name);
    bind_text(st, 7, info->model_name);
    bind_text(st, 8, info->trace_name);
    bind_text(st, 12, info->options);
    bind_text(st, 13, STORE_TOOL_VERSION);
    if (info->has_accuracy)
        sqlite3_bind_double(st, 14, info->accuracy_pct);
    else
        sqlite3_bind_null(st, 14);
    if (!(rc = bind_u64(s, st, 9, info->batch, "batch", e)) &&
        !(rc = bind_u64(s, st, 10, info->iterations, "iterations", e)) &&
        !(rc = bind_u64(s, st, 11, info->epochs, "epochs", e)))
        rc = step_reset(s, st, "beginning a run", e);
    else
        reset_stmt(st);
    if (rc) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    *run_id = s->open_run = sqlite3_last_insert_rowid(s->db);
    return BS_OK;
}

int store_add_cost(store *s, int64_t run_id, const replay_row *row, bs_error *e)
{
    if (run_id == 0 || run_id != s->open_run)
        return err_set(e, BS_EINTERNAL, "%s: cost row for run %lld, which is not open", s->path,
                       (long long)run_id);
    sqlite3_stmt *st = s->st[ST_ADD_COST];
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, row->epoch);
    sqlite3_bind_int64(st, 3, row->layer);
    bind_text(st, 4, row->layer_name);
    bind_text(st, 5, row->pass);
    int rc;
    if ((rc = bind_u64(s, st, 6, row->iterations, "iterations", e)) ||
        (rc = bind_u64(s, st, 7, row->madds, "madds", e)) ||
        (rc = bind_u64(s, st, 8, row->elem_ops, "elem_ops", e))) {
        reset_stmt(st);
        return rc;
    }
    /* parameters COST_FIRST_REAL..COST_FIXED_COLS, then the energy components */
    double reals[COST_FIXED_COLS - COST_FIRST_REAL + 1 + COST_E_COUNT] = {
        row->bitops, row->wl_madds, row->compute_cycles, row->stall_cycles, row->total_cycles,
        row->latency_s, row->dram_read_bits, row->dram_write_bits, row->avg_bits_x,
        row->avg_bits_y};
    for (int k = 0; k < COST_E_COUNT; k++)
        reals[COST_FIXED_COLS - COST_FIRST_REAL + 1 + k] = row->energy_pj[k];
    for (int i = 0; i < (int)(sizeof reals / sizeof reals[0]); i++) {
        int param = COST_FIRST_REAL + i;
        /* NULL-able only for the average widths (a pass may have no operands); a non-finite
         * cost is a bug upstream and must not be stored as a silent NULL */
        bool avg_width = param == COST_FIXED_COLS - 1 || param == COST_FIXED_COLS;
        if (!isfinite(reals[i]) && !avg_width) {
            reset_stmt(st);
            return err_set(e, BS_EINTERNAL, "%s: non-finite cost in column %d of epoch %u layer %d %s",
                           s->path, param, row->epoch, row->layer, row->pass ? row->pass : "");
        }
        sqlite3_bind_double(st, param, reals[i]);
    }
    return step_reset(s, st, "adding a cost row", e);
}

int store_run_commit(store *s, int64_t run_id, const replay_totals *t, double wall_s,
                     bs_error *e)
{
    if (run_id == 0 || run_id != s->open_run)
        return err_set(e, BS_EINTERNAL, "%s: commit of run %lld, which is not open", s->path,
                       (long long)run_id);
    sqlite3_stmt *st = s->st[ST_INSERT_TOTALS];
    const double vals[] = {t->madds, t->bitops, t->wl_madds, t->cycles, t->latency_s,
                           t->energy_pj, t->dram_bits, t->cpt_cost_ratio, t->adapt_speedup,
                           t->mem_weights_bits, t->mem_fmaps_bits, t->mem_grads_bits,
                           t->mem_wgrads_bits, t->mem_optim_bits, t->smaq_storage_benefit};
    sqlite3_bind_int64(st, 1, run_id);
    for (int i = 0; i < (int)(sizeof vals / sizeof vals[0]); i++)
        sqlite3_bind_double(st, 2 + i, vals[i]); /* NaN binds as NULL: "not applicable" */
    int rc = step_reset(s, st, "storing run totals", e);
    if (rc == BS_OK) {
        st = s->st[ST_FINISH_RUN];
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_double(st, 2, wall_s);
        rc = step_reset(s, st, "finishing a run", e);
    }
    if (rc == BS_OK)
        rc = exec(s, "COMMIT", "committing a run", e);
    if (rc) {
        store_run_abort(s);
        return rc;
    }
    s->open_run = 0;
    return BS_OK;
}

void store_run_abort(store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->open_run = 0;
}

int store_version(const store *s)
{
    return s->version;
}

/* store_record's sink: each row straight into the open run. */
typedef struct store_sink {
    store *s;
    int64_t run_id;
} store_sink;

static int store_row(const replay_row *row, void *ctx, bs_error *e)
{
    store_sink *k = ctx;
    return store_add_cost(k->s, k->run_id, row, e);
}

int store_record(store *s, const store_run_info *info, replay_source_fn rows, const void *src,
                 double wall_s, int64_t *run_id, bs_error *e)
{
    store_sink k = {.s = s};
    int rc = store_run_begin(s, info, &k.run_id, e);
    if (rc)
        return rc;
    replay_totals totals;
    rc = rows(src, store_row, &k, &totals, e);
    if (!rc)
        rc = store_run_commit(s, k.run_id, &totals, wall_s, e);
    if (rc) {
        store_run_abort(s);
        return rc;
    }
    *run_id = k.run_id;
    return BS_OK;
}
