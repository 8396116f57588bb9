/* ELBv2 load balancers: Create/Describe/DeleteLoadBalancer, their subnets and groups checked against
 * the store. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../elb/elb.h"
#include "../../../net/cidr.h"
#include "../../../net/net.h"
#include "../../compute/instance.h"
#include "../../core/cleanup.h"
#include "../../core/db.h"
#include "../service.h"
#include "elbv2_priv.h"


/* --- load balancers ----------------------------------------------------------------------------------- */

static void
lb_dns_name(vm_ctx *ctx, elb_lb *lb)
{
    /* ALB: [internal-]NAME-<digits>.REGION.elb.amazonaws.com; NLB: NAME-<hex>.elb.REGION.amazonaws.com */
    unsigned long long digits = strtoull(lb->id + 6, NULL, 16) % 10000000000ULL;
    bool internal = strcmp(lb->scheme, "internal") == 0;
    if (strcmp(lb->type, "network") == 0)
        snprintf(lb->dns_name, sizeof(lb->dns_name), "%s%s-%s.elb.%s.amazonaws.com", internal ? "internal-" : "",
                 lb->name, lb->id, ctx->region);
    else
        snprintf(lb->dns_name, sizeof(lb->dns_name), "%s%s-%llu.%s.elb.amazonaws.com", internal ? "internal-" : "",
                 lb->name, digits, ctx->region);
}

/* AvailabilityZones: each subnet's zone, and the interface's addresses there */
static int
render_zones(vm_ctx *ctx, vm_node *it, const elb_lb *lb, vm_error *err)
{
    _cleanup_free_ elb_lb_subnet *subs = NULL;
    size_t n;
    if (elb_lb_subnets(ctx, lb->id, &subs, &n, err) < 0)
        return -1;
    vm_node *azs = vm_node_list(it, "AvailabilityZones", NULL);
    for (size_t i = 0; i < n; i++) {
        vm_node *a = vm_node_item(azs);
        vm_node_str(a, "ZoneName", NULL, subs[i].az);
        vm_node_str(a, "SubnetId", NULL, subs[i].subnet_id);
        net_svc_eni e;
        vm_error ignore = { 0 };
        if (net_svc_eni_get(ctx, subs[i].eni_id, &e, &ignore) == 0) {
            vm_node *addrs = vm_node_list(a, "LoadBalancerAddresses", NULL);
            vm_node *one = vm_node_item(addrs);
            vm_node_str(one, "PrivateIPv4Address", NULL, e.ip);
            /* its public address from the host's pool; without a pool, the VPC address the host
             * reaches */
            char pub[NET_ADDR_MAX];
            if (strcmp(lb->scheme, "internet-facing") == 0)
                vm_node_str(one, "IpAddress", NULL,
                            net_instance_public(ctx, e.id, pub, NULL, 0, NULL, NULL) ? pub : e.ip);
        }
    }
    return 0;
}

static int
render_lb(vm_ctx *ctx, vm_node *it, const elb_lb *lb, vm_error *err)
{
    char arn[ELB_ARN_MAX];
    elb_lb_arn(ctx, lb, arn);
    vm_node_str(it, "LoadBalancerArn", NULL, arn);
    vm_node_str(it, "DNSName", NULL, lb->dns_name);
    vm_node_str(it, "CanonicalHostedZoneId", NULL, strcmp(lb->type, "network") == 0 ? "Z26RNL4JYFTOTI" : "Z35SXDOTRQ7X7K");
    vm_node_time(it, "CreatedTime", NULL, lb->created_at);
    vm_node_str(it, "LoadBalancerName", NULL, lb->name);
    vm_node_str(it, "Scheme", NULL, lb->scheme);
    vm_node_str(it, "VpcId", NULL, lb->vpc_id);
    vm_node_str(vm_node_struct(it, "State", NULL), "Code", NULL, lb->state);
    vm_node_str(it, "Type", NULL, lb->type);
    if (render_zones(ctx, it, lb, err) < 0)
        return -1;
    _cleanup_free_ char(*gs)[VM_ID_MAX] = NULL;
    size_t ng;
    if (elb_lb_groups(ctx, lb->id, &gs, &ng, err) < 0)
        return -1;
    vm_node *sgs = vm_node_list(it, "SecurityGroups", NULL);
    for (size_t i = 0; i < ng; i++)
        vm_node_str(sgs, NULL, NULL, gs[i]);
    vm_node_str(it, "IpAddressType", NULL, "ipv4");
    return 0;
}

