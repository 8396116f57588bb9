/* Route tables: Create/Describe/DeleteRouteTable, Create/Replace/DeleteRoute, Associate/
 * DisassociateRouteTable, ReplaceRouteTableAssociation, and the main route table every VPC has
 * (made with the VPC, used by every subnet without an association of its own).
 *
 * Every table has the implicit local route (the VPC's block).  A route's target is an internet
 * gateway; a route to a gateway that is not attached to the table's VPC is a blackhole.  What the
 * routes mean on the host: a subnet's packets to a destination its table sends to an attached
 * gateway may leave through the uplink, with source NAT (net_rtb_public_routes, net/fw.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/tags.h"
#include "net_priv.h"

typedef struct rtb_obj {
    char id[VM_ID_MAX], vpc_id[VM_ID_MAX], main_assoc[VM_ID_MAX];
    bool main;
} rtb_obj;

static int
rtb_get(vm_ctx *ctx, const char *id, rtb_obj *ret, vm_error *err)
{
    if (!vm_id_valid(id, "rtb"))
        return vm_error_set(err, VM_ERR_RTB_MALFORMED, "Invalid id: \"%s\" (expecting \"rtb-...\")", id ? id : "");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id, vpc_id, main, main_assoc FROM route_tables WHERE id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_RTB_NOT_FOUND, "The routeTable ID '%s' does not exist", id);
    snprintf(ret->id, sizeof(ret->id), "%s", vm_db_text(st, 0));
    snprintf(ret->vpc_id, sizeof(ret->vpc_id), "%s", vm_db_text(st, 1));
    ret->main = sqlite3_column_int(st, 2);
    snprintf(ret->main_assoc, sizeof(ret->main_assoc), "%s", vm_db_text(st, 3));
    return 0;
}

/* Inserts a route table (inside the caller's transaction); main: the VPC's main table. */
static int
rtb_insert(vm_ctx *ctx, const char *id, const char *vpc_id, bool main, vm_error *err)
{
    char assoc[VM_ID_MAX] = "";
    if (main)
        vm_id_new("rtbassoc", assoc);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO route_tables (id, vpc_id, main, main_assoc, created_at) "
                      "VALUES (?, ?, ?, ?, strftime('%s','now'))",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, vpc_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, main);
    sqlite3_bind_text(st, 4, assoc, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording route table", err);
    return 0;
}

int
net_rtb_main_create(vm_ctx *ctx, const char *vpc_id, vm_error *err)
{
    char id[VM_ID_MAX];
    vm_id_new("rtb", id);
    return rtb_insert(ctx, id, vpc_id, true, err);
}

int
net_default_vpc_gateway(vm_ctx *ctx, const char *vpc_id, vm_error *err)
{
    char igw[VM_ID_MAX];
    vm_id_new("igw", igw);
    _cleanup_stmt_ sqlite3_stmt *g = NULL, *r = NULL;
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO internet_gateways (id, vpc_id, created_at) VALUES (?, ?, strftime('%s','now'))", &g,
                      err) < 0 ||
        vm_db_prepare(ctx->db,
                      "INSERT INTO routes (route_table_id, cidr, target) SELECT id, '0.0.0.0/0', ?1 FROM route_tables "
                      "WHERE vpc_id = ?2 AND main = 1",
                      &r, err) < 0)
        return -1;
    sqlite3_bind_text(g, 1, igw, -1, SQLITE_STATIC);
    sqlite3_bind_text(g, 2, vpc_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(r, 1, igw, -1, SQLITE_STATIC);
    sqlite3_bind_text(r, 2, vpc_id, -1, SQLITE_STATIC);
    if (sqlite3_step(g) != SQLITE_DONE || sqlite3_step(r) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording the default VPC's internet gateway", err);
    return 0;
}

int
net_rtb_vpc_drop(vm_ctx *ctx, const char *vpc_id, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *q = NULL, *d = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id FROM route_tables WHERE vpc_id = ?", &q, err) < 0 ||
        vm_db_prepare(ctx->db, "DELETE FROM route_tables WHERE vpc_id = ?", &d, err) < 0)
        return -1;
    sqlite3_bind_text(q, 1, vpc_id, -1, SQLITE_STATIC);
    while (sqlite3_step(q) == SQLITE_ROW)
        if (vm_tags_drop(ctx, vm_db_text(q, 0), err) < 0)
            return -1;
    sqlite3_bind_text(d, 1, vpc_id, -1, SQLITE_STATIC);
    return sqlite3_step(d) == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "deleting route tables", err);
}

