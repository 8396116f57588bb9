/* Route tables on the wire: Create/Delete/DescribeRouteTables, Create/Replace/DeleteRoute,
 * Associate/DisassociateRouteTable and ReplaceRouteTableAssociation parsed into net/route_table.c's
 * typed calls, their answers and describe filters rendered here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/cleanup.h"
#include "../../core/filter.h"
#include "../../core/tags.h"
#include "../../../net/net.h"
#include "ec2.h"

static void
render_assoc_state(vm_node *it)
{
    vm_node_str(vm_node_struct(it, "associationState", NULL), "state", NULL, "associated");
}

static int
render_rtb(vm_ctx *ctx, vm_node *it, const net_rtb *t, vm_error *err)
{
    vm_node_str(it, "routeTableId", NULL, t->id);
    vm_node_str(it, "vpcId", NULL, t->vpc_id);
    vm_node_str(it, "ownerId", NULL, ctx->account_id);
    vm_node *routes = vm_node_list(it, "routeSet", "Routes");
    for (size_t i = 0; i < t->nroutes; i++) {
        const net_route *r = &t->routes[i];
        vm_node *n = vm_node_item(routes);
        vm_node_str(n, "destinationCidrBlock", NULL, r->cidr);
        if (r->nat[0])
            vm_node_str(n, "natGatewayId", NULL, r->nat);
        else
            vm_node_str(n, "gatewayId", NULL, r->gateway);
        vm_node_str(n, "state", NULL, r->state);
        vm_node_str(n, "origin", NULL, r->origin);
    }
    vm_node *assocs = vm_node_list(it, "associationSet", "Associations");
    for (size_t i = 0; i < t->nassocs; i++) {
        const net_rtb_assoc *a = &t->assocs[i];
        vm_node *n = vm_node_item(assocs);
        vm_node_bool(n, "main", NULL, a->main);
        vm_node_str(n, "routeTableAssociationId", NULL, a->id);
        vm_node_str(n, "routeTableId", NULL, t->id);
        if (!a->main)
            vm_node_str(n, "subnetId", NULL, a->subnet);
        render_assoc_state(n);
    }
    vm_node_list(it, "propagatingVgwSet", "PropagatingVgws");
    return vm_tags_render(ctx, it, t->id, err);
}

int
ec2_create_route_table(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *vpc = vm_params_require(p, "VpcId", err);
    vm_tag *tags = NULL;
    size_t ntags = 0;
    if (!vpc || vm_tags_from_spec(p, "route-table", &tags, &ntags, err) < 0)
        return -1;
    _cleanup_free_ vm_tag *owned = tags;
    _cleanup_(net_rtb_clear) net_rtb t = { 0 };
    if (net_rtb_create(ctx, vpc, owned, ntags, &t, err) < 0)
        return -1;
    return render_rtb(ctx, vm_node_struct(resp, "routeTable", NULL), &t, err);
}

int
ec2_delete_route_table(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "RouteTableId", err);
    if (!id || net_rtb_delete(ctx, id, err) < 0)
        return -1;
    return ec2_render_true(resp);
}

/* CreateRoute, ReplaceRoute, DeleteRoute: the destinations and targets this host has. */
static int
route_change(vm_ctx *ctx, const vm_params *p, net_route_op op, vm_node *resp, vm_error *err)
{
    static const char *const others[] = { "InstanceId", "NetworkInterfaceId", "VpcPeeringConnectionId",
                                          "TransitGatewayId", "EgressOnlyInternetGatewayId", "LocalGatewayId",
                                          "CarrierGatewayId", "VpcEndpointId", "CoreNetworkArn" };
    net_route_req req = { .route_table_id = vm_params_require(p, "RouteTableId", err) };
    if (!req.route_table_id || net_rtb_get(ctx, req.route_table_id, NULL, err) < 0)
        return -1;
    if (vm_params_get(p, "DestinationIpv6CidrBlock") || vm_params_get(p, "DestinationPrefixListId"))
        return vm_error_set(err, VM_ERR_UNSUPPORTED_OPERATION,
                            "IPv6 and prefix-list destinations are not offered by this host");
    if (!(req.destination = vm_params_require(p, "DestinationCidrBlock", err)))
        return -1;
    if (op != NET_ROUTE_DELETE) {
        for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
            if (vm_params_get(p, others[i]))
                return vm_error_set(err, VM_ERR_UNSUPPORTED_OPERATION,
                                    "Routes to a %s are not offered by this host yet: the target can be an internet "
                                    "gateway (GatewayId) or a NAT gateway (NatGatewayId)",
                                    others[i]);
        req.gateway_id = vm_params_get(p, "GatewayId");
        req.nat_gateway_id = vm_params_get(p, "NatGatewayId");
    }
    if (net_route_change(ctx, op, &req, err) < 0)
        return -1;
    return op == NET_ROUTE_CREATE ? ec2_render_true(resp) : 0;
}

int
ec2_create_route(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return route_change(ctx, p, NET_ROUTE_CREATE, resp, err);
}

int
ec2_replace_route(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return route_change(ctx, p, NET_ROUTE_REPLACE, resp, err);
}

