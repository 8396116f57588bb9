/* Operator-driven membership changes of a group (the wire layer's TerminateInstanceInAutoScalingGroup,
 * Enter/ExitStandby, Attach/DetachInstances): each an activity recorded before it is acted on, as
 * the controller's own (controller.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmmgr/compute/instance.h"
#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/tags.h"
#include "../vmmgr/services/ec2/ec2.h"
#include "asg_priv.h"

int
asg_terminate_member(vm_ctx *ctx, const char *instance_id, bool decrement, char ret_activity[64], vm_error *err)
{
    char group[ASG_NAME_MAX + 1];
    asg_member m;
    int found = asg_member_of(ctx, instance_id, group, &m, err);
    if (found < 0)
        return -1;
    if (!found)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "Instance Id not found - No managed instance found for instance ID: %s", instance_id);
    asg_group g;
    if (asg_get(ctx, group, &g, err) < 0)
        return -1;
    if (asg_member_terminating(&m))
        return vm_error_set(err, VM_ERR_VALIDATION, "The instance %s is already terminating", instance_id);
    if (decrement && g.desired - 1 < g.min_size)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "Currently, desiredSize equals minSize (%ld). Terminating instance without replacement "
                            "will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag "
                            "to false or lower group's min size.",
                            g.min_size);
    char t[32], cause[512];
    asg_now_text(t, sizeof(t));
    if (decrement)
        snprintf(cause, sizeof(cause),
                 "At %s instance %s was taken out of service in response to a user request, shrinking the capacity "
                 "from %ld to %ld.",
                 t, instance_id, g.desired, g.desired - 1);
    else
        snprintf(cause, sizeof(cause), "At %s instance %s was taken out of service in response to a user request.", t,
                 instance_id);
    return asg_start_terminate(ctx, group, &m, cause, ret_activity, decrement ? g.desired - 1 : -1, err);
}

/* --- standby ------------------------------------------------------------------------------------- */

static int
standby_check(vm_ctx *ctx, const asg_group *g, const char *const *ids, size_t n, const char *want, vm_error *err)
{
    if (n == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "InstanceIds is required");
    for (size_t i = 0; i < n; i++) {
        char group[ASG_NAME_MAX + 1];
        asg_member m;
        int found = asg_member_of(ctx, ids[i], group, &m, err);
        if (found < 0)
            return -1;
        if (!found || strcmp(group, g->name) != 0)
            return vm_error_set(err, VM_ERR_VALIDATION, "The instance %s is not part of Auto Scaling group %s.", ids[i],
                                g->name);
        if (strcmp(m.lifecycle, want) != 0)
            return vm_error_set(err, VM_ERR_VALIDATION, "The instance %s is not in %s.", ids[i], want);
    }
    return 0;
}

static int
standby_move(vm_ctx *ctx, const asg_group *g, const char *const *ids, size_t n, bool enter, long new_desired,
             vm_node *activities, vm_error *err)
{
    char t[32];
    asg_now_text(t, sizeof(t));
    char act_ids[16][64];
    if (n > 16)
        return vm_error_set(err, VM_ERR_VALIDATION, "At most 16 instances at a time");
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char group[ASG_NAME_MAX + 1], desc[128], cause[512];
        asg_member m;
        if (asg_member_of(ctx, ids[i], group, &m, err) <= 0)
            goto fail;
        asg_new_activity_id(act_ids[i]);
        snprintf(desc, sizeof(desc), enter ? "Moving EC2 instance to Standby: %s" : "Moving EC2 instance out of Standby: %s",
                 ids[i]);
        if (enter)
            snprintf(cause, sizeof(cause), "At %s instance %s was moved to standby in response to a user request%s.", t,
                     ids[i], new_desired != g->desired ? ", shrinking the capacity" : "");
        else
            snprintf(cause, sizeof(cause),
                     "At %s instance %s was moved out of standby in response to a user request, increasing the "
                     "capacity from %ld to %ld.",
                     t, ids[i], g->desired, new_desired);
        /* entering is done at once; leaving is a launch the controller finishes when it runs */
        asg_activity a = { .id = act_ids[i], .group = g->name, .kind = enter ? "standby" : "launch",
                           .subnet_id = m.subnet_id, .instance_id = ids[i], .description = desc, .cause = cause };
        if (asg_activity_add(ctx, &a, err) < 0 || asg_member_set(ctx, ids[i], enter ? "Standby" : "Pending", NULL, err) < 0 ||
            (enter && asg_activity_set(ctx, act_ids[i], NULL, NULL, "Successful", NULL, 100, err) < 0))
            goto fail;
    }
    if ((new_desired != g->desired && asg_set_desired_locked(ctx, g->name, new_desired, NULL, err) < 0) ||
        vm_db_commit(ctx->db, err) < 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (asg_activity_render(ctx, vm_node_item(activities), act_ids[i], err) < 0)
            return -1;
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
asg_enter_standby(vm_ctx *ctx, const asg_group *g, const char *const *ids, size_t n, bool decrement,
                  vm_node *activities, vm_error *err)
{
    if (standby_check(ctx, g, ids, n, "InService", err) < 0)
        return -1;
    long nd = decrement ? g->desired - (long)n : g->desired;
    if (nd < g->min_size)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "AutoScalingGroup %s has min-size=%ld, max-size=%ld, and desired-size=%ld. To place into "
                            "standby %zu instances, please update the AutoScalingGroup sizes appropriately.",
                            g->name, g->min_size, g->max_size, g->desired, n);
    return standby_move(ctx, g, ids, n, true, nd, activities, err);
}

