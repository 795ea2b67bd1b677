/* pareto.c — non-dominated filtering by a lexicographic sort and one scan.
 *
 * Why it is correct: sort the points lexicographically by their objective vectors. If q
 * dominates p, then q is lexicographically smaller than p (q <= p everywhere, < somewhere, so
 * at the first differing objective q is smaller), hence q comes before p. Scanning in sorted
 * order, p is dominated iff some earlier point dominates it; and if an earlier, itself
 * dominated point q dominates p, then the front point f dominating q (also earlier) dominates
 * p too, by transitivity. So each point needs checking only against the front found so far:
 * O(n log n + n·F) for a front of F points, fine for the 10^4..10^6 points of a sweep.
 */
#include "pareto.h"

#include <math.h>
#include <stdlib.h>

bool pareto_dominates(const double *a, const double *b, size_t dims)
{
    bool strictly = false;
    for (size_t d = 0; d < dims; d++) {
        if (a[d] > b[d])
            return false;
        if (a[d] < b[d])
            strictly = true;
    }
    return strictly;
}

typedef struct sort_ctx {
    const double *obj;
    size_t dims;
} sort_ctx;

static int lex_compare(const void *x, const void *y, void *arg)
{
    const sort_ctx *c = arg;
    const double *a = c->obj + *(const size_t *)x * c->dims;
    const double *b = c->obj + *(const size_t *)y * c->dims;
    for (size_t d = 0; d < c->dims; d++)
        if (a[d] != b[d])
            return a[d] < b[d] ? -1 : 1;
    /* equal vectors: keep input order, so the result does not depend on qsort's stability */
    return *(const size_t *)x < *(const size_t *)y ? -1 : *(const size_t *)x > *(const size_t *)y;
}

size_t pareto_front(const double *obj, size_t n, size_t dims, bool *on_front)
{
    if (dims == 0 || dims > PARETO_MAX_DIMS)
        return (size_t)-1;
    for (size_t i = 0; i < n * dims; i++)
        if (!isfinite(obj[i]))
            return (size_t)-1;
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    size_t *front = malloc((n ? n : 1) * sizeof *front);
    if (!order || !front) {
        free(order);
        free(front);
        return (size_t)-1;
    }
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
        on_front[i] = false;
    }
    sort_ctx c = {obj, dims};
    qsort_r(order, n, sizeof *order, lex_compare, &c);
    size_t n_front = 0;
    for (size_t k = 0; k < n; k++) {
        const double *p = obj + order[k] * dims;
        bool dominated = false;
        for (size_t f = 0; f < n_front && !dominated; f++)
            dominated = pareto_dominates(obj + front[f] * dims, p, dims);
        if (!dominated) {
            front[n_front++] = order[k];
            on_front[order[k]] = true;
        }
    }
    free(order);
    free(front);
    return n_front;
}
