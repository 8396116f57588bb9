/* `vmmgr wait WAITER`: polls DescribeInstances through the dispatcher, as the aws CLI's waiters do
 * (waiters-2.json: success and failure states), every VMMGR_WAIT_DELAY seconds (default 2) for at
 * most VMMGR_WAIT_TIMEOUT seconds (default 600). */
#pragma once

#include "../core/ctx.h"

int cli_wait(vm_ctx *ctx, int argc, char **argv);
void cli_wait_usage(void);
