/* Elastic Load Balancing v2 (SigV4 service `elasticloadbalancing`, 2015-12-01, AWS Query protocol,
 * Marker paging) at the same endpoint.  Each action checks its input against the store and records
 * the typed objects of elb/elb.h; the controller of `vmmgr serve` makes HAProxy serve them.  Bad
 * input gets ELB's error codes (ValidationError when none is more precise) and changes nothing. */
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

#define ELB_PAGE 400

static int
bad(vm_error *err, const char *fmt, const char *v)
{
    return vm_error_set(err, VM_ERR_VALIDATION, fmt, v ? v : "");
}

static int
exec_sql(vm_ctx *ctx, const char *sql, const char *const *args, size_t n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, sql, &st, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        sqlite3_bind_text(st, (int)i + 1, args[i], -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording the change", err);
    return 0;
}

/* A name of a load balancer or target group: 1-32 of [A-Za-z0-9-], no '-' at either end. */
static int
check_name(const char *name, const char *what, vm_error *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > ELB_NAME_MAX || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != n ||
        name[0] == '-' || name[n - 1] == '-')
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "The %s name '%s' is not valid: 1 to 32 letters, digits and hyphens, not beginning or "
                            "ending with a hyphen",
                            what, name ? name : "");
    return 0;
}

/* --- Marker paging ---------------------------------------------------------------------------------- */

static int
page_args(const vm_params *p, long *offset, long *size, vm_error *err)
{
    if (vm_params_int(p, "PageSize", ELB_PAGE, 1, ELB_PAGE, size, err) < 0)
        return -1;
    const char *m = vm_params_get(p, "Marker");
    *offset = 0;
    if (m) {
        char *end;
        *offset = strtol(m, &end, 10);
        if (*end || end == m || *offset < 0)
            return bad(err, "The marker '%s' is not valid", m);
    }
    return 0;
}

static void
next_marker(vm_node *result, size_t total, long offset, long size)
{
    if ((size_t)(offset + size) < total) {
        char m[32];
        snprintf(m, sizeof(m), "%ld", offset + size);
        vm_node_str(result, "NextMarker", NULL, m);
    }
}

/* --- tags ------------------------------------------------------------------------------------------- */

static int
parse_tags(const vm_params *p, const char *prefix, bool values, char ***keys, char ***vals, size_t *n, vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    if (vm_params_indexes(p, prefix, &idx, n, err) < 0)
        return -1;
    *keys = calloc(*n + 1, sizeof(char *));
    *vals = calloc(*n + 1, sizeof(char *));
    if (!*keys || !*vals)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < *n; i++) {
        const char *k = values ? vm_params_getf(p, "%s.%d.Key", prefix, idx[i]) : vm_params_getf(p, "%s.%d", prefix, idx[i]);
        const char *v = values ? vm_params_getf(p, "%s.%d.Value", prefix, idx[i]) : NULL;
        if (!k || !*k || strlen(k) > 128)
            return vm_error_set(err, VM_ERR_VALIDATION, "A tag key must be 1 to 128 characters");
        if (strncmp(k, "aws:", 4) == 0)
            return bad(err, "Tag keys starting with 'aws:' are reserved: %s", k);
        if (v && strlen(v) > 256)
            return vm_error_set(err, VM_ERR_VALIDATION, "A tag value must be at most 256 characters");
        (*keys)[i] = (char *)k;
        (*vals)[i] = (char *)(v ? v : "");
    }
    return 0;
}

static int
put_tags(vm_ctx *ctx, const char *arn, char **keys, char **vals, size_t n, vm_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *a[] = { arn, keys[i], vals[i] };
        if (exec_sql(ctx, "INSERT OR REPLACE INTO elb_tags (arn, key, value) VALUES (?, ?, ?)", a, 3, err) < 0)
            return -1;
    }
    return 0;
}

static int
render_tags(vm_ctx *ctx, vm_node *list, const char *arn, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT key, value FROM elb_tags WHERE arn = ? ORDER BY key", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        vm_node *t = vm_node_item(list);
        vm_node_str(t, "Key", NULL, vm_db_text(st, 0));
        vm_node_str(t, "Value", NULL, vm_db_text(st, 1));
    }
    return 0;
}

static int
drop_tags(vm_ctx *ctx, const char *arn, vm_error *err)
{
    const char *a[] = { arn };
    return exec_sql(ctx, "DELETE FROM elb_tags WHERE arn = ?", a, 1, err);
}

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
            if (strcmp(lb->scheme, "internet-facing") == 0)
                vm_node_str(one, "IpAddress", NULL, e.ip);
        }
    }
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
        if (vm_db_prepare(ctx->db, "SELECT vpc_id, az FROM subnets WHERE id = ?", &st, err) < 0)
            return -1;
        sqlite3_bind_text(st, 1, subs[i], -1, SQLITE_STATIC);
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
        if (vm_db_prepare(ctx->db, "SELECT vpc_id FROM security_groups WHERE id = ?", &st, err) < 0)
            return -1;
        sqlite3_bind_text(st, 1, gs[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW || strcmp(vm_db_text(st, 0), vpc) != 0)
            return vm_error_set(err, VM_ERR_ELB_SECURITY_GROUP, "Security group '%s' does not exist in VPC '%s'",
                                gs[i], vpc);
    }
    return 0;
}

/* The load balancer an ARN names (LoadBalancerNotFound). */
static int
lb_of_arn(vm_ctx *ctx, const char *arn, elb_lb *lb, vm_error *err)
{
    char id[ELB_ID_LEN + 1];
    if (!arn)
        return vm_error_set(err, VM_ERR_VALIDATION, "LoadBalancerArn is required");
    if (elb_arn_id(arn, "loadbalancer", id, VM_ERR_VALIDATION, err) < 0)
        return -1;
    return elb_lb_get(ctx, id, lb, err);
}

static int
tg_of_arn(vm_ctx *ctx, const char *arn, elb_tg *tg, vm_error *err)
{
    char id[ELB_ID_LEN + 1];
    if (!arn)
        return vm_error_set(err, VM_ERR_VALIDATION, "TargetGroupArn is required");
    if (elb_arn_id(arn, "targetgroup", id, VM_ERR_VALIDATION, err) < 0)
        return -1;
    return elb_tg_get(ctx, id, tg, err);
}

static int
create_lb(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb = { .created_at = time(NULL) };
    const char *name = vm_params_get(p, "Name");
    const char *type = vm_params_get(p, "Type"), *scheme = vm_params_get(p, "Scheme");
    const char *iptype = vm_params_get(p, "IpAddressType");
    if (check_name(name, "load balancer", err) < 0)
        return -1;
    if (strncmp(name, "internal-", 9) == 0)
        return bad(err, "The load balancer name '%s' cannot begin with 'internal-'", name);
    type = type ? type : "application";
    scheme = scheme ? scheme : "internet-facing";
    if (strcmp(type, "application") != 0 && strcmp(type, "network") != 0)
        return bad(err, "The load balancer type '%s' is not offered (application or network)", type);
    if (strcmp(scheme, "internal") != 0 && strcmp(scheme, "internet-facing") != 0)
        return bad(err, "The scheme '%s' is not valid (internal or internet-facing)", scheme);
    if (iptype && strcmp(iptype, "ipv4") != 0)
        return bad(err, "The IP address type '%s' is not offered (ipv4)", iptype);
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
    _cleanup_free_ char **tk = NULL, **tv = NULL;
    size_t nt;
    if (parse_tags(p, "Tags.member", true, &tk, &tv, &nt, err) < 0)
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
        if (vm_db_prepare(ctx->db, "SELECT id FROM security_groups WHERE vpc_id = ? AND name = 'default'", &st, err) <
            0)
            return -1;
        sqlite3_bind_text(st, 1, lb.vpc_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(grp_ids[ng++], VM_ID_MAX, "%s", vm_db_text(st, 0));
    }
    elb_id_new(lb.id);
    lb_dns_name(ctx, &lb);
    if (elb_lb_create(ctx, &lb, (const char(*)[VM_ID_MAX])sub_ids, ns, (const char(*)[VM_ID_MAX])grp_ids, ng, err) < 0)
        return -1;
    char arn[ELB_ARN_MAX];
    elb_lb_arn(ctx, &lb, arn);
    if (put_tags(ctx, arn, tk, tv, nt, err) < 0)
        return -1;
    return render_lb(ctx, vm_node_item(vm_node_list(result, "LoadBalancers", NULL)), &lb, err);
}

