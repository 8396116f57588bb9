/* The interfaces of a service (a load balancer) in a VPC: their records, and their plug into the
 * service's network namespace (the veth pairs themselves are svc_plumb.c's). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/lock.h"
#include "net_priv.h"

int
net_svc_eni_get(vm_ctx *ctx, const char *eni_id, net_svc_eni *ret, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, ENI_SELECT "WHERE e.id = ?", "t", eni_id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_ENI_NOT_FOUND, "The networkInterface ID '%s' does not exist", eni_id);
    eni_row e;
    eni_from_row(st, &e);
    net_cidr c;
    memset(ret, 0, sizeof(*ret));
    snprintf(ret->id, sizeof(ret->id), "%s", e.id);
    snprintf(ret->subnet, sizeof(ret->subnet), "%s", e.subnet);
    snprintf(ret->vpc, sizeof(ret->vpc), "%s", e.vpc);
    snprintf(ret->mac, sizeof(ret->mac), "%s", e.mac);
    snprintf(ret->ip, sizeof(ret->ip), "%s", e.ip);
    snprintf(ret->gw, sizeof(ret->gw), "%s", e.gw);
    ret->prefix = net_cidr_parse(vm_db_text(st, 8), true, &c) ? c.prefix : 24;
    return 0;
}

int
net_svc_eni_plug(vm_ctx *ctx, const char *eni_id, const char *netns, unsigned index, vm_error *err)
{
    net_svc_eni e;
    if (net_svc_eni_get(ctx, eni_id, &e, err) < 0)
        return -1;
    long pid = net_libvirtd_pid(ctx);
    if (!pid)
        return 0;
    int had = net_svc_netns_ensure(netns, err);
    if (had < 0)
        return -1;
    if (had && net_svc_plug_ok(pid, &e, netns, index))
        return 0;
    /* the subnet's network runs (a bridge to join), the name and the filter before the link is up */
    if (net_network_ensure(ctx, e.subnet, err) < 0 || net_dns_sync(ctx, e.vpc, err) < 0 ||
        net_fw_eni_add(ctx, e.id, err) < 0 || net_svc_plug(pid, &e, netns, index, err) < 0)
        return -1;
    /* its public address (an internet-facing load balancer's) answered on the uplink */
    char pub[NET_ADDR_MAX];
    if (net_instance_public(ctx, e.id, pub, NULL, 0, NULL, NULL))
        net_eip_plumb(ctx, pub, e.subnet, true);
    return 0;
}

int
net_svc_eni_release(vm_ctx *ctx, const char *eni_id, vm_error *err)
{
    net_svc_eni e;
    vm_error nf = { 0 };
    if (net_svc_eni_get(ctx, eni_id, &e, &nf) < 0)
        return nf.code == VM_ERR_ENI_NOT_FOUND ? 0 : vm_error_set(err, nf.code, "%s", nf.msg);
    long pid = net_libvirtd_pid(ctx);
    int fw = -1;
    /* its elements (its public address's with them), then a public address from the pool goes back */
    if (net_fw_eni_delete(ctx, e.id, &fw, err) < 0 || net_eip_release_eni(ctx, e.id, e.subnet, err) < 0) {
        if (fw >= 0)
            vm_lock_release(fw);
        return -1;
    }
    if (pid)
        net_svc_unplug(pid, e.id);
    _cleanup_stmt_ sqlite3_stmt *d = NULL;
    int rc = net_dhcp_release(ctx, e.subnet, e.ip, e.mac, err);
    if (rc == 0)
        rc = vm_db_prepare(ctx->db, "DELETE FROM network_interfaces WHERE id = ?", &d, err);
    if (rc == 0) {
        if (vm_db_bind(d, err, "t", e.id) < 0 || sqlite3_step(d) != SQLITE_DONE)
            rc = vm_db_error(ctx->db, "freeing the address", err);
    }
    if (fw >= 0)
        vm_lock_release(fw);
    if (rc < 0)
        return -1;
    return net_dns_sync(ctx, e.vpc, err);
}
