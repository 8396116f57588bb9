/* The group controller: one round per group converges its InService capacity to desired.
 *
 *   1. activities in progress are finished: a launch whose instance runs is Successful (the instance
 *      InService); a launch with no instance yet is repeated with its activity id as the client
 *      token (after a kill -9 this finds the reservation the first try made); a termination is
 *      Successful once its instance is terminated, and is issued again until then;
 *   2. health: a member whose instance is stopped, stopping, shutting down, terminated or gone is
 *      Unhealthy (EC2 health check) and is terminated, then replaced;
 *   3. capacity: launches into the subnets with the fewest members, or terminations chosen by the
 *      termination policies (balance over subnets first, then the policies in order).
 * Each launch or termination is an activity recorded before it is acted on.  A launch that failed
 * holds further launches of its group back for ASG_LAUNCH_BACKOFF seconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmmgr/compute/domstats.h"
#include "../vmmgr/compute/instance.h"
#include "../vmmgr/services/ec2/template_store.h"
#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"
#include "../vmmgr/core/tags.h"
#include "../vmmgr/services/ec2/ec2.h"
#include "asg_priv.h"

#define ASG_LAUNCH_BACKOFF 10
/* the warm pool is refilled this long after the group's last launch into service, whose guests have
 * the host's CPU meanwhile (on a small host, the refill's boots would slow the instances just put in
 * service to take load) */
#define ASG_REFILL_QUIET_SEC 5
/* a warm instance is stopped or hibernated once its guest has sent packets and run this long */
#define ASG_WARM_SETTLE_SEC 30

/* the domains' counters, read once per round when a warm instance needs them */
typedef struct warm_stats {
    bool read;
    domstat *d;
    size_t n;
} warm_stats;

bool
asg_member_terminating(const asg_member *m)
{
    return strncmp(m->lifecycle, "Terminating", 11) == 0;
}

static bool
live(const asg_member *m)
{
    return (strcmp(m->lifecycle, "Pending") == 0 || strcmp(m->lifecycle, "Pending:Wait") == 0 ||
            strcmp(m->lifecycle, "InService") == 0) &&
           strcmp(m->health, "Healthy") == 0;
}

void
asg_now_text(char *buf, size_t len)
{
    vm_time_format(time(NULL), buf, len);
}

/* Launches one instance for activity a (recorded by the caller, or left in progress by a process
 * that died): the template's parameters in a's subnet, one instance, the group's tags. */