static int
describe_lbs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    _cleanup_free_ const char **arns = NULL, **names = NULL;
    size_t na, nn;
    long offset, size;
    if (vm_params_list(p, "LoadBalancerArns.member", &arns, &na, err) < 0 ||
        vm_params_list(p, "Names.member", &names, &nn, err) < 0 || page_args(p, &offset, &size, err) < 0)
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
        if (lb_of_arn(ctx, arns[i], &lb, err) < 0)
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
    next_marker(result, seen, offset, size);
    return 0;
}

static int
delete_lb(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    vm_error nf = { 0 };
    const char *arn = vm_params_get(p, "LoadBalancerArn");
    if (lb_of_arn(ctx, arn, &lb, &nf) < 0) /* gone already: done, as on AWS */
        return nf.code == VM_ERR_LB_NOT_FOUND ? 0 : vm_error_set(err, nf.code, "%s", nf.msg);
    if (elb_attr_bool(ctx, lb.id, "deletion_protection.enabled", false))
        return vm_error_set(err, VM_ERR_OPERATION_NOT_PERMITTED,
                            "Load balancer '%s' cannot be deleted because deletion protection is enabled", arn);
    if (drop_tags(ctx, arn, err) < 0)
        return -1;
    return elb_lb_mark_deleting(ctx, lb.id, err);
}

/* --- attributes ------------------------------------------------------------------------------------------ */

typedef struct attr_def {
    const char *key, *def;
    char kind; /* b: true/false, n: a number in [lo,hi], s: any text */
    long lo, hi;
} attr_def;

static const attr_def lb_attrs[] = {
    { "deletion_protection.enabled", "false", 'b' },
    { "idle_timeout.timeout_seconds", "60", 'n', 1, 4000 },
    { "access_logs.s3.enabled", "false", 'b' },
    { "access_logs.s3.bucket", "", 's' },
    { "access_logs.s3.prefix", "", 's' },
    { "routing.http2.enabled", "true", 'b' },
    { "routing.http.drop_invalid_header_fields.enabled", "false", 'b' },
    { "routing.http.xff_header_processing.mode", "append", 's' },
    { "routing.http.preserve_host_header.enabled", "false", 'b' },
    { "routing.http.x_amzn_tls_version_and_cipher_suite.enabled", "false", 'b' },
    { "routing.http.xff_client_port.enabled", "false", 'b' },
    { "routing.http.desync_mitigation_mode", "defensive", 's' },
    { "waf.fail_open.enabled", "false", 'b' },
    { "load_balancing.cross_zone.enabled", "true", 'b' },
    { NULL, NULL, 0 },
};

static const attr_def tg_attrs[] = {
    { "deregistration_delay.timeout_seconds", "300", 'n', 0, 3600 },
    { "deregistration_delay.connection_termination.enabled", "false", 'b' },
    { "stickiness.enabled", "false", 'b' },
    { "stickiness.type", "lb_cookie", 's' },
    { "stickiness.lb_cookie.duration_seconds", "86400", 'n', 1, 604800 },
    { "load_balancing.algorithm.type", "round_robin", 's' },
    { "slow_start.duration_seconds", "0", 'n', 0, 900 },
    { "proxy_protocol_v2.enabled", "false", 'b' },
    { "preserve_client_ip.enabled", "false", 'b' },
    { "load_balancing.cross_zone.enabled", "use_load_balancer_configuration", 's' },
    { NULL, NULL, 0 },
};

static int
render_attrs(vm_ctx *ctx, vm_node *result, const char *owner, const attr_def *defs, vm_error *err)
{
    vm_node *list = vm_node_list(result, "Attributes", NULL);
    for (const attr_def *d = defs; d->key; d++) {
        _cleanup_free_ char *v = elb_attr_get(ctx, owner, d->key);
        vm_node *a = vm_node_item(list);
        vm_node_str(a, "Key", NULL, d->key);
        vm_node_str(a, "Value", NULL, v ? v : d->def);
    }
    return 0;
}

/* Attributes.member.N {Key, Value}: every key known and every value valid before any is kept. */
static int
modify_attrs(vm_ctx *ctx, const vm_params *p, const char *owner, const attr_def *defs, vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, "Attributes.member", &idx, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "Attributes is required");
    for (size_t i = 0; i < n; i++) {
        const char *k = vm_params_getf(p, "Attributes.member.%d.Key", idx[i]);
        const char *v = vm_params_getf(p, "Attributes.member.%d.Value", idx[i]);
        const attr_def *d = defs;
        while (d->key && (!k || strcmp(d->key, k) != 0))
            d++;
        if (!d->key)
            return bad(err, "The attribute key '%s' is not recognized", k);
        if (!v)
            return bad(err, "The attribute '%s' needs a value", k);
        char *end;
        long num = strtol(v, &end, 10);
        if ((d->kind == 'b' && strcmp(v, "true") != 0 && strcmp(v, "false") != 0) ||
            (d->kind == 'n' && (*end || end == v || num < d->lo || num > d->hi)))
            return vm_error_set(err, VM_ERR_VALIDATION, "The value '%s' of attribute '%s' is not valid", v, k);
    }
    for (size_t i = 0; i < n; i++) {
        const char *a[] = { owner, vm_params_getf(p, "Attributes.member.%d.Key", idx[i]),
                            vm_params_getf(p, "Attributes.member.%d.Value", idx[i]) };
        if (exec_sql(ctx, "INSERT OR REPLACE INTO elb_attributes (owner, key, value) VALUES (?, ?, ?)", a, 3, err) < 0)
            return -1;
    }
    return 0;
}

static int
describe_lb_attrs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    if (lb_of_arn(ctx, vm_params_get(p, "LoadBalancerArn"), &lb, err) < 0)
        return -1;
    return render_attrs(ctx, result, lb.id, lb_attrs, err);
}

static int
modify_lb_attrs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    if (lb_of_arn(ctx, vm_params_get(p, "LoadBalancerArn"), &lb, err) < 0 ||
        modify_attrs(ctx, p, lb.id, lb_attrs, err) < 0)
        return -1;
    return render_attrs(ctx, result, lb.id, lb_attrs, err);
}

static int
describe_tg_attrs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_tg tg;
    if (tg_of_arn(ctx, vm_params_get(p, "TargetGroupArn"), &tg, err) < 0)
        return -1;
    return render_attrs(ctx, result, tg.id, tg_attrs, err);
}

static int
modify_tg_attrs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_tg tg;
    if (tg_of_arn(ctx, vm_params_get(p, "TargetGroupArn"), &tg, err) < 0 ||
        modify_attrs(ctx, p, tg.id, tg_attrs, err) < 0)
        return -1;
    return render_attrs(ctx, result, tg.id, tg_attrs, err);
}

/* --- target groups -------------------------------------------------------------------------------------- */

/* Matcher.HttpCode: codes 200-499 (ALB), as a list and/or ranges: "200", "200,202", "200-299". */
static int
check_matcher(const char *m, vm_error *err)
{
    char buf[128];
    if (!*m || strlen(m) >= sizeof(buf))
        return bad(err, "The matcher '%s' is not valid", m);
    snprintf(buf, sizeof(buf), "%s", m);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *end;
        long lo = strtol(tok, &end, 10), hi = lo;
        if (*end == '-')
            hi = strtol(end + 1, &end, 10);
        if (*end || lo < 200 || hi > 499 || hi < lo)
            return bad(err, "Health check matcher HTTP code '%s' must be within '200-499' (a code, a list or a range)",
                       m);
    }
    return 0;
}

