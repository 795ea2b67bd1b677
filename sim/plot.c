/* plot.c — gnuplot plots from SQL queries over the store (see plot.h).
 *
 * How one plot is made: the kind's writer runs its query, writes whitespace-separated data
 * files (strings double-quoted, which gnuplot reads as one column) into a private mkdtemp
 * directory, then runs `gnuplot -e "<variables>" plots/KIND.gp` with fork/exec (no shell, so
 * labels and paths cannot inject commands; strings passed in -e are single-quoted with ''
 * doubling, gnuplot's own escape). Values are scaled here into a readable unit (J vs mJ, s vs
 * h) whose name is passed to the script for the axis label. Every run plotted is the latest
 * complete run of its (label, model, arch) — a re-run replaces, it does not duplicate a bar.
 */
#include "plot.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "front.h"
#include "paths.h"
#include "report.h"
#include "text.h"

typedef struct plot_job {
    sqlite3 *db;
    const plot_request *req;
    char tmp_dir[PATH_MAX];
    char scripts_dir[PATH_MAX];
    void (*on_file)(const char *path, void *ctx);
    void *ctx;
} plot_job;

static const char *const format_ext[PLOT_FORMAT_COUNT + 1] = {"pdf", "png", NULL};

int plot_format_parse(const char *s)
{
    return text_lookup(format_ext, s);
}

const char *const *plot_format_names(void)
{
    return format_ext;
}

/* ---- small helpers ------------------------------------------------------------------ */

/* A readable unit for values up to max: the largest unit not above max. */
typedef struct unit {
    double per_unit; /* base units (J or s) per displayed unit */
    const char *name;
} unit;

static const unit energy_units[] = {{1e-9, "nJ"}, {1e-6, "uJ"}, {1e-3, "mJ"}, {1, "J"},
                                    {1e3, "kJ"},  {1e6, "MJ"},  {0, NULL}};
static const unit time_units[] = {{1e-6, "us"}, {1e-3, "ms"}, {1, "s"}, {60, "min"},
                                  {3600, "h"},  {86400, "days"}, {0, NULL}};

static unit pick_unit(const unit *table, double max)
{
    unit u = table[0];
    for (int i = 0; table[i].name; i++)
        if (max >= table[i].per_unit)
            u = table[i];
    return u;
}

/* Writes s as a gnuplot data string: double-quoted, inner double quotes made single. */
static void write_data_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++)
        fputc(*s == '"' ? '\'' : (*s == '\n' || *s == '\r') ? ' ' : *s, f);
    fputc('"', f);
}

/* Appends name='value' to a -e command, doubling single quotes (gnuplot's escape). False
 * when it does not fit in n (a cut value or a dropped variable would draw a different plot). */
static bool add_var_str(char *cmd, size_t n, const char *name, const char *value)
{
    size_t len = strlen(cmd);
    int w = snprintf(cmd + len, n - len, "%s='", name);
    if (w < 0 || (size_t)w >= n - len)
        return false;
    len += (size_t)w;
    for (const char *p = value; *p; p++) {
        if (len + 5 >= n)   /* room for a doubled quote and the closing "'; " */
            return false;
        if (*p == '\'')
            cmd[len++] = '\'';
        cmd[len++] = *p == '\n' ? ' ' : *p;
    }
    snprintf(cmd + len, n - len, "'; ");
    return true;
}

static bool add_var_num(char *cmd, size_t n, const char *name, double v)
{
    size_t len = strlen(cmd);
    int w = snprintf(cmd + len, n - len, "%s=%.17g; ", name, v);
    return w >= 0 && (size_t)w < n - len;
}

/* A file name part from a label: [A-Za-z0-9._-] kept, anything else '_'. */
static void sanitize(char *out, size_t n, const char *s)
{
    size_t i = 0;
    for (; *s && i + 1 < n; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_';
        out[i++] = ok ? c : '_';
    }
    out[i] = '\0';
}

static int open_data(plot_job *j, const char *name, FILE **f, char *path, size_t n, bs_error *e)
{
    snprintf(path, n, "%s/%s", j->tmp_dir, name);
    *f = fopen(path, "w");
    if (!*f)
        return err_set(e, BS_EINTERNAL, "%s: cannot write plot data: %s", path, strerror(errno));
    return BS_OK;
}

