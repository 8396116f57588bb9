/* Auto Scaling's scaling policies on the wire: PutScalingPolicy (simple, step and target tracking,
 * whose alarms autoscaling/policy.c owns), DescribePolicies, DeletePolicy, ExecutePolicy. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../autoscaling/asg_priv.h"
#include "../../core/cleanup.h"
#include "../../core/db.h"
#include "../service.h"
#include "asg_wire.h"

static int
parse_adjustment_type(const vm_params *p, asg_policy *pol, bool required, vm_error *err)
{
    static const char *const types[] = { "ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity", NULL };
    const char *t = vm_params_get(p, "AdjustmentType");
    if (!t) {
        if (required)
            return vm_error_set(err, VM_ERR_VALIDATION, "AdjustmentType is required for a %s policy", pol->type);
        return 0;
    }
    for (const char *const *k = types; *k; k++)
        if (strcmp(*k, t) == 0) {
            snprintf(pol->adjustment_type, sizeof(pol->adjustment_type), "%s", t);
            return 0;
        }
    return asg_invalid(err, "Invalid adjustment type: %s", t);
}

static int
parse_double(const char *param, const char *text, double *ret, vm_error *err)
{
    char *end;
    *ret = strtod(text, &end);
    if (!*text || *end)
        return vm_error_set(err, VM_ERR_VALIDATION, "The value %s of %s is not a number", text, param);
    return 0;
}

static int
cmp_steps(const void *a, const void *b)
{
    const asg_step *x = a, *y = b;
    if (!x->has_lower || !y->has_lower)
        return !x->has_lower ? (!y->has_lower ? 0 : -1) : 1;
    return x->lower < y->lower ? -1 : x->lower > y->lower;
}

static int
parse_steps(const vm_params *p, asg_policy *pol, vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, "StepAdjustments.member", &idx, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "StepAdjustments are required for a step scaling policy");
    if (n > ASG_MAX_STEPS)
        return vm_error_set(err, VM_ERR_VALIDATION, "At most %d step adjustments", ASG_MAX_STEPS);
    for (size_t i = 0; i < n; i++) {
        asg_step *s = &pol->steps[i];
        *s = (asg_step){ 0 };
        const char *lo = vm_params_getf(p, "StepAdjustments.member.%d.MetricIntervalLowerBound", idx[i]);
        const char *hi = vm_params_getf(p, "StepAdjustments.member.%d.MetricIntervalUpperBound", idx[i]);
        const char *adj = vm_params_getf(p, "StepAdjustments.member.%d.ScalingAdjustment", idx[i]);
        char *end;
        if (!adj)
            return vm_error_set(err, VM_ERR_VALIDATION, "Each step adjustment needs a ScalingAdjustment");
        s->adjustment = strtol(adj, &end, 10);
        if (*end)
            return asg_invalid(err, "ScalingAdjustment %s is not a number", adj);
        if ((lo && parse_double("MetricIntervalLowerBound", lo, &s->lower, err) < 0) ||
            (hi && parse_double("MetricIntervalUpperBound", hi, &s->upper, err) < 0))
            return -1;
        s->has_lower = lo;
        s->has_upper = hi;
        if (lo && hi && s->upper <= s->lower)
            return vm_error_set(err, VM_ERR_VALIDATION, "A step's upper bound must be greater than its lower bound");
    }
    pol->nsteps = n;
    qsort(pol->steps, n, sizeof(asg_step), cmp_steps);
    /* no gaps, no overlaps: each step starts where the one before ends; one open end at most each */
    for (size_t i = 0; i + 1 < n; i++)
        if (!pol->steps[i].has_upper || !pol->steps[i + 1].has_lower || pol->steps[i].upper != pol->steps[i + 1].lower)
            return vm_error_set(err, VM_ERR_VALIDATION,
                                "Step adjustments may not overlap or leave a gap between their intervals");
    return 0;
}