/* The routes of a table as rows (cidr, target, state), the local route first. */
#define ROUTES_SQL                                                                                                    \
    "SELECT v.cidr, 'local', 'active', 'CreateRouteTable', '' FROM route_tables t JOIN vpcs v ON v.id = t.vpc_id "  \
    "WHERE t.id = ?1 UNION ALL SELECT r.cidr, CASE WHEN n.id IS NULL THEN r.target ELSE '' END, CASE WHEN "          \
    "g.vpc_id = t.vpc_id OR n.state = 'available' THEN 'active' ELSE 'blackhole' END, 'CreateRoute', "              \
    "coalesce(n.id, '') FROM routes r JOIN route_tables t ON t.id = r.route_table_id LEFT JOIN internet_gateways g " \
    "ON g.id = r.target LEFT JOIN nat_gateways n ON n.id = r.target WHERE r.route_table_id = ?1"

/* The associations of a table (id, subnet, main), the main one first. */
#define ASSOC_SQL                                                                                                     \
    "SELECT main_assoc, '', 1 FROM route_tables WHERE id = ?1 AND main = 1 UNION ALL SELECT id, subnet_id, 0 FROM " \
    "rt_associations WHERE route_table_id = ?1"

static void
render_assoc_state(vm_node *it)
{
    vm_node_str(vm_node_struct(it, "associationState", NULL), "state", NULL, "associated");
}

static int
render_rtb(vm_ctx *ctx, vm_node *it, const rtb_obj *t, vm_error *err)
{
    vm_node_str(it, "routeTableId", NULL, t->id);
    vm_node_str(it, "vpcId", NULL, t->vpc_id);
    vm_node_str(it, "ownerId", NULL, ctx->account_id);
    _cleanup_stmt_ sqlite3_stmt *rs = NULL, *as = NULL;
    if (vm_db_prepare(ctx->db, ROUTES_SQL, &rs, err) < 0 || vm_db_prepare(ctx->db, ASSOC_SQL, &as, err) < 0)
        return -1;
    sqlite3_bind_text(rs, 1, t->id, -1, SQLITE_STATIC);
    vm_node *routes = vm_node_list(it, "routeSet", "Routes");
    while (sqlite3_step(rs) == SQLITE_ROW) {
        vm_node *r = vm_node_item(routes);
        vm_node_str(r, "destinationCidrBlock", NULL, vm_db_text(rs, 0));
        if (*vm_db_text(rs, 4))
            vm_node_str(r, "natGatewayId", NULL, vm_db_text(rs, 4));
        else
            vm_node_str(r, "gatewayId", NULL, vm_db_text(rs, 1));
        vm_node_str(r, "state", NULL, vm_db_text(rs, 2));
        vm_node_str(r, "origin", NULL, vm_db_text(rs, 3));
    }
    sqlite3_bind_text(as, 1, t->id, -1, SQLITE_STATIC);
    vm_node *assocs = vm_node_list(it, "associationSet", "Associations");
    while (sqlite3_step(as) == SQLITE_ROW) {
        vm_node *a = vm_node_item(assocs);
        vm_node_bool(a, "main", NULL, sqlite3_column_int(as, 2));
        vm_node_str(a, "routeTableAssociationId", NULL, vm_db_text(as, 0));
        vm_node_str(a, "routeTableId", NULL, t->id);
        if (!sqlite3_column_int(as, 2))
            vm_node_str(a, "subnetId", NULL, vm_db_text(as, 1));
        render_assoc_state(a);
    }
    vm_node_list(it, "propagatingVgwSet", "PropagatingVgws");
    return vm_tags_render(ctx, it, t->id, err);
}

