/* `vmmgr serve`: the HTTP API plus the background loops (reconcile every few seconds, the metrics
 * sampler every metrics_interval seconds), until SIGTERM or SIGINT, after which requests in flight
 * finish and nothing new is accepted. */
#pragma once

#include "core/ctx.h"

typedef struct vm_serve_opts {
    const char *listen; /* "ADDR:PORT" */
    const char *region; /* NULL: the configured one */
    unsigned workers;
    int metrics_interval; /* seconds between sampler rounds; 0: no sampler */
    const char *metrics_listen; /* "ADDR:PORT" of GET /metrics for Prometheus; NULL: none */
} vm_serve_opts;

/* Starts libvirt's event loop in a thread, so connections opened from now on can keep alive.
 * Call before the first libvirt connection of the process. */
int vm_serve_prepare(vm_error *err);

/* Returns the process exit status. */
int vm_serve(vm_ctx *ctx, const vm_serve_opts *opts);

/* Wakes the daemon's loop (reconcile and the Auto Scaling controller run at once); nothing outside
 * `vmmgr serve`.  Called after a request that changed what the controller acts on. */
void vm_serve_kick(void);
