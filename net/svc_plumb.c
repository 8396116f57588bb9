/* A service's network namespace and the veth pairs that join it to subnets' bridges (net_priv.h,
 * net_svc_*).  The bridge end is named like an instance's tap (net_tap_name), so the firewall
 * treats it as one: anti-spoofing on its MAC and address, its security groups on what enters and
 * leaves it.  The namespace end carries the interface's MAC and address; the service's process runs
 * inside the namespace.  Desired state in, `ip` out; no SQL here. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/cmd.h"
#include "net_priv.h"

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
bool
net_svc_plug_ok(long pid, const net_svc_eni *e, const char *netns, unsigned index)
{
    char tap[16], ifname[16];
    net_tap_name(e->id, tap);
    snprintf(ifname, sizeof(ifname), "eth%u", index % 1000);
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
net_svc_netns_ensure(const char *netns, vm_error *err)
{
    if (netns_exists(netns))
        return 1;
    const char *add[] = { "ip", "netns", "add", netns, NULL };
    const char *lo[] = { "ip", "-n", netns, "link", "set", "lo", "up", NULL };
    if (ip_run(add, NULL, err) < 0 || ip_run(lo, NULL, err) < 0)
        return -1;
    return 0;
}

int
net_svc_plug(long pid, const net_svc_eni *e, const char *netns, unsigned index, vm_error *err)
{
    char ifname[16], table[16];
    snprintf(ifname, sizeof(ifname), "eth%u", index % 1000);
    snprintf(table, sizeof(table), "%u", 100 + index % 1000);
    char tap[16], peer[16], br[16], addr[NET_CIDR_MAX + 4];
    net_tap_name(e->id, tap);
    snprintf(peer, sizeof(peer), "vp%.13s", e->id + strlen("eni-"));
    net_bridge_name(e->subnet, br);
    snprintf(addr, sizeof(addr), "%s/%d", e->ip, e->prefix);
    char block[NET_CIDR_MAX];
    uint32_t a = 0;
    net_addr_parse(e->ip, &a);
    net_cidr c = { .addr = e->prefix ? a & (uint32_t)(0xffffffffu << (32 - e->prefix)) : 0, .prefix = e->prefix };
    net_cidr_format(&c, block);
    /* a half-made plug goes first: both ends of a veth go with either */
    vm_error ignore = { 0 };
    const char *del_tap[] = { "ip", "link", "del", tap, NULL };
    const char *del_if[] = { "ip", "-n", netns, "link", "del", ifname, NULL };
    net_run_in_netns(pid, del_tap, &ignore);
    ignore = (vm_error){ 0 };
    ip_run(del_if, NULL, &ignore);
    const char *mk[] = { "ip", "link", "add", tap, "type", "veth", "peer", "name", peer, NULL };
    const char *mac[] = { "ip", "link", "set", peer, "address", e->mac, "netns", netns, NULL };
    const char *up[] = { "ip", "link", "set", tap, "master", br, "up", NULL };
    const char *name[] = { "ip", "-n", netns, "link", "set", peer, "name", ifname, NULL };
    const char *ad[] = { "ip", "-n", netns, "addr", "add", addr, "dev", ifname, NULL };
    const char *ifup[] = { "ip", "-n", netns, "link", "set", ifname, "up", NULL };
    const char *route[] = { "ip", "-n", netns, "route", "replace", "default", "via", e->gw, "dev", ifname, NULL };
    /* what leaves from this interface's address leaves through it (its subnet's gateway): the
     * bridge of another subnet would drop a reply with this address as spoofed */
    const char *rt_net[] = { "ip", "-n", netns, "route", "replace", block, "dev", ifname, "table", table, NULL };
    const char *rt_def[] = { "ip", "-n", netns, "route", "replace", "default", "via", e->gw, "dev", ifname, "table", table, NULL };
    const char *rule_del[] = { "ip", "-n", netns, "rule", "del", "from", e->ip, "table", table, NULL };
    const char *rule_add[] = { "ip", "-n", netns, "rule", "add", "from", e->ip, "table", table, NULL };
    if (net_run_in_netns(pid, mk, err) < 0 || net_run_in_netns(pid, mac, err) < 0 ||
        net_run_in_netns(pid, up, err) < 0 || ip_run(name, NULL, err) < 0 || ip_run(ad, NULL, err) < 0 ||
        ip_run(ifup, NULL, err) < 0 || (index == 0 && ip_run(route, NULL, err) < 0) ||
        ip_run(rt_net, NULL, err) < 0 || ip_run(rt_def, NULL, err) < 0)
        return -1;
    ignore = (vm_error){ 0 };
    ip_run(rule_del, NULL, &ignore);
    if (ip_run(rule_add, NULL, err) < 0)
        return -1;
    return 0;
}

void
net_svc_unplug(long pid, const char *eni_id)
{
    char tap[16];
    net_tap_name(eni_id, tap);
    const char *del_tap[] = { "ip", "link", "del", tap, NULL };
    vm_error ignore = { 0 };
    net_run_in_netns(pid, del_tap, &ignore);
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
