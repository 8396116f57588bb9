/* Security groups: Create/Describe/DeleteSecurityGroup, Authorize/Revoke ingress and egress,
 * DescribeSecurityGroupRules.  Every change is recorded first, then the nftables tables are
 * rebuilt from the store in one transaction (net/fw.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/tags.h"
#include "net_priv.h"

int
sg_get(vm_ctx *ctx, const char *id, char vpc_id[VM_ID_MAX], vm_error *err)
{
    if (!vm_id_valid(id, "sg"))
        return vm_error_set(err, VM_ERR_GROUP_MALFORMED, "Invalid id: \"%s\" (expecting \"sg-...\")", id ? id : "");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT vpc_id FROM security_groups WHERE id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_GROUP_NOT_FOUND, "The security group '%s' does not exist", id);
    if (vpc_id)
        snprintf(vpc_id, VM_ID_MAX, "%s", vm_db_text(st, 0));
    return 0;
}

/* A group by name: in vpc_id, or in the default VPC when vpc_id is NULL. */
static int
sg_by_name(vm_ctx *ctx, const char *name, const char *vpc_id, char id[VM_ID_MAX], vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      vpc_id ? "SELECT id FROM security_groups WHERE name = ?1 AND vpc_id = ?2"
                             : "SELECT g.id FROM security_groups g JOIN vpcs v ON v.id = g.vpc_id "
                               "WHERE g.name = ?1 AND v.is_default",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (vpc_id)
        sqlite3_bind_text(st, 2, vpc_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_GROUP_NOT_FOUND, "The security group '%s' does not exist in %s", name,
                            vpc_id ? vpc_id : "the default VPC");
    snprintf(id, VM_ID_MAX, "%s", vm_db_text(st, 0));
    return 0;
}

int
sg_default_of(vm_ctx *ctx, const char *vpc_id, char id[VM_ID_MAX], vm_error *err)
{
    return sg_by_name(ctx, "default", vpc_id, id, err);
}

/* One rule as stored.  protocol is "tcp", "udp", "icmp" or "-1"; ports -1 when they do not apply. */
typedef struct sg_rule {
    char id[VM_ID_MAX];
    char group_id[VM_ID_MAX];
    bool egress;
    char protocol[8];
    long from, to;
    char cidr[NET_CIDR_MAX];     /* "" when the source is a group */
    char source[VM_ID_MAX];      /* "" when the source is a CIDR */
    char description[256];
} sg_rule;

static int
rule_insert(vm_ctx *ctx, const sg_rule *r, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO sg_rules (id, group_id, egress, protocol, from_port, to_port, cidr, source_group, "
                      "description) VALUES (?, ?, ?, ?, ?, ?, nullif(?, ''), nullif(?, ''), ?)",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->group_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, r->egress);
    sqlite3_bind_text(st, 4, r->protocol, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, r->from);
    sqlite3_bind_int64(st, 6, r->to);
    sqlite3_bind_text(st, 7, r->cidr, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, r->source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, r->description, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording security group rule", err);
    return 0;
}

int
sg_insert(vm_ctx *ctx, const char *id, const char *vpc_id, const char *name, const char *desc, bool is_default,
          vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO security_groups (id, vpc_id, name, description, created_at) "
                      "VALUES (?, ?, ?, ?, strftime('%s','now'))",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, vpc_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, desc, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording security group", err);
    sg_rule out = { .egress = true, .protocol = "-1", .from = -1, .to = -1, .cidr = "0.0.0.0/0" };
    vm_id_new("sgr", out.id);
    snprintf(out.group_id, sizeof(out.group_id), "%s", id);
    if (rule_insert(ctx, &out, err) < 0)
        return -1;
    if (is_default) {
        sg_rule in = { .egress = false, .protocol = "-1", .from = -1, .to = -1 };
        vm_id_new("sgr", in.id);
        snprintf(in.group_id, sizeof(in.group_id), "%s", id);
        snprintf(in.source, sizeof(in.source), "%s", id);
        return rule_insert(ctx, &in, err);
    }
    return 0;
}

/* The group a request names: GroupId, or GroupName in the default VPC. */
static int
sg_from_request(vm_ctx *ctx, const vm_params *p, char id[VM_ID_MAX], char vpc[VM_ID_MAX], vm_error *err)
{
    const char *gid = vm_params_get(p, "GroupId"), *name = vm_params_get(p, "GroupName");
    if (gid) {
        snprintf(id, VM_ID_MAX, "%s", gid);
        return sg_get(ctx, gid, vpc, err);
    }
    if (!name)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter groupId or groupName");
    return sg_by_name(ctx, name, NULL, id, err) < 0 ? -1 : sg_get(ctx, id, vpc, err);
}

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

/* Reads one permission (its protocol and ports) from keys under prefix ("IpPermissions.1." or ""). */
static int
perm_parse(const vm_params *p, const char *prefix, sg_rule *r, vm_error *err)
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

typedef struct rule_list {
    sg_rule *v;
    size_t n;
} rule_list;

static int
rules_push(rule_list *l, const sg_rule *r, vm_error *err)
{
    sg_rule *v = realloc(l->v, (l->n + 1) * sizeof(*v));
    if (!v)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    l->v = v;
    l->v[l->n++] = *r;
    return 0;
}

static int
source_cidr(const char *s, sg_rule *r, vm_error *err)
{
    net_cidr c;
    if (!net_cidr_parse(s, true, &c))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "CIDR block %s is malformed", s);
    net_cidr_format(&c, r->cidr);
    return 0;
}

