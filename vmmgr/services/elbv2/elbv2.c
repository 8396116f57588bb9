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
#include "elbv2_priv.h"


int
elbv2_bad(vm_error *err, const char *fmt, const char *v)
{
    return vm_error_set(err, VM_ERR_VALIDATION, fmt, v ? v : "");
}

int
elbv2_exec_sql(vm_ctx *ctx, const char *sql, const char *const *args, size_t n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, sql, &st, err) < 0 || vm_db_bind_texts(st, err, args, n) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording the change", err);
    return 0;
}

/* A name of a load balancer or target group: 1-32 of [A-Za-z0-9-], no '-' at either end. */
int
elbv2_check_name(const char *name, const char *what, vm_error *err)
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

int
elbv2_page_args(const vm_params *p, long *offset, long *size, vm_error *err)
{
    if (vm_params_int(p, "PageSize", ELB_PAGE, 1, ELB_PAGE, size, err) < 0)
        return -1;
    const char *m = vm_params_get(p, "Marker");
    *offset = 0;
    if (m) {
        char *end;
        *offset = strtol(m, &end, 10);
        if (*end || end == m || *offset < 0)
            return elbv2_bad(err, "The marker '%s' is not valid", m);
    }
    return 0;
}

void
elbv2_next_marker(vm_node *result, size_t total, long offset, long size)
{
    if ((size_t)(offset + size) < total) {
        char m[32];
        snprintf(m, sizeof(m), "%ld", offset + size);
        vm_node_str(result, "NextMarker", NULL, m);
    }
}

/* --- tags ------------------------------------------------------------------------------------------- */

int
elbv2_parse_tags(const vm_params *p, const char *prefix, bool values, char ***keys, char ***vals, size_t *n, vm_error *err)
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
            return elbv2_bad(err, "Tag keys starting with 'aws:' are reserved: %s", k);
        if (v && strlen(v) > 256)
            return vm_error_set(err, VM_ERR_VALIDATION, "A tag value must be at most 256 characters");
        (*keys)[i] = (char *)k;
        (*vals)[i] = (char *)(v ? v : "");
    }
    return 0;
}

int
elbv2_put_tags(vm_ctx *ctx, const char *arn, char **keys, char **vals, size_t n, vm_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *a[] = { arn, keys[i], vals[i] };
        if (elbv2_exec_sql(ctx, "INSERT OR REPLACE INTO elb_tags (arn, key, value) VALUES (?, ?, ?)", a, 3, err) < 0)
            return -1;
    }
    return 0;
}

static int
render_tags(vm_ctx *ctx, vm_node *list, const char *arn, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT key, value FROM elb_tags WHERE arn = ? ORDER BY key", "t", arn) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        vm_node *t = vm_node_item(list);
        vm_node_str(t, "Key", NULL, vm_db_text(st, 0));
        vm_node_str(t, "Value", NULL, vm_db_text(st, 1));
    }
    return 0;
}

int
elbv2_drop_tags(vm_ctx *ctx, const char *arn, vm_error *err)
{
    const char *a[] = { arn };
    return elbv2_exec_sql(ctx, "DELETE FROM elb_tags WHERE arn = ?", a, 1, err);
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
            return elbv2_bad(err, "The attribute key '%s' is not recognized", k);
        if (!v)
            return elbv2_bad(err, "The attribute '%s' needs a value", k);
        char *end;
        long num = strtol(v, &end, 10);
        if ((d->kind == 'b' && strcmp(v, "true") != 0 && strcmp(v, "false") != 0) ||
            (d->kind == 'n' && (*end || end == v || num < d->lo || num > d->hi)))
            return vm_error_set(err, VM_ERR_VALIDATION, "The value '%s' of attribute '%s' is not valid", v, k);
    }
    for (size_t i = 0; i < n; i++) {
        const char *a[] = { owner, vm_params_getf(p, "Attributes.member.%d.Key", idx[i]),
                            vm_params_getf(p, "Attributes.member.%d.Value", idx[i]) };
        if (elbv2_exec_sql(ctx, "INSERT OR REPLACE INTO elb_attributes (owner, key, value) VALUES (?, ?, ?)", a, 3, err) < 0)
            return -1;
    }
    return 0;
}

