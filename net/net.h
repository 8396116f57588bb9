/* Networking: VPCs, subnets (one libvirt network each: a bridge and a dnsmasq), vmmgr's own
 * address allocator, and security groups enforced by nftables tables that vmmgr builds (fw.c).
 *
 * The store is the truth for every address: an interface's address is chosen in the same
 * transaction that records the instance (UNIQUE (subnet, address) in SQL), and dnsmasq only ever
 * serves it by a static MAC entry.  libvirt's networks are transient and rebuilt from the store
 * whenever one is missing (after a host reboot), so they never disagree with it for long. */
#pragma once

#include <stdbool.h>

#include "../vmmgr/core/ctx.h"
#include "../vmmgr/core/ids.h"
#include "../vmmgr/core/node.h"
#include "../vmmgr/core/tags.h"
#include "../vmmgr/core/filter.h"
#include "cidr.h"

/* The instance metadata service's address in every subnet (imds/ serves it; the firewall lets
 * guests reach it). */
#define NET_IMDS_ADDR "169.254.169.254"

/* A Linux interface name (1–15 characters, no '/', space or quote). */
bool net_ifname_valid(const char *name);
/* The host interface that leads to the LAN or the internet (`vmmgr init --uplink`; "none" or NULL:
 * none), the way out of the subnets whose route tables lead to an internet gateway (source NAT);
 * the firewall is rebuilt with it. */
int net_uplink_set(vm_ctx *ctx, const char *name, vm_error *err);
/* The pool Elastic IPs come from (`vmmgr init --public-ips FIRST-LAST|BLOCK|none`), addresses of
 * the uplink's LAN that nothing else uses. */
int net_public_ips_set(vm_ctx *ctx, const char *spec, vm_error *err);
/* Whether the host has a pool of public addresses (`init --public-ips`); how many are free (0
 * without a pool). */
bool net_public_pool(vm_ctx *ctx);
long net_public_free(vm_ctx *ctx, vm_error *err);
/* Gives the interface the pool's lowest free address as its public address, Amazon's (not an
 * Elastic IP), released with it (inside the caller's transaction): AddressLimitExceeded when none
 * is left. */
int net_public_ip_assign(vm_ctx *ctx, const char *eni_id, vm_error *err);
/* The internet gateway attached to the VPC: 1 with its id (igw may be NULL), 0 none. */
int net_vpc_igw(vm_ctx *ctx, const char *vpc_id, char igw[VM_ID_MAX], vm_error *err);
/* The interface's Elastic IP: 1 with the address, its public DNS name, allocation and association
 * ids (each buffer may be NULL), 0 when it has none. */
int net_instance_public(vm_ctx *ctx, const char *eni_id, char ip[NET_ADDR_MAX], char *dns, size_t dnslen,
                        char alloc[VM_ID_MAX], char assoc[VM_ID_MAX]);

/* Actions. */

/* Refuses (InvalidVpc.Range) a block that overlaps a network of the host where libvirtd runs
 * (its namespace's routes, vmmgr's own bridges aside): the bridge would take its addresses.
 * Nothing to check for another host's libvirtd. */
int net_host_block_check(vm_ctx *ctx, const net_cidr *c, vm_error *err);
/* Whether a route there overlaps c (taken and iface: the route, vmmgr's bridges aside; NULL: any). */
bool net_host_block_taken(vm_ctx *ctx, const net_cidr *c, char taken[NET_CIDR_MAX], char iface[32]);

/* `vmmgr init`: the default VPC (cidr, 172.31.0.0/16 unless asked otherwise), its default subnet
 * (the first /20) and default security group, unless one exists.  Starts the subnet's network. */
int net_default_vpc_ensure(vm_ctx *ctx, const char *cidr, vm_error *err);

/* RunInstances: where the instances' interfaces go, checked before anything is recorded. */
typedef struct net_plan {
    char subnet_id[VM_ID_MAX];
    char vpc_id[VM_ID_MAX];
    char groups[16][VM_ID_MAX];
    size_t ngroups;
    char ip[NET_ADDR_MAX]; /* "" to allocate */
    bool public_ip;        /* a public address from the pool (MapPublicIpOnLaunch, AssociatePublicIpAddress) */
} net_plan;
/* Where a launch puts its instances' interface: any field may be empty (NULL/0): the default
 * subnet, an allocated address, the VPC's default group. */
