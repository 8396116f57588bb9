/* Internet and NAT gateways on the wire: Create/Attach/Detach/Delete/DescribeInternetGateways and
 * Create/Delete/DescribeNatGateways parsed into net/'s typed calls (net/igw.c, net/natgw.c), their
 * answers and describe filters rendered here. */
#include <stdlib.h>
#include <string.h>

#include "../../core/cleanup.h"
#include "../../core/filter.h"
#include "../../core/tags.h"
#include "../../../net/net.h"
#include "ec2.h"

/* --- internet gateways ------------------------------------------------------------------------ */

static int
render_igw(vm_ctx *ctx, vm_node *it, const net_igw *g, vm_error *err)
{
    vm_node_str(it, "internetGatewayId", NULL, g->id);
    vm_node_str(it, "ownerId", NULL, ctx->account_id);
    vm_node *set = vm_node_list(it, "attachmentSet", "Attachments");
    if (g->vpc_id[0]) {
        vm_node *a = vm_node_item(set);
        vm_node_str(a, "vpcId", NULL, g->vpc_id);
        vm_node_str(a, "state", NULL, "available");
    }
    return vm_tags_render(ctx, it, g->id, err);
}

int
ec2_create_internet_gateway(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    vm_tag *tags = NULL;
    size_t ntags = 0;
    if (vm_tags_from_spec(p, "internet-gateway", &tags, &ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    net_igw g;
    if (net_igw_create(ctx, owned, ntags, &g, err) < 0)
        return -1;
    return render_igw(ctx, vm_node_struct(resp, "internetGateway", NULL), &g, err);
}

static int
igw_attach_or_detach(vm_ctx *ctx, const vm_params *p, bool attach, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "InternetGatewayId", err);
    const char *vpc = id ? vm_params_require(p, "VpcId", err) : NULL;
    if (!vpc || net_igw_attach(ctx, id, vpc, attach, err) < 0)
        return -1;
    return ec2_render_true(resp);
}

int
ec2_attach_internet_gateway(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return igw_attach_or_detach(ctx, p, true, resp, err);
}

int
ec2_detach_internet_gateway(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return igw_attach_or_detach(ctx, p, false, resp, err);
}

int
ec2_delete_internet_gateway(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "InternetGatewayId", err);
    if (!id || net_igw_delete(ctx, id, err) < 0)
        return -1;
    return ec2_render_true(resp);
}

static const char *
igw_subject(vm_ctx *ctx, const void *obj, const char *name, char *buf, size_t len)
{
    (void)buf, (void)len;
    const net_igw *g = obj;
    if (strcmp(name, "internet-gateway-id") == 0)
        return g->id;
    if (strcmp(name, "owner-id") == 0)
        return ctx->account_id;
    if (strcmp(name, "attachment.vpc-id") == 0)
        return g->vpc_id;
    if (strcmp(name, "attachment.state") == 0)
        return g->vpc_id[0] ? "available" : "";
    return NULL;
}

