/* Auto Scaling's store: groups, members, activities and tags (schema 17). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../net/net.h"
#include "asg_priv.h"

static void
join_subnets(const asg_group *g, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < g->nsubnets; i++) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "%s%s", i ? "," : "", g->subnets[i]);
    }
}

void
asg_split_subnets(const char *text, asg_group *g)
{
    g->nsubnets = 0;
    const char *s = text;
    while (*s && g->nsubnets < ASG_MAX_SUBNETS) {
        s += strspn(s, ", ");
        size_t n = strcspn(s, ",");
        while (n && s[n - 1] == ' ')
            n--;
        if (n && n < VM_ID_MAX)
            snprintf(g->subnets[g->nsubnets++], VM_ID_MAX, "%.*s", (int)n, s);
        s += strcspn(s, ",");
    }
}

void
asg_new_activity_id(char buf[64])
{
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, buf);
}

#define GROUP_COLS                                                                                                     \
    "name, arn, template_id, template_version, min_size, max_size, desired, "                                          \
    "default_cooldown, health_check_type, grace_period, subnets, termination_policies, "                               \
    "protect_new, deleting, created_at"

static void
load_group(sqlite3_stmt *st, asg_group *g)
{
    *g = (asg_group){ 0 };
    snprintf(g->name, sizeof(g->name), "%s", vm_db_text(st, 0));
    snprintf(g->arn, sizeof(g->arn), "%s", vm_db_text(st, 1));
    snprintf(g->template_id, sizeof(g->template_id), "%s", vm_db_text(st, 2));
    snprintf(g->template_version, sizeof(g->template_version), "%s", vm_db_text(st, 3));
    g->min_size = sqlite3_column_int64(st, 4);
    g->max_size = sqlite3_column_int64(st, 5);
    g->desired = sqlite3_column_int64(st, 6);
    g->default_cooldown = sqlite3_column_int64(st, 7);
    snprintf(g->health_check_type, sizeof(g->health_check_type), "%s", vm_db_text(st, 8));
    g->grace_period = sqlite3_column_int64(st, 9);
    asg_split_subnets(vm_db_text(st, 10), g);
    snprintf(g->termination_policies, sizeof(g->termination_policies), "%s", vm_db_text(st, 11));
    g->protect_new = sqlite3_column_int(st, 12);
    g->deleting = sqlite3_column_int(st, 13);
    g->created_at = sqlite3_column_int64(st, 14);
}

int
asg_get(vm_ctx *ctx, const char *name, asg_group *ret, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT " GROUP_COLS " FROM asg_groups WHERE name = ?", "t", name) < 0)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        load_group(st, ret);
        return 0;
    }
    if (rc != SQLITE_DONE)
        return vm_db_error(ctx->db, "reading an Auto Scaling group", err);
    return vm_error_set(err, VM_ERR_VALIDATION, "AutoScalingGroup name not found - AutoScalingGroup '%s' not found",
                        name);
}

int
asg_names(vm_ctx *ctx, char ***ret, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "SELECT name FROM asg_groups ORDER BY name", &st, err) < 0)
        return -1;
    size_t n = 0, cap = 8;
    char **v = calloc(cap, sizeof(char *));
    int rc;
    while (v && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n + 2 > cap) {
            char **nv = realloc(v, 2 * cap * sizeof(char *));
            if (!nv)
                break;
            v = nv;
            cap *= 2;
        }
        v[n++] = strdup(vm_db_text(st, 0));
        v[n] = NULL;
    }
    if (!v)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    *ret = v;
    return 0;
}

/* ?1..?15 of an insert; an update has no ?15 (the creation time) */
static int
bind_group(sqlite3_stmt *st, const asg_group *g, bool insert, vm_error *err)
{
    char subnets[ASG_MAX_SUBNETS * VM_ID_MAX];
    join_subnets(g, subnets, sizeof(subnets));
    return vm_db_bind(st, err, insert ? "ttttiiiitittii" "i" : "ttttiiiitittii", g->name, g->arn, g->template_id,
                      g->template_version, (long long)g->min_size, (long long)g->max_size, (long long)g->desired,
                      (long long)g->default_cooldown, g->health_check_type, (long long)g->grace_period, subnets,
                      g->termination_policies, (long long)g->protect_new, (long long)g->deleting,
                      (long long)g->created_at);
}

