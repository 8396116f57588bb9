/* VPCs, under CreateVpc, DescribeVpcs, DeleteVpc and Describe/ModifyVpcAttribute (whose wire edge
 * is vmmgr/services/ec2/vpcs.c), and the default VPC that `vmmgr init` makes.  A VPC is an address space; its subnets are what libvirt runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/tags.h"
#include "net_priv.h"

#define VPC_COLUMNS "id, cidr, is_default, dns_support, dns_hostnames, created_at, routed"

static void
vpc_from_row(sqlite3_stmt *st, net_vpc *v)
{
    memset(v, 0, sizeof(*v));
    snprintf(v->id, sizeof(v->id), "%s", vm_db_text(st, 0));
    net_cidr_parse(vm_db_text(st, 1), true, &v->cidr);
    v->is_default = sqlite3_column_int(st, 2);
    v->dns_support = sqlite3_column_int(st, 3);
    v->dns_hostnames = sqlite3_column_int(st, 4);
    v->created_at = sqlite3_column_int64(st, 5);
    v->routed = sqlite3_column_int(st, 6);
}

int
vpc_get(vm_ctx *ctx, const char *id, net_vpc *ret, vm_error *err)
{
    if (!vm_id_valid(id, "vpc"))
        return vm_error_set(err, VM_ERR_VPC_MALFORMED, "Invalid id: \"%s\" (expecting \"vpc-...\")", id ? id : "");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " VPC_COLUMNS " FROM vpcs WHERE id = ?", "t", id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_VPC_NOT_FOUND, "The vpc ID '%s' does not exist", id);
    vpc_from_row(st, ret);
    return 0;
}

long
net_count(vm_ctx *ctx, const char *sql, const char *id, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, sql, "t", id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_db_error(ctx->db, "counting", err);
    return sqlite3_column_int64(st, 0);
}

int
net_render_true(vm_node *resp)
{
    return vm_node_bool(resp, "return", NULL, true) ? 0 : -1;
}

const char *
net_region_domain(vm_ctx *ctx, char *buf, size_t len)
{
    snprintf(buf, len, "%s.compute.internal", ctx->region);
    return buf;
}

/* Another VPC of this store whose block overlaps c: 1 (its id in other), 0 when none. */
static int
vpc_overlapping(vm_ctx *ctx, const net_cidr *c, char other[VM_ID_MAX], vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT " VPC_COLUMNS " FROM vpcs", &st, err) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        net_vpc v;
        vpc_from_row(st, &v);
        if (net_cidr_overlap(&v.cidr, c)) {
            snprintf(other, VM_ID_MAX, "%s", v.id);
            return 1;
        }
    }
    return 0;
}

/* The default VPC is routed by the host (its internet gateway, Elastic IPs): no other VPC may
 * overlap it when it is made. */
static int
vpc_check_overlap(vm_ctx *ctx, const net_cidr *c, vm_error *err)
{
    char other[VM_ID_MAX];
    int rc = vpc_overlapping(ctx, c, other, err);
    if (rc <= 0)
        return rc;
    char a[NET_CIDR_MAX];
    net_cidr_format(c, a);
    return vm_error_set(err, VM_ERR_VPC_RANGE, "The CIDR '%s' of the default VPC overlaps %s", a, other);
}

static int
vpc_parse_cidr(const char *s, net_cidr *c, vm_error *err)
{
    if (!net_cidr_parse(s, true, c))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Value (%s) for parameter cidrBlock is invalid. "
                            "This is not a valid CIDR block.", s);
    if (c->prefix < 16 || c->prefix > 28)
        return vm_error_set(err, VM_ERR_VPC_RANGE, "The CIDR '%s' is invalid: a VPC block is /16 to /28", s);
    return 0;
}

static int
vpc_insert(vm_ctx *ctx, const char *id, const net_cidr *c, bool is_default, bool routed, const vm_tag *tags,
           size_t ntags, vm_error *err)
{
    char cidr[NET_CIDR_MAX], sg[VM_ID_MAX];
    net_cidr_format(c, cidr);
    if (vm_db_run(ctx->db, err,
                  "INSERT INTO vpcs (id, cidr, is_default, dns_support, dns_hostnames, created_at, routed) "
                  "VALUES (?, ?, ?, 1, ?3, strftime('%s','now'), ?)",
                  "ttii", id, cidr, (long long)is_default, (long long)routed) < 0)
        return -1;
    vm_id_new("sg", sg);
    return vm_tags_put(ctx, id, tags, ntags, err) < 0 ||
                   sg_insert(ctx, sg, id, "default", "default VPC security group", true, err) < 0 ||
                   net_rtb_main_create(ctx, id, err) < 0
               ? -1
               : 0;
}

