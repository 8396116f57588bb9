/* NAT gateways, under Create/Describe/DeleteNatGateway (whose wire edge is
 * vmmgr/services/ec2/gateways.c).  A NAT gateway is an interface of its (public)
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

#define NATGW_SELECT                                                                                                  \
    "SELECT id, subnet_id, vpc_id, allocation_id, eni_id, private_ip, public_ip, state, client_token, created_at, " \
    "deleted_at FROM nat_gateways "

static void
natgw_from_row(sqlite3_stmt *st, net_natgw *g)
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
    if (vm_db_stmt(ctx->db, &st, err, NATGW_SELECT "WHERE id = ?", "t", id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_NATGW_NOT_FOUND, "NAT gateway %s was not found", id);
    net_natgw g;
    natgw_from_row(st, &g);
    if (vpc_id)
        snprintf(vpc_id, VM_ID_MAX, "%s", g.vpc);
    if (available)
        *available = strcmp(g.state, "available") == 0;
    return 0;
}

/* The gateway with this client token, if one was made with it: 1 and *g. */
static int
natgw_by_token(vm_ctx *ctx, const char *token, net_natgw *g, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, NATGW_SELECT "WHERE client_token = ?", "t", token) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return 0;
    natgw_from_row(st, g);
    return 1;
}

int
net_natgw_create(vm_ctx *ctx, const net_natgw_req *req, net_natgw *g, vm_error *err)
{
    const char *subnet = req->subnet_id, *alloc = req->allocation_id, *token = req->client_token;
    net_subnet s;
    if (subnet_get(ctx, subnet, &s, err) < 0)
        return -1;
    memset(g, 0, sizeof(*g));
    if (token) {
        int had = natgw_by_token(ctx, token, g, err);
        if (had < 0)
            return -1;
        if (had) {
            if (strcmp(g->subnet, subnet) != 0 || strcmp(g->alloc, alloc) != 0)
                return vm_error_set(err, VM_ERR_IDEMPOTENT_MISMATCH,
                                    "The client token %s was used for another NAT gateway request", token);
            return 1;
        }
    }
    int gws = net_vpc_igw(ctx, s.vpc_id, NULL, err);
    if (gws < 0)
        return -1;
    if (!gws)
        return vm_error_set(err, VM_ERR_GATEWAY_NOT_ATTACHED, "Network %s has no Internet gateway attached", s.vpc_id);
    _cleanup_stmt_ sqlite3_stmt *a = NULL;
    if (vm_db_stmt(ctx->db, &a, err, "SELECT public_ip, eni_id FROM addresses WHERE allocation_id = ?", "t", alloc) < 0)
        return -1;
    if (sqlite3_step(a) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_ALLOCATION_NOT_FOUND, "The allocation ID '%s' does not exist", alloc);
    if (*vm_db_text(a, 1))
        return vm_error_set(err, VM_ERR_ALREADY_ASSOCIATED, "Elastic IP address [%s] is already associated", alloc);
    snprintf(g->public_ip, sizeof(g->public_ip), "%s", vm_db_text(a, 0));
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    vm_id_new("nat", g->id);
    snprintf(g->subnet, sizeof(g->subnet), "%s", subnet);
    snprintf(g->vpc, sizeof(g->vpc), "%s", s.vpc_id);
    snprintf(g->alloc, sizeof(g->alloc), "%s", alloc);
    snprintf(g->state, sizeof(g->state), "pending");
    snprintf(g->token, sizeof(g->token), "%s", token ? token : "");
    char desc[64], assoc[VM_ID_MAX];
    snprintf(desc, sizeof(desc), "Interface for NAT Gateway %s", g->id);
    vm_id_new("eipassoc", assoc);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (net_svc_eni_record(ctx, subnet, NULL, 0, desc, "natgateway", "", g->eni, err) < 0)
        goto fail;
    eni_row e;
    if (net_eni_get(ctx, g->eni, &e, err) <= 0) {
        if (!vm_error_is_set(err))
            vm_error_set(err, VM_ERR_INTERNAL, "the NAT gateway's interface vanished");
        goto fail;
    }
    snprintf(g->private_ip, sizeof(g->private_ip), "%s", e.ip);
    g->created_at = time(NULL);
    if (vm_db_run(ctx->db, err,
                  "INSERT INTO nat_gateways (id, subnet_id, vpc_id, allocation_id, eni_id, private_ip, public_ip, "
                  "state, client_token, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'available', ?, ?)",
                  "tttttttti", g->id, subnet, s.vpc_id, alloc, g->eni, g->private_ip, g->public_ip, g->token,
                  (long long)g->created_at) < 0 ||
        vm_db_run(ctx->db, err, "UPDATE addresses SET eni_id = ?, association_id = ? WHERE allocation_id = ?", "ttt",
                  g->eni, assoc, alloc) < 0 ||
        vm_tags_put(ctx, g->id, req->tags, req->ntags, err) < 0 || vm_db_commit(ctx->db, err) < 0)
        goto fail;
    net_eip_plumb(ctx, g->public_ip, subnet, true);
    net_paths_sync(ctx);
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
net_natgw_delete(vm_ctx *ctx, const char *id, vm_error *err)
{
    if (natgw_get(ctx, id, NULL, NULL, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, NATGW_SELECT "WHERE id = ?", "t", id) < 0)
        return -1;
    net_natgw g;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_NATGW_NOT_FOUND, "NAT gateway %s was not found", id);
    natgw_from_row(st, &g);
    sqlite3_finalize(TAKE_PTR(st));
    if (strcmp(g.state, "deleted") == 0)
        return vm_error_set(err, VM_ERR_NATGW_NOT_FOUND, "NAT gateway %s was deleted", id);
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    /* the record says deleted first: a crash after it leaves an interface that the next delete of
     * this gateway, or reconcile, frees */
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (vm_db_run(ctx->db, err,
                  "UPDATE nat_gateways SET state = 'deleted', deleted_at = strftime('%s','now') WHERE id = ?", "t",
                  id) < 0 ||
        vm_db_run(ctx->db, err, "UPDATE addresses SET eni_id = '', association_id = '' WHERE eni_id = ?", "t",
                  g.eni) < 0 ||
        vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    net_eip_plumb(ctx, g.public_ip, g.subnet, false);
    if (net_svc_eni_release(ctx, g.eni, err) < 0)
        return -1;
    net_paths_sync(ctx);
    return 0;
}

int
net_natgw_list(vm_ctx *ctx, net_natgw **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_free_ net_natgw *v = NULL;
    size_t n = 0, cap = 0;
    if (vm_db_stmt(ctx->db, &st, err, NATGW_SELECT "WHERE deleted_at = 0 OR deleted_at > ? ORDER BY created_at, id",
                   "i", (long long)time(NULL) - NATGW_DELETED_KEEP_SEC) < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vm_array_grow(&v, n, &cap, sizeof(*v)) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        natgw_from_row(st, &v[n++]);
    }
    if (rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "reading NAT gateways", err);
    *ret = TAKE_PTR(v);
    *ret_n = n;
    return 0;
}
