/* test_front.c — the Pareto front of a database: area comes from each run's stored arch, and
 * runs are only compared within one trace. Runs are written through store.h with made-up
 * totals, so the expected front is derived by hand. */
#include <criterion/criterion.h>
#include <sqlite3.h>

#include "fixture_store.h"
#include "area.h"
#include "front.h"
#include "plot.h"
#include "text.h"
#include "store_private.h"

/* arch/bitfusion.ini with its array resized: area grows with rows x cols. */
static char *arch_text(uint32_t rows, uint32_t cols, size_t *len)
{
    text_reader r;
    bs_error e;
    char path[256];
    snprintf(path, sizeof path, "%s/arch/bitfusion.ini", getenv("BITSIM_HOME") ? getenv("BITSIM_HOME") : ".");
    cr_assert_eq(text_open_file(&r, path, &e), 0, "%s", e.msg);
    char *out = malloc(r.len + 64);
    const char *rows_at = strstr(r.buf, "rows = 16\ncols = 32\n");
    cr_assert(rows_at, "bitfusion.ini changed its array lines");
    size_t head = (size_t)(rows_at - r.buf);
    memcpy(out, r.buf, head);
    int w = sprintf(out + head, "rows = %u\ncols = %u\n", rows, cols);
    size_t tail_at = head + strlen("rows = 16\ncols = 32\n");
    memcpy(out + head + w, r.buf + tail_at, r.len - tail_at);
    *len = head + (size_t)w + r.len - tail_at;
    text_close(&r);
    return out;
}

static void add_run(store *s, const char *trace, uint32_t rows, uint32_t cols, double lat,
                    double energy)
{
    bs_error e;
    size_t len;
    char *text = arch_text(rows, cols, &len);
    char name[64];
    snprintf(name, sizeof name, "bf%ux%u", rows, cols);
    int64_t a, m, t, run;
    cr_assert_eq(store_put_input(s, STORE_ARCH, name, text, len, &a, &e), 0, "%s", e.msg);
    cr_assert_eq(store_put_input(s, STORE_MODEL, "net", "net", 3, &m, &e), 0);
    cr_assert_eq(store_put_input(s, STORE_TRACE, trace, trace, strlen(trace), &t, &e), 0);
    store_run_info info = {.label = "sweep", .scheme = "static", .model_name = "net",
                           .arch_name = name, .trace_name = trace, .arch_id = a,
                           .model_id = m, .trace_id = t, .batch = 1, .iterations = 1,
                           .epochs = 1, .options = ""};
    /* a run of no rows: the front reads only a run's totals */
    replay_result r = {.totals = {.latency_s = lat, .energy_pj = energy, .adapt_speedup = NAN,
                                  .smaq_storage_benefit = NAN}};
    cr_assert_eq(store_record(s, &info, replay_result_walk, &r, 0, &run, &e), 0, "%s", e.msg);
    free(text);
}

/* A new database at *path (file name `file`) holding trace A's two smallest points. */
static store *db_with_small_points(char **path, const char *file)
{
    *path = fixture_tmp_path(file);
    store *s;
    bs_error e;
    cr_assert_eq(store_open(&s, *path, &e), 0, "%s", e.msg);
    add_run(s, "A", 4, 8, 4, 4);
    add_run(s, "A", 8, 8, 3, 5);
    return s;
}

/* Trace A: areas grow with the array: 4x8 < 8x8 < 16x16 < 16x32 (every buffer bank stays
 * inside the SRAM table).
 *   4x8   lat 4 energy 4   smallest area: on the front
 *   8x8   lat 3 energy 5   faster than 4x8: on the front
 *   16x16 lat 2 energy 5   faster than 8x8 at equal energy but larger: on the front
 *   16x32 lat 2 energy 6   dominated by 16x16 (same latency, less energy, less area)
 * Trace B holds one slow point on a large array: alone in its trace, it is on its front even
 * though trace A's points would dominate it. */
Test(front, per_trace_front_with_area_from_the_stored_arch)
{
    char *path;
    store *s = db_with_small_points(&path, "front.db");
    bs_error e;
    add_run(s, "A", 16, 16, 2, 5);
    add_run(s, "A", 16, 32, 2, 6);
    add_run(s, "B", 16, 32, 100, 100);
    front_set f;
    cr_assert_eq(front_load(s, NULL, &f, &e), 0, "%s", e.msg);
    cr_assert_eq(f.n, 5);
    cr_expect_eq(f.n_front, 4);
    for (size_t i = 0; i < f.n; i++) {
        bool dominated = strcmp(f.pts[i].arch_name, "bf16x32") == 0 &&
                         strcmp(f.pts[i].trace_name, "A") == 0;
        cr_expect_eq(f.pts[i].on_front, !dominated, "%s of %s", f.pts[i].arch_name,
                     f.pts[i].trace_name);
    }
    /* area grows with the fusion units */
    double a_small = 0, a_big = 0;
    for (size_t i = 0; i < f.n; i++) {
        if (!strcmp(f.pts[i].arch_name, "bf4x8"))
            a_small = f.pts[i].area_mm2;
        if (!strcmp(f.pts[i].arch_name, "bf16x32"))
            a_big = f.pts[i].area_mm2;
    }
    cr_expect_gt(a_big, a_small);
    front_free(&f);
    front_query q = {.trace = "B"};
    cr_assert_eq(front_load(s, &q, &f, &e), 0, "%s", e.msg);
    cr_expect_eq(f.n, 1);
    front_free(&f);
    store_close(s);
    fixture_cleanup(path);
}

