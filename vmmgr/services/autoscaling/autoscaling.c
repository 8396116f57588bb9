/* EC2 Auto Scaling (SigV4 service `autoscaling`, 2011-01-01, AWS Query protocol) at the same endpoint.
 * Each action parses its parameters into the typed group of autoscaling/asg.h; the group controller
 * in `vmmgr serve` does the launching and terminating.  Bad input is ValidationError, as on AWS. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "../../../autoscaling/asg_priv.h"
#include "../../../net/net.h"
#include "../../compute/instance.h"
#include "../ec2/template_store.h"
#include "../../core/cleanup.h"
#include "../../core/db.h"
#include "../../core/filter.h"
#include "../service.h"
#include "asg_wire.h"

#define ASG_PAGE 100

static const char *const policies[] = { "Default",
                                        "OldestInstance",
                                        "NewestInstance",
                                        "OldestLaunchConfiguration",
                                        "OldestLaunchTemplate",
                                        "ClosestToNextInstanceHour",
                                        "AllocationStrategy",
                                        NULL };

int
asg_invalid(vm_error *err, const char *fmt, const char *value)
{
    return vm_error_set(err, VM_ERR_VALIDATION, fmt, value);
}

static int
subnet_exists(vm_ctx *ctx, const char *id, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (!vm_id_valid(id, "subnet"))
        return asg_invalid(err, "The subnet ID '%s' is not valid", id);
    if (vm_db_stmt(ctx->db, &st, err, "SELECT 1 FROM subnets WHERE id = ?", "t", id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return asg_invalid(err, "The subnet ID '%s' does not exist", id);
    return 0;
}

/* The fields that Create and Update share, over g (Update: the group as it is). */
static int
parse_config(vm_ctx *ctx, const vm_params *p, asg_group *g, bool create, vm_error *err)
{
    if (vm_params_get(p, "LaunchConfigurationName") || vm_params_get(p, "InstanceId"))
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "Launch configurations and groups made from an instance are not offered by this endpoint; "
                            "give a LaunchTemplate");
    if (vm_params_get(p, "MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateId") ||
        vm_params_get(p, "MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateName"))
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "MixedInstancesPolicy is not offered by this endpoint yet; give a LaunchTemplate");
    if (vm_params_get(p, "LoadBalancerNames.member.1") || vm_params_get(p, "TrafficSources.member.1.Identifier"))
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "Classic load balancers and traffic sources are not offered by this endpoint; give "
                            "TargetGroupARNs");
    const char *ltid = vm_params_get(p, "LaunchTemplate.LaunchTemplateId");
    const char *ltname = vm_params_get(p, "LaunchTemplate.LaunchTemplateName");
    const char *ltver = vm_params_get(p, "LaunchTemplate.Version");
    if (ltid || ltname || ltver) {
        lt_obj lt;
        long v;
        vm_error e = { 0 };
        if (lt_find(ctx, ltid, ltname, &lt, &e) < 0 || lt_version_resolve(ctx, &lt, ltver, &v, &e) < 0)
            return vm_error_set(err, VM_ERR_VALIDATION, "You must use a valid fully-formed launch template. %s", e.msg);
        snprintf(g->template_id, sizeof(g->template_id), "%s", lt.id);
        snprintf(g->template_version, sizeof(g->template_version), "%s", ltver && *ltver ? ltver : "$Default");
    } else if (create) {
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or "
                            "MixedInstancesPolicy parameter.");
    }
    if (vm_params_int(p, "MinSize", g->min_size, 0, ASG_MAX_SIZE, &g->min_size, err) < 0 ||
        vm_params_int(p, "MaxSize", g->max_size, 0, ASG_MAX_SIZE, &g->max_size, err) < 0 ||
        vm_params_int(p, "DefaultCooldown", g->default_cooldown, 0, 1L << 30, &g->default_cooldown, err) < 0 ||
        vm_params_int(p, "HealthCheckGracePeriod", g->grace_period, 0, 1L << 30, &g->grace_period, err) < 0 ||
        vm_params_bool(p, "NewInstancesProtectedFromScaleIn", g->protect_new, &g->protect_new, err) < 0)
        return -1;
    const char *hc = vm_params_get(p, "HealthCheckType");
    if (hc) {
        if (strcmp(hc, "EC2") != 0 && strcmp(hc, "ELB") != 0)
            return asg_invalid(err, "Invalid health check type: %s (EC2 or ELB)", hc);
        snprintf(g->health_check_type, sizeof(g->health_check_type), "%s", hc);
    }
    _cleanup_free_ const char **tps = NULL, **azs = NULL;
    size_t ntp, naz;
    if (vm_params_list(p, "TerminationPolicies.member", &tps, &ntp, err) < 0 ||
        vm_params_list(p, "AvailabilityZones.member", &azs, &naz, err) < 0)
        return -1;
    if (ntp) {
        g->termination_policies[0] = '\0';
        for (size_t i = 0; i < ntp; i++) {
            if (!vm_match_any(tps[i], policies) || strchr(tps[i], '*') || strchr(tps[i], '?'))
                return asg_invalid(err, "Termination policy %s is not valid", tps[i]);
            size_t len = strlen(g->termination_policies);
            snprintf(g->termination_policies + len, sizeof(g->termination_policies) - len, "%s%s", i ? "," : "",
                     tps[i]);
        }
    }
    for (size_t i = 0; i < naz; i++)
        if (vm_zone_find(ctx, azs[i]) < 0)
            return asg_invalid(err, "Invalid Availability Zone: %s", azs[i]);
    const char *vpczi = vm_params_get(p, "VPCZoneIdentifier");
    if (vpczi && *vpczi) {
        asg_group tmp = { 0 };
        /* split like the store does, checking each */
        size_t count = 1;
        for (const char *c = vpczi; *c; c++)
            count += *c == ',';
        if (count > ASG_MAX_SUBNETS)
            return vm_error_set(err, VM_ERR_VALIDATION, "At most %d subnets may be given", ASG_MAX_SUBNETS);
        const char *s = vpczi;
        while (*s) {
            s += strspn(s, ", ");
            size_t n = strcspn(s, ",");
            while (n && s[n - 1] == ' ')
                n--;
            if (n) {
                char id[VM_ID_MAX * 2];
                snprintf(id, sizeof(id), "%.*s", (int)(n < sizeof(id) - 1 ? n : sizeof(id) - 1), s);
                if (subnet_exists(ctx, id, err) < 0)
                    return -1;
                bool dup = false;
                for (size_t j = 0; j < tmp.nsubnets; j++)
                    dup |= strcmp(tmp.subnets[j], id) == 0;
                if (!dup)
                    snprintf(tmp.subnets[tmp.nsubnets++], VM_ID_MAX, "%.31s", id);
            }
            s += strcspn(s, ",");
        }
        memcpy(g->subnets, tmp.subnets, sizeof(g->subnets));
        g->nsubnets = tmp.nsubnets;
    }
    if (naz && !(vpczi && *vpczi)) { /* the zones' default subnets */
        g->nsubnets = 0;
        for (size_t i = 0; i < naz && g->nsubnets < ASG_MAX_SUBNETS; i++) {
            vm_error e = { 0 };
            if (net_default_subnet_of_zone(ctx, azs[i], g->subnets[g->nsubnets], &e) < 0)
                return vm_error_set(err, VM_ERR_VALIDATION, "No default subnet for availability zone: '%s'. Give "
                                    "VPCZoneIdentifier.", azs[i]);
            g->nsubnets++;
        }
    }
    if (g->nsubnets == 0) {
        if (!naz && create)
            return vm_error_set(err, VM_ERR_VALIDATION, "At least one Availability Zone or VPC Subnet is required.");
        vm_error e = { 0 };
        if (net_default_subnet_of_zone(ctx, NULL, g->subnets[0], &e) < 0)
            return vm_error_set(err, VM_ERR_VALIDATION, "No default subnet: give VPCZoneIdentifier.");
        g->nsubnets = 1;
    }
    return 0;
}

