#include "job.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"

extern char **environ;

/* environ with VMMGR_STATE_DIR and VMMGR_LIBVIRT_URI set to ctx's, built before fork (the child of
 * a threaded process may only call async-signal-safe functions until it execs). */
static char **
job_env(vm_ctx *ctx, char **ret_own)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 3, sizeof(char *));
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "VMMGR_STATE_DIR=", 16) != 0 && strncmp(environ[i], "VMMGR_LIBVIRT_URI=", 18) != 0)
            env[k++] = environ[i];
    if (asprintf(&ret_own[0], "VMMGR_STATE_DIR=%s", ctx->state_dir) < 0) {
        free(env);
        return NULL;
    }
    if (asprintf(&ret_own[1], "VMMGR_LIBVIRT_URI=%s", ctx->uri ? ctx->uri : "") < 0) {
        free(ret_own[0]);
        free(env);
        return NULL;
    }
    env[k++] = ret_own[0];
    env[k++] = ret_own[1];
    return env;
}

int
vm_job_spawn(vm_ctx *ctx, const char *kind, const char *id, const int *fds, size_t nfds, vm_error *err)
{
    if (ctx->dry_run) { /* DryRun: nothing is started */
        ctx->dry_run_hit = true;
        return vm_error_set(err, VM_ERR_DRY_RUN, "Request would have succeeded, but DryRun flag is set");
    }
    char log[4200];
    _cleanup_free_ char *fdlist = calloc(nfds + 1, 12);
    if (!fdlist)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0, off = 0; i < nfds; i++)
        off += (size_t)snprintf(fdlist + off, 12, "%s%d", i ? "," : "", fds[i]);
    snprintf(log, sizeof(log), "%s/jobs.log", ctx->state_dir);
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len < 0)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot find the vmmgr binary for a job");
    exe[len] = '\0';
    char *own[2] = { NULL, NULL };
    _cleanup_free_ char **env = job_env(ctx, own);
    _cleanup_free_ char *own0 = own[0], *own1 = own[1];
    if (!env)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    char *argv[] = { "vmmgr", "_job", (char *)kind, (char *)id, fdlist, NULL };
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        return vm_error_set_errno(err, e, VM_ERR_INTERNAL, "cannot start the %s job of '%s'", kind, id);
    }
    if (pid == 0) {
        /* the child: a new session, and a grandchild that init adopts, so no daemon keeps zombies */
        setsid();
        pid_t g = fork();
        if (g != 0)
            _exit(g < 0 ? 1 : 0);
        int null = open("/dev/null", O_RDWR);
        int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0640);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        dup2(out >= 0 ? out : null, 2);
        /* nothing of the request's process but the locks handed over: not its blocked signals
         * either (`vmmgr serve` blocks SIGTERM, SIGINT and SIGUSR1 to take them synchronously) */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        for (size_t i = 0; i < nfds; i++)
            fcntl(fds[i], F_SETFD, 0);
        execve(exe, argv, env);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "cannot start the %s job of '%s'", kind, id);
    return 0;
}
