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
#include "../vmmgr/core/params.h"
#include "cidr.h"

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
int vpc_create(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int vpc_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int vpc_delete(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int vpc_describe_attribute(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int vpc_modify_attribute(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int subnet_create(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int subnet_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int subnet_delete(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int subnet_modify_attribute(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int sg_create(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int sg_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int sg_delete(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int sg_authorize_ingress(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int sg_authorize_egress(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int sg_revoke_ingress(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int sg_revoke_egress(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int sg_describe_rules(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int eni_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int igw_create(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int igw_attach(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int igw_detach(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int igw_delete(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int igw_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int rtb_create(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int rtb_delete(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int rtb_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int rtb_associate(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int rtb_disassociate(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int rtb_replace_association(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int route_create(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int route_replace(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int route_delete(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int eip_allocate(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int eip_associate(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int eip_disassociate(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int eip_release(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int eip_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int natgw_create(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int natgw_delete(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);
int natgw_describe(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err);

/* Refuses (InvalidVpc.Range) a block that overlaps a network of the host where libvirtd runs
 * (its namespace's routes, vmmgr's own bridges aside): the bridge would take its addresses.
 * Nothing to check for another host's libvirtd. */
int net_host_block_check(vm_ctx *ctx, const net_cidr *c, vm_error *err);

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
