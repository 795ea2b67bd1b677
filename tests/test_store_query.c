/* test_store_query.c — the readers' cursor: read-only, NULLs, failures reported at close.
 *
 * Expected values come from the fixture's per-row numbers worked out by hand
 * (fixture_store.h): 2 epochs x 3 layers x 3 passes = 18 rows of 7 MAdds each.
 */
#include <criterion/criterion.h>

#include "fixture_store.h"
#include "store_query.h"

static char db_path[64];
static store *s;

/* Every test reads one fresh fixture database. */
static void fixture_db(void)
{
    snprintf(db_path, sizeof db_path, "/tmp/bitsim_store_query_%d.db", (int)getpid());
    unlink(db_path);
    bs_error e;
    cr_assert_eq(store_open(&s, db_path, &e), 0, "%s", e.msg);
    fixture_run f = {.label = "a", .scheme = "fp32", .model = "m", .arch = "x", .epochs = 2,
                     .layers = 3, .row_madds = 7, .row_latency_s = 0.5, .row_energy_pj = 10,
                     .bits_first = 8, .bits_last = 8};
    cr_assert_neq(fixture_add_run(s, &f, &e), 0, "%s", e.msg);
}

static void drop_db(void)
{
    store_close(s);
    unlink(db_path);
}

TestSuite(store_query, .init = fixture_db, .fini = drop_db);

Test(store_query, reads_views_with_bound_parameters)
{
    store_query *q;
    bs_error e;
    cr_assert_eq(store_query_open(s, "SELECT count(*), sum(madds), ?1 FROM cost_rows"
                                     " WHERE pass = ?2", "counting", &q, &e), 0, "%s", e.msg);
    store_query_bind_int(q, 1, 41);
    store_query_bind_text(q, 2, "FWD");
    cr_assert(store_query_next(q));
    cr_expect_eq(store_query_columns(q), 3);
    cr_expect_eq(store_query_int(q, 0), 6);         /* 2 epochs x 3 layers of FWD */
    cr_expect_eq(store_query_int(q, 1), 42);        /* 6 rows x 7 MAdds */
    cr_expect_eq(store_query_int(q, 2), 41);
    cr_expect(store_query_is_int(q, 1));
    cr_expect(!store_query_next(q));
    /* a second walk with new bindings: NULL text binds SQL NULL */
    cr_assert_eq(store_query_reset(q, &e), 0, "%s", e.msg);
    store_query_bind_text(q, 2, NULL);
    cr_assert(store_query_next(q));
    cr_expect_eq(store_query_int(q, 0), 0);
    cr_expect(store_query_is_null(q, 1));
    cr_expect(isnan(store_query_double(q, 1)));     /* NULL is "not applicable": NaN */
    cr_expect_str_eq(store_query_text(q, 1), "");
    cr_expect_eq(store_query_close(q, &e), 0, "%s", e.msg);
}

/* A bound double compares as a real: every row's latency is 0.5 s (the fixture), so a bound
 * 0.5 keeps all 18 rows and 0.25 none; it comes back as the same double. */
Test(store_query, binds_a_double)
{
    store_query *q;
    bs_error e;
    cr_assert_eq(store_query_open(s, "SELECT count(*), ?1 FROM cost_rows WHERE latency_s = ?1",
                                  "counting", &q, &e), 0, "%s", e.msg);
    store_query_bind_double(q, 1, 0.5);
    cr_assert(store_query_next(q));
    cr_expect_eq(store_query_int(q, 0), 18);
    cr_expect_eq(store_query_double(q, 1), 0.5);
    cr_expect(!store_query_is_int(q, 1));
    cr_assert_eq(store_query_reset(q, &e), 0, "%s", e.msg);
    store_query_bind_double(q, 1, 0.25);
    cr_assert(store_query_next(q));
    cr_expect_eq(store_query_int(q, 0), 0);
    cr_expect_eq(store_query_close(q, &e), 0, "%s", e.msg);
}

Test(store_query, refuses_a_statement_that_writes_even_on_a_writer)
{
    store_query *q = (store_query *)1;
    bs_error e;
    cr_expect_eq(store_query_open(s, "DELETE FROM costs", "deleting", &q, &e), BS_EINTERNAL);
    cr_expect_null(q);
    cr_expect(strstr(e.msg, "would write") != NULL, "%s", e.msg);
    cr_expect_eq(store_query_open(s, "SELECT nonesuch FROM run_summary", "reading", &q, &e),
                 BS_EINTERNAL);
    cr_expect(strstr(e.msg, "no such column") && strstr(e.msg, "reading"), "%s", e.msg);
}

Test(store_query, a_failure_while_stepping_is_reported_at_close)
{
    store_query *q;
    bs_error e;
    /* a runtime error, not a prepare one: abs() of the smallest integer overflows */
    cr_assert_eq(store_query_open(s, "SELECT abs(-9223372036854775807 - ?1)", "overflowing",
                                  &q, &e), 0, "%s", e.msg);
    store_query_bind_int(q, 1, 1);
    cr_expect(!store_query_next(q));
    cr_expect(!store_query_next(q), "a failed walk stays failed");
    cr_expect_neq(store_query_close(q, &e), 0);
    cr_expect(strstr(e.msg, "integer overflow") && strstr(e.msg, "overflowing"), "%s", e.msg);
    cr_expect(store_has_column(s, "runs", "accuracy_pct"));
    cr_expect(!store_has_column(s, "runs", "nonesuch"));
}
