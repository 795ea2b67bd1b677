/* sweep.c — space files, sampling and sharding (the format is sweeps/FORMAT.md).
 *
 * Why the pieces look the way they do:
 *  - Parameter values are kept as TEXT, exactly as they will be written into the arch file:
 *    a point is "the base arch with these key = value lines changed", so the arch parser
 *    stays the one judge of what a value means, and a point's identity (its arch content
 *    hash in the store) is the same however the point was reached.
 *  - Points are numbered over the whole space before sharding. Grid points are never
 *    materialised (point i is the mixed-radix digits of i, last parameter fastest); random
 *    and Latin-hypercube points are drawn once, in index order, from one mt19937 stream, so
 *    point i is the same in every shard and on every machine.
 *  - LHS (McKay, Beckman & Conover 1979): for each parameter, an independent permutation π
 *    of the N strata; point i's quantile is (π(i) + u)/N with u uniform in [0,1), mapped by
 *    the parameter's inverse CDF (list index ⌊q·K⌋, lo + q(hi−lo), or its log-space form).
 */
#include "sweep.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "checked.h"
#include "text.h"

/* One parameter's list may not exceed this (a range 0:1e9:1 is a typo, not a plan). */
#define SWEEP_MAX_VALUES 100000u
/* random / lhs keep points x params doubles in memory. */
#define SWEEP_MAX_SAMPLES (1ULL << 24)
/* Relative slack when deciding whether a range's last step lands on stop. */
#define RANGE_EPS 1e-9

typedef enum section { SEC_NONE, SEC_SWEEP, SEC_PARAMS, SEC_CONSTRAINTS } section;
static const char *const section_names[] = {"sweep", "params", "constraints", NULL};
static const char *const sweep_keys[] = {"arch", "sampling", "points", "seed", "energy", NULL};
enum { KEY_ARCH, KEY_SAMPLING, KEY_POINTS, KEY_SEED, KEY_ENERGY, KEY_COUNT };
static const char *const energy_names[] = {"model", "base", NULL};
static const char *const sampling_names[] = {"grid", "random", "lhs", NULL};
static const char *const dist_names[] = {"choice", "uniform", "loguniform", NULL};
enum { DIST_CHOICE, DIST_UNIFORM, DIST_LOGUNIFORM };
static const char *const metric_names[] = {"area_mm2", "power_w", NULL};

typedef struct parser {
    sweep_space *s;
    const char *path;
    long line;
    long sweep_key_line[KEY_COUNT];
    long section_line[4];   /* per section: its header's line, 0 if absent */
    bs_error *e;
} parser;

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Shortest faithful text for a number that goes into an arch file. */
static void format_number(double v, char *buf, size_t n)
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%.9g", v);
}

static bool value_token_ok(const char *v)
{
    if (!*v || strlen(v) >= SWEEP_VALUE_MAX)
        return false;
    for (const char *c = v; *c; c++)
        if (!(isalnum((unsigned char)*c) || strchr("_.+-", *c)))
            return false;
    return true;
}

static int add_value(parser *p, sweep_param *prm, const char *v)
{
    if (!value_token_ok(v))
        return err_at(p->e, p->path, p->line, prm->key,
                      "bad value '%.40s' (letters, digits, _ . + - only, at most %d chars)",
                      v, SWEEP_VALUE_MAX - 1);
    if (prm->n_values >= SWEEP_MAX_VALUES)
        return err_at(p->e, p->path, p->line, prm->key, "more than %u values",
                      SWEEP_MAX_VALUES);
    if ((prm->n_values & (prm->n_values - 1)) == 0) {   /* grow at powers of two */
        uint32_t cap = prm->n_values ? prm->n_values * 2 : 4;
        void *grown = realloc(prm->values, (size_t)cap * sizeof *prm->values);
        if (!grown)
            return err_set(p->e, BS_EINTERNAL, "out of memory");
        prm->values = grown;
    }
    snprintf(prm->values[prm->n_values++], SWEEP_VALUE_MAX, "%s", v);
    return BS_OK;
}

