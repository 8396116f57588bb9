/* The one request path: an EC2 action name and its Query parameters in, one response document
 * (or one error) out.  The CLI and the HTTP API are thin adapters over vm_dispatch, so validation
 * and error codes are the same whichever way a request comes in. */
#pragma once

#include "../../core/ctx.h"
#include "../../core/node.h"
#include "../../core/params.h"

typedef int (*vm_action_fn)(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);

typedef struct vm_action {
    const char *name;
    vm_action_fn fn;
    const char *const *params; /* accepted top-level parameter names, NULL-terminated */
    bool local_only;           /* reads or writes host files by path: the CLI only, never the HTTP API */
    const char *paged; /* the result list the dispatcher pages, for a handler that does not (core/page.h) */
} vm_action;

/* The action called name, or NULL. */
const vm_action *vm_action_find(const char *name);

/* Runs action with p for principal (an access key id, or "cli") and records it in the audit log.
 * On success *ret_resp is the response document (owned by the caller).  Unknown actions are
 * InvalidAction; parameters the action does not take are UnknownParameter. */
int vm_dispatch(vm_ctx *ctx, const char *principal, const char *action, const vm_params *p, vm_node **ret_resp,
                vm_error *err);