/* The subnets' VPC and zones: each exists (SubnetNotFound), one VPC, one subnet per zone, and an
 * application load balancer in two zones at least. */
static int
check_subnets(vm_ctx *ctx, const char *type, const char **subs, size_t n, char vpc[VM_ID_MAX], vm_error *err)
{
    if (n == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "At least one subnet must be specified");
    if (n > ELB_MAX_SUBNETS)
        return vm_error_set(err, VM_ERR_VALIDATION, "At most %d subnets can be specified", ELB_MAX_SUBNETS);
    char zones[ELB_MAX_SUBNETS][40];
    vpc[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (vm_db_stmt(ctx->db, &st, err, "SELECT vpc_id, az FROM subnets WHERE id = ?", "t", subs[i]) < 0)
            return -1;
        if (sqlite3_step(st) != SQLITE_ROW)
            return vm_error_set(err, VM_ERR_ELB_SUBNET_NOT_FOUND, "The subnet ID '%s' was not found", subs[i]);
        if (vpc[0] && strcmp(vpc, vm_db_text(st, 0)) != 0)
            return vm_error_set(err, VM_ERR_ELB_SUBNET, "The subnets %s and %s are in different VPCs", subs[0], subs[i]);
        snprintf(vpc, VM_ID_MAX, "%s", vm_db_text(st, 0));
        snprintf(zones[i], sizeof(zones[i]), "%s", vm_db_text(st, 1));
        for (size_t j = 0; j < i; j++) {
            if (strcmp(subs[i], subs[j]) == 0)
                return vm_error_set(err, VM_ERR_VALIDATION, "The subnet '%s' is given twice", subs[i]);
            if (strcmp(zones[i], zones[j]) == 0)
                return vm_error_set(err, VM_ERR_ELB_CONFIGURATION,
                                    "A load balancer cannot be attached to multiple subnets in the same Availability "
                                    "Zone (%s: %s and %s)",
                                    zones[i], subs[j], subs[i]);
        }
    }
    if (strcmp(type, "application") == 0 && n < 2)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "At least two subnets in two different Availability Zones must be specified");
    return 0;
}

static int
check_groups(vm_ctx *ctx, const char *vpc, const char **gs, size_t n, vm_error *err)
{
    if (n > ELB_MAX_GROUPS)
        return vm_error_set(err, VM_ERR_VALIDATION, "At most %d security groups can be specified", ELB_MAX_GROUPS);
    for (size_t i = 0; i < n; i++) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (vm_db_stmt(ctx->db, &st, err, "SELECT vpc_id FROM security_groups WHERE id = ?", "t", gs[i]) < 0)
            return -1;
        if (sqlite3_step(st) != SQLITE_ROW || strcmp(vm_db_text(st, 0), vpc) != 0)
            return vm_error_set(err, VM_ERR_ELB_SECURITY_GROUP, "Security group '%s' does not exist in VPC '%s'",
                                gs[i], vpc);
    }
    return 0;
}

/* The load balancer an ARN names (LoadBalancerNotFound). */
int
elbv2_lb_of_arn(vm_ctx *ctx, const char *arn, elb_lb *lb, vm_error *err)
{
    char id[ELB_ID_LEN + 1];
    if (!arn)
        return vm_error_set(err, VM_ERR_VALIDATION, "LoadBalancerArn is required");
    if (elb_arn_id(arn, "loadbalancer", id, VM_ERR_VALIDATION, err) < 0)
        return -1;
    return elb_lb_get(ctx, id, lb, err);
}

