/* cli_capture.h — runs a subcommand's cmd_* function in-process with stdout captured, for CLI
 * tests (exit status and output).
 *
 * In-process, not via the bitsim binary, so the tests need no built executable and run under
 * ASan with the rest. Header-only (static inline) so any test file can use it.
 */
#ifndef BITSIM_CLI_CAPTURE_H
#define BITSIM_CLI_CAPTURE_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* Runs a cmd_* with stdout into a file; returns the exit status and the output. */
static inline int run_cmd(int (*fn)(int, char **), char **argv, char *out, size_t n)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    char path[] = "/tmp/bitsim-test-out-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(fd, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    int rc = fn(argc, argv);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    dup2(saved_err, STDERR_FILENO);
    close(saved);
    close(saved_err);
    close(devnull);
    lseek(fd, 0, SEEK_SET);
    ssize_t got = read(fd, out, n - 1);
    out[got > 0 ? got : 0] = '\0';
    close(fd);
    unlink(path);
    return rc;
}

#endif