static int
parse_target_tracking(vm_ctx *ctx, const vm_params *p, asg_policy *pol, vm_error *err)
{
    (void)ctx;
    const char *tv = vm_params_get(p, "TargetTrackingConfiguration.TargetValue");
    if (!tv)
        return vm_error_set(err, VM_ERR_VALIDATION, "TargetTrackingConfiguration.TargetValue is required");
    if (parse_double("TargetValue", tv, &pol->tt_target, err) < 0)
        return -1;
    if (pol->tt_target <= 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "TargetValue must be greater than 0");
    if (vm_params_bool(p, "TargetTrackingConfiguration.DisableScaleIn", false, &pol->tt_disable_scale_in, err) < 0)
        return -1;
    const char *pre =
        vm_params_get(p, "TargetTrackingConfiguration.PredefinedMetricSpecification.PredefinedMetricType");
    const char *cname = vm_params_get(p, "TargetTrackingConfiguration.CustomizedMetricSpecification.MetricName");
    if (vm_params_get(p, "TargetTrackingConfiguration.CustomizedMetricSpecification.Metrics.member.1.Id"))
        return vm_error_set(err, VM_ERR_VALIDATION, "Metric math in a target tracking policy is not offered yet");
    if (!pre == !cname)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "Give either PredefinedMetricSpecification or CustomizedMetricSpecification");
    if (pre) {
        const char *metric = strcmp(pre, "ASGAverageCPUUtilization") == 0 ? "CPUUtilization"
                             : strcmp(pre, "ASGAverageNetworkIn") == 0    ? "NetworkIn"
                             : strcmp(pre, "ASGAverageNetworkOut") == 0   ? "NetworkOut"
                                                                          : NULL;
        if (!metric && strcmp(pre, "ALBRequestCountPerTarget") == 0) {
            /* ResourceLabel app/LB/ID/targetgroup/TG/ID: the target group's requests per target */
            const char *label =
                vm_params_get(p, "TargetTrackingConfiguration.PredefinedMetricSpecification.ResourceLabel");
            const char *tgpart = label ? strstr(label, "/targetgroup/") : NULL;
            if (!label || strncmp(label, "app/", 4) != 0 || !tgpart)
                return vm_error_set(err, VM_ERR_VALIDATION,
                                    "ALBRequestCountPerTarget needs a ResourceLabel "
                                    "app/<load-balancer-name>/<id>/targetgroup/<target-group-name>/<id>");
            snprintf(pol->tt_metric, sizeof(pol->tt_metric), "%s", pre);
            snprintf(pol->tt_spec, sizeof(pol->tt_spec),
                     "AWS/ApplicationELB\nRequestCountPerTarget\nSum\n60\n\nTargetGroup=%s\n", tgpart + 1);
            return 0;
        }
        if (!metric)
            return asg_invalid(err, "Invalid predefined metric type: %s", pre);
        snprintf(pol->tt_metric, sizeof(pol->tt_metric), "%s", pre);
        snprintf(pol->tt_spec, sizeof(pol->tt_spec), "AWS/EC2\n%s\nAverage\n60\n\nAutoScalingGroupName=%s\n", metric,
                 pol->group);
        return 0;
    }
    const char *base = "TargetTrackingConfiguration.CustomizedMetricSpecification.";
    const char *ns = vm_params_getf(p, "%sNamespace", base), *stat = vm_params_getf(p, "%sStatistic", base);
    const char *unit = vm_params_getf(p, "%sUnit", base), *period = vm_params_getf(p, "%sPeriod", base);
    static const char *const stats[] = { "Average", "Minimum", "Maximum", "SampleCount", "Sum", NULL };
    if (!ns || !stat)
        return vm_error_set(err, VM_ERR_VALIDATION, "A customized metric needs MetricName, Namespace and Statistic");
    bool ok = false;
    for (const char *const *s = stats; *s; s++)
        ok |= strcmp(*s, stat) == 0;
    if (!ok)
        return asg_invalid(err, "Invalid statistic: %s", stat);
    long per = period ? atol(period) : 60;
    if (per != 10 && per != 30 && per != 60)
        return vm_error_set(err, VM_ERR_VALIDATION, "Period must be 10, 30 or 60 seconds");
    snprintf(pol->tt_metric, sizeof(pol->tt_metric), "Custom");
    int len = snprintf(pol->tt_spec, sizeof(pol->tt_spec), "%s\n%s\n%s\n%ld\n%s\n", ns, cname, stat, per,
                       unit ? unit : "");
    char key[160];
    snprintf(key, sizeof(key), "%sDimensions.member", base);
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, key, &idx, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *dn = vm_params_getf(p, "%s.%d.Name", key, idx[i]),
                   *dv = vm_params_getf(p, "%s.%d.Value", key, idx[i]);
        if (!dn || !dv || strchr(dn, '\n') || strchr(dv, '\n') || strchr(dn, '='))
            return vm_error_set(err, VM_ERR_VALIDATION, "A dimension needs a Name and a Value");
        len += snprintf(pol->tt_spec + len, sizeof(pol->tt_spec) - len, "%s=%s\n", dn, dv);
        if ((size_t)len >= sizeof(pol->tt_spec))
            return vm_error_set(err, VM_ERR_VALIDATION, "The customized metric is too long");
    }
    if (strchr(ns, '\n') || strchr(cname, '\n'))
        return vm_error_set(err, VM_ERR_VALIDATION, "Invalid metric name");
    return 0;
}

