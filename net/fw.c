/* Security groups on nftables: two tables named vmmgr, built from the store and changed only by
 * atomic nft transactions (libnftables), in the network namespace of libvirtd's bridges.
 *
 *   bridge vmmgr — anti-spoofing at every tap vmmgr owns (named vt…, see net_tap_name): a frame
 *     from a tap must carry the tap's MAC, and its IPv4 or ARP sender the tap's address (sets keyed
 *     on the tap's name, so a launch adds elements and no rule); DHCP from 0.0.0.0; nothing else.
 *   inet vmmgr — the security groups, stateful (conntrack works here through br_netfilter, not in
 *     the bridge family), on addresses that the bridge table guarantees.  A guest's address is
 *     keyed by the bridge of its subnet, which a packet from it comes in by (iifname; for a bridged
 *     packet br_netfilter gives the bridge, not the tap) and one to it leaves by (oifname): the
 *     same address in two VPCs stays two members (issue 17's overlapping VPCs, net/README.md).
 *       forward/input: a packet from a guest passes `egress`: inside its VPC (set vpc_ok of
 *         bridge . address . VPC block), then the egress rules of each group it is in; DHCP and
 *         DNS to its subnet's gateway pass first, and the metadata service at 169.254.169.254 (as
 *         in EC2, groups do not filter them);
 *       forward (a later base chain)/output: a packet to a guest passes `ingress` likewise;
 *       forward out through the uplink (`vmmgr init --uplink`): `egress_out` — its subnet routes that
 *         destination to an attached internet gateway (set out_ok of its bridge . destination,
 *         from the route tables), then the groups' egress rules; chain nat_out masquerades it.
 *       from a guest to a public address of this host (hairpin, chain nat_in): `egress_pub`, where
 *         the groups' egress rules see the address asked for (chains G-pub).
 *     A routed VPC (its block overlaps another's, net/router.c): its bridges are in set routed,
 *       each in the VPC's conntrack zone (map zones, priority raw); its router's ports (routers)
 *       answer DHCP, DNS and the metadata service across the bridge; a guest's way out is checked
 *       on its own bridge, on the way to the router (egress_out); a member of a group is in m-G on
 *       every bridge of its VPC (a peer of another subnet arrives from the router); an Elastic IP's
 *       instance (eip_routed) is NATed by the router, its groups decide here; the transit links
 *       (set transits) talk to the uplink only.
 *     Each group G has a set m-G of its members (bridge . address) and chains G-in, G-out and G-pub
 *     with its rules; "traffic from group S" is `iifname . ip saddr @m-S`.  A launch or terminate
 *     changes elements only (a constant number, whatever the size of the group or VPC); a rule
 *     change rebuilds both tables in one transaction.
 * nftables state does not survive a host reboot or `nft flush ruleset`: a set `gen` holds
 * FW_GENERATION, and net_fw_ensure (reconcile, each launch) rebuilds when it is not there. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/lock.h"
#include "net_priv.h"

/* bumped whenever the layout of the tables changes: an older table is rebuilt */
#define FW_GENERATION 9

void
net_tap_name(const char *eni_id, char buf[16])
{
    /* Linux allows 15 characters: "vt" and 13 of the interface's hex digits (libvirt keeps a
     * name it did not choose; its own are vnetN) */
    snprintf(buf, 16, "vt%.13s", eni_id + strlen("eni-"));
}

static int
fw_run(long pid, const char *cmds, char **ret_out, bool quiet, vm_error *err)
{
    return net_nft_run(pid, cmds, false, ret_out, quiet, err);
}

/* The namespace of the bridges: libvirtd's.  0 when there is no local libvirtd to find (another
 * host's: its guests are not enforced from here). */
static long
fw_pid(vm_ctx *ctx)
{
    return net_libvirtd_pid(ctx);
}

/* The tables' name: vmmgr-<8 hex digits> chosen once per store, so two stores that share a
 * libvirtd (the test suite's, two users') each keep their own tables and never rebuild the other's. */
