/* `vmmgr wait WAITER`: polls DescribeInstances through the dispatcher, as the aws CLI's waiters do
 * (waiters-2.json: success and failure states), every VMMGR_WAIT_DELAY seconds (default 2) for at
 * most VMMGR_WAIT_TIMEOUT seconds (default 600). */
#pragma once

#include "../core/ctx.h"

#include "commands.h"

int cli_wait(vm_ctx *ctx, int argc, char **argv);
/* The i-th waiter's name (aws ec2 wait's), NULL past the last. */
const char *cli_waiter_name(size_t i);
extern const cli_opt cli_wait_opts[];
void cli_wait_usage(void);
