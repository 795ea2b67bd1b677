/* test_store.c — the SQLite store: identity, dedup, one transaction per run, kills, writers.
 *
 * Expected numbers are derived by hand from the fixture's per-row values (fixture_store.h),
 * and identities/row counts are read back with plain SQL on a separate connection, not
 * through the store's own API.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "checkout.h"
#include "fixture_store.h"
#include "store.h"
#include "store_query.h"
#include "store_private.h"

/* Opens path read-only on its own connection and steps sql once; returns the statement
 * (SQLITE_ROW or not in *row) for the caller to read, finalize and close with sql_done. */
static sqlite3_stmt *sql_first(const char *path, const char *sql, sqlite3 **db, bool *row)
{
    cr_assert_eq(sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(*db, 5000);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(*db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(*db));
    *row = sqlite3_step(st) == SQLITE_ROW;
    return st;
}

static void sql_done(sqlite3 *db, sqlite3_stmt *st)
{
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static double sql_double(const char *path, const char *sql)
{
    sqlite3 *db;
    bool row;
    sqlite3_stmt *st = sql_first(path, sql, &db, &row);
    double v = row ? sqlite3_column_double(st, 0) : NAN;
    sql_done(db, st);
    return v;
}

static const char *sql_text(const char *path, const char *sql, char *buf, size_t n)
{
    sqlite3 *db;
    bool row;
    sqlite3_stmt *st = sql_first(path, sql, &db, &row);
    buf[0] = '\0';
    if (row)
        snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sql_done(db, st);
    return buf;
}

/* Makes path a plain SQLite database (not a bitsim one) holding whatever sql creates. */
static void make_sqlite_file(const char *path, const char *sql)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sql);
    sqlite3_close(db);
}

/* Another connection that holds a write lock on path (BEGIN IMMEDIATE or EXCLUSIVE). */
static sqlite3 *hold_lock(const char *path, const char *begin)
{
    sqlite3 *holder;
    cr_assert_eq(sqlite3_open(path, &holder), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(holder, begin, NULL, NULL, NULL), SQLITE_OK);
    return holder;
}

static void release_lock(sqlite3 *holder)
{
    sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(holder);
}

/* While another connection holds the lock, beginning a run must fail as bad input whose
 * message (left in *e) says `why`. */
static void expect_begin_refused(store *s, store_run_info *info, const char *why, bs_error *e)
{
    int64_t run;
    cr_expect_eq(store_run_begin(s, info, &run, e), BS_EINPUT);
    cr_expect(strstr(e->msg, why) != NULL, "%s", e->msg);
}

/* A new database named file in a fresh directory (*path, for fixture_cleanup), opened. */
static store *open_new(const char *file, char **path)
{
    store *s;
    bs_error e;
    *path = fixture_tmp_path(file);
    cr_assert_eq(store_open(&s, *path, &e), BS_OK, "%s", e.msg);
    return s;
}

/* open_new with throw-away inputs stored, filling info's input ids. */
static store *open_with_inputs(const char *file, char **path, store_run_info *info)
{
    bs_error e;
    store *s = open_new(file, path);
    cr_assert_eq(fixture_put_inputs(s, "a", "m", "t", info, &e), 0, "%s", e.msg);
    return s;
}

/* open_with_inputs and a run begun on them; returns the run id. */
static int64_t open_and_begin(const char *file, char **path, store **s, store_run_info *info)
{
    bs_error e;
    int64_t run;
    *s = open_with_inputs(file, path, info);
    cr_assert_eq(store_run_begin(*s, info, &run, &e), 0, "%s", e.msg);
    return run;
}

static const fixture_run small = {
    .label = "cpt", .scheme = "cpt", .model = "resnet20", .arch = "bitfusion",
    .epochs = 3, .layers = 2, .row_madds = 1000, .row_latency_s = 0.5, .row_energy_pj = 2e6,
    .bits_first = 4, .bits_last = 8,
};

/* Creates (or opens) the database at path and stores the fixture run `small` in it. */
static void store_one_run(const char *path)
{
    store *s;
    bs_error e;
    cr_assert_eq(store_open(&s, path, &e), BS_OK, "%s", e.msg);
    cr_assert_neq(fixture_add_run(s, &small, &e), 0, "%s", e.msg);
    store_close(s);
}

