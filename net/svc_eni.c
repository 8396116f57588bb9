/* The interfaces of a service (a load balancer) in a VPC: a network namespace of the service's
 * own, joined to each subnet's bridge by a veth pair.  The bridge end is named like an instance's
 * tap (net_tap_name), so the firewall treats it as one: anti-spoofing on its MAC and address, its
 * security groups on what enters and leaves it.  The namespace end carries the interface's MAC
 * and address; the service's process runs inside the namespace. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/cmd.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/lock.h"
#include "net_priv.h"

int
net_svc_eni_get(vm_ctx *ctx, const char *eni_id, net_svc_eni *ret, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, ENI_SELECT "WHERE e.id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, eni_id, -1, SQLITE_STATIC);
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

static int
ip_run(const char *const *argv, char **out, vm_error *err)
{
    vm_cmd_limits lim = { .timeout_sec = 20 };
    return vm_cmd_run(argv, &lim, out, err);
}

static bool
netns_exists(const char *netns)
{
    char path[128];
    snprintf(path, sizeof(path), "/run/netns/%s", netns);
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* The plug works: the namespace end has the address, the bridge end exists and is up. */
static bool
plug_ok(long pid, const net_svc_eni *e, const char *tap, const char *netns, const char *ifname)
{
    _cleanup_free_ char *out = NULL, *out2 = NULL;
    vm_error ignore = { 0 };
    const char *show[] = { "ip", "-n", netns, "-o", "addr", "show", "dev", ifname, NULL };
    if (ip_run(show, &out, &ignore) < 0 || !out)
        return false;
    char want[64];
    snprintf(want, sizeof(want), "inet %s/", e->ip);
    if (!strstr(out, want))
        return false;
    char netarg[64];
    snprintf(netarg, sizeof(netarg), "--net=/proc/%ld/ns/net", pid);
    const char *link[] = { "nsenter", netarg, "ip", "-o", "link", "show", "dev", tap, NULL };
    if (ip_run(link, &out2, &ignore) < 0 || !out2)
        return false;
    return strstr(out2, "state UP") || strstr(out2, ",UP");
}

