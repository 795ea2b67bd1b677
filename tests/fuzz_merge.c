/* fuzz_merge.c — libFuzzer target for `bitsim merge`'s inputs: a corrupted or hostile SQLite
 * file given as a shard database.
 *
 * The input bytes are written to a temporary file (the seeds in tests/corpus/fuzz_merge are
 * small valid bitsim databases, 512-byte pages, so mutations hit headers, schema and rows
 * alike) and merged into a fresh OUT database the way `bitsim merge` does (store_open, then
 * store_merge_into). Invariants: a refused input gives a one-line message and leaves OUT without
 * a run or an input (one transaction); an accepted one leaves OUT passing integrity_check,
 * its digest computable with as many runs as were added, and merging the same file again
 * adds nothing (runs are kept once). What OUT holds is counted over a connection of the
 * target's own. The files live in a private directory under $TMPDIR (else /dev/shm, else
 * /tmp), removed at exit.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_REACH_MIN_INPUTS 200   /* about 100 inputs a second: the floors hold in 8 s */
#include "fuzz.h"
#include "store.h"
#include "store_merge.h"

enum { R_VALID, R_MERGED, R_RUNS, R_COUNT };
static fuzz_stage reach[R_COUNT] = {
    [R_VALID] = {"input db: opened as a bitsim database", 0.01, 0},
    [R_MERGED] = {"merge: completed", 0.005, 0},
    [R_RUNS] = {"merge: copied runs", 0.001, 0},
};

static char dir[256], in_path[300], out_path[300];

static void remove_db(const char *path)
{
    static const char *const tails[] = {"", "-wal", "-shm", "-journal"};
    char p[320];
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        snprintf(p, sizeof p, "%s%s", path, tails[i]);
        unlink(p);
    }
}

static void cleanup(void)
{
    remove_db(in_path);
    remove_db(out_path);
    rmdir(dir);
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/bitsim-fuzz-merge-XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        perror("fuzz_merge: mkdtemp");
        abort();
    }
    snprintf(in_path, sizeof in_path, "%s/in.db", dir);
    snprintf(out_path, sizeof out_path, "%s/out.db", dir);
    atexit(cleanup);
    setenv("BITSIM_BUSY_TIMEOUT_MS", "0", 1);  /* nobody else holds these files */
}

/* The first column of sql's first row on OUT, as text ("" for NULL), into buf. */
static const char *out_first(const char *sql, char *buf, size_t n)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    check(sqlite3_open_v2(out_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    check(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
    check(sqlite3_step(st) == SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(buf, n, "%s", t ? (const char *)t : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return buf;
}

static bool out_empty(const char *table)
{
    char sql[64], buf[32];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    return strcmp(out_first(sql, buf, sizeof buf), "0") == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reach_input("fuzz_merge", reach, R_COUNT);
    if (!dir[0])
        setup();
    remove_db(in_path);
    remove_db(out_path);
    FILE *f = fopen(in_path, "wb");
    check(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);

    bs_error e;
    err_clear(&e);
    store *probe;
    if (store_open_readonly(&probe, in_path, &e) == BS_OK) {
        fuzz_reach(R_VALID);
        store_close(probe);
    }
    store *out;
    err_clear(&e);
    if (store_open(&out, out_path, &e) != BS_OK) {
        fprintf(stderr, "fuzz_merge: cannot create %s: %s\n", out_path, e.msg);
        abort();
    }
    store_merge_stats st = {0};
    err_clear(&e);
    int rc = store_merge_into(out, in_path, &st, &e);
    if (rc) {
        check(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL);
        check(out_empty("runs") && out_empty("inputs"));
        store_close(out);
        return 0;
    }
    fuzz_reach(R_MERGED);
    if (st.runs_added)
        fuzz_reach(R_RUNS);
    char ok[16];
    check(strcmp(out_first("PRAGMA integrity_check", ok, sizeof ok), "ok") == 0);
    uint64_t digest, runs;
    check(store_merge_digest(out, &digest, &runs, &e) == BS_OK && runs == st.runs_added);
    store_merge_stats again = {0};
    check(store_merge_into(out, in_path, &again, &e) == BS_OK);
    check(again.runs_added == 0 && again.inputs_added == 0 &&
          again.runs_present == st.runs_added);
    store_close(out);
    return 0;
}
