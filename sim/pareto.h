/* pareto.h — the non-dominated points of a set, every objective minimised.
 *
 * A point p dominates q when p is no worse than q in every objective and strictly better in
 * at least one. The front is the set of points no other point dominates. Points with equal
 * objective vectors do not dominate each other, so duplicates are all on the front (a sweep
 * may reach one arch twice; both stay visible). Sweeps use three objectives: latency (s),
 * energy (pJ) and area (mm^2).
 */
#ifndef BITSIM_PARETO_H
#define BITSIM_PARETO_H

#include <stdbool.h>
#include <stddef.h>

#define PARETO_MAX_DIMS 8

/* Marks on_front[i] for the n points obj[i*dims .. i*dims+dims-1]; returns how many are on
 * the front, or (size_t)-1 when dims is 0 or above PARETO_MAX_DIMS, an objective is not
 * finite, or memory runs out. */
size_t pareto_front(const double *obj, size_t n, size_t dims, bool *on_front);

/* ---- Private Part: for tests/test_pareto.c only ---- */

/* True when a dominates b (dims objectives, minimised). */
bool pareto_dominates(const double *a, const double *b, size_t dims);

#endif
