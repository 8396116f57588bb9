/* Elastic Load Balancing in the store: ids, ARNs, and the records of load balancers, target groups,
 * targets, listeners and rules. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <uuid/uuid.h>

#include "../net/net.h"
#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "elb.h"

void
elb_id_new(char id[ELB_ID_LEN + 1])
{
    uuid_t u;
    uuid_generate_random(u);
    for (int i = 0; i < ELB_ID_LEN / 2; i++)
        snprintf(id + 2 * i, 3, "%02x", u[i]);
}

static const char *
short_type(const elb_lb *lb)
{
    return strcmp(lb->type, "network") == 0 ? "net" : "app";
}

void
elb_lb_arn(const vm_ctx *ctx, const elb_lb *lb, char arn[ELB_ARN_MAX])
{
    snprintf(arn, ELB_ARN_MAX, "arn:aws:elasticloadbalancing:%s:%s:loadbalancer/%s/%s/%s", ctx->region,
             ctx->account_id, short_type(lb), lb->name, lb->id);
}

void
elb_tg_arn(const vm_ctx *ctx, const elb_tg *tg, char arn[ELB_ARN_MAX])
{
    snprintf(arn, ELB_ARN_MAX, "arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/%s", ctx->region, ctx->account_id,
             tg->name, tg->id);
}

void
elb_listener_arn(const vm_ctx *ctx, const elb_lb *lb, const char *listener_id, char arn[ELB_ARN_MAX])
{
    snprintf(arn, ELB_ARN_MAX, "arn:aws:elasticloadbalancing:%s:%s:listener/%s/%s/%s/%s", ctx->region,
             ctx->account_id, short_type(lb), lb->name, lb->id, listener_id);
}

void
elb_rule_arn(const vm_ctx *ctx, const elb_lb *lb, const char *listener_id, const char *rule_id, char arn[ELB_ARN_MAX])
{
    snprintf(arn, ELB_ARN_MAX, "arn:aws:elasticloadbalancing:%s:%s:listener-rule/%s/%s/%s/%s/%s", ctx->region,
             ctx->account_id, short_type(lb), lb->name, lb->id, listener_id, rule_id);
}

int
elb_arn_id(const char *arn, const char *kind, char id[ELB_ID_LEN + 1], vm_err_code code, vm_error *err)
{
    static const char pre[] = "arn:aws:elasticloadbalancing:";
    const char *res = arn && strncmp(arn, pre, strlen(pre)) == 0 ? arn + strlen(pre) : NULL;
    /* region:account:kind/… */
    for (int colons = 0; res && colons < 2; colons++)
        res = strchr(res, ':') ? strchr(res, ':') + 1 : NULL;
    size_t kl = strlen(kind);
    const char *last = arn ? strrchr(arn, '/') : NULL;
    if (!res || strncmp(res, kind, kl) != 0 || res[kl] != '/' || !last || strlen(last + 1) != ELB_ID_LEN ||
        strspn(last + 1, "0123456789abcdef") != ELB_ID_LEN)
        return vm_error_set(err, code == VM_ERR_NONE ? VM_ERR_VALIDATION : code, "'%s' is not a valid %s ARN",
                            arn ? arn : "", kind);
    memcpy(id, last + 1, ELB_ID_LEN + 1);
    return 0;
}

/* --- load balancers ------------------------------------------------------------------------------ */

#define LB_COLUMNS "id, name, type, scheme, vpc_id, dns_name, state, deleting, created_at"

static void
lb_from_row(sqlite3_stmt *st, elb_lb *lb)
{
    memset(lb, 0, sizeof(*lb));
    snprintf(lb->id, sizeof(lb->id), "%s", vm_db_text(st, 0));
    snprintf(lb->name, sizeof(lb->name), "%s", vm_db_text(st, 1));
    snprintf(lb->type, sizeof(lb->type), "%s", vm_db_text(st, 2));
    snprintf(lb->scheme, sizeof(lb->scheme), "%s", vm_db_text(st, 3));
    snprintf(lb->vpc_id, sizeof(lb->vpc_id), "%s", vm_db_text(st, 4));
    snprintf(lb->dns_name, sizeof(lb->dns_name), "%s", vm_db_text(st, 5));
    snprintf(lb->state, sizeof(lb->state), "%s", vm_db_text(st, 6));
    lb->deleting = sqlite3_column_int(st, 7) != 0;
    lb->created_at = sqlite3_column_int64(st, 8);
}