int
ec2_describe_internet_gateways(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    _cleanup_free_ net_igw *all = NULL;
    size_t nids, n;
    if (vm_params_list(p, "InternetGatewayId", &ids, &nids, err) < 0 ||
        vm_filters_parse(p, "DescribeInternetGateways", &fs, err) < 0)
        return -1;
    for (size_t i = 0; i < nids; i++)
        if (igw_get(ctx, ids[i], NULL, err) < 0)
            return -1;
    if (net_igw_list(ctx, &all, &n, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "internetGatewaySet", "InternetGateways");
    for (size_t i = 0; i < n; i++) {
        if (nids && !vm_match_any(all[i].id, ids))
            continue;
        int m = vm_filter_pass(ctx, fs, all[i].id, igw_subject, &all[i], err);
        if (m < 0 || (m && render_igw(ctx, vm_node_item(list), &all[i], err) < 0))
            return -1;
    }
    return 0;
}

/* --- NAT gateways ------------------------------------------------------------------------------- */

static int
render_natgw(vm_ctx *ctx, vm_node *it, const net_natgw *g, vm_error *err)
{
    vm_node_time(it, "createTime", NULL, g->created_at);
    if (g->deleted_at)
        vm_node_time(it, "deleteTime", NULL, g->deleted_at);
    vm_node *set = vm_node_list(it, "natGatewayAddressSet", "NatGatewayAddresses");
    vm_node *a = vm_node_item(set);
    vm_node_str(a, "allocationId", NULL, g->alloc);
    vm_node_str(a, "networkInterfaceId", NULL, g->eni);
    vm_node_str(a, "privateIp", NULL, g->private_ip);
    vm_node_str(a, "publicIp", NULL, g->public_ip);
    vm_node_str(it, "natGatewayId", NULL, g->id);
    vm_node_str(it, "state", NULL, g->state);
    vm_node_str(it, "subnetId", NULL, g->subnet);
    vm_node_str(it, "vpcId", NULL, g->vpc);
    vm_node_str(it, "connectivityType", NULL, "public");
    return vm_tags_render(ctx, it, g->id, err);
}

int
ec2_create_nat_gateway(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    net_natgw_req req = { .subnet_id = vm_params_require(p, "SubnetId", err) };
    if (!req.subnet_id)
        return -1;
    req.allocation_id = vm_params_get(p, "AllocationId");
    req.client_token = vm_params_get(p, "ClientToken");
    const char *type = vm_params_get(p, "ConnectivityType");
    vm_tag *tags = NULL;
    if (vm_tags_from_spec(p, "natgateway", &tags, &req.ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    req.tags = owned;
    if (type && strcmp(type, "public") != 0)
        return vm_error_set(err, strcmp(type, "private") == 0 ? VM_ERR_UNSUPPORTED_OPERATION : VM_ERR_INVALID_PARAMETER_VALUE,
                            "ConnectivityType %s is not offered by this host: public NAT gateways only", type);
    if (vm_params_get(p, "PrivateIpAddress"))
        return vm_error_set(err, VM_ERR_UNSUPPORTED_OPERATION,
                            "Choosing a NAT gateway's private address is not offered by this host yet: the subnet's "
                            "allocator picks it");
    if (!req.allocation_id)
        return vm_error_set(err, VM_ERR_MISSING_PARAMETER,
                            "The request must contain the parameter AllocationId (a public NAT gateway has an "
                            "Elastic IP)");
    net_natgw g;
    if (net_natgw_create(ctx, &req, &g, err) < 0)
        return -1;
    if (req.client_token)
        vm_node_str(resp, "clientToken", NULL, req.client_token);
    return render_natgw(ctx, vm_node_struct(resp, "natGateway", NULL), &g, err);
}

int
ec2_delete_nat_gateway(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "NatGatewayId", err);
    if (!id || net_natgw_delete(ctx, id, err) < 0)
        return -1;
    vm_node_str(resp, "natGatewayId", NULL, id);
    return 0;
}

static const char *
natgw_subject(vm_ctx *ctx, const void *obj, const char *name, char *buf, size_t len)
{
    (void)ctx, (void)buf, (void)len;
    const net_natgw *g = obj;
    if (strcmp(name, "nat-gateway-id") == 0)
        return g->id;
    if (strcmp(name, "state") == 0)
        return g->state;
    if (strcmp(name, "subnet-id") == 0)
        return g->subnet;
    if (strcmp(name, "vpc-id") == 0)
        return g->vpc;
    return NULL;
}

int
ec2_describe_nat_gateways(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    _cleanup_free_ net_natgw *all = NULL;
    size_t nids, n;
    if (vm_params_list(p, "NatGatewayId", &ids, &nids, err) < 0 ||
        vm_filters_parse(p, "DescribeNatGateways", &fs, err) < 0)
        return -1;
    for (size_t i = 0; i < nids; i++)
        if (natgw_get(ctx, ids[i], NULL, NULL, err) < 0)
            return -1;
    if (net_natgw_list(ctx, &all, &n, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "natGatewaySet", "NatGateways");
    for (size_t i = 0; i < n; i++) {
        if (nids && !vm_match_any(all[i].id, ids))
            continue;
        int m = vm_filter_pass(ctx, fs, all[i].id, natgw_subject, &all[i], err);
        if (m < 0 || (m && render_natgw(ctx, vm_node_item(list), &all[i], err) < 0))
            return -1;
    }
    return 0;
}
