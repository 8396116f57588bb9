/* Auto Scaling's side of load balancing: a group's target groups, its InService members registered
 * in them, members that leave InService deregistered (draining for the target group's delay), a
 * termination that waits until its instance has drained, and the ELB health check: a member its
 * target group finds unhealthy, after the grace period, is Unhealthy and replaced. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../elb/elb.h"
#include "../net/net.h"
#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "asg_priv.h"

int
asg_tgs_of(vm_ctx *ctx, const char *group, char (**ret)[ELB_ID_LEN + 1], size_t *n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret = NULL;
    *n = 0;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT tg_id FROM asg_target_groups WHERE group_name = ? ORDER BY rowid", "t",
                   group) < 0)
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

/* Targets the group registered in tg_id start draining (all of them, or only instance_id's). */
static int
drain(vm_ctx *ctx, const char *group, const char *tg_id, const char *instance_id, vm_error *err)
{
    long delay = elb_attr_long(ctx, tg_id, "deregistration_delay.timeout_seconds", 300);
    _cleanup_free_ char(*lbs)[ELB_ID_LEN + 1] = NULL;
    size_t nl;
    if (elb_lbs_of_tg(ctx, tg_id, &lbs, &nl, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "UPDATE elb_targets SET drain_until = ?1 WHERE tg_id = ?2 AND asg = ?3 AND drain_until = 0 "
                   "AND (?4 IS NULL OR target = ?4)",
                   "ittt", (long long)(nl && delay > 0 ? time(NULL) + delay : 1), tg_id, group, instance_id) < 0)
        return -1;
    return sqlite3_step(st) == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "deregistering targets", err);
}

int
asg_tgs_set(vm_ctx *ctx, const char *group, const char (*ids)[ELB_ID_LEN + 1], size_t n, bool replace, vm_error *err)
{
    _cleanup_free_ char(*old)[ELB_ID_LEN + 1] = NULL;
    size_t no;
    if (asg_tgs_of(ctx, group, &old, &no, err) < 0 || vm_db_begin(ctx->db, err) < 0)
        return -1;
    int rc = 0;
    /* replace: the ones no longer named let the group's targets drain */
    for (size_t i = 0; replace && rc == 0 && i < no; i++) {
        bool keep = false;
        for (size_t j = 0; j < n; j++)
            keep |= strcmp(old[i], ids[j]) == 0;
        if (keep)
            continue;
        _cleanup_stmt_ sqlite3_stmt *d = NULL;
        rc = drain(ctx, group, old[i], NULL, err);
        if (rc == 0)
            rc = vm_db_prepare(ctx->db, "DELETE FROM asg_target_groups WHERE group_name = ? AND tg_id = ?", &d, err);
        if (rc == 0) {
            if (vm_db_bind(d, err, "tt", group, old[i]) < 0 || sqlite3_step(d) != SQLITE_DONE)
                rc = vm_db_error(ctx->db, "detaching target groups", err);
        }
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        _cleanup_stmt_ sqlite3_stmt *ins = NULL;
        rc = vm_db_prepare(ctx->db, "INSERT OR IGNORE INTO asg_target_groups (group_name, tg_id) VALUES (?, ?)", &ins,
                           err);
        if (rc == 0) {
            if (vm_db_bind(ins, err, "tt", group, ids[i]) < 0 || sqlite3_step(ins) != SQLITE_DONE)
                rc = vm_db_error(ctx->db, "attaching target groups", err);
        }
    }
    if (rc < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return vm_db_commit(ctx->db, err);
}

int
asg_tgs_detach(vm_ctx *ctx, const char *group, const char (*ids)[ELB_ID_LEN + 1], size_t n, vm_error *err)
{
    _cleanup_free_ char(*old)[ELB_ID_LEN + 1] = NULL;
    size_t no;
    if (asg_tgs_of(ctx, group, &old, &no, err) < 0)
        return -1;
    /* the ones that stay */
    _cleanup_free_ char(*keep)[ELB_ID_LEN + 1] = calloc(no + 1, sizeof(*keep));
    size_t nk = 0;
    if (!keep)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < no; i++) {
        bool gone = false;
        for (size_t j = 0; j < n; j++)
            gone |= strcmp(old[i], ids[j]) == 0;
        if (!gone)
            snprintf(keep[nk++], ELB_ID_LEN + 1, "%s", old[i]);
    }
    return asg_tgs_set(ctx, group, (const char(*)[ELB_ID_LEN + 1])keep, nk, true, err);
}

static bool
in_service(const asg_member *m)
{
    return strcmp(m->lifecycle, "InService") == 0;
}

