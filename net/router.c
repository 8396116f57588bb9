/* A routed VPC's router (issue 17's overlapping VPCs, net/README.md): a network namespace of the
 * VPC's own, joined to each subnet's bridge by a veth pair, holding every subnet's gateway address
 * (.1) and routing between them; its dnsmasq answers DHCP (static entries only) and DNS for the
 * VPC.  The subnets' bridges have no address in libvirtd's namespace, so two VPCs may use the same
 * block.  A transit link (a veth pair, a /30 of 100.64.0.0/10) leads to libvirtd's namespace and
 * its uplink; the router's own nftables table does the VPC's NAT (Elastic IPs 1:1, NAT gateways,
 * masquerade to the transit address), where the VPC's addresses are unambiguous.  Desired state
 * in (net_router, built by lvnet.c from the store), `ip`, nft and dnsmasq out; no SQL here.  Files
 * under <state-dir>/routers/<vpc>/: dnsmasq.conf, the hosts files, leases, pid, nat.nft (the NAT
 * table last applied). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/cmd.h"
#include "net_priv.h"

void
net_router_netns(const char *vpc_id, char buf[64])
{
    snprintf(buf, 64, "vmmgr-%s", vpc_id);
}

void
net_router_transit(const char *vpc_id, char host_if[16], char host_ip[NET_ADDR_MAX], char router_ip[NET_ADDR_MAX])
{
    snprintf(host_if, 16, "vx%.13s", vpc_id + strlen("vpc-"));
    /* one of the 2^20 - 1 /30s after the first: shared by every store of a libvirtd, so chosen by
     * the id (FNV-1a), not by a counter of one store */
    uint32_t h = 2166136261u;
    for (const char *c = vpc_id; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    uint32_t base = (100u << 24 | 64u << 16) + 4u * (1 + h % ((1u << 20) - 1));
    net_addr_format(base + 1, host_ip);
    net_addr_format(base + 2, router_ip);
}

/* The veth pair of a subnet's port: "vr" and the bridge's 13 hex digits on the bridge, "rp" and
 * the same in the router. */
void
net_router_port_names(const char *subnet_id, char br_end[16], char r_end[16])
{
    snprintf(br_end, 16, "vr%.13s", subnet_id + strlen("subnet-"));
    snprintf(r_end, 16, "rp%.13s", subnet_id + strlen("subnet-"));
}

static int
run(const char *const *argv, char **out, vm_error *err)
{
    vm_cmd_limits lim = { .timeout_sec = 20 };
    return vm_cmd_run(argv, &lim, out, err);
}

static void
router_dir(vm_ctx *ctx, const char *vpc_id, char *buf, size_t len)
{
    char sub[64];
    snprintf(sub, sizeof(sub), "routers/%s", vpc_id);
    vm_ctx_path(ctx, buf, len, sub);
}

/* The port works: the router's end has the gateway address and is up, the bridge's end is a port of
 * the subnet's bridge (a network restarted by libvirt comes back with a new bridge, without it). */
static bool
port_ok(long pid, const char *netns, const net_router_port *p)
{
    char br_end[16], r_end[16], want[64];
    net_router_port_names(p->subnet, br_end, r_end);
    _cleanup_free_ char *out = NULL, *out2 = NULL;
    vm_error ignore = { 0 };
    const char *show[] = { "ip", "-n", netns, "-o", "addr", "show", "dev", r_end, "up", NULL };
    if (run(show, &out, &ignore) < 0 || !out)
        return false;
    snprintf(want, sizeof(want), "inet %s/%d ", p->gw, p->prefix);
    if (!strstr(out, want))
        return false;
    char netarg[64];
    snprintf(netarg, sizeof(netarg), "--net=/proc/%ld/ns/net", pid);
    const char *link[] = { "nsenter", netarg, "ip", "-o", "link", "show", "dev", br_end, NULL };
    if (run(link, &out2, &ignore) < 0 || !out2)
        return false;
    snprintf(want, sizeof(want), "master %s ", p->bridge);
    return strstr(out2, want) && (strstr(out2, "state UP") || strstr(out2, ",UP"));
}

