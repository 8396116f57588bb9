/* The audit log, this cloud's CloudTrail: every action that goes through the dispatcher, from the
 * CLI or the HTTP API, with time, principal (access key or "cli"), action, the resource ids it
 * named or made, and its result code ("OK" or the EC2 error code).  Never any secret. */
#pragma once

#include "ctx.h"
#include "node.h"
#include "params.h"

/* Appends one record; a failure to write it does not fail the action (it is reported nowhere). */
void vm_audit_record(vm_ctx *ctx, const char *principal, const char *action, const vm_params *p, const vm_node *resp,
                     const vm_error *result);
/* The newest `limit` records, oldest first, as eventSet/item. */
int vm_audit_list(vm_ctx *ctx, int limit, vm_node *resp, vm_error *err);
