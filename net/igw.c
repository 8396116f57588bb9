/* Internet gateways: Create/Attach/Detach/Describe/DeleteInternetGateway.  A gateway attached to a
 * VPC is the target of the routes that lead out of it (net/route_table.c); the packets of a subnet
 * whose route table sends a destination to an attached gateway leave through the host's uplink
 * (`vmmgr init --uplink`) with source NAT (net/fw.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/tags.h"
#include "net_priv.h"

int
igw_get(vm_ctx *ctx, const char *id, char vpc_id[VM_ID_MAX], vm_error *err)
{
    if (!vm_id_valid(id, "igw"))
        return vm_error_set(err, VM_ERR_IGW_MALFORMED, "Invalid id: \"%s\" (expecting \"igw-...\")", id ? id : "");
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT coalesce(vpc_id, '') FROM internet_gateways WHERE id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_IGW_NOT_FOUND, "The internetGateway ID '%s' does not exist", id);
    if (vpc_id)
        snprintf(vpc_id, VM_ID_MAX, "%s", vm_db_text(st, 0));
    return 0;
}

static int
render_igw(vm_ctx *ctx, vm_node *it, const char *id, const char *vpc_id, vm_error *err)
{
    vm_node_str(it, "internetGatewayId", NULL, id);
    vm_node_str(it, "ownerId", NULL, ctx->account_id);
    vm_node *set = vm_node_list(it, "attachmentSet", "Attachments");
    if (vpc_id[0]) {
        vm_node *a = vm_node_item(set);
        vm_node_str(a, "vpcId", NULL, vpc_id);
        vm_node_str(a, "state", NULL, "available");
    }
    return vm_tags_render(ctx, it, id, err);
}

int
igw_create(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    bool dry;
    vm_tag *tags = NULL;
    size_t ntags = 0;
    if (vm_params_bool(p, "DryRun", false, &dry, err) < 0 ||
        vm_tags_from_spec(p, "internet-gateway", &tags, &ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    if (dry)
        return vm_error_dry_run(err);
    char id[VM_ID_MAX];
    vm_id_new("igw", id);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (vm_db_prepare(ctx->db, "INSERT INTO internet_gateways (id, created_at) VALUES (?, strftime('%s','now'))", &st,
                      err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE || vm_tags_put(ctx, id, owned, ntags, err) < 0 ||
        vm_db_commit(ctx->db, err) < 0) {
        if (!vm_error_is_set(err))
            vm_db_error(ctx->db, "recording internet gateway", err);
        vm_db_rollback(ctx->db);
        return -1;
    }
    return render_igw(ctx, vm_node_struct(resp, "internetGateway", NULL), id, "", err);
}

/* Attach (vpc given) or detach: the gateway's VPC column, checked against what it is now. */
static int
igw_set_vpc(vm_ctx *ctx, const vm_params *p, bool attach, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "InternetGatewayId", err);
    const char *vpc = id ? vm_params_require(p, "VpcId", err) : NULL;
    char cur[VM_ID_MAX];
    net_vpc v;
    bool dry;
    if (!vpc || igw_get(ctx, id, cur, err) < 0 || vpc_get(ctx, vpc, &v, err) < 0 ||
        vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *q = NULL, *st = NULL;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (attach) {
        char other[VM_ID_MAX] = "";
        if (vm_db_prepare(ctx->db, "SELECT id FROM internet_gateways WHERE vpc_id = ? AND id != ?", &q, err) < 0)
            goto fail;
        sqlite3_bind_text(q, 1, vpc, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW)
            snprintf(other, sizeof(other), "%s", vm_db_text(q, 0));
        if (cur[0]) {
            vm_error_set(err, VM_ERR_ALREADY_ASSOCIATED, "resource %s is already attached to network %s", id, cur);
            goto fail;
        }
        if (other[0]) {
            vm_error_set(err, VM_ERR_ALREADY_ASSOCIATED,
                         "Network %s already has an internet gateway attached (%s)", vpc, other);
            goto fail;
        }
    } else if (strcmp(cur, vpc) != 0) {
        vm_error_set(err, VM_ERR_GATEWAY_NOT_ATTACHED, "resource %s is not attached to network %s", id, vpc);
        goto fail;
    }
    if (dry) {
        vm_db_rollback(ctx->db);
        return vm_error_dry_run(err);
    }
    if (vm_db_prepare(ctx->db, "UPDATE internet_gateways SET vpc_id = ? WHERE id = ?", &st, err) < 0)
        goto fail;
    if (attach)
        sqlite3_bind_text(st, 1, vpc, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        vm_db_error(ctx->db, "attaching internet gateway", err);
        goto fail;
    }
    if (vm_db_commit(ctx->db, err) < 0)
        return -1;
    /* the VPC's public subnets change with it (routes to a detached gateway are blackholes) */
    vm_error ignore = { 0 };
    net_fw_sync(ctx, &ignore);
    return net_render_true(resp);
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
net_vpc_igw(vm_ctx *ctx, const char *vpc_id, char igw[VM_ID_MAX], vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id FROM internet_gateways WHERE vpc_id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, vpc_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && igw)
        snprintf(igw, VM_ID_MAX, "%s", vm_db_text(st, 0));
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "reading internet gateways", err);
}

