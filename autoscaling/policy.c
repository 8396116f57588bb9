/* Scaling policies: SimpleScaling and StepScaling run when a CloudWatch alarm that names them in its
 * ALARM actions is in ALARM (once per minute while it stays there, as CloudWatch invokes Auto
 * Scaling actions); TargetTrackingScaling owns two alarms, AlarmHigh (3 periods above the target)
 * and AlarmLow (15 periods below 90 % of it), and sets desired = ceil(InService × metric / target):
 * at once upwards, downwards only while AlarmLow is in ALARM.  The controller pulls: each round reads
 * the alarms' states (metrics/alarms.h), so no trigger is lost when the daemon dies. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "../metrics/alarms.h"
#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "asg_priv.h"

#define POLICY_COLS                                                                                                    \
    "arn, group_name, name, type, adjustment_type, scaling_adjustment, "                                               \
    "min_adjustment_magnitude, cooldown, steps, metric_aggregation, warmup, tt_metric, "                               \
    "tt_target, tt_disable_scale_in, tt_spec, enabled, last_executed"

static void
steps_encode(const asg_policy *p, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < p->nsteps; i++) {
        const asg_step *s = &p->steps[i];
        char lo[32] = "", hi[32] = "";
        if (s->has_lower)
            snprintf(lo, sizeof(lo), "%.17g", s->lower);
        if (s->has_upper)
            snprintf(hi, sizeof(hi), "%.17g", s->upper);
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "%s%s|%s|%ld", i ? ";" : "", lo, hi, s->adjustment);
    }
}

static void
steps_decode(const char *text, asg_policy *p)
{
    p->nsteps = 0;
    while (*text && p->nsteps < ASG_MAX_STEPS) {
        asg_step *s = &p->steps[p->nsteps++];
        *s = (asg_step){ 0 };
        char *end;
        if (*text != '|') {
            s->lower = strtod(text, &end);
            s->has_lower = true;
            text = end;
        }
        text++;
        if (*text != '|') {
            s->upper = strtod(text, &end);
            s->has_upper = true;
            text = end;
        }
        text++;
        s->adjustment = strtol(text, &end, 10);
        text = *end == ';' ? end + 1 : end;
    }
}

static void
load_policy(sqlite3_stmt *st, asg_policy *p)
{
    *p = (asg_policy){ 0 };
    snprintf(p->arn, sizeof(p->arn), "%s", vm_db_text(st, 0));
    snprintf(p->group, sizeof(p->group), "%s", vm_db_text(st, 1));
    snprintf(p->name, sizeof(p->name), "%s", vm_db_text(st, 2));
    snprintf(p->type, sizeof(p->type), "%s", vm_db_text(st, 3));
    snprintf(p->adjustment_type, sizeof(p->adjustment_type), "%s", vm_db_text(st, 4));
    p->scaling_adjustment = sqlite3_column_int64(st, 5);
    p->min_adjustment_magnitude = sqlite3_column_int64(st, 6);
    p->cooldown = sqlite3_column_int64(st, 7);
    steps_decode(vm_db_text(st, 8), p);
    snprintf(p->metric_aggregation, sizeof(p->metric_aggregation), "%s", vm_db_text(st, 9));
    p->warmup = sqlite3_column_int64(st, 10);
    snprintf(p->tt_metric, sizeof(p->tt_metric), "%s", vm_db_text(st, 11));
    p->tt_target = sqlite3_column_double(st, 12);
    p->tt_disable_scale_in = sqlite3_column_int(st, 13);
    snprintf(p->tt_spec, sizeof(p->tt_spec), "%s", vm_db_text(st, 14));
    p->enabled = sqlite3_column_int(st, 15);
    p->last_executed = sqlite3_column_int64(st, 16);
}

int
asg_policy_get(vm_ctx *ctx, const char *group, const char *name, asg_policy *ret, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT " POLICY_COLS
                   " FROM asg_policies WHERE (group_name = ?1 OR ?1 IS NULL) AND (name = ?2 OR arn = ?2)",
                   "tt", group, name) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_VALIDATION, "No scaling policy found for service namespace: ec2, resource "
                            "type: autoScalingGroup, policy: %s", name);
    load_policy(st, ret);
    return 0;
}

/* The TT policy's metric as an alarm's: tt_spec is "namespace\nname\nstatistic\nperiod\nunit\nK=V\n…". */
typedef struct tt_metric {
    char buf[2048];
    metric_key key;
    const char *statistic, *unit;
    long period;
} tt_metric;

