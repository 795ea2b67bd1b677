/* checked.h — overflow-checked 64-bit counting.
 *
 * Op counts multiply shapes by batch by iterations: a 90-epoch ImageNet run of a large network
 * passes 2^64 BitOPs, so every product that can grow goes through these. They return false on
 * overflow (the caller turns that into an error naming the input), never wrap silently.
 */
#ifndef BITSIM_CHECKED_H
#define BITSIM_CHECKED_H

#include <stdbool.h>
#include <stdint.h>

static inline bool checked_mul(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

static inline bool checked_add(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

/* *acc += a * b, false (acc untouched) on overflow. */
static inline bool checked_muladd(uint64_t *acc, uint64_t a, uint64_t b)
{
    uint64_t p, s;
    if (__builtin_mul_overflow(a, b, &p) || __builtin_add_overflow(*acc, p, &s))
        return false;
    *acc = s;
    return true;
}

static inline uint64_t ceil_div_u64(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

#endif
