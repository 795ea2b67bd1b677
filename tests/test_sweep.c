/* test_sweep.c — space files: sampling by hand-counted examples, sharding arithmetic, and a
 * file:line:field error for every kind of bad space file.
 *
 * The end-to-end tests (sweep_e2e) run small sweeps into temporary databases: shards merged
 * equal the unsharded sweep, clock groups agree with full replays, and a sweep point is the
 * same run as `bitsim run` of the same inputs.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "fixture_store.h"
#include "store_merge.h"
#include "sweep.h"
#include "sweep_run.h"

static int parse(sweep_space *s, const char *text, bs_error *e)
{
    err_clear(e);
    return sweep_space_parse(s, "space.ini", text, strlen(text), e);
}

static void value(const sweep_space *s, uint64_t i, uint32_t j, char *buf)
{
    sweep_point_value(s, i, j, buf, 64);
}

Test(sweep, grid_is_nested_loops_in_file_order)
{
    sweep_space s;
    bs_error e;
    cr_assert_eq(parse(&s, "[sweep]\narch = bitfusion\n[params]\n"
                           "array.rows = 8, 16\narray.cols = 10:30:10\n", &e), 0, "%s", e.msg);
    cr_assert_eq(sweep_space_sample(&s, false, 0, &e), 0);
    cr_assert_eq(s.n_points, 6);
    const char *want[6][2] = {{"8", "10"}, {"8", "20"}, {"8", "30"},
                              {"16", "10"}, {"16", "20"}, {"16", "30"}};
    char buf[64];
    for (uint64_t i = 0; i < 6; i++)
        for (uint32_t j = 0; j < 2; j++) {
            value(&s, i, j, buf);
            cr_expect_str_eq(buf, want[i][j], "point %llu param %u", (unsigned long long)i, j);
        }
    sweep_space_free(&s);
}

Test(sweep, ranges_linear_log2_and_fractional)
{
    sweep_space s;
    bs_error e;
    cr_assert_eq(parse(&s, "[sweep]\narch = a\n[params]\nb.w = 16:256:log2\nb.x = 0.1:0.5:0.1\n"
                           "b.y = 3:10:3\nb.z = choice none, skip_act\n", &e), 0, "%s", e.msg);
    /* 16 32 64 128 256 | 0.1 .. 0.5 (0.3 despite 0.1+2*0.1 != 0.3) | 3 6 9 (10 not hit) */
    cr_assert_eq(s.params[0].n_values, 5);
    cr_expect_str_eq(s.params[0].values[4], "256");
    cr_assert_eq(s.params[1].n_values, 5);
    cr_expect_str_eq(s.params[1].values[2], "0.3");
    cr_expect_str_eq(s.params[1].values[4], "0.5");
    cr_assert_eq(s.params[2].n_values, 3);
    cr_expect_str_eq(s.params[2].values[2], "9");
    cr_expect_str_eq(s.params[3].values[1], "skip_act");
    cr_expect_eq(s.n_points, 5 * 5 * 3 * 2);
    sweep_space_free(&s);
}

static const char lhs_text[] =
    "[sweep]\narch = bitfusion\nsampling = lhs\npoints = 10\nseed = 7\n[params]\n"
    "clock.freq_mhz = uniform 0 10\narray.rows = 1, 2, 3, 4, 5\nbuf.kib = loguniform 1 1024\n";

/* Latin hypercube, by its definition: each of the N equal-probability strata of every
 * parameter holds exactly one point. uniform 0 10 with N = 10: one value in each [k, k+1);
 * a 5-item list: each item exactly twice; log-uniform 1..1024: one in each [2^k, 2^(k+1)). */