int
elbv2_tg_of_arn(vm_ctx *ctx, const char *arn, elb_tg *tg, vm_error *err)
{
    char id[ELB_ID_LEN + 1];
    if (!arn)
        return vm_error_set(err, VM_ERR_VALIDATION, "TargetGroupArn is required");
    if (elb_arn_id(arn, "targetgroup", id, VM_ERR_VALIDATION, err) < 0)
        return -1;
    return elb_tg_get(ctx, id, tg, err);
}

int
elbv2_create_lb(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb = { .created_at = time(NULL) };
    const char *name = vm_params_get(p, "Name");
    const char *type = vm_params_get(p, "Type"), *scheme = vm_params_get(p, "Scheme");
    const char *iptype = vm_params_get(p, "IpAddressType");
    if (elbv2_check_name(name, "load balancer", err) < 0)
        return -1;
    if (strncmp(name, "internal-", 9) == 0)
        return elbv2_bad(err, "The load balancer name '%s' cannot begin with 'internal-'", name);
    type = type ? type : "application";
    scheme = scheme ? scheme : "internet-facing";
    if (strcmp(type, "application") != 0 && strcmp(type, "network") != 0)
        return elbv2_bad(err, "The load balancer type '%s' is not offered (application or network)", type);
    if (strcmp(scheme, "internal") != 0 && strcmp(scheme, "internet-facing") != 0)
        return elbv2_bad(err, "The scheme '%s' is not valid (internal or internet-facing)", scheme);
    if (iptype && strcmp(iptype, "ipv4") != 0)
        return elbv2_bad(err, "The IP address type '%s' is not offered (ipv4)", iptype);
    if (vm_params_get(p, "SubnetMappings.member.1.SubnetId") || vm_params_get(p, "CustomerOwnedIpv4Pool"))
        return vm_error_set(err, VM_ERR_VALIDATION, "SubnetMappings are not offered by this endpoint; give Subnets");
    snprintf(lb.name, sizeof(lb.name), "%s", name);
    snprintf(lb.type, sizeof(lb.type), "%s", type);
    snprintf(lb.scheme, sizeof(lb.scheme), "%s", scheme);
    snprintf(lb.state, sizeof(lb.state), "provisioning");
    _cleanup_free_ const char **subs = NULL, **gs = NULL;
    size_t ns, ng;
    if (vm_params_list(p, "Subnets.member", &subs, &ns, err) < 0 ||
        vm_params_list(p, "SecurityGroups.member", &gs, &ng, err) < 0 ||
        check_subnets(ctx, type, subs, ns, lb.vpc_id, err) < 0 || check_groups(ctx, lb.vpc_id, gs, ng, err) < 0)
        return -1;
    /* reached from outside through the VPC's internet gateway, as on AWS */
    if (strcmp(scheme, "internet-facing") == 0) {
        int has = net_vpc_igw(ctx, lb.vpc_id, NULL, err);
        if (has < 0)
            return -1;
        if (!has)
            return vm_error_set(err, VM_ERR_ELB_SUBNET, "VPC %s has no internet gateway", lb.vpc_id);
    }
    _cleanup_free_ char **tk = NULL, **tv = NULL;
    size_t nt;
    if (elbv2_parse_tags(p, "Tags.member", true, &tk, &tv, &nt, err) < 0)
        return -1;
    /* the same request again gives the load balancer made the first time */
    elb_lb old;
    vm_error nf = { 0 };
    if (elb_lb_by_name(ctx, name, &old, &nf) == 0) {
        if (strcmp(old.type, lb.type) != 0 || strcmp(old.scheme, lb.scheme) != 0)
            return vm_error_set(err, VM_ERR_LB_DUPLICATE, "A load balancer with the same name '%s' exists", name);
        return render_lb(ctx, vm_node_item(vm_node_list(result, "LoadBalancers", NULL)), &old, err);
    }
    char sub_ids[ELB_MAX_SUBNETS][VM_ID_MAX], grp_ids[ELB_MAX_GROUPS][VM_ID_MAX];
    for (size_t i = 0; i < ns; i++)
        snprintf(sub_ids[i], VM_ID_MAX, "%s", subs[i]);
    for (size_t i = 0; i < ng; i++)
        snprintf(grp_ids[i], VM_ID_MAX, "%s", gs[i]);
    /* an application load balancer without groups gets its VPC's default group, as on AWS */
    if (ng == 0 && strcmp(type, "application") == 0) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (vm_db_stmt(ctx->db, &st, err, "SELECT id FROM security_groups WHERE vpc_id = ? AND name = 'default'", "t",
                       lb.vpc_id) <
            0)
            return -1;
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(grp_ids[ng++], VM_ID_MAX, "%s", vm_db_text(st, 0));
    }
    elb_id_new(lb.id);
    lb_dns_name(ctx, &lb);
    if (elb_lb_create(ctx, &lb, (const char(*)[VM_ID_MAX])sub_ids, ns, (const char(*)[VM_ID_MAX])grp_ids, ng, err) < 0)
        return -1;
    char arn[ELB_ARN_MAX];
    elb_lb_arn(ctx, &lb, arn);
    if (elbv2_put_tags(ctx, arn, tk, tv, nt, err) < 0)
        return -1;
    return render_lb(ctx, vm_node_item(vm_node_list(result, "LoadBalancers", NULL)), &lb, err);
}