static int close_data(FILE *f, const char *path, bs_error *e)
{
    if (fclose(f) != 0)
        return err_set(e, BS_EINTERNAL, "%s: cannot write plot data", path);
    return BS_OK;
}

/* Last non-empty line of gnuplot's log: its error message ("script" line N: what). */
static void last_log_line(const char *log, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = fopen(log, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[strspn(line, " \t^")])
            snprintf(buf, n, "%s", line + strspn(line, " \t"));
    }
    fclose(f);
}

/* One variable a plot script reads, set with gnuplot -e: the string str when it is not NULL,
 * else the number num. Each plot lists its variables as a table of these. */
typedef struct gp_var {
    const char *name, *str;
    double num;
} gp_var;
#define GP_STR(name, s) {(name), (s), 0}
#define GP_NUM(name, v) {(name), NULL, (v)}

/* Runs gnuplot on script with the n_vars variables in vars (after outfile, term and
 * scriptdir, which every script reads); the output goes to out_dir/base.ext. */
static int run_gnuplot(plot_job *j, const char *script, const char *base, const gp_var *vars,
                       size_t n_vars, bs_error *e)
{
    char script_path[PATH_MAX + 64], out_path[PATH_MAX + 256], log_path[PATH_MAX + 32];
    snprintf(script_path, sizeof script_path, "%s/%s", j->scripts_dir, script);
    snprintf(out_path, sizeof out_path, "%s/%s.%s", j->req->out_dir, base,
             format_ext[j->req->format]);
    snprintf(log_path, sizeof log_path, "%s/gnuplot.log", j->tmp_dir);
    if (access(script_path, R_OK) != 0)
        return err_set(e, BS_EINPUT, "%s: plot script not found (set BITSIM_HOME?)", script_path);
    static char cmd[16384];
    cmd[0] = '\0';
    bool fits = add_var_str(cmd, sizeof cmd, "outfile", out_path) &&
                add_var_str(cmd, sizeof cmd, "term", format_ext[j->req->format]) &&
                add_var_str(cmd, sizeof cmd, "scriptdir", j->scripts_dir);
    for (size_t i = 0; i < n_vars && fits; i++)
        fits = vars[i].str ? add_var_str(cmd, sizeof cmd, vars[i].name, vars[i].str)
                           : add_var_num(cmd, sizeof cmd, vars[i].name, vars[i].num);
    if (!fits)
        return err_set(e, BS_EINPUT, "%s: plot variables (paths, labels) exceed %zu bytes",
                       script_path, sizeof cmd);
    const char *gp = j->req->gnuplot ? j->req->gnuplot : "gnuplot";
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return err_set(e, BS_EINTERNAL, "cannot start gnuplot: %s", strerror(errno));
    if (pid == 0) {
        FILE *log = freopen(log_path, "w", stderr);
        if (!log || !freopen("/dev/null", "w", stdout))
            _exit(126);
        execlp(gp, gp, "-e", cmd, script_path, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return err_set(e, BS_EINTERNAL, "waiting for gnuplot: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return err_set(e, BS_EINPUT, "%s: not found on PATH (install gnuplot, e.g. gnuplot-nox)",
                       gp);
    char msg[256];
    last_log_line(log_path, msg, sizeof msg);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return err_set(e, BS_EINTERNAL, "gnuplot failed on %s: %s", script_path,
                       *msg ? msg : "no message");
    struct stat st;
    if (stat(out_path, &st) != 0 || st.st_size == 0)
        return err_set(e, BS_EINTERNAL, "gnuplot wrote no %s (%s)", out_path, *msg ? msg : "no message");
    if (j->on_file)
        j->on_file(out_path, j->ctx);
    return BS_OK;
}

/* The runs every plot but speedup shows: the latest complete run per (label, model, arch),
 * filtered by ?1 model and ?2 arch. */
#define PLOTTED_RUNS                                                                        \
    "WITH plotted AS (SELECT * FROM run_summary WHERE run_id IN"                            \
    " (SELECT max(run_id) FROM run_summary GROUP BY label, model_id, arch_id)"              \
    " AND (?1 IS NULL OR model_name = ?1) AND (?2 IS NULL OR arch_name = ?2)) "

static int prepare_plotted(plot_job *j, const char *sql, sqlite3_stmt **st, bs_error *e)
{
    if (sqlite3_prepare_v2(j->db, sql, -1, st, NULL) != SQLITE_OK)
        return err_set(e, BS_EINTERNAL, "plot query failed: %s", sqlite3_errmsg(j->db));
    if (j->req->model)
        sqlite3_bind_text(*st, 1, j->req->model, -1, SQLITE_STATIC);
    if (j->req->arch)
        sqlite3_bind_text(*st, 2, j->req->arch, -1, SQLITE_STATIC);
    return BS_OK;
}

static int step_error(plot_job *j, sqlite3_stmt *st, bs_error *e)
{
    sqlite3_finalize(st);
    return err_set(e, BS_EINTERNAL, "plot query failed: %s", sqlite3_errmsg(j->db));
}

/* Ends a query that wrote a data file: step_rc must be SQLITE_DONE; finalizes st, closes f. */
static int end_query_data(plot_job *j, sqlite3_stmt *st, int step_rc, FILE *f, const char *path,
                          bs_error *e)
{
    if (step_rc != SQLITE_DONE) {
        fclose(f);
        return step_error(j, st, e);
    }
    sqlite3_finalize(st);
    return close_data(f, path, e);
}

/* The end of a plot drawn from a query that wrote its data file: the query must have run to
 * its end (end_query_data), then gnuplot draws script with vars. */
static int finish_query_plot(plot_job *j, sqlite3_stmt *st, int step_rc, FILE *f,
                             const char *path, const char *script, const char *base,
                             const gp_var *vars, size_t n_vars, bs_error *e)
{
    int rc = end_query_data(j, st, step_rc, f, path, e);
    return rc ? rc : run_gnuplot(j, script, base, vars, n_vars, e);
}

/* Counts of the plotted runs: how many, how many (model, arch) groups, largest energy and
 * latency. Fails when there is nothing to plot. */
typedef struct plotted_stats {
    int runs, groups;
    double max_energy_j, max_latency_s;
} plotted_stats;

static int plotted_stats_of(plot_job *j, plotted_stats *ps, bs_error *e)
{
    sqlite3_stmt *st;
    int rc = prepare_plotted(j, PLOTTED_RUNS
                             "SELECT count(*), count(DISTINCT model_name || '/' || arch_name),"
                             " max(energy_j), max(latency_s) FROM plotted",
                             &st, e);
    if (rc)
        return rc;
    if (sqlite3_step(st) != SQLITE_ROW)
        return step_error(j, st, e);
    ps->runs = sqlite3_column_int(st, 0);
    ps->groups = sqlite3_column_int(st, 1);
    ps->max_energy_j = sqlite3_column_double(st, 2);
    ps->max_latency_s = sqlite3_column_double(st, 3);
    sqlite3_finalize(st);
    if (ps->runs == 0)
        return err_set(e, BS_EINPUT, "no complete runs to plot%s", j->req->model || j->req->arch
                                                                     ? " within --model/--arch"
                                                                     : "");
    return BS_OK;
}

/* The first step of every kind but speedup: the plotted runs' statistics (failing when there
 * is nothing to plot), then st prepared over the plotted runs. */
static int start_plotted(plot_job *j, plotted_stats *ps, const char *sql, sqlite3_stmt **st,
                         bs_error *e)
{
    int rc = plotted_stats_of(j, ps, e);
    return rc ? rc : prepare_plotted(j, sql, st, e);
}

/* The columns cols of the plotted runs, in the order every plot lists them. */
#define PLOTTED_RUNS_SELECT(cols) \
    PLOTTED_RUNS "SELECT " cols " FROM plotted ORDER BY model_name, arch_name, run_id"

/* A run's name on an axis or in a key: its label, plus model and arch when runs of several
 * (model, arch) groups share the plot. */
static void run_title(char *buf, size_t n, const char *label, const char *model,
                      const char *arch, bool several_groups)
{
    if (several_groups)
        snprintf(buf, n, "%s (%s, %s)", label, model, arch);
    else
        snprintf(buf, n, "%s", label);
}

/* run_title of a row whose columns col, col + 1, col + 2 are label, model_name, arch_name. */
static void run_title_of_row(char *buf, size_t n, sqlite3_stmt *st, int col,
                             bool several_groups)
{
    run_title(buf, n, (const char *)sqlite3_column_text(st, col),
              (const char *)sqlite3_column_text(st, col + 1),
              (const char *)sqlite3_column_text(st, col + 2), several_groups);
}

/* ---- the kinds ----------------------------------------------------------------------- */

typedef struct speedup_data {
    FILE *f;
    int rows, first_len; /* first_len: characters of the first bar's label (plots/style.gp) */
    bool several_groups;
    char first_group[256];
} speedup_data;

static int speedup_count(const report_compare_row *r, void *ctx)
{
    speedup_data *d = ctx;
    char g[256];
    snprintf(g, sizeof g, "%s/%s", r->model, r->arch);
    if (d->rows++ == 0)
        snprintf(d->first_group, sizeof d->first_group, "%s", g);
    else if (strcmp(g, d->first_group) != 0)
        d->several_groups = true;
    return 0;
}

static int speedup_write(const report_compare_row *r, void *ctx)
{
    speedup_data *d = ctx;
    char title[512];
    run_title(title, sizeof title, r->label, r->model, r->arch, d->several_groups);
    if (d->first_len == 0)
        d->first_len = (int)strlen(title);
    write_data_string(d->f, title);
    fprintf(d->f, " %.9g %.9g\n", isfinite(r->speedup) ? r->speedup : 0,
            isfinite(r->energy_saving) ? r->energy_saving : 0);
    return 0;
}

static int plot_speedup(plot_job *j, bs_error *e)
{
    report_compare_query q = {.baseline = j->req->baseline ? j->req->baseline : "fp32",
                              .model = j->req->model, .arch = j->req->arch,
                              .baseline_arch = j->req->baseline_arch};
    speedup_data d = {0};
    int rc = report_compare_each(j->db, &q, speedup_count, &d, e);
    if (rc)
        return rc;
    char path[PATH_MAX + 64];
    if ((rc = open_data(j, "speedup.dat", &d.f, path, sizeof path, e)))
        return rc;
    rc = report_compare_each(j->db, &q, speedup_write, &d, e);
    int rc2 = close_data(d.f, path, e);
    if (rc || rc2)
        return rc ? rc : rc2;
    const gp_var vars[] = {
        GP_STR("datafile", path), GP_STR("baseline", q.baseline), GP_NUM("n", d.rows),
        GP_NUM("first_len", d.first_len),
    };
    return run_gnuplot(j, "speedup.gp", "speedup", vars, sizeof vars / sizeof vars[0], e);
}

static int plot_energy(plot_job *j, bs_error *e)
{
    plotted_stats ps;
    sqlite3_stmt *st;
    int rc = start_plotted(j, &ps,
                           PLOTTED_RUNS_SELECT("label, model_name, arch_name, energy_core_pj,"
                                               " energy_wbuf_pj, energy_abuf_pj, energy_obuf_pj,"
                                               " energy_dram_pj, energy_leak_pj"),
                           &st, e);
    if (rc)
        return rc;
    unit u = pick_unit(energy_units, ps.max_energy_j);
    FILE *f;
    char path[PATH_MAX + 64];
    if ((rc = open_data(j, "energy.dat", &f, path, sizeof path, e))) {
        sqlite3_finalize(st);
        return rc;
    }
    fputs("\"run\" \"Core (MACs)\" \"Weight buffer\" \"Activation buffer\" \"Output buffer\""
          " \"DRAM\" \"Leakage\"\n", f);
    int first_len = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char title[512];
        run_title_of_row(title, sizeof title, st, 0, ps.groups > 1);
        if (first_len == 0)
            first_len = (int)strlen(title);
        write_data_string(f, title);
        for (int c = 3; c < 9; c++)
            fprintf(f, " %.9g", sqlite3_column_double(st, c) * 1e-12 / u.per_unit);
        fputc('\n', f);
    }
    const gp_var vars[] = {
        GP_STR("datafile", path), GP_STR("unit", u.name), GP_NUM("n", ps.runs),
        GP_NUM("first_len", first_len),
    };
    return finish_query_plot(j, st, rc, f, path, "energy.gp", "energy", vars,
                             sizeof vars / sizeof vars[0], e);
}

/* One data block per run: a header line with the run's title, a (0, 0, 0) start, then the
 * cumulative time and energy after each epoch (epochs counted from 1). */
static int plot_cumulative(plot_job *j, bs_error *e)
{
    plotted_stats ps;
    sqlite3_stmt *runs, *curve;
    int rc = start_plotted(j, &ps, PLOTTED_RUNS_SELECT("run_id, label, model_name, arch_name"),
                           &runs, e);
    if (rc)
        return rc;
    unit ut = pick_unit(time_units, ps.max_latency_s), ue = pick_unit(energy_units, ps.max_energy_j);
    if (sqlite3_prepare_v2(j->db,
                           "SELECT epoch + 1, cum_latency_s, cum_energy_pj * 1e-12 FROM epoch_costs"
                           " WHERE run_id = ?1 ORDER BY epoch",
                           -1, &curve, NULL) != SQLITE_OK)
        return step_error(j, runs, e);
    FILE *f;
    char path[PATH_MAX + 64];
    if ((rc = open_data(j, "cumulative.dat", &f, path, sizeof path, e))) {
        sqlite3_finalize(runs);
        sqlite3_finalize(curve);
        return rc;
    }
    int blocks = 0;
    while ((rc = sqlite3_step(runs)) == SQLITE_ROW) {
        char title[512];
        run_title_of_row(title, sizeof title, runs, 1, ps.groups > 1);
        fputs(blocks++ ? "\n\n" : "", f);
        write_data_string(f, title);
        fputs("\n0 0 0\n", f);
        sqlite3_bind_int64(curve, 1, sqlite3_column_int64(runs, 0));
        int curve_rc;
        while ((curve_rc = sqlite3_step(curve)) == SQLITE_ROW)
            fprintf(f, "%lld %.9g %.9g\n", (long long)sqlite3_column_int64(curve, 0),
                    sqlite3_column_double(curve, 1) / ut.per_unit,
                    sqlite3_column_double(curve, 2) / ue.per_unit);
        sqlite3_reset(curve);
        if (curve_rc != SQLITE_DONE) {  /* a curve cut short would be drawn as if complete */
            rc = err_set(e, BS_EINTERNAL, "plot query failed: %s", sqlite3_errmsg(j->db));
            sqlite3_finalize(curve);
            sqlite3_finalize(runs);
            fclose(f);
            return rc;
        }
    }
    sqlite3_finalize(curve);
    const gp_var vars[] = {
        GP_STR("datafile", path), GP_STR("time_unit", ut.name), GP_STR("energy_unit", ue.name),
        GP_NUM("n", blocks),
    };
    return finish_query_plot(j, runs, rc, f, path, "cumulative.gp", "cumulative", vars,
                             sizeof vars / sizeof vars[0], e);
}

/* The FWD operand widths of one run on a full (epoch x layer) grid, so gnuplot's `image`
 * gets a regular grid: layers are the MAC layers (forward MAdds > 0; norm, pooling and
 * elementwise layers have no operand pair worth a colour), numbered 0.. in model order; a
 * missing cell is NaN (drawn empty). Counts the cells written. */
static int write_timeline(plot_job *j, int64_t run, FILE *f, double *lo, double *hi, int *cells,
                          bs_error *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            j->db,
            "WITH ep AS (SELECT DISTINCT epoch FROM costs WHERE run_id = ?1),"
            " ly AS (SELECT layer, row_number() OVER (ORDER BY layer) - 1 AS y FROM"
            "  (SELECT layer FROM costs WHERE run_id = ?1 AND pass = 'FWD' AND layer >= 0"
            "   GROUP BY layer HAVING sum(madds) > 0))"
            " SELECT ep.epoch + 1, ly.y, c.avg_bits_x, c.avg_bits_y FROM ep CROSS JOIN ly"
            " LEFT JOIN costs c ON c.run_id = ?1 AND c.epoch = ep.epoch AND c.layer = ly.layer"
            "  AND c.pass = 'FWD'"
            " ORDER BY ep.epoch, ly.y",
            -1, &st, NULL) != SQLITE_OK)
        return err_set(e, BS_EINTERNAL, "plot query failed: %s", sqlite3_errmsg(j->db));
    sqlite3_bind_int64(st, 1, run);
    *cells = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fprintf(f, "%lld %lld", (long long)sqlite3_column_int64(st, 0),
                (long long)sqlite3_column_int64(st, 1));
        for (int c = 2; c < 4; c++) {
            if (sqlite3_column_type(st, c) == SQLITE_NULL) {
                fputs(" NaN", f);
                continue;
            }
            double b = sqlite3_column_double(st, c);
            *lo = fmin(*lo, b);
            *hi = fmax(*hi, b);
            fprintf(f, " %.6g", b);
        }
        fputc('\n', f);
        (*cells)++;
    }
    if (rc != SQLITE_DONE)
        return step_error(j, st, e);
    sqlite3_finalize(st);
    return BS_OK;
}