static int parse_list(parser *p, sweep_param *prm, char *v)
{
    prm->kind = SWEEP_DISCRETE;
    for (char *item = v;;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        char *t = trim(item);
        if (!*t)
            return err_at(p->e, p->path, p->line, prm->key, "empty list item");
        int rc = add_value(p, prm, t);
        if (rc)
            return rc;
        if (!comma)
            return BS_OK;
        item = comma + 1;
    }
}

static bool parse_number(const char *s, double *out)
{
    return text_parse_double(s, -1e300, 1e300, out);
}

/* start:stop:step or start:stop:log2; stop is included when a step lands on it. */
static int parse_range(parser *p, sweep_param *prm, char *v)
{
    char *part[3];
    int n = 0;
    part[n++] = v;
    for (char *c = v; (c = strchr(c, ':')) != NULL; c++) {
        if (n == 3)
            return err_at(p->e, p->path, p->line, prm->key,
                          "range has more than three parts (start:stop:step)");
        *c = '\0';
        part[n++] = c + 1;
    }
    if (n != 3)
        return err_at(p->e, p->path, p->line, prm->key,
                      "range needs start:stop:step or start:stop:log2");
    double start, stop, step = 0;
    bool log2_steps = strcmp(trim(part[2]), "log2") == 0;
    if (!parse_number(trim(part[0]), &start))
        return err_at(p->e, p->path, p->line, prm->key, "range start '%.40s' is not a number",
                      part[0]);
    if (!parse_number(trim(part[1]), &stop))
        return err_at(p->e, p->path, p->line, prm->key, "range stop '%.40s' is not a number",
                      part[1]);
    if (!log2_steps && !parse_number(trim(part[2]), &step))
        return err_at(p->e, p->path, p->line, prm->key,
                      "range step '%.40s' is neither a number nor log2", part[2]);
    if (stop < start)
        return err_at(p->e, p->path, p->line, prm->key, "empty range: stop %g < start %g",
                      stop, start);
    if (!log2_steps && step <= 0)
        return err_at(p->e, p->path, p->line, prm->key, "empty range: step %g <= 0", step);
    if (log2_steps && start <= 0)
        return err_at(p->e, p->path, p->line, prm->key,
                      "empty range: a log2 range needs start > 0, got %g", start);
    prm->kind = SWEEP_DISCRETE;
    double limit = stop + fabs(stop) * RANGE_EPS;
    char buf[SWEEP_VALUE_MAX];
    for (uint64_t k = 0;; k++) {
        double x = log2_steps ? start * ldexp(1.0, (int)(k < 2000 ? k : 2000))
                              : start + (double)k * step;
        if (x > limit || (k > 0 && !log2_steps && x == start))
            break;      /* x == start: a step below the precision of start */
        format_number(x, buf, sizeof buf);
        int rc = add_value(p, prm, buf);
        if (rc)
            return rc;
    }
    return BS_OK;
}

static int parse_distribution(parser *p, sweep_param *prm, int dist, char *args)
{
    if (dist == DIST_CHOICE)
        return parse_list(p, prm, args);
    char *tok[5];
    int n = text_split(args, tok, 4);
    const char *name = dist_names[dist];
    if (n < 2 || (n == 3 && strcmp(tok[2], "int") != 0) || n > 3)
        return err_at(p->e, p->path, p->line, prm->key,
                      "%s takes: lo hi [int]", name);
    prm->kind = dist == DIST_UNIFORM ? SWEEP_UNIFORM : SWEEP_LOGUNIFORM;
    prm->integer = n == 3;
    if (!parse_number(tok[0], &prm->lo) || !parse_number(tok[1], &prm->hi))
        return err_at(p->e, p->path, p->line, prm->key, "%s bounds must be numbers", name);
    if (prm->hi < prm->lo)
        return err_at(p->e, p->path, p->line, prm->key, "%s: hi %g < lo %g", name, prm->hi,
                      prm->lo);
    if (prm->kind == SWEEP_LOGUNIFORM && prm->lo <= 0)
        return err_at(p->e, p->path, p->line, prm->key, "loguniform needs lo > 0, got %g",
                      prm->lo);
    if (prm->integer && ceil(prm->lo) > floor(prm->hi))
        return err_at(p->e, p->path, p->line, prm->key, "%s int: no integer in [%g, %g]",
                      name, prm->lo, prm->hi);
    return BS_OK;
}

