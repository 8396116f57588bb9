#include "vpc.h"

#include <string.h>

int
vpc_describe_attribute(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    (void)ctx;
    (void)resp;
    const char *id = vm_params_require(p, "VpcId", err);
    const char *attr = id ? vm_params_require(p, "Attribute", err) : NULL;
    if (!attr)
        return -1;
    if (strcmp(attr, "enableDnsSupport") != 0 && strcmp(attr, "enableDnsHostnames") != 0 &&
        strcmp(attr, "enableNetworkAddressUsageMetrics") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Value (%s) for parameter attribute is invalid",
                            attr);
    return vm_error_set(err, VM_ERR_VPC_NOT_FOUND, "The vpc ID '%s' does not exist", id);
}
