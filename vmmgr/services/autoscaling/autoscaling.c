/* EC2 Auto Scaling (SigV4 service `autoscaling`, 2011-01-01, AWS Query protocol) at the same endpoint.
 * Each action parses its parameters into the typed group of autoscaling/asg.h; the group controller
 * in `vmmgr serve` does the launching and terminating.  Bad input is ValidationError, as on AWS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "../../../autoscaling/asg.h"
#include "../../compute/instance.h"
#include "../../compute/launch_template.h"
#include "../../core/cleanup.h"
#include "../../core/db.h"
#include "../../core/filter.h"
#include "../service.h"

#define ASG_PAGE 100

static const char *const policies[] = { "Default",
                                        "OldestInstance",
                                        "NewestInstance",
                                        "OldestLaunchConfiguration",
                                        "OldestLaunchTemplate",
                                        "ClosestToNextInstanceHour",
                                        "AllocationStrategy",
                                        NULL };

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
    if (vm_db_prepare(ctx->db, "SELECT 1 FROM subnets WHERE id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return invalid(err, "The subnet ID '%s' does not exist", id);
    return 0;
}

static int
default_subnet(vm_ctx *ctx, char buf[VM_ID_MAX], vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id FROM subnets WHERE default_for_az ORDER BY created_at LIMIT 1", &st, err) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "No default subnet for availability zone: '%s'. Give VPCZoneIdentifier.", ctx->az);
    snprintf(buf, VM_ID_MAX, "%s", vm_db_text(st, 0));
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
    if (vm_params_get(p, "TargetGroupARNs.member.1") || vm_params_get(p, "LoadBalancerNames.member.1") ||
        vm_params_get(p, "TrafficSources.member.1.Identifier"))
        return vm_error_set(err, VM_ERR_VALIDATION, "Load balancers are not offered by this endpoint yet");
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
        if (strcmp(azs[i], ctx->az) != 0)
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
    if (g->nsubnets == 0) {
        if (!naz && create)
            return vm_error_set(err, VM_ERR_VALIDATION, "At least one Availability Zone or VPC Subnet is required.");
        if (default_subnet(ctx, g->subnets[0], err) < 0)
            return -1;
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
    return asg_create(ctx, &g, tags, nt, err);
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
    vm_node_str(vm_node_list(it, "AvailabilityZones", NULL), NULL, NULL, ctx->az);
    vm_node_list(it, "LoadBalancerNames", NULL);
    vm_node_list(it, "TargetGroupARNs", NULL);
    vm_node_str(it, "HealthCheckType", NULL, g->health_check_type);
    vm_node_int(it, "HealthCheckGracePeriod", NULL, g->grace_period);
    _cleanup_free_ asg_member *ms = NULL;
    size_t n;
    if (asg_members(ctx, g->name, &ms, &n, err) < 0)
        return -1;
    vm_node *il = vm_node_list(it, "Instances", NULL);
    for (size_t i = 0; i < n; i++) {
        vm_node *m = vm_node_item(il);
        char type[32], ver[24];
        instance_type_of(ctx, ms[i].instance_id, type, sizeof(type));
        vm_node_str(m, "InstanceId", NULL, ms[i].instance_id);
        vm_node_str(m, "InstanceType", NULL, type);
        vm_node_str(m, "AvailabilityZone", NULL, ctx->az);
        vm_node_str(m, "LifecycleState", NULL, ms[i].lifecycle);
        vm_node_str(m, "HealthStatus", NULL, ms[i].health);
        snprintf(ver, sizeof(ver), "%ld", ms[i].template_version);
        render_lt_spec(ctx, m, g->template_id, ver);
        vm_node_bool(m, "ProtectedFromScaleIn", NULL, ms[i].protected_);
    }
    vm_node_time(it, "CreatedTime", NULL, g->created_at);
    vm_node_list(it, "SuspendedProcesses", NULL);
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
    char role[160];
    snprintf(role, sizeof(role),
             "arn:aws:iam::%s:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
             ctx->account_id);
    vm_node_str(it, "ServiceLinkedRoleARN", NULL, role);
    return 0;
}

static int
page_args(const vm_params *p, long *offset, long *max, vm_error *err)
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

static void
next_token(vm_node *result, bool more, long next)
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
        if (vm_db_prepare(ctx->db, "SELECT key, value FROM asg_tags WHERE group_name = ?", &st, err) < 0)
            return -1;
        sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
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
    if (vm_params_list(p, "AutoScalingGroupNames.member", &names, &nn, err) < 0 || page_args(p, &offset, &max, err) < 0)
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
    next_token(result, more, offset + max);
    return 0;
}

static int
describe_instances(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    _cleanup_free_ const char **ids = NULL;
    size_t ni;
    long offset, max;
    if (vm_params_list(p, "InstanceIds.member", &ids, &ni, err) < 0 || page_args(p, &offset, &max, err) < 0)
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
        vm_node_str(it, "AvailabilityZone", NULL, ctx->az);
        vm_node_str(it, "LifecycleState", NULL, vm_db_text(st, 2));
        /* this action says it in capitals (HEALTHY), DescribeAutoScalingGroups does not */
        snprintf(health, sizeof(health), "%s", strcmp(vm_db_text(st, 3), "Healthy") == 0 ? "HEALTHY" : "UNHEALTHY");
        vm_node_str(it, "HealthStatus", NULL, health);
        snprintf(ver, sizeof(ver), "%lld", (long long)sqlite3_column_int64(st, 4));
        render_lt_spec(ctx, it, vm_db_text(st, 6), ver);
        vm_node_bool(it, "ProtectedFromScaleIn", NULL, sqlite3_column_int(st, 5));
    }
    next_token(result, more, offset + max);
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
    if (vm_params_list(p, "ActivityIds.member", &ids, &ni, err) < 0 || page_args(p, &f.offset, &f.max, err) < 0)
        return -1;
    f.ids = ni ? ids : NULL;
    bool more;
    if (asg_activities_render(ctx, &f, vm_node_list(result, "Activities", NULL), &more, err) < 0)
        return -1;
    next_token(result, more, f.offset + f.max);
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
        sqlite3_bind_int(st, 1, prot);
        sqlite3_bind_text(st, 2, ids[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
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
    if (page_args(p, &offset, &max, err) < 0)
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
    next_token(result, more, offset + max);
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

/* Bad input of this service is ValidationError whatever layer found it (a launch template's
 * InvalidLaunchTemplateId.NotFound, a parameter's InvalidParameterValue). */
#define WRAP(fn)                                                                                                      \
    static int fn##_w(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)       \
    {                                                                                                                 \
        int rc = fn(ctx, principal, p, result, err);                                                                  \
        if (rc < 0 && err->code != VM_ERR_INTERNAL && err->code != VM_ERR_UNAVAILABLE &&                              \
            err->code != VM_ERR_ALREADY_EXISTS && err->code != VM_ERR_RESOURCE_IN_USE &&                              \
            err->code != VM_ERR_SCALING_IN_PROGRESS)                                                                  \
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
    { NULL, NULL },
};

const svc_desc svc_autoscaling = {
    .signing_name = "autoscaling",
    .version = "2011-01-01",
    .xmlns = "http://autoscaling.amazonaws.com/doc/2011-01-01/",
    .protocol = SVC_PROTO_QUERY,
    .actions = autoscaling_actions,
};