Test(store, creates_identified_wal_database)
{
    char *path = fixture_tmp_path("a.db");
    store_one_run(path);
    /* 'b' 'S' 't' '1' = 0x62 0x53 0x74 0x31 */
    cr_expect_eq(sql_double(path, "PRAGMA application_id"), (double)0x62537431);
    cr_expect_eq(sql_double(path, "PRAGMA user_version"), 2.0);   /* schema 2: SHA-256 content digests */
    char buf[64];
    cr_expect_str_eq(sql_text(path, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    /* 3 epochs x 2 layers x 3 passes */
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM costs"), 18.0);
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM runs WHERE status = 'complete'"), 1.0);
    /* reopening an existing database works and keeps its rows */
    store *s;
    bs_error e;
    cr_assert_eq(store_open(&s, path, &e), BS_OK, "%s", e.msg);
    store_close(s);
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM costs"), 18.0);
    fixture_cleanup(path);
}

/* Each energy component k of cost.h lands in column energy_<cost_energy_name(k)>_pj of costs
 * and run_totals: the fixture gives every component its own share of a row's energy (0.4,
 * 0.1, 0.05, 0.05, 0.3, 0.1), so a column holding another component's value is caught. */
Test(store, energy_components_land_in_their_named_columns)
{
    char *path = fixture_tmp_path("e.db");
    store_one_run(path);
    double rows = (double)fixture_rows(&small);
    for (int k = 0; k < COST_E_COUNT; k++) {
        char sql[160];
        double want = rows * small.row_energy_pj * fixture_energy_share[k];
        snprintf(sql, sizeof sql, "SELECT sum(energy_%s_pj) FROM costs",
                 cost_energy_name((cost_energy)k));
        cr_expect_float_eq(sql_double(path, sql), want, 1e-9 * want, "%s", sql);
        snprintf(sql, sizeof sql, "SELECT energy_%s_pj FROM run_totals",
                 cost_energy_name((cost_energy)k));
        cr_expect_float_eq(sql_double(path, sql), want, 1e-9 * want, "%s", sql);
    }
    fixture_cleanup(path);
}

/* The file's bytes, for "never modified" checks. */
static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    char *buf = malloc(1 << 16);
    *n = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static void expect_refused_unchanged(const char *path, const char *why)
{
    size_t n0, n1;
    char *before = slurp(path, &n0);
    store *s = (store *)1;
    bs_error e;
    err_clear(&e);
    cr_expect_eq(store_open(&s, path, &e), BS_EINPUT);
    cr_expect_null(s);
    cr_expect(strstr(e.msg, path) != NULL, "message names the path: %s", e.msg);
    cr_expect(strstr(e.msg, why) != NULL, "message says why (%s): %s", why, e.msg);
    cr_expect(strchr(e.msg, '\n') == NULL, "one line: %s", e.msg);
    char *after = slurp(path, &n1);
    cr_expect_eq(n0, n1);
    cr_expect(memcmp(before, after, n0) == 0, "file must not be modified");
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat st;
    cr_expect(stat(wal, &st) != 0, "no WAL file may be created next to a refused file");
    free(before);
    free(after);
}

Test(store, refuses_other_sqlite_database)
{
    char *path = fixture_tmp_path("other.db");
    make_sqlite_file(path, "CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    expect_refused_unchanged(path, "not a bitsim database");
    fixture_cleanup(path);
}

Test(store, refuses_non_sqlite_file)
{
    char *path = fixture_tmp_path("notes.txt");
    FILE *f = fopen(path, "w");
    fputs("these are my notes, not a database\n", f);
    fclose(f);
    expect_refused_unchanged(path, "not an SQLite file");
    fixture_cleanup(path);
}

Test(store, refuses_newer_schema_and_readonly_refuses_missing)
{
    char *path = fixture_tmp_path("v9.db");
    make_sqlite_file(path, "PRAGMA application_id=1649636401; PRAGMA user_version=9;"
                           " CREATE TABLE t(x)");
    expect_refused_unchanged(path, "schema version 9");
    store *s;
    bs_error e;
    char missing[600];
    snprintf(missing, sizeof missing, "%s.missing", path);
    cr_expect_eq(store_open_readonly(&s, missing, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, missing) != NULL, "%s", e.msg);
    struct stat st;
    cr_expect(stat(missing, &st) != 0, "read-only open must not create the file");
    fixture_cleanup(path);
}

Test(store, inputs_are_stored_once_per_content)
{
    char *path;
    store *s = open_new("in.db", &path);
    bs_error e;
    int64_t a, b, c, d;
    const char text[] = "[array]\npmax = 8\n";
    cr_assert_eq(store_put_input(s, STORE_ARCH, "bitfusion", text, sizeof text - 1, &a, &e), 0);
    cr_assert_eq(store_put_input(s, STORE_ARCH, "copy-of-bitfusion", text, sizeof text - 1, &b, &e), 0);
    cr_assert_eq(store_put_input(s, STORE_ARCH, "other", "[array]\npmax = 4\n", 17, &c, &e), 0);
    cr_assert_eq(store_put_input(s, STORE_MODEL, "m", text, sizeof text - 1, &d, &e), 0);
    cr_expect_eq(a, b, "same bytes under another name are the same input");
    cr_expect_neq(a, c);
    store_close(s);
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM archs"), 2.0);
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM models"), 1.0);
    cr_expect_eq(sql_double(path, "SELECT bytes FROM archs WHERE name = 'bitfusion'"), 17.0);
    fixture_cleanup(path);
}

Test(store, find_run_recognises_same_inputs_and_options)
{
    char *path;
    store *s = open_new("find.db", &path);
    bs_error e;
    int64_t id = fixture_add_run(s, &small, &e);
    cr_assert_neq(id, 0, "%s", e.msg);
    /* the same bytes again (whatever the names): the same inputs */
    int64_t found;
    store_run_info info = {.options = ""};
    cr_assert_eq(fixture_put_inputs(s, "bitfusion", "resnet20", "trace of cpt/cpt/resnet20",
                                    &info, &e), 0, "%s", e.msg);
    cr_assert_eq(store_find_run(s, &info, &found, &e), 0, "%s", e.msg);
    cr_expect_eq(found, id);
    info.options = "exact_density=1";
    cr_assert_eq(store_find_run(s, &info, &found, &e), 0);
    cr_expect_eq(found, 0, "other options are another run");
    /* a run stored by another bitsim (another cost model) is not this build's result */
    info.options = "";
    cr_assert_eq(sqlite3_exec(store_handle(s), "UPDATE runs SET tool_version = '0.0.1+older'",
                              NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(store_find_run(s, &info, &found, &e), 0);
    cr_expect_eq(found, 0, "a run of another tool version is not a rerun");
    store_close(s);
    fixture_cleanup(path);
}

/* A source that fails after some rows (store_record must store nothing of the run). */
static int rows_then_fail(const void *src, replay_row_fn fn, void *ctx, replay_totals *totals,
                          bs_error *e)
{
    (void)src;
    (void)totals;
    for (uint32_t i = 0; i < 3; i++) {
        replay_row r = {.epoch = i, .layer_name = "l", .pass = "FWD", .madds = 5};
        if (fn(&r, ctx, e))
            return BS_EINTERNAL;
    }
    return err_set(e, BS_EINPUT, "layer 2 FWD: the arch cannot tile it");
}

/* Three ways a run can fail to complete: aborted, a store closed with the run open, a row
 * source failing part-way (its error comes back as it was). None leaves a row behind, and
 * the database takes the next run. */
Test(store, abort_close_and_failing_source_leave_no_half_run)
{
    char *path;
    store *s;
    store_run_info info = {0};
    int64_t run = open_and_begin("abort.db", &path, &s, &info);
    bs_error e;
    replay_row r = {.layer_name = "l", .pass = "FWD", .madds = 5};
    cr_assert_eq(store_add_cost(s, run, &r, &e), 0, "%s", e.msg);
    store_run_abort(s);
    cr_expect_neq(store_add_cost(s, run, &r, &e), 0, "no rows after abort");
    int64_t failed = -1;
    cr_expect_eq(store_record(s, &info, rows_then_fail, NULL, 0, &failed, &e), BS_EINPUT);
    cr_expect_str_eq(e.msg, "layer 2 FWD: the arch cannot tile it");
    cr_expect_eq(failed, -1, "no run id for a run that was not stored");
    cr_assert_eq(store_run_begin(s, &info, &run, &e), 0, "%s", e.msg);
    cr_assert_eq(store_add_cost(s, run, &r, &e), 0, "%s", e.msg);
    store_close(s); /* closing with an open run rolls it back */
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM runs"), 0.0);
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM costs"), 0.0);
    cr_assert_eq(store_open(&s, path, &e), BS_OK, "%s", e.msg);
    cr_expect_neq(fixture_add_run(s, &small, &e), 0, "%s", e.msg);
    store_close(s);
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM runs"), 1.0);
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM costs"), 18.0); /* 3 epochs x 2 x 3 */
    fixture_cleanup(path);
}

Test(store, rejects_counts_beyond_sqlite_range_and_non_finite_costs)
{
    char *path;
    store *s;
    store_run_info info = {0};
    int64_t run = open_and_begin("range.db", &path, &s, &info);
    bs_error e;
    replay_row r = {.layer_name = "l", .pass = "FWD", .madds = (uint64_t)INT64_MAX + 1};
    cr_expect_eq(store_add_cost(s, run, &r, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "madds") != NULL, "%s", e.msg);
    r.madds = 1;
    r.latency_s = NAN;
    cr_expect_neq(store_add_cost(s, run, &r, &e), BS_OK, "NaN latency must not become NULL");
    r.latency_s = 1;
    r.energy_pj[COST_E_COUNT - 1] = INFINITY;
    cr_expect_neq(store_add_cost(s, run, &r, &e), BS_OK, "an infinite energy must not be stored");
    r.energy_pj[COST_E_COUNT - 1] = 0;
    r.pass = "SIDEWAYS";
    cr_expect_neq(store_add_cost(s, run, &r, &e), BS_OK, "unknown pass is refused by the schema");
    r.pass = "FWD";
    r.avg_bits_x = r.avg_bits_y = NAN; /* a pass without operands: widths NULL */
    cr_expect_eq(store_add_cost(s, run, &r, &e), BS_OK, "%s", e.msg);
    cr_assert_eq(store_run_commit(s, run, &(replay_totals){.madds = 1}, 0, &e), BS_OK, "%s", e.msg);
    store_close(s);
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM costs WHERE avg_bits_x IS NULL"
                                  " AND avg_bits_y IS NULL AND latency_s = 1"), 1.0);
    fixture_cleanup(path);
}

/* A row source (replay_source_fn) that hands out 30,000 rows, says so through the pipe
 * *src and waits to be killed: a run killed in the middle of store_record. */
static int rows_then_hang(const void *src, replay_row_fn fn, void *ctx, replay_totals *totals,
                          bs_error *e)
{
    (void)totals;
    /* enough rows (several MB) that SQLite spills uncommitted pages into the WAL file */
    for (uint32_t i = 0; i < 30000; i++) {
        double v = i + 0.5; /* non-zero reals: SQLite stores 0.0 in no bytes at all */
        replay_row r = {.epoch = i, .layer_name = "l", .pass = "FWD", .madds = i,
                        .bitops = v, .wl_madds = v, .compute_cycles = v, .stall_cycles = v,
                        .total_cycles = v, .latency_s = v, .energy_pj = {v, v, v, v, v, v},
                        .dram_read_bits = v, .dram_write_bits = v, .avg_bits_x = v,
                        .avg_bits_y = v};
        if (fn(&r, ctx, e))
            _exit(14);
    }
    if (write(*(const int *)src, "k", 1) != 1)
        _exit(15);
    for (;;)
        pause();
}

/* A child that records a run, says so through a pipe in the middle and waits to be killed. */
static void child_writes_then_hangs(const char *path, int fd, bool commit_one_first)
{
    store *s;
    bs_error e;
    if (store_open(&s, path, &e))
        _exit(10);
    /* The store's own page cache (128 MiB) would keep these uncommitted rows in memory; a
     * small one makes SQLite spill them into the WAL, the harder case for a kill. */
    if (sqlite3_exec(store_handle(s), "PRAGMA cache_size=100", NULL, NULL, NULL) != SQLITE_OK)
        _exit(16);
    if (commit_one_first && !fixture_add_run(s, &small, &e))
        _exit(11);
    int64_t run;
    store_run_info info = {.label = "killed", .scheme = "cpt"};
    if (fixture_put_inputs(s, "ka", "km", "kt", &info, &e))
        _exit(12);
    store_record(s, &info, rows_then_hang, &fd, 0, &run, &e);
    _exit(13);
}

static void kill_mid_run(bool commit_one_first)
{
    char *path = fixture_tmp_path("kill.db");
    store *s;
    bs_error e;
    /* create the db first so the inputs referenced by the killed run exist */
    cr_assert_eq(store_open(&s, path, &e), BS_OK, "%s", e.msg);
    store_close(s);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        child_writes_then_hangs(path, fds[1], commit_one_first);
    }
    close(fds[1]);
    char c;
    cr_assert_eq(read(fds[0], &c, 1), 1, "the child must reach the middle of its run");
    close(fds[0]);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat wst;
    cr_expect(stat(wal, &wst) == 0 && wst.st_size > 1000000,
              "uncommitted rows should be on disk in the WAL when the child dies (%lld)", (long long)wst.st_size);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    char buf[64];
    cr_expect_str_eq(sql_text(path, "PRAGMA integrity_check", buf, sizeof buf), "ok");
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM runs WHERE label = 'killed'"), 0.0);
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM runs"), commit_one_first ? 1.0 : 0.0);
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM costs"), commit_one_first ? 18.0 : 0.0);
    /* and the database takes new runs afterwards */
    cr_assert_eq(store_open(&s, path, &e), BS_OK, "%s", e.msg);
    fixture_run after = small;
    after.label = "after";
    cr_expect_neq(fixture_add_run(s, &after, &e), 0, "%s", e.msg);
    store_close(s);
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM runs WHERE label = 'after'"), 1.0);
    fixture_cleanup(path);
}

Test(store, sigkill_mid_transaction_leaves_valid_db_without_the_run)
{
    kill_mid_run(false);
}

Test(store, sigkill_after_a_commit_keeps_the_committed_run_only)
{
    kill_mid_run(true);
}

Test(store, concurrent_writers_lose_no_rows)
{
    enum { WRITERS = 3, RUNS_EACH = 4 };
    char *path = fixture_tmp_path("conc.db");
    fflush(NULL);
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        cr_assert_geq(pids[w], 0);
        if (pids[w] == 0) {
            /* every writer also races to create the database (the race that made this
             * test flaky: SQLite refuses the switch to WAL at once, without the busy
             * handler, while another writer holds a lock; store.c retries it). The busy
             * timeout stays the store's default (60 s): no wall-clock assumption here. */
            store *s;
            bs_error e;
            if (store_open(&s, path, &e)) {
                fprintf(stderr, "writer %d: %s\n", w, e.msg);
                _exit(20);
            }
            for (int r = 0; r < RUNS_EACH; r++) {
                char label[32];
                snprintf(label, sizeof label, "w%d-r%d", w, r);
                fixture_run f = small;
                f.label = label;
                /* bitsim run's streamed rows and bitsim sweep's computed ones, in turn */
                if (!fixture_add_run_from(s, &f, (w + r) % 2, &e)) {
                    fprintf(stderr, "writer %d run %d: %s\n", w, r, e.msg);
                    _exit(21);
                }
            }
            store_close(s);
            _exit(0);
        }
    }
    for (int w = 0; w < WRITERS; w++) {
        int status;
        waitpid(pids[w], &status, 0);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d status %d", w, status);
    }
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM runs"), (double)(WRITERS * RUNS_EACH));
    cr_expect_eq(sql_double(path, "SELECT count(DISTINCT label) FROM runs"),
                 (double)(WRITERS * RUNS_EACH));
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM costs"), (double)(WRITERS * RUNS_EACH * 18));
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM run_totals"), (double)(WRITERS * RUNS_EACH));
    /* every run's totals whole, by either source: 18 rows x 1000 MAdds, 18 x 2e6 pJ */
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM run_totals WHERE madds = 18000"
                                  " AND energy_core_pj = 18 * 2e6 * 0.4"),
                 (double)(WRITERS * RUNS_EACH));
    /* the same arch/model bytes from every writer are one input each */
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM archs"), 1.0);
    fixture_cleanup(path);
}

