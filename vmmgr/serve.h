/* `vmmgr serve`: the HTTP API plus the background loop (reconcile every few seconds), until
 * SIGTERM or SIGINT, after which requests in flight finish and nothing new is accepted. */
#pragma once

#include "core/ctx.h"

typedef struct vm_serve_opts {
    const char *listen; /* "ADDR:PORT" */
    const char *region; /* NULL: the configured one */
    unsigned workers;
} vm_serve_opts;

/* Returns the process exit status. */
int vm_serve(vm_ctx *ctx, const vm_serve_opts *opts);