static int
check_bounds(const asg_group *g, vm_error *err)
{
    if (g->min_size > g->max_size)
        return vm_error_set(err, VM_ERR_VALIDATION, "Max bound, %ld, must be greater than or equal to min bound, %ld",
                            g->max_size, g->min_size);
    if (g->desired < g->min_size || g->desired > g->max_size)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "Desired capacity:%ld must be between the specified min size:%ld and max size:%ld",
                            g->desired, g->min_size, g->max_size);
    return 0;
}

static int
create_group(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    asg_group g = { .default_cooldown = 300, .health_check_type = "EC2", .created_at = time(NULL) };
    const char *name = vm_params_get(p, "AutoScalingGroupName");
    if (!name || !*name || strlen(name) > ASG_NAME_MAX)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required and at most 255 characters");
    if (strchr(name, ':'))
        return asg_invalid(err, "The group name %s may not contain ':'", name);
    if (!vm_params_get(p, "MinSize") || !vm_params_get(p, "MaxSize"))
        return vm_error_set(err, VM_ERR_VALIDATION, "MinSize and MaxSize are required");
    snprintf(g.name, sizeof(g.name), "%s", name);
    snprintf(g.termination_policies, sizeof(g.termination_policies), "Default");
    if (parse_config(ctx, p, &g, true, err) < 0 ||
        vm_params_int(p, "DesiredCapacity", g.min_size, 0, ASG_MAX_SIZE, &g.desired, err) < 0 ||
        check_bounds(&g, err) < 0)
        return -1;
    _cleanup_free_ asg_tag *tags = NULL;
    _cleanup_free_ const char **tgroups = NULL;
    size_t nt;
    if (asg_parse_tags(p, g.name, &tags, &tgroups, &nt, err) < 0)
        return -1;
    uuid_t u;
    char us[40];
    uuid_generate_random(u);
    uuid_unparse_lower(u, us);
    snprintf(g.arn, sizeof(g.arn), "arn:aws:autoscaling:%s:%s:autoScalingGroup:%s:autoScalingGroupName/%s", ctx->region,
             ctx->account_id, us, g.name);
    _cleanup_free_ asg_hook *hooks = NULL;
    size_t nh = 0;
    _cleanup_free_ char(*tgs)[ELB_ID_LEN + 1] = NULL;
    size_t ntg = 0;
    if (asg_parse_hook_specs(p, &hooks, &nh, err) < 0 || asg_parse_tg_arns(ctx, p, &tgs, &ntg, err) < 0)
        return -1;
    if (asg_create(ctx, &g, tags, nt, hooks, nh, err) < 0)
        return -1;
    return ntg ? asg_tgs_set(ctx, g.name, (const char(*)[ELB_ID_LEN + 1])tgs, ntg, false, err) : 0;
}