typedef struct net_launch_req {
    const char *subnet_id;
    const char *private_ip;
    const char *const *group_ids;   /* security groups by id */
    size_t n_group_ids;
    const char *const *group_names; /* by name, in the subnet's VPC */
    size_t n_group_names;
    const char *zone; /* Placement.AvailabilityZone: without a subnet, that zone's default subnet */
    int public_ip;    /* NetworkInterface.1.AssociatePublicIpAddress: 1, 0, or -1 (the subnet's MapPublicIpOnLaunch) */
} net_launch_req;
/* The availability zone of subnet_id (the first zone when it has none). */
void net_subnet_zone(vm_ctx *ctx, const char *subnet_id, char buf[40]);
/* The default VPC's default subnet in zone (NULL: the first zone). */
int net_default_subnet_of_zone(vm_ctx *ctx, const char *zone, char id[VM_ID_MAX], vm_error *err);
/* The availability zone of instance_id (its interface's subnet's; the first zone without one). */
void net_instance_zone(vm_ctx *ctx, const char *instance_id, char buf[40]);
/* Checks req against the store for count instances and resolves it into *plan. */
int net_plan_launch(vm_ctx *ctx, const net_launch_req *req, long count, net_plan *plan, vm_error *err);
/* Records the primary interface of instance_id with its address (inside the caller's transaction). */
int net_eni_record(vm_ctx *ctx, const net_plan *plan, const char *instance_id, vm_error *err);

/* What the domain definition needs about an instance's interface. */
typedef struct net_nic {
    char network[64]; /* libvirt network name */
    char mac[18];
    char tap[16];     /* the tap device's name (the firewall knows it by it) */
    char ip[NET_ADDR_MAX];
    char subnet_id[VM_ID_MAX];
} net_nic;
/* 1 with *nic filled when the instance has an interface, 0 when not. */
int net_instance_nic(vm_ctx *ctx, const char *instance_id, net_nic *nic, vm_error *err);
/* Makes libvirt ready for the instance's interface: network running, the static DHCP entry and
 * DNS names, the security group filters and the interface's filter.  Idempotent. */
int net_instance_prepare(vm_ctx *ctx, const char *instance_id, vm_error *err);
/* Terminate: the DHCP and DNS entries and the firewall's elements go, the address is free again. */
int net_instance_release(vm_ctx *ctx, const char *instance_id, vm_error *err);
/* The network fields of an instance in DescribeInstances (privateIpAddress, subnetId, vpcId,
 * groupSet, networkInterfaceSet …). */
int net_instance_render(vm_ctx *ctx, vm_node *item, const char *instance_id, vm_error *err);
/* The private address of an instance ("" when it has none). */
int net_instance_ip(vm_ctx *ctx, const char *instance_id, char ip[NET_ADDR_MAX], vm_error *err);
/* For DescribeInstances filters: the value of a network filter name (subnet-id, vpc-id,
 * private-ip-address, network-interface.addresses.private-ip-address, private-dns-name) into buf;
 * 1 when name is one of them, 0 when not. */
int net_instance_filter_value(vm_ctx *ctx, const char *instance_id, const char *name, char *buf, size_t len,
                              vm_error *err);
/* ModifyInstanceAttribute --groups: replaces the groups of the instance's interface; applies to
 * the running guest at once. */
int net_instance_set_groups(vm_ctx *ctx, const char *instance_id, const char *const *group_ids, size_t n,
                            vm_error *err);
/* The interface's security groups replaced by these (inside the caller's transaction; checked by
 * the caller); net_fw_sync applies them. */
int net_eni_groups_replace(vm_ctx *ctx, const char *eni_id, const char (*groups)[VM_ID_MAX], size_t n,
                           vm_error *err);
