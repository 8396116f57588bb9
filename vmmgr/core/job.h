/* Work that outlives a request.  A request that starts something long (a snapshot's copy, an
 * image's conversion) records the resource in its transitional state, takes the locks the work
 * needs, and hands them to a job: a detached process (`vmmgr _job KIND ID FD,…`) that finishes the
 * work and records the result.  The answer goes back at once; no request waits on a guest or on a
 * copy.  The locks pass to the job as open descriptors and die with it, so reconcile can tell a
 * job that died (its lock is free) from one still at work. */
#pragma once

#include <stddef.h>

#include "ctx.h"
#include "error.h"

/* Starts job KIND for resource id (or a comma-separated list of ids, as the kind takes) in a detached process that inherits fds (the request's locks;
 * the caller then closes its own copies).  0, or -1 with err set and nothing started. */
int vm_job_spawn(vm_ctx *ctx, const char *kind, const char *id, const int *fds, size_t nfds, vm_error *err);
