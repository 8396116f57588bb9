/* Security groups on the wire: Create/Describe/DeleteSecurityGroup, Authorize/Revoke ingress and
 * egress and DescribeSecurityGroupRules.  IpPermissions (and the older flat form) are parsed here
 * into net/secgroup.c's typed permissions; answers and filters are rendered here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../core/cleanup.h"
#include "../../core/filter.h"
#include "../../core/tags.h"
#include "../../../net/net.h"
#include "ec2.h"

static int
protocol_parse(const char *s, char out[8], vm_error *err)
{
    static const char *const names[][2] = { { "tcp", "tcp" }, { "6", "tcp" },   { "udp", "udp" }, { "17", "udp" },
                                            { "icmp", "icmp" }, { "1", "icmp" }, { "-1", "-1" },   { "all", "-1" } };
    for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(s, names[i][0]) == 0) {
            snprintf(out, 8, "%s", names[i][1]);
            return 0;
        }
    return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                        "Invalid value '%s' for IP protocol: this host filters tcp, udp, icmp and -1 (all)",
                        s ? s : "");
}

/* One permission's protocol and ports from the keys under prefix ("IpPermissions.1." or ""). */
static int
perm_parse(const vm_params *p, const char *prefix, net_sg_perm *r, vm_error *err)
{
    char k1[96], k2[96], k3[96];
    snprintf(k1, sizeof(k1), "%sIpProtocol", prefix);
    snprintf(k2, sizeof(k2), "%sFromPort", prefix);
    snprintf(k3, sizeof(k3), "%sToPort", prefix);
    const char *proto = vm_params_get(p, k1);
    if (!proto)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter %s", k1);
    if (protocol_parse(proto, r->protocol, err) < 0)
        return -1;
    if (strcmp(r->protocol, "-1") == 0) {
        r->from = r->to = -1;
        return 0;
    }
    bool icmp = strcmp(r->protocol, "icmp") == 0;
    long lo = icmp ? -1 : 0, hi = icmp ? 255 : 65535;
    if (!vm_params_get(p, k2) || !vm_params_get(p, k3))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Invalid %s: %s needs FromPort and ToPort", icmp ? "ICMP type and code" : "port range",
                            r->protocol);
    if (vm_params_int(p, k2, 0, lo, hi, &r->from, err) < 0 || vm_params_int(p, k3, 0, lo, hi, &r->to, err) < 0)
        return -1;
    if (!icmp && r->from > r->to)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Invalid port range: FromPort %ld is above ToPort %ld", r->from, r->to);
    return 0;
}

typedef struct perm_list {
    net_sg_perm *v;
    size_t n, cap;
} perm_list;