Test(sweep, latin_hypercube_fills_every_stratum_once)
{
    sweep_space s;
    bs_error e;
    cr_assert_eq(parse(&s, lhs_text, &e), 0, "%s", e.msg);
    cr_assert_eq(sweep_space_sample(&s, false, 0, &e), 0);
    int uni[10] = {0}, items[5] = {0}, logs[10] = {0};
    char buf[64];
    for (uint64_t i = 0; i < 10; i++) {
        value(&s, i, 0, buf);
        double v = atof(buf);
        cr_assert(v >= 0 && v < 10);
        uni[(int)v]++;
        value(&s, i, 1, buf);
        items[atoi(buf) - 1]++;
        value(&s, i, 2, buf);
        v = atof(buf);
        cr_assert(v >= 1 && v <= 1024);
        logs[(int)floor(log2(v))]++;
    }
    for (int k = 0; k < 10; k++) {
        cr_expect_eq(uni[k], 1, "uniform stratum %d", k);
        cr_expect_eq(logs[k], 1, "log stratum %d", k);
    }
    for (int k = 0; k < 5; k++)
        cr_expect_eq(items[k], 2, "list item %d", k);
    sweep_space_free(&s);
}

static void all_values(const char *text, bool seed_set, uint64_t seed, char out[][64], int n)
{
    sweep_space s;
    bs_error e;
    cr_assert_eq(parse(&s, text, &e), 0, "%s", e.msg);
    cr_assert_eq(sweep_space_sample(&s, seed_set, seed, &e), 0);
    for (int k = 0; k < n; k++)
        value(&s, (uint64_t)k / s.n_params, (uint32_t)(k % s.n_params), out[k]);
    sweep_space_free(&s);
}

Test(sweep, sampling_is_reproducible_and_seeded)
{
    static char a[30][64], b[30][64], c[30][64];
    all_values(lhs_text, false, 0, a, 30);
    all_values(lhs_text, false, 0, b, 30);
    all_values(lhs_text, true, 8, c, 30);
    int differ = 0;
    for (int k = 0; k < 30; k++) {
        cr_expect_str_eq(a[k], b[k]);
        differ += strcmp(a[k], c[k]) != 0;
    }
    cr_expect_gt(differ, 0, "another seed must give other points");
}

Test(sweep, random_sampling_stays_in_range_and_rounds_int)
{
    sweep_space s;
    bs_error e;
    cr_assert_eq(parse(&s, "[sweep]\narch = a\nsampling = random\npoints = 500\n[params]\n"
                           "x.n = uniform 2.5 7.5 int\nx.l = 4, 8\n", &e), 0, "%s", e.msg);
    cr_assert_eq(sweep_space_sample(&s, false, 0, &e), 0);
    int seen[9] = {0};
    char buf[64];
    for (uint64_t i = 0; i < 500; i++) {
        value(&s, i, 0, buf);
        int v = atoi(buf);
        char back[16];
        snprintf(back, sizeof back, "%d", v);
        cr_assert_str_eq(buf, back, "an int parameter must print as an integer");
        cr_assert(v >= 3 && v <= 7, "%d outside [3, 7]", v);
        seen[v]++;
    }
    for (int v = 3; v <= 7; v++)
        cr_expect_gt(seen[v], 0, "value %d never drawn in 500 points", v);
    sweep_space_free(&s);
}

Test(sweep, shards_partition_the_points)
{
    sweep_shard sh;
    cr_assert(sweep_shard_parse("2/3", &sh));
    cr_expect_eq(sh.index, 2);
    cr_expect_eq(sh.count, 3);
    cr_expect_not(sweep_shard_parse("3/3", &sh));
    cr_expect_not(sweep_shard_parse("1/0", &sh));
    cr_expect_not(sweep_shard_parse("-1/2", &sh));
    cr_expect_not(sweep_shard_parse("1/2x", &sh));
    cr_expect_not(sweep_shard_parse("12", &sh));
    /* 10 points over 3 shards: {0,3,6,9} {1,4,7} {2,5,8} */
    const uint64_t sizes[3] = {4, 3, 3};
    int owner_count[10] = {0};
    for (uint64_t i = 0; i < 3; i++) {
        sweep_shard s = {i, 3};
        cr_expect_eq(sweep_shard_size(s, 10), sizes[i]);
        for (uint64_t p = 0; p < 10; p++)
            owner_count[p] += sweep_shard_owns(s, p);
    }
    for (int p = 0; p < 10; p++)
        cr_expect_eq(owner_count[p], 1, "point %d", p);
    cr_expect_eq(sweep_shard_size((sweep_shard){5, 8}, 3), 0);
}