static int
port_plug(long pid, const char *netns, const net_router_port *p, vm_error *err)
{
    char br_end[16], r_end[16], addr[NET_CIDR_MAX + 4];
    net_router_port_names(p->subnet, br_end, r_end);
    snprintf(addr, sizeof(addr), "%s/%d", p->gw, p->prefix);
    /* a half-made port goes first: both ends of a veth go with either */
    vm_error ignore = { 0 };
    const char *del[] = { "ip", "link", "del", br_end, NULL };
    net_run_in_netns(pid, del, &ignore);
    const char *mk[] = { "ip", "link", "add", br_end, "type", "veth", "peer", "name", r_end, "netns", netns, NULL };
    const char *up[] = { "ip", "link", "set", br_end, "master", p->bridge, "up", NULL };
    const char *ad[] = { "ip", "-n", netns, "addr", "add", addr, "dev", r_end, NULL };
    const char *ifup[] = { "ip", "-n", netns, "link", "set", r_end, "up", NULL };
    if (net_run_in_netns(pid, mk, err) < 0 || net_run_in_netns(pid, up, err) < 0 || run(ad, NULL, err) < 0 ||
        run(ifup, NULL, err) < 0)
        return -1;
    return 0;
}

/* Ports of subnets the VPC no longer has. */
static void
ports_prune(const char *netns, const net_router *r)
{
    _cleanup_free_ char *out = NULL;
    vm_error ignore = { 0 };
    const char *list[] = { "ip", "-n", netns, "-o", "link", "show", NULL };
    if (run(list, &out, &ignore) < 0 || !out)
        return;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char name[32] = "";
        /* "7: rp0123456789abc@if8: <…" */
        if (sscanf(line, "%*d: %31[^:@]", name) != 1 || strncmp(name, "rp", 2) != 0 || strlen(name) != 15)
            continue;
        bool want = false;
        for (size_t i = 0; i < r->nports && !want; i++) {
            char br_end[16], r_end[16];
            net_router_port_names(r->ports[i].subnet, br_end, r_end);
            want = strcmp(r_end, name) == 0;
        }
        if (!want) {
            const char *del[] = { "ip", "-n", netns, "link", "del", name, NULL };
            ignore = (vm_error){ 0 };
            run(del, NULL, &ignore);
        }
    }
}

/* Writes path with text unless it holds it already: 1 when written, 0 when unchanged. */
static int
file_put(const char *path, const char *text, vm_error *err)
{
    _cleanup_free_ char *old = NULL;
    size_t len = 0;
    _cleanup_fclose_ FILE *in = fopen(path, "re");
    if (in) {
        old = calloc(1, strlen(text) + 2);
        if (old)
            len = fread(old, 1, strlen(text) + 1, in);
        if (old && len == strlen(text) && memcmp(old, text, len) == 0)
            return 0;
    }
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    _cleanup_fclose_ FILE *f = fopen(tmp, "we");
    if (!f || fputs(text, f) < 0 || fflush(f) != 0)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot write %s", tmp);
    if (rename(tmp, path) < 0)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot write %s", path);
    return 1;
}

/* The router's dnsmasq, when it runs with this configuration file: its pid, else 0. */
static long
dnsmasq_running(const char *dir)
{
    char path[4200], proc[64], cmdline[4400] = "";
    snprintf(path, sizeof(path), "%s/dnsmasq.pid", dir);
    long pid = vm_pid_file_read(path);
    if (!pid)
        return 0;
    snprintf(proc, sizeof(proc), "/proc/%ld/cmdline", pid);
    _cleanup_fclose_ FILE *c = fopen(proc, "re");
    size_t n = c ? fread(cmdline, 1, sizeof(cmdline) - 1, c) : 0;
    for (size_t i = 0; i < n; i++)
        if (!cmdline[i])
            cmdline[i] = ' ';
    snprintf(path, sizeof(path), "--conf-file=%s/dnsmasq.conf", dir);
    return strstr(cmdline, "dnsmasq") && strstr(cmdline, path) ? pid : 0;
}

