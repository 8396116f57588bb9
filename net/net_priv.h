/* Shared inside net/: the records and the libvirt side. */
#pragma once

#include <sqlite3.h>

#include "net.h"

/* The default group of a VPC (named "default"). */
int sg_default_of(vm_ctx *ctx, const char *vpc_id, char id[VM_ID_MAX], vm_error *err);
/* Creates a group with EC2's allow-all egress rule (inside the caller's transaction); the default
 * group also lets its members reach each other. */
int sg_insert(vm_ctx *ctx, const char *id, const char *vpc_id, const char *name, const char *desc, bool is_default,
              vm_error *err);
/* A network interface as the store has it, with its VPC's block and its subnet's gateway. */
typedef struct eni_row {
    char id[VM_ID_MAX], subnet[VM_ID_MAX], vpc[VM_ID_MAX], instance[VM_ID_MAX];
    char mac[18], ip[NET_ADDR_MAX];
    char vpc_cidr[NET_CIDR_MAX], gw[NET_ADDR_MAX];
    char az[40]; /* its subnet's zone */
    char description[160];
    char requester[32]; /* a service's interface: "amazon-elb"; "" for an instance's */
    long created_at;
} eni_row;

/* The columns eni_from_row reads; the caller adds WHERE and ORDER BY (e is the interface). */
#define ENI_SELECT                                                                                                    \
    "SELECT e.id, e.subnet_id, s.vpc_id, coalesce(e.instance_id, ''), e.mac, e.ip, e.created_at, v.cidr, s.cidr, " \
    "s.az, e.description, e.requester "                                                                               \
    "FROM network_interfaces e JOIN subnets s ON s.id = e.subnet_id JOIN vpcs v ON v.id = s.vpc_id "
void eni_from_row(sqlite3_stmt *st, eni_row *e);

/* Subnets in use by instances or, for a VPC, anything still inside it. */
long net_count(vm_ctx *ctx, const char *sql, const char *id, vm_error *err);
/* Inserts a subnet record (inside the caller's transaction). */
int subnet_insert(vm_ctx *ctx, const char *id, const char *vpc_id, const net_cidr *c, const char *az, bool default_for_az,
                  vm_error *err);
int net_render_true(vm_node *resp);

/* Every interface of a VPC, oldest first, as its networks' DHCP and DNS hold them: its address, its
 * subnet, and the DNS name of a service's interface ("" for an instance's). */
typedef struct net_vpc_addr {
    char mac[18], ip[NET_ADDR_MAX];
    char subnet_id[VM_ID_MAX];
    char dns_name[96];
} net_vpc_addr;
int net_vpc_addrs(vm_ctx *ctx, const char *vpc_id, net_vpc_addr **ret, size_t *ret_n, vm_error *err);

/* An interface by id, an instance's interface: 1 with *e, 0 when there is none. */
int net_eni_get(vm_ctx *ctx, const char *eni_id, eni_row *e, vm_error *err);
int net_eni_of_instance(vm_ctx *ctx, const char *instance_id, eni_row *e, vm_error *err);

/* Elastic IPs (net/eip.c). */
/* The address's ARP proxy on the uplink and /32 route to the subnet's bridge (add), or their
 * removal; best effort. */
void net_eip_plumb(vm_ctx *ctx, const char *ip, const char *subnet, bool add);
/* The interface goes (its instance terminated): its address is disassociated, its ARP proxy and
 * route removed (inside no transaction). */
int net_eip_release_eni(vm_ctx *ctx, const char *eni_id, const char *subnet, vm_error *err);
/* The nftables commands that add (verb "add") or delete the interface's public address in the
 * maps eip_dnat, eip_snat and the set eip_private of table t (none when it has no address). */
int net_eip_elements(vm_ctx *ctx, FILE *f, const char *t, const char *verb, const char *eni_id, vm_error *err);
/* Every associated address's ARP proxy on the uplink and /32 route (after a rebuild: a reboot). */
void net_eip_plumb_all(vm_ctx *ctx);
/* Their removal from the uplink configured now (before the uplink changes). */
void net_eip_unplumb_all(vm_ctx *ctx);