int
asg_exit_standby(vm_ctx *ctx, const asg_group *g, const char *const *ids, size_t n, vm_node *activities, vm_error *err)
{
    if (standby_check(ctx, g, ids, n, "Standby", err) < 0)
        return -1;
    long nd = g->desired + (long)n;
    if (nd > g->max_size)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "AutoScalingGroup %s has min-size=%ld, max-size=%ld, and desired-size=%ld. To move %zu "
                            "instances out of standby, please update the AutoScalingGroup sizes appropriately.",
                            g->name, g->min_size, g->max_size, g->desired, n);
    return standby_move(ctx, g, ids, n, false, nd, activities, err);
}

/* --- attach and detach ----------------------------------------------------------------------------- */

/* The subnet of instance's first interface, "" when it has none. */
static void
instance_subnet(vm_ctx *ctx, const char *id, char buf[VM_ID_MAX])
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    buf[0] = '\0';
    if (vm_db_stmt(ctx->db, &st, &ignore,
                   "SELECT subnet_id FROM network_interfaces WHERE instance_id = ? ORDER BY rowid LIMIT 1", "t",
                   id) < 0)
        return;
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(buf, VM_ID_MAX, "%s", vm_db_text(st, 0));
}

int
asg_attach(vm_ctx *ctx, const asg_group *g, const char *const *ids, size_t n, vm_error *err)
{
    if (n == 0 || n > 20)
        return vm_error_set(err, VM_ERR_VALIDATION, "Between 1 and 20 InstanceIds are required");
    if (g->deleting)
        return vm_error_set(err, VM_ERR_SCALING_IN_PROGRESS, "The group %s is being deleted", g->name);
    if (g->desired + (long)n > g->max_size)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "AutoScalingGroup %s has min-size=%ld, max-size=%ld, and desired-size=%ld. To attach %zu "
                            "more instance(s), please update the AutoScalingGroup sizes appropriately.",
                            g->name, g->min_size, g->max_size, g->desired, n);
    char subnets[20][VM_ID_MAX];
    for (size_t i = 0; i < n; i++) {
        _cleanup_(inst_obj_freep) inst_obj *in = NULL;
        vm_error e = { 0 };
        if (inst_get(ctx, ids[i], &in, &e) < 0)
            return vm_error_set(err, VM_ERR_VALIDATION, "Instance %s is not valid: %s", ids[i], e.msg);
        if (in->state != INST_RUNNING)
            return vm_error_set(err, VM_ERR_VALIDATION, "Instance %s is not in a running state.", ids[i]);
        char other[ASG_NAME_MAX + 1];
        asg_member m;
        int found = asg_member_of(ctx, ids[i], other, &m, err);
        if (found < 0)
            return -1;
        if (found)
            return vm_error_set(err, VM_ERR_VALIDATION, "The instance %s is already part of the Auto Scaling group %s.",
                                ids[i], other);
        for (size_t j = 0; j < i; j++)
            if (strcmp(ids[j], ids[i]) == 0)
                return vm_error_set(err, VM_ERR_VALIDATION, "Instance %s is given twice", ids[i]);
        instance_subnet(ctx, ids[i], subnets[i]);
        bool ours = false;
        for (size_t s = 0; s < g->nsubnets; s++)
            ours |= strcmp(g->subnets[s], subnets[i]) == 0;
        if (!ours)
            return vm_error_set(err, VM_ERR_VALIDATION,
                                "Instance %s is in subnet %s, which is not one of the group's (VPCZoneIdentifier).",
                                ids[i], subnets[i][0] ? subnets[i] : "(none)");
    }
    char t[32], list[20 * VM_ID_MAX + 40] = "";
    asg_now_text(t, sizeof(t));
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", ids[i]);
    }
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char id[64], desc[128], cause[1400];
        asg_new_activity_id(id);
        snprintf(desc, sizeof(desc), "Attaching an existing EC2 instance: %s", ids[i]);
        snprintf(cause, sizeof(cause),
                 "At %s a user request AttachInstances for instance(s) %s, increasing the capacity from %ld to %ld.",
                 t, list, g->desired, g->desired + (long)n);
        /* a launch that needs no instance: the controller takes it InService (after any launching hook) */
        asg_activity a = { .id = id, .group = g->name, .kind = "launch", .subnet_id = subnets[i],
                           .instance_id = ids[i], .description = desc, .cause = cause };
        asg_member m = { .template_version = 0, .protected_ = g->protect_new, .added_at = time(NULL) };
        snprintf(m.instance_id, sizeof(m.instance_id), "%s", ids[i]);
        snprintf(m.lifecycle, sizeof(m.lifecycle), "Pending");
        snprintf(m.health, sizeof(m.health), "Healthy");
        snprintf(m.subnet_id, sizeof(m.subnet_id), "%s", subnets[i]);
        vm_tag tag = { "aws:autoscaling:groupName", g->name };
        if (asg_activity_add(ctx, &a, err) < 0 || asg_member_add(ctx, g->name, &m, id, err) < 0 ||
            vm_tags_put(ctx, ids[i], &tag, 1, err) < 0)
            goto fail;
    }
    if (asg_set_desired_locked(ctx, g->name, g->desired + (long)n, NULL, err) < 0 || vm_db_commit(ctx->db, err) < 0)
        goto fail;
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
asg_detach(vm_ctx *ctx, const asg_group *g, const char *const *ids, size_t n, bool decrement, vm_node *activities,
           vm_error *err)
{
    if (n == 0 || n > 20)
        return vm_error_set(err, VM_ERR_VALIDATION, "Between 1 and 20 InstanceIds are required");
    for (size_t i = 0; i < n; i++) {
        char group[ASG_NAME_MAX + 1];
        asg_member m;
        int found = asg_member_of(ctx, ids[i], group, &m, err);
        if (found < 0)
            return -1;
        if (!found || strcmp(group, g->name) != 0)
            return vm_error_set(err, VM_ERR_VALIDATION, "The instance %s is not part of Auto Scaling group %s.", ids[i],
                                g->name);
        if (asg_member_terminating(&m) || asg_warmed(&m))
            return vm_error_set(err, VM_ERR_VALIDATION, "The instance %s is %s and cannot be detached.", ids[i],
                                m.lifecycle);
        for (size_t j = 0; j < i; j++)
            if (strcmp(ids[j], ids[i]) == 0)
                return vm_error_set(err, VM_ERR_VALIDATION, "Instance %s is given twice", ids[i]);
    }
    long nd = decrement ? g->desired - (long)n : g->desired;
    if (nd < g->min_size)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "AutoScalingGroup %s has min-size=%ld, max-size=%ld, and desired-size=%ld. To detach %zu "
                            "instance(s) while decrementing desired capacity, please update the AutoScalingGroup sizes "
                            "appropriately.",
                            g->name, g->min_size, g->max_size, g->desired, n);
    char t[32], act_ids[20][64];
    asg_now_text(t, sizeof(t));
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char desc[128], cause[512];
        asg_member m;
        char group[ASG_NAME_MAX + 1];
        if (asg_member_of(ctx, ids[i], group, &m, err) <= 0)
            goto fail;
        asg_new_activity_id(act_ids[i]);
        snprintf(desc, sizeof(desc), "Detaching EC2 instance: %s", ids[i]);
        if (decrement)
            snprintf(cause, sizeof(cause),
                     "At %s instance %s was detached in response to a user request, shrinking the capacity from %ld "
                     "to %ld.",
                     t, ids[i], g->desired, nd);
        else
            snprintf(cause, sizeof(cause), "At %s instance %s was detached in response to a user request.", t, ids[i]);
        asg_activity a = { .id = act_ids[i], .group = g->name, .kind = "detach", .subnet_id = m.subnet_id,
                           .instance_id = ids[i], .description = desc, .cause = cause };
        if (asg_activity_add(ctx, &a, err) < 0 || asg_member_remove(ctx, ids[i], err) < 0 ||
            asg_hooks_clear(ctx, ids[i], err) < 0 ||
            asg_activity_set(ctx, act_ids[i], NULL, NULL, "Successful", NULL, 100, err) < 0)
            goto fail;
    }
    if ((nd != g->desired && asg_set_desired_locked(ctx, g->name, nd, NULL, err) < 0) || vm_db_commit(ctx->db, err) < 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (asg_activity_render(ctx, vm_node_item(activities), act_ids[i], err) < 0)
            return -1;
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}