static int
update_group(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    const char *name = vm_params_get(p, "AutoScalingGroupName");
    asg_group g;
    if (!name)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (asg_get(ctx, name, &g, err) < 0)
        return -1;
    if (g.deleting)
        return vm_error_set(err, VM_ERR_SCALING_IN_PROGRESS, "The group %s is being deleted", name);
    long before = g.desired;
    if (parse_config(ctx, p, &g, false, err) < 0)
        return -1;
    /* a new min or max pulls desired inside it, as AWS does, unless desired is given */
    if (g.desired < g.min_size)
        g.desired = g.min_size;
    if (g.desired > g.max_size)
        g.desired = g.max_size;
    if (vm_params_int(p, "DesiredCapacity", g.desired, 0, ASG_MAX_SIZE, &g.desired, err) < 0 ||
        check_bounds(&g, err) < 0)
        return -1;
    _cleanup_free_ char(*tgs)[ELB_ID_LEN + 1] = NULL;
    size_t ntg = 0;
    if (asg_parse_tg_arns(ctx, p, &tgs, &ntg, err) < 0)
        return -1;
    if (ntg && asg_tgs_set(ctx, g.name, (const char(*)[ELB_ID_LEN + 1])tgs, ntg, true, err) < 0)
        return -1;
    char t[32], cause[512];
    vm_time_format(time(NULL), t, sizeof(t));
    snprintf(cause, sizeof(cause),
             "At %s a user request update of AutoScalingGroup constraints to min: %ld, max: %ld, desired: %ld changing "
             "the desired capacity from %ld to %ld.",
             t, g.min_size, g.max_size, g.desired, before, g.desired);
    return asg_update(ctx, &g, g.desired != before ? cause : NULL, err);
}

static int
delete_group(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    const char *name = vm_params_get(p, "AutoScalingGroupName");
    bool force;
    asg_group g;
    if (!name)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (vm_params_bool(p, "ForceDelete", false, &force, err) < 0 || asg_get(ctx, name, &g, err) < 0)
        return -1;
    _cleanup_free_ asg_member *ms = NULL;
    size_t n;
    if (asg_members(ctx, name, &ms, &n, err) < 0)
        return -1;
    if (!force) {
        int busy = asg_busy(ctx, name, err);
        if (busy < 0)
            return -1;
        if (busy)
            return vm_error_set(err, VM_ERR_SCALING_IN_PROGRESS,
                                "You cannot delete an AutoScalingGroup while there are scaling activities in progress "
                                "for that group.");
        if (n)
            return vm_error_set(err, VM_ERR_RESOURCE_IN_USE,
                                "You cannot delete an AutoScalingGroup while there are instances or pending Spot "
                                "instance requests in the group.");
        if (asg_policies_delete_group(ctx, name, err) < 0)
            return -1;
        return asg_delete_now(ctx, name, err);
    }
    return asg_mark_deleting(ctx, name, err);
}

static void
render_lt_spec(vm_ctx *ctx, vm_node *parent, const char *id, const char *version)
{
    lt_obj lt;
    vm_error ignore = { 0 };
    vm_node *o = vm_node_struct(parent, "LaunchTemplate", NULL);
    vm_node_str(o, "LaunchTemplateId", NULL, id);
    if (lt_find(ctx, id, NULL, &lt, &ignore) == 0)
        vm_node_str(o, "LaunchTemplateName", NULL, lt.name);
    vm_node_str(o, "Version", NULL, version);
}

static int
instance_type_of(vm_ctx *ctx, const char *id, char *buf, size_t len)
{
    _cleanup_(inst_obj_freep) inst_obj *in = NULL;
    vm_error ignore = { 0 };
    buf[0] = '\0';
    if (inst_get(ctx, id, &in, &ignore) == 0)
        snprintf(buf, len, "%s", in->instance_type);
    return 0;
}

static void
render_warm_config(vm_node *parent, const asg_warm_pool *wp)
{
    vm_node *c = vm_node_struct(parent, "WarmPoolConfiguration", NULL);
    if (wp->max_prepared >= 0)
        vm_node_int(c, "MaxGroupPreparedCapacity", NULL, wp->max_prepared);
    vm_node_int(c, "MinSize", NULL, wp->min_size);
    vm_node_str(c, "PoolState", NULL, wp->pool_state);
    if (wp->deleting)
        vm_node_str(c, "Status", NULL, "PendingDelete");
    vm_node_bool(vm_node_struct(c, "InstanceReusePolicy", NULL), "ReuseOnScaleIn", NULL, wp->reuse);
}