/* The health check and port fields of CreateTargetGroup and ModifyTargetGroup over tg. */
static int
parse_health(const vm_params *p, elb_tg *tg, vm_error *err)
{
    const char *proto = vm_params_get(p, "HealthCheckProtocol"), *port = vm_params_get(p, "HealthCheckPort");
    const char *path = vm_params_get(p, "HealthCheckPath"), *m = vm_params_get(p, "Matcher.HttpCode");
    if (vm_params_get(p, "Matcher.GrpcCode"))
        return vm_error_set(err, VM_ERR_VALIDATION, "gRPC health checks are not offered");
    if (proto) {
        if (strcmp(proto, "HTTP") != 0 && strcmp(proto, "TCP") != 0)
            return bad(err, "The health check protocol '%s' is not offered (HTTP or TCP)", proto);
        snprintf(tg->hc_protocol, sizeof(tg->hc_protocol), "%s", proto);
    }
    if (port) {
        char *end;
        long v = strtol(port, &end, 10);
        if (strcmp(port, "traffic-port") != 0 && (*end || end == port || v < 1 || v > 65535))
            return bad(err, "The health check port '%s' is not valid (traffic-port or 1-65535)", port);
        snprintf(tg->hc_port, sizeof(tg->hc_port), "%s", port);
    }
    if (path) {
        if (path[0] != '/' || strlen(path) > 1024 || strpbrk(path, " \t\r\n"))
            return bad(err, "The health check path '%s' must begin with '/' and be at most 1024 characters", path);
        snprintf(tg->hc_path, sizeof(tg->hc_path), "%s", path);
    }
    if (m) {
        if (check_matcher(m, err) < 0)
            return -1;
        snprintf(tg->matcher, sizeof(tg->matcher), "%s", m);
    }
    bool enabled;
    if (vm_params_int(p, "HealthCheckIntervalSeconds", tg->hc_interval, 5, 300, &tg->hc_interval, err) < 0 ||
        vm_params_int(p, "HealthCheckTimeoutSeconds", tg->hc_timeout, 2, 120, &tg->hc_timeout, err) < 0 ||
        vm_params_int(p, "HealthyThresholdCount", tg->healthy, 2, 10, &tg->healthy, err) < 0 ||
        vm_params_int(p, "UnhealthyThresholdCount", tg->unhealthy, 2, 10, &tg->unhealthy, err) < 0 ||
        vm_params_bool(p, "HealthCheckEnabled", true, &enabled, err) < 0)
        return -1;
    if (!enabled)
        return vm_error_set(err, VM_ERR_VALIDATION, "Health checks cannot be disabled for instance and ip targets");
    if (tg->hc_timeout >= tg->hc_interval)
        return vm_error_set(err, VM_ERR_VALIDATION,
                            "The health check timeout must be smaller than the interval (%ld >= %ld)", tg->hc_timeout,
                            tg->hc_interval);
    return 0;
}

static int
render_tg(vm_ctx *ctx, vm_node *it, const elb_tg *tg, vm_error *err)
{
    char arn[ELB_ARN_MAX], port[16];
    elb_tg_arn(ctx, tg, arn);
    snprintf(port, sizeof(port), "%s", tg->hc_port);
    vm_node_str(it, "TargetGroupArn", NULL, arn);
    vm_node_str(it, "TargetGroupName", NULL, tg->name);
    vm_node_str(it, "Protocol", NULL, tg->protocol);
    vm_node_int(it, "Port", NULL, tg->port);
    vm_node_str(it, "VpcId", NULL, tg->vpc_id);
    vm_node_str(it, "HealthCheckProtocol", NULL, tg->hc_protocol);
    vm_node_str(it, "HealthCheckPort", NULL, port);
    vm_node_bool(it, "HealthCheckEnabled", NULL, true);
    vm_node_int(it, "HealthCheckIntervalSeconds", NULL, tg->hc_interval);
    vm_node_int(it, "HealthCheckTimeoutSeconds", NULL, tg->hc_timeout);
    vm_node_int(it, "HealthyThresholdCount", NULL, tg->healthy);
    vm_node_int(it, "UnhealthyThresholdCount", NULL, tg->unhealthy);
    if (strcmp(tg->hc_protocol, "HTTP") == 0) {
        vm_node_str(it, "HealthCheckPath", NULL, tg->hc_path);
        vm_node_str(vm_node_struct(it, "Matcher", NULL), "HttpCode", NULL, tg->matcher);
    }
    _cleanup_free_ char(*lbs)[ELB_ID_LEN + 1] = NULL;
    size_t nl;
    if (elb_lbs_of_tg(ctx, tg->id, &lbs, &nl, err) < 0)
        return -1;
    vm_node *list = vm_node_list(it, "LoadBalancerArns", NULL);
    for (size_t i = 0; i < nl; i++) {
        elb_lb lb;
        vm_error ignore = { 0 };
        char la[ELB_ARN_MAX];
        if (elb_lb_get(ctx, lbs[i], &lb, &ignore) < 0)
            continue;
        elb_lb_arn(ctx, &lb, la);
        vm_node_str(list, NULL, NULL, la);
    }
    vm_node_str(it, "TargetType", NULL, tg->target_type);
    if (strcmp(tg->protocol, "HTTP") == 0)
        vm_node_str(it, "ProtocolVersion", NULL, "HTTP1");
    vm_node_str(it, "IpAddressType", NULL, "ipv4");
    return 0;
}

