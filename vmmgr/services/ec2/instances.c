/* Instances on the wire: Describe/Terminate/Stop/Start/RebootInstances, GetConsoleOutput and
 * DescribeInstanceTypes, Describe/ModifyInstanceAttribute parsed into compute's typed calls
 * (vmmgr/compute/instance.h, types.h).
 * RunInstances is run_instances.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/cleanup.h"
#include "../../core/filter.h"
#include "../../compute/types.h"
#include "ec2.h"

/* InstanceId.N, at least one, loaded: all exist or the request fails. */
static int
instances_of(vm_ctx *ctx, const vm_params *p, inst_obj ***ret, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    size_t n;
    if (vm_params_list(p, "InstanceId", &ids, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter InstanceId");
    return inst_get_ids(ctx, ids, n, ret, err);
}

int
ec2_describe_instances(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t nids;
    if (vm_params_list(p, "InstanceId", &ids, &nids, err) < 0 || vm_filters_parse(p, "DescribeInstances", &fs, err) < 0)
        return -1;
    return inst_describe(ctx, ids, nids, fs, resp, err);
}

int
ec2_terminate_instances(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_(inst_list_freep) inst_obj **insts = NULL;
    if (instances_of(ctx, p, &insts, err) < 0)
        return -1;
    return inst_terminate_list(ctx, insts, ctx->dry_run, true,
                               vm_node_list(resp, "instancesSet", "TerminatingInstances"), err);
}

int
ec2_stop_instances(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_(inst_list_freep) inst_obj **insts = NULL;
    bool force, hibernate;
    if (instances_of(ctx, p, &insts, err) < 0 || vm_params_bool(p, "Force", false, &force, err) < 0 ||
        vm_params_bool(p, "Hibernate", false, &hibernate, err) < 0)
        return -1;
    if (force && hibernate)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION,
                            "The parameters Force and Hibernate cannot be used together");
    return inst_stop_list(ctx, insts, ctx->dry_run, force, hibernate,
                          vm_node_list(resp, "instancesSet", "StoppingInstances"), err);
}

int
ec2_start_instances(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_(inst_list_freep) inst_obj **insts = NULL;
    if (instances_of(ctx, p, &insts, err) < 0)
        return -1;
    return inst_start_list(ctx, insts, ctx->dry_run, vm_node_list(resp, "instancesSet", "StartingInstances"), err);
}

int
ec2_reboot_instances(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_(inst_list_freep) inst_obj **insts = NULL;
    if (instances_of(ctx, p, &insts, err) < 0 || inst_reboot_list(ctx, insts, ctx->dry_run, err) < 0)
        return -1;
    return ec2_render_true(resp);
}

int
ec2_get_console_output(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "InstanceId", err);
    return id ? inst_console_output(ctx, id, resp, err) : -1;
}

int
ec2_describe_instance_types(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **wanted = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t n;
    if (vm_params_list(p, "InstanceType", &wanted, &n, err) < 0 ||
        vm_filters_parse(p, "DescribeInstanceTypes", &fs, err) < 0)
        return -1;
    return inst_types_describe(ctx, wanted, n, fs, resp, err);
}

int
ec2_describe_instance_attribute(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "InstanceId", err);
    const char *attr = id ? vm_params_require(p, "Attribute", err) : NULL;
    return attr ? inst_describe_attribute(ctx, id, attr, resp, err) : -1;
}

/* BlockDeviceMapping.N: DeviceName with Ebs.DeleteOnTermination, into *ret (owned). */
static int
bdm_flags(const vm_params *p, inst_bdm_flag **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, "BlockDeviceMapping", &idx, &n, err) < 0)
        return -1;
    _cleanup_free_ inst_bdm_flag *v = calloc(n ? n : 1, sizeof(*v));
    if (!v)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char key[96];
        snprintf(key, sizeof(key), "BlockDeviceMapping.%d.Ebs.DeleteOnTermination", idx[i]);
        v[i].device = vm_params_getf(p, "BlockDeviceMapping.%d.DeviceName", idx[i]);
        if (!v[i].device || !vm_params_get(p, key))
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER,
                                "BlockDeviceMapping.%d needs DeviceName and Ebs.DeleteOnTermination", idx[i]);
        if (vm_params_bool(p, key, false, &v[i].delete_on_termination, err) < 0)
            return -1;
    }
    *ret = TAKE_PTR(v);
    *ret_n = n;
    return 0;
}