int
net_vpc_create(vm_ctx *ctx, const char *cidr, const vm_tag *tags, size_t ntags, net_vpc *out, vm_error *err)
{
    net_cidr c;
    if (vpc_parse_cidr(cidr, &c, err) < 0)
        return -1;
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    char id[VM_ID_MAX];
    vm_id_new("vpc", id);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    /* a block that overlaps another VPC's, or a network of the host, gets a routing domain of its
     * own (as on EC2, VPCs may share addresses); any other is routed by the host */
    char other[VM_ID_MAX];
    int overlaps = vpc_overlapping(ctx, &c, other, err);
    bool routed = overlaps == 1 || net_host_block_taken(ctx, &c, NULL, NULL);
    if (overlaps < 0 || vpc_insert(ctx, id, &c, false, routed, tags, ntags, err) < 0 ||
        vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return vpc_get(ctx, id, out, err);
}

int
net_vpc_list(vm_ctx *ctx, net_vpc **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_free_ net_vpc *v = NULL;
    size_t n = 0, cap = 0;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " VPC_COLUMNS " FROM vpcs ORDER BY created_at, id", "") < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vm_array_grow(&v, n, &cap, sizeof(*v)) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        vpc_from_row(st, &v[n++]);
    }
    if (rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "reading VPCs", err);
    *ret = TAKE_PTR(v);
    *ret_n = n;
    return 0;
}

int
net_vpc_delete(vm_ctx *ctx, const char *id, vm_error *err)
{
    net_vpc v;
    if (vpc_get(ctx, id, &v, err) < 0)
        return -1;
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    long subnets = net_count(ctx, "SELECT count(*) FROM subnets WHERE vpc_id = ?", id, err);
    long groups = subnets < 0 ? -1
                              : net_count(ctx, "SELECT count(*) FROM security_groups WHERE vpc_id = ? AND name != 'default'",
                                          id, err);
    long gws = groups < 0 ? -1 : net_count(ctx, "SELECT count(*) FROM internet_gateways WHERE vpc_id = ?", id, err);
    long tables = gws < 0 ? -1 : net_count(ctx, "SELECT count(*) FROM route_tables WHERE vpc_id = ? AND main = 0", id, err);
    if (tables < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    if (subnets || groups || gws || tables) {
        vm_db_rollback(ctx->db);
        return vm_error_set(err, VM_ERR_DEPENDENCY_VIOLATION,
                            "The vpc '%s' has dependencies and cannot be deleted (%ld subnets, %ld security groups "
                            "besides 'default', %ld internet gateways attached, %ld route tables besides the main one)",
                            id, subnets, groups, gws, tables);
    }
    char sg[VM_ID_MAX] = "";
    /* the default group's own rules name it as their source */
    if (sg_default_of(ctx, id, sg, err) < 0 || vm_db_exec(ctx->db, "PRAGMA defer_foreign_keys = ON", err) < 0 ||
        vm_db_run(ctx->db, err, "DELETE FROM security_groups WHERE vpc_id = ?", "t", id) < 0 ||
        net_rtb_vpc_drop(ctx, id, err) < 0 || vm_db_run(ctx->db, err, "DELETE FROM vpcs WHERE id = ?", "t", id) < 0 ||
        vm_tags_drop(ctx, id, err) < 0 || vm_tags_drop(ctx, sg, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    vm_error ignore = { 0 };
    net_fw_sync(ctx, &ignore);
    if (v.routed)
        net_router_remove(ctx, id);
    return 0;
}

int
net_vpc_set_attribute(vm_ctx *ctx, const char *id, net_vpc_attr attr, bool on, vm_error *err)
{
    net_vpc v;
    if (vpc_get(ctx, id, &v, err) < 0)
        return -1;
    if (attr == NET_VPC_DNS_HOSTNAMES && on && !v.dns_support)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "enableDnsHostnames requires enableDnsSupport to be true");
    if (attr == NET_VPC_DNS_SUPPORT && !on && v.dns_hostnames)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "enableDnsSupport cannot be false while enableDnsHostnames is true");
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    if (vm_db_run(ctx->db, err,
                  attr == NET_VPC_DNS_SUPPORT ? "UPDATE vpcs SET dns_support = ? WHERE id = ?"
                                              : "UPDATE vpcs SET dns_hostnames = ? WHERE id = ?",
                  "it", (long long)on, id) < 0)
        return -1;
    /* names appear in (or leave) every subnet's DNS at once */
    return attr == NET_VPC_DNS_SUPPORT ? net_dns_sync(ctx, id, err) : 0;
}

/* Removes a default VPC made by this run whose first network could not start. */
static void
undo_default_vpc(vm_ctx *ctx, const char *vpc)
{
    vm_error ignore = { 0 };
    vm_db_exec(ctx->db, "BEGIN IMMEDIATE", &ignore);
    static const char *const undo[] = { "DELETE FROM subnets WHERE vpc_id = ?1",
                                        "DELETE FROM sg_rules WHERE group_id IN "
                                        "(SELECT id FROM security_groups WHERE vpc_id = ?1)",
                                        "DELETE FROM security_groups WHERE vpc_id = ?1",
                                        "DELETE FROM rt_associations WHERE route_table_id IN "
                                        "(SELECT id FROM route_tables WHERE vpc_id = ?1)",
                                        "DELETE FROM route_tables WHERE vpc_id = ?1",
                                        "DELETE FROM internet_gateways WHERE vpc_id = ?1", "DELETE FROM vpcs WHERE id = ?1",
                                        NULL };
    for (const char *const *u = undo; *u; u++) {
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        if (vm_db_stmt(ctx->db, &q, &ignore, *u, "t", vpc) == 0) {
            sqlite3_step(q);
        }
    }
    vm_db_commit(ctx->db, &ignore);
}

/* The default subnet of zone in vpc: made (the first free block of the zone's size, from the
 * zone's own place on) unless there is one; its network started either way. */
static int
default_subnet_ensure(vm_ctx *ctx, const char *vpc, const net_cidr *c, size_t zone, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL, *all = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT id FROM subnets WHERE vpc_id = ? AND default_for_az AND az = ?", "tt",
                   vpc, ctx->zones[zone]) < 0)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        char sid[VM_ID_MAX];
        snprintf(sid, sizeof(sid), "%s", vm_db_text(st, 0));
        return net_network_ensure(ctx, sid, err);
    }
    /* EC2 gives each zone of the default VPC a /20, in order; a smaller VPC gets sixteenths of itself */
    net_cidr sc = *c;
    sc.prefix = c->prefix + 4 > 28 ? 28 : (c->prefix < 16 ? 20 : c->prefix + 4);
    uint32_t size = 1u << (32 - sc.prefix), blocks = 1u << (sc.prefix - c->prefix);
    if (vm_db_prepare(ctx->db, "SELECT cidr FROM subnets WHERE vpc_id = ?", &all, err) < 0)
        return -1;
    bool found = false;
    for (uint32_t k = (uint32_t)zone; k < blocks && !found; k++) {
        sc.addr = c->addr + k * size;
        found = true;
        sqlite3_reset(all);
        if (vm_db_bind(all, err, "t", vpc) < 0)
            return -1;
        while (found && sqlite3_step(all) == SQLITE_ROW) {
            net_cidr o;
            found = !(net_cidr_parse(vm_db_text(all, 0), true, &o) && net_cidr_overlap(&o, &sc));
        }
    }
    if (!found)
        return 0; /* no room left in the VPC for this zone's default subnet: it has none */
    char subnet[VM_ID_MAX];
    vm_id_new("subnet", subnet);
    if (subnet_insert(ctx, subnet, vpc, &sc, ctx->zones[zone], true, err) < 0)
        return -1;
    if (net_network_ensure(ctx, subnet, err) < 0) {
        vm_error ignore = { 0 };
        _cleanup_stmt_ sqlite3_stmt *d = NULL;
        if (vm_db_stmt(ctx->db, &d, &ignore, "DELETE FROM subnets WHERE id = ?", "t", subnet) == 0) {
            sqlite3_step(d);
        }
        return -1;
    }
    return 0;
}