static void
dnsmasq_stop(const char *dir)
{
    long pid = dnsmasq_running(dir);
    if (!pid)
        return;
    /* its sockets must be closed before the next dnsmasq binds: wait for its exit (a pidfd is readable
     * once the process ended, zombie or reaped; not kill(pid, 0), which a zombie passes), at most 1 s */
    int pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    kill((pid_t)pid, SIGTERM);
    if (pfd >= 0) {
        struct pollfd w = { .fd = pfd, .events = POLLIN };
        while (poll(&w, 1, 1000) < 0 && errno == EINTR)
            ;
        close(pfd);
    }
}

static char *
dnsmasq_conf(const net_router *r, const char *dir)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    /* bind-dynamic: ports come and go with subnets, and dnsmasq keeps running meanwhile.  It
     * stays root: its files are in the state dir, which only root reads; its namespace holds
     * nothing but the VPC's gateways */
    fprintf(f,
            "pid-file=%s/dnsmasq.pid\nuser=root\nbind-dynamic\nexcept-interface=lo\nno-hosts\nno-resolv\n"
            "dhcp-leasefile=%s/leases\ndhcp-hostsfile=%s/hosts.dhcp\ndhcp-no-override\ndhcp-authoritative\n"
            "log-facility=%s/dnsmasq.log\n",
            dir, dir, dir, dir);
    if (r->dns)
        fprintf(f, "domain=%s\nlocal=/%s/\naddn-hosts=%s/hosts.dns\n", r->domain, r->domain, dir);
    else
        fputs("port=0\n", f);
    for (size_t i = 0; i < r->nports; i++) {
        char br_end[16], r_end[16];
        net_router_port_names(r->ports[i].subnet, br_end, r_end);
        /* static: only the interfaces of the store get an address, each its own */
        fprintf(f, "interface=%s\ndhcp-range=%s,static,%s,1h\n", r_end, r->ports[i].network, r->ports[i].netmask);
    }
    fclose(f);
    return TAKE_PTR(buf);
}

/* The transit link (a veth pair, "tr0" in the router), the router's default route through it and
 * a blackhole for the rest of the VPC's block: an address of the block that no subnet holds goes
 * nowhere, never out (the host may route the same block to another VPC). */
static int
transit_ensure(long pid, const char *netns, const net_router *r, vm_error *err)
{
    char host_if[16], host_ip[NET_ADDR_MAX], router_ip[NET_ADDR_MAX], want[64], ha[32], ra[32];
    net_router_transit(r->vpc, host_if, host_ip, router_ip);
    snprintf(ha, sizeof(ha), "%s/30", host_ip);
    snprintf(ra, sizeof(ra), "%s/30", router_ip);
    _cleanup_free_ char *out = NULL;
    vm_error ignore = { 0 };
    const char *show[] = { "ip", "-n", netns, "-o", "addr", "show", "dev", "tr0", "up", NULL };
    snprintf(want, sizeof(want), "inet %s ", ra);
    if (run(show, &out, &ignore) < 0 || !out || !strstr(out, want)) {
        const char *del[] = { "ip", "link", "del", host_if, NULL };
        net_run_in_netns(pid, del, &ignore);
        const char *mk[] = {
            "ip", "link", "add", host_if, "type", "veth", "peer", "name", "tr0", "netns", netns, NULL
        };
        const char *ad[] = { "ip", "addr", "add", ha, "dev", host_if, NULL };
        const char *up[] = { "ip", "link", "set", host_if, "up", NULL };
        const char *rad[] = { "ip", "-n", netns, "addr", "add", ra, "dev", "tr0", NULL };
        const char *rup[] = { "ip", "-n", netns, "link", "set", "tr0", "up", NULL };
        if (net_run_in_netns(pid, mk, err) < 0 || net_run_in_netns(pid, ad, err) < 0 ||
            net_run_in_netns(pid, up, err) < 0 || run(rad, NULL, err) < 0 || run(rup, NULL, err) < 0)
            return -1;
    }
    const char *def[] = { "ip", "-n", netns, "route", "replace", "default", "via", host_ip, NULL };
    const char *hole[] = { "ip", "-n", netns, "route", "replace", "blackhole", r->block, NULL };
    return run(def, NULL, err) < 0 || run(hole, NULL, err) < 0 ? -1 : 0;
}