static int plot_timeline(plot_job *j, bs_error *e)
{
    plotted_stats ps;
    sqlite3_stmt *runs;
    int rc = start_plotted(j, &ps, PLOTTED_RUNS_SELECT("run_id, label, model_name, arch_name"),
                           &runs, e);
    if (rc)
        return rc;
    int drawn = 0, step_rc = SQLITE_DONE;
    while (rc == BS_OK && (step_rc = sqlite3_step(runs)) == SQLITE_ROW) {
        int64_t run = sqlite3_column_int64(runs, 0);
        const char *label = (const char *)sqlite3_column_text(runs, 1);
        const char *model = (const char *)sqlite3_column_text(runs, 2);
        const char *arch = (const char *)sqlite3_column_text(runs, 3);
        char data_name[64], path[PATH_MAX + 64];
        snprintf(data_name, sizeof data_name, "timeline-%lld.dat", (long long)run);
        FILE *f;
        if ((rc = open_data(j, data_name, &f, path, sizeof path, e)))
            break;
        double lo = INFINITY, hi = -INFINITY;
        int cells = 0;
        rc = write_timeline(j, run, f, &lo, &hi, &cells, e);
        int rc2 = close_data(f, path, e);
        if (rc || (rc = rc2))
            break;
        if (cells == 0 || !isfinite(lo))
            continue; /* no forward MAC rows with widths: nothing to draw for this run */
        /* one colour scale for every run (2 to 32 bits, widened if the data go beyond), so
         * a colour means the same width in every timeline; log2 (plots/timeline.gp) */
        lo = fmax(fmin(lo, 2), 1);
        hi = fmax(hi, 32);
        char base[512], part[3][128], title[512];
        sanitize(part[0], sizeof part[0], label);
        sanitize(part[1], sizeof part[1], model);
        sanitize(part[2], sizeof part[2], arch);
        if (ps.groups > 1)
            snprintf(base, sizeof base, "timeline-%s-%s-%s", part[0], part[1], part[2]);
        else
            snprintf(base, sizeof base, "timeline-%s", part[0]);
        snprintf(title, sizeof title, "%s: %s on %s", label, model, arch);
        const gp_var vars[] = {
            GP_STR("datafile", path), GP_STR("plot_title", title), GP_NUM("cbmin", floor(lo)),
            GP_NUM("cbmax", ceil(hi)),
        };
        rc = run_gnuplot(j, "timeline.gp", base, vars, sizeof vars / sizeof vars[0], e);
        drawn++;
    }
    if (rc == BS_OK && step_rc != SQLITE_DONE)     /* not "nothing to draw": a failed query */
        return step_error(j, runs, e);
    sqlite3_finalize(runs);
    if (rc == BS_OK && drawn == 0)
        rc = err_set(e, BS_EINPUT, "no run has forward-pass bit-widths to draw a timeline of");
    return rc;
}

