/* sweep.h — design-space exploration: space files, sampling, sharding (a point's arch text:
 * sweep_arch.h; running a sweep: sweep_run.h).
 *
 * A sweep visits many accelerator configurations ("points") that differ from one base arch in
 * a few parameters. The space file (sweeps/FORMAT.md) names those parameters as lists,
 * ranges or distributions, how points are drawn (grid, random, Latin hypercube; GSL's
 * mt19937, seeded, so a sweep is reproducible), and area/power budgets. Points are numbered
 * 0..N-1 over the WHOLE space before sharding, and shard i/n takes the indices p with
 * p mod n == i: shards partition the sweep exactly, whatever n is. A point is the base arch's
 * text with its keys rewritten (sweep_arch.h), so the arch parser judges every value and the
 * store identifies the point by content.
 */
#ifndef BITSIM_SWEEP_H
#define BITSIM_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SWEEP_KEY_MAX 64
#define SWEEP_VALUE_MAX 64
#define SWEEP_MAX_POINTS 10000000ULL
#define SWEEP_MAX_PARAMS 32

typedef enum sweep_sampling { SWEEP_GRID, SWEEP_RANDOM, SWEEP_LHS } sweep_sampling;

/* Where a point's energies come from (sweeps/FORMAT.md, `energy =`). */
typedef enum sweep_energy {
    SWEEP_ENERGY_MODEL, /* core from BitFusion synthesis per array, buffers from the SRAM table */
    SWEEP_ENERGY_BASE   /* the base arch's stated energies for every point */
} sweep_energy;

typedef enum sweep_param_kind {
    SWEEP_DISCRETE,     /* list, choice, linear or log2 range: values[] */
    SWEEP_UNIFORM,      /* continuous on [lo, hi] */
    SWEEP_LOGUNIFORM    /* log-uniform on [lo, hi], lo > 0 */
} sweep_param_kind;

typedef struct sweep_param {
    char key[SWEEP_KEY_MAX];        /* arch "SECTION.KEY" */
    long line;                      /* line in the space file, for messages */
    sweep_param_kind kind;
    char (*values)[SWEEP_VALUE_MAX];/* SWEEP_DISCRETE: the values as text */
    uint32_t n_values;
    double lo, hi;                  /* continuous kinds */
    bool integer;                   /* continuous kinds: round to integers */
} sweep_param;

/* Budgets on the arch's area and power model; NaN = no bound. */
typedef enum sweep_metric { SWEEP_AREA_MM2, SWEEP_POWER_W, SWEEP_METRIC_COUNT } sweep_metric;

typedef struct sweep_bound {
    double min, max;                /* NaN when absent */
    long min_line, max_line;
} sweep_bound;

typedef struct sweep_space {
    char path[256];
    char arch[256];                 /* base arch name or path */
    long arch_line;
    sweep_sampling sampling;
    sweep_energy energy;
    uint64_t points;                /* random / lhs: requested count */
    uint64_t seed;
    sweep_param *params;
    uint32_t n_params;
    sweep_bound bounds[SWEEP_METRIC_COUNT];
    uint64_t n_points;              /* after sweep_space_sample */
    double *samples;                /* random / lhs: n_points x n_params (list index or value) */
} sweep_space;

/* Reads a space file (sweeps/FORMAT.md). Checks syntax, ranges, distributions, duplicates and
 * contradictory budgets; arch keys are checked by the caller (sweep_space_check_keys) because
 * they need the base arch. Errors name the file's line. */
int sweep_space_load(sweep_space *s, const char *path, bs_error *e);
void sweep_space_free(sweep_space *s);

/* Draws the points (grid: counts them) with seed (overriding the file's when set). */
int sweep_space_sample(sweep_space *s, bool seed_set, uint64_t seed, bs_error *e);

/* Text of parameter j at point i (< n_points), as it goes into the arch file. */
void sweep_point_value(const sweep_space *s, uint64_t i, uint32_t j, char *buf, size_t n);

/* Checks every parameter against the arch format: check(key, value, ctx, why, n) returns
 * false with a reason when the arch refuses that key or value; the error then names the
 * space file's line. Each list value, and each continuous bound, is tried. */
typedef bool (*sweep_value_check)(const char *key, const char *value, void *ctx, char *why,
                                  size_t n);
int sweep_space_check_keys(const sweep_space *s, sweep_value_check check, void *ctx,
                           bs_error *e);

/* True when (area, power) meets every budget of the space. */
bool sweep_within_budget(const sweep_space *s, double area_mm2, double power_w);

/* --shard i/n */
typedef struct sweep_shard {
    uint64_t index, count;          /* 0 <= index < count; 0/1 is the whole sweep */
} sweep_shard;

/* Parses "i/n" (0 <= i < n, n >= 1); false when malformed. */
bool sweep_shard_parse(const char *s, sweep_shard *out);
/* Whether point p belongs to the shard (p mod count == index). */
static inline bool sweep_shard_owns(sweep_shard sh, uint64_t p)
{
    return p % sh.count == sh.index;
}
/* Number of the total points 0..total-1 the shard owns. */
uint64_t sweep_shard_size(sweep_shard sh, uint64_t total);

/* ---- Private Part: for tests/test_sweep.c and tests/fuzz_space.c only ---- */

/* sweep_space_load's parser, on text in memory (path for messages). */
int sweep_space_parse(sweep_space *s, const char *path, const char *buf, size_t len,
                      bs_error *e);

#endif
