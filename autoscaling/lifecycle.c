/* Lifecycle hooks: a launching instance waits in Pending:Wait, a terminating one in
 * Terminating:Wait, until every hook of that transition is completed (CompleteLifecycleAction, by
 * token or instance id) or its heartbeat timeout passes and its default result applies.  One
 * CONTINUE-or-ABANDON action per instance and hook, recorded when the wait begins; the deadline
 * moves with RecordLifecycleActionHeartbeat, never past the global timeout (100 heartbeats, at
 * most 48 hours).  ABANDON at launch fails the launch (the instance is terminated and replaced);
 * at termination both results terminate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "asg_priv.h"

#define GLOBAL_TIMEOUT_MAX 172800

long
asg_hook_global_timeout(long heartbeat)
{
    return heartbeat * 100 < GLOBAL_TIMEOUT_MAX ? heartbeat * 100 : GLOBAL_TIMEOUT_MAX;
}

#define HOOK_COLS "name, transition, heartbeat_timeout, default_result, metadata, target_arn, role_arn"

static void
load_hook(sqlite3_stmt *st, asg_hook *h)
{
    *h = (asg_hook){ 0 };
    snprintf(h->name, sizeof(h->name), "%s", vm_db_text(st, 0));
    snprintf(h->transition, sizeof(h->transition), "%s", vm_db_text(st, 1));
    h->heartbeat = sqlite3_column_int64(st, 2);
    snprintf(h->default_result, sizeof(h->default_result), "%s", vm_db_text(st, 3));
    snprintf(h->metadata, sizeof(h->metadata), "%s", vm_db_text(st, 4));
    snprintf(h->target_arn, sizeof(h->target_arn), "%s", vm_db_text(st, 5));
    snprintf(h->role_arn, sizeof(h->role_arn), "%s", vm_db_text(st, 6));
}

int
asg_hook_get(vm_ctx *ctx, const char *group, const char *name, asg_hook *ret, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " HOOK_COLS " FROM asg_lifecycle_hooks WHERE group_name = ? AND name = ?",
                   "tt", group, name) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return 0;
    load_hook(st, ret);
    return 1;
}

int
asg_hooks_count(vm_ctx *ctx, const char *group, const char *transition, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT count(*) FROM asg_lifecycle_hooks WHERE group_name = ?1 AND (?2 IS NULL OR transition = ?2)",
                   "tt", group, transition) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_db_error(ctx->db, "counting lifecycle hooks", err);
    return sqlite3_column_int(st, 0);
}

int
asg_hook_put(vm_ctx *ctx, const char *group, const asg_hook *h, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "INSERT OR REPLACE INTO asg_lifecycle_hooks (group_name, name, transition, heartbeat_timeout, "
                   "default_result, metadata, target_arn, role_arn) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   "tttitttt", group, h->name, h->transition, (long long)h->heartbeat, h->default_result, h->metadata,
                   h->target_arn, h->role_arn) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording a lifecycle hook", err);
    return 0;
}

int
asg_hook_delete(vm_ctx *ctx, const char *group, const char *name, vm_error *err)
{
    asg_hook h;
    int found = asg_hook_get(ctx, group, name, &h, err);
    if (found <= 0)
        return found < 0 ? -1
                         : vm_error_set(err, VM_ERR_VALIDATION, "No Lifecycle Hook found for name: %s in group %s",
                                        name, group);
    /* its waits end as AWS ends them: ABANDON a launch, CONTINUE a termination */
    _cleanup_stmt_ sqlite3_stmt *done = NULL, *del = NULL;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (vm_db_prepare(ctx->db,
                      "UPDATE asg_lifecycle_actions SET result = CASE transition WHEN ?3 THEN 'ABANDON' ELSE "
                      "'CONTINUE' END WHERE group_name = ?1 AND hook_name = ?2 AND result = ''",
                      &done, err) < 0 ||
        vm_db_prepare(ctx->db, "DELETE FROM asg_lifecycle_hooks WHERE group_name = ? AND name = ?", &del, err) < 0 ||
        vm_db_bind(done, err, "ttt", group, name, ASG_HOOK_LAUNCHING) < 0 ||
        vm_db_bind(del, err, "tt", group, name) < 0)
        goto fail;
    if (sqlite3_step(done) != SQLITE_DONE || sqlite3_step(del) != SQLITE_DONE) {
        vm_db_error(ctx->db, "deleting a lifecycle hook", err);
        goto fail;
    }
    return vm_db_commit(ctx->db, err);
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
asg_hooks_render(vm_ctx *ctx, const char *group, const char *const *names, size_t nnames, vm_node *list, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT " HOOK_COLS " FROM asg_lifecycle_hooks WHERE group_name = ? ORDER BY name", "t", group) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        asg_hook h;
        load_hook(st, &h);
        bool want = nnames == 0;
        for (size_t i = 0; i < nnames && !want; i++)
            want = strcmp(names[i], h.name) == 0;
        if (!want)
            continue;
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "LifecycleHookName", NULL, h.name);
        vm_node_str(it, "AutoScalingGroupName", NULL, group);
        vm_node_str(it, "LifecycleTransition", NULL, h.transition);
        if (h.target_arn[0])
            vm_node_str(it, "NotificationTargetARN", NULL, h.target_arn);
        if (h.role_arn[0])
            vm_node_str(it, "RoleARN", NULL, h.role_arn);
        if (h.metadata[0])
            vm_node_str(it, "NotificationMetadata", NULL, h.metadata);
        vm_node_int(it, "HeartbeatTimeout", NULL, h.heartbeat);
        vm_node_int(it, "GlobalTimeout", NULL, asg_hook_global_timeout(h.heartbeat));
        vm_node_str(it, "DefaultResult", NULL, h.default_result);
    }
    return 0;
}