Test(sweep, budgets)
{
    sweep_space s;
    bs_error e;
    cr_assert_eq(parse(&s, "[sweep]\narch = a\n[params]\nx.y = 1\n[constraints]\n"
                           "area_mm2 <= 10\npower_w >= 0.5\n", &e), 0, "%s", e.msg);
    cr_expect(sweep_within_budget(&s, 10, 0.5));
    cr_expect_not(sweep_within_budget(&s, 10.01, 1));
    cr_expect_not(sweep_within_budget(&s, 1, 0.4));
    cr_expect_not(sweep_within_budget(&s, NAN, 1));
    sweep_space_free(&s);
}

/* Every bad file names file, line and field. */
static void expect_error(const char *body, const char *want_prefix, const char *want_text)
{
    sweep_space s;
    bs_error e;
    int rc = parse(&s, body, &e);
    cr_expect_eq(rc, BS_EINPUT, "accepted:\n%s", body);
    cr_expect(strncmp(e.msg, want_prefix, strlen(want_prefix)) == 0,
              "message '%s' should start '%s'", e.msg, want_prefix);
    cr_expect(strstr(e.msg, want_text) != NULL, "message '%s' should say '%s'", e.msg,
              want_text);
}

/* One bad space file: its text, how the message starts (file:line: field:), what it says. */
typedef struct bad_space {
    const char *text, *want_prefix, *want_text;
} bad_space;

static void expect_errors(const bad_space *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_error(cases[i].text, cases[i].want_prefix, cases[i].want_text);
}

#define HEAD "[sweep]\narch = bitfusion\n[params]\n"   /* three lines */

Test(sweep_errors, empty_ranges)
{
    static const bad_space cases[] = {
        {HEAD "array.rows = 32:8:8\n", "space.ini:4: array.rows:", "empty range"},
        {HEAD "array.rows = 8:32:0\n", "space.ini:4: array.rows:", "empty range"},
        {HEAD "a.b = 1\narray.rows = 0:32:log2\n", "space.ini:5: array.rows:", "empty range"},
        {HEAD "array.rows = 8:32\n", "space.ini:4: array.rows:", "start:stop:step"},
        {HEAD "array.rows = 1, , 2\n", "space.ini:4: array.rows:", "empty list item"},
        {HEAD "array.rows =\n", "space.ini:4: array.rows:", "no values"},
    };
    expect_errors(cases, sizeof cases / sizeof cases[0]);
}

Test(sweep_errors, unknown_keys_and_sections)
{
    static const bad_space cases[] = {
        {"[sweep]\narch = a\nsamples = 3\n[params]\na.b = 1\n",
         "space.ini:3: samples:", "unknown key"},
        {"[sweep]\narch = a\n[param]\na.b = 1\n", "space.ini:3: param:", "unknown section"},
        {HEAD "rows = 1\n", "space.ini:4: rows:", "SECTION.KEY"},
        {HEAD "a.b = 1\n[constraints]\nlatency <= 3\n", "space.ini:6: latency:", "unknown metric"},
        {"arch = a\n", "space.ini:1:", "outside a [section]"},
    };
    expect_errors(cases, sizeof cases / sizeof cases[0]);
}

/* The arch refuses a key: the check callback's reason, at the space file's line. */
static bool only_rows(const char *key, const char *value, void *ctx, char *why, size_t n)
{
    (void)value;
    (void)ctx;
    if (strcmp(key, "array.rows") == 0)
        return true;
    snprintf(why, n, "unknown arch key");
    return false;
}

