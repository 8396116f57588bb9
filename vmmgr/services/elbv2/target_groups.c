/* ELBv2 target groups and targets: Create/Describe/Modify/DeleteTargetGroup, health check settings,
 * Register/DeregisterTargets, DescribeTargetHealth (read back from HAProxy). */
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


/* --- target groups -------------------------------------------------------------------------------------- */

/* Matcher.HttpCode: codes 200-499 (ALB), as a list and/or ranges: "200", "200,202", "200-299". */
static int
check_matcher(const char *m, vm_error *err)
{
    char buf[128];
    if (!*m || strlen(m) >= sizeof(buf))
        return elbv2_bad(err, "The matcher '%s' is not valid", m);
    snprintf(buf, sizeof(buf), "%s", m);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *end;
        long lo = strtol(tok, &end, 10), hi = lo;
        if (*end == '-')
            hi = strtol(end + 1, &end, 10);
        if (*end || lo < 200 || hi > 499 || hi < lo)
            return elbv2_bad(err, "Health check matcher HTTP code '%s' must be within '200-499' (a code, a list or a range)",
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
        if (strcmp(proto, "HTTP") != 0 && strcmp(proto, "HTTPS") != 0 && strcmp(proto, "TCP") != 0)
            return elbv2_bad(err, "The health check protocol '%s' is not offered (HTTP, HTTPS or TCP)", proto);
        snprintf(tg->hc_protocol, sizeof(tg->hc_protocol), "%s", proto);
    }
    if (port) {
        char *end;
        long v = strtol(port, &end, 10);
        if (strcmp(port, "traffic-port") != 0 && (*end || end == port || v < 1 || v > 65535))
            return elbv2_bad(err, "The health check port '%s' is not valid (traffic-port or 1-65535)", port);
        snprintf(tg->hc_port, sizeof(tg->hc_port), "%s", port);
    }
    if (path) {
        if (path[0] != '/' || strlen(path) > 1024 || strpbrk(path, " \t\r\n"))
            return elbv2_bad(err, "The health check path '%s' must begin with '/' and be at most 1024 characters", path);
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
    if (elb_proto_http(tg->hc_protocol)) {
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
    if (elb_proto_http(tg->protocol))
        vm_node_str(it, "ProtocolVersion", NULL, "HTTP1");
    vm_node_str(it, "IpAddressType", NULL, "ipv4");
    return 0;
}

int
elbv2_create_tg(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_tg tg = { .created_at = time(NULL), .hc_port = "traffic-port", .hc_path = "/", .hc_interval = 30,
                  .healthy = 5, .unhealthy = 2 };
    const char *name = vm_params_get(p, "Name"), *proto = vm_params_get(p, "Protocol");
    const char *vpc = vm_params_get(p, "VpcId"), *tt = vm_params_get(p, "TargetType");
    if (elbv2_check_name(name, "target group", err) < 0)
        return -1;
    tt = tt ? tt : "instance";
    if (strcmp(tt, "instance") != 0 && strcmp(tt, "ip") != 0)
        return elbv2_bad(err, "The target type '%s' is not offered (instance or ip)", tt);
    if (!proto || !vpc)
        return vm_error_set(err, VM_ERR_VALIDATION, "Protocol, Port and VpcId are required for target type %s", tt);
    if (strcmp(proto, "HTTP") != 0 && strcmp(proto, "HTTPS") != 0 && strcmp(proto, "TCP") != 0 &&
        strcmp(proto, "TLS") != 0)
        return elbv2_bad(err, "The protocol '%s' is not offered by this endpoint (HTTP, HTTPS, TCP or TLS)", proto);
    if (!vm_params_get(p, "Port"))
        return vm_error_set(err, VM_ERR_VALIDATION, "Port is required");
    if (vm_params_int(p, "Port", 0, 1, 65535, &tg.port, err) < 0) {
        *err = (vm_error){ 0 };
        return elbv2_bad(err, "The port '%s' is not valid (1-65535)", vm_params_get(p, "Port"));
    }
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT 1 FROM vpcs WHERE id = ?", "t", vpc) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return elbv2_bad(err, "The VPC ID '%s' is not found", vpc);
    snprintf(tg.name, sizeof(tg.name), "%s", name);
    snprintf(tg.protocol, sizeof(tg.protocol), "%s", proto);
    snprintf(tg.vpc_id, sizeof(tg.vpc_id), "%s", vpc);
    snprintf(tg.target_type, sizeof(tg.target_type), "%s", tt);
    /* the health check speaks the targets' protocol: HTTP or HTTPS, else a TCP connect */
    bool http = elb_proto_http(proto);
    snprintf(tg.hc_protocol, sizeof(tg.hc_protocol), "%s", http ? proto : "TCP");
    snprintf(tg.matcher, sizeof(tg.matcher), "%s", http ? "200" : "200-399");
    const char *hp = vm_params_get(p, "HealthCheckProtocol");
    tg.hc_timeout = (hp ? elb_proto_http(hp) : http) ? 5 : 10;
    if (!http)
        tg.healthy = 5, tg.unhealthy = 2;
    if (parse_health(p, &tg, err) < 0)
        return -1;
    _cleanup_free_ char **tk = NULL, **tv = NULL;
    size_t nt;
    if (elbv2_parse_tags(p, "Tags.member", true, &tk, &tv, &nt, err) < 0)
        return -1;
    /* the same name again: the same group when it asks for the same, else DuplicateTargetGroupName */
    _cleanup_stmt_ sqlite3_stmt *dup = NULL;
    if (vm_db_stmt(ctx->db, &dup, err, "SELECT id FROM elb_target_groups WHERE name = ?", "t", name) < 0)
        return -1;
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
    if (vm_db_bind(ins, err, "tttitttttiiiiti", tg.id, tg.name, tg.protocol, (long long)tg.port, tg.vpc_id,
                   tg.target_type, tg.hc_protocol, tg.hc_port, tg.hc_path, (long long)tg.hc_interval,
                   (long long)tg.hc_timeout, (long long)tg.healthy, (long long)tg.unhealthy, tg.matcher,
                   (long long)tg.created_at) < 0 ||
        sqlite3_step(ins) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording the target group", err);
    char arn[ELB_ARN_MAX];
    elb_tg_arn(ctx, &tg, arn);
    if (elbv2_put_tags(ctx, arn, tk, tv, nt, err) < 0)
        return -1;
    return render_tg(ctx, vm_node_item(vm_node_list(result, "TargetGroups", NULL)), &tg, err);
}

int
elbv2_modify_tg(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_tg tg;
    if (elbv2_tg_of_arn(ctx, vm_params_get(p, "TargetGroupArn"), &tg, err) < 0 || parse_health(p, &tg, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "UPDATE elb_target_groups SET hc_protocol = ?, hc_port = ?, hc_path = ?, hc_interval = ?, "
                   "hc_timeout = ?, healthy = ?, unhealthy = ?, matcher = ? WHERE id = ?",
                   "tttiiiitt", tg.hc_protocol, tg.hc_port, tg.hc_path, (long long)tg.hc_interval,
                   (long long)tg.hc_timeout, (long long)tg.healthy, (long long)tg.unhealthy, tg.matcher, tg.id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "changing the target group", err);
    return render_tg(ctx, vm_node_item(vm_node_list(result, "TargetGroups", NULL)), &tg, err);
}

int
elbv2_describe_tgs(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    _cleanup_free_ const char **arns = NULL, **names = NULL;
    size_t na, nn;
    long offset, size;
    const char *lb_arn = vm_params_get(p, "LoadBalancerArn");
    if (vm_params_list(p, "TargetGroupArns.member", &arns, &na, err) < 0 ||
        vm_params_list(p, "Names.member", &names, &nn, err) < 0 || elbv2_page_args(p, &offset, &size, err) < 0)
        return -1;
    elb_lb lb;
    _cleanup_free_ char(*of_lb)[ELB_ID_LEN + 1] = NULL;
    if (lb_arn && elbv2_lb_of_arn(ctx, lb_arn, &lb, err) < 0)
        return -1;
    for (size_t i = 0; i < na; i++) {
        elb_tg tg;
        if (elbv2_tg_of_arn(ctx, arns[i], &tg, err) < 0)
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
    elbv2_next_marker(result, seen, offset, size);
    return 0;
}

int
elbv2_delete_tg(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_tg tg;
    vm_error nf = { 0 };
    const char *arn = vm_params_get(p, "TargetGroupArn");
    if (elbv2_tg_of_arn(ctx, arn, &tg, &nf) < 0)
        return nf.code == VM_ERR_TG_NOT_FOUND ? 0 : vm_error_set(err, nf.code, "%s", nf.msg);
    long used = 0;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT count(*) FROM elb_forwards WHERE tg_id = ?1", "t", tg.id) < 0)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        used = sqlite3_column_int64(st, 0);
    if (used)
        return vm_error_set(err, VM_ERR_RESOURCE_IN_USE, "Target group '%s' is currently in use by a listener or a rule",
                            arn);
    _cleanup_stmt_ sqlite3_stmt *asg = NULL;
    if (vm_db_stmt(ctx->db, &asg, err, "SELECT group_name FROM asg_target_groups WHERE tg_id = ?", "t", tg.id) < 0)
        return -1;
    if (sqlite3_step(asg) == SQLITE_ROW)
        return vm_error_set(err, VM_ERR_RESOURCE_IN_USE, "Target group '%s' is currently in use by Auto Scaling group '%s'",
                            arn, vm_db_text(asg, 0));
    const char *a[] = { tg.id };
    if (elbv2_drop_tags(ctx, arn, err) < 0 || elbv2_exec_sql(ctx, "DELETE FROM elb_attributes WHERE owner = ?", a, 1, err) < 0)
        return -1;
    return elbv2_exec_sql(ctx, "DELETE FROM elb_target_groups WHERE id = ?", a, 1, err);
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
                return elbv2_bad(err, "The target port '%s' is not valid (1-65535)", port);
        }
        if (!resolve)
            continue;
        if (strcmp(tg->target_type, "ip") == 0) {
            uint32_t a;
            net_cidr vpc;
            _cleanup_stmt_ sqlite3_stmt *st = NULL;
            if (vm_db_prepare(ctx->db, "SELECT cidr FROM vpcs WHERE id = ?", &st, err) < 0 ||
                vm_db_bind(st, err, "t", tg->vpc_id) < 0)
                return -1;
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
        if (vm_db_stmt(ctx->db, &st, err,
                       "SELECT s.vpc_id, e.ip FROM network_interfaces e JOIN subnets s ON s.id = e.subnet_id "
                       "WHERE e.instance_id = ?",
                       "t", ts[i].id) < 0)
            return -1;
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

int
elbv2_register_targets(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_tg tg;
    _cleanup_free_ target_arg *ts = NULL;
    size_t n;
    if (elbv2_tg_of_arn(ctx, vm_params_get(p, "TargetGroupArn"), &tg, err) < 0 ||
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
        if (vm_db_bind(st, err, "ttiti", tg.id, ts[i].id, (long long)ts[i].port, ts[i].ip,
                       (long long)(time(NULL))) < 0 || sqlite3_step(st) != SQLITE_DONE)
            rc = vm_db_error(ctx->db, "registering targets", err);
    }
    if (rc < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return vm_db_commit(ctx->db, err);
}

int
elbv2_deregister_targets(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_tg tg;
    _cleanup_free_ target_arg *ts = NULL;
    size_t n;
    if (elbv2_tg_of_arn(ctx, vm_params_get(p, "TargetGroupArn"), &tg, err) < 0 ||
        parse_targets(ctx, p, &tg, false, &ts, &n, err) < 0)
        return -1;
    if (n == 0)
        return vm_error_set(err, VM_ERR_VALIDATION, "Targets is required");
    for (size_t i = 0; i < n; i++) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (vm_db_stmt(ctx->db, &st, err, "SELECT 1 FROM elb_targets WHERE tg_id = ? AND target = ? AND port = ?",
                       "tti", tg.id, ts[i].id, (long long)ts[i].port) <
            0)
            return -1;
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
        if (vm_db_bind(up, err, "itti", (long long)until, tg.id, ts[i].id, (long long)ts[i].port) < 0 ||
            sqlite3_step(up) != SQLITE_DONE)
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

int
elbv2_describe_health(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err)
{
    elb_tg tg;
    _cleanup_free_ target_arg *ts = NULL;
    size_t n;
    if (elbv2_tg_of_arn(ctx, vm_params_get(p, "TargetGroupArn"), &tg, err) < 0 ||
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