static int
perms_push(perm_list *l, const net_sg_perm *r, vm_error *err)
{
    if (vm_array_grow(&l->v, l->n, &l->cap, sizeof(*l->v)) < 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    l->v[l->n++] = *r;
    return 0;
}

/* Every (permission, source) pair of the request: IpPermissions.N, or the older flat form
 * (IpProtocol, FromPort, ToPort, CidrIp or SourceSecurityGroupName).  They borrow from p. */
static int
perms_parse(const vm_params *p, perm_list *out, vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, "IpPermissions", &idx, &n, err) < 0)
        return -1;
    if (n == 0) {
        const char *cidr = vm_params_get(p, "CidrIp"), *src = vm_params_get(p, "SourceSecurityGroupName");
        if (!cidr && !src && !vm_params_get(p, "IpProtocol"))
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter ipPermissions");
        net_sg_perm r = { .cidr = cidr, .group_name = cidr ? NULL : src };
        if (src && !vm_params_get(p, "IpProtocol")) {
            snprintf(r.protocol, sizeof(r.protocol), "-1");
            r.from = r.to = -1;
        } else if (perm_parse(p, "", &r, err) < 0)
            return -1;
        return perms_push(out, &r, err);
    }
    for (size_t i = 0; i < n; i++) {
        char prefix[48];
        snprintf(prefix, sizeof(prefix), "IpPermissions.%d.", idx[i]);
        net_sg_perm r = { 0 };
        if (perm_parse(p, prefix, &r, err) < 0)
            return -1;
        if (vm_params_getf(p, "IpPermissions.%d.Ipv6Ranges.1.CidrIpv6", idx[i]) ||
            vm_params_getf(p, "IpPermissions.%d.PrefixListIds.1.PrefixListId", idx[i]))
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "IPv6 ranges and prefix lists are not offered by this host");
        size_t before = out->n;
        _cleanup_free_ int *ri = NULL, *gi = NULL;
        size_t nr, ng;
        char sub[64];
        snprintf(sub, sizeof(sub), "IpPermissions.%d.IpRanges", idx[i]);
        if (vm_params_indexes(p, sub, &ri, &nr, err) < 0)
            return -1;
        for (size_t j = 0; j < nr; j++) {
            net_sg_perm x = r;
            x.cidr = vm_params_getf(p, "IpPermissions.%d.IpRanges.%d.CidrIp", idx[i], ri[j]);
            x.description = vm_params_getf(p, "IpPermissions.%d.IpRanges.%d.Description", idx[i], ri[j]);
            if (!x.cidr)
                return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "IpRanges.%d needs CidrIp", ri[j]);
            if (perms_push(out, &x, err) < 0)
                return -1;
        }
        snprintf(sub, sizeof(sub), "IpPermissions.%d.Groups", idx[i]);
        if (vm_params_indexes(p, sub, &gi, &ng, err) < 0)
            return -1;
        for (size_t j = 0; j < ng; j++) {
            net_sg_perm x = r;
            x.group_id = vm_params_getf(p, "IpPermissions.%d.Groups.%d.GroupId", idx[i], gi[j]);
            x.group_name = vm_params_getf(p, "IpPermissions.%d.Groups.%d.GroupName", idx[i], gi[j]);
            x.description = vm_params_getf(p, "IpPermissions.%d.Groups.%d.Description", idx[i], gi[j]);
            if (!x.group_id && !x.group_name)
                return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "Groups.%d needs GroupId or GroupName", gi[j]);
            if (perms_push(out, &x, err) < 0)
                return -1;
        }
        if (out->n == before)
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER,
                                "IpPermissions.%d names no source (IpRanges or Groups)", idx[i]);
    }
    return 0;
}

static void
render_rule(vm_ctx *ctx, vm_node *it, const net_sg_rule *r)
{
    vm_node_str(it, "securityGroupRuleId", NULL, r->id);
    vm_node_str(it, "groupId", NULL, r->group_id);
    vm_node_str(it, "groupOwnerId", NULL, ctx->account_id);
    vm_node_bool(it, "isEgress", NULL, r->egress);
    vm_node_str(it, "ipProtocol", NULL, r->protocol);
    vm_node_int(it, "fromPort", NULL, r->from);
    vm_node_int(it, "toPort", NULL, r->to);
    if (r->cidr[0])
        vm_node_str(it, "cidrIpv4", NULL, r->cidr);
    if (r->source[0]) {
        vm_node *ref = vm_node_struct(it, "referencedGroupInfo", NULL);
        vm_node_str(ref, "groupId", NULL, r->source);
        vm_node_str(ref, "userId", NULL, ctx->account_id);
    }
    if (r->description[0])
        vm_node_str(it, "description", NULL, r->description);
    vm_node_list(it, "tagSet", "Tags");
}