static int
tt_decode(const asg_policy *p, tt_metric *t)
{
    snprintf(t->buf, sizeof(t->buf), "%s", p->tt_spec);
    char *fields[8 + METRIC_DIMS_MAX] = { 0 };
    size_t n = 0;
    for (char *s = t->buf, *nl; s && n < sizeof(fields) / sizeof(fields[0]); s = nl) {
        nl = strchr(s, '\n');
        if (nl)
            *nl++ = '\0';
        fields[n++] = s;
    }
    if (n < 5)
        return -1;
    t->key = (metric_key){ .ns = fields[0], .name = fields[1] };
    t->statistic = fields[2];
    t->period = atol(fields[3]);
    t->unit = *fields[4] ? fields[4] : NULL;
    for (size_t i = 5; i < n && *fields[i] && t->key.ndims < METRIC_DIMS_MAX; i++) {
        char *eq = strchr(fields[i], '=');
        if (!eq)
            continue;
        *eq = '\0';
        t->key.dims[t->key.ndims++] = (metric_dim){ fields[i], eq + 1 };
    }
    return 0;
}

/* The two alarms of a target tracking policy (made or replaced). */
static int
tt_alarms(vm_ctx *ctx, const asg_policy *p, char names[2][256], vm_error *err)
{
    tt_metric t;
    if (tt_decode(p, &t) < 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "target tracking policy %s: bad metric", p->name);
    char desc[800];
    snprintf(desc, sizeof(desc), "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy %s.", p->arn);
    for (int k = 0; k < 2; k++) {
        alarm_def d = {
            .name = names[k],
            .description = desc,
            .actions_enabled = true,
            .metric = t.key,
            .statistic = t.statistic,
            .unit = t.unit,
            .period = t.period,
            .evaluation_periods = k == 0 ? 3 : 15,
            .datapoints_to_alarm = k == 0 ? 3 : 15,
            .threshold = k == 0 ? p->tt_target : p->tt_target * 0.9,
            .comparison = k == 0 ? "GreaterThanThreshold" : "LessThanThreshold",
            .treat_missing = "missing",
        };
        d.actions[ALARM_ALARM][0] = p->arn;
        d.nactions[ALARM_ALARM] = 1;
        if (alarm_put(ctx, &d, ctx->region, time(NULL), err) < 0)
            return -1;
    }
    return 0;
}

static int
alarm_names_of(vm_ctx *ctx, const char *arn, char names[2][256], size_t *ret_n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret_n = 0;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT alarm_name FROM asg_policy_alarms WHERE policy_arn = ? ORDER BY alarm_name", "t", arn) < 0)
        return -1;
    while (*ret_n < 2 && sqlite3_step(st) == SQLITE_ROW)
        snprintf(names[(*ret_n)++], 256, "%s", vm_db_text(st, 0));
    return 0;
}

