/* Auto Scaling's lifecycle on the wire: lifecycle hooks and their actions, instance refresh,
 * AttachInstances and DetachInstances. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../autoscaling/asg_priv.h"
#include "../../core/cleanup.h"
#include "../../core/db.h"
#include "../ec2/template_store.h"
#include "../service.h"
#include "asg_wire.h"

/* --- lifecycle hooks ------------------------------------------------------------------------------ */

/* A hook's fields under prefix ("" or "LifecycleHookSpecificationList.member.N."); h holds the
 * existing hook's (an update) or the defaults. */
static int
parse_hook(const vm_params *p, const char *prefix, asg_hook *h, bool exists, vm_error *err)
{
    char key[128];
#define KEY(k) (snprintf(key, sizeof(key), "%s%s", prefix, k), key)
    const char *name = vm_params_get(p, KEY("LifecycleHookName")), *tr = vm_params_get(p, KEY("LifecycleTransition")),
               *dr = vm_params_get(p, KEY("DefaultResult")), *md = vm_params_get(p, KEY("NotificationMetadata")),
               *target = vm_params_get(p, KEY("NotificationTargetARN")), *role = vm_params_get(p, KEY("RoleARN"));
    if (!name || !*name || strlen(name) >= sizeof(h->name))
        return vm_error_set(err, VM_ERR_VALIDATION, "LifecycleHookName is required and at most 255 characters");
    if (!exists) {
        *h = (asg_hook){ .heartbeat = 3600, .default_result = "ABANDON" };
        snprintf(h->name, sizeof(h->name), "%s", name);
        if (!tr)
            return vm_error_set(err, VM_ERR_VALIDATION,
                                "Invalid lifecycle transition name: A lifecycle transition is required to create the "
                                "lifecycle hook %s",
                                name);
    }
    if (tr) {
        if (strcmp(tr, ASG_HOOK_LAUNCHING) != 0 && strcmp(tr, ASG_HOOK_TERMINATING) != 0)
            return asg_invalid(err, "Invalid Lifecycle Transition name: %s", tr);
        snprintf(h->transition, sizeof(h->transition), "%s", tr);
    }
    if (dr) {
        if (strcmp(dr, "CONTINUE") != 0 && strcmp(dr, "ABANDON") != 0)
            return asg_invalid(err, "Invalid value for DefaultResult: %s (CONTINUE or ABANDON)", dr);
        snprintf(h->default_result, sizeof(h->default_result), "%s", dr);
    }
    if ((md && strlen(md) >= sizeof(h->metadata)) || (target && strlen(target) >= sizeof(h->target_arn)) ||
        (role && strlen(role) >= sizeof(h->role_arn)))
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "NotificationMetadata, NotificationTargetARN or RoleARN is too long");
    if (md)
        snprintf(h->metadata, sizeof(h->metadata), "%s", md);
    if (target)
        snprintf(h->target_arn, sizeof(h->target_arn), "%s", target);
    if (role)
        snprintf(h->role_arn, sizeof(h->role_arn), "%s", role);
    if (vm_params_get(p, KEY("HeartbeatTimeout"))) {
        long hb;
        if (vm_params_int(p, key, 0, LONG_MIN, LONG_MAX, &hb, err) < 0)
            return -1;
        if (hb < 30 || hb > 7200)
            return vm_error_set(err, VM_ERR_VALIDATION,
                                "Heartbeat timeout %ld is out of range: it must be between 30 and 7200 seconds", hb);
        h->heartbeat = hb;
    }
#undef KEY
    return 0;
}

/* CreateAutoScalingGroup's LifecycleHookSpecificationList: owned array. */
int
asg_parse_hook_specs(const vm_params *p, asg_hook **ret, size_t *ret_n, vm_error *err)
{
    size_t n = 0;
    char key[96];
    for (;; n++) {
        snprintf(key, sizeof(key), "LifecycleHookSpecificationList.member.%zu.LifecycleHookName", n + 1);
        if (!vm_params_get(p, key))
            break;
    }
    if (n > ASG_MAX_HOOKS)
        return vm_error_set(err, VM_ERR_LIMIT_EXCEEDED, "At most %d lifecycle hooks per group", ASG_MAX_HOOKS);
    _cleanup_free_ asg_hook *v = calloc(n + 1, sizeof(asg_hook));
    if (!v)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "LifecycleHookSpecificationList.member.%zu.", i + 1);
        if (parse_hook(p, prefix, &v[i], false, err) < 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(v[j].name, v[i].name) == 0)
                return asg_invalid(err, "Duplicate lifecycle hook name: %s", v[i].name);
    }
    *ret = TAKE_PTR(v);
    *ret_n = n;
    return 0;
}

