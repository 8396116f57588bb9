#include "service.h"

#include <stdio.h>
#include <string.h>

#include "../core/audit.h"
#include "ec2/dispatch.h"

void (*svc_kick)(void);

const svc_desc svc_ec2 = {
    .signing_name = "ec2",
    .version = "2016-11-15",
    .xmlns = "http://ec2.amazonaws.com/doc/2016-11-15/",
    .protocol = SVC_PROTO_EC2,
};

static const svc_desc *services[8] = { &svc_ec2, &svc_sts, &svc_cloudwatch, &svc_autoscaling, &svc_elbv2, &svc_acm };

int
svc_register(const svc_desc *svc)
{
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
        if (!services[i]) {
            services[i] = svc;
            return 0;
        }
    return -1;
}

const svc_desc *
svc_find(const char *signing_name)
{
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]) && services[i]; i++)
        if (strcmp(services[i]->signing_name, signing_name) == 0)
            return services[i];
    return NULL;
}

const svc_action *
svc_action_find(const svc_desc *svc, const char *action, const char *version, vm_error *err)
{
    if (!version || strcmp(version, svc->version) != 0) {
        vm_error_set(err, VM_ERR_INVALID_ACTION, "Could not find operation %s for version %s", action,
                     version ? version : "NO_VERSION_SPECIFIED");
        return NULL;
    }
    for (const svc_action *a = svc->actions; a && a->name; a++)
        if (strcmp(a->name, action) == 0)
            return a;
    vm_error_set(err, VM_ERR_INVALID_ACTION, "Could not find operation %s for version %s", action, version);
    return NULL;
}

int
svc_call(const svc_desc *svc, vm_ctx *ctx, const char *principal, const char *action, const char *version,
         const vm_params *args, vm_node **ret_resp, vm_error *err)
{
    *ret_resp = NULL;
    if (svc == &svc_ec2)
        return vm_dispatch(ctx, principal, action, args, ret_resp, err);
    const svc_action *sa = svc_action_find(svc, action, version && *version ? version : NULL, err);
    vm_node *resp = sa ? vm_node_new_root(action) : NULL;
    int rc = -1;
    if (sa && !resp)
        vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    else if (sa)
        rc = sa->fn(ctx, principal, args, resp, err);
    if (rc < 0 && svc->param_error &&
        (err->code == VM_ERR_INVALID_PARAMETER_VALUE || err->code == VM_ERR_MISSING_PARAMETER))
        err->code = svc->param_error;
    if (!sa || !sa->data_event) {
        char audited[96];
        snprintf(audited, sizeof(audited), "%s:%s", svc->signing_name, action);
        vm_audit_record(ctx, principal, audited, args, rc == 0 ? resp : NULL, rc == 0 ? NULL : err);
    }
    if (rc < 0) {
        vm_node_free(resp);
        return -1;
    }
    /* a group's new size, policy or pool: the daemon's controller acts now, not at its next round */
    if ((svc == &svc_autoscaling || svc == &svc_elbv2) && strncmp(action, "Describe", 8) != 0)
        if (svc_kick)
            svc_kick();
    *ret_resp = resp;
    return 0;
}