#define LB_WHERE(cond) "SELECT " LB_COLUMNS " FROM elb_load_balancers WHERE " cond " AND deleting = 0"

/* sql: one of the LB_WHERE statements, with ?1 the key */
static int
lb_query(vm_ctx *ctx, const char *sql, const char *arg, elb_lb *ret, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, sql, "t", arg) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_LB_NOT_FOUND, "One or more load balancers not found");
    lb_from_row(st, ret);
    return 0;
}

int
elb_lb_get(vm_ctx *ctx, const char *id, elb_lb *ret, vm_error *err)
{
    return lb_query(ctx, LB_WHERE("id = ?1"), id, ret, err);
}

int
elb_lb_by_name(vm_ctx *ctx, const char *name, elb_lb *ret, vm_error *err)
{
    return lb_query(ctx, LB_WHERE("name = ?1"), name, ret, err);
}

int
elb_lbs(vm_ctx *ctx, bool with_deleting, elb_lb **ret, size_t *n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret = NULL;
    *n = 0;
    if (vm_db_prepare(ctx->db,
                      with_deleting ? "SELECT " LB_COLUMNS " FROM elb_load_balancers ORDER BY created_at, rowid"
                                    : "SELECT " LB_COLUMNS " FROM elb_load_balancers WHERE deleting = 0 "
                                      "ORDER BY created_at, rowid",
                      &st, err) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        elb_lb *v = realloc(*ret, (*n + 1) * sizeof(**ret));
        if (!v)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        *ret = v;
        lb_from_row(st, &v[(*n)++]);
    }
    return 0;
}

int
elb_lb_subnets(vm_ctx *ctx, const char *lb_id, elb_lb_subnet **ret, size_t *n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret = NULL;
    *n = 0;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT l.subnet_id, l.eni_id, s.az FROM elb_lb_subnets l JOIN subnets s ON s.id = l.subnet_id "
                   "WHERE l.lb_id = ? ORDER BY l.rowid",
                   "t", lb_id) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        elb_lb_subnet *v = realloc(*ret, (*n + 1) * sizeof(**ret));
        if (!v)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        *ret = v;
        snprintf(v[*n].subnet_id, sizeof(v->subnet_id), "%s", vm_db_text(st, 0));
        snprintf(v[*n].eni_id, sizeof(v->eni_id), "%s", vm_db_text(st, 1));
        snprintf(v[*n].az, sizeof(v->az), "%s", vm_db_text(st, 2));
        (*n)++;
    }
    return 0;
}

int
elb_lb_groups(vm_ctx *ctx, const char *lb_id, char (**ret)[VM_ID_MAX], size_t *n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret = NULL;
    *n = 0;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT group_id FROM elb_lb_groups WHERE lb_id = ? ORDER BY rowid", "t",
                   lb_id) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char(*v)[VM_ID_MAX] = realloc(*ret, (*n + 1) * sizeof(**ret));
        if (!v)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        *ret = v;
        snprintf(v[(*n)++], VM_ID_MAX, "%s", vm_db_text(st, 0));
    }
    return 0;
}