/* The sweep's Pareto front: the data come from front.h (area needs the arch model), the
 * look from plots/pareto.gp. */
static int plot_pareto(plot_job *j, bs_error *e)
{
    front_query q = {.model = j->req->model};
    char all[PATH_MAX + 32], front[PATH_MAX + 32];
    int rc = front_write_plot_files(j->db, &q, j->tmp_dir, all, front, sizeof all, e);
    if (rc)
        return rc;
    const gp_var vars[] = {
        GP_STR("all_file", all), GP_STR("front_file", front),
    };
    return run_gnuplot(j, "pareto.gp", "pareto", vars, sizeof vars / sizeof vars[0], e);
}

/* The plot kinds: a name, what it draws (bitsim plot --help lists this table) and its maker.
 * Adding a plot is a row here, its maker above and its script in plots/. */
typedef struct plot_kind_entry {
    const char *name;
    const char *summary;
    int (*make)(plot_job *j, bs_error *e);
} plot_kind_entry;

static const plot_kind_entry kinds[PLOT_KIND_COUNT] = {
    [PLOT_SPEEDUP] = {"speedup", "speedup and energy saving of each run against --baseline (bars)",
                      plot_speedup},
    [PLOT_ENERGY] = {"energy", "training energy per run, stacked by component (core, buffers, DRAM)",
                     plot_energy},
    [PLOT_CUMULATIVE] = {"cumulative", "cumulative training time and energy over epochs, one line "
                         "per run", plot_cumulative},
    [PLOT_TIMELINE] = {"timeline", "per run: forward-pass bit-width heatmap over epochs and layers",
                       plot_timeline},
    [PLOT_PARETO] = {"pareto", "sweep points: energy vs latency, colour = area, the front marked",
                     plot_pareto},
};