/* The firewall's tables made to match the store (one transaction), as after any change of groups. */
int net_fw_sync(vm_ctx *ctx, vm_error *err);
/* A service's interface (a load balancer's), requester-managed: recorded in subnet_id with groups
 * (inside the caller's transaction); dns: the name the VPC's DNS gives its address. */
int net_svc_eni_record(vm_ctx *ctx, const char *subnet_id, const char (*groups)[VM_ID_MAX], size_t ngroups,
                       const char *description, const char *requester, const char *dns, char eni_id[VM_ID_MAX],
                       vm_error *err);
/* What a service needs to configure its side of the interface. */
typedef struct net_svc_eni {
    char id[VM_ID_MAX], subnet[VM_ID_MAX], vpc[VM_ID_MAX];
    char mac[18], ip[NET_ADDR_MAX], gw[NET_ADDR_MAX];
    int prefix;
} net_svc_eni;
int net_svc_eni_get(vm_ctx *ctx, const char *eni_id, net_svc_eni *ret, vm_error *err);
/* Plugs the interface into the named network namespace (made when missing) as eth<index>: a veth
 * pair whose other end is on the subnet's bridge in libvirtd's namespace, with the interface's MAC
 * and address, what leaves from its address routed through its subnet (a table of its own), and for
 * index 0 the namespace's default route; its DNS name and firewall elements first, so it is never
 * unfiltered.  Idempotent: a working plug is left alone.  0 also for a remote libvirt. */
int net_svc_eni_plug(vm_ctx *ctx, const char *eni_id, const char *netns, unsigned index, vm_error *err);
/* Unplugs the interface and forgets it: firewall elements, the veth, DNS and DHCP entries, the
 * record.  A missing interface is no error. */
int net_svc_eni_release(vm_ctx *ctx, const char *eni_id, vm_error *err);
/* Removes a namespace net_svc_eni_plug made (best effort). */
void net_svc_netns_delete(const char *netns);

/* Reconcile: every subnet's network runs (after a host reboot they are gone). */
int net_reconcile(vm_ctx *ctx, vm_error *err);

/* Typed requests below the EC2 edge (vmmgr/services/ec2/gateways.c, addresses.c parse and render):
 * each checks what it is given against the store, answers DryRunOperation when ctx is a dry run and
 * everything checks, and changes nothing when it fails.  Lists are owned by the caller (free). */

/* Internet gateways (igw.c). */
typedef struct net_igw {
    char id[VM_ID_MAX], vpc_id[VM_ID_MAX]; /* vpc_id "" when detached */
} net_igw;
/* The gateway (InvalidInternetGatewayId.Malformed, InvalidInternetGatewayID.NotFound) and the VPC it
 * is attached to ("" when none); vpc_id may be NULL. */
int igw_get(vm_ctx *ctx, const char *id, char vpc_id[VM_ID_MAX], vm_error *err);
int net_igw_create(vm_ctx *ctx, const vm_tag *tags, size_t ntags, net_igw *out, vm_error *err);
/* attach: to vpc_id (one gateway per VPC); !attach: detach it from vpc_id, where it must be. */
int net_igw_attach(vm_ctx *ctx, const char *igw_id, const char *vpc_id, bool attach, vm_error *err);
/* A detached gateway only (DependencyViolation). */
int net_igw_delete(vm_ctx *ctx, const char *igw_id, vm_error *err);
int net_igw_list(vm_ctx *ctx, net_igw **ret, size_t *n, vm_error *err);

