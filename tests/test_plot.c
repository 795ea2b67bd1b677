/* test_plot.c — bitsim plot on a hand-made database: every kind writes a real PDF/PNG, odd
 * labels cannot break out of gnuplot's strings, and failures are clear errors.
 * Skips cleanly when gnuplot is not installed.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "cli_capture.h"
#include "cmd.h"
#include "fixture_store.h"
#include "plot.h"
#include "store.h"
#include "store_private.h"

static bool have_gnuplot(void)
{
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

static char *db_path;
static char out_dir[600];

/* fp32, cpt and a label with quotes and spaces that must stay data, on one model and arch;
 * 4 epochs x 3 layers x 3 passes each (widths vary by layer, fixture_store.h); and a run of
 * one layer at 32 bits in every epoch (constant). */
static void setup(void)
{
    db_path = fixture_tmp_path("plot.db");
    snprintf(out_dir, sizeof out_dir, "%s.out", db_path);
    store *s;
    bs_error e;
    cr_assert_eq(store_open(&s, db_path, &e), BS_OK, "%s", e.msg);
    const fixture_run runs[] = {
        {"fp32", "fp32", "resnet20", "bitfusion", 4, 3, 1000, 0.5, 2e6, 32, 32, NULL},
        {"cpt", "cpt", "resnet20", "bitfusion", 4, 3, 1000, 0.1, 5e5, 3, 8, NULL},
        {"it's \"odd\"'; system('touch /tmp/bitsim-pwned'); '", "sbm", "resnet20", "bitfusion",
         4, 3, 1000, 0.2, 1e6, 8, 8, NULL},
        /* one layer at 32 bits throughout: a constant run, whose timeline is skipped */
        {"fp32-one-layer", "fp32", "resnet20", "bitfusion", 4, 1, 1000, 0.5, 2e6, 32, 32, NULL},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        cr_assert_neq(fixture_add_run(s, &runs[i], &e), 0, "%s", e.msg);
    /* the accuracies two of the runs' traces state (trace header `accuracy`) */
    cr_assert_eq(sqlite3_exec(store_handle(s), "UPDATE runs SET accuracy_pct = 92.5 WHERE label = 'fp32';"
                              " UPDATE runs SET accuracy_pct = 91.75 WHERE label = 'cpt'",
                              NULL, NULL, NULL), SQLITE_OK);
    store_close(s);
}

static void teardown(void)
{
    fixture_cleanup(db_path);
}

TestSuite(plot, .init = setup, .fini = teardown);

typedef struct written {
    int n;
    char paths[16][700];
} written;

static void remember(const char *path, void *ctx)
{
    written *w = ctx;
    if (w->n < 16)
        snprintf(w->paths[w->n++], sizeof w->paths[0], "%s", path);
}

/* True when the file starts with magic and has more than a header's worth of bytes. */
static bool file_is(const char *path, const char *magic, size_t magic_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char head[8] = {0};
    size_t n = fread(head, 1, sizeof head, f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    return n >= magic_len && memcmp(head, magic, magic_len) == 0 && size > 1000;
}

/* Kind name's index in plot.c's kinds table. */
static int kind_of(const char *name)
{
    int k = plot_kind_parse(name);
    cr_assert_geq(k, 0, "no plot kind %s", name);
    return k;
}

static int make(const char *kind, plot_format fmt, const plot_request *base, written *w,
                bs_error *e)
{
    store *s;
    cr_assert_eq(store_open_readonly(&s, db_path, e), BS_OK, "%s", e->msg);
    plot_request r = base ? *base : (plot_request){.baseline = "fp32"};
    r.out_dir = out_dir;
    r.format = fmt;
    memset(w, 0, sizeof *w);
    int rc = plot_make(s, kind_of(kind), &r, remember, w, e);
    store_close(s);
    return rc;
}

Test(plot, every_kind_writes_pdf_and_png)
{
    if (!have_gnuplot())
        cr_skip("gnuplot is not installed");
    unlink("/tmp/bitsim-pwned");
    static const struct {
        plot_format fmt;
        const char *magic;
        size_t len;
    } formats[] = {{PLOT_PDF, "%PDF", 4}, {PLOT_PNG, "\x89PNG", 4}};
    for (int f = 0; f < 2; f++)
        for (int k = 0; k < plot_kind_count(); k++) {
            const char *kind = plot_kind_name(k);
            if (strcmp(kind, "pareto") == 0)
                continue;   /* needs runs on parseable archs (area): tests/test_front.c */
            written w;
            bs_error e;
            cr_assert_eq(make(kind, formats[f].fmt, NULL, &w, &e), BS_OK, "%s: %s", kind, e.msg);
            /* timeline: one file per run whose widths vary (the three-layer runs; the
             * one-layer 32-bit run is constant and skipped), the others one file */
            cr_expect_eq(w.n, strcmp(kind, "timeline") == 0 ? 3 : 1, "%s", kind);
            for (int i = 0; i < w.n; i++)
                cr_expect(file_is(w.paths[i], formats[f].magic, formats[f].len),
                          "%s is not a non-empty %s", w.paths[i], formats[f].magic);
        }
    char expected[700];
    snprintf(expected, sizeof expected, "%s/speedup.pdf", out_dir);
    struct stat st;
    cr_expect(stat(expected, &st) == 0, "named after the kind in the output directory");
    snprintf(expected, sizeof expected, "%s/timeline-cpt.png", out_dir);
    cr_expect(stat(expected, &st) == 0, "timeline files are named after the run's label");
    cr_expect(stat("/tmp/bitsim-pwned", &st) != 0, "a label must never run as a command");
    /* every figure's data beside it, as CSV */
    static const char *const csvs[] = {"speedup", "energy", "cumulative", "schedule",
                                       "timeline-cpt", "timeline-fp32", "accuracy"};
    for (size_t i = 0; i < sizeof csvs / sizeof csvs[0]; i++) {
        snprintf(expected, sizeof expected, "%s/%s.csv", out_dir, csvs[i]);
        cr_expect(stat(expected, &st) == 0 && st.st_size > 20, "%s missing", expected);
    }
}

/* The speedup figure's CSV holds the hand-derivable ratios: the fixture's fp32 run takes 5x
 * cpt's latency (0.5 / 0.1 s per iteration) and 4x its energy (2e6 / 5e5 pJ); the baseline's
 * own 1x row is left out. Energy shares add up to 100 %. */
Test(plot, figure_data_csv_holds_the_plotted_values)
{
    if (!have_gnuplot())
        cr_skip("gnuplot is not installed");
    written w;
    bs_error e;
    plot_request r = {.baseline = "fp32", .size = PLOT_COLUMN, .energy_percent = true};
    cr_assert_eq(make("speedup", PLOT_PDF, &r, &w, &e), BS_OK, "%s", e.msg);
    cr_assert_eq(make("energy", PLOT_PDF, &r, &w, &e), BS_OK, "%s", e.msg);
    cr_expect(strstr(w.paths[0], "/energy-share.pdf") != NULL, "%s", w.paths[0]);
    char path[700], line[512];
    snprintf(path, sizeof path, "%s/speedup.csv", out_dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    bool cpt = false, fp32 = false;
    while (fgets(line, sizeof line, f)) {
        double sp, es;
        if (sscanf(line, "resnet20 on bitfusion,cpt,fp32,,%lf,%lf", &sp, &es) == 2) {
            cr_expect_float_eq(sp, 5.0, 1e-12, "%s", line);
            cr_expect_float_eq(es, 4.0, 1e-12, "%s", line);
            cpt = true;
        }
        fp32 |= strstr(line, ",fp32,fp32,") != NULL;
    }
    fclose(f);
    cr_expect(cpt && !fp32, "cpt's row present, the baseline's own row absent");
    /* accuracy: the two runs that state one, with their stored values */
    cr_assert_eq(make("accuracy", PLOT_PDF, &r, &w, &e), BS_OK, "%s", e.msg);
    snprintf(path, sizeof path, "%s/accuracy.csv", out_dir);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    int rows = 0;
    while (fgets(line, sizeof line, f))
        rows += strstr(line, ",92.5,") != NULL || strstr(line, ",91.75,") != NULL;
    fclose(f);
    cr_expect_eq(rows, 2);
}

/* A stand-in for gnuplot that keeps the data file it was given (datafile=...) in keep_dir and
 * writes a dummy output: the numbers bitsim hands the plot scripts can then be read. gnuplot's
 * -e assignments (name='value';n=3;) are also valid sh. */
static char fake_gnuplot[700], keep_dir[700];

static void make_fake_gnuplot(void)
{
    snprintf(keep_dir, sizeof keep_dir, "%s.keep", db_path);
    snprintf(fake_gnuplot, sizeof fake_gnuplot, "%s.gnuplot", db_path);
    cr_assert_eq(mkdir(keep_dir, 0700), 0);
    FILE *f = fopen(fake_gnuplot, "w");
    cr_assert_not_null(f);
    fprintf(f, "#!/bin/sh\n[ \"$1\" = -e ] || exit 2\neval \"$2\"\n"
               "for d in \"$datafile\" \"$speedup_file\" \"$saving_file\"; do\n"
               "  [ -z \"$d\" ] || cp \"$d\" '%s'/ || exit 3\ndone\n"
               "echo fake > \"$outfile\"\n", keep_dir);
    fclose(f);
    cr_assert_eq(chmod(fake_gnuplot, 0700), 0);
}

/* The numbers of the data row whose first field is "title": up to n of them. */
static int data_row(const char *file, const char *title, double *v, int n)
{
    char path[800], line[1024], want[300];
    snprintf(path, sizeof path, "%s/%s", keep_dir, file);
    snprintf(want, sizeof want, "\"%s\" ", title);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    int got = -1;
    while (got < 0 && fgets(line, sizeof line, f))
        if (strncmp(line, want, strlen(want)) == 0) {
            char *p = line + strlen(want), *end;
            for (got = 0; got < n; got++, p = end) {
                v[got] = strtod(p, &end);
                if (end == p)
                    break;
            }
        }
    fclose(f);
    return got;
}

/* What the plots are drawn from, against the fixture's numbers by hand: every run has 4 epochs
 * x 3 layers x 3 passes = 36 rows; fp32's rows cost 2e6 pJ and 0.5 s each, cpt's 5e5 pJ and
 * 0.1 s. Energy: fp32 36 x 2e6 pJ = 72 uJ (the largest run, so the unit is uJ), split by the
 * fixture's component shares 0.4 / 0.1 / 0.05 / 0.05 / 0.3 / 0.1; cpt 18 uJ. Speedup of cpt
 * over fp32: 18 s / 3.6 s = 5, energy saving 72 / 18 = 4. */
Test(plot, data_files_hold_the_fixture_numbers)
{
    make_fake_gnuplot();
    written w;
    bs_error e;
    plot_request r = {.baseline = "fp32", .gnuplot = fake_gnuplot};
    cr_assert_eq(make("energy", PLOT_PDF, &r, &w, &e), BS_OK, "%s", e.msg);
    static const double share[6] = {0.4, 0.1, 0.05, 0.05, 0.3, 0.1};
    double v[8];
    cr_assert_eq(data_row("energy.dat", "fp32", v, 8), 6);
    for (int c = 0; c < 6; c++)
        cr_expect_float_eq(v[c], 72 * share[c], 1e-9, "fp32 component %d", c);
    cr_assert_eq(data_row("energy.dat", "cpt", v, 8), 6);
    for (int c = 0; c < 6; c++)
        cr_expect_float_eq(v[c], 18 * share[c], 1e-9, "cpt component %d", c);
    /* speedup.dat / saving.dat: a header of labels, then per group one value per run; cpt
     * first, then the odd label (0.2 s and 1e6 pJ rows: 18 / 7.2 = 2.5, 72 / 36 = 2) */
    cr_assert_eq(make("speedup", PLOT_PDF, &r, &w, &e), BS_OK, "%s", e.msg);
    static const struct {
        const char *file, *row;
    } bars[] = {{"speedup.dat", "0 \"resnet20 on bitfusion\" 5 2.5 "},
                {"saving.dat", "0 \"resnet20 on bitfusion\" 4 2 "}};
    for (int b = 0; b < 2; b++) {
        char path[800], head[1024], row[1024];
        snprintf(path, sizeof path, "%s/%s", keep_dir, bars[b].file);
        FILE *f = fopen(path, "r");
        cr_assert_not_null(f, "%s", path);
        cr_assert_not_null(fgets(head, sizeof head, f));
        cr_assert_not_null(fgets(row, sizeof row, f));
        fclose(f);
        cr_expect(strncmp(head, "\"index\" \"group\" \"cpt\" ", 22) == 0, "%s", head);
        cr_expect(strncmp(row, bars[b].row, strlen(bars[b].row)) == 0, "%s: %s", bars[b].file,
                  row);
    }
}

Test(plot, errors_are_clear)
{
    if (!have_gnuplot())
        cr_skip("gnuplot is not installed");
    written w;
    bs_error e;
    plot_request r = {.baseline = "fp64"};
    cr_expect_eq(make("speedup", PLOT_PDF, &r, &w, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "fp64") != NULL, "%s", e.msg);
    r = (plot_request){.model = "vgg16"};
    cr_expect_eq(make("energy", PLOT_PDF, &r, &w, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "no complete runs") != NULL, "%s", e.msg);
    r = (plot_request){.baseline = "fp32", .gnuplot = "/nonexistent/gnuplot"};
    cr_expect_eq(make("speedup", PLOT_PDF, &r, &w, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "not found") != NULL, "%s", e.msg);
    cr_expect_eq(w.n, 0);
}

/* A run of one epoch (an LLM recipe's default) has one column of cells: gnuplot's image of it
 * is an empty frame, so the timeline is skipped with a note, as a constant run is, and with
 * nothing else to draw the kind fails with a reason; its schedule would be one point per line
 * (empty panels), refused likewise. */
Test(plot, one_epoch_runs_draw_no_timeline_or_schedule)
{
    if (!have_gnuplot())
        cr_skip("gnuplot is not installed");
    store *s;
    bs_error e;
    cr_assert_eq(store_open(&s, db_path, &e), BS_OK, "%s", e.msg);
    const fixture_run one = {"one-epoch", "cpt", "lenet5", "bitfusion", 1, 3, 1000, 0.1, 5e5,
                             3, 8, NULL};
    cr_assert_neq(fixture_add_run(s, &one, &e), 0, "%s", e.msg);
    store_close(s);
    written w;
    plot_request r = {.baseline = "fp32", .model = "lenet5"};
    cr_expect_eq(make("timeline", PLOT_PDF, &r, &w, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "1 of one epoch") != NULL, "%s", e.msg);
    cr_expect_eq(w.n, 0, "no figure for a one-epoch run: %s", w.n ? w.paths[0] : "");
    cr_expect_eq(make("schedule", PLOT_PDF, &r, &w, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "one epoch") != NULL, "%s", e.msg);
    cr_expect_eq(w.n, 0, "no schedule of one-epoch runs: %s", w.n ? w.paths[0] : "");
}

/* The accuracy panels' units come from the runs that state an accuracy: a 3 ms LeNet run in a
 * database whose other run (no accuracy) takes an hour is drawn in ms, not at 8e-7 h. The
 * axis labels are read from the arguments gnuplot is started with (a wrapper records them). */
Test(plot, accuracy_units_follow_the_points_drawn)
{
    if (!have_gnuplot())
        cr_skip("gnuplot is not installed");
    char *db = fixture_tmp_path("acc.db");
    store *s;
    bs_error e;
    cr_assert_eq(store_open(&s, db, &e), BS_OK, "%s", e.msg);
    const fixture_run runs[] = {
        /* 4 x 3 x 3 rows of 100 s: 3600 s; of 1e-3 s: 1 x 1 x 3 rows, 3 ms */
        {"big", "fp32", "resnet20", "bitfusion", 4, 3, 1000, 100, 2e6, 32, 32, NULL},
        {"small", "cpt", "lenet5", "bitfusion", 1, 1, 1000, 1e-3, 5e5, 3, 8, NULL},
    };
    for (size_t i = 0; i < 2; i++)
        cr_assert_neq(fixture_add_run(s, &runs[i], &e), 0, "%s", e.msg);
    cr_assert_eq(sqlite3_exec(store_handle(s), "UPDATE runs SET accuracy_pct = 98 WHERE label ="
                              " 'small'", NULL, NULL, NULL), SQLITE_OK);
    store_close(s);
    char wrapper[700], args[700], text[4096] = "";
    snprintf(wrapper, sizeof wrapper, "%s.gp.sh", db);
    snprintf(args, sizeof args, "%s.args", db);
    FILE *w = fopen(wrapper, "w");
    cr_assert_not_null(w);
    fprintf(w, "#!/bin/sh\nprintf '%%s' \"$2\" > '%s'\nexec gnuplot \"$@\"\n", args);
    fclose(w);
    chmod(wrapper, 0700);
    cr_assert_eq(store_open_readonly(&s, db, &e), BS_OK, "%s", e.msg);
    char out[700];
    snprintf(out, sizeof out, "%s.out", db);
    plot_request r = {.out_dir = out, .format = PLOT_PDF, .gnuplot = wrapper};
    cr_expect_eq(plot_make(s, kind_of("accuracy"), &r, NULL, NULL, &e), BS_OK, "%s", e.msg);
    store_close(s);
    FILE *a = fopen(args, "r");
    cr_assert_not_null(a, "the wrapper did not run");
    size_t n = fread(text, 1, sizeof text - 1, a);
    text[n] = '\0';
    fclose(a);
    /* gnuplot -e strings carry parentheses as octal escapes */
    cr_expect(strstr(text, "xlabel_t=\"Training latency \\050ms\\051\"") != NULL, "%s", text);
    fixture_cleanup(db);
}

Test(plot, names_parse)
{
    /* the kinds the README documents, each found by its name and described */
    static const char *const shipped[] = {"speedup", "energy", "cumulative", "schedule",
                                          "timeline", "accuracy", "pareto"};
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
        int k = plot_kind_parse(shipped[i]);
        cr_expect_str_eq(plot_kind_name(k), shipped[i]);
        cr_expect_gt(strlen(plot_kind_summary(k)), 20, "%s", shipped[i]);
    }
    /* every row of the kinds table has its script, plots/KIND.gp */
    const char *home = getenv("BITSIM_HOME");
    for (int k = 0; k < plot_kind_count(); k++) {
        char script[600];
        snprintf(script, sizeof script, "%s/plots/%s.gp", home && *home ? home : ".",
                 plot_kind_name(k));
        cr_expect_eq(access(script, R_OK), 0, "kind %s has no script %s", plot_kind_name(k),
                     script);
    }
    cr_expect_eq(plot_kind_parse("pie"), -1);
    cr_expect_str_eq(plot_kind_name(-1), "?");
    cr_expect_str_eq(plot_kind_name(plot_kind_count()), "?");
}

Test(plot, cli_kinds_and_all_skips_what_has_nothing_to_show)
{
    if (!have_gnuplot())
        cr_skip("gnuplot is not installed");
    static char out[1 << 14];
    char *bad_kind[] = {"plot", "pie", "--db", db_path, "-o", out_dir, NULL};
    cr_expect_eq(run_cmd(cmd_plot, bad_kind, out, sizeof out), BS_EUSAGE);
    char *no_out[] = {"plot", "energy", "--db", db_path, NULL};
    cr_expect_eq(run_cmd(cmd_plot, no_out, out, sizeof out), BS_EUSAGE);
    char *bad_format[] = {"plot", "energy", "--db", db_path, "-o", out_dir, "--format", "svg", NULL};
    cr_expect_eq(run_cmd(cmd_plot, bad_format, out, sizeof out), BS_EUSAGE);
    char *missing_db[] = {"plot", "energy", "--db", "/nonexistent/x.db", "-o", out_dir, NULL};
    cr_expect_eq(run_cmd(cmd_plot, missing_db, out, sizeof out), BS_EINPUT);
    /* no run is labelled or of scheme fp64: `all` skips speedup and draws the rest,
     * printing each file written: one figure per kind (energy, cumulative, schedule,
     * accuracy, ...) but the three timelines whose widths vary (the constant run's is skipped
     * with a note) and no pareto (no sweep here) */
    char *all[] = {"plot", "all", "--db", db_path, "-o", out_dir, "--baseline", "fp64",
                   "--format", "png", NULL};
    cr_expect_eq(run_cmd(cmd_plot, all, out, sizeof out), 0);
    cr_expect(strstr(out, "speedup") == NULL, "%s", out);
    cr_expect(strstr(out, "/energy.png\n") != NULL, "%s", out);
    int lines = 0;
    for (const char *p = out; *p; p++)
        lines += *p == '\n';
    static const struct {
        const char *kind;
        int files;
    } not_one[] = {{"timeline", 3}, {"speedup", 0}, {"pareto", 0}};
    int expected = 0;
    for (int k = 0; k < plot_kind_count(); k++) {
        int files = 1;
        for (size_t i = 0; i < sizeof not_one / sizeof not_one[0]; i++)
            if (strcmp(plot_kind_name(k), not_one[i].kind) == 0)
                files = not_one[i].files;
        expected += files;
    }
    cr_expect_eq(lines, expected, "%s", out);
    cr_expect_geq(expected, 7, "the shipped kinds: 4 figures and 3 timelines");
    cr_expect(strstr(out, "fp32-one-layer") == NULL, "%s", out);
    /* a single kind that has nothing to show is an error */
    char *speedup[] = {"plot", "speedup", "--db", db_path, "-o", out_dir, "--baseline", "fp64", NULL};
    cr_expect_eq(run_cmd(cmd_plot, speedup, out, sizeof out), BS_EINPUT);
}

/* Issue 13 D7: a baseline label and an output directory that start with a single quote (the
 * setup's third label has quotes inside; at the start gnuplot read '' as an empty string and
 * failed, exit 3). */
Test(plot, a_label_or_output_directory_starting_with_a_quote)
{
    if (!have_gnuplot())
        cr_skip("gnuplot is not installed");
    const char *label = "'q";
    store *s;
    bs_error e;
    cr_assert_eq(store_open(&s, db_path, &e), BS_OK, "%s", e.msg);
    fixture_run f = {label, "static", "resnet20", "bitfusion", 4, 3, 1000, 0.25, 1e6, 8, 8, NULL};
    cr_assert_neq(fixture_add_run(s, &f, &e), 0, "%s", e.msg);
    store_close(s);
    char dir[700];
    snprintf(dir, sizeof dir, "%s.d", db_path);
    cr_assert_eq(mkdir(dir, 0700), 0);
    cr_assert_eq(chdir(dir), 0);    /* a relative output directory "'out" */
    written w;
    plot_request r = {.baseline = label};
    cr_assert_eq(make("speedup", PLOT_PDF, &r, &w, &e), BS_OK, "%s", e.msg);
    snprintf(out_dir, sizeof out_dir, "'out");
    for (int k = 0; k < plot_kind_count(); k++) {
        const char *kind = plot_kind_name(k);
        if (strcmp(kind, "pareto") == 0)
            continue;
        cr_expect_eq(make(kind, PLOT_PDF, &r, &w, &e), BS_OK, "%s: %s", kind, e.msg);
        for (int i = 0; i < w.n; i++)
            cr_expect(strncmp(w.paths[i], "'out/", 5) == 0 && file_is(w.paths[i], "%PDF", 4),
                      "%s", w.paths[i]);
    }
}