Test(store, locked_database_gives_a_clear_error_after_the_timeout)
{
    char *path;
    store_run_info info = {0};
    store *s = open_with_inputs("lock.db", &path, &info);
    bs_error e;
    sqlite3 *holder = hold_lock(path, "BEGIN IMMEDIATE");
    store_set_busy_timeout(s, 50);
    expect_begin_refused(s, &info, "locked", &e);
    cr_expect(strstr(e.msg, path) != NULL, "%s", e.msg);
    release_lock(holder);
    /* once released, the same handle works */
    cr_expect_neq(fixture_add_run(s, &small, &e), 0, "%s", e.msg);
    store_close(s);
    fixture_cleanup(path);
}

Test(store, views_sum_rows_as_derived_by_hand)
{
    char *path = fixture_tmp_path("views.db");
    store_one_run(path);
    /* 18 rows x 2e6 pJ = 3.6e7 pJ = 3.6e-5 J; dram share 0.3 of it */
    cr_expect_float_eq(sql_double(path, "SELECT energy_j FROM run_summary"), 3.6e-5, 1e-15);
    cr_expect_float_eq(sql_double(path, "SELECT energy_dram_pj FROM run_summary"), 1.08e7, 1e-3);
    /* 18 rows x 1000 MAdds x 64 = 1.152e6 BitOPs */
    cr_expect_float_eq(sql_double(path, "SELECT gbitops FROM run_summary"), 1.152e-3, 1e-12);
    /* memory: 1 + 4 + 0 + 1 + 2 MiB = 8 MiB = 67108864 bits */
    cr_expect_float_eq(sql_double(path, "SELECT mem_total_bits FROM run_summary"), 67108864.0, 1e-3);
    /* each epoch: 2 layers x 3 passes x 0.5 s = 3 s; cumulative after epoch 1 = 6 s */
    cr_expect_float_eq(sql_double(path, "SELECT latency_s FROM epoch_costs WHERE epoch = 2"), 3.0, 1e-12);
    cr_expect_float_eq(sql_double(path, "SELECT cum_latency_s FROM epoch_costs WHERE epoch = 1"), 6.0, 1e-12);
    cr_expect_float_eq(sql_double(path, "SELECT cum_energy_pj FROM epoch_costs WHERE epoch = 2"), 3.6e7, 1e-3);
    /* cost_rows: per-row SRAM energy = (0.1 + 0.05 + 0.05) x 2e6 */
    cr_expect_float_eq(sql_double(path, "SELECT max(energy_sram_pj) FROM cost_rows"), 4e5, 1e-6);
    fixture_cleanup(path);
}