int
elbv2_describe_lbs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    _cleanup_free_ const char **arns = NULL, **names = NULL;
    size_t na, nn;
    long offset, size;
    if (vm_params_list(p, "LoadBalancerArns.member", &arns, &na, err) < 0 ||
        vm_params_list(p, "Names.member", &names, &nn, err) < 0 || elbv2_page_args(p, &offset, &size, err) < 0)
        return -1;
    if (na && nn)
        return vm_error_set(err, VM_ERR_VALIDATION, "LoadBalancerArns and Names cannot be given together");
    _cleanup_free_ elb_lb *all = NULL;
    size_t n;
    if (elb_lbs(ctx, false, &all, &n, err) < 0)
        return -1;
    /* every one asked for exists */
    for (size_t i = 0; i < na; i++) {
        elb_lb lb;
        if (elbv2_lb_of_arn(ctx, arns[i], &lb, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < nn; i++) {
        elb_lb lb;
        if (elb_lb_by_name(ctx, names[i], &lb, err) < 0)
            return vm_error_set(err, VM_ERR_LB_NOT_FOUND, "Load balancers '[%s]' not found", names[i]);
    }
    vm_node *list = vm_node_list(result, "LoadBalancers", NULL);
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        bool want = na == 0 && nn == 0;
        char arn[ELB_ARN_MAX];
        elb_lb_arn(ctx, &all[i], arn);
        for (size_t j = 0; j < na; j++)
            want |= strcmp(arns[j], arn) == 0;
        for (size_t j = 0; j < nn; j++)
            want |= strcmp(names[j], all[i].name) == 0;
        if (!want)
            continue;
        if ((long)seen >= offset && (long)seen < offset + size && render_lb(ctx, vm_node_item(list), &all[i], err) < 0)
            return -1;
        seen++;
    }
    elbv2_next_marker(result, seen, offset, size);
    return 0;
}

int
elbv2_delete_lb(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    vm_error nf = { 0 };
    const char *arn = vm_params_get(p, "LoadBalancerArn");
    if (elbv2_lb_of_arn(ctx, arn, &lb, &nf) < 0) /* gone already: done, as on AWS */
        return nf.code == VM_ERR_LB_NOT_FOUND ? 0 : vm_error_set(err, nf.code, "%s", nf.msg);
    if (elb_attr_bool(ctx, lb.id, "deletion_protection.enabled", false))
        return vm_error_set(err, VM_ERR_OPERATION_NOT_PERMITTED,
                            "Load balancer '%s' cannot be deleted because deletion protection is enabled", arn);
    if (elbv2_drop_tags(ctx, arn, err) < 0)
        return -1;
    return elb_lb_mark_deleting(ctx, lb.id, err);
}

