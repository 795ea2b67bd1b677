/* checkout.h — files of the bitsim checkout the tests read (shipped archs, tests/data/):
 * found under $BITSIM_HOME, else the current directory (make test runs from the checkout).
 * Header-only (static inline) so any test file can use it.
 */
#ifndef BITSIM_CHECKOUT_H
#define BITSIM_CHECKOUT_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

/* The path of rel (e.g. "arch/bitfusion.ini") in the checkout, into buf; returns buf. */
static inline const char *checkout_path(const char *rel, char *buf, size_t n)
{
    const char *home = getenv("BITSIM_HOME");
    snprintf(buf, n, "%s/%s", home && *home ? home : ".", rel);
    return buf;
}

/* The whole file rel of the checkout into buf (NUL-terminated); fails the test when it is
 * missing or does not fit. Returns buf. */
static inline char *checkout_read(const char *rel, char *buf, size_t n)
{
    char path[1024];
    FILE *f = fopen(checkout_path(rel, path, sizeof path), "r");
    cr_assert_not_null(f, "%s", path);
    size_t len = fread(buf, 1, n - 1, f);
    buf[len] = '\0';
    cr_assert(feof(f), "%s does not fit in %zu bytes", path, n);
    fclose(f);
    return buf;
}

#endif