int
net_svc_eni_plug(vm_ctx *ctx, const char *eni_id, const char *netns, unsigned index, vm_error *err)
{
    char ifname[16], table[16];
    snprintf(ifname, sizeof(ifname), "eth%u", index % 1000);
    snprintf(table, sizeof(table), "%u", 100 + index % 1000);
    net_svc_eni e;
    if (net_svc_eni_get(ctx, eni_id, &e, err) < 0)
        return -1;
    long pid = net_libvirtd_pid(ctx);
    if (!pid)
        return 0;
    char tap[16], peer[16], br[16], addr[NET_CIDR_MAX + 4];
    net_tap_name(e.id, tap);
    snprintf(peer, sizeof(peer), "vp%.13s", e.id + strlen("eni-"));
    net_bridge_name(e.subnet, br);
    snprintf(addr, sizeof(addr), "%s/%d", e.ip, e.prefix);
    char block[NET_CIDR_MAX];
    uint32_t a = 0;
    net_addr_parse(e.ip, &a);
    net_cidr c = { .addr = e.prefix ? a & (uint32_t)(0xffffffffu << (32 - e.prefix)) : 0, .prefix = e.prefix };
    net_cidr_format(&c, block);
    if (!netns_exists(netns)) {
        const char *add[] = { "ip", "netns", "add", netns, NULL };
        const char *lo[] = { "ip", "-n", netns, "link", "set", "lo", "up", NULL };
        if (ip_run(add, NULL, err) < 0 || ip_run(lo, NULL, err) < 0)
            return -1;
    } else if (plug_ok(pid, &e, tap, netns, ifname)) {
        return 0;
    }
    /* the subnet's network runs (a bridge to join), the name and the filter before the link is up */
    if (net_network_ensure(ctx, e.subnet, err) < 0 || net_dns_sync(ctx, e.vpc, err) < 0 ||
        net_fw_eni_add(ctx, e.id, err) < 0)
        return -1;
    /* a half-made plug goes first: both ends of a veth go with either */
    vm_error ignore = { 0 };
    const char *del_tap[] = { "ip", "link", "del", tap, NULL };
    const char *del_if[] = { "ip", "-n", netns, "link", "del", ifname, NULL };
    net_run_in_netns(pid, del_tap, &ignore);
    ignore = (vm_error){ 0 };
    ip_run(del_if, NULL, &ignore);
    const char *mk[] = { "ip", "link", "add", tap, "type", "veth", "peer", "name", peer, NULL };
    const char *mac[] = { "ip", "link", "set", peer, "address", e.mac, "netns", netns, NULL };
    const char *up[] = { "ip", "link", "set", tap, "master", br, "up", NULL };
    const char *name[] = { "ip", "-n", netns, "link", "set", peer, "name", ifname, NULL };
    const char *ad[] = { "ip", "-n", netns, "addr", "add", addr, "dev", ifname, NULL };
    const char *ifup[] = { "ip", "-n", netns, "link", "set", ifname, "up", NULL };
    const char *route[] = { "ip", "-n", netns, "route", "replace", "default", "via", e.gw, "dev", ifname, NULL };
    /* what leaves from this interface's address leaves through it (its subnet's gateway): the
     * bridge of another subnet would drop a reply with this address as spoofed */
    const char *rt_net[] = { "ip", "-n", netns, "route", "replace", block, "dev", ifname, "table", table, NULL };
    const char *rt_def[] = { "ip", "-n", netns, "route", "replace", "default", "via", e.gw, "dev", ifname, "table", table, NULL };
    const char *rule_del[] = { "ip", "-n", netns, "rule", "del", "from", e.ip, "table", table, NULL };
    const char *rule_add[] = { "ip", "-n", netns, "rule", "add", "from", e.ip, "table", table, NULL };
    if (net_run_in_netns(pid, mk, err) < 0 || net_run_in_netns(pid, mac, err) < 0 ||
        net_run_in_netns(pid, up, err) < 0 || ip_run(name, NULL, err) < 0 || ip_run(ad, NULL, err) < 0 ||
        ip_run(ifup, NULL, err) < 0 || (index == 0 && ip_run(route, NULL, err) < 0) ||
        ip_run(rt_net, NULL, err) < 0 || ip_run(rt_def, NULL, err) < 0)
        return -1;
    ignore = (vm_error){ 0 };
    ip_run(rule_del, NULL, &ignore);
    if (ip_run(rule_add, NULL, err) < 0)
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
    if (pid) {
        char tap[16];
        net_tap_name(e.id, tap);
        const char *del_tap[] = { "ip", "link", "del", tap, NULL };
        vm_error ignore = { 0 };
        net_run_in_netns(pid, del_tap, &ignore);
    }
    _cleanup_stmt_ sqlite3_stmt *d = NULL;
    int rc = net_dhcp_release(ctx, e.subnet, e.ip, e.mac, err);
    if (rc == 0)
        rc = vm_db_prepare(ctx->db, "DELETE FROM network_interfaces WHERE id = ?", &d, err);
    if (rc == 0) {
        sqlite3_bind_text(d, 1, e.id, -1, SQLITE_STATIC);
        if (sqlite3_step(d) != SQLITE_DONE)
            rc = vm_db_error(ctx->db, "freeing the address", err);
    }
    if (fw >= 0)
        vm_lock_release(fw);
    if (rc < 0)
        return -1;
    return net_dns_sync(ctx, e.vpc, err);
}

void
net_svc_netns_delete(const char *netns)
{
    if (!netns_exists(netns))
        return;
    const char *del[] = { "ip", "netns", "del", netns, NULL };
    vm_error ignore = { 0 };
    ip_run(del, NULL, &ignore);
}