Test(sweep_errors, unknown_arch_key_via_check)
{
    sweep_space s;
    bs_error e;
    cr_assert_eq(parse(&s, HEAD "array.rows = 8\narray.colums = 8\n", &e), 0);
    cr_expect_eq(sweep_space_check_keys(&s, only_rows, NULL, &e), BS_EINPUT);
    cr_expect_str_eq(e.msg, "space.ini:5: array.colums: unknown arch key");
    sweep_space_free(&s);
}

Test(sweep_errors, duplicate_keys)
{
    static const bad_space cases[] = {
        {HEAD "array.rows = 8\narray.cols = 8\narray.rows = 16\n",
         "space.ini:6: array.rows:", "duplicate key (first at line 4)"},
        {"[sweep]\narch = a\narch = b\n", "space.ini:3: arch:", "duplicate"},
        {HEAD "a.b = 1\n[constraints]\narea_mm2 <= 3\narea_mm2 <= 4\n",
         "space.ini:7: area_mm2:", "duplicate upper bound (first at line 6)"},
    };
    expect_errors(cases, sizeof cases / sizeof cases[0]);
}

Test(sweep_errors, contradictory_constraints)
{
    static const bad_space cases[] = {
        {HEAD "a.b = 1\n[constraints]\narea_mm2 >= 10\npower_w <= 1\narea_mm2 <= 5\n",
         "space.ini:8: area_mm2:", "contradictory constraints"},
        {HEAD "a.b = 1\n[constraints]\npower_w <= 0\n", "space.ini:6: power_w:", "contradictory"},
        {HEAD "a.b = 1\n[constraints]\npower_w <= -1\n", "space.ini:6: power_w:", "number >= 0"},
        {HEAD "a.b = 1\n[constraints]\npower_w < 1\n", "space.ini:6:", "METRIC <= X"},
    };
    expect_errors(cases, sizeof cases / sizeof cases[0]);
}

Test(sweep_errors, bad_distributions)
{
#define RND "[sweep]\narch = a\nsampling = random\npoints = 5\n[params]\n"  /* five lines */
    static const bad_space cases[] = {
        {RND "x.y = gaussian 1 2\n", "space.ini:6: x.y:", "unknown distribution 'gaussian'"},
        {RND "x.y = uniform 5 1\n", "space.ini:6: x.y:", "hi 1 < lo 5"},
        {RND "x.y = loguniform 0 10\n", "space.ini:6: x.y:", "lo > 0"},
        {RND "x.y = uniform a 2\n", "space.ini:6: x.y:", "must be numbers"},
        {RND "x.y = uniform 1 2 3\n", "space.ini:6: x.y:", "lo hi [int]"},
        {RND "x.y = uniform 0.2 0.4 int\n", "space.ini:6: x.y:", "no integer"},
        {RND "x.y = uniform nan 2\n", "space.ini:6: x.y:", "must be numbers"},
        {HEAD "x.y = uniform 1 2\n", "space.ini:4: x.y:", "random or lhs"},
    };
    expect_errors(cases, sizeof cases / sizeof cases[0]);
}

Test(sweep_errors, sampling_settings)
{
    static const bad_space cases[] = {
        {"[sweep]\narch = a\nsampling = sobol\n", "space.ini:3: sampling:", "unknown sampling"},
        {"[sweep]\narch = a\nsampling = lhs\n[params]\na.b = 1\n",
         "space.ini:3: points:", "needs points"},
        {"[sweep]\narch = a\npoints = 4\n[params]\na.b = 1\n",
         "space.ini:3: points:", "random/lhs"},
        {"[sweep]\narch = a\nsampling = lhs\npoints = 0\n", "space.ini:4: points:", "integer in"},
        {"[params]\na.b = 1\n", "space.ini:2: arch:", "missing"},
        {"[sweep]\narch = a\n", "space.ini:2: params:", "no parameters"},
        {HEAD "a.a = 0:999:1\na.b = 0:999:1\na.c = 0:999:1\n", "space.ini:6: a.c:", "exceeds"},
    };
    expect_errors(cases, sizeof cases / sizeof cases[0]);
}

