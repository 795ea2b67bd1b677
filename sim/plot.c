/* plot.c — gnuplot plots from SQL queries over the store (see plot.h).
 *
 * How one plot is made: the kind's maker runs its queries over the store's views
 * (store_query.h: read-only, a failed walk reported when the query is closed, so a data file
 * cut short is never drawn), writes whitespace-separated data files (strings double-quoted,
 * which gnuplot reads as one column) into a private mkdtemp directory, then runs
 * `gnuplot -e "<variables>" plots/KIND.gp` with fork/exec (no shell, so labels and paths
 * cannot inject commands; strings passed in -e are double-quoted with every byte but letters,
 * digits and " ./_-" octal-escaped, see add_var_str). Values are scaled here into a readable
 * unit (J vs mJ, s vs h) whose name is passed to the script for the axis label. Every run
 * plotted is the latest complete run of its (label, model, arch) — a re-run replaces, it does
 * not duplicate a bar.
 */
#include "plot.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cost.h"
#include "front.h"
#include "paths.h"
#include "report.h"
#include "store.h"
#include "store_query.h"
#include "table.h"
#include "text.h"

typedef struct plot_job {
    store *s;
    const plot_request *req;
    char what[64];          /* the kind's queries in error messages */
    char tmp_dir[PATH_MAX];
    char scripts_dir[PATH_MAX];
    void (*on_file)(const char *path, void *ctx);
    void *ctx;
} plot_job;

static const char *const format_ext[PLOT_FORMAT_COUNT + 1] = {"pdf", "png", NULL};
static const char *const size_names[PLOT_SIZE_COUNT + 1] = {"double", "column", "slide", NULL};
/* Bars one figure holds at each size (about 4 per inch of plot; plots/style.gp's widths): a
 * figure of more would be unreadable, so it is refused with a hint to filter. */
static const int max_bars[PLOT_SIZE_COUNT] = {28, 12, 40};

const char *const *plot_format_names(void)
{
    return format_ext;
}

const char *const *plot_size_names(void)
{
    return size_names;
}

static void note(plot_job *j, const char *fmt, ...)
{
    if (!j->req->on_note)
        return;
    char msg[BS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    j->req->on_note(msg, j->ctx);
}

/* ---- the data beside each figure: DIR/BASE.csv ------------------------------------------
 * Every figure's numbers are written next to it as a tidy CSV (one row per plotted value,
 * RFC 4180 quoting, exact numbers as in table.h), so a matplotlib or pandas user redraws it
 * without rewriting the SQL. */

static int open_csv(plot_job *j, const char *base, const char *header, FILE **f, bs_error *e)
{
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s.csv", j->req->out_dir, base);
    *f = fopen(path, "w");
    if (!*f)
        return err_set(e, BS_EINPUT, "%s: cannot write the figure's data: %s", path,
                       strerror(errno));
    fprintf(*f, "%s\n", header);
    return BS_OK;
}

static void csv_str(FILE *f, const char *s, bool last)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    if (quote)
        fputc('"', f);
    fputc(last ? '\n' : ',', f);
}

/* An exact number (table.h), empty when not finite (no value). */
static void csv_num(FILE *f, double v, bool last)
{
    char b[40] = "";
    if (isfinite(v))
        table_exact_double(b, sizeof b, v);
    fputs(b, f);
    fputc(last ? '\n' : ',', f);
}

