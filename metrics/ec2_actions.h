/* The daemon's runner of CloudWatch alarms' EC2 actions (see alarm_ec2_pending in alarms.h). */
#pragma once

#include <stddef.h>

#include "../vmmgr/core/ctx.h"

/* Runs every queued EC2 action in the order queued, each ended by its Action history entry.
 * *ret_ran (may be NULL): how many were ended. */
int alarm_ec2_run(vm_ctx *ctx, size_t *ret_ran, vm_error *err);
