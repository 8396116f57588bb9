/* The metrics sampler of `vmmgr serve`: every round, one virConnectGetAllDomainStats call for all
 * domains, turned into the AWS/EC2 metrics of each running instance of the store and the AWS/EBS
 * metrics of its volumes, put in one transaction.
 *
 * Per instance (dimension InstanceId; and aggregated over the instances of a type, InstanceType, and
 * of an image, ImageId):
 *   CPUUtilization (Percent)      100 · Δ Σ vcpu.N.time / (Δt · vCPUs), at most 100
 *   NetworkIn/Out (Bytes), NetworkPacketsIn/Out (Count), from the guest's side of its interfaces
 *   DiskRead/WriteBytes (Bytes), DiskRead/WriteOps (Count), summed over its disks
 *   StatusCheckFailed_System      1 when the store says running and libvirt's domain is not
 *   StatusCheckFailed_Instance    1 when the domain has run for 3 minutes (as this sampler saw it)
 *                                 and the guest has sent no packet since it started: no DHCP
 *                                 request, so its kernel or network never came up
 *   StatusCheckFailed             the larger of the two; the three in its first round, then once a minute
 * Per volume (VolumeId): VolumeRead/WriteBytes, VolumeRead/WriteOps.
 *
 * The counters are cumulative from the domain's start; a point is a round's difference.  A domain
 * seen for the first time, restarted (a new libvirt domain id) or with a counter that went down
 * gives no point for that round: never a negative or huge one.  Points are high resolution (1), so
 * 10-second periods can be read and alarmed on. */
#pragma once

#include <time.h>

#include "../vmmgr/core/ctx.h"

typedef struct sampler sampler;

sampler *sampler_new(void);
void sampler_free(sampler *s);

/* One round at wall time now; *ret_points (may be NULL) gets the number of points put. */
int sampler_round(vm_ctx *ctx, sampler *s, time_t now, size_t *ret_points, vm_error *err);