static void count_file(const char *path, void *ctx)
{
    (void)path;
    (*(int *)ctx)++;
}

/* `bitsim plot pareto`: one PDF from the runs' fronts; runs without an area model (here an
 * arch stored as a bare name, not arch text) are left out, and a database of only those is a
 * one-line error, not an empty plot. */
Test(front, plot_pareto_draws_and_refuses_runs_without_area)
{
    if (system("gnuplot --version >/dev/null 2>&1") != 0)
        cr_skip("gnuplot is not installed");
    char *path = fixture_tmp_path("plot.db");
    store *s;
    bs_error e;
    cr_assert_eq(store_open(&s, path, &e), 0, "%s", e.msg);
    char out_dir[600];
    snprintf(out_dir, sizeof out_dir, "%s", path);
    *strrchr(out_dir, '/') = '\0';
    strcat(out_dir, "/out");
    plot_request r = {.out_dir = out_dir, .format = PLOT_PDF};
    const fixture_run bare = {"g", "fp32", "net", "gpu-ish", 1, 2, 10, 1, 1, 32, 32, NULL};
    cr_assert_gt(fixture_add_run(s, &bare, &e), 0, "%s", e.msg);
    int files = 0;
    cr_expect_eq(plot_make(s, plot_kind_parse("pareto"), &r, count_file, &files, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "no complete runs with an area model") != NULL, "%s", e.msg);
    add_run(s, "A", 4, 8, 4, 4);
    add_run(s, "A", 16, 32, 2, 6);
    cr_assert_eq(plot_make(s, plot_kind_parse("pareto"), &r, count_file, &files, &e), BS_OK, "%s",
                 e.msg);
    cr_expect_eq(files, 1);
    store_close(s);
    fixture_cleanup(path);
}

/* The front reads the area the store kept (arch_area, filled by the area model when the arch
 * was stored), it does not re-run the model: the stored row equals area_eval of the arch
 * text, and a stored value changed behind the front's back is what the front reports. A GPU
 * arch gets a NULL area with the model's reason, and its runs are counted out. */
Test(front, reads_the_stored_area)
{
    char *path;
    store *s = db_with_small_points(&path, "area.db");
    bs_error e;
    size_t len;
    char *text = arch_text(4, 8, &len);
    arch a;
    area_report ar;
    cr_assert_eq(arch_parse_buffer(&a, "bf4x8", text, len, &e), 0, "%s", e.msg);
    cr_assert_eq(area_eval(&a, &ar, &e), 0, "%s", e.msg);
    free(text);
    sqlite3 *db = store_handle(s);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT x.area_mm2, x.peak_w FROM arch_area x JOIN"
                                    " archs a ON a.id = x.arch_id WHERE a.name = 'bf4x8'", -1,
                                    &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_expect_float_eq(sqlite3_column_double(st, 0), ar.total_mm2, 1e-12);
    cr_expect_float_eq(sqlite3_column_double(st, 1), ar.peak_w, 1e-12);
    sqlite3_finalize(st);
    cr_assert_eq(sqlite3_exec(db, "UPDATE arch_area SET area_mm2 = 12345 WHERE arch_id ="
                              " (SELECT id FROM archs WHERE name = 'bf8x8')", NULL, NULL, NULL),
                 SQLITE_OK);
    /* a GPU roofline: no area model */
    char gpu_path[512];
    snprintf(gpu_path, sizeof gpu_path, "%s/arch/gpu-v100.ini",
             getenv("BITSIM_HOME") ? getenv("BITSIM_HOME") : ".");
    text_reader r;
    cr_assert_eq(text_open_file(&r, gpu_path, &e), 0, "%s", e.msg);
    int64_t g;
    cr_assert_eq(store_put_input(s, STORE_ARCH, "gpu-v100", r.buf, r.len, &g, &e), 0, "%s", e.msg);
    text_close(&r);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT area_mm2 IS NULL, why FROM arch_area WHERE"
                                    " arch_id = ?1", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, g);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_expect_eq(sqlite3_column_int(st, 0), 1);
    cr_expect(strstr((const char *)sqlite3_column_text(st, 1), "gpu") != NULL, "%s",
              sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    front_set f;
    cr_assert_eq(front_load(s, NULL, &f, &e), 0, "%s", e.msg);
    cr_assert_eq(f.n, 2);
    for (size_t i = 0; i < f.n; i++)
        if (!strcmp(f.pts[i].arch_name, "bf8x8"))
            cr_expect_eq(f.pts[i].area_mm2, 12345.0, "the stored value, not a re-derived one");
    front_free(&f);
    store_close(s);
    fixture_cleanup(path);
}

/* A schema-1 database (tests/data/store_v1.db, written before archs' areas were stored) read
 * as it is: the front says what is missing and how to get a current copy, exit 1, rather than
 * an SQL message. */
Test(front, a_schema_1_database_says_how_to_get_areas)
{
    char *path = fixture_data_copy("store_v1.db");
    cr_assert_not_null(path);
    store *s;
    bs_error e;
    cr_assert_eq(store_open_readonly(&s, path, &e), BS_OK, "%s", e.msg);
    front_set f;
    cr_expect_eq(front_load(s, NULL, &f, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "schema-1") && strstr(e.msg, "bitsim merge"), "%s", e.msg);
    store_close(s);
    fixture_cleanup(path);
}