static int
launch(vm_ctx *ctx, const asg_group *g, const char *activity, const char *subnet, bool warm, vm_error *err)
{
    lt_obj lt;
    long version;
    _cleanup_(vm_params_freep) vm_params *p = NULL;
    if (lt_find(ctx, g->template_id, NULL, &lt, err) < 0 || lt_version_resolve(ctx, &lt, g->template_version, &version, err) < 0 ||
        lt_data_load(ctx, lt.id, version, &p, err) < 0)
        return -1;
    bool nic = false;
    for (size_t i = 0; i < p->n; i++)
        nic |= strncmp(p->v[i].key, "NetworkInterface.1.", 19) == 0;
    if (vm_params_set(p, nic ? "NetworkInterface.1.SubnetId" : "SubnetId", subnet) < 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    _cleanup_(ec2_run_holder_free) ec2_run_holder h = { 0 };
    inst_run_req req;
    if (ec2_run_req_parse(ctx, p, true, &h, &req, err) < 0)
        return -1;
    if (!req.image_id)
        return vm_error_set(err, VM_ERR_VALIDATION, "The launch template %s version %ld has no ImageId", lt.id, version);
    /* the group's tags to propagate beat the template's of the same key; then the group's name */
    asg_tag_list gt = { 0 };
    if (asg_tags_propagated(ctx, g->name, &gt, err) < 0) {
        asg_tag_list_free(&gt);
        return -1;
    }
    _cleanup_free_ vm_tag *tags = calloc(req.ntags + gt.n + 1, sizeof(vm_tag));
    if (!tags) {
        asg_tag_list_free(&gt);
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    }
    size_t nt = 0;
    for (size_t i = 0; i < req.ntags; i++) {
        bool over = strcmp(req.tags[i].key, "aws:autoscaling:groupName") == 0;
        for (size_t j = 0; j < gt.n; j++)
            over |= strcmp(req.tags[i].key, gt.keys[j]) == 0;
        if (!over)
            tags[nt++] = req.tags[i];
    }
    for (size_t j = 0; j < gt.n; j++)
        tags[nt++] = (vm_tag){ gt.keys[j], gt.values[j] };
    tags[nt++] = (vm_tag){ "aws:autoscaling:groupName", g->name };
    req.tags = tags;
    req.ntags = nt;
    req.min_count = req.max_count = 1;
    req.client_token = activity;
    req.request = activity; /* the token alone says what it is: the same activity */
    req.dry_run = false;
    char rid[VM_ID_MAX];
    int rc = inst_run_start(ctx, &req, rid, err);
    asg_tag_list_free(&gt);
    if (rc < 0)
        return -1;
    _cleanup_(inst_list_freep) inst_obj **insts = NULL;
    if (inst_list(ctx, rid, &insts, err) < 0)
        return -1;
    if (!insts[0])
        return vm_error_set(err, VM_ERR_INTERNAL, "reservation %s has no instance", rid);
    asg_member m = { .template_version = version, .protected_ = g->protect_new, .added_at = time(NULL) };
    snprintf(m.instance_id, sizeof(m.instance_id), "%s", insts[0]->id);
    snprintf(m.lifecycle, sizeof(m.lifecycle), warm ? "Warmed:Pending" : "Pending");
    snprintf(m.health, sizeof(m.health), "Healthy");
    snprintf(m.subnet_id, sizeof(m.subnet_id), "%s", subnet);
    char desc[128];
    snprintf(desc, sizeof(desc), warm ? "Launching a new EC2 instance into warm pool: %s"
                                      : "Launching a new EC2 instance: %s",
             m.instance_id);
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (asg_member_add(ctx, g->name, &m, activity, err) < 0 ||
        asg_activity_set(ctx, activity, m.instance_id, desc, NULL, NULL, 30, err) < 0 || vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return 0;
}

static void
launch_failed(vm_ctx *ctx, const char *activity, const vm_error *cause)
{
    char desc[1200];
    vm_error ignore = { 0 };
    snprintf(desc, sizeof(desc), "Launching a new EC2 instance.  Status Reason: %s. Launching EC2 instance failed.",
             cause->msg);
    asg_activity_set(ctx, activity, NULL, desc, "Failed", cause->msg, 100, &ignore);
}

/* Records and starts a launch into subnet (warm: into the warm pool). */
static int
start_launch(vm_ctx *ctx, const asg_group *g, const char *subnet, const char *cause, bool warm, vm_error *err)
{
    char id[64];
    asg_new_activity_id(id);
    asg_activity a = { .id = id, .group = g->name, .kind = warm ? "warm" : "launch", .subnet_id = subnet,
                       .instance_id = "",
                       .description = warm ? "Launching a new EC2 instance into warm pool" : "Launching a new EC2 instance",
                       .cause = cause };
    if (asg_activity_add(ctx, &a, err) < 0)
        return -1;
    vm_error e = { 0 };
    if (launch(ctx, g, id, subnet, warm, &e) < 0) {
        launch_failed(ctx, id, &e);
        *err = e;
        return -1;
    }
    return 0;
}

static void
issue_terminate(vm_ctx *ctx, const char *instance_id)
{
    vm_error ignore = { 0 };
    const char *ids[] = { instance_id, NULL };
    inst_terminate_ids(ctx, ids, 1, &ignore); /* a gone instance is terminated enough */
}

int
asg_start_terminate(vm_ctx *ctx, const char *group, const asg_member *m, const char *cause, char ret_id[64],
                    long new_desired, vm_error *err)
{
    char id[64], desc[128];
    asg_new_activity_id(id);
    snprintf(desc, sizeof(desc), "Terminating EC2 instance: %s", m->instance_id);
    asg_activity a = { .id = id, .group = group, .kind = "terminate", .subnet_id = m->subnet_id,
                       .instance_id = m->instance_id, .description = desc, .cause = cause };
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (asg_activity_add(ctx, &a, err) < 0 || asg_member_set(ctx, m->instance_id, "Terminating", NULL, err) < 0 ||
        (new_desired >= 0 && asg_set_desired_locked(ctx, group, new_desired, cause, err) < 0) || vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    if (ret_id)
        snprintf(ret_id, 64, "%s", id);
    /* with terminating hooks the controller issues it once they let it go */
    vm_error ignore = { 0 };
    if (asg_hooks_count(ctx, group, ASG_HOOK_TERMINATING, &ignore) == 0)
        issue_terminate(ctx, m->instance_id);
    return 0;
}

/* The state of a member's instance; -1 when it is gone. */
static int
instance_state(vm_ctx *ctx, const char *id)
{
    _cleanup_(inst_obj_freep) inst_obj *in = NULL;
    vm_error e = { 0 };
    if (inst_get(ctx, id, &in, &e) < 0)
        return e.code == VM_ERR_INSTANCE_NOT_FOUND ? -1 : -2;
    return in->state;
}

/* A warm activity: its instance boots, then goes to the pool's state (stopped, hibernated, running). */
static int
warm_progress(vm_ctx *ctx, const asg_warm_pool *wp, const asg_activity *a, warm_stats *ds)
{
    vm_error e = { 0 };
    _cleanup_(inst_obj_freep) inst_obj *in = NULL;
    const char *pool = wp->exists && wp->pool_state[0] ? wp->pool_state : "Stopped";
    if (inst_get(ctx, a->instance_id, &in, &e) < 0 || in->state == INST_TERMINATED || in->state == INST_SHUTTING_DOWN) {
        vm_error cause = { .code = VM_ERR_INTERNAL };
        snprintf(cause.msg, sizeof(cause.msg), "Instance %s did not reach the warm pool", a->instance_id);
        launch_failed(ctx, a->id, &cause);
        asg_member_set(ctx, a->instance_id, NULL, "Unhealthy", &e);
        return 0;
    }
    char life[32];
    bool done = false;
    if (in->state == INST_RUNNING && strcmp(pool, "Running") == 0) {
        snprintf(life, sizeof(life), "Warmed:Running");
        done = true;
    } else if (in->state == INST_RUNNING) {
        /* stop (or hibernate) once the guest is up: it sent packets, and has run a little */
        if (!ds->read) {
            vm_error ignore = { 0 };
            virConnectPtr conn = vm_ctx_conn(ctx, &ignore);
            ds->read = true;
            if (!conn || domstats_read(conn, &ds->d, &ds->n, &ignore) < 0)
                ds->d = NULL, ds->n = 0;
        }
        const domstat *d = domstats_find(ds->d, ds->n, in->id);
        if (d && d->running && d->tx_pkts > 0 && time(NULL) - in->changed_at >= ASG_WARM_SETTLE_SEC) {
            const char *ids[] = { in->id, NULL };
            vm_error ignore = { 0 };
            inst_stop_ids(ctx, ids, 1, strcmp(pool, "Hibernated") == 0, &ignore);
        }
    } else if (in->state == INST_STOPPED) {
        snprintf(life, sizeof(life), "Warmed:%s", strcmp(in->reason_code, "Client.UserInitiatedHibernate") == 0
                                                          ? "Hibernated"
                                                          : "Stopped");
        done = true;
    }
    if (!done)
        return 0;
    if (vm_db_begin(ctx->db, &e) < 0)
        return -1;
    if (asg_member_set(ctx, a->instance_id, life, NULL, &e) < 0 ||
        asg_activity_set(ctx, a->id, NULL, NULL, "Successful", NULL, 100, &e) < 0 || vm_db_commit(ctx->db, &e) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return 0;
}

/* A launched instance runs: into service once the launching hooks let it (Pending:Wait until
 * then); ABANDON fails the launch, and the instance, Unhealthy, is terminated and replaced. */
static int
launch_gate(vm_ctx *ctx, const asg_group *g, const asg_activity *a, vm_error *err)
{
    char group[ASG_NAME_MAX + 1];
    asg_member m;
    int found = asg_member_of(ctx, a->instance_id, group, &m, err);
    if (found < 0)
        return -1;
    bool waiting = found && strcmp(m.lifecycle, "Pending:Wait") == 0;
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    int gate = !found || g->deleting ? ASG_GATE_PROCEED
                                     : asg_hooks_gate(ctx, g->name, a->instance_id, ASG_HOOK_LAUNCHING, waiting, err);
    int rc = gate < 0 ? -1 : 0;
    if (gate == ASG_GATE_WAIT && !waiting)
        rc = asg_member_set(ctx, a->instance_id, "Pending:Wait", NULL, err) < 0 ||
                     asg_activity_set(ctx, a->id, NULL, NULL, "MidLifecycleAction", NULL, 50, err) < 0
                 ? -1
                 : 0;
    else if (gate == ASG_GATE_PROCEED && (vm_trace("asg %s: %s in service", g->name, a->instance_id), 1))
        rc = (found && asg_member_set(ctx, a->instance_id, "InService", NULL, err) < 0) ||
                     asg_hooks_clear(ctx, a->instance_id, err) < 0 ||
                     asg_activity_set(ctx, a->id, NULL, NULL, "Successful", NULL, 100, err) < 0
                 ? -1
                 : 0;
    else if (gate == ASG_GATE_ABANDON) {
        char desc[256];
        snprintf(desc, sizeof(desc),
                 "Launching a new EC2 instance: %s.  Status Reason: Instance failed to complete user's Lifecycle "
                 "Action: Lifecycle Action Completed with ABANDON Result",
                 a->instance_id);
        rc = asg_member_set(ctx, a->instance_id, "Pending", "Unhealthy", err) < 0 ||
                     asg_hooks_clear(ctx, a->instance_id, err) < 0 ||
                     asg_activity_set(ctx, a->id, NULL, desc, "Failed",
                                      "Instance failed to complete user's Lifecycle Action: Lifecycle Action Completed "
                                      "with ABANDON Result",
                                      100, err) < 0
                 ? -1
                 : 0;
    }
    if (rc < 0 || vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return 0;
}

/* A terminating member: 1 when its termination may be issued (no terminating hook, or they are
 * done; a group being deleted does not wait), 0 while Terminating:Wait. */
static int
terminate_gate(vm_ctx *ctx, const asg_group *g, const asg_activity *a, vm_error *err)
{
    char group[ASG_NAME_MAX + 1];
    asg_member m;
    int found = asg_member_of(ctx, a->instance_id, group, &m, err);
    if (found <= 0)
        return found < 0 ? -1 : 1;
    if (strcmp(m.lifecycle, "Terminating:Proceed") == 0)
        return 1;
    bool waiting = strcmp(m.lifecycle, "Terminating:Wait") == 0;
    /* out of the group's target groups first: its connections drain before any hook or the end */
    if (!waiting) {
        int drained = asg_elb_drained(ctx, g, a->instance_id, err);
        if (drained <= 0)
            return drained;
    }
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    int gate = g->deleting ? ASG_GATE_PROCEED
                           : asg_hooks_gate(ctx, g->name, a->instance_id, ASG_HOOK_TERMINATING, waiting, err);
    int rc = gate < 0 ? -1 : 0;
    if (gate == ASG_GATE_WAIT && !waiting)
        rc = asg_member_set(ctx, a->instance_id, "Terminating:Wait", NULL, err) < 0 ||
                     asg_activity_set(ctx, a->id, NULL, NULL, "MidLifecycleAction", NULL, 50, err) < 0
                 ? -1
                 : 0;
    else if (gate == ASG_GATE_PROCEED || gate == ASG_GATE_ABANDON)
        rc = asg_member_set(ctx, a->instance_id, "Terminating:Proceed", NULL, err) < 0 ||
                     asg_hooks_clear(ctx, a->instance_id, err) < 0 ||
                     asg_activity_set(ctx, a->id, NULL, NULL, "InProgress", NULL, 75, err) < 0
                 ? -1
                 : 0;
    if (rc < 0 || vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    return gate == ASG_GATE_PROCEED || gate == ASG_GATE_ABANDON;
}

static int
finish_activities(vm_ctx *ctx, const asg_group *g, const asg_warm_pool *wp, warm_stats *ds, vm_error *err)
{
    _cleanup_free_ asg_activity *open = NULL;
    size_t n;
    if (asg_activities_open(ctx, g->name, &open, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        asg_activity *a = &open[i];
        vm_error e = { 0 };
        if (strcmp(a->kind, "launch") == 0 || strcmp(a->kind, "warm") == 0) {
            bool warm = strcmp(a->kind, "warm") == 0;
            if (!a->instance_id[0]) { /* recorded, then the process died: the same launch again */
                if (launch(ctx, g, a->id, a->subnet_id, warm, &e) < 0)
                    launch_failed(ctx, a->id, &e);
                continue;
            }
            if (warm) {
                if (warm_progress(ctx, wp, a, ds) < 0)
                    return -1;
                continue;
            }
            int s = instance_state(ctx, a->instance_id);
            if (s == INST_RUNNING) {
                if (launch_gate(ctx, g, a, &e) < 0)
                    return *err = e, -1;
            } else if (s == -1 || s == INST_TERMINATED || s == INST_SHUTTING_DOWN || s == INST_STOPPED) {
                char msg[160];
                snprintf(msg, sizeof(msg), "Instance %s did not reach running (it is %s)", a->instance_id,
                         s == -1 ? "gone" : inst_state_to_string(s));
                vm_error cause = { .code = VM_ERR_INTERNAL };
                snprintf(cause.msg, sizeof(cause.msg), "%s", msg);
                launch_failed(ctx, a->id, &cause);
                asg_member_set(ctx, a->instance_id, NULL, "Unhealthy", &e);
            }
        } else {
            int s = instance_state(ctx, a->instance_id);
            if (s == -1 || s == INST_TERMINATED) {
                if (vm_db_begin(ctx->db, &e) < 0)
                    return *err = e, -1;
                if (asg_member_remove(ctx, a->instance_id, &e) < 0 || asg_hooks_clear(ctx, a->instance_id, &e) < 0 ||
                    asg_activity_set(ctx, a->id, NULL, NULL, "Successful", NULL, 100, &e) < 0 ||
                    vm_db_commit(ctx->db, &e) < 0) {
                    vm_db_rollback(ctx->db);
                    return *err = e, -1;
                }
            } else if (s != INST_SHUTTING_DOWN && s != -2) {
                int go = terminate_gate(ctx, g, a, &e);
                if (go < 0)
                    return *err = e, -1;
                if (go)
                    issue_terminate(ctx, a->instance_id);
            }
        }
    }
    return 0;
}

/* EC2 health checks: a member whose instance no longer runs (or is gone) is Unhealthy; a Pending one
 * that runs with no launch activity open (adopted after a crash) is InService. */
static int
check_health(vm_ctx *ctx, const asg_group *g, asg_member *ms, size_t n, vm_error *err)
{
    if (asg_suspended(ctx, g->name, "HealthCheck"))
        return 0;
    for (size_t i = 0; i < n; i++) {
        asg_member *m = &ms[i];
        if (asg_member_terminating(m) || strcmp(m->health, "Unhealthy") == 0 ||
            strcmp(m->lifecycle, "Standby") == 0)
            continue;
        int s = instance_state(ctx, m->instance_id);
        if (s == -2)
            continue;
        bool bad = asg_warmed(m) ? s == -1 || s == INST_SHUTTING_DOWN || s == INST_TERMINATED
                                 : s == -1 || s == INST_STOPPED || s == INST_STOPPING || s == INST_SHUTTING_DOWN ||
                                       s == INST_TERMINATED;
        /* a member just taken from the pool starts from stopped: pending is its way in */
        if (!asg_warmed(m) && strcmp(m->lifecycle, "Pending") == 0 && (s == INST_STOPPED || s == INST_PENDING))
            bad = false;
        if (bad) {
            if (asg_member_set(ctx, m->instance_id, NULL, "Unhealthy", err) < 0)
                return -1;
            snprintf(m->health, sizeof(m->health), "Unhealthy");
        }
    }
    return 0;
}

static int
replace_unhealthy(vm_ctx *ctx, const asg_group *g, asg_member *ms, size_t n, vm_error *err)
{
    if (!g->deleting && (asg_suspended(ctx, g->name, "ReplaceUnhealthy") || asg_suspended(ctx, g->name, "Terminate")))
        return 0;
    for (size_t i = 0; i < n; i++) {
        asg_member *m = &ms[i];
        if (strcmp(m->health, "Unhealthy") != 0 || asg_member_terminating(m))
            continue;
        char t[32], cause[512];
        asg_now_text(t, sizeof(t));
        /* still running: its target group found it unhealthy */
        if (strcmp(g->health_check_type, "ELB") == 0 && instance_state(ctx, m->instance_id) == INST_RUNNING)
            snprintf(cause, sizeof(cause),
                     "At %s an instance was taken out of service in response to an ELB system health check failure.", t);
        else
            snprintf(cause, sizeof(cause),
                     "At %s an instance was taken out of service in response to an EC2 health check indicating it "
                     "has been terminated or stopped.",
                     t);
        if (asg_start_terminate(ctx, g->name, m, cause, NULL, -1, err) < 0)
            return -1;
        snprintf(m->lifecycle, sizeof(m->lifecycle), "Terminating");
    }
    return 0;
}

static bool
recent_failure(vm_ctx *ctx, const char *group)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    if (vm_db_stmt(ctx->db, &st, &ignore,
                   "SELECT 1 FROM asg_activities WHERE group_name = ? AND kind = 'launch' AND status = 'Failed' "
                   "AND end_time > ?",
                   "ti", group, (long long)(time(NULL) - ASG_LAUNCH_BACKOFF)) < 0)
        return false;
    return sqlite3_step(st) == SQLITE_ROW;
}

/* Whether a launch into service (not into the pool) is in progress or ended in the last
 * ASG_REFILL_QUIET_SEC seconds. */
static bool
launching(vm_ctx *ctx, const char *group)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    vm_error ignore = { 0 };
    if (vm_db_stmt(ctx->db, &st, &ignore,
                   "SELECT 1 FROM asg_activities WHERE group_name = ? AND kind = 'launch' AND "
                   "(status = 'InProgress' OR (status = 'Successful' AND end_time > ?))",
                   "ti", group, (long long)(time(NULL) - ASG_REFILL_QUIET_SEC)) < 0)
        return false;
    return sqlite3_step(st) == SQLITE_ROW;
}

/* How many live members each of the group's subnets has. */
static void
per_subnet(const asg_group *g, const asg_member *ms, size_t n, long counts[ASG_MAX_SUBNETS])
{
    for (size_t s = 0; s < g->nsubnets; s++) {
        counts[s] = 0;
        for (size_t i = 0; i < n; i++)
            if (live(&ms[i]) && strcmp(ms[i].subnet_id, g->subnets[s]) == 0)
                counts[s]++;
    }
}

static bool
has_policy(const asg_group *g, const char *name)
{
    const char *s = g->termination_policies;
    size_t len = strlen(name);
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n == len && strncmp(s, name, len) == 0)
            return true;
        s += n + (s[n] == ',');
    }
    return false;
}

/* The member to terminate among the live, unprotected ones (force: protection ignored): the subnet
 * with the most live members (balance first, as AWS does with zones), then the policies in order
 * (OldestInstance, NewestInstance, OldestLaunchTemplate; Default: oldest template version, then
 * the oldest instance). */
static asg_member *
choose_victim(const asg_group *g, asg_member *ms, size_t n, bool force)
{
    long counts[ASG_MAX_SUBNETS] = { 0 };
    per_subnet(g, ms, n, counts);
    long most = -1;
    for (size_t i = 0; i < n; i++) {
        if (!live(&ms[i]) || (ms[i].protected_ && !force))
            continue;
        for (size_t s = 0; s < g->nsubnets; s++)
            if (strcmp(ms[i].subnet_id, g->subnets[s]) == 0 && counts[s] > most)
                most = counts[s];
    }
    bool newest = has_policy(g, "NewestInstance") && !has_policy(g, "OldestInstance");
    asg_member *best = NULL;
    for (size_t i = 0; i < n; i++) {
        asg_member *m = &ms[i];
        if (!live(m) || (m->protected_ && !force))
            continue;
        long c = -1;
        for (size_t s = 0; s < g->nsubnets; s++)
            if (strcmp(m->subnet_id, g->subnets[s]) == 0)
                c = counts[s];
        if (c != most && most >= 0 && c >= 0)
            continue;
        if (!best) {
            best = m;
            continue;
        }
        if (!newest && m->template_version != best->template_version &&
            (has_policy(g, "OldestLaunchTemplate") || has_policy(g, "Default") || !g->termination_policies[0])) {
            if (m->template_version < best->template_version)
                best = m;
            continue;
        }
        if (newest ? m->added_at > best->added_at : m->added_at < best->added_at)
            best = m;
    }
    return best;
}

/* A member of the pool into service: an activity, then its instance started (a hibernated one resumes). */
static int
from_pool(vm_ctx *ctx, const asg_group *g, asg_member *m, const char *cause, vm_error *err)
{
    char id[64], desc[128];
    asg_new_activity_id(id);
    snprintf(desc, sizeof(desc), "Launching a new EC2 instance from warm pool: %s", m->instance_id);
    asg_activity a = { .id = id, .group = g->name, .kind = "launch", .subnet_id = m->subnet_id,
                       .instance_id = m->instance_id, .description = desc, .cause = cause };
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (asg_activity_add(ctx, &a, err) < 0 || asg_member_set(ctx, m->instance_id, "Pending", NULL, err) < 0 ||
        vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    bool running = strcmp(m->lifecycle, "Warmed:Running") == 0;
    vm_trace("asg %s: %s from the warm pool", g->name, m->instance_id);
    snprintf(m->lifecycle, sizeof(m->lifecycle), "Pending");
    if (!running) {
        const char *ids[] = { m->instance_id, NULL };
        vm_error ignore = { 0 };
        inst_start_ids(ctx, ids, 1, &ignore); /* a failure shows as the launch's: it does not run */
    }
    return 0;
}

/* A scale-in's instance back into the pool (ReuseOnScaleIn): stopped or hibernated again. */
static int
to_pool(vm_ctx *ctx, const asg_group *g, asg_member *m, const char *cause, vm_error *err)
{
    char id[64], desc[128];
    asg_new_activity_id(id);
    snprintf(desc, sizeof(desc), "Returning EC2 instance to warm pool: %s", m->instance_id);
    asg_activity a = { .id = id, .group = g->name, .kind = "warm", .subnet_id = m->subnet_id,
                       .instance_id = m->instance_id, .description = desc, .cause = cause };
    if (vm_db_begin(ctx->db, err) < 0)
        return -1;
    if (asg_activity_add(ctx, &a, err) < 0 || asg_member_set(ctx, m->instance_id, "Warmed:Pending", NULL, err) < 0 ||
        vm_db_commit(ctx->db, err) < 0) {
        vm_db_rollback(ctx->db);
        return -1;
    }
    snprintf(m->lifecycle, sizeof(m->lifecycle), "Warmed:Pending");
    return 0;
}

static int
converge(vm_ctx *ctx, const asg_group *g, const asg_warm_pool *wp, asg_member *ms, size_t n, vm_error *err)
{
    long nlive = 0;
    for (size_t i = 0; i < n; i++)
        nlive += live(&ms[i]);
    char t[32], cause[1200], why[600];
    asg_now_text(t, sizeof(t));
    asg_last_cause(ctx, g->name, why, sizeof(why));
    bool no_launch = asg_suspended(ctx, g->name, "Launch"),
         no_terminate = !g->deleting && asg_suspended(ctx, g->name, "Terminate");
    if (nlive < g->desired && !g->deleting && !no_launch) {
        long counts[ASG_MAX_SUBNETS];
        per_subnet(g, ms, n, counts);
        bool backoff = recent_failure(ctx, g->name);
        for (long k = nlive; k < g->desired; k++) {
            snprintf(cause, sizeof(cause),
                     "%s%sAt %s an instance was started in response to a difference between desired and actual "
                     "capacity, increasing the capacity from %ld to %ld.",
                     why, *why ? "  " : "", t, nlive, g->desired);
            /* the warm pool first */
            asg_member *w = NULL;
            for (size_t i = 0; i < n && !w; i++)
                w = asg_warm_ready(&ms[i]) ? &ms[i] : NULL;
            if (w) {
                if (from_pool(ctx, g, w, cause, err) < 0)
                    return -1;
                continue;
            }
            if (backoff)
                break;
            size_t best = 0;
            for (size_t s = 1; s < g->nsubnets; s++)
                if (counts[s] < counts[best])
                    best = s;
            if (start_launch(ctx, g, g->subnets[best], cause, false, err) < 0)
                return -1;
            counts[best]++;
        }
        if (*why && asg_note_cause(ctx, g->name, "", err) < 0) /* told once, by the activities it caused */
            return -1;
    } else if (nlive > g->desired && !no_terminate) {
        bool reuse = wp->exists && wp->reuse && !wp->deleting && !g->deleting;
        for (long k = nlive; k > g->desired; k--) {
            asg_member *v = choose_victim(g, ms, n, g->deleting);
            if (!v)
                break; /* every one left is protected from scale in */
            snprintf(cause, sizeof(cause),
                     "%s%sAt %s an instance was taken out of service in response to a difference between desired and "
                     "actual capacity, shrinking the capacity from %ld to %ld.  At %s instance %s was selected for "
                     "%s.",
                     why, *why ? "  " : "", t, nlive, g->desired, t, v->instance_id,
                     reuse ? "the warm pool" : "termination");
            if (reuse ? to_pool(ctx, g, v, cause, err) < 0 : asg_start_terminate(ctx, g->name, v, cause, NULL, -1, err) < 0)
                return -1;
            if (!reuse)
                snprintf(v->lifecycle, sizeof(v->lifecycle), "Terminating");
        }
        if (*why && asg_note_cause(ctx, g->name, "", err) < 0)
            return -1;
    }
    /* the warm pool's size */
    long target = asg_warm_pool_target(g, wp), pool = 0;
    for (size_t i = 0; i < n; i++)
        pool += asg_warmed(&ms[i]) && strcmp(ms[i].health, "Healthy") == 0;
    /* refilled once the group's own launches are done, and a little after (ASG_REFILL_QUIET_SEC):
     * on a small host a warm instance booting beside the scale-out's would slow the scale-out the
     * pool is there to speed up */
    if (pool < target && !no_launch && !recent_failure(ctx, g->name) && !launching(ctx, g->name)) {
        long counts[ASG_MAX_SUBNETS];
        per_subnet(g, ms, n, counts);
        for (long k = pool; k < target; k++) {
            size_t best = 0;
            for (size_t s = 1; s < g->nsubnets; s++)
                if (counts[s] < counts[best])
                    best = s;
            snprintf(cause, sizeof(cause),
                     "At %s an instance was launched into the warm pool in response to a difference between its "
                     "desired and actual size, increasing it from %ld to %ld.",
                     t, pool, target);
            if (start_launch(ctx, g, g->subnets[best], cause, true, err) < 0)
                return -1;
            counts[best]++;
        }
    } else if (pool > target && !no_terminate) {
        for (size_t i = n; i-- > 0 && pool > target;) {
            asg_member *m = &ms[i];
            if (!asg_warmed(m) || strcmp(m->health, "Healthy") != 0)
                continue;
            snprintf(cause, sizeof(cause),
                     "At %s an instance was taken out of the warm pool in response to a difference between its "
                     "desired and actual size, shrinking it from %ld to %ld.",
                     t, pool, target);
            if (asg_start_terminate(ctx, g->name, m, cause, NULL, -1, err) < 0)
                return -1;
            snprintf(m->lifecycle, sizeof(m->lifecycle), "Terminating");
            pool--;
        }
    }
    return 0;
}

static int
group_round(vm_ctx *ctx, const char *name, vm_error *err)
{
    asg_group g;
    asg_warm_pool wp;
    warm_stats ds = { 0 };
    if (asg_get(ctx, name, &g, err) < 0 || asg_warm_pool_get(ctx, name, &wp, err) < 0)
        return -1;
    if (!g.deleting && !asg_suspended(ctx, g.name, "ScheduledActions") && asg_scheduled_round(ctx, &g, err) < 0)
        return -1;
    int rc = finish_activities(ctx, &g, &wp, &ds, err);
    domstats_free(ds.d, ds.n);
    if (rc < 0)
        return -1;
    _cleanup_free_ asg_member *ms = NULL;
    size_t n;
    if (asg_members(ctx, g.name, &ms, &n, err) < 0 || check_health(ctx, &g, ms, n, err) < 0 ||
        asg_elb_round(ctx, &g, ms, n, err) < 0 || replace_unhealthy(ctx, &g, ms, n, err) < 0 ||
        (!g.deleting && !asg_suspended(ctx, g.name, "AlarmNotification") && asg_policies_round(ctx, &g, ms, n, err) < 0) ||
        (!g.deleting && !asg_suspended(ctx, g.name, "InstanceRefresh") && asg_refresh_round(ctx, &g, ms, n, err) < 0) || converge(ctx, &g, &wp, ms, n, err) < 0)
        return -1;
    /* a warm pool being deleted goes once its instances have */
    size_t warm = 0;
    for (size_t i = 0; i < n; i++)
        warm += asg_warmed(&ms[i]);
    if (wp.exists && wp.deleting && warm == 0 && asg_warm_pool_set_deleting(ctx, g.name, true, err) < 0)
        return -1;
    if (g.deleting && n == 0)
        return asg_policies_delete_group(ctx, g.name, err) < 0 ? -1 : asg_delete_now(ctx, g.name, err);
    return 0;
}

int
asg_controller_round(vm_ctx *ctx, vm_error *err)
{
    char **names = NULL;
    if (asg_names(ctx, &names, err) < 0)
        return -1;
    int rc = 0, busy = 0;
    for (char **nm = names; *nm; nm++) {
        vm_error e = { 0 };
        if (group_round(ctx, *nm, &e) < 0) {
            fprintf(stderr, "vmmgr serve: Auto Scaling group %s: %s\n", *nm, e.msg);
            rc = -1;
        } else if (asg_busy(ctx, *nm, &e) > 0) {
            busy = 1;
        }
        free(*nm);
    }
    free(names);
    return rc < 0 ? rc : busy;
}
