/* Account-level answers: the one region and availability zone this host is, and the account's
 * attributes (DescribeRegions, DescribeAvailabilityZones, DescribeAccountAttributes). */
#pragma once

#include "../../core/ctx.h"
#include "../../core/node.h"
#include "../../core/params.h"

int vm_account_regions(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int vm_account_zones(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int vm_account_attributes(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
/* Retired EC2 features that tools still ask about (ClassicLink): UnsupportedOperation, as AWS answers. */
int vm_retired_feature(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
