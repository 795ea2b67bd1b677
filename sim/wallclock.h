/* wallclock.h — the one monotonic clock bitsim times itself with (run and sweep timings,
 * the store's busy-timeout loop, make bench). */
#ifndef BITSIM_WALLCLOCK_H
#define BITSIM_WALLCLOCK_H

/* Seconds on CLOCK_MONOTONIC: differences are elapsed time, unaffected by clock changes. */
double wallclock_s(void);

#endif
