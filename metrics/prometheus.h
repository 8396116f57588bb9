/* The host's instances for Prometheus (GET /metrics of `vmmgr serve --metrics-listen`): libvirt's
 * counters of every domain that is an instance of this store, read in one
 * virConnectGetAllDomainStats call at scrape time, as counters and gauges labelled with the
 * instance's id, type and image, in the text exposition format (version 0.0.4). */
#pragma once

#include <stdio.h>

#include "../vmmgr/core/ctx.h"

int prom_write(vm_ctx *ctx, FILE *out, vm_error *err);