static int close_csv(FILE *f, const char *base, bs_error *e)
{
    if (fclose(f) != 0)
        return err_set(e, BS_EINTERNAL, "%s.csv: cannot write the figure's data", base);
    return BS_OK;
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

/* Appends name="value" to a -e command. Every byte but letters, digits and " ./_-" is
 * written as an octal escape \ooo, which gnuplot decodes in double-quoted strings: no quote
 * or backslash of the value can end the string (gnuplot's own '' doubling fails on a value
 * that starts with a quote: it reads '' as an empty string, issue 13 D7). Line breaks become
 * blanks. False when it does not fit in n (a cut value or a dropped variable would draw a
 * different plot). */
static bool add_var_str(char *cmd, size_t n, const char *name, const char *value)
{
    size_t len = strlen(cmd);
    int w = snprintf(cmd + len, n - len, "%s=\"", name);
    if (w < 0 || (size_t)w >= n - len)
        return false;
    len += (size_t)w;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (len + 8 >= n)   /* room for one escape and the closing "; */
            return false;
        unsigned char c = *p == '\n' || *p == '\r' ? ' ' : *p;
        if (isalnum(c) || strchr(" ./_-", c))
            cmd[len++] = (char)c;
        else
            len += (size_t)snprintf(cmd + len, n - len, "\\%03o", c);
    }
    snprintf(cmd + len, n - len, "\"; ");
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
                add_var_str(cmd, sizeof cmd, "scriptdir", j->scripts_dir) &&
                add_var_str(cmd, sizeof cmd, "size", size_names[j->req->size]);
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

/* Binds the request's filters, ?1 model and ?2 arch (NULL: all), to a PLOTTED_RUNS query. */
static void bind_filters(plot_job *j, store_query *q)
{
    store_query_bind_text(q, 1, j->req->model);
    store_query_bind_text(q, 2, j->req->arch);
}

static int open_plotted(plot_job *j, const char *sql, store_query **q, bs_error *e)
{
    int rc = store_query_open(j->s, sql, j->what, q, e);
    if (rc == BS_OK)
        bind_filters(j, *q);
    return rc;
}

/* Ends a query that wrote a data file: closes q (a walk that failed is the error: a file cut
 * short would be drawn as if complete) and f. */
static int end_query_data(store_query *q, FILE *f, const char *path, bs_error *e)
{
    int rc = store_query_close(q, e);
    if (rc) {
        fclose(f);
        return rc;
    }
    return close_data(f, path, e);
}

/* The end of a plot drawn from a query that wrote its data file: the query must have run to
 * its end (end_query_data), then gnuplot draws script with vars. */
static int finish_query_plot(plot_job *j, store_query *q, FILE *f, const char *path,
                             const char *script, const char *base, const gp_var *vars,
                             size_t n_vars, bs_error *e)
{
    int rc = end_query_data(q, f, path, e);
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
    store_query *q;
    int rc = open_plotted(j, PLOTTED_RUNS
                          "SELECT count(*), count(DISTINCT model_name || '/' || arch_name),"
                          " max(energy_j), max(latency_s) FROM plotted",
                          &q, e);
    if (rc)
        return rc;
    *ps = (plotted_stats){0};
    if (store_query_next(q)) {
        ps->runs = (int)store_query_int(q, 0);
        ps->groups = (int)store_query_int(q, 1);
        ps->max_energy_j = store_query_double(q, 2);
        ps->max_latency_s = store_query_double(q, 3);
    }
    if ((rc = store_query_close(q, e)))
        return rc;
    if (ps->runs == 0)
        return err_set(e, BS_EINPUT, "no complete runs to plot%s", j->req->model || j->req->arch
                                                                     ? " within --model/--arch"
                                                                     : "");
    return BS_OK;
}

/* The first step of every kind but speedup: the plotted runs' statistics (failing when there
 * is nothing to plot), then q opened over the plotted runs. */
static int start_plotted(plot_job *j, plotted_stats *ps, const char *sql, store_query **q,
                         bs_error *e)
{
    int rc = plotted_stats_of(j, ps, e);
    return rc ? rc : open_plotted(j, sql, q, e);
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
static void run_title_of_row(char *buf, size_t n, store_query *q, int col, bool several_groups)
{
    run_title(buf, n, store_query_text(q, col), store_query_text(q, col + 1),
              store_query_text(q, col + 2), several_groups);
}

/* ---- the kinds ----------------------------------------------------------------------- */

/* Speedup bars: clusters = (network, arch) groups, one bar per run label in each, plus a
 * geometric-mean cluster over the groups (the mean a speedup figure reports: ratios average
 * geometrically). The baseline's own bar (1× by definition) is left out when the baseline
 * is on the same arch; the dashed 1× line stands for it. */
enum { SPEEDUP_MAX_GROUPS = 24, SPEEDUP_MAX_LABELS = 16 };

typedef struct speedup_data {
    char groups[SPEEDUP_MAX_GROUPS][256], labels[SPEEDUP_MAX_LABELS][128];
    double speedup[SPEEDUP_MAX_GROUPS][SPEEDUP_MAX_LABELS];
    double saving[SPEEDUP_MAX_GROUPS][SPEEDUP_MAX_LABELS];
    int n_groups, n_labels;
    bool cross_arch, too_many;
    double lo[2], hi[2]; /* [0] speedup, [1] energy saving: positive finite values seen */
} speedup_data;

static int find_or_add(char (*names)[256], int *n, int max, const char *name)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    if (*n == max)
        return -1;
    snprintf(names[*n], 256, "%s", name);
    return (*n)++;
}

static int speedup_collect(const report_compare_row *r, void *ctx)
{
    speedup_data *d = ctx;
    if (!d->cross_arch && strcmp(r->label, r->baseline_label) == 0)
        return 0;
    char g[256];
    snprintf(g, sizeof g, "%s on %s", r->model, r->arch);
    int gi = find_or_add(d->groups, &d->n_groups, SPEEDUP_MAX_GROUPS, g), li = -1;
    for (int i = 0; i < d->n_labels && li < 0; i++)
        if (strcmp(d->labels[i], r->label) == 0)
            li = i;
    if (li < 0 && d->n_labels < SPEEDUP_MAX_LABELS) {
        li = d->n_labels++;
        snprintf(d->labels[li], sizeof d->labels[li], "%s", r->label);
        for (int k = 0; k < SPEEDUP_MAX_GROUPS; k++)
            d->speedup[k][li] = d->saving[k][li] = NAN;
    }
    if (gi < 0 || li < 0) {
        d->too_many = true;
        return 0;
    }
    d->speedup[gi][li] = r->speedup;
    d->saving[gi][li] = r->energy_saving;
    for (int k = 0; k < 2; k++) {
        double v = k ? r->energy_saving : r->speedup;
        if (isfinite(v) && v > 0) {
            d->lo[k] = fmin(d->lo[k], v);
            d->hi[k] = fmax(d->hi[k], v);
        }
    }
    return 0;
}

/* The geometric mean of column l over the groups that have it. */
static double geomean_of(double (*v)[SPEEDUP_MAX_LABELS], int n_groups, int l)
{
    double sum_log = 0;
    int n = 0;
    for (int g = 0; g < n_groups; g++)
        if (isfinite(v[g][l]) && v[g][l] > 0) {
            sum_log += log(v[g][l]);
            n++;
        }
    return n ? exp(sum_log / n) : NAN;
}

static void write_speedup_matrix(FILE *f, const speedup_data *d,
                                 double (*v)[SPEEDUP_MAX_LABELS], bool geomean)
{
    fputs("\"index\" \"group\"", f);
    for (int l = 0; l < d->n_labels; l++) {
        fputc(' ', f);
        write_data_string(f, d->labels[l]);
    }
    fputc('\n', f);
    for (int g = 0; g < d->n_groups + geomean; g++) {
        fprintf(f, "%d ", g);
        write_data_string(f, g < d->n_groups ? d->groups[g] : "geomean");
        for (int l = 0; l < d->n_labels; l++) {
            double x = g < d->n_groups ? v[g][l] : geomean_of(v, d->n_groups, l);
            fprintf(f, isfinite(x) ? " %.17g" : " NaN", x);
        }
        fputc('\n', f);
    }
}

static int plot_speedup(plot_job *j, bs_error *e)
{
    report_compare_query q = {.baseline = j->req->baseline ? j->req->baseline : "fp32",
                              .model = j->req->model, .arch = j->req->arch,
                              .baseline_arch = j->req->baseline_arch};
    speedup_data *d = calloc(1, sizeof *d);
    if (!d)
        return err_set(e, BS_EINTERNAL, "out of memory");
    d->cross_arch = q.baseline_arch != NULL;
    d->lo[0] = d->lo[1] = INFINITY;
    d->hi[0] = d->hi[1] = -INFINITY;
    /* report.h still takes the handle (its conversion to store_query is another change) */
    int rc = report_compare_each(j->s, &q, speedup_collect, d, e);
    if (rc == BS_OK && d->too_many)
        rc = err_set(e, BS_EINPUT, "more than %d (network, arch) groups or %d run labels for one"
                     " speedup figure; choose with --model/--arch", SPEEDUP_MAX_GROUPS,
                     SPEEDUP_MAX_LABELS);
    if (rc == BS_OK && d->n_labels == 0)
        rc = err_set(e, BS_EINPUT, "no run to compare with the baseline %s (only the baseline"
                     " itself)", q.baseline);
    bool geomean = d->n_groups > 1;
    char sp_path[PATH_MAX + 64], es_path[PATH_MAX + 64];
    FILE *f = NULL, *csv = NULL;
    for (int k = 0; k < 2 && rc == BS_OK; k++) {
        char *path = k ? es_path : sp_path;
        if ((rc = open_data(j, k ? "saving.dat" : "speedup.dat", &f, path, PATH_MAX + 64, e)))
            break;
        write_speedup_matrix(f, d, k ? d->saving : d->speedup, geomean);
        rc = close_data(f, path, e);
    }
    if (rc == BS_OK &&
        (rc = open_csv(j, "speedup", "network_arch,label,baseline,baseline_arch,speedup,"
                       "energy_saving", &csv, e)) == BS_OK) {
        for (int g = 0; g < d->n_groups + geomean; g++)
            for (int l = 0; l < d->n_labels; l++) {
                double sp = g < d->n_groups ? d->speedup[g][l] : geomean_of(d->speedup, d->n_groups, l);
                double es = g < d->n_groups ? d->saving[g][l] : geomean_of(d->saving, d->n_groups, l);
                if (!isfinite(sp) && !isfinite(es))
                    continue;
                csv_str(csv, g < d->n_groups ? d->groups[g] : "geomean", false);
                csv_str(csv, d->labels[l], false);
                csv_str(csv, q.baseline, false);
                csv_str(csv, q.baseline_arch ? q.baseline_arch : "", false);
                csv_num(csv, sp, false);
                csv_num(csv, es, true);
            }
        rc = close_csv(csv, "speedup", e);
    }
    if (rc) {
        free(d);
        return rc;
    }
    /* the baseline named over the panels: "over fp32 on the same arch", or "over fp32 on
     * gpu-v100" when it ran elsewhere (short y labels fit a 3.3-inch column) */
    char against[300];
    if (q.baseline_arch)
        snprintf(against, sizeof against, "Baseline: %s on %s", q.baseline, q.baseline_arch);
    else
        snprintf(against, sizeof against, "Baseline: %s on the same arch", q.baseline);
    int tic_len = 7; /* "geomean" */
    for (int g = 0; g < d->n_groups; g++)
        tic_len = (int)fmax(tic_len, (double)strlen(d->groups[g]));
    int bars = (d->n_groups + geomean) * d->n_labels;
    /* per panel, a log axis when its values span more than 20x or fall below 0.1 (against a
     * GPU: 0.005), from the decade below the smallest to above the largest and 1x */
    bool logy[2];
    double ymin[2], ymax[2];
    for (int k = 0; k < 2; k++) {
        logy[k] = d->hi[k] > 20 * d->lo[k] || d->lo[k] < 0.1;
        ymin[k] = logy[k] ? pow(10, floor(log10(d->lo[k] * 0.8))) : 0;
        ymax[k] = logy[k] ? fmax(d->hi[k], 1) * 2.5 : fmax(d->hi[k], 1) * 1.15;
    }
    /* the group names as tics at the groups' centres ('"' and '\\' made '_': eval'd) */
    char xtics[4096];
    size_t len = (size_t)snprintf(xtics, sizeof xtics, "set xtics (");
    for (int g = 0; g < d->n_groups + geomean; g++) {
        char name[256];
        snprintf(name, sizeof name, "%s", g < d->n_groups ? d->groups[g] : "geomean");
        for (char *p = name; *p; p++)
            if (*p == '"' || *p == '\\' || *p == '\'')
                *p = '_';
        int w = snprintf(xtics + len, sizeof xtics - len, "%s\"%s\" %d", g ? ", " : "", name, g);
        if (w < 0 || (size_t)w >= sizeof xtics - len - 2)
            break;
        len += (size_t)w;
    }
    snprintf(xtics + len, sizeof xtics - len, ")");
    const gp_var vars[] = {
        GP_STR("speedup_file", sp_path), GP_STR("saving_file", es_path),
        GP_NUM("n_labels", d->n_labels), GP_NUM("n_groups", d->n_groups + geomean),
        GP_STR("against", against),
        GP_NUM("logy_s", logy[0]), GP_NUM("ymin_s", ymin[0]), GP_NUM("ymax_s", ymax[0]),
        GP_NUM("logy_e", logy[1]), GP_NUM("ymin_e", ymin[1]), GP_NUM("ymax_e", ymax[1]),
        GP_STR("xtics_cmd", xtics),
        GP_NUM("tic_len", tic_len),
        GP_NUM("bar_values", bars <= max_bars[j->req->size]),
    };
    free(d);
    return run_gnuplot(j, "speedup.gp", "speedup", vars, sizeof vars / sizeof vars[0], e);
}

/* Energy stacks, one bar per run: absolute (in a readable unit) or, with energy_percent,
 * each bar normalised to 100 % (the BitFusion paper's Fig. 14 layout, where core and buffers
 * stay visible next to DRAM). A component that is zero in every run gets no column, so no
 * empty legend entry. */
static const char *const energy_names[COST_E_COUNT] = {
    "Core (MACs)", "Weight buffer", "Activation buffer", "Output buffer", "DRAM", "Leakage"};

/* An energy component of a run: NULL (a database whose totals predate the components) is
 * none of it, so it adds no column and nothing to the total. */
static double component_pj(store_query *q, int i)
{
    return store_query_is_null(q, i) ? 0 : store_query_double(q, i);
}

static int plot_energy(plot_job *j, bs_error *e)
{
    plotted_stats ps;
    store_query *q;
    int rc = start_plotted(j, &ps,
                           PLOTTED_RUNS_SELECT("label, model_name, arch_name, energy_core_pj,"
                                               " energy_wbuf_pj, energy_abuf_pj, energy_obuf_pj,"
                                               " energy_dram_pj, energy_leak_pj"),
                           &q, e);
    if (rc)
        return rc;
    if (ps.runs > max_bars[j->req->size]) {
        store_query_close(q, NULL);
        return err_set(e, BS_EINPUT, "%d runs are too many bars for one %s-size energy figure"
                       " (at most %d); choose with --model/--arch", ps.runs,
                       size_names[j->req->size], max_bars[j->req->size]);
    }
    unit u = pick_unit(energy_units, ps.max_energy_j);
    bool pct = j->req->energy_percent;
    /* first walk: which components are non-zero anywhere */
    bool used[COST_E_COUNT] = {0};
    while (store_query_next(q))
        for (int c = 0; c < COST_E_COUNT; c++)
            used[c] |= component_pj(q, 3 + c) != 0;
    if ((rc = store_query_reset(q, e))) {
        store_query_close(q, NULL);
        return rc;
    }
    bind_filters(j, q);
    FILE *f, *csv;
    char path[PATH_MAX + 64];
    if ((rc = open_data(j, "energy.dat", &f, path, sizeof path, e))) {
        store_query_close(q, NULL);
        return rc;
    }
    if ((rc = open_csv(j, "energy", "label,model,arch,component,energy_pj,share_pct", &csv, e))) {
        fclose(f);
        store_query_close(q, NULL);
        return rc;
    }
    fputs("\"run\"", f);
    int n_cols = 0;
    for (int c = 0; c < COST_E_COUNT; c++)
        if (used[c]) {
            fputc(' ', f);
            write_data_string(f, energy_names[c]);
            n_cols++;
        }
    fputc('\n', f);
    int max_len = 0;
    char group[600] = "";
    while (store_query_next(q)) {
        char title[512];
        run_title_of_row(title, sizeof title, q, 0, ps.groups > 1);
        max_len = (int)fmax(max_len, (double)strlen(title));
        write_data_string(f, title);
        if (ps.groups == 1 && !group[0]) /* name the network and arch once, under the bars */
            snprintf(group, sizeof group, "%s on %s", store_query_text(q, 1),
                     store_query_text(q, 2));
        double total = 0;
        for (int c = 0; c < COST_E_COUNT; c++)
            total += component_pj(q, 3 + c);
        for (int c = 0; c < COST_E_COUNT; c++) {
            double pj = component_pj(q, 3 + c), share = total > 0 ? 100 * pj / total : NAN;
            if (used[c])
                fprintf(f, " %.9g", pct ? share : pj * 1e-12 / u.per_unit);
            for (int k = 0; k < 3; k++)
                csv_str(csv, store_query_text(q, k), false);
            csv_str(csv, cost_energy_name((cost_energy)c), false);
            csv_num(csv, pj, false);
            csv_num(csv, share, true);
        }
        fputc('\n', f);
    }
    int rc_csv = close_csv(csv, "energy", e);
    char ylabel[128];
    if (pct)
        snprintf(ylabel, sizeof ylabel, "Share of training energy (%%)");
    else
        snprintf(ylabel, sizeof ylabel, "Training energy (%s)", u.name);
    const gp_var vars[] = {
        GP_STR("datafile", path), GP_STR("ylabel", ylabel), GP_NUM("n", ps.runs),
        GP_NUM("n_cols", n_cols), GP_NUM("first_len", max_len), GP_NUM("tic_len", max_len),
        GP_NUM("percent", pct), GP_STR("group", group),
    };
    if (rc_csv) {
        store_query_close(q, NULL);
        fclose(f);
        return rc_csv;
    }
    return finish_query_plot(j, q, f, path, "energy.gp", pct ? "energy-share" : "energy", vars,
                             sizeof vars / sizeof vars[0], e);
}

/* The start of a plot of one line per run (cumulative, schedule): the plotted runs (run_id,
 * label, model_name, arch_name) into runs, refused beyond the lines one key can tell apart,
 * and the per-run curve query (?1 = the run's id) opened into curve. */
static int start_line_plot(plot_job *j, plotted_stats *ps, const char *kind,
                           const char *curve_sql, store_query **runs, store_query **curve,
                           bs_error *e)
{
    int rc = start_plotted(j, ps, PLOTTED_RUNS_SELECT("run_id, label, model_name, arch_name"),
                           runs, e);
    if (rc)
        return rc;
    if (ps->runs > SPEEDUP_MAX_LABELS) {
        store_query_close(*runs, NULL);
        return err_set(e, BS_EINPUT, "%d runs are too many lines for one %s figure (at most %d);"
                       " choose with --model/--arch", ps->runs, kind, SPEEDUP_MAX_LABELS);
    }
    if ((rc = store_query_open(j->s, curve_sql, j->what, curve, e)))
        store_query_close(*runs, NULL);
    return rc;
}

/* One line plot's rows: how a curve row is written (its data-file columns and, after the
 * run's label, model and arch, its CSV cells), and what each block starts with. */
typedef void (*curve_row_fn)(FILE *f, FILE *csv, store_query *curve, const void *ctx);

typedef struct line_plot {
    const char *kind;        /* the data file KIND.dat and the CSV KIND.csv */
    const char *csv_header;
    const char *first_row;   /* after each block's title: a starting point, or "" */
    curve_row_fn row;
    const void *ctx;
} line_plot;

/* A line plot's data file as written: open at path, blocks runs in it (for
 * finish_query_plot, which closes the runs query). */
typedef struct line_data {
    FILE *f;
    char path[PATH_MAX + 64];
    int blocks;
    int key_len;    /* characters of the longest run title (the key's width) */
    int max_rows;   /* the most curve rows of one block (epochs of the longest run) */
} line_data;

/* The data of a plot of one line per run: per run a block (its title line, lp->first_row, then
 * one row per row of curve, bound to the run's id). Always closes curve. On success d holds
 * the open data file; on failure runs is closed and nothing is left open. */
static int write_line_blocks(plot_job *j, const plotted_stats *ps, store_query *runs,
                             store_query *curve, const line_plot *lp, line_data *d,
                             bs_error *e)
{
    char name[64];
    snprintf(name, sizeof name, "%s.dat", lp->kind);
    FILE *csv = NULL;
    int rc;
    if ((rc = open_data(j, name, &d->f, d->path, sizeof d->path, e)) == BS_OK &&
        (rc = open_csv(j, lp->kind, lp->csv_header, &csv, e)) != BS_OK)
        fclose(d->f);
    if (rc) {
        store_query_close(runs, NULL);
        store_query_close(curve, NULL);
        return rc;
    }
    d->blocks = 0;
    d->key_len = 0;
    d->max_rows = 0;
    while (store_query_next(runs)) {
        char title[512];
        run_title_of_row(title, sizeof title, runs, 1, ps->groups > 1);
        if ((int)strlen(title) > d->key_len)
            d->key_len = (int)strlen(title);
        fputs(d->blocks++ ? "\n\n" : "", d->f);
        write_data_string(d->f, title);
        fputc('\n', d->f);
        fputs(lp->first_row, d->f);
        store_query_bind_int(curve, 1, store_query_int(runs, 0));
        int rows = 0;
        while (store_query_next(curve)) {
            for (int k = 0; k < 3; k++)
                csv_str(csv, store_query_text(runs, 1 + k), false);
            lp->row(d->f, csv, curve, lp->ctx);
            rows++;
        }
        d->max_rows = rows > d->max_rows ? rows : d->max_rows;
        /* a curve cut short would be drawn as if complete */
        if ((rc = store_query_reset(curve, e))) {
            store_query_close(curve, NULL);
            store_query_close(runs, NULL);
            fclose(d->f);
            fclose(csv);
            return rc;
        }
    }
    store_query_close(curve, NULL);
    if ((rc = close_csv(csv, lp->kind, e))) {
        store_query_close(runs, NULL);
        fclose(d->f);
    }
    return rc;
}

typedef struct cumulative_units {
    unit time, energy;
} cumulative_units;

static void cumulative_row(FILE *f, FILE *csv, store_query *curve, const void *ctx)
{
    const cumulative_units *u = ctx;
    fprintf(f, "%lld %.9g %.9g\n", (long long)store_query_int(curve, 0),
            store_query_double(curve, 1) / u->time.per_unit,
            store_query_double(curve, 2) / u->energy.per_unit);
    for (int k = 0; k < 3; k++)
        csv_num(csv, store_query_double(curve, k), k == 2);
}

/* One data block per run: a header line with the run's title, a (0, 0, 0) start, then the
 * cumulative time and energy after each epoch (epochs counted from 1). */
static int plot_cumulative(plot_job *j, bs_error *e)
{
    plotted_stats ps;
    store_query *runs, *curve;
    int rc = start_line_plot(j, &ps, "cumulative",
                             "SELECT epoch + 1, cum_latency_s, cum_energy_pj * 1e-12"
                             " FROM epoch_costs WHERE run_id = ?1 ORDER BY epoch",
                             &runs, &curve, e);
    if (rc)
        return rc;
    cumulative_units u = {pick_unit(time_units, ps.max_latency_s),
                          pick_unit(energy_units, ps.max_energy_j)};
    const line_plot lp = {"cumulative", "label,model,arch,epoch,cum_latency_s,cum_energy_j",
                          "0 0 0\n", cumulative_row, &u};
    line_data d;
    if ((rc = write_line_blocks(j, &ps, runs, curve, &lp, &d, e)))
        return rc;
    const gp_var vars[] = {
        GP_STR("datafile", d.path), GP_STR("time_unit", u.time.name),
        GP_STR("energy_unit", u.energy.name), GP_NUM("n", d.blocks),
        GP_NUM("key_len", d.key_len),
    };
    return finish_query_plot(j, runs, d.f, d.path, "cumulative.gp", "cumulative", vars,
                             sizeof vars / sizeof vars[0], e);
}

/* The FWD operand widths of one run on a full (epoch x layer) grid, so gnuplot's `image`
 * gets a regular grid: layers are the MAC layers (forward MAdds > 0; norm, pooling and
 * elementwise layers have no operand pair worth a colour), numbered 0.. in model order; a
 * missing cell is NaN (drawn empty). Widths of 32 bits and more (fp32, typically a first or
 * last layer kept at full precision) go into their own columns, drawn grey: left in the
 * colour scale they would stretch it to 32 and squeeze the 2-8 bit band every scheme lives
 * in. The grid also goes into csv, and the MAC layers' names into names (y tic labels). */
typedef struct timeline_stats {
    double lo, hi;          /* low-precision (< 32 bit) widths seen */
    double first[2];        /* constant-run detection: every width of an operand = first */
    bool varies;
    int cells, full_cells, n_layers, n_epochs;
    char ytics[4096];       /* gnuplot: set ytics ("name" y, ...) */
} timeline_stats;

static int write_timeline(plot_job *j, int64_t run, FILE *f, FILE *csv, const char *label,
                          timeline_stats *ts, bs_error *e)
{
    store_query *q;
    int rc = store_query_open(
            j->s,
            "WITH ep AS (SELECT DISTINCT epoch FROM costs WHERE run_id = ?1),"
            " ly AS (SELECT layer, name, row_number() OVER (ORDER BY layer) - 1 AS y FROM"
            "  (SELECT layer, min(layer_name) AS name FROM costs WHERE run_id = ?1"
            "   AND pass = 'FWD' AND layer >= 0 GROUP BY layer HAVING max(madds) > 0))"
            " SELECT ep.epoch + 1, ly.y, c.avg_bits_x, c.avg_bits_y, ly.name FROM ep CROSS JOIN ly"
            " LEFT JOIN costs c ON c.run_id = ?1 AND c.epoch = ep.epoch AND c.layer = ly.layer"
            "  AND c.pass = 'FWD'"
            " ORDER BY ep.epoch, ly.y",
            j->what, &q, e);
    if (rc)
        return rc;
    store_query_bind_int(q, 1, run);
    *ts = (timeline_stats){.lo = INFINITY, .hi = -INFINITY, .first = {NAN, NAN}};
    char (*names)[64] = calloc(4096, sizeof *names);
    if (!names) {
        store_query_close(q, NULL);
        return err_set(e, BS_EINTERNAL, "out of memory");
    }
    int64_t last_epoch = -1;
    while (store_query_next(q)) {
        int y = (int)store_query_int(q, 1);
        if (store_query_int(q, 0) != last_epoch) {   /* rows come ordered by epoch */
            last_epoch = store_query_int(q, 0);
            ts->n_epochs++;
        }
        if (y < 4096 && !names[y][0])
            snprintf(names[y], sizeof names[y], "%s", store_query_text(q, 4));
        ts->n_layers = y + 1 > ts->n_layers ? y + 1 : ts->n_layers;
        fprintf(f, "%lld %d", (long long)store_query_int(q, 0), y);
        double b[2];
        for (int c = 0; c < 2; c++) {
            b[c] = store_query_double(q, 2 + c);   /* NULL: no width, NaN */
            if (isnan(b[c]))
                continue;
            if (isnan(ts->first[c]))
                ts->first[c] = b[c];
            ts->varies |= b[c] != ts->first[c];
            if (b[c] < 32) {
                ts->lo = fmin(ts->lo, b[c]);
                ts->hi = fmax(ts->hi, b[c]);
            } else {
                ts->full_cells++;
            }
        }
        for (int c = 0; c < 2; c++)
            fprintf(f, isnan(b[c]) || b[c] >= 32 ? " NaN" : " %.6g", b[c]);
        for (int c = 0; c < 2; c++)
            fprintf(f, !isnan(b[c]) && b[c] >= 32 ? " %.6g" : " NaN", b[c]);
        fputc('\n', f);
        csv_str(csv, label, false);
        csv_num(csv, store_query_double(q, 0), false);
        csv_str(csv, store_query_text(q, 4), false);
        csv_num(csv, b[0], false);
        csv_num(csv, b[1], true);
        ts->cells++;
    }
    if ((rc = store_query_close(q, e))) {
        free(names);
        return rc;
    }
    /* names of every stride-th layer, so the tick labels do not overlap at 8-9 pt */
    static const int max_names[PLOT_SIZE_COUNT] = {16, 12, 12};
    int stride = (ts->n_layers + max_names[j->req->size] - 1) / max_names[j->req->size];
    size_t len = (size_t)snprintf(ts->ytics, sizeof ts->ytics, "set ytics (");
    for (int y = 0; y < ts->n_layers && y < 4096; y += stride ? stride : 1) {
        for (char *p = names[y]; *p; p++)
            if (*p == '"' || *p == '\\' || *p == '\'')
                *p = '_';
        int w = snprintf(ts->ytics + len, sizeof ts->ytics - len, "%s\"%s\" %d", y ? ", " : "",
                         names[y], y);
        if (w < 0 || (size_t)w >= sizeof ts->ytics - len - 2)
            break;
        len += (size_t)w;
    }
    snprintf(ts->ytics + len, sizeof ts->ytics - len, ")");
    free(names);
    return BS_OK;
}

/* Timelines draw one figure per run: beyond this many, a database is a sweep's and a page of
 * heatmaps is not what anyone wants; --model and --arch choose. */
enum { TIMELINE_MAX_RUNS = 16 };

static int plot_timeline(plot_job *j, bs_error *e)
{
    plotted_stats ps;
    store_query *runs;
    int rc = start_plotted(j, &ps, PLOTTED_RUNS_SELECT("run_id, label, model_name, arch_name"),
                           &runs, e);
    if (rc)
        return rc;
    if (ps.runs > TIMELINE_MAX_RUNS) {
        store_query_close(runs, NULL);
        return err_set(e, BS_EINPUT, "%d runs would be %d timeline figures (one per run, at most"
                       " %d); choose with --model and --arch", ps.runs, ps.runs,
                       TIMELINE_MAX_RUNS);
    }
    int drawn = 0, constant = 0, one_epoch = 0;
    while (rc == BS_OK && store_query_next(runs)) {
        int64_t run = store_query_int(runs, 0);
        const char *label = store_query_text(runs, 1);
        const char *model = store_query_text(runs, 2);
        const char *arch = store_query_text(runs, 3);
        char data_name[64], path[PATH_MAX + 64];
        snprintf(data_name, sizeof data_name, "timeline-%lld.dat", (long long)run);
        char base[512], part[3][128], title[512];
        sanitize(part[0], sizeof part[0], label);
        sanitize(part[1], sizeof part[1], model);
        sanitize(part[2], sizeof part[2], arch);
        if (ps.groups > 1)
            snprintf(base, sizeof base, "timeline-%s-%s-%s", part[0], part[1], part[2]);
        else
            snprintf(base, sizeof base, "timeline-%s", part[0]);
        FILE *f, *csv;
        if ((rc = open_data(j, data_name, &f, path, sizeof path, e)))
            break;
        if ((rc = open_csv(j, base, "label,epoch,layer,bits_activations,bits_weights", &csv, e))) {
            fclose(f);
            break;
        }
        timeline_stats *ts = malloc(sizeof *ts);
        rc = ts ? write_timeline(j, run, f, csv, label, ts, e)
                : err_set(e, BS_EINTERNAL, "out of memory");
        int rc2 = close_data(f, path, e), rc3 = close_csv(csv, base, e);
        if (rc || (rc = rc2) || (rc = rc3)) {
            free(ts);
            break;
        }
        if (ts->cells == 0 || (isnan(ts->first[0]) && isnan(ts->first[1]))) {
            free(ts);
            continue; /* no forward MAC rows with widths: nothing to draw for this run */
        }
        if (ts->n_epochs < 2) { /* gnuplot's image of one column is an empty frame */
            note(j, "timeline: %s (%s on %s) spans one epoch; a timeline over epochs needs two"
                 " or more; no figure drawn (per-layer widths in %s.csv)", label, model, arch,
                 base);
            one_epoch++;
            free(ts);
            continue;
        }
        if (!ts->varies) { /* one colour over the whole page says less than one sentence */
            note(j, "timeline: %s (%s on %s) is constant: every MAC layer at %g-bit activations"
                 " and %g-bit weights in every epoch; no figure drawn (data in %s.csv)", label,
                 model, arch, ts->first[0], ts->first[1], base);
            constant++;
            free(ts);
            continue;
        }
        /* the colour scale covers the low-precision widths only, on log2 (factors of width
         * matter); fp32 cells are grey (plots/timeline.gp) */
        double lo = isfinite(ts->lo) ? fmax(floor(ts->lo), 1) : 2;
        double hi = isfinite(ts->hi) ? fmax(ceil(ts->hi), lo + 1) : lo + 1;
        snprintf(title, sizeof title, "%s: %s on %s", label, model, arch);
        const gp_var vars[] = {
            GP_STR("datafile", path), GP_STR("plot_title", title), GP_NUM("cbmin", lo),
            GP_NUM("cbmax", hi), GP_NUM("full_cells", ts->full_cells),
            GP_STR("ytics_cmd", ts->ytics),
        };
        rc = run_gnuplot(j, "timeline.gp", base, vars, sizeof vars / sizeof vars[0], e);
        free(ts); /* after gnuplot: vars point into it (ytics_cmd) */
        drawn++;
    }
    int rc_q = store_query_close(runs, e);      /* not "nothing to draw": a failed query */
    if (rc == BS_OK && rc_q)
        return rc_q;
    if (rc == BS_OK && drawn == 0 && one_epoch)
        rc = err_set(e, BS_EINPUT, "no run has bit-widths over two or more epochs (%d of one"
                     " epoch, %d constant); no timeline to draw", one_epoch, constant);
    else if (rc == BS_OK && drawn == 0 && constant)
        rc = err_set(e, BS_EINPUT, "every run has constant bit-widths (%d runs); a timeline would"
                     " be one colour", constant);
    else if (rc == BS_OK && drawn == 0)
        rc = err_set(e, BS_EINPUT, "no run has forward-pass bit-widths to draw a timeline of");
    return rc;
}

static void schedule_row(FILE *f, FILE *csv, store_query *curve, const void *ctx)
{
    (void)ctx;
    fprintf(f, "%lld", (long long)store_query_int(curve, 0));
    csv_num(csv, store_query_double(curve, 0), false);
    for (int c = 1; c <= 3; c++) {
        double v = store_query_double(curve, c);    /* NULL: no pass of that kind, NaN */
        fprintf(f, isnan(v) ? " NaN" : " %.9g", v);
        csv_num(csv, v, c == 3);
    }
    fputc('\n', f);
}

/* The precision schedule as lines over epochs (the CPT and FracTrain papers' figures): per
 * run and epoch, the MAdds-weighted mean width over the MAC layers of the forward pass's
 * activations and weights and of the backward pass's gradients. One block per run. */
static int plot_schedule(plot_job *j, bs_error *e)
{
    plotted_stats ps;
    store_query *runs, *curve;
#define WMEAN(pass, col)                                                                    \
    " sum(CASE WHEN pass = '" pass "' THEN madds * " col " END) /"                          \
    " sum(CASE WHEN pass = '" pass "' AND " col " IS NOT NULL THEN madds END)"
    int rc = start_line_plot(j, &ps, "schedule",
                             "SELECT epoch + 1," WMEAN("FWD", "avg_bits_x") ","
                             WMEAN("FWD", "avg_bits_y") "," WMEAN("BWD_DATA", "avg_bits_x")
                             " FROM costs WHERE run_id = ?1 AND layer >= 0 AND madds > 0"
                             " GROUP BY epoch ORDER BY epoch",
                             &runs, &curve, e);
#undef WMEAN
    if (rc)
        return rc;
    const line_plot lp = {"schedule", "label,model,arch,epoch,bits_activations,bits_weights,"
                          "bits_gradients", "", schedule_row, NULL};
    line_data d;
    if ((rc = write_line_blocks(j, &ps, runs, curve, &lp, &d, e)))
        return rc;
    if (d.max_rows < 2) {   /* a step line of one point draws nothing: empty panels */
        store_query_close(runs, NULL);
        fclose(d.f);
        return err_set(e, BS_EINPUT, "every run spans one epoch; a schedule over epochs needs"
                       " two or more (widths in schedule.csv)");
    }
    const gp_var vars[] = {GP_STR("datafile", d.path), GP_NUM("n", d.blocks),
                           GP_NUM("key_len", d.key_len)};
    return finish_query_plot(j, runs, d.f, d.path, "schedule.gp", "schedule", vars,
                             sizeof vars / sizeof vars[0], e);
}

/* Accuracy against training cost (the papers' central figure): one point per run whose
 * trace stated the accuracy reached (trace header `accuracy` -> runs.accuracy_pct), against
 * training energy (left) and latency (right), labelled with the run's label. */
static int plot_accuracy(plot_job *j, bs_error *e)
{
    if (!store_has_column(j->s, "runs", "accuracy_pct"))
        return err_set(e, BS_EINPUT, "no run states an accuracy (the database predates"
                       " runs.accuracy_pct; traces state it with the header field `accuracy`)");
    plotted_stats ps;
    store_query *q;
    int rc = start_plotted(j, &ps,
                           PLOTTED_RUNS "SELECT p.label, p.model_name, p.arch_name, r.accuracy_pct,"
                           " p.energy_j, p.latency_s, max(p.energy_j) OVER (),"
                           " max(p.latency_s) OVER () FROM plotted p JOIN runs r ON r.id = p.run_id"
                           " WHERE r.accuracy_pct IS NOT NULL"
                           " ORDER BY p.model_name, p.arch_name, p.run_id",
                           &q, e);
    if (rc)
        return rc;
    /* units from the runs drawn, not from every plotted run: a LeNet point beside ResNet runs
     * that state no accuracy would sit at 0.0002 h, and its tick labels run together */
    unit ut = time_units[0], ue = energy_units[0];
    FILE *f, *csv;
    char path[PATH_MAX + 64];
    if ((rc = open_data(j, "accuracy.dat", &f, path, sizeof path, e)) == BS_OK &&
        (rc = open_csv(j, "accuracy", "label,model,arch,accuracy_pct,energy_j,latency_s", &csv,
                       e)) != BS_OK)
        fclose(f);
    if (rc) {
        store_query_close(q, NULL);
        return rc;
    }
    /* one block per (network, arch) group, headed by its name (the key), points labelled
     * with the run's label only */
    int points = 0, blocks = 0;
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {0, 0};
    char group[300] = "";
    while (store_query_next(q)) {
        char g[300];
        snprintf(g, sizeof g, "%s on %s", store_query_text(q, 1), store_query_text(q, 2));
        if (strcmp(g, group) != 0) {
            fputs(blocks++ ? "\n\n" : "", f);
            write_data_string(f, g);
            fputc('\n', f);
            snprintf(group, sizeof group, "%s", g);
        }
        if (points == 0) {
            ue = pick_unit(energy_units, store_query_double(q, 6));
            ut = pick_unit(time_units, store_query_double(q, 7));
        }
        double acc = store_query_double(q, 3), ej = store_query_double(q, 4),
               ls = store_query_double(q, 5);
        fprintf(f, "%.17g %.17g %.17g ", acc, ej / ue.per_unit, ls / ut.per_unit);
        write_data_string(f, store_query_text(q, 0));
        fputc('\n', f);
        for (int k = 0; k < 3; k++)
            csv_str(csv, store_query_text(q, k), false);
        csv_num(csv, acc, false);
        csv_num(csv, ej, false);
        csv_num(csv, ls, true);
        for (int k = 0; k < 2; k++) {
            double v = k ? ls : ej;
            lo[k] = fmin(lo[k], v);
            hi[k] = fmax(hi[k], v);
        }
        points++;
    }
    int rc_csv = close_csv(csv, "accuracy", e);
    if (points == 0 || rc_csv) {
        int rc_q = store_query_close(q, e);
        fclose(f);
        if (rc_q || rc_csv)
            return rc_q ? rc_q : rc_csv;
        return err_set(e, BS_EINPUT, "no run states an accuracy (trace header field `accuracy`,"
                       " traces/FORMAT.md)");
    }
    char xe[64], xt[64];
    snprintf(xe, sizeof xe, "Training energy (%s)", ue.name);
    snprintf(xt, sizeof xt, "Training latency (%s)", ut.name);
    const gp_var vars[] = {
        GP_STR("datafile", path), GP_STR("xlabel_e", xe), GP_STR("xlabel_t", xt),
        GP_NUM("logx_e", hi[0] > 20 * lo[0]), GP_NUM("logx_t", hi[1] > 20 * lo[1]),
        GP_NUM("n", blocks),
    };
    return finish_query_plot(j, q, f, path, "accuracy.gp", "accuracy", vars,
                             sizeof vars / sizeof vars[0], e);
}

/* The sweep's Pareto front: the data come from front.h (area needs the arch model), the
 * look from plots/pareto.gp. */
static int plot_pareto(plot_job *j, bs_error *e)
{
    front_query q = {.model = j->req->model};
    char all[PATH_MAX + 32], front[PATH_MAX + 32];
    int rc = front_write_plot_files(j->s, &q, j->tmp_dir, all, front, sizeof all, e);
    if (rc)
        return rc;
    front_set fs;  /* the figure's data beside it: every point, on_front marked */
    if ((rc = front_load(j->s, &q, &fs, e)))
        return rc;
    table *t = front_table(&fs, true);
    front_free(&fs);
    FILE *csv = NULL;
    if (!t)
        return err_set(e, BS_EINTERNAL, "out of memory");
    char csv_path[PATH_MAX + 32];
    snprintf(csv_path, sizeof csv_path, "%s/pareto.csv", j->req->out_dir);
    bool ok = (csv = fopen(csv_path, "w")) && table_print(t, TABLE_CSV, csv);
    table_free(t);
    if ((csv && fclose(csv) != 0) || !ok)
        return err_set(e, BS_EINPUT, "%s: cannot write the figure's data", csv_path);
    const gp_var vars[] = {
        GP_STR("all_file", all), GP_STR("front_file", front),
    };
    return run_gnuplot(j, "pareto.gp", "pareto", vars, sizeof vars / sizeof vars[0], e);
}

/* The plot kinds, their one declaration: a name, what it draws (bitsim plot --help lists this
 * table) and its maker. Adding a plot is a row here, its maker above and its script in
 * plots/; plot.h and the command line follow. */
typedef struct plot_kind_entry {
    const char *name;
    const char *summary;
    int (*make)(plot_job *j, bs_error *e);
} plot_kind_entry;

static const plot_kind_entry kinds[] = {
    {"speedup", "speedup and energy saving against --baseline, grouped bars", plot_speedup},
    {"energy", "training energy per run, stacked by component (or 100 %)", plot_energy},
    {"cumulative", "cumulative training time and energy over epochs, one line per run",
     plot_cumulative},
    {"schedule", "precision schedule: mean A/W/G bit-widths over epochs", plot_schedule},
    {"timeline", "per run: forward-pass bit-width heatmap over epochs and layers", plot_timeline},
    {"accuracy", "final accuracy (trace header) against training energy, latency", plot_accuracy},
    {"pareto", "a sweep's points: energy vs latency, colour = area, the front marked",
     plot_pareto},
};
enum { N_KINDS = sizeof kinds / sizeof kinds[0] };

int plot_kind_count(void)
{
    return N_KINDS;
}

int plot_kind_parse(const char *s)
{
    for (int k = 0; k < N_KINDS; k++)
        if (strcmp(kinds[k].name, s) == 0)
            return k;
    return -1;
}

const char *plot_kind_name(int k)
{
    return k >= 0 && k < N_KINDS ? kinds[k].name : "?";
}

const char *plot_kind_summary(int k)
{
    return k >= 0 && k < N_KINDS ? kinds[k].summary : "?";
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

int plot_make(store *s, int kind, const plot_request *r,
              void (*on_file)(const char *path, void *ctx), void *ctx, bs_error *e)
{
    if (kind < 0 || kind >= N_KINDS || (int)r->format < 0 ||
        r->format >= PLOT_FORMAT_COUNT)
        return err_set(e, BS_EINTERNAL, "plot_make: bad kind %d or format %d", kind,
                       (int)r->format);
    plot_job j = {.s = s, .req = r, .on_file = on_file, .ctx = ctx};
    snprintf(j.what, sizeof j.what, "reading the %s plot's data", kinds[kind].name);
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
