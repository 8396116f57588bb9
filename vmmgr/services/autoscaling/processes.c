/* Auto Scaling's processes and instance states on the wire: Suspend/ResumeProcesses,
 * DescribeScalingProcessTypes, Enter/ExitStandby, SetInstanceHealth. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../autoscaling/asg_priv.h"
#include "../../core/cleanup.h"
#include "../../core/db.h"
#include "../service.h"
#include "asg_wire.h"

static int
processes(vm_ctx *ctx, const vm_params *p, bool suspend, vm_error *err)
{
    const char *group = vm_params_get(p, "AutoScalingGroupName");
    _cleanup_free_ const char **procs = NULL;
    size_t n;
    asg_group g;
    if (!group)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (asg_get(ctx, group, &g, err) < 0 || vm_params_list(p, "ScalingProcesses.member", &procs, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        bool known = false;
        for (const char *const *k = asg_processes; *k; k++)
            known |= strcmp(*k, procs[i]) == 0;
        if (!known)
            return asg_invalid(err, "Invalid process name: %s", procs[i]);
    }
    return asg_processes_set(ctx, group, procs, n, suspend, err);
}

int
asg_suspend_processes(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    return processes(ctx, p, true, err);
}

int
asg_resume_processes(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    return processes(ctx, p, false, err);
}

int
asg_process_types(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)ctx, (void)principal, (void)p, (void)err;
    vm_node *l = vm_node_list(result, "Processes", NULL);
    for (const char *const *k = asg_processes; *k; k++)
        vm_node_str(vm_node_item(l), "ProcessName", NULL, *k);
    return 0;
}

static int
standby(vm_ctx *ctx, const vm_params *p, vm_node *result, bool enter, vm_error *err)
{
    const char *group = vm_params_get(p, "AutoScalingGroupName");
    _cleanup_free_ const char **ids = NULL;
    size_t n;
    bool dec = false;
    asg_group g;
    if (!group)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (enter && !vm_params_get(p, "ShouldDecrementDesiredCapacity"))
        return vm_error_set(err, VM_ERR_VALIDATION, "ShouldDecrementDesiredCapacity is required");
    if (asg_get(ctx, group, &g, err) < 0 || vm_params_list(p, "InstanceIds.member", &ids, &n, err) < 0 ||
        vm_params_bool(p, "ShouldDecrementDesiredCapacity", false, &dec, err) < 0)
        return -1;
    vm_node *acts = vm_node_list(result, "Activities", NULL);
    return enter ? asg_enter_standby(ctx, &g, ids, n, dec, acts, err) : asg_exit_standby(ctx, &g, ids, n, acts, err);
}

int
asg_standby_enter(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    return standby(ctx, p, result, true, err);
}

int
asg_standby_exit(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    return standby(ctx, p, result, false, err);
}

int
asg_set_instance_health(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    const char *id = vm_params_get(p, "InstanceId"), *h = vm_params_get(p, "HealthStatus");
    char group[ASG_NAME_MAX + 1];
    asg_member m;
    if (!id || !h)
        return vm_error_set(err, VM_ERR_VALIDATION, "InstanceId and HealthStatus are required");
    if (strcmp(h, "Healthy") != 0 && strcmp(h, "Unhealthy") != 0)
        return asg_invalid(err, "Invalid health status: %s (Healthy or Unhealthy)", h);
    int found = asg_member_of(ctx, id, group, &m, err);
    if (found < 0)
        return -1;
    if (!found)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "Instance Id not found - No managed instance found for instance ID: %s", id);
    return asg_member_set(ctx, id, NULL, h, err);
}