static int
sg_change(vm_ctx *ctx, const vm_params *p, bool egress, bool add, vm_node *resp, vm_error *err)
{
    net_sg_change c = { .group_id = vm_params_get(p, "GroupId"), .group_name = vm_params_get(p, "GroupName"),
                        .egress = egress };
    if (!c.group_id && !c.group_name)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter groupId or groupName");
    _cleanup_free_ const char **rids = NULL;
    if (!add && vm_params_list(p, "SecurityGroupRuleId", &rids, &c.nrule_ids, err) < 0)
        return -1;
    c.rule_ids = rids;
    perm_list perms = { 0 };
    if ((!c.nrule_ids || vm_params_get(p, "IpPermissions.1.IpProtocol")) && perms_parse(p, &perms, err) < 0) {
        free(perms.v);
        return -1;
    }
    c.perms = perms.v;
    c.nperms = perms.n;
    net_sg_rule *added = NULL;
    size_t nadded = 0;
    int rc = add ? net_sg_authorize(ctx, &c, &added, &nadded, err) : net_sg_revoke(ctx, &c, err);
    free(perms.v);
    if (rc == 0) {
        vm_node_bool(resp, "return", NULL, true);
        if (add) {
            vm_node *set = vm_node_list(resp, "securityGroupRuleSet", "SecurityGroupRules");
            for (size_t i = 0; i < nadded; i++)
                render_rule(ctx, vm_node_item(set), &added[i]);
        }
    }
    free(added);
    return rc;
}

int
ec2_authorize_security_group_ingress(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return sg_change(ctx, p, false, true, resp, err);
}
int
ec2_authorize_security_group_egress(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return sg_change(ctx, p, true, true, resp, err);
}
int
ec2_revoke_security_group_ingress(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return sg_change(ctx, p, false, false, resp, err);
}
int
ec2_revoke_security_group_egress(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return sg_change(ctx, p, true, false, resp, err);
}