int
asg_policy_put(vm_ctx *ctx, asg_policy *p, vm_error *err)
{
    /* an existing policy of the name keeps its ARN (and a target tracking one its alarms) */
    asg_policy old;
    vm_error ignore = { 0 };
    bool exists = asg_policy_get(ctx, p->group, p->name, &old, &ignore) == 0;
    if (exists)
        snprintf(p->arn, sizeof(p->arn), "%s", old.arn);
    else {
        uuid_t u;
        char us[40];
        uuid_generate_random(u);
        uuid_unparse_lower(u, us);
        snprintf(p->arn, sizeof(p->arn), "arn:aws:autoscaling:%s:%s:scalingPolicy:%s:autoScalingGroupName/%s:policyName/%s",
                 ctx->region, ctx->account_id, us, p->group, p->name);
    }
    char steps[ASG_MAX_STEPS * 80];
    steps_encode(p, steps, sizeof(steps));
    char names[2][256];
    size_t nold = 0;
    if (exists && alarm_names_of(ctx, p->arn, names, &nold, err) < 0)
        return -1;
    bool tt = strcmp(p->type, "TargetTrackingScaling") == 0;
    if (tt && nold != 2) {
        uuid_t u;
        char us[40];
        uuid_generate_random(u);
        uuid_unparse_lower(u, us);
        snprintf(names[0], 256, "TargetTracking-%.100s-AlarmHigh-%s", p->group, us);
        snprintf(names[1], 256, "TargetTracking-%.100s-AlarmLow-%s", p->group, us);
    }
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL, *al = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "INSERT OR REPLACE INTO asg_policies (" POLICY_COLS
                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                   "tttttiiittitditii", p->arn, p->group, p->name, p->type, p->adjustment_type,
                   (long long)p->scaling_adjustment, (long long)p->min_adjustment_magnitude, (long long)p->cooldown,
                   steps, p->metric_aggregation, (long long)p->warmup, p->tt_metric, (double)p->tt_target,
                   (long long)p->tt_disable_scale_in, p->tt_spec, (long long)p->enabled,
                   (long long)(exists ? old.last_executed : 0)) < 0)
        goto fail;
    if (sqlite3_step(st) != SQLITE_DONE) {
        vm_db_error(ctx->db, "recording a scaling policy", err);
        goto fail;
    }
    if (tt) {
        char arn[600];
        if (vm_db_prepare(ctx->db, "INSERT OR IGNORE INTO asg_policy_alarms (policy_arn, alarm_name, alarm_arn) VALUES "
                                   "(?, ?, ?)",
                          &al, err) < 0)
            goto fail;
        for (int k = 0; k < 2; k++) {
            snprintf(arn, sizeof(arn), "arn:aws:cloudwatch:%s:%s:alarm:%s", ctx->region, ctx->account_id, names[k]);
            sqlite3_reset(al);
            if (vm_db_bind(al, err, "ttt", p->arn, names[k], arn) < 0 || sqlite3_step(al) != SQLITE_DONE) {
                vm_db_error(ctx->db, "recording a policy's alarm", err);
                goto fail;
            }
        }
    }
    if (vm_db_commit(ctx->db, err) < 0)
        goto fail;
    /* the alarms after the policy: an alarm never names a policy that is not there */
    if (tt && tt_alarms(ctx, p, names, err) < 0)
        return -1;
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
asg_policy_delete(vm_ctx *ctx, const asg_policy *p, vm_error *err)
{
    char names[2][256];
    size_t n;
    if (alarm_names_of(ctx, p->arn, names, &n, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "DELETE FROM asg_policies WHERE arn = ?", "t", p->arn) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "deleting a scaling policy", err);
    for (size_t i = 0; i < n; i++) {
        const char *one = names[i];
        vm_error ignore = { 0 }; /* one the user deleted is gone already */
        alarms_delete(ctx, &one, 1, &ignore);
    }
    return 0;
}

/* The group's policies (enabled_only: those that run), on the heap: *ret owned. */
static int
group_policies(vm_ctx *ctx, const char *group, bool enabled_only, asg_policy **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   enabled_only ? "SELECT " POLICY_COLS
                                  " FROM asg_policies WHERE group_name = ? AND enabled ORDER BY name"
                                : "SELECT " POLICY_COLS " FROM asg_policies WHERE group_name = ? ORDER BY name",
                   "t", group) < 0)
        return -1;
    _cleanup_free_ asg_policy *v = NULL;
    size_t n = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            asg_policy *nv = realloc(v, (cap = cap ? 2 * cap : 4) * sizeof(*v));
            if (!nv)
                return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
            v = nv;
        }
        load_policy(st, &v[n++]);
    }
    *ret = TAKE_PTR(v);
    *ret_n = n;
    return 0;
}