int
asg_put_policy(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    asg_policy pol = { .cooldown = -1, .warmup = -1, .enabled = true };
    const char *group = vm_params_get(p, "AutoScalingGroupName"), *name = vm_params_get(p, "PolicyName");
    const char *type = vm_params_get(p, "PolicyType");
    asg_group g;
    if (!group || !name || !*name || strlen(name) > 255)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName and PolicyName (at most 255) are required");
    if (asg_get(ctx, group, &g, err) < 0)
        return -1;
    snprintf(pol.group, sizeof(pol.group), "%s", group);
    snprintf(pol.name, sizeof(pol.name), "%s", name);
    snprintf(pol.type, sizeof(pol.type), "%s", type ? type : "SimpleScaling");
    if (vm_params_bool(p, "Enabled", true, &pol.enabled, err) < 0 ||
        vm_params_int(p, "EstimatedInstanceWarmup", -1, 0, 1L << 30, &pol.warmup, err) < 0)
        return -1;
    if (strcmp(pol.type, "SimpleScaling") == 0) {
        const char *adj = vm_params_get(p, "ScalingAdjustment");
        if (!adj)
            return vm_error_set(err, VM_ERR_VALIDATION, "ScalingAdjustment is required for a simple scaling policy");
        if (parse_adjustment_type(p, &pol, true, err) < 0 ||
            vm_params_int(p, "ScalingAdjustment", 0, -(1L << 30), 1L << 30, &pol.scaling_adjustment, err) < 0 ||
            vm_params_int(p, "Cooldown", -1, 0, 1L << 30, &pol.cooldown, err) < 0 ||
            vm_params_int(p, "MinAdjustmentMagnitude", 0, 0, 1L << 30, &pol.min_adjustment_magnitude, err) < 0)
            return -1;
    } else if (strcmp(pol.type, "StepScaling") == 0) {
        const char *agg = vm_params_get(p, "MetricAggregationType");
        if (agg && strcmp(agg, "Average") != 0 && strcmp(agg, "Minimum") != 0 && strcmp(agg, "Maximum") != 0)
            return asg_invalid(err, "Invalid metric aggregation type: %s", agg);
        snprintf(pol.metric_aggregation, sizeof(pol.metric_aggregation), "%s", agg ? agg : "Average");
        if (parse_adjustment_type(p, &pol, true, err) < 0 ||
            vm_params_int(p, "MinAdjustmentMagnitude", 0, 0, 1L << 30, &pol.min_adjustment_magnitude, err) < 0 ||
            parse_steps(p, &pol, err) < 0)
            return -1;
    } else if (strcmp(pol.type, "TargetTrackingScaling") == 0) {
        if (parse_target_tracking(ctx, p, &pol, err) < 0)
            return -1;
    } else if (strcmp(pol.type, "PredictiveScaling") == 0) {
        return vm_error_set(err, VM_ERR_VALIDATION, "Predictive scaling is not offered by this endpoint");
    } else {
        return asg_invalid(err, "Invalid policy type: %s", pol.type);
    }
    if (pol.min_adjustment_magnitude && strcmp(pol.adjustment_type, "PercentChangeInCapacity") != 0)
        return vm_error_set(
            err, VM_ERR_VALIDATION,
            "MinAdjustmentMagnitude may only be specified when AdjustmentType is PercentChangeInCapacity");
    if (asg_policy_put(ctx, &pol, err) < 0)
        return -1;
    vm_node_str(result, "PolicyARN", NULL, pol.arn);
    vm_node *al = vm_node_list(result, "Alarms", NULL);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT alarm_name, alarm_arn FROM asg_policy_alarms WHERE policy_arn = ? ORDER BY "
                   "alarm_name",
                   "t", pol.arn) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        vm_node *a = vm_node_item(al);
        vm_node_str(a, "AlarmName", NULL, vm_db_text(st, 0));
        vm_node_str(a, "AlarmARN", NULL, vm_db_text(st, 1));
    }
    return 0;
}

