/* VPCs.  None exist yet (the networking issue brings them): describe-side calls answer that
 * truthfully, so clients that read VPC attributes get EC2's own error for an unknown VPC. */
#pragma once

#include "../vmmgr/core/ctx.h"
#include "../vmmgr/core/node.h"
#include "../vmmgr/core/params.h"

int vpc_describe_attribute(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
