/* store_merge.h — merging bitsim databases (the shards of a sweep) without duplicates.
 *
 * Part of the store layer (it copies rows between two bitsim databases in SQL, so it shares
 * the store's handle through store_private.h); `bitsim merge` is its one command.
 * Inputs (archs, models, traces) are matched by content hash and stored once; a run is
 * identified by its inputs' content hashes and its options — the identity store_find_run
 * uses — so a run present in both databases is kept once, whatever its row ids, label or
 * wall time. Only complete runs are copied (with their costs and totals); the merge of one
 * input database is one transaction, so an interrupted merge leaves OUT as it was.
 */
#ifndef BITSIM_STORE_MERGE_H
#define BITSIM_STORE_MERGE_H

#include <stdint.h>

#include "err.h"
#include "store.h"

typedef struct store_merge_stats {
    uint64_t inputs_added;      /* archs + models + traces new to OUT */
    uint64_t runs_added;        /* complete runs copied */
    uint64_t runs_present;      /* complete runs OUT already had */
} store_merge_stats;

/* Merges the bitsim database at in_path into out, a store opened for writing (adding to *st).
 * Errors name in_path. */
int store_merge_into(store *out, const char *in_path, store_merge_stats *st, bs_error *e);

/* A digest of a database's complete runs that ignores row ids, labels, times and order: for
 * each run, its inputs' content hashes, options, totals and every costs row. Two databases
 * with the same digest hold the same results (used to check shard -> merge = unsharded). */
int store_merge_digest(store *s, uint64_t *digest, uint64_t *runs, bs_error *e);

#endif
