/* cmd_merge.c — `bitsim merge OUT.db IN.db...`: gather sharded sweep databases into one.
 *
 * A sweep split with --shard writes one database per shard; merging them (store_merge.h) keeps
 * each input and each run once, by content, so the merged database equals the unsharded one.
 * OUT is created when absent; merging the same shard twice adds nothing.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "store.h"
#include "store_merge.h"

int cmd_merge(int argc, char **argv)
{
    bool quiet = false;
    cmd_opt opts[] = {
        CMD_OPT_QUIET(&quiet, "no summary line"),
    };
    const cmd_spec spec = {
        .name = "merge", .synopsis = "[options] OUT.db IN.db...",
        .about = "Merges bitsim databases (e.g. the shards of `bitsim sweep --shard i/n`) into\n"
                 "OUT.db, creating it if absent. Inputs are stored once per SHA-256 of their\n"
                 "bytes; a run is identified by its inputs and options, so runs present in\n"
                 "several databases are kept once. Each input is merged in one transaction.",
        CMD_OPTS(opts), .min_args = 2, .max_args = -1,
        .args_error = "needs OUT.db and at least one IN.db"};
    int first, rc;
    if (!cmd_parse(&spec, argc, argv, &first, &rc))
        return rc;
    const char *out_path = argv[first];
    for (int i = first + 1; i < argc; i++)
        if (strcmp(argv[i], out_path) == 0) {
            fprintf(stderr, "bitsim merge: %s is both the output and an input\n", out_path);
            return BS_EUSAGE;
        }
    bs_error e;
    err_clear(&e);
    /* Every input is checked before OUT is created, and an OUT this command created is
     * removed again when a merge fails: a refused input leaves nothing behind (issue 13 D12). */
    for (int i = first + 1; i < argc; i++) {
        store *in;
        if (store_open_readonly(&in, argv[i], &e))
            return err_report(&e);
        store_close(in);
    }
    bool created = access(out_path, F_OK) != 0;
    store *out;
    if ((rc = cmd_open_store(&out, out_path, false, &e)))
        return rc;
    store_merge_stats st = {0};
    for (int i = first + 1; i < argc && !rc; i++)
        rc = store_merge_into(out, argv[i], &st, &e);
    bs_error warn;
    err_clear(&warn);
    if (!rc && store_checkpoint(out, &warn))  /* merged, but not in one file: say so */
        fprintf(stderr, "bitsim: warning: %s\n", warn.msg);
    store_close(out);
    if (rc && created) {
        static const char *const sides[] = {"", "-wal", "-shm", "-journal"};
        for (size_t k = 0; k < sizeof sides / sizeof sides[0]; k++) {
            char p[4096];
            snprintf(p, sizeof p, "%s%s", out_path, sides[k]);
            unlink(p);
        }
    }
    if (rc)
        return err_report(&e);
    if (!quiet)
        fprintf(stderr, "bitsim merge: %d database(s) into %s: %llu runs added, %llu already "
                "present, %llu inputs added\n", argc - first - 1, out_path,
                (unsigned long long)st.runs_added, (unsigned long long)st.runs_present,
                (unsigned long long)st.inputs_added);
    return BS_OK;
}