static int
source_group(vm_ctx *ctx, const char *gid, const char *gname, const char *vpc, sg_rule *r, vm_error *err)
{
    char other[VM_ID_MAX];
    if (gid) {
        if (sg_get(ctx, gid, other, err) < 0)
            return -1;
        if (strcmp(other, vpc) != 0)
            return vm_error_set(err, VM_ERR_GROUP_NOT_FOUND,
                                "The security group '%s' is in another VPC (%s) and cannot be a source here", gid,
                                other);
        snprintf(r->source, sizeof(r->source), "%s", gid);
        return 0;
    }
    if (strncmp(gname, "sg-", 3) == 0)
        return source_group(ctx, gname, NULL, vpc, r, err);
    return sg_by_name(ctx, gname, vpc, r->source, err);
}

/* Every (permission, source) pair of the request as one rule of group gid. */
static int
rules_from_request(vm_ctx *ctx, const vm_params *p, const char *gid, const char *vpc, bool egress, rule_list *out,
                   vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, "IpPermissions", &idx, &n, err) < 0)
        return -1;
    sg_rule base = { .egress = egress };
    snprintf(base.group_id, sizeof(base.group_id), "%s", gid);
    if (n == 0) {
        /* the older flat form: IpProtocol, FromPort, ToPort, CidrIp or SourceSecurityGroupName */
        const char *cidr = vm_params_get(p, "CidrIp"), *src = vm_params_get(p, "SourceSecurityGroupName");
        if (!cidr && !src && !vm_params_get(p, "IpProtocol"))
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter ipPermissions");
        sg_rule r = base;
        if (src && !vm_params_get(p, "IpProtocol")) {
            snprintf(r.protocol, sizeof(r.protocol), "-1");
            r.from = r.to = -1;
        } else if (perm_parse(p, "", &r, err) < 0)
            return -1;
        if (cidr ? source_cidr(cidr, &r, err) < 0 : src ? source_group(ctx, NULL, src, vpc, &r, err) < 0 : 0)
            return -1;
        if (!cidr && !src)
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must name a source: CidrIp or a group");
        return rules_push(out, &r, err);
    }
    for (size_t i = 0; i < n; i++) {
        char prefix[48];
        snprintf(prefix, sizeof(prefix), "IpPermissions.%d.", idx[i]);
        sg_rule r = base;
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
            sg_rule x = r;
            const char *c = vm_params_getf(p, "IpPermissions.%d.IpRanges.%d.CidrIp", idx[i], ri[j]);
            const char *d = vm_params_getf(p, "IpPermissions.%d.IpRanges.%d.Description", idx[i], ri[j]);
            if (!c)
                return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "IpRanges.%d needs CidrIp", ri[j]);
            snprintf(x.description, sizeof(x.description), "%s", d ? d : "");
            if (source_cidr(c, &x, err) < 0 || rules_push(out, &x, err) < 0)
                return -1;
        }
        snprintf(sub, sizeof(sub), "IpPermissions.%d.Groups", idx[i]);
        if (vm_params_indexes(p, sub, &gi, &ng, err) < 0)
            return -1;
        for (size_t j = 0; j < ng; j++) {
            sg_rule x = r;
            const char *g = vm_params_getf(p, "IpPermissions.%d.Groups.%d.GroupId", idx[i], gi[j]);
            const char *gn = vm_params_getf(p, "IpPermissions.%d.Groups.%d.GroupName", idx[i], gi[j]);
            const char *d = vm_params_getf(p, "IpPermissions.%d.Groups.%d.Description", idx[i], gi[j]);
            if (!g && !gn)
                return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "Groups.%d needs GroupId or GroupName", gi[j]);
            snprintf(x.description, sizeof(x.description), "%s", d ? d : "");
            if (source_group(ctx, g, gn, vpc, &x, err) < 0 || rules_push(out, &x, err) < 0)
                return -1;
        }
        if (out->n == before)
            return vm_error_set(err, VM_ERR_MISSING_PARAMETER,
                                "IpPermissions.%d names no source (IpRanges or Groups)", idx[i]);
    }
    return 0;
}

