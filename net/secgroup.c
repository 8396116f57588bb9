/* Security groups, under Create/Describe/DeleteSecurityGroup, Authorize/Revoke ingress and egress
 * and DescribeSecurityGroupRules (whose wire edge is vmmgr/services/ec2/security_groups.c).  Every change is recorded first, then the nftables tables are
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
    if (vm_db_stmt(ctx->db, &st, err, "SELECT vpc_id FROM security_groups WHERE id = ?", "t", id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_GROUP_NOT_FOUND, "The security group '%s' does not exist", id);
    if (vpc_id)
        snprintf(vpc_id, VM_ID_MAX, "%s", vm_db_text(st, 0));
    return 0;
}

/* A group by name: in vpc_id, or in the default VPC when vpc_id is NULL. */
int
sg_by_name(vm_ctx *ctx, const char *name, const char *vpc_id, char id[VM_ID_MAX], vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if ((vpc_id ? vm_db_stmt(ctx->db, &st, err, "SELECT id FROM security_groups WHERE name = ? AND vpc_id = ?", "tt",
                             name, vpc_id)
                : vm_db_stmt(ctx->db, &st, err,
                             "SELECT g.id FROM security_groups g JOIN vpcs v ON v.id = g.vpc_id "
                             "WHERE g.name = ? AND v.is_default",
                             "t", name)) < 0)
        return -1;
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

static int
rule_insert(vm_ctx *ctx, const net_sg_rule *r, vm_error *err)
{
    return vm_db_run(ctx->db, err,
                     "INSERT INTO sg_rules (id, group_id, egress, protocol, from_port, to_port, cidr, source_group, "
                     "description) VALUES (?, ?, ?, ?, ?, ?, nullif(?, ''), nullif(?, ''), ?)",
                     "ttitiittt", r->id, r->group_id, (long long)r->egress, r->protocol, (long long)r->from,
                     (long long)r->to, r->cidr, r->source, r->description) < 0 ? -1 : 0;
}

int
sg_insert(vm_ctx *ctx, const char *id, const char *vpc_id, const char *name, const char *desc, bool is_default,
          vm_error *err)
{
    if (vm_db_run(ctx->db, err,
                  "INSERT INTO security_groups (id, vpc_id, name, description, created_at) "
                  "VALUES (?, ?, ?, ?, strftime('%s','now'))",
                  "tttt", id, vpc_id, name, desc) < 0)
        return -1;
    net_sg_rule out = { .egress = true, .protocol = "-1", .from = -1, .to = -1, .cidr = "0.0.0.0/0" };
    vm_id_new("sgr", out.id);
    snprintf(out.group_id, sizeof(out.group_id), "%s", id);
    if (rule_insert(ctx, &out, err) < 0)
        return -1;
    if (is_default) {
        net_sg_rule in = { .egress = false, .protocol = "-1", .from = -1, .to = -1 };
        vm_id_new("sgr", in.id);
        snprintf(in.group_id, sizeof(in.group_id), "%s", id);
        snprintf(in.source, sizeof(in.source), "%s", id);
        return rule_insert(ctx, &in, err);
    }
    return 0;
}

/* The group a request names: by id, or by name in the default VPC. */
static int
sg_resolve(vm_ctx *ctx, const char *gid, const char *name, char id[VM_ID_MAX], char vpc[VM_ID_MAX], vm_error *err)
{
    if (gid) {
        snprintf(id, VM_ID_MAX, "%s", gid);
        return sg_get(ctx, gid, vpc, err);
    }
    if (!name)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter groupId or groupName");
    return sg_by_name(ctx, name, NULL, id, err) < 0 ? -1 : sg_get(ctx, id, vpc, err);
}

typedef struct rule_list {
    net_sg_rule *v;
    size_t n, cap;
} rule_list;

static int
rules_push(rule_list *l, const net_sg_rule *r, vm_error *err)
{
    if (vm_array_grow(&l->v, l->n, &l->cap, sizeof(*l->v)) < 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    l->v[l->n++] = *r;
    return 0;
}

static int
source_cidr(const char *s, net_sg_rule *r, vm_error *err)
{
    net_cidr c;
    if (!net_cidr_parse(s, true, &c))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "CIDR block %s is malformed", s);
    net_cidr_format(&c, r->cidr);
    return 0;
}

static int
source_group(vm_ctx *ctx, const char *gid, const char *gname, const char *vpc, net_sg_rule *r, vm_error *err)
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

/* Each permission of the request as one rule of group gid. */
static int
rules_from_perms(vm_ctx *ctx, const net_sg_change *c, const char *gid, const char *vpc, rule_list *out, vm_error *err)
{
    for (size_t i = 0; i < c->nperms; i++) {
        const net_sg_perm *p = &c->perms[i];
        net_sg_rule r = { .egress = c->egress, .from = p->from, .to = p->to };
        snprintf(r.group_id, sizeof(r.group_id), "%s", gid);
        snprintf(r.protocol, sizeof(r.protocol), "%s", p->protocol);
        snprintf(r.description, sizeof(r.description), "%s", p->description ? p->description : "");
        if (p->cidr ? source_cidr(p->cidr, &r, err) < 0
                    : p->group_id || p->group_name ? source_group(ctx, p->group_id, p->group_name, vpc, &r, err) < 0
                                                   : vm_error_set(err, VM_ERR_MISSING_PARAMETER,
                                                                  "The request must name a source: CidrIp or a group") < 0)
            return -1;
        if (rules_push(out, &r, err) < 0)
            return -1;
    }
    return 0;
}

/* The id of a stored rule equal to r (same group, direction, protocol, ports, source), or "". */
static int
rule_find(vm_ctx *ctx, const net_sg_rule *r, char id[VM_ID_MAX], vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT id FROM sg_rules WHERE group_id = ? AND egress = ? AND protocol = ? AND from_port = ? "
                   "AND to_port = ? AND coalesce(cidr, '') = ? AND coalesce(source_group, '') = ?",
                   "titiitt", r->group_id, (long long)r->egress, r->protocol, (long long)r->from, (long long)r->to,
                   r->cidr, r->source) < 0)
        return -1;
    id[0] = '\0';
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(id, VM_ID_MAX, "%s", vm_db_text(st, 0));
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "reading rules", err);
}