Test(store, a_closed_writer_leaves_one_file)
{
    char *path = fixture_tmp_path("onefile.db");
    store_one_run(path);
    char side[600];
    struct stat st;
    snprintf(side, sizeof side, "%s-wal", path);
    cr_expect(stat(side, &st) != 0, "%s is left behind after store_close", side);
    snprintf(side, sizeof side, "%s-shm", path);
    cr_expect(stat(side, &st) != 0, "%s is left behind after store_close", side);
    cr_expect_eq(sql_double(path, "SELECT count(*) FROM costs"), 18.0);
    fixture_cleanup(path);
}

Test(store, busy_timeout_comes_from_the_environment)
{
    char *path;
    store_run_info info = {0};
    store *s = open_with_inputs("envlock.db", &path, &info);
    bs_error e;
    store_close(s);
    sqlite3 *holder = hold_lock(path, "BEGIN EXCLUSIVE");
    /* criterion runs each test in its own process: setenv does not leak into other tests */
    setenv("BITSIM_BUSY_TIMEOUT_MS", "20", 1);
    cr_assert_eq(store_open(&s, path, &e), BS_OK, "%s", e.msg);
    expect_begin_refused(s, &info, "waited 20 ms", &e);
    store_close(s);
    setenv("BITSIM_BUSY_TIMEOUT_MS", "soon", 1);
    cr_expect_eq(store_open(&s, path, &e), BS_EUSAGE);
    cr_expect(strstr(e.msg, "BITSIM_BUSY_TIMEOUT_MS") != NULL, "%s", e.msg);
    unsetenv("BITSIM_BUSY_TIMEOUT_MS");
    release_lock(holder);
    fixture_cleanup(path);
}