static int
fw_table(vm_ctx *ctx, char t[32], vm_error *err)
{
    for (int pass = 0; pass < 2; pass++) {
        _cleanup_free_ char *v = vm_config_get(ctx, "firewall_table");
        if (v) {
            snprintf(t, 32, "%s", v);
            return 0;
        }
        char id[VM_ID_MAX], name[32];
        vm_id_new("x", id);
        snprintf(name, sizeof(name), "vmmgr-%.8s", id + 2);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (vm_db_stmt(ctx->db, &st, err, "INSERT OR IGNORE INTO config(key, value) VALUES ('firewall_table', ?)", "t",
                       name) < 0)
            return -1;
        if (sqlite3_step(st) != SQLITE_DONE)
            return vm_db_error(ctx->db, "recording the firewall's name", err);
    }
    return vm_error_set(err, VM_ERR_INTERNAL, "no name for the firewall tables");
}

static int
fw_lock(vm_ctx *ctx, vm_error *err)
{
    char dir[4096];
    return vm_lock_take(vm_ctx_path(ctx, dir, sizeof(dir), "locks"), "firewall", false, err);
}

bool
net_ifname_valid(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n < 16 && strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@") == n &&
           strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int
net_uplink_set(vm_ctx *ctx, const char *name, vm_error *err)
{
    bool none = !name || strcmp(name, "none") == 0;
    if (!none && !net_ifname_valid(name))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "'%s' is not an interface name (1 to 15 letters, digits, '.', '_', '-' or '@')", name);
    /* the ARP proxies leave the old uplink (they are found by its name, so before it changes) */
    _cleanup_free_ char *old = vm_config_get(ctx, "uplink");
    bool moved = !old || strcmp(old, none ? "" : name) != 0;
    if (moved)
        net_eip_unplumb_all(ctx);
    int rc = vm_config_set(ctx, "uplink", none ? "" : name, err) < 0 || net_fw_sync(ctx, err) < 0 ? -1 : 0;
    net_eip_plumb_all(ctx); /* on the new uplink; on the old one again if it stays */
    return rc;
}

/* --- the tables from the store --------------------------------------------------------------------- */

/* The commands that add (verb "add") or delete (verb "delete") an interface's elements. */
static int
eni_elements(vm_ctx *ctx, FILE *f, const char *t, const char *verb, const eni_row *e, vm_error *err)
{
    char tap[16], br[16];
    net_tap_name(e->id, tap);
    net_bridge_name(e->subnet, br);
    fprintf(f, "%s element bridge %s taps { \"%s\" }\n", verb, t, tap);
    fprintf(f, "%s element bridge %s mac_ok { \"%s\" . %s }\n", verb, t, tap, e->mac);
    fprintf(f, "%s element bridge %s ip_ok { \"%s\" . %s . %s }\n", verb, t, tap, e->mac, e->ip);
    fprintf(f, "%s element inet %s guests { \"%s\" . %s }\n", verb, t, br, e->ip);
    fprintf(f, "%s element inet %s vpc_ok { \"%s\" . %s . %s }\n", verb, t, br, e->ip, e->vpc_cidr);
    if (e->gw[0])
        fprintf(f, "%s element inet %s dns_ok { \"%s\" . %s . %s }\n", verb, t, br, e->ip, e->gw);
    if (net_eip_elements(ctx, f, t, verb, e->id, err) < 0)
        return -1;
    /* a member on its own bridge; in a routed VPC on every bridge of the VPC too, where its packets
     * reach a peer of another subnet after the router (net/README.md) */
    _cleanup_stmt_ sqlite3_stmt *gs = NULL, *bs = NULL;
    if (vm_db_stmt(ctx->db, &gs, err, "SELECT group_id FROM eni_groups WHERE eni_id = ?", "t", e->id) < 0 ||
        vm_db_stmt(ctx->db, &bs, err,
                   "SELECT s.id FROM subnets s JOIN vpcs v ON v.id = s.vpc_id "
                   "WHERE s.vpc_id = ? AND v.routed AND s.id != ?",
                   "tt", e->vpc, e->subnet) < 0)
        return -1;
    while (sqlite3_step(gs) == SQLITE_ROW) {
        fprintf(f, "%s element inet %s m-%s { \"%s\" . %s }\n", verb, t, vm_db_text(gs, 0), br, e->ip);
        sqlite3_reset(bs);
        while (sqlite3_step(bs) == SQLITE_ROW) {
            char other[16];
            net_bridge_name(vm_db_text(bs, 0), other);
            fprintf(f, "%s element inet %s m-%s { \"%s\" . %s }\n", verb, t, vm_db_text(gs, 0), other, e->ip);
        }
    }
    return 0;
}

