/* Subnets on the wire: CreateSubnet, DescribeSubnets, DeleteSubnet and ModifySubnetAttribute parsed
 * into net/subnet.c's typed calls, their answers and describe filters rendered here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/cleanup.h"
#include "../../core/filter.h"
#include "../../core/tags.h"
#include "../../../net/net.h"
#include "ec2.h"

static int
render_subnet(vm_ctx *ctx, vm_node *it, const net_subnet *s, vm_error *err)
{
    char cidr[NET_CIDR_MAX], arn[128];
    net_cidr_format(&s->cidr, cidr);
    long available = net_subnet_available(ctx, s, err);
    if (available < 0)
        return -1;
    vm_node_str(it, "subnetId", NULL, s->id);
    snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:%s:subnet/%s", ctx->region, ctx->account_id, s->id);
    vm_node_str(it, "subnetArn", NULL, arn);
    vm_node_str(it, "state", NULL, "available");
    vm_node_str(it, "vpcId", NULL, s->vpc_id);
    vm_node_str(it, "ownerId", NULL, ctx->account_id);
    vm_node_str(it, "cidrBlock", NULL, cidr);
    vm_node_int(it, "availableIpAddressCount", NULL, available);
    vm_node_str(it, "availabilityZone", NULL, s->az);
    vm_node_bool(it, "defaultForAz", NULL, s->default_for_az);
    vm_node_bool(it, "mapPublicIpOnLaunch", NULL, s->map_public_ip);
    vm_node_bool(it, "assignIpv6AddressOnCreation", NULL, false);
    vm_node_list(it, "ipv6CidrBlockAssociationSet", NULL);
    char zone_id[48];
    vm_zone_id_of(ctx, s->az, zone_id);
    vm_node_str(it, "availabilityZoneId", NULL, zone_id);
    vm_node_bool(it, "mapCustomerOwnedIpOnLaunch", NULL, false);
    vm_node_bool(it, "enableDns64", NULL, false);
    vm_node_bool(it, "ipv6Native", NULL, false);
    vm_node *dns = vm_node_struct(it, "privateDnsNameOptionsOnLaunch", NULL);
    vm_node_str(dns, "hostnameType", NULL, "ip-name");
    vm_node_bool(dns, "enableResourceNameDnsARecord", NULL, false);
    vm_node_bool(dns, "enableResourceNameDnsAAAARecord", NULL, false);
    return vm_tags_render(ctx, it, s->id, err);
}

int
ec2_create_subnet(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    net_subnet_req req = { .vpc_id = vm_params_require(p, "VpcId", err) };
    req.cidr = req.vpc_id ? vm_params_require(p, "CidrBlock", err) : NULL;
    if (!req.cidr)
        return -1;
    req.zone = net_zone_param(ctx, vm_params_get(p, "AvailabilityZone"), vm_params_get(p, "AvailabilityZoneId"), err);
    if (req.zone == -2)
        return -1;
    if (vm_params_get(p, "Ipv6CidrBlock") || vm_params_get(p, "Ipv6Native"))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION, "IPv6 subnets are not offered by this host");
    vm_tag *tags = NULL;
    if (vm_tags_from_spec(p, "subnet", &tags, &req.ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    req.tags = owned;
    net_subnet s;
    if (net_subnet_create(ctx, &req, &s, err) < 0)
        return -1;
    return render_subnet(ctx, vm_node_struct(resp, "subnet", NULL), &s, err);
}

static const char *
subnet_subject(vm_ctx *ctx, const void *obj, const char *name, char *buf, size_t len)
{
    const net_subnet *s = obj;
    if (strcmp(name, "subnet-id") == 0)
        return s->id;
    if (strcmp(name, "vpc-id") == 0)
        return s->vpc_id;
    if (strcmp(name, "cidr-block") == 0 || strcmp(name, "cidr") == 0 || strcmp(name, "cidrBlock") == 0) {
        net_cidr_format(&s->cidr, buf);
        return buf;
    }
    if (strcmp(name, "availability-zone") == 0 || strcmp(name, "availabilityZone") == 0)
        return s->az;
    if (strcmp(name, "availability-zone-id") == 0 || strcmp(name, "availabilityZoneId") == 0) {
        char id[48];
        vm_zone_id_of(ctx, s->az, id);
        snprintf(buf, len, "%s", id);
        return buf;
    }
    if (strcmp(name, "default-for-az") == 0 || strcmp(name, "defaultForAz") == 0)
        return s->default_for_az ? "true" : "false";
    if (strcmp(name, "map-public-ip-on-launch") == 0)
        return s->map_public_ip ? "true" : "false";
    if (strcmp(name, "state") == 0)
        return "available";
    if (strcmp(name, "owner-id") == 0)
        return ctx->account_id;
    if (strcmp(name, "available-ip-address-count") == 0) {
        vm_error ignore = { 0 };
        long available = net_subnet_available(ctx, s, &ignore);
        snprintf(buf, len, "%ld", available < 0 ? (long)net_subnet_usable(&s->cidr) : available);
        return buf;
    }
    if (strcmp(name, "subnet-arn") == 0) {
        snprintf(buf, len, "arn:aws:ec2:%s:%s:subnet/%s", ctx->region, ctx->account_id, s->id);
        return buf;
    }
    if (strcmp(name, "private-dns-name-options-on-launch.hostname-type") == 0)
        return "ip-name";
    if (strcmp(name, "private-dns-name-options-on-launch.enable-resource-name-dns-a-record") == 0 ||
        strcmp(name, "private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record") == 0)
        return "false";
    if (strcmp(name, "ipv6-native") == 0 || strcmp(name, "enable-dns64") == 0 ||
        strcmp(name, "map-customer-owned-ip-on-launch") == 0)
        return "false";
    return NULL;
}

int
ec2_describe_subnets(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    _cleanup_free_ net_subnet *all = NULL;
    size_t nids, n;
    if (vm_params_list(p, "SubnetId", &ids, &nids, err) < 0 || vm_filters_parse(p, "DescribeSubnets", &fs, err) < 0)
        return -1;
    for (size_t i = 0; i < nids; i++) {
        net_subnet s;
        if (subnet_get(ctx, ids[i], &s, err) < 0)
            return -1;
    }
    if (net_subnet_list(ctx, &all, &n, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "subnetSet", "Subnets");
    for (size_t i = 0; i < n; i++) {
        if (nids && !vm_match_any(all[i].id, ids))
            continue;
        int m = vm_filter_pass(ctx, fs, all[i].id, subnet_subject, &all[i], err);
        if (m < 0 || (m && render_subnet(ctx, vm_node_item(list), &all[i], err) < 0))
            return -1;
    }
    return 0;
}

int
ec2_delete_subnet(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "SubnetId", err);
    if (!id || net_subnet_delete(ctx, id, err) < 0)
        return -1;
    return ec2_render_true(resp);
}

int
ec2_modify_subnet_attribute(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "SubnetId", err);
    net_subnet s;
    if (!id || subnet_get(ctx, id, &s, err) < 0)
        return -1;
    static const char *const unsupported[] = { "AssignIpv6AddressOnCreation.Value", "MapCustomerOwnedIpOnLaunch.Value",
                                               "EnableDns64.Value", "EnableLniAtDeviceIndex",
                                               "DisableLniAtDeviceIndex.Value", NULL };
    for (const char *const *u = unsupported; *u; u++)
        if (vm_params_get(p, *u))
            return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "%s is not offered by this host (IPv4 only)", *u);
    if (!vm_params_get(p, "MapPublicIpOnLaunch.Value"))
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "One attribute is required (MapPublicIpOnLaunch)");
    bool on;
    if (vm_params_bool(p, "MapPublicIpOnLaunch.Value", false, &on, err) < 0 ||
        net_subnet_set_map_public_ip(ctx, id, on, err) < 0)
        return -1;
    return ec2_render_true(resp);
}