int
net_default_vpc_ensure(vm_ctx *ctx, const char *cidr, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id, cidr FROM vpcs WHERE is_default", &st, err) < 0)
        return -1;
    char vpc[VM_ID_MAX];
    net_cidr c;
    bool made = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(vpc, sizeof(vpc), "%s", vm_db_text(st, 0));
        if (!net_cidr_parse(vm_db_text(st, 1), true, &c))
            return vm_error_set(err, VM_ERR_INTERNAL, "the default VPC's block is not valid");
    } else {
        if (vpc_parse_cidr(cidr ? cidr : "172.31.0.0/16", &c, err) < 0 || net_host_block_check(ctx, &c, err) < 0)
            return -1;
        vm_id_new("vpc", vpc);
        if (vm_db_begin(ctx->db, err) < 0)
            return -1;
        if (vpc_check_overlap(ctx, &c, err) < 0 || vpc_insert(ctx, vpc, &c, true, false, NULL, 0, err) < 0 ||
            net_default_vpc_gateway(ctx, vpc, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
            vm_db_rollback(ctx->db);
            return -1;
        }
        made = true;
    }
    sqlite3_finalize(TAKE_PTR(st));
    for (size_t z = 0; z < ctx->nzones; z++)
        if (default_subnet_ensure(ctx, vpc, &c, z, err) < 0) {
            if (made && z == 0)
                undo_default_vpc(ctx, vpc); /* nothing half-made stays: the next init tries again */
            return -1;
        }
    return 0;
}
