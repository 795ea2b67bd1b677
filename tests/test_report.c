/* test_report.c — compare and report over hand-made databases.
 *
 * Expected speedups, shares and sums are derived by hand from the per-row numbers the test
 * writes (see fixture_store.h): e.g. a baseline with 0.5 s per row against a run with 0.125 s
 * per row over the same rows is a 4x speedup.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>

#include "cli_capture.h"
#include "cmd.h"
#include "fixture_store.h"
#include "report.h"
#include "store.h"
#include "table.h"

/* 3 epochs x 2 layers x 3 passes = 18 rows per run. */
static fixture_run spec(const char *label, const char *scheme, const char *model,
                        const char *arch, double row_latency_s, double row_energy_pj)
{
    return (fixture_run){.label = label, .scheme = scheme, .model = model, .arch = arch,
                         .epochs = 3, .layers = 2, .row_madds = 1000,
                         .row_latency_s = row_latency_s, .row_energy_pj = row_energy_pj,
                         .bits_first = 8, .bits_last = 8};
}

static char *db_path;
static store *db_store;

static void add(fixture_run f)
{
    bs_error e;
    cr_assert_neq(fixture_add_run(db_store, &f, &e), 0, "%s", e.msg);
}

/* Opens the shared database for writing into db_store; db_close closes it and clears
 * db_store, so teardown_db closes nothing twice. */
static void db_open(void)
{
    bs_error e;
    cr_assert_eq(store_open(&db_store, db_path, &e), BS_OK, "%s", e.msg);
}

static void db_close(void)
{
    store_close(db_store);
    db_store = NULL;
}

/* Adds one more run to the shared database after setup. */
static void add_later(fixture_run f)
{
    db_open();
    add(f);
    db_close();
}

/* fp32 baseline 0.5 s and 2e6 pJ per row; cpt 4x faster, 5x less energy; sbm 2.5x, 2x;
 * a second model with its own baseline; a GPU arch with an fp32 run 0.25 s per row. */
static void setup_db(void)
{
    db_path = fixture_tmp_path("cmp.db");
    db_open();
    add(spec("fp32", "fp32", "resnet20", "bitfusion", 0.5, 2e6));
    add(spec("cpt", "cpt", "resnet20", "bitfusion", 0.125, 4e5));
    add(spec("sbm", "sbm", "resnet20", "bitfusion", 0.2, 1e6));
    add(spec("fp32", "fp32", "vgg16", "bitfusion", 2.0, 1e7));
    add(spec("muppet", "muppet", "vgg16", "bitfusion", 1.0, 4e6));
    add(spec("gpu", "fp32", "resnet20", "v100", 0.25, 8e6));
    db_close();
}

static void teardown_db(void)
{
    store_close(db_store);
    fixture_cleanup(db_path);
}

typedef struct collected {
    int n;
    report_compare_row rows[16];
    char labels[16][32], models[16][32], archs[16][32];
} collected;

static int collect(const report_compare_row *r, void *ctx)
{
    collected *c = ctx;
    cr_assert_lt(c->n, 16);
    c->rows[c->n] = *r;
    snprintf(c->labels[c->n], 32, "%s", r->label);
    snprintf(c->models[c->n], 32, "%s", r->model);
    snprintf(c->archs[c->n], 32, "%s", r->arch);
    c->n++;
    return 0;
}

static int compare(report_compare_query q, collected *c, bs_error *e)
{
    store *s;
    cr_assert_eq(store_open_readonly(&s, db_path, e), BS_OK, "%s", e->msg);
    memset(c, 0, sizeof *c);
    int rc = report_compare_each(s, &q, collect, c, e);
    store_close(s);
    return rc;
}

static const report_compare_row *find(const collected *c, const char *model, const char *label)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->models[i], model) == 0 && strcmp(c->labels[i], label) == 0)
            return &c->rows[i];
    return NULL;
}

TestSuite(report, .init = setup_db, .fini = teardown_db);

