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

static int parse_hook_specs(const vm_params *p, asg_hook **ret, size_t *ret_n, vm_error *err);

static int
invalid(vm_error *err, const char *fmt, const char *value)
{
    return vm_error_set(err, VM_ERR_VALIDATION, fmt, value);
}

static int
subnet_exists(vm_ctx *ctx, const char *id, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (!vm_id_valid(id, "subnet"))
        return invalid(err, "The subnet ID '%s' is not valid", id);
    if (vm_db_stmt(ctx->db, &st, err, "SELECT 1 FROM subnets WHERE id = ?", "t", id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return invalid(err, "The subnet ID '%s' does not exist", id);
    return 0;
}

/* Tags.member.N {Key, Value, PropagateAtLaunch, ResourceId, ResourceType}; group: the group they are
 * for when known (Create), else each ResourceId (CreateOrUpdateTags). */
static int
parse_tags(const vm_params *p, const char *group, asg_tag **ret, const char ***ret_groups, size_t *ret_n, vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, "Tags.member", &idx, &n, err) < 0)
        return -1;
    _cleanup_free_ asg_tag *tags = calloc(n + 1, sizeof(*tags));
    _cleanup_free_ const char **groups = calloc(n + 1, sizeof(char *));
    if (!tags || !groups)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        tags[i].key = vm_params_getf(p, "Tags.member.%d.Key", idx[i]);
        tags[i].value = vm_params_getf(p, "Tags.member.%d.Value", idx[i]);
        const char *prop = vm_params_getf(p, "Tags.member.%d.PropagateAtLaunch", idx[i]);
        const char *rid = vm_params_getf(p, "Tags.member.%d.ResourceId", idx[i]);
        const char *rtype = vm_params_getf(p, "Tags.member.%d.ResourceType", idx[i]);
        if (!tags[i].key || !*tags[i].key || strlen(tags[i].key) > 128)
            return vm_error_set(err, VM_ERR_VALIDATION, "Tag key must be between 1 and 128 characters");
        if (strncmp(tags[i].key, "aws:", 4) == 0)
            return invalid(err, "Tag keys starting with 'aws:' are reserved for internal use: %s", tags[i].key);
        if (tags[i].value && strlen(tags[i].value) > 256)
            return vm_error_set(err, VM_ERR_VALIDATION, "Tag value must be at most 256 characters");
        if (rtype && strcmp(rtype, "auto-scaling-group") != 0)
            return invalid(err, "Invalid resource type: %s", rtype);
        tags[i].propagate = prop && strcmp(prop, "true") == 0;
        groups[i] = group ? group : rid;
        if (!groups[i])
            return vm_error_set(err, VM_ERR_VALIDATION, "ResourceId is required for every tag");
        if (group && rid && strcmp(rid, group) != 0)
            return invalid(err, "Tag ResourceId %s is not the group being created", rid);
    }
    *ret = TAKE_PTR(tags);
    *ret_groups = TAKE_PTR(groups);
    *ret_n = n;
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
            return invalid(err, "Invalid health check type: %s (EC2 or ELB)", hc);
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
                return invalid(err, "Termination policy %s is not valid", tps[i]);
            size_t len = strlen(g->termination_policies);
            snprintf(g->termination_policies + len, sizeof(g->termination_policies) - len, "%s%s", i ? "," : "",
                     tps[i]);
        }
    }
    for (size_t i = 0; i < naz; i++)
        if (vm_zone_find(ctx, azs[i]) < 0)
            return invalid(err, "Invalid Availability Zone: %s", azs[i]);
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
        return invalid(err, "The group name %s may not contain ':'", name);
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
    if (parse_tags(p, g.name, &tags, &tgroups, &nt, err) < 0)
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
    if (parse_hook_specs(p, &hooks, &nh, err) < 0 || asg_parse_tg_arns(ctx, p, &tgs, &ntg, err) < 0)
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
    if (vm_params_int(p, "DesiredCapacity", g.desired, 0, ASG_MAX_SIZE, &g.desired, err) < 0 || check_bounds(&g, err) < 0)
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
            return invalid(err, "Filter name %s is not valid (tag:<key>, tag-key or tag-value)", name);
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
    if (vm_params_list(p, "AutoScalingGroupNames.member", &names, &nn, err) < 0 || asg_page_args(p, &offset, &max, err) < 0)
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
    snprintf(cause, sizeof(cause),
             "At %s a user request explicitly set group desired capacity changing the desired capacity from %ld to %ld.",
             t, g.desired, d);
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
put_tags(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    _cleanup_free_ asg_tag *tags = NULL;
    _cleanup_free_ const char **groups = NULL;
    size_t n;
    if (parse_tags(p, NULL, &tags, &groups, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        asg_group g;
        if (asg_get(ctx, groups[i], &g, err) < 0)
            return -1;
    }
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (asg_tags_put(ctx, groups[i], &tags[i], 1, err) < 0) {
            vm_db_rollback(ctx->db);
            return -1;
        }
    return vm_db_commit(ctx->db, err);
}

static int
delete_tags(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    _cleanup_free_ asg_tag *tags = NULL;
    _cleanup_free_ const char **groups = NULL;
    size_t n;
    if (parse_tags(p, NULL, &tags, &groups, &n, err) < 0)
        return -1;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *key = tags[i].key;
        if (asg_tags_delete(ctx, groups[i], &key, 1, err) < 0) {
            vm_db_rollback(ctx->db);
            return -1;
        }
    }
    return vm_db_commit(ctx->db, err);
}