Test(sweep_errors, nul_byte_names_its_line)
{
    const char text[] = "[sweep]\narch = a\0b\n";
    sweep_space s;
    bs_error e;
    err_clear(&e);
    cr_expect_eq(sweep_space_parse(&s, "space.ini", text, sizeof text - 1, &e), BS_EINPUT);
    cr_expect(strncmp(e.msg, "space.ini:2:", 12) == 0, "%s", e.msg);
}

Test(sweep, arch_overlay_replaces_adds_and_creates)
{
    const char base[] = "# base\n[array]\nrows = 16   # lanes\ncols = 32\n\n[clock]\n"
                        "freq_mhz = 500\n";
    const char *keys[] = {"array.cols", "clock.freq_mhz", "array.pmax", "dram.pj_per_bit"};
    const char *vals[] = {"64", "250", "4", "15"};
    char *out;
    size_t n;
    bs_error e;
    cr_assert_eq(sweep_arch_overlay(base, sizeof base - 1, keys, vals, 4, &out, &n, &e), 0);
    cr_expect_str_eq(out, "# base\n[array]\nrows = 16   # lanes\ncols = 64\n\npmax = 4\n"
                          "[clock]\nfreq_mhz = 250\n[dram]\npj_per_bit = 15\n");
    cr_expect_eq(n, strlen(out));
    free(out);
}

Test(sweep, arch_overlay_removes_a_key_given_null)
{
    const char base[] = "[buffers]\nwbuf_bytes = 64\nwbuf_read_pj_per_bit = 0.02\n";
    const char *keys[] = {"buffers.wbuf_read_pj_per_bit", "energy.absent"};
    const char *vals[] = {NULL, NULL};
    char *out;
    size_t n;
    bs_error e;
    cr_assert_eq(sweep_arch_overlay(base, sizeof base - 1, keys, vals, 2, &out, &n, &e), 0);
    cr_expect_str_eq(out, "[buffers]\nwbuf_bytes = 64\n");
    free(out);
}

/* ---- end to end: sweep, shards, merge ------------------------------------------------- */

static const char tiny_trace[] =
    "bitsim-trace 1\nmodel resnet20\nbatch 128\niters_per_epoch 10\nepochs 2\nscheme static\n"
    "params W=int8\nprovenance test\nfrom 0 @mac W=int8 A=int8 G=int8 WG=int16\nend\n";

/* A 2 x 3 x 3 grid: 18 points, 6 per shard of 3; the clock varies fastest, so every clock
 * group (same array, three clocks) is split over the three shards. Leakage is set so that
 * the clock rescaling has leakage energy to rescale. */
