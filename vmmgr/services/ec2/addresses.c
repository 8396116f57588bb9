/* Elastic IPs on the wire: Allocate/Associate/Disassociate/Release/DescribeAddresses parsed into
 * net/eip.c's typed calls, their answers and describe filters rendered here. */
#include <stdlib.h>
#include <string.h>

#include "../../core/cleanup.h"
#include "../../core/filter.h"
#include "../../core/tags.h"
#include "../../../net/net.h"
#include "ec2.h"

int
ec2_allocate_address(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *domain = vm_params_get(p, "Domain"), *pool = vm_params_get(p, "PublicIpv4Pool");
    vm_tag *tags = NULL;
    size_t ntags = 0;
    if (domain && strcmp(domain, "vpc") != 0 && strcmp(domain, "standard") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "Value (%s) for parameter domain is invalid.",
                            domain);
    if (domain && strcmp(domain, "standard") == 0)
        return vm_error_set(err, VM_ERR_UNSUPPORTED_OPERATION, "EC2-Classic addresses are retired: use Domain vpc");
    if (pool && strcmp(pool, "amazon") != 0)
        return vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                            "The pool '%s' does not exist: this host has one pool (amazon, its --public-ips)", pool);
    if (vm_params_get(p, "CustomerOwnedIpv4Pool"))
        return vm_error_set(err, VM_ERR_UNSUPPORTED_OPERATION, "Customer-owned pools are not offered by this host");
    if (vm_tags_from_spec(p, "elastic-ip", &tags, &ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    net_eip r;
    if (net_eip_allocate(ctx, vm_params_get(p, "Address"), owned, ntags, &r, err) < 0)
        return -1;
    vm_node_str(resp, "publicIp", NULL, r.ip);
    vm_node_str(resp, "allocationId", NULL, r.alloc);
    vm_node_str(resp, "publicIpv4Pool", NULL, "amazon");
    vm_node_str(resp, "networkBorderGroup", NULL, ctx->region);
    vm_node_str(resp, "domain", NULL, "vpc");
    return 0;
}

int
ec2_associate_address(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    net_eip_assoc_req req = {
        .allocation_id = vm_params_get(p, "AllocationId"),
        .public_ip = vm_params_get(p, "PublicIp"),
        .instance_id = vm_params_get(p, "InstanceId"),
        .eni_id = vm_params_get(p, "NetworkInterfaceId"),
        .private_ip = vm_params_get(p, "PrivateIpAddress"),
    };
    char assoc[VM_ID_MAX];
    if (vm_params_bool(p, "AllowReassociation", false, &req.allow_reassociation, err) < 0 ||
        net_eip_associate(ctx, &req, assoc, err) < 0)
        return -1;
    vm_node_str(resp, "associationId", NULL, assoc);
    return 0;
}

int
ec2_disassociate_address(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    if (net_eip_disassociate(ctx, vm_params_get(p, "AssociationId"), vm_params_get(p, "PublicIp"), err) < 0)
        return -1;
    return ec2_render_true(resp);
}

int
ec2_release_address(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    if (net_eip_release(ctx, vm_params_get(p, "AllocationId"), vm_params_get(p, "PublicIp"), err) < 0)
        return -1;
    return ec2_render_true(resp);
}

static int
render_eip(vm_ctx *ctx, vm_node *it, const net_eip *r, vm_error *err)
{
    vm_node_str(it, "publicIp", NULL, r->ip);
    vm_node_str(it, "allocationId", NULL, r->alloc);
    vm_node_str(it, "domain", NULL, "vpc");
    vm_node_str(it, "publicIpv4Pool", NULL, "amazon");
    vm_node_str(it, "networkBorderGroup", NULL, ctx->region);
    if (r->associated) {
        vm_node_str(it, "associationId", NULL, r->assoc);
        if (r->eni.instance[0])
            vm_node_str(it, "instanceId", NULL, r->eni.instance);
        vm_node_str(it, "networkInterfaceId", NULL, r->eni.id);
        vm_node_str(it, "networkInterfaceOwnerId", NULL, ctx->account_id);
        vm_node_str(it, "privateIpAddress", NULL, r->eni.ip);
    }
    return vm_tags_render(ctx, it, r->alloc, err);
}

static const char *
eip_subject(vm_ctx *ctx, const void *obj, const char *name, char *buf, size_t len)
{
    (void)buf, (void)len;
    const net_eip *r = obj;
    if (strcmp(name, "allocation-id") == 0)
        return r->alloc;
    if (strcmp(name, "public-ip") == 0)
        return r->ip;
    if (strcmp(name, "domain") == 0)
        return "vpc";
    if (strcmp(name, "network-border-group") == 0)
        return ctx->region;
    if (strcmp(name, "association-id") == 0)
        return r->associated ? r->assoc : "";
    if (strcmp(name, "instance-id") == 0)
        return r->associated ? r->eni.instance : "";
    if (strcmp(name, "network-interface-id") == 0)
        return r->associated ? r->eni.id : "";
    if (strcmp(name, "network-interface-owner-id") == 0)
        return r->associated ? ctx->account_id : "";
    if (strcmp(name, "private-ip-address") == 0)
        return r->associated ? r->eni.ip : "";
    return NULL;
}

int
ec2_describe_addresses(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ips = NULL, **allocs = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    _cleanup_free_ net_eip *all = NULL;
    size_t nips, nallocs, n;
    if (vm_params_list(p, "PublicIp", &ips, &nips, err) < 0 || vm_params_list(p, "AllocationId", &allocs, &nallocs, err) < 0 ||
        vm_filters_parse(p, "DescribeAddresses", &fs, err) < 0 || net_eip_list(ctx, &all, &n, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "addressesSet", "Addresses");
    size_t seen_ips = 0, seen_allocs = 0;
    for (size_t i = 0; i < n; i++) {
        const net_eip *r = &all[i];
        bool by_ip = nips && vm_match_any(r->ip, ips), by_alloc = nallocs && vm_match_any(r->alloc, allocs);
        seen_ips += by_ip;
        seen_allocs += by_alloc;
        if ((nips && !by_ip) || (nallocs && !by_alloc))
            continue;
        int m = vm_filter_pass(ctx, fs, r->alloc, eip_subject, r, err);
        if (m < 0 || (m && render_eip(ctx, vm_node_item(list), r, err) < 0))
            return -1;
    }
    if (seen_ips < nips)
        return vm_error_set(err, VM_ERR_ADDRESS_NOT_FOUND, "Address '%s' not found.", ips[0]);
    if (seen_allocs < nallocs)
        return vm_error_set(err, VM_ERR_ALLOCATION_NOT_FOUND, "The allocation ID '%s' does not exist", allocs[0]);
    return 0;
}