int
asg_elb_round(vm_ctx *ctx, const asg_group *g, asg_member *ms, size_t n, vm_error *err)
{
    _cleanup_free_ char(*tgs)[ELB_ID_LEN + 1] = NULL;
    size_t nt;
    if (asg_tgs_of(ctx, g->name, &tgs, &nt, err) < 0)
        return -1;
    for (size_t t = 0; t < nt; t++) {
        elb_tg tg;
        _cleanup_free_ elb_target *reg = NULL;
        size_t nr;
        vm_error nf = { 0 };
        if (elb_tg_get(ctx, tgs[t], &tg, &nf) < 0 || elb_targets_of(ctx, tg.id, &reg, &nr, err) < 0)
            continue;
        /* InService members are registered (on the group's port) */
        for (size_t i = 0; i < n; i++) {
            if (!in_service(&ms[i]) || g->deleting)
                continue;
            const elb_target *r = NULL;
            for (size_t j = 0; j < nr && !r; j++)
                if (strcmp(reg[j].target, ms[i].instance_id) == 0 && reg[j].port == tg.port)
                    r = &reg[j];
            if (r) {
                /* the ELB health check: unhealthy after the grace period means replaced */
                if (strcmp(g->health_check_type, "ELB") == 0 && !asg_suspended(ctx, g->name, "HealthCheck") &&
                    strcmp(ms[i].health, "Healthy") == 0 && time(NULL) - ms[i].added_at >= g->grace_period &&
                    !r->drain_until) {
                    char state[16], reason[48], desc[160];
                    elb_target_health(ctx, &tg, r, state, reason, desc);
                    if (strcmp(state, "unhealthy") == 0) {
                        fprintf(stderr, "vmmgr serve: autoscaling: %s unhealthy in target group %s (%s: %s)\n",
                                ms[i].instance_id, tg.name, reason, desc);
                        if (asg_member_set(ctx, ms[i].instance_id, NULL, "Unhealthy", err) < 0)
                            return -1;
                        snprintf(ms[i].health, sizeof(ms[i].health), "Unhealthy");
                    }
                }
                continue;
            }
            char ip[NET_ADDR_MAX];
            if (net_instance_ip(ctx, ms[i].instance_id, ip, err) < 0)
                return -1;
            if (!ip[0])
                continue;
            _cleanup_stmt_ sqlite3_stmt *ins = NULL;
            if (vm_db_stmt(ctx->db, &ins, err,
                           "INSERT INTO elb_targets (tg_id, target, port, ip, created_at, asg) VALUES (?, ?, ?, ?, ?, ?) "
                           "ON CONFLICT (tg_id, target, port) DO UPDATE SET drain_until = 0, asg = excluded.asg",
                           "ttitit", tg.id, ms[i].instance_id, (long long)tg.port, ip, (long long)(time(NULL)),
                           g->name) < 0)
                return -1;
            if (sqlite3_step(ins) != SQLITE_DONE)
                return vm_db_error(ctx->db, "registering the group's instances", err);
        }
        /* the group's targets whose instance is no longer InService in it drain */
        for (size_t j = 0; j < nr; j++) {
            bool keep = false;
            for (size_t i = 0; i < n && !keep; i++)
                keep = in_service(&ms[i]) && strcmp(ms[i].instance_id, reg[j].target) == 0;
            if (keep || reg[j].drain_until)
                continue;
            if (drain(ctx, g->name, tg.id, reg[j].target, err) < 0)
                return -1;
        }
    }
    return 0;
}

int
asg_elb_drained(vm_ctx *ctx, const asg_group *g, const char *instance_id, vm_error *err)
{
    _cleanup_free_ char(*tgs)[ELB_ID_LEN + 1] = NULL;
    size_t nt;
    if (asg_tgs_of(ctx, g->name, &tgs, &nt, err) < 0)
        return -1;
    int drained = 1;
    for (size_t t = 0; t < nt; t++) {
        if (drain(ctx, g->name, tgs[t], instance_id, err) < 0)
            return -1;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (vm_db_stmt(ctx->db, &st, err, "SELECT count(*) FROM elb_targets WHERE tg_id = ? AND target = ? AND asg = ?",
                       "ttt", tgs[t], instance_id, g->name) < 0)
            return -1;
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0) {
            /* a group being deleted does not wait for the drain */
            if (g->deleting) {
                _cleanup_stmt_ sqlite3_stmt *d = NULL;
                if (vm_db_stmt(ctx->db, &d, err, "DELETE FROM elb_targets WHERE tg_id = ? AND target = ? AND asg = ?",
                               "ttt", tgs[t], instance_id, g->name) < 0)
                    return -1;
                sqlite3_step(d);
            } else {
                drained = 0;
            }
        }
    }
    return drained;
}

int
asg_tgs_render(vm_ctx *ctx, vm_node *list, const char *group, vm_error *err)
{
    _cleanup_free_ char(*tgs)[ELB_ID_LEN + 1] = NULL;
    size_t nt;
    if (asg_tgs_of(ctx, group, &tgs, &nt, err) < 0)
        return -1;
    for (size_t i = 0; i < nt; i++) {
        elb_tg tg;
        vm_error ignore = { 0 };
        char arn[ELB_ARN_MAX];
        if (elb_tg_get(ctx, tgs[i], &tg, &ignore) < 0)
            continue;
        elb_tg_arn(ctx, &tg, arn);
        vm_node_str(list, NULL, NULL, arn);
    }
    return 0;
}

int
asg_elb_forget(vm_ctx *ctx, const char *group, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "DELETE FROM elb_targets WHERE asg = ?", "t", group) < 0)
        return -1;
    return sqlite3_step(st) == SQLITE_DONE ? 0 : vm_db_error(ctx->db, "deregistering the group's targets", err);
}
