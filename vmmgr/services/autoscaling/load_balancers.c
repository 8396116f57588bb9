/* Auto Scaling's load-balancer actions: Attach/Detach/DescribeLoadBalancerTargetGroups, and the
 * TargetGroupARNs of Create/UpdateAutoScalingGroup.  Bad input is ValidationError. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/cleanup.h"
#include "../../core/db.h"
#include "asg_wire.h"

int
asg_parse_tg_arns(vm_ctx *ctx, const vm_params *p, char (**ret)[ELB_ID_LEN + 1], size_t *n, vm_error *err)
{
    _cleanup_free_ const char **arns = NULL;
    size_t na;
    *ret = NULL;
    *n = 0;
    if (vm_params_list(p, "TargetGroupARNs.member", &arns, &na, err) < 0)
        return -1;
    if (na == 0)
        return 0;
    char(*ids)[ELB_ID_LEN + 1] = calloc(na, sizeof(*ids));
    if (!ids)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < na; i++) {
        elb_tg tg;
        vm_error e = { 0 };
        if (elb_arn_id(arns[i], "targetgroup", ids[i], VM_ERR_VALIDATION, &e) < 0 || elb_tg_get(ctx, ids[i], &tg, &e) < 0) {
            free(ids);
            return vm_error_set(err, VM_ERR_VALIDATION, "Target group %s is not found", arns[i]);
        }
    }
    *ret = ids;
    *n = na;
    return 0;
}

static int
group_of(vm_ctx *ctx, const vm_params *p, asg_group *g, vm_error *err)
{
    const char *name = vm_params_get(p, "AutoScalingGroupName");
    if (!name)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (asg_get(ctx, name, g, err) < 0) {
        err->code = VM_ERR_VALIDATION;
        return -1;
    }
    return 0;
}

int
asg_attach_tgs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    asg_group g;
    _cleanup_free_ char(*ids)[ELB_ID_LEN + 1] = NULL;
    size_t n;
    if (group_of(ctx, p, &g, err) < 0 || asg_parse_tg_arns(ctx, p, &ids, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "TargetGroupARNs is required");
    return asg_tgs_set(ctx, g.name, (const char(*)[ELB_ID_LEN + 1])ids, n, false, err);
}

int
asg_detach_tgs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    asg_group g;
    _cleanup_free_ char(*ids)[ELB_ID_LEN + 1] = NULL;
    size_t n;
    if (group_of(ctx, p, &g, err) < 0 || asg_parse_tg_arns(ctx, p, &ids, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "TargetGroupARNs is required");
    return asg_tgs_detach(ctx, g.name, (const char(*)[ELB_ID_LEN + 1])ids, n, err);
}

int
asg_describe_tgs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    asg_group g;
    _cleanup_free_ char(*ids)[ELB_ID_LEN + 1] = NULL;
    size_t n;
    if (group_of(ctx, p, &g, err) < 0 || asg_tgs_of(ctx, g.name, &ids, &n, err) < 0)
        return -1;
    vm_node *list = vm_node_list(result, "LoadBalancerTargetGroups", NULL);
    for (size_t i = 0; i < n; i++) {
        elb_tg tg;
        vm_error ignore = { 0 };
        char arn[ELB_ARN_MAX];
        if (elb_tg_get(ctx, ids[i], &tg, &ignore) < 0)
            continue;
        elb_tg_arn(ctx, &tg, arn);
        /* InService once a member is registered and healthy in it, Added before */
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        const char *state = "Added";
        if (vm_db_stmt(ctx->db, &st, err,
                       "SELECT count(*) FROM elb_targets WHERE tg_id = ? AND asg = ? AND health = 'healthy' AND "
                       "drain_until = 0",
                       "tt", tg.id, g.name) < 0)
            return -1;
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0)
            state = "InService";
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "LoadBalancerTargetGroupARN", NULL, arn);
        vm_node_str(it, "State", NULL, state);
    }
    return 0;
}
