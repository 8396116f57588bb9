/* Auto Scaling's scheduled actions at the wire: Put/Describe/DeleteScheduledAction and their batch
 * forms, BatchPutScheduledUpdateGroupAction and BatchDeleteScheduledAction (up to 50 each; every
 * action on its own, the ones that could not be done listed with their error, as AWS answers).
 * Bad input is ValidationError. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#include "../../core/cleanup.h"
#include "../../core/node.h"
#include "asg_wire.h"

#define BATCH_MAX 50

static int
parse_scheduled(vm_ctx *ctx, const vm_params *p, const char *prefix, const char *group, asg_scheduled *a,
                vm_error *err)
{
    char key[160];
#define KEY(k) (snprintf(key, sizeof(key), "%s%s", prefix, k), key)
    const char *name = vm_params_get(p, KEY("ScheduledActionName")), *st = vm_params_get(p, KEY("StartTime")),
               *tm = vm_params_get(p, KEY("Time")), *et = vm_params_get(p, KEY("EndTime")),
               *rec = vm_params_get(p, KEY("Recurrence")), *tz = vm_params_get(p, KEY("TimeZone"));
    *a = (asg_scheduled){ .min_size = -1, .max_size = -1, .desired = -1 };
    if (!name || !*name || strlen(name) >= sizeof(a->name))
        return vm_error_set(err, VM_ERR_VALIDATION, "ScheduledActionName is required and at most 255 characters");
    snprintf(a->group, sizeof(a->group), "%s", group);
    snprintf(a->name, sizeof(a->name), "%s", name);
    if ((rec && strlen(rec) >= sizeof(a->recurrence)) || (tz && strlen(tz) >= sizeof(a->time_zone)))
        return vm_error_set(err, VM_ERR_VALIDATION, "Recurrence or TimeZone is too long");
    if (rec && asg_cron_check(rec, tz, err) < 0)
        return -1;
    if (tz && !rec)
        return vm_error_set(err, VM_ERR_VALIDATION, "TimeZone is only valid with a Recurrence");
    if (rec)
        snprintf(a->recurrence, sizeof(a->recurrence), "%s", rec);
    if (tz)
        snprintf(a->time_zone, sizeof(a->time_zone), "%s", tz);
    const char *start = st ? st : tm;
    if (start && vm_time_parse(start, &a->start_time) < 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "Invalid StartTime: %s", start);
    if (et && vm_time_parse(et, &a->end_time) < 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "Invalid EndTime: %s", et);
    if (!start && !rec)
        return vm_error_set(err, VM_ERR_VALIDATION, "Either StartTime or Recurrence is required");
    if (a->end_time && a->end_time <= (a->start_time ? a->start_time : time(NULL)))
        return vm_error_set(err, VM_ERR_VALIDATION, "Given end time is before the start time");
    if (vm_params_int(p, KEY("MinSize"), -1, 0, ASG_MAX_SIZE, &a->min_size, err) < 0 ||
        vm_params_int(p, KEY("MaxSize"), -1, 0, ASG_MAX_SIZE, &a->max_size, err) < 0 ||
        vm_params_int(p, KEY("DesiredCapacity"), -1, 0, ASG_MAX_SIZE, &a->desired, err) < 0)
        return -1;
#undef KEY
    if (a->min_size < 0 && a->max_size < 0 && a->desired < 0)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "At least one of MinSize, MaxSize or DesiredCapacity must be given");
    if (a->min_size >= 0 && a->max_size >= 0 && a->min_size > a->max_size)
        return vm_error_set(err, VM_ERR_VALIDATION, "Max bound, %ld, must be greater than or equal to min bound, %ld",
                            a->max_size, a->min_size);
    uuid_t u;
    char us[40];
    uuid_generate_random(u);
    uuid_unparse_lower(u, us);
    asg_scheduled old;
    int exists = asg_scheduled_get(ctx, group, name, &old, err);
    if (exists < 0)
        return -1;
    if (exists)
        snprintf(a->arn, sizeof(a->arn), "%s", old.arn);
    else
        snprintf(a->arn, sizeof(a->arn),
                 "arn:aws:autoscaling:%s:%s:scheduledUpdateGroupAction:%s:autoScalingGroupName/%s:scheduledActionName/%s",
                 ctx->region, ctx->account_id, us, group, name);
    return 0;
}

int
asg_put_scheduled(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    const char *group = vm_params_get(p, "AutoScalingGroupName");
    asg_group g;
    asg_scheduled a;
    if (!group)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (asg_get(ctx, group, &g, err) < 0 || parse_scheduled(ctx, p, "", group, &a, err) < 0)
        return -1;
    return asg_scheduled_put(ctx, &a, err);
}

int
asg_describe_scheduled(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    const char *group = vm_params_get(p, "AutoScalingGroupName"), *st = vm_params_get(p, "StartTime"),
               *et = vm_params_get(p, "EndTime");
    _cleanup_free_ const char **names = NULL;
    asg_scheduled_filter f = { .group = group };
    bool more;
    asg_group g;
    if ((group && asg_get(ctx, group, &g, err) < 0) ||
        vm_params_list(p, "ScheduledActionNames.member", &names, &f.nnames, err) < 0 ||
        asg_page_args(p, &f.offset, &f.max, err) < 0)
        return -1;
    if ((st && vm_time_parse(st, &f.start) < 0) || (et && vm_time_parse(et, &f.end) < 0))
        return vm_error_set(err, VM_ERR_VALIDATION, "Invalid StartTime or EndTime: %s", st ? st : et);
    f.names = names;
    if (asg_scheduled_render(ctx, &f, vm_node_list(result, "ScheduledUpdateGroupActions", NULL), &more, err) < 0)
        return -1;
    asg_next_token(result, more, f.offset + f.max);
    return 0;
}

int
asg_delete_scheduled(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    const char *group = vm_params_get(p, "AutoScalingGroupName"), *name = vm_params_get(p, "ScheduledActionName");
    asg_group g;
    if (!group || !name)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName and ScheduledActionName are required");
    if (asg_get(ctx, group, &g, err) < 0)
        return -1;
    return asg_scheduled_delete(ctx, group, name, err);
}

/* a batch's failure: {ScheduledActionName, ErrorCode, ErrorMessage} */
static void
failed(vm_node *list, const char *name, const vm_error *e)
{
    vm_node *it = vm_node_item(list);
    if (!it)
        return;
    vm_node_str(it, "ScheduledActionName", NULL, name ? name : "");
    vm_node_str(it, "ErrorCode", NULL, vm_error_code_name(e->code == VM_ERR_INTERNAL ? VM_ERR_INTERNAL : VM_ERR_VALIDATION));
    vm_node_str(it, "ErrorMessage", NULL, e->msg);
}

