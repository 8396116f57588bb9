/* ELBv2 listeners and rules: Create/Describe/Modify/DeleteListener and Rule, their actions
 * (forward, fixed-response) and conditions (path-pattern, host-header). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../acm/acm.h"
#include "../../../elb/elb.h"
#include "../../../net/cidr.h"
#include "../../../net/net.h"
#include "../../compute/instance.h"
#include "../../core/cleanup.h"
#include "../../core/db.h"
#include "../service.h"
#include "elbv2_priv.h"


/* --- listeners and rules ------------------------------------------------------------------------------- */

/* A forward action's target groups: TargetGroupArn, or ForwardConfig's list with weights (both: one
 * group, the same); each must suit lb. */
static int
parse_forward(vm_ctx *ctx, const vm_params *p, const char *at, const elb_lb *lb, elb_action *a, vm_error *err)
{
    const char *single = vm_params_getf(p, "%s.TargetGroupArn", at);
    char prefix[160];
    snprintf(prefix, sizeof(prefix), "%s.ForwardConfig.TargetGroups.member", at);
    _cleanup_free_ int *idx = NULL;
    size_t n;
    if (vm_params_indexes(p, prefix, &idx, &n, err) < 0)
        return -1;
    if (n > ELB_FORWARD_MAX)
        return vm_error_set(err, VM_ERR_ELB_CONFIGURATION, "A forward action has at most %d target groups",
                            ELB_FORWARD_MAX);
    if (!single && n == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "A forward action needs a TargetGroupArn or a ForwardConfig");
    bool http = strcmp(lb->type, "application") == 0;
    if (n > 1 && !http)
        return vm_error_set(err, VM_ERR_ELB_CONFIGURATION,
                            "A network load balancer forwards to a single target group");
    /* the target group a client's first request went to, kept by a cookie for DurationSeconds */
    char key[200];
    snprintf(key, sizeof(key), "%s.ForwardConfig.TargetGroupStickinessConfig.Enabled", at);
    bool stick = false;
    if (vm_params_bool(p, key, false, &stick, err) < 0)
        return -1;
    snprintf(key, sizeof(key), "%s.ForwardConfig.TargetGroupStickinessConfig.DurationSeconds", at);
    if (stick && !vm_params_get(p, key))
        return vm_error_set(err, VM_ERR_VALIDATION, "Target group stickiness needs a DurationSeconds (1-604800)");
    if (stick && (!http || vm_params_int(p, key, 0, 1, 604800, &a->stick_seconds, err) < 0))
        return vm_error_is_set(err) ? -1
                                    : vm_error_set(err, VM_ERR_ELB_CONFIGURATION,
                                                   "Target group stickiness needs an application load balancer");
    long total = 0;
    for (size_t i = 0; i < (n ? n : 1); i++) {
        const char *arn = n ? vm_params_getf(p, "%s.%d.TargetGroupArn", prefix, idx[i]) : single;
        long w = 1;
        if (n) {
            if (!arn)
                return vm_error_set(err, VM_ERR_VALIDATION, "Each target group of a ForwardConfig needs a TargetGroupArn");
            if (single && (n > 1 || strcmp(single, arn) != 0))
                return vm_error_set(err, VM_ERR_VALIDATION, "With TargetGroupArn, ForwardConfig can only name that "
                                                            "target group");
            snprintf(key, sizeof(key), "%s.%d.Weight", prefix, idx[i]);
            if (vm_params_get(p, key) && vm_params_int(p, key, 1, 0, 999, &w, err) < 0)
                return -1;
        }
        elb_tg tg;
        if (elbv2_tg_of_arn(ctx, arn, &tg, err) < 0)
            return -1;
        if (http != elb_proto_http(tg.protocol))
            return vm_error_set(err, VM_ERR_VALIDATION, "The target group '%s' (%s) cannot be used with a%s load "
                                "balancer", tg.name, tg.protocol, http ? "n application" : " network");
        if (strcmp(tg.vpc_id, lb->vpc_id) != 0)
            return vm_error_set(err, VM_ERR_VALIDATION, "The target group '%s' is in another VPC than the load balancer",
                                tg.name);
        for (size_t k = 0; k < a->nfwd; k++)
            if (strcmp(a->fwd[k].tg_id, tg.id) == 0)
                return vm_error_set(err, VM_ERR_VALIDATION, "The target group '%s' is named twice in one action",
                                    tg.name);
        snprintf(a->fwd[a->nfwd].tg_id, sizeof(a->fwd[0].tg_id), "%s", tg.id);
        a->fwd[a->nfwd++].weight = w;
        total += w;
    }
    if (total == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "The weights of a forward action's target groups add up to 0");
    snprintf(a->tg_id, sizeof(a->tg_id), "%s", a->fwd[0].tg_id);
    return 0;
}