/* A conntrack zone per routed VPC: its flows never meet another VPC's with the same addresses.
 * Zones are shared by every store of this libvirtd: a hash of the VPC's id (1 to 65535). */
static unsigned
vpc_zone(const char *vpc_id)
{
    uint32_t h = 2166136261u;
    for (const char *c = vpc_id; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    return 1 + h % 65535;
}

/* Each routed subnet's router port (bridge . gateway) and its bridge's zone; each routed VPC's
 * transit link. */
static int
routed_elements(vm_ctx *ctx, FILE *f, const char *t, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL, *vs = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id FROM vpcs WHERE routed", &vs, err) < 0)
        return -1;
    while (sqlite3_step(vs) == SQLITE_ROW) {
        char host_if[16], host_ip[NET_ADDR_MAX], router_ip[NET_ADDR_MAX];
        net_router_transit(vm_db_text(vs, 0), host_if, host_ip, router_ip);
        fprintf(f, "add element inet %s transits { \"%s\" }\n", t, host_if);
    }
    if (vm_db_prepare(ctx->db,
                      "SELECT s.id, s.cidr, s.vpc_id FROM subnets s JOIN vpcs v ON v.id = s.vpc_id WHERE v.routed", &st,
                      err) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char br[16], gw[NET_ADDR_MAX];
        net_cidr c;
        if (!net_cidr_parse(vm_db_text(st, 1), true, &c))
            continue;
        net_bridge_name(vm_db_text(st, 0), br);
        net_addr_format(net_subnet_gateway(&c), gw);
        fprintf(f, "add element inet %s routers { \"%s\" . %s }\n", t, br, gw);
        fprintf(f, "add element inet %s routed { \"%s\" }\n", t, br);
        fprintf(f, "add element inet %s zones { \"%s\" : %u }\n", t, br, vpc_zone(vm_db_text(st, 2)));
    }
    return 0;
}

typedef struct fw_out_ctx {
    FILE *f;
    const char *t;
} fw_out_ctx;

static int
out_element(const char *subnet_id, const char *dest, const char *nat_ip, void *opaque)
{
    fw_out_ctx *oc = opaque;
    char br[16];
    net_bridge_name(subnet_id, br);
    if (fprintf(oc->f, "add element inet %s out_ok { \"%s\" . %s }\n", oc->t, br, dest) < 0)
        return -1;
    if (*nat_ip && fprintf(oc->f, "add element inet %s nat_snat { \"%s\" . %s : %s }\n", oc->t, br, dest, nat_ip) < 0)
        return -1;
    return 0;
}

/* One rule's match: the peer (a block, or a group's set, keyed by the bridge the peer is seen on)
 * as the expressions peer and peer_if give it, the protocol and its ports or ICMP type. */
static void
rule_match(FILE *f, const char *peer, const char *peer_if, const char *proto, long from, long to, const char *cidr,
           const char *group)
{
    if (*cidr && strcmp(cidr, "0.0.0.0/0") != 0)
        fprintf(f, " %s %s", peer, cidr);
    else if (*group)
        fprintf(f, " %s . %s @m-%s", peer_if, peer, group);
    if (strcmp(proto, "-1") == 0)
        return;
    if (strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0) {
        if (from < 0 || (from == 0 && to == 65535))
            fprintf(f, " meta l4proto %s", proto);
        else if (from == to)
            fprintf(f, " %s dport %ld", proto, from);
        else
            fprintf(f, " %s dport %ld-%ld", proto, from, to);
    } else if (strcmp(proto, "icmp") == 0) {
        fprintf(f, " meta l4proto icmp");
        if (from >= 0)
            fprintf(f, " icmp type %ld", from);
        if (from >= 0 && to >= 0)
            fprintf(f, " icmp code %ld", to);
    } else
        fprintf(f, " meta l4proto %s", proto);
}

/* The bridge table: a tap's frames carry its own MAC and addresses only (anti-spoofing). */
static void
bridge_table(FILE *f, const char *t)
{
    fprintf(f,
            "table bridge %s {\n"
            " set gen { type mark; elements = { %d } }\n"
            " set taps { type ifname; }\n"
            " set mac_ok { type ifname . ether_addr; }\n"
            " set ip_ok { type ifname . ether_addr . ipv4_addr; }\n"
            " chain from_tap {\n"
            "  type filter hook prerouting priority -200; policy accept;\n"
            "  iifname != @taps accept\n"
            "  iifname . ether saddr != @mac_ok drop\n"
            "  ether type arp arp saddr ip 0.0.0.0 accept\n"
            "  ether type arp iifname . arp saddr ether . arp saddr ip @ip_ok accept\n"
            "  ether type ip ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept\n"
            "  ether type ip iifname . ether saddr . ip saddr @ip_ok accept\n"
            "  drop\n"
            " }\n"
            "}\n",
            t, FW_GENERATION);
}

/* Each group's member set and its chains: in, out, and out to a public address of this host (with
 * an uplink only). */
static int
group_chains(vm_ctx *ctx, FILE *f, bool uplink, sqlite3_stmt *gs, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *rs = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT protocol, from_port, to_port, coalesce(cidr, ''), coalesce(source_group, '') "
                      "FROM sg_rules WHERE group_id = ? AND egress = ? ORDER BY rowid",
                      &rs, err) < 0)
        return -1;
    while (sqlite3_step(gs) == SQLITE_ROW) {
        const char *g = vm_db_text(gs, 0);
        fprintf(f, " set m-%s { type ifname . ipv4_addr; }\n", g);
        /* in, out, and out to a public address of this host (hairpin): there the rules see the
         * address the guest asked for, as they would on its way out, not its instance's */
        static const char *const kind[] = { "in", "out", "pub" };
        static const char *const peer[] = { "ip saddr", "ip daddr", "ct original ip daddr" };
        static const char *const peer_if[] = { "iifname", "oifname", "oifname" };
        /* out to a public address needs a way out: without an uplink, no G-pub */
        for (int k = 0; k < (uplink ? 3 : 2); k++) {
            int egress = k > 0;
            fprintf(f, " chain %s-%s {\n", g, kind[k]);
            sqlite3_reset(rs);
            if (vm_db_bind(rs, err, "ti", g, (long long)egress) < 0)
                return -1;
            while (sqlite3_step(rs) == SQLITE_ROW) {
                fputs("  ", f);
                rule_match(f, peer[k], peer_if[k], vm_db_text(rs, 0), sqlite3_column_int64(rs, 1),
                           sqlite3_column_int64(rs, 2), vm_db_text(rs, 3), vm_db_text(rs, 4));
                fputs(" accept\n", f);
            }
            fputs(" }\n", f);
        }
    }
    return 0;
}