int
asg_put_hook(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    const char *group = vm_params_get(p, "AutoScalingGroupName"), *name = vm_params_get(p, "LifecycleHookName");
    asg_group g;
    asg_hook h;
    if (!group || !name)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName and LifecycleHookName are required");
    if (asg_get(ctx, group, &g, err) < 0)
        return -1;
    int exists = asg_hook_get(ctx, group, name, &h, err), count = asg_hooks_count(ctx, group, NULL, err);
    if (exists < 0 || count < 0 || parse_hook(p, "", &h, exists, err) < 0)
        return -1;
    if (!exists && count >= ASG_MAX_HOOKS)
        return vm_error_set(err, VM_ERR_LIMIT_EXCEEDED, "Cannot add more than %d lifecycle hooks to group %s",
                            ASG_MAX_HOOKS, group);
    return asg_hook_put(ctx, group, &h, err);
}

int
asg_describe_hooks(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    const char *group = vm_params_get(p, "AutoScalingGroupName");
    _cleanup_free_ const char **names = NULL;
    size_t n;
    asg_group g;
    if (!group)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (asg_get(ctx, group, &g, err) < 0 || vm_params_list(p, "LifecycleHookNames.member", &names, &n, err) < 0)
        return -1;
    return asg_hooks_render(ctx, group, names, n, vm_node_list(result, "LifecycleHooks", NULL), err);
}

int
asg_delete_hook(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    const char *group = vm_params_get(p, "AutoScalingGroupName"), *name = vm_params_get(p, "LifecycleHookName");
    asg_group g;
    if (!group || !name)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName and LifecycleHookName are required");
    if (asg_get(ctx, group, &g, err) < 0)
        return -1;
    return asg_hook_delete(ctx, group, name, err);
}

static int
hook_action(vm_ctx *ctx, const vm_params *p, bool complete, vm_error *err)
{
    const char *group = vm_params_get(p, "AutoScalingGroupName"), *name = vm_params_get(p, "LifecycleHookName"),
               *token = vm_params_get(p, "LifecycleActionToken"), *id = vm_params_get(p, "InstanceId"),
               *res = vm_params_get(p, "LifecycleActionResult");
    asg_group g;
    asg_hook h;
    if (!group || !name)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName and LifecycleHookName are required");
    if (!token && !id)
        return vm_error_set(err, VM_ERR_VALIDATION, "Either LifecycleActionToken or InstanceId is required");
    if (complete && !res)
        return vm_error_set(err, VM_ERR_VALIDATION, "LifecycleActionResult is required");
    if (complete && strcmp(res, "CONTINUE") != 0 && strcmp(res, "ABANDON") != 0)
        return asg_invalid(err, "Invalid value for LifecycleActionResult: %s (CONTINUE or ABANDON)", res);
    if (asg_get(ctx, group, &g, err) < 0)
        return -1;
    int found = asg_hook_get(ctx, group, name, &h, err);
    if (found <= 0)
        return found < 0 ? -1 : vm_error_set(err, VM_ERR_VALIDATION, "No Lifecycle Hook found for name: %s", name);
    return complete ? asg_hook_complete(ctx, group, name, token, id, res, err)
                    : asg_hook_heartbeat(ctx, group, name, token, id, err);
}

int
asg_complete_action(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    return hook_action(ctx, p, true, err);
}

int
asg_heartbeat(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    return hook_action(ctx, p, false, err);
}

int
asg_hook_types(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)ctx, (void)principal, (void)p, (void)err;
    vm_node *l = vm_node_list(result, "LifecycleHookTypes", NULL);
    vm_node_str(vm_node_item(l), NULL, NULL, ASG_HOOK_LAUNCHING);
    vm_node_str(vm_node_item(l), NULL, NULL, ASG_HOOK_TERMINATING);
    return 0;
}


/* --- instance refresh ----------------------------------------------------------------------------- */