/* A redirect part: its default form when absent; no character HAProxy's configuration would read */
static int
redirect_part(const vm_params *p, const char *at, const char *key, const char *def, char *out, size_t size,
              vm_error *err)
{
    const char *v = vm_params_getf(p, "%s.RedirectConfig.%s", at, key);
    if (!v)
        v = def;
    if (strlen(v) >= size)
        return vm_error_set(err, VM_ERR_VALIDATION, "The redirect's %s is longer than %zu characters", key, size - 1);
    for (const char *c = v; *c; c++)
        if (*c <= ' ' || *c == '"' || *c == '\\' || *c == '$' || *c == 0x7f)
            return vm_error_set(err, VM_ERR_VALIDATION, "The redirect's %s '%s' has a character that is not valid",
                                key, v);
    snprintf(out, size, "%s", v);
    return 0;
}

static int
parse_redirect(const vm_params *p, const char *at, const elb_lb *lb, elb_action *a, vm_error *err)
{
    struct elb_redirect *r = &a->redirect;
    if (strcmp(lb->type, "application") != 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "redirect actions need an application load balancer");
    if (redirect_part(p, at, "Protocol", "#{protocol}", r->protocol, sizeof(r->protocol), err) < 0 ||
        redirect_part(p, at, "Port", "#{port}", r->port, sizeof(r->port), err) < 0 ||
        redirect_part(p, at, "Host", "#{host}", r->host, sizeof(r->host), err) < 0 ||
        redirect_part(p, at, "Path", "/#{path}", r->path, sizeof(r->path), err) < 0 ||
        redirect_part(p, at, "Query", "#{query}", r->query, sizeof(r->query), err) < 0)
        return -1;
    const char *code = vm_params_getf(p, "%s.RedirectConfig.StatusCode", at);
    if (!code)
        return vm_error_set(err, VM_ERR_VALIDATION, "A redirect action needs a RedirectConfig with a StatusCode");
    if (strcmp(code, "HTTP_301") != 0 && strcmp(code, "HTTP_302") != 0)
        return elbv2_bad(err, "The redirect status code '%s' is not valid (HTTP_301 or HTTP_302)", code);
    snprintf(r->code, sizeof(r->code), "%s", code);
    if (strcmp(r->protocol, "HTTP") != 0 && strcmp(r->protocol, "HTTPS") != 0 && strcmp(r->protocol, "#{protocol}") != 0)
        return elbv2_bad(err, "The redirect protocol '%s' is not valid (HTTP, HTTPS or #{protocol})", r->protocol);
    if (strcmp(r->port, "#{port}") != 0) {
        char *end;
        long v = strtol(r->port, &end, 10);
        if (*end || end == r->port || v < 1 || v > 65535)
            return elbv2_bad(err, "The redirect port '%s' is not valid (1-65535 or #{port})", r->port);
    }
    if (r->path[0] != '/')
        return elbv2_bad(err, "The redirect path '%s' is not valid: it starts with '/'", r->path);
    /* a redirect to itself would loop (AWS's rule: one part at least must change) */
    if (strcmp(r->protocol, "#{protocol}") == 0 && strcmp(r->port, "#{port}") == 0 && strcmp(r->host, "#{host}") == 0 &&
        strcmp(r->path, "/#{path}") == 0 && strcmp(r->query, "#{query}") == 0)
        return vm_error_set(err, VM_ERR_ELB_CONFIGURATION, "The redirect would send a request to where it came from: "
                                                           "change at least one of its parts");
    return 0;
}