/* Internet gateways and route tables (net/igw.c, net/route_table.c). */
/* A VPC's main route table (inside the caller's transaction); all its tables, with the VPC. */
int net_rtb_main_create(vm_ctx *ctx, const char *vpc_id, vm_error *err);
int net_rtb_vpc_drop(vm_ctx *ctx, const char *vpc_id, vm_error *err);
/* The default VPC's internet gateway, attached, and its main table's 0.0.0.0/0 route to it (inside
 * the caller's transaction), as EC2 gives every account. */
int net_default_vpc_gateway(vm_ctx *ctx, const char *vpc_id, vm_error *err);
/* Calls fn(subnet id, destination block, NAT address) for every route that leads a subnet out
 * through an internet gateway attached to its VPC (NAT address ""), or through a NAT gateway (its
 * Elastic IP); fn returns -1 when out of memory. */
typedef int (*net_route_fn)(const char *subnet_id, const char *dest_cidr, const char *nat_ip, void *opaque);
int net_rtb_public_routes(vm_ctx *ctx, net_route_fn fn, void *opaque, vm_error *err);
const char *net_region_domain(vm_ctx *ctx, char *buf, size_t len);

/* nftables (net/nft.c): runs cmds in the network namespace of pid (0: this process's) as one
 * transaction, or with each_line one command per line; *ret_out (owned) what nft printed.  quiet: a
 * failure is an answer, not an error (-1 and nothing in *err). */
int net_nft_run(long pid, const char *cmds, bool each_line, char **ret_out, bool quiet, vm_error *err);
/* cmds as one transaction in the namespace named netns (`ip netns`: a router's). */
int net_nft_run_in(const char *netns, const char *cmds, vm_error *err);

/* A service's namespace and its veth pairs (net/svc_plumb.c): the namespace made (0) or already
 * there (1); whether the interface's plug works (its address inside, its bridge end up); the plug
 * made as eth<index> (a half-made one removed first); the bridge end removed. */
int net_svc_netns_ensure(const char *netns, vm_error *err);
bool net_svc_plug_ok(long pid, const net_svc_eni *e, const char *netns, unsigned index);
int net_svc_plug(long pid, const net_svc_eni *e, const char *netns, unsigned index, vm_error *err);
void net_svc_unplug(long pid, const char *eni_id);

/* A routed VPC's router (net/router.c): what it should be, from the store (lvnet.c). */
typedef struct net_router_port {
    char subnet[VM_ID_MAX];
    char bridge[16];
    char gw[NET_ADDR_MAX], network[NET_ADDR_MAX], netmask[NET_ADDR_MAX];
    int prefix;
} net_router_port;
typedef struct net_router_nat {
    char key[NET_CIDR_MAX + 24]; /* eip: the private address; nat: "port . destination block" */
    char ip[NET_ADDR_MAX];       /* the public address */
} net_router_nat;
typedef struct net_router {
    char vpc[VM_ID_MAX];
    char block[NET_CIDR_MAX]; /* the VPC's: never routed to the transit link */
    char domain[64];
    bool dns;               /* the VPC's DNS support: the router answers names */
    net_router_port *ports; /* one per subnet */
    size_t nports;
    const char *dhcp_hosts; /* dnsmasq's dhcp-hostsfile: "mac,ip,name" lines */
    const char *dns_hosts;  /* its addn-hosts: "ip name" lines */
    net_router_nat *eips;   /* 1:1 NAT of an instance's Elastic IP or public address */
    size_t neips;
    net_router_nat *nats;   /* source NAT of a subnet's route to a NAT gateway */
    size_t nnats;
    bool hosts_only; /* only interfaces came or went: a running router gets its hosts files alone */
} net_router;
/* The transit link between libvirtd's namespace and the router: the host's end (vx and 13 hex
 * digits of the VPC id) and both addresses, a /30 of 100.64.0.0/10 chosen by the VPC id. */
void net_router_transit(const char *vpc_id, char host_if[16], char host_ip[NET_ADDR_MAX],
                        char router_ip[NET_ADDR_MAX]);
/* Every public address of a VPC's interfaces (Elastic IPs, public addresses at launch, NAT
 * gateways'): ip the public address, key the private one. */
int net_vpc_public_addrs(vm_ctx *ctx, const char *vpc_id, net_router_nat **ret, size_t *ret_n, vm_error *err);
/* The router's namespace; a subnet's port (a veth pair: its bridge's end, the router's end). */
void net_router_netns(const char *vpc_id, char buf[64]);
void net_router_port_names(const char *subnet_id, char br_end[16], char r_end[16]);
/* Brings the router of r->vpc to r: its namespace, a port per subnet (and none else), its dnsmasq
 * (restarted when its configuration changes, SIGHUP when its hosts do).  pid: libvirtd's. */
