/* NAT gateways: Create/Describe/DeleteNatGateway.  A NAT gateway is an interface of its (public)
 * subnet holding an Elastic IP; a private subnet whose route table sends a destination to it
 * leaves through the uplink as that address.  On the host: its subnet . destination pairs join the
 * firewall's out_ok with the gateway's address in map nat_snat (net/fw.c), and the address is
 * answered on the uplink like any Elastic IP (net/eip.c).  The gateway works once its records are
 * committed: CreateNatGateway answers pending, as EC2 does, and the next describe says available. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/tags.h"
#include "net_priv.h"

/* a deleted gateway stays in describe for an hour, as on EC2 */
#define NATGW_DELETED_KEEP_SEC 3600

typedef struct natgw_row {
    char id[VM_ID_MAX], subnet[VM_ID_MAX], vpc[VM_ID_MAX], alloc[VM_ID_MAX], eni[VM_ID_MAX];
    char private_ip[NET_ADDR_MAX], public_ip[NET_ADDR_MAX], state[16], token[65];
    long created_at, deleted_at;
} natgw_row;

#define NATGW_SELECT                                                                                                  \
    "SELECT id, subnet_id, vpc_id, allocation_id, eni_id, private_ip, public_ip, state, client_token, created_at, " \
    "deleted_at FROM nat_gateways "

static void
natgw_from_row(sqlite3_stmt *st, natgw_row *g)
{
    memset(g, 0, sizeof(*g));
    snprintf(g->id, sizeof(g->id), "%s", vm_db_text(st, 0));
    snprintf(g->subnet, sizeof(g->subnet), "%s", vm_db_text(st, 1));
    snprintf(g->vpc, sizeof(g->vpc), "%s", vm_db_text(st, 2));
    snprintf(g->alloc, sizeof(g->alloc), "%s", vm_db_text(st, 3));
    snprintf(g->eni, sizeof(g->eni), "%s", vm_db_text(st, 4));
    snprintf(g->private_ip, sizeof(g->private_ip), "%s", vm_db_text(st, 5));
    snprintf(g->public_ip, sizeof(g->public_ip), "%s", vm_db_text(st, 6));
    snprintf(g->state, sizeof(g->state), "%s", vm_db_text(st, 7));
    snprintf(g->token, sizeof(g->token), "%s", vm_db_text(st, 8));
    g->created_at = sqlite3_column_int64(st, 9);
    g->deleted_at = sqlite3_column_int64(st, 10);
}

int
natgw_get(vm_ctx *ctx, const char *id, char vpc_id[VM_ID_MAX], bool *available, vm_error *err)
{
    if (!vm_id_valid(id, "nat"))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Invalid id: \"%s\" (expecting \"nat-...\")",
                            id ? id : "");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, NATGW_SELECT "WHERE id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_NATGW_NOT_FOUND, "NAT gateway %s was not found", id);
    natgw_row g;
    natgw_from_row(st, &g);
    if (vpc_id)
        snprintf(vpc_id, VM_ID_MAX, "%s", g.vpc);
    if (available)
        *available = strcmp(g.state, "available") == 0;
    return 0;
}

static int
render_natgw(vm_ctx *ctx, vm_node *it, const natgw_row *g, const char *state, vm_error *err)
{
    vm_node_time(it, "createTime", NULL, g->created_at);
    if (g->deleted_at)
        vm_node_time(it, "deleteTime", NULL, g->deleted_at);
    vm_node *set = vm_node_list(it, "natGatewayAddressSet", "NatGatewayAddresses");
    vm_node *a = vm_node_item(set);
    vm_node_str(a, "allocationId", NULL, g->alloc);
    vm_node_str(a, "networkInterfaceId", NULL, g->eni);
    vm_node_str(a, "privateIp", NULL, g->private_ip);
    vm_node_str(a, "publicIp", NULL, g->public_ip);
    vm_node_str(it, "natGatewayId", NULL, g->id);
    vm_node_str(it, "state", NULL, state ? state : g->state);
    vm_node_str(it, "subnetId", NULL, g->subnet);
    vm_node_str(it, "vpcId", NULL, g->vpc);
    vm_node_str(it, "connectivityType", NULL, "public");
    return vm_tags_render(ctx, it, g->id, err);
}

/* The gateway with this client token, if one was made with it: 1 and *g. */
static int
natgw_by_token(vm_ctx *ctx, const char *token, natgw_row *g, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, NATGW_SELECT "WHERE client_token = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return 0;
    natgw_from_row(st, g);
    return 1;
}