/* NAT gateways (natgw.c): public ones, an interface of a public subnet holding an Elastic IP. */
typedef struct net_natgw {
    char id[VM_ID_MAX], subnet[VM_ID_MAX], vpc[VM_ID_MAX], alloc[VM_ID_MAX], eni[VM_ID_MAX];
    char private_ip[NET_ADDR_MAX], public_ip[NET_ADDR_MAX], state[16], token[65];
    long created_at, deleted_at;
} net_natgw;
typedef struct net_natgw_req {
    const char *subnet_id, *allocation_id;
    const char *client_token; /* NULL: none */
    const vm_tag *tags;
    size_t ntags;
} net_natgw_req;
/* The gateway's VPC and whether it is available (either may be NULL). */
int natgw_get(vm_ctx *ctx, const char *id, char vpc_id[VM_ID_MAX], bool *available, vm_error *err);
/* 0: made, *g (state pending); 1: made before with the same client token, *g as it is now. */
int net_natgw_create(vm_ctx *ctx, const net_natgw_req *req, net_natgw *g, vm_error *err);
int net_natgw_delete(vm_ctx *ctx, const char *id, vm_error *err);
/* What DescribeNatGateways shows: every gateway, a deleted one for an hour, oldest first. */
int net_natgw_list(vm_ctx *ctx, net_natgw **ret, size_t *n, vm_error *err);

/* Elastic IPs (eip.c): addresses of the pool allocated by AllocateAddress. */
typedef struct net_eip {
    char alloc[VM_ID_MAX], ip[NET_ADDR_MAX], assoc[VM_ID_MAX];
    bool associated;
    struct {
        char id[VM_ID_MAX], instance[VM_ID_MAX], subnet[VM_ID_MAX], ip[NET_ADDR_MAX];
    } eni; /* when associated */
} net_eip;
/* By allocation id, or without one (NULL) by public address. */
int net_eip_find(vm_ctx *ctx, const char *alloc, const char *ip, net_eip *r, vm_error *err);
/* want: the address asked for (NULL: the pool's lowest free one). */
int net_eip_allocate(vm_ctx *ctx, const char *want, const vm_tag *tags, size_t ntags, net_eip *r, vm_error *err);
typedef struct net_eip_assoc_req {
    const char *allocation_id, *public_ip;   /* the address: by allocation, else by address */
    const char *instance_id, *eni_id;        /* exactly one */
    const char *private_ip;                  /* NULL, or the interface's own */
    bool allow_reassociation;
} net_eip_assoc_req;
int net_eip_associate(vm_ctx *ctx, const net_eip_assoc_req *req, char assoc[VM_ID_MAX], vm_error *err);
/* By association id, or without one by public address. */
int net_eip_disassociate(vm_ctx *ctx, const char *assoc, const char *ip, vm_error *err);
int net_eip_release(vm_ctx *ctx, const char *alloc, const char *ip, vm_error *err);
int net_eip_list(vm_ctx *ctx, net_eip **ret, size_t *n, vm_error *err);
/* The public DNS name EC2 gives an address (ec2-198-51-100-1.compute-1.amazonaws.com). */
void net_public_dns(vm_ctx *ctx, const char *ip, char *buf, size_t len);

/* Route tables (route_table.c): every table has the local route (the VPC's block) first; its
 * associations list the main one first. */
typedef struct net_route {
    char cidr[NET_CIDR_MAX];
    char gateway[VM_ID_MAX]; /* "local" or an internet gateway ("" for a NAT gateway's route) */
    char nat[VM_ID_MAX];     /* the NAT gateway, "" when none */
    char state[12];          /* active, blackhole */
    char origin[24];         /* CreateRouteTable, CreateRoute */
} net_route;
typedef struct net_rtb_assoc {
    char id[VM_ID_MAX], subnet[VM_ID_MAX]; /* subnet "" for the main association */
    bool main;
} net_rtb_assoc;
typedef struct net_rtb {
    char id[VM_ID_MAX], vpc_id[VM_ID_MAX];
    bool main;
    net_route *routes;
    size_t nroutes;
    net_rtb_assoc *assocs;
    size_t nassocs;
} net_rtb;
void net_rtb_clear(net_rtb *t);
void net_rtb_list_free(net_rtb *v, size_t n);
/* The table (InvalidRouteTableId.Malformed/NotFound) with its routes and associations (t may be
 * NULL: only checked; else net_rtb_clear it). */