static const char grid_space[] =
    "[sweep]\narch = bitfusion\n[params]\narray.rows = 8, 16\narray.cols = 8, 16, 32\n"
    "energy.leak_mw = 35\narch.freq_mhz = 250, 333.3, 1234.5\n";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* A fresh temporary directory (fixture_tmp_path's, without its file name); free with
 * remove_dir. */
static char *make_dir(void)
{
    char *dir = fixture_tmp_path("x");
    cr_assert(dir);
    *strrchr(dir, '/') = '\0';
    return dir;
}

static void remove_dir(char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/x", dir);
    fixture_cleanup(strdup(path));
    free(dir);
}

static void sweep_into_opt(const char *space_path, const char *trace_path, const char *db,
                           sweep_shard shard, unsigned jobs, bool no_sharing,
                           sweep_summary *sum)
{
    sweep_space s;
    bs_error e;
    err_clear(&e);
    cr_assert_eq(sweep_space_load(&s, space_path, &e), 0, "%s", e.msg);
    cr_assert_eq(sweep_space_sample(&s, false, 0, &e), 0, "%s", e.msg);
    const char *traces[] = {trace_path};
    sweep_options o = {.traces = traces, .n_traces = 1, .db_path = db, .jobs = jobs,
                       .shard = shard, .label = "sweep", .no_sharing = no_sharing};
    cr_assert_eq(sweep_run(&s, &o, sum, &e), 0, "%s", e.msg);
    sweep_space_free(&s);
}

static void sweep_into(const char *space_path, const char *trace_path, const char *db,
                       sweep_shard shard, unsigned jobs, sweep_summary *sum)
{
    sweep_into_opt(space_path, trace_path, db, shard, jobs, false, sum);
}

/* The files of one end-to-end test: a fresh directory holding tiny.trace and NAME.ini (the
 * space text, when given), and the path NAME.db. Close with workdir_close. */
typedef struct workdir {
    char *dir;
    char trace[512], space[512], db[512];
} workdir;

static void workdir_open(workdir *w, const char *name, const char *space_text)
{
    w->dir = make_dir();
    snprintf(w->trace, sizeof w->trace, "%s/tiny.trace", w->dir);
    snprintf(w->space, sizeof w->space, "%s/%s.ini", w->dir, name);
    snprintf(w->db, sizeof w->db, "%s/%s.db", w->dir, name);
    write_file(w->trace, tiny_trace);
    if (space_text)
        write_file(w->space, space_text);
}

/* Another file's path in the directory. */
static void workdir_path(const workdir *w, const char *file, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", w->dir, file);
}

static void workdir_close(workdir *w)
{
    remove_dir(w->dir);
}

static void digest_of(const char *db, uint64_t *d, uint64_t *n)
{
    store *s;
    bs_error e;
    cr_assert_eq(store_open_readonly(&s, db, &e), 0, "%s", e.msg);
    cr_assert_eq(store_merge_digest(s, d, n, &e), 0, "%s", e.msg);
    store_close(s);
}

Test(sweep_e2e, shards_merged_equal_the_unsharded_sweep)
{
    workdir w;
    workdir_open(&w, "whole", grid_space);
    char merged_p[512], shard_p[3][512];
    workdir_path(&w, "merged.db", merged_p, sizeof merged_p);

    sweep_summary sum;
    sweep_into(w.space, w.trace, w.db, (sweep_shard){0, 1}, 2, &sum);
    cr_expect_eq(sum.points, 18);
    cr_expect_eq(sum.runs_written, 18);
    cr_expect_eq(sum.derived, 18);
    cr_expect_not(sum.sharing_off);

    store *m;
    bs_error e;
    cr_assert_eq(store_open(&m, merged_p, &e), 0, "%s", e.msg);
    store_merge_stats st = {0};
    uint64_t shard_points = 0;
    for (uint64_t i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "shard%llu.db", (unsigned long long)i);
        workdir_path(&w, name, shard_p[i], sizeof shard_p[i]);
        sweep_into(w.space, w.trace, shard_p[i], (sweep_shard){i, 3}, 1, &sum);
        cr_expect_eq(sum.points, 6, "18 points over 3 shards");
        shard_points += sum.points;
        cr_assert_eq(store_merge_into(m, shard_p[i], &st, &e), 0, "%s", e.msg);
    }
    store_close(m);
    cr_expect_eq(shard_points, 18);
    cr_expect_eq(st.runs_added, 18);
    cr_expect_eq(st.runs_present, 0);

    uint64_t dw, nw, dm, nm;
    digest_of(w.db, &dw, &nw);
    digest_of(merged_p, &dm, &nm);
    cr_expect_eq(nw, 18);
    cr_expect_eq(nm, 18);
    cr_expect_eq(dm, dw, "shards merged differ from the unsharded sweep");

    /* rerunning a shard into its database finds every run present */
    sweep_into(w.space, w.trace, shard_p[1], (sweep_shard){1, 3}, 1, &sum);
    cr_expect_eq(sum.runs_written, 0);
    cr_expect_eq(sum.runs_present, 6);

    workdir_close(&w);
}