static int
exec1(vm_ctx *ctx, const char *sql, const char *a, const char *b, const char *c, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    const char *args[] = { a, b, c };
    size_t n = 0;
    while (n < 3 && args[n])
        n++;
    if (vm_db_prepare(ctx->db, sql, &st, err) < 0 || vm_db_bind_texts(st, err, args, n) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording the load balancer", err);
    return 0;
}

/* internet-facing on a host with public addresses: one of them for the interface, the LAN's way in
 * (1:1 NAT on the uplink, as an Elastic IP); inside the caller's transaction */
static int
public_address(vm_ctx *ctx, const elb_lb *lb, const char *eni, vm_error *err)
{
    vm_error pe = { 0 };
    if (strcmp(lb->scheme, "internet-facing") != 0 || !net_public_pool(ctx) || net_public_ip_assign(ctx, eni, &pe) == 0)
        return 0;
    return pe.code == VM_ERR_ADDRESS_LIMIT
               ? vm_error_set(err, VM_ERR_ELB_CONFIGURATION,
                              "An internet-facing load balancer takes a public address in each subnet: %s", pe.msg)
               : vm_error_set(err, pe.code, "%s", pe.msg);
}

int
elb_lb_create(vm_ctx *ctx, const elb_lb *lb, const char (*subnets)[VM_ID_MAX], size_t nsub,
              const char (*groups)[VM_ID_MAX], size_t ngroups, vm_error *err)
{
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int rc = vm_db_prepare(ctx->db,
                           "INSERT INTO elb_load_balancers (" LB_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)", &st,
                           err);
    if (rc == 0) {
        if (vm_db_bind(st, err, "ttttttti", lb->id, lb->name, lb->type, lb->scheme, lb->vpc_id, lb->dns_name, lb->state,
                       (long long)lb->created_at) < 0 || sqlite3_step(st) != SQLITE_DONE)
            rc = sqlite3_extended_errcode(ctx->db) == SQLITE_CONSTRAINT_UNIQUE
                     ? vm_error_set(err, VM_ERR_LB_DUPLICATE, "A load balancer with the same name '%s' exists",
                                    lb->name)
                     : vm_db_error(ctx->db, "recording the load balancer", err);
    }
    char desc[160];
    snprintf(desc, sizeof(desc), "ELB %s/%s/%s", strcmp(lb->type, "network") == 0 ? "net" : "app", lb->name, lb->id);
    for (size_t i = 0; rc == 0 && i < nsub; i++) {
        char eni[VM_ID_MAX];
        rc = net_svc_eni_record(ctx, subnets[i], groups, ngroups, desc, "amazon-elb", lb->dns_name, eni, err);
        if (rc == 0)
            rc = public_address(ctx, lb, eni, err);
        if (rc == 0)
            rc = exec1(ctx, "INSERT INTO elb_lb_subnets (lb_id, subnet_id, eni_id) VALUES (?, ?, ?)", lb->id,
                       subnets[i], eni, err);
    }
    for (size_t i = 0; rc == 0 && i < ngroups; i++)
        rc = exec1(ctx, "INSERT INTO elb_lb_groups (lb_id, group_id) VALUES (?, ?)", lb->id, groups[i], NULL, err);
    if (rc < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return vm_db_commit(ctx->db, err);
}

int
elb_lb_set_groups(vm_ctx *ctx, const char *lb_id, const char (*groups)[VM_ID_MAX], size_t n, vm_error *err)
{
    _cleanup_free_ elb_lb_subnet *subs = NULL;
    size_t nsub;
    if (elb_lb_subnets(ctx, lb_id, &subs, &nsub, err) < 0 || vm_db_begin(ctx->db, err) < 0)
        return -1;
    int rc = exec1(ctx, "DELETE FROM elb_lb_groups WHERE lb_id = ?", lb_id, NULL, NULL, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = exec1(ctx, "INSERT INTO elb_lb_groups (lb_id, group_id) VALUES (?, ?)", lb_id, groups[i], NULL, err);
    for (size_t i = 0; rc == 0 && i < nsub; i++)
        rc = net_eni_groups_replace(ctx, subs[i].eni_id, groups, n, err);
    if (rc < 0 || vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return net_fw_sync(ctx, err);
}

int
elb_lb_set_subnets(vm_ctx *ctx, const elb_lb *lb, const char (*subnets)[VM_ID_MAX], size_t n, vm_error *err)
{
    _cleanup_free_ elb_lb_subnet *cur = NULL;
    size_t ncur;
    _cleanup_free_ char(*gs)[VM_ID_MAX] = NULL;
    size_t ng;
    if (elb_lb_subnets(ctx, lb->id, &cur, &ncur, err) < 0 || elb_lb_groups(ctx, lb->id, &gs, &ng, err) < 0)
        return -1;
    bool kept[ELB_MAX_SUBNETS] = { false }, had[ELB_MAX_SUBNETS] = { false };
    size_t gone = 0, added = 0;
    for (size_t i = 0; i < ncur && i < ELB_MAX_SUBNETS; i++) {
        for (size_t j = 0; j < n; j++)
            if (strcmp(cur[i].subnet_id, subnets[j]) == 0)
                kept[i] = had[j] = true;
        gone += !kept[i];
    }
    for (size_t j = 0; j < n; j++)
        added += !had[j];
    /* the public addresses the new interfaces need, before anything changes: the pool's free ones and
     * those the interfaces that go give back */
    if (added && strcmp(lb->scheme, "internet-facing") == 0 && net_public_pool(ctx)) {
        long free_now = net_public_free(ctx, err);
        if (free_now < 0)
            return -1;
        if ((size_t)free_now + gone < added)
            return vm_error_set(err, VM_ERR_ELB_CONFIGURATION,
                                "An internet-facing load balancer takes a public address in each subnet: this "
                                "host's pool has %ld free",
                                free_now);
    }
    /* first the subnets left: their interfaces released (addresses, public ones too, back to the pools) */
    for (size_t i = 0; i < ncur; i++) {
        if (kept[i])
            continue;
        /* a crash in between leaves the interface to elb_orphans_release */
        if (exec1(ctx, "DELETE FROM elb_lb_subnets WHERE lb_id = ? AND subnet_id = ?", lb->id, cur[i].subnet_id, NULL,
                  err) < 0)
            return -1;
        vm_crash_point("elb-subnet-left");
        if (net_svc_eni_release(ctx, cur[i].eni_id, err) < 0)
            return -1;
    }
    /* then the new ones, together */
    if (!added)
        return 0;
    char desc[160];
    snprintf(desc, sizeof(desc), "ELB %s/%s/%s", strcmp(lb->type, "network") == 0 ? "net" : "app", lb->name, lb->id);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    int rc = 0;
    for (size_t j = 0; rc == 0 && j < n; j++) {
        if (had[j])
            continue;
        char eni[VM_ID_MAX];
        rc = net_svc_eni_record(ctx, subnets[j], (const char(*)[VM_ID_MAX])gs, ng, desc, "amazon-elb", lb->dns_name,
                                eni, err);
        if (rc == 0)
            rc = public_address(ctx, lb, eni, err);
        if (rc == 0)
            rc = exec1(ctx, "INSERT INTO elb_lb_subnets (lb_id, subnet_id, eni_id) VALUES (?, ?, ?)", lb->id,
                       subnets[j], eni, err);
    }
    if (rc < 0 || vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return 0;
}

int
elb_lb_mark_deleting(vm_ctx *ctx, const char *id, vm_error *err)
{
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (exec1(ctx, "DELETE FROM elb_listeners WHERE lb_id = ?", id, NULL, NULL, err) < 0 ||
        exec1(ctx, "DELETE FROM elb_attributes WHERE owner = ?", id, NULL, NULL, err) < 0 ||
        exec1(ctx, "UPDATE elb_load_balancers SET deleting = 1 WHERE id = ?", id, NULL, NULL, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return vm_db_commit(ctx->db, err);
}

int
elb_lb_forget(vm_ctx *ctx, const char *id, vm_error *err)
{
    _cleanup_free_ elb_lb_subnet *subs = NULL;
    size_t n;
    if (elb_lb_subnets(ctx, id, &subs, &n, err) < 0)
        return -1;
    /* the interfaces first: a crash in between leaves the record, and the next round repeats */
    for (size_t i = 0; i < n; i++)
        if (net_svc_eni_release(ctx, subs[i].eni_id, err) < 0)
            return -1;
    return exec1(ctx, "DELETE FROM elb_load_balancers WHERE id = ?", id, NULL, NULL, err);
}

int
elb_orphans_release(vm_ctx *ctx, vm_error *err)
{
    /* a load balancer's interfaces are recorded with their subnet's row in one transaction
     * (elb_lb_create, elb_lb_set_subnets), so one without a row is one whose release did not finish */
    char (*ids)[VM_ID_MAX] = NULL;
    size_t n = 0;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "SELECT id FROM network_interfaces WHERE requester = 'amazon-elb' AND id NOT IN "
                      "(SELECT eni_id FROM elb_lb_subnets) ORDER BY rowid",
                      &st, err) < 0)
        return -1;
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        char(*v)[VM_ID_MAX] = realloc(ids, (n + 1) * sizeof(*ids));
        if (!v)
            rc = vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        else {
            ids = v;
            snprintf(ids[n++], VM_ID_MAX, "%s", vm_db_text(st, 0));
        }
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = net_svc_eni_release(ctx, ids[i], err);
    free(ids);
    return rc;
}

/* --- target groups, targets ----------------------------------------------------------------------- */

#define TG_COLUMNS                                                                                                    \
    "id, name, protocol, port, vpc_id, target_type, hc_protocol, hc_port, hc_path, hc_interval, hc_timeout, healthy, " \
    "unhealthy, matcher, created_at"

static void
tg_from_row(sqlite3_stmt *st, elb_tg *t)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->id, sizeof(t->id), "%s", vm_db_text(st, 0));
    snprintf(t->name, sizeof(t->name), "%s", vm_db_text(st, 1));
    snprintf(t->protocol, sizeof(t->protocol), "%s", vm_db_text(st, 2));
    t->port = sqlite3_column_int64(st, 3);
    snprintf(t->vpc_id, sizeof(t->vpc_id), "%s", vm_db_text(st, 4));
    snprintf(t->target_type, sizeof(t->target_type), "%s", vm_db_text(st, 5));
    snprintf(t->hc_protocol, sizeof(t->hc_protocol), "%s", vm_db_text(st, 6));
    snprintf(t->hc_port, sizeof(t->hc_port), "%s", vm_db_text(st, 7));
    snprintf(t->hc_path, sizeof(t->hc_path), "%s", vm_db_text(st, 8));
    t->hc_interval = sqlite3_column_int64(st, 9);
    t->hc_timeout = sqlite3_column_int64(st, 10);
    t->healthy = sqlite3_column_int64(st, 11);
    t->unhealthy = sqlite3_column_int64(st, 12);
    snprintf(t->matcher, sizeof(t->matcher), "%s", vm_db_text(st, 13));
    t->created_at = sqlite3_column_int64(st, 14);
}

int
elb_tg_get(vm_ctx *ctx, const char *id, elb_tg *ret, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " TG_COLUMNS " FROM elb_target_groups WHERE id = ?", "t", id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_TG_NOT_FOUND, "One or more target groups not found");
    tg_from_row(st, ret);
    return 0;
}

int
elb_tgs(vm_ctx *ctx, elb_tg **ret, size_t *n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret = NULL;
    *n = 0;
    if (vm_db_prepare(ctx->db, "SELECT " TG_COLUMNS " FROM elb_target_groups ORDER BY created_at, rowid", &st, err) <
        0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        elb_tg *v = realloc(*ret, (*n + 1) * sizeof(**ret));
        if (!v)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        *ret = v;
        tg_from_row(st, &v[(*n)++]);
    }
    return 0;
}

int
elb_targets_of(vm_ctx *ctx, const char *tg_id, elb_target **ret, size_t *n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret = NULL;
    *n = 0;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT tg_id, target, port, ip, drain_until, health, reason, created_at FROM elb_targets "
                   "WHERE tg_id = ? "
                   "ORDER BY created_at, rowid",
                   "t", tg_id) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        elb_target *v = realloc(*ret, (*n + 1) * sizeof(**ret));
        if (!v)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        *ret = v;
        elb_target *t = &v[(*n)++];
        memset(t, 0, sizeof(*t));
        snprintf(t->tg_id, sizeof(t->tg_id), "%s", vm_db_text(st, 0));
        snprintf(t->target, sizeof(t->target), "%s", vm_db_text(st, 1));
        t->port = sqlite3_column_int64(st, 2);
        snprintf(t->ip, sizeof(t->ip), "%s", vm_db_text(st, 3));
        t->drain_until = sqlite3_column_int64(st, 4);
        snprintf(t->health, sizeof(t->health), "%s", vm_db_text(st, 5));
        snprintf(t->reason, sizeof(t->reason), "%s", vm_db_text(st, 6));
        t->created_at = sqlite3_column_int64(st, 7);
    }
    return 0;
}