int net_rtb_get(vm_ctx *ctx, const char *id, net_rtb *t, vm_error *err);
int net_rtb_list(vm_ctx *ctx, net_rtb **ret, size_t *n, vm_error *err);
int net_rtb_create(vm_ctx *ctx, const char *vpc_id, const vm_tag *tags, size_t ntags, net_rtb *out, vm_error *err);
/* Not a main table, nor one with subnets (DependencyViolation). */
int net_rtb_delete(vm_ctx *ctx, const char *id, vm_error *err);
typedef enum net_route_op { NET_ROUTE_CREATE, NET_ROUTE_REPLACE, NET_ROUTE_DELETE } net_route_op;
typedef struct net_route_req {
    const char *route_table_id;
    const char *destination;                /* an IPv4 block outside the VPC's */
    const char *gateway_id, *nat_gateway_id; /* the target, exactly one (none for a delete) */
} net_route_req;
int net_route_change(vm_ctx *ctx, net_route_op op, const net_route_req *req, vm_error *err);
/* A subnet of the table's VPC without an association of its own. */
int net_rtb_associate(vm_ctx *ctx, const char *rtb_id, const char *subnet_id, char assoc[VM_ID_MAX], vm_error *err);
/* Not the main association. */
int net_rtb_disassociate(vm_ctx *ctx, const char *assoc, vm_error *err);
/* The association (the main one too) moves to rtb_id, of the same VPC, under a new id. */
int net_rtb_replace_association(vm_ctx *ctx, const char *assoc, const char *rtb_id, char fresh[VM_ID_MAX],
                                vm_error *err);

/* VPCs (vpc.c) and subnets (subnet.c). */
typedef struct net_vpc {
    char id[VM_ID_MAX];
    net_cidr cidr;
    bool is_default, dns_support, dns_hostnames;
    /* its block overlaps another VPC's (or a network of the host): its subnets' bridges have no
     * address on the host, and a router namespace of its own routes between them (net/router.c) */
    bool routed;
    long created_at;
} net_vpc;
typedef struct net_subnet {
    char id[VM_ID_MAX];
    char vpc_id[VM_ID_MAX];
    net_cidr cidr;
    bool default_for_az, map_public_ip;
    char az[40];
} net_subnet;
/* InvalidVpcID.Malformed/NotFound, InvalidSubnetID.Malformed/NotFound. */
int vpc_get(vm_ctx *ctx, const char *id, net_vpc *ret, vm_error *err);
int subnet_get(vm_ctx *ctx, const char *id, net_subnet *ret, vm_error *err);
/* A VPC of block cidr (/16 to /28, overlapping no other), with its default security group and
 * main route table. */
int net_vpc_create(vm_ctx *ctx, const char *cidr, const vm_tag *tags, size_t ntags, net_vpc *out, vm_error *err);
/* An empty VPC only (DependencyViolation: subnets, groups, an attached gateway, route tables). */
int net_vpc_delete(vm_ctx *ctx, const char *id, vm_error *err);
int net_vpc_list(vm_ctx *ctx, net_vpc **ret, size_t *n, vm_error *err);
typedef enum net_vpc_attr { NET_VPC_DNS_SUPPORT, NET_VPC_DNS_HOSTNAMES } net_vpc_attr;
/* enableDnsHostnames needs enableDnsSupport; the VPC's DNS follows at once. */
int net_vpc_set_attribute(vm_ctx *ctx, const char *id, net_vpc_attr attr, bool on, vm_error *err);
/* The zone that AvailabilityZone name and/or AvailabilityZoneId id (either may be NULL) name: its
 * index, -1 when neither is given, -2 (err set, InvalidParameterValue/Combination) when they name
 * no zone or two different ones. */
int net_zone_param(vm_ctx *ctx, const char *name, const char *id, vm_error *err);
typedef struct net_subnet_req {
    const char *vpc_id, *cidr; /* a block inside the VPC's, overlapping none of its subnets */
    int zone;                  /* an index of ctx->zones; -1: the zone with the fewest of the VPC's subnets */
    const vm_tag *tags;
    size_t ntags;
} net_subnet_req;
/* Recorded, then its network started (a network that cannot start takes the record back). */
int net_subnet_create(vm_ctx *ctx, const net_subnet_req *req, net_subnet *out, vm_error *err);
/* A subnet without interfaces (DependencyViolation); its route table association goes with it. */
int net_subnet_delete(vm_ctx *ctx, const char *id, vm_error *err);
int net_subnet_list(vm_ctx *ctx, net_subnet **ret, size_t *n, vm_error *err);
int net_subnet_set_map_public_ip(vm_ctx *ctx, const char *id, bool on, vm_error *err);
/* Its addresses that no interface holds. */
long net_subnet_available(vm_ctx *ctx, const net_subnet *s, vm_error *err);

