/* `vmmgr init`: the store, the accelerator, the tiny image.  Idempotent. */
#pragma once

#include <stddef.h>

#include "core/ctx.h"

/* accel is "auto", "kvm" or "tcg".  auto probes once (a recorded choice is kept on later runs);
 * a fallback to TCG leaves its reason in warning (empty otherwise).  *ret_image_id receives the
 * id of vmmgr-tiny.  vpc_cidr is the default VPC's block when it is made (NULL: 172.31.0.0/16).
 * zones (comma-separated, NULL: keep) are the region's availability zones: three (a, b, c) by
 * default; the default VPC gets a default subnet in each. */
int vm_init(vm_ctx *ctx, const char *accel, const char *vpc_cidr, const char *zones, char *warning, size_t warnlen,
            char ret_image_id[32], vm_error *err);