int
elb_lbs_of_tg(vm_ctx *ctx, const char *tg_id, char (**ret)[ELB_ID_LEN + 1], size_t *n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret = NULL;
    *n = 0;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT DISTINCT l.lb_id FROM elb_forwards f LEFT JOIN elb_rules r ON r.id = f.rule_id "
                   "JOIN elb_listeners l ON l.id = coalesce(f.listener_id, r.listener_id) "
                   "JOIN elb_load_balancers b ON b.id = l.lb_id AND b.deleting = 0 "
                   "WHERE f.tg_id = ?1 ORDER BY l.lb_id",
                   "t", tg_id) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char(*v)[ELB_ID_LEN + 1] = realloc(*ret, (*n + 1) * sizeof(**ret));
        if (!v)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        *ret = v;
        snprintf(v[(*n)++], ELB_ID_LEN + 1, "%s", vm_db_text(st, 0));
    }
    return 0;
}

/* --- listeners, rules ----------------------------------------------------------------------------- */

int
elb_listener_certs(vm_ctx *ctx, const char *listener_id, char (**ret)[40], size_t *n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret = NULL;
    *n = 0;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT cert_id FROM elb_listener_certs WHERE listener_id = ? ORDER BY added_at, cert_id", "t",
                   listener_id) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char(*v)[40] = realloc(*ret, (*n + 1) * sizeof(**ret));
        if (!v)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        *ret = v;
        snprintf(v[(*n)++], 40, "%s", vm_db_text(st, 0));
    }
    return 0;
}