int
asg_create(vm_ctx *ctx, const asg_group *g, const asg_tag *tags, size_t ntags, const asg_hook *hooks, size_t nhooks,
           vm_error *err)
{
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "INSERT INTO asg_groups (" GROUP_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      &st, err) < 0 ||
        bind_group(st, g, true, err) < 0)
        goto fail;
    if (sqlite3_step(st) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(ctx->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
            vm_error_set(err, VM_ERR_ALREADY_EXISTS, "AutoScalingGroup by this name already exists - A group with the "
                         "name %s already exists", g->name);
        else
            vm_db_error(ctx->db, "recording an Auto Scaling group", err);
        goto fail;
    }
    char t[32], cause[512];
    vm_time_format(time(NULL), t, sizeof(t));
    snprintf(cause, sizeof(cause),
             "At %s a user request created an AutoScalingGroup changing the desired capacity from 0 to %ld.", t,
             g->desired);
    for (size_t i = 0; i < nhooks; i++)
        if (asg_hook_put(ctx, g->name, &hooks[i], err) < 0)
            goto fail;
    if (asg_tags_put(ctx, g->name, tags, ntags, err) < 0 || asg_note_cause(ctx, g->name, cause, err) < 0 ||
        vm_db_commit(ctx->db, err) < 0)
        goto fail;
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
asg_update_locked(vm_ctx *ctx, const asg_group *g, const char *cause, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db,
                      "UPDATE asg_groups SET name = ?1, arn = ?2, template_id = ?3, template_version = ?4, "
                      "min_size = ?5, max_size = ?6, desired = ?7, default_cooldown = ?8, health_check_type = ?9, "
                      "grace_period = ?10, subnets = ?11, termination_policies = ?12, protect_new = ?13, "
                      "deleting = ?14 WHERE name = ?1",
                      &st, err) < 0 ||
        bind_group(st, g, false, err) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "updating an Auto Scaling group", err);
    return cause ? asg_note_cause(ctx, g->name, cause, err) : 0;
}

int
asg_update(vm_ctx *ctx, const asg_group *g, const char *cause, vm_error *err)
{
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (asg_update_locked(ctx, g, cause, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return 0;
}

/* Why the capacity changed, for the cause of the activities it leads to ("%s" for the time). */
int
asg_note_cause(vm_ctx *ctx, const char *group, const char *cause, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "UPDATE asg_groups SET last_cause = ?2 WHERE name = ?1", "tt", group, cause) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording a capacity change", err);
    return 0;
}

int
asg_last_cause(vm_ctx *ctx, const char *group, char *buf, size_t len)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    buf[0] = '\0';
    if (vm_db_stmt(ctx->db, &st, &ignore, "SELECT last_cause FROM asg_groups WHERE name = ?", "t", group) < 0)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(buf, len, "%s", vm_db_text(st, 0));
    return 0;
}

int
asg_set_desired_locked(vm_ctx *ctx, const char *name, long desired, const char *cause, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "UPDATE asg_groups SET desired = ? WHERE name = ?", "it", (long long)desired,
                   name) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "setting a desired capacity", err);
    return cause ? asg_note_cause(ctx, name, cause, err) : 0;
}

int
asg_set_desired(vm_ctx *ctx, const char *name, long desired, const char *cause, vm_error *err)
{
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (asg_set_desired_locked(ctx, name, desired, cause, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return 0;
}

int
asg_mark_deleting(vm_ctx *ctx, const char *name, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "UPDATE asg_groups SET deleting = 1, desired = 0, min_size = 0 WHERE name = ?",
                   "t", name) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "deleting an Auto Scaling group", err);
    return 0;
}

int
asg_delete_now(vm_ctx *ctx, const char *name, vm_error *err)
{
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    /* its targets in load balancers go with it (its instances are gone) */
    if (asg_elb_forget(ctx, name, err) < 0 ||
        vm_db_stmt(ctx->db, &st, err, "DELETE FROM asg_groups WHERE name = ?", "t", name) < 0)
        goto fail;
    if (sqlite3_step(st) != SQLITE_DONE) {
        vm_db_error(ctx->db, "deleting an Auto Scaling group", err);
        goto fail;
    }
    if (vm_db_commit(ctx->db, err) < 0)
        goto fail;
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

int
asg_busy(vm_ctx *ctx, const char *name, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT 1 FROM asg_activities WHERE group_name = ? AND status = 'InProgress'",
                   "t", name) < 0)
        return -1;
    return sqlite3_step(st) == SQLITE_ROW;
}

/* --- members ------------------------------------------------------------------------------------ */

#define MEMBER_COLS "instance_id, lifecycle, health, subnet_id, template_version, protected, added_at"

