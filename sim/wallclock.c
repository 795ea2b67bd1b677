/* wallclock.c — monotonic seconds (wallclock.h). */
#include "wallclock.h"

#include <time.h>

double wallclock_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
