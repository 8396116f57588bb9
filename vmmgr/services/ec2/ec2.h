/* EC2's wire edge: actions parsed from their Query parameters into the typed requests of compute,
 * storage and net, and their answers rendered.  Moving here one action at a time (RunInstances
 * first, which Auto Scaling calls too); the others still parse in their handlers. */
#pragma once

#include "../../core/ctx.h"
#include "../../core/node.h"
#include "../../core/params.h"

int ec2_run_instances(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