/* A space whose key the arch format does not know: the space file's line, before any run. */
Test(sweep_e2e, unknown_arch_key_names_the_space_line)
{
    workdir w;
    workdir_open(&w, "bad", "[sweep]\narch = bitfusion\n[params]\narray.rows = 8\n"
                            "array.colums = 8, 16\n");
    sweep_space s;
    bs_error e;
    err_clear(&e);
    cr_assert_eq(sweep_space_load(&s, w.space, &e), 0, "%s", e.msg);
    cr_assert_eq(sweep_space_sample(&s, false, 0, &e), 0);
    const char *traces[] = {w.trace};
    sweep_options o = {.traces = traces, .n_traces = 1, .db_path = w.db, .jobs = 1,
                       .shard = {0, 1}, .label = "sweep"};
    sweep_summary sum;
    cr_expect_eq(sweep_run(&s, &o, &sum, &e), BS_EINPUT);
    char want[600];
    snprintf(want, sizeof want, "%s:5: array.colums:", w.space);
    cr_expect(strncmp(e.msg, want, strlen(want)) == 0, "message: %s", e.msg);
    cr_expect(strstr(e.msg, "unknown key") != NULL, "message: %s", e.msg);
    sweep_space_free(&s);
    workdir_close(&w);
}

/* The shipped sample parses, every key and value in it is one the arch accepts, and a shard
 * of it runs (on a small trace). */
Test(sweep_e2e, shipped_sample_space_is_valid)
{
    sweep_space s;
    bs_error e;
    err_clear(&e);
    cr_assert_eq(sweep_space_load(&s, "sweeps/bitfusion-space.ini", &e), 0, "%s", e.msg);
    cr_expect_eq(s.sampling, SWEEP_LHS);
    cr_expect_eq(s.n_points, 200);
    sweep_space_free(&s);
    workdir w;
    workdir_open(&w, "sample", NULL);
    sweep_summary sum;
    sweep_into("sweeps/bitfusion-space.ini", w.trace, w.db, (sweep_shard){0, 20}, 2, &sum);
    cr_expect_eq(sum.points, 10);
    cr_expect_eq(sum.invalid, 0, "%s", sum.first_invalid);
    cr_expect_eq(sum.archs_run + sum.over_budget + sum.duplicates, 10);
    workdir_close(&w);
}

/* The clock rescaling against full replays: the same 18 points swept with sharing and with
 * --no-sharing agree in every stored latency and energy (total and per component, per row)
 * within 1e-9 relative, and the cycle counts exactly. */
