/* fuzz.h — what every fuzz target shares: check(), and how far its inputs get (issue 13, D2).
 *
 * A target that never reaches the parser it names fuzzes nothing, and libFuzzer cannot tell:
 * tests/fuzz_model.c once routed every input to the SCALE-Sim parser and ran 28.7 M times
 * without producing one model text the text parser accepted. So each target names its stages
 * ("model text: parsed", "arch: cost evaluated", ...) and counts the inputs that reach each.
 * At exit one line reports every count and its share of all inputs:
 *
 *   reach fuzz_model: 51234 inputs; model text: parsed 6120 (11.9%); ...
 *
 * and when enough inputs ran (FUZZ_REACH_MIN_INPUTS) a stage below its floor share makes the
 * process exit 1, so the short runs of `make test` fail if a parser is starved again.
 * libFuzzer ends a -max_total_time or -runs run with exit(), which runs atexit handlers; a
 * crash ends with _Exit and prints no reach line (the crash report is what matters then).
 * Header-only: each fuzz binary has one translation unit.
 */
#ifndef BITSIM_FUZZ_H
#define BITSIM_FUZZ_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* An invariant of the target: abort() is what libFuzzer reports as a crash, with the input. */
static void check(bool ok)
{
    if (!ok)
        abort();
}

/* Below this many inputs (a replay of a few files) no floor is enforced; a slow target
 * (fuzz_merge: a database file per input) defines a smaller number before including this. */
#ifndef FUZZ_REACH_MIN_INPUTS
#define FUZZ_REACH_MIN_INPUTS 2000
#endif

typedef struct fuzz_stage {
    const char *name;
    double floor;               /* least share of all inputs (0..1) that must reach it */
    unsigned long long n;
} fuzz_stage;

static struct {
    const char *target;
    fuzz_stage *stages;
    int n_stages;
    unsigned long long inputs;
} fuzz_reach_state;

static void fuzz_reach_report(void)
{
    unsigned long long in = fuzz_reach_state.inputs;
    int starved = -1;
    fprintf(stderr, "reach %s: %llu inputs", fuzz_reach_state.target, in);
    for (int k = 0; k < fuzz_reach_state.n_stages; k++) {
        const fuzz_stage *s = &fuzz_reach_state.stages[k];
        double share = in ? (double)s->n / (double)in : 0;
        fprintf(stderr, "; %s %llu (%.2f%%)", s->name, s->n, 100 * share);
        if (in >= FUZZ_REACH_MIN_INPUTS && share < s->floor && starved < 0)
            starved = k;
    }
    fputc('\n', stderr);
    if (starved >= 0) {
        fprintf(stderr, "reach %s: '%s' got %.2f%% of the inputs, below its floor of %.2f%%: "
                "the target does not really fuzz it\n", fuzz_reach_state.target,
                fuzz_reach_state.stages[starved].name,
                100.0 * (double)fuzz_reach_state.stages[starved].n / (double)in,
                100 * fuzz_reach_state.stages[starved].floor);
        _exit(1);
    }
}

/* Called first for every input: counts it (and registers the report on the first call). */
static void fuzz_reach_input(const char *target, fuzz_stage *stages, int n_stages)
{
    if (!fuzz_reach_state.target) {
        fuzz_reach_state.target = target;
        fuzz_reach_state.stages = stages;
        fuzz_reach_state.n_stages = n_stages;
        atexit(fuzz_reach_report);
    }
    fuzz_reach_state.inputs++;
}

/* The current input reached stage k. */
static void fuzz_reach(int k)
{
    fuzz_reach_state.stages[k].n++;
}

#endif
