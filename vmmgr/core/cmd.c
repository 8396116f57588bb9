#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

extern char **environ;

static long
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int
vm_cmd_run(const char *const *argv, const vm_cmd_limits *limits, char **ret_output, vm_error *err)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot run '%s'", argv[0]);
    _cleanup_close_ int rfd = pfd[0];

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (limits && limits->show_output) {
        posix_spawn_file_actions_adddup2(&fa, 2, 1);
    } else {
        posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
        posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
    }
    /* only 0-2: not a store's file, a socket or a lock of the caller's that is not close-on-exec
     * (a daemon it starts, dnsmasq or HAProxy, would hold it for its whole life) */
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);

    /* Limits are set in the parent around the spawn (posix_spawn has no prlimit attribute) and
     * inherited; the parent's own limits are put back at once. */
    struct rlimit old_cpu, old_as;
    getrlimit(RLIMIT_CPU, &old_cpu);
    getrlimit(RLIMIT_AS, &old_as);
    if (limits && limits->cpu_sec)
        setrlimit(RLIMIT_CPU, &(struct rlimit){ limits->cpu_sec, limits->cpu_sec });
    if (limits && limits->address_space)
        setrlimit(RLIMIT_AS, &(struct rlimit){ (rlim_t)limits->address_space, (rlim_t)limits->address_space });

    /* the program starts with no signal blocked and the usual dispositions: `vmmgr serve` blocks
     * SIGTERM, SIGINT and SIGUSR1 (it takes them synchronously) and ignores SIGPIPE, and a daemon
     * it starts (a router's dnsmasq) would otherwise keep that and never end on SIGTERM */
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    sigaddset(&dfl, SIGTERM);
    sigaddset(&dfl, SIGINT);
    sigaddset(&dfl, SIGHUP);
    sigaddset(&dfl, SIGUSR1);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dfl);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, &at, (char *const *)argv, environ);
    posix_spawnattr_destroy(&at);

    if (limits && limits->cpu_sec)
        setrlimit(RLIMIT_CPU, &old_cpu);
    if (limits && limits->address_space)
        setrlimit(RLIMIT_AS, &old_as);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0)
        return vm_error_set_errno(err, rc, VM_ERR_INTERNAL, "cannot run '%s'", argv[0]);

    size_t len = 0, cap = 4096;
    _cleanup_free_ char *out = malloc(cap);
    long deadline = limits && limits->timeout_sec ? now_ms() + limits->timeout_sec * 1000L : 0;
    bool timed_out = false;
    for (;;) {
        int wait_ms = -1;
        if (deadline) {
            long left = deadline - now_ms();
            if (left <= 0) {
                timed_out = true;
                kill(pid, SIGKILL);
                break;
            }
            wait_ms = (int)left;
        }
        struct pollfd p = { .fd = rfd, .events = POLLIN };
        int pr = poll(&p, 1, wait_ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0)
            continue;
        if (len + 1024 > cap) {
            char *n = out ? realloc(out, cap * 2) : NULL;
            if (!n) {
                kill(pid, SIGKILL);
                break;
            }
            out = n;
            cap *= 2;
        }
        ssize_t r = read(rfd, out + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    if (out)
        out[len] = '\0';

    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    const char *tail = out ? out : "";
    if (len > 400)
        tail = out + len - 400;
    if (timed_out)
        return vm_error_set(err, VM_ERR_INTERNAL, "'%s' did not finish within %d s", argv[0], limits->timeout_sec);
    if (WIFSIGNALED(status))
        return vm_error_set(err, VM_ERR_INTERNAL, "'%s' was killed by signal %d: %s", argv[0], WTERMSIG(status), tail);
    if (WEXITSTATUS(status) != 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "'%s' failed with status %d: %s", argv[0], WEXITSTATUS(status),
                            tail);
    if (ret_output)
        *ret_output = TAKE_PTR(out);
    return 0;
}

long
vm_pid_file_read(const char *path)
{
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    long pid = 0;
    if (!f || fscanf(f, "%ld", &pid) != 1 || pid <= 1)
        return 0;
    return pid;
}
