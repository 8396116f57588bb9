/* `vmmgr top`: the instances of this host with their CPU, network and disk rates, like virt-top:
 * libvirt's counters (one virConnectGetAllDomainStats call a frame) differenced over --delay
 * seconds, busiest first; on a terminal the frame is redrawn in place until interrupted, otherwise
 * --iterations frames (1 by default) are printed one after the other. */
#pragma once

#include "../core/ctx.h"

int cli_top(vm_ctx *ctx, int argc, char **argv);