static int
create_tg(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_tg tg = { .created_at = time(NULL), .hc_port = "traffic-port", .hc_path = "/", .hc_interval = 30,
                  .healthy = 5, .unhealthy = 2 };
    const char *name = vm_params_get(p, "Name"), *proto = vm_params_get(p, "Protocol");
    const char *vpc = vm_params_get(p, "VpcId"), *tt = vm_params_get(p, "TargetType");
    if (check_name(name, "target group", err) < 0)
        return -1;
    tt = tt ? tt : "instance";
    if (strcmp(tt, "instance") != 0 && strcmp(tt, "ip") != 0)
        return bad(err, "The target type '%s' is not offered (instance or ip)", tt);
    if (!proto || !vpc)
        return vm_error_set(err, VM_ERR_VALIDATION, "Protocol, Port and VpcId are required for target type %s", tt);
    if (strcmp(proto, "HTTP") != 0 && strcmp(proto, "TCP") != 0)
        return bad(err, "The protocol '%s' is not offered by this endpoint (HTTP or TCP)", proto);
    if (!vm_params_get(p, "Port"))
        return vm_error_set(err, VM_ERR_VALIDATION, "Port is required");
    if (vm_params_int(p, "Port", 0, 1, 65535, &tg.port, err) < 0) {
        *err = (vm_error){ 0 };
        return bad(err, "The port '%s' is not valid (1-65535)", vm_params_get(p, "Port"));
    }
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT 1 FROM vpcs WHERE id = ?", &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, vpc, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return bad(err, "The VPC ID '%s' is not found", vpc);
    snprintf(tg.name, sizeof(tg.name), "%s", name);
    snprintf(tg.protocol, sizeof(tg.protocol), "%s", proto);
    snprintf(tg.vpc_id, sizeof(tg.vpc_id), "%s", vpc);
    snprintf(tg.target_type, sizeof(tg.target_type), "%s", tt);
    bool http = strcmp(proto, "HTTP") == 0;
    snprintf(tg.hc_protocol, sizeof(tg.hc_protocol), "%s", http ? "HTTP" : "TCP");
    snprintf(tg.matcher, sizeof(tg.matcher), "%s", http ? "200" : "200-399");
    const char *hp = vm_params_get(p, "HealthCheckProtocol");
    tg.hc_timeout = (hp ? strcmp(hp, "HTTP") == 0 : http) ? 5 : 10;
    if (!http)
        tg.healthy = 5, tg.unhealthy = 2;
    if (parse_health(p, &tg, err) < 0)
        return -1;
    _cleanup_free_ char **tk = NULL, **tv = NULL;
    size_t nt;
    if (parse_tags(p, "Tags.member", true, &tk, &tv, &nt, err) < 0)
        return -1;
    /* the same name again: the same group when it asks for the same, else DuplicateTargetGroupName */
    _cleanup_stmt_ sqlite3_stmt *dup = NULL;
    if (vm_db_prepare(ctx->db, "SELECT id FROM elb_target_groups WHERE name = ?", &dup, err) < 0)
        return -1;
    sqlite3_bind_text(dup, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(dup) == SQLITE_ROW) {
        elb_tg old;
        if (elb_tg_get(ctx, vm_db_text(dup, 0), &old, err) < 0)
            return -1;
        if (strcmp(old.protocol, tg.protocol) != 0 || old.port != tg.port || strcmp(old.vpc_id, tg.vpc_id) != 0 ||
            strcmp(old.target_type, tg.target_type) != 0)
            return vm_error_set(err, VM_ERR_TG_DUPLICATE, "A target group with the same name '%s' exists, but with "
                                "different settings", name);
        return render_tg(ctx, vm_node_item(vm_node_list(result, "TargetGroups", NULL)), &old, err);
    }
    elb_id_new(tg.id);
    _cleanup_stmt_ sqlite3_stmt *ins = NULL;
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO elb_target_groups (id, name, protocol, port, vpc_id, target_type, hc_protocol, "
                      "hc_port, hc_path, hc_interval, hc_timeout, healthy, unhealthy, matcher, created_at) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      &ins, err) < 0)
        return -1;
    const char *texts[] = { tg.id, tg.name, tg.protocol };
    for (int i = 0; i < 3; i++)
        sqlite3_bind_text(ins, i + 1, texts[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 4, tg.port);
    sqlite3_bind_text(ins, 5, tg.vpc_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 6, tg.target_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 7, tg.hc_protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 8, tg.hc_port, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 9, tg.hc_path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 10, tg.hc_interval);
    sqlite3_bind_int64(ins, 11, tg.hc_timeout);
    sqlite3_bind_int64(ins, 12, tg.healthy);
    sqlite3_bind_int64(ins, 13, tg.unhealthy);
    sqlite3_bind_text(ins, 14, tg.matcher, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 15, tg.created_at);
    if (sqlite3_step(ins) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording the target group", err);
    char arn[ELB_ARN_MAX];
    elb_tg_arn(ctx, &tg, arn);
    if (put_tags(ctx, arn, tk, tv, nt, err) < 0)
        return -1;
    return render_tg(ctx, vm_node_item(vm_node_list(result, "TargetGroups", NULL)), &tg, err);
}

static int
modify_tg(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_tg tg;
    if (tg_of_arn(ctx, vm_params_get(p, "TargetGroupArn"), &tg, err) < 0 || parse_health(p, &tg, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "UPDATE elb_target_groups SET hc_protocol = ?, hc_port = ?, hc_path = ?, hc_interval = ?, "
                      "hc_timeout = ?, healthy = ?, unhealthy = ?, matcher = ? WHERE id = ?",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, tg.hc_protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, tg.hc_port, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, tg.hc_path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, tg.hc_interval);
    sqlite3_bind_int64(st, 5, tg.hc_timeout);
    sqlite3_bind_int64(st, 6, tg.healthy);
    sqlite3_bind_int64(st, 7, tg.unhealthy);
    sqlite3_bind_text(st, 8, tg.matcher, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, tg.id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "changing the target group", err);
    return render_tg(ctx, vm_node_item(vm_node_list(result, "TargetGroups", NULL)), &tg, err);
}

static int
describe_tgs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    _cleanup_free_ const char **arns = NULL, **names = NULL;
    size_t na, nn;
    long offset, size;
    const char *lb_arn = vm_params_get(p, "LoadBalancerArn");
    if (vm_params_list(p, "TargetGroupArns.member", &arns, &na, err) < 0 ||
        vm_params_list(p, "Names.member", &names, &nn, err) < 0 || page_args(p, &offset, &size, err) < 0)
        return -1;
    elb_lb lb;
    _cleanup_free_ char(*of_lb)[ELB_ID_LEN + 1] = NULL;
    if (lb_arn && lb_of_arn(ctx, lb_arn, &lb, err) < 0)
        return -1;
    for (size_t i = 0; i < na; i++) {
        elb_tg tg;
        if (tg_of_arn(ctx, arns[i], &tg, err) < 0)
            return -1;
    }
    _cleanup_free_ elb_tg *all = NULL;
    size_t n;
    if (elb_tgs(ctx, &all, &n, err) < 0)
        return -1;
    for (size_t j = 0; j < nn; j++) {
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found |= strcmp(all[i].name, names[j]) == 0;
        if (!found)
            return vm_error_set(err, VM_ERR_TG_NOT_FOUND, "Target groups '[%s]' not found", names[j]);
    }
    vm_node *list = vm_node_list(result, "TargetGroups", NULL);
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        char arn[ELB_ARN_MAX];
        elb_tg_arn(ctx, &all[i], arn);
        bool want = na == 0 && nn == 0;
        for (size_t j = 0; j < na; j++)
            want |= strcmp(arns[j], arn) == 0;
        for (size_t j = 0; j < nn; j++)
            want |= strcmp(names[j], all[i].name) == 0;
        if (want && lb_arn) {
            _cleanup_free_ char(*lbs)[ELB_ID_LEN + 1] = NULL;
            size_t nl;
            if (elb_lbs_of_tg(ctx, all[i].id, &lbs, &nl, err) < 0)
                return -1;
            bool on = false;
            for (size_t k = 0; k < nl; k++)
                on |= strcmp(lbs[k], lb.id) == 0;
            want = on;
        }
        if (!want)
            continue;
        if ((long)seen >= offset && (long)seen < offset + size && render_tg(ctx, vm_node_item(list), &all[i], err) < 0)
            return -1;
        seen++;
    }
    next_marker(result, seen, offset, size);
    return 0;
}

static int
delete_tg(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_tg tg;
    vm_error nf = { 0 };
    const char *arn = vm_params_get(p, "TargetGroupArn");
    if (tg_of_arn(ctx, arn, &tg, &nf) < 0)
        return nf.code == VM_ERR_TG_NOT_FOUND ? 0 : vm_error_set(err, nf.code, "%s", nf.msg);
    long used = 0;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT (SELECT count(*) FROM elb_listeners WHERE tg_id = ?1) + "
                      "(SELECT count(*) FROM elb_rules WHERE tg_id = ?1)",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, tg.id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        used = sqlite3_column_int64(st, 0);
    if (used)
        return vm_error_set(err, VM_ERR_RESOURCE_IN_USE, "Target group '%s' is currently in use by a listener or a rule",
                            arn);
    _cleanup_stmt_ sqlite3_stmt *asg = NULL;
    if (vm_db_prepare(ctx->db, "SELECT group_name FROM asg_target_groups WHERE tg_id = ?", &asg, err) < 0)
        return -1;
    sqlite3_bind_text(asg, 1, tg.id, -1, SQLITE_STATIC);
    if (sqlite3_step(asg) == SQLITE_ROW)
        return vm_error_set(err, VM_ERR_RESOURCE_IN_USE, "Target group '%s' is currently in use by Auto Scaling group '%s'",
                            arn, vm_db_text(asg, 0));
    const char *a[] = { tg.id };
    if (drop_tags(ctx, arn, err) < 0 || exec_sql(ctx, "DELETE FROM elb_attributes WHERE owner = ?", a, 1, err) < 0)
        return -1;
    return exec_sql(ctx, "DELETE FROM elb_target_groups WHERE id = ?", a, 1, err);
}

/* --- targets ---------------------------------------------------------------------------------------------- */

typedef struct target_arg {
    const char *id;
    long port;
    char ip[48];
} target_arg;

/* Targets.member.N {Id, Port}; with resolve, each one checked (a running instance of the group's
 * VPC, or an address inside it) and its address found. */
static int
parse_targets(vm_ctx *ctx, const vm_params *p, const elb_tg *tg, bool resolve, target_arg **ret, size_t *ret_n,
              vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, "Targets.member", &idx, &n, err) < 0)
        return -1;
    _cleanup_free_ target_arg *ts = calloc(n + 1, sizeof(*ts));
    if (!ts)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        ts[i].id = vm_params_getf(p, "Targets.member.%d.Id", idx[i]);
        const char *port = vm_params_getf(p, "Targets.member.%d.Port", idx[i]);
        if (!ts[i].id || !*ts[i].id)
            return vm_error_set(err, VM_ERR_VALIDATION, "Every target needs an Id");
        ts[i].port = tg->port;
        if (port) {
            char *end;
            ts[i].port = strtol(port, &end, 10);
            if (*end || end == port || ts[i].port < 1 || ts[i].port > 65535)
                return bad(err, "The target port '%s' is not valid (1-65535)", port);
        }
        if (!resolve)
            continue;
        if (strcmp(tg->target_type, "ip") == 0) {
            uint32_t a;
            net_cidr vpc;
            _cleanup_stmt_ sqlite3_stmt *st = NULL;
            if (vm_db_prepare(ctx->db, "SELECT cidr FROM vpcs WHERE id = ?", &st, err) < 0)
                return -1;
            sqlite3_bind_text(st, 1, tg->vpc_id, -1, SQLITE_STATIC);
            if (!net_addr_parse(ts[i].id, &a) || sqlite3_step(st) != SQLITE_ROW ||
                !net_cidr_parse(vm_db_text(st, 0), true, &vpc) || !net_cidr_has(&vpc, a))
                return vm_error_set(err, VM_ERR_INVALID_TARGET,
                                    "The IP address '%s' is not within the VPC of target group '%s'", ts[i].id, tg->name);
            snprintf(ts[i].ip, sizeof(ts[i].ip), "%s", ts[i].id);
            continue;
        }
        inst_obj *inst = NULL;
        vm_error e = { 0 };
        if (!vm_id_valid(ts[i].id, "i") || inst_get(ctx, ts[i].id, &inst, &e) < 0)
            return vm_error_set(err, VM_ERR_INVALID_TARGET,
                                "The following targets are not in a running state and cannot be registered: '%s'",
                                ts[i].id);
        bool running = inst->state == INST_RUNNING;
        inst_obj_free(inst);
        char vpc[VM_ID_MAX] = "";
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (vm_db_prepare(ctx->db,
                          "SELECT s.vpc_id, e.ip FROM network_interfaces e JOIN subnets s ON s.id = e.subnet_id "
                          "WHERE e.instance_id = ?",
                          &st, err) < 0)
            return -1;
        sqlite3_bind_text(st, 1, ts[i].id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            snprintf(vpc, sizeof(vpc), "%s", vm_db_text(st, 0));
            snprintf(ts[i].ip, sizeof(ts[i].ip), "%s", vm_db_text(st, 1));
        }
        if (!running)
            return vm_error_set(err, VM_ERR_INVALID_TARGET,
                                "The following targets are not in a running state and cannot be registered: '%s'",
                                ts[i].id);
        if (strcmp(vpc, tg->vpc_id) != 0)
            return vm_error_set(err, VM_ERR_INVALID_TARGET,
                                "The following targets are not in the target group's VPC '%s': '%s'", tg->vpc_id,
                                ts[i].id);
    }
    *ret = TAKE_PTR(ts);
    *ret_n = n;
    return 0;
}