int
asg_policies_delete_group(vm_ctx *ctx, const char *group, vm_error *err)
{
    _cleanup_free_ asg_policy *ps = NULL;
    size_t n;
    if (group_policies(ctx, group, false, &ps, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (asg_policy_delete(ctx, &ps[i], err) < 0)
            return -1;
    return 0;
}

static void
render_policy(vm_ctx *ctx, vm_node *it, const asg_policy *p)
{
    vm_node_str(it, "AutoScalingGroupName", NULL, p->group);
    vm_node_str(it, "PolicyName", NULL, p->name);
    vm_node_str(it, "PolicyARN", NULL, p->arn);
    vm_node_str(it, "PolicyType", NULL, p->type);
    bool tt = strcmp(p->type, "TargetTrackingScaling") == 0;
    if (!tt) {
        vm_node_str(it, "AdjustmentType", NULL, p->adjustment_type);
        if (p->min_adjustment_magnitude)
            vm_node_int(it, "MinAdjustmentMagnitude", NULL, p->min_adjustment_magnitude);
    }
    if (strcmp(p->type, "SimpleScaling") == 0) {
        vm_node_int(it, "ScalingAdjustment", NULL, p->scaling_adjustment);
        if (p->cooldown >= 0)
            vm_node_int(it, "Cooldown", NULL, p->cooldown);
    }
    vm_node *sl = vm_node_list(it, "StepAdjustments", NULL);
    for (size_t i = 0; i < p->nsteps; i++) {
        vm_node *s = vm_node_item(sl);
        if (p->steps[i].has_lower)
            vm_node_double(s, "MetricIntervalLowerBound", NULL, p->steps[i].lower);
        if (p->steps[i].has_upper)
            vm_node_double(s, "MetricIntervalUpperBound", NULL, p->steps[i].upper);
        vm_node_int(s, "ScalingAdjustment", NULL, p->steps[i].adjustment);
    }
    if (strcmp(p->type, "StepScaling") == 0 && p->metric_aggregation[0])
        vm_node_str(it, "MetricAggregationType", NULL, p->metric_aggregation);
    if (p->warmup >= 0)
        vm_node_int(it, "EstimatedInstanceWarmup", NULL, p->warmup);
    vm_node *al = vm_node_list(it, "Alarms", NULL);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    if (tt && vm_db_stmt(ctx->db, &st, &ignore,
                         "SELECT alarm_name, alarm_arn FROM asg_policy_alarms WHERE policy_arn = ? ORDER BY "
                         "alarm_name",
                         "t", p->arn) == 0) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            vm_node *a = vm_node_item(al);
            vm_node_str(a, "AlarmName", NULL, vm_db_text(st, 0));
            vm_node_str(a, "AlarmARN", NULL, vm_db_text(st, 1));
        }
    }
    if (tt) {
        vm_node *c = vm_node_struct(it, "TargetTrackingConfiguration", NULL);
        tt_metric t;
        if (strcmp(p->tt_metric, "Custom") != 0) {
            vm_node *pm = vm_node_struct(c, "PredefinedMetricSpecification", NULL);
            vm_node_str(pm, "PredefinedMetricType", NULL, p->tt_metric);
            /* the target group's label behind the load balancer that forwards to it */
            if (strcmp(p->tt_metric, "ALBRequestCountPerTarget") == 0 && tt_decode(p, &t) == 0 && t.key.ndims == 1) {
                const char *tg = t.key.dims[0].value, *id = strrchr(tg, '/');
                _cleanup_free_ char(*lbs)[ELB_ID_LEN + 1] = NULL;
                size_t nl = 0;
                elb_lb lb;
                vm_error ignore = { 0 };
                if (id && elb_lbs_of_tg(ctx, id + 1, &lbs, &nl, &ignore) == 0 && nl &&
                    elb_lb_get(ctx, lbs[0], &lb, &ignore) == 0) {
                    char label[512];
                    snprintf(label, sizeof(label), "app/%s/%s/%s", lb.name, lb.id, tg);
                    vm_node_str(pm, "ResourceLabel", NULL, label);
                }
            }
        } else if (tt_decode(p, &t) == 0) {
            vm_node *cm = vm_node_struct(c, "CustomizedMetricSpecification", NULL);
            vm_node_str(cm, "MetricName", NULL, t.key.name);
            vm_node_str(cm, "Namespace", NULL, t.key.ns);
            vm_node *dl = vm_node_list(cm, "Dimensions", NULL);
            for (size_t i = 0; i < t.key.ndims; i++) {
                vm_node *d = vm_node_item(dl);
                vm_node_str(d, "Name", NULL, t.key.dims[i].name);
                vm_node_str(d, "Value", NULL, t.key.dims[i].value);
            }
            vm_node_str(cm, "Statistic", NULL, t.statistic);
            if (t.unit)
                vm_node_str(cm, "Unit", NULL, t.unit);
            vm_node_int(cm, "Period", NULL, t.period);
        }
        vm_node_double(c, "TargetValue", NULL, p->tt_target);
        vm_node_bool(c, "DisableScaleIn", NULL, p->tt_disable_scale_in);
    }
    vm_node_bool(it, "Enabled", NULL, p->enabled);
}