/* The id of a stored rule equal to r (same group, direction, protocol, ports, source), or "". */
static int
rule_find(vm_ctx *ctx, const sg_rule *r, char id[VM_ID_MAX], vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT id FROM sg_rules WHERE group_id = ? AND egress = ? AND protocol = ? AND from_port = ? "
                      "AND to_port = ? AND coalesce(cidr, '') = ? AND coalesce(source_group, '') = ?",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, r->group_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, r->egress);
    sqlite3_bind_text(st, 3, r->protocol, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, r->from);
    sqlite3_bind_int64(st, 5, r->to);
    sqlite3_bind_text(st, 6, r->cidr, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->source, -1, SQLITE_STATIC);
    id[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(id, VM_ID_MAX, "%s", vm_db_text(st, 0));
    return 0;
}

static void
rule_describe(const sg_rule *r, char *buf, size_t len)
{
    char proto[8];
    snprintf(proto, sizeof(proto), "%s", strcmp(r->protocol, "-1") == 0 ? "ALL" : r->protocol);
    for (char *c = proto; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    snprintf(buf, len, "peer: %s, %s, from port: %ld, to port: %ld, ALLOW", r->cidr[0] ? r->cidr : r->source, proto,
             r->from, r->to);
}

static void
render_rule(vm_ctx *ctx, vm_node *it, const sg_rule *r)
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

static int sg_change(vm_ctx *ctx, const vm_params *p, vm_node *resp, bool egress, bool add, vm_error *err);

int
sg_authorize_ingress(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return sg_change(ctx, p, resp, false, true, err);
}
int
sg_authorize_egress(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return sg_change(ctx, p, resp, true, true, err);
}
int
sg_revoke_ingress(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return sg_change(ctx, p, resp, false, false, err);
}
int
sg_revoke_egress(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return sg_change(ctx, p, resp, true, false, err);
}

static int
rule_load(vm_ctx *ctx, const char *id, sg_rule *r, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT id, group_id, egress, protocol, from_port, to_port, coalesce(cidr, ''), "
                      "coalesce(source_group, ''), description FROM sg_rules WHERE id = ?",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_PERMISSION_NOT_FOUND, "The security group rule '%s' does not exist", id);
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", vm_db_text(st, 0));
    snprintf(r->group_id, sizeof(r->group_id), "%s", vm_db_text(st, 1));
    r->egress = sqlite3_column_int(st, 2);
    snprintf(r->protocol, sizeof(r->protocol), "%s", vm_db_text(st, 3));
    r->from = sqlite3_column_int64(st, 4);
    r->to = sqlite3_column_int64(st, 5);
    snprintf(r->cidr, sizeof(r->cidr), "%s", vm_db_text(st, 6));
    snprintf(r->source, sizeof(r->source), "%s", vm_db_text(st, 7));
    snprintf(r->description, sizeof(r->description), "%s", vm_db_text(st, 8));
    return 0;
}

