/* MetadataOptions: RunInstances' and launch templates' MetadataOptions.*, and
 * ModifyInstanceMetadataOptions.  What they allow is enforced by the metadata service (imds/). */
#include <stdio.h>
#include <string.h>

#include "../../core/cleanup.h"
#include "ec2.h"

static int
one_of(const vm_params *p, const char *key, const char *name, const char *a, const char *b, char *dst, size_t len,
       vm_error *err)
{
    const char *v = vm_params_get(p, key);
    if (!v)
        return 0;
    if (strcmp(v, a) != 0 && strcmp(v, b) != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The value '%s' is not valid for the '%s' parameter. Valid values are %s, %s", v, name,
                            a, b);
    snprintf(dst, len, "%s", v);
    return 0;
}

int
ec2_md_parse(const vm_params *p, const char *prefix, inst_md_opts *md, vm_error *err)
{
    char k[5][96];
    static const char *const names[] = { "HttpTokens", "HttpEndpoint", "InstanceMetadataTags",
                                         "HttpPutResponseHopLimit", "HttpProtocolIpv6" };
    for (int i = 0; i < 5; i++)
        snprintf(k[i], sizeof(k[i]), "%s%s", prefix, names[i]);
    long hop;
    if (one_of(p, k[0], names[0], "optional", "required", md->tokens, sizeof(md->tokens), err) < 0 ||
        one_of(p, k[1], names[1], "enabled", "disabled", md->endpoint, sizeof(md->endpoint), err) < 0 ||
        one_of(p, k[2], names[2], "enabled", "disabled", md->tags, sizeof(md->tags), err) < 0)
        return -1;
    if (vm_params_get(p, k[3])) {
        if (vm_params_int(p, k[3], 1, 1, 64, &hop, err) < 0)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "The HttpPutResponseHopLimit value must be between 1 and 64, not '%s'",
                                vm_params_get(p, k[3]));
        md->hop_limit = (int)hop;
    }
    const char *v6 = vm_params_get(p, k[4]);
    if (v6 && strcmp(v6, "disabled") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "HttpProtocolIpv6 '%s' is not available: subnets here are IPv4 only", v6);
    return 0;
}

int
ec2_modify_instance_metadata_options(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "InstanceId", err);
    _cleanup_(inst_obj_freep) inst_obj *in = NULL;
    bool dry;
    if (!id || vm_params_bool(p, "DryRun", false, &dry, err) < 0 || inst_get(ctx, id, &in, err) < 0)
        return -1;
    if (in->state == INST_TERMINATED || in->state == INST_SHUTTING_DOWN)
        return vm_error_set(err, VM_ERR_INCORRECT_INSTANCE_STATE, "The instance '%s' is not in a valid state for this operation", id);
    inst_md_opts md = in->md;
    if (ec2_md_parse(p, "", &md, err) < 0)
        return -1;
    if (dry)
        return vm_error_dry_run(err);
    if (inst_set_metadata_options(ctx, id, &md, err) < 0)
        return -1;
    vm_node_str(resp, "instanceId", NULL, id);
    /* the service reads the options at each request: they hold from the next one */
    inst_render_md(resp, "instanceMetadataOptions", &md, "pending");
    return 0;
}