/* The chains a packet takes to the groups of the guest it comes from or goes to. */
static void
dispatch_chains(FILE *f, bool uplink, sqlite3_stmt *gs)
{
    /* a packet from a guest, then one to a guest: each group's chain for its members; a packet
     * from a guest out through the uplink: a route of its subnet to an internet gateway */
    for (int dir = uplink ? 3 : 2; dir >= -1; dir--) {
        /* the guest's own address, keyed by the bridge it is on: the packet's way in from it, or
         * its way out to it */
        const char *me = dir > 0 ? "iifname . ip saddr" : "oifname . ip daddr";
        if (dir == -1) /* from the uplink to an Elastic IP's instance: the groups decide */
            fputs(" chain ingress_pub {\n", f);
        else if (dir == 3) /* from a guest to a public address of this host (hairpin): its way out was
                            * checked before the address became private (nat_in) */
            fputs(" chain egress_pub {\n", f);
        else if (dir == 2) /* out through the uplink: its subnet's routes */
            fputs(" chain egress_out {\n  iifname . ip daddr != @out_ok drop\n", f);
        else
            fprintf(f, " chain %s {\n  %s . ip %s != @vpc_ok drop\n", dir ? "egress" : "ingress", me,
                    dir ? "daddr" : "saddr");
        sqlite3_reset(gs);
        while (sqlite3_step(gs) == SQLITE_ROW)
            fprintf(f, "  %s @m-%s jump %s-%s\n", me, vm_db_text(gs, 0), vm_db_text(gs, 0),
                    dir == 3 ? "pub" : dir > 0 ? "out" : "in");
        fputs("  drop\n }\n", f);
    }
}