Test(report, compare_speedup_is_baseline_over_run)
{
    collected c;
    bs_error e;
    cr_assert_eq(compare((report_compare_query){.baseline = "fp32"}, &c, &e), BS_OK, "%s", e.msg);
    /* resnet20 on bitfusion: fp32, cpt, sbm; vgg16: fp32, muppet. The label fp32 exists, so
     * only runs labelled fp32 are baselines, and the v100 arch has none: the GPU run drops. */
    cr_expect_eq(c.n, 5);
    const report_compare_row *cpt = find(&c, "resnet20", "cpt");
    cr_assert_not_null(cpt);
    cr_expect_float_eq(cpt->speedup, 0.5 / 0.125, 1e-12);
    cr_expect_float_eq(cpt->energy_saving, 2e6 / 4e5, 1e-12);
    /* 18 rows x 0.125 s, 18 rows x 4e5 pJ */
    cr_expect_float_eq(cpt->latency_s, 2.25, 1e-12);
    cr_expect_float_eq(cpt->energy_j, 7.2e-6, 1e-18);
    cr_expect_float_eq(cpt->madds, 18000.0, 1e-9);
    /* GBitOPs = 18 x 1000 x 64 / 1e9 */
    cr_expect_float_eq(cpt->gbitops, 1.152e-3, 1e-15);
    /* 1 + 4 + 0 + 1 + 2 MiB of training memory; cpt_cost_ratio = 8/32 in the fixture */
    cr_expect_float_eq(cpt->mem_total_mib, 8.0, 1e-12);
    cr_expect_float_eq(cpt->cpt_cost_ratio, 0.25, 1e-12);
    cr_expect(isnan(cpt->adapt_speedup), "n/a metrics stay NaN");
    const report_compare_row *sbm = find(&c, "resnet20", "sbm");
    cr_assert_not_null(sbm);
    cr_expect_float_eq(sbm->speedup, 2.5, 1e-12);
    cr_expect_float_eq(sbm->energy_saving, 2.0, 1e-12);
    const report_compare_row *muppet = find(&c, "vgg16", "muppet");
    cr_assert_not_null(muppet, "each model is compared with its own baseline");
    cr_expect_float_eq(muppet->speedup, 2.0, 1e-12);
    cr_expect_float_eq(muppet->energy_saving, 2.5, 1e-12);
    cr_expect_float_eq(find(&c, "resnet20", "fp32")->speedup, 1.0, 1e-12);
    cr_expect_null(find(&c, "resnet20", "gpu"), "no fp32 baseline on the v100 arch");
}

Test(report, filters_and_explicit_baseline_arch)
{
    collected c;
    bs_error e;
    cr_assert_eq(compare((report_compare_query){.baseline = "fp32", .model = "vgg16"}, &c, &e),
                 BS_OK, "%s", e.msg);
    cr_expect_eq(c.n, 2);
    /* the GPU run as baseline for the accelerator runs: 0.25 s and 8e6 pJ per row */
    cr_assert_eq(compare((report_compare_query){.baseline = "gpu", .baseline_arch = "v100",
                                                .arch = "bitfusion"},
                         &c, &e),
                 BS_OK, "%s", e.msg);
    cr_expect_eq(c.n, 3, "only resnet20 has a GPU baseline");
    cr_expect_float_eq(find(&c, "resnet20", "cpt")->speedup, 0.25 / 0.125, 1e-12);
    cr_expect_float_eq(find(&c, "resnet20", "cpt")->energy_saving, 8e6 / 4e5, 1e-12);
    cr_expect_float_eq(find(&c, "resnet20", "fp32")->speedup, 0.5, 1e-12);
}

Test(report, baseline_by_scheme_and_latest_rerun)
{
    bs_error e;
    /* a re-run labelled fp32 of the same model: the latest run is the baseline */
    add_later(spec("fp32", "fp32", "resnet20", "bitfusion", 1.0, 2e6));
    collected c;
    cr_assert_eq(compare((report_compare_query){.baseline = "fp32", .model = "resnet20"}, &c, &e),
                 BS_OK, "%s", e.msg);
    cr_expect_float_eq(find(&c, "resnet20", "cpt")->speedup, 1.0 / 0.125, 1e-12);
    /* "adapt" is no run's label, only a scheme: the adapt-scheme run is then the baseline */
    add_later(spec("adapt-run", "adapt", "vgg16", "bitfusion", 0.5, 1e6));
    cr_assert_eq(compare((report_compare_query){.baseline = "adapt"}, &c, &e), BS_OK, "%s", e.msg);
    cr_expect_eq(c.n, 3, "vgg16's three runs against the adapt-scheme run");
    cr_expect_float_eq(find(&c, "vgg16", "muppet")->speedup, 0.5, 1e-12);
}