int
asg_start_refresh(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    const char *group = vm_params_get(p, "AutoScalingGroupName"), *strategy = vm_params_get(p, "Strategy");
    asg_group g;
    asg_refresh r = { 0 };
    if (!group)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (strategy && strcmp(strategy, "Rolling") != 0)
        return asg_invalid(err, "Invalid instance refresh strategy: %s (Rolling)", strategy);
    if (vm_params_get(p, "DesiredConfiguration.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification."
                         "LaunchTemplateId") ||
        vm_params_get(p, "Preferences.CheckpointPercentages.member.1"))
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "MixedInstancesPolicy and checkpoints are not offered by this endpoint yet");
    long maxh;
    if (asg_get(ctx, group, &g, err) < 0 ||
        vm_params_int(p, "Preferences.MinHealthyPercentage", 90, 0, 100, &r.min_healthy, err) < 0 ||
        vm_params_int(p, "Preferences.InstanceWarmup", g.default_cooldown, 0, 1L << 30, &r.warmup, err) < 0 ||
        vm_params_int(p, "Preferences.MaxHealthyPercentage", 100, 100, 200, &maxh, err) < 0 ||
        vm_params_bool(p, "Preferences.SkipMatching", false, &r.skip_matching, err) < 0)
        return -1;
    if (maxh != 100)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "MaxHealthyPercentage above 100 (launch before terminating) is not offered by this "
                            "endpoint yet");
    const char *ltid = vm_params_get(p, "DesiredConfiguration.LaunchTemplate.LaunchTemplateId"),
               *ltname = vm_params_get(p, "DesiredConfiguration.LaunchTemplate.LaunchTemplateName"),
               *ltver = vm_params_get(p, "DesiredConfiguration.LaunchTemplate.Version");
    if (ltid || ltname) {
        lt_obj lt;
        long v;
        vm_error e = { 0 };
        if (lt_find(ctx, ltid, ltname, &lt, &e) < 0 || lt_version_resolve(ctx, &lt, ltver, &v, &e) < 0)
            return vm_error_set(err, VM_ERR_VALIDATION, "You must use a valid fully-formed launch template. %s", e.msg);
        snprintf(r.template_id, sizeof(r.template_id), "%s", lt.id);
        snprintf(r.template_version, sizeof(r.template_version), "%s", ltver && *ltver ? ltver : "$Default");
    } else if (r.skip_matching) {
        return vm_error_set(err, VM_ERR_VALIDATION, "SkipMatching requires a DesiredConfiguration");
    }
    if (asg_refresh_start(ctx, &g, &r, err) < 0)
        return -1;
    vm_node_str(result, "InstanceRefreshId", NULL, r.id);
    return 0;
}

int
asg_describe_refreshes(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    const char *group = vm_params_get(p, "AutoScalingGroupName");
    _cleanup_free_ const char **ids = NULL;
    size_t n;
    long offset, max;
    bool more;
    asg_group g;
    if (!group)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (asg_get(ctx, group, &g, err) < 0 || vm_params_list(p, "InstanceRefreshIds.member", &ids, &n, err) < 0 ||
        asg_page_args(p, &offset, &max, err) < 0 ||
        asg_refreshes_render(ctx, group, ids, n, offset, max, vm_node_list(result, "InstanceRefreshes", NULL), &more,
                             err) < 0)
        return -1;
    asg_next_token(result, more, offset + max);
    return 0;
}

int
asg_cancel_refresh(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    const char *group = vm_params_get(p, "AutoScalingGroupName");
    asg_group g;
    char id[40];
    if (!group)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (asg_get(ctx, group, &g, err) < 0 || asg_refresh_cancel(ctx, group, id, err) < 0)
        return -1;
    vm_node_str(result, "InstanceRefreshId", NULL, id);
    return 0;
}

/* --- attach and detach ---------------------------------------------------------------------------- */

int
asg_attach_instances(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    const char *group = vm_params_get(p, "AutoScalingGroupName");
    _cleanup_free_ const char **ids = NULL;
    size_t n;
    asg_group g;
    if (!group)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (asg_get(ctx, group, &g, err) < 0 || vm_params_list(p, "InstanceIds.member", &ids, &n, err) < 0)
        return -1;
    return asg_attach(ctx, &g, ids, n, err);
}

int
asg_detach_instances(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    const char *group = vm_params_get(p, "AutoScalingGroupName");
    _cleanup_free_ const char **ids = NULL;
    size_t n;
    bool dec;
    asg_group g;
    if (!group)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (!vm_params_get(p, "ShouldDecrementDesiredCapacity"))
        return vm_error_set(err, VM_ERR_VALIDATION, "ShouldDecrementDesiredCapacity is required");
    if (asg_get(ctx, group, &g, err) < 0 || vm_params_list(p, "InstanceIds.member", &ids, &n, err) < 0 ||
        vm_params_bool(p, "ShouldDecrementDesiredCapacity", false, &dec, err) < 0)
        return -1;
    return asg_detach(ctx, &g, ids, n, dec, vm_node_list(result, "Activities", NULL), err);
}
