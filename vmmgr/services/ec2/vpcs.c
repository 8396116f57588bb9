/* VPCs on the wire: CreateVpc, DescribeVpcs, DeleteVpc and Describe/ModifyVpcAttribute parsed into
 * net/vpc.c's typed calls, their answers and describe filters rendered here; and
 * DescribeNetworkInterfaces, whose rendering net/eni.c shares with DescribeInstances. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/cleanup.h"
#include "../../core/filter.h"
#include "../../core/tags.h"
#include "../../../net/net.h"
#include "ec2.h"

static int
render_vpc(vm_ctx *ctx, vm_node *it, const net_vpc *v, vm_error *err)
{
    char cidr[NET_CIDR_MAX], assoc[VM_ID_MAX + 16];
    net_cidr_format(&v->cidr, cidr);
    vm_node_str(it, "vpcId", NULL, v->id);
    vm_node_str(it, "ownerId", NULL, ctx->account_id);
    vm_node_str(it, "state", NULL, "available");
    vm_node_str(it, "cidrBlock", NULL, cidr);
    vm_node *set = vm_node_list(it, "cidrBlockAssociationSet", NULL);
    vm_node *a = vm_node_item(set);
    snprintf(assoc, sizeof(assoc), "vpc-cidr-assoc-%s", v->id + 4);
    vm_node_str(a, "associationId", NULL, assoc);
    vm_node_str(a, "cidrBlock", NULL, cidr);
    vm_node_str(vm_node_struct(a, "cidrBlockState", NULL), "state", NULL, "associated");
    vm_node_str(it, "dhcpOptionsId", NULL, "default");
    vm_node_str(it, "instanceTenancy", NULL, "default");
    vm_node_bool(it, "isDefault", NULL, v->is_default);
    return vm_tags_render(ctx, it, v->id, err);
}

int
ec2_create_vpc(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *cidr = vm_params_require(p, "CidrBlock", err);
    const char *tenancy = vm_params_get(p, "InstanceTenancy");
    vm_tag *tags = NULL;
    size_t ntags = 0;
    if (!cidr)
        return -1;
    if (tenancy && strcmp(tenancy, "default") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "Value (%s) for parameter instanceTenancy is invalid: this host offers 'default' only",
                            tenancy);
    if (vm_params_get(p, "AmazonProvidedIpv6CidrBlock") || vm_params_get(p, "Ipv4IpamPoolId"))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION,
                            "IPv6 blocks and IPAM pools are not offered by this host");
    if (vm_tags_from_spec(p, "vpc", &tags, &ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    net_vpc v;
    if (net_vpc_create(ctx, cidr, owned, ntags, &v, err) < 0)
        return -1;
    return render_vpc(ctx, vm_node_struct(resp, "vpc", NULL), &v, err);
}

static const char *
vpc_subject(vm_ctx *ctx, const void *obj, const char *name, char *buf, size_t len)
{
    const net_vpc *v = obj;
    if (strcmp(name, "vpc-id") == 0)
        return v->id;
    if (strcmp(name, "cidr") == 0 || strcmp(name, "cidr-block") == 0 ||
        strcmp(name, "cidr-block-association.cidr-block") == 0) {
        net_cidr_format(&v->cidr, buf);
        return buf;
    }
    if (strcmp(name, "is-default") == 0)
        return v->is_default ? "true" : "false";
    if (strcmp(name, "state") == 0)
        return "available";
    if (strcmp(name, "owner-id") == 0)
        return ctx->account_id;
    if (strcmp(name, "dhcp-options-id") == 0)
        return "default";
    if (strcmp(name, "cidr-block-association.state") == 0)
        return "associated";
    if (strcmp(name, "cidr-block-association.association-id") == 0) {
        snprintf(buf, len, "vpc-cidr-assoc-%s", v->id + 4);
        return buf;
    }
    return NULL;
}

int
ec2_describe_vpcs(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    _cleanup_free_ net_vpc *all = NULL;
    size_t nids, n;
    if (vm_params_list(p, "VpcId", &ids, &nids, err) < 0 || vm_filters_parse(p, "DescribeVpcs", &fs, err) < 0)
        return -1;
    for (size_t i = 0; i < nids; i++) {
        net_vpc v;
        if (vpc_get(ctx, ids[i], &v, err) < 0)
            return -1;
    }
    if (net_vpc_list(ctx, &all, &n, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "vpcSet", "Vpcs");
    for (size_t i = 0; i < n; i++) {
        if (nids && !vm_match_any(all[i].id, ids))
            continue;
        int m = vm_filter_pass(ctx, fs, all[i].id, vpc_subject, &all[i], err);
        if (m < 0 || (m && render_vpc(ctx, vm_node_item(list), &all[i], err) < 0))
            return -1;
    }
    return 0;
}

int
ec2_delete_vpc(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "VpcId", err);
    if (!id || net_vpc_delete(ctx, id, err) < 0)
        return -1;
    return ec2_render_true(resp);
}

static const char *const vpc_attributes[] = { "enableDnsSupport", "enableDnsHostnames",
                                              "enableNetworkAddressUsageMetrics", NULL };

int
ec2_describe_vpc_attribute(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "VpcId", err);
    const char *attr = id ? vm_params_require(p, "Attribute", err) : NULL;
    if (!attr)
        return -1;
    if (!vm_match_any(attr, vpc_attributes) || strchr(attr, '*') || strchr(attr, '?'))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Value (%s) for parameter attribute is invalid",
                            attr);
    net_vpc v;
    if (vpc_get(ctx, id, &v, err) < 0)
        return -1;
    bool value = strcmp(attr, "enableDnsSupport") == 0     ? v.dns_support
                 : strcmp(attr, "enableDnsHostnames") == 0 ? v.dns_hostnames
                                                           : false;
    vm_node_str(resp, "vpcId", NULL, v.id);
    vm_node_bool(vm_node_struct(resp, attr, NULL), "value", NULL, value);
    return 0;
}

int
ec2_modify_vpc_attribute(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "VpcId", err);
    net_vpc v;
    if (!id || vpc_get(ctx, id, &v, err) < 0)
        return -1;
    bool support = vm_params_get(p, "EnableDnsSupport.Value") != NULL;
    if (support && vm_params_get(p, "EnableDnsHostnames.Value"))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_COMBINATION,
                            "Fields for multiple attribute types specified: enableDnsSupport, enableDnsHostnames");
    if (vm_params_get(p, "EnableNetworkAddressUsageMetrics.Value"))
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "enableNetworkAddressUsageMetrics is not offered by this host");
    if (!support && !vm_params_get(p, "EnableDnsHostnames.Value"))
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER, "One of EnableDnsSupport or EnableDnsHostnames is required");
    bool on;
    if (vm_params_bool(p, support ? "EnableDnsSupport.Value" : "EnableDnsHostnames.Value", false, &on, err) < 0 ||
        net_vpc_set_attribute(ctx, id, support ? NET_VPC_DNS_SUPPORT : NET_VPC_DNS_HOSTNAMES, on, err) < 0)
        return -1;
    return ec2_render_true(resp);
}

int
ec2_describe_network_interfaces(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t nids;
    if (vm_params_list(p, "NetworkInterfaceId", &ids, &nids, err) < 0 ||
        vm_filters_parse(p, "DescribeNetworkInterfaces", &fs, err) < 0)
        return -1;
    return net_eni_describe(ctx, ids, nids, fs, resp, err);
}