/* A label run again (a new trace, a newer bitsim) is compared once, as its latest run: the
 * rerun's 0.25 s per row against fp32's 0.5 s is 2x, and the older cpt run (4x) is not listed. */
Test(report, a_rerun_label_is_compared_once_as_its_latest_run)
{
    bs_error e;
    add_later(spec("cpt", "cpt", "resnet20", "bitfusion", 0.25, 4e5));
    collected c;
    cr_assert_eq(compare((report_compare_query){.baseline = "fp32", .model = "resnet20",
                                                .arch = "bitfusion"}, &c, &e),
                 BS_OK, "%s", e.msg);
    int cpt_rows = 0;
    for (int i = 0; i < c.n; i++)
        cpt_rows += strcmp(c.labels[i], "cpt") == 0;
    cr_expect_eq(cpt_rows, 1);
    cr_expect_float_eq(find(&c, "resnet20", "cpt")->speedup, 0.5 / 0.25, 1e-12);
}

Test(report, no_baseline_is_an_input_error_naming_it)
{
    collected c;
    bs_error e;
    cr_expect_eq(compare((report_compare_query){.baseline = "fp64"}, &c, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "fp64") != NULL, "%s", e.msg);
}

/* Prints t in format f into a string (caller frees) and frees t. */
static char *render(table *t, table_format f)
{
    char *buf;
    size_t n;
    FILE *out = open_memstream(&buf, &n);
    cr_assert(table_print(t, f, out));
    fclose(out);
    table_free(t);
    return buf;
}

/* Renders the compare table in format f into a string (caller frees). */
static char *render_compare(table_format f)
{
    store *s;
    bs_error e;
    cr_assert_eq(store_open_readonly(&s, db_path, &e), BS_OK, "%s", e.msg);
    table *t;
    cr_assert_eq(report_compare_table(s, &(report_compare_query){.baseline = "fp32"},
                                      &t, &e),
                 BS_OK, "%s", e.msg);
    store_close(s);
    return render(t, f);
}

