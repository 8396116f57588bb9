#include "serve.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <pthread.h>

#include "api/http.h"
#include "compute/instance.h"

#define RECONCILE_EVERY_SEC 5

static void *
event_loop(void *arg)
{
    (void)arg;
    for (;;)
        if (virEventRunDefaultImpl() < 0)
            break;
    return NULL;
}

int
vm_serve_prepare(vm_error *err)
{
    if (virEventRegisterDefaultImpl() < 0)
        return vm_error_from_virt(err, "starting the libvirt event loop");
    pthread_t t;
    if (pthread_create(&t, NULL, event_loop, NULL) != 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "cannot start the libvirt event loop thread");
    pthread_detach(t);
    return 0;
}

int
vm_serve(vm_ctx *ctx, const vm_serve_opts *opts)
{
    char addr[64];
    const char *colon = strrchr(opts->listen, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || (size_t)(colon - opts->listen) >= sizeof(addr) || !end || *end || port < 0 || port > 65535) {
        fprintf(stderr, "vmmgr serve: --listen takes ADDR:PORT, not '%s'\n", opts->listen);
        return 252;
    }
    snprintf(addr, sizeof(addr), "%.*s", (int)(colon - opts->listen), opts->listen);
    if (!vm_ctx_initialized(ctx)) {
        fprintf(stderr, "vmmgr serve: not initialised: run 'vmmgr init' first\n");
        return 254;
    }

    /* signals are taken synchronously below; worker threads inherit the mask */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    api_config cfg = {
        .state_dir = ctx->state_dir,
        .uri = ctx->uri,
        .address = addr,
        .port = (uint16_t)port,
        .region = opts->region ? opts->region : ctx->region,
        .workers = opts->workers,
    };
    vm_error err = { 0 };
    ctx->keepalive = true;
    api_server *s = api_server_start(&cfg, &err);
    if (!s) {
        fprintf(stderr, "vmmgr serve: %s\n", err.msg);
        return 254;
    }
    printf("vmmgr serve: listening on http://%s:%u (region %s)\n", addr, api_server_port(s), cfg.region);
    fflush(stdout);

    for (;;) {
        struct timespec wait = { RECONCILE_EVERY_SEC, 0 };
        int sig = sigtimedwait(&set, NULL, &wait);
        if (sig == SIGTERM || sig == SIGINT) {
            fprintf(stderr, "vmmgr serve: signal %d: finishing requests in flight\n", sig);
            break;
        }
        if (sig < 0 && errno != EAGAIN && errno != EINTR)
            break;
        vm_error rec = { 0 };
        if (inst_reconcile(ctx, &rec) < 0)
            fprintf(stderr, "vmmgr serve: reconcile: %s\n", rec.msg);
    }
    api_server_stop(s);
    fprintf(stderr, "vmmgr serve: stopped\n");
    return 0;
}
