/* Instance refresh (Rolling): every InService member the refresh found when it started (those on
 * the group's template version already are skipped with SkipMatching; protected and Standby ones
 * are left, as AWS's defaults leave them) is replaced in batches.  A batch starts only when the group
 * is at capacity with no activity in progress and InstanceWarmup has passed since the last one;
 * its size keeps ceil(desired × MinHealthyPercentage / 100) members InService (at 100 %, one at a
 * time, as AWS does).  A batch is terminations; the group's own convergence launches the
 * replacements from the group's (new) template.  All of it is rows of the store, so a kill -9 of
 * `vmmgr serve` resumes the refresh where it was. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "../vmmgr/services/ec2/template_store.h"
#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "asg_priv.h"

#define ACTIVE "status IN ('Pending', 'InProgress', 'Cancelling')"

static void
load_refresh(sqlite3_stmt *st, asg_refresh *r)
{
    *r = (asg_refresh){ 0 };
    snprintf(r->id, sizeof(r->id), "%s", vm_db_text(st, 0));
    snprintf(r->group, sizeof(r->group), "%s", vm_db_text(st, 1));
    snprintf(r->status, sizeof(r->status), "%s", vm_db_text(st, 2));
    snprintf(r->reason, sizeof(r->reason), "%s", vm_db_text(st, 3));
    r->start_time = sqlite3_column_int64(st, 4);
    r->end_time = sqlite3_column_int64(st, 5);
    r->min_healthy = sqlite3_column_int64(st, 6);
    r->warmup = sqlite3_column_int64(st, 7);
    r->skip_matching = sqlite3_column_int(st, 8);
    r->to_update = sqlite3_column_int64(st, 9);
    snprintf(r->template_id, sizeof(r->template_id), "%s", vm_db_text(st, 10));
    snprintf(r->template_version, sizeof(r->template_version), "%s", vm_db_text(st, 11));
    r->batch_done_at = sqlite3_column_int64(st, 12);
    r->remaining = sqlite3_column_int64(st, 13);
}

#define REFRESH_COLS                                                                                                  \
    "r.id, r.group_name, r.status, r.status_reason, r.start_time, r.end_time, r.min_healthy, r.warmup, "             \
    "r.skip_matching, r.to_update, r.template_id, r.template_version, r.batch_done_at, (SELECT count(*) FROM "      \
    "asg_refresh_instances ri JOIN asg_instances m ON m.instance_id = ri.instance_id WHERE ri.refresh_id = r.id)"

/* The group's active refresh: 1, 0 none, -1. */
static int
active_refresh(vm_ctx *ctx, const char *group, asg_refresh *ret, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " REFRESH_COLS " FROM asg_refreshes r WHERE r.group_name = ? AND " ACTIVE,
                   "t", group) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return 0;
    load_refresh(st, ret);
    return 1;
}

static int
set_status(vm_ctx *ctx, const char *id, const char *status, const char *reason, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "UPDATE asg_refreshes SET status = ?2, status_reason = coalesce(?3, status_reason), end_time = "
                   "CASE WHEN ?2 IN ('Successful', 'Failed', 'Cancelled') THEN strftime('%s','now') ELSE end_time "
                   "END WHERE id = ?1",
                   "ttt", id, status, reason) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "updating an instance refresh", err);
    return 0;
}