int net_router_apply(vm_ctx *ctx, long pid, const net_router *r, vm_error *err);
/* Its namespace is there and its dnsmasq runs (a cheap check, for each reconcile). */
bool net_router_alive(vm_ctx *ctx, const char *vpc_id);
/* Frees the router's lease of ip (as net_dhcp_release does libvirt's). */
int net_router_release(vm_ctx *ctx, const char *vpc_id, const char *subnet_id, const char *ip, const char *mac,
                       vm_error *err);
/* A subnet's port goes (best effort); the router goes with its dnsmasq and files. */
void net_router_port_remove(long pid, const char *subnet_id);
void net_router_remove(vm_ctx *ctx, const char *vpc_id);

/* libvirt (net/lvnet.c). */
void net_network_name(const char *subnet_id, char buf[64]);
/* The bridge of a subnet's network. */
void net_bridge_name(const char *subnet_id, char buf[16]);
/* Runs argv (a tool, NULL-terminated, at most 13 words) inside the network namespace of pid. */
int net_run_in_netns(long pid, const char *const *argv, vm_error *err);
/* In the namespace of pid: the proxy ARP entry for ip on the uplink and its /32 route to bridge
 * (add), or their removal; best effort. */
void net_proxy_arp(long pid, const char *ip, const char *bridge, const char *uplink, bool add);
/* The same with the route through a gateway on dev (via: a routed VPC's router). */
void net_proxy_arp_via(long pid, const char *ip, const char *dev, const char *via, const char *uplink, bool add);
/* The pid of the local libvirtd (whose network namespace holds the bridges), 0 when unknown. */
long net_libvirtd_pid(const vm_ctx *ctx);
/* Removes what the nwfilter versions of vmmgr defined (filters, ipsets); best effort. */
void net_legacy_filters_remove(vm_ctx *ctx);
/* The ways in and out changed (routes, NAT gateways, Elastic IPs): the firewall and every routed
 * VPC's router (its NAT) from the store; best effort, the next change or reconcile retries. */
void net_paths_sync(vm_ctx *ctx);
/* Starts the subnet's network from the store when libvirt does not run it. */
int net_network_ensure(vm_ctx *ctx, const char *subnet_id, vm_error *err);
int net_network_destroy(vm_ctx *ctx, const char *subnet_id, vm_error *err);
/* Frees dnsmasq's lease of ip (the guest is gone and never released it). */
int net_dhcp_release(vm_ctx *ctx, const char *subnet_id, const char *ip, const char *mac, vm_error *err);
/* Brings the DNS names of a VPC's instances into every network of the VPC. */
int net_dns_sync(vm_ctx *ctx, const char *vpc_id, vm_error *err);
/* One interface's entries in (add) or out of its VPC's networks without reading them back: its DHCP
 * host in its subnet's network, its name in every subnet's DNS; a network that is not running or
 * refuses (the entry is already there, or gone: a repeated step) is converged from the store.  What a
 * launch and a terminate cost grows with the VPC's subnets, not with its instances.  With no
 * subnet_id (net_dns_sync), every network of the VPC is converged. */
int net_dns_eni(vm_ctx *ctx, const char *vpc_id, const char *subnet_id, const char *mac, const char *ip, bool add,
                vm_error *err);

/* nftables (net/fw.c).  sync: both tables rebuilt from the store in one transaction (a rule or
 * membership change); ensure: rebuilt only when missing or of another generation (reconcile);
 * eni_add/delete: one interface's elements, a constant-size transaction (launch, terminate). */
void net_tap_name(const char *eni_id, char buf[16]);
int net_fw_sync(vm_ctx *ctx, vm_error *err);
int net_fw_ensure(vm_ctx *ctx, vm_error *err);
int net_fw_eni_add(vm_ctx *ctx, const char *eni_id, vm_error *err);
/* delete leaves the firewall's lock in *ret_lock (-1 when none was taken) for the caller to
 * release once the interface's record is gone: a rebuild in between would put the elements back. */
int net_fw_eni_delete(vm_ctx *ctx, const char *eni_id, int *ret_lock, vm_error *err);

#include "../vmmgr/core/filter.h"
/* Ids given as PREFIX.N must all exist: get(ctx, id, err) for each. */