static void
rule_describe(const net_sg_rule *r, char *buf, size_t len)
{
    char proto[8];
    snprintf(proto, sizeof(proto), "%s", strcmp(r->protocol, "-1") == 0 ? "ALL" : r->protocol);
    for (char *c = proto; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    snprintf(buf, len, "peer: %s, %s, from port: %ld, to port: %ld, ALLOW", r->cidr[0] ? r->cidr : r->source, proto,
             r->from, r->to);
}

#define RULE_SELECT                                                                                                   \
    "SELECT id, group_id, egress, protocol, from_port, to_port, coalesce(cidr, ''), coalesce(source_group, ''), "  \
    "description FROM sg_rules "

static void
rule_from_row(sqlite3_stmt *st, net_sg_rule *r)
{
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
}

static int
rule_load(vm_ctx *ctx, const char *id, net_sg_rule *r, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, RULE_SELECT "WHERE id = ?", "t", id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_PERMISSION_NOT_FOUND, "The security group rule '%s' does not exist", id);
    rule_from_row(st, r);
    return 0;
}

static int
sg_change(vm_ctx *ctx, const net_sg_change *c, bool add, net_sg_rule **ret, size_t *ret_n, vm_error *err)
{
    char gid[VM_ID_MAX], vpc[VM_ID_MAX];
    if (sg_resolve(ctx, c->group_id, c->group_name, gid, vpc, err) < 0)
        return -1;
    rule_list rules = { 0 };
    int rc = 0;
    for (size_t i = 0; !add && i < c->nrule_ids && rc == 0; i++) {
        net_sg_rule r;
        rc = rule_load(ctx, c->rule_ids[i], &r, err);
        if (rc == 0 && (strcmp(r.group_id, gid) != 0 || r.egress != c->egress))
            rc = vm_error_set(err, VM_ERR_PERMISSION_NOT_FOUND, "The security group rule '%s' is not an %s rule of %s",
                              c->rule_ids[i], c->egress ? "egress" : "ingress", gid);
        if (rc == 0)
            rc = rules_push(&rules, &r, err);
    }
    if (rc == 0)
        rc = rules_from_perms(ctx, c, gid, vpc, &rules, err);
    if (rc == 0 && !rules.n)
        rc = vm_error_set(err, VM_ERR_MISSING_PARAMETER, "The request must contain the parameter ipPermissions");
    if (rc == 0 && ctx->dry_run)
        rc = vm_error_dry_run(err);
    if (rc == 0)
        rc = vm_db_begin(ctx->db, err);
    if (rc < 0) {
        free(rules.v);
        return -1;
    }
    for (size_t i = 0; i < rules.n && rc == 0; i++) {
        net_sg_rule *r = &rules.v[i];
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
            rc = vm_db_run(ctx->db, err, "DELETE FROM sg_rules WHERE id = ?", "t", found) < 0 ? -1 : 0;
        }
    }
    if (rc == 0)
        rc = vm_db_commit(ctx->db, err);
    else
        vm_db_rollback(ctx->db);
    /* the running guests follow at once: one nft transaction */
    if (rc == 0)
        rc = net_fw_sync(ctx, err);
    if (rc == 0 && ret) {
        *ret = rules.v;
        *ret_n = rules.n;
    } else
        free(rules.v);
    return rc;
}

int
net_sg_authorize(vm_ctx *ctx, const net_sg_change *c, net_sg_rule **added, size_t *n, vm_error *err)
{
    return sg_change(ctx, c, true, added, n, err);
}