int
asg_refresh_start(vm_ctx *ctx, const asg_group *g, asg_refresh *r, vm_error *err)
{
    asg_refresh cur;
    int busy = active_refresh(ctx, g->name, &cur, err);
    if (busy < 0)
        return -1;
    if (busy)
        return vm_error_set(err, VM_ERR_REFRESH_IN_PROGRESS,
                            "An Instance Refresh is already in progress and blocks the execution of this Instance "
                            "Refresh.");
    if (g->deleting)
        return vm_error_set(err, VM_ERR_SCALING_IN_PROGRESS, "The group %s is being deleted", g->name);
    /* the version members are compared with (SkipMatching): the group's template as it will be */
    const char *tid = r->template_id[0] ? r->template_id : g->template_id;
    const char *tver = r->template_id[0] ? r->template_version : g->template_version;
    lt_obj lt;
    long version = -1;
    if (lt_find(ctx, tid, NULL, &lt, err) < 0 || lt_version_resolve(ctx, &lt, tver, &version, err) < 0)
        return -1;
    bool same_template = strcmp(tid, g->template_id) == 0;
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, r->id);
    snprintf(r->group, sizeof(r->group), "%s", g->name);
    snprintf(r->status, sizeof(r->status), "Pending");
    r->start_time = time(NULL);
    _cleanup_free_ asg_member *ms = NULL;
    size_t n;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *ins = NULL, *one = NULL, *cnt = NULL, *upd = NULL;
    if (asg_members(ctx, g->name, &ms, &n, err) < 0 ||
        vm_db_prepare(ctx->db,
                      "INSERT INTO asg_refreshes (id, seq, group_name, status, start_time, min_healthy, warmup, "
                      "skip_matching, template_id, template_version, batch_done_at) VALUES (?1, (SELECT "
                      "coalesce(max(seq), 0) + 1 FROM asg_refreshes), ?2, 'Pending', ?3, ?4, ?5, ?6, ?7, ?8, 0)",
                      &ins, err) < 0 ||
        vm_db_prepare(ctx->db, "INSERT INTO asg_refresh_instances (refresh_id, instance_id) VALUES (?, ?)", &one, err) <
            0 ||
        vm_db_prepare(ctx->db, "UPDATE asg_refreshes SET to_update = ? WHERE id = ?", &cnt, err) < 0 ||
        vm_db_prepare(ctx->db, "UPDATE asg_groups SET template_id = ?, template_version = ? WHERE name = ?", &upd,
                      err) < 0)
        goto fail;
    if (vm_db_bind(ins, err, "ttiiiitt", r->id, g->name, (long long)r->start_time, (long long)r->min_healthy,
                   (long long)r->warmup, (long long)r->skip_matching, r->template_id, r->template_version) < 0 ||
        sqlite3_step(ins) != SQLITE_DONE) {
        vm_db_error(ctx->db, "recording an instance refresh", err);
        goto fail;
    }
    r->to_update = 0;
    for (size_t i = 0; i < n; i++) {
        const asg_member *m = &ms[i];
        if (strcmp(m->lifecycle, "InService") != 0 && strncmp(m->lifecycle, "Pending", 7) != 0)
            continue; /* Standby, the warm pool, terminating: not this refresh's */
        if (m->protected_ || (r->skip_matching && same_template && m->template_version == version))
            continue;
        sqlite3_reset(one);
        if (vm_db_bind(one, err, "tt", r->id, m->instance_id) < 0 || sqlite3_step(one) != SQLITE_DONE) {
            vm_db_error(ctx->db, "recording an instance refresh", err);
            goto fail;
        }
        r->to_update++;
    }
    if (vm_db_bind(cnt, err, "it", (long long)r->to_update, r->id) < 0 || sqlite3_step(cnt) != SQLITE_DONE) {
        vm_db_error(ctx->db, "recording an instance refresh", err);
        goto fail;
    }
    if (r->template_id[0]) {
        if (vm_db_bind(upd, err, "ttt", r->template_id, r->template_version, g->name) < 0 ||
            sqlite3_step(upd) != SQLITE_DONE) {
            vm_db_error(ctx->db, "updating the group's launch template", err);
            goto fail;
        }
    }
    return vm_db_commit(ctx->db, err);
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
asg_refresh_cancel(vm_ctx *ctx, const char *group, char ret_id[40], vm_error *err)
{
    asg_refresh r;
    int found = active_refresh(ctx, group, &r, err);
    if (found < 0)
        return -1;
    if (!found || strcmp(r.status, "Cancelling") == 0)
        return vm_error_set(err, VM_ERR_NO_ACTIVE_REFRESH,
                            "No in progress or pending Instance Refresh found for Auto Scaling group %s", group);
    snprintf(ret_id, 40, "%s", r.id);
    return set_status(ctx, r.id, "Cancelling", "Cancellation requested by the user.", err);
}

/* Whether the refresh still has instance id to replace. */
static bool
to_replace(vm_ctx *ctx, const char *refresh, const char *id)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    if (vm_db_stmt(ctx->db, &st, &ignore,
                   "SELECT 1 FROM asg_refresh_instances WHERE refresh_id = ? AND instance_id = ?", "tt", refresh,
                   id) < 0)
        return false;
    return sqlite3_step(st) == SQLITE_ROW;
}

static int
set_batch_done(vm_ctx *ctx, const char *id, time_t t, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "UPDATE asg_refreshes SET batch_done_at = ? WHERE id = ?", "it", (long long)t,
                   id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "updating an instance refresh", err);
    return 0;
}