int
ec2_delete_route(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    return route_change(ctx, p, NET_ROUTE_DELETE, resp, err);
}

int
ec2_associate_route_table(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *id = vm_params_require(p, "RouteTableId", err);
    if (!id || net_rtb_get(ctx, id, NULL, err) < 0)
        return -1;
    if (vm_params_get(p, "GatewayId"))
        return vm_error_set(err, VM_ERR_UNSUPPORTED_OPERATION,
                            "Gateway route tables (edge associations) are not offered by this host");
    const char *subnet = vm_params_require(p, "SubnetId", err);
    char assoc[VM_ID_MAX];
    if (!subnet || net_rtb_associate(ctx, id, subnet, assoc, err) < 0)
        return -1;
    vm_node_str(resp, "associationId", NULL, assoc);
    render_assoc_state(resp);
    return 0;
}

int
ec2_disassociate_route_table(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    (void)resp;
    const char *assoc = vm_params_require(p, "AssociationId", err);
    return !assoc || net_rtb_disassociate(ctx, assoc, err) < 0 ? -1 : 0;
}

int
ec2_replace_route_table_association(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    const char *assoc = vm_params_require(p, "AssociationId", err);
    const char *id = assoc ? vm_params_require(p, "RouteTableId", err) : NULL;
    char fresh[VM_ID_MAX];
    if (!id || net_rtb_replace_association(ctx, assoc, id, fresh, err) < 0)
        return -1;
    vm_node_str(resp, "newAssociationId", NULL, fresh);
    render_assoc_state(resp);
    return 0;
}

/* A filter's subject with several values: one per line into buf.  what: 'c' cidr, 'g' gateway,
 * 's' state, 'o' origin, 'n' NAT gateway of each route; 'a' id, 'u' subnet of each association. */
static const char *
lines(const net_rtb *t, char what, char *buf, size_t len)
{
    buf[0] = '\0';
    size_t n = strchr("cgson", what) ? t->nroutes : t->nassocs;
    for (size_t i = 0; i < n; i++) {
        const net_route *r = strchr("cgson", what) ? &t->routes[i] : NULL;
        const net_rtb_assoc *a = r ? NULL : &t->assocs[i];
        const char *v = what == 'c'   ? r->cidr
                        : what == 'g' ? r->gateway
                        : what == 's' ? r->state
                        : what == 'o' ? r->origin
                        : what == 'n' ? r->nat
                        : what == 'a' ? a->id
                        : a->main     ? NULL
                                      : a->subnet;
        if (!v)
            continue;
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", used ? "\n" : "", v);
    }
    return buf;
}

static const char *
rtb_subject(vm_ctx *ctx, const void *obj, const char *name, char *buf, size_t len)
{
    const net_rtb *t = obj;
    static const struct {
        const char *name;
        char what;
    } multi[] = { { "association.route-table-association-id", 'a' },
                  { "association.subnet-id", 'u' },
                  { "route.destination-cidr-block", 'c' },
                  { "route.gateway-id", 'g' },
                  { "route.state", 's' },
                  { "route.origin", 'o' },
                  { "route.nat-gateway-id", 'n' } };
    if (strcmp(name, "route-table-id") == 0)
        return t->id;
    if (strcmp(name, "vpc-id") == 0)
        return t->vpc_id;
    if (strcmp(name, "owner-id") == 0)
        return ctx->account_id;
    if (strcmp(name, "association.main") == 0)
        return t->main ? "true" : "false";
    if (strcmp(name, "association.route-table-id") == 0)
        return t->nassocs ? t->id : "";
    for (size_t i = 0; i < sizeof(multi) / sizeof(multi[0]); i++)
        if (strcmp(name, multi[i].name) == 0)
            return lines(t, multi[i].what, buf, len);
    if (strcmp(name, "association.gateway-id") == 0)
        return ""; /* no gateway route tables (edge associations) */
    if (strncmp(name, "route.", 6) == 0)
        return ""; /* IPv6, prefix lists, instances, peering: no route of this host has them */
    return NULL;
}

int
ec2_describe_route_tables(vm_ctx *ctx, const vm_params *p, vm_node *resp, vm_error *err)
{
    _cleanup_free_ const char **ids = NULL;
    _cleanup_(vm_filters_freep) vm_filters *fs = NULL;
    size_t nids, n;
    if (vm_params_list(p, "RouteTableId", &ids, &nids, err) < 0 ||
        vm_filters_parse(p, "DescribeRouteTables", &fs, err) < 0)
        return -1;
    for (size_t i = 0; i < nids; i++)
        if (net_rtb_get(ctx, ids[i], NULL, err) < 0)
            return -1;
    net_rtb *all = NULL;
    if (net_rtb_list(ctx, &all, &n, err) < 0)
        return -1;
    vm_node *list = vm_node_list(resp, "routeTableSet", "RouteTables");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (nids && !vm_match_any(all[i].id, ids))
            continue;
        int m = vm_filter_pass(ctx, fs, all[i].id, rtb_subject, &all[i], err);
        if (m < 0 || (m && render_rtb(ctx, vm_node_item(list), &all[i], err) < 0))
            rc = -1;
    }
    net_rtb_list_free(all, n);
    return rc;
}