static int count_char(const char *s, char c)
{
    int n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

Test(report, compare_csv_and_json_shape)
{
    char *csv = render_compare(TABLE_CSV);
    /* "run" first: the id `bitsim report --run` takes */
    static const char header[] = "run,model,arch,label,scheme,madds,gbitops,energy_j,latency_s,"
                                 "speedup,energy_saving,nonmac_time_pct,nonmac_energy_pct,cpt_cost_ratio,adapt_speedup,mem_mib,"
                                 "smaq_benefit\n";
    cr_expect(strncmp(csv, header, strlen(header)) == 0, "%s", csv);
    cr_expect_eq(count_char(csv, '\n'), 1 + 5, "header + 5 rows");
    /* the fixture stores fp32 first, then cpt: run 2; CSV is exact (18000 MAdds, 4x, 5x) */
    cr_expect(strstr(csv, "\n2,resnet20,bitfusion,cpt,cpt,18000,") != NULL, "%s", csv);
    cr_expect(strstr(csv, ",4,5,") != NULL, "cpt's speedup and saving: %s", csv);
    free(csv);
    char *json = render_compare(TABLE_JSON);
    cr_expect_eq(json[0], '[');
    cr_expect_eq(count_char(json, '{'), 5);
    cr_expect_eq(count_char(json, '}'), 5);
    cr_expect(strstr(json, "\"label\": \"cpt\"") != NULL, "%s", json);
    cr_expect(strstr(json, "\"speedup\": 4,") != NULL, "%s", json);
    free(json);
}

/* A complete run of n hand-written cost rows with the given totals. */
static int64_t add_hand_run(const char *label, const replay_row *rows, int n,
                            const replay_totals *tot)
{
    bs_error e;
    db_open();
    int64_t run;
    store_run_info info = {.label = label, .scheme = "sbm", .batch = 1, .iterations = 1,
                           .epochs = 1};
    cr_assert_eq(fixture_put_inputs(db_store, "bitfusion", "tiny", label, &info, &e), 0, "%s",
                 e.msg);
    replay_result r = {.rows = (replay_row *)rows, .n_rows = (size_t)n, .totals = *tot};
    cr_assert_eq(store_record(db_store, &info, replay_result_walk, &r, 0.1, &run, &e), 0, "%s",
                 e.msg);
    db_close();
    return run;
}

/* A run written by hand: layer 0 FWD 1 s and 100 pJ, layer 1 FWD 3 s and 300 pJ (all core),
 * layer 1 BWD_DATA 4 s and 600 pJ of which 150 DRAM. */
static int64_t add_uneven_run(void)
{
    replay_row rows[3] = {
        {.layer = 0, .layer_name = "c0", .pass = "FWD", .latency_s = 1, .total_cycles = 10,
         .energy_pj = {100}},
        {.layer = 1, .layer_name = "c1", .pass = "FWD", .latency_s = 3, .total_cycles = 30,
         .stall_cycles = 15, .energy_pj = {300}},
        {.layer = 1, .layer_name = "c1", .pass = "BWD_DATA", .latency_s = 4, .total_cycles = 40,
         .energy_pj = {[COST_E_CORE] = 450, [COST_E_DRAM] = 150}},
    };
    replay_totals tot = {.latency_s = 8, .energy_pj = 1000};
    return add_hand_run("uneven", rows, 3, &tot);
}

static char *render_breakdown(int64_t run, report_by by)
{
    store *s;
    bs_error e;
    cr_assert_eq(store_open_readonly(&s, db_path, &e), BS_OK, "%s", e.msg);
    table *t;
    cr_assert_eq(report_breakdown(s, run, by, &t, &e), BS_OK, "%s", e.msg);
    store_close(s);
    return render(t, TABLE_CSV);
}

Test(report, breakdown_shares_by_layer_and_pass)
{
    int64_t run = add_uneven_run();
    char *by_layer = render_breakdown(run, REPORT_BY_LAYER);
    /* layer 0: 1 of 8 s = 12.5 %, 100 of 1000 pJ = 10 %, all core;
     * layer 1: 7 s = 87.5 %, 900 pJ = 90 %; core 750/900 = 83.3 %, DRAM 150/900 = 16.7 %,
     * stall 15 of 70 cycles = 21.4 %; CSV is exact, so 100 x 15/70 prints all 17 digits of the
     * double nearest to 21.428571... */
    cr_expect(strstr(by_layer, "layer,name,madds,gbitops,cycles,latency_s,time_pct,stall_pct,"
                               "energy_j,energy_pct,core_pct,sram_pct,dram_pct,leak_pct\n") == by_layer,
              "%s", by_layer);
    cr_expect(strstr(by_layer, "\n0,c0,0,0,10,1,12.5,0,1e-10,10,100,0,0,0\n") != NULL,
              "%s", by_layer);
    cr_expect(strstr(by_layer, "\n1,c1,0,0,70,7,87.5,21.428571428571427,9e-10,90,83.33333333333333,0,"
                               "16.666666666666668,0\n") != NULL,
              "%s", by_layer);
    free(by_layer);
    char *by_pass = render_breakdown(run, REPORT_BY_PASS);
    /* FWD: 4 s = 50 %, 400 pJ = 40 %; BWD_DATA: 4 s = 50 %, 600 pJ = 60 % */
    cr_expect(strstr(by_pass, "\nFWD,0,0,40,4,50,37.5,4e-10,40,100,0,0,0\n") != NULL,
              "%s", by_pass);
    cr_expect(strstr(by_pass, "\nBWD_DATA,0,0,40,4,50,0,6e-10,60,75,0,25,0\n") != NULL,
              "%s", by_pass);
    free(by_pass);
}

static int find_run(int64_t run_id, const char *label, const char *model, const char *arch,
                    int64_t *id, bs_error *e)
{
    store *s;
    cr_assert_eq(store_open_readonly(&s, db_path, e), BS_OK, "%s", e->msg);
    report_run_query q = {.run_id = run_id, .label = label, .model = model, .arch = arch};
    err_clear(e);
    int rc = report_find_run(s, &q, id, e);
    store_close(s);
    return rc;
}

Test(report, find_run_by_label_and_errors)
{
    bs_error e;
    int64_t id;
    cr_expect_eq(find_run(0, "cpt", NULL, NULL, &id, &e), BS_OK, "%s", e.msg);
    cr_expect_eq(id, 2, "the second run written");
    cr_expect_eq(find_run(0, "nope", NULL, NULL, &id, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "'nope'") != NULL, "%s", e.msg);
    cr_expect_eq(find_run(99, NULL, NULL, NULL, &id, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "99") != NULL, "%s", e.msg);
}

/* The headline's metrics are a list joined by "; ", without the not-applicable ones: the
 * fixture's CPT ratio is bits 8 / 32 = 0.25, its memory (1 + 4 + 0 + 1 + 2) x 2^23 bits =
 * 8 MiB; AdaPT and SmaQ are NULL. */
Test(report, headline_lists_the_metrics_that_apply)
{
    store *s;
    bs_error e;
    cr_assert_eq(store_open_readonly(&s, db_path, &e), BS_OK, "%s", e.msg);
    char buf[2048];
    cr_assert_eq(report_run_headline(s, 1, buf, sizeof buf, &e), BS_OK, "%s", e.msg);
    store_close(s);
    const char *want = "  papers' metrics: CPT cost ratio 0.2500; training memory 8.0 MiB";
    const char *at = strstr(buf, want);
    cr_expect(at != NULL && at[strlen(want)] == '\0', "%s", buf);
}

/* "fp32" labels runs 1 (resnet20 on bitfusion) and 4 (vgg16 on bitfusion): a label alone
 * must not pick one of them silently. */
Test(report, label_on_several_models_or_archs_needs_a_filter)
{
    bs_error e;
    int64_t id = 0;
    cr_expect_eq(find_run(0, "fp32", NULL, NULL, &id, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "resnet20 on bitfusion") && strstr(e.msg, "vgg16 on bitfusion"),
              "the choices are listed: %s", e.msg);
    cr_expect(strchr(e.msg, '\n') == NULL, "one line: %s", e.msg);
    cr_expect_eq(find_run(0, "fp32", NULL, "bitfusion", &id, &e), BS_EINPUT, "still two models");
    cr_expect_eq(find_run(0, "fp32", "vgg16", NULL, &id, &e), BS_OK, "%s", e.msg);
    cr_expect_eq(id, 4);
    cr_expect_eq(find_run(0, "fp32", "resnet20", "bitfusion", &id, &e), BS_OK, "%s", e.msg);
    cr_expect_eq(id, 1);
    cr_expect_eq(find_run(0, "fp32", "resnet20", "v100", &id, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "'fp32'") && strstr(e.msg, "v100"), "%s", e.msg);
    /* the same label on a second arch (the demo's sbm on bitfusion and on a GPU) */
    add_later(spec("sbm", "sbm", "resnet20", "v100", 0.1, 4e6));     /* run 7 */
    cr_expect_eq(find_run(0, "sbm", NULL, NULL, &id, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "resnet20 on bitfusion") && strstr(e.msg, "resnet20 on v100"),
              "%s", e.msg);
    cr_expect_eq(find_run(0, "sbm", NULL, "bitfusion", &id, &e), BS_OK, "%s", e.msg);
    cr_expect_eq(id, 3);
    cr_expect_eq(find_run(0, "sbm", "resnet20", "v100", &id, &e), BS_OK, "%s", e.msg);
    cr_expect_eq(id, 7);
    /* a run id with a filter it does not meet is no match either */
    cr_expect_eq(find_run(7, NULL, NULL, "bitfusion", &id, &e), BS_EINPUT);

    static char out[1 << 16];
    char *ambiguous[] = {"report", "--db", db_path, "--label", "sbm", NULL};
    cr_expect_eq(run_cmd(cmd_report, ambiguous, out, sizeof out), BS_EINPUT);
    char *on_gpu[] = {"report", "--db", db_path, "--label", "sbm", "--arch", "v100",
                      "--format", "csv", "--by", "pass", NULL};
    cr_expect_eq(run_cmd(cmd_report, on_gpu, out, sizeof out), 0);
    char *by_model[] = {"report", "--db", db_path, "--label", "fp32", "--model", "vgg16", NULL};
    cr_expect_eq(run_cmd(cmd_report, by_model, out, sizeof out), 0);
    cr_expect(strstr(out, "vgg16") != NULL, "%s", out);
}

Test(report, cli_exit_codes_and_output)
{
    static char out[1 << 16];
    char *ok[] = {"compare", "--db", db_path, "--baseline", "fp32", "--format", "csv", NULL};
    cr_expect_eq(run_cmd(cmd_compare, ok, out, sizeof out), 0);
    cr_expect(strstr(out, "resnet20,bitfusion,sbm,sbm,") != NULL, "%s", out);
    char *no_baseline[] = {"compare", "--db", db_path, NULL};
    cr_expect_eq(run_cmd(cmd_compare, no_baseline, out, sizeof out), BS_EUSAGE);
    char *bad_format[] = {"compare", "--db", db_path, "--baseline", "fp32", "--format", "xml", NULL};
    cr_expect_eq(run_cmd(cmd_compare, bad_format, out, sizeof out), BS_EUSAGE);
    char *missing[] = {"compare", "--db", "/nonexistent/x.db", "--baseline", "fp32", NULL};
    cr_expect_eq(run_cmd(cmd_compare, missing, out, sizeof out), BS_EINPUT);
    char *help[] = {"compare", "--help", NULL};
    cr_expect_eq(run_cmd(cmd_compare, help, out, sizeof out), 0);
    cr_expect(strstr(out, "usage: bitsim compare") != NULL);

    char *report[] = {"report", "--db", db_path, "--label", "cpt", NULL};
    cr_expect_eq(run_cmd(cmd_report, report, out, sizeof out), 0);
    cr_expect(strstr(out, "by pass:") != NULL && strstr(out, "by layer:") != NULL, "%s", out);
    cr_expect(strstr(out, "BWD_WEIGHT") != NULL, "%s", out);
    /* the fixture's cpt_cost_ratio is bits_first / 32 = 8 / 32; AdaPT's metric is n/a */
    cr_expect(strstr(out, "CPT cost ratio 0.2500") != NULL, "%s", out);
    cr_expect(strstr(out, "AdaPT") == NULL, "n/a metrics are left out: %s", out);
    char *json[] = {"report", "--db", db_path, "--run", "2", "--by", "epoch", "--format", "json", NULL};
    cr_expect_eq(run_cmd(cmd_report, json, out, sizeof out), 0);
    cr_expect_eq(out[0], '[');
    cr_expect_eq(count_char(out, '{'), 3, "3 epochs: %s", out);
    char *both[] = {"report", "--db", db_path, "--run", "2", "--label", "cpt", NULL};
    cr_expect_eq(run_cmd(cmd_report, both, out, sizeof out), BS_EUSAGE);
    char *bad_by[] = {"report", "--db", db_path, "--run", "2", "--by", "tensor", NULL};
    cr_expect_eq(run_cmd(cmd_report, bad_by, out, sizeof out), BS_EUSAGE);
    char *unknown[] = {"report", "--db", db_path, "--label", "nope", NULL};
    cr_expect_eq(run_cmd(cmd_report, unknown, out, sizeof out), BS_EINPUT);
}

/* A query that fails in SQLite (here a cost_rows view that lost its columns, as a user's
 * hand edit could leave it) is one line naming the database and what was being done, and
 * exit 3; the queries that do not read that view still answer. */
Test(report, a_failing_query_names_the_database_and_what_it_was_for)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "DROP VIEW cost_rows; CREATE VIEW cost_rows AS"
                              " SELECT run_id FROM costs", NULL, NULL, NULL), SQLITE_OK, "%s",
                 sqlite3_errmsg(db));
    sqlite3_close(db);
    store *s;
    bs_error e;
    cr_assert_eq(store_open_readonly(&s, db_path, &e), BS_OK, "%s", e.msg);
    table *t = (table *)1;
    cr_expect_eq(report_breakdown(s, 1, REPORT_BY_PASS, &t, &e), BS_EINTERNAL);
    cr_expect_null(t);
    cr_expect(strstr(e.msg, db_path) && strstr(e.msg, "no such column: pass") &&
              strstr(e.msg, "building the breakdown") && !strchr(e.msg, '\n'), "%s", e.msg);
    store_close(s);
    collected c;
    cr_expect_eq(compare((report_compare_query){.baseline = "fp32"}, &c, &e), BS_EINTERNAL);
    cr_expect(strstr(e.msg, "comparing runs") != NULL, "%s", e.msg);
    cr_expect_eq(c.n, 0);
    int64_t id;
    cr_expect_eq(find_run(0, "cpt", NULL, NULL, &id, &e), BS_OK, "%s", e.msg);
    static char out[1 << 12];
    char *report[] = {"report", "--db", db_path, "--run", "2", "--by", "layer", NULL};
    cr_expect_eq(run_cmd(cmd_report, report, out, sizeof out), BS_EINTERNAL);
}