/* One action per hook of the transition, the wait's start. */
static int
begin_wait(vm_ctx *ctx, const char *group, const char *instance_id, const char *transition, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL, *ins = NULL;
    if (vm_db_prepare(ctx->db, "SELECT " HOOK_COLS " FROM asg_lifecycle_hooks WHERE group_name = ? AND transition = ?",
                      &st, err) < 0 ||
        vm_db_prepare(ctx->db,
                      "INSERT OR IGNORE INTO asg_lifecycle_actions (instance_id, hook_name, group_name, token, "
                      "transition, started_at, deadline, global_deadline, default_result) VALUES (?, ?, ?, ?, ?, ?, ?, "
                      "?, ?)",
                      &ins, err) < 0 ||
        vm_db_bind(st, err, "tt", group, transition) < 0)
        return -1;
    time_t now = time(NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        asg_hook h;
        load_hook(st, &h);
        uuid_t u;
        char token[40];
        uuid_generate_random(u);
        uuid_unparse_lower(u, token);
        sqlite3_reset(ins);
        if (vm_db_bind(ins, err, "tttttiiit", instance_id, h.name, group, token, transition, (long long)now,
                       (long long)(now + h.heartbeat), (long long)(now + asg_hook_global_timeout(h.heartbeat)),
                       h.default_result) < 0 || sqlite3_step(ins) != SQLITE_DONE)
            return vm_db_error(ctx->db, "recording a lifecycle action", err);
    }
    return 0;
}

int
asg_hooks_gate(vm_ctx *ctx, const char *group, const char *instance_id, const char *transition, bool waiting,
               vm_error *err)
{
    if (!waiting) {
        int n = asg_hooks_count(ctx, group, transition, err);
        if (n <= 0)
            return n < 0 ? -1 : ASG_GATE_PROCEED;
        if (begin_wait(ctx, group, instance_id, transition, err) < 0)
            return -1;
        return ASG_GATE_WAIT;
    }
    /* timed out: the default result */
    _cleanup_stmt_ sqlite3_stmt *up = NULL, *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "UPDATE asg_lifecycle_actions SET result = default_result WHERE instance_id = ?1 AND "
                      "transition = ?2 AND result = '' AND min(deadline, global_deadline) <= ?3",
                      &up, err) < 0 ||
        vm_db_prepare(ctx->db,
                      "SELECT sum(result = ''), sum(result = 'ABANDON') FROM asg_lifecycle_actions WHERE "
                      "instance_id = ? AND transition = ?",
                      &st, err) < 0)
        return -1;
    if (vm_db_bind(up, err, "tti", instance_id, transition, (long long)(time(NULL))) < 0 ||
        sqlite3_step(up) != SQLITE_DONE || vm_db_bind(st, err, "tt", instance_id, transition) < 0)
        return vm_db_error(ctx->db, "timing out lifecycle actions", err);
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_db_error(ctx->db, "reading lifecycle actions", err);
    if (sqlite3_column_int(st, 0) > 0)
        return ASG_GATE_WAIT;
    return sqlite3_column_int(st, 1) > 0 ? ASG_GATE_ABANDON : ASG_GATE_PROCEED;
}

int
asg_hooks_clear(vm_ctx *ctx, const char *instance_id, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "DELETE FROM asg_lifecycle_actions WHERE instance_id = ?", "t", instance_id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "clearing lifecycle actions", err);
    return 0;
}

/* The open action of hook in group by token or instance id. */
static int
find_action(vm_ctx *ctx, const char *group, const char *hook, const char *token, const char *instance_id,
            char ret_instance[VM_ID_MAX], vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT instance_id FROM asg_lifecycle_actions WHERE group_name = ?1 AND hook_name = ?2 AND "
                   "result = '' AND (?3 IS NULL OR token = ?3) AND (?4 IS NULL OR instance_id = ?4)",
                   "tttt", group, hook, token, instance_id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return token ? vm_error_set(err, VM_ERR_VALIDATION, "No active Lifecycle Action found with token %s", token)
                     : vm_error_set(err, VM_ERR_VALIDATION, "No active Lifecycle Action found with instance ID %s",
                                    instance_id);
    snprintf(ret_instance, VM_ID_MAX, "%s", vm_db_text(st, 0));
    return 0;
}

int
asg_hook_complete(vm_ctx *ctx, const char *group, const char *hook, const char *token, const char *instance_id,
                  const char *result, vm_error *err)
{
    char inst[VM_ID_MAX];
    if (find_action(ctx, group, hook, token, instance_id, inst, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "UPDATE asg_lifecycle_actions SET result = ? WHERE group_name = ? AND hook_name = ? AND "
                   "instance_id = ? AND result = ''",
                   "tttt", result, group, hook, inst) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "completing a lifecycle action", err);
    return 0;
}

int
asg_hook_heartbeat(vm_ctx *ctx, const char *group, const char *hook, const char *token, const char *instance_id,
                   vm_error *err)
{
    char inst[VM_ID_MAX];
    asg_hook h;
    if (find_action(ctx, group, hook, token, instance_id, inst, err) < 0)
        return -1;
    int found = asg_hook_get(ctx, group, hook, &h, err);
    if (found <= 0)
        return found < 0 ? -1 : vm_error_set(err, VM_ERR_VALIDATION, "No Lifecycle Hook found for name: %s", hook);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "UPDATE asg_lifecycle_actions SET deadline = min(?1, global_deadline) WHERE group_name = ?2 AND "
                   "hook_name = ?3 AND instance_id = ?4 AND result = ''",
                   "ittt", (long long)(time(NULL) + h.heartbeat), group, hook, inst) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording a lifecycle heartbeat", err);
    return 0;
}