/* DescribeTags: Filters auto-scaling-group, key, value, propagate-at-launch */
static int
describe_tags(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    long offset, max;
    if (asg_page_args(p, &offset, &max, err) < 0)
        return -1;
    _cleanup_(vm_node_freep) vm_node *all = vm_node_new_root("all");
    vm_node *tl = all ? vm_node_list(all, "Tags", NULL) : NULL;
    if (!tl || asg_tags_render(ctx, tl, NULL, err) < 0)
        return tl ? -1 : vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    _cleanup_free_ int *idx = NULL;
    size_t nf;
    if (vm_params_indexes(p, "Filters.member", &idx, &nf, err) < 0)
        return -1;
    vm_node *list = vm_node_list(result, "Tags", NULL);
    long seen = 0, shown = 0;
    bool more = false;
    for (vm_node *t = tl->first; t; t = t->next) {
        bool keep = true;
        for (size_t i = 0; i < nf && keep; i++) {
            const char *name = vm_params_getf(p, "Filters.member.%d.Name", idx[i]);
            char pre[64];
            snprintf(pre, sizeof(pre), "Filters.member.%d.Values.member", idx[i]);
            _cleanup_free_ const char **vals = NULL;
            size_t nv;
            if (!name || vm_params_list(p, pre, &vals, &nv, err) < 0)
                return name ? -1 : vm_error_set(err, VM_ERR_VALIDATION, "A filter needs a Name");
            const char *field = strcmp(name, "auto-scaling-group") == 0    ? "ResourceId"
                                : strcmp(name, "key") == 0                 ? "Key"
                                : strcmp(name, "value") == 0               ? "Value"
                                : strcmp(name, "propagate-at-launch") == 0 ? "PropagateAtLaunch"
                                                                           : NULL;
            if (!field)
                return invalid(err, "Filter name %s is not valid", name);
            vm_node *f = vm_node_child(t, field);
            char text[16];
            const char *subject = f->type == VM_NODE_BOOL ? (snprintf(text, sizeof(text), "%s", f->num ? "true" : "false"), text)
                                                          : f->str;
            keep = false;
            for (size_t j = 0; j < nv; j++)
                keep |= strcmp(subject, vals[j]) == 0;
        }
        if (!keep || seen++ < offset)
            continue;
        if (shown == max) {
            more = true;
            break;
        }
        shown++;
        vm_node *it = vm_node_item(list);
        for (vm_node *c = t->first; c; c = c->next)
            c->type == VM_NODE_BOOL ? (void)vm_node_bool(it, c->name, NULL, c->num) : (void)vm_node_str(it, c->name, NULL, c->str);
    }
    asg_next_token(result, more, offset + max);
    return 0;
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
    return invalid(err, "Invalid adjustment type: %s", t);
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
            return invalid(err, "ScalingAdjustment %s is not a number", adj);
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
    const char *pre = vm_params_get(p, "TargetTrackingConfiguration.PredefinedMetricSpecification.PredefinedMetricType");
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
            snprintf(pol->tt_spec, sizeof(pol->tt_spec), "AWS/ApplicationELB\nRequestCountPerTarget\nSum\n60\n\nTargetGroup=%s\n",
                     tgpart + 1);
            return 0;
        }
        if (!metric)
            return invalid(err, "Invalid predefined metric type: %s", pre);
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
        return invalid(err, "Invalid statistic: %s", stat);
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
        const char *dn = vm_params_getf(p, "%s.%d.Name", key, idx[i]), *dv = vm_params_getf(p, "%s.%d.Value", key, idx[i]);
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