const char *
elb_ssl_policy_min(const char *policy)
{
    static const struct {
        const char *name, *min;
    } policies[] = {
        { "ELBSecurityPolicy-2016-08", "TLSv1.0" },
        { "ELBSecurityPolicy-TLS-1-0-2015-04", "TLSv1.0" },
        { "ELBSecurityPolicy-TLS-1-1-2017-01", "TLSv1.1" },
        { "ELBSecurityPolicy-TLS-1-2-2017-01", "TLSv1.2" },
        { "ELBSecurityPolicy-TLS-1-2-Ext-2018-06", "TLSv1.2" },
        { "ELBSecurityPolicy-FS-2018-06", "TLSv1.0" },
        { "ELBSecurityPolicy-FS-1-1-2019-08", "TLSv1.1" },
        { "ELBSecurityPolicy-FS-1-2-2019-08", "TLSv1.2" },
        { "ELBSecurityPolicy-FS-1-2-Res-2019-08", "TLSv1.2" },
        { "ELBSecurityPolicy-FS-1-2-Res-2020-10", "TLSv1.2" },
        { "ELBSecurityPolicy-TLS13-1-2-2021-06", "TLSv1.2" },
        { "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "TLSv1.2" },
        { "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", "TLSv1.2" },
        { "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06", "TLSv1.2" },
        { "ELBSecurityPolicy-TLS13-1-1-2021-06", "TLSv1.1" },
        { "ELBSecurityPolicy-TLS13-1-0-2021-06", "TLSv1.0" },
        { "ELBSecurityPolicy-TLS13-1-3-2021-06", "TLSv1.3" },
    };
    for (size_t i = 0; policy && i < sizeof(policies) / sizeof(policies[0]); i++)
        if (strcmp(policy, policies[i].name) == 0)
            return policies[i].min;
    return NULL;
}

static const struct {
    const char *key;
    size_t off, size;
} redirect_parts[] = {
#define PART(k, f) { k, offsetof(struct elb_redirect, f), sizeof(((struct elb_redirect *)0)->f) }
    PART("Protocol", protocol), PART("Port", port), PART("Host", host),
    PART("Path", path),         PART("Query", query), PART("StatusCode", code),
#undef PART
};

char *
elb_redirect_encode(const struct elb_redirect *r)
{
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < sizeof(redirect_parts) / sizeof(redirect_parts[0]); i++)
        json_object_object_add(o, redirect_parts[i].key,
                               json_object_new_string((const char *)r + redirect_parts[i].off));
    char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

static void
redirect_decode(const char *text, struct elb_redirect *r)
{
    json_object *o = text[0] ? json_tokener_parse(text) : NULL, *v;
    for (size_t i = 0; o && i < sizeof(redirect_parts) / sizeof(redirect_parts[0]); i++)
        if (json_object_object_get_ex(o, redirect_parts[i].key, &v))
            snprintf((char *)r + redirect_parts[i].off, redirect_parts[i].size, "%s", json_object_get_string(v));
    json_object_put(o);
}

static void
action_from_row(sqlite3_stmt *st, int col, elb_action *a)
{
    snprintf(a->type, sizeof(a->type), "%s", vm_db_text(st, col));
    snprintf(a->tg_id, sizeof(a->tg_id), "%s", vm_db_text(st, col + 1));
    snprintf(a->status, sizeof(a->status), "%s", vm_db_text(st, col + 2));
    snprintf(a->content_type, sizeof(a->content_type), "%s", vm_db_text(st, col + 3));
    snprintf(a->body, sizeof(a->body), "%s", vm_db_text(st, col + 4));
    redirect_decode(vm_db_text(st, col + 5), &a->redirect);
}

/* A forward action's target groups and weights, of a listener or a rule. */
static int
forwards_load(vm_ctx *ctx, bool rule, const char *id, elb_action *a, vm_error *err)
{
    a->nfwd = 0;
    if (strcmp(a->type, "forward") != 0)
        return 0;
    sqlite3_stmt *st = vm_ctx_stmt(ctx,
                                   rule ? "SELECT tg_id, weight, stick_seconds FROM elb_forwards WHERE rule_id = ? "
                                          "ORDER BY position"
                                        : "SELECT tg_id, weight, stick_seconds FROM elb_forwards WHERE listener_id = ? "
                                          "ORDER BY position",
                                   err);
    if (!st || vm_db_bind(st, err, "t", id) < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && a->nfwd < ELB_FORWARD_MAX) {
        snprintf(a->fwd[a->nfwd].tg_id, sizeof(a->fwd[0].tg_id), "%s", vm_db_text(st, 0));
        a->fwd[a->nfwd++].weight = sqlite3_column_int64(st, 1);
        a->stick_seconds = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "reading a forward action's target groups", err);
    if (a->nfwd == 0 && a->tg_id[0]) { /* written before schema 27 and not migrated: cannot happen */
        snprintf(a->fwd[0].tg_id, sizeof(a->fwd[0].tg_id), "%s", a->tg_id);
        a->fwd[a->nfwd++].weight = 1;
    }
    return 0;
}

int
elb_forwards_put(vm_ctx *ctx, bool rule, const char *id, const elb_action *a, vm_error *err)
{
    sqlite3_stmt *del = vm_ctx_stmt(ctx, rule ? "DELETE FROM elb_forwards WHERE rule_id = ?"
                                              : "DELETE FROM elb_forwards WHERE listener_id = ?", err);
    if (!del || vm_db_bind(del, err, "t", id) < 0)
        return -1;
    int drc = sqlite3_step(del);
    sqlite3_reset(del);
    if (drc != SQLITE_DONE)
        return vm_db_error(ctx->db, "replacing a forward action's target groups", err);
    for (size_t i = 0; strcmp(a->type, "forward") == 0 && i < a->nfwd; i++) {
        sqlite3_stmt *st = vm_ctx_stmt(ctx,
                                       rule ? "INSERT INTO elb_forwards (rule_id, position, tg_id, weight, "
                                              "stick_seconds) VALUES (?, ?, ?, ?, ?)"
                                            : "INSERT INTO elb_forwards (listener_id, position, tg_id, weight, "
                                              "stick_seconds) VALUES (?, ?, ?, ?, ?)",
                                       err);
        if (!st ||
            vm_db_bind(st, err, "titii", id, (long long)((sqlite3_int64)i), a->fwd[i].tg_id,
                       (long long)a->fwd[i].weight, (long long)a->stick_seconds) < 0)
            return -1;
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (rc != SQLITE_DONE)
            return vm_db_error(ctx->db, "recording a forward action's target groups", err);
    }
    return 0;
}

#define LISTENER_COLUMNS                                                                                              \
    "id, lb_id, protocol, port, action, coalesce(tg_id, ''), fixed_status, fixed_type, fixed_body, redirect, "       \
    "created_at, coalesce(certificate_id, ''), ssl_policy"

static void
listener_from_row(sqlite3_stmt *st, elb_listener *l)
{
    memset(l, 0, sizeof(*l));
    snprintf(l->id, sizeof(l->id), "%s", vm_db_text(st, 0));
    snprintf(l->lb_id, sizeof(l->lb_id), "%s", vm_db_text(st, 1));
    snprintf(l->protocol, sizeof(l->protocol), "%s", vm_db_text(st, 2));
    l->port = sqlite3_column_int64(st, 3);
    action_from_row(st, 4, &l->action);
    l->created_at = sqlite3_column_int64(st, 10);
    snprintf(l->certificate_id, sizeof(l->certificate_id), "%s", vm_db_text(st, 11));
    snprintf(l->ssl_policy, sizeof(l->ssl_policy), "%s", vm_db_text(st, 12));
}

int
elb_listener_get(vm_ctx *ctx, const char *id, elb_listener *ret, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " LISTENER_COLUMNS " FROM elb_listeners WHERE id = ?", "t", id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_LISTENER_NOT_FOUND, "One or more listeners not found");
    listener_from_row(st, ret);
    return forwards_load(ctx, false, ret->id, &ret->action, err);
}

int
elb_listeners_of(vm_ctx *ctx, const char *lb_id, elb_listener **ret, size_t *n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret = NULL;
    *n = 0;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " LISTENER_COLUMNS " FROM elb_listeners WHERE lb_id = ? ORDER BY port",
                   "t", lb_id) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        elb_listener *v = realloc(*ret, (*n + 1) * sizeof(**ret));
        if (!v)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        *ret = v;
        listener_from_row(st, &v[*n]);
        if (forwards_load(ctx, false, v[*n].id, &v[*n].action, err) < 0)
            return -1;
        (*n)++;
    }
    return 0;
}