static int
register_targets(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_tg tg;
    _cleanup_free_ target_arg *ts = NULL;
    size_t n;
    if (tg_of_arn(ctx, vm_params_get(p, "TargetGroupArn"), &tg, err) < 0 ||
        parse_targets(ctx, p, &tg, true, &ts, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "Targets is required");
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int rc = vm_db_prepare(ctx->db,
                           "INSERT INTO elb_targets (tg_id, target, port, ip, created_at) VALUES (?, ?, ?, ?, ?) "
                           "ON CONFLICT (tg_id, target, port) DO UPDATE SET drain_until = 0",
                           &st, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, tg.id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ts[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, ts[i].port);
        sqlite3_bind_text(st, 4, ts[i].ip, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, time(NULL));
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = vm_db_error(ctx->db, "registering targets", err);
    }
    if (rc < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return vm_db_commit(ctx->db, err);
}

static int
deregister_targets(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_tg tg;
    _cleanup_free_ target_arg *ts = NULL;
    size_t n;
    if (tg_of_arn(ctx, vm_params_get(p, "TargetGroupArn"), &tg, err) < 0 ||
        parse_targets(ctx, p, &tg, false, &ts, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "Targets is required");
    for (size_t i = 0; i < n; i++) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (vm_db_prepare(ctx->db, "SELECT 1 FROM elb_targets WHERE tg_id = ? AND target = ? AND port = ?", &st, err) <
            0)
            return -1;
        sqlite3_bind_text(st, 1, tg.id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ts[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, ts[i].port);
        if (sqlite3_step(st) != SQLITE_ROW)
            return vm_error_set(err, VM_ERR_INVALID_TARGET, "The following targets are not registered: '%s'", ts[i].id);
    }
    /* draining for the deregistration delay, while connections end; then the controller removes them */
    long delay = elb_attr_long(ctx, tg.id, "deregistration_delay.timeout_seconds", 300);
    _cleanup_free_ char(*lbs)[ELB_ID_LEN + 1] = NULL;
    size_t nl;
    if (elb_lbs_of_tg(ctx, tg.id, &lbs, &nl, err) < 0)
        return -1;
    long until = nl && delay > 0 ? time(NULL) + delay : 1; /* 1: gone at the next round */
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *up = NULL;
    int rc = vm_db_prepare(ctx->db,
                           "UPDATE elb_targets SET drain_until = ? WHERE tg_id = ? AND target = ? AND port = ? "
                           "AND drain_until = 0",
                           &up, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_reset(up);
        sqlite3_bind_int64(up, 1, until);
        sqlite3_bind_text(up, 2, tg.id, -1, SQLITE_STATIC);
        sqlite3_bind_text(up, 3, ts[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(up, 4, ts[i].port);
        if (sqlite3_step(up) != SQLITE_DONE)
            rc = vm_db_error(ctx->db, "deregistering targets", err);
    }
    if (rc < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return vm_db_commit(ctx->db, err);
}

static void
render_health(vm_ctx *ctx, vm_node *list, const elb_tg *tg, const elb_target *t, const char *id, long port)
{
    vm_node *it = vm_node_item(list);
    vm_node *tn = vm_node_struct(it, "Target", NULL);
    vm_node_str(tn, "Id", NULL, id);
    vm_node_int(tn, "Port", NULL, port);
    char hp[16];
    snprintf(hp, sizeof(hp), "%ld", port);
    vm_node_str(it, "HealthCheckPort", NULL, strcmp(tg->hc_port, "traffic-port") == 0 ? hp : tg->hc_port);
    vm_node *h = vm_node_struct(it, "TargetHealth", NULL);
    char state[16], reason[48], desc[160];
    if (t) {
        elb_target_health(ctx, tg, t, state, reason, desc);
    } else {
        snprintf(state, sizeof(state), "unused");
        snprintf(reason, sizeof(reason), "Target.NotRegistered");
        snprintf(desc, sizeof(desc), "Target is not registered to the target group");
    }
    vm_node_str(h, "State", NULL, state);
    if (reason[0])
        vm_node_str(h, "Reason", NULL, reason);
    if (desc[0])
        vm_node_str(h, "Description", NULL, desc);
}

static int
describe_health(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_tg tg;
    _cleanup_free_ target_arg *ts = NULL;
    size_t n;
    if (tg_of_arn(ctx, vm_params_get(p, "TargetGroupArn"), &tg, err) < 0 ||
        parse_targets(ctx, p, &tg, false, &ts, &n, err) < 0)
        return -1;
    _cleanup_free_ elb_target *reg = NULL;
    size_t nr;
    if (elb_targets_of(ctx, tg.id, &reg, &nr, err) < 0)
        return -1;
    vm_node *list = vm_node_list(result, "TargetHealthDescriptions", NULL);
    if (n == 0) {
        for (size_t i = 0; i < nr; i++)
            render_health(ctx, list, &tg, &reg[i], reg[i].target, reg[i].port);
        return 0;
    }
    /* asked-for targets: a port not given matches any registered port of the target */
    for (size_t i = 0; i < n; i++) {
        const char *port = vm_params_getf(p, "Targets.member.%zu.Port", i + 1);
        bool any = false;
        for (size_t j = 0; j < nr; j++)
            if (strcmp(reg[j].target, ts[i].id) == 0 && (!port || reg[j].port == ts[i].port)) {
                render_health(ctx, list, &tg, &reg[j], reg[j].target, reg[j].port);
                any = true;
            }
        if (!any)
            render_health(ctx, list, &tg, NULL, ts[i].id, ts[i].port);
    }
    return 0;
}

/* --- listeners and rules ------------------------------------------------------------------------------- */

/* Actions.member.1 (or DefaultActions.member.1) into a; the target group must suit lb. */
static int
parse_action(vm_ctx *ctx, const vm_params *p, const char *prefix, const elb_lb *lb, elb_action *a, vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, prefix, &idx, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "%s is required", prefix);
    if (n > 1)
        return vm_error_set(err, VM_ERR_VALIDATION, "Only one action per listener or rule is offered by this endpoint");
    const char *type = vm_params_getf(p, "%s.%d.Type", prefix, idx[0]);
    const char *tga = vm_params_getf(p, "%s.%d.TargetGroupArn", prefix, idx[0]);
    if (!tga)
        tga = vm_params_getf(p, "%s.%d.ForwardConfig.TargetGroups.member.1.TargetGroupArn", prefix, idx[0]);
    memset(a, 0, sizeof(*a));
    if (!type)
        return vm_error_set(err, VM_ERR_VALIDATION, "An action needs a Type");
    snprintf(a->type, sizeof(a->type), "%s", type);
    if (strcmp(type, "forward") == 0) {
        if (vm_params_getf(p, "%s.%d.ForwardConfig.TargetGroups.member.2.TargetGroupArn", prefix, idx[0]))
            return vm_error_set(err, VM_ERR_VALIDATION, "Weighted forwarding to several target groups is not offered");
        elb_tg tg;
        if (tg_of_arn(ctx, tga, &tg, err) < 0)
            return -1;
        bool http = strcmp(lb->type, "application") == 0;
        if (http != (strcmp(tg.protocol, "HTTP") == 0))
            return vm_error_set(err, VM_ERR_VALIDATION, "The target group '%s' (%s) cannot be used with a%s load "
                                "balancer", tg.name, tg.protocol, http ? "n application" : " network");
        if (strcmp(tg.vpc_id, lb->vpc_id) != 0)
            return vm_error_set(err, VM_ERR_VALIDATION, "The target group '%s' is in another VPC than the load balancer",
                                tg.name);
        snprintf(a->tg_id, sizeof(a->tg_id), "%s", tg.id);
        return 0;
    }
    if (strcmp(type, "fixed-response") == 0) {
        if (strcmp(lb->type, "application") != 0)
            return vm_error_set(err, VM_ERR_VALIDATION, "fixed-response actions need an application load balancer");
        const char *code = vm_params_getf(p, "%s.%d.FixedResponseConfig.StatusCode", prefix, idx[0]);
        const char *ct = vm_params_getf(p, "%s.%d.FixedResponseConfig.ContentType", prefix, idx[0]);
        const char *body = vm_params_getf(p, "%s.%d.FixedResponseConfig.MessageBody", prefix, idx[0]);
        if (!code || strlen(code) != 3 || strspn(code, "0123456789") != 3 || code[0] < '2' || code[0] > '5')
            return bad(err, "The fixed-response status code '%s' is not valid (2XX, 4XX or 5XX)", code);
        if (code[0] == '3')
            return bad(err, "The fixed-response status code '%s' is not valid (2XX, 4XX or 5XX)", code);
        if (ct && strcmp(ct, "text/plain") != 0 && strcmp(ct, "text/css") != 0 && strcmp(ct, "text/html") != 0 &&
            strcmp(ct, "application/javascript") != 0 && strcmp(ct, "application/json") != 0)
            return bad(err, "The content type '%s' is not valid", ct);
        if (body && strlen(body) > 1024)
            return vm_error_set(err, VM_ERR_VALIDATION, "A fixed-response message body is at most 1024 characters");
        snprintf(a->status, sizeof(a->status), "%s", code);
        snprintf(a->content_type, sizeof(a->content_type), "%s", ct ? ct : "text/plain");
        snprintf(a->body, sizeof(a->body), "%s", body ? body : "");
        return 0;
    }
    return bad(err, "The action type '%s' is not offered (forward or fixed-response)", type);
}

static void
render_action(vm_ctx *ctx, vm_node *list, const elb_action *a)
{
    vm_node *it = vm_node_item(list);
    vm_node_str(it, "Type", NULL, a->type);
    if (strcmp(a->type, "forward") == 0) {
        elb_tg tg;
        vm_error ignore = { 0 };
        char arn[ELB_ARN_MAX] = "";
        if (elb_tg_get(ctx, a->tg_id, &tg, &ignore) == 0)
            elb_tg_arn(ctx, &tg, arn);
        vm_node_str(it, "TargetGroupArn", NULL, arn);
        vm_node *fc = vm_node_struct(it, "ForwardConfig", NULL);
        vm_node *tgl = vm_node_list(fc, "TargetGroups", NULL);
        vm_node *one = vm_node_item(tgl);
        vm_node_str(one, "TargetGroupArn", NULL, arn);
        vm_node_int(one, "Weight", NULL, 1);
    } else {
        vm_node *fc = vm_node_struct(it, "FixedResponseConfig", NULL);
        vm_node_str(fc, "StatusCode", NULL, a->status);
        vm_node_str(fc, "ContentType", NULL, a->content_type);
        if (a->body[0])
            vm_node_str(fc, "MessageBody", NULL, a->body);
    }
    vm_node_int(it, "Order", NULL, 1);
}

static void
render_listener(vm_ctx *ctx, vm_node *it, const elb_lb *lb, const elb_listener *l)
{
    char arn[ELB_ARN_MAX], lba[ELB_ARN_MAX];
    elb_listener_arn(ctx, lb, l->id, arn);
    elb_lb_arn(ctx, lb, lba);
    vm_node_str(it, "ListenerArn", NULL, arn);
    vm_node_str(it, "LoadBalancerArn", NULL, lba);
    vm_node_int(it, "Port", NULL, l->port);
    vm_node_str(it, "Protocol", NULL, l->protocol);
    render_action(ctx, vm_node_list(it, "DefaultActions", NULL), &l->action);
}

static int
listener_of_arn(vm_ctx *ctx, const char *arn, elb_listener *l, elb_lb *lb, vm_error *err)
{
    char id[ELB_ID_LEN + 1];
    if (!arn)
        return vm_error_set(err, VM_ERR_VALIDATION, "ListenerArn is required");
    if (elb_arn_id(arn, "listener", id, VM_ERR_VALIDATION, err) < 0 || elb_listener_get(ctx, id, l, err) < 0)
        return -1;
    return elb_lb_get(ctx, l->lb_id, lb, err);
}

static int
parse_listener(const vm_params *p, const elb_lb *lb, elb_listener *l, bool create, vm_error *err)
{
    const char *proto = vm_params_get(p, "Protocol");
    const char *port = vm_params_get(p, "Port");
    bool http = strcmp(lb->type, "application") == 0;
    if (proto) {
        if (http ? strcmp(proto, "HTTP") != 0 : strcmp(proto, "TCP") != 0)
            return bad(err, http ? "The protocol '%s' is not offered for an application load balancer (HTTP)"
                                 : "The protocol '%s' is not offered for a network load balancer (TCP)",
                       proto);
    }
    snprintf(l->protocol, sizeof(l->protocol), "%s", http ? "HTTP" : "TCP");
    if (port) {
        char *end;
        long v = strtol(port, &end, 10);
        if (*end || end == port || v < 1 || v > 65535)
            return bad(err, "The port '%s' is not valid (1-65535)", port);
        l->port = v;
    } else if (create) {
        return vm_error_set(err, VM_ERR_VALIDATION, "Port is required");
    }
    if (vm_params_get(p, "Certificates.member.1.CertificateArn") || vm_params_get(p, "SslPolicy"))
        return vm_error_set(err, VM_ERR_VALIDATION, "TLS listeners are not offered by this endpoint yet");
    return 0;
}

static int
store_listener(vm_ctx *ctx, const elb_listener *l, bool insert, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      insert ? "INSERT INTO elb_listeners (protocol, port, action, tg_id, fixed_status, fixed_type, "
                               "fixed_body, id, lb_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                             : "UPDATE elb_listeners SET protocol = ?, port = ?, action = ?, tg_id = ?, "
                               "fixed_status = ?, fixed_type = ?, fixed_body = ? WHERE id = ?",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, l->protocol, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, l->port);
    sqlite3_bind_text(st, 3, l->action.type, -1, SQLITE_STATIC);
    if (l->action.tg_id[0])
        sqlite3_bind_text(st, 4, l->action.tg_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, l->action.status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, l->action.content_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, l->action.body, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, l->id, -1, SQLITE_STATIC);
    if (insert) {
        sqlite3_bind_text(st, 9, l->lb_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 10, l->created_at);
    }
    if (sqlite3_step(st) != SQLITE_DONE)
        return sqlite3_extended_errcode(ctx->db) == SQLITE_CONSTRAINT_UNIQUE
                   ? vm_error_set(err, VM_ERR_LISTENER_DUPLICATE, "A listener already exists on port %ld", l->port)
                   : vm_db_error(ctx->db, "recording the listener", err);
    return 0;
}

static int
create_listener(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    elb_listener l = { .created_at = time(NULL) };
    if (lb_of_arn(ctx, vm_params_get(p, "LoadBalancerArn"), &lb, err) < 0 ||
        parse_listener(p, &lb, &l, true, err) < 0 || parse_action(ctx, p, "DefaultActions.member", &lb, &l.action, err) < 0)
        return -1;
    _cleanup_free_ char **tk = NULL, **tv = NULL;
    size_t nt;
    if (parse_tags(p, "Tags.member", true, &tk, &tv, &nt, err) < 0)
        return -1;
    /* the same listener again (port, protocol, action): the one there */
    _cleanup_free_ elb_listener *ls = NULL;
    size_t n;
    if (elb_listeners_of(ctx, lb.id, &ls, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (ls[i].port == l.port) {
            if (strcmp(ls[i].action.type, l.action.type) != 0 || strcmp(ls[i].action.tg_id, l.action.tg_id) != 0)
                return vm_error_set(err, VM_ERR_LISTENER_DUPLICATE, "A listener already exists on port %ld", l.port);
            render_listener(ctx, vm_node_item(vm_node_list(result, "Listeners", NULL)), &lb, &ls[i]);
            return 0;
        }
    elb_id_new(l.id);
    snprintf(l.lb_id, sizeof(l.lb_id), "%s", lb.id);
    char arn[ELB_ARN_MAX];
    elb_listener_arn(ctx, &lb, l.id, arn);
    if (store_listener(ctx, &l, true, err) < 0 || put_tags(ctx, arn, tk, tv, nt, err) < 0)
        return -1;
    render_listener(ctx, vm_node_item(vm_node_list(result, "Listeners", NULL)), &lb, &l);
    return 0;
}

static int
modify_listener(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    elb_listener l;
    if (listener_of_arn(ctx, vm_params_get(p, "ListenerArn"), &l, &lb, err) < 0 ||
        parse_listener(p, &lb, &l, false, err) < 0)
        return -1;
    if (vm_params_get(p, "DefaultActions.member.1.Type") &&
        parse_action(ctx, p, "DefaultActions.member", &lb, &l.action, err) < 0)
        return -1;
    if (store_listener(ctx, &l, false, err) < 0)
        return -1;
    render_listener(ctx, vm_node_item(vm_node_list(result, "Listeners", NULL)), &lb, &l);
    return 0;
}

static int
describe_listeners(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    _cleanup_free_ const char **arns = NULL;
    size_t na;
    long offset, size;
    const char *lb_arn = vm_params_get(p, "LoadBalancerArn");
    if (vm_params_list(p, "ListenerArns.member", &arns, &na, err) < 0 || page_args(p, &offset, &size, err) < 0)
        return -1;
    if (!lb_arn && na == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "You must specify either listener ARNs or a load balancer ARN");
    vm_node *list = vm_node_list(result, "Listeners", NULL);
    size_t seen = 0;
    if (na) {
        for (size_t i = 0; i < na; i++) {
            elb_lb lb;
            elb_listener l;
            if (listener_of_arn(ctx, arns[i], &l, &lb, err) < 0)
                return -1;
            if ((long)seen >= offset && (long)seen < offset + size)
                render_listener(ctx, vm_node_item(list), &lb, &l);
            seen++;
        }
    } else {
        elb_lb lb;
        _cleanup_free_ elb_listener *ls = NULL;
        size_t n;
        if (lb_of_arn(ctx, lb_arn, &lb, err) < 0 || elb_listeners_of(ctx, lb.id, &ls, &n, err) < 0)
            return -1;
        for (size_t i = 0; i < n; i++, seen++)
            if ((long)seen >= offset && (long)seen < offset + size)
                render_listener(ctx, vm_node_item(list), &lb, &ls[i]);
    }
    next_marker(result, seen, offset, size);
    return 0;
}

static int
delete_listener(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    elb_listener l;
    const char *arn = vm_params_get(p, "ListenerArn");
    if (listener_of_arn(ctx, arn, &l, &lb, err) < 0 || drop_tags(ctx, arn, err) < 0)
        return -1;
    const char *a[] = { l.id };
    return exec_sql(ctx, "DELETE FROM elb_listeners WHERE id = ?", a, 1, err);
}

/* Conditions.member.N {Field path-pattern|host-header, Values or PathPatternConfig/HostHeaderConfig}. */
static int
parse_conditions(const vm_params *p, elb_rule *r, vm_error *err)
{
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, "Conditions.member", &idx, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "A rule needs at least one condition");
    r->paths[0] = r->hosts[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *field = vm_params_getf(p, "Conditions.member.%d.Field", idx[i]);
        bool path = field && strcmp(field, "path-pattern") == 0, host = field && strcmp(field, "host-header") == 0;
        if (!path && !host)
            return bad(err, "The condition field '%s' is not offered (path-pattern or host-header)", field);
        char pre[96];
        _cleanup_free_ const char **vals = NULL, **cfg = NULL;
        size_t nv, nc;
        snprintf(pre, sizeof(pre), "Conditions.member.%d.Values.member", idx[i]);
        if (vm_params_list(p, pre, &vals, &nv, err) < 0)
            return -1;
        snprintf(pre, sizeof(pre), "Conditions.member.%d.%s.Values.member", idx[i],
                 path ? "PathPatternConfig" : "HostHeaderConfig");
        if (vm_params_list(p, pre, &cfg, &nc, err) < 0)
            return -1;
        char *dst = path ? r->paths : r->hosts;
        if (*dst)
            return bad(err, "The condition field '%s' is given twice", field);
        size_t off = 0;
        for (size_t j = 0; j < nv + nc; j++) {
            const char *v = j < nv ? vals[j] : cfg[j - nv];
            if (!*v || strlen(v) > 128 || strpbrk(v, " \t\r\n'\"\\#"))
                return bad(err, "The condition value '%s' is not valid (1-128 characters, no spaces or quotes)", v);
            off += (size_t)snprintf(dst + off, 1024 - off, "%s%s", off ? "\n" : "", v);
            if (off >= 1000)
                return vm_error_set(err, VM_ERR_VALIDATION, "Too many condition values");
        }
        if (!off)
            return bad(err, "The condition '%s' needs values", field);
    }
    return 0;
}

static void
render_rule(vm_ctx *ctx, vm_node *it, const elb_lb *lb, const elb_listener *l, const elb_rule *r)
{
    char arn[ELB_ARN_MAX], prio[16];
    elb_rule_arn(ctx, lb, l->id, r ? r->id : l->id, arn);
    vm_node_str(it, "RuleArn", NULL, arn);
    if (r)
        snprintf(prio, sizeof(prio), "%ld", r->priority);
    vm_node_str(it, "Priority", NULL, r ? prio : "default");
    vm_node *cl = vm_node_list(it, "Conditions", NULL);
    for (int k = 0; r && k < 2; k++) {
        const char *vals = k == 0 ? r->paths : r->hosts;
        if (!*vals)
            continue;
        vm_node *c = vm_node_item(cl);
        vm_node_str(c, "Field", NULL, k == 0 ? "path-pattern" : "host-header");
        vm_node *vl = vm_node_list(c, "Values", NULL);
        vm_node *cfg = vm_node_list(vm_node_struct(c, k == 0 ? "PathPatternConfig" : "HostHeaderConfig", NULL), "Values",
                                    NULL);
        char buf[1024];
        snprintf(buf, sizeof(buf), "%s", vals);
        char *save = NULL;
        for (char *v = strtok_r(buf, "\n", &save); v; v = strtok_r(NULL, "\n", &save)) {
            vm_node_str(vl, NULL, NULL, v);
            vm_node_str(cfg, NULL, NULL, v);
        }
    }
    render_action(ctx, vm_node_list(it, "Actions", NULL), r ? &r->action : &l->action);
    vm_node_bool(it, "IsDefault", NULL, r == NULL);
}

static int
rule_of_arn(vm_ctx *ctx, const char *arn, elb_rule *r, elb_listener *l, elb_lb *lb, vm_error *err)
{
    char id[ELB_ID_LEN + 1];
    if (!arn)
        return vm_error_set(err, VM_ERR_VALIDATION, "RuleArn is required");
    if (elb_arn_id(arn, "listener-rule", id, VM_ERR_VALIDATION, err) < 0 || elb_rule_get(ctx, id, r, err) < 0 ||
        elb_listener_get(ctx, r->listener_id, l, err) < 0)
        return -1;
    return elb_lb_get(ctx, l->lb_id, lb, err);
}

static int
store_rule(vm_ctx *ctx, const elb_rule *r, bool insert, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      insert ? "INSERT INTO elb_rules (priority, paths, hosts, action, tg_id, fixed_status, fixed_type, "
                               "fixed_body, id, listener_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                             : "UPDATE elb_rules SET priority = ?, paths = ?, hosts = ?, action = ?, tg_id = ?, "
                               "fixed_status = ?, fixed_type = ?, fixed_body = ? WHERE id = ?",
                      &st, err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, r->priority);
    sqlite3_bind_text(st, 2, r->paths, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->hosts, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->action.type, -1, SQLITE_STATIC);
    if (r->action.tg_id[0])
        sqlite3_bind_text(st, 5, r->action.tg_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->action.status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->action.content_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, r->action.body, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, r->id, -1, SQLITE_STATIC);
    if (insert)
        sqlite3_bind_text(st, 10, r->listener_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return sqlite3_extended_errcode(ctx->db) == SQLITE_CONSTRAINT_UNIQUE
                   ? vm_error_set(err, VM_ERR_PRIORITY_IN_USE, "Priority '%ld' is currently in use", r->priority)
                   : vm_db_error(ctx->db, "recording the rule", err);
    return 0;
}

static int
create_rule(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    elb_listener l;
    elb_rule r = { 0 };
    if (listener_of_arn(ctx, vm_params_get(p, "ListenerArn"), &l, &lb, err) < 0)
        return -1;
    if (strcmp(lb.type, "application") != 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "Rules need a listener of an application load balancer");
    if (!vm_params_get(p, "Priority"))
        return vm_error_set(err, VM_ERR_VALIDATION, "Priority is required");
    if (vm_params_int(p, "Priority", 0, 1, 50000, &r.priority, err) < 0 || parse_conditions(p, &r, err) < 0 ||
        parse_action(ctx, p, "Actions.member", &lb, &r.action, err) < 0)
        return -1;
    elb_id_new(r.id);
    snprintf(r.listener_id, sizeof(r.listener_id), "%s", l.id);
    if (store_rule(ctx, &r, true, err) < 0)
        return -1;
    render_rule(ctx, vm_node_item(vm_node_list(result, "Rules", NULL)), &lb, &l, &r);
    return 0;
}

static int
modify_rule(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    elb_listener l;
    elb_rule r;
    if (rule_of_arn(ctx, vm_params_get(p, "RuleArn"), &r, &l, &lb, err) < 0)
        return -1;
    if (vm_params_get(p, "Conditions.member.1.Field") && parse_conditions(p, &r, err) < 0)
        return -1;
    if (vm_params_get(p, "Actions.member.1.Type") && parse_action(ctx, p, "Actions.member", &lb, &r.action, err) < 0)
        return -1;
    if (store_rule(ctx, &r, false, err) < 0)
        return -1;
    render_rule(ctx, vm_node_item(vm_node_list(result, "Rules", NULL)), &lb, &l, &r);
    return 0;
}

static int
describe_rules(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    _cleanup_free_ const char **arns = NULL;
    size_t na;
    const char *la = vm_params_get(p, "ListenerArn");
    if (vm_params_list(p, "RuleArns.member", &arns, &na, err) < 0)
        return -1;
    if (!la && na == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "You must specify either listener or rule ARNs");
    vm_node *list = vm_node_list(result, "Rules", NULL);
    if (na) {
        for (size_t i = 0; i < na; i++) {
            elb_lb lb;
            elb_listener l;
            elb_rule r;
            if (rule_of_arn(ctx, arns[i], &r, &l, &lb, err) < 0)
                return -1;
            render_rule(ctx, vm_node_item(list), &lb, &l, &r);
        }
        return 0;
    }
    elb_lb lb;
    elb_listener l;
    _cleanup_free_ elb_rule *rs = NULL;
    size_t n;
    if (listener_of_arn(ctx, la, &l, &lb, err) < 0 || elb_rules_of(ctx, l.id, &rs, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        render_rule(ctx, vm_node_item(list), &lb, &l, &rs[i]);
    render_rule(ctx, vm_node_item(list), &lb, &l, NULL);
    return 0;
}

static int
delete_rule(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    elb_listener l;
    elb_rule r;
    const char *arn = vm_params_get(p, "RuleArn");
    char id[ELB_ID_LEN + 1];
    /* the default rule's ARN ends in its listener's id */
    if (arn && elb_arn_id(arn, "listener-rule", id, VM_ERR_VALIDATION, err) == 0) {
        vm_error nf = { 0 };
        if (elb_listener_get(ctx, id, &l, &nf) == 0)
            return vm_error_set(err, VM_ERR_OPERATION_NOT_PERMITTED, "Default rule '%s' cannot be deleted", arn);
    }
    *err = (vm_error){ 0 };
    if (rule_of_arn(ctx, arn, &r, &l, &lb, err) < 0 || drop_tags(ctx, arn, err) < 0)
        return -1;
    const char *a[] = { r.id };
    return exec_sql(ctx, "DELETE FROM elb_rules WHERE id = ?", a, 1, err);
}

/* --- tags by ARN ---------------------------------------------------------------------------------------- */

/* The resource an ARN names exists (its kind's NotFound error when not). */
static int
arn_exists(vm_ctx *ctx, const char *arn, vm_error *err)
{
    char id[ELB_ID_LEN + 1];
    elb_lb lb;
    elb_tg tg;
    elb_listener l;
    elb_rule r;
    vm_error ignore = { 0 };
    if (elb_arn_id(arn, "loadbalancer", id, VM_ERR_VALIDATION, &ignore) == 0)
        return elb_lb_get(ctx, id, &lb, err);
    ignore = (vm_error){ 0 };
    if (elb_arn_id(arn, "targetgroup", id, VM_ERR_VALIDATION, &ignore) == 0)
        return elb_tg_get(ctx, id, &tg, err);
    ignore = (vm_error){ 0 };
    if (elb_arn_id(arn, "listener-rule", id, VM_ERR_VALIDATION, &ignore) == 0)
        return elb_rule_get(ctx, id, &r, err);
    ignore = (vm_error){ 0 };
    if (elb_arn_id(arn, "listener", id, VM_ERR_VALIDATION, &ignore) == 0)
        return elb_listener_get(ctx, id, &l, err);
    return bad(err, "'%s' is not a valid resource ARN", arn);
}

static int
add_tags(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    _cleanup_free_ const char **arns = NULL;
    _cleanup_free_ char **tk = NULL, **tv = NULL;
    size_t na, nt;
    if (vm_params_list(p, "ResourceArns.member", &arns, &na, err) < 0 ||
        parse_tags(p, "Tags.member", true, &tk, &tv, &nt, err) < 0)
        return -1;
    if (na == 0 || nt == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "ResourceArns and Tags are required");
    for (size_t i = 0; i < na; i++)
        if (arn_exists(ctx, arns[i], err) < 0)
            return -1;
    for (size_t i = 0; i < na; i++)
        if (put_tags(ctx, arns[i], tk, tv, nt, err) < 0)
            return -1;
    return 0;
}

static int
remove_tags(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    _cleanup_free_ const char **arns = NULL, **keys = NULL;
    size_t na, nk;
    if (vm_params_list(p, "ResourceArns.member", &arns, &na, err) < 0 ||
        vm_params_list(p, "TagKeys.member", &keys, &nk, err) < 0)
        return -1;
    if (na == 0 || nk == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "ResourceArns and TagKeys are required");
    for (size_t i = 0; i < na; i++)
        if (arn_exists(ctx, arns[i], err) < 0)
            return -1;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nk; j++) {
            const char *a[] = { arns[i], keys[j] };
            if (exec_sql(ctx, "DELETE FROM elb_tags WHERE arn = ? AND key = ?", a, 2, err) < 0)
                return -1;
        }
    return 0;
}

static int
describe_tags(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    _cleanup_free_ const char **arns = NULL;
    size_t na;
    if (vm_params_list(p, "ResourceArns.member", &arns, &na, err) < 0)
        return -1;
    if (na == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "ResourceArns is required");
    vm_node *list = vm_node_list(result, "TagDescriptions", NULL);
    for (size_t i = 0; i < na; i++) {
        if (arn_exists(ctx, arns[i], err) < 0)
            return -1;
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "ResourceArn", NULL, arns[i]);
        if (render_tags(ctx, vm_node_list(it, "Tags", NULL), arns[i], err) < 0)
            return -1;
    }
    return 0;
}

static int
describe_listener_attrs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    elb_listener l;
    if (listener_of_arn(ctx, vm_params_get(p, "ListenerArn"), &l, &lb, err) < 0)
        return -1;
    vm_node_list(result, "Attributes", NULL);
    return 0;
}

static const svc_action elbv2_actions[] = {
    { "CreateLoadBalancer", create_lb },
    { "DescribeLoadBalancers", describe_lbs },
    { "DeleteLoadBalancer", delete_lb },
    { "DescribeLoadBalancerAttributes", describe_lb_attrs },
    { "ModifyLoadBalancerAttributes", modify_lb_attrs },
    { "CreateTargetGroup", create_tg },
    { "DescribeTargetGroups", describe_tgs },
    { "ModifyTargetGroup", modify_tg },
    { "DeleteTargetGroup", delete_tg },
    { "DescribeTargetGroupAttributes", describe_tg_attrs },
    { "ModifyTargetGroupAttributes", modify_tg_attrs },
    { "RegisterTargets", register_targets },
    { "DeregisterTargets", deregister_targets },
    { "DescribeTargetHealth", describe_health },
    { "CreateListener", create_listener },
    { "DescribeListeners", describe_listeners },
    { "ModifyListener", modify_listener },
    { "DeleteListener", delete_listener },
    { "DescribeListenerAttributes", describe_listener_attrs },
    { "CreateRule", create_rule },
    { "DescribeRules", describe_rules },
    { "ModifyRule", modify_rule },
    { "DeleteRule", delete_rule },
    { "AddTags", add_tags },
    { "RemoveTags", remove_tags },
    { "DescribeTags", describe_tags },
    { NULL, NULL },
};

const svc_desc svc_elbv2 = {
    .signing_name = "elasticloadbalancing",
    .version = "2015-12-01",
    .xmlns = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
    .protocol = SVC_PROTO_QUERY,
    .actions = elbv2_actions,
};
