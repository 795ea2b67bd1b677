/* test_store_merge.c — merging databases: the union of shards equals the database that got
 * every run directly, a run present in two inputs is kept once, merging twice changes nothing,
 * a shard older than a column merges with the column NULL, and a file that is not a bitsim
 * database is refused. (The sweep's own shard -> merge path is tested end to end in
 * test_sweep.c.) What a merge wrote is checked over a connection of the test's own. */
#include <criterion/criterion.h>
#include <sqlite3.h>

#include "fixture_store.h"
#include "store_merge.h"

static const fixture_run runs[5] = {
    {"a", "fp32", "resnet20", "bitfusion", 3, 4, 1000, 1e-3, 5e6, 32, 32, NULL},
    {"b", "cpt", "resnet20", "bitfusion", 3, 4, 1000, 4e-4, 2e6, 3, 8, NULL},
    {"c", "sbm", "resnet20", "bitfusion-edge", 2, 4, 1000, 5e-4, 3e6, 8, 8, NULL},
    {"d", "fp32", "resnet20", "bitfusion-edge", 2, 4, 1000, 2e-3, 9e6, 32, 32, NULL},
    {"e", "cpt", "vgg16", "bitfusion", 1, 5, 7000, 3e-3, 1e7, 4, 8, "exact_density=1"},
};

static store *db_with(char **path, const char *name, const int *which, int n)
{
    *path = fixture_tmp_path(name);
    store *s;
    bs_error e;
    cr_assert_eq(store_open(&s, *path, &e), 0, "%s", e.msg);
    for (int k = 0; k < n; k++)
        cr_assert_gt(fixture_add_run(s, &runs[which[k]], &e), 0, "%s", e.msg);
    return s;
}

/* A fresh OUT database (its path in *out_path) with the shards at paths merged in, in order. */
static store *merged(char **out_path, const char *const *paths, int n, store_merge_stats *st)
{
    store *m = db_with(out_path, "m.db", NULL, 0);
    bs_error e;
    for (int k = 0; k < n; k++)
        cr_assert_eq(store_merge_into(m, paths[k], st, &e), 0, "%s: %s", paths[k], e.msg);
    return m;
}