/* SHA-256 of a file by coreutils' sha256sum: an implementation independent of bitsim's. */
static void sha256sum_of(const char *path, char out[65])
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    cr_assert_eq(fscanf(p, "%64s", out), 1);
    pclose(p);
}

/* A database written by bitsim's schema 1 (tests/data/store_v1.db: `bitsim run` of a 1-epoch
 * cpt trace of lenet5 on bitfusion by commit 380281a; inputs keyed by two FNV-1a 64 hashes)
 * is read as it is by readers and migrated in place by the first writer: user_version 2,
 * every input's content_hash the SHA-256 of its stored bytes (checked with sha256sum), runs
 * and cost rows untouched; a second writer changes nothing more. */
Test(store, migrates_a_schema_1_database)
{
    char src[512];
    checkout_path("tests/data/store_v1.db", src, sizeof src);
    char *path = fixture_tmp_path("v1.db");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", src, path);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    cr_expect_eq(sql_double(path, "PRAGMA user_version"), 1.0);
    double costs = sql_double(path, "SELECT count(*) FROM costs");
    double energy = sql_double(path, "SELECT sum(energy_pj) FROM run_totals");
    cr_assert_gt(costs, 0);
    char old_hash[80];
    sql_text(path, "SELECT content_hash FROM inputs WHERE kind = 'trace'", old_hash,
             sizeof old_hash);
    cr_expect_eq(strlen(old_hash), 32, "schema 1: 32 hex digits, %s", old_hash);

    store *s;
    bs_error e;
    cr_assert_eq(store_open_readonly(&s, path, &e), BS_OK, "%s", e.msg);
    cr_expect_eq(store_version(s), 1);
    store_close(s);
    cr_expect_eq(sql_double(path, "PRAGMA user_version"), 1.0, "a reader migrates nothing");

    for (int pass = 0; pass < 2; pass++) {
        cr_assert_eq(store_open(&s, path, &e), BS_OK, "%s", e.msg);
        cr_expect_eq(store_version(s), 2);
        store_close(s);
        cr_expect_eq(sql_double(path, "PRAGMA user_version"), 2.0);
        cr_expect_eq(sql_double(path, "SELECT count(*) FROM costs"), costs);
        cr_expect_eq(sql_double(path, "SELECT sum(energy_pj) FROM run_totals"), energy);
        cr_expect_eq(sql_double(path, "SELECT count(*) FROM runs WHERE status = 'complete'"), 1.0);
        /* the new table: the stored bitfusion arch's area, by the area model */
        cr_expect_eq(sql_double(path, "SELECT count(*) FROM arch_area WHERE area_mm2 > 0"), 1.0);
        for (int id = 1; id <= 3; id++) {
            char sql[120], blob_path[600], want[65], got[80];
            sqlite3 *db;
            snprintf(sql, sizeof sql, "SELECT content FROM inputs WHERE id = %d", id);
            cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
            sqlite3_stmt *st;
            cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
            cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
            snprintf(blob_path, sizeof blob_path, "%s.%d", path, id);
            FILE *f = fopen(blob_path, "wb");
            cr_assert_not_null(f);
            fwrite(sqlite3_column_blob(st, 0), 1, (size_t)sqlite3_column_bytes(st, 0), f);
            fclose(f);
            sqlite3_finalize(st);
            sqlite3_close(db);
            sha256sum_of(blob_path, want);
            unlink(blob_path);
            snprintf(sql, sizeof sql, "SELECT content_hash FROM inputs WHERE id = %d", id);
            cr_expect_str_eq(sql_text(path, sql, got, sizeof got), want, "input %d", id);
        }
    }
    fixture_cleanup(path);
}