Test(sweep_e2e, clock_groups_agree_with_full_replays)
{
    workdir w;
    workdir_open(&w, "shared", grid_space);
    char full_p[512];
    workdir_path(&w, "full.db", full_p, sizeof full_p);
    sweep_summary sum;
    sweep_into_opt(w.space, w.trace, w.db, (sweep_shard){0, 1}, 1, false, &sum);
    cr_expect_eq(sum.derived, 18);
    cr_expect_lt(sum.full_replays, 18, "6 clock groups: 6 references + up to 6 checks");
    sweep_into_opt(w.space, w.trace, full_p, (sweep_shard){0, 1}, 1, true, &sum);
    cr_expect_eq(sum.derived, 0);
    cr_expect_eq(sum.full_replays, 18);

    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(w.db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    char attach[600];
    snprintf(attach, sizeof attach, "ATTACH '%s' AS f", full_p);
    cr_assert_eq(sqlite3_exec(db, attach, NULL, NULL, NULL), SQLITE_OK);
    static const char sql[] =
        "WITH s AS (SELECT a.content_hash h, c.* FROM main.costs c JOIN main.runs r ON"
        "  r.id = c.run_id JOIN main.archs a ON a.id = r.arch_id),"
        " f AS (SELECT a.content_hash h, c.* FROM f.costs c JOIN f.runs r ON r.id = c.run_id"
        "  JOIN f.archs a ON a.id = r.arch_id)"
        " SELECT count(*), sum(s.total_cycles != f.total_cycles),"
        "  sum(abs(s.latency_s - f.latency_s) > 1e-9 * abs(f.latency_s)),"
        "  sum(abs(s.energy_leak_pj - f.energy_leak_pj) > 1e-9 * abs(f.energy_leak_pj)),"
        "  sum(abs(s.energy_core_pj - f.energy_core_pj) > 1e-9 * abs(f.energy_core_pj)),"
        "  sum(f.energy_leak_pj > 0)"
        " FROM s JOIN f ON s.h = f.h AND s.epoch = f.epoch AND s.layer = f.layer"
        "  AND s.pass = f.pass";
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t rows = sqlite3_column_int64(st, 0);
    cr_expect_gt(rows, 18 * 20, "every row of every run compared");
    cr_expect_eq(sqlite3_column_int64(st, 1), 0, "cycles differ");
    cr_expect_eq(sqlite3_column_int64(st, 2), 0, "latency differs");
    cr_expect_eq(sqlite3_column_int64(st, 3), 0, "leakage energy differs");
    cr_expect_eq(sqlite3_column_int64(st, 4), 0, "core energy differs");
    cr_expect_gt(sqlite3_column_int64(st, 5), 0, "leakage was exercised");
    sqlite3_finalize(st);
    sqlite3_close(db);
    workdir_close(&w);
}

/* A sweep point whose arch text is the base file itself and `bitsim run` of that arch are
 * one run: same inputs by content, same options. */
Test(sweep_e2e, a_point_and_bitsim_run_share_identity)
{
    workdir w;
    workdir_open(&w, "id", "[sweep]\narch = bitfusion\nenergy = base\n[params]\narray.rows = 16\n");
    sweep_summary sum;
    sweep_into(w.space, w.trace, w.db, (sweep_shard){0, 1}, 1, &sum);
    cr_expect_eq(sum.runs_written, 1);
    char *argv[] = {"run", "--trace", w.trace, "--arch", "bitfusion", "--db", w.db, "--quiet",
                    NULL};
    cr_expect_eq(cmd_run(8, argv), 0);
    store *s;
    bs_error e;
    cr_assert_eq(store_open_readonly(&s, w.db, &e), 0, "%s", e.msg);
    uint64_t d, n;
    cr_assert_eq(store_merge_digest(s, &d, &n, &e), 0);
    cr_expect_eq(n, 1, "bitsim run stored the sweep's run again");
    store_close(s);
    workdir_close(&w);
}

/* An arch the cost model cannot use for the workload (an output buffer smaller than one
 * tile) is a refused point, counted with its reason; the sweep goes on with the others. */
Test(sweep_e2e, points_the_cost_model_refuses_are_counted_not_fatal)
{
    workdir w;
    workdir_open(&w, "refuse", "[sweep]\narch = bitfusion\nenergy = base\n[params]\n"
                               "buffers.obuf_bytes = 16384, 8, 64\narea.wbuf_mm2 = 0.5\n"
                               "area.abuf_mm2 = 0.2\narea.obuf_mm2 = 0.2\n");
    sweep_summary sum;
    sweep_into(w.space, w.trace, w.db, (sweep_shard){0, 1}, 2, &sum);
    cr_expect_eq(sum.runs_written, 1);
    cr_expect_eq(sum.runs_refused, 2);
    cr_expect(strstr(sum.first_invalid, "obuf_bytes=8,") || strstr(sum.first_invalid,
              "obuf_bytes=64,"), "the message names a refused point: %s", sum.first_invalid);
    workdir_close(&w);
}