int
rtb_create(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *vpc = vm_params_require(p, "VpcId", err);
    net_vpc v;
    bool dry;
    vm_tag *tags = NULL;
    size_t ntags = 0;
    if (!vpc || vpc_get(ctx, vpc, &v, err) < 0 || vm_params_bool(p, "DryRun", false, &dry, err) < 0 ||
        vm_tags_from_spec(p, "route-table", &tags, &ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    if (dry)
        return vm_error_dry_run(err);
    rtb_obj t = { 0 };
    vm_id_new("rtb", t.id);
    snprintf(t.vpc_id, sizeof(t.vpc_id), "%s", vpc);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (rtb_insert(ctx, t.id, vpc, false, err) < 0 || vm_tags_put(ctx, t.id, owned, ntags, err) < 0 ||
        vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return render_rtb(ctx, vm_node_struct(resp, "routeTable", NULL), &t, err);
}

int
rtb_delete(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "RouteTableId", err);
    rtb_obj t;
    bool dry;
    if (!id || rtb_get(ctx, id, &t, err) < 0 || vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    long n = net_count(ctx, "SELECT count(*) FROM rt_associations WHERE route_table_id = ?", id, err);
    if (n < 0)
        return -1;
    if (t.main || n)
        return vm_error_set(err, VM_ERR_DEPENDENCY_VIOLATION,
                            "The routeTable '%s' has dependencies and cannot be deleted (%s)", id,
                            t.main ? "it is its VPC's main route table" : "subnets are associated with it");
    if (dry)
        return vm_error_dry_run(err);
    _cleanup_stmt_ sqlite3_stmt *d = NULL;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (vm_db_prepare(ctx->db,
                      "DELETE FROM route_tables WHERE id = ? AND main = 0 AND NOT EXISTS (SELECT 1 FROM "
                      "rt_associations WHERE route_table_id = route_tables.id)",
                      &d, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    sqlite3_bind_text(d, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(d) != SQLITE_DONE || vm_tags_drop(ctx, id, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
        if (!vm_error_is_set(err))
            vm_db_error(ctx->db, "deleting route table", err);
        vm_db_rollback(ctx->db);
        return -1;
    }
    return net_render_true(resp);
}

/* The destination of a route request: DestinationCidrBlock, an IPv4 block that the VPC's own
 * block does not contain (the local route covers it). */
static int
route_destination(const vm_params *p, const rtb_obj *t, vm_ctx *ctx, char cidr[NET_CIDR_MAX], vm_error *err)
{
    if (vm_params_get(p, "DestinationIpv6CidrBlock") || vm_params_get(p, "DestinationPrefixListId"))
        return vm_error_set(err, VM_ERR_UNSUPPORTED_OPERATION,
                            "IPv6 and prefix-list destinations are not offered by this host");
    const char *s = vm_params_require(p, "DestinationCidrBlock", err);
    net_cidr c;
    net_vpc v;
    if (!s)
        return -1;
    if (!net_cidr_parse(s, false, &c))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Value (%s) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.",
                            s);
    if (vpc_get(ctx, t->vpc_id, &v, err) < 0)
        return -1;
    if (net_cidr_contains(&v.cidr, &c)) {
        char vc[NET_CIDR_MAX];
        net_cidr_format(&v.cidr, vc);
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The destination CIDR block %s is equal to or more specific than one of this VPC's CIDR "
                            "blocks (%s). This route can target only an interface or an instance.",
                            s, vc);
    }
    net_cidr_format(&c, cidr);
    return 0;
}

/* The target of a route request: GatewayId, an internet gateway attached to the table's VPC, or
 * NatGatewayId, a NAT gateway of that VPC. */
static int
route_target(vm_ctx *ctx, const vm_params *p, const rtb_obj *t, char target[VM_ID_MAX], vm_error *err)
{
    static const char *const others[] = { "InstanceId", "NetworkInterfaceId", "VpcPeeringConnectionId",
                                          "TransitGatewayId", "EgressOnlyInternetGatewayId", "LocalGatewayId",
                                          "CarrierGatewayId", "VpcEndpointId", "CoreNetworkArn" };
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        if (vm_params_get(p, others[i]))
            return vm_error_set(err, VM_ERR_UNSUPPORTED_OPERATION,
                                "Routes to a %s are not offered by this host yet: the target can be an internet "
                                "gateway (GatewayId) or a NAT gateway (NatGatewayId)",
                                others[i]);
    const char *gw = vm_params_get(p, "GatewayId"), *nat = vm_params_get(p, "NatGatewayId");
    if (gw && nat)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION,
                            "The request must contain exactly one of gatewayId or natGatewayId");
    if (nat) {
        char vpc[VM_ID_MAX];
        bool available;
        if (natgw_get(ctx, nat, vpc, &available, err) < 0)
            return -1;
        if (strcmp(vpc, t->vpc_id) != 0 || !available)
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                                "route table %s and NAT gateway %s belong to different networks, or the gateway is "
                                "deleted",
                                t->id, nat);
        snprintf(target, VM_ID_MAX, "%s", nat);
        return 0;
    }
    if (!gw)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER,
                            "The request must contain exactly one of gatewayId, natGatewayId, networkInterfaceId, "
                            "vpcPeeringConnectionId or instanceId");
    if (!vm_id_valid(gw, "igw"))
        return vm_error_set(err, VM_ERR_GATEWAY_NOT_FOUND, "The gateway ID '%s' does not exist", gw);
    char vpc[VM_ID_MAX];
    vm_error e = { 0 };
    if (igw_get(ctx, gw, vpc, &e) < 0)
        return e.code == VM_ERR_IGW_NOT_FOUND
                   ? vm_error_set(err, VM_ERR_GATEWAY_NOT_FOUND, "The gateway ID '%s' does not exist", gw)
                   : (*err = e, -1);
    if (strcmp(vpc, t->vpc_id) != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "route table %s and network gateway %s belong to different networks", t->id, gw);
    snprintf(target, VM_ID_MAX, "%s", gw);
    return 0;
}

/* CreateRoute (replace false), ReplaceRoute (true), DeleteRoute (target NULL). */
static int
route_change(vm_ctx *ctx, const vm_params *p, bool replace, bool remove, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "RouteTableId", err);
    rtb_obj t;
    char cidr[NET_CIDR_MAX], target[VM_ID_MAX] = "";
    bool dry;
    if (!id || rtb_get(ctx, id, &t, err) < 0 || route_destination(p, &t, ctx, cidr, err) < 0 ||
        (!remove && route_target(ctx, p, &t, target, err) < 0) || vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *q = NULL, *w = NULL;
    if (vm_db_prepare(ctx->db, "SELECT 1 FROM routes WHERE route_table_id = ? AND cidr = ?", &q, err) < 0)
        goto fail;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, cidr, -1, SQLITE_STATIC);
    bool exists = sqlite3_step(q) == SQLITE_ROW;
    if (exists && !replace && !remove) {
        vm_error_set(err, VM_ERR_ROUTE_EXISTS, "The route identified by %s already exists.", cidr);
        goto fail;
    }
    if (!exists && (replace || remove)) {
        vm_error_set(err, VM_ERR_ROUTE_NOT_FOUND, "There is no route defined for '%s' in the route table %s.", cidr,
                     id);
        goto fail;
    }
    if (dry) {
        vm_db_rollback(ctx->db);
        return vm_error_dry_run(err);
    }
    if (vm_db_prepare(ctx->db,
                      remove ? "DELETE FROM routes WHERE route_table_id = ?1 AND cidr = ?2"
                             : "INSERT OR REPLACE INTO routes (route_table_id, cidr, target) VALUES (?1, ?2, ?3)",
                      &w, err) < 0)
        goto fail;
    sqlite3_bind_text(w, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(w, 2, cidr, -1, SQLITE_STATIC);
    if (!remove)
        sqlite3_bind_text(w, 3, target, -1, SQLITE_STATIC);
    if (sqlite3_step(w) != SQLITE_DONE) {
        vm_db_error(ctx->db, "recording route", err);
        goto fail;
    }
    if (vm_db_commit(ctx->db, err) < 0)
        return -1;
    vm_error ignore = { 0 };
    net_fw_sync(ctx, &ignore);
    return replace || remove ? 0 : net_render_true(resp);
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
route_create(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return route_change(ctx, p, false, false, resp, err);
}

int
route_replace(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return route_change(ctx, p, true, false, resp, err);
}

int
route_delete(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return route_change(ctx, p, false, true, resp, err);
}

int
rtb_associate(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "RouteTableId", err);
    rtb_obj t;
    net_subnet s;
    bool dry;
    if (!id || rtb_get(ctx, id, &t, err) < 0)
        return -1;
    if (vm_params_get(p, "GatewayId"))
        return vm_error_set(err, VM_ERR_UNSUPPORTED_OPERATION,
                            "Gateway route tables (edge associations) are not offered by this host");
    const char *subnet = vm_params_require(p, "SubnetId", err);
    if (!subnet || subnet_get(ctx, subnet, &s, err) < 0 || vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (strcmp(s.vpc_id, t.vpc_id) != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Route table %s and subnet %s belong to different networks", id, subnet);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *q = NULL, *w = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id, route_table_id FROM rt_associations WHERE subnet_id = ?", &q, err) < 0)
        goto fail;
    sqlite3_bind_text(q, 1, subnet, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) {
        vm_error_set(err, VM_ERR_ALREADY_ASSOCIATED,
                     "the specified association for route table %s conflicts with an existing association (%s, "
                     "route table %s)",
                     id, vm_db_text(q, 0), vm_db_text(q, 1));
        goto fail;
    }
    if (dry) {
        vm_db_rollback(ctx->db);
        return vm_error_dry_run(err);
    }
    char assoc[VM_ID_MAX];
    vm_id_new("rtbassoc", assoc);
    if (vm_db_prepare(ctx->db, "INSERT INTO rt_associations (id, route_table_id, subnet_id) VALUES (?, ?, ?)", &w,
                      err) < 0)
        goto fail;
    sqlite3_bind_text(w, 1, assoc, -1, SQLITE_STATIC);
    sqlite3_bind_text(w, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(w, 3, subnet, -1, SQLITE_STATIC);
    if (sqlite3_step(w) != SQLITE_DONE) {
        vm_db_error(ctx->db, "recording association", err);
        goto fail;
    }
    if (vm_db_commit(ctx->db, err) < 0)
        return -1;
    vm_error ignore = { 0 };
    net_fw_sync(ctx, &ignore);
    vm_node_str(resp, "associationId", NULL, assoc);
    render_assoc_state(resp);
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

/* The association AssociationId: its table, and whether it is a VPC's main association. */
static int
assoc_get(vm_ctx *ctx, const char *assoc, rtb_obj *t, bool *main, vm_error *err)
{
    if (!vm_id_valid(assoc, "rtbassoc"))
        return vm_error_set(err, VM_ERR_ASSOC_NOT_FOUND, "The association ID '%s' does not exist", assoc);
    _cleanup_stmt_ sqlite3_stmt *q = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT route_table_id, 0 FROM rt_associations WHERE id = ?1 UNION ALL SELECT id, 1 FROM "
                      "route_tables WHERE main = 1 AND main_assoc = ?1",
                      &q, err) < 0)
        return -1;
    sqlite3_bind_text(q, 1, assoc, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_ASSOC_NOT_FOUND, "The association ID '%s' does not exist", assoc);
    *main = sqlite3_column_int(q, 1);
    char tid[VM_ID_MAX];
    snprintf(tid, sizeof(tid), "%s", vm_db_text(q, 0));
    return rtb_get(ctx, tid, t, err);
}

int
rtb_disassociate(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    (void)resp;
    const char *assoc = vm_params_require(p, "AssociationId", err);
    rtb_obj t;
    bool main, dry;
    if (!assoc || assoc_get(ctx, assoc, &t, &main, err) < 0 || vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (main)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "cannot disassociate the main route table association %s", assoc);
    if (dry)
        return vm_error_dry_run(err);
    _cleanup_stmt_ sqlite3_stmt *d = NULL;
    if (vm_db_prepare(ctx->db, "DELETE FROM rt_associations WHERE id = ?", &d, err) < 0)
        return -1;
    sqlite3_bind_text(d, 1, assoc, -1, SQLITE_STATIC);
    if (sqlite3_step(d) != SQLITE_DONE)
        return vm_db_error(ctx->db, "deleting association", err);
    vm_error ignore = { 0 };
    net_fw_sync(ctx, &ignore);
    return 0;
}

int
rtb_replace_association(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *assoc = vm_params_require(p, "AssociationId", err);
    const char *id = assoc ? vm_params_require(p, "RouteTableId", err) : NULL;
    rtb_obj old, t;
    bool main, dry;
    if (!id || assoc_get(ctx, assoc, &old, &main, err) < 0 || rtb_get(ctx, id, &t, err) < 0 ||
        vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (strcmp(old.vpc_id, t.vpc_id) != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Route table %s and association %s belong to different networks", id, assoc);
    if (dry)
        return vm_error_dry_run(err);
    char fresh[VM_ID_MAX];
    vm_id_new("rtbassoc", fresh);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *a = NULL, *b = NULL;
    /* the main association moves to the other table, or a subnet's association is made anew */
    if (vm_db_prepare(ctx->db,
                      main ? "UPDATE route_tables SET main = 0, main_assoc = '' WHERE id = ?1"
                           : "UPDATE rt_associations SET id = ?3, route_table_id = ?2 WHERE id = ?4",
                      &a, err) < 0 ||
        (main && vm_db_prepare(ctx->db, "UPDATE route_tables SET main = 1, main_assoc = ?3 WHERE id = ?2", &b, err) < 0))
        goto fail;
    sqlite3_bind_text(a, 1, old.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(a, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(a, 3, fresh, -1, SQLITE_STATIC);
    sqlite3_bind_text(a, 4, assoc, -1, SQLITE_STATIC);
    if (b) {
        sqlite3_bind_text(b, 2, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(b, 3, fresh, -1, SQLITE_STATIC);
    }
    if (sqlite3_step(a) != SQLITE_DONE || (b && sqlite3_step(b) != SQLITE_DONE)) {
        vm_db_error(ctx->db, "replacing association", err);
        goto fail;
    }
    if (vm_db_commit(ctx->db, err) < 0)
        return -1;
    vm_error ignore = { 0 };
    net_fw_sync(ctx, &ignore);
    vm_node_str(resp, "newAssociationId", NULL, fresh);
    render_assoc_state(resp);
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

/* The rows of a statement joined by newlines (a filter's subject with several values). */
static const char *
lines_of(vm_ctx *ctx, const char *sql, const char *id, int col, char *buf, size_t len)
{
    buf[0] = '\0';
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    if (vm_db_prepare(ctx->db, sql, &st, &ignore) < 0)
        return buf;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "%s%s", n ? "\n" : "", vm_db_text(st, col));
    }
    return buf;
}

static const char *
rtb_subject(vm_ctx *ctx, const void *obj, const char *name, char *buf, size_t len)
{
    const rtb_obj *t = obj;
    if (strcmp(name, "route-table-id") == 0)
        return t->id;
    if (strcmp(name, "vpc-id") == 0)
        return t->vpc_id;
    if (strcmp(name, "owner-id") == 0)
        return ctx->account_id;
    if (strcmp(name, "association.main") == 0)
        return t->main ? "true" : "false";
    if (strcmp(name, "association.route-table-association-id") == 0)
        return lines_of(ctx, ASSOC_SQL, t->id, 0, buf, len);
    if (strcmp(name, "association.subnet-id") == 0)
        return lines_of(ctx, "SELECT subnet_id FROM rt_associations WHERE route_table_id = ?1", t->id, 0, buf, len);
    if (strcmp(name, "association.route-table-id") == 0)
        return lines_of(ctx, ASSOC_SQL, t->id, 0, buf, len)[0] ? t->id : "";
    if (strcmp(name, "route.destination-cidr-block") == 0)
        return lines_of(ctx, ROUTES_SQL, t->id, 0, buf, len);
    if (strcmp(name, "route.gateway-id") == 0)
        return lines_of(ctx, ROUTES_SQL, t->id, 1, buf, len);
    if (strcmp(name, "route.state") == 0)
        return lines_of(ctx, ROUTES_SQL, t->id, 2, buf, len);
    if (strcmp(name, "route.origin") == 0)
        return lines_of(ctx, ROUTES_SQL, t->id, 3, buf, len);
    if (strcmp(name, "route.nat-gateway-id") == 0)
        return lines_of(ctx, ROUTES_SQL, t->id, 4, buf, len);
    if (strcmp(name, "association.gateway-id") == 0)
        return ""; /* no gateway route tables (edge associations) */
    if (strncmp(name, "route.", 6) == 0)
        return ""; /* IPv6, prefix lists, NAT gateways, instances, peering: no route of this host has them */
    return NULL;
}

int
rtb_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t nids;
    if (vm_params_list(p, "RouteTableId", &ids, &nids, err) < 0 ||
        vm_filters_parse(p, "DescribeRouteTables", &fs, err) < 0)
        return -1;
    for (size_t i = 0; i < nids; i++) {
        rtb_obj t;
        if (rtb_get(ctx, ids[i], &t, err) < 0)
            return -1;
    }
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id FROM route_tables ORDER BY created_at, id", &st, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "routeTableSet", "RouteTables");
    while (sqlite3_step(st) == SQLITE_ROW) {
        rtb_obj t;
        if (rtb_get(ctx, vm_db_text(st, 0), &t, err) < 0)
            return -1;
        if (nids && !vm_match_any(t.id, ids))
            continue;
        int m = net_filter_pass(ctx, fs, t.id, rtb_subject, &t, err);
        if (m < 0)
            return -1;
        if (m && render_rtb(ctx, vm_node_item(list), &t, err) < 0)
            return -1;
    }
    return 0;
}

int
net_rtb_public_routes(vm_ctx *ctx, net_route_fn fn, void *opaque, vm_error *err)
{
    /* each subnet with the table it uses (its own association, else its VPC's main table) and
     * that table's routes to a gateway attached to the VPC, or to an available NAT gateway whose
     * own subnet has a route to such a gateway (then the NAT gateway's address) */
#define TABLE_OF(sub, vpc)                                                                                            \
    "coalesce((SELECT route_table_id FROM rt_associations WHERE subnet_id = " sub "), (SELECT id FROM route_tables " \
    "WHERE vpc_id = " vpc " AND main = 1))"
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT s.cidr, r.cidr, '' FROM subnets s JOIN route_tables t ON t.id = " TABLE_OF("s.id", "s.vpc_id")
                      " JOIN routes r ON r.route_table_id = t.id JOIN internet_gateways g ON g.id = r.target AND "
                      "g.vpc_id = s.vpc_id UNION ALL SELECT s.cidr, r.cidr, n.public_ip FROM subnets s JOIN "
                      "route_tables t ON t.id = " TABLE_OF("s.id", "s.vpc_id")
                      " JOIN routes r ON r.route_table_id = t.id JOIN nat_gateways n ON n.id = r.target AND "
                      "n.state = 'available' AND n.vpc_id = s.vpc_id WHERE EXISTS (SELECT 1 FROM routes r2 JOIN "
                      "internet_gateways g2 ON g2.id = r2.target AND g2.vpc_id = n.vpc_id WHERE r2.route_table_id = "
                      TABLE_OF("n.subnet_id", "n.vpc_id") ") ORDER BY 1, 2",
                      &st, err) < 0)
        return -1;
#undef TABLE_OF
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (fn(vm_db_text(st, 0), vm_db_text(st, 1), vm_db_text(st, 2), opaque) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    return rc == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "reading routes", err);
}