int
ec2_create_security_group(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *name = vm_params_require(p, "GroupName", err);
    const char *desc = name ? vm_params_require(p, "GroupDescription", err) : NULL;
    vm_tag *tags = NULL;
    size_t ntags = 0;
    if (!desc || vm_tags_from_spec(p, "security-group", &tags, &ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    char id[VM_ID_MAX];
    if (net_sg_create(ctx, name, desc, vm_params_get(p, "VpcId"), owned, ntags, id, err) < 0)
        return -1;
    vm_node_str(resp, "groupId", NULL, id);
    return vm_tags_render(ctx, resp, id, err);
}

int
ec2_delete_security_group(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    if (net_sg_delete(ctx, vm_params_get(p, "GroupId"), vm_params_get(p, "GroupName"), err) < 0)
        return -1;
    return ec2_render_true(resp);
}

/* IpPermissions of a group: rules with the same protocol and ports share one entry. */
static int
render_permissions(vm_ctx *ctx, vm_node *list, const char *gid, bool egress, vm_error *err)
{
    _cleanup_free_ net_sg_rule *rules = NULL;
    size_t n;
    if (net_sg_rules_of(ctx, gid, egress, &rules, &n, err) < 0)
        return -1;
    char proto[8] = "";
    long from = -2, to = -2;
    vm_node *ranges = NULL, *groups = NULL;
    for (size_t i = 0; i < n; i++) {
        const net_sg_rule *r = &rules[i];
        if (strcmp(r->protocol, proto) != 0 || r->from != from || r->to != to) {
            snprintf(proto, sizeof(proto), "%s", r->protocol);
            from = r->from;
            to = r->to;
            vm_node *it = vm_node_item(list);
            vm_node_str(it, "ipProtocol", NULL, proto);
            if (strcmp(proto, "-1") != 0) {
                vm_node_int(it, "fromPort", NULL, from);
                vm_node_int(it, "toPort", NULL, to);
            }
            groups = vm_node_list(it, "groups", "UserIdGroupPairs");
            ranges = vm_node_list(it, "ipRanges", NULL);
            vm_node_list(it, "ipv6Ranges", NULL);
            vm_node_list(it, "prefixListIds", NULL);
        }
        if (r->cidr[0]) {
            vm_node *x = vm_node_item(ranges);
            vm_node_str(x, "cidrIp", NULL, r->cidr);
            if (r->description[0])
                vm_node_str(x, "description", NULL, r->description);
        } else {
            vm_node *g = vm_node_item(groups);
            vm_node_str(g, "groupId", NULL, r->source);
            vm_node_str(g, "userId", NULL, ctx->account_id);
            if (r->description[0])
                vm_node_str(g, "description", NULL, r->description);
        }
    }
    return 0;
}

static const char *
sg_subject(vm_ctx *ctx, const void *obj, const char *name, char *buf, size_t len)
{
    const net_sg *g = obj;
    (void)buf;
    (void)len;
    if (strcmp(name, "group-id") == 0)
        return g->id;
    if (strcmp(name, "group-name") == 0)
        return g->name;
    if (strcmp(name, "vpc-id") == 0)
        return g->vpc;
    if (strcmp(name, "description") == 0)
        return g->desc;
    if (strcmp(name, "owner-id") == 0)
        return ctx->account_id;
    return NULL;
}

int
ec2_describe_security_groups(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL, **gnames = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    _cleanup_free_ net_sg *all = NULL;
    size_t nids, nnames, n;
    if (vm_params_list(p, "GroupId", &ids, &nids, err) < 0 || vm_params_list(p, "GroupName", &gnames, &nnames, err) < 0 ||
        vm_filters_parse(p, "DescribeSecurityGroups", &fs, err) < 0)
        return -1;
    for (size_t i = 0; i < nids; i++)
        if (sg_get(ctx, ids[i], NULL, err) < 0)
            return -1;
    for (size_t i = 0; i < nnames; i++) {
        char id[VM_ID_MAX];
        if (sg_by_name(ctx, gnames[i], NULL, id, err) < 0)
            return -1;
    }
    if (net_sg_list(ctx, &all, &n, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "securityGroupInfo", "SecurityGroups");
    for (size_t i = 0; i < n; i++) {
        const net_sg *g = &all[i];
        if (nids && !vm_match_any(g->id, ids))
            continue;
        if (nnames && (!g->in_default_vpc || !vm_match_any(g->name, gnames)))
            continue;
        int m = vm_filter_pass(ctx, fs, g->id, sg_subject, g, err);
        if (m < 0)
            return -1;
        if (!m)
            continue;
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "ownerId", NULL, ctx->account_id);
        vm_node_str(it, "groupId", NULL, g->id);
        vm_node_str(it, "groupName", NULL, g->name);
        vm_node_str(it, "groupDescription", "Description", g->desc);
        vm_node_str(it, "vpcId", NULL, g->vpc);
        if (render_permissions(ctx, vm_node_list(it, "ipPermissions", NULL), g->id, false, err) < 0 ||
            render_permissions(ctx, vm_node_list(it, "ipPermissionsEgress", NULL), g->id, true, err) < 0 ||
            vm_tags_render(ctx, it, g->id, err) < 0)
            return -1;
    }
    return 0;
}

int
ec2_describe_security_group_rules(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    _cleanup_free_ net_sg_rule *all = NULL;
    size_t nids, n;
    if (vm_params_list(p, "SecurityGroupRuleId", &ids, &nids, err) < 0 ||
        vm_filters_parse(p, "DescribeSecurityGroupRules", &fs, err) < 0 || net_sg_rule_list(ctx, &all, &n, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "securityGroupRuleSet", "SecurityGroupRules");
    for (size_t i = 0; i < n; i++) {
        const net_sg_rule *r = &all[i];
        if (nids && !vm_match_any(r->id, ids))
            continue;
        bool keep = true;
        for (size_t f = 0; keep && f < fs->n; f++) {
            const char *s = strcmp(fs->v[f].name, "group-id") == 0                 ? r->group_id
                            : strcmp(fs->v[f].name, "security-group-rule-id") == 0 ? r->id
                                                                                    : NULL;
            int m = s ? vm_match_any(s, fs->v[f].values) : vm_tags_match(ctx, r->id, fs->v[f].name, fs->v[f].values, err);
            if (m < 0)
                return -1;
            keep = m;
        }
        if (keep)
            render_rule(ctx, vm_node_item(list), r);
    }
    return 0;
}
