/* plot.h — publication plots from the store, drawn by gnuplot.
 *
 * Each plot kind is one gnuplot script in plots/ (shipped data, found via paths.h) fed with
 * data files that SQL queries over the store write into a private temporary directory; the
 * scripts own the look (fonts, units, Okabe-Ito colour-blind-safe palette, plots/style.gp),
 * this module owns the numbers. Reads only the database. Adding a kind = one row in plot.c's
 * table plus one script.
 */
#ifndef BITSIM_PLOT_H
#define BITSIM_PLOT_H

#include <stdbool.h>

#include "err.h"
#include "store.h"

typedef enum plot_kind {
    PLOT_SPEEDUP,    /* speedup and energy-saving bars per run against a baseline */
    PLOT_ENERGY,     /* stacked energy by component (core, buffers, DRAM, leakage) per run */
    PLOT_CUMULATIVE, /* cumulative training time and energy over epochs, one line per run */
    PLOT_SCHEDULE,   /* mean A/W/G bit-widths over epochs, one line per run (CPT-style) */
    PLOT_TIMELINE,   /* per-run heatmap of FWD operand bit-widths over epochs and layers */
    PLOT_ACCURACY,   /* final accuracy against training energy and latency, one point per run */
    PLOT_PARETO,     /* sweep points, energy vs latency coloured by area, front marked (front.h) */
    PLOT_KIND_COUNT
} plot_kind;

typedef enum plot_format { PLOT_PDF, PLOT_PNG, PLOT_FORMAT_COUNT } plot_format;

/* Print sizes (plots/style.gp): a page-wide figure (7 in, the default), one column of a
 * two-column paper (3.3 in), a slide (10 in); text >= 8 pt at that size. */
typedef enum plot_size { PLOT_DOUBLE, PLOT_COLUMN, PLOT_SLIDE, PLOT_SIZE_COUNT } plot_size;

typedef struct plot_request {
    const char *out_dir;        /* created if missing */
    plot_format format;
    const char *baseline;       /* speedup: run label or scheme (report.h), e.g. "fp32" */
    const char *baseline_arch;  /* speedup: optional baseline arch */
    const char *model, *arch;   /* optional filters, NULL = all runs */
    const char *scripts_dir;    /* NULL = the shipped plots/ directory */
    const char *gnuplot;        /* NULL = "gnuplot" from PATH */
    plot_size size;
    bool energy_percent;        /* energy: each bar normalised to 100 % */
    /* optional: called with a one-line note for what a kind leaves out (a constant run's
     * timeline, ...); ctx is plot_make's */
    void (*on_note)(const char *msg, void *ctx);
} plot_request;

/* "speedup", "energy", "cumulative", "timeline" -> plot_kind; -1 if unknown. */
int plot_kind_parse(const char *s);
const char *plot_kind_name(plot_kind k);
/* One line saying what kind k draws, for `bitsim plot --help` (the list is the kinds table). */
const char *plot_kind_summary(plot_kind k);
/* "pdf", "png" -> plot_format; -1 if unknown. */
int plot_format_parse(const char *s);
/* The format names, in plot_format order, NULL-terminated. */
const char *const *plot_format_names(void);
/* "double", "column", "slide" -> plot_size; -1 if unknown. */
int plot_size_parse(const char *s);
/* The size names, in plot_size order, NULL-terminated. */
const char *const *plot_size_names(void);

/* Draws one kind. Calls on_file(path, ctx) for every file written (timeline: one per run).
 * Errors: no runs to plot, gnuplot missing or failing (its first message quoted), output
 * directory not writable. */
int plot_make(store *s, plot_kind kind, const plot_request *r,
              void (*on_file)(const char *path, void *ctx), void *ctx, bs_error *e);

#endif
