/* test_pareto.c — the non-dominated filter against fronts derived by hand, and against the
 * definition (every pair compared) on random sets.
 *
 * The brute-force check is O(n^2) and obviously right; the filter under test must agree with
 * it point for point, including ties and duplicates.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "pareto.h"

/* (latency, energy, area). The front, worked out pair by pair:
 *   A (1,10,5)  nothing has latency < 1 with energy <= 10 and area <= 5 except F (= A)
 *   B (2, 5,5)  on the front: only A, F, I have latency <= 2 and their energy is higher
 *   C (3, 3,3)  dominated by H (3,3,2): equal latency and energy, smaller area
 *   D (2, 6,5)  dominated by B (2,5,5)
 *   E (4, 4,4)  dominated by C and by H (better in all three)
 *   F (1,10,5)  equal to A: equal vectors do not dominate each other, both stay
 *   G (5, 1,9)  the only point with energy 1: nothing can dominate it
 *   H (3, 3,2)  latency <= 3 and energy <= 3 leaves only C and H; C has more area
 *   I (1,11,4)  latency 1 leaves A and F, whose area 5 > 4
 */
Test(pareto, hand_made_front_in_three_objectives)
{
    const double pts[][3] = {
        {1, 10, 5}, {2, 5, 5}, {3, 3, 3}, {2, 6, 5}, {4, 4, 4},
        {1, 10, 5}, {5, 1, 9}, {3, 3, 2}, {1, 11, 4},
    };
    const bool expect[] = {true, true, false, false, false, true, true, true, true};
    size_t n = sizeof pts / sizeof pts[0];
    bool on[9];
    cr_assert_eq(pareto_front(&pts[0][0], n, 3, on), 6);
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(on[i], expect[i], "point %c", (int)('A' + i));
}

/* Two objectives: the staircase (1,4) (2,2) (4,1) with (3,3) above it and (2,4) behind. */
Test(pareto, hand_made_staircase_in_two_objectives)
{
    const double pts[][2] = {{3, 3}, {1, 4}, {2, 4}, {4, 1}, {2, 2}};
    const bool expect[] = {false, true, false, true, true};
    bool on[5];
    cr_assert_eq(pareto_front(&pts[0][0], 5, 2, on), 3);
    for (size_t i = 0; i < 5; i++)
        cr_expect_eq(on[i], expect[i], "point %zu", i);
}

Test(pareto, dominance_needs_one_strict_improvement)
{
    const double a[] = {1, 2, 3}, b[] = {1, 2, 3}, c[] = {1, 2, 4};
    cr_expect_not(pareto_dominates(a, b, 3));
    cr_expect(pareto_dominates(a, c, 3));
    cr_expect_not(pareto_dominates(c, a, 3));
}

Test(pareto, edge_cases)
{
    bool on[2];
    cr_expect_eq(pareto_front(NULL, 0, 3, on), 0);
    const double one[] = {7, 7, 7};
    cr_expect_eq(pareto_front(one, 1, 3, on), 1);
    cr_expect(on[0]);
    const double bad[] = {1, NAN, 3, 1, 2, 3};
    cr_expect_eq(pareto_front(bad, 2, 3, on), (size_t)-1);
    cr_expect_eq(pareto_front(one, 1, 0, on), (size_t)-1);
}

/* Against the definition: p is on the front iff no q dominates it (O(n^2) brute force). */
Test(pareto, agrees_with_brute_force_on_random_sets)
{
    enum { N = 400, D = 3 };
    static double pts[N * D];
    static bool on[N];
    srand(12345);
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < N * D; i++)
            pts[i] = rand() % 12;   /* small range: many ties and duplicates */
        size_t count = pareto_front(pts, N, D, on), brute = 0;
        for (int p = 0; p < N; p++) {
            bool dominated = false;
            for (int q = 0; q < N && !dominated; q++)
                dominated = pareto_dominates(&pts[q * D], &pts[p * D], D);
            cr_assert_eq(on[p], !dominated, "round %d point %d", round, p);
            brute += !dominated;
        }
        cr_assert_eq(count, brute);
    }
}