static int
render_group(vm_ctx *ctx, vm_node *it, const asg_group *g, vm_error *err)
{
    vm_node_str(it, "AutoScalingGroupName", NULL, g->name);
    vm_node_str(it, "AutoScalingGroupARN", NULL, g->arn);
    render_lt_spec(ctx, it, g->template_id, g->template_version);
    vm_node_int(it, "MinSize", NULL, g->min_size);
    vm_node_int(it, "MaxSize", NULL, g->max_size);
    vm_node_int(it, "DesiredCapacity", NULL, g->desired);
    vm_node_int(it, "DefaultCooldown", NULL, g->default_cooldown);
    /* the zones of its subnets, each once */
    vm_node *azl = vm_node_list(it, "AvailabilityZones", NULL);
    char seen[ASG_MAX_SUBNETS][40];
    size_t nseen = 0;
    for (size_t i = 0; i < g->nsubnets; i++) {
        char z[40];
        bool dup = false;
        net_subnet_zone(ctx, g->subnets[i], z);
        for (size_t j = 0; j < nseen; j++)
            dup |= strcmp(seen[j], z) == 0;
        if (!dup) {
            snprintf(seen[nseen++], sizeof(seen[0]), "%s", z);
            vm_node_str(azl, NULL, NULL, z);
        }
    }
    vm_node_list(it, "LoadBalancerNames", NULL);
    if (asg_tgs_render(ctx, vm_node_list(it, "TargetGroupARNs", NULL), g->name, err) < 0)
        return -1;
    vm_node_str(it, "HealthCheckType", NULL, g->health_check_type);
    vm_node_int(it, "HealthCheckGracePeriod", NULL, g->grace_period);
    _cleanup_free_ asg_member *ms = NULL;
    size_t n;
    if (asg_members(ctx, g->name, &ms, &n, err) < 0)
        return -1;
    vm_node *il = vm_node_list(it, "Instances", NULL);
    for (size_t i = 0; i < n; i++) {
        if (asg_warmed(&ms[i]))
            continue; /* DescribeWarmPool's */
        vm_node *m = vm_node_item(il);
        char type[32], ver[24];
        instance_type_of(ctx, ms[i].instance_id, type, sizeof(type));
        vm_node_str(m, "InstanceId", NULL, ms[i].instance_id);
        vm_node_str(m, "InstanceType", NULL, type);
        char zone[40];
        net_subnet_zone(ctx, ms[i].subnet_id, zone);
        vm_node_str(m, "AvailabilityZone", NULL, zone);
        vm_node_str(m, "LifecycleState", NULL, ms[i].lifecycle);
        vm_node_str(m, "HealthStatus", NULL, ms[i].health);
        snprintf(ver, sizeof(ver), "%ld", ms[i].template_version);
        render_lt_spec(ctx, m, g->template_id, ver);
        vm_node_bool(m, "ProtectedFromScaleIn", NULL, ms[i].protected_);
    }
    vm_node_time(it, "CreatedTime", NULL, g->created_at);
    if (asg_suspended_render(ctx, vm_node_list(it, "SuspendedProcesses", NULL), g->name, err) < 0)
        return -1;
    char subnets[ASG_MAX_SUBNETS * VM_ID_MAX] = "";
    for (size_t i = 0; i < g->nsubnets; i++) {
        size_t len = strlen(subnets);
        snprintf(subnets + len, sizeof(subnets) - len, "%s%s", i ? "," : "", g->subnets[i]);
    }
    vm_node_str(it, "VPCZoneIdentifier", NULL, subnets);
    vm_node_list(it, "EnabledMetrics", NULL);
    if (g->deleting)
        vm_node_str(it, "Status", NULL, "Delete in progress");
    if (asg_tags_render(ctx, vm_node_list(it, "Tags", NULL), g->name, err) < 0)
        return -1;
    vm_node *tp = vm_node_list(it, "TerminationPolicies", NULL);
    const char *s = g->termination_policies;
    while (*s) {
        size_t len = strcspn(s, ",");
        char one[64];
        snprintf(one, sizeof(one), "%.*s", (int)len, s);
        vm_node_str(tp, NULL, NULL, one);
        s += len + (s[len] == ',');
    }
    vm_node_bool(it, "NewInstancesProtectedFromScaleIn", NULL, g->protect_new);
    asg_warm_pool wp;
    if (asg_warm_pool_get(ctx, g->name, &wp, err) < 0)
        return -1;
    if (wp.exists) {
        render_warm_config(it, &wp);
        long size = 0;
        for (size_t i = 0; i < n; i++)
            size += asg_warmed(&ms[i]);
        vm_node_int(it, "WarmPoolSize", NULL, size);
    }
    char role[160];
    snprintf(role, sizeof(role),
             "arn:aws:iam::%s:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
             ctx->account_id);
    vm_node_str(it, "ServiceLinkedRoleARN", NULL, role);
    return 0;
}

int
asg_page_args(const vm_params *p, long *offset, long *max, vm_error *err)
{
    if (vm_params_int(p, "MaxRecords", ASG_PAGE, 1, ASG_PAGE, max, err) < 0)
        return -1;
    const char *tok = vm_params_get(p, "NextToken");
    if (tok) {
        char *end;
        *offset = strtol(tok, &end, 10);
        if (*end || end == tok || *offset < 0)
            return vm_error_set(err, VM_ERR_VALIDATION, "The NextToken value is invalid");
    } else {
        *offset = 0;
    }
    return 0;
}