/* Issue 13 D6: MAdds sums past 2^63 (rows of 2^62 each, which `run` accepts) are reported as
 * the real number they are, not an "integer overflow" failure, and sums that fit stay exact
 * integers: 6 rows of 2^53 + 1 per epoch are 6 * 2^53 + 6, which a double cannot hold. */
static int64_t add_madds_run(const char *label, uint64_t row_madds)
{
    fixture_run f = spec(label, "static", "huge", "bitfusion", 0.5, 2e6);
    f.row_madds = row_madds;
    db_open();
    bs_error e;
    int64_t run = fixture_add_run(db_store, &f, &e);
    cr_assert_neq(run, 0, "%s", e.msg);
    db_close();
    return run;
}

Test(report, madds_sums_beyond_2_63_are_reals_and_smaller_ones_exact)
{
    int64_t big = add_madds_run("big", 1ULL << 62), exact = add_madds_run("exact", (1ULL << 53) + 1);
    /* by layer: 3 epochs x 3 passes = 9 rows of 2^62 = 41505174165846491136 */
    char *by_layer = render_breakdown(big, REPORT_BY_LAYER);
    cr_expect(strstr(by_layer, "\n0,conv0,4.15051741658464") != NULL, "%s", by_layer);
    free(by_layer);
    static char out[1 << 16];
    char *report[] = {"report", "--db", db_path, "--label", "big", NULL};
    cr_expect_eq(run_cmd(cmd_report, report, out, sizeof out), 0, "report of the big run failed");
    if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
        char dir[700];
        snprintf(dir, sizeof dir, "%s.plots", db_path);
        char *plot[] = {"plot", "cumulative", "--db", db_path, "-o", dir, NULL};
        cr_expect_eq(run_cmd(cmd_plot, plot, out, sizeof out), 0, "plot cumulative failed");
    }

    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT madds, cum_bitops FROM epoch_costs"
                                    " WHERE run_id = ?1 AND epoch = 2", -1, &st, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, big);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "epoch_costs: %s", sqlite3_errmsg(db));
    cr_expect_float_eq(sqlite3_column_double(st, 0), 6 * 0x1p62, 1e4, "%.17g",
                       sqlite3_column_double(st, 0));
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, exact);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "epoch_costs: %s", sqlite3_errmsg(db));
    cr_expect_eq(sqlite3_column_type(st, 0), SQLITE_INTEGER);
    cr_expect_eq(sqlite3_column_int64(st, 0), 6 * ((INT64_C(1) << 53) + 1));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* report --by kind (issue 12): rows with MAdds are MAC-layer work, UPDATE rows the optimizer,
 * the rest non-MAC layers. A run by hand: conv FWD 2 s / 200 pJ with 100 MAdds, its norm
 * FWD 1 s / 300 pJ, the conv's UPDATE 1 s / 100 pJ: MAC 50 % of the time and 33.3 % of the
 * energy, non-MAC 25 % and 50 %, update 25 % and 16.7 %. */
