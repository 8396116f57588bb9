/* STS at the same endpoint: GetCallerIdentity, which Terraform's provider and Ansible's modules call
 * before anything else.  vmmgr has one account and no IAM users: every access key is a user of
 * that account named after the key. */
#include <stdio.h>

#include "../service.h"

static int
get_caller_identity(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)p;
    (void)err;
    char arn[256];
    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:user/%s", ctx->account_id, principal);
    vm_node_str(result, "Arn", NULL, arn);
    vm_node_str(result, "UserId", NULL, principal);
    vm_node_str(result, "Account", NULL, ctx->account_id);
    return 0;
}

static const svc_action sts_actions[] = {
    { "GetCallerIdentity", get_caller_identity },
    { NULL, NULL },
};

const svc_desc svc_sts = {
    .signing_name = "sts",
    .version = "2011-06-15",
    .xmlns = "https://sts.amazonaws.com/doc/2011-06-15/",
    .protocol = SVC_PROTO_QUERY,
    .actions = sts_actions,
};