int
igw_attach(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return igw_set_vpc(ctx, p, true, resp, err);
}

int
igw_detach(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return igw_set_vpc(ctx, p, false, resp, err);
}

int
igw_delete(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "InternetGatewayId", err);
    char vpc[VM_ID_MAX];
    bool dry;
    if (!id || igw_get(ctx, id, vpc, err) < 0 || vm_params_bool(p, "DryRun", false, &dry, err) < 0)
        return -1;
    if (vpc[0])
        return vm_error_set(err, VM_ERR_DEPENDENCY_VIOLATION,
                            "The internetGateway '%s' has dependencies and cannot be deleted (attached to %s)", id,
                            vpc);
    if (dry)
        return vm_error_dry_run(err);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (vm_db_prepare(ctx->db, "DELETE FROM internet_gateways WHERE id = ? AND vpc_id IS NULL", &st, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE || vm_tags_drop(ctx, id, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
        if (!vm_error_is_set(err))
            vm_db_error(ctx->db, "deleting internet gateway", err);
        vm_db_rollback(ctx->db);
        return -1;
    }
    return net_render_true(resp);
}

typedef struct igw_obj {
    const char *id, *vpc_id;
} igw_obj;

static const char *
igw_subject(vm_ctx *ctx, const void *obj, const char *name, char *buf, size_t len)
{
    (void)buf, (void)len;
    const igw_obj *g = obj;
    if (strcmp(name, "internet-gateway-id") == 0)
        return g->id;
    if (strcmp(name, "owner-id") == 0)
        return ctx->account_id;
    if (strcmp(name, "attachment.vpc-id") == 0)
        return g->vpc_id;
    if (strcmp(name, "attachment.state") == 0)
        return g->vpc_id[0] ? "available" : "";
    return NULL;
}

int
igw_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t nids;
    if (vm_params_list(p, "InternetGatewayId", &ids, &nids, err) < 0 ||
        vm_filters_parse(p, "DescribeInternetGateways", &fs, err) < 0)
        return -1;
    for (size_t i = 0; i < nids; i++)
        if (igw_get(ctx, ids[i], NULL, err) < 0)
            return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id, coalesce(vpc_id, '') FROM internet_gateways ORDER BY created_at, id", &st,
                      err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "internetGatewaySet", "InternetGateways");
    while (sqlite3_step(st) == SQLITE_ROW) {
        igw_obj g = { vm_db_text(st, 0), vm_db_text(st, 1) };
        if (nids && !vm_match_any(g.id, ids))
            continue;
        int m = net_filter_pass(ctx, fs, g.id, igw_subject, &g, err);
        if (m < 0)
            return -1;
        if (m && render_igw(ctx, vm_node_item(list), g.id, g.vpc_id, err) < 0)
            return -1;
    }
    return 0;
}