static int
put_policy(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
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
            return invalid(err, "Invalid metric aggregation type: %s", agg);
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
        return invalid(err, "Invalid policy type: %s", pol.type);
    }
    if (pol.min_adjustment_magnitude && strcmp(pol.adjustment_type, "PercentChangeInCapacity") != 0)
        return vm_error_set(err, VM_ERR_VALIDATION,
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

static int
describe_policies(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
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

static int
delete_policy(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
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

static int
execute_policy(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
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
        (mv && parse_double("MetricValue", mv, &v, err) < 0) || (bt && parse_double("BreachThreshold", bt, &t, err) < 0))
        return -1;
    if (strcmp(pol.type, "StepScaling") == 0 && (!mv || !bt))
        return vm_error_set(err, VM_ERR_VALIDATION, "MetricValue and BreachThreshold are required for a step policy");
    return asg_policy_execute(ctx, &g, &pol, honor, mv != NULL, v, t, "a user request executed", err);
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
        return invalid(err, "Invalid pool state: %s (Stopped, Hibernated or Running)", state);
    if (wp.max_prepared >= 0 && wp.max_prepared < wp.min_size)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "MaxGroupPreparedCapacity %ld must be greater than or equal to MinSize %ld", wp.max_prepared,
                            wp.min_size);
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
            return invalid(err, "Invalid process name: %s", procs[i]);
    }
    return asg_processes_set(ctx, group, procs, n, suspend, err);
}

static int
suspend_processes(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    return processes(ctx, p, true, err);
}

static int
resume_processes(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    return processes(ctx, p, false, err);
}

static int
process_types(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
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

static int
enter_standby(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    return standby(ctx, p, result, true, err);
}

static int
exit_standby(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    return standby(ctx, p, result, false, err);
}

static int
set_instance_health(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    (void)result;
    const char *id = vm_params_get(p, "InstanceId"), *h = vm_params_get(p, "HealthStatus");
    char group[ASG_NAME_MAX + 1];
    asg_member m;
    if (!id || !h)
        return vm_error_set(err, VM_ERR_VALIDATION, "InstanceId and HealthStatus are required");
    if (strcmp(h, "Healthy") != 0 && strcmp(h, "Unhealthy") != 0)
        return invalid(err, "Invalid health status: %s (Healthy or Unhealthy)", h);
    int found = asg_member_of(ctx, id, group, &m, err);
    if (found < 0)
        return -1;
    if (!found)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "Instance Id not found - No managed instance found for instance ID: %s", id);
    return asg_member_set(ctx, id, NULL, h, err);
}


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
            return invalid(err, "Invalid Lifecycle Transition name: %s", tr);
        snprintf(h->transition, sizeof(h->transition), "%s", tr);
    }
    if (dr) {
        if (strcmp(dr, "CONTINUE") != 0 && strcmp(dr, "ABANDON") != 0)
            return invalid(err, "Invalid value for DefaultResult: %s (CONTINUE or ABANDON)", dr);
        snprintf(h->default_result, sizeof(h->default_result), "%s", dr);
    }
    if ((md && strlen(md) >= sizeof(h->metadata)) || (target && strlen(target) >= sizeof(h->target_arn)) ||
        (role && strlen(role) >= sizeof(h->role_arn)))
        return vm_error_set(err, VM_ERR_VALIDATION, "NotificationMetadata, NotificationTargetARN or RoleARN is too long");
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
static int
parse_hook_specs(const vm_params *p, asg_hook **ret, size_t *ret_n, vm_error *err)
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
                return invalid(err, "Duplicate lifecycle hook name: %s", v[i].name);
    }
    *ret = TAKE_PTR(v);
    *ret_n = n;
    return 0;
}