int
asg_describe_policies(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    _cleanup_free_ const char **names = NULL, **types = NULL;
    size_t nn, nt;
    long offset, max;
    if (vm_params_list(p, "PolicyNames.member", &names, &nn, err) < 0 ||
        vm_params_list(p, "PolicyTypes.member", &types, &nt, err) < 0 || asg_page_args(p, &offset, &max, err) < 0)
        return -1;
    const char *group = vm_params_get(p, "AutoScalingGroupName");
    asg_group g;
    if (group && asg_get(ctx, group, &g, err) < 0)
        return -1;
    bool more;
    if (asg_policies_render(ctx, group, names, types, offset, max, vm_node_list(result, "ScalingPolicies", NULL), &more,
                            err) < 0)
        return -1;
    asg_next_token(result, more, offset + max);
    return 0;
}

int
asg_delete_policy(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    const char *name = vm_params_get(p, "PolicyName");
    asg_policy pol;
    if (!name)
        return vm_error_set(err, VM_ERR_VALIDATION, "PolicyName is required");
    if (asg_policy_get(ctx, vm_params_get(p, "AutoScalingGroupName"), name, &pol, err) < 0)
        return -1;
    return asg_policy_delete(ctx, &pol, err);
}

int
asg_execute_policy(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    const char *name = vm_params_get(p, "PolicyName");
    const char *mv = vm_params_get(p, "MetricValue"), *bt = vm_params_get(p, "BreachThreshold");
    asg_policy pol;
    asg_group g;
    bool honor;
    double v = 0, t = 0;
    if (!name)
        return vm_error_set(err, VM_ERR_VALIDATION, "PolicyName is required");
    if (asg_policy_get(ctx, vm_params_get(p, "AutoScalingGroupName"), name, &pol, err) < 0 ||
        asg_get(ctx, pol.group, &g, err) < 0 || vm_params_bool(p, "HonorCooldown", false, &honor, err) < 0 ||
        (mv && parse_double("MetricValue", mv, &v, err) < 0) ||
        (bt && parse_double("BreachThreshold", bt, &t, err) < 0))
        return -1;
    if (strcmp(pol.type, "StepScaling") == 0 && (!mv || !bt))
        return vm_error_set(err, VM_ERR_VALIDATION, "MetricValue and BreachThreshold are required for a step policy");
    return asg_policy_execute(ctx, &g, &pol, honor, mv != NULL, v, t, "a user request executed", err);
}