void
asg_next_token(vm_node *result, bool more, long next)
{
    char tok[32];
    if (!more)
        return;
    snprintf(tok, sizeof(tok), "%ld", next);
    vm_node_str(result, "NextToken", NULL, tok);
}

/* Filters.member.N {Name, Values.member.M}: tag:<key>, tag-key, tag-value against group's tags. */
static int
group_matches(vm_ctx *ctx, const vm_params *p, const char *group, bool *ret, vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    *ret = true;
    if (vm_params_indexes(p, "Filters.member", &idx, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n && *ret; i++) {
        const char *name = vm_params_getf(p, "Filters.member.%d.Name", idx[i]);
        char pre[64];
        snprintf(pre, sizeof(pre), "Filters.member.%d.Values.member", idx[i]);
        _cleanup_free_ const char **vals = NULL;
        size_t nv;
        if (!name || vm_params_list(p, pre, &vals, &nv, err) < 0)
            return name ? -1 : vm_error_set(err, VM_ERR_VALIDATION, "A filter needs a Name");
        bool by_key = strcmp(name, "tag-key") == 0, by_value = strcmp(name, "tag-value") == 0;
        if (!by_key && !by_value && strncmp(name, "tag:", 4) != 0)
            return asg_invalid(err, "Filter name %s is not valid (tag:<key>, tag-key or tag-value)", name);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (vm_db_stmt(ctx->db, &st, err, "SELECT key, value FROM asg_tags WHERE group_name = ?", "t", group) < 0)
            return -1;
        bool m = false;
        while (!m && sqlite3_step(st) == SQLITE_ROW) {
            const char *k = vm_db_text(st, 0), *v = vm_db_text(st, 1);
            for (size_t j = 0; j < nv && !m; j++)
                m = by_key ? strcmp(k, vals[j]) == 0
                    : by_value ? strcmp(v, vals[j]) == 0
                               : strcmp(k, name + 4) == 0 && strcmp(v, vals[j]) == 0;
        }
        *ret = m;
    }
    return 0;
}

static int
describe_groups(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    _cleanup_free_ const char **names = NULL;
    size_t nn;
    long offset, max;
    if (vm_params_list(p, "AutoScalingGroupNames.member", &names, &nn, err) < 0 ||
        asg_page_args(p, &offset, &max, err) < 0)
        return -1;
    char **all = NULL;
    if (asg_names(ctx, &all, err) < 0)
        return -1;
    vm_node *list = vm_node_list(result, "AutoScalingGroups", NULL);
    long seen = 0, shown = 0;
    bool more = false;
    int rc = 0;
    for (char **nm = all; *nm && rc == 0; nm++) {
        bool want = nn == 0, match;
        for (size_t i = 0; i < nn; i++)
            want |= strcmp(names[i], *nm) == 0;
        if (!want || (rc = group_matches(ctx, p, *nm, &match, err)) < 0 || !match)
            continue;
        if (seen++ < offset)
            continue;
        if (shown == max) {
            more = true;
            break;
        }
        shown++;
        asg_group g;
        if ((rc = asg_get(ctx, *nm, &g, err)) == 0)
            rc = render_group(ctx, vm_node_item(list), &g, err);
    }
    for (char **nm = all; *nm; nm++)
        free(*nm);
    free(all);
    if (rc < 0)
        return -1;
    asg_next_token(result, more, offset + max);
    return 0;
}

static int
describe_instances(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    _cleanup_free_ const char **ids = NULL;
    size_t ni;
    long offset, max;
    if (vm_params_list(p, "InstanceIds.member", &ids, &ni, err) < 0 || asg_page_args(p, &offset, &max, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT i.instance_id, i.group_name, i.lifecycle, i.health, i.template_version, i.protected, "
                      "g.template_id FROM asg_instances i JOIN asg_groups g ON g.name = i.group_name ORDER BY "
                      "i.instance_id",
                      &st, err) < 0)
        return -1;
    vm_node *list = vm_node_list(result, "AutoScalingInstances", NULL);
    long seen = 0, shown = 0;
    bool more = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = vm_db_text(st, 0);
        bool want = ni == 0;
        for (size_t i = 0; i < ni; i++)
            want |= strcmp(ids[i], id) == 0;
        if (!want || seen++ < offset)
            continue;
        if (shown == max) {
            more = true;
            break;
        }
        shown++;
        vm_node *it = vm_node_item(list);
        char type[32], ver[24], health[16];
        instance_type_of(ctx, id, type, sizeof(type));
        vm_node_str(it, "InstanceId", NULL, id);
        vm_node_str(it, "InstanceType", NULL, type);
        vm_node_str(it, "AutoScalingGroupName", NULL, vm_db_text(st, 1));
        char zone[40];
        net_instance_zone(ctx, id, zone);
        vm_node_str(it, "AvailabilityZone", NULL, zone);
        vm_node_str(it, "LifecycleState", NULL, vm_db_text(st, 2));
        /* this action says it in capitals (HEALTHY), DescribeAutoScalingGroups does not */
        snprintf(health, sizeof(health), "%s", strcmp(vm_db_text(st, 3), "Healthy") == 0 ? "HEALTHY" : "UNHEALTHY");
        vm_node_str(it, "HealthStatus", NULL, health);
        snprintf(ver, sizeof(ver), "%lld", (long long)sqlite3_column_int64(st, 4));
        render_lt_spec(ctx, it, vm_db_text(st, 6), ver);
        vm_node_bool(it, "ProtectedFromScaleIn", NULL, sqlite3_column_int(st, 5));
    }
    asg_next_token(result, more, offset + max);
    return 0;
}