static bool is_word(const char *s, size_t n)
{
    if (n == 0 || !isalpha((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

static int parse_param(parser *p, char *key, char *v)
{
    sweep_space *s = p->s;
    if (strlen(key) >= SWEEP_KEY_MAX || !strchr(key, '.') || key[0] == '.' ||
        key[strlen(key) - 1] == '.')
        return err_at(p->e, p->path, p->line, key,
                      "parameters are named SECTION.KEY of the arch file");
    for (uint32_t j = 0; j < s->n_params; j++)
        if (strcmp(s->params[j].key, key) == 0)
            return err_at(p->e, p->path, p->line, key, "duplicate key (first at line %ld)",
                          s->params[j].line);
    if (s->n_params >= SWEEP_MAX_PARAMS)
        return err_at(p->e, p->path, p->line, key, "more than %d parameters",
                      SWEEP_MAX_PARAMS);
    sweep_param *grown = realloc(s->params, (s->n_params + 1) * sizeof *grown);
    if (!grown)
        return err_set(p->e, BS_EINTERNAL, "out of memory");
    s->params = grown;
    sweep_param *prm = &s->params[s->n_params++];
    memset(prm, 0, sizeof *prm);
    snprintf(prm->key, sizeof prm->key, "%s", key);
    prm->line = p->line;
    if (!*v)
        return err_at(p->e, p->path, p->line, key, "no values");
    /* A leading word followed by blanks names a distribution: "uniform 1 2". */
    size_t wlen = strcspn(v, " \t");
    if (v[wlen] && is_word(v, wlen)) {
        v[wlen] = '\0';
        int dist = text_lookup(dist_names, v);
        if (dist < 0)
            return err_at(p->e, p->path, p->line, key,
                          "unknown distribution '%.40s' (choice, uniform, loguniform)", v);
        return parse_distribution(p, prm, dist, trim(v + wlen + 1));
    }
    if (strchr(v, ':'))
        return parse_range(p, prm, v);
    return parse_list(p, prm, v);
}

static int parse_sweep_key(parser *p, char *key, char *v)
{
    sweep_space *s = p->s;
    int k = text_lookup(sweep_keys, key);
    if (k < 0)
        return err_at(p->e, p->path, p->line, key,
                      "unknown key in [sweep] (arch, sampling, points, seed, energy)");
    if (p->sweep_key_line[k])
        return err_at(p->e, p->path, p->line, key, "duplicate key (first at line %ld)",
                      p->sweep_key_line[k]);
    p->sweep_key_line[k] = p->line;
    switch (k) {
    case KEY_ARCH:
        if (!*v || strlen(v) >= sizeof s->arch || strpbrk(v, " \t"))
            return err_at(p->e, p->path, p->line, key, "needs one arch name or path");
        snprintf(s->arch, sizeof s->arch, "%s", v);
        s->arch_line = p->line;
        return BS_OK;
    case KEY_SAMPLING: {
        int m = text_lookup(sampling_names, v);
        if (m < 0)
            return err_at(p->e, p->path, p->line, key,
                          "unknown sampling '%.40s' (grid, random, lhs)", v);
        s->sampling = (sweep_sampling)m;
        return BS_OK;
    }
    case KEY_ENERGY: {
        int m = text_lookup(energy_names, v);
        if (m < 0)
            return err_at(p->e, p->path, p->line, key, "unknown energy '%.40s' (model, base)",
                          v);
        s->energy = (sweep_energy)m;
        return BS_OK;
    }
    case KEY_POINTS:
        if (!text_parse_u64(v, 1, SWEEP_MAX_POINTS, &s->points))
            return err_at(p->e, p->path, p->line, key, "must be an integer in 1..%llu",
                          (unsigned long long)SWEEP_MAX_POINTS);
        return BS_OK;
    default:
        if (!text_parse_u64(v, 0, UINT64_MAX, &s->seed))
            return err_at(p->e, p->path, p->line, key, "must be an integer >= 0");
        return BS_OK;
    }
}

static int parse_constraint(parser *p, char *line)
{
    char *op = strstr(line, "<=");
    bool upper = op != NULL;
    if (!op)
        op = strstr(line, ">=");
    if (!op)
        return err_at(p->e, p->path, p->line, NULL,
                      "constraints read METRIC <= X or METRIC >= X");
    *op = '\0';
    char *name = trim(line), *num = trim(op + 2);
    int m = text_lookup(metric_names, name);
    if (m < 0)
        return err_at(p->e, p->path, p->line, name,
                      "unknown metric (area_mm2, power_w)");
    double x;
    if (!text_parse_double(num, 0, 1e300, &x))
        return err_at(p->e, p->path, p->line, name, "bound '%.40s' must be a number >= 0",
                      num);
    sweep_bound *b = &p->s->bounds[m];
    long *at = upper ? &b->max_line : &b->min_line;
    if (*at)
        return err_at(p->e, p->path, p->line, name,
                      "duplicate %s bound (first at line %ld)", upper ? "upper" : "lower", *at);
    *at = p->line;
    *(upper ? &b->max : &b->min) = x;
    if (upper && x <= 0)
        return err_at(p->e, p->path, p->line, name,
                      "contradictory constraint: no arch has %s <= 0", name);
    if (!isnan(b->min) && !isnan(b->max) && b->min > b->max)
        return err_at(p->e, p->path, p->line, name,
                      "contradictory constraints: %s >= %g (line %ld) and <= %g (line %ld)",
                      name, b->min, b->min_line, b->max, b->max_line);
    return BS_OK;
}

static int parse_line(parser *p, char *line, section *sec)
{
    size_t n = strlen(line);
    if (line[0] == '[') {
        if (line[n - 1] != ']')
            return err_at(p->e, p->path, p->line, NULL, "section header needs a closing ]");
        line[n - 1] = '\0';
        int k = text_lookup(section_names, trim(line + 1));
        if (k < 0)
            return err_at(p->e, p->path, p->line, line + 1,
                          "unknown section (sweep, params, constraints)");
        *sec = (section)(k + 1);
        if (!p->section_line[*sec])
            p->section_line[*sec] = p->line;
        return BS_OK;
    }
    if (*sec == SEC_NONE)
        return err_at(p->e, p->path, p->line, NULL, "line outside a [section]");
    if (*sec == SEC_CONSTRAINTS)
        return parse_constraint(p, line);
    char *eq = strchr(line, '=');
    if (!eq)
        return err_at(p->e, p->path, p->line, NULL, "expected key = value");
    *eq = '\0';
    char *key = trim(line), *value = trim(eq + 1);
    if (!*key)
        return err_at(p->e, p->path, p->line, NULL, "missing key before =");
    return *sec == SEC_SWEEP ? parse_sweep_key(p, key, value) : parse_param(p, key, value);
}

/* Whole-file checks, after every line is read. */
static int check_space(parser *p)
{
    sweep_space *s = p->s;
    /* what is missing is pointed at by its section's header, else the file's last line */
    long last = p->line > 0 ? p->line : 1;
    long sweep_line = p->section_line[SEC_SWEEP] ? p->section_line[SEC_SWEEP] : last;
    if (!s->arch[0])
        return err_at(p->e, p->path, sweep_line, "arch", "missing in [sweep] (the base arch)");
    if (s->n_params == 0)
        return err_at(p->e, p->path, p->section_line[SEC_PARAMS] ? p->section_line[SEC_PARAMS]
                                                                 : last,
                      "params", "no parameters to sweep");
    if (s->sampling == SWEEP_GRID) {
        if (p->sweep_key_line[KEY_POINTS])
            return err_at(p->e, p->path, p->sweep_key_line[KEY_POINTS], "points",
                          "grid sampling visits every combination; points is for random/lhs");
        for (uint32_t j = 0; j < s->n_params; j++)
            if (s->params[j].kind != SWEEP_DISCRETE)
                return err_at(p->e, p->path, s->params[j].line, s->params[j].key,
                              "a continuous distribution needs sampling = random or lhs");
        uint64_t total = 1;
        for (uint32_t j = 0; j < s->n_params; j++)
            if (!checked_mul(total, s->params[j].n_values, &total) || total > SWEEP_MAX_POINTS)
                return err_at(p->e, p->path, s->params[j].line, s->params[j].key,
                              "the grid exceeds %llu points; use sampling = random or lhs",
                              (unsigned long long)SWEEP_MAX_POINTS);
        s->n_points = total;
    } else {
        if (!p->sweep_key_line[KEY_POINTS])
            return err_at(p->e, p->path, p->sweep_key_line[KEY_SAMPLING], "points",
                          "%s sampling needs points = N",
                          sampling_names[s->sampling]);
        if (s->points * s->n_params > SWEEP_MAX_SAMPLES)
            return err_at(p->e, p->path, p->sweep_key_line[KEY_POINTS], "points",
                          "points x parameters exceeds %llu",
                          (unsigned long long)SWEEP_MAX_SAMPLES);
        s->n_points = s->points;
    }
    return BS_OK;
}

int sweep_space_parse(sweep_space *s, const char *path, const char *buf, size_t len,
                      bs_error *e)
{
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    s->seed = 1;
    for (int m = 0; m < SWEEP_METRIC_COUNT; m++)
        s->bounds[m].min = s->bounds[m].max = NAN;
    parser p = {.s = s, .path = s->path, .e = e};
    text_reader r;
    text_open_buffer(&r, s->path, buf, len);
    section sec = SEC_NONE;
    char *line;
    int rc;
    while ((rc = text_next_line(&r, &line, e)) == 1) {
        p.line = r.line_no;
        if ((rc = parse_line(&p, line, &sec)) != BS_OK)
            break;
    }
    if (rc < 0)     /* a reader error (NUL byte, over-long line): e says which */
        rc = e ? e->code : BS_EINPUT;
    text_close(&r);
    if (rc == 0)
        rc = check_space(&p);
    if (rc)
        sweep_space_free(s);
    return rc;
}

int sweep_space_load(sweep_space *s, const char *path, bs_error *e)
{
    text_reader r;
    int rc = text_open_file(&r, path, e);
    if (rc) {
        memset(s, 0, sizeof *s);
        return rc;
    }
    rc = sweep_space_parse(s, path, r.buf, r.len, e);
    text_close(&r);
    return rc;
}

void sweep_space_free(sweep_space *s)
{
    for (uint32_t j = 0; j < s->n_params; j++)
        free(s->params[j].values);
    free(s->params);
    free(s->samples);
    s->params = NULL;
    s->samples = NULL;
    s->n_params = 0;
}

/* Inverse CDF of parameter prm at quantile q in [0,1): list index or value. */
static double quantile_value(const sweep_param *prm, double q)
{
    switch (prm->kind) {
    case SWEEP_DISCRETE: {
        double k = floor(q * prm->n_values);
        return k < prm->n_values ? k : prm->n_values - 1;
    }
    case SWEEP_UNIFORM:
        return prm->lo + q * (prm->hi - prm->lo);
    default:
        return exp(log(prm->lo) + q * (log(prm->hi) - log(prm->lo)));
    }
}

int sweep_space_sample(sweep_space *s, bool seed_set, uint64_t seed, bs_error *e)
{
    if (seed_set)
        s->seed = seed;
    free(s->samples);
    s->samples = NULL;
    if (s->sampling == SWEEP_GRID)
        return BS_OK;
    uint64_t n = s->n_points, np = s->n_params;
    s->samples = malloc(n * np * sizeof *s->samples);
    size_t *perm = s->sampling == SWEEP_LHS ? malloc(n * sizeof *perm) : NULL;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!s->samples || (s->sampling == SWEEP_LHS && !perm) || !rng) {
        free(perm);
        if (rng)
            gsl_rng_free(rng);
        return err_set(e, BS_EINTERNAL, "out of memory sampling %llu points",
                       (unsigned long long)n);
    }
    /* gsl_rng_set takes an unsigned long; fold the high half in so every seed bit counts. */
    gsl_rng_set(rng, (unsigned long)(s->seed ^ (s->seed >> 32)));
    if (s->sampling == SWEEP_RANDOM) {
        for (uint64_t i = 0; i < n; i++)
            for (uint64_t j = 0; j < np; j++)
                s->samples[i * np + j] = quantile_value(&s->params[j], gsl_rng_uniform(rng));
    } else {
        for (uint64_t j = 0; j < np; j++) {
            for (uint64_t i = 0; i < n; i++)
                perm[i] = i;
            gsl_ran_shuffle(rng, perm, n, sizeof *perm);
            for (uint64_t i = 0; i < n; i++) {
                double q = ((double)perm[i] + gsl_rng_uniform(rng)) / (double)n;
                s->samples[i * np + j] = quantile_value(&s->params[j], q);
            }
        }
    }
    free(perm);
    gsl_rng_free(rng);
    return BS_OK;
}

static double round_into(const sweep_param *prm, double v)
{
    v = nearbyint(v);
    if (v < ceil(prm->lo))
        v = ceil(prm->lo);
    if (v > floor(prm->hi))
        v = floor(prm->hi);
    return v;
}

void sweep_point_value(const sweep_space *s, uint64_t i, uint32_t j, char *buf, size_t n)
{
    const sweep_param *prm = &s->params[j];
    if (s->sampling == SWEEP_GRID) {
        uint64_t rest = i;
        for (uint32_t k = s->n_params - 1; k > j; k--)
            rest /= s->params[k].n_values;
        snprintf(buf, n, "%s", prm->values[rest % prm->n_values]);
        return;
    }
    double v = s->samples[i * s->n_params + j];
    if (prm->kind == SWEEP_DISCRETE)
        snprintf(buf, n, "%s", prm->values[(uint32_t)v]);
    else
        format_number(prm->integer ? round_into(prm, v) : v, buf, n);
}

int sweep_space_check_keys(const sweep_space *s, sweep_value_check check, void *ctx,
                           bs_error *e)
{
    char why[256], value[SWEEP_VALUE_MAX];
    for (uint32_t j = 0; j < s->n_params; j++) {
        const sweep_param *prm = &s->params[j];
        uint32_t n = prm->kind == SWEEP_DISCRETE ? prm->n_values : 2;
        for (uint32_t k = 0; k < n; k++) {
            if (prm->kind == SWEEP_DISCRETE)
                snprintf(value, sizeof value, "%s", prm->values[k]);
            else {
                double v = k == 0 ? prm->lo : prm->hi;
                format_number(prm->integer ? round_into(prm, v) : v, value, sizeof value);
            }
            why[0] = '\0';
            if (!check(prm->key, value, ctx, why, sizeof why))
                return err_at(e, s->path, prm->line, prm->key, "%s", why);
        }
    }
    return BS_OK;
}

bool sweep_within_budget(const sweep_space *s, double area_mm2, double power_w)
{
    const double v[SWEEP_METRIC_COUNT] = {area_mm2, power_w};
    for (int m = 0; m < SWEEP_METRIC_COUNT; m++) {
        const sweep_bound *b = &s->bounds[m];
        if ((!isnan(b->min) && !(v[m] >= b->min)) || (!isnan(b->max) && !(v[m] <= b->max)))
            return false;
    }
    return true;
}

bool sweep_shard_parse(const char *s, sweep_shard *out)
{
    char buf[64];
    if (!s || strlen(s) >= sizeof buf)
        return false;
    snprintf(buf, sizeof buf, "%s", s);
    char *slash = strchr(buf, '/');
    if (!slash)
        return false;
    *slash = '\0';
    uint64_t i, n;
    if (!text_parse_u64(buf, 0, UINT64_MAX, &i) || !text_parse_u64(slash + 1, 1, UINT64_MAX, &n)
        || i >= n)
        return false;
    out->index = i;
    out->count = n;
    return true;
}

uint64_t sweep_shard_size(sweep_shard sh, uint64_t total)
{
    /* indices index, index+count, ... below total */
    return total > sh.index ? (total - sh.index - 1) / sh.count + 1 : 0;
}