/* the group (it must exist) and the batch's indexes under key (1 to BATCH_MAX of them) */
static int
batch_args(vm_ctx *ctx, const vm_params *p, const char *key, const char *param, const char **group, int **idx,
           size_t *n, vm_error *err)
{
    asg_group g;
    *group = vm_params_get(p, "AutoScalingGroupName");
    if (!*group)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (asg_get(ctx, *group, &g, err) < 0 || vm_params_indexes(p, key, idx, n, err) < 0)
        return -1;
    if (*n == 0 || *n > BATCH_MAX)
        return vm_error_set(err, VM_ERR_VALIDATION, "%s must have 1 to %d members", param, BATCH_MAX);
    return 0;
}

int
asg_batch_put_scheduled(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    const char *group;
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (batch_args(ctx, p, "ScheduledUpdateGroupActions.member", "ScheduledUpdateGroupActions", &group, &idx, &n,
                   err) < 0)
        return -1;
    vm_node *list = vm_node_list(result, "FailedScheduledUpdateGroupActions", NULL);
    for (size_t i = 0; i < n; i++) {
        char prefix[80];
        snprintf(prefix, sizeof(prefix), "ScheduledUpdateGroupActions.member.%d.", idx[i]);
        asg_scheduled a;
        vm_error e = { 0 };
        if (parse_scheduled(ctx, p, prefix, group, &a, &e) < 0 || asg_scheduled_put(ctx, &a, &e) < 0)
            failed(list, vm_params_getf(p, "%sScheduledActionName", prefix), &e);
    }
    return 0;
}

int
asg_batch_delete_scheduled(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    const char *group;
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (batch_args(ctx, p, "ScheduledActionNames.member", "ScheduledActionNames", &group, &idx, &n, err) < 0)
        return -1;
    vm_node *list = vm_node_list(result, "FailedScheduledActions", NULL);
    for (size_t i = 0; i < n; i++) {
        const char *name = vm_params_getf(p, "ScheduledActionNames.member.%d", idx[i]);
        vm_error e = { 0 };
        if (!name || asg_scheduled_delete(ctx, group, name, &e) < 0) {
            if (!name)
                vm_error_set(&e, VM_ERR_VALIDATION, "ScheduledActionNames.member.%d is empty", idx[i]);
            failed(list, name, &e);
        }
    }
    return 0;
}
