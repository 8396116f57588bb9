/* `vmmgr init`: the store, the accelerator, the tiny image.  Idempotent. */
#pragma once

#include <stddef.h>

#include "core/ctx.h"

/* accel is "auto", "kvm" or "tcg".  auto probes once (a recorded choice is kept on later runs);
 * a fallback to TCG leaves its reason in warning (empty otherwise).  *ret_image_id receives the
 * id of vmmgr-tiny. */
int vm_init(vm_ctx *ctx, const char *accel, char *warning, size_t warnlen, char ret_image_id[32], vm_error *err);