#define RULE_COLUMNS                                                                                                  \
    "id, listener_id, priority, paths, hosts, action, coalesce(tg_id, ''), fixed_status, fixed_type, fixed_body, "  \
    "redirect"

static void
rule_from_row(sqlite3_stmt *st, elb_rule *r)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", vm_db_text(st, 0));
    snprintf(r->listener_id, sizeof(r->listener_id), "%s", vm_db_text(st, 1));
    r->priority = sqlite3_column_int64(st, 2);
    snprintf(r->paths, sizeof(r->paths), "%s", vm_db_text(st, 3));
    snprintf(r->hosts, sizeof(r->hosts), "%s", vm_db_text(st, 4));
    action_from_row(st, 5, &r->action);
}

int
elb_rule_get(vm_ctx *ctx, const char *id, elb_rule *ret, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " RULE_COLUMNS " FROM elb_rules WHERE id = ?", "t", id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_error_set(err, VM_ERR_RULE_NOT_FOUND, "One or more rules not found");
    rule_from_row(st, ret);
    return forwards_load(ctx, true, ret->id, &ret->action, err);
}

int
elb_rules_of(vm_ctx *ctx, const char *listener_id, elb_rule **ret, size_t *n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret = NULL;
    *n = 0;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " RULE_COLUMNS " FROM elb_rules WHERE listener_id = ? ORDER BY priority",
                   "t", listener_id) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        elb_rule *v = realloc(*ret, (*n + 1) * sizeof(**ret));
        if (!v)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        *ret = v;
        rule_from_row(st, &v[*n]);
        if (forwards_load(ctx, true, v[*n].id, &v[*n].action, err) < 0)
            return -1;
        (*n)++;
    }
    return 0;
}