/* runs.accuracy_pct came after schema version 1 shipped: a writer opening a database without
 * the column adds it (the old runs keep NULL), a run stating an accuracy stores it, one that
 * does not stores NULL (never 0 %). The older database is made by dropping the column. */
Test(store, accuracy_column_is_added_to_an_older_database)
{
    char *path;
    store *s = open_new("old.db", &path);
    bs_error e;
    store_run_info old = {.label = "before", .scheme = "fp32", .batch = 1, .iterations = 1,
                          .epochs = 1};
    int64_t run;
    cr_assert_eq(fixture_put_inputs(s, "bitfusion", "tiny", "t0", &old, &e), 0, "%s", e.msg);
    cr_assert_eq(store_run_begin(s, &old, &run, &e), BS_OK, "%s", e.msg);
    replay_totals tot = {.latency_s = 1, .energy_pj = 1};
    cr_assert_eq(store_run_commit(s, run, &tot, 0, &e), BS_OK, "%s", e.msg);
    store_close(s);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "DROP VIEW run_summary; DROP VIEW scheme_comparison;"
                              " ALTER TABLE runs DROP COLUMN accuracy_pct;"
                              " CREATE VIEW run_summary AS SELECT r.id AS run_id FROM runs r;",
                              NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    cr_assert_eq(store_open_readonly(&s, path, &e), BS_OK, "%s", e.msg);
    cr_expect_not(store_has_column(s, "runs", "accuracy_pct"), "a reader does not change the file");
    store_close(s);
    cr_assert_eq(store_open(&s, path, &e), BS_OK, "%s", e.msg);
    cr_expect(store_has_column(s, "runs", "accuracy_pct"));
    store_run_info with = old, without = old;
    with.label = "with";
    with.has_accuracy = true;
    with.accuracy_pct = 91.25;
    without.label = "without";
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(store_run_begin(s, k ? &without : &with, &run, &e), BS_OK, "%s", e.msg);
        cr_assert_eq(store_run_commit(s, run, &tot, 0, &e), BS_OK, "%s", e.msg);
    }
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(store_handle(s), "SELECT label, accuracy_pct FROM runs ORDER BY id",
                                    -1, &st, NULL), SQLITE_OK);
    static const char *const labels[] = {"before", "with", "without"};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        cr_expect_str_eq((const char *)sqlite3_column_text(st, 0), labels[i]);
        if (i == 1)
            cr_expect_eq(sqlite3_column_double(st, 1), 91.25);
        else
            cr_expect_eq(sqlite3_column_type(st, 1), SQLITE_NULL, "%s", labels[i]);
    }
    sqlite3_finalize(st);
    store_close(s);
    fixture_cleanup(path);
}

