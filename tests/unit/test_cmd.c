#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../vmmgr/core/cmd.h"

static long
ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

Test(cmd, run_captures_output_and_status)
{
    vm_error err = { 0 };
    char *out = NULL;
    const char *ok[] = { "sh", "-c", "echo hello; echo there >&2", NULL };
    cr_assert_eq(vm_cmd_run(ok, NULL, &out, &err), 0, "%s", err.msg);
    cr_expect_str_eq(out, "hello\nthere\n");
    free(out);
    const char *bad[] = { "sh", "-c", "echo no such base; exit 3", NULL };
    cr_assert_eq(vm_cmd_run(bad, NULL, NULL, &err), -1);
    cr_expect(strstr(err.msg, "status 3") && strstr(err.msg, "no such base"), "%s", err.msg);
}

Test(cmd, time_limit_kills_the_program)
{
    vm_error err = { 0 };
    const char *hang[] = { "sleep", "30", NULL };
    vm_cmd_limits lim = { .timeout_sec = 1 };
    long t0 = ms_now();
    cr_assert_eq(vm_cmd_run(hang, &lim, NULL, &err), -1);
    cr_expect(strstr(err.msg, "did not finish within 1 s"), "%s", err.msg);
    cr_expect_lt(ms_now() - t0, 5000);
}

Test(cmd, missing_program_is_named)
{
    vm_error err = { 0 };
    const char *none[] = { "vmmgr-no-such-program", NULL };
    cr_expect_eq(vm_cmd_run(none, NULL, NULL, &err), -1);
    cr_expect(strstr(err.msg, "vmmgr-no-such-program"), "%s", err.msg);
}

/* a pid file: the daemon's pid; nothing for a missing file, garbage, or pid 0 and 1 */
Test(cmd, pid_file_read)
{
    char path[] = "/tmp/vmmgr-pidfile-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    static const struct {
        const char *text;
        long pid;
    } cases[] = { { "4242\n", 4242 }, { "77", 77 },       { "1\n", 0 }, { "0\n", 0 },
                  { "-5\n", 0 },      { "dnsmasq\n", 0 }, { "", 0 } };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        FILE *f = fopen(path, "w");
        cr_assert(f);
        fputs(cases[i].text, f);
        fclose(f);
        long got = vm_pid_file_read(path);
        cr_expect(got == cases[i].pid, "'%s': %ld", cases[i].text, got);
    }
    close(fd);
    unlink(path);
    cr_expect_eq(vm_pid_file_read(path), 0);
}

/* a program starts with no signal blocked, whatever its parent blocks (`vmmgr serve` blocks
 * SIGTERM): a daemon started so would never end on SIGTERM */
Test(cmd, child_starts_with_no_blocked_signal)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    const char *argv[] = { "sh", "-c", "grep '^SigBlk' /proc/self/status", NULL };
    char *out = NULL;
    vm_error err = { 0 };
    cr_assert_eq(vm_cmd_run(argv, NULL, &out, &err), 0, "%s", err.msg);
    cr_expect(strstr(out, "SigBlk:\t0000000000000000"), "%s", out);
    free(out);
}

Test(cmd, child_gets_only_its_standard_fds)
{
    int fd = open("/dev/null", O_RDONLY); /* not close-on-exec, as a careless caller's */
    cr_assert_geq(fd, 3);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "ls /proc/self/fd/; test -e /proc/self/fd/%d && echo LEAKED; true", fd);
    const char *argv[] = { "sh", "-c", cmd, NULL };
    char *out = NULL;
    vm_error err = { 0 };
    cr_assert_eq(vm_cmd_run(argv, NULL, &out, &err), 0, "%s", err.msg);
    cr_expect_null(strstr(out, "LEAKED"), "fd %d reached the child: %s", fd, out);
    free(out);
    close(fd);
}