/* Security groups (secgroup.c). */
/* One rule as stored.  protocol is "tcp", "udp", "icmp" or "-1"; ports -1 when they do not apply. */
typedef struct net_sg_rule {
    char id[VM_ID_MAX];
    char group_id[VM_ID_MAX];
    bool egress;
    char protocol[8];
    long from, to;
    char cidr[NET_CIDR_MAX]; /* "" when the source is a group */
    char source[VM_ID_MAX];  /* "" when the source is a CIDR */
    char description[256];
} net_sg_rule;
typedef struct net_sg {
    char id[VM_ID_MAX], vpc[VM_ID_MAX];
    char name[256], desc[256];
    bool in_default_vpc;
} net_sg;
/* One permission with one source, as asked: protocol and ports checked by the caller. */
typedef struct net_sg_perm {
    char protocol[8]; /* tcp, udp, icmp or -1 */
    long from, to;    /* -1 when they do not apply */
    const char *cidr;                   /* the source: an IPv4 block, */
    const char *group_id, *group_name;  /* or a group of the same VPC (a name "sg-…" is an id) */
    const char *description;            /* NULL: none */
} net_sg_perm;
typedef struct net_sg_change {
    const char *group_id, *group_name; /* the group: by id, else by name in the default VPC */
    bool egress;
    const net_sg_perm *perms;
    size_t nperms;
    const char *const *rule_ids; /* revoke: rules by id, besides perms */
    size_t nrule_ids;
} net_sg_change;
/* InvalidGroupId.Malformed, InvalidGroup.NotFound; vpc_id may be NULL. */
int sg_get(vm_ctx *ctx, const char *id, char vpc_id[VM_ID_MAX], vm_error *err);
/* A group by name: in vpc_id, or in the default VPC when vpc_id is NULL. */
int sg_by_name(vm_ctx *ctx, const char *name, const char *vpc_id, char id[VM_ID_MAX], vm_error *err);
/* A group of vpc_id (NULL: the default VPC) with the rule every new group has (all out). */
int net_sg_create(vm_ctx *ctx, const char *name, const char *desc, const char *vpc_id, const vm_tag *tags, size_t ntags,
                  char id[VM_ID_MAX], vm_error *err);
/* Not a VPC's default group, nor one an interface or another group's rule uses. */
int net_sg_delete(vm_ctx *ctx, const char *group_id, const char *group_name, vm_error *err);
/* Every rule of the change added (*added: the rules as recorded, owned), or each removed (it must
 * exist); all or none; the firewall follows at once. */
int net_sg_authorize(vm_ctx *ctx, const net_sg_change *c, net_sg_rule **added, size_t *n, vm_error *err);
int net_sg_revoke(vm_ctx *ctx, const net_sg_change *c, vm_error *err);
int net_sg_list(vm_ctx *ctx, net_sg **ret, size_t *n, vm_error *err);
/* A group's rules of one direction by protocol and ports; every rule of every group. */
int net_sg_rules_of(vm_ctx *ctx, const char *group_id, bool egress, net_sg_rule **ret, size_t *n, vm_error *err);
int net_sg_rule_list(vm_ctx *ctx, net_sg_rule **ret, size_t *n, vm_error *err);

/* DescribeNetworkInterfaces: the interfaces named (each must exist; none: all) that pass the
 * filters, rendered into resp (as DescribeInstances renders an instance's). */
int net_eni_describe(vm_ctx *ctx, const char *const *ids, size_t nids, const vm_filters *fs, vm_node *resp,
                     vm_error *err);