/* With an uplink: out as an Elastic IP or the uplink's address, in to an Elastic IP, hairpin. */
static void
nat_chains(FILE *f, const char *uplink)
{
    /* out: an Elastic IP's instance as its address, any other as the uplink's; in: an Elastic IP
     * to its instance.  Hairpin: a guest whose subnet routes out to a public address of this host
     * (an Elastic IP, an instance's public address) reaches its instance, coming from where it
     * would have gone out as (its NAT gateway's address, its own Elastic IP, else the gateway of
     * the bridge it arrives on: the instance must answer through this host) */
    fprintf(f,
            " chain nat_out {\n"
            "  type nat hook postrouting priority srcnat; policy accept;\n"
            "  oifname \"%s\" snat ip to iifname . ip daddr map @nat_snat\n"
            "  oifname \"%s\" iifname . ip daddr @out_ok snat ip to iifname . ip saddr map @eip_snat\n"
            "  oifname \"%s\" iifname . ip daddr @out_ok masquerade\n"
            "  oifname \"%s\" iifname @transits ip saddr 100.64.0.0/10 masquerade\n"
            "  iifname != \"%s\" ct status dnat iifname . ip saddr @guests jump hairpin\n"
            " }\n"
            " chain hairpin {\n"
            "  snat ip to iifname . ct original ip daddr map @nat_snat\n"
            "  snat ip to iifname . ip saddr map @eip_snat\n"
            "  masquerade\n"
            " }\n"
            " chain nat_in {\n"
            "  type nat hook prerouting priority dstnat; policy accept;\n"
            "  iifname \"%s\" dnat ip to ip daddr map @eip_dnat\n"
            "  iifname . ip daddr @out_ok iifname . ip saddr @guests dnat ip to ip daddr map @eip_dnat\n"
            " }\n",
            uplink, uplink, uplink, uplink, uplink, uplink);
}

/* The base chains of the forward, input and output hooks. */
static void
base_chains(FILE *f, const char *uplink)
{
    /* accept ends one base chain only: egress at priority 0, then ingress at 10 */
    fputs(" chain forward_from {\n"
          "  type filter hook forward priority 0; policy accept;\n",
          f);
    /* a routed VPC's transit link leads to the uplink only, and only the uplink to it (this store's
     * links only: every store of a libvirtd has its tables in the one namespace) */
    if (uplink)
        fprintf(f, "  iifname @transits oifname != \"%s\" drop\n  oifname @transits iifname != \"%s\" drop\n", uplink,
                uplink);
    else
        fputs("  iifname @transits drop\n  oifname @transits drop\n", f);
    fputs("  ct state established,related accept\n", f);
    if (uplink)
        fprintf(f,
                "  oifname \"%s\" iifname . ip saddr @guests jump egress_out\n"
                "  ct status dnat iifname . ip saddr @guests jump egress_pub\n"
                /* a routed VPC's way out starts at its router's port, on the guest's own bridge */
                "  iifname @routed iifname . ip daddr @out_ok iifname . ip saddr @guests jump egress_out\n",
                uplink);
    /* a routed VPC's DHCP, DNS and metadata service are its router's, across the bridge: groups do
     * not filter them */
    fputs("  iifname . ip daddr @routers udp sport 68 udp dport 67 accept\n"
          "  ip daddr " NET_IMDS_ADDR " tcp dport 80 iifname . ip saddr @guests accept\n"
          "  iifname . ip saddr . ip daddr @dns_ok udp dport 53 accept\n"
          "  iifname . ip saddr . ip daddr @dns_ok tcp dport 53 accept\n"
          "  iifname . ip saddr @guests jump egress\n"
          " }\n"
          " chain forward_to {\n"
          "  type filter hook forward priority 10; policy accept;\n"
          "  ct state established,related accept\n"
          "  iifname . ip saddr @routers udp sport 67 udp dport 68 accept\n"
          "  ct status dnat oifname . ip daddr @eip_private jump ingress_pub\n"
          /* to a routed VPC's Elastic IP instance: its router made the address private */
          "  oifname . ip daddr @eip_routed jump ingress_pub\n"
          "  oifname . ip daddr @guests jump ingress\n"
          " }\n"
          " chain to_host {\n"
          "  type filter hook input priority 0; policy accept;\n"
          "  ct state established,related accept\n"
          "  iifname . ip saddr != @guests accept\n"
          "  udp sport 68 udp dport 67 accept\n"
          "  iifname . ip saddr . ip daddr @dns_ok udp dport 53 accept\n"
          "  iifname . ip saddr . ip daddr @dns_ok tcp dport 53 accept\n"
          "  ip daddr " NET_IMDS_ADDR " tcp dport 80 accept\n"
          "  jump egress\n"
          " }\n"
          " chain from_host {\n"
          "  type filter hook output priority 0; policy accept;\n"
          "  ct state established,related accept\n"
          "  oifname . ip daddr != @guests accept\n"
          "  udp sport 67 udp dport 68 accept\n"
          "  jump ingress\n"
          " }\n"
          "}\n",
          f);
}