static int
describe_lb_attrs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    if (elbv2_lb_of_arn(ctx, vm_params_get(p, "LoadBalancerArn"), &lb, err) < 0)
        return -1;
    return render_attrs(ctx, result, lb.id, lb_attrs, err);
}

static int
modify_lb_attrs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    if (elbv2_lb_of_arn(ctx, vm_params_get(p, "LoadBalancerArn"), &lb, err) < 0 ||
        modify_attrs(ctx, p, lb.id, lb_attrs, err) < 0)
        return -1;
    return render_attrs(ctx, result, lb.id, lb_attrs, err);
}

static int
describe_tg_attrs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_tg tg;
    if (elbv2_tg_of_arn(ctx, vm_params_get(p, "TargetGroupArn"), &tg, err) < 0)
        return -1;
    return render_attrs(ctx, result, tg.id, tg_attrs, err);
}

static int
modify_tg_attrs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_tg tg;
    if (elbv2_tg_of_arn(ctx, vm_params_get(p, "TargetGroupArn"), &tg, err) < 0 ||
        modify_attrs(ctx, p, tg.id, tg_attrs, err) < 0)
        return -1;
    return render_attrs(ctx, result, tg.id, tg_attrs, err);
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
    return elbv2_bad(err, "'%s' is not a valid resource ARN", arn);
}

static int
add_tags(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    _cleanup_free_ const char **arns = NULL;
    _cleanup_free_ char **tk = NULL, **tv = NULL;
    size_t na, nt;
    if (vm_params_list(p, "ResourceArns.member", &arns, &na, err) < 0 ||
        elbv2_parse_tags(p, "Tags.member", true, &tk, &tv, &nt, err) < 0)
        return -1;
    if (na == 0 || nt == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "ResourceArns and Tags are required");
    for (size_t i = 0; i < na; i++)
        if (arn_exists(ctx, arns[i], err) < 0)
            return -1;
    for (size_t i = 0; i < na; i++)
        if (elbv2_put_tags(ctx, arns[i], tk, tv, nt, err) < 0)
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
            if (elbv2_exec_sql(ctx, "DELETE FROM elb_tags WHERE arn = ? AND key = ?", a, 2, err) < 0)
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
    if (elbv2_listener_of_arn(ctx, vm_params_get(p, "ListenerArn"), &l, &lb, err) < 0)
        return -1;
    vm_node_list(result, "Attributes", NULL);
    return 0;
}

static const svc_action elbv2_actions[] = {
    { "CreateLoadBalancer", elbv2_create_lb },
    { "DescribeLoadBalancers", elbv2_describe_lbs },
    { "DeleteLoadBalancer", elbv2_delete_lb },
    { "SetSecurityGroups", elbv2_set_security_groups },
    { "SetSubnets", elbv2_set_subnets },
    { "DescribeLoadBalancerAttributes", describe_lb_attrs },
    { "ModifyLoadBalancerAttributes", modify_lb_attrs },
    { "CreateTargetGroup", elbv2_create_tg },
    { "DescribeTargetGroups", elbv2_describe_tgs },
    { "ModifyTargetGroup", elbv2_modify_tg },
    { "DeleteTargetGroup", elbv2_delete_tg },
    { "DescribeTargetGroupAttributes", describe_tg_attrs },
    { "ModifyTargetGroupAttributes", modify_tg_attrs },
    { "RegisterTargets", elbv2_register_targets },
    { "DeregisterTargets", elbv2_deregister_targets },
    { "DescribeTargetHealth", elbv2_describe_health },
    { "CreateListener", elbv2_create_listener },
    { "DescribeListeners", elbv2_describe_listeners },
    { "ModifyListener", elbv2_modify_listener },
    { "DeleteListener", elbv2_delete_listener },
    { "AddListenerCertificates", elbv2_add_listener_certificates },
    { "RemoveListenerCertificates", elbv2_remove_listener_certificates },
    { "DescribeListenerCertificates", elbv2_describe_listener_certificates },
    { "DescribeListenerAttributes", describe_listener_attrs },
    { "CreateRule", elbv2_create_rule },
    { "DescribeRules", elbv2_describe_rules },
    { "ModifyRule", elbv2_modify_rule },
    { "DeleteRule", elbv2_delete_rule },
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
    .param_error = VM_ERR_VALIDATION,
};