int
natgw_create(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *subnet = vm_params_require(p, "SubnetId", err);
    const char *alloc = subnet ? vm_params_get(p, "AllocationId") : NULL;
    const char *type = vm_params_get(p, "ConnectivityType"), *token = vm_params_get(p, "ClientToken");
    const char *want_ip = vm_params_get(p, "PrivateIpAddress");
    net_subnet s;
    bool dry;
    vm_tag *tags = NULL;
    size_t ntags = 0;
    if (!subnet || subnet_get(ctx, subnet, &s, err) < 0 || vm_params_bool(p, "DryRun", false, &dry, err) < 0 ||
        vm_tags_from_spec(p, "natgateway", &tags, &ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    if (type && strcmp(type, "public") != 0)
        return vm_error_set(err, strcmp(type, "private") == 0 ? VM_ERR_UNSUPPORTED_OPERATION : VM_ERR_INVALID_PARAMETER_VALUE,
                            "ConnectivityType %s is not offered by this host: public NAT gateways only", type);
    if (want_ip)
        return vm_error_set(err, VM_ERR_UNSUPPORTED_OPERATION,
                            "Choosing a NAT gateway's private address is not offered by this host yet: the subnet's "
                            "allocator picks it");
    if (!alloc)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER,
                            "The request must contain the parameter AllocationId (a public NAT gateway has an "
                            "Elastic IP)");
    natgw_row g = { 0 };
    if (token) {
        int had = natgw_by_token(ctx, token, &g, err);
        if (had < 0)
            return -1;
        if (had) {
            if (strcmp(g.subnet, subnet) != 0 || strcmp(g.alloc, alloc) != 0)
                return vm_error_set(err, VM_ERR_IDEMPOTENT_MISMATCH,
                                    "The client token %s was used for another NAT gateway request", token);
            vm_node_str(resp, "clientToken", NULL, token);
            return render_natgw(ctx, vm_node_struct(resp, "natGateway", NULL), &g, NULL, err);
        }
    }
    long gws = net_count(ctx, "SELECT count(*) FROM internet_gateways WHERE vpc_id = ?", s.vpc_id, err);
    if (gws < 0)
        return -1;
    if (!gws)
        return vm_error_set(err, VM_ERR_GATEWAY_NOT_ATTACHED, "Network %s has no Internet gateway attached", s.vpc_id);
    _cleanup_stmt_ sqlite3_stmt *a = NULL, *ins = NULL, *set = NULL;
    if (vm_db_prepare(ctx->db, "SELECT public_ip, eni_id FROM addresses WHERE allocation_id = ?", &a, err) < 0)
        return -1;
    sqlite3_bind_text(a, 1, alloc, -1, SQLITE_STATIC);
    if (sqlite3_step(a) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_ALLOCATION_NOT_FOUND, "The allocation ID '%s' does not exist", alloc);
    if (*vm_db_text(a, 1))
        return vm_error_set(err, VM_ERR_ALREADY_ASSOCIATED, "Elastic IP address [%s] is already associated", alloc);
    snprintf(g.public_ip, sizeof(g.public_ip), "%s", vm_db_text(a, 0));
    if (dry)
        return vm_error_dry_run(err);
    vm_id_new("nat", g.id);
    snprintf(g.subnet, sizeof(g.subnet), "%s", subnet);
    snprintf(g.vpc, sizeof(g.vpc), "%s", s.vpc_id);
    snprintf(g.alloc, sizeof(g.alloc), "%s", alloc);
    snprintf(g.state, sizeof(g.state), "available");
    char desc[64], assoc[VM_ID_MAX];
    snprintf(desc, sizeof(desc), "Interface for NAT Gateway %s", g.id);
    vm_id_new("eipassoc", assoc);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (net_svc_eni_record(ctx, subnet, NULL, 0, desc, "natgateway", "", g.eni, err) < 0)
        goto fail;
    eni_row e;
    if (net_eni_get(ctx, g.eni, &e, err) <= 0) {
        if (!vm_error_is_set(err))
            vm_error_set(err, VM_ERR_INTERNAL, "the NAT gateway's interface vanished");
        goto fail;
    }
    snprintf(g.private_ip, sizeof(g.private_ip), "%s", e.ip);
    g.created_at = time(NULL);
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO nat_gateways (id, subnet_id, vpc_id, allocation_id, eni_id, private_ip, public_ip, "
                      "state, client_token, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'available', ?, ?)",
                      &ins, err) < 0 ||
        vm_db_prepare(ctx->db, "UPDATE addresses SET eni_id = ?, association_id = ? WHERE allocation_id = ?", &set,
                      err) < 0)
        goto fail;
    const char *v[] = { g.id, subnet, s.vpc_id, alloc, g.eni, g.private_ip, g.public_ip, token ? token : "" };
    for (int i = 0; i < 8; i++)
        sqlite3_bind_text(ins, i + 1, v[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 9, g.created_at);
    sqlite3_bind_text(set, 1, g.eni, -1, SQLITE_STATIC);
    sqlite3_bind_text(set, 2, assoc, -1, SQLITE_STATIC);
    sqlite3_bind_text(set, 3, alloc, -1, SQLITE_STATIC);
    if (sqlite3_step(ins) != SQLITE_DONE || sqlite3_step(set) != SQLITE_DONE) {
        vm_db_error(ctx->db, "recording NAT gateway", err);
        goto fail;
    }
    if (vm_tags_put(ctx, g.id, owned, ntags, err) < 0 || vm_db_commit(ctx->db, err) < 0)
        goto fail;
    net_eip_plumb(ctx, g.public_ip, subnet, true);
    vm_error ignore = { 0 };
    net_fw_sync(ctx, &ignore);
    if (token)
        vm_node_str(resp, "clientToken", NULL, token);
    return render_natgw(ctx, vm_node_struct(resp, "natGateway", NULL), &g, "pending", err);
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
natgw_delete(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "NatGatewayId", err);
    bool dry;
    if (!id || natgw_get(ctx, id, NULL, NULL, err) < 0 || vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, NATGW_SELECT "WHERE id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    natgw_row g;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_NATGW_NOT_FOUND, "NAT gateway %s was not found", id);
    natgw_from_row(st, &g);
    sqlite3_finalize(TAKE_PTR(st));
    if (strcmp(g.state, "deleted") == 0)
        return vm_error_set(err, VM_ERR_NATGW_NOT_FOUND, "NAT gateway %s was deleted", id);
    if (dry)
        return vm_error_dry_run(err);
    /* the record says deleted first: a crash after it leaves an interface that the next delete of
     * this gateway, or reconcile, frees */
    _cleanup_stmt_ sqlite3_stmt *u = NULL, *ad = NULL;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (vm_db_prepare(ctx->db, "UPDATE nat_gateways SET state = 'deleted', deleted_at = strftime('%s','now') WHERE id = ?",
                      &u, err) < 0 ||
        vm_db_prepare(ctx->db, "UPDATE addresses SET eni_id = '', association_id = '' WHERE eni_id = ?", &ad, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    sqlite3_bind_text(u, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(ad, 1, g.eni, -1, SQLITE_STATIC);
    if (sqlite3_step(u) != SQLITE_DONE || sqlite3_step(ad) != SQLITE_DONE || vm_db_commit(ctx->db, err) < 0) {
        if (!vm_error_is_set(err))
            vm_db_error(ctx->db, "deleting NAT gateway", err);
        vm_db_rollback(ctx->db);
        return -1;
    }
    net_eip_plumb(ctx, g.public_ip, g.subnet, false);
    if (net_svc_eni_release(ctx, g.eni, err) < 0)
        return -1;
    vm_error ignore = { 0 };
    net_fw_sync(ctx, &ignore);
    vm_node_str(resp, "natGatewayId", NULL, id);
    return 0;
}

static const char *
natgw_subject(vm_ctx *ctx, const void *obj, const char *name, char *buf, size_t len)
{
    (void)ctx, (void)buf, (void)len;
    const natgw_row *g = obj;
    if (strcmp(name, "nat-gateway-id") == 0)
        return g->id;
    if (strcmp(name, "state") == 0)
        return g->state;
    if (strcmp(name, "subnet-id") == 0)
        return g->subnet;
    if (strcmp(name, "vpc-id") == 0)
        return g->vpc;
    return NULL;
}

int
natgw_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t nids;
    if (vm_params_list(p, "NatGatewayId", &ids, &nids, err) < 0 ||
        vm_filters_parse(p, "DescribeNatGateways", &fs, err) < 0)
        return -1;
    for (size_t i = 0; i < nids; i++)
        if (natgw_get(ctx, ids[i], NULL, NULL, err) < 0)
            return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, NATGW_SELECT "WHERE deleted_at = 0 OR deleted_at > ? ORDER BY created_at, id", &st,
                      err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, (long long)time(NULL) - NATGW_DELETED_KEEP_SEC);
    vm_node *list = vm_node_list(resp, "natGatewaySet", "NatGateways");
    while (sqlite3_step(st) == SQLITE_ROW) {
        natgw_row g;
        natgw_from_row(st, &g);
        if (nids && !vm_match_any(g.id, ids))
            continue;
        int m = net_filter_pass(ctx, fs, g.id, natgw_subject, &g, err);
        if (m < 0)
            return -1;
        if (m && render_natgw(ctx, vm_node_item(list), &g, NULL, err) < 0)
            return -1;
    }
    return 0;
}