int
asg_policies_render(vm_ctx *ctx, const char *group, const char *const *names, const char *const *types, long offset,
                    long max, vm_node *list, bool *ret_more, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT " POLICY_COLS
                   " FROM asg_policies WHERE (?1 IS NULL OR group_name = ?1) ORDER BY group_name, name",
                   "t", group) < 0)
        return -1;
    long seen = 0, shown = 0;
    *ret_more = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        asg_policy p;
        load_policy(st, &p);
        bool want = !names || !*names, typed = !types || !*types;
        for (const char *const *n = names; n && *n; n++)
            want |= strcmp(*n, p.name) == 0 || strcmp(*n, p.arn) == 0;
        for (const char *const *t = types; t && *t; t++)
            typed |= strcmp(*t, p.type) == 0;
        if (!want || !typed || seen++ < offset)
            continue;
        if (shown == max) {
            *ret_more = true;
            break;
        }
        shown++;
        render_policy(ctx, vm_node_item(list), &p);
    }
    return 0;
}

/* --- execution ---------------------------------------------------------------------------------- */

/* The new desired capacity that an adjustment of the policy's type gives. */
static long
adjusted(const asg_policy *p, long desired, long adjustment)
{
    if (strcmp(p->adjustment_type, "ExactCapacity") == 0)
        return adjustment;
    if (strcmp(p->adjustment_type, "PercentChangeInCapacity") == 0) {
        double d = desired * (double)adjustment / 100.0;
        /* AWS: between -1 and 1 (not 0) is ±1; otherwise towards zero */
        long step = d > 0 && d < 1 ? 1 : d < 0 && d > -1 ? -1 : (long)d;
        if (p->min_adjustment_magnitude && labs(step) < p->min_adjustment_magnitude)
            step = step < 0 ? -p->min_adjustment_magnitude : p->min_adjustment_magnitude;
        return desired + step;
    }
    return desired + adjustment;
}

static long
clamp(const asg_group *g, long v)
{
    return v < g->min_size ? g->min_size : v > g->max_size ? g->max_size : v;
}

static int
mark_executed(vm_ctx *ctx, const asg_policy *p, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "UPDATE asg_policies SET last_executed = ? WHERE arn = ?", "it",
                   (long long)(time(NULL)), p->arn) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording a policy's execution", err);
    return 0;
}

/* Sets desired to want (clamped) for policy p, with cause; simple policies start the cooldown. */
static int
apply(vm_ctx *ctx, asg_group *g, const asg_policy *p, long want, const char *trigger, vm_error *err)
{
    want = clamp(g, want);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (mark_executed(ctx, p, err) < 0)
        goto fail;
    if (want != g->desired) {
        char t[32], cause[800];
        vm_time_format(time(NULL), t, sizeof(t));
        snprintf(cause, sizeof(cause), "At %s %s policy %s changing the desired capacity from %ld to %ld.", t,
                 trigger, p->name, g->desired, want);
        if (asg_set_desired_locked(ctx, g->name, want, cause, err) < 0)
            goto fail;
        if (strcmp(p->type, "SimpleScaling") == 0) {
            long cd = p->cooldown >= 0 ? p->cooldown : g->default_cooldown;
            _cleanup_stmt_ sqlite3_stmt *st = NULL;
            if (vm_db_stmt(ctx->db, &st, err, "UPDATE asg_groups SET cooldown_until = ? WHERE name = ?", "it",
                           (long long)(time(NULL) + cd), g->name) < 0)
                goto fail;
            if (sqlite3_step(st) != SQLITE_DONE) {
                vm_db_error(ctx->db, "starting a cooldown", err);
                goto fail;
            }
        }
        g->desired = want;
    }
    if (vm_db_commit(ctx->db, err) < 0)
        goto fail;
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

static long
cooldown_until(vm_ctx *ctx, const char *group)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    if (vm_db_stmt(ctx->db, &st, &ignore, "SELECT cooldown_until FROM asg_groups WHERE name = ?", "t", group) < 0)
        return 0;
    return sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
}

