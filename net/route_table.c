/* Route tables, under Create/Describe/DeleteRouteTable, Create/Replace/DeleteRoute, Associate/
 * DisassociateRouteTable and ReplaceRouteTableAssociation (whose wire edge is
 * vmmgr/services/ec2/route_tables.c), and the main route table every VPC has (made with the VPC,
 * used by every subnet without an association of its own).
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
    if (vm_db_stmt(ctx->db, &st, err, "SELECT id, vpc_id, main, main_assoc FROM route_tables WHERE id = ?", "t", id) < 0)
        return -1;
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
    return vm_db_run(ctx->db, err,
                     "INSERT INTO route_tables (id, vpc_id, main, main_assoc, created_at) "
                     "VALUES (?, ?, ?, ?, strftime('%s','now'))",
                     "ttit", id, vpc_id, (long long)main, assoc) < 0 ? -1 : 0;
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
    if (vm_db_run(ctx->db, err,
                  "INSERT INTO internet_gateways (id, vpc_id, created_at) VALUES (?, ?, strftime('%s','now'))", "tt", igw,
                  vpc_id) < 0 ||
        vm_db_run(ctx->db, err,
                  "INSERT INTO routes (route_table_id, cidr, target) SELECT id, '0.0.0.0/0', ?1 FROM route_tables "
                  "WHERE vpc_id = ?2 AND main = 1",
                  "tt", igw, vpc_id) < 0)
        return -1;
    return 0;
}

int
net_rtb_vpc_drop(vm_ctx *ctx, const char *vpc_id, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *q = NULL;
    if (vm_db_stmt(ctx->db, &q, err, "SELECT id FROM route_tables WHERE vpc_id = ?", "t", vpc_id) < 0)
        return -1;
    while (sqlite3_step(q) == SQLITE_ROW)
        if (vm_tags_drop(ctx, vm_db_text(q, 0), err) < 0)
            return -1;
    return vm_db_run(ctx->db, err, "DELETE FROM route_tables WHERE vpc_id = ?", "t", vpc_id) < 0 ? -1 : 0;
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

void
net_rtb_clear(net_rtb *t)
{
    free(t->routes);
    free(t->assocs);
    memset(t, 0, sizeof(*t));
}

void
net_rtb_list_free(net_rtb *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        net_rtb_clear(&v[i]);
    free(v);
}

/* The table's routes (the local one first) and associations (the main one first) into t. */
static int
rtb_load(vm_ctx *ctx, const rtb_obj *o, net_rtb *t, vm_error *err)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->id, sizeof(t->id), "%s", o->id);
    snprintf(t->vpc_id, sizeof(t->vpc_id), "%s", o->vpc_id);
    t->main = o->main;
    _cleanup_stmt_ sqlite3_stmt *rs = NULL, *as = NULL;
    if (vm_db_stmt(ctx->db, &rs, err, ROUTES_SQL, "t", o->id) < 0 || vm_db_stmt(ctx->db, &as, err, ASSOC_SQL, "t", o->id) < 0)
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(rs)) == SQLITE_ROW) {
        if (vm_array_grow(&t->routes, t->nroutes, &cap, sizeof(*t->routes)) < 0)
            goto oom;
        net_route *r = &t->routes[t->nroutes++];
        snprintf(r->cidr, sizeof(r->cidr), "%s", vm_db_text(rs, 0));
        snprintf(r->gateway, sizeof(r->gateway), "%s", vm_db_text(rs, 1));
        snprintf(r->state, sizeof(r->state), "%s", vm_db_text(rs, 2));
        snprintf(r->origin, sizeof(r->origin), "%s", vm_db_text(rs, 3));
        snprintf(r->nat, sizeof(r->nat), "%s", vm_db_text(rs, 4));
    }
    if (rc != SQLITE_DONE)
        goto db;
    cap = 0;
    while ((rc = sqlite3_step(as)) == SQLITE_ROW) {
        if (vm_array_grow(&t->assocs, t->nassocs, &cap, sizeof(*t->assocs)) < 0)
            goto oom;
        net_rtb_assoc *a = &t->assocs[t->nassocs++];
        snprintf(a->id, sizeof(a->id), "%s", vm_db_text(as, 0));
        snprintf(a->subnet, sizeof(a->subnet), "%s", vm_db_text(as, 1));
        a->main = sqlite3_column_int(as, 2);
    }
    if (rc != SQLITE_DONE)
        goto db;
    return 0;
oom:
    net_rtb_clear(t);
    return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
