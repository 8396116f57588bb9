/* The HTTP adapter: libmicrohttpd with a small pool of worker threads; each request is routed on
 * its credential scope's service, verified with SigV4, decoded and answered by that service's
 * protocol (protocol.h) and run by the service (svc_call).
 * Each worker takes its own vm_ctx (store connection, libvirt connection) from a pool, so a libvirt
 * call that hangs holds one worker, not the server. */
#pragma once

#include <stdint.h>

#include <stdio.h>

#include "../core/ctx.h"
#include "../core/error.h"

/* Writes the Prometheus text of the host's instances to out (the request counts follow it). */
typedef int (*api_metrics_fn)(vm_ctx *ctx, FILE *out, vm_error *err);

#define API_MAX_BODY (1024 * 1024)

typedef struct api_config {
    const char *state_dir;
    const char *uri;     /* libvirt */
    const char *address; /* IPv4 address to listen on */
    uint16_t port;       /* 0: any free port */
    const char *region;
    unsigned workers;
    bool reconciled_elsewhere; /* the caller's loop reconciles: requests do not (vm_ctx) */
    const char *metrics_address; /* GET /metrics for Prometheus here (NULL: none), without SigV4 */
    uint16_t metrics_port;       /* 0: any free port */
    api_metrics_fn metrics_fn;
} api_config;

typedef struct api_server api_server;

api_server *api_server_start(const api_config *cfg, vm_error *err);
/* The port actually bound. */
uint16_t api_server_port(const api_server *s);
/* The metrics listener's (0: none). */
uint16_t api_server_metrics_port(const api_server *s);
/* Stops accepting, lets requests in flight finish (a mutation is never cut in half), frees s. */
void api_server_stop(api_server *s);