static int
set_desired(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    const char *name = vm_params_get(p, "AutoScalingGroupName");
    asg_group g;
    long d;
    bool honor;
    if (!name || !vm_params_get(p, "DesiredCapacity"))
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName and DesiredCapacity are required");
    if (asg_get(ctx, name, &g, err) < 0 || vm_params_int(p, "DesiredCapacity", 0, 0, ASG_MAX_SIZE, &d, err) < 0 ||
        vm_params_bool(p, "HonorCooldown", false, &honor, err) < 0)
        return -1;
    if (d > g.max_size)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "New SetDesiredCapacity value %ld is above max value %ld for the AutoScalingGroup.", d,
                            g.max_size);
    if (d < g.min_size)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "New SetDesiredCapacity value %ld is below min value %ld for the AutoScalingGroup.", d,
                            g.min_size);
    if (g.deleting)
        return vm_error_set(err, VM_ERR_SCALING_IN_PROGRESS, "The group %s is being deleted", name);
    char t[32], cause[512];
    vm_time_format(time(NULL), t, sizeof(t));
    snprintf(
        cause, sizeof(cause),
        "At %s a user request explicitly set group desired capacity changing the desired capacity from %ld to %ld.", t,
        g.desired, d);
    return asg_set_desired(ctx, name, d, d != g.desired ? cause : NULL, err);
}

static int
terminate_instance(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    const char *id = vm_params_get(p, "InstanceId");
    bool dec;
    char activity[64];
    if (!id || !vm_params_get(p, "ShouldDecrementDesiredCapacity"))
        return vm_error_set(err, VM_ERR_VALIDATION, "InstanceId and ShouldDecrementDesiredCapacity are required");
    if (vm_params_bool(p, "ShouldDecrementDesiredCapacity", false, &dec, err) < 0 ||
        asg_terminate_member(ctx, id, dec, activity, err) < 0)
        return -1;
    return asg_activity_render(ctx, vm_node_struct(result, "Activity", NULL), activity, err);
}

static int
describe_activities(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    _cleanup_free_ const char **ids = NULL;
    size_t ni;
    asg_activity_filter f = { .group = vm_params_get(p, "AutoScalingGroupName") };
    if (vm_params_list(p, "ActivityIds.member", &ids, &ni, err) < 0 || asg_page_args(p, &f.offset, &f.max, err) < 0)
        return -1;
    f.ids = ni ? ids : NULL;
    bool more;
    if (asg_activities_render(ctx, &f, vm_node_list(result, "Activities", NULL), &more, err) < 0)
        return -1;
    asg_next_token(result, more, f.offset + f.max);
    return 0;
}

static int
set_protection(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    const char *name = vm_params_get(p, "AutoScalingGroupName");
    _cleanup_free_ const char **ids = NULL;
    size_t ni;
    bool prot;
    asg_group g;
    if (!name || !vm_params_get(p, "ProtectedFromScaleIn"))
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName and ProtectedFromScaleIn are required");
    if (asg_get(ctx, name, &g, err) < 0 || vm_params_list(p, "InstanceIds.member", &ids, &ni, err) < 0 ||
        vm_params_bool(p, "ProtectedFromScaleIn", false, &prot, err) < 0)
        return -1;
    for (size_t i = 0; i < ni; i++) {
        char group[ASG_NAME_MAX + 1];
        asg_member m;
        int found = asg_member_of(ctx, ids[i], group, &m, err);
        if (found < 0)
            return -1;
        if (!found || strcmp(group, name) != 0)
            return vm_error_set(err, VM_ERR_VALIDATION, "The instance %s is not part of Auto Scaling group %s.", ids[i],
                                name);
    }
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "UPDATE asg_instances SET protected = ? WHERE instance_id = ?", &st, err) < 0)
        goto fail;
    for (size_t i = 0; i < ni; i++) {
        sqlite3_reset(st);
        if (vm_db_bind(st, err, "it", (long long)prot, ids[i]) < 0 || sqlite3_step(st) != SQLITE_DONE) {
            vm_db_error(ctx->db, "setting instance protection", err);
            goto fail;
        }
    }
    if (vm_db_commit(ctx->db, err) < 0)
        goto fail;
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

static int
termination_policy_types(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)ctx, (void)principal, (void)p, (void)err;
    vm_node *l = vm_node_list(result, "TerminationPolicyTypes", NULL);
    for (const char *const *t = policies; *t; t++)
        vm_node_str(l, NULL, NULL, *t);
    return 0;
}