/* Actions.member.1 (or DefaultActions.member.1) into a; the target groups must suit lb. */
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
    char at[96];
    snprintf(at, sizeof(at), "%s.%d", prefix, idx[0]);
    const char *type = vm_params_getf(p, "%s.Type", at);
    memset(a, 0, sizeof(*a));
    if (!type)
        return vm_error_set(err, VM_ERR_VALIDATION, "An action needs a Type");
    snprintf(a->type, sizeof(a->type), "%s", type);
    if (strcmp(type, "forward") == 0)
        return parse_forward(ctx, p, at, lb, a, err);
    if (strcmp(type, "redirect") == 0)
        return parse_redirect(p, at, lb, a, err);
    if (strcmp(type, "fixed-response") == 0) {
        if (strcmp(lb->type, "application") != 0)
            return vm_error_set(err, VM_ERR_VALIDATION, "fixed-response actions need an application load balancer");
        const char *code = vm_params_getf(p, "%s.FixedResponseConfig.StatusCode", at);
        const char *ct = vm_params_getf(p, "%s.FixedResponseConfig.ContentType", at);
        const char *body = vm_params_getf(p, "%s.FixedResponseConfig.MessageBody", at);
        if (!code || strlen(code) != 3 || strspn(code, "0123456789") != 3 || code[0] < '2' || code[0] > '5')
            return elbv2_bad(err, "The fixed-response status code '%s' is not valid (2XX, 4XX or 5XX)", code);
        if (code[0] == '3')
            return elbv2_bad(err, "The fixed-response status code '%s' is not valid (2XX, 4XX or 5XX)", code);
        if (ct && strcmp(ct, "text/plain") != 0 && strcmp(ct, "text/css") != 0 && strcmp(ct, "text/html") != 0 &&
            strcmp(ct, "application/javascript") != 0 && strcmp(ct, "application/json") != 0)
            return elbv2_bad(err, "The content type '%s' is not valid", ct);
        if (body && strlen(body) > 1024)
            return vm_error_set(err, VM_ERR_VALIDATION, "A fixed-response message body is at most 1024 characters");
        snprintf(a->status, sizeof(a->status), "%s", code);
        snprintf(a->content_type, sizeof(a->content_type), "%s", ct ? ct : "text/plain");
        snprintf(a->body, sizeof(a->body), "%s", body ? body : "");
        return 0;
    }
    return elbv2_bad(err, "The action type '%s' is not offered (forward, redirect or fixed-response)", type);
}