static void
load_member(sqlite3_stmt *st, int col, asg_member *m)
{
    *m = (asg_member){ 0 };
    snprintf(m->instance_id, sizeof(m->instance_id), "%s", vm_db_text(st, col));
    snprintf(m->lifecycle, sizeof(m->lifecycle), "%s", vm_db_text(st, col + 1));
    snprintf(m->health, sizeof(m->health), "%s", vm_db_text(st, col + 2));
    snprintf(m->subnet_id, sizeof(m->subnet_id), "%s", vm_db_text(st, col + 3));
    m->template_version = sqlite3_column_int64(st, col + 4);
    m->protected_ = sqlite3_column_int(st, col + 5);
    m->added_at = sqlite3_column_int64(st, col + 6);
}

int
asg_members(vm_ctx *ctx, const char *name, asg_member **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT " MEMBER_COLS " FROM asg_instances WHERE group_name = ? ORDER BY added_at, instance_id", "t",
                   name) < 0)
        return -1;
    size_t n = 0, cap = 8;
    _cleanup_free_ asg_member *v = calloc(cap, sizeof(*v));
    int rc;
    while (v && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            asg_member *nv = realloc(v, 2 * cap * sizeof(*v));
            if (!nv)
                return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
            v = nv;
            cap *= 2;
        }
        load_member(st, 0, &v[n++]);
    }
    if (!v)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    *ret = TAKE_PTR(v);
    *ret_n = n;
    return 0;
}

int
asg_member_of(vm_ctx *ctx, const char *instance_id, char group[ASG_NAME_MAX + 1], asg_member *ret, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT group_name, " MEMBER_COLS " FROM asg_instances WHERE instance_id = ?",
                   "t", instance_id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return 0;
    snprintf(group, ASG_NAME_MAX + 1, "%s", vm_db_text(st, 0));
    load_member(st, 1, ret);
    return 1;
}

int
asg_member_add(vm_ctx *ctx, const char *group, const asg_member *m, const char *activity, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "INSERT OR IGNORE INTO asg_instances (instance_id, group_name, lifecycle, health, subnet_id, "
                   "template_version, protected, activity_id, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   "tttttiiti", m->instance_id, group, m->lifecycle, m->health, m->subnet_id,
                   (long long)m->template_version, (long long)m->protected_, activity, (long long)m->added_at) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording a group's instance", err);
    return 0;
}

int
asg_member_set(vm_ctx *ctx, const char *instance_id, const char *lifecycle, const char *health, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "UPDATE asg_instances SET lifecycle = coalesce(?, lifecycle), health = coalesce(?, health) "
                   "WHERE instance_id = ?",
                   "ttt", lifecycle, health, instance_id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "updating a group's instance", err);
    return 0;
}

int
asg_member_remove(vm_ctx *ctx, const char *instance_id, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "DELETE FROM asg_instances WHERE instance_id = ?", "t", instance_id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "removing a group's instance", err);
    return 0;
}

/* --- activities --------------------------------------------------------------------------------- */

int
asg_activity_add(vm_ctx *ctx, const asg_activity *a, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "INSERT INTO asg_activities (id, seq, group_name, kind, subnet_id, instance_id, description, "
                   "cause, start_time, status, progress) VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM "
                   "asg_activities), ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'InProgress', 0)",
                   "ttttttti", a->id, a->group, a->kind, a->subnet_id, a->instance_id, a->description, a->cause,
                   (long long)(time(NULL))) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "recording a scaling activity", err);
    return 0;
}

int
asg_activity_set(vm_ctx *ctx, const char *id, const char *instance_id, const char *description, const char *status,
                 const char *message, int progress, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "UPDATE asg_activities SET instance_id = coalesce(?2, instance_id), description = "
                   "coalesce(?3, description), status = coalesce(?4, status), status_message = coalesce(?5, "
                   "status_message), progress = ?6, end_time = CASE WHEN ?4 IN ('Successful', 'Failed', "
                   "'Cancelled') THEN ?7 ELSE end_time END WHERE id = ?1",
                   "tttttii", id, instance_id, description, status, message, (long long)progress,
                   (long long)(time(NULL))) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_DONE)
        return vm_db_error(ctx->db, "updating a scaling activity", err);
    return 0;
}