/* The router's NAT, whole: an Elastic IP (or public address) is its instance's on the way in
 * (dnat) and out (snat); a subnet routed to a NAT gateway leaves as the gateway's address; anything
 * else leaving masquerades to the transit address (the host masquerades that on the uplink). */
static char *
nat_ruleset(const net_router *r)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fputs("add table ip vmmgr\ndelete table ip vmmgr\n"
          "table ip vmmgr {\n"
          " map eip_dnat { type ipv4_addr : ipv4_addr; }\n"
          " map eip_snat { type ipv4_addr : ipv4_addr; }\n"
          " map nat_snat { type ifname . ipv4_addr : ipv4_addr; flags interval; }\n"
          " chain pre {\n"
          "  type nat hook prerouting priority dstnat; policy accept;\n"
          "  iifname \"tr0\" dnat ip to ip daddr map @eip_dnat\n"
          " }\n"
          " chain post {\n"
          "  type nat hook postrouting priority srcnat; policy accept;\n"
          "  oifname \"tr0\" snat ip to iifname . ip daddr map @nat_snat\n"
          "  oifname \"tr0\" snat ip to ip saddr map @eip_snat\n"
          "  oifname \"tr0\" masquerade\n"
          " }\n"
          "}\n",
          f);
    for (size_t i = 0; i < r->neips; i++)
        fprintf(f, "add element ip vmmgr eip_dnat { %s : %s }\nadd element ip vmmgr eip_snat { %s : %s }\n",
                r->eips[i].ip, r->eips[i].key, r->eips[i].key, r->eips[i].ip);
    for (size_t i = 0; i < r->nnats; i++)
        fprintf(f, "add element ip vmmgr nat_snat { %s : %s }\n", r->nats[i].key, r->nats[i].ip);
    fclose(f);
    return TAKE_PTR(buf);
}

/* The router's namespace, forwarding, ports, transit link and NAT table, from r. */
static int
router_plumb(long pid, const char *netns, const char *dir, const net_router *r, vm_error *err)
{
    char path[4200];
    int had = net_svc_netns_ensure(netns, err);
    if (had < 0)
        return -1;
    const char *fwd[] = { "ip", "netns", "exec", netns, "sysctl", "-qw", "net.ipv4.ip_forward=1", NULL };
    if (run(fwd, NULL, err) < 0)
        return -1;
    for (size_t i = 0; i < r->nports; i++)
        if (!port_ok(pid, netns, &r->ports[i]) && port_plug(pid, netns, &r->ports[i], err) < 0)
            return -1;
    ports_prune(netns, r);
    if (transit_ensure(pid, netns, r, err) < 0)
        return -1;
    /* the NAT table: when it changes, and in a namespace made now (a host reboot) */
    _cleanup_free_ char *nat = nat_ruleset(r);
    if (!nat)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    snprintf(path, sizeof(path), "%s/nat.nft", dir);
    int nat_changed = file_put(path, nat, err);
    if (nat_changed < 0)
        return -1;
    if ((nat_changed || !had) && net_nft_run_in(netns, nat, err) < 0) {
        unlink(path); /* tried again next time */
        return -1;
    }
    return 0;
}