db:
    net_rtb_clear(t);
    return vm_db_error(ctx->db, "reading route tables", err);
}

int
net_rtb_get(vm_ctx *ctx, const char *id, net_rtb *t, vm_error *err)
{
    rtb_obj o;
    if (rtb_get(ctx, id, &o, err) < 0)
        return -1;
    return t ? rtb_load(ctx, &o, t, err) : 0;
}

int
net_rtb_list(vm_ctx *ctx, net_rtb **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT id FROM route_tables ORDER BY created_at, id", "") < 0)
        return -1;
    net_rtb *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vm_array_grow(&v, n, &cap, sizeof(*v)) < 0) {
            net_rtb_list_free(v, n);
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        }
        if (net_rtb_get(ctx, vm_db_text(st, 0), &v[n], err) < 0) {
            net_rtb_list_free(v, n);
            return -1;
        }
        n++;
    }
    if (rc != SQLITE_DONE) {
        net_rtb_list_free(v, n);
        return vm_db_error(ctx->db, "reading route tables", err);
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int
net_rtb_create(vm_ctx *ctx, const char *vpc, const vm_tag *tags, size_t ntags, net_rtb *out, vm_error *err)
{
    net_vpc v;
    if (vpc_get(ctx, vpc, &v, err) < 0)
        return -1;
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    char id[VM_ID_MAX];
    vm_id_new("rtb", id);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (rtb_insert(ctx, id, vpc, false, err) < 0 || vm_tags_put(ctx, id, tags, ntags, err) < 0 ||
        vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return net_rtb_get(ctx, id, out, err);
}

int
net_rtb_delete(vm_ctx *ctx, const char *id, vm_error *err)
{
    rtb_obj t;
    if (rtb_get(ctx, id, &t, err) < 0)
        return -1;
    long n = net_count(ctx, "SELECT count(*) FROM rt_associations WHERE route_table_id = ?", id, err);
    if (n < 0)
        return -1;
    if (t.main || n)
        return vm_error_set(err, VM_ERR_DEPENDENCY_VIOLATION,
                            "The routeTable '%s' has dependencies and cannot be deleted (%s)", id,
                            t.main ? "it is its VPC's main route table" : "subnets are associated with it");
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (vm_db_run(ctx->db, err,
                  "DELETE FROM route_tables WHERE id = ? AND main = 0 AND NOT EXISTS (SELECT 1 FROM "
                  "rt_associations WHERE route_table_id = route_tables.id)",
                  "t", id) < 0 ||
        vm_tags_drop(ctx, id, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return 0;
}

/* The destination of a route: an IPv4 block that the VPC's own block does not contain (the local
 * route covers it), normalized into cidr. */
static int
route_destination(vm_ctx *ctx, const char *s, const rtb_obj *t, char cidr[NET_CIDR_MAX], vm_error *err)
{
    net_cidr c;
    net_vpc v;
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

/* The target of a route: an internet gateway attached to the table's VPC, or a NAT gateway of
 * that VPC (exactly one of gw, nat). */
static int
route_target(vm_ctx *ctx, const char *gw, const char *nat, const rtb_obj *t, char target[VM_ID_MAX], vm_error *err)
{
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

int
net_route_change(vm_ctx *ctx, net_route_op op, const net_route_req *req, vm_error *err)
{
    const char *id = req->route_table_id;
    bool replace = op == NET_ROUTE_REPLACE, remove = op == NET_ROUTE_DELETE;
    rtb_obj t;
    char cidr[NET_CIDR_MAX], target[VM_ID_MAX] = "";
    if (rtb_get(ctx, id, &t, err) < 0 || route_destination(ctx, req->destination, &t, cidr, err) < 0 ||
        (!remove && route_target(ctx, req->gateway_id, req->nat_gateway_id, &t, target, err) < 0))
        return -1;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *q = NULL;
    if (vm_db_stmt(ctx->db, &q, err, "SELECT 1 FROM routes WHERE route_table_id = ? AND cidr = ?", "tt", id, cidr) < 0)
        goto fail;
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
    if (ctx->dry_run) {
        vm_db_rollback(ctx->db);
        return vm_error_dry_run(err);
    }
    if ((remove ? vm_db_run(ctx->db, err, "DELETE FROM routes WHERE route_table_id = ? AND cidr = ?", "tt", id, cidr)
                : vm_db_run(ctx->db, err,
                            "INSERT OR REPLACE INTO routes (route_table_id, cidr, target) VALUES (?, ?, ?)", "ttt", id,
                            cidr, target)) < 0 ||
        vm_db_commit(ctx->db, err) < 0)
        goto fail;
    net_paths_sync(ctx);
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
net_rtb_associate(vm_ctx *ctx, const char *id, const char *subnet, char assoc[VM_ID_MAX], vm_error *err)
{
    rtb_obj t;
    net_subnet s;
    if (rtb_get(ctx, id, &t, err) < 0 || subnet_get(ctx, subnet, &s, err) < 0)
        return -1;
    if (strcmp(s.vpc_id, t.vpc_id) != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Route table %s and subnet %s belong to different networks", id, subnet);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *q = NULL;
    if (vm_db_stmt(ctx->db, &q, err, "SELECT id, route_table_id FROM rt_associations WHERE subnet_id = ?", "t",
                   subnet) < 0)
        goto fail;
    if (sqlite3_step(q) == SQLITE_ROW) {
        vm_error_set(err, VM_ERR_ALREADY_ASSOCIATED,
                     "the specified association for route table %s conflicts with an existing association (%s, "
                     "route table %s)",
                     id, vm_db_text(q, 0), vm_db_text(q, 1));
        goto fail;
    }
    if (ctx->dry_run) {
        vm_db_rollback(ctx->db);
        return vm_error_dry_run(err);
    }
    vm_id_new("rtbassoc", assoc);
    if (vm_db_run(ctx->db, err, "INSERT INTO rt_associations (id, route_table_id, subnet_id) VALUES (?, ?, ?)", "ttt",
                  assoc, id, subnet) < 0 ||
        vm_db_commit(ctx->db, err) < 0)
        goto fail;
    net_paths_sync(ctx);
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
    if (vm_db_stmt(ctx->db, &q, err,
                   "SELECT route_table_id, 0 FROM rt_associations WHERE id = ?1 UNION ALL SELECT id, 1 FROM "
                   "route_tables WHERE main = 1 AND main_assoc = ?1",
                   "t", assoc) < 0)
        return -1;
    if (sqlite3_step(q) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_ASSOC_NOT_FOUND, "The association ID '%s' does not exist", assoc);
    *main = sqlite3_column_int(q, 1);
    char tid[VM_ID_MAX];
    snprintf(tid, sizeof(tid), "%s", vm_db_text(q, 0));
    return rtb_get(ctx, tid, t, err);
}

int
net_rtb_disassociate(vm_ctx *ctx, const char *assoc, vm_error *err)
{
    rtb_obj t;
    bool main;
    if (assoc_get(ctx, assoc, &t, &main, err) < 0)
        return -1;
    if (main)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "cannot disassociate the main route table association %s", assoc);
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    if (vm_db_run(ctx->db, err, "DELETE FROM rt_associations WHERE id = ?", "t", assoc) < 0)
        return -1;
    net_paths_sync(ctx);
    return 0;
}

int
net_rtb_replace_association(vm_ctx *ctx, const char *assoc, const char *id, char fresh[VM_ID_MAX], vm_error *err)
{
    rtb_obj old, t;
    bool main;
    if (assoc_get(ctx, assoc, &old, &main, err) < 0 || rtb_get(ctx, id, &t, err) < 0)
        return -1;
    if (strcmp(old.vpc_id, t.vpc_id) != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Route table %s and association %s belong to different networks", id, assoc);
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    vm_id_new("rtbassoc", fresh);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    /* the main association moves to the other table, or a subnet's association is made anew */
    if ((main ? vm_db_run(ctx->db, err, "UPDATE route_tables SET main = 0, main_assoc = '' WHERE id = ?", "t", old.id) < 0 ||
                    vm_db_run(ctx->db, err, "UPDATE route_tables SET main = 1, main_assoc = ? WHERE id = ?", "tt", fresh,
                              id) < 0
              : vm_db_run(ctx->db, err, "UPDATE rt_associations SET id = ?, route_table_id = ? WHERE id = ?", "ttt",
                          fresh, id, assoc) < 0) ||
        vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    net_paths_sync(ctx);
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
                      "SELECT s.id, r.cidr, '' FROM subnets s JOIN route_tables t ON t.id = " TABLE_OF("s.id", "s.vpc_id")
                      " JOIN routes r ON r.route_table_id = t.id JOIN internet_gateways g ON g.id = r.target AND "
                      "g.vpc_id = s.vpc_id UNION ALL SELECT s.id, r.cidr, n.public_ip FROM subnets s JOIN "
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