/* Runs sql (changes to the fixture, or one query) on the database file at path. */
static void exec_on(const char *path, const char *sql)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* The first column of the first row of sql on the file at path, as an integer (read only). */
static int64_t count(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

Test(store_merge, union_of_overlapping_shards_equals_the_whole)
{
    char *all_p, *a_p, *b_p, *m_p;
    const int all_runs[] = {0, 1, 2, 3, 4}, a_runs[] = {0, 1, 2}, b_runs[] = {4, 2, 3};
    store *all = db_with(&all_p, "all.db", all_runs, 5);
    store *a = db_with(&a_p, "a.db", a_runs, 3);
    store *b = db_with(&b_p, "b.db", b_runs, 3);
    store_close(a);
    store_close(b);
    store_merge_stats st = {0};
    store *m = merged(&m_p, (const char *const[]){a_p, b_p}, 2, &st);
    bs_error e;
    /* a brings 3 runs; b brings e and d, and has c already */
    cr_expect_eq(st.runs_added, 5);
    cr_expect_eq(st.runs_present, 1);
    /* inputs: archs bitfusion, bitfusion-edge; models resnet20, vgg16; 5 traces */
    cr_expect_eq(st.inputs_added, 2 + 2 + 5);
    cr_expect_eq(count(m_p, "SELECT count(*) FROM runs"), 5);
    /* rows: 3*4*3 + 3*4*3 + 2*4*3 + 2*4*3 + 1*5*3 */
    cr_expect_eq(count(m_p, "SELECT count(*) FROM costs"), 36 + 36 + 24 + 24 + 15);
    cr_expect_eq(count(m_p, "SELECT count(*) FROM archs"), 2);
    uint64_t dm, da, nm, na;
    cr_assert_eq(store_merge_digest(m, &dm, &nm, &e), 0, "%s", e.msg);
    cr_assert_eq(store_merge_digest(all, &da, &na, &e), 0, "%s", e.msg);
    cr_expect_eq(nm, 5);
    cr_expect_eq(na, 5);
    cr_expect_eq(dm, da, "merged database differs from the one written directly");

    /* merging again adds nothing */
    store_merge_stats again = {0};
    cr_assert_eq(store_merge_into(m, b_p, &again, &e), 0, "%s", e.msg);
    cr_expect_eq(again.runs_added, 0);
    cr_expect_eq(again.runs_present, 3);
    cr_expect_eq(again.inputs_added, 0);
    store_close(m);
    store_close(all);
    fixture_cleanup(all_p);
    fixture_cleanup(a_p);
    fixture_cleanup(b_p);
    fixture_cleanup(m_p);
}

Test(store_merge, digest_sees_a_changed_number)
{
    char *p1, *p2;
    const int one[] = {1};
    store *s1 = db_with(&p1, "1.db", one, 1);
    store *s2 = db_with(&p2, "2.db", one, 1);
    exec_on(p2, "UPDATE costs SET latency_s = latency_s * 1.000001"
                " WHERE epoch = 2 AND layer = 3 AND pass = 'FWD'");
    uint64_t d1, d2, n;
    bs_error e;
    cr_assert_eq(store_merge_digest(s1, &d1, &n, &e), 0);
    cr_assert_eq(store_merge_digest(s2, &d2, &n, &e), 0);
    cr_expect_neq(d1, d2);
    store_close(s1);
    store_close(s2);
    fixture_cleanup(p1);
    fixture_cleanup(p2);
}

/* runs.accuracy_pct came after schema version 1 shipped: a shard written before it (made
 * here by dropping the column and the views reading it) merges its run with the accuracy
 * NULL ("not stated", never 0 %), and a shard that has it keeps its value. */
Test(store_merge, a_shard_without_the_accuracy_column_merges_with_it_null)
{
    char *old_p, *new_p, *m_p;
    const int b[] = {1}, c[] = {2};
    store_close(db_with(&old_p, "old.db", b, 1));
    store_close(db_with(&new_p, "new.db", c, 1));
    exec_on(old_p, "DROP VIEW run_summary; DROP VIEW scheme_comparison;"
                   " ALTER TABLE runs DROP COLUMN accuracy_pct;");
    exec_on(new_p, "UPDATE runs SET accuracy_pct = 92.5");
    cr_assert_eq(count(old_p, "SELECT count(*) FROM pragma_table_info('runs')"
                              " WHERE name = 'accuracy_pct'"), 0);
    store_merge_stats st = {0};
    store *m = merged(&m_p, (const char *const[]){old_p, new_p}, 2, &st);
    cr_expect_eq(st.runs_added, 2);
    cr_expect_eq(count(m_p, "SELECT count(*) FROM runs WHERE label = 'b' AND accuracy_pct IS NULL"),
                 1);
    cr_expect_eq(count(m_p, "SELECT count(*) FROM runs WHERE label = 'c' AND accuracy_pct = 92.5"),
                 1);
    /* the old shard's rows came with it: 3 epochs x 4 layers x 3 passes */
    cr_expect_eq(count(m_p, "SELECT count(*) FROM costs c JOIN runs r ON r.id = c.run_id"
                            " WHERE r.label = 'b'"), 36);
    store_close(m);
    fixture_cleanup(old_p);
    fixture_cleanup(new_p);
    fixture_cleanup(m_p);
}

/* OUT must be a store opened for writing (a caller's mistake, so an internal error, not the
 * input's "attempt to write a readonly database"), and stays as it was. */
Test(store_merge, into_a_read_only_store_is_refused_and_writes_nothing)
{
    char *in_p, *out_p;
    const int a[] = {0};
    store_close(db_with(&in_p, "in.db", a, 1));
    store_close(db_with(&out_p, "out.db", NULL, 0));
    store *out;
    bs_error e;
    cr_assert_eq(store_open_readonly(&out, out_p, &e), 0, "%s", e.msg);
    store_merge_stats st = {0};
    cr_expect_eq(store_merge_into(out, in_p, &st, &e), BS_EINTERNAL);
    cr_expect(strstr(e.msg, "not open for writing"), "%s", e.msg);
    store_close(out);
    cr_expect_eq(count(out_p, "SELECT count(*) FROM inputs"), 0);
    cr_expect_eq(count(out_p, "SELECT count(*) FROM runs"), 0);
    fixture_cleanup(in_p);
    fixture_cleanup(out_p);
}

Test(store_merge, refuses_a_file_that_is_not_a_bitsim_database)
{
    char *m_p;
    store *m = db_with(&m_p, "m.db", NULL, 0);
    char *txt = fixture_tmp_path("notes.txt");
    FILE *f = fopen(txt, "w");
    cr_assert(f);
    fputs("not a database at all, just some notes of a user\n", f);
    fclose(f);
    store_merge_stats st = {0};
    bs_error e;
    cr_expect_eq(store_merge_into(m, txt, &st, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, txt) != NULL, "message should name the file: %s", e.msg);
    store_close(m);
    fixture_cleanup(m_p);
    fixture_cleanup(txt);
}

/* A schema-1 shard (tests/data/store_v1.db, FNV-1a content hashes) merged into a current
 * database is migrated first, so its inputs match by SHA-256: merging it twice adds its one
 * run and three inputs once. */
Test(store_merge, a_schema_1_input_is_migrated_before_merging)
{
    const char *home = getenv("BITSIM_HOME");
    char *in = fixture_tmp_path("v1.db"), cmd[1200];
    snprintf(cmd, sizeof cmd, "cp '%s/tests/data/store_v1.db' '%s'", home && *home ? home : ".",
             in);
    cr_assert_eq(system(cmd), 0);
    char *out;
    store *s = db_with(&out, "out.db", NULL, 0);
    bs_error e;
    for (int pass = 0; pass < 2; pass++) {
        store_merge_stats st = {0};
        cr_assert_eq(store_merge_into(s, in, &st, &e), 0, "%s", e.msg);
        cr_expect_eq(st.runs_added, pass == 0 ? 1u : 0u);
        cr_expect_eq(st.inputs_added, pass == 0 ? 3u : 0u);
    }
    cr_expect_eq(count(out, "SELECT count(*) FROM inputs"), 3);
    cr_expect_eq(count(out, "SELECT count(*) FROM inputs WHERE length(content_hash) = 64"), 3);
    cr_expect_eq(count(out, "SELECT count(*) FROM arch_area WHERE area_mm2 > 0"), 1,
                 "a merged arch gets its stored area");
    store_close(s);
    fixture_cleanup(out);
    fixture_cleanup(in);
}
