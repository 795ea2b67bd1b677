/* test_cli.c — the bad-input promise end to end, through the built binary.
 *
 * DESIGN.md promises: bad input of any kind gets ONE line on stderr naming file, line and
 * field, and a non-zero exit status (1 bad input, 2 usage); never a crash, never a silently
 * wrong number, never a half-written or foreign database touched. Module tests check the
 * parsers' messages in-process; these run the real ./bitsim (posix_spawn; $BITSIM_BIN
 * overrides the path, `make asan` points it at the sanitized build) so main's printing, exit
 * codes and the order of opening files are checked as a user meets them. Every input is
 * written into a fresh temporary directory; expected messages are the formats documented in
 * traces/FORMAT.md and arch/FORMAT.md, not copied from the code.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkout.h"

extern char **environ;

typedef struct cli_result {
    int status;     /* exit status, or 128 + signal */
    char out[16384];
    char err[4096];
} cli_result;

static char workdir[64];

static const char *bitsim_bin(void)
{
    const char *b = getenv("BITSIM_BIN");
    return b && *b ? b : "./bitsim";
}

static void make_workdir(void)
{
    snprintf(workdir, sizeof workdir, "/tmp/bitsim-cli-XXXXXX");
    cr_assert_not_null(mkdtemp(workdir));
    cr_assert_eq(access(bitsim_bin(), X_OK), 0,
                 "%s is not an executable: tests run from the repo root after `make bitsim`"
                 " (or set BITSIM_BIN)", bitsim_bin());
}

static void remove_workdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
    if (system(cmd) != 0) { /* best effort: a leftover temp dir is harmless */
    }
}

TestSuite(cli, .init = make_workdir, .fini = remove_workdir);

/* workdir/name, in a static ring so a test can hold a few at once. */
static const char *wpath(const char *name)
{
    static char ring[8][256];
    static int next;
    char *p = ring[next++ % 8];
    snprintf(p, sizeof ring[0], "%s/%s", workdir, name);
    return p;
}

static const char *write_file(const char *name, const char *text)
{
    const char *p = wpath(name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f, "%s", p);
    fputs(text, f);
    fclose(f);
    return p;
}

static void read_into(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(buf, 1, n - 1, f) : 0;
    buf[got] = '\0';
    if (f)
        fclose(f);
}

/* Runs bitsim with argv (NULL-terminated, without the program name) and optional extra
 * environment entries "K=V" (NULL-terminated or NULL). */