int
net_sg_revoke(vm_ctx *ctx, const net_sg_change *c, vm_error *err)
{
    return sg_change(ctx, c, false, NULL, NULL, err);
}

int
net_sg_create(vm_ctx *ctx, const char *name, const char *desc, const char *vpc_id, const vm_tag *tags, size_t ntags,
              char id[VM_ID_MAX], vm_error *err)
{
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
        if (vm_db_stmt(ctx->db, &st, err, "SELECT id FROM vpcs WHERE is_default", "") < 0)
            return -1;
        if (sqlite3_step(st) != SQLITE_ROW)
            return vm_error_set(err, VM_ERR_VPC_NOT_FOUND, "No default VPC for this user: give --vpc-id");
        snprintf(vpc, sizeof(vpc), "%s", vm_db_text(st, 0));
    }
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    char existing[VM_ID_MAX];
    vm_id_new("sg", id);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    vm_error probe = { 0 };
    if (sg_by_name(ctx, name, vpc, existing, &probe) == 0) {
        vm_db_rollback(ctx->db);
        return vm_error_set(err, VM_ERR_GROUP_DUPLICATE, "The security group '%s' already exists for VPC '%s'", name,
                            vpc);
    }
    if (sg_insert(ctx, id, vpc, name, desc, false, err) < 0 || vm_tags_put(ctx, id, tags, ntags, err) < 0 ||
        vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return net_fw_sync(ctx, err);
}

int
net_sg_delete(vm_ctx *ctx, const char *group_id, const char *group_name, vm_error *err)
{
    char gid[VM_ID_MAX], vpc[VM_ID_MAX], def[VM_ID_MAX];
    if (sg_resolve(ctx, group_id, group_name, gid, vpc, err) < 0 || sg_default_of(ctx, vpc, def, err) < 0)
        return -1;
    if (strcmp(def, gid) == 0)
        return vm_error_set(err, VM_ERR_CANNOT_DELETE, "the specified group: \"%s\" name: \"default\" cannot be deleted "
                            "by a user", gid);
    if (ctx->dry_run)
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
    if (vm_db_exec(ctx->db, "PRAGMA defer_foreign_keys = ON", err) < 0 ||
        vm_db_run(ctx->db, err, "DELETE FROM security_groups WHERE id = ?", "t", gid) < 0 ||
        vm_tags_drop(ctx, gid, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    vm_error ignore = { 0 };
    net_fw_sync(ctx, &ignore); /* its set and chains go; the next change or reconcile retries */
    return 0;
}

static int
rules_query(vm_ctx *ctx, sqlite3_stmt *st, net_sg_rule **ret, size_t *ret_n, vm_error *err)
{
    rule_list l = { 0 };
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        net_sg_rule r;
        rule_from_row(st, &r);
        if (rules_push(&l, &r, err) < 0) {
            free(l.v);
            return -1;
        }
    }
    if (rc != SQLITE_DONE) {
        free(l.v);
        return vm_db_error(ctx->db, "reading rules", err);
    }
    *ret = l.v;
    *ret_n = l.n;
    return 0;
}

int
net_sg_rules_of(vm_ctx *ctx, const char *gid, bool egress, net_sg_rule **ret, size_t *n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   RULE_SELECT "WHERE group_id = ? AND egress = ? ORDER BY protocol, from_port, to_port, rowid", "ti",
                   gid, (long long)egress) < 0)
        return -1;
    return rules_query(ctx, st, ret, n, err);
}

int
net_sg_rule_list(vm_ctx *ctx, net_sg_rule **ret, size_t *n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, RULE_SELECT "ORDER BY group_id, egress, rowid", "") < 0)
        return -1;
    return rules_query(ctx, st, ret, n, err);
}

int
net_sg_list(vm_ctx *ctx, net_sg **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_free_ net_sg *v = NULL;
    size_t n = 0, cap = 0;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT g.id, g.vpc_id, g.name, g.description, v.is_default FROM security_groups g "
                   "JOIN vpcs v ON v.id = g.vpc_id ORDER BY g.created_at, g.id",
                   "") < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vm_array_grow(&v, n, &cap, sizeof(*v)) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        net_sg *g = &v[n++];
        snprintf(g->id, sizeof(g->id), "%s", vm_db_text(st, 0));
        snprintf(g->vpc, sizeof(g->vpc), "%s", vm_db_text(st, 1));
        snprintf(g->name, sizeof(g->name), "%s", vm_db_text(st, 2));
        snprintf(g->desc, sizeof(g->desc), "%s", vm_db_text(st, 3));
        g->in_default_vpc = sqlite3_column_int(st, 4);
    }
    if (rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "reading security groups", err);
    *ret = TAKE_PTR(v);
    *ret_n = n;
    return 0;
}