int
asg_refresh_round(vm_ctx *ctx, const asg_group *g, asg_member *ms, size_t n, vm_error *err)
{
    asg_refresh r;
    int found = active_refresh(ctx, g->name, &r, err);
    if (found <= 0)
        return found;
    if (strcmp(r.status, "Cancelling") == 0)
        return set_status(ctx, r.id, "Cancelled", NULL, err);
    if (strcmp(r.status, "Pending") == 0) {
        if (set_status(ctx, r.id, "InProgress", "", err) < 0)
            return -1;
        snprintf(r.status, sizeof(r.status), "InProgress");
    }
    /* between batches: nothing in progress, the group at capacity */
    int busy = asg_busy(ctx, g->name, err);
    if (busy < 0)
        return -1;
    long in_service = 0;
    for (size_t i = 0; i < n; i++)
        in_service += strcmp(ms[i].lifecycle, "InService") == 0 && strcmp(ms[i].health, "Healthy") == 0;
    if (busy || in_service < g->desired)
        return 0;
    time_t now = time(NULL);
    if (r.batch_done_at < 0) { /* the last batch's replacements are all in service now */
        if (set_batch_done(ctx, r.id, now, err) < 0)
            return -1;
        r.batch_done_at = now;
    }
    if (r.remaining == 0)
        return set_status(ctx, r.id, "Successful", "", err);
    if (now < r.batch_done_at + r.warmup)
        return 0;
    long min_count = (long)ceil((double)g->desired * (double)r.min_healthy / 100.0);
    long k = in_service - min_count;
    if (k < 1 && r.min_healthy == 100)
        k = 1;
    if (k < 1)
        return 0;
    char t[32], cause[512];
    vm_time_format(now, t, sizeof(t));
    long started = 0;
    for (size_t i = 0; i < n && started < k; i++) {
        asg_member *m = &ms[i];
        if (strcmp(m->lifecycle, "InService") != 0 || !to_replace(ctx, r.id, m->instance_id))
            continue;
        snprintf(cause, sizeof(cause),
                 "At %s an instance was taken out of service in response to an instance refresh.  At %s instance %s "
                 "was selected for termination.",
                 t, t, m->instance_id);
        if (asg_start_terminate(ctx, g->name, m, cause, NULL, -1, err) < 0)
            return -1;
        snprintf(m->lifecycle, sizeof(m->lifecycle), "Terminating");
        started++;
    }
    return started ? set_batch_done(ctx, r.id, -1, err) : 0;
}

int
asg_refreshes_render(vm_ctx *ctx, const char *group, const char *const *ids, size_t nids, long offset, long max,
                     vm_node *list, bool *ret_more, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT " REFRESH_COLS " FROM asg_refreshes r WHERE r.group_name = ? ORDER BY r.seq DESC", "t",
                   group) < 0)
        return -1;
    long seen = 0, shown = 0;
    *ret_more = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        asg_refresh r;
        load_refresh(st, &r);
        bool want = nids == 0;
        for (size_t i = 0; i < nids && !want; i++)
            want = strcmp(ids[i], r.id) == 0;
        if (!want || seen++ < offset)
            continue;
        if (shown == max) {
            *ret_more = true;
            break;
        }
        shown++;
        bool done = strcmp(r.status, "Successful") == 0;
        long pct = done || r.to_update == 0 ? 100 : (r.to_update - r.remaining) * 100 / r.to_update;
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "InstanceRefreshId", NULL, r.id);
        vm_node_str(it, "AutoScalingGroupName", NULL, r.group);
        vm_node_str(it, "Status", NULL, r.status);
        if (r.reason[0])
            vm_node_str(it, "StatusReason", NULL, r.reason);
        vm_node_time(it, "StartTime", NULL, r.start_time);
        if (r.end_time)
            vm_node_time(it, "EndTime", NULL, r.end_time);
        vm_node_int(it, "PercentageComplete", NULL, pct);
        vm_node_int(it, "InstancesToUpdate", NULL, done ? 0 : r.remaining);
        vm_node *pd = vm_node_struct(it, "ProgressDetails", NULL), *lp = vm_node_struct(pd, "LivePoolProgress", NULL);
        vm_node_int(lp, "PercentageComplete", NULL, pct);
        vm_node_int(lp, "InstancesToUpdate", NULL, done ? 0 : r.remaining);
        vm_node *pr = vm_node_struct(it, "Preferences", NULL);
        vm_node_int(pr, "MinHealthyPercentage", NULL, r.min_healthy);
        vm_node_int(pr, "InstanceWarmup", NULL, r.warmup);
        vm_node_bool(pr, "SkipMatching", NULL, r.skip_matching);
        if (r.template_id[0]) {
            vm_node *lt = vm_node_struct(vm_node_struct(it, "DesiredConfiguration", NULL), "LaunchTemplate", NULL);
            vm_node_str(lt, "LaunchTemplateId", NULL, r.template_id);
            vm_node_str(lt, "Version", NULL, r.template_version);
        }
    }
    return 0;
}