/* Both tables' every element, from the store. */
static int
fw_elements(vm_ctx *ctx, FILE *f, const char *t, vm_error *err)
{
    /* routed VPCs: each subnet's router port and the VPC's conntrack zone */
    if (routed_elements(ctx, f, t, err) < 0)
        return -1;
    /* the subnets' ways out */
    fw_out_ctx oc = { f, t };
    if (net_rtb_public_routes(ctx, out_element, &oc, err) < 0)
        return -1;
    /* every interface's elements */
    _cleanup_stmt_ sqlite3_stmt *es = NULL;
    if (vm_db_prepare(ctx->db, ENI_SELECT "ORDER BY e.rowid", &es, err) < 0)
        return -1;
    while (sqlite3_step(es) == SQLITE_ROW) {
        eni_row e;
        eni_from_row(es, &e);
        if (eni_elements(ctx, f, t, "add", &e, err) < 0)
            return -1;
    }
    return 0;
}

/* Both tables, whole, replacing what is there (the add-then-delete makes the delete safe when a
 * table is missing), as one transaction. */
static int
fw_ruleset(vm_ctx *ctx, FILE *f, const char *t, vm_error *err)
{
    fprintf(f, "add table bridge %s\ndelete table bridge %s\nadd table inet %s\ndelete table inet %s\n", t, t, t, t);
    bridge_table(f, t);
    fprintf(f,
            "table inet %s {\n"
            " set gen { type mark; elements = { %d } }\n"
            " set guests { type ifname . ipv4_addr; }\n"
            " set vpc_ok { type ifname . ipv4_addr . ipv4_addr; flags interval; }\n"
            " set dns_ok { type ifname . ipv4_addr . ipv4_addr; }\n"
            " set out_ok { type ifname . ipv4_addr; flags interval; }\n"
            " map eip_dnat { type ipv4_addr : ipv4_addr; }\n"
            " map eip_snat { type ifname . ipv4_addr : ipv4_addr; }\n"
            " set eip_private { type ifname . ipv4_addr; }\n"
            " map nat_snat { type ifname . ipv4_addr : ipv4_addr; flags interval; }\n"
            " set routers { type ifname . ipv4_addr; }\n"
            " set routed { type ifname; }\n"
            " set transits { type ifname; }\n"
            " set eip_routed { type ifname . ipv4_addr; }\n"
            " map zones { typeof iifname : ct zone; }\n"
            " chain zone {\n"
            "  type filter hook prerouting priority raw; policy accept;\n"
            "  ct zone set iifname map @zones\n"
            " }\n",
            t, FW_GENERATION);
    /* the uplink (`vmmgr init --uplink`): where the routes to an internet gateway lead */
    _cleanup_free_ char *uplink = vm_config_get(ctx, "uplink");
    if (uplink && !*uplink) {
        free(uplink);
        uplink = NULL;
    }
    if (uplink && !net_ifname_valid(uplink))
        return vm_error_set(err, VM_ERR_INTERNAL, "the uplink '%s' in the store is not an interface name", uplink);
    _cleanup_stmt_ sqlite3_stmt *gs = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id FROM security_groups ORDER BY rowid", &gs, err) < 0 ||
        group_chains(ctx, f, uplink, gs, err) < 0)
        return -1;
    dispatch_chains(f, uplink, gs);
    if (uplink)
        nat_chains(f, uplink);
    base_chains(f, uplink);
    return fw_elements(ctx, f, t, err);
}