Test(report, breakdown_by_kind)
{
    replay_row rows[3] = {
        {.layer = 0, .layer_name = "conv", .pass = "FWD", .madds = 100, .iterations = 1,
         .latency_s = 2, .total_cycles = 20, .energy_pj = {200}},
        {.layer = 1, .layer_name = "bn", .pass = "FWD", .iterations = 1, .elem_ops = 10,
         .latency_s = 1, .total_cycles = 10, .energy_pj = {[COST_E_DRAM] = 300}},
        {.layer = 0, .layer_name = "conv", .pass = "UPDATE", .iterations = 1, .elem_ops = 5,
         .latency_s = 1, .total_cycles = 10, .energy_pj = {100}},
    };
    replay_totals tot = {.latency_s = 4, .energy_pj = 600};
    int64_t run = add_hand_run("kinds", rows, 3, &tot);
    char *t = render_breakdown(run, REPORT_BY_KIND);
    cr_expect(strstr(t, "\nmac,100,0,20,2,50,0,2e-10,33.333333333333336,") != NULL, "%s", t);
    cr_expect(strstr(t, "\nnon-mac,0,0,10,1,25,0,3e-10,50,0,0,100,0\n") != NULL,
              "%s", t);
    cr_expect(strstr(t, "\nupdate,0,0,10,1,25,0,1e-10,16.666666666666668,") != NULL, "%s", t);
    free(t);
}