int plot_kind_parse(const char *s)
{
    for (int k = 0; k < PLOT_KIND_COUNT; k++)
        if (strcmp(kinds[k].name, s) == 0)
            return k;
    return -1;
}

const char *plot_kind_name(plot_kind k)
{
    return (int)k >= 0 && k < PLOT_KIND_COUNT ? kinds[k].name : "?";
}

const char *plot_kind_summary(plot_kind k)
{
    return (int)k >= 0 && k < PLOT_KIND_COUNT ? kinds[k].summary : "?";
}

/* Removes the temporary directory and the files in it (no subdirectories are made). */
static void remove_tmp_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char path[PATH_MAX + 260];
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

int plot_make(sqlite3 *db, plot_kind kind, const plot_request *r,
              void (*on_file)(const char *path, void *ctx), void *ctx, bs_error *e)
{
    if ((int)kind < 0 || kind >= PLOT_KIND_COUNT || (int)r->format < 0 ||
        r->format >= PLOT_FORMAT_COUNT)
        return err_set(e, BS_EINTERNAL, "plot_make: bad kind %d or format %d", (int)kind,
                       (int)r->format);
    plot_job j = {.db = db, .req = r, .on_file = on_file, .ctx = ctx};
    if (r->scripts_dir)
        snprintf(j.scripts_dir, sizeof j.scripts_dir, "%s", r->scripts_dir);
    else if (!paths_data_dir("plots", j.scripts_dir, sizeof j.scripts_dir))
        return err_set(e, BS_EINPUT, "%s: plot scripts directory not found (set BITSIM_HOME)",
                       j.scripts_dir);
    if (mkdir(r->out_dir, 0777) != 0 && errno != EEXIST)
        return err_set(e, BS_EINPUT, "%s: cannot create output directory: %s", r->out_dir,
                       strerror(errno));
    struct stat st;
    if (stat(r->out_dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(r->out_dir, W_OK) != 0)
        return err_set(e, BS_EINPUT, "%s: not a writable directory", r->out_dir);
    const char *tmp = getenv("TMPDIR");
    snprintf(j.tmp_dir, sizeof j.tmp_dir, "%s/bitsim-plot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(j.tmp_dir))
        return err_set(e, BS_EINTERNAL, "%s: cannot create a temporary directory: %s", j.tmp_dir,
                       strerror(errno));
    int rc = kinds[kind].make(&j, e);
    remove_tmp_dir(j.tmp_dir);
    return rc;
}