int
net_router_apply(vm_ctx *ctx, long pid, const net_router *r, vm_error *err)
{
    char netns[64], dir[4096], path[4200];
    net_router_netns(r->vpc, netns);
    router_dir(ctx, r->vpc, dir, sizeof(dir));
    if (mkdir(vm_ctx_path(ctx, path, sizeof(path), "routers"), 0700) < 0 && errno != EEXIST)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot make %s", path);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot make %s", dir);
    /* a launch or a terminate: the ports, the transit link and the NAT are as they were (a process
     * per port and link spared on every launch); a router that is not running is made whole */
    if (!r->hosts_only || !net_router_alive(ctx, r->vpc)) {
        if (router_plumb(pid, netns, dir, r, err) < 0)
            return -1;
    }
    _cleanup_free_ char *conf = dnsmasq_conf(r, dir);
    if (!conf)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    snprintf(path, sizeof(path), "%s/hosts.dhcp", dir);
    int hosts = file_put(path, r->dhcp_hosts, err);
    snprintf(path, sizeof(path), "%s/hosts.dns", dir);
    int names = hosts < 0 ? -1 : file_put(path, r->dns_hosts, err);
    snprintf(path, sizeof(path), "%s/dnsmasq.conf", dir);
    int changed = names < 0 ? -1 : file_put(path, conf, err);
    if (changed < 0)
        return -1;
    long running = dnsmasq_running(dir);
    if (running && !changed) {
        /* SIGHUP: dnsmasq reads the hosts files again */
        if (hosts || names)
            kill((pid_t)running, SIGHUP);
        return 0;
    }
    dnsmasq_stop(dir);
    char confarg[4300];
    snprintf(confarg, sizeof(confarg), "--conf-file=%s/dnsmasq.conf", dir);
    const char *start[] = { "ip", "netns", "exec", netns, "dnsmasq", confarg, NULL };
    return run(start, NULL, err);
}

bool
net_router_alive(vm_ctx *ctx, const char *vpc_id)
{
    char netns[64], dir[4096], path[128];
    net_router_netns(vpc_id, netns);
    router_dir(ctx, vpc_id, dir, sizeof(dir));
    snprintf(path, sizeof(path), "/run/netns/%s", netns);
    return access(path, F_OK) == 0 && dnsmasq_running(dir) > 0;
}

int
net_router_release(vm_ctx *ctx, const char *vpc_id, const char *subnet_id, const char *ip, const char *mac,
                   vm_error *err)
{
    char netns[64], br_end[16], r_end[16], dir[4096];
    net_router_netns(vpc_id, netns);
    net_router_port_names(subnet_id, br_end, r_end);
    router_dir(ctx, vpc_id, dir, sizeof(dir));
    if (!dnsmasq_running(dir) || access("/usr/bin/dhcp_release", X_OK) != 0)
        return 0;
    const char *argv[] = { "ip", "netns", "exec", netns, "dhcp_release", r_end, ip, mac, NULL };
    return run(argv, NULL, err);
}

void
net_router_port_remove(long pid, const char *subnet_id)
{
    char br_end[16], r_end[16];
    net_router_port_names(subnet_id, br_end, r_end);
    const char *del[] = { "ip", "link", "del", br_end, NULL };
    vm_error ignore = { 0 };
    net_run_in_netns(pid, del, &ignore);
}

void
net_router_remove(vm_ctx *ctx, const char *vpc_id)
{
    char netns[64], dir[4096], path[4200];
    net_router_netns(vpc_id, netns);
    router_dir(ctx, vpc_id, dir, sizeof(dir));
    dnsmasq_stop(dir);
    /* the transit link at once (a namespace's own links go with it, but later: the kernel frees a
     * namespace in the background); its ports went with their subnets */
    long pid = net_libvirtd_pid(ctx);
    if (pid) {
        char host_if[16], host_ip[NET_ADDR_MAX], router_ip[NET_ADDR_MAX];
        net_router_transit(vpc_id, host_if, host_ip, router_ip);
        const char *del[] = { "ip", "link", "del", host_if, NULL };
        vm_error ignore = { 0 };
        net_run_in_netns(pid, del, &ignore);
    }
    net_svc_netns_delete(netns);
    static const char *const files[] = { "dnsmasq.conf", "hosts.dhcp",  "hosts.dns", "leases",
                                         "dnsmasq.pid",  "dnsmasq.log", "nat.nft" };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}