/* --- attributes ----------------------------------------------------------------------------------- */

char *
elb_attr_get(vm_ctx *ctx, const char *owner, const char *key)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    if (vm_db_stmt(ctx->db, &st, &ignore, "SELECT value FROM elb_attributes WHERE owner = ? AND key = ?", "tt", owner,
                   key) < 0)
        return NULL;
    return sqlite3_step(st) == SQLITE_ROW ? strdup(vm_db_text(st, 0)) : NULL;
}

long
elb_attr_long(vm_ctx *ctx, const char *owner, const char *key, long def)
{
    _cleanup_free_ char *v = elb_attr_get(ctx, owner, key);
    return v ? strtol(v, NULL, 10) : def;
}

bool
elb_attr_bool(vm_ctx *ctx, const char *owner, const char *key, bool def)
{
    _cleanup_free_ char *v = elb_attr_get(ctx, owner, key);
    return v ? strcmp(v, "true") == 0 : def;
}

char *
elb_cert_users(vm_ctx *ctx, const char *id)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return NULL;
    if (vm_db_stmt(ctx->db, &st, &ignore,
                   "SELECT DISTINCT lb_id FROM elb_listeners WHERE certificate_id = ?1 OR id IN "
                   "(SELECT listener_id FROM elb_listener_certs WHERE cert_id = ?1) ORDER BY lb_id",
                   "t", id) == 0) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            elb_lb lb;
            char arn[ELB_ARN_MAX];
            if (elb_lb_get(ctx, vm_db_text(st, 0), &lb, &ignore) < 0)
                continue;
            elb_lb_arn(ctx, &lb, arn);
            fprintf(f, "%s%s", ftell(f) ? "\n" : "", arn);
        }
    }
    fclose(f);
    return out;
}