int
ec2_modify_instance_attribute(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "InstanceId", err);
    if (!id)
        return -1;
    /* the legacy form Attribute=…&Value=… is the same as <Attribute>.Value=… */
    static const struct {
        const char *attr, *key;
        int what;
    } attrs[] = {
        { "disableApiTermination", "DisableApiTermination.Value", INST_ATTR_DISABLE_API_TERMINATION },
        { "disableApiStop", "DisableApiStop.Value", INST_ATTR_DISABLE_API_STOP },
        { "instanceInitiatedShutdownBehavior", "InstanceInitiatedShutdownBehavior.Value", INST_ATTR_SHUTDOWN_BEHAVIOR },
        { "instanceType", "InstanceType.Value", INST_ATTR_TYPE },
    };
    const char *attr = vm_params_get(p, "Attribute");
    const char *legacy_key = NULL;
    if (attr) {
        for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
            if (strcmp(attrs[i].attr, attr) == 0)
                legacy_key = attrs[i].key;
        if (!legacy_key || !vm_params_get(p, "Value"))
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "attribute '%s' cannot be modified here", attr);
    }
    inst_attr_change c = { 0 };
    const char *key = NULL; /* the parameter that holds the change's value */
    int given = 0;
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        bool legacy = legacy_key && strcmp(legacy_key, attrs[i].key) == 0;
        if (vm_params_get(p, attrs[i].key) || legacy) {
            given++;
            c.what = attrs[i].what;
            key = legacy ? "Value" : attrs[i].key;
        }
    }
    if (vm_params_get(p, "GroupId.1")) {
        given++;
        c.what = INST_ATTR_GROUPS;
    }
    if (vm_params_get(p, "BlockDeviceMapping.1.DeviceName")) {
        given++;
        c.what = INST_ATTR_DELETE_ON_TERMINATION;
    }
    if (given != 1)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION,
                            "exactly one attribute must be modified per request");
    for (size_t i = 0; i < p->n; i++) {
        const char *k = p->v[i].key;
        if (strcmp(k, "InstanceId") && strcmp(k, "Attribute") && strcmp(k, "Value") && strcmp(k, "DryRun") &&
            strcmp(k, "Action") && strcmp(k, "Version") && strcmp(k, "DisableApiTermination.Value") &&
            strcmp(k, "DisableApiStop.Value") && strcmp(k, "InstanceInitiatedShutdownBehavior.Value") &&
            strcmp(k, "InstanceType.Value") && strncmp(k, "GroupId.", 8) && strncmp(k, "BlockDeviceMapping.", 19))
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "modifying '%s' is not supported", k);
    }
    _cleanup_free_ const char **gids = NULL;
    _cleanup_free_ inst_bdm_flag *bdms = NULL;
    switch (c.what) {
    case INST_ATTR_DISABLE_API_TERMINATION:
    case INST_ATTR_DISABLE_API_STOP:
        if (vm_params_bool(p, key, false, &c.flag, err) < 0)
            return -1;
        break;
    case INST_ATTR_SHUTDOWN_BEHAVIOR:
    case INST_ATTR_TYPE:
        c.value = vm_params_get(p, key);
        break;
    case INST_ATTR_GROUPS:
        if (vm_params_list(p, "GroupId", &gids, &c.ngroups, err) < 0)
            return -1;
        c.group_ids = gids;
        break;
    case INST_ATTR_DELETE_ON_TERMINATION:
        if (bdm_flags(p, &bdms, &c.nbdms, err) < 0)
            return -1;
        c.bdms = bdms;
        break;
    }
    if (inst_modify_attribute(ctx, id, &c, err) < 0)
        return -1;
    return ec2_render_true(resp);
}