int
asg_policy_execute(vm_ctx *ctx, asg_group *g, const asg_policy *p, bool honor_cooldown, bool has_value, double value,
                   double threshold, const char *trigger, vm_error *err)
{
    if (strcmp(p->type, "TargetTrackingScaling") == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "ExecutePolicy is not supported for a target tracking policy");
    if (strcmp(p->type, "SimpleScaling") == 0) {
        if (honor_cooldown && time(NULL) < cooldown_until(ctx, g->name))
            return vm_error_set(err, VM_ERR_SCALING_IN_PROGRESS,
                                "The scaling policy %s cannot be executed while the group %s is in cooldown", p->name,
                                g->name);
        return apply(ctx, g, p, adjusted(p, g->desired, p->scaling_adjustment), trigger, err);
    }
    /* StepScaling: the step the breach falls in */
    if (!has_value)
        return vm_error_set(err, VM_ERR_VALIDATION, "MetricValue is required for a step scaling policy");
    double diff = value - threshold;
    for (size_t i = 0; i < p->nsteps; i++) {
        const asg_step *s = &p->steps[i];
        if ((!s->has_lower || diff >= s->lower) && (!s->has_upper || diff < s->upper))
            return apply(ctx, g, p, adjusted(p, g->desired, s->adjustment), trigger, err);
    }
    return vm_error_set(err, VM_ERR_VALIDATION, "The metric value %g is in none of the policy's steps (threshold %g)",
                        value, threshold);
}

/* --- the controller's part ---------------------------------------------------------------------- */

static bool
latest_metric(vm_ctx *ctx, const metric_key *key, const char *statistic, const char *unit, long period, double *ret)
{
    time_t now = time(NULL), end = now - now % period;
    metric_stats *b = NULL;
    size_t n = 0;
    vm_error ignore = { 0 };
    if (metrics_statistics(ctx, key, end - 3 * period, end, period, unit, &b, &n, &ignore) < 0 || n == 0) {
        free(b);
        return false;
    }
    const metric_stats *s = &b[n - 1];
    *ret = strcmp(statistic, "Sum") == 0           ? s->sum
           : strcmp(statistic, "Minimum") == 0     ? s->min
           : strcmp(statistic, "Maximum") == 0     ? s->max
           : strcmp(statistic, "SampleCount") == 0 ? s->count
                                                   : s->sum / s->count;
    free(b);
    return true;
}

typedef struct alarm_full {
    bool found;
    alarm_state state;
    double threshold;
    long period;
    char name[256], ns[256], metric[256], statistic[32], unit[32];
    char dimbuf[METRIC_DIMS_MAX][2][256];
    metric_key key;
} alarm_full;

static int
keep_alarm(void *opaque, const alarm_rec *a, vm_error *err)
{
    (void)err;
    alarm_full *o = opaque;
    o->found = true;
    o->state = a->state;
    o->threshold = a->def.threshold;
    o->period = a->def.period;
    snprintf(o->name, sizeof(o->name), "%s", a->def.name);
    snprintf(o->ns, sizeof(o->ns), "%s", a->def.metric.ns);
    snprintf(o->metric, sizeof(o->metric), "%s", a->def.metric.name);
    snprintf(o->statistic, sizeof(o->statistic), "%s", a->def.statistic);
    snprintf(o->unit, sizeof(o->unit), "%s", a->def.unit ? a->def.unit : "");
    o->key = (metric_key){ .ns = o->ns, .name = o->metric };
    for (size_t i = 0; i < a->def.metric.ndims && i < METRIC_DIMS_MAX; i++) {
        snprintf(o->dimbuf[i][0], 256, "%s", a->def.metric.dims[i].name);
        snprintf(o->dimbuf[i][1], 256, "%s", a->def.metric.dims[i].value);
        o->key.dims[o->key.ndims++] = (metric_dim){ o->dimbuf[i][0], o->dimbuf[i][1] };
    }
    return 0;
}

static int
alarm_read(vm_ctx *ctx, const char *name, alarm_full *ret, vm_error *err)
{
    const char *names[] = { name, NULL };
    alarm_filter f = { .names = names, .nnames = 1, .state = -1 };
    bool more;
    *ret = (alarm_full){ 0 };
    return alarms_describe(ctx, &f, 0, 1, keep_alarm, ret, &more, err);
}

/* the alarm in ALARM whose ALARM actions name arn (actions enabled), if any */
typedef struct alarm_pick {
    const char *arn;
    char name[256];
} alarm_pick;

static int
pick_alarm(void *opaque, const alarm_rec *a, vm_error *err)
{
    (void)err;
    alarm_pick *pk = opaque;
    if (pk->name[0] || a->state != ALARM_ALARM || !a->def.actions_enabled)
        return 0;
    for (size_t i = 0; i < a->def.nactions[ALARM_ALARM]; i++)
        if (strcmp(a->def.actions[ALARM_ALARM][i], pk->arn) == 0)
            snprintf(pk->name, sizeof(pk->name), "%s", a->def.name);
    return 0;
}

