/* plot.h — publication plots from the store, drawn by gnuplot.
 *
 * Each plot kind is one gnuplot script in plots/ (shipped data, found via paths.h) fed with
 * data files that SQL queries over the store write into a private temporary directory; the
 * scripts own the look (fonts, units, Okabe-Ito colour-blind-safe palette, plots/style.gp),
 * this module owns the numbers. Reads only the database, through store_query.h.
 *
 * The kinds are plot.c's kinds table, its one declaration of them: a row (name, the line
 * `bitsim plot --help` shows, the maker) and its maker there, plus its script in plots/, is a
 * new kind; nothing here names a kind. A kind is its row's index, 0 .. plot_kind_count() - 1.
 */
#ifndef BITSIM_PLOT_H
#define BITSIM_PLOT_H

#include <stdbool.h>

#include "err.h"
#include "store.h"

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

/* How many kinds there are. */
int plot_kind_count(void);
/* "speedup", "energy", "cumulative", "timeline", ... -> the kind; -1 if unknown. */
int plot_kind_parse(const char *s);
/* Kind k's name, and one line saying what it draws (for `bitsim plot --help`); "?" for a k
 * out of range. */
const char *plot_kind_name(int k);
const char *plot_kind_summary(int k);
/* The format names, in plot_format order, NULL-terminated. */
const char *const *plot_format_names(void);
/* The size names, in plot_size order, NULL-terminated. */
const char *const *plot_size_names(void);

/* Draws kind (plot_kind_parse). Calls on_file(path, ctx) for every file written (timeline:
 * one per run). Errors: no runs to plot, gnuplot missing or failing (its first message
 * quoted), output directory not writable. */
int plot_make(store *s, int kind, const plot_request *r,
              void (*on_file)(const char *path, void *ctx), void *ctx, bs_error *e);

#endif