static int
put_warm_pool(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    const char *group = vm_params_get(p, "AutoScalingGroupName"), *state = vm_params_get(p, "PoolState");
    asg_group g;
    asg_warm_pool wp = { .max_prepared = -1 };
    if (!group)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (asg_get(ctx, group, &g, err) < 0 ||
        vm_params_int(p, "MaxGroupPreparedCapacity", -1, -1, ASG_MAX_SIZE, &wp.max_prepared, err) < 0 ||
        vm_params_int(p, "MinSize", 0, 0, ASG_MAX_SIZE, &wp.min_size, err) < 0 ||
        vm_params_bool(p, "InstanceReusePolicy.ReuseOnScaleIn", false, &wp.reuse, err) < 0)
        return -1;
    if (g.deleting)
        return vm_error_set(err, VM_ERR_SCALING_IN_PROGRESS, "The group %s is being deleted", group);
    if (state && strcmp(state, "Stopped") != 0 && strcmp(state, "Hibernated") != 0 && strcmp(state, "Running") != 0)
        return asg_invalid(err, "Invalid pool state: %s (Stopped, Hibernated or Running)", state);
    if (wp.max_prepared >= 0 && wp.max_prepared < wp.min_size)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "MaxGroupPreparedCapacity %ld must be greater than or equal to MinSize %ld",
                            wp.max_prepared, wp.min_size);
    asg_warm_pool old;
    if (asg_warm_pool_get(ctx, group, &old, err) < 0)
        return -1;
    if (old.exists && old.deleting)
        return vm_error_set(err, VM_ERR_SCALING_IN_PROGRESS, "The warm pool of %s is being deleted", group);
    snprintf(wp.pool_state, sizeof(wp.pool_state), "%s", state ? state : "Stopped");
    return asg_warm_pool_put(ctx, group, &wp, err);
}

static int
describe_warm_pool(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    const char *group = vm_params_get(p, "AutoScalingGroupName");
    asg_group g;
    asg_warm_pool wp;
    long offset, max;
    if (!group)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (asg_get(ctx, group, &g, err) < 0 || asg_warm_pool_get(ctx, group, &wp, err) < 0 ||
        asg_page_args(p, &offset, &max, err) < 0)
        return -1;
    if (wp.exists)
        render_warm_config(result, &wp);
    _cleanup_free_ asg_member *ms = NULL;
    size_t n;
    if (asg_members(ctx, group, &ms, &n, err) < 0)
        return -1;
    vm_node *il = vm_node_list(result, "Instances", NULL);
    long seen = 0, shown = 0;
    bool more = false;
    for (size_t i = 0; i < n; i++) {
        if (!asg_warmed(&ms[i]) || seen++ < offset)
            continue;
        if (shown == max) {
            more = true;
            break;
        }
        shown++;
        vm_node *m = vm_node_item(il);
        char type[32], ver[24];
        instance_type_of(ctx, ms[i].instance_id, type, sizeof(type));
        vm_node_str(m, "InstanceId", NULL, ms[i].instance_id);
        vm_node_str(m, "InstanceType", NULL, type);
        char zone[40];
        net_subnet_zone(ctx, ms[i].subnet_id, zone);
        vm_node_str(m, "AvailabilityZone", NULL, zone);
        vm_node_str(m, "LifecycleState", NULL, ms[i].lifecycle);
        vm_node_str(m, "HealthStatus", NULL, ms[i].health);
        snprintf(ver, sizeof(ver), "%ld", ms[i].template_version);
        render_lt_spec(ctx, m, g.template_id, ver);
        vm_node_bool(m, "ProtectedFromScaleIn", NULL, ms[i].protected_);
    }
    asg_next_token(result, more, offset + max);
    return 0;
}