int
asg_activities_open(vm_ctx *ctx, const char *group, asg_activity **ret, size_t *ret_n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT id, kind, subnet_id, instance_id, start_time FROM asg_activities WHERE group_name = ? AND "
                   "status IN ('InProgress', 'MidLifecycleAction') ORDER BY seq",
                   "t", group) < 0)
        return -1;
    size_t n = 0, cap = 8;
    _cleanup_free_ asg_activity *v = calloc(cap, sizeof(*v));
    while (v && sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            asg_activity *nv = realloc(v, 2 * cap * sizeof(*v));
            if (!nv)
                return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
            v = nv;
            cap *= 2;
        }
        asg_activity *a = &v[n++];
        *a = (asg_activity){ 0 };
        snprintf(a->id_buf, sizeof(a->id_buf), "%s", vm_db_text(st, 0));
        snprintf(a->kind_buf, sizeof(a->kind_buf), "%s", vm_db_text(st, 1));
        snprintf(a->subnet_buf, sizeof(a->subnet_buf), "%s", vm_db_text(st, 2));
        snprintf(a->instance_buf, sizeof(a->instance_buf), "%s", vm_db_text(st, 3));
        a->start_time = sqlite3_column_int64(st, 4);
    }
    if (!v)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        v[i].id = v[i].id_buf;
        v[i].kind = v[i].kind_buf;
        v[i].subnet_id = v[i].subnet_buf;
        v[i].instance_id = v[i].instance_buf;
        v[i].group = group;
    }
    *ret = TAKE_PTR(v);
    *ret_n = n;
    return 0;
}

#define ACTIVITY_COLS                                                                                                  \
    "a.id, a.group_name, a.description, a.cause, a.start_time, a.end_time, a.status, "                                 \
    "a.status_message, a.progress, a.subnet_id, coalesce(g.arn, '')"

static void
render_activity(vm_ctx *ctx, vm_node *it, sqlite3_stmt *st)
{
    vm_node_str(it, "ActivityId", NULL, vm_db_text(st, 0));
    vm_node_str(it, "AutoScalingGroupName", NULL, vm_db_text(st, 1));
    vm_node_str(it, "Description", NULL, vm_db_text(st, 2));
    vm_node_str(it, "Cause", NULL, vm_db_text(st, 3));
    vm_node_time(it, "StartTime", NULL, sqlite3_column_int64(st, 4));
    if (sqlite3_column_int64(st, 5))
        vm_node_time(it, "EndTime", NULL, sqlite3_column_int64(st, 5));
    vm_node_str(it, "StatusCode", NULL, vm_db_text(st, 6));
    if (*vm_db_text(st, 7))
        vm_node_str(it, "StatusMessage", NULL, vm_db_text(st, 7));
    vm_node_int(it, "Progress", NULL, sqlite3_column_int(st, 8));
    char details[256] = "{}";
    if (*vm_db_text(st, 9)) {
        char zone[40];
        net_subnet_zone(ctx, vm_db_text(st, 9), zone);
        snprintf(details, sizeof(details), "{\"Subnet ID\":\"%s\",\"Availability Zone\":\"%s\"}", vm_db_text(st, 9),
                 zone);
    }
    vm_node_str(it, "Details", NULL, details);
    if (*vm_db_text(st, 10))
        vm_node_str(it, "AutoScalingGroupARN", NULL, vm_db_text(st, 10));
}

int
asg_activity_render(vm_ctx *ctx, vm_node *it, const char *id, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT " ACTIVITY_COLS
                   " FROM asg_activities a LEFT JOIN asg_groups g ON g.name = a.group_name WHERE a.id = ?",
                   "t", id) < 0)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return vm_db_error(ctx->db, "reading a scaling activity", err);
    render_activity(ctx, it, st);
    return 0;
}

int
asg_activities_render(vm_ctx *ctx, const asg_activity_filter *f, vm_node *list, bool *ret_more, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT " ACTIVITY_COLS " FROM asg_activities a LEFT JOIN asg_groups g ON g.name = a.group_name "
                                           "WHERE (?1 IS NULL OR a.group_name = ?1) ORDER BY a.seq DESC",
                   "t", f->group) < 0)
        return -1;
    long seen = 0, shown = 0;
    *ret_more = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (f->ids) {
            bool want = false;
            for (const char *const *i = f->ids; *i; i++)
                want |= strcmp(*i, vm_db_text(st, 0)) == 0;
            if (!want)
                continue;
        }
        if (seen++ < f->offset)
            continue;
        if (shown == f->max) {
            *ret_more = true;
            break;
        }
        shown++;
        render_activity(ctx, vm_node_item(list), st);
    }
    return 0;
}

/* --- tags --------------------------------------------------------------------------------------- */