static int
put_hook(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
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

static int
describe_hooks(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
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

static int
delete_hook(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
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
        return invalid(err, "Invalid value for LifecycleActionResult: %s (CONTINUE or ABANDON)", res);
    if (asg_get(ctx, group, &g, err) < 0)
        return -1;
    int found = asg_hook_get(ctx, group, name, &h, err);
    if (found <= 0)
        return found < 0 ? -1 : vm_error_set(err, VM_ERR_VALIDATION, "No Lifecycle Hook found for name: %s", name);
    return complete ? asg_hook_complete(ctx, group, name, token, id, res, err)
                    : asg_hook_heartbeat(ctx, group, name, token, id, err);
}

static int
complete_action(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    return hook_action(ctx, p, true, err);
}

static int
heartbeat(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal, (void)result;
    return hook_action(ctx, p, false, err);
}

static int
hook_types(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)ctx, (void)principal, (void)p, (void)err;
    vm_node *l = vm_node_list(result, "LifecycleHookTypes", NULL);
    vm_node_str(vm_node_item(l), NULL, NULL, ASG_HOOK_LAUNCHING);
    vm_node_str(vm_node_item(l), NULL, NULL, ASG_HOOK_TERMINATING);
    return 0;
}


/* --- instance refresh ----------------------------------------------------------------------------- */

static int
start_refresh(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    const char *group = vm_params_get(p, "AutoScalingGroupName"), *strategy = vm_params_get(p, "Strategy");
    asg_group g;
    asg_refresh r = { 0 };
    if (!group)
        return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroupName is required");
    if (strategy && strcmp(strategy, "Rolling") != 0)
        return invalid(err, "Invalid instance refresh strategy: %s (Rolling)", strategy);
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

static int
describe_refreshes(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
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

static int
cancel_refresh(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
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

static int
attach_instances(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
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

static int
detach_instances(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
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
WRAP(put_tags)
WRAP(delete_tags)
WRAP(describe_tags)
WRAP(put_policy)
WRAP(describe_policies)
WRAP(delete_policy)
WRAP(execute_policy)
WRAP(put_warm_pool)
WRAP(describe_warm_pool)
WRAP(delete_warm_pool)
WRAP(suspend_processes)
WRAP(resume_processes)
WRAP(enter_standby)
WRAP(exit_standby)
WRAP(set_instance_health)
WRAP(put_hook)
WRAP(describe_hooks)
WRAP(delete_hook)
WRAP(complete_action)
WRAP(heartbeat)
WRAP(start_refresh)
WRAP(describe_refreshes)
WRAP(cancel_refresh)
WRAP(asg_put_scheduled)
WRAP(asg_describe_scheduled)
WRAP(asg_delete_scheduled)
WRAP(asg_batch_put_scheduled)
WRAP(asg_batch_delete_scheduled)
WRAP(attach_instances)
WRAP(detach_instances)

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
    { "CreateOrUpdateTags", put_tags_w },
    { "DeleteTags", delete_tags_w },
    { "DescribeTags", describe_tags_w },
    { "DescribeTerminationPolicyTypes", termination_policy_types },
    { "PutScalingPolicy", put_policy_w },
    { "DescribePolicies", describe_policies_w },
    { "DeletePolicy", delete_policy_w },
    { "ExecutePolicy", execute_policy_w },
    { "PutWarmPool", put_warm_pool_w },
    { "DescribeWarmPool", describe_warm_pool_w },
    { "DeleteWarmPool", delete_warm_pool_w },
    { "SuspendProcesses", suspend_processes_w },
    { "ResumeProcesses", resume_processes_w },
    { "DescribeScalingProcessTypes", process_types },
    { "EnterStandby", enter_standby_w },
    { "ExitStandby", exit_standby_w },
    { "SetInstanceHealth", set_instance_health_w },
    { "PutLifecycleHook", put_hook_w },
    { "DescribeLifecycleHooks", describe_hooks_w },
    { "DeleteLifecycleHook", delete_hook_w },
    { "CompleteLifecycleAction", complete_action_w },
    { "RecordLifecycleActionHeartbeat", heartbeat_w },
    { "DescribeLifecycleHookTypes", hook_types },
    { "StartInstanceRefresh", start_refresh_w },
    { "DescribeInstanceRefreshes", describe_refreshes_w },
    { "CancelInstanceRefresh", cancel_refresh_w },
    { "PutScheduledUpdateGroupAction", asg_put_scheduled_w },
    { "DescribeScheduledActions", asg_describe_scheduled_w },
    { "DeleteScheduledAction", asg_delete_scheduled_w },
    { "BatchPutScheduledUpdateGroupAction", asg_batch_put_scheduled_w },
    { "BatchDeleteScheduledAction", asg_batch_delete_scheduled_w },
    { "AttachInstances", attach_instances_w },
    { "DetachInstances", detach_instances_w },
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