static void cli_env(cli_result *r, const char *const *extra_env, const char *const *args)
{
    const char *argv[32] = {bitsim_bin()};
    int argc = 1;
    for (; args[argc - 1]; argc++)
        argv[argc] = args[argc - 1];
    argv[argc] = NULL;

    int n_env = 0, n_extra = 0;
    while (environ[n_env])
        n_env++;
    while (extra_env && extra_env[n_extra])
        n_extra++;
    char **envp = calloc((size_t)(n_env + n_extra + 1), sizeof *envp);
    cr_assert_not_null(envp);
    for (int i = 0; i < n_env; i++)
        envp[i] = environ[i];
    for (int i = 0; i < n_extra; i++)
        envp[n_env + i] = (char *)extra_env[i];

    char out_path[300], err_path[300];
    snprintf(out_path, sizeof out_path, "%s/.stdout", workdir);
    snprintf(err_path, sizeof err_path, "%s/.stderr", workdir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    cr_assert_eq(rc, 0, "cannot start %s: %s", argv[0], strerror(rc));
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    read_into(out_path, r->out, sizeof r->out);
    read_into(err_path, r->err, sizeof r->err);
}

#define CLI(r, ...) cli_env((r), NULL, (const char *const[]){__VA_ARGS__, NULL})
#define CLI_ENV(r, env, ...) cli_env((r), (env), (const char *const[]){__VA_ARGS__, NULL})

/* The promise: status `status`, stderr exactly one line containing every `want` fragment. */
static void expect_one_line_error(const cli_result *r, int status, const char *const *want)
{
    cr_expect_eq(r->status, status, "exit status %d, expected %d; stderr: %s", r->status, status,
                 r->err);
    size_t len = strlen(r->err);
    const char *nl = strchr(r->err, '\n');
    cr_expect(len > 1 && nl == r->err + len - 1,
              "stderr must be exactly one line, got:\n%s", r->err);
    for (int i = 0; want[i]; i++)
        cr_expect(strstr(r->err, want[i]) != NULL, "stderr lacks '%s': %s", want[i], r->err);
}
#define EXPECT_ERROR(r, status, ...) \
    expect_one_line_error((r), (status), (const char *const[]){__VA_ARGS__, NULL})

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static double sql_number(const char *db_path, const char *sql)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    double v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* ---- traces ------------------------------------------------------------------------------ */

/* A valid lenet5 header: the first record is line 7. */
#define HEADER "bitsim-trace 1\nmodel lenet5\nbatch 16\niters_per_epoch 10\nepochs 2\nscheme static\n"

static const char ok_trace[] = HEADER "from 0 @mac W=int8 A=int8 G=int8\nfrom 10 @mac dW=0.5\nend\n";

/* `bitsim run` on a trace with `record` as line 7: one line "T:7: FIELD:", status 1, and no
 * database created. */
static void bad_record(const char *record, const char *field)
{
    char text[1024], where[400];
    snprintf(text, sizeof text, HEADER "%s\nend\n", record);
    const char *trace = write_file("bad.trace", text);
    const char *db = wpath("bad.db");
    snprintf(where, sizeof where, "%s:7: %s:", trace, field);
    cli_result r;
    CLI(&r, "run", "--trace", trace, "--arch", "bitfusion", "--db", db);
    EXPECT_ERROR(&r, 1, where);
    cr_expect(!exists(db), "a rejected trace must not create %s", db);
    CLI(&r, "trace", "check", trace);
    EXPECT_ERROR(&r, 1, where);
}

/* The text of one cell, or "" (static buffer). */
static const char *sql_string(const char *db_path, const char *sql)
{
    static char buf[256];
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sql);
    buf[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(buf, sizeof buf, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return buf;
}

/* Content identities a user can reproduce with coreutils: the trace's is the SHA-256 of what
 * `bitsim trace cat` prints (its canonical form), the arch's that of the arch file. */
Test(cli, content_identity_is_sha256sum_of_the_canonical_text)
{
    cli_result r;
    const char *db = wpath("id.db"), *trace = write_file("id.trace", ok_trace);
    CLI(&r, "run", "--trace", trace, "--arch", "bitfusion", "--db", db, "-q");
    cr_assert_eq(r.status, 0, "%s", r.err);
    char cmd[1024], want[80] = "";
    snprintf(cmd, sizeof cmd, "%s trace cat '%s' | sha256sum", bitsim_bin(), trace);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    cr_assert_eq(fscanf(p, "%64s", want), 1);
    pclose(p);
    cr_expect_str_eq(sql_string(db, "SELECT content_hash FROM inputs WHERE kind = 'trace'"), want);
    char src[512];
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", checkout_path("arch/bitfusion.ini", src, sizeof src));
    cr_assert_not_null(p = popen(cmd, "r"));
    cr_assert_eq(fscanf(p, "%64s", want), 1);
    pclose(p);
    cr_expect_str_eq(sql_string(db, "SELECT content_hash FROM inputs WHERE kind = 'arch'"), want);
}

Test(cli, good_trace_runs)
{
    cli_result r;
    const char *db = wpath("ok.db");
    CLI(&r, "run", "--trace", write_file("ok.trace", ok_trace), "--arch", "bitfusion", "--db",
        db, "--quiet");
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.err, "");
    cr_expect_eq(sql_number(db, "SELECT count(*) FROM runs WHERE status = 'complete'"), 1.0);
}

Test(cli, malformed_iteration)
{
    bad_record("from zero @mac W=int8", "iteration");
}

Test(cli, record_without_fields)
{
    bad_record("from 0 @mac", "from");
}

Test(cli, unknown_layer)
{
    bad_record("from 0 conv99 W=int8", "layer");
}

Test(cli, bit_width_0)
{
    bad_record("from 0 @mac W=int0", "W");
}

Test(cli, bit_width_33)
{
    bad_record("from 0 @mac A=int33", "A");
}

Test(cli, bit_width_65)
{
    bad_record("from 0 @mac G=fx65.4", "G");
}

Test(cli, nan_density)
{
    bad_record("from 0 @mac dW=nan", "dW");
}

Test(cli, density_above_one)
{
    bad_record("from 0 @mac dA=1.0001", "dA");
}

Test(cli, truncated_trace)
{
    const char *trace = write_file("trunc.trace", HEADER "from 0 @mac W=int8\n");
    char where[400];
    snprintf(where, sizeof where, "%s:", trace);
    cli_result r;
    CLI(&r, "run", "--trace", trace, "--arch", "bitfusion", "--db", wpath("t.db"));
    EXPECT_ERROR(&r, 1, where, "end:", "truncated");
    cr_expect(!exists(wpath("t.db")));
}

Test(cli, empty_trace)
{
    const char *trace = write_file("empty.trace", "");
    cli_result r;
    CLI(&r, "run", "--trace", trace, "--arch", "bitfusion", "--db", wpath("e.db"));
    EXPECT_ERROR(&r, 1, trace);
    cr_expect(!exists(wpath("e.db")));
}

Test(cli, directory_as_trace)
{
    const char *dir = wpath("dir.trace");
    cr_assert_eq(mkdir(dir, 0700), 0);
    cli_result r;
    CLI(&r, "run", "--trace", dir, "--arch", "bitfusion", "--db", wpath("d.db"));
    EXPECT_ERROR(&r, 1, dir);
    CLI(&r, "trace", "check", dir);
    EXPECT_ERROR(&r, 1, dir);
}

Test(cli, nonexistent_trace)
{
    const char *missing = wpath("missing.trace");
    cli_result r;
    CLI(&r, "run", "--trace", missing, "--arch", "bitfusion", "--db", wpath("n.db"));
    EXPECT_ERROR(&r, 1, missing);
    cr_expect(!exists(wpath("n.db")));
}

/* `trace check` of text written as name: one line "NAME:LINE: FIELD:" saying why, status 1. */
static void trace_check_fails(const char *name, const char *text, int line, const char *field,
                              const char *why)
{
    const char *trace = write_file(name, text);
    char where[400];
    snprintf(where, sizeof where, "%s:%d: %s:", trace, line, field);
    cli_result r;
    CLI(&r, "trace", "check", trace);
    EXPECT_ERROR(&r, 1, where, why);
}

/* Issue 13 D3: a file that never ends (/dev/zero) is refused at once by every reader, also
 * as the model line of a trace; before, each grew to gigabytes. */
Test(cli, endless_files_are_refused_by_every_reader, .timeout = 60)
{
    const char *zero = "/dev/zero";
    cli_result r;
    CLI(&r, "trace", "check", zero);
    EXPECT_ERROR(&r, 1, "/dev/zero: not a regular file");
    CLI(&r, "model", "show", zero);
    EXPECT_ERROR(&r, 1, "/dev/zero: not a regular file");
    CLI(&r, "run", "--trace", zero, "--arch", "bitfusion", "--db", wpath("z.db"));
    EXPECT_ERROR(&r, 1, "/dev/zero: not a regular file");
    cr_expect(!exists(wpath("z.db")));
    CLI(&r, "sweep", "--trace", write_file("ok.trace", ok_trace), "--space", zero, "--db",
        wpath("z.db"));
    EXPECT_ERROR(&r, 1, "/dev/zero: not a regular file");
    CLI(&r, "cost", "--arch", zero, "--model", "lenet5", "--layer", "0");
    EXPECT_ERROR(&r, 1, "/dev/zero");
    trace_check_fails("zero-model.trace", "bitsim-trace 1\nmodel /dev/zero\nbatch 16\n"
                      "iters_per_epoch 10\nepochs 2\nscheme static\nfrom 0 @mac W=int8\nend\n",
                      2, "model", "/dev/zero: not a regular file");
}

/* Issue 13 D8: a trace's model line naming a file that is not a model (../../etc/shadow) is
 * refused without quoting any of that file's content. */
Test(cli, a_model_line_naming_a_foreign_file_quotes_none_of_it)
{
    write_file("secret", "root:SECRET-HASH:20228:0:99999:7:::\nmore SECRET words\n");
    const char *trace = write_file("foreign.trace", "bitsim-trace 1\nmodel ./secret\n"
                                   "batch 16\niters_per_epoch 10\nepochs 2\n"
                                   "scheme static\nfrom 0 @mac W=int8\nend\n");
    char where[400];
    snprintf(where, sizeof where, "%s:2: model:", trace);
    cli_result r;
    CLI(&r, "trace", "check", trace);
    EXPECT_ERROR(&r, 1, where, "not a bitsim model");
    cr_expect_null(strstr(r.err, "SECRET"), "the file's content is quoted: %s", r.err);
    CLI(&r, "model", "show", wpath("secret"));
    EXPECT_ERROR(&r, 1, "secret:1:", "not a bitsim model");
    cr_expect_null(strstr(r.err, "SECRET"), "the file's content is quoted: %s", r.err);
}

/* ---- cost --bits: operand widths are 1..32 bits ---------------------------------------------- */

static void bad_bits(const char *bits)
{
    cli_result r;
    CLI(&r, "cost", "--model", "lenet5", "--layer", "0", "--bits", bits);
    EXPECT_ERROR(&r, 2, "--bits", bits);
    cr_expect_str_eq(r.out, "", "nothing on stdout for a rejected width");
}

Test(cli, cost_bits_0)
{
    bad_bits("0,8");
}

Test(cli, cost_bits_33)
{
    bad_bits("8,33");
}

Test(cli, cost_bits_65)
{
    bad_bits("65,8");
}

Test(cli, cost_density_nan_and_above_one)
{
    cli_result r;
    CLI(&r, "cost", "--model", "lenet5", "--layer", "0", "--density", "nan,1");
    EXPECT_ERROR(&r, 2, "--density");
    CLI(&r, "cost", "--model", "lenet5", "--layer", "0", "--density", "1,1.5");
    EXPECT_ERROR(&r, 2, "--density");
}

/* ---- arch files ------------------------------------------------------------------------------ */

/* The shipped bitfusion.ini with `edit` applied by a line filter: drop or rename `rows`. */
static const char *edited_arch(const char *name, bool rename)
{
    char src[4096];
    checkout_path("arch/bitfusion.ini", src, sizeof src);
    FILE *in = fopen(src, "r");
    cr_assert_not_null(in, "cannot read %s", src);
    const char *path = wpath(name);
    FILE *out = fopen(path, "w");
    cr_assert_not_null(out);
    char line[1024];
    int lineno = 0, rows_line = 0, array_line = 0;
    while (fgets(line, sizeof line, in)) {
        lineno++;
        if (strncmp(line, "[array]", 7) == 0)
            array_line = lineno;
        if (strncmp(line, "rows", 4) == 0 && strchr(" =", line[4])) {
            rows_line = lineno;
            if (!rename)
                continue;
            fputs("rowz", out);
            fputs(line + 4, out);
            continue;
        }
        fputs(line, out);
    }
    fclose(in);
    fclose(out);
    cr_assert_neq(rows_line, 0, "%s has no 'rows' key", src);
    static char where[300];
    if (rename)
        snprintf(where, sizeof where, "%s:%d: rowz:", path, rows_line);
    else
        snprintf(where, sizeof where, "%s:%d: rows:", path, array_line);  /* its section */
    return where;
}

Test(cli, unknown_arch_key)
{
    const char *where = edited_arch("unknown.ini", true);
    cli_result r;
    CLI(&r, "cost", "--arch", wpath("unknown.ini"), "--model", "lenet5", "--layer", "0");
    EXPECT_ERROR(&r, 1, where);
    CLI(&r, "run", "--trace", write_file("ok.trace", ok_trace), "--arch", wpath("unknown.ini"),
        "--db", wpath("a.db"));
    EXPECT_ERROR(&r, 1, where);
    cr_expect(!exists(wpath("a.db")));
}

Test(cli, missing_arch_key)
{
    const char *where = edited_arch("missing.ini", false);
    cli_result r;
    CLI(&r, "cost", "--arch", wpath("missing.ini"), "--model", "lenet5", "--layer", "0");
    EXPECT_ERROR(&r, 1, where, "missing");
    CLI(&r, "run", "--trace", write_file("ok.trace", ok_trace), "--arch", wpath("missing.ini"),
        "--db", wpath("a.db"));
    EXPECT_ERROR(&r, 1, where, "missing");
}

/* ---- databases ------------------------------------------------------------------------------- */

static const char *good_db(void)
{
    const char *db = wpath("good.db");
    cli_result r;
    CLI(&r, "run", "--trace", write_file("ok.trace", ok_trace), "--arch", "bitfusion", "--db",
        db, "--quiet");
    cr_assert_eq(r.status, 0, "%s", r.err);
    return db;
}

Test(cli, locked_database)
{
    const char *db = good_db();
    sqlite3 *holder;
    cr_assert_eq(sqlite3_open(db, &holder), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(holder, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    const char *env[] = {"BITSIM_BUSY_TIMEOUT_MS=50", NULL};
    cli_result r;
    CLI_ENV(&r, env, "run", "--trace", wpath("ok.trace"), "--arch", "bitfusion", "--db", db,
            "--force", "--label", "second");
    EXPECT_ERROR(&r, 1, db, "locked");
    sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(holder);
    cr_expect_eq(sql_number(db, "SELECT count(*) FROM runs"), 1.0);
    /* released: the same command now stores its run */
    CLI_ENV(&r, env, "run", "--trace", wpath("ok.trace"), "--arch", "bitfusion", "--db", db,
            "--force", "--label", "second", "--quiet");
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(sql_number(db, "SELECT count(*) FROM runs WHERE label = 'second'"), 1.0);
}

Test(cli, bad_busy_timeout_variable)
{
    const char *env[] = {"BITSIM_BUSY_TIMEOUT_MS=soon", NULL};
    cli_result r;
    CLI_ENV(&r, env, "run", "--trace", write_file("ok.trace", ok_trace), "--arch", "bitfusion",
            "--db", wpath("v.db"));
    EXPECT_ERROR(&r, 2, "BITSIM_BUSY_TIMEOUT_MS");
}

static size_t slurp(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    return got;
}

/* Every database-taking command refuses `db`, leaves it byte-identical and creates no
 * -wal/-shm/-journal beside it. */
static void refused_untouched(const char *db, const char *why)
{
    static char before[65536], after[65536];
    size_t n_before = slurp(db, before, sizeof before);
    const char *trace = write_file("ok.trace", ok_trace);
    cli_result r;
    CLI(&r, "run", "--trace", trace, "--arch", "bitfusion", "--db", db);
    EXPECT_ERROR(&r, 1, db, why);
    CLI(&r, "report", "--db", db, "--run", "1");
    EXPECT_ERROR(&r, 1, db, why);
    CLI(&r, "compare", "--db", db, "--baseline", "fp32");
    EXPECT_ERROR(&r, 1, db, why);
    CLI(&r, "pareto", "--db", db);
    EXPECT_ERROR(&r, 1, db, why);
    size_t n_after = slurp(db, after, sizeof after);
    cr_expect(n_before == n_after && memcmp(before, after, n_before) == 0,
              "%s was modified", db);
    static const char *const sides[] = {"-wal", "-shm", "-journal"};
    for (int i = 0; i < 3; i++) {
        char side[400];
        snprintf(side, sizeof side, "%s%s", db, sides[i]);
        cr_expect(!exists(side), "%s was created", side);
    }
}

/* Makes NAME in the work dir a plain SQLite database built by sql (another application's),
 * then checks bitsim refuses it and leaves it untouched. */
static void refused_foreign_sqlite(const char *name, const char *sql)
{
    const char *db = wpath(name);
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sql);
    sqlite3_close(h);
    refused_untouched(db, "not a bitsim database");
}

Test(cli, another_applications_sqlite_database)
{
    refused_foreign_sqlite("other.db",
                           "CREATE TABLE runs (id INTEGER); INSERT INTO runs VALUES (7);");
}

Test(cli, another_applications_wal_database)
{
    refused_foreign_sqlite("otherwal.db",
                           "PRAGMA journal_mode=WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);");
}

Test(cli, another_applications_database_with_its_own_application_id)
{
    refused_foreign_sqlite("otherid.db",
                           "PRAGMA journal_mode=WAL; PRAGMA application_id=1234;"
                           " CREATE TABLE runs (id INTEGER);");
}

Test(cli, text_file_as_database)
{
    refused_untouched(write_file("notes.db", "these are my notes\nnot a database\n"),
                      "not a bitsim database");
}

Test(cli, directory_as_database)
{
    const char *dir = wpath("dir.db");
    cr_assert_eq(mkdir(dir, 0700), 0);
    cli_result r;
    CLI(&r, "run", "--trace", write_file("ok.trace", ok_trace), "--arch", "bitfusion", "--db", dir);
    EXPECT_ERROR(&r, 1, dir);
    CLI(&r, "report", "--db", dir, "--run", "1");
    EXPECT_ERROR(&r, 1, dir);
}

Test(cli, empty_file_is_refused_by_readers_and_initialised_by_run)
{
    const char *db = write_file("empty.db", "");
    cli_result r;
    CLI(&r, "report", "--db", db, "--run", "1");
    EXPECT_ERROR(&r, 1, db);
    struct stat st;
    cr_expect(stat(db, &st) == 0 && st.st_size == 0, "a reader must not write %s", db);
    CLI(&r, "run", "--trace", write_file("ok.trace", ok_trace), "--arch", "bitfusion", "--db",
        db, "--quiet");
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(sql_number(db, "SELECT count(*) FROM runs"), 1.0);
}

Test(cli, nonexistent_database_for_readers)
{
    const char *db = wpath("nowhere.db");
    cli_result r;
    CLI(&r, "report", "--db", db, "--run", "1");
    EXPECT_ERROR(&r, 1, db);
    CLI(&r, "compare", "--db", db, "--baseline", "fp32");
    EXPECT_ERROR(&r, 1, db);
    cr_expect(!exists(db), "a reader must not create %s", db);
}

/* Issue 13 D4: names SQLite takes for a database that is not a file on disk (in-memory,
 * URI) stored nothing and said "run 1"; they are refused, and nothing is created. */
Test(cli, database_names_that_are_not_files_are_refused)
{
    const char *trace = write_file("ok.trace", ok_trace);
    static const char *const names[] = {"", ":memory:", "file:x.db?mode=memory",
                                        "file:memdb1?mode=memory&cache=shared"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        /* '' is already a usage error of the option table (2); the store refuses the rest */
        int status = names[i][0] ? 1 : 2;
        const char *why = names[i][0] ? "not a database file name" : "--db";
        cli_result r;
        CLI(&r, "run", "--trace", trace, "--arch", "bitfusion", "--db", names[i]);
        EXPECT_ERROR(&r, status, why);
        cr_expect_null(strstr(r.out, "run 1"), "'%s': %s", names[i], r.out);
        CLI(&r, "report", "--db", names[i], "--run", "1");
        EXPECT_ERROR(&r, status, why);
    }
    cr_expect(!exists("file:x.db?mode=memory") && !exists("x.db"));
}

/* Issue 13 D12: a refused input leaves no OUT database behind. */
Test(cli, merge_with_a_refused_input_creates_no_output)
{
    const char *out = wpath("merged.db");
    cli_result r;
    CLI(&r, "merge", out, write_file("notes.db", "not a database\n"));
    EXPECT_ERROR(&r, 1, "notes.db", "not a bitsim database");
    cr_expect(!exists(out), "merge left %s behind", out);
    CLI(&r, "merge", out, good_db(), wpath("missing.db"));
    EXPECT_ERROR(&r, 1, "missing.db");
    cr_expect(!exists(out), "merge left %s behind", out);
}

/* A private mount namespace where `dir` is mounted read-only on itself: the realistic
 * read-only mount, which also binds root (permissions do not). False when this process may
 * not (not root, or no namespaces): the caller falls back to permissions. */
static bool mount_read_only(const char *dir)
{
    if (geteuid() != 0 || unshare(CLONE_NEWNS) != 0)
        return false;
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
           mount(dir, dir, NULL, MS_BIND, NULL) == 0 &&
           mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) == 0;
}

/* Every reader works on db, and no -wal/-shm appears beside it. */
static void readers_work_on(const char *db)
{
    cli_result r;
    CLI(&r, "report", "--db", db, "--run", "1");
    cr_expect_eq(r.status, 0, "report: %s", r.err);
    CLI(&r, "compare", "--db", db, "--baseline", "static");
    cr_expect_eq(r.status, 0, "compare: %s", r.err);
    CLI(&r, "pareto", "--db", db);
    cr_expect_eq(r.status, 0, "pareto: %s", r.err);
    CLI(&r, "plot", "energy", "--db", db, "-o", wpath("plots"));
    cr_expect_eq(r.status, 0, "plot: %s", r.err);
    CLI(&r, "merge", "--quiet", wpath("merged.db"), db);
    cr_expect_eq(r.status, 0, "merge: %s", r.err);
    cr_expect_eq(sql_number(wpath("merged.db"), "SELECT count(*) FROM runs"), 1.0);
    static const char *const sides[] = {"-wal", "-shm", "-journal"};
    for (int i = 0; i < 3; i++) {
        char side[400];
        snprintf(side, sizeof side, "%s%s", db, sides[i]);
        cr_expect(!exists(side), "%s was left behind", side);
    }
}

/* Issue 13 D5: readers (report, compare, pareto, plot, merge's input) on a database in a
 * read-only directory or mount. */
Test(cli, readers_work_on_a_read_only_mount_or_directory)
{
    char dir[300], db[400], cmd[900];
    snprintf(dir, sizeof dir, "%s/ro", workdir);
    snprintf(db, sizeof db, "%s/good.db", dir);
    cr_assert_eq(mkdir(dir, 0755), 0);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", good_db(), db);
    cr_assert_eq(system(cmd), 0);
    bool mounted = mount_read_only(dir);
    if (!mounted) {
        cr_assert_neq(geteuid(), 0, "root without mount namespaces: cannot make %s read-only",
                      dir);
        cr_assert_eq(chmod(db, 0444), 0);
        cr_assert_eq(chmod(dir, 0555), 0);
    }
    cr_assert_neq(access(db, W_OK), 0, "%s is still writable", db);
    readers_work_on(db);
    if (mounted)
        umount2(dir, MNT_DETACH);
    chmod(dir, 0755);
}

/* ... and on a read-only file in a writable directory: nothing left beside it. (For root a
 * mode of 0444 changes nothing; the read-only bind mount of the file itself does.) */
Test(cli, readers_leave_nothing_beside_a_read_only_file)
{
    const char *db = good_db();
    bool mounted = mount_read_only(db);
    if (!mounted)
        cr_assert_eq(chmod(db, 0444), 0);
    readers_work_on(db);
    if (mounted)
        umount2(db, MNT_DETACH);
}

/* Issue 13 D14: when the disk is full, a checkpoint cannot copy the WAL into the database
 * (the file would have to grow), so later runs, which still fit in the WAL, leave committed
 * runs in DB-wal only: the command says so instead of staying silent (a database copied
 * without its -wal would lose them). Once there is space again, the next command on the
 * database checkpoints it: one file, every committed run in it. Needs a small tmpfs (root
 * and a mount namespace); skipped otherwise. */
Test(cli, a_full_disk_is_reported_and_the_wal_recovered_on_the_next_open)
{
    char dir[300], db[400], wal[420];
    snprintf(dir, sizeof dir, "%s/small", workdir);
    snprintf(db, sizeof db, "%s/full.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", db);
    cr_assert_eq(mkdir(dir, 0755), 0);
    if (geteuid() != 0 || unshare(CLONE_NEWNS) != 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", dir, "tmpfs", 0, "size=600k") != 0)
        cr_skip_test("needs root and a mount namespace for a small tmpfs");
    cli_result r;
    CLI(&r, "run", "--trace", write_file("ok.trace", ok_trace), "--arch", "bitfusion", "--db",
        db, "--quiet");
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* runs of a bigger trace until the disk is full */
    const char *big = "traces/samples/resnet20_muppet.trace";
    for (int i = 0; i < 20 && r.status == 0; i++) {
        char label[16];
        snprintf(label, sizeof label, "l%d", i);
        CLI(&r, "run", "--trace", big, "--arch", "bitfusion", "--db", db, "--label", label,
            "--force", "--quiet");
    }
    EXPECT_ERROR(&r, 1, db, "disk is full", "not stored");
    double runs = sql_number(db, "SELECT count(*) FROM runs WHERE status = 'complete'");
    CLI(&r, "run", "--trace", wpath("ok.trace"), "--arch", "bitfusion", "--db", db, "--force",
        "--label", "more", "--quiet");
    EXPECT_ERROR(&r, 0, db, "disk is full", "-wal");
    /* a sweep says so too (two small points) */
    const char *space = write_file("two.ini", "[sweep]\narch = bitfusion\n[params]\n"
                                   "arch.freq_mhz = 500, 600\n");
    CLI(&r, "sweep", "--trace", wpath("ok.trace"), "--space", space, "--db", db, "-q");
    EXPECT_ERROR(&r, 0, db, "disk is full", "-wal");
    cr_assert_eq(mount("tmpfs", dir, "tmpfs", MS_REMOUNT, "size=8m"), 0);
    CLI(&r, "compare", "--db", db, "--baseline", "static");
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(!exists(wal), "%s was not checkpointed", wal);
    cr_expect_eq(sql_number(db, "SELECT count(*) FROM runs WHERE status = 'complete'"),
                 runs + 3);
    umount2(dir, MNT_DETACH);
}

/* Issue 13 D9: a run of more cost rows than a run may store (replay.h REPLAY_ROWS_MAX) is a
 * clear input error up front, not "out of memory" (exit 3) or the OOM killer. */
Test(cli, a_run_of_too_many_rows_is_refused_up_front)
{
    const char *trace = write_file("long.trace", "bitsim-trace 1\nmodel lenet5\nbatch 16\n"
                                   "iters_per_epoch 1\nepochs 1000000000\nscheme static\n"
                                   "from 0 @mac W=int8 A=int8 G=int8\nend\n");
    cli_result r;
    CLI(&r, "run", "--trace", trace, "--arch", "bitfusion", "--db", wpath("long.db"));
    char where[400];
    snprintf(where, sizeof where, "%s: epochs:", trace);
    EXPECT_ERROR(&r, 1, where, "rows");
    cr_expect(!exists(wpath("long.db")));
}

/* Issue 13 D10: control characters in labels, provenance and arch names (a newline broke
 * tables and the one-line error rule); arch names, also those taken from the file name, are
 * letters, digits and ._+- (arch/FORMAT.md). */
Test(cli, control_characters_in_labels_provenance_and_arch_names)
{
    char trace[300];    /* wpath's ring is reused below */
    snprintf(trace, sizeof trace, "%s", write_file("ok.trace", ok_trace));
    static const char *const bad[] = {"two\nlines", "tab\there", "esc\x1b[31mred", "del\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cli_result r;
        CLI(&r, "run", "--trace", trace, "--arch", "bitfusion", "--db", wpath("c.db"),
            "--label", bad[i]);
        EXPECT_ERROR(&r, 2, "--label", "control characters");
        cr_expect(!exists(wpath("c.db")));
    }
    cli_result r;
    const char *space = write_file("s.ini", "[sweep]\narch = bitfusion\n[params]\n"
                                   "array.rows = 4, 8\n");
    CLI(&r, "sweep", "--trace", trace, "--space", space, "--db", wpath("c.db"), "--label", "a\nb");
    EXPECT_ERROR(&r, 2, "--label", "control characters");
    trace_check_fails("prov.trace", "bitsim-trace 1\nmodel lenet5\nbatch 16\niters_per_epoch 10\n"
                      "epochs 2\nscheme static\nprovenance made by \x1b[2Jme\n"
                      "from 0 @mac W=int8\nend\n", 7, "provenance", "control characters");

    /* an arch named by its file: "my arch.ini" is not a valid name */
    char src[1024], cmd[2100];
    checkout_path("arch/bitfusion.ini", src, sizeof src);
    const char *spaced = wpath("my arch.ini");
    snprintf(cmd, sizeof cmd, "grep -v '^name *=' '%s' > '%s'", src, spaced);
    cr_assert_eq(system(cmd), 0);
    CLI(&r, "cost", "--arch", spaced, "--model", "lenet5", "--layer", "0");
    EXPECT_ERROR(&r, 1, spaced, "name:", "letters, digits");
    CLI(&r, "run", "--trace", trace, "--arch", spaced, "--db", wpath("c.db"));
    EXPECT_ERROR(&r, 1, spaced, "name:", "letters, digits");
    cr_expect(!exists(wpath("c.db")));
    /* a control character in any option's value (a path too) is refused, shown escaped */
    const char *esc = wpath("esc\x1b.ini");
    snprintf(cmd, sizeof cmd, "grep -v '^name *=' '%s' > '%s'", src, esc);
    cr_assert_eq(system(cmd), 0);
    CLI(&r, "run", "--trace", trace, "--arch", esc, "--db", wpath("c.db"));
    EXPECT_ERROR(&r, 2, "--arch", "esc\\x1b.ini", "control characters");
    cr_expect(!exists(wpath("c.db")));
}

/* Issue 13 D11: a sample of the rejections that named a file but no line or no field (about
 * one in five of the tester's bad inputs): each now reads FILE:LINE: FIELD: message. A
 * missing key points at its section's header (or the file's last line without one); a check
 * across keys at the key it names; an edit of the shipped arch at the edited line. */
Test(cli, rejections_of_files_name_file_line_and_field)
{
    static char base[16384];
    checkout_read("arch/bitfusion.ini", base, sizeof base);
    static const struct {
        const char *name, *text;    /* a file of text, or the shipped arch with old -> new */
        const char *old, *new;
        long line;                  /* 0: the edited line */
        const char *want;
    } cases[] = {
        {"unknown-section.ini", NULL, "[array]", "[arrayy]", 0, "section: unknown section"},
        {"pmax.ini", NULL, "pmax = 8", "pmax = 3", 0, "pmax: pmin and pmax must be multiples"},
        {"pmin.ini", NULL, "pmin = 2", "pmin = 16", 0, "pmin: pmin (16) exceeds pmax"},
        {"no-family.ini", "[arch]\nname = x\n", NULL, NULL, 1, "family: missing required key"},
        {"empty.ini", "", NULL, NULL, 1, "family: missing required key"},
        {"gpu.ini", "# a GPU\n[arch]\nfamily = gpu\n", NULL, NULL, 2,
         "freq_mhz: missing required key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        static char text[16384];
        long line = cases[i].line;
        if (cases[i].text)
            snprintf(text, sizeof text, "%s", cases[i].text);
        else {
            char *at = strstr(base, cases[i].old);
            cr_assert_not_null(at, "%s", cases[i].old);
            line = 1;
            for (const char *c = base; c < at; c++)
                line += *c == '\n';
            snprintf(text, sizeof text, "%.*s%s%s", (int)(at - base), base, cases[i].new,
                     at + strlen(cases[i].old));
        }
        char path[300], want[700];
        snprintf(path, sizeof path, "%s", write_file(cases[i].name, text));
        snprintf(want, sizeof want, "%s:%ld: %s", path, line, cases[i].want);
        cli_result r;
        CLI(&r, "cost", "--arch", path, "--model", "lenet5", "--layer", "0");
        EXPECT_ERROR(&r, 1, want);
    }
    static const struct {
        const char *name, *text, *want;
    } spaces[] = {
        {"no-params.ini", "[sweep]\narch = bitfusion\n", "2: params: no parameters"},
        {"no-arch.ini", "[params]\narray.rows = 4\n", "2: arch: missing in [sweep]"},
        {"no-points.ini", "[sweep]\narch = bitfusion\nsampling = lhs\n[params]\narray.rows = 4, 8\n",
         "3: points: lhs sampling needs points"},
    };
    char trace[300];
    snprintf(trace, sizeof trace, "%s", write_file("ok.trace", ok_trace));
    for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++) {
        char path[300], want[700];
        snprintf(path, sizeof path, "%s", write_file(spaces[i].name, spaces[i].text));
        snprintf(want, sizeof want, "%s:%s", path, spaces[i].want);
        cli_result r;
        CLI(&r, "sweep", "--trace", trace, "--space", path, "--db", wpath("sp.db"), "-q");
        EXPECT_ERROR(&r, 1, want);
    }
    char model[300], want[700];
    snprintf(model, sizeof model, "%s", write_file("nolayers.model", "# only an input\ninput 3 8 8\n"));
    snprintf(want, sizeof want, "%s:2: layer: no layers", model);
    cli_result r;
    CLI(&r, "model", "show", model);
    EXPECT_ERROR(&r, 1, want);
}

/* A path that cannot be read or written says why (the OS's reason), exit 1. */
Test(cli, unwritable_trace_output_says_why)
{
    char out[400];
    snprintf(out, sizeof out, "%s/no-such-dir/x.trace", wpath(""));
    cli_result r;
    CLI(&r, "trace", "gen", "--scheme", "fp32", "--model", "lenet5", "-o", out);
    EXPECT_ERROR(&r, 1, "no-such-dir/x.trace", "No such file or directory");
    /* arch import, both ends: a missing input and an unwritable output */
    const char *conf = write_file("conf.ini", "[accelerator]\na = 16\nc = 32\nhigh_prec = 8\n"
                                  "low_prec = 2\nfrequency = 500000000\nWgt_SRAM = 65536\n"
                                  "Act_SRAM = 65536\nOut_SRAM = 65536\n[system]\nif_width = 192\n");
    CLI(&r, "arch", "import", wpath("no-such.ini"));
    EXPECT_ERROR(&r, 1, "no-such.ini", "No such file or directory");
    snprintf(out, sizeof out, "%s/no-such-dir/x.ini", wpath(""));
    CLI(&r, "arch", "import", conf, "-o", out);
    EXPECT_ERROR(&r, 1, "no-such-dir/x.ini", "No such file or directory");
}

/* A trace the reader accepts but the replay rejects part-way: the first segment (iteration
 * 0) is small, the second (iterations 1..) pushes vgg16's MAdd totals at batch 10^6 over 10^9
 * iterations past 2^64 (15.5e9 x 1e6 x 1e9 >> 1.8e19). The run must leave no run row. */
Test(cli, failed_run_leaves_no_run_row)
{
    const char *db = good_db();
    const char *trace = write_file(
        "overflow.trace", "bitsim-trace 1\nmodel vgg16\nbatch 1000000\niters_per_epoch 1000000\n"
                          "epochs 1000\nscheme static\nfrom 0 @mac W=int8 A=int8 G=int8\n"
                          "from 1 @mac W=int4\nend\n");
    cli_result r;
    CLI(&r, "run", "--trace", trace, "--arch", "bitfusion", "--db", db);
    EXPECT_ERROR(&r, 1, trace, "overflow");
    cr_expect_eq(sql_number(db, "SELECT count(*) FROM runs"), 1.0);
    cr_expect_eq(sql_number(db, "SELECT count(*) FROM costs WHERE run_id NOT IN (SELECT id FROM runs)"), 0.0);
    char check[64];
    sqlite3 *h;
    cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    snprintf(check, sizeof check, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
    cr_expect_str_eq(check, "ok");
}

/* The replay runs before the database is opened: a trace the cost model rejects part-way
 * creates no database file at all (no inputs stored, no -wal or -shm left). */
Test(cli, failed_run_creates_no_database)
{
    const char *trace = write_file(
        "overflow2.trace", "bitsim-trace 1\nmodel vgg16\nbatch 1000000\niters_per_epoch 1000000\n"
                           "epochs 1000\nscheme static\nfrom 0 @mac W=int8 A=int8 G=int8\n"
                           "from 1 @mac W=int4\nend\n");
    const char *db = wpath("never.db");
    cli_result r;
    CLI(&r, "run", "--trace", trace, "--arch", "bitfusion", "--db", db);
    EXPECT_ERROR(&r, 1, trace, "overflow");
    cr_expect_eq(access(db, F_OK), -1, "%s exists after a failed run", db);
}

/* ---- --help ------------------------------------------------------------------------------------ */

/* Every subcommand listed by `bitsim --help` (read from its "commands:" section, so a new one
 * is covered without editing this test) answers --help, -h and `bitsim help CMD` with exit 0,
 * its usage on stdout and nothing on stderr. */
Test(cli, help_on_every_subcommand_exits_0)
{
    cli_result top;
    CLI(&top, "--help");
    cr_assert_eq(top.status, 0, "%s", top.err);
    const char *list = strstr(top.out, "commands:\n");
    cr_assert_not_null(list, "bitsim --help has no 'commands:' section:\n%s", top.out);
    list += strlen("commands:\n");
    int n = 0;
    char name[32];
    int used;
    while (sscanf(list, " %31[a-z]%n", name, &used) == 1 && list[0] == ' ') {
        static const char *const forms[][2] = {{"--help", NULL}, {"-h", NULL}};
        for (int f = 0; f < 2; f++) {
            cli_result r;
            CLI(&r, name, forms[f][0]);
            cr_expect_eq(r.status, 0, "bitsim %s %s: status %d, %s", name, forms[f][0], r.status,
                         r.err);
            cr_expect(strstr(r.out, "usage:") != NULL, "bitsim %s %s prints no usage", name,
                      forms[f][0]);
            cr_expect_str_eq(r.err, "", "bitsim %s %s", name, forms[f][0]);
        }
        cli_result r, h;
        CLI(&r, "help", name);
        cr_expect_eq(r.status, 0, "bitsim help %s: %s", name, r.err);
        CLI(&h, name, "--help");
        cr_expect_str_eq(r.out, h.out, "bitsim help %s and bitsim %s --help differ", name, name);
        n++;
        const char *eol = strchr(list, '\n');
        if (!eol)
            break;
        list = eol + 1;
    }
    cr_expect_geq(n, 10, "found only %d subcommands in bitsim --help", n);
}

/* Help reads in a terminal: no line of any command's help (help --all) runs past 90
 * columns, a choice list included (it moves under its option when it would). */
Test(cli, help_fits_90_columns)
{
    cli_result r;
    CLI(&r, "help", "--all");
    cr_assert_eq(r.status, 0, "%s", r.err);
    for (const char *p = r.out; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        cr_expect_leq(len, 90, "a help line of %zu columns: %.*s", len, (int)len, p);
        p += len + (eol != NULL);
    }
}

/* The option table adds a choice's "one of: a|b|c" itself; a help text that also ends in
 * "one of" printed it twice (plot --size, report --by). Every command's help, nested ones
 * included (help --all), says it once per option. */
Test(cli, help_names_each_choice_list_once)
{
    cli_result r;
    CLI(&r, "help", "--all");
    cr_assert_eq(r.status, 0, "%s", r.err);
    for (const char *p = r.out; (p = strstr(p, "one of")) != NULL; p += 6) {
        const char *after = p + 6;
        while (*after == '\n' || *after == ' ')
            after++;
        cr_expect(strncmp(after, "one of", 6) != 0, "a choice list said twice: ...%.80s",
                  p > r.out + 80 ? p - 80 : r.out);
    }
}

Test(cli, unknown_subcommand_and_option_are_usage_errors)
{
    cli_result r;
    CLI(&r, "frobnicate");
    cr_expect_eq(r.status, 2, "%s", r.err);
    cr_expect(strstr(r.err, "frobnicate") != NULL, "%s", r.err);
    CLI(&r, "run", "--no-such-option");
    cr_expect_eq(r.status, 2, "%s", r.err);
    cr_expect(strstr(r.err, "bitsim run: unknown or incomplete option '--no-such-option'"),
              "%s", r.err);
}

/* ---- the shared flags mean the same everywhere (cmd.h option tables) ------------------------ */

/* A near-miss name gets a did-you-mean: subcommands, sub-actions, choices (exit 2, usage), and
 * schemes, zoo models and archs (exit 1, bad input: a name is input, not a flag). */
Test(cli, did_you_mean_for_names)
{
    static const struct {
        const char *args[10];     /* NULL-terminated */
        int status;
        const char *want;
    } cases[] = {
        {{"rpeort"}, 2, "did you mean 'report'?"},
        {{"trace", "gne"}, 2, "did you mean 'gen'?"},
        {{"report", "--run", "1", "-f", "cvs"}, 2, "did you mean 'csv'?"},
        {{"trace", "gen", "--scheme", "CPT", "--model", "resnet20", "-o", "-"}, 1,
         "did you mean 'cpt'?"},
        {{"model", "show", "resnet-20"}, 1, "did you mean 'resnet20'?"},
        {{"cost", "--arch", "BitFusion", "--model", "resnet20", "--layer", "0"}, 1,
         "did you mean 'bitfusion'?"},
        {{"cost", "--model", "lenet5", "--layer", "c33"}, 1, "did you mean 'c3'?"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cli_result r;
        cli_env(&r, NULL, cases[i].args);
        cr_expect_eq(r.status, cases[i].status, "%s: status %d: %s", cases[i].args[0], r.status,
                     r.err);
        cr_expect(strstr(r.err, cases[i].want) != NULL, "%s: %s", cases[i].args[0], r.err);
    }
}

/* -f/--format, -q/--quiet and --db are accepted by every command that prints a table, stores
 * a run, or reads the database; readers default --db to bitsim.db like run and sweep. */
Test(cli, shared_flags_are_accepted_everywhere)
{
    static const char *const format_cmds[][3] = {
        {"report", NULL}, {"compare", NULL}, {"pareto", NULL}, {"cost", NULL},
        {"model", "list"}, {"model", "show"}, {"trace", "check"}, {"trace", "schemes"},
    };
    for (size_t i = 0; i < sizeof format_cmds / sizeof format_cmds[0]; i++) {
        cli_result r;
        const char *args[6] = {format_cmds[i][0]};
        int n = 1;
        if (format_cmds[i][1])
            args[n++] = format_cmds[i][1];
        args[n++] = "--help";
        cli_env(&r, NULL, args);
        cr_expect(strstr(r.out, "-f, --format F") != NULL, "%s %s --help: %s", args[0],
                  n > 2 ? args[1] : "", r.out);
    }
    static const char *const quiet_cmds[] = {"run", "sweep", "merge"};
    for (size_t i = 0; i < 3; i++) {
        cli_result r;
        CLI(&r, quiet_cmds[i], "--help");
        cr_expect(strstr(r.out, "-q, --quiet") != NULL, "%s --help: %s", quiet_cmds[i], r.out);
    }
    static const char *const db_cmds[] = {"run", "sweep", "report", "compare", "plot", "pareto"};
    for (size_t i = 0; i < 6; i++) {
        cli_result r;
        CLI(&r, db_cmds[i], "--help");
        cr_expect(strstr(r.out, "--db FILE") && strstr(r.out, "(default bitsim.db)"),
                  "%s --help: %s", db_cmds[i], r.out);
    }
    /* a reader without --db reads ./bitsim.db: from the work directory that has none, it names
     * that file (bad input, exit 1), not a missing flag (usage) */
    cli_result r;
    const char *cd_args[] = {"compare", "--baseline", "fp32", NULL};
    char cwd[512];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    char bin[600];
    snprintf(bin, sizeof bin, "%s/%s", cwd, bitsim_bin());
    cr_assert_eq(chdir(workdir), 0);
    setenv("BITSIM_BIN", bin, 1);
    cli_env(&r, NULL, cd_args);
    cr_assert_eq(chdir(cwd), 0);
    unsetenv("BITSIM_BIN");
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.err, "bitsim.db") != NULL, "%s", r.err);
}

/* --version names the build commit the database stores with every run. */
Test(cli, version_names_the_build_revision)
{
    cli_result r;
    CLI(&r, "--version");
    cr_expect_eq(r.status, 0);
    cr_expect(strncmp(r.out, "bitsim 0.", 9) == 0, "%s", r.out);
    cr_expect(strchr(r.out, '+') != NULL, "no +REVISION: %s", r.out);
}