static void
render_action(vm_ctx *ctx, vm_node *list, const elb_action *a)
{
    vm_node *it = vm_node_item(list);
    vm_node_str(it, "Type", NULL, a->type);
    if (strcmp(a->type, "forward") == 0) {
        vm_node *fc = vm_node_struct(it, "ForwardConfig", NULL);
        vm_node *tgl = vm_node_list(fc, "TargetGroups", NULL);
        for (size_t i = 0; i < a->nfwd; i++) {
            elb_tg tg;
            vm_error ignore = { 0 };
            char arn[ELB_ARN_MAX] = "";
            if (elb_tg_get(ctx, a->fwd[i].tg_id, &tg, &ignore) == 0)
                elb_tg_arn(ctx, &tg, arn);
            if (a->nfwd == 1) /* AWS shows the single group's ARN on the action too */
                vm_node_str(it, "TargetGroupArn", NULL, arn);
            vm_node *one = vm_node_item(tgl);
            vm_node_str(one, "TargetGroupArn", NULL, arn);
            vm_node_int(one, "Weight", NULL, a->fwd[i].weight);
        }
        vm_node *sc = vm_node_struct(fc, "TargetGroupStickinessConfig", NULL);
        vm_node_bool(sc, "Enabled", NULL, a->stick_seconds > 0);
        if (a->stick_seconds > 0)
            vm_node_int(sc, "DurationSeconds", NULL, a->stick_seconds);
    } else if (strcmp(a->type, "redirect") == 0) {
        vm_node *rc = vm_node_struct(it, "RedirectConfig", NULL);
        vm_node_str(rc, "Protocol", NULL, a->redirect.protocol);
        vm_node_str(rc, "Port", NULL, a->redirect.port);
        vm_node_str(rc, "Host", NULL, a->redirect.host);
        vm_node_str(rc, "Path", NULL, a->redirect.path);
        vm_node_str(rc, "Query", NULL, a->redirect.query);
        vm_node_str(rc, "StatusCode", NULL, a->redirect.code);
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
    if (l->certificate_id[0]) {
        char carn[ACM_ARN_MAX];
        acm_arn(ctx, l->certificate_id, carn);
        vm_node_str(vm_node_item(vm_node_list(it, "Certificates", NULL)), "CertificateArn", NULL, carn);
        vm_node_str(it, "SslPolicy", NULL, l->ssl_policy);
    }
    render_action(ctx, vm_node_list(it, "DefaultActions", NULL), &l->action);
}

int
elbv2_listener_of_arn(vm_ctx *ctx, const char *arn, elb_listener *l, elb_lb *lb, vm_error *err)
{
    char id[ELB_ID_LEN + 1];
    if (!arn)
        return vm_error_set(err, VM_ERR_VALIDATION, "ListenerArn is required");
    if (elb_arn_id(arn, "listener", id, VM_ERR_VALIDATION, err) < 0 || elb_listener_get(ctx, id, l, err) < 0)
        return -1;
    return elb_lb_get(ctx, l->lb_id, lb, err);
}

/* Protocol, Port, and for HTTPS and TLS the certificate (an imported one, by its ACM ARN) and SslPolicy */
static int
parse_listener(vm_ctx *ctx, const vm_params *p, const elb_lb *lb, elb_listener *l, bool create, vm_error *err)
{
    const char *proto = vm_params_get(p, "Protocol");
    const char *port = vm_params_get(p, "Port");
    bool http = strcmp(lb->type, "application") == 0;
    if (proto) {
        if (http ? strcmp(proto, "HTTP") != 0 && strcmp(proto, "HTTPS") != 0
                 : strcmp(proto, "TCP") != 0 && strcmp(proto, "TLS") != 0)
            return elbv2_bad(err, http ? "The protocol '%s' is not offered for an application load balancer (HTTP, HTTPS)"
                                 : "The protocol '%s' is not offered for a network load balancer (TCP, TLS)",
                       proto);
        snprintf(l->protocol, sizeof(l->protocol), "%s", proto);
    } else if (create) {
        snprintf(l->protocol, sizeof(l->protocol), "%s", http ? "HTTP" : "TCP");
    }
    if (port) {
        char *end;
        long v = strtol(port, &end, 10);
        if (*end || end == port || v < 1 || v > 65535)
            return elbv2_bad(err, "The port '%s' is not valid (1-65535)", port);
        l->port = v;
    } else if (create) {
        return vm_error_set(err, VM_ERR_VALIDATION, "Port is required");
    }
    /* TLS terminated by HAProxy: an application load balancer's HTTPS, a network one's TLS */
    bool tls = strcmp(l->protocol, "HTTPS") == 0 || strcmp(l->protocol, "TLS") == 0;
    const char *cert = vm_params_get(p, "Certificates.member.1.CertificateArn");
    const char *policy = vm_params_get(p, "SslPolicy");
    if (vm_params_get(p, "Certificates.member.2.CertificateArn"))
        return vm_error_set(err, VM_ERR_VALIDATION, "A listener takes one default certificate (more are "
                                                    "AddListenerCertificates', not offered yet)");
    if (!tls) {
        if (cert || policy)
            return vm_error_set(err, VM_ERR_ELB_CONFIGURATION,
                                "Certificates and SslPolicy are for HTTPS and TLS listeners");
        l->certificate_id[0] = l->ssl_policy[0] = 0;
        return 0;
    }
    if (cert) {
        char id[ACM_ID_LEN + 1];
        vm_error e = { 0 };
        acm_cert c;
        if (acm_arn_id(ctx, cert, id, &e) < 0 || acm_cert_get(ctx, id, &c, &e) < 0)
            return vm_error_set(err, VM_ERR_CERT_NOT_FOUND, "Certificate '%s' not found", cert);
        acm_cert_clear(&c);
        snprintf(l->certificate_id, sizeof(l->certificate_id), "%s", id);
    } else if (!l->certificate_id[0]) {
        return vm_error_set(err, VM_ERR_VALIDATION, "An %s listener needs a certificate (Certificates)", l->protocol);
    }
    if (policy && !elb_ssl_policy_min(policy))
        return vm_error_set(err, VM_ERR_SSL_POLICY_NOT_FOUND, "SSL policy '%s' not found", policy);
    if (policy || !l->ssl_policy[0])
        snprintf(l->ssl_policy, sizeof(l->ssl_policy), "%s", policy ? policy : ELB_SSL_POLICY_DEFAULT);
    return 0;
}

/* A listener's or rule's row and its forward action's target groups, together */
static int
store_in_txn(vm_ctx *ctx, int (*store)(vm_ctx *, const void *, bool, vm_error *), const void *rec, bool insert,
             vm_error *err)
{
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (store(ctx, rec, insert, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return vm_db_commit(ctx->db, err);
}

static int
store_listener(vm_ctx *ctx, const void *rec, bool insert, vm_error *err)
{
    const elb_listener *l = rec;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      insert ? "INSERT INTO elb_listeners (protocol, port, action, tg_id, fixed_status, fixed_type, "
                               "fixed_body, redirect, certificate_id, ssl_policy, id, lb_id, created_at) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                             : "UPDATE elb_listeners SET protocol = ?1, port = ?2, action = ?3, tg_id = ?4, "
                               "fixed_status = ?5, fixed_type = ?6, fixed_body = ?7, redirect = ?8, "
                               "certificate_id = ?9, ssl_policy = ?10 WHERE id = ?11",
                      &st, err) < 0)
        return -1;
    _cleanup_free_ char *redirect = strcmp(l->action.type, "redirect") == 0 ? elb_redirect_encode(&l->action.redirect)
                                                                            : NULL;
    /* an update has no ?12 and ?13 (the load balancer, the creation time) */
    const char *fmt = insert ? "tittttttttt" "ti" : "tittttttttt";
    if (vm_db_bind(st, err, fmt, l->protocol, (long long)l->port, l->action.type,
                   l->action.tg_id[0] ? l->action.tg_id : NULL, l->action.status, l->action.content_type,
                   l->action.body, redirect ? redirect : "", l->certificate_id[0] ? l->certificate_id : NULL,
                   l->ssl_policy, l->id, l->lb_id, (long long)l->created_at) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return sqlite3_extended_errcode(ctx->db) == SQLITE_CONSTRAINT_UNIQUE
                   ? vm_error_set(err, VM_ERR_LISTENER_DUPLICATE, "A listener already exists on port %ld", l->port)
                   : vm_db_error(ctx->db, "recording the listener", err);
    return elb_forwards_put(ctx, false, l->id, &l->action, err);
}

int
elbv2_create_listener(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    elb_listener l = { .created_at = time(NULL) };
    if (elbv2_lb_of_arn(ctx, vm_params_get(p, "LoadBalancerArn"), &lb, err) < 0 ||
        parse_listener(ctx, p, &lb, &l, true, err) < 0 || parse_action(ctx, p, "DefaultActions.member", &lb, &l.action, err) < 0)
        return -1;
    _cleanup_free_ char **tk = NULL, **tv = NULL;
    size_t nt;
    if (elbv2_parse_tags(p, "Tags.member", true, &tk, &tv, &nt, err) < 0)
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
    if (store_in_txn(ctx, store_listener, &l, true, err) < 0 || elbv2_put_tags(ctx, arn, tk, tv, nt, err) < 0)
        return -1;
    render_listener(ctx, vm_node_item(vm_node_list(result, "Listeners", NULL)), &lb, &l);
    return 0;
}

int
elbv2_modify_listener(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    elb_listener l;
    if (elbv2_listener_of_arn(ctx, vm_params_get(p, "ListenerArn"), &l, &lb, err) < 0 ||
        parse_listener(ctx, p, &lb, &l, false, err) < 0)
        return -1;
    if (vm_params_get(p, "DefaultActions.member.1.Type") &&
        parse_action(ctx, p, "DefaultActions.member", &lb, &l.action, err) < 0)
        return -1;
    if (store_in_txn(ctx, store_listener, &l, false, err) < 0)
        return -1;
    render_listener(ctx, vm_node_item(vm_node_list(result, "Listeners", NULL)), &lb, &l);
    return 0;
}

int
elbv2_describe_listeners(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    _cleanup_free_ const char **arns = NULL;
    size_t na;
    long offset, size;
    const char *lb_arn = vm_params_get(p, "LoadBalancerArn");
    if (vm_params_list(p, "ListenerArns.member", &arns, &na, err) < 0 || elbv2_page_args(p, &offset, &size, err) < 0)
        return -1;
    if (!lb_arn && na == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "You must specify either listener ARNs or a load balancer ARN");
    vm_node *list = vm_node_list(result, "Listeners", NULL);
    size_t seen = 0;
    if (na) {
        for (size_t i = 0; i < na; i++) {
            elb_lb lb;
            elb_listener l;
            if (elbv2_listener_of_arn(ctx, arns[i], &l, &lb, err) < 0)
                return -1;
            if ((long)seen >= offset && (long)seen < offset + size)
                render_listener(ctx, vm_node_item(list), &lb, &l);
            seen++;
        }
    } else {
        elb_lb lb;
        _cleanup_free_ elb_listener *ls = NULL;
        size_t n;
        if (elbv2_lb_of_arn(ctx, lb_arn, &lb, err) < 0 || elb_listeners_of(ctx, lb.id, &ls, &n, err) < 0)
            return -1;
        for (size_t i = 0; i < n; i++, seen++)
            if ((long)seen >= offset && (long)seen < offset + size)
                render_listener(ctx, vm_node_item(list), &lb, &ls[i]);
    }
    elbv2_next_marker(result, seen, offset, size);
    return 0;
}

int
elbv2_delete_listener(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    elb_listener l;
    const char *arn = vm_params_get(p, "ListenerArn");
    if (elbv2_listener_of_arn(ctx, arn, &l, &lb, err) < 0 || elbv2_drop_tags(ctx, arn, err) < 0)
        return -1;
    const char *a[] = { l.id };
    return elbv2_exec_sql(ctx, "DELETE FROM elb_listeners WHERE id = ?", a, 1, err);
}

/* --- a listener's certificates besides the default (SNI) ------------------------------------------------ */

/* The listener (HTTPS) and the one certificate of Certificates.member.1 */
static int
listener_cert_args(vm_ctx *ctx, const vm_params *p, elb_listener *l, char cert_id[ACM_ID_LEN + 1], vm_error *err)
{
    elb_lb lb;
    if (elbv2_listener_of_arn(ctx, vm_params_get(p, "ListenerArn"), l, &lb, err) < 0)
        return -1;
    if (strcmp(l->protocol, "HTTPS") != 0 && strcmp(l->protocol, "TLS") != 0)
        return vm_error_set(err, VM_ERR_ELB_CONFIGURATION, "Certificates are for HTTPS and TLS listeners");
    const char *arn = vm_params_get(p, "Certificates.member.1.CertificateArn");
    if (!arn)
        return vm_error_set(err, VM_ERR_VALIDATION, "Certificates is required");
    if (vm_params_get(p, "Certificates.member.2.CertificateArn"))
        return vm_error_set(err, VM_ERR_VALIDATION, "You can specify one certificate per call");
    vm_error e = { 0 };
    acm_cert c;
    if (acm_arn_id(ctx, arn, cert_id, &e) < 0 || acm_cert_get(ctx, cert_id, &c, &e) < 0)
        return vm_error_set(err, VM_ERR_CERT_NOT_FOUND, "Certificate '%s' not found", arn);
    acm_cert_clear(&c);
    return 0;
}

static void
render_cert(vm_ctx *ctx, vm_node *list, const char *id, bool is_default)
{
    char arn[ACM_ARN_MAX];
    acm_arn(ctx, id, arn);
    vm_node *it = vm_node_item(list);
    vm_node_str(it, "CertificateArn", NULL, arn);
    vm_node_bool(it, "IsDefault", NULL, is_default);
}

int
elbv2_add_listener_certificates(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result,
                                vm_error *err)
{
    (void)principal;
    elb_listener l;
    char id[ACM_ID_LEN + 1];
    if (listener_cert_args(ctx, p, &l, id, err) < 0)
        return -1;
    _cleanup_free_ char(*more)[40] = NULL;
    size_t n;
    if (elb_listener_certs(ctx, l.id, &more, &n, err) < 0)
        return -1;
    bool there = strcmp(l.certificate_id, id) == 0;
    for (size_t i = 0; i < n && !there; i++)
        there = strcmp(more[i], id) == 0;
    if (!there && n >= ELB_LISTENER_CERTS_MAX)
        return vm_error_set(err, VM_ERR_TOO_MANY_CERTIFICATES, "A listener has at most %d certificates besides its "
                            "default", ELB_LISTENER_CERTS_MAX);
    if (!there) {
        char now[24];
        snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
        const char *a[] = { l.id, id, now };
        if (elbv2_exec_sql(ctx, "INSERT INTO elb_listener_certs (listener_id, cert_id, added_at) VALUES (?, ?, ?)", a,
                           3, err) < 0)
            return -1;
    }
    render_cert(ctx, vm_node_list(result, "Certificates", NULL), id, there && strcmp(l.certificate_id, id) == 0);
    return 0;
}

int
elbv2_remove_listener_certificates(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result,
                                   vm_error *err)
{
    (void)principal;
    (void)result;
    elb_listener l;
    char id[ACM_ID_LEN + 1];
    if (listener_cert_args(ctx, p, &l, id, err) < 0)
        return -1;
    if (strcmp(l.certificate_id, id) == 0)
        return vm_error_set(err, VM_ERR_OPERATION_NOT_PERMITTED, "The default certificate of a listener cannot be "
                                                                 "removed: give the listener another one first");
    const char *a[] = { l.id, id };
    return elbv2_exec_sql(ctx, "DELETE FROM elb_listener_certs WHERE listener_id = ? AND cert_id = ?", a, 2, err);
}

int
elbv2_describe_listener_certificates(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result,
                                     vm_error *err)
{
    (void)principal;
    elb_lb lb;
    elb_listener l;
    if (elbv2_listener_of_arn(ctx, vm_params_get(p, "ListenerArn"), &l, &lb, err) < 0)
        return -1;
    _cleanup_free_ char(*more)[40] = NULL;
    size_t n;
    if (elb_listener_certs(ctx, l.id, &more, &n, err) < 0)
        return -1;
    vm_node *list = vm_node_list(result, "Certificates", NULL);
    if (l.certificate_id[0])
        render_cert(ctx, list, l.certificate_id, true);
    for (size_t i = 0; i < n; i++)
        render_cert(ctx, list, more[i], false);
    return 0;
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
            return elbv2_bad(err, "The condition field '%s' is not offered (path-pattern or host-header)", field);
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
            return elbv2_bad(err, "The condition field '%s' is given twice", field);
        size_t off = 0;
        for (size_t j = 0; j < nv + nc; j++) {
            const char *v = j < nv ? vals[j] : cfg[j - nv];
            if (!*v || strlen(v) > 128 || strpbrk(v, " \t\r\n'\"\\#"))
                return elbv2_bad(err, "The condition value '%s' is not valid (1-128 characters, no spaces or quotes)", v);
            off += (size_t)snprintf(dst + off, 1024 - off, "%s%s", off ? "\n" : "", v);
            if (off >= 1000)
                return vm_error_set(err, VM_ERR_VALIDATION, "Too many condition values");
        }
        if (!off)
            return elbv2_bad(err, "The condition '%s' needs values", field);
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
store_rule(vm_ctx *ctx, const void *rec, bool insert, vm_error *err)
{
    const elb_rule *r = rec;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      insert ? "INSERT INTO elb_rules (priority, paths, hosts, action, tg_id, fixed_status, fixed_type, "
                               "fixed_body, redirect, id, listener_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                             : "UPDATE elb_rules SET priority = ?, paths = ?, hosts = ?, action = ?, tg_id = ?, "
                               "fixed_status = ?, fixed_type = ?, fixed_body = ?, redirect = ? WHERE id = ?",
                      &st, err) < 0)
        return -1;
    _cleanup_free_ char *redirect = strcmp(r->action.type, "redirect") == 0 ? elb_redirect_encode(&r->action.redirect)
                                                                            : NULL;
    /* an update has no ?11 (the listener) */
    const char *fmt = insert ? "ittttttttt" "t" : "ittttttttt";
    if (vm_db_bind(st, err, fmt, (long long)r->priority, r->paths, r->hosts, r->action.type,
                   r->action.tg_id[0] ? r->action.tg_id : NULL, r->action.status, r->action.content_type,
                   r->action.body, redirect ? redirect : "", r->id, r->listener_id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return sqlite3_extended_errcode(ctx->db) == SQLITE_CONSTRAINT_UNIQUE
                   ? vm_error_set(err, VM_ERR_PRIORITY_IN_USE, "Priority '%ld' is currently in use", r->priority)
                   : vm_db_error(ctx->db, "recording the rule", err);
    return elb_forwards_put(ctx, true, r->id, &r->action, err);
}

int
elbv2_create_rule(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_lb lb;
    elb_listener l;
    elb_rule r = { 0 };
    if (elbv2_listener_of_arn(ctx, vm_params_get(p, "ListenerArn"), &l, &lb, err) < 0)
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
    if (store_in_txn(ctx, store_rule, &r, true, err) < 0)
        return -1;
    render_rule(ctx, vm_node_item(vm_node_list(result, "Rules", NULL)), &lb, &l, &r);
    return 0;
}

int
elbv2_modify_rule(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
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
    if (store_in_txn(ctx, store_rule, &r, false, err) < 0)
        return -1;
    render_rule(ctx, vm_node_item(vm_node_list(result, "Rules", NULL)), &lb, &l, &r);
    return 0;
}

int
elbv2_describe_rules(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
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
    if (elbv2_listener_of_arn(ctx, la, &l, &lb, err) < 0 || elb_rules_of(ctx, l.id, &rs, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        render_rule(ctx, vm_node_item(list), &lb, &l, &rs[i]);
    render_rule(ctx, vm_node_item(list), &lb, &l, NULL);
    return 0;
}

int
elbv2_delete_rule(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
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
    if (rule_of_arn(ctx, arn, &r, &l, &lb, err) < 0 || elbv2_drop_tags(ctx, arn, err) < 0)
        return -1;
    const char *a[] = { r.id };
    return elbv2_exec_sql(ctx, "DELETE FROM elb_rules WHERE id = ?", a, 1, err);
}
