/* Internet gateways, under Create/Attach/Detach/Describe/DeleteInternetGateway (whose wire edge is
 * vmmgr/services/ec2/gateways.c).  A gateway attached to a
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
    if (vm_db_stmt(ctx->db, &st, err, "SELECT coalesce(vpc_id, '') FROM internet_gateways WHERE id = ?", "t", id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_IGW_NOT_FOUND, "The internetGateway ID '%s' does not exist", id);
    if (vpc_id)
        snprintf(vpc_id, VM_ID_MAX, "%s", vm_db_text(st, 0));
    return 0;
}

int
net_igw_create(vm_ctx *ctx, const vm_tag *tags, size_t ntags, net_igw *out, vm_error *err)
{
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    memset(out, 0, sizeof(*out));
    vm_id_new("igw", out->id);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (vm_db_run(ctx->db, err, "INSERT INTO internet_gateways (id, created_at) VALUES (?, strftime('%s','now'))", "t",
                  out->id) < 0 ||
        vm_tags_put(ctx, out->id, tags, ntags, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return 0;
}

int
net_igw_attach(vm_ctx *ctx, const char *id, const char *vpc, bool attach, vm_error *err)
{
    char cur[VM_ID_MAX];
    net_vpc v;
    if (igw_get(ctx, id, cur, err) < 0 || vpc_get(ctx, vpc, &v, err) < 0)
        return -1;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (attach) {
        char other[VM_ID_MAX] = "";
        if (net_vpc_igw(ctx, vpc, other, err) < 0)
            goto fail;
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
    if (ctx->dry_run) {
        vm_db_rollback(ctx->db);
        return vm_error_dry_run(err);
    }
    if (vm_db_run(ctx->db, err, "UPDATE internet_gateways SET vpc_id = ? WHERE id = ?", "tt", attach ? vpc : NULL,
                  id) < 0 ||
        vm_db_commit(ctx->db, err) < 0)
        goto fail;
    /* the VPC's public subnets change with it (routes to a detached gateway are blackholes) */
    vm_error ignore = { 0 };
    net_fw_sync(ctx, &ignore);
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
net_vpc_igw(vm_ctx *ctx, const char *vpc_id, char igw[VM_ID_MAX], vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT id FROM internet_gateways WHERE vpc_id = ?", "t", vpc_id) < 0)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && igw)
        snprintf(igw, VM_ID_MAX, "%s", vm_db_text(st, 0));
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "reading internet gateways", err);
}

int
net_igw_delete(vm_ctx *ctx, const char *id, vm_error *err)
{
    char vpc[VM_ID_MAX];
    if (igw_get(ctx, id, vpc, err) < 0)
        return -1;
    if (vpc[0])
        return vm_error_set(err, VM_ERR_DEPENDENCY_VIOLATION,
                            "The internetGateway '%s' has dependencies and cannot be deleted (attached to %s)", id,
                            vpc);
    if (ctx->dry_run)
        return vm_error_dry_run(err);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (vm_db_run(ctx->db, err, "DELETE FROM internet_gateways WHERE id = ? AND vpc_id IS NULL", "t", id) < 0 ||
        vm_tags_drop(ctx, id, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return 0;
}

int
net_igw_list(vm_ctx *ctx, net_igw **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    _cleanup_free_ net_igw *v = NULL;
    size_t n = 0, cap = 0;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT id, coalesce(vpc_id, '') FROM internet_gateways ORDER BY created_at, id",
                   "") < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vm_array_grow(&v, n, &cap, sizeof(*v)) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        snprintf(v[n].id, sizeof(v[n].id), "%s", vm_db_text(st, 0));
        snprintf(v[n].vpc_id, sizeof(v[n].vpc_id), "%s", vm_db_text(st, 1));
        n++;
    }
    if (rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "reading internet gateways", err);
    *ret = TAKE_PTR(v);
    *ret_n = n;
    return 0;
}