/* Issue 13 D6 on a database made before the fix: its epoch_costs view summed MAdds with a
 * plain sum(), which fails past 2^63. A writer opening it brings the view up to date (the
 * schema's own definition), so a run of 2^62-MAdds rows (6 per epoch) reads as a real. */
Test(store, writer_updates_an_old_epoch_costs_view)
{
    char *path;
    store *s = open_new("old.db", &path);
    bs_error e;
    cr_assert_eq(sqlite3_exec(store_handle(s),
                              "DROP VIEW epoch_costs; CREATE VIEW epoch_costs AS"
                              " SELECT c.run_id, c.epoch, sum(c.madds) AS madds,"
                              " sum(sum(c.latency_s)) OVER w AS cum_latency_s"
                              " FROM cost_rows c GROUP BY c.run_id, c.epoch"
                              " WINDOW w AS (PARTITION BY c.run_id ORDER BY c.epoch)",
                              NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(store_handle(s)));
    fixture_run big = small;
    big.row_madds = 1ULL << 62;
    cr_assert_neq(fixture_add_run(s, &big, &e), 0, "%s", e.msg);
    store_close(s);
    cr_assert_eq(store_open(&s, path, &e), BS_OK, "%s", e.msg);
    store_close(s);
    sqlite3 *db;
    bool row;
    sqlite3_stmt *st = sql_first(path, "SELECT madds FROM epoch_costs WHERE epoch = 0", &db,
                                 &row);
    cr_expect(row, "epoch_costs: %s", sqlite3_errmsg(db));
    if (row)
        cr_expect_float_eq(sqlite3_column_double(st, 0), 6 * 0x1p62, 1e4);
    sql_done(db, st);
    fixture_cleanup(path);
}