static int
delete_warm_pool(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    const char *group = vm_params_get(p, "AutoScalingGroupName");
    asg_group g;
    asg_warm_pool wp;
    bool force;
    if (!group)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (asg_get(ctx, group, &g, err) < 0 || asg_warm_pool_get(ctx, group, &wp, err) < 0 ||
        vm_params_bool(p, "ForceDelete", false, &force, err) < 0)
        return -1;
    if (!wp.exists)
        return vm_error_set(err, VM_ERR_VALIDATION, "No warm pool found for Auto Scaling group %s", group);
    _cleanup_free_ asg_member *ms = NULL;
    size_t n, warm = 0;
    if (asg_members(ctx, group, &ms, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        warm += asg_warmed(&ms[i]);
    return asg_warm_pool_set_deleting(ctx, group, warm == 0, err);
}

/* Bad input of this service is ValidationError whatever layer found it (a launch template's
 * InvalidLaunchTemplateId.NotFound, a parameter's InvalidParameterValue). */
#define WRAP(fn)                                                                                                      \
    static int fn##_w(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)       \
    {                                                                                                                 \
        int rc = fn(ctx, principal, p, result, err);                                                                  \
        if (rc < 0 && err->code != VM_ERR_INTERNAL && err->code != VM_ERR_UNAVAILABLE &&                              \
            err->code != VM_ERR_ALREADY_EXISTS && err->code != VM_ERR_RESOURCE_IN_USE &&                              \
            err->code != VM_ERR_SCALING_IN_PROGRESS && err->code != VM_ERR_LIMIT_EXCEEDED &&                          \
            err->code != VM_ERR_REFRESH_IN_PROGRESS && err->code != VM_ERR_NO_ACTIVE_REFRESH)                         \
            err->code = VM_ERR_VALIDATION;                                                                            \
        return rc;                                                                                                    \
    }
WRAP(create_group)
WRAP(update_group)
WRAP(delete_group)
WRAP(describe_groups)
WRAP(describe_instances)
WRAP(set_desired)
WRAP(terminate_instance)
WRAP(describe_activities)
WRAP(set_protection)
WRAP(asg_put_tags)
WRAP(asg_delete_tags)
WRAP(asg_describe_tags)
WRAP(asg_put_policy)
WRAP(asg_describe_policies)
WRAP(asg_delete_policy)
WRAP(asg_execute_policy)
WRAP(put_warm_pool)
WRAP(describe_warm_pool)
WRAP(delete_warm_pool)
WRAP(asg_suspend_processes)
WRAP(asg_resume_processes)
WRAP(asg_standby_enter)
WRAP(asg_standby_exit)
WRAP(asg_set_instance_health)
WRAP(asg_put_hook)
WRAP(asg_describe_hooks)
WRAP(asg_delete_hook)
WRAP(asg_complete_action)
WRAP(asg_heartbeat)
WRAP(asg_start_refresh)
WRAP(asg_describe_refreshes)
WRAP(asg_cancel_refresh)
WRAP(asg_put_scheduled)
WRAP(asg_describe_scheduled)
WRAP(asg_delete_scheduled)
WRAP(asg_batch_put_scheduled)
WRAP(asg_batch_delete_scheduled)
WRAP(asg_attach_instances)
WRAP(asg_detach_instances)

static const svc_action autoscaling_actions[] = {
    { "CreateAutoScalingGroup", create_group_w },
    { "UpdateAutoScalingGroup", update_group_w },
    { "DeleteAutoScalingGroup", delete_group_w },
    { "DescribeAutoScalingGroups", describe_groups_w },
    { "DescribeAutoScalingInstances", describe_instances_w },
    { "SetDesiredCapacity", set_desired_w },
    { "TerminateInstanceInAutoScalingGroup", terminate_instance_w },
    { "DescribeScalingActivities", describe_activities_w },
    { "SetInstanceProtection", set_protection_w },
    { "CreateOrUpdateTags", asg_put_tags_w },
    { "DeleteTags", asg_delete_tags_w },
    { "DescribeTags", asg_describe_tags_w },
    { "DescribeTerminationPolicyTypes", termination_policy_types },
    { "PutScalingPolicy", asg_put_policy_w },
    { "DescribePolicies", asg_describe_policies_w },
    { "DeletePolicy", asg_delete_policy_w },
    { "ExecutePolicy", asg_execute_policy_w },
    { "PutWarmPool", put_warm_pool_w },
    { "DescribeWarmPool", describe_warm_pool_w },
    { "DeleteWarmPool", delete_warm_pool_w },
    { "SuspendProcesses", asg_suspend_processes_w },
    { "ResumeProcesses", asg_resume_processes_w },
    { "DescribeScalingProcessTypes", asg_process_types },
    { "EnterStandby", asg_standby_enter_w },
    { "ExitStandby", asg_standby_exit_w },
    { "SetInstanceHealth", asg_set_instance_health_w },
    { "PutLifecycleHook", asg_put_hook_w },
    { "DescribeLifecycleHooks", asg_describe_hooks_w },
    { "DeleteLifecycleHook", asg_delete_hook_w },
    { "CompleteLifecycleAction", asg_complete_action_w },
    { "RecordLifecycleActionHeartbeat", asg_heartbeat_w },
    { "DescribeLifecycleHookTypes", asg_hook_types },
    { "StartInstanceRefresh", asg_start_refresh_w },
    { "DescribeInstanceRefreshes", asg_describe_refreshes_w },
    { "CancelInstanceRefresh", asg_cancel_refresh_w },
    { "PutScheduledUpdateGroupAction", asg_put_scheduled_w },
    { "DescribeScheduledActions", asg_describe_scheduled_w },
    { "DeleteScheduledAction", asg_delete_scheduled_w },
    { "BatchPutScheduledUpdateGroupAction", asg_batch_put_scheduled_w },
    { "BatchDeleteScheduledAction", asg_batch_delete_scheduled_w },
    { "AttachInstances", asg_attach_instances_w },
    { "DetachInstances", asg_detach_instances_w },
    { "AttachLoadBalancerTargetGroups", asg_attach_tgs },
    { "DetachLoadBalancerTargetGroups", asg_detach_tgs },
    { "DescribeLoadBalancerTargetGroups", asg_describe_tgs },
    { NULL, NULL },
};

const svc_desc svc_autoscaling = {
    .signing_name = "autoscaling",
    .version = "2011-01-01",
    .xmlns = "http://autoscaling.amazonaws.com/doc/2011-01-01/",
    .protocol = SVC_PROTO_QUERY,
    .actions = autoscaling_actions,
    .param_error = VM_ERR_VALIDATION,
};
