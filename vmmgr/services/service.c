#include "service.h"

#include <string.h>

const svc_desc svc_ec2 = {
    .signing_name = "ec2",
    .version = "2016-11-15",
    .xmlns = "http://ec2.amazonaws.com/doc/2016-11-15/",
    .protocol = SVC_PROTO_EC2,
};

static const svc_desc *const services[] = { &svc_ec2, &svc_sts };

const svc_desc *
svc_find(const char *signing_name)
{
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
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