/* SetSecurityGroups: the load balancer's groups replaced (its interfaces' with them, applied at once) */
int
elbv2_set_security_groups(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    elb_lb lb;
    _cleanup_free_ const char **gs = NULL;
    size_t ng;
    if (elbv2_lb_of_arn(ctx, vm_params_get(p, "LoadBalancerArn"), &lb, err) < 0 ||
        vm_params_list(p, "SecurityGroups.member", &gs, &ng, err) < 0 || check_groups(ctx, lb.vpc_id, gs, ng, err) < 0)
        return -1;
    const char *enforce = vm_params_get(p, "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic");
    if (enforce && strcmp(enforce, "on") != 0 && strcmp(enforce, "off") != 0)
        return elbv2_bad(err, "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic must be 'on' or 'off', not '%s'",
                         enforce);
    _cleanup_free_ char(*cur)[VM_ID_MAX] = NULL;
    size_t ncur;
    if (elb_lb_groups(ctx, lb.id, &cur, &ncur, err) < 0)
        return -1;
    bool network = strcmp(lb.type, "network") == 0;
    if (!network && ng == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "An application load balancer needs at least one security group");
    if (network && ncur == 0 && ng > 0)
        return vm_error_set(err, VM_ERR_ELB_CONFIGURATION,
                            "A network load balancer created without security groups cannot be given any");
    char ids[ELB_MAX_GROUPS][VM_ID_MAX];
    size_t n = 0;
    for (size_t i = 0; i < ng; i++) {
        bool seen = false;
        for (size_t j = 0; j < n; j++)
            seen |= strcmp(ids[j], gs[i]) == 0;
        if (!seen)
            snprintf(ids[n++], VM_ID_MAX, "%s", gs[i]);
    }
    if (elb_lb_set_groups(ctx, lb.id, (const char(*)[VM_ID_MAX])ids, n, err) < 0)
        return -1;
    vm_node *l = vm_node_list(result, "SecurityGroupIds", NULL);
    for (size_t i = 0; i < n; i++)
        vm_node_str(l, NULL, NULL, ids[i]);
    return 0;
}

/* SetSubnets: the load balancer's subnets replaced, an interface in each new one (plugged at once), the
 * interfaces of the subnets left released */
int
elbv2_set_subnets(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    (void)principal;
    elb_lb lb;
    _cleanup_free_ const char **subs = NULL;
    size_t ns;
    char vpc[VM_ID_MAX];
    if (elbv2_lb_of_arn(ctx, vm_params_get(p, "LoadBalancerArn"), &lb, err) < 0)
        return -1;
    if (vm_params_get(p, "SubnetMappings.member.1.SubnetId"))
        return vm_error_set(err, VM_ERR_VALIDATION, "SubnetMappings are not offered by this endpoint; give Subnets");
    const char *iptype = vm_params_get(p, "IpAddressType");
    if (iptype && strcmp(iptype, "ipv4") != 0)
        return elbv2_bad(err, "The IP address type '%s' is not offered (ipv4)", iptype);
    if (vm_params_list(p, "Subnets.member", &subs, &ns, err) < 0 || check_subnets(ctx, lb.type, subs, ns, vpc, err) < 0)
        return -1;
    if (strcmp(vpc, lb.vpc_id) != 0)
        return vm_error_set(err, VM_ERR_ELB_SUBNET, "The subnet '%s' is not in the load balancer's VPC %s", subs[0],
                            lb.vpc_id);
    char ids[ELB_MAX_SUBNETS][VM_ID_MAX];
    for (size_t i = 0; i < ns; i++)
        snprintf(ids[i], VM_ID_MAX, "%s", subs[i]);
    if (elb_lb_set_subnets(ctx, &lb, (const char(*)[VM_ID_MAX])ids, ns, err) < 0)
        return -1;
    /* a running load balancer's namespace follows now (its HAProxy listens on every address) */
    if (elb_haproxy_pid(ctx, lb.id) && elb_lb_plug(ctx, &lb, err) < 0)
        return -1;
    vm_node_str(result, "IpAddressType", NULL, "ipv4");
    return render_zones(ctx, result, &lb, err);
}