static int
sg_change(vm_ctx *ctx, const vm_params *p, vm_node *resp, bool egress, bool add, vm_error *err)
{
    char gid[VM_ID_MAX], vpc[VM_ID_MAX];
    bool dry;
    if (sg_from_request(ctx, p, gid, vpc, err) < 0 || vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    rule_list rules = { 0 };
    _cleanup_free_ const char **rids = NULL;
    size_t nrids = 0;
    if (!add && vm_params_list(p, "SecurityGroupRuleId", &rids, &nrids, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < nrids && rc == 0; i++) {
        sg_rule r;
        rc = rule_load(ctx, rids[i], &r, err);
        if (rc == 0 && (strcmp(r.group_id, gid) != 0 || r.egress != egress))
            rc = vm_error_set(err, VM_ERR_PERMISSION_NOT_FOUND, "The security group rule '%s' is not an %s rule of %s",
                              rids[i], egress ? "egress" : "ingress", gid);
        if (rc == 0)
            rc = rules_push(&rules, &r, err);
    }
    if (rc == 0 && (!nrids || vm_params_get(p, "IpPermissions.1.IpProtocol")))
        rc = rules_from_request(ctx, p, gid, vpc, egress, &rules, err);
    if (rc == 0 && dry)
        rc = vm_error_dry_run(err);
    if (rc == 0)
        rc = vm_db_begin(ctx->db, err);
    if (rc < 0) {
        free(rules.v);
        return -1;
    }
    for (size_t i = 0; i < rules.n && rc == 0; i++) {
        sg_rule *r = &rules.v[i];
        char found[VM_ID_MAX], what[160];
        rc = rule_find(ctx, r, found, err);
        rule_describe(r, what, sizeof(what));
        for (size_t j = 0; rc == 0 && add && j < i; j++)
            if (strcmp(rules.v[j].cidr, r->cidr) == 0 && strcmp(rules.v[j].source, r->source) == 0 &&
                strcmp(rules.v[j].protocol, r->protocol) == 0 && rules.v[j].from == r->from && rules.v[j].to == r->to)
                rc = vm_error_set(err, VM_ERR_PERMISSION_DUPLICATE, "the specified rule \"%s\" is given twice", what);
        if (rc < 0)
            break;
        if (add && found[0])
            rc = vm_error_set(err, VM_ERR_PERMISSION_DUPLICATE, "the specified rule \"%s\" already exists", what);
        else if (!add && !found[0])
            rc = vm_error_set(err, VM_ERR_PERMISSION_NOT_FOUND,
                              "The specified rule does not exist in this security group: \"%s\"", what);
        else if (add) {
            vm_id_new("sgr", r->id);
            rc = rule_insert(ctx, r, err);
        } else {
            snprintf(r->id, sizeof(r->id), "%s", found);
            _cleanup_stmt_ sqlite3_stmt *d = NULL;
            rc = vm_db_prepare(ctx->db, "DELETE FROM sg_rules WHERE id = ?", &d, err);
            if (rc == 0) {
                sqlite3_bind_text(d, 1, found, -1, SQLITE_STATIC);
                if (sqlite3_step(d) != SQLITE_DONE)
                    rc = vm_db_error(ctx->db, "deleting rule", err);
            }
        }
    }
    if (rc == 0)
        rc = vm_db_commit(ctx->db, err);
    else
        vm_db_rollback(ctx->db);
    /* the running guests follow at once: one nft transaction */
    if (rc == 0)
        rc = net_fw_sync(ctx, err);
    if (rc == 0) {
        vm_node_bool(resp, "return", NULL, true);
        if (add) {
            vm_node *set = vm_node_list(resp, "securityGroupRuleSet", "SecurityGroupRules");
            for (size_t i = 0; i < rules.n; i++)
                render_rule(ctx, vm_node_item(set), &rules.v[i]);
        }
    }
    free(rules.v);
    return rc;
}

int
sg_create(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *name = vm_params_require(p, "GroupName", err);
    const char *desc = name ? vm_params_require(p, "GroupDescription", err) : NULL;
    const char *vpc_id = vm_params_get(p, "VpcId");
    bool dry;
    vm_tag *tags = NULL;
    size_t ntags = 0;
    if (!desc || vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (strlen(name) > 255 || strlen(desc) > 255)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Group name and description are up to 255 characters");
    if (strncmp(name, "sg-", 3) == 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Group names may not be in the format sg-*");
    if (strcmp(name, "default") == 0)
        return vm_error_set(err, VM_ERR_GROUP_RESERVED, "The security group 'default' is reserved");
    char vpc[VM_ID_MAX];
    if (vpc_id) {
        net_vpc v;
        if (vpc_get(ctx, vpc_id, &v, err) < 0)
            return -1;
        snprintf(vpc, sizeof(vpc), "%s", v.id);
    } else {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (vm_db_prepare(ctx->db, "SELECT id FROM vpcs WHERE is_default", &st, err) < 0)
            return -1;
        if (sqlite3_step(st) != SQLITE_ROW)
            return vm_error_set(err, VM_ERR_VPC_NOT_FOUND, "No default VPC for this user: give --vpc-id");
        snprintf(vpc, sizeof(vpc), "%s", vm_db_text(st, 0));
    }
    if (vm_tags_from_spec(p, "security-group", &tags, &ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    if (dry)
        return vm_error_dry_run(err);
    char id[VM_ID_MAX], existing[VM_ID_MAX];
    vm_id_new("sg", id);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    vm_error probe = { 0 };
    if (sg_by_name(ctx, name, vpc, existing, &probe) == 0) {
        vm_db_rollback(ctx->db);
        return vm_error_set(err, VM_ERR_GROUP_DUPLICATE, "The security group '%s' already exists for VPC '%s'", name,
                            vpc);
    }
    if (sg_insert(ctx, id, vpc, name, desc, false, err) < 0 || vm_tags_put(ctx, id, owned, ntags, err) < 0 ||
        vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    if (net_fw_sync(ctx, err) < 0)
        return -1;
    vm_node_str(resp, "groupId", NULL, id);
    return vm_tags_render(ctx, resp, id, err);
}

int
sg_delete(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    char gid[VM_ID_MAX], vpc[VM_ID_MAX], def[VM_ID_MAX];
    bool dry;
    if (sg_from_request(ctx, p, gid, vpc, err) < 0 || vm_params_bool(p, "DryRun", false, &dry, err) < 0 ||
        sg_default_of(ctx, vpc, def, err) < 0)
        return -1;
    if (strcmp(def, gid) == 0)
        return vm_error_set(err, VM_ERR_CANNOT_DELETE, "the specified group: \"%s\" name: \"default\" cannot be deleted "
                            "by a user", gid);
    if (dry)
        return vm_error_dry_run(err);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    long users = net_count(ctx, "SELECT count(*) FROM eni_groups WHERE group_id = ?", gid, err);
    long refs = users < 0 ? -1
                          : net_count(ctx, "SELECT count(*) FROM sg_rules WHERE source_group = ?1 AND group_id != ?1",
                                      gid, err);
    if (refs != 0 || users != 0) {
        vm_db_rollback(ctx->db);
        return refs < 0 ? -1
                        : vm_error_set(err, VM_ERR_DEPENDENCY_VIOLATION,
                                       "resource %s has a dependent object (%ld network interfaces, %ld rules of "
                                       "other groups)",
                                       gid, users, refs);
    }
    _cleanup_stmt_ sqlite3_stmt *d = NULL;
    if (vm_db_prepare(ctx->db, "DELETE FROM security_groups WHERE id = ?", &d, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    sqlite3_bind_text(d, 1, gid, -1, SQLITE_STATIC);
    if (vm_db_exec(ctx->db, "PRAGMA defer_foreign_keys = ON", err) < 0 || sqlite3_step(d) != SQLITE_DONE ||
        vm_tags_drop(ctx, gid, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
        if (!vm_error_is_set(err))
            vm_db_error(ctx->db, "deleting security group", err);
        vm_db_rollback(ctx->db);
        return -1;
    }
    vm_error ignore = { 0 };
    net_fw_sync(ctx, &ignore); /* its set and chains go; the next change or reconcile retries */
    return net_render_true(resp);
}

/* IpPermissions of a group: rules with the same protocol and ports share one entry. */
static int
render_permissions(vm_ctx *ctx, vm_node *list, const char *gid, bool egress, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT protocol, from_port, to_port, coalesce(cidr, ''), coalesce(source_group, ''), description "
                      "FROM sg_rules WHERE group_id = ? AND egress = ? ORDER BY protocol, from_port, to_port, rowid",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, gid, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, egress);
    char proto[8] = "";
    long from = -2, to = -2;
    vm_node *ranges = NULL, *groups = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *p = vm_db_text(st, 0);
        long f = sqlite3_column_int64(st, 1), t = sqlite3_column_int64(st, 2);
        if (strcmp(p, proto) != 0 || f != from || t != to) {
            snprintf(proto, sizeof(proto), "%s", p);
            from = f;
            to = t;
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
        const char *desc = vm_db_text(st, 5);
        if (*vm_db_text(st, 3)) {
            vm_node *r = vm_node_item(ranges);
            vm_node_str(r, "cidrIp", NULL, vm_db_text(st, 3));
            if (*desc)
                vm_node_str(r, "description", NULL, desc);
        } else {
            vm_node *g = vm_node_item(groups);
            vm_node_str(g, "groupId", NULL, vm_db_text(st, 4));
            vm_node_str(g, "userId", NULL, ctx->account_id);
            if (*desc)
                vm_node_str(g, "description", NULL, desc);
        }
    }
    return 0;
}

typedef struct sg_row {
    char id[VM_ID_MAX], vpc[VM_ID_MAX];
    char name[256], desc[256];
} sg_row;

static const char *
sg_subject(vm_ctx *ctx, const void *obj, const char *name, char *buf, size_t len)
{
    const sg_row *g = obj;
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
sg_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL, **gnames = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t nids, nnames;
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
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT g.id, g.vpc_id, g.name, g.description, v.is_default FROM security_groups g "
                      "JOIN vpcs v ON v.id = g.vpc_id ORDER BY g.created_at, g.id",
                      &st, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "securityGroupInfo", "SecurityGroups");
    while (sqlite3_step(st) == SQLITE_ROW) {
        sg_row g;
        snprintf(g.id, sizeof(g.id), "%s", vm_db_text(st, 0));
        snprintf(g.vpc, sizeof(g.vpc), "%s", vm_db_text(st, 1));
        snprintf(g.name, sizeof(g.name), "%s", vm_db_text(st, 2));
        snprintf(g.desc, sizeof(g.desc), "%s", vm_db_text(st, 3));
        if (nids && !vm_match_any(g.id, ids))
            continue;
        if (nnames && (!sqlite3_column_int(st, 4) || !vm_match_any(g.name, gnames)))
            continue;
        int m = net_filter_pass(ctx, fs, g.id, sg_subject, &g, err);
        if (m < 0)
            return -1;
        if (!m)
            continue;
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "ownerId", NULL, ctx->account_id);
        vm_node_str(it, "groupId", NULL, g.id);
        vm_node_str(it, "groupName", NULL, g.name);
        vm_node_str(it, "groupDescription", "Description", g.desc);
        vm_node_str(it, "vpcId", NULL, g.vpc);
        if (render_permissions(ctx, vm_node_list(it, "ipPermissions", NULL), g.id, false, err) < 0 ||
            render_permissions(ctx, vm_node_list(it, "ipPermissionsEgress", NULL), g.id, true, err) < 0 ||
            vm_tags_render(ctx, it, g.id, err) < 0)
            return -1;
    }
    return 0;
}

int
sg_describe_rules(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t nids;
    if (vm_params_list(p, "SecurityGroupRuleId", &ids, &nids, err) < 0 ||
        vm_filters_parse(p, "DescribeSecurityGroupRules", &fs, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id FROM sg_rules ORDER BY group_id, egress, rowid", &st, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "securityGroupRuleSet", "SecurityGroupRules");
    while (sqlite3_step(st) == SQLITE_ROW) {
        sg_rule r;
        if (rule_load(ctx, vm_db_text(st, 0), &r, err) < 0)
            return -1;
        if (nids && !vm_match_any(r.id, ids))
            continue;
        bool keep = true;
        for (size_t f = 0; keep && f < fs->n; f++) {
            const char *s = strcmp(fs->v[f].name, "group-id") == 0                 ? r.group_id
                            : strcmp(fs->v[f].name, "security-group-rule-id") == 0 ? r.id
                                                                                    : NULL;
            int m = s ? vm_match_any(s, fs->v[f].values) : vm_tags_match(ctx, r.id, fs->v[f].name, fs->v[f].values, err);
            if (m < 0)
                return -1;
            keep = m;
        }
        if (keep)
            render_rule(ctx, vm_node_item(list), &r);
    }
    return 0;
}