static int
in_service(const asg_member *ms, size_t n)
{
    int c = 0;
    for (size_t i = 0; i < n; i++)
        c += strcmp(ms[i].lifecycle, "InService") == 0 && strcmp(ms[i].health, "Healthy") == 0;
    return c;
}

/* A target tracking policy: its metric now against the target, when its alarms say so. */
static int
target_tracking(vm_ctx *ctx, asg_group *g, const asg_policy *p, const asg_member *ms, size_t n, vm_error *err)
{
    char names[2][256];
    size_t na;
    if (alarm_names_of(ctx, p->arn, names, &na, err) < 0 || na != 2)
        return na == 2 ? -1 : 0;
    /* names sort AlarmHigh before AlarmLow */
    alarm_full hi, lo;
    if (alarm_read(ctx, names[0], &hi, err) < 0 || alarm_read(ctx, names[1], &lo, err) < 0)
        return -1;
    time_t now = time(NULL);
    bool high = hi.found && hi.state == ALARM_ALARM, low = lo.found && lo.state == ALARM_ALARM && !p->tt_disable_scale_in;
    if ((!high && !low) || now - p->last_executed < (hi.period ? hi.period : 60))
        return 0;
    double v;
    if (!latest_metric(ctx, &hi.key, hi.statistic, hi.unit[0] ? hi.unit : NULL, hi.period, &v))
        return 0;
    int cur = in_service(ms, n);
    if (cur == 0)
        return 0;
    long want = (long)ceil(cur * v / p->tt_target - 1e-9);
    char trigger[400];
    if (high && want > g->desired) {
        snprintf(trigger, sizeof(trigger), "a monitor alarm %s in state ALARM triggered", hi.name);
        return apply(ctx, g, p, want, trigger, err);
    }
    if (low && !high && want < g->desired) {
        /* in, but not while instances are still coming */
        if (cur < g->desired)
            return 0;
        snprintf(trigger, sizeof(trigger), "a monitor alarm %s in state ALARM triggered", lo.name);
        return apply(ctx, g, p, want < 1 && g->min_size == 0 ? 0 : want, trigger, err);
    }
    return 0;
}

int
asg_policies_round(vm_ctx *ctx, asg_group *g, const asg_member *ms, size_t n, vm_error *err)
{
    _cleanup_free_ asg_policy *ps = NULL;
    size_t np;
    if (group_policies(ctx, g->name, true, &ps, &np, err) < 0)
        return -1;
    time_t now = time(NULL);
    for (size_t i = 0; i < np; i++) {
        asg_policy *p = &ps[i];
        if (strcmp(p->type, "TargetTrackingScaling") == 0) {
            if (target_tracking(ctx, g, p, ms, n, err) < 0)
                return -1;
            continue;
        }
        /* simple and step: an alarm in ALARM naming the policy, once a minute while it stays */
        if (now - p->last_executed < 60)
            continue;
        alarm_pick pk = { .arn = p->arn };
        alarm_filter f = { .action_prefix = p->arn, .state = ALARM_ALARM };
        bool more;
        if (alarms_describe(ctx, &f, 0, 100, pick_alarm, &pk, &more, err) < 0)
            return -1;
        if (!pk.name[0])
            continue;
        if (strcmp(p->type, "SimpleScaling") == 0 && now < cooldown_until(ctx, g->name))
            continue;
        alarm_full a;
        double v = 0;
        if (alarm_read(ctx, pk.name, &a, err) < 0)
            return -1;
        bool has = latest_metric(ctx, &a.key, a.statistic, a.unit[0] ? a.unit : NULL, a.period, &v);
        char trigger[400];
        snprintf(trigger, sizeof(trigger), "a monitor alarm %s in state ALARM triggered", pk.name);
        vm_error e = { 0 };
        if (strcmp(p->type, "StepScaling") == 0 && !has)
            continue;
        if (asg_policy_execute(ctx, g, p, false, has, v, a.threshold, trigger, &e) < 0 &&
            e.code != VM_ERR_VALIDATION) {
            *err = e;
            return -1;
        }
    }
    return 0;
}