int
asg_tags_put(vm_ctx *ctx, const char *group, const asg_tag *tags, size_t n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (n == 0)
        return 0;
    if (vm_db_prepare(ctx->db, "INSERT OR REPLACE INTO asg_tags (group_name, key, value, propagate) VALUES (?, ?, ?, ?)",
                      &st, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        sqlite3_reset(st);
        if (vm_db_bind(st, err, "ttti", group, tags[i].key, tags[i].value ? tags[i].value : "",
                       (long long)tags[i].propagate) < 0 || sqlite3_step(st) != SQLITE_DONE)
            return vm_db_error(ctx->db, "recording a group's tag", err);
    }
    return 0;
}

int
asg_tags_delete(vm_ctx *ctx, const char *group, const char *const *keys, size_t n, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_prepare(ctx->db, "DELETE FROM asg_tags WHERE group_name = ? AND key = ?", &st, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        sqlite3_reset(st);
        if (vm_db_bind(st, err, "tt", group, keys[i]) < 0 || sqlite3_step(st) != SQLITE_DONE)
            return vm_db_error(ctx->db, "deleting a group's tag", err);
    }
    return 0;
}

int
asg_tags_render(vm_ctx *ctx, vm_node *list, const char *group, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err,
                   "SELECT group_name, key, value, propagate FROM asg_tags WHERE (?1 IS NULL OR group_name = ?1) "
                   "ORDER BY group_name, key",
                   "t", group) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "ResourceId", NULL, vm_db_text(st, 0));
        vm_node_str(it, "ResourceType", NULL, "auto-scaling-group");
        vm_node_str(it, "Key", NULL, vm_db_text(st, 1));
        vm_node_str(it, "Value", NULL, vm_db_text(st, 2));
        vm_node_bool(it, "PropagateAtLaunch", NULL, sqlite3_column_int(st, 3));
    }
    return 0;
}

int
asg_tags_propagated(vm_ctx *ctx, const char *group, asg_tag_list *ret, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    *ret = (asg_tag_list){ 0 };
    if (vm_db_stmt(ctx->db, &st, err, "SELECT key, value FROM asg_tags WHERE group_name = ? AND propagate ORDER BY key",
                   "t", group) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW && ret->n < ASG_MAX_TAGS) {
        ret->keys[ret->n] = strdup(vm_db_text(st, 0));
        ret->values[ret->n] = strdup(vm_db_text(st, 1));
        if (!ret->keys[ret->n] || !ret->values[ret->n])
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        ret->n++;
    }
    return 0;
}

void
asg_tag_list_free(asg_tag_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->keys[i]);
        free(l->values[i]);
    }
    l->n = 0;
}

/* --- suspended processes ------------------------------------------------------------------------- */

const char *const asg_processes[] = { "Launch",         "Terminate",        "AddToLoadBalancer", "AlarmNotification",
                                      "AZRebalance",    "HealthCheck",      "InstanceRefresh",   "ReplaceUnhealthy",
                                      "ScheduledActions", NULL };

int
asg_processes_set(vm_ctx *ctx, const char *group, const char *const *procs, size_t n, bool suspend, vm_error *err)
{
    char t[32], reason[128];
    vm_time_format(time(NULL), t, sizeof(t));
    snprintf(reason, sizeof(reason), "User suspended at %s", t);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    const char *sql = suspend ? "INSERT OR IGNORE INTO asg_suspended (group_name, process, reason) VALUES (?1, ?2, ?3)"
                              : "DELETE FROM asg_suspended WHERE group_name = ?1 AND process = ?2";
    if (vm_db_prepare(ctx->db, sql, &st, err) < 0)
        goto fail;
    /* none named: every process */
    const char *const *list = n ? procs : asg_processes;
    for (size_t i = 0; n ? i < n : list[i] != NULL; i++) {
        sqlite3_reset(st);
        if (vm_db_bind(st, err, suspend ? "ttt" : "tt", group, list[i], reason) < 0 ||
            sqlite3_step(st) != SQLITE_DONE) {
            vm_db_error(ctx->db, "recording a suspended process", err);
            goto fail;
        }
    }
    if (vm_db_commit(ctx->db, err) < 0)
        goto fail;
    return 0;
fail:
    vm_db_rollback(ctx->db);
    return -1;
}

bool
asg_suspended(vm_ctx *ctx, const char *group, const char *process)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    if (vm_db_stmt(ctx->db, &st, &ignore, "SELECT 1 FROM asg_suspended WHERE group_name = ? AND process = ?", "tt",
                   group, process) < 0)
        return false;
    return sqlite3_step(st) == SQLITE_ROW;
}

int
asg_suspended_render(vm_ctx *ctx, vm_node *list, const char *group, vm_error *err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (vm_db_stmt(ctx->db, &st, err, "SELECT process, reason FROM asg_suspended WHERE group_name = ? ORDER BY process",
                   "t", group) < 0)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        vm_node *it = vm_node_item(list);
        vm_node_str(it, "ProcessName", NULL, vm_db_text(st, 0));
        vm_node_str(it, "SuspensionReason", NULL, vm_db_text(st, 1));
    }
    return 0;
}