/* Whether both tables are there, of this generation. */
static bool
fw_current(long pid, const char *t)
{
    _cleanup_free_ char *out = NULL;
    vm_error ignore = { 0 };
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "list set bridge %s gen\nlist set inet %s gen\n", t, t);
    if (net_nft_run(pid, cmd, true, &out, true, &ignore) < 0)
        return false;
    char want[40];
    /* nft prints a mark in hex */
    snprintf(want, sizeof(want), "elements = { 0x%08x }", FW_GENERATION);
    const char *a = strstr(out, want);
    return a && strstr(a + 1, want);
}

static int
fw_apply(vm_ctx *ctx, long pid, const char *t, vm_error *err)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot build the firewall");
    int rc = fw_ruleset(ctx, f, t, err);
    fclose(f);
    return rc < 0 ? -1 : fw_run(pid, buf, NULL, false, err);
}

int
net_fw_sync(vm_ctx *ctx, vm_error *err)
{
    long pid = fw_pid(ctx);
    char t[32];
    if (!pid)
        return 0; /* a remote libvirt: its bridges are not reachable from here */
    if (fw_table(ctx, t, err) < 0)
        return -1;
    int fd = fw_lock(ctx, err);
    if (fd < 0)
        return -1;
    int rc = fw_apply(ctx, pid, t, err);
    vm_lock_release(fd);
    return rc;
}

int
net_fw_ensure(vm_ctx *ctx, vm_error *err)
{
    long pid = fw_pid(ctx);
    char t[32];
    if (!pid)
        return 0;
    if (fw_table(ctx, t, err) < 0)
        return -1;
    if (fw_current(pid, t))
        return 0;
    int fd = fw_lock(ctx, err);
    if (fd < 0)
        return -1;
    bool rebuilt = !fw_current(pid, t);
    int rc = rebuilt ? fw_apply(ctx, pid, t, err) : 0;
    vm_lock_release(fd);
    /* tables gone (a reboot, a flush): the Elastic IPs' ARP proxies and routes likely too */
    if (rc == 0 && rebuilt)
        net_eip_plumb_all(ctx);
    return rc;
}

/* An interface's elements in or out, as one transaction; the tables made first if missing (the
 * rebuild reads the store, which already says whether the interface is there). */
static int
fw_eni(vm_ctx *ctx, const char *eni_id, bool add, int *ret_lock, vm_error *err)
{
    long pid = fw_pid(ctx);
    char t[32];
    if (ret_lock)
        *ret_lock = -1;
    if (!pid)
        return 0;
    if (fw_table(ctx, t, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, ENI_SELECT "WHERE e.id = ?", "t", eni_id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return 0;
    eni_row e;
    eni_from_row(st, &e);
    sqlite3_reset(st);
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return vm_error_set_errno(err, errno, VM_ERR_INTERNAL, "cannot build the firewall");
    /* a delete of an element that is not there fails the transaction: add it first */
    int rc = eni_elements(ctx, f, t, "add", &e, err);
    if (rc == 0 && !add)
        rc = eni_elements(ctx, f, t, "delete", &e, err);
    fclose(f);
    if (rc < 0)
        return -1;
    int fd = fw_lock(ctx, err);
    if (fd < 0)
        return -1;
    /* tables missing (a flush, a reboot) or without a set this needs (a group made while none
     * were there): rebuilt from the store, which already says whether the interface is in */
    if (fw_run(pid, buf, NULL, true, err) < 0) {
        rc = fw_apply(ctx, pid, t, err);
        /* the store still holds a leaving interface: its elements go now */
        if (rc == 0 && !add)
            rc = fw_run(pid, buf, NULL, false, err);
    }
    if (rc == 0 && ret_lock)
        *ret_lock = fd;
    else
        vm_lock_release(fd);
    return rc;
}

int
net_fw_eni_add(vm_ctx *ctx, const char *eni_id, vm_error *err)
{
    return fw_eni(ctx, eni_id, true, NULL, err);
}

int
net_fw_eni_delete(vm_ctx *ctx, const char *eni_id, int *ret_lock, vm_error *err)
{
    return fw_eni(ctx, eni_id, false, ret_lock, err);
}
